//! `jiuzhu review`: the annual or semi-annual review of households against the department facts,
//! one CSV line each.

use std::path::PathBuf;

use anyhow::{Context, Result};
use jiuzhu_services::export::spreadsheet_safe;
use jiuzhu_services::{clock, Services};

use crate::cli_actor;

#[derive(clap::Args)]
pub struct Args {
    /// A file of household ids, one per line; every household of the city without it.
    #[arg(long)]
    households: Option<PathBuf>,
    /// Month reviewed, YYYY-MM (this month by default): facts of the 12 months before it.
    #[arg(long)]
    month: Option<String>,
    /// Where to write the CSV (UTF-8 with BOM).
    #[arg(long)]
    out: PathBuf,
}

pub async fn run(
    services: &Services,
    Args {
        households,
        month,
        out,
    }: Args,
) -> Result<()> {
    let actor = cli_actor(services).await?;
    let only = match households {
        Some(path) => Some(read_ids(&path)?),
        None => None,
    };
    let month = match month {
        Some(m) => jiuzhu_policy::household::parse_month(&m)
            .map_err(|e| anyhow::anyhow!("--month：{e}"))?,
        None => clock::today(),
    };
    let review = services
        .verification()
        .review_households(&actor, only.as_deref(), month)
        .await?;
    write_review(&out, &review)?;
    let attention = review
        .households
        .iter()
        .filter(|h| h.report.findings.iter().any(|f| f.attention))
        .count();
    println!(
        "复核{}：{}户，读取部门数据{}条，需关注{}户；读取用时{:.1}秒，共用时{:.1}秒；结果已写入{}",
        review.month,
        review.households.len(),
        review.facts_read,
        attention,
        review.loaded_ms as f64 / 1000.0,
        review.elapsed_ms as f64 / 1000.0,
        out.display()
    );
    Ok(())
}

/// Household ids, one per line (blank lines and `#` comments ignored).
fn read_ids(path: &std::path::Path) -> Result<Vec<i64>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("无法读取 {}", path.display()))?;
    text.lines()
        .enumerate()
        .map(|(i, l)| (i, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            l.parse()
                .with_context(|| format!("{} 第{}行：“{l}”不是家庭编号", path.display(), i + 1))
        })
        .collect()
}

fn write_review(
    path: &std::path::Path,
    review: &jiuzhu_services::verification::Review,
) -> Result<()> {
    use std::io::Write;
    let yuan = |fen: i64| jiuzhu_domain::Money::from_fen(fen).to_plain_yuan();
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("无法写入 {}", path.display()))?,
    );
    w.write_all("\u{feff}household_id,region_code,members,declared_income_yuan,verified_income_yuan,deposits_yuan,securities_yuan,vehicles,real_estate,businesses,medical_own_costs_yuan,attention,findings\n".as_bytes())?;
    for h in &review.households {
        let r = &h.report;
        let findings: Vec<String> = r
            .findings
            .iter()
            .filter(|f| f.attention)
            .map(|f| format!("{}：{}", f.member, f.text))
            .collect();
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{},{},\"{}\"",
            h.household_id,
            h.region_code,
            h.members,
            yuan(r.declared_monthly_income_fen),
            yuan(r.verified_monthly_income_fen),
            yuan(r.deposits_fen),
            yuan(r.securities_fen),
            r.vehicles,
            r.real_estate,
            r.businesses,
            yuan(r.medical_own_costs_fen),
            findings.len(),
            spreadsheet_safe(&findings.join("；")).replace('"', "\"\"")
        )?;
    }
    w.flush()?;
    Ok(())
}
