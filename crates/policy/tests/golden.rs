//! Golden cases: `policies/golden/*.toml`, one file per program, each case a household worked by
//! hand with the expected result and the clause it rests on. Any change of a result fails here.

use std::path::PathBuf;

use jiuzhu_domain::Money;
use jiuzhu_policy::evaluate::decide;
use jiuzhu_policy::pack::raw_from_toml;
use jiuzhu_policy::{HouseholdInput, Overrides, PolicyBook, Program};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    program: String,
    #[serde(rename = "case")]
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    clause: String,
    jurisdiction: String,
    month: String,
    household: HouseholdInput,
    #[serde(default)]
    parameters: toml::Table,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    eligible: bool,
    /// Yuan.
    amount: String,
    /// Stages in yuan, for staged payments.
    stages: Option<Vec<String>>,
    /// Words the reason must contain.
    reason: Option<String>,
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../policies/golden")
}

#[test]
fn every_golden_case_gives_its_hand_worked_result() {
    let book = PolicyBook::shipped();
    let mut files: Vec<_> = std::fs::read_dir(golden_dir())
        .expect("policies/golden")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut covered = Vec::new();
    let mut count = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let file: File =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let program = Program::from_code(&file.program)
            .unwrap_or_else(|| panic!("{}: unknown program", path.display()));
        covered.push(program);
        for case in &file.cases {
            count += 1;
            let at = format!(
                "{} «{}»",
                path.file_name().unwrap().to_string_lossy(),
                case.name
            );
            let mut input = case.household.clone();
            input.month = Some(case.month.clone());
            let h = input.check(None).unwrap_or_else(|e| panic!("{at}: {e}"));
            let mut overrides = Overrides::default();
            for (name, v) in &case.parameters {
                overrides
                    .set(name, &raw_from_toml(v).unwrap())
                    .unwrap_or_else(|e| panic!("{at}: {e}"));
            }
            let ps = book
                .params(&case.jurisdiction, h.month, &overrides)
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            let d = decide(&h, &ps, program).unwrap_or_else(|e| panic!("{at}: {e}"));
            let amount = Money::parse_yuan(&case.expect.amount).unwrap();
            let mut wrong = Vec::new();
            if d.eligible != case.expect.eligible {
                wrong.push(format!(
                    "eligible {} (expected {})",
                    d.eligible, case.expect.eligible
                ));
            }
            if d.amount() != amount {
                wrong.push(format!("amount {} (expected {amount})", d.amount()));
            }
            if let Some(stages) = &case.expect.stages {
                let want: Vec<i64> = stages
                    .iter()
                    .map(|s| Money::parse_yuan(s).unwrap().fen())
                    .collect();
                if d.stages_fen != want {
                    wrong.push(format!("stages {:?} (expected {want:?})", d.stages_fen));
                }
            }
            if let Some(words) = &case.expect.reason {
                if !d.reason.as_deref().unwrap_or("").contains(words.as_str()) {
                    wrong.push(format!("reason {:?} lacks {words:?}", d.reason));
                }
            }
            if !wrong.is_empty() {
                failures.push(format!(
                    "{at} [{}]: {}\n{:#?}",
                    case.clause,
                    wrong.join("; "),
                    d.trace
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} golden cases changed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    for p in Program::ALL {
        assert!(covered.contains(p), "no golden file for {}", p.code());
    }
    assert!(count >= 60, "only {count} golden cases");
}
