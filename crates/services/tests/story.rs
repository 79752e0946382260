//! Storage stories: what users rely on, through the services, on SQLite and PostgreSQL alike.

mod common;

use chrono::NaiveDate;
use common::TestDb;
use jiuzhu_domain::IdNumber;
use jiuzhu_domain::Money;
use jiuzhu_services::audit::AuditQuery;
use jiuzhu_services::auth::{TokenInput, UserInput};
use jiuzhu_services::catalogue::ItemInput;
use jiuzhu_services::households::{HouseholdInput, IncomeInput, MemberInput};
use jiuzhu_services::people::{PersonInput, PersonQuery};
use jiuzhu_services::{clock, ServiceError};
use jiuzhu_store::Interface;

/// A village of 杨舍镇 (the clerk's township) and one of 塘桥镇 (clerk2's) in the demo city.
async fn villages(db: &TestDb) -> (String, String) {
    let admin = db.actor("admin").await;
    let regions = db.services.regions().list(&admin).await.unwrap();
    let pick = |town: &str| {
        regions
            .iter()
            .find(|r| r.level == "village" && r.code.starts_with(town))
            .unwrap()
            .code
            .clone()
    };
    (pick("320582100"), pick("320582101"))
}

fn input(id: &str, name: &str, village: &str) -> PersonInput {
    PersonInput {
        id_number: id.into(),
        name: name.into(),
        hukou_region: village.into(),
        residence_region: village.into(),
        residence_since: NaiveDate::from_ymd_opt(2001, 5, 1),
        phone: Some("13912345678".into()),
        disability_grade: Some(2),
        disability_kind: Some("physical".into()),
        serious_illness: None,
        labour_capacity: "partial".into(),
        self_care: "full".into(),
        residence_permit: false,
    }
}

fn new_id(birth: (i32, u32, u32), seq: u16) -> String {
    IdNumber::from_parts(
        "320582",
        NaiveDate::from_ymd_opt(birth.0, birth.1, birth.2).unwrap(),
        seq,
    )
    .unwrap()
    .expose()
    .to_string()
}

async fn the_schema_migrates_once_and_seeds_the_catalogue(db: TestDb) {
    // Opening again (a restart) applies nothing and keeps the catalogue as it is.
    let applied = db.services.store.migrate().await.unwrap();
    assert!(applied.is_empty());
    let catalogue = db.services.catalogue().all().await.unwrap();
    assert_eq!(catalogue.departments.len(), 11);
    assert_eq!(catalogue.items.len(), 19);
    let dibao = catalogue.items.iter().find(|i| i.code == "dibao").unwrap();
    assert_eq!(dibao.department_name, "民政局");
    assert_eq!(dibao.time_limit_days, 30);
    db.finish().await;
}

async fn the_demo_city_is_realistic(db: TestDb) {
    let db = db.with_demo(400).await;
    let admin = db.actor("admin").await;
    let overview = db.services.overview(&admin).await.unwrap();
    assert_eq!(overview.households, 400);
    assert!(
        overview.persons > 700 && overview.persons < 2000,
        "{overview:?}"
    );
    assert_eq!(overview.users, 15);
    // Some households are in assistance, with histories: about 2–4% on 低保.
    let mut tx = db.services.store.begin_read().await.unwrap();
    let enrolled = tx.enrolments_in("", None).await.unwrap();
    let changes = tx.changes_in("").await.unwrap();
    drop(tx);
    let dibao = enrolled.iter().filter(|e| e.program == "dibao").count();
    assert!((4..=20).contains(&dibao), "{dibao} of 400 on 低保");
    assert!(enrolled.iter().any(|e| e.program != "dibao"));
    assert!(changes.len() > enrolled.len(), "histories beyond enrolment");
    let regions = db.services.regions().list(&admin).await.unwrap();
    assert_eq!(regions.iter().filter(|r| r.level == "township").count(), 9);
    assert!(regions.iter().filter(|r| r.level == "village").count() >= 100);
    // Every demo user can sign in with the printed password.
    for name in [
        "admin",
        "security",
        "clerk",
        "assistant",
        "liaison",
        "reviewer",
        "supervisor",
        "auditor",
    ] {
        db.services
            .auth()
            .login(name, "jiuzhu2026", "127.0.0.1", Interface::Web)
            .await
            .unwrap();
    }
    // A household has a head, members, and declared incomes adding up.
    let clerk = db.actor("clerk").await;
    let page = db
        .services
        .households()
        .search(&clerk, &Default::default())
        .await
        .unwrap();
    assert!(
        page.total > 0 && page.total < 400,
        "the clerk sees only 杨舍镇: {}",
        page.total
    );
    let h = db
        .services
        .households()
        .get(&clerk, page.items[0].id)
        .await
        .unwrap();
    assert!(h.household.current_members().any(|m| m.relation == "head"));
    let counted: i64 = h
        .incomes
        .iter()
        .filter(|i| i.kind.counts())
        .map(|i| i.monthly.fen())
        .sum();
    assert_eq!(h.counted_monthly_income.fen(), counted);
    db.finish().await;
}

async fn a_clerk_registers_reads_and_corrects_a_person(db: TestDb) {
    let db = db.with_demo(150).await;
    let (yangshe, _) = villages(&db).await;
    let clerk = db.actor("clerk").await;
    let id_number = new_id((1961, 3, 9), 13);
    let created = db
        .services
        .people()
        .create(&clerk, &input(&id_number, "单丽华", &yangshe))
        .await
        .unwrap();
    assert_eq!(created.sex, "男");
    assert_eq!(
        created.id_number,
        format!("{}****************{}", &id_number[..1], &id_number[17..])
    );
    assert_eq!(created.phone.as_deref(), Some("139****5678"));
    assert_eq!(created.disability_label.as_deref(), Some("肢体残疾二级"));

    // Found by name, by pinyin initials of either reading of 单, and by identity number.
    for q in ["单丽", "slh", "dlh", &id_number] {
        let found = db
            .services
            .people()
            .search(
                &clerk,
                &PersonQuery {
                    q: Some(q.to_string()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(found.items.iter().any(|p| p.id == created.id), "search {q}");
    }

    // The full record is revealed only on request, and both reads are audited.
    let full = db
        .services
        .people()
        .get(&clerk, created.id, true)
        .await
        .unwrap();
    assert_eq!(full.id_number, id_number);
    assert_eq!(full.phone.as_deref(), Some("13912345678"));
    let auditor = db.actor("auditor").await;
    let log = db
        .services
        .audit()
        .search(
            &auditor,
            &AuditQuery {
                entity_id: Some(created.id.to_string()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<&str> = log.items.iter().map(|r| r.action.as_str()).collect();
    assert!(
        actions.contains(&"person.create") && actions.contains(&"person.reveal"),
        "{actions:?}"
    );
    assert!(log
        .items
        .iter()
        .all(|r| r.actor_name == "clerk" && r.interface == "web"));

    // A correction with the revision read succeeds once; the same stale revision is refused.
    let mut changed = input(&id_number, "单丽华", &yangshe);
    changed.phone = Some("0512-58681234".into());
    let updated = db
        .services
        .people()
        .update(&clerk, created.id, full.revision, &changed)
        .await
        .unwrap();
    assert_eq!(updated.revision, full.revision + 1);
    let again = db
        .services
        .people()
        .update(&clerk, created.id, full.revision, &changed)
        .await;
    assert!(matches!(again, Err(ServiceError::Stale)));
    db.finish().await;
}

async fn bad_input_is_refused_with_its_field_and_writes_nothing(db: TestDb) {
    let db = db.with_demo(120).await;
    let (yangshe, tangqiao) = villages(&db).await;
    let clerk = db.actor("clerk").await;
    let before = db.services.overview(&clerk).await.unwrap().persons;
    let good = new_id((1980, 1, 2), 22);
    let mut bad_check = good.clone();
    bad_check.replace_range(17..18, if good.ends_with('0') { "1" } else { "0" });
    let cases: Vec<(PersonInput, &str)> = vec![
        (input(&bad_check, "李四", &yangshe), "id_number"),
        (input("320582199902300012", "李四", &yangshe), "id_number"),
        (input(&good, "", &yangshe), "name"),
        (input(&good, "李四", "320582100"), "residence_region"),
        (input(&good, "李四", "320582100999"), "residence_region"),
        (input(&good, "李四", &tangqiao), "residence_region"),
        (
            PersonInput {
                hukou_region: "999999999999".into(),
                ..input(&good, "李四", &yangshe)
            },
            "hukou_region",
        ),
        (
            PersonInput {
                hukou_region: "320582100999".into(),
                ..input(&good, "李四", &yangshe)
            },
            "hukou_region",
        ),
        (
            PersonInput {
                phone: Some("12345".into()),
                ..input(&good, "李四", &yangshe)
            },
            "phone",
        ),
        (
            PersonInput {
                disability_grade: Some(5),
                ..input(&good, "李四", &yangshe)
            },
            "disability_grade",
        ),
        (
            PersonInput {
                disability_kind: None,
                ..input(&good, "李四", &yangshe)
            },
            "disability_kind",
        ),
        (
            PersonInput {
                labour_capacity: "some".into(),
                ..input(&good, "李四", &yangshe)
            },
            "labour_capacity",
        ),
        (
            PersonInput {
                residence_since: clock::today().succ_opt(),
                ..input(&good, "李四", &yangshe)
            },
            "residence_since",
        ),
    ];
    for (i, field) in cases {
        match db.services.people().create(&clerk, &i).await {
            Err(ServiceError::Invalid { field: f, message }) => {
                assert_eq!(f, field, "{message}");
                assert!(!message.is_empty());
            }
            other => panic!("expected invalid {field}, got {other:?}"),
        }
    }
    assert_eq!(db.services.overview(&clerk).await.unwrap().persons, before);
    // A duplicate identity number is a conflict on that field.
    db.services
        .people()
        .create(&clerk, &input(&good, "李四", &yangshe))
        .await
        .unwrap();
    let dup = db
        .services
        .people()
        .create(&clerk, &input(&good, "李四", &yangshe))
        .await;
    assert!(
        matches!(dup, Err(ServiceError::Conflict { field: Some(ref f), .. }) if f == "id_number")
    );
    db.finish().await;
}

async fn a_clerk_cannot_reach_another_townships_people(db: TestDb) {
    let db = db.with_demo(200).await;
    let (_, tangqiao) = villages(&db).await;
    let clerk2 = db.actor("clerk2").await;
    let clerk = db.actor("clerk").await;
    let id_number = new_id((1975, 7, 7), 31);
    let p = db
        .services
        .people()
        .create(&clerk2, &input(&id_number, "顾小红", &tangqiao))
        .await
        .unwrap();
    // Read, reveal, search by name and by number, change: each as if the person did not exist.
    assert!(matches!(
        db.services.people().get(&clerk, p.id, false).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        db.services.people().get(&clerk, p.id, true).await,
        Err(ServiceError::NotFound)
    ));
    for q in ["顾小红", "gxh", id_number.as_str()] {
        let found = db
            .services
            .people()
            .search(
                &clerk,
                &PersonQuery {
                    q: Some(q.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(found.items.iter().all(|x| x.id != p.id), "{q}");
    }
    let listed = db
        .services
        .people()
        .search(&clerk, &PersonQuery::default())
        .await
        .unwrap();
    assert!(listed
        .items
        .iter()
        .all(|x| x.region_code.starts_with("320582100")));
    let upd = db
        .services
        .people()
        .update(&clerk, p.id, 1, &input(&id_number, "顾小红", &tangqiao))
        .await;
    assert!(matches!(upd, Err(ServiceError::NotFound)));
    let hh = db
        .services
        .households()
        .search(&clerk2, &Default::default())
        .await
        .unwrap();
    let other = hh.items[0].id;
    assert!(matches!(
        db.services.households().get(&clerk, other).await,
        Err(ServiceError::NotFound)
    ));
    // The supervisor reads across the city but writes nothing; the auditor reads no people.
    let supervisor = db.actor("supervisor").await;
    assert!(db
        .services
        .people()
        .get(&supervisor, p.id, false)
        .await
        .is_ok());
    let w = db
        .services
        .people()
        .create(
            &supervisor,
            &input(&new_id((1990, 1, 1), 1), "王五", &tangqiao),
        )
        .await;
    assert!(matches!(w, Err(ServiceError::Forbidden)));
    let auditor = db.actor("auditor").await;
    assert!(matches!(
        db.services.people().get(&auditor, p.id, false).await,
        Err(ServiceError::Forbidden)
    ));
    db.finish().await;
}

async fn households_keep_their_membership_history(db: TestDb) {
    let db = db.with_demo(100).await;
    let (yangshe, _) = villages(&db).await;
    let clerk = db.actor("clerk").await;
    let head = db
        .services
        .people()
        .create(
            &clerk,
            &input(&new_id((1970, 2, 2), 11), "瞿建国", &yangshe),
        )
        .await
        .unwrap();
    let wife = db
        .services
        .people()
        .create(
            &clerk,
            &input(&new_id((1972, 4, 4), 22), "季秀英", &yangshe),
        )
        .await
        .unwrap();
    let son = db
        .services
        .people()
        .create(&clerk, &input(&new_id((1998, 6, 6), 33), "瞿浩", &yangshe))
        .await
        .unwrap();
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
    let h = db
        .services
        .households()
        .create(
            &clerk,
            &HouseholdInput {
                region_code: yangshe.clone(),
                address: "东湖村人民路8号".into(),
                head_person_id: head.id,
                from_date: d(1995, 1, 1),
            },
        )
        .await
        .unwrap();
    let hid = h.household.id;
    db.services
        .households()
        .add_member(
            &clerk,
            hid,
            &MemberInput {
                person_id: wife.id,
                relation: "spouse".into(),
                from_date: d(1996, 1, 1),
            },
        )
        .await
        .unwrap();
    let h = db
        .services
        .households()
        .add_member(
            &clerk,
            hid,
            &MemberInput {
                person_id: son.id,
                relation: "child".into(),
                from_date: d(1998, 6, 6),
            },
        )
        .await
        .unwrap();
    assert_eq!(h.household.current_members().count(), 3);
    // The son cannot be in a second household at the same time.
    let other = db
        .services
        .people()
        .create(&clerk, &input(&new_id((1950, 1, 1), 41), "缪福", &yangshe))
        .await
        .unwrap();
    let h2 = db
        .services
        .households()
        .create(
            &clerk,
            &HouseholdInput {
                region_code: yangshe.clone(),
                address: "乐余路1号".into(),
                head_person_id: other.id,
                from_date: None,
            },
        )
        .await
        .unwrap();
    let twice = db
        .services
        .households()
        .add_member(
            &clerk,
            h2.household.id,
            &MemberInput {
                person_id: son.id,
                relation: "other".into(),
                from_date: None,
            },
        )
        .await;
    assert!(
        matches!(twice, Err(ServiceError::Conflict { .. })),
        "{twice:?}"
    );
    // He moves out: the household keeps him as a past member, and he can join another.
    let son_member = h
        .household
        .members
        .iter()
        .find(|m| m.person_id == son.id)
        .unwrap()
        .member_id;
    let h = db
        .services
        .households()
        .end_membership(&clerk, hid, son_member, d(2024, 9, 1))
        .await
        .unwrap();
    assert_eq!(h.household.current_members().count(), 2);
    let past = h
        .household
        .members
        .iter()
        .find(|m| m.person_id == son.id)
        .unwrap();
    assert_eq!(past.to_date, d(2024, 9, 1));
    db.services
        .households()
        .add_member(
            &clerk,
            h2.household.id,
            &MemberInput {
                person_id: son.id,
                relation: "other".into(),
                from_date: d(2024, 9, 1),
            },
        )
        .await
        .unwrap();
    // The head cannot simply leave.
    let head_member = h
        .household
        .members
        .iter()
        .find(|m| m.person_id == head.id)
        .unwrap()
        .member_id;
    let r = db
        .services
        .households()
        .end_membership(&clerk, hid, head_member, None)
        .await;
    assert!(matches!(r, Err(ServiceError::Invalid { .. })));
    db.finish().await;
}

async fn declared_incomes_are_recorded_corrected_and_removed_with_the_household(db: TestDb) {
    let db = db.with_demo(20).await;
    let (yangshe, _) = villages(&db).await;
    let clerk = db.actor("clerk").await;
    let people = db.services.people();
    let households = db.services.households();
    let head = people
        .create(
            &clerk,
            &input(&new_id((1968, 3, 3), 12), "钱根宝", &yangshe),
        )
        .await
        .unwrap();
    let wife = people
        .create(
            &clerk,
            &input(&new_id((1970, 7, 7), 24), "顾美华", &yangshe),
        )
        .await
        .unwrap();
    let stranger = people
        .create(&clerk, &input(&new_id((1980, 8, 8), 36), "沈立", &yangshe))
        .await
        .unwrap();
    let hid = households
        .create(
            &clerk,
            &HouseholdInput {
                region_code: yangshe.clone(),
                address: "西丰村南街3号".into(),
                head_person_id: head.id,
                from_date: NaiveDate::from_ymd_opt(2000, 1, 1),
            },
        )
        .await
        .unwrap()
        .household
        .id;
    households
        .add_member(
            &clerk,
            hid,
            &MemberInput {
                person_id: wife.id,
                relation: "spouse".into(),
                from_date: NaiveDate::from_ymd_opt(2000, 1, 1),
            },
        )
        .await
        .unwrap();
    let income = |person_id, kind: &str, yuan: &str| IncomeInput {
        person_id,
        kind: kind.into(),
        monthly: Money::parse_yuan(yuan).unwrap(),
        since: NaiveDate::from_ymd_opt(2026, 1, 1),
    };
    households
        .record_income(&clerk, hid, &income(head.id, "wage", "2300"))
        .await
        .unwrap();
    households
        .record_income(&clerk, hid, &income(wife.id, "pension", "1200"))
        .await
        .unwrap();
    // 优抚金 is recorded but not counted.
    let v = households
        .record_income(&clerk, hid, &income(wife.id, "special_care", "500"))
        .await
        .unwrap();
    assert_eq!(v.counted_monthly_income, Money::from_yuan(3500));
    assert_eq!(v.per_capita_monthly_income, Money::from_yuan(1750));
    // The pension was 1,350.50: corrected, and the figure it replaced stays in the audit.
    let pension = v
        .incomes
        .iter()
        .find(|i| i.kind.code() == "pension")
        .unwrap()
        .id;
    let v = households
        .change_income(&clerk, hid, pension, &income(wife.id, "pension", "1350.50"))
        .await
        .unwrap();
    assert_eq!(v.counted_monthly_income, Money::from_fen(365_050));
    assert_eq!(v.per_capita_monthly_income, Money::from_fen(182_525));
    // The husband lost his job: his wage is removed.
    let wage = v
        .incomes
        .iter()
        .find(|i| i.kind.code() == "wage")
        .unwrap()
        .id;
    let v = households.remove_income(&clerk, hid, wage).await.unwrap();
    assert_eq!(v.counted_monthly_income, Money::from_fen(135_050));
    assert_eq!(v.incomes.len(), 2);
    // Refusals name the field and change nothing.
    let field_of = |r: Result<_, ServiceError>| match r {
        Err(ServiceError::Invalid { field, .. }) => field,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(
        field_of(
            households
                .record_income(&clerk, hid, &income(stranger.id, "wage", "100"))
                .await
        ),
        "person_id"
    );
    assert_eq!(
        field_of(
            households
                .record_income(&clerk, hid, &income(head.id, "salary", "100"))
                .await
        ),
        "kind"
    );
    assert_eq!(
        field_of(
            households
                .record_income(&clerk, hid, &income(head.id, "wage", "-1"))
                .await
        ),
        "monthly"
    );
    let mut later = income(head.id, "wage", "100");
    later.since = Some(clock::today() + chrono::Duration::days(3));
    assert_eq!(
        field_of(households.record_income(&clerk, hid, &later).await),
        "since"
    );
    // Another township's clerk does not reach the household at all.
    let clerk2 = db.actor("clerk2").await;
    assert!(matches!(
        households.remove_income(&clerk2, hid, pension).await,
        Err(ServiceError::NotFound)
    ));
    // An income of another household cannot be edited through this one.
    let other = households
        .create(
            &clerk,
            &HouseholdInput {
                region_code: yangshe.clone(),
                address: "西丰村北街9号".into(),
                head_person_id: stranger.id,
                from_date: None,
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        households
            .remove_income(&clerk, other.household.id, pension)
            .await,
        Err(ServiceError::NotFound)
    ));
    let v = households.get(&clerk, hid).await.unwrap();
    assert_eq!(v.counted_monthly_income, Money::from_fen(135_050));
    let admin = db.actor("auditor").await;
    let log = db
        .services
        .audit()
        .search(
            &admin,
            &AuditQuery {
                action: Some("household.income".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<&str> = log.items.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "household.income_add")
            .count(),
        3
    );
    let change = log
        .items
        .iter()
        .find(|r| r.action == "household.income_change")
        .unwrap();
    assert!(
        change.detail.contains("120000") && change.detail.contains("135050"),
        "{}",
        change.detail
    );
    assert!(log
        .items
        .iter()
        .any(|r| r.action == "household.income_remove" && r.detail.contains("230000")));
    db.finish().await;
}

async fn the_catalogue_is_edited_by_the_bureau_only(db: TestDb) {
    let db = db.with_demo(50).await;
    let admin = db.actor("admin").await;
    let clerk = db.actor("clerk").await;
    let item = db.services.catalogue().item("legal_aid").await.unwrap();
    let edit = ItemInput {
        name: item.name.clone(),
        time_limit_days: 5,
        time_limit_source: "张家港市法律援助实施细则（示范）".into(),
        materials: vec!["申请人居民身份证".into(), "法律援助申请表".into()],
        guide: item.guide.clone(),
        revision: item.revision,
        recurring: None,
    };
    assert!(matches!(
        db.services
            .catalogue()
            .update_item(&clerk, "legal_aid", &edit)
            .await,
        Err(ServiceError::Forbidden)
    ));
    let after = db
        .services
        .catalogue()
        .update_item(&admin, "legal_aid", &edit)
        .await
        .unwrap();
    assert_eq!(after.time_limit_days, 5);
    assert_eq!(after.materials.len(), 2);
    assert!(matches!(
        db.services
            .catalogue()
            .update_item(&admin, "legal_aid", &edit)
            .await,
        Err(ServiceError::Stale)
    ));
    let zero = ItemInput {
        time_limit_days: 0,
        revision: after.revision,
        ..edit.clone()
    };
    assert!(matches!(
        db.services
            .catalogue()
            .update_item(&admin, "legal_aid", &zero)
            .await,
        Err(ServiceError::Invalid { .. })
    ));
    let auditor = db.actor("auditor").await;
    let log = db
        .services
        .audit()
        .search(
            &auditor,
            &AuditQuery {
                action: Some("item".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(log.total, 1);
    assert!(log.items[0].detail.contains("\"time_limit_days\":5"));
    db.finish().await;
}

async fn no_administrator_takes_another_ones_powers(db: TestDb) {
    let db = db.with_demo(30).await;
    let s = &db.services;
    let system = db.actor("admin").await;
    let security = db.actor("security").await;
    let auditor = db.actor("auditor").await;
    let clerk = db.actor("clerk").await;
    let auditor_id = auditor.user_id.unwrap();
    let query = AuditQuery::default();
    // The system administrator: no accounts, no tokens for others, no audit log, no reveal.
    let account = UserInput {
        username: "audit2".into(),
        display_name: "另一位审计员".into(),
        role: "auditor".into(),
        region_code: "320582".into(),
        department_code: None,
        password: "audit2026abc".into(),
        system_account: false,
        organisation_id: None,
    };
    assert!(matches!(
        s.users().create(&system, &account).await,
        Err(ServiceError::Forbidden)
    ));
    let for_clerk = TokenInput {
        user_id: clerk.user_id.unwrap(),
        name: "冒用".into(),
        read_only: false,
        expires_in_days: None,
    };
    assert!(s.users().issue_token(&system, &for_clerk).await.is_err());
    let someone = s
        .people()
        .search(&system, &PersonQuery::default())
        .await
        .unwrap()
        .items[0]
        .id;
    assert!(matches!(
        s.people().get(&system, someone, true).await,
        Err(ServiceError::Forbidden)
    ));
    // The security administrator: accounts, but not an auditor's, and not the auditor's own.
    assert!(matches!(
        s.users().create(&security, &account).await,
        Err(ServiceError::Invalid { ref field, .. }) if field == "role"
    ));
    assert!(s
        .users()
        .set_active(&security, auditor_id, false)
        .await
        .is_err());
    assert!(s.users().issue_token(&security, &for_clerk).await.is_err());
    assert!(s.people().get(&security, someone, false).await.is_err());
    // The auditor reads the log and nothing else; reading it is itself recorded.
    assert!(s.audit().search(&auditor, &query).await.is_ok());
    assert!(s.users().list(&auditor).await.is_err());
    assert!(s.people().get(&auditor, someone, false).await.is_err());
    let log = s
        .audit()
        .search(
            &auditor,
            &AuditQuery {
                action: Some("audit.search".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(log.items.iter().any(|r| r.actor_name == "auditor"));
    // Whoever watches is watched: the other two administrators see the auditor's actions, and
    // only those.
    for other in [&system, &security] {
        let seen = s.audit().search(other, &query).await.unwrap();
        assert!(seen.total >= 1, "{seen:?}");
        assert!(seen.items.iter().all(|r| r.actor_role == "auditor"));
    }
    assert!(matches!(
        s.audit().search(&clerk, &query).await,
        Err(ServiceError::Forbidden)
    ));
    // A clerk may issue a token for herself: it acts as her, no one else.
    let own = TokenInput {
        user_id: clerk.user_id.unwrap(),
        ..for_clerk
    };
    let issued = s.users().issue_token(&clerk, &own).await.unwrap();
    let acting = s
        .auth()
        .resolve_token(&issued.token, "10.0.0.1")
        .await
        .unwrap();
    assert_eq!(acting.user_id, clerk.user_id);
}

async fn a_lock_holds_for_one_account_at_one_address_and_names_no_one(db: TestDb) {
    let db = db.with_demo(30).await;
    let s = &db.services;
    let attempt = |name: &'static str, ip: &'static str| async move {
        s.auth()
            .login(name, "wrong-password1", ip, Interface::Web)
            .await
    };
    // Five failures from one address lock the clerk there, and there only.
    for _ in 0..4 {
        assert!(matches!(
            attempt("clerk", "10.0.0.66").await,
            Err(ServiceError::BadCredentials)
        ));
    }
    assert!(matches!(
        attempt("clerk", "10.0.0.66").await,
        Err(ServiceError::Locked { .. })
    ));
    assert!(s
        .auth()
        .login("clerk", "jiuzhu2026", "10.0.0.7", Interface::Web)
        .await
        .is_ok());
    // A name that does not exist is answered exactly as one that does, locks included.
    for _ in 0..4 {
        assert!(matches!(
            attempt("no_such_clerk", "10.0.0.66").await,
            Err(ServiceError::BadCredentials)
        ));
    }
    assert!(matches!(
        attempt("no_such_clerk", "10.0.0.66").await,
        Err(ServiceError::Locked { .. })
    ));
    // What was typed for an unknown name is not kept in the audit log.
    let auditor = db.actor("auditor").await;
    let log = s
        .audit()
        .search(
            &auditor,
            &AuditQuery {
                action: Some("login".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(log.total >= 10);
    assert!(log
        .items
        .iter()
        .all(|r| !r.actor_name.contains("no_such_clerk")));
    assert!(log
        .items
        .iter()
        .any(|r| r.actor_name == jiuzhu_services::auth::UNKNOWN_NAME));
}

async fn logins_lock_after_repeated_failures_and_tokens_are_revocable(db: TestDb) {
    let db = db.with_demo(30).await;
    let s = &db.services;
    for _ in 0..4 {
        assert!(matches!(
            s.auth()
                .login("clerk", "wrong-password1", "10.0.0.9", Interface::Web)
                .await,
            Err(ServiceError::BadCredentials)
        ));
    }
    assert!(matches!(
        s.auth()
            .login("clerk", "wrong-password1", "10.0.0.9", Interface::Web)
            .await,
        Err(ServiceError::Locked { .. })
    ));
    // Locked: even the right password is refused until an administrator re-enables the account.
    assert!(matches!(
        s.auth()
            .login("clerk", "jiuzhu2026", "10.0.0.9", Interface::Web)
            .await,
        Err(ServiceError::Locked { .. })
    ));
    let admin = db.actor("security").await;
    let clerk_id = db.actor("clerk").await.user_id.unwrap();
    s.users().set_active(&admin, clerk_id, true).await.unwrap();
    let session = s
        .auth()
        .login("clerk", "jiuzhu2026", "10.0.0.9", Interface::Web)
        .await
        .unwrap();
    let resolved = s
        .auth()
        .resolve_session(&session.token, "10.0.0.9", Interface::Web)
        .await
        .unwrap();
    assert_eq!(resolved.actor.username, "clerk");
    assert_eq!(resolved.csrf_token, session.csrf_token);
    assert!(matches!(
        s.auth()
            .resolve_session("forged", "10.0.0.9", Interface::Web)
            .await,
        Err(ServiceError::Unauthenticated)
    ));
    s.auth()
        .logout(&session.token, &resolved.actor)
        .await
        .unwrap();
    assert!(s
        .auth()
        .resolve_session(&session.token, "10.0.0.9", Interface::Web)
        .await
        .is_err());
    // A session left idle past its limit is gone.
    let idle = s
        .auth()
        .login("clerk", "jiuzhu2026", "10.0.0.9", Interface::Web)
        .await
        .unwrap();
    let hash = jiuzhu_services::auth::digest(&idle.token);
    let long_ago = chrono::Utc::now()
        - chrono::Duration::minutes(jiuzhu_services::auth::SESSION_IDLE_MINUTES + 1);
    with_raw_pool!(db.url, pool => {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(long_ago)
                .bind(&hash)
                .execute(&pool)
                .await
                .unwrap();
    });
    assert!(matches!(
        s.auth()
            .resolve_session(&idle.token, "10.0.0.9", Interface::Web)
            .await,
        Err(ServiceError::Unauthenticated)
    ));
    // Unknown users get the same answer as a wrong password.
    assert!(matches!(
        s.auth()
            .login("nobody", "jiuzhu2026", "10.0.0.9", Interface::Web)
            .await,
        Err(ServiceError::BadCredentials)
    ));

    // Nobody issues a token that acts as another person, the security administrator included.
    let liaison = db.actor("liaison").await;
    let for_liaison = TokenInput {
        user_id: liaison.user_id.unwrap(),
        name: "医保局核对接口".into(),
        read_only: true,
        expires_in_days: Some(30),
    };
    assert!(matches!(
        s.users().issue_token(&admin, &for_liaison).await,
        Err(ServiceError::Invalid { ref field, .. }) if field == "user_id"
    ));
    // A department system's token belongs to the department's system account; read-only
    // tokens cannot write; revoked ones fail.
    let system = s
        .users()
        .create(
            &admin,
            &UserInput {
                username: "ybj_system".into(),
                display_name: "医保局核对接口".into(),
                role: "department_liaison".into(),
                region_code: "320582".into(),
                department_code: Some("medical_insurance".into()),
                password: String::new(),
                system_account: true,
                organisation_id: None,
            },
        )
        .await
        .unwrap();
    assert!(system.system_account);
    let issued = s
        .users()
        .issue_token(
            &admin,
            &TokenInput {
                user_id: system.id,
                ..for_liaison
            },
        )
        .await
        .unwrap();
    assert!(issued.token.starts_with("jz_"));
    let actor = s
        .auth()
        .resolve_token(&issued.token, "10.1.1.1")
        .await
        .unwrap();
    assert_eq!(actor.department.as_deref(), Some("medical_insurance"));
    assert!(actor.read_only);
    s.users().revoke_token(&admin, issued.id).await.unwrap();
    assert!(matches!(
        s.auth().resolve_token(&issued.token, "10.1.1.1").await,
        Err(ServiceError::Unauthenticated)
    ));

    // Users are created inside the administrator's county, with a region of their role's level.
    let bad = UserInput {
        username: "clerk9".into(),
        display_name: "新窗口".into(),
        role: "window_clerk".into(),
        region_code: "320582".into(),
        department_code: None,
        password: "window2026ab".into(),
        system_account: false,
        organisation_id: None,
    };
    assert!(
        matches!(s.users().create(&admin, &bad).await, Err(ServiceError::Invalid { ref field, .. }) if field == "region_code")
    );
    let ok = UserInput {
        region_code: "320582102".into(),
        ..bad
    };
    let u = s.users().create(&admin, &ok).await.unwrap();
    assert_eq!(u.role_label, "窗口受理员");
    // The password the administrator chose is replaced by its user at the first sign-in.
    let session = s
        .auth()
        .login("clerk9", "window2026ab", "127.0.0.1", Interface::Web)
        .await
        .unwrap();
    let resolved = s
        .auth()
        .resolve_session(&session.token, "127.0.0.1", Interface::Web)
        .await
        .unwrap();
    assert!(resolved.must_change_password);
    db.finish().await;
}

async fn the_audit_log_is_append_only_and_identity_numbers_are_encrypted(db: TestDb) {
    let db = db.with_demo(20).await;
    let (yangshe, _) = villages(&db).await;
    let clerk = db.actor("clerk").await;
    let id_number = new_id((1966, 6, 16), 55);
    db.services
        .people()
        .create(&clerk, &input(&id_number, "陆根福", &yangshe))
        .await
        .unwrap();
    let backend = db.services.store.backend();
    let url = db.url.clone();
    let check = |rows: Vec<String>| {
        assert!(!rows.is_empty());
        for r in rows {
            assert!(
                !r.contains(&id_number[6..14]),
                "plain identity number in the database"
            );
        }
    };
    with_raw_pool!(url, pool => {
            let rows: Vec<(Vec<u8>, String)> =
                sqlx::query_as("SELECT id_number_cipher, id_number_index FROM persons")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            check(
                rows.into_iter()
                    .map(|(c, i)| format!("{}{i}", String::from_utf8_lossy(&c)))
                    .collect(),
            );
            assert!(sqlx::query("UPDATE audit_log SET actor_name = 'x'")
                .execute(&pool)
                .await
                .is_err());
            assert!(sqlx::query("DELETE FROM audit_log")
                .execute(&pool)
                .await
                .is_err());
        // TRUNCATE exists only on PostgreSQL, where a trigger refuses it too.
        if backend == jiuzhu_store::Backend::Postgres {
            assert!(sqlx::query("TRUNCATE audit_log").execute(&pool).await.is_err());
        }
    });
    // The wrong key is refused before anything is written with it.
    db.services.store.close().await;
    let wrong = jiuzhu_store::FieldCipher::new(&[1u8; 32], 1);
    let store = jiuzhu_store::Store::connect(&url, wrong).await.unwrap();
    assert!(store.migrate().await.is_err());
    store.close().await;
    db.finish().await;
}

async fn an_administrator_loads_a_new_years_calendar(db: TestDb) {
    let db = db.with_demo(10).await;
    let admin = db.actor("admin").await;
    let clerk = db.actor("clerk").await;
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    assert!(
        db.services
            .calendar()
            .add_working_days(d(2026, 12, 31), 2)
            .provisional
    );
    let schedule = r#"{"year": 2027, "papers": ["国办发明电〔2026〕1号（示例）"], "days": [
        {"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}"#;
    assert!(matches!(
        db.services.calendar().load_year(&clerk, schedule).await,
        Err(ServiceError::Forbidden)
    ));
    assert!(matches!(
        db.services.calendar().load_year(&admin, "{").await,
        Err(ServiceError::Invalid { .. })
    ));
    let y = db
        .services
        .calendar()
        .load_year(&admin, schedule)
        .await
        .unwrap();
    assert_eq!((y.year, y.holidays), (2027, 1));
    let due = db.services.calendar().add_working_days(d(2026, 12, 31), 2);
    assert_eq!((due.date, due.provisional), (d(2027, 1, 5), false));
    // It survives a restart: the next process reads it from the database.
    let reopened = jiuzhu_services::Services::open(db.services.store.clone())
        .await
        .unwrap();
    assert!(
        !reopened
            .calendar()
            .add_working_days(d(2026, 12, 31), 2)
            .provisional
    );
    db.finish().await;
}

stories!(
    the_schema_migrates_once_and_seeds_the_catalogue,
    the_demo_city_is_realistic,
    a_clerk_registers_reads_and_corrects_a_person,
    bad_input_is_refused_with_its_field_and_writes_nothing,
    a_clerk_cannot_reach_another_townships_people,
    households_keep_their_membership_history,
    declared_incomes_are_recorded_corrected_and_removed_with_the_household,
    the_catalogue_is_edited_by_the_bureau_only,
    logins_lock_after_repeated_failures_and_tokens_are_revocable,
    the_audit_log_is_append_only_and_identity_numbers_are_encrypted,
    an_administrator_loads_a_new_years_calendar,
    a_lock_holds_for_one_account_at_one_address_and_names_no_one,
    no_administrator_takes_another_ones_powers,
);
