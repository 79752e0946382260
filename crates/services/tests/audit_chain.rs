//! The audit log is sealed as a chain: someone with the database but not the key who drops the
//! triggers, edits or deletes rows and puts the triggers back is found out, at the first row
//! they touched.

mod common;

use common::TestDb;
use jiuzhu_services::people::PersonQuery;
use jiuzhu_services::Actor;
use jiuzhu_store::Interface;

/// Runs `sql` with the append-only triggers out of the way, as an intruder would.
async fn behind_the_triggers(url: &str, sql: &str) {
    with_raw_pool!(url, pool => {
        let (drop, recreate): (&[&str], &[&str]) = if url.starts_with("sqlite:") {
            (
                &["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
                &[
                    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
                    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
                ],
            )
        } else {
            (
                &["DROP TRIGGER audit_log_append_only ON audit_log"],
                &["CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
                     FOR EACH ROW EXECUTE FUNCTION jiuzhu_append_only()"],
            )
        };
        for s in drop {
            sqlx::query(s).execute(&pool).await.unwrap();
        }
        sqlx::query(sql).execute(&pool).await.unwrap();
        for s in recreate {
            sqlx::query(s).execute(&pool).await.unwrap();
        }
    });
}

async fn chained_row_ids(url: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    with_raw_pool!(url, pool => {
        ids.extend(
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM audit_log WHERE chain_seq IS NOT NULL ORDER BY chain_seq",
            )
            .fetch_all(&pool)
            .await
            .unwrap(),
        );
    });
    ids
}

async fn an_edited_or_deleted_audit_row_breaks_the_chain(db: TestDb) {
    let db = db.with_demo(20).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let auditor = db.actor("auditor").await;
    let county = s.regions().county().await.unwrap().unwrap();
    let system = Actor::system_auditor(county, Interface::Cli);
    // Some audited work: searches and reads.
    for _ in 0..3 {
        s.people()
            .search(&clerk, &PersonQuery::default())
            .await
            .unwrap();
    }
    let page = s
        .people()
        .search(&clerk, &PersonQuery::default())
        .await
        .unwrap();
    s.people()
        .get(&clerk, page.items[0].id, false)
        .await
        .unwrap();

    let intact = s.audit().verify(&auditor).await.unwrap();
    assert_eq!(intact.broken, None, "{intact:?}");
    assert!(intact.rows >= 4, "{intact:?}");
    // Only the auditor's powers check it.
    assert!(s.audit().verify(&clerk).await.is_err());

    let ids = chained_row_ids(&db.url).await;
    assert!(ids.len() >= 5, "{ids:?}");
    let edited = ids[1];
    behind_the_triggers(
        &db.url,
        &format!("UPDATE audit_log SET actor_name = 'someone_else' WHERE id = {edited}"),
    )
    .await;
    let report = s.audit().verify(&system).await.unwrap();
    let broken = report.broken.expect("an edited row is found");
    assert_eq!(broken.id, Some(edited), "{broken:?}");
    assert_eq!(broken.seq, 2);
    assert!(broken.reason.contains("封印不符"), "{}", broken.reason);

    // Putting the row back as it was mends it; deleting a row leaves a gap that is named.
    behind_the_triggers(
        &db.url,
        &format!("UPDATE audit_log SET actor_name = 'clerk' WHERE id = {edited}"),
    )
    .await;
    assert_eq!(s.audit().verify(&system).await.unwrap().broken, None);
    let deleted = ids[2];
    behind_the_triggers(
        &db.url,
        &format!("DELETE FROM audit_log WHERE id = {deleted}"),
    )
    .await;
    let broken = s.audit().verify(&system).await.unwrap().broken.unwrap();
    assert_eq!(broken.seq, 3, "{broken:?}");
    assert!(broken.reason.contains("缺失"), "{}", broken.reason);
}

async fn cutting_the_end_off_the_log_is_found(db: TestDb) {
    let db = db.with_demo(20).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let auditor = db.actor("auditor").await;
    for _ in 0..3 {
        s.people()
            .search(&clerk, &PersonQuery::default())
            .await
            .unwrap();
    }
    // The last row written (the verification's own record included) is removed.
    s.audit().verify(&auditor).await.unwrap();
    let ids = chained_row_ids(&db.url).await;
    let last = *ids.last().unwrap();
    behind_the_triggers(&db.url, &format!("DELETE FROM audit_log WHERE id = {last}")).await;
    let broken = s.audit().verify(&auditor).await.unwrap().broken.unwrap();
    assert!(
        broken.reason.contains("末尾记录被删除"),
        "{}",
        broken.reason
    );
}

async fn a_period_is_exported_with_its_seals(db: TestDb) {
    let db = db.with_demo(20).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let auditor = db.actor("auditor").await;
    s.people()
        .search(&clerk, &PersonQuery::default())
        .await
        .unwrap();
    let today = jiuzhu_services::clock::today();
    let rows = s.audit().export(&auditor, today, today).await.unwrap();
    let search = rows
        .iter()
        .find(|r| r.record.action == "person.search" || r.record.action.starts_with("person"))
        .expect("the search is in today's rows");
    assert!(search.chain_seq > 0 && search.seal.len() == 64);
    assert!(s.audit().export(&clerk, today, today).await.is_err());
}

stories!(
    an_edited_or_deleted_audit_row_breaks_the_chain,
    cutting_the_end_off_the_log_is_found,
    a_period_is_exported_with_its_seals,
);
