//! `jiuzhu audit`: check every seal of the audit log, or export a period for the archive.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::Subcommand;
use jiuzhu_services::export::spreadsheet_safe;
use jiuzhu_services::{Actor, Services};
use jiuzhu_store::Interface;

#[derive(Subcommand)]
pub enum Command {
    /// Check every row of the audit log against its seal and the one before; the first broken
    /// row is named and the command fails.
    Verify,
    /// Write the rows of a period, with their place in the chain and their seal, to a CSV file
    /// (UTF-8 with BOM) for the archive. Nothing is deleted.
    Export {
        /// First day, YYYY-MM-DD (China time).
        #[arg(long)]
        from: NaiveDate,
        /// Last day, included.
        #[arg(long)]
        to: NaiveDate,
        #[arg(long)]
        out: PathBuf,
    },
}

async fn auditor(services: &Services) -> Result<Actor> {
    let county = services
        .regions()
        .county()
        .await?
        .context("数据库中没有区划：请先运行 jiuzhu demo 或导入区划")?;
    Ok(Actor::system_auditor(county, Interface::Cli))
}

pub async fn run(services: &Services, command: Command) -> Result<()> {
    let actor = auditor(services).await?;
    match command {
        Command::Verify => {
            let r = services.audit().verify(&actor).await?;
            match r.broken {
                None => println!(
                    "审计日志完整：{}条记录（其中启用封印链之前的{}条整体封印）的封印全部相符",
                    r.rows, r.genesis_rows
                ),
                Some(b) => bail!(
                    "审计日志被篡改：{}（第{}个链位{}）；此前{}条记录相符",
                    b.reason,
                    b.seq,
                    b.id.map(|id| format!("，记录编号{id}")).unwrap_or_default(),
                    r.rows
                ),
            }
        }
        Command::Export { from, to, out } => {
            let rows = services.audit().export(&actor, from, to).await?;
            let mut w = std::io::BufWriter::new(
                std::fs::File::create(&out)
                    .with_context(|| format!("无法写入 {}", out.display()))?,
            );
            w.write_all("\u{feff}".as_bytes())?;
            let mut csv = csv::Writer::from_writer(w);
            csv.write_record([
                "编号",
                "时间",
                "操作人",
                "角色",
                "途径",
                "地址",
                "操作",
                "对象",
                "对象编号",
                "区划",
                "详情",
                "链位",
                "封印",
            ])?;
            for s in &rows {
                let r = &s.record;
                csv.write_record([
                    r.id.to_string().as_str(),
                    &r.at.to_rfc3339(),
                    &spreadsheet_safe(&r.actor_name),
                    &r.actor_role,
                    &r.interface,
                    &r.ip,
                    &r.action,
                    &r.entity,
                    &spreadsheet_safe(&r.entity_id),
                    r.region_code.as_deref().unwrap_or(""),
                    &spreadsheet_safe(&r.detail),
                    &s.chain_seq.to_string(),
                    &s.seal,
                ])?;
            }
            csv.flush()?;
            println!(
                "已导出{from}至{to}的审计记录{}条：{}",
                rows.len(),
                out.display()
            );
        }
    }
    Ok(())
}
