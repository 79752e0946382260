//! The monthly roll at the command line, killed at every moment: making the draft and importing
//! the bank's return are each all or nothing, and run again they apply exactly once.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use jiuzhu_domain::payment::parse_batch;
use jiuzhu_domain::Money;
use jiuzhu_store::{FieldCipher, LineTally, RollRecord, Store};

fn jiuzhu(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jiuzhu"));
    c.env("JIUZHU_DATABASE_URL", db).env("JIUZHU_LOG", "error");
    c
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn store(db: &str, key: &Path) -> Store {
    let key = std::fs::read_to_string(key).unwrap();
    Store::connect(db, FieldCipher::from_base64(key.trim(), 1).unwrap())
        .await
        .unwrap()
}

/// The rolls, each with its lines counted by their answer from the bank.
async fn rolls(store: &Store) -> Vec<(RollRecord, LineTally, usize)> {
    let mut tx = store.begin_read().await.unwrap();
    let mut out = Vec::new();
    for r in tx.rolls_in("").await.unwrap() {
        let tally = tx.roll_line_counts(r.id).await.unwrap();
        let returns = tx.bank_returns(r.id).await.unwrap().len();
        out.push((r, tally, returns));
    }
    out
}

/// Runs the command again and again, killing it a little later each time, until one run
/// finishes; after each kill `check` sees what it left. Returns the finished run's output and
/// how many runs were killed while still running.
async fn kill_until_done(
    mut command: impl FnMut() -> Command,
    check: impl AsyncFn(),
) -> (String, usize) {
    // Every run before the last was killed.
    for step in 0.. {
        let mut child = command()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(15 * step));
        if child.try_wait().unwrap().is_some() {
            return (ok(child.wait_with_output().unwrap()), step as usize);
        }
        child.kill().unwrap();
        child.wait().unwrap();
        check().await;
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_roll_or_return_leaves_nothing_half_done() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("city.db").display());
    let key = dir.path().join("city.db.key");
    ok(jiuzhu(&db)
        .args(["demo", "--households", "6000"])
        .output()
        .unwrap());
    ok(jiuzhu(&db)
        .args(["bench", "payments", "--enrol", "6000"])
        .output()
        .unwrap());
    let store = store(&db, &key).await;
    let month = jiuzhu_services::clock::today().format("%Y-%m").to_string();

    // The township's draft: killed at any moment there is no roll or a whole one.
    let generate = || {
        let mut c = jiuzhu(&db);
        c.args(["roll", "generate", "--as", "reviewer", "--month", &month]);
        c
    };
    let whole = || async {
        for (r, tally, _) in rolls(&store).await {
            assert_eq!(r.stage, "draft");
            assert_eq!(
                tally.pending, r.lines,
                "a draft holds all its lines or none"
            );
        }
    };
    let (out, killed) = kill_until_done(generate, whole).await;
    assert!(killed > 0, "no run of `roll generate` was killed");
    eprintln!("roll generate killed {killed} times before one finished");
    let drafts = rolls(&store).await;
    assert_eq!(drafts.len(), 1, "{out}");
    let (roll, _, _) = &drafts[0];
    assert!(roll.lines > 300, "{out}");
    assert!(out.contains(&format!("第{}号", roll.id)), "{out}");
    // Made again from the same register: the same draft, the same digest.
    ok(generate().output().unwrap());
    let again = rolls(&store).await;
    assert_eq!((again.len(), &again[0].0.digest), (1, &roll.digest));

    // Checked and approved by two people, the bank file written.
    let id = roll.id.to_string();
    ok(jiuzhu(&db)
        .args([
            "roll",
            "advance",
            "--as",
            "reviewer2",
            "--roll",
            &id,
            "--step",
            "check",
        ])
        .output()
        .unwrap());
    let refused = jiuzhu(&db)
        .args([
            "roll",
            "advance",
            "--as",
            "reviewer2",
            "--roll",
            &id,
            "--step",
            "approve",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    ok(jiuzhu(&db)
        .args([
            "roll", "advance", "--as", "approver", "--roll", &id, "--step", "approve",
        ])
        .output()
        .unwrap());
    let bank = dir.path().join("代发.txt");
    ok(jiuzhu(&db)
        .args([
            "roll",
            "bank-file",
            "--as",
            "approver",
            "--roll",
            &id,
            "--unit",
            "320582MZJ",
            "--out",
        ])
        .arg(&bank)
        .output()
        .unwrap());
    let bytes = std::fs::read(&bank).unwrap();
    let (text, _, _) = encoding_rs::GBK.decode(&bytes);
    let (header, lines) = parse_batch(&text).unwrap();
    assert_eq!(
        (header.count as i64, header.total_fen),
        (roll.lines, roll.total_fen)
    );

    // The bank's return: three failures of three reasons, the rest paid.
    let reasons = ["户名不符", "账户已销户", "账户冻结"];
    let mut ret = format!(
        "{}|320582MZJ|{}|{}\n",
        header.date.format("%Y%m%d"),
        header.count,
        Money::from_fen(header.total_fen).to_plain_yuan()
    );
    for (i, l) in lines.iter().enumerate() {
        let (result, reason) = match i {
            10 | 20 | 30 => ("失败", reasons[i / 10 - 1]),
            _ => ("成功", ""),
        };
        ret.push_str(&format!(
            "{}|{}|{}|{}|{result}|{reason}\n",
            l.seq,
            l.name,
            l.account,
            Money::from_fen(l.amount_fen).to_plain_yuan()
        ));
    }
    let file = dir.path().join("回盘.txt");
    std::fs::write(&file, encoding_rs::GBK.encode(&ret).0).unwrap();
    let import = || {
        let mut c = jiuzhu(&db);
        c.args(["roll", "import-return", "--as", "approver", "--roll", &id])
            .arg(&file);
        c
    };
    let none_or_all = || async {
        let (r, tally, returns) = rolls(&store).await.remove(0);
        match returns {
            0 => assert_eq!((tally.pending, r.stage.as_str()), (r.lines, "sent")),
            _ => assert_eq!(
                (tally.paid, tally.failed, r.stage.as_str()),
                (r.lines - 3, 3, "closed")
            ),
        }
    };
    let (out, killed) = kill_until_done(import, none_or_all).await;
    assert!(killed > 0, "no run of `roll import-return` was killed");
    eprintln!("roll import-return killed {killed} times before one finished");
    // The finishing run imported it, or a run killed just after its commit already had: then
    // the whole return was found there and this run changed nothing.
    assert!(
        (out.contains("失败3笔") && out.contains("已对账结清")) || out.contains("已导入过"),
        "{out}"
    );
    none_or_all().await;
    let (r, tally, returns) = rolls(&store).await.remove(0);
    assert_eq!(
        (returns, tally.failed_fen + tally.paid_fen),
        (1, r.total_fen)
    );
    // The same file once more changes nothing.
    let twice = ok(import().output().unwrap());
    assert!(twice.contains("已导入过"), "{twice}");
    assert_eq!(rolls(&store).await.remove(0).1, tally);
}
