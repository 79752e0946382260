//! `jiuzhu simulate`: what-if over the households in the database, per program and township.

use std::path::PathBuf;

use anyhow::{Context, Result};
use jiuzhu_services::Services;

use crate::cli_actor;

#[derive(clap::Args)]
pub struct Args {
    /// A change: --set dibao.standard=1500, or --set dibao.standard=+8% (repeatable).
    #[arg(long = "set", required = true)]
    set: Vec<String>,
    /// Month, YYYY-MM (this month by default).
    #[arg(long)]
    month: Option<String>,
    /// Policy pack id; the one governing the database's county by default.
    #[arg(long)]
    jurisdiction: Option<String>,
    /// Write every affected household to this CSV file.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub async fn run(
    services: &Services,
    Args {
        set,
        month,
        jurisdiction,
        out,
    }: Args,
) -> Result<()> {
    let actor = cli_actor(services).await?;
    let input = jiuzhu_services::policy::simulate::SimulationInput {
        month,
        jurisdiction,
        set,
        list_limit: Some(if out.is_some() { usize::MAX } else { 20 }),
    };
    let report = services.policy().simulate(&actor, &input).await?;
    print!("{}", simulate_text(&report));
    if let Some(path) = out {
        write_affected(&path, &report)?;
        println!(
            "受影响家庭清单：{}（{}行）",
            path.display(),
            report.affected.len()
        );
    }
    Ok(())
}

fn simulate_text(r: &jiuzhu_services::policy::simulate::SimulationReport) -> String {
    let yuan = |fen: i64| jiuzhu_domain::Money::from_fen(fen).to_string();
    let mut s = format!(
        "{}，{}：{}户、{}人\n",
        r.jurisdiction, r.month, r.households, r.persons
    );
    for c in &r.changes {
        s.push_str(&format!("  调整 {}：{} → {}\n", c.label, c.before, c.after));
    }
    s.push_str("\n项目\t调整前户数\t调整后户数\t新增\t退出\t金额变化户\t调整前月支出(元)\t调整后月支出(元)\t变化(元)\n");
    for p in &r.programs {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            p.label,
            p.before_households,
            p.after_households,
            p.gained,
            p.lost,
            p.changed,
            yuan(p.before_monthly_fen),
            yuan(p.after_monthly_fen),
            yuan(p.after_monthly_fen - p.before_monthly_fen)
        ));
    }
    s.push_str("\n乡镇（街道）\t户数\t新增\t退出\t月支出变化(元)\n");
    for t in &r.townships {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            t.name,
            t.households,
            t.gained,
            t.lost,
            yuan(t.after_monthly_fen - t.before_monthly_fen)
        ));
    }
    s.push_str(&format!(
        "\n受影响 {} 户次；读取登记库 {} 毫秒，共用时 {} 毫秒\n",
        r.affected_total, r.loaded_ms, r.elapsed_ms
    ));
    for a in &r.assumptions {
        s.push_str(&format!("  假设：{a}\n"));
    }
    s
}

fn write_affected(
    path: &std::path::Path,
    r: &jiuzhu_services::policy::simulate::SimulationReport,
) -> Result<()> {
    use std::io::Write;
    let yuan = |fen: Option<i64>| {
        fen.map(|f| jiuzhu_domain::Money::from_fen(f).to_plain_yuan())
            .unwrap_or_default()
    };
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("无法写入 {}", path.display()))?,
    );
    writeln!(
        w,
        "household_id,township,program,change,before_yuan,after_yuan"
    )?;
    for a in &r.affected {
        writeln!(
            w,
            "{},{},{},{},{},{}",
            a.household_id,
            a.township,
            a.program,
            a.change,
            yuan(a.before_fen),
            yuan(a.after_fen)
        )?;
    }
    w.flush()?;
    Ok(())
}
