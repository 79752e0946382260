//! After the decision: a grant enrols the household, the county confirms after the township's
//! review, the register lists it, reviews adjust it or leave it, a death ends a member's part,
//! a gradual exit ends it; plans and visits. On SQLite and PostgreSQL.

mod common;

use chrono::{Datelike, Months, NaiveDate, TimeZone, Utc};
use common::TestDb;
use jiuzhu_domain::enrolment::{EnrolmentChange, ExitCause};
use jiuzhu_domain::{IdNumber, RegionCode};
use jiuzhu_services::cases::{ApplicationInput, DepartmentStep, RegistrationInput};
use jiuzhu_services::households::HouseholdInput;
use jiuzhu_services::people::PersonInput;
use jiuzhu_services::policy::NewValueInput;
use jiuzhu_services::recipients::{
    ChangeInput, DecisionInput, Measure, Need, PlanInput, RegisterQuery, ReviewDecision, VisitInput,
};
use jiuzhu_services::{Actor, ServiceError};

fn person(id: &str, name: &str, village: &str) -> PersonInput {
    PersonInput {
        id_number: id.into(),
        name: name.into(),
        hukou_region: village.into(),
        residence_region: village.into(),
        residence_since: NaiveDate::from_ymd_opt(2001, 5, 1),
        phone: None,
        disability_grade: None,
        disability_kind: None,
        serious_illness: None,
        labour_capacity: "partial".into(),
        self_care: "full".into(),
        residence_permit: false,
    }
}

fn id_of(y: i32, m: u32, d: u32, seq: u16) -> String {
    IdNumber::from_parts("320582", NaiveDate::from_ymd_opt(y, m, d).unwrap(), seq)
        .unwrap()
        .expose()
        .to_string()
}

fn field<T: std::fmt::Debug>(r: Result<T, ServiceError>) -> (String, String) {
    match r {
        Err(ServiceError::Invalid { field, message }) => (field, message),
        other => panic!("expected a refusal with a field, got {other:?}"),
    }
}

/// A household of two without income in a village of 杨舍镇; returns (household, head, wife).
async fn household(db: &TestDb, seq: u16) -> (i64, i64, i64, String) {
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
    let head = s
        .people()
        .create(&clerk, &person(&id_of(1968, 3, 3, seq), "严国富", &village))
        .await
        .unwrap();
    let wife = s
        .people()
        .create(
            &clerk,
            &person(&id_of(1970, 5, 5, seq + 1), "蔡秀珍", &village),
        )
        .await
        .unwrap();
    let h = s
        .households()
        .create(
            &clerk,
            &HouseholdInput {
                region_code: village.clone(),
                address: "东莱村3组12号".into(),
                head_person_id: head.id,
                from_date: NaiveDate::from_ymd_opt(1992, 1, 1),
            },
        )
        .await
        .unwrap();
    s.households()
        .add_member(
            &clerk,
            h.household.id,
            &jiuzhu_services::households::MemberInput {
                person_id: wife.id,
                relation: "spouse".into(),
                from_date: NaiveDate::from_ymd_opt(1992, 1, 1),
            },
        )
        .await
        .unwrap();
    (h.household.id, head.id, wife.id, village)
}

/// Files a 低保 application for the head, takes it through the window and the civil-affairs
/// bureau, verifies and evaluates it; returns the case and the evaluated monthly amount.
async fn apply(db: &TestDb, head: i64, key: &str) -> (i64, i64) {
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let civil = db.actor("liaison3").await;
    let case = s
        .cases()
        .file(
            &clerk,
            &ApplicationInput {
                applicant_person_id: head,
                channel: "window".into(),
                hardship: "夫妻二人均体弱多病，无固定收入".into(),
                causes: vec!["illness".into()],
                items: vec!["dibao".into()],
                received_at: None,
                idempotency_key: key.into(),
            },
        )
        .await
        .unwrap();
    s.cases()
        .register(
            &clerk,
            case.id,
            &RegistrationInput {
                accept: vec!["dibao".into()],
                transfer: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let receive: DepartmentStep =
        serde_json::from_value(serde_json::json!({"action": "receive", "item": "dibao"})).unwrap();
    s.cases()
        .department_step(&civil, case.id, &receive)
        .await
        .unwrap();
    let check: DepartmentStep = serde_json::from_value(
        serde_json::json!({"action": "initial_check", "item": "dibao", "note": "初核符合"}),
    )
    .unwrap();
    s.cases()
        .department_step(&civil, case.id, &check)
        .await
        .unwrap();
    s.verification().verify_case(&clerk, case.id).await.unwrap();
    let evaluation = s
        .policy()
        .evaluate_case(&clerk, case.id, true)
        .await
        .unwrap();
    let dibao = evaluation
        .decisions
        .iter()
        .find(|d| d.program.code() == "dibao")
        .unwrap();
    assert!(dibao.eligible, "{dibao:?}");
    (case.id, dibao.amount_fen)
}

async fn grant(db: &TestDb, case: i64, amount_fen: i64) -> Result<(), ServiceError> {
    let step: DepartmentStep = serde_json::from_value(serde_json::json!({
        "action": "complete", "item": "dibao", "outcome": "granted",
        "amount_fen": amount_fen, "monthly": true, "note": "经审核符合低保条件"}))
    .unwrap();
    let civil = db.actor("liaison3").await;
    db.services
        .cases()
        .department_step(&civil, case, &step)
        .await
        .map(|_| ())
}

fn month(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

fn first_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap()
}

fn set_day(db: &TestDb, d: NaiveDate) {
    db.services.set_clock(Some(
        Utc.from_utc_datetime(&d.and_hms_opt(2, 0, 0).unwrap()),
    ));
}

async fn register_amount(db: &TestDb, who: &Actor, m: NaiveDate, household: i64) -> Option<i64> {
    db.services
        .recipients()
        .register(
            who,
            &RegisterQuery {
                month: Some(month(m)),
                program: Some("dibao".into()),
                q: Some("严国富".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .rows
        .iter()
        .find(|r| r.household_id == household)
        .map(|r| r.amount_fen)
}

async fn a_grant_enrols_and_reviews_keep_the_household_right(db: TestDb) {
    let db = db.with_demo(40).await;
    let s = &db.services;
    let r = s.recipients();
    let (clerk, clerk2, reviewer, reviewer2, approver, admin) = (
        db.actor("clerk").await,
        db.actor("clerk2").await,
        db.actor("reviewer").await,
        db.actor("reviewer2").await,
        db.actor("approver").await,
        db.actor("admin").await,
    );
    let today = s.today();
    let (hid, head, wife, village) = household(&db, 501).await;
    let (case, evaluated) = apply(&db, head, "recipients-a").await;
    // The bureau grants 300 yuan more than the rules give: the review will find it.
    grant(&db, case, evaluated + 30_000).await.unwrap();

    // 审核 by the township, 确认 by the county bureau; in that order, by different people.
    let waiting = r.awaiting(&reviewer).await.unwrap();
    let e = waiting
        .iter()
        .find(|e| e.household_id == hid)
        .expect("the grant waits for review");
    let id = e.id;
    assert_eq!(
        (e.stage.as_str(), e.program.as_str()),
        ("pending_review", "dibao")
    );
    assert_eq!(e.case_id, Some(case));
    assert!(e.report_id.is_some() && e.evaluation_id.is_some());
    assert_eq!(e.granted_by, "张建华");
    let approve = DecisionInput {
        approve: true,
        note: "入户调查属实".into(),
    };
    let (f, _) = field(r.decide(&approver, id, &approve).await);
    assert_eq!(f, "stage");
    let v = r.decide(&reviewer, id, &approve).await.unwrap();
    assert_eq!(v.stage_label, "待确认");
    assert_eq!(v.reviewed_by.as_deref(), Some("沈志明"));
    let (_, why) = field(r.decide(&reviewer, id, &approve).await);
    assert!(why.contains("民政局审批员"), "{why}");
    let v = r.decide(&approver, id, &approve).await.unwrap();
    let first = first_of(today).checked_add_months(Months::new(1)).unwrap();
    assert_eq!(
        (v.stage.as_str(), v.first_month.clone()),
        ("confirmed", month(first))
    );
    assert_eq!(v.confirmed_by.as_deref(), Some("黄国平"));
    // Stable household, nobody able to work: reviewed yearly.
    let due = first.checked_add_months(Months::new(12)).unwrap();
    assert_eq!(v.next_review, Some(due));
    // Confirming twice (a double click) changes nothing.
    assert!(matches!(
        r.decide(&approver, id, &approve).await,
        Err(ServiceError::Conflict { .. })
    ));

    // The register: from the first month, not before; not in another township.
    assert_eq!(register_amount(&db, &clerk, today, hid).await, None);
    assert_eq!(
        register_amount(&db, &clerk, first, hid).await,
        Some(evaluated + 30_000)
    );
    assert_eq!(register_amount(&db, &clerk2, first, hid).await, None);
    assert!(matches!(
        r.enrolment(&clerk2, id).await,
        Err(ServiceError::NotFound)
    ));
    let xlsx = r
        .register_xlsx(
            &clerk,
            &RegisterQuery {
                month: Some(month(first)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(&xlsx[..2], b"PK");

    // A second enrolment in the same program is refused, and the grant with it.
    let (second, _) = apply(&db, head, "recipients-a2").await;
    assert!(matches!(
        grant(&db, second, evaluated).await,
        Err(ServiceError::Conflict { .. })
    ));
    let mut tx = s.store.begin_read().await.unwrap();
    assert_eq!(tx.enrolments_of_household(hid).await.unwrap().len(), 1);
    drop(tx);

    // Changes dated before the enrolment, or without a reason, are refused with the field.
    let early = ChangeInput {
        month: month(today),
        change: EnrolmentChange::Suspended,
        reason: "外出务工".into(),
    };
    assert_eq!(field(r.change(&reviewer, id, &early).await).0, "month");
    let no_reason = ChangeInput {
        month: month(first),
        change: EnrolmentChange::Ended {
            cause: ExitCause::AskedToLeave,
        },
        reason: " ".into(),
    };
    assert_eq!(field(r.change(&reviewer, id, &no_reason).await).0, "reason");
    // A clerk records no change herself.
    assert!(matches!(
        r.change(&clerk, id, &early).await,
        Err(ServiceError::Forbidden)
    ));

    // The yearly review falls due; the clerk reviews, the reviewer confirms the adjustment.
    set_day(&db, due.with_day(10).unwrap());
    let list = r.reviews_due(&clerk, due).await.unwrap();
    assert!(list.iter().any(|d| d.enrolment_id == id), "{list:?}");
    let batch = r.review(&clerk, &[id]).await.unwrap();
    assert_eq!(batch.reviewed, 1);
    let proposal = r
        .proposals(&reviewer)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.enrolment_id == id)
        .unwrap();
    assert_eq!(proposal.outcome_label, "调整救助金额");
    assert_eq!(proposal.evaluated_fen, Some(evaluated));
    assert!(
        proposal.change.contains("月救助金调整为"),
        "{}",
        proposal.change
    );
    // Reviewing again while one waits proposes nothing new.
    assert_eq!(r.review(&clerk, &[id]).await.unwrap().reviewed, 0);
    let confirm = ReviewDecision {
        confirm: true,
        note: String::new(),
    };
    assert!(matches!(
        r.decide_review(&clerk, proposal.id, &confirm).await,
        Err(ServiceError::Forbidden)
    ));
    r.decide_review(&reviewer, proposal.id, &confirm)
        .await
        .unwrap();
    let after = due.checked_add_months(Months::new(1)).unwrap();
    assert_eq!(
        register_amount(&db, &clerk, due, hid).await,
        Some(evaluated + 30_000)
    );
    assert_eq!(
        register_amount(&db, &clerk, after, hid).await,
        Some(evaluated)
    );
    let v = r.enrolment(&clerk, id).await.unwrap();
    let next = after.checked_add_months(Months::new(12)).unwrap();
    assert_eq!(v.next_review, Some(next));

    // The next review finds no marked change: the level stays; the proposer cannot confirm.
    set_day(&db, next.with_day(3).unwrap());
    r.review(&reviewer, &[id]).await.unwrap();
    let p = r.reviews_of(&clerk, id).await.unwrap().pop().unwrap();
    assert_eq!(p.outcome_label, "无明显变化，维持原保障");
    assert!(
        p.basis.iter().any(|l| l.contains("没有明显变化")),
        "{:?}",
        p.basis
    );
    let (f, _) = field(r.decide_review(&reviewer, p.id, &confirm).await);
    assert_eq!(f, "decided_by");
    r.decide_review(&reviewer2, p.id, &confirm).await.unwrap();
    assert_eq!(
        register_amount(
            &db,
            &clerk,
            next.checked_add_months(Months::new(1)).unwrap(),
            hid
        )
        .await,
        Some(evaluated)
    );

    // The wife's death in the public-security file ends her part from the month after.
    let death_month = next.checked_add_months(Months::new(1)).unwrap();
    let csv = format!(
        "身份证号,姓名,死亡日期\n{},蔡秀珍,{}\n",
        id_of(1970, 5, 5, 502),
        death_month.with_day(6).unwrap()
    );
    set_day(&db, death_month.checked_add_months(Months::new(1)).unwrap());
    // The file itself asks the township: a review is proposed as it is imported.
    let imported = s
        .feeds()
        .import_bytes(&admin, "death", "死亡登记.csv", csv.as_bytes())
        .await
        .unwrap();
    assert_eq!(imported.deaths_proposed, 1);
    assert_eq!(r.review(&clerk, &[id]).await.unwrap().reviewed, 0);
    let p = r.reviews_of(&clerk, id).await.unwrap().pop().unwrap();
    assert_eq!(p.outcome_label, "减少保障人口", "{:?}", p.basis);
    r.decide_review(&reviewer, p.id, &confirm).await.unwrap();
    let v = r.enrolment(&clerk, id).await.unwrap();
    let covered: Vec<i64> = v.members.iter().map(|m| m.person_id).collect();
    assert_eq!(covered, vec![head]);
    assert!(!covered.contains(&wife));

    // A gradual exit of six months: paid through the sixth, gone in the seventh.
    let exit_from = first_of(s.today())
        .checked_add_months(Months::new(1))
        .unwrap();
    r.change(
        &reviewer,
        id,
        &ChangeInput {
            month: month(exit_from),
            change: EnrolmentChange::GradualExit { months: 6 },
            reason: "儿子返乡就业，家庭人均收入超过低保标准".into(),
        },
    )
    .await
    .unwrap();
    let sixth = exit_from.checked_add_months(Months::new(5)).unwrap();
    let seventh = exit_from.checked_add_months(Months::new(6)).unwrap();
    assert!(register_amount(&db, &clerk, sixth, hid).await.is_some());
    assert_eq!(register_amount(&db, &clerk, seventh, hid).await, None);
    // History is never rewritten: the first month still shows what was paid then.
    assert_eq!(
        register_amount(&db, &clerk, first, hid).await,
        Some(evaluated + 30_000)
    );

    // The household file gathers it all.
    let file = r.household_file(&clerk, hid).await.unwrap();
    assert_eq!(file.cases.len(), 2);
    let enrolment = &file.enrolments[0];
    assert_eq!(enrolment.reviews.len(), 3);
    let kinds: Vec<&str> = enrolment
        .enrolment
        .changes
        .iter()
        .map(|c| c.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        ["enrolled", "adjusted", "member_removed", "gradual_exit"]
    );
    let _ = village;
    s.set_clock(None);
    db.finish().await;
}

async fn where_the_township_confirms_the_reviewer_does_not(db: TestDb) {
    let db = db.with_demo(20).await;
    let s = &db.services;
    let r = s.recipients();
    let (reviewer, reviewer2, admin) = (
        db.actor("reviewer").await,
        db.actor("reviewer2").await,
        db.actor("admin").await,
    );
    let (hid, head, _, village) = household(&db, 601).await;
    let jurisdiction = s
        .policy()
        .jurisdiction_of(&RegionCode::parse(&village).unwrap())
        .unwrap();
    s.policy()
        .add_value(
            &admin,
            &NewValueInput {
                jurisdiction,
                name: "approval.delegated".into(),
                from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
                value: serde_json::json!(1),
                source: "张政发〔2020〕8号 审核确认权限下放".into(),
            },
        )
        .await
        .unwrap();
    let (case, amount) = apply(&db, head, "recipients-b").await;
    grant(&db, case, amount).await.unwrap();
    let id = r
        .awaiting(&reviewer)
        .await
        .unwrap()
        .iter()
        .find(|e| e.household_id == hid)
        .unwrap()
        .id;
    let yes = DecisionInput {
        approve: true,
        note: String::new(),
    };
    r.decide(&reviewer, id, &yes).await.unwrap();
    let (f, why) = field(r.decide(&reviewer, id, &yes).await);
    assert_eq!(f, "confirmed_by", "{why}");
    let v = r.decide(&reviewer2, id, &yes).await.unwrap();
    assert_eq!(v.stage, "confirmed");
    db.finish().await;
}

async fn plans_need_a_measure_or_a_reason_and_visits_fall_due(db: TestDb) {
    let db = db.with_demo(20).await;
    let s = &db.services;
    let r = s.recipients();
    let (clerk, assistant, reviewer) = (
        db.actor("clerk").await,
        db.actor("assistant").await,
        db.actor("reviewer").await,
    );
    let (hid, _, _, _) = household(&db, 701).await;
    let plan = PlanInput {
        causes: vec!["illness".into(), "lack_of_labour".into()],
        needs: vec![
            Need {
                need: "丈夫慢性肾病长期用药".into(),
                measure: Some(Measure {
                    by: "医保局".into(),
                    what: "申请门诊慢特病医疗救助".into(),
                    due_days: 10,
                    status: String::new(),
                }),
                no_measure_reason: String::new(),
            },
            Need {
                need: "房屋漏雨".into(),
                measure: None,
                no_measure_reason: String::new(),
            },
        ],
        changes: String::new(),
    };
    let v1 = r.save_plan(&clerk, hid, &plan).await.unwrap();
    assert_eq!((v1.version, v1.status_label.as_str()), (1, "草稿"));
    assert_eq!(v1.causes, ["因病", "缺劳动力"]);
    assert!(v1.needs[0].due.is_some());
    let (f, why) = field(r.approve_plan(&reviewer, v1.id).await);
    assert_eq!(f, "needs[1]");
    assert!(why.contains("房屋漏雨"), "{why}");
    // A second version without saying what changed is refused; with it, approved.
    let mut answered = plan.clone();
    answered.needs[1].no_measure_reason = "房屋为租住公房，已转住建局排查".into();
    assert_eq!(
        field(r.save_plan(&clerk, hid, &answered).await).0,
        "changes"
    );
    answered.changes = "补充房屋漏雨无法直接帮扶的原因".into();
    let v2 = r.save_plan(&clerk, hid, &answered).await.unwrap();
    assert_eq!(v2.version, 2);
    let approved = r.approve_plan(&reviewer, v2.id).await.unwrap();
    assert_eq!(approved.status_label, "已审定");
    assert_eq!(r.plans(&clerk, hid).await.unwrap().len(), 2);
    let (f, _) = field(
        r.save_plan(
            &clerk,
            hid,
            &PlanInput {
                causes: vec!["bad_luck".into()],
                ..answered.clone()
            },
        )
        .await,
    );
    assert_eq!(f, "causes");

    // Visits: none in the future; the village assistant's visit is recorded under her name.
    let tomorrow = s.today().succ_opt().unwrap();
    let future = VisitInput {
        date: Some(tomorrow),
        findings: "家中无人".into(),
        follow_up: String::new(),
    };
    assert_eq!(field(r.record_visit(&clerk, hid, &future).await).0, "date");
    let visit = VisitInput {
        date: Some(s.today()),
        findings: "丈夫卧床，妻子照料，生活困难属实".into(),
        follow_up: "下月复诊后再访".into(),
    };
    let v = r.record_visit(&clerk, hid, &visit).await.unwrap();
    assert_eq!(v.visitor, "陈丽华");
    // The assistant of another village does not reach this household... unless it is hers.
    let mine = r.visits(&clerk, hid).await.unwrap();
    assert_eq!(mine.len(), 1);
    let _ = assistant;
    db.finish().await;
}

stories!(
    a_grant_enrols_and_reviews_keep_the_household_right,
    where_the_township_confirms_the_reviewer_does_not,
    plans_need_a_measure_or_a_reason_and_visits_fall_due,
);
