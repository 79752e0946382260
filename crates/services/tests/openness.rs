//! Openness and supervision: a village's notice with masked names and no identity number, taken
//! down after its period; an objection holding the confirmation until a democratic appraisal
//! answers it; a complaint kept by its first receiver until a transfer is accepted, escalated
//! when late and hidden from the unit of the staff member it names; the same seed drawing the
//! same inspection sample; the month's statistics equal to the register. On SQLite and
//! PostgreSQL.

mod common;

use chrono::Duration;
use common::TestDb;
use jiuzhu_domain::openness::{mask_name, NameMask};
use jiuzhu_services::openness::{
    AnswerInput, ComplaintInput, ComplaintStep, InspectionInput, InspectionResultInput,
    NoticeInput, ObjectionInput,
};
use jiuzhu_services::recipients::{DecisionInput, EnrolInput, RegisterQuery};
use jiuzhu_services::{Actor, ServiceError};

/// A household of 杨舍镇 in no enrolment: (id, village code, head's name, head's id number).
async fn outsider(db: &TestDb) -> (i64, String, String, String) {
    let clerk = db.actor("clerk").await;
    let mut tx = db.services.store.begin_read().await.unwrap();
    let enrolled: Vec<i64> = tx
        .enrolments_in("320582100", None)
        .await
        .unwrap()
        .iter()
        .map(|e| e.household_id)
        .collect();
    drop(tx);
    let page = db
        .services
        .households()
        .search(&clerk, &Default::default())
        .await
        .unwrap();
    let h = page
        .items
        .iter()
        .find(|h| !enrolled.contains(&h.id))
        .expect("a household in no enrolment");
    let mut tx = db.services.store.begin_read().await.unwrap();
    let record = tx.get_household(h.id, "").await.unwrap().unwrap();
    let head = record
        .members
        .iter()
        .find(|m| m.person_id == record.head_person_id)
        .unwrap();
    let id = tx.identity_numbers(&[head.person_id]).await.unwrap()[0]
        .1
        .clone();
    (h.id, record.region_code.clone(), head.name.clone(), id)
}

async fn enrol_and_review(db: &TestDb, household: i64) -> i64 {
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let reviewer = db.actor("reviewer").await;
    let month = s.today().format("%Y-%m").to_string();
    let e = s
        .recipients()
        .enrol(
            &clerk,
            &EnrolInput {
                household_id: household,
                program: "dibao".into(),
                person_id: None,
                amount_fen: 82_000,
                first_month: month,
                note: "经入户调查和家庭经济状况核对，符合低保条件".into(),
            },
        )
        .await
        .unwrap();
    s.recipients()
        .decide(
            &reviewer,
            e.id,
            &DecisionInput {
                approve: true,
                note: "审核同意".into(),
            },
        )
        .await
        .unwrap();
    e.id
}

fn conflict_message(e: ServiceError) -> String {
    match e {
        ServiceError::Conflict { message, .. } => message,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn field_of(e: ServiceError) -> String {
    match e {
        ServiceError::Invalid { field, .. } => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

async fn a_notice_masks_names_and_an_objection_holds_the_confirmation(db: TestDb) {
    let db = db.with_demo(300).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let approver = db.actor("approver").await;
    let (household, village, head, id_number) = outsider(&db).await;
    let enrolment = enrol_and_review(&db, household).await;
    let today = s.today();

    let input = NoticeInput {
        program: "dibao".into(),
        region: village.clone(),
        from: today.to_string(),
        to: today.to_string(),
        contact: "电话0512-58681234；杨舍镇人民政府社会事务办（人民中路88号）".into(),
    };
    let notice = s.openness().publish(&clerk, &input).await.unwrap();
    assert_eq!(
        notice.ends_on,
        today + Duration::days(6),
        "7 days by default"
    );
    let entry = notice
        .entries
        .iter()
        .find(|e| e.enrolment_id == Some(enrolment))
        .expect("the reviewed enrolment is on the notice");
    assert_eq!(entry.name, mask_name(&head, NameMask::KeepLast));
    assert_ne!(entry.name, head);
    assert_eq!(entry.kind_label, "拟纳入");
    assert_eq!(entry.amount.fen(), 82_000);
    assert!(!entry.place.is_empty() && !entry.place.contains(' '));
    // The same decisions are published once per region.
    let again = s.openness().publish(&clerk, &input).await.unwrap_err();
    assert_eq!(field_of(again), "from");

    // What the public sees: no identity number, no full name, no enrolment.
    let public = s.openness().public_notice(notice.id).await.unwrap();
    let text = serde_json::to_string(&public).unwrap();
    assert!(common::identity_numbers_in(&text).is_empty(), "{text}");
    assert!(!text.contains(&id_number) && !text.contains(&head));
    assert!(public.entries.iter().all(|e| e.enrolment_id.is_none()));
    let listed = s
        .openness()
        .public_notices(Some(&village[..9]))
        .await
        .unwrap();
    assert!(listed.iter().any(|n| n.id == notice.id));
    assert!(common::identity_numbers_in(&serde_json::to_string(&listed).unwrap()).is_empty());

    // A member of the public objects; the confirmation waits for the answer.
    let public_entry = public.entries.iter().find(|e| e.id == entry.id).unwrap().id;
    let too_long = ObjectionInput {
        entry_id: public_entry,
        content: "很".repeat(2001),
        ..Default::default()
    };
    assert_eq!(
        field_of(
            s.openness()
                .object("10.0.0.9", notice.id, &too_long)
                .await
                .unwrap_err()
        ),
        "content"
    );
    let (number, code) = s
        .openness()
        .object(
            "10.0.0.9",
            notice.id,
            &ObjectionInput {
                entry_id: public_entry,
                content: "该户儿子在城里经营饭店，家里有小汽车，不应享受低保".into(),
                contact: "13912345678".into(),
                channel: String::new(),
            },
        )
        .await
        .unwrap();
    let held = s
        .recipients()
        .decide(
            &approver,
            enrolment,
            &DecisionInput {
                approve: true,
                note: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert!(conflict_message(held).contains(&number));
    let status = s
        .openness()
        .objection_status("10.0.0.9", &number, &code)
        .await
        .unwrap();
    assert_eq!(status.status_label, "待核实");
    assert!(matches!(
        s.openness()
            .objection_status("10.0.0.9", &number, "000000x")
            .await,
        Err(ServiceError::NotFound)
    ));

    // The township answers with a democratic appraisal.
    let objections = s.openness().objections(&clerk).await.unwrap();
    let o = objections.iter().find(|o| o.number == number).unwrap();
    assert_eq!(o.status_label, "待核实");
    let mut answer = AnswerInput {
        method: "appraisal".into(),
        date: Some(today),
        findings: "经民主评议，该户儿子已分户另居，车辆登记在儿子名下，不计入本户".into(),
        participants: "村两委成员5人、村民代表4人".into(),
        votes_for: None,
        votes_against: Some(2),
        votes_abstain: Some(0),
        upheld: false,
        reply: "经民主评议，所反映情况不影响该户低保资格，维持审核意见".into(),
    };
    let missing = s
        .openness()
        .answer_objection(&clerk, o.id, &answer)
        .await
        .unwrap_err();
    assert_eq!(field_of(missing), "votes_for");
    answer.votes_for = Some(7);
    let answered = s
        .openness()
        .answer_objection(&clerk, o.id, &answer)
        .await
        .unwrap();
    assert_eq!(answered.status_label, "已答复");
    assert_eq!(answered.method_label.as_deref(), Some("民主评议"));
    assert_eq!(answered.votes_for, Some(7));
    assert_eq!(answered.contact.as_deref(), Some("13912345678"));
    let twice = s.openness().answer_objection(&clerk, o.id, &answer).await;
    assert!(matches!(twice, Err(ServiceError::Conflict { .. })));
    let status = s
        .openness()
        .objection_status("10.0.0.9", &number, &code)
        .await
        .unwrap();
    assert_eq!(status.upheld, Some(false));
    assert!(status.reply.unwrap().contains("维持审核意见"));

    let confirmed = s
        .recipients()
        .decide(
            &approver,
            enrolment,
            &DecisionInput {
                approve: true,
                note: String::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(confirmed.stage, "confirmed");

    // Another township's clerk sees neither the notice nor the objection.
    let clerk2 = db.actor("clerk2").await;
    assert!(matches!(
        s.openness().notice(&clerk2, notice.id).await,
        Err(ServiceError::NotFound)
    ));
    assert!(s
        .openness()
        .objections(&clerk2)
        .await
        .unwrap()
        .iter()
        .all(|o| o.number != number));

    // Up for seven days, then taken down.
    let now = s.now();
    s.set_clock(Some(now + Duration::days(6)));
    assert!(s.openness().public_notice(notice.id).await.is_ok());
    s.set_clock(Some(now + Duration::days(7)));
    assert!(matches!(
        s.openness().public_notice(notice.id).await,
        Err(ServiceError::NotFound)
    ));
    assert!(s
        .openness()
        .public_notices(None)
        .await
        .unwrap()
        .iter()
        .all(|n| n.id != notice.id));
    let late = s
        .openness()
        .object(
            "10.0.0.9",
            notice.id,
            &ObjectionInput {
                entry_id: public_entry,
                content: "再提异议".into(),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(late, Err(ServiceError::NotFound)));
    s.set_clock(None);
    db.finish().await;
}

async fn a_complaint_stays_with_its_first_receiver_until_accepted(db: TestDb) {
    let db = db.with_demo(200).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let clerk2 = db.actor("clerk2").await;
    let liaison = db.actor("liaison").await;
    let supervisor = db.actor("supervisor").await;
    let o = s.openness();

    let input = ComplaintInput {
        category: "payments".into(),
        channel: "hotline".into(),
        region: "320582100".into(),
        content: "12345转来：反映本月医疗救助款未到账".into(),
        name: "王先生".into(),
        contact: "13812345678".into(),
        ..Default::default()
    };
    let c = o.record_complaint(&clerk, &input).await.unwrap();
    assert_eq!(c.owner, "杨舍镇");
    assert!(c.may_handle);
    assert!(c.number.starts_with("TS"));
    assert_eq!(c.contact.as_deref(), Some("王先生 13812345678"));

    // Offered to 塘桥镇, then redirected to 医疗保障局: still 杨舍镇's until accepted.
    let to_tangqiao = o
        .step(
            &clerk,
            c.id,
            &ComplaintStep::Transfer {
                unit: clerk2.scope().to_string(),
                note: "款项由塘桥镇发放".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(to_tangqiao.owner, "杨舍镇");
    assert_eq!(to_tangqiao.status_label, "转办待接收");
    assert!(o
        .complaints(&clerk2)
        .await
        .unwrap()
        .iter()
        .any(|x| x.id == c.id && x.may_accept));
    let redirected = o
        .step(
            &clerk,
            c.id,
            &ComplaintStep::Transfer {
                unit: "dept:medical_insurance".into(),
                note: "医疗救助款由医保部门发放".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(redirected.owner, "杨舍镇");
    assert_eq!(redirected.offered_to.as_deref(), Some("医疗保障局"));
    assert!(o
        .complaints(&clerk2)
        .await
        .unwrap()
        .iter()
        .all(|x| x.id != c.id));
    let not_offered = o
        .step(
            &clerk2,
            c.id,
            &ComplaintStep::Accept {
                note: String::new(),
            },
        )
        .await;
    assert!(matches!(not_offered, Err(ServiceError::NotFound)));
    // The one offered cannot answer before accepting.
    let early = o
        .step(
            &liaison,
            c.id,
            &ComplaintStep::Answer {
                finding: "founded".into(),
                reply: "已补发".into(),
                recover_fen: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(early), "step");
    let accepted = o
        .step(
            &liaison,
            c.id,
            &ComplaintStep::Accept {
                note: "由医保局办理".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(accepted.owner, "医疗保障局");
    assert!(accepted.may_handle);
    assert!(o
        .complaints(&clerk)
        .await
        .unwrap()
        .iter()
        .all(|x| x.id != c.id));

    // Late: it goes up to the supervisor.
    let due = accepted.due;
    s.set_clock(Some(s.now() + Duration::days(40)));
    let watched = o.complaints(&supervisor).await.unwrap();
    let late = watched.iter().find(|x| x.id == c.id).unwrap();
    assert!(late.escalated, "unanswered after {due}");
    let answered = o
        .step(
            &liaison,
            c.id,
            &ComplaintStep::Answer {
                finding: "founded".into(),
                reply: "经核查，因银行账户冻结未到账，已更正账户并补发".into(),
                recover_fen: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(answered.status_label, "已答复");
    assert!(!answered.escalated);
    s.set_clock(None);

    // A complaint naming 陈丽华 (杨舍镇) from the public page goes to the county bureau and is
    // invisible to 杨舍镇.
    let named = o
        .complain(
            "10.0.0.7",
            &ComplaintInput {
                category: "staff_conduct".into(),
                region: "320582100".into(),
                content: "窗口工作人员态度生硬，推诿不受理".into(),
                anonymous: true,
                name: "不应保存".into(),
                about: "陈丽华".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(o
        .complaints(&clerk)
        .await
        .unwrap()
        .iter()
        .all(|x| x.number != named.number));
    let reviewer = db.actor("reviewer").await;
    assert!(o
        .complaints(&reviewer)
        .await
        .unwrap()
        .iter()
        .all(|x| x.number != named.number));
    let seen = o.complaints(&supervisor).await.unwrap();
    let x = seen.iter().find(|x| x.number == named.number).unwrap();
    assert!(x.owner.ends_with("民政局"), "{}", x.owner);
    assert_eq!(x.about.as_deref(), Some("陈丽华"));
    let full = o.complaint(&supervisor, x.id).await.unwrap();
    assert_eq!(full.contact, None, "anonymous: nothing kept");
    assert!(matches!(
        o.complaint(&clerk, x.id).await,
        Err(ServiceError::NotFound)
    ));
    let status = o
        .complaint_status("10.0.0.7", &named.number, &named.code)
        .await
        .unwrap();
    assert_eq!(status.status_label, "办理中");
    // The clerk recording a complaint about herself hands it on and sees no more of it.
    let own = o
        .record_complaint(
            &clerk,
            &ComplaintInput {
                category: "staff_conduct".into(),
                channel: "visit".into(),
                region: "320582100".into(),
                content: "来访反映窗口工作人员办事拖拉".into(),
                anonymous: true,
                about: "陈丽华".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(own.handed_on);
    assert!(own.owner.ends_with("民政局"), "{}", own.owner);
    assert!(own.contact.is_none() && own.events.is_empty());
    assert!(matches!(
        o.complaint(&clerk, own.id).await,
        Err(ServiceError::NotFound)
    ));

    // A report of improper receipt: the household is reviewed and the fraud recorded.
    let mut tx = s.store.begin_read().await.unwrap();
    let recipient = tx
        .enrolments_in("320582100", None)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.stage == "confirmed" && e.person_id.is_none())
        .unwrap()
        .household_id;
    drop(tx);
    let report = o
        .record_complaint(
            &clerk,
            &ComplaintInput {
                category: "improper_receipt".into(),
                channel: "letter".into(),
                region: "320582100".into(),
                content: "来信举报该户隐瞒经营收入".into(),
                anonymous: true,
                household_id: Some(recipient),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let reviewed = o
        .step(
            &clerk,
            report.id,
            &ComplaintStep::Review { household_id: None },
        )
        .await
        .unwrap();
    assert!(reviewed.events.iter().any(|e| e.text.contains("举报核查")));
    let no_amount = o
        .step(
            &clerk,
            report.id,
            &ComplaintStep::Answer {
                finding: "fraud".into(),
                reply: "举报属实".into(),
                recover_fen: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(no_amount), "recover_fen");
    let fraud = o
        .step(
            &clerk,
            report.id,
            &ComplaintStep::Answer {
                finding: "fraud".into(),
                reply: "举报属实，已停发并追回".into(),
                recover_fen: Some(246_000),
            },
        )
        .await
        .unwrap();
    assert_eq!(fraud.recovered.unwrap().fen(), 246_000);
    let receivable = fraud.receivable_id.expect("a receivable is recorded");
    let mut tx = s.store.begin_read().await.unwrap();
    let r = tx.receivable(receivable).await.unwrap().unwrap();
    assert_eq!(r.amount_fen, 246_000);
    assert_eq!(r.household_id, recipient);
    drop(tx);
    db.finish().await;
}

async fn plan(
    s: &jiuzhu_services::Services,
    supervisor: &Actor,
    seed: &str,
) -> Vec<(i64, String, String)> {
    let p = s
        .openness()
        .plan_inspection(
            supervisor,
            &InspectionInput {
                title: format!("低保抽查（{seed}）"),
                month: String::new(),
                programs: vec!["dibao".into()],
                percent: Some(10),
                seed: seed.into(),
                inspectors: vec!["clerk".into(), "clerk2".into()],
            },
        )
        .await
        .unwrap();
    let mut tx = s.store.begin_read().await.unwrap();
    tx.inspection_targets(p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.enrolment_id, t.region_code, t.inspector))
        .collect()
}

async fn the_same_seed_draws_the_same_sample_and_statistics_equal_the_register(db: TestDb) {
    let db = db.with_demo(400).await;
    let s = &db.services;
    let supervisor = db.actor("supervisor").await;
    let clerk = db.actor("clerk").await;
    let clerk2 = db.actor("clerk2").await;

    let a = plan(s, &supervisor, "2026-12-低保抽查").await;
    let b = plan(s, &supervisor, "2026-12-低保抽查").await;
    assert_eq!(a, b, "the same seed draws the same sample and inspectors");
    let c = plan(s, &supervisor, "另一个种子").await;
    assert_ne!(
        a.iter().map(|t| t.0).collect::<Vec<_>>(),
        c.iter().map(|t| t.0).collect::<Vec<_>>()
    );
    let towns = [
        (clerk.scope().to_string(), "clerk"),
        (clerk2.scope().to_string(), "clerk2"),
    ];
    for (_, region, inspector) in &a {
        for (town, user) in &towns {
            if region.starts_with(town.as_str()) {
                assert_ne!(inspector, user, "nobody inspects their own township");
            }
        }
    }
    // Ten per cent of each township's 低保 households, rounded up.
    let register = s
        .recipients()
        .register(
            &supervisor,
            &RegisterQuery {
                program: Some("dibao".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let paid = register
        .totals
        .iter()
        .map(|t| t.households.div_ceil(10))
        .sum::<usize>();
    assert!(
        a.len() >= paid.saturating_sub(register.totals.len()) && a.len() <= paid,
        "{} vs {paid}",
        a.len()
    );

    // Results: an inspector records their households; publishing waits for all.
    let plans = s.openness().inspections(&supervisor).await.unwrap();
    let first = plans
        .iter()
        .find(|p| p.seed == "2026-12-低保抽查")
        .unwrap()
        .id;
    assert!(s
        .openness()
        .publish_inspection(&supervisor, first)
        .await
        .is_err());
    let mut recovered = false;
    for who in [&clerk, &clerk2] {
        let mine = s.openness().inspection(who, first).await.unwrap();
        for t in mine
            .targets
            .iter()
            .filter(|t| t.inspector_username == who.username)
        {
            let input = if !recovered {
                recovered = true;
                InspectionResultInput {
                    result: "recovery".into(),
                    findings: "家庭成员隐瞒工资收入，多领3个月".into(),
                    amount_fen: Some(120_000),
                }
            } else {
                InspectionResultInput {
                    result: "compliant".into(),
                    ..Default::default()
                }
            };
            s.openness()
                .record_inspection(who, t.id, &input)
                .await
                .unwrap();
        }
    }
    let again = s.openness().inspection(&supervisor, first).await.unwrap();
    assert_eq!(again.checked, again.drawn);
    assert_eq!(again.irregular, 1);
    let published = s
        .openness()
        .publish_inspection(&supervisor, first)
        .await
        .unwrap();
    assert!(published.published);
    let public = s.openness().public_inspections().await.unwrap();
    let notice = public.iter().find(|p| p.id == first).unwrap();
    assert_eq!(notice.seed, "2026-12-低保抽查");
    assert_eq!(notice.irregular, 1);
    assert!(common::identity_numbers_in(&serde_json::to_string(&public).unwrap()).is_empty());

    // The month's statistics equal the register's totals.
    let all = s
        .recipients()
        .register(&supervisor, &RegisterQuery::default())
        .await
        .unwrap();
    let report = s
        .openness()
        .monthly_report(&supervisor, None)
        .await
        .unwrap();
    assert_eq!(report.total.households as usize, all.households);
    assert_eq!(report.total.persons as usize, all.persons);
    assert_eq!(report.total.amount.fen(), all.amount_fen);
    assert_eq!(
        report.rows.iter().map(|r| r.households).sum::<i64>(),
        report.total.households
    );
    let xlsx = s.openness().report_xlsx(&supervisor, None).await.unwrap();
    assert!(xlsx.starts_with(b"PK"));
    let future = s
        .openness()
        .monthly_report(&supervisor, Some("2999-01"))
        .await
        .unwrap_err();
    assert_eq!(field_of(future), "month");
    // Public figures: no cell under five households.
    let open = s.openness().public_statistics(None).await.unwrap();
    assert_eq!(open.threshold, 5);
    assert!(open
        .rows
        .iter()
        .all(|r| r.households.is_none_or(|h| h >= 5)));
    let then = s
        .recipients()
        .register(
            &supervisor,
            &RegisterQuery {
                month: Some(open.month.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(open.rows.len(), then.totals.len());
    for t in &then.totals {
        let row = open
            .rows
            .iter()
            .find(|r| r.township == t.township && r.program_name == t.program_name)
            .unwrap();
        let expected = (t.households >= 5).then_some(t.households as i64);
        assert_eq!(row.households, expected, "{}{}", t.township, t.program_name);
    }
    // Performance: steps add up.
    let perf = s.openness().performance(&supervisor, None).await.unwrap();
    assert!(!perf.steps.is_empty());
    assert!(perf.steps.iter().all(|r| r.on_time + r.late == r.total));
    assert!(matches!(
        s.openness().performance(&clerk, None).await,
        Err(ServiceError::Forbidden)
    ));
    db.finish().await;
}

stories!(
    a_notice_masks_names_and_an_objection_holds_the_confirmation,
    a_complaint_stays_with_its_first_receiver_until_accepted,
    the_same_seed_draws_the_same_sample_and_statistics_equal_the_register,
);
