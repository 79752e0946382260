//! `jiuzhu import`: department files into facts, each file once, its bad rows listed.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use jiuzhu_services::{Actor, Services};

use crate::cli_actor;

#[derive(clap::Args)]
pub struct Args {
    /// Feed category: wage, pension, social_insurance, vehicle, real_estate, bank_deposit, ...
    /// Without it, each file's category is the start of its name (`wage.csv`,
    /// `wage-2026-10.xlsx`).
    #[arg(long)]
    category: Option<String>,
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub async fn run(services: &Services, Args { category, files }: Args) -> Result<()> {
    let actor = cli_actor(services).await?;
    let all = Instant::now();
    let mut rows = 0;
    let mut progress = (files.len() > 1).then(|| crate::progress::Progress::new("导入", "个文件"));
    for (i, file) in files.iter().enumerate() {
        let code = match &category {
            Some(c) => c.clone(),
            None => category_of(file)?,
        };
        rows += import_one(services, &actor, &code, file).await?;
        if let Some(p) = progress.as_mut() {
            p.set(i + 1, files.len());
        }
    }
    if let Some(p) = progress {
        p.finish();
    }
    if files.len() > 1 {
        println!(
            "共{}个文件、{}行，用时{:.1}秒",
            files.len(),
            rows,
            all.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The category a file's name starts with: `wage.csv`, `bank_deposit-2026-10.xlsx`.
fn category_of(file: &std::path::Path) -> Result<String> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    jiuzhu_feeds::CATEGORIES
        .iter()
        .map(|c| c.code)
        .filter(|code| {
            name.strip_prefix(code)
                .is_some_and(|rest| rest.starts_with(['.', '-', '_']))
        })
        .max_by_key(|code| code.len())
        .map(str::to_string)
        .with_context(|| format!("无法从文件名“{name}”判断数据类别，请用 --category 指定"))
}

/// Imports one file and prints what happened; returns the rows read.
pub async fn import_one(
    services: &Services,
    actor: &Actor,
    category: &str,
    file: &std::path::Path,
) -> Result<i64> {
    let started = Instant::now();
    let r = services
        .feeds()
        .import_file(actor, category, file)
        .await
        .with_context(|| file.display().to_string())?;
    if r.already_imported {
        println!(
            "{}：该文件已于{}导入（第{}号），未作改动",
            file.display(),
            jiuzhu_services::clock::local(r.file.imported_at),
            r.file.id
        );
        return Ok(0);
    }
    println!(
        "{}（{}，{}）：接收{}行，拒收{}行，用时{:.1}秒",
        file.display(),
        r.category_label,
        r.file.encoding,
        r.file.accepted,
        r.file.rejected,
        started.elapsed().as_secs_f64()
    );
    for x in r.rejections.iter().take(20) {
        println!("  第{}行 {}：{}", x.row_no, x.field, x.reason);
    }
    if r.rejections.len() > 20 {
        println!("  ……共{}行被拒收", r.rejections.len());
    }
    Ok(r.file.accepted + r.file.rejected)
}
