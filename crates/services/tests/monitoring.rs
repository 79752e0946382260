//! Dynamic monitoring: department facts weighed against the rules, graded warnings once per
//! underlying fact, a rerun giving the same digest, the death holding the payment, and a
//! discovery outside the population becoming a proactive case. On SQLite and PostgreSQL.

mod common;

use chrono::{Datelike, NaiveDate};
use common::TestDb;
use jiuzhu_services::monitoring::population::PopulationQuery;
use jiuzhu_services::monitoring::{WarningQuery, WarningStep};
use jiuzhu_services::payments::{PayeeInput, RollInput};
use jiuzhu_services::{clock, Actor, ServiceError};

/// A household of 杨舍镇 in assistance with two or more members (its payee set), and a
/// household of 杨舍镇 in no enrolment: (enrolment, its members; the outsider's members).
async fn subjects(db: &TestDb) -> ((i64, Vec<i64>), (i64, Vec<i64>)) {
    let clerk = db.actor("clerk").await;
    let mut tx = db.services.store.begin_read().await.unwrap();
    let mut recipient = None;
    for e in tx.enrolments_in("320582100", None).await.unwrap() {
        if e.stage != "confirmed" || e.person_id.is_some() {
            continue;
        }
        let members: Vec<i64> = tx
            .current_members_of(&[e.household_id])
            .await
            .unwrap()
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        if members.len() >= 2 {
            recipient = Some((e.id, members));
            break;
        }
    }
    let (enrolment, members) = recipient.clone().expect("a recipient household");
    let holder = tx.person_brief(members[0]).await.unwrap().unwrap().0;
    drop(tx);
    db.services
        .payments()
        .set_payee(
            &clerk,
            enrolment,
            &PayeeInput {
                person_id: members[0],
                guardian: false,
                holder_name: holder,
                bank: "张家港农村商业银行".into(),
                account: "6222021102003412345".into(),
            },
        )
        .await
        .unwrap();
    let mut tx = db.services.store.begin_read().await.unwrap();
    let enrolled: Vec<i64> = tx
        .enrolments_in("320582100", None)
        .await
        .unwrap()
        .iter()
        .map(|e| e.household_id)
        .collect();
    drop(tx);
    let households = db
        .services
        .households()
        .search(&clerk, &Default::default())
        .await
        .unwrap();
    let outsider = households
        .items
        .iter()
        .find(|h| !enrolled.contains(&h.id))
        .expect("a household in no enrolment")
        .id;
    let mut tx = db.services.store.begin_read().await.unwrap();
    let members = tx
        .current_members_of(&[outsider])
        .await
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    (
        (enrolment, members_of_recipient(recipient)),
        (outsider, members),
    )
}

fn members_of_recipient(r: Option<(i64, Vec<i64>)>) -> Vec<i64> {
    r.map(|(_, m)| m).unwrap_or_default()
}

async fn id_and_name(db: &TestDb, person: i64) -> (String, String) {
    let mut tx = db.services.store.begin_read().await.unwrap();
    let id = tx.identity_numbers(&[person]).await.unwrap()[0].1.clone();
    let name = tx.person_brief(person).await.unwrap().unwrap().0;
    (id, name)
}

async fn import(db: &TestDb, admin: &Actor, category: &str, name: &str, csv: String) {
    let r = db
        .services
        .feeds()
        .import_bytes(admin, category, name, csv.as_bytes())
        .await
        .unwrap();
    assert_eq!(r.file.rejected, 0, "{:?}", r.rejections);
}

async fn line_amount(db: &TestDb, clerk: &Actor, month: &str, enrolment: i64) -> i64 {
    let roll = db
        .services
        .payments()
        .generate(
            clerk,
            &RollInput {
                month: month.into(),
                program: None,
                region: Some("320582100".into()),
            },
        )
        .await
        .unwrap();
    roll.items
        .iter()
        .find(|l| l.enrolment_id == Some(enrolment))
        .map(|l| l.amount_fen + l.deduction_fen)
        .unwrap_or(0)
}

async fn a_month_of_facts_gives_graded_warnings_handled_by_the_township(db: TestDb) {
    let db = db.with_demo(1500).await;
    let s = &db.services;
    let admin = db.actor("admin").await;
    let clerk = db.actor("clerk").await;
    let today = clock::today();
    let month = today.with_day(1).unwrap();
    let m = month.format("%Y-%m").to_string();
    let ((enrolment, members), (_, outsiders)) = subjects(&db).await;
    let before = line_amount(&db, &clerk, &m, enrolment).await;
    assert!(before > 0, "the household is paid this month");

    // A member of the recipient household died; the police and the crematorium both say so.
    let dead = *members.iter().max().unwrap();
    let (dead_id, dead_name) = id_and_name(&db, dead).await;
    let day = month.to_string();
    import(
        &db,
        &admin,
        "death",
        "死亡登记.csv",
        format!("身份证号,姓名,死亡日期\n{dead_id},{dead_name},{day}\n"),
    )
    .await;
    import(
        &db,
        &admin,
        "cremation",
        "火化记录.csv",
        format!("身份证号,姓名,火化日期\n{dead_id},{dead_name},{day}\n"),
    )
    .await;
    // Outside the population: a cancer patient who paid 19,999.99 yuan — one fen short.
    let patient = outsiders[0];
    let (patient_id, patient_name) = id_and_name(&db, patient).await;
    import(&db, &admin, "medical_claim", "医疗结算1.csv", format!(
        "身份证号,姓名,结算日期,医疗总费用,个人自付,诊断\n{patient_id},{patient_name},{day},50000,19999.99,肺癌\n")).await;

    let first = s.monitoring().run(&admin, month, false).await.unwrap();
    assert!(!first.already_run);
    let q = WarningQuery {
        status: Some("open".into()),
        ..Default::default()
    };
    let open = s.monitoring().warnings(&clerk, &q).await.unwrap();
    let mine: Vec<_> = open
        .items
        .iter()
        .filter(|w| w.person_id == dead || w.person_id == patient)
        .collect();
    assert_eq!(
        mine.len(),
        1,
        "one warning for one death in two files: {mine:?}"
    );
    let death = mine[0].clone();
    assert_eq!(
        (death.rule.as_str(), death.grade.as_str()),
        ("death", "red")
    );
    assert_eq!(death.grade_label, "红色预警");
    assert!(death.basis.contains("死亡登记.csv") || death.basis.contains("火化记录.csv"));
    // Three working days to check it on site.
    let calendar = s.calendar().current();
    assert_eq!(death.due, calendar.add_working_days(today, 3).date);

    // The clerk's home page counts it, urgent.
    let home = s.today_work(&clerk).await.unwrap();
    let tile = home
        .tiles
        .iter()
        .find(|t| t.label == "监测预警待办结")
        .expect("a warnings tile");
    assert!(
        tile.count >= 1 && tile.urgent && tile.note.contains("红色"),
        "{tile:?}"
    );

    // The death holds that member's share of the next roll until the township confirms.
    let held = line_amount(&db, &clerk, &m, enrolment).await;
    let n = members.len() as i64;
    assert_eq!(held, before * (n - 1) / n);

    // The same month again: it says so and changes nothing; asked to rerun, the same digest.
    let again = s.monitoring().run(&admin, month, false).await.unwrap();
    assert!(again.already_run);
    assert_eq!(again.digest, first.digest);
    let rerun = s.monitoring().run(&admin, month, true).await.unwrap();
    assert_eq!((rerun.attempt, &rerun.digest), (2, &first.digest));
    assert_eq!(rerun.warnings, first.warnings);

    // Another township's clerk does not see it.
    let clerk2 = db.actor("clerk2").await;
    assert!(matches!(
        s.monitoring().warning(&clerk2, death.id).await,
        Err(ServiceError::NotFound)
    ));
    let theirs = s.monitoring().warnings(&clerk2, &q).await.unwrap();
    assert!(theirs.items.iter().all(|w| w.id != death.id));

    // One more fen of costs: 20,000.00, and the cancer patient is found before applying.
    import(&db, &admin, "medical_claim", "医疗结算2.csv", format!(
        "身份证号,姓名,结算日期,医疗总费用,个人自付,诊断\n{patient_id},{patient_name},{day},0.01,0.01,肺癌\n")).await;
    let second = s.monitoring().run(&admin, month, true).await.unwrap();
    assert_ne!(second.digest, first.digest);
    let open = s.monitoring().warnings(&clerk, &q).await.unwrap();
    let found = open
        .items
        .iter()
        .find(|w| w.person_id == patient)
        .expect("a discovery warning")
        .clone();
    assert_eq!(
        (found.rule.as_str(), found.grade.as_str()),
        ("medical_costs", "orange")
    );
    assert!(found.discovery);
    assert_eq!(found.figure_fen, Some(2_000_000));
    assert!(found.basis.contains("肺癌"), "{}", found.basis);

    // Handling: no outcome, no closing; the visit first; then the proactive application.
    let monitoring = s.monitoring();
    let refused = monitoring
        .step(
            &clerk,
            found.id,
            &WarningStep::Close {
                outcome: "".into(),
                note: "".into(),
                revision: found.revision,
            },
        )
        .await;
    assert!(
        matches!(refused, Err(ServiceError::Invalid { ref field, .. }) if field == "outcome"),
        "{refused:?}"
    );
    let w = monitoring
        .step(
            &clerk,
            found.id,
            &WarningStep::Assign {
                to: "村助理 周敏".into(),
                revision: found.revision,
            },
        )
        .await
        .unwrap();
    assert_eq!(w.status_label, "待核查");
    let early = monitoring
        .step(
            &clerk,
            found.id,
            &WarningStep::Close {
                outcome: "proactive_case".into(),
                note: "申请医疗救助".into(),
                revision: w.revision,
            },
        )
        .await;
    assert!(early.is_err(), "closing before the visit is refused");
    let w = monitoring
        .step(
            &clerk,
            found.id,
            &WarningStep::Check {
                date: Some(today),
                findings: "入户核实：化疗中，家庭负担重".into(),
                revision: w.revision,
            },
        )
        .await
        .unwrap();
    let w = monitoring
        .step(
            &clerk,
            found.id,
            &WarningStep::Close {
                outcome: "proactive_case".into(),
                note: "协助申请医疗救助和临时救助".into(),
                revision: w.revision,
            },
        )
        .await
        .unwrap();
    assert_eq!(w.status, "closed");
    let case = s
        .cases()
        .get(&clerk, w.case_id.expect("the case filed"))
        .await
        .unwrap();
    assert_eq!(case.channel, "proactive");
    assert_eq!(case.applicant_person_id, patient);
    let items: Vec<&str> = case.items.iter().map(|i| i.code.as_str()).collect();
    assert!(items.contains(&"medical_assistance") && items.contains(&"temporary_assistance"));
    // Settled, it does not fire again on the same figure.
    let third = s.monitoring().run(&admin, month, true).await.unwrap();
    assert_eq!(
        third.digest, second.digest,
        "the same data, the same warnings"
    );
    let all = s
        .monitoring()
        .warnings(&clerk, &WarningQuery::default())
        .await
        .unwrap();
    assert_eq!(
        all.items.iter().filter(|w| w.person_id == patient).count(),
        1
    );
    let stale = monitoring
        .step(
            &clerk,
            found.id,
            &WarningStep::Assign {
                to: "".into(),
                revision: w.revision,
            },
        )
        .await;
    assert!(stale.is_err(), "a closed warning stays closed");

    // Ten days on, the red warning is past its three working days: on the overdue list.
    s.set_clock(Some(chrono::Utc::now() + chrono::Duration::days(10)));
    let late = s
        .monitoring()
        .warnings(
            &clerk,
            &WarningQuery {
                overdue: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(late
        .items
        .iter()
        .any(|w| w.person_id == dead && w.rule == "death" && w.overdue));
    let towns = s.monitoring().by_township(&clerk).await.unwrap();
    assert!(towns
        .iter()
        .any(|t| t.code == "320582100" && t.overdue >= 1));
    s.set_clock(None);

    // The township's counts.
    let towns = s.monitoring().by_township(&clerk).await.unwrap();
    let yangshe = towns.iter().find(|t| t.code == "320582100").unwrap();
    assert_eq!(yangshe.name, "杨舍镇");
    assert!(yangshe.closed >= 1 && yangshe.red_open >= 1);
    assert_eq!(yangshe.on_time_percent, Some(100));

    // The township settles the death with a review of the enrolment: a proposal waits for the
    // reviewer, and the next roll pays the household again in full until it is decided.
    let open = s.monitoring().warnings(&clerk, &q).await.unwrap();
    let death = open
        .items
        .iter()
        .find(|w| w.person_id == dead && w.rule == "death")
        .unwrap()
        .clone();
    let w = monitoring
        .step(
            &clerk,
            death.id,
            &WarningStep::Check {
                date: Some(today),
                findings: "已核实死亡，家属在家".into(),
                revision: death.revision,
            },
        )
        .await
        .unwrap();
    let w = monitoring
        .step(
            &clerk,
            death.id,
            &WarningStep::Close {
                outcome: "review".into(),
                note: "启动复核，减少保障人数".into(),
                revision: w.revision,
            },
        )
        .await
        .unwrap();
    assert_eq!(w.outcome.as_deref(), Some("review"));
    assert!(
        w.outcome_note.as_deref().unwrap().contains("复核建议"),
        "{w:?}"
    );
    let reviews = s.recipients().reviews_of(&clerk, enrolment).await.unwrap();
    assert!(
        !reviews.is_empty(),
        "a review proposal waits for the reviewer"
    );
    assert_eq!(line_amount(&db, &clerk, &m, enrolment).await, before);
    db.finish().await;
}

async fn the_population_is_listed_registered_and_shared_with_departments(db: TestDb) {
    let db = db.with_demo(1500).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let ((_, members), (outsider, _)) = subjects(&db).await;
    let m = s.monitoring();
    let (page, counts) = m
        .population(&clerk, &PopulationQuery::default())
        .await
        .unwrap();
    assert!(page.total > 0);
    let total: i64 = counts.iter().map(|c| c.2).sum();
    assert_eq!(total, page.total, "every household counted under one group");
    let registered = PopulationQuery {
        group: Some("registered".into()),
        ..Default::default()
    };
    let before = m.population(&clerk, &registered).await.unwrap().0.total;
    {
        let h = outsider;
        assert!(matches!(
            m.register_household(&clerk, h, " ").await,
            Err(ServiceError::Invalid { .. })
        ));
        m.register_household(&clerk, h, "户主突发脑出血，家中无人照料")
            .await
            .unwrap();
        let after = m.population(&clerk, &registered).await.unwrap().0;
        assert_eq!(after.total, before + 1);
        assert!(after
            .items
            .iter()
            .any(|x| x.household_id == h && x.group_label == "村（社区）登记困难家庭"));
        let clerk2 = db.actor("clerk2").await;
        assert!(matches!(
            m.register_household(&clerk2, h, "困难").await,
            Err(ServiceError::NotFound)
        ));
    }
    // Medical insurance reads everyone of the population with the full number; a clerk cannot.
    let medical = db.actor("liaison").await;
    let shared = m.share_with_department(&medical).await.unwrap();
    let (id, _) = {
        let mut tx = s.store.begin_read().await.unwrap();
        let id = tx.identity_numbers(&[members[0]]).await.unwrap()[0]
            .1
            .clone();
        (id, ())
    };
    assert!(
        shared.iter().any(|p| p.id_number == id),
        "a recipient's member is shared"
    );
    let hrss = db.actor("liaison2").await;
    let working = m.share_with_department(&hrss).await.unwrap();
    assert!(working.iter().all(|p| (16..=59).contains(&p.age)));
    assert!(working.len() < shared.len());
    assert!(matches!(
        m.share_with_department(&clerk).await,
        Err(ServiceError::Forbidden)
    ));
    db.finish().await;
}

async fn only_the_bureau_runs_the_month(db: TestDb) {
    let db = db.with_demo(20).await;
    let clerk = db.actor("clerk").await;
    let month = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    assert!(matches!(
        db.services.monitoring().run(&clerk, month, false).await,
        Err(ServiceError::Forbidden)
    ));
    db.finish().await;
}

stories!(
    a_month_of_facts_gives_graded_warnings_handled_by_the_township,
    the_population_is_listed_registered_and_shared_with_departments,
    only_the_bureau_runs_the_month,
);
