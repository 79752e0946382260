//! An import killed midway leaves nothing behind; run again, it takes the whole file once.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use jiuzhu_store::{FieldCipher, Store};

fn jiuzhu(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jiuzhu"));
    c.env("JIUZHU_DATABASE_URL", db).env("JIUZHU_LOG", "error");
    c
}

/// A wage file of `rows` rows with valid identity numbers (born 1960–1999).
fn wage_file(path: &Path, rows: usize) {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let mut text = String::from("公民身份号码,姓名,所属期,应发工资,单位名称\n");
    for i in 0..rows {
        let body = format!(
            "320582{:04}{:02}{:02}{:03}",
            1960 + i % 40,
            1 + i % 12,
            1 + i % 28,
            i % 1000
        );
        let sum: u32 = body
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        let check = b"10X98765432"[(sum % 11) as usize] as char;
        text.push_str(&format!(
            "{body}{check},职工{i},2026-{:02},{},某厂\n",
            1 + i % 10,
            2000 + i % 3000
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// Files named 工资.csv and their facts (the demo city brings department files of its own).
async fn files_and_facts(db: &str, key: &Path) -> (i64, i64) {
    let key = std::fs::read_to_string(key).unwrap();
    let store = Store::connect(db, FieldCipher::from_base64(key.trim(), 1).unwrap())
        .await
        .unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let mut files = 0;
    let mut facts = 0;
    for f in tx.recent_feed_files(None, 1_000).await.unwrap() {
        if f.file_name == "工资.csv" {
            files += 1;
            facts += tx.count_facts(f.id).await.unwrap();
        }
    }
    (files, facts)
}

#[tokio::test]
async fn an_import_killed_midway_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("city.db").display());
    let key = dir.path().join("city.db.key");
    let demo = jiuzhu(&db)
        .args(["demo", "--households", "20"])
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let file = dir.path().join("工资.csv");
    let rows = 300_000;
    wage_file(&file, rows);

    // Kill the import while it runs: after it has started writing, before it commits.
    let mut child = jiuzhu(&db)
        .args(["import", "--category", "wage"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import of {rows} rows finished within 400 ms; make the file larger"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        files_and_facts(&db, &key).await,
        (0, 0),
        "nothing of the killed import remains"
    );

    let run = jiuzhu(&db)
        .args(["import", "--category", "wage"])
        .arg(&file)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(out.contains(&format!("接收{rows}行，拒收0行")), "{out}");
    let again = jiuzhu(&db)
        .args(["import", "--category", "wage"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("未作改动"));
    assert_eq!(files_and_facts(&db, &key).await, (1, rows as i64));
}

/// The benchmark's own path at small scale: generated files for a demo city, imported by
/// their names, then the whole city reviewed.
#[test]
fn generated_feeds_import_by_name_and_the_city_is_reviewed() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("city.db").display());
    let run = |args: &[&str]| {
        let out = jiuzhu(&db).args(args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    run(&["demo", "--households", "40"]);
    let feeds = dir.path().join("feeds");
    let made = run(&[
        "generate-feeds",
        "--out",
        feeds.to_str().unwrap(),
        "--rows",
        "40000",
    ]);
    assert!(made.contains("共16个文件、400"), "{made}");
    let wage = std::fs::read(feeds.join("wage.csv")).unwrap();
    assert!(
        std::str::from_utf8(&wage).is_err(),
        "wages come GBK-encoded as HR systems write them"
    );
    let mut files: Vec<String> = std::fs::read_dir(&feeds)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    files.sort();
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    let imported = run(&args);
    assert!(imported.contains("工资收入，GB18030"), "{imported}");
    assert!(imported.contains("共16个文件、400"), "{imported}");
    // One row in 20,000 is spoilt as departments' exports are: rejected with its reason.
    let rejected: u32 = imported
        .split("拒收")
        .skip(1)
        .map(|rest| rest.split('行').next().unwrap().parse::<u32>().unwrap())
        .sum();
    assert_eq!(rejected, 2, "{imported}");
    assert!(
        imported.contains("不是月份") || imported.contains("校验位") || imported.contains("为空"),
        "{imported}"
    );
    // Again: nothing changes.
    let again = run(&args);
    assert_eq!(again.matches("未作改动").count(), 16, "{again}");

    let out = dir.path().join("review.csv");
    let said = run(&["check-households", "--out", out.to_str().unwrap()]);
    assert!(said.contains("40户"), "{said}");
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(csv.lines().count(), 41);
    assert!(csv.starts_with("\u{feff}household_id,"));
    // A quarter of the rows are about registered people: the review finds some of them.
    assert!(csv.contains("部门数据平均"), "{csv}");

    // The periodic review of those in assistance proposes, and writes what it proposed.
    let proposals = dir.path().join("proposals.csv");
    let said = run(&["review", "--all", "--out", proposals.to_str().unwrap()]);
    assert!(said.contains("待审核员"), "{said}");
    let csv = std::fs::read_to_string(&proposals).unwrap();
    assert!(
        csv.starts_with("\u{feff}复核编号,户主,项目,复核结果"),
        "{csv}"
    );
    // Run again, nothing new is proposed while the first proposals wait.
    let again = run(&["review", "--all"]);
    assert!(again.contains("复核0户"), "{again}");
}
