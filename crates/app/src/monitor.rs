//! `jiuzhu monitor`: the month's dynamic monitoring run over the department facts, as the
//! platform (the system account) runs it at the start of each month.

use anyhow::{Context, Result};
use chrono::NaiveDate;
use jiuzhu_services::Services;

#[derive(clap::Args)]
pub struct Args {
    /// YYYY-MM to run (this month without it).
    #[arg(long)]
    month: Option<String>,
    /// Run a month already run again: its untouched warnings are found afresh.
    #[arg(long)]
    rerun: bool,
}

pub async fn run(services: &Services, args: Args) -> Result<()> {
    let month = match &args.month {
        Some(m) => NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
            .with_context(|| format!("月份“{m}”应写作 YYYY-MM"))?,
        None => services.today(),
    };
    let actor = crate::cli_actor(services).await?;
    let started = std::time::Instant::now();
    let r = services.monitoring().run(&actor, month, args.rerun).await?;
    if r.already_run {
        println!(
            "{}已运行过监测（第{}次，预警{}条，摘要{}）；如需重新运行请加 --rerun",
            r.month,
            r.attempt,
            r.warnings,
            &r.digest[..16]
        );
        return Ok(());
    }
    println!(
        "{}监测完成（第{}次）：读取部门数据{}条（{}个文件），本月预警{}条，新增{}条（红色{}、橙色{}、黄色{}；主动发现{}），用时{:.1}秒",
        r.month,
        r.attempt,
        r.facts_read,
        r.files.len(),
        r.warnings,
        r.raised,
        r.red,
        r.orange,
        r.yellow,
        r.discoveries,
        started.elapsed().as_secs_f64()
    );
    println!("摘要 {}", r.digest);
    Ok(())
}
