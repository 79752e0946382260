//! A masked identity number must stay masked when everything around it is put together: what
//! a role that does not reveal sees in the lists, and every plaintext column of the database.

mod common;

use chrono::NaiveDate;
use common::TestDb;
use jiuzhu_domain::IdNumber;
use jiuzhu_services::people::PersonQuery;
use sqlx::Row;

/// Every valid identity number that agrees with what is known of a person: the county code of
/// the place, the birth date, the sex and the characters the mask leaves.
fn candidates(county: &str, birth: NaiveDate, male: bool, masked: &str) -> Vec<String> {
    let shown: Vec<(usize, char)> = masked
        .chars()
        .enumerate()
        .filter(|(_, c)| *c != '*')
        .collect();
    (0..1000u16)
        .filter(|seq| (seq % 2 == 1) == male)
        .filter_map(|seq| IdNumber::from_parts(county, birth, seq).ok())
        .map(|id| id.expose().to_string())
        .filter(|n| shown.iter().all(|(i, c)| n.chars().nth(*i) == Some(*c)))
        .collect()
}

async fn masked_numbers_cannot_be_rebuilt_from_what_is_shown_and_stored(db: TestDb) {
    let db = db.with_demo(150).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let supervisor = db.actor("supervisor").await;

    // What the clerk's person list shows: masked, with an age and no birth date.
    let page = s
        .people()
        .search(&clerk, &PersonQuery::default())
        .await
        .unwrap();
    assert!(!page.items.is_empty());
    let listed = serde_json::to_value(&page.items[0]).unwrap();
    assert!(listed.get("birth_date").is_none(), "{listed}");
    assert!(listed["age"].as_u64().is_some(), "{listed}");

    // Every plaintext column a person has in the database.
    let mut rows: Vec<(i64, String, String, NaiveDate, String, String)> = Vec::new();
    with_raw_pool!(db.url, pool => {
        let sql = "SELECT id, id_number_masked, sex, birth_date, hukou_region, region_code
                   FROM persons ORDER BY id";
        for r in sqlx::query(sql).fetch_all(&pool).await.unwrap() {
            rows.push((r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)));
        }
    });
    assert!(rows.len() > 300, "{} people", rows.len());
    let mut fewest = usize::MAX;
    for (i, (id, masked, sex, birth, hukou, _residence)) in rows.iter().enumerate() {
        // The place columns give the county code; assume the attacker knows it is the number's.
        let found = candidates(&hukou[..6], *birth, sex == "male", masked);
        fewest = fewest.min(found.len());
        if i % 25 == 0 {
            // The true number is among them (read by an audited reveal).
            let truth = s
                .people()
                .get(&supervisor, *id, true)
                .await
                .unwrap()
                .id_number;
            if truth.starts_with(&hukou[..6]) {
                assert!(found.contains(&truth), "{truth} not among the candidates");
            }
        }
    }
    assert!(
        fewest >= 20,
        "a masked number with only {fewest} candidates left is as good as revealed"
    );
}

stories!(masked_numbers_cannot_be_rebuilt_from_what_is_shown_and_stored);
