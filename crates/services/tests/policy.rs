//! Policy on both databases: values added on the platform, evaluations kept with cases, and the
//! simulation's whole-registry scan, checked against the per-household query.

mod common;

use chrono::NaiveDate;
use common::TestDb;
use jiuzhu_policy::simulate::{outcomes, SimRules};
use jiuzhu_policy::{Household, Overrides};
use jiuzhu_services::policy::simulate::SimulationInput;
use jiuzhu_services::policy::NewValueInput;

async fn the_registry_scan_agrees_with_the_household_query(db: TestDb) {
    let db = db.with_demo(150).await;
    let admin = db.actor("admin").await;
    let month = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let report = db
        .services
        .policy()
        .simulate(
            &admin,
            &SimulationInput {
                month: Some("2026-11".into()),
                set: vec!["dibao.standard=+8%".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(report.households, 150);
    assert_eq!(report.changes[0].before, "1,620.00元");
    assert_eq!(report.changes[0].after, "1,749.60元");

    // The same households read through the joined query, one row per member.
    let book = db.services.policy().book();
    let ps = book
        .params("zhangjiagang", month, &Overrides::default())
        .unwrap();
    let rules = SimRules::read(&ps).unwrap();
    let mut tx = db.services.store.begin_read().await.unwrap();
    let mut rows = Vec::new();
    tx.scan_households(
        admin.scope(),
        None,
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        |r| rows.push(r),
    )
    .await
    .unwrap();
    drop(tx);
    assert_eq!(rows.len() as u64, report.persons);
    let mut dibao = (0u64, 0i64);
    let mut start = 0;
    while start < rows.len() {
        let id = rows[start].household_id;
        let end = rows[start..]
            .iter()
            .position(|r| r.household_id != id)
            .map_or(rows.len(), |p| start + p);
        let mut members: Vec<_> = rows[start..end]
            .iter()
            .map(|r| jiuzhu_services::policy::registry_member(r, month))
            .collect();
        jiuzhu_services::policy::registry_supporters(&mut members);
        let o = outcomes(&Household::registered(month, members), &rules);
        if let Some(fen) = o.0[0] {
            dibao.0 += 1;
            dibao.1 += fen;
        }
        start = end;
    }
    let p = &report.programs[0];
    assert_eq!((p.before_households, p.before_monthly_fen), dibao);
    assert!(dibao.0 > 0, "the demo city has 低保 households");
    assert_eq!(p.lost, 0);
    db.finish().await;
}

async fn parameter_values_and_evaluations_are_append_only(db: TestDb) {
    let db = db.with_demo(200).await;
    let admin = db.actor("admin").await;
    let clerk = db.actor("clerk").await;
    let input = NewValueInput {
        jurisdiction: "zhangjiagang".into(),
        name: "near_dibao.ratio".into(),
        from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        value: serde_json::json!("2"),
        source: "张民发〔2025〕20号 第三条".into(),
    };
    assert!(matches!(
        db.services.policy().add_value(&clerk, &input).await,
        Err(jiuzhu_services::ServiceError::Forbidden)
    ));
    db.services
        .policy()
        .add_value(&admin, &input)
        .await
        .unwrap();
    let mut tx = db.services.store.begin_read().await.unwrap();
    assert_eq!(tx.policy_values().await.unwrap().len(), 1);
    drop(tx);
    let url = db.url.clone();
    let case_id: i64;
    with_raw_pool!(url, pool => {
        case_id = sqlx::query_scalar("SELECT MIN(id) FROM cases WHERE region_code LIKE '320582100%'")
            .fetch_one(&pool)
            .await
            .unwrap();
    });
    let evaluation = db
        .services
        .policy()
        .evaluate_case(&clerk, case_id, true)
        .await
        .unwrap();
    assert_eq!(evaluation.jurisdiction, "zhangjiagang");
    let kept = db
        .services
        .policy()
        .case_evaluations(&admin, case_id)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].evaluation["decisions"][0]["program"], "dibao");
    with_raw_pool!(url, pool => {
        assert!(sqlx::query("UPDATE policy_values SET value = '\"3\"'").execute(&pool).await.is_err());
        assert!(sqlx::query("DELETE FROM policy_values").execute(&pool).await.is_err());
        assert!(sqlx::query("UPDATE evaluations SET month = 'x'").execute(&pool).await.is_err());
        assert!(sqlx::query("DELETE FROM evaluations").execute(&pool).await.is_err());
    });
    db.finish().await;
}

stories!(
    the_registry_scan_agrees_with_the_household_query,
    parameter_values_and_evaluations_are_append_only,
);
