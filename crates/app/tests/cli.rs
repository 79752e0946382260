//! The `jiuzhu` commands that need no database, run as a user runs them.

use std::path::{Path, PathBuf};
use std::process::Command;

fn jiuzhu() -> Command {
    Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// The OpenFisca model's outputs for the same 1,000 persons: booleans exactly, money to the fen
/// (OpenFisca keeps float32, so its per-capita income differs from the exact value by < 0.01).
#[test]
fn batch_path_reproduces_the_openfisca_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("households.csv");
    for threads in ["1", "2"] {
        let run = jiuzhu()
            .args([
                "bench",
                "policy",
                "--month",
                "2024-01",
                "--threads",
                threads,
                "--persons",
            ])
            .arg(data("persons_1k.csv"))
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let report = String::from_utf8_lossy(&run.stderr);
        assert!(report.contains("1000 人，387 户"), "{report}");
        assert!(report.contains("低保 79 户，收入型 73 户，支出型 15 户；Σ低保金 84092.00 元，Σ高龄津贴 11700.00 元"), "{report}");
        let expected = read_csv(&data("households_expected_1k.csv"));
        let actual = read_csv(&out);
        assert_eq!(actual[0], expected[0], "the same columns");
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(&expected).skip(1) {
            for (col, (x, y)) in expected[0].iter().zip(a.iter().zip(e)) {
                let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
                let tolerance = if col.starts_with("dibao_eligible") || col.ends_with("poverty") {
                    0.0
                } else {
                    0.005
                };
                assert!(
                    (x - y).abs() <= tolerance,
                    "household {}: {col} {x} vs {y}",
                    a[0]
                );
            }
        }
    }
}

#[test]
fn batch_path_names_the_bad_row_and_writes_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let persons = dir.path().join("persons.csv");
    std::fs::write(
        &persons,
        "household_id,person_id,age,monthly_income,excluded_income,disability_level,rigid_expense\n0,0,40,100,0,0,0\n0,1,40,1OO,0,0,0\n",
    )
    .unwrap();
    let run = jiuzhu()
        .args(["bench", "policy", "--persons"])
        .arg(&persons)
        .arg("--out")
        .arg(dir.path().join("out.csv"))
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("第3行 monthly_income"), "{err}");
    std::fs::write(&persons, "id,age\n1,2\n").unwrap();
    let run = jiuzhu()
        .args(["bench", "policy", "--persons"])
        .arg(&persons)
        .arg("--out")
        .arg(dir.path().join("o.csv"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&run.stderr).contains("第1行 表头"));
    let run = jiuzhu()
        .args(["bench", "policy", "--month", "2022-05", "--persons"])
        .arg(data("persons_1k.csv"))
        .arg("--out")
        .arg(dir.path().join("o.csv"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("dibao.standard") && err.contains("最早自2023-01-01起"),
        "{err}"
    );
}

#[test]
fn evaluate_prints_each_decision_with_its_trace() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/household.json");
    let run = jiuzhu()
        .arg("evaluate")
        .arg("--input")
        .arg(&example)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("【最低生活保障】符合：每月4,356.00元"),
        "{text}"
    );
    assert!(
        text.contains("✓  家庭月收入1,200.00元低于低保标准1,389.00元×4人=5,556.00元"),
        "{text}"
    );
    assert!(
        text.contains("【低收入人员专项医疗救助】符合：一次性12,500.00元"),
        "{text}"
    );
    assert!(text.contains("[未确认]"));

    let run = jiuzhu()
        .arg("evaluate")
        .arg("--input")
        .arg(&example)
        .args(["--set", "dibao.standard=2000", "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let dibao = &json["decisions"][0];
    assert_eq!(dibao["program"], "dibao");
    assert_eq!(dibao["amount_fen"], 2000 * 4 * 100 - 120_000);

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"jurisdiction": "xiamen", "month": "2024-01", "members": [{"age": 16, "birth_date": "1950-03-01"}]}"#).unwrap();
    let run = jiuzhu()
        .arg("evaluate")
        .arg("--input")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("members[1].age"));
}

/// A backup taken from the served database is restored in another place, checked with the
/// key, and holds what the original held; it is refused over a database with data.
#[test]
fn a_backup_is_restored_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.db");
    let url = format!("sqlite://{}", db.display());
    let jiuzhu = env!("CARGO_BIN_EXE_jiuzhu");
    let run = |args: &[&str], url: &str| {
        std::process::Command::new(jiuzhu)
            .arg("--database-url")
            .arg(url)
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    assert!(run(&["demo", "--households", "60"], &url).status.success());
    let copy = dir.path().join("backup.db");
    let out = run(&["backup", copy.to_str().unwrap()], &url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }
    // Over the database itself: refused without --replace.
    let out = run(&["restore", copy.to_str().unwrap()], &url);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--replace"));
    // Into a new place, with the same key.
    let other = dir.path().join("restored.db");
    std::fs::copy(
        dir.path().join("city.db.key"),
        dir.path().join("restored.db.key"),
    )
    .unwrap();
    let other_url = format!("sqlite://{}", other.display());
    let out = run(&["restore", copy.to_str().unwrap()], &other_url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("封印相符"));
    let verify = run(&["audit", "verify"], &other_url);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    // A key that is not the database's cannot restore it.
    let wrong = dir.path().join("wrong.db");
    let out = run(
        &["restore", copy.to_str().unwrap()],
        &format!("sqlite://{}", wrong.display()),
    );
    assert!(!out.status.success());
    assert!(!wrong.exists());
}
