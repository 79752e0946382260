//! Rotating the field-encryption key to SM4: a key is added, every value is re-encrypted under it
//! (a run stopped midway is continued by the next), and everyone is still read and found.

use std::process::Command;

use jiuzhu_store::{FieldAlgorithm, FieldCipher, IndexAlgorithm, Store};

fn jiuzhu(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jiuzhu"));
    c.env("JIUZHU_DATABASE_URL", db).env("JIUZHU_LOG", "error");
    c
}

fn run(c: &mut Command) -> String {
    let out = c.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

/// The (format, key id) heading each encrypted identity number, with how many carry it.
async fn headers(db: &str, keys: &str) -> Vec<(u8, u8, usize)> {
    let cipher = FieldCipher::with_keys(
        &FieldCipher::parse_keys(keys).unwrap(),
        FieldAlgorithm::Sm4Gcm,
        IndexAlgorithm::HmacSha256,
    );
    let store = Store::connect(db, cipher).await.unwrap();
    let mut tx = store.begin_read().await.unwrap();
    let mut counts = std::collections::BTreeMap::<(u8, u8), usize>::new();
    for (blob,) in tx.raw_id_ciphers().await.unwrap() {
        *counts.entry((blob[0], blob[1])).or_default() += 1;
    }
    // Everyone reads back and is found by the number: the blind index did not move.
    for (number, _) in tx.identities("").await.unwrap() {
        let today = chrono::Utc::now().date_naive();
        let id = jiuzhu_domain::IdNumber::parse(&number, today).unwrap();
        assert!(tx.find_id_number(&id).await.unwrap().is_some(), "{number}");
    }
    counts.into_iter().map(|((f, k), n)| (f, k, n)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_added_and_every_value_is_re_encrypted_under_sm4() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("city.db");
    let key_path = dir.path().join("city.db.key");
    let db = format!("sqlite://{}", path.display());
    run(jiuzhu(&db).args(["demo", "--households", "60"]));
    let before = headers(&db, &std::fs::read_to_string(&key_path).unwrap()).await;
    let persons: usize = before.iter().map(|(_, _, n)| n).sum();
    assert_eq!(before, vec![(1, 1, persons)], "AES-256-GCM under key 1");

    let said = run(jiuzhu(&db).args(["key", "add"]));
    assert!(said.contains("第2号密钥"), "{said}");
    let keys = std::fs::read_to_string(&key_path).unwrap();
    assert!(keys.lines().any(|l| l.starts_with("1:")));
    assert!(keys.lines().any(|l| l.starts_with("2:")));

    // Stopped after two batches of ten: part is under the new key, all of it readable.
    let sm4 = |c: &mut Command| {
        c.env("JIUZHU_FIELD_CIPHER", "sm4-gcm");
    };
    let mut partial = jiuzhu(&db);
    sm4(&mut partial);
    run(partial.args(["rekey", "--batch", "10", "--limit-batches", "2"]));
    let midway = headers(&db, &keys).await;
    assert_eq!(
        midway,
        vec![(1, 1, persons - 20), (2, 2, 20)],
        "twenty rewritten"
    );
    let mut rest = jiuzhu(&db);
    sm4(&mut rest);
    let said = run(rest.args(["rekey", "--batch", "10"]));
    assert!(said.contains("接续上次"), "{said}");
    assert!(said.contains("第2号密钥（sm4-gcm）"), "{said}");
    assert_eq!(
        headers(&db, &keys).await,
        vec![(2, 2, persons)],
        "SM4-GCM under key 2"
    );
    let mut audit = jiuzhu(&db);
    sm4(&mut audit);
    assert!(run(audit.args(["audit", "verify"])).contains("完整"));

    // Without the first key every index would change: such a configuration is refused.
    let lone = dir.path().join("lone.key");
    let second: Vec<&str> = keys.lines().filter(|l| l.starts_with("2:")).collect();
    std::fs::write(&lone, second.join("\n")).unwrap();
    let refused = jiuzhu(&db)
        .env("JIUZHU_FIELD_CIPHER", "sm4-gcm")
        .env("JIUZHU_ENCRYPTION_KEY_FILE", &lone)
        .arg("migrate")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && said.contains("第一个密钥"),
        "{said}"
    );
    // Nor may the blind index change its algorithm.
    let refused = jiuzhu(&db)
        .env("JIUZHU_FIELD_CIPHER", "sm4-gcm")
        .env("JIUZHU_BLIND_INDEX", "hmac-sm3")
        .arg("migrate")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && said.contains("盲索引算法"),
        "{said}"
    );
}
