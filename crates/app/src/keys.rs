//! `jiuzhu key add` and `jiuzhu rekey`: rotating the field-encryption key. Add a key (the file
//! keeps the older ones), restart the servers one by one so they write under it, then rekey
//! while they serve; an interrupted rekey resumes where it stopped.

use std::io::Write;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use jiuzhu_services::Services;
use jiuzhu_store::FieldCipher;

use crate::config::Config;

#[derive(Subcommand)]
pub enum Command {
    /// Append a new random key to the key file, with the next id; the servers write under it
    /// once restarted, and `jiuzhu rekey` re-encrypts what older keys wrote.
    Add,
}

/// Appends a key to the key file. Needs no database.
pub fn run(config: &Config, command: Command) -> Result<()> {
    match command {
        Command::Add => {
            let Some(path) = config.key_file()? else {
                bail!("密钥来自环境变量 JIUZHU_ENCRYPTION_KEY：请改用密钥文件（encryption_key_file）后再添加密钥");
            };
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("读取密钥文件 {}", path.display()))?;
            let keys = FieldCipher::parse_keys(&text).context("密钥文件无效")?;
            let next = keys.iter().map(|(id, _)| *id).max().unwrap_or(1);
            let Some(next) = next.checked_add(1) else {
                bail!("密钥编号已用尽（255）");
            };
            // A bare key becomes key 1 explicitly, so the file lists every key by its id.
            let mut body = String::new();
            for line in text.lines() {
                let t = line.trim();
                if !t.is_empty() && !t.starts_with('#') && !t.contains(':') {
                    body.push_str(&format!("1:{t}\n"));
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
            body.push_str(&format!("{next}:{}\n", FieldCipher::generate_key()));
            let tmp = path.with_extension("key.new");
            {
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create(true).truncate(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                let mut f = options
                    .open(&tmp)
                    .with_context(|| format!("写入 {}", tmp.display()))?;
                f.write_all(body.as_bytes())?;
                f.sync_all()?;
            }
            std::fs::rename(&tmp, &path)
                .with_context(|| format!("替换密钥文件 {}", path.display()))?;
            println!(
                "已在 {} 中加入第{next}号密钥。请备份该文件，逐台重启服务后运行 jiuzhu rekey；第1号密钥须一直保留（用于盲索引和审计封印）。",
                path.display()
            );
            Ok(())
        }
    }
}

#[derive(clap::Args)]
pub struct RekeyArgs {
    /// Rows per transaction.
    #[arg(long, default_value_t = 1000)]
    batch: i64,
    /// Stop after this many batches (a maintenance window); the next run continues.
    #[arg(long)]
    limit_batches: Option<u64>,
}

/// Re-encrypts every value not yet under the current key and cipher.
pub async fn rekey(services: &Services, args: RekeyArgs) -> Result<()> {
    let county = crate::cli_actor(services).await?;
    let installer = jiuzhu_services::Actor::installer(county.region);
    let started = std::time::Instant::now();
    let mut last_print = std::time::Instant::now();
    let report = services
        .keys()
        .rekey(
            &installer,
            args.batch,
            args.limit_batches,
            |column, row, n| {
                if last_print.elapsed().as_secs() >= 2 {
                    eprintln!("{column}：已读到第{row}行，重新加密{n}个值");
                    last_print = std::time::Instant::now();
                }
            },
        )
        .await?;
    for (column, n) in &report.columns {
        println!("{column}：重新加密{n}个值");
    }
    println!(
        "{}第{}号密钥（{}）{}，用时{:.1}秒",
        if report.finished {
            "全部加密字段已在"
        } else {
            "已达批次上限，尚未完成：再次运行 jiuzhu rekey 将接续；目标为"
        },
        report.key_id,
        report.algorithm,
        if report.resumed {
            "（接续上次中断）"
        } else {
            ""
        },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
