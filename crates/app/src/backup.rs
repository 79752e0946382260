//! `jiuzhu backup` and `jiuzhu restore`: a consistent copy of the SQLite database taken while it
//! serves, and putting one back. PostgreSQL is backed up with pg_dump (README).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use jiuzhu_services::{Actor, Services};
use jiuzhu_store::{Interface, Store};

use crate::config::Config;

#[derive(clap::Args)]
pub struct BackupArgs {
    /// The file to write; it must not exist yet.
    file: PathBuf,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// A file written by `jiuzhu backup`.
    file: PathBuf,
    /// Replace a database that already holds data (stop the server first).
    #[arg(long)]
    replace: bool,
}

pub async fn backup(services: &Services, args: BackupArgs) -> Result<()> {
    services.store.backup_to(&args.file).await?;
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    println!(
        "已备份到 {}（{:.1} MB）；加密主密钥不在备份中，请另行妥善保管",
        args.file.display(),
        size as f64 / 1e6
    );
    Ok(())
}

/// Checks the copy with the configured key (its schema brought up to date, its audit chain
/// verified), then puts it in the database's place.
pub async fn restore(config: &Config, args: RestoreArgs) -> Result<()> {
    let Some(target) = config
        .database_url
        .strip_prefix("sqlite://")
        .or_else(|| config.database_url.strip_prefix("sqlite:"))
        .map(|p| PathBuf::from(p.split('?').next().unwrap_or(p)))
    else {
        bail!("PostgreSQL 数据库请用 pg_restore 恢复（见 README）");
    };
    if !args.file.exists() {
        bail!("备份文件 {} 不存在", args.file.display());
    }
    let holds_data = std::fs::metadata(&target).is_ok_and(|m| m.len() > 0);
    if holds_data && !args.replace {
        bail!(
            "数据库 {} 已有数据：确认要以备份替换它时加 --replace（请先停止服务）",
            target.display()
        );
    }
    let staging = sibling(&target, "restoring");
    let _ = std::fs::remove_file(&staging);
    std::fs::copy(&args.file, &staging)
        .with_context(|| format!("无法复制 {}", args.file.display()))?;
    let checked = check(config, &staging).await;
    if let Err(e) = checked {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", staging.display()));
        }
        return Err(e.context(format!("备份 {} 无法使用", args.file.display())));
    }
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
    }
    std::fs::rename(&staging, &target).with_context(|| format!("无法替换 {}", target.display()))?;
    println!(
        "已从 {} 恢复到 {}（{}）",
        args.file.display(),
        target.display(),
        checked.expect("checked above")
    );
    Ok(())
}

async fn check(config: &Config, file: &Path) -> Result<String> {
    let store = Store::connect(&format!("sqlite://{}", file.display()), config.cipher()?)
        .await
        .context("无法打开备份")?;
    let services = Services::open(store.clone()).await?;
    let county = services
        .regions()
        .county()
        .await?
        .context("备份中没有区划")?;
    let report = services
        .audit()
        .verify(&Actor::system_auditor(county, Interface::Cli))
        .await?;
    if let Some(b) = report.broken {
        bail!("备份中的审计日志封印不符：{}", b.reason);
    }
    store.close().await;
    Ok(format!("审计日志{}条记录封印相符", report.rows))
}

fn sibling(path: &Path, tag: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{tag}"));
    path.with_file_name(name)
}
