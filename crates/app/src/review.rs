//! `jiuzhu review`: the periodic review of those in assistance — every enrolment due (or all),
//! verified and evaluated, each outcome proposed for a person to confirm on the 定期复核 page.
//! `jiuzhu check-households`: the department facts of any households, one CSV line each.

use std::path::PathBuf;

use anyhow::{Context, Result};
use jiuzhu_services::export::spreadsheet_safe;
use jiuzhu_services::{clock, Services};

use crate::cli_actor;

#[derive(clap::Args)]
pub struct ReviewArgs {
    /// A township's division code; the whole city without it.
    #[arg(long)]
    region: Option<String>,
    /// Enrolments whose review falls due by the end of this month, YYYY-MM (this month by
    /// default).
    #[arg(long)]
    month: Option<String>,
    /// Every enrolment paid now, whenever its review is due.
    #[arg(long)]
    all: bool,
    /// Also write the proposals to this CSV (UTF-8 with BOM).
    #[arg(long)]
    out: Option<PathBuf>,
}

impl ReviewArgs {
    /// Every enrolment paid now, in the whole city.
    pub fn everything() -> ReviewArgs {
        ReviewArgs {
            region: None,
            month: None,
            all: true,
            out: None,
        }
    }
}

/// Reviews enrolments and leaves each outcome waiting for confirmation.
pub async fn review(services: &Services, args: ReviewArgs) -> Result<()> {
    let county = cli_actor(services).await?;
    let region = match &args.region {
        Some(code) => {
            jiuzhu_domain::RegionCode::parse(code).map_err(|e| anyhow::anyhow!("--region：{e}"))?
        }
        None => county.region.clone(),
    };
    // The command line proposes as the system; a reviewer confirms each proposal.
    let actor = jiuzhu_services::Actor {
        role: jiuzhu_domain::Role::WindowClerk,
        display_name: "系统（批量复核）".into(),
        region,
        ..county
    };
    let month = match (&args.month, args.all) {
        (_, true) => clock::today()
            .checked_add_months(chrono::Months::new(1200))
            .expect("a date"),
        (Some(m), false) => {
            jiuzhu_policy::household::parse_month(m).map_err(|e| anyhow::anyhow!("--month：{e}"))?
        }
        (None, false) => clock::today(),
    };
    let started = std::time::Instant::now();
    let mut progress = crate::progress::Progress::new("复核", "户");
    let batch = services
        .recipients()
        .review_due_with(&actor, month, |done, total| progress.set(done, total))
        .await?;
    progress.finish();
    let outcomes: Vec<String> = batch
        .outcomes
        .iter()
        .map(|(label, n)| format!("{label}{n}户"))
        .collect();
    println!(
        "复核{}户（{}），跳过{}户；用时{:.1}秒。结果待审核员在“定期复核”页确认。",
        batch.reviewed,
        if outcomes.is_empty() {
            "无".to_string()
        } else {
            outcomes.join("，")
        },
        batch.skipped.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(out) = args.out {
        let proposals = services.recipients().proposals(&actor).await?;
        let mut file =
            std::fs::File::create(&out).with_context(|| format!("无法写入 {}", out.display()))?;
        std::io::Write::write_all(&mut file, "\u{feff}".as_bytes())?;
        let mut w = csv::Writer::from_writer(file);
        w.write_record([
            "复核编号",
            "户主",
            "项目",
            "复核结果",
            "变更",
            "现发（元）",
            "测算（元）",
            "依据",
        ])?;
        for p in &proposals {
            let yuan = |f: i64| jiuzhu_domain::Money::from_fen(f).to_string();
            w.write_record([
                p.id.to_string(),
                spreadsheet_safe(&p.head_name).into_owned(),
                p.program_name.clone(),
                p.outcome_label.clone(),
                spreadsheet_safe(&p.change).into_owned(),
                yuan(p.current_fen),
                p.evaluated_fen.map(yuan).unwrap_or_default(),
                spreadsheet_safe(&p.basis.join("；")).into_owned(),
            ])?;
        }
        w.flush()?;
        println!(
            "待确认的复核结果{}条已写入{}",
            proposals.len(),
            out.display()
        );
    }
    Ok(())
}

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
