//! `jiuzhu evaluate`: one household from a JSON file, every program, with the trace.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result};
use jiuzhu_policy::{Evaluation, HouseholdInput, PolicyBook, Step};

#[derive(clap::Args)]
pub struct Args {
    /// The household as JSON (see README, "Evaluating a household"); `-` reads standard input.
    #[arg(long)]
    input: PathBuf,
    /// Policy pack id (zhangjiagang, xiamen, ...) or division code; overrides the file's.
    #[arg(long)]
    jurisdiction: Option<String>,
    /// Month evaluated, YYYY-MM; overrides the file's.
    #[arg(long)]
    month: Option<String>,
    /// A parameter for this evaluation only: --set dibao.standard=1000 (repeatable).
    #[arg(long = "set")]
    set: Vec<String>,
    /// Print the decisions as JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(o: Args) -> Result<()> {
    let text = if o.input.as_os_str() == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else {
        std::fs::read_to_string(&o.input)
            .with_context(|| format!("无法读取 {}", o.input.display()))?
    };
    let mut input: HouseholdInput = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}：第{}行第{}列：{e}",
            o.input.display(),
            e.line(),
            e.column()
        )
    })?;
    if let Some(m) = o.month {
        input.month = Some(m);
    }
    if input.month.is_none() {
        input.month = Some(jiuzhu_services::clock::today().format("%Y-%m").to_string());
    }
    if let Some(j) = o.jurisdiction {
        input.jurisdiction = Some(j);
    }
    let book = PolicyBook::shipped();
    let evaluation = jiuzhu_policy::evaluate::evaluate_input(&book, &input, &o.set, None)?;
    if o.json {
        println!("{}", serde_json::to_string_pretty(&evaluation)?);
    } else {
        print!("{}", render(&evaluation));
    }
    Ok(())
}

/// The evaluation as a clerk reads it on a terminal.
pub fn render(e: &Evaluation) -> String {
    let mut s = format!(
        "{}，{}：{}人，家庭月收入{}元，人均{}元\n",
        e.jurisdiction_name,
        e.month,
        e.members,
        jiuzhu_domain::Money::from_fen(e.household_income_fen),
        jiuzhu_domain::Money::from_fen(e.per_capita_income_fen)
    );
    for d in &e.decisions {
        s.push_str(&format!(
            "\n【{}】{}{}{}\n",
            d.label,
            if d.eligible { "符合：" } else { "" },
            d.amount_text,
            d.reason
                .as_deref()
                .map(|r| format!("（{r}）"))
                .unwrap_or_default()
        ));
        for step in &d.trace {
            let line = match step {
                Step::Parameter(p) => format!(
                    "  参数  {} = {}（{}自{}起，{}）{}{}",
                    p.label,
                    p.text,
                    p.jurisdiction,
                    p.from,
                    p.source,
                    if p.demo { " [未确认]" } else { "" },
                    if p.overridden { " [试算]" } else { "" }
                ),
                Step::Value { label, value } => format!("  计算  {label}：{value}"),
                Step::Test {
                    label,
                    passed,
                    clause,
                } => {
                    format!("  {}  {label}（{clause}）", if *passed { "✓" } else { "✗" })
                }
            };
            s.push_str(&line);
            s.push('\n');
        }
    }
    s
}
