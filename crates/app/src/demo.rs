//! `jiuzhu demo` (and `serve --demo`): the demo city and its departments' files, written into an
//! empty database.

use anyhow::{bail, Context, Result};
use jiuzhu_demo::DemoReport;
use jiuzhu_services::{clock, Services};

use crate::cli_actor;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 20_000)]
    households: usize,
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

pub async fn run(services: &Services, Args { households, seed }: Args) -> Result<()> {
    write(services, households, seed).await
}

/// The city, then its departments' files, with what was written printed.
pub async fn write(services: &Services, households: usize, seed: u64) -> Result<()> {
    let report = city(services, households, seed).await?;
    print_report(&report);
    feeds(services, households, seed).await
}

async fn city(services: &Services, households: usize, seed: u64) -> Result<DemoReport> {
    if households == 0 {
        bail!("--households 应大于0");
    }
    let mut progress = crate::progress::Progress::new("示范数据", "户");
    let report =
        jiuzhu_demo::generate(services, households, seed, clock::today(), |done, total| {
            progress.set(done, total)
        })
        .await?;
    progress.finish();
    Ok(report)
}

/// Department files for the demo city (five rows a household, at most 200,000), imported as a
/// bureau would, so the 部门数据 page and verification have something to show.
async fn feeds(services: &Services, households: usize, seed: u64) -> Result<()> {
    let actor = cli_actor(services).await?;
    let registry = services.feeds().registry_identities(&actor).await?;
    let dir = std::env::temp_dir().join(format!("jiuzhu-demo-feeds-{}", std::process::id()));
    let written = jiuzhu_demo::feeds::generate(
        registry,
        &jiuzhu_demo::feeds::Options {
            out: dir.clone(),
            rows: (households as u64 * 5).clamp(1_000, 200_000),
            seed,
            county: actor.region.as_str().chars().take(6).collect(),
            today: clock::today(),
        },
    )?;
    let (mut files, mut rows) = (0, 0);
    let imported = async {
        for w in &written {
            let r = services
                .feeds()
                .import_file(&actor, w.category, &w.path)
                .await
                .with_context(|| w.path.display().to_string())?;
            files += 1;
            rows += r.file.accepted;
        }
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    imported?;
    println!("已导入示范部门数据：{files}个文件、{rows}行");
    Ok(())
}

fn print_report(r: &DemoReport) {
    println!(
        "已生成示范城市“{}”：{}个乡镇（街道）、{}个村（社区）、{}户、{}人、{}条收入记录、{}件救助申请、{}户（人）救助对象，用时{:.1}秒",
        r.county,
        r.townships,
        r.villages,
        r.households,
        r.persons,
        r.incomes,
        r.cases,
        r.enrolments,
        r.elapsed.as_secs_f64()
    );
    println!("示范账号（密码均为 {}）：", r.password);
    for u in &r.users {
        let dept = u
            .department
            .as_deref()
            .map(|d| format!("，{d}"))
            .unwrap_or_default();
        println!(
            "  {:<11} {}（{}，{}{}）",
            u.username,
            u.display_name,
            u.role.label(),
            u.region_name,
            dept
        );
    }
}
