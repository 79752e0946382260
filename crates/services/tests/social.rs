//! Social forces and the public's own door: an online application landing in its township's
//! queue (twice sent, one case); a need published without anything that identifies the household,
//! committed and delivered by an organisation, closing the plan's measure; points from verified
//! hours only, a correction reversing them; the 3 : 7 split and the 2 % cap; residence-permit
//! holders covered after six months. On SQLite and PostgreSQL.

mod common;

use chrono::NaiveDate;
use common::TestDb;
use jiuzhu_domain::IdNumber;
use jiuzhu_services::auth::UserInput;
use jiuzhu_services::cases::{OnlineApplication, OnlineMember, Queue};
use jiuzhu_services::people::PermitInput;
use jiuzhu_services::recipients::{Measure, Need, PlanInput};
use jiuzhu_services::social::{
    CommitInput, ConsentInput, NeedInput, ProjectInput, ServiceLogInput, VolunteerInput,
};
use jiuzhu_services::{Actor, ServiceError};

fn field_of(e: ServiceError) -> String {
    match e {
        ServiceError::Invalid { field, .. } => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

fn id(y: i32, m: u32, d: u32, n: u16) -> String {
    IdNumber::from_parts("320582", NaiveDate::from_ymd_opt(y, m, d).unwrap(), n)
        .unwrap()
        .expose()
        .to_string()
}

/// An account of the first registered organisation, made by the security administrator.
async fn organisation_user(db: &TestDb, username: &str) -> Actor {
    let security = db.actor("security").await;
    let org = db
        .services
        .organisations()
        .list(&security)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.active)
        .unwrap();
    db.services
        .users()
        .create(
            &security,
            &UserInput {
                username: username.into(),
                display_name: format!("{}联络人", org.name),
                role: "organisation".into(),
                region_code: "320582".into(),
                department_code: None,
                password: "Volunteer2026x".into(),
                system_account: false,
                organisation_id: Some(org.id),
            },
        )
        .await
        .unwrap();
    db.actor(username).await
}

async fn an_online_application_lands_in_its_townships_queue(db: TestDb) {
    let db = db.with_demo(120).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let village = s
        .regions()
        .list(&clerk)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.level == "village")
        .unwrap()
        .code;
    let mut input = OnlineApplication {
        id_number: id(1979, 4, 12, 731),
        name: "潘秋云".into(),
        phone: "13951112222".into(),
        village: village.clone(),
        address: "人民中路12号3幢201室".into(),
        hardship: "丈夫今年查出尿毒症，每周透析三次，我在超市打零工，女儿读初二，生活很困难".into(),
        causes: vec!["illness".into()],
        items: vec!["dibao".into(), "medical_assistance".into()],
        members: vec![
            OnlineMember {
                id_number: id(1977, 9, 3, 751),
                name: "周建强".into(),
                relation: "spouse".into(),
            },
            OnlineMember {
                id_number: id(2012, 6, 20, 762),
                name: "周悦".into(),
                relation: "child".into(),
            },
        ],
        consent: false,
    };
    let refused = s
        .cases()
        .apply_online("10.1.1.1", &input)
        .await
        .unwrap_err();
    assert_eq!(field_of(refused), "consent");
    input.consent = true;
    let mut bad = input.clone();
    let last = if input.id_number.ends_with('1') {
        '2'
    } else {
        '1'
    };
    bad.id_number = format!("{}{last}", &input.id_number[..17]);
    assert_eq!(
        field_of(s.cases().apply_online("10.1.1.1", &bad).await.unwrap_err()),
        "id_number"
    );
    let receipt = s.cases().apply_online("10.1.1.1", &input).await.unwrap();
    assert!(receipt.application_no.starts_with("WS"));
    assert!(!receipt.merged);
    assert_eq!(receipt.township, "杨舍镇");
    assert!(receipt
        .materials
        .iter()
        .any(|(name, m)| name == "最低生活保障" && !m.is_empty()));
    // Sent again: the same case.
    let again = s.cases().apply_online("10.1.1.1", &input).await.unwrap();
    assert!(again.merged);
    assert_eq!(again.application_no, receipt.application_no);
    // In 杨舍镇's window queue, channel online, with the household of three.
    let case_id = jiuzhu_services::cases::case_of_application_no(&receipt.application_no).unwrap();
    let queue = s.cases().queue(&clerk, Queue::Window).await.unwrap();
    assert!(
        queue.iter().any(|r| r.case_id == case_id),
        "in the township's queue"
    );
    let case = s.cases().get(&clerk, case_id).await.unwrap();
    assert_eq!(case.channel, "online");
    let household = s.households().get(&clerk, case.household_id).await.unwrap();
    assert_eq!(household.household.members.len(), 3);
    let clerk2 = db.actor("clerk2").await;
    assert!(s
        .cases()
        .queue(&clerk2, Queue::Window)
        .await
        .unwrap()
        .iter()
        .all(|r| r.case_id != case_id));
    // The status page answers the application number with the last four characters.
    let wrong4 = if input.id_number.ends_with("0000") {
        "1111"
    } else {
        "0000"
    };
    let status = s
        .cases()
        .public_status(&receipt.application_no, wrong4)
        .await;
    assert!(matches!(status, Err(ServiceError::NotFound)));
    let last4 = &input.id_number[14..];
    let status = s
        .cases()
        .public_status(&receipt.application_no, last4)
        .await
        .unwrap();
    assert!(status
        .items
        .iter()
        .any(|i| i.progress.contains("等待窗口受理")));
    // The consent is there, so verification may read the facts.
    s.verification().verify_case(&clerk, case_id).await.unwrap();
    // A registered person applying under another name is refused.
    let mut wrong = input.clone();
    wrong.name = "潘秋雲".into();
    wrong.items = vec!["temporary_assistance".into()];
    assert_eq!(
        field_of(
            s.cases()
                .apply_online("10.1.1.1", &wrong)
                .await
                .unwrap_err()
        ),
        "name"
    );
    db.finish().await;
}

async fn a_need_is_published_without_identity_and_closed_by_its_delivery(db: TestDb) {
    let db = db.with_demo(300).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let org = organisation_user(&db, "helper").await;
    // A household of 杨舍镇 in assistance gets a plan with a measure for the social forces.
    let household = s
        .households()
        .search(&clerk, &Default::default())
        .await
        .unwrap()
        .items[0]
        .id;
    s.recipients()
        .save_plan(
            &clerk,
            household,
            &PlanInput {
                causes: vec!["illness".into()],
                needs: vec![Need {
                    need: "就医需要有人陪同".into(),
                    measure: Some(Measure {
                        by: "社会组织".into(),
                        what: "志愿者陪同就医".into(),
                        due_days: 20,
                        status: String::new(),
                    }),
                    no_measure_reason: String::new(),
                }],
                changes: "新增陪同就医需求".into(),
            },
        )
        .await
        .unwrap();
    let open = s.social().publishable(&clerk).await.unwrap();
    let p = open.first().expect("a plan with an open measure").clone();
    // Without the household's consent nothing is published.
    let input = NeedInput {
        plan_id: p.plan_id,
        need_index: p.need_index,
        description: "家中有透析病人，需要每周两次陪同就医".into(),
        quantity: 8,
        unit: "visits".into(),
    };
    assert_eq!(
        field_of(s.social().publish_need(&clerk, &input).await.unwrap_err()),
        "consent"
    );
    let head = s
        .households()
        .get(&clerk, p.household_id)
        .await
        .unwrap()
        .household
        .head_person_id;
    s.social()
        .record_consent(
            &clerk,
            &ConsentInput {
                household_id: p.household_id,
                person_id: head,
                kind: "share_needs".into(),
                channel: "window".into(),
            },
        )
        .await
        .unwrap();
    let named = NeedInput {
        description: format!("{}家需要陪同就医", p.head_name),
        ..input.clone()
    };
    assert_eq!(
        field_of(s.social().publish_need(&clerk, &named).await.unwrap_err()),
        "description"
    );
    let need = s.social().publish_need(&clerk, &input).await.unwrap();
    assert_eq!(need.item.township, "杨舍镇");
    let twice = s.social().publish_need(&clerk, &input).await;
    assert!(matches!(twice, Err(ServiceError::Conflict { .. })));

    // What the organisation reads names nobody and nowhere below the township.
    let board = s.social().board(&org).await.unwrap();
    let text = serde_json::to_string(&board).unwrap();
    assert!(common::identity_numbers_in(&text).is_empty());
    assert!(!text.contains(&p.head_name));
    let village = p.place.rsplit(' ').next().unwrap();
    assert!(!text.contains(village), "{village} in {text}");
    assert!(!text.contains("household"));
    let item = board.iter().find(|n| n.id == need.item.id).unwrap();
    assert_eq!((item.quantity, item.remaining), (8, 8));

    // Over-commitment is refused; two commitments make it whole; deliveries close the measure.
    let over = s
        .social()
        .commit(
            &org,
            item.id,
            &CommitInput {
                quantity: 9,
                note: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(over), "quantity");
    let part = s
        .social()
        .commit(
            &org,
            item.id,
            &CommitInput {
                quantity: 5,
                note: "志愿者周二、周五陪同".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!((part.remaining, part.status.as_str()), (3, "open"));
    let rest = s
        .social()
        .commit(
            &org,
            item.id,
            &CommitInput {
                quantity: 3,
                note: String::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!((rest.remaining, rest.status.as_str()), (0, "committed"));
    let none_left = s
        .social()
        .commit(
            &org,
            item.id,
            &CommitInput {
                quantity: 1,
                note: String::new(),
            },
        )
        .await;
    assert!(none_left.is_err());
    let first = s.social().deliver(&org, rest.mine[0].id).await.unwrap();
    assert_eq!(first.status, "committed", "one of two delivered");
    let done = s.social().deliver(&org, rest.mine[1].id).await.unwrap();
    assert_eq!(done.status, "delivered");
    let plans = s.recipients().plans(&clerk, p.household_id).await.unwrap();
    let latest = plans.iter().max_by_key(|x| x.version).unwrap();
    assert_eq!(latest.needs[p.need_index as usize].status_label, "已落实");
    // The township's report to the charity association.
    let report = s.social().needs_report(&clerk, s.today()).await.unwrap();
    assert_eq!(report.iter().map(|r| r.delivered).sum::<i64>(), 1);
    assert!(s
        .social()
        .needs_report_xlsx(&clerk, s.today())
        .await
        .unwrap()
        .starts_with(b"PK"));
    // A clerk is no organisation.
    assert!(matches!(
        s.social().board(&clerk).await,
        Err(ServiceError::Forbidden)
    ));
    // A neighbour team of 塘桥镇 sees 塘桥镇's needs only, and cannot take 杨舍镇's.
    let admin = db.actor("admin").await;
    let team = s
        .organisations()
        .add(
            &admin,
            &jiuzhu_services::organisations::OrganisationInput {
                name: "塘桥镇邻里互助队".into(),
                kind: "mutual_aid".into(),
                region_code: "320582101".into(),
                services: "探访、代购".into(),
                contact: "周阿姨 13962200000".into(),
                active: true,
            },
        )
        .await
        .unwrap();
    let security = db.actor("security").await;
    s.users()
        .create(
            &security,
            &UserInput {
                username: "tangqiao_team".into(),
                display_name: "周美芳".into(),
                role: "organisation".into(),
                region_code: "320582".into(),
                department_code: None,
                password: "Neighbour2026x".into(),
                system_account: false,
                organisation_id: Some(team.id),
            },
        )
        .await
        .unwrap();
    let neighbour = db.actor("tangqiao_team").await;
    assert!(s
        .social()
        .board(&neighbour)
        .await
        .unwrap()
        .iter()
        .all(|n| n.id != item.id));
    db.finish().await;
}

async fn verified_hours_earn_points_and_a_correction_reverses_them(db: TestDb) {
    let db = db.with_demo(60).await;
    let s = &db.services;
    let organiser = organisation_user(&db, "organiser").await;
    let logger = organisation_user(&db, "logger").await;
    let v = s
        .social()
        .add_volunteer(
            &logger,
            &VolunteerInput {
                name: "沈晓燕".into(),
                region: "320582101".into(),
                show_on_board: true,
            },
        )
        .await
        .unwrap();
    let shy = s
        .social()
        .add_volunteer(
            &logger,
            &VolunteerInput {
                name: "钱不留名".into(),
                region: "320582101".into(),
                show_on_board: false,
            },
        )
        .await
        .unwrap();
    let log = |volunteer: i64, hours: &str| ServiceLogInput {
        volunteer_id: volunteer,
        household_id: None,
        kind: "visit".into(),
        date: Some(s.today()),
        hours: hours.into(),
        note: "探访独居老人".into(),
    };
    assert_eq!(
        field_of(
            s.social()
                .log_service(&logger, &log(v.id, "2.55"))
                .await
                .unwrap_err()
        ),
        "hours"
    );
    let a = s
        .social()
        .log_service(&logger, &log(v.id, "2.5"))
        .await
        .unwrap();
    let b = s
        .social()
        .log_service(&logger, &log(shy.id, "4"))
        .await
        .unwrap();
    let unverified = s.social().volunteers(&organiser).await.unwrap();
    assert!(
        unverified
            .iter()
            .filter(|x| x.id == v.id || x.id == shy.id)
            .all(|x| x.points == 0),
        "logged hours earn nothing"
    );
    let own = s.social().verify_service(&logger, a.id).await.unwrap_err();
    assert_eq!(field_of(own), "verified_by");
    s.social().verify_service(&organiser, a.id).await.unwrap();
    s.social().verify_service(&organiser, b.id).await.unwrap();
    let points = |list: &[jiuzhu_services::social::VolunteerView], id: i64| {
        list.iter().find(|x| x.id == id).unwrap().points
    };
    let after = s.social().volunteers(&organiser).await.unwrap();
    assert_eq!((points(&after, v.id), points(&after, shy.id)), (25, 40));
    let board = s
        .social()
        .honour_board(Some("320582101"), s.today())
        .await
        .unwrap();
    assert_eq!(board[0].name, "爱心志愿者", "40 points, name not shown");
    assert_eq!(board[1].name, "沈晓燕");
    assert!(board.iter().all(|r| r.name != "钱不留名"));
    let corrected = s
        .social()
        .correct_service(&organiser, b.id, "重复登记")
        .await
        .unwrap();
    assert_eq!(corrected.status, "corrected");
    let after = s.social().volunteers(&organiser).await.unwrap();
    assert_eq!(points(&after, shy.id), 0, "the reversal lowers them");
    let twice = s.social().correct_service(&organiser, b.id, "再次").await;
    assert!(twice.is_err());
    db.finish().await;
}

async fn projects_split_three_to_seven_within_the_cap(db: TestDb) {
    let db = db.with_demo(40).await;
    let s = &db.services;
    let admin = db.actor("admin").await;
    // Next year: the demo city has this year's funds and projects already.
    let year = chrono::Datelike::year(&s.today()) as i64 + 1;
    let project = |name: &str, fen: i64| ProjectInput {
        kind: "social_work".into(),
        name: name.into(),
        organisation_id: None,
        region: "320582100".into(),
        year: Some(year),
        target_fen: fen,
        raised_fen: 0,
    };
    let without_funds = s
        .social()
        .add_project(&admin, &project("助老服务", 10_000_000))
        .await
        .unwrap_err();
    assert_eq!(field_of(without_funds), "year");
    let funds = s
        .social()
        .set_special_funds(&admin, year, 10_000_000_000)
        .await
        .unwrap();
    assert_eq!(funds.cap.unwrap().fen(), 200_000_000);
    let funds = s
        .social()
        .add_project(&admin, &project("困境儿童关爱", 100_000_001))
        .await
        .unwrap();
    let p = funds
        .projects
        .iter()
        .find(|p| p.name == "困境儿童关爱")
        .unwrap();
    assert_eq!((p.city.fen(), p.township.fen()), (30_000_000, 70_000_001));
    assert_eq!(funds.standing.as_deref(), Some("within"));
    let funds = s
        .social()
        .add_project(&admin, &project("助残服务", 90_000_000))
        .await
        .unwrap();
    assert_eq!(
        funds.standing.as_deref(),
        Some("near"),
        "{}",
        funds.standing_label
    );
    let over = s
        .social()
        .add_project(&admin, &project("心理疏导", 10_000_000))
        .await
        .unwrap_err();
    assert_eq!(field_of(over), "target_fen");
    let county = s
        .social()
        .add_project(
            &admin,
            &ProjectInput {
                region: "320582".into(),
                ..project("全市项目", 100)
            },
        )
        .await;
    assert_eq!(field_of(county.unwrap_err()), "region");
    // A charity project counts towards nothing but its own target.
    let charity = s
        .social()
        .add_project(
            &admin,
            &ProjectInput {
                kind: "charity".into(),
                region: "320582".into(),
                raised_fen: 1_234_500,
                ..project("99公益日·助学", 5_000_000)
            },
        )
        .await
        .unwrap();
    let c = charity
        .projects
        .iter()
        .find(|p| p.kind == "charity")
        .unwrap();
    assert_eq!(c.raised_percent, Some(24));
    assert_eq!(charity.spent.fen(), 190_000_001);
    db.finish().await;
}

async fn new_citizens_are_covered_after_six_months(db: TestDb) {
    let db = db.with_demo(40).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let page = s
        .people()
        .search(&clerk, &Default::default())
        .await
        .unwrap();
    let person = &page.items[0];
    let mut tx = s.store.begin_read().await.unwrap();
    let number = tx.identity_numbers(&[person.id]).await.unwrap()[0]
        .1
        .clone();
    drop(tx);
    let today = s.today();
    let input = PermitInput {
        id_number: number.clone(),
        issued_on: today.checked_sub_months(chrono::Months::new(13)),
        resident_since: today.checked_sub_months(chrono::Months::new(7)),
        working: true,
    };
    let list = s.people().record_permit(&clerk, &input).await.unwrap();
    let row = list.rows.iter().find(|r| r.person_id == person.id).unwrap();
    assert!(row.temporary_covered);
    assert_eq!(row.insurance_eligible, (16..=60).contains(&row.age));
    let recent = PermitInput {
        resident_since: today.checked_sub_months(chrono::Months::new(5)),
        issued_on: today.checked_sub_months(chrono::Months::new(5)),
        ..input.clone()
    };
    let list = s.people().record_permit(&clerk, &recent).await.unwrap();
    let row = list.rows.iter().find(|r| r.person_id == person.id).unwrap();
    assert!(!row.temporary_covered && !row.insurance_eligible);
    let list = s
        .people()
        .add_permit_points(&clerk, person.id, 20, "参加社区志愿服务")
        .await
        .unwrap();
    assert_eq!(
        list.rows
            .iter()
            .find(|r| r.person_id == person.id)
            .unwrap()
            .points,
        20
    );
    let clerk2 = db.actor("clerk2").await;
    assert!(
        s.people().record_permit(&clerk2, &input).await.is_err(),
        "another township"
    );
    db.finish().await;
}

stories!(
    an_online_application_lands_in_its_townships_queue,
    a_need_is_published_without_identity_and_closed_by_its_delivery,
    verified_hours_earn_points_and_a_correction_reverses_them,
    projects_split_three_to_seven_within_the_cap,
    new_citizens_are_covered_after_six_months,
    a_refusal_on_the_status_page_names_the_rule,
);

async fn a_refusal_on_the_status_page_names_the_rule(db: TestDb) {
    use jiuzhu_services::cases::{ReasonedItem, RegistrationInput};
    use jiuzhu_services::households::IncomeInput;
    let db = db.with_demo(40).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let village = s
        .regions()
        .list(&clerk)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.level == "village")
        .unwrap()
        .code;
    let number = id(1975, 8, 8, 915);
    let receipt = s
        .cases()
        .apply_online(
            "10.3.3.3",
            &OnlineApplication {
                id_number: number.clone(),
                name: "邵建伟".into(),
                phone: "13800001111".into(),
                village,
                address: "南环路9号".into(),
                hardship: "工厂减产，想问问能不能申请低保".into(),
                causes: vec!["unemployment".into()],
                items: vec!["dibao".into()],
                members: vec![],
                consent: true,
            },
        )
        .await
        .unwrap();
    let case_id = jiuzhu_services::cases::case_of_application_no(&receipt.application_no).unwrap();
    let case = s.cases().get(&clerk, case_id).await.unwrap();
    s.households()
        .record_income(
            &clerk,
            case.household_id,
            &IncomeInput {
                person_id: case.applicant_person_id,
                kind: "wage".into(),
                monthly: jiuzhu_domain::Money::from_fen(900_000),
                since: None,
            },
        )
        .await
        .unwrap();
    s.policy()
        .evaluate_case(&clerk, case_id, true)
        .await
        .unwrap();
    s.cases()
        .register(
            &clerk,
            case_id,
            &RegistrationInput {
                refuse: vec![ReasonedItem {
                    item: "dibao".into(),
                    reason: "家庭人均月收入9,000.00元，高于本市低保标准".into(),
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let status = s
        .cases()
        .public_status(&receipt.application_no, &number[14..])
        .await
        .unwrap();
    let progress = &status.items[0].progress;
    assert!(
        progress.starts_with("不符合申请条件：家庭人均月收入"),
        "{progress}"
    );
    assert!(
        progress.contains("不符合的条件：") && progress.contains("依据："),
        "{progress}"
    );
    db.finish().await;
}
