//! `jiuzhu roll`: the monthly roll at the command line, for a finance office that works with
//! files — make the draft, write the bank file of an approved roll, import the bank's return.
//! Each acts as a named staff account (`--as`), as the pages would, and is recorded under it.

use anyhow::{bail, Context, Result};
use jiuzhu_domain::Money;
use jiuzhu_services::payments::RollInput;
use jiuzhu_services::{Actor, Services};
use jiuzhu_store::Interface;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Make (or make again) the draft roll of a month from the register.
    Generate {
        /// Staff account acting (a township clerk or reviewer).
        #[arg(long = "as")]
        user: String,
        /// YYYY-MM paid for.
        #[arg(long)]
        month: String,
        /// One program's item code (all recurring programs and awards without it).
        #[arg(long)]
        program: Option<String>,
        /// A township's division code (the account's whole region without it).
        #[arg(long)]
        region: Option<String>,
    },
    /// 审核 (check) a draft, or 审批 (approve) a checked roll as another person: the roll made
    /// again must still match, then its lines are locked.
    Advance {
        #[arg(long = "as")]
        user: String,
        #[arg(long)]
        roll: i64,
        /// check (审核) or approve (审批).
        #[arg(long)]
        step: String,
    },
    /// Write the bank's batch file of an approved roll; the roll is then sent.
    BankFile {
        #[arg(long = "as")]
        user: String,
        #[arg(long)]
        roll: i64,
        /// `pipe`, `csv`, or the code of a bank template an administrator added.
        #[arg(long, default_value = "pipe")]
        layout: String,
        /// The paying unit's code at the bank (the account's region code without it).
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Import the bank's return file (回盘) of a sent roll: one transaction; the same file twice
    /// changes nothing.
    ImportReturn {
        #[arg(long = "as")]
        user: String,
        #[arg(long)]
        roll: i64,
        file: std::path::PathBuf,
    },
}

/// The staff account a command acts as.
pub(crate) async fn staff(services: &Services, username: &str) -> Result<Actor> {
    let mut tx = services.store.begin_read().await?;
    let user = tx
        .user_by_name(username)
        .await?
        .filter(|u| u.active)
        .with_context(|| format!("没有启用的账号“{username}”"))?;
    Ok(Actor::from_user(&user, Interface::Cli, "local"))
}

pub async fn run(services: &Services, command: Command) -> Result<()> {
    let payments = services.payments();
    match command {
        Command::Generate {
            user,
            month,
            program,
            region,
        } => {
            let actor = staff(services, &user).await?;
            let started = std::time::Instant::now();
            let id = payments
                .generate_draft(
                    &actor,
                    &RollInput {
                        month,
                        program,
                        region,
                    },
                )
                .await?;
            let r = payments.roll(&actor, id, 1).await?;
            println!(
                "发放花名册第{}号（{}，草稿）：{}笔，{}元；尚未登记账户{}个；用时{:.1}秒",
                r.id,
                r.month,
                r.lines,
                Money::from_fen(r.total_fen),
                r.missing_count,
                started.elapsed().as_secs_f64()
            );
        }
        Command::Advance { user, roll, step } => {
            let actor = staff(services, &user).await?;
            payments.advance_only(&actor, roll, &step).await?;
            let r = payments.roll(&actor, roll, 1).await?;
            println!(
                "发放花名册第{}号：{}（{}笔，{}元）",
                r.id,
                r.stage_label,
                r.lines,
                Money::from_fen(r.total_fen)
            );
        }
        Command::BankFile {
            user,
            roll,
            layout,
            unit,
            out,
        } => {
            let actor = staff(services, &user).await?;
            let unit = unit.unwrap_or_else(|| actor.region.as_str().to_string());
            let template = payments.bank_template(&layout).await?;
            let bytes = payments
                .bank_file_with(&actor, roll, &unit, &template)
                .await?;
            // Written beside and renamed, so that a file of that name is always whole.
            let partial = out.with_extension("partial");
            std::fs::write(&partial, &bytes)
                .and_then(|()| std::fs::rename(&partial, &out))
                .with_context(|| format!("无法写入{}", out.display()))?;
            println!("已写出{}（{}字节）", out.display(), bytes.len());
        }
        Command::ImportReturn { user, roll, file } => {
            let actor = staff(services, &user).await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("无法读取{}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            eprintln!("正在导入{name}（{}字节）", bytes.len());
            let report = payments.import_return(&actor, roll, &name, &bytes).await?;
            if report.already_imported {
                println!("该回盘文件已导入过，未作改动");
                return Ok(());
            }
            println!(
                "回盘已导入：成功{}笔，失败{}笔，有误{}行{}",
                report.paid,
                report.failed,
                report.errors.len(),
                if report.closed {
                    "；已对账结清".to_string()
                } else {
                    format!("；尚未结清：{}", report.mismatch.unwrap_or_default())
                }
            );
            for e in report.errors.iter().take(20) {
                println!("  {e}");
            }
            if !report.errors.is_empty() && !report.closed {
                bail!("回盘有{}行未记账", report.errors.len());
            }
        }
    }
    Ok(())
}
