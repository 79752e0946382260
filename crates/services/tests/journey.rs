//! The one-window journey: window → transfer → department → feedback → close, on SQLite and
//! PostgreSQL, with each refusal a user can run into.

mod common;

use common::TestDb;
use jiuzhu_services::cases::{
    ApplicationInput, Completion, DepartmentStep, MissingInput, Queue, ReasonedItem,
    RegistrationInput, WindowStep,
};
use jiuzhu_services::ServiceError;

fn application(person: i64, key: &str) -> ApplicationInput {
    ApplicationInput {
        applicant_person_id: person,
        channel: "window".into(),
        hardship: "丈夫患尿毒症每周透析，家中仅靠妻子打零工维持".into(),
        causes: vec!["illness".into()],
        items: vec![
            "dibao".into(),
            "medical_assistance".into(),
            "employment_assistance".into(),
        ],
        received_at: None,
        idempotency_key: key.into(),
    }
}

/// A step as a department system sends it through the API.
fn dept(item: &str, action: &str, note: &str) -> DepartmentStep {
    serde_json::from_value(serde_json::json!({"action": action, "item": item, "note": note}))
        .unwrap()
}

fn window(action: &str, item: Option<&str>, note: &str) -> WindowStep {
    let mut step = serde_json::json!({"action": action, "note": note});
    if let Some(item) = item {
        step["item"] = item.into();
    }
    serde_json::from_value(step).unwrap()
}

fn conflict<T: std::fmt::Debug>(r: Result<T, ServiceError>) -> String {
    match r {
        Err(ServiceError::Conflict { message, .. }) => message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn the_journey_from_window_to_close(db: TestDb) {
    let db = db.with_demo(60).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let medical = db.actor("liaison").await; // 医保局
    let hrss = db.actor("liaison2").await; // 人社局
    let civil = db.actor("liaison3").await; // 民政局
    let household = s
        .households()
        .search(&clerk, &Default::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let applicant = household.head_person_id;

    // Filed once; the same form submitted again returns the same case.
    let case = s
        .cases()
        .file(&clerk, &application(applicant, "form-7f3a9c21"))
        .await
        .unwrap();
    let again = s
        .cases()
        .file(&clerk, &application(applicant, "form-7f3a9c21"))
        .await
        .unwrap();
    assert_eq!(case.id, again.id);
    assert_eq!(case.items.len(), 3);
    assert!(case.items.iter().all(|i| i.stage == "requested"));
    let id = case.id;

    // Registration: two items accepted and transferred; the third told once what is missing.
    let reg = RegistrationInput {
        accept: vec!["dibao".into(), "medical_assistance".into()],
        missing: vec![MissingInput {
            item: "employment_assistance".into(),
            materials: vec!["就业失业登记证明".into()],
        }],
        transfer: true,
        ..Default::default()
    };
    let v = s.cases().register(&clerk, id, &reg).await.unwrap();
    let form_no = v
        .items
        .iter()
        .find(|i| i.code == "dibao")
        .unwrap()
        .form_no
        .clone()
        .unwrap();
    assert!(form_no.starts_with("SL320582100"), "{form_no}");
    assert_eq!(
        v.items
            .iter()
            .find(|i| i.code == "medical_assistance")
            .unwrap()
            .stage,
        "transferred"
    );
    assert_eq!(
        v.items
            .iter()
            .find(|i| i.code == "employment_assistance")
            .unwrap()
            .missing_materials,
        vec!["就业失业登记证明"]
    );
    assert!(v
        .deadlines
        .iter()
        .any(|d| d.kind == "transfer" && d.done.is_some() && !d.late));
    // The notice is given once: a second one for the same item is refused.
    let twice = RegistrationInput {
        missing: vec![MissingInput {
            item: "employment_assistance".into(),
            materials: vec![],
        }],
        ..Default::default()
    };
    assert!(conflict(s.cases().register(&clerk, id, &twice).await).contains("只告知一次"));

    // The hrss liaison sees nothing of this case yet; the medical liaison has it in the inbox.
    assert!(matches!(
        s.cases().get(&hrss, id).await,
        Err(ServiceError::NotFound)
    ));
    let inbox = s.cases().queue(&medical, Queue::Inbox).await.unwrap();
    assert!(inbox
        .iter()
        .any(|r| r.case_id == id && r.item_code == "medical_assistance" && r.next_due.is_some()));

    // Department steps, in order; out of order or on another's item they are refused.
    assert!(conflict(
        s.cases()
            .department_step(
                &medical,
                id,
                &dept("medical_assistance", "feedback", "已告知")
            )
            .await
    )
    .contains("不能反馈结果"));
    s.cases()
        .department_step(&medical, id, &dept("medical_assistance", "receive", ""))
        .await
        .unwrap();
    assert!(conflict(
        s.cases()
            .department_step(&medical, id, &dept("medical_assistance", "receive", ""))
            .await
    )
    .contains("不能接收"));
    assert!(conflict(
        s.cases()
            .department_step(&medical, id, &dept("dibao", "receive", ""))
            .await
    )
    .contains("不属于您的部门"));
    s.cases()
        .department_step(
            &medical,
            id,
            &dept("medical_assistance", "initial_check", "住院自付费用属实"),
        )
        .await
        .unwrap();
    let complete = DepartmentStep::Complete {
        item: "medical_assistance".into(),
        outcome: Completion::Granted,
        amount_fen: Some(386_000),
        monthly: false,
        note: "按75%补足".into(),
    };
    // 逢救必核: no money without a verification report, nor on one older than 30 days.
    let unverified = s
        .cases()
        .department_step(&medical, id, &complete)
        .await
        .unwrap_err();
    assert!(
        matches!(unverified, ServiceError::Invalid { ref field, ref message }
            if field == "verification" && message.contains("尚无家庭经济状况核对报告")),
        "{unverified:?}"
    );
    let report = s.verification().verify_case(&clerk, id).await.unwrap();
    s.set_clock(Some(chrono::Utc::now() + chrono::Duration::days(31)));
    let stale = s
        .cases()
        .department_step(&medical, id, &complete)
        .await
        .unwrap_err();
    assert!(
        matches!(stale, ServiceError::Invalid { ref message, .. }
            if message.contains(&format!("第{}号", report.id)) && message.contains("超过30天")),
        "{stale:?}"
    );
    s.set_clock(None);
    let v = s
        .cases()
        .department_step(&medical, id, &complete)
        .await
        .unwrap();
    assert_eq!(
        v.items
            .iter()
            .find(|i| i.code == "medical_assistance")
            .unwrap()
            .outcome
            .as_deref(),
        Some("一次性3,860.00元")
    );
    s.cases()
        .department_step(
            &medical,
            id,
            &dept("medical_assistance", "feedback", "已书面告知申请人和窗口"),
        )
        .await
        .unwrap();

    // Referred to a charity project from the demo registry, and its answer recorded.
    let org = s
        .organisations()
        .list(&clerk)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.kind == "charity")
        .unwrap();
    let refer = WindowStep::Refer {
        organisation_id: org.id,
        note: "大病医疗费用资助".into(),
    };
    s.cases().window_step(&clerk, id, &refer).await.unwrap();
    let answer = WindowStep::ReferralAnswer {
        organisation_id: org.id,
        accepted: true,
        note: "资助5,000元".into(),
    };
    let v = s.cases().window_step(&clerk, id, &answer).await.unwrap();
    assert_eq!(
        v.referrals[0].answer,
        Some((true, "资助5,000元".to_string()))
    );

    // Closing with open items names them, as people call them.
    let open = conflict(
        s.cases()
            .window_step(&clerk, id, &window("close", None, "综合结果"))
            .await,
    );
    assert!(
        open.contains("最低生活保障") && open.contains("就业援助") && !open.contains("dibao"),
        "{open}"
    );

    // 民政局 refuses 低保 with its written reason.
    s.cases()
        .department_step(&civil, id, &dept("dibao", "receive", ""))
        .await
        .unwrap();
    assert!(matches!(
        s.cases()
            .department_step(&civil, id, &dept("dibao", "refuse", " "))
            .await,
        Err(ServiceError::Invalid { .. })
    ));
    s.cases()
        .department_step(
            &civil,
            id,
            &dept("dibao", "refuse", "家庭人均收入高于当地低保标准"),
        )
        .await
        .unwrap();

    // The materials arrive: accepted and transferred to 人社局, which now sees the case.
    let reg = RegistrationInput {
        accept: vec!["employment_assistance".into()],
        transfer: true,
        ..Default::default()
    };
    s.cases().register(&clerk, id, &reg).await.unwrap();
    assert!(matches!(
        s.cases()
            .department_step(&hrss, id, &dept("medical_assistance", "receive", ""))
            .await,
        Err(ServiceError::Conflict { .. })
    ));
    s.cases()
        .department_step(&hrss, id, &dept("employment_assistance", "receive", ""))
        .await
        .unwrap();
    s.cases()
        .department_step(
            &hrss,
            id,
            &dept("employment_assistance", "initial_check", "登记失业"),
        )
        .await
        .unwrap();
    let service = DepartmentStep::Complete {
        item: "employment_assistance".into(),
        outcome: Completion::Service,
        amount_fen: None,
        monthly: false,
        note: "安排公益性岗位（保洁）".into(),
    };
    s.cases()
        .department_step(&hrss, id, &service)
        .await
        .unwrap();
    s.cases()
        .department_step(
            &hrss,
            id,
            &dept("employment_assistance", "feedback", "已告知"),
        )
        .await
        .unwrap();

    // Every item has its outcome: the case closes; the applicant sees it with the form number.
    let closed = s
        .cases()
        .window_step(
            &clerk,
            id,
            &window(
                "close",
                None,
                "医疗救助3,860元已发放；安排公益性岗位；低保不符合",
            ),
        )
        .await
        .unwrap();
    assert_eq!(closed.status, "closed");
    assert!(conflict(
        s.cases()
            .window_step(&clerk, id, &window("withdraw", Some("dibao"), "申请人撤回"))
            .await
    )
    .contains("已结案"));
    let person = s.people().get(&clerk, applicant, true).await.unwrap();
    let last4 = &person.id_number[14..];
    let status = s.cases().public_status(&form_no, last4).await.unwrap();
    assert!(status.closed);
    assert!(status.applicant.contains('*'));
    assert!(status
        .items
        .iter()
        .any(|i| i.progress == "已办结：一次性3,860.00元"));
    assert!(status
        .items
        .iter()
        .any(|i| i.progress.starts_with("经核查不符合条件")));
    assert!(matches!(
        s.cases().public_status(&form_no, "0000").await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        s.cases().public_status("SL000", last4).await,
        Err(ServiceError::NotFound)
    ));

    // Reopened with a reason; the history keeps every step.
    let v = s
        .cases()
        .window_step(
            &clerk,
            id,
            &window("reopen", None, "申请人对低保结果提出异议"),
        )
        .await
        .unwrap();
    assert_eq!(v.status, "open");
    assert!(v.events.len() >= 19, "{}", v.events.len());
    db.finish().await;
}

async fn bad_applications_are_refused_and_write_nothing(db: TestDb) {
    let db = db.with_demo(40).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let clerk2 = db.actor("clerk2").await;
    let mine = s
        .households()
        .search(&clerk, &Default::default())
        .await
        .unwrap()
        .items[0]
        .head_person_id;
    let theirs = s
        .households()
        .search(&clerk2, &Default::default())
        .await
        .unwrap()
        .items[0]
        .head_person_id;
    let bad = |f: &dyn Fn(&mut ApplicationInput)| {
        let mut a = application(mine, "form-bad-0001");
        f(&mut a);
        a
    };
    let cases: Vec<(ApplicationInput, &str)> = vec![
        (bad(&|a| a.items = vec!["no_such_item".into()]), "items"),
        (bad(&|a| a.items.clear()), "items"),
        (bad(&|a| a.hardship = "  ".into()), "hardship"),
        (bad(&|a| a.channel = "fax".into()), "channel"),
        (bad(&|a| a.causes.clear()), "causes"),
        (bad(&|a| a.idempotency_key = "x".into()), "idempotency_key"),
        (
            bad(&|a| a.received_at = Some(chrono::Utc::now() + chrono::Duration::days(2))),
            "received_at",
        ),
        (
            bad(&|a| a.applicant_person_id = theirs),
            "applicant_person_id",
        ),
    ];
    for (input, field) in cases {
        match s.cases().file(&clerk, &input).await {
            Err(ServiceError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    // Nothing was written: the key is still free.
    let ok = s
        .cases()
        .file(&clerk, &application(mine, "form-bad-0001"))
        .await
        .unwrap();
    assert_eq!(ok.revision, 1);
    // Another township's clerk cannot see or act on it.
    assert!(matches!(
        s.cases().get(&clerk2, ok.id).await,
        Err(ServiceError::NotFound)
    ));
    let reg = RegistrationInput {
        accept: vec!["dibao".into()],
        ..Default::default()
    };
    assert!(matches!(
        s.cases().register(&clerk2, ok.id, &reg).await,
        Err(ServiceError::NotFound)
    ));
    // A refusal at the window needs its policy explanation.
    let refuse = RegistrationInput {
        refuse: vec![ReasonedItem {
            item: "dibao".into(),
            reason: "".into(),
        }],
        ..Default::default()
    };
    assert!(matches!(
        s.cases().register(&clerk, ok.id, &refuse).await,
        Err(ServiceError::Invalid { .. })
    ));
    db.finish().await;
}

async fn a_double_submit_at_the_same_moment_files_one_case(db: TestDb) {
    let db = db.with_demo(20).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let head = s
        .households()
        .search(&clerk, &Default::default())
        .await
        .unwrap()
        .items[0]
        .head_person_id;
    let app = application(head, "form-double-click");
    let cases = s.cases();
    let (a, b) = tokio::join!(cases.file(&clerk, &app), cases.file(&clerk, &app));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.id, b.id);
    let cases = s
        .cases()
        .of_household(&clerk, a.household_id)
        .await
        .unwrap();
    assert_eq!(cases.iter().filter(|c| c.id == a.id).count(), 1);
    // The same key with another request is refused, not answered with the first case.
    let mut other = app.clone();
    other.items = vec!["temporary_assistance".into()];
    match s.cases().file(&clerk, &other).await {
        Err(ServiceError::Conflict { field, message }) => {
            assert_eq!(field.as_deref(), Some("idempotency_key"));
            assert!(message.contains("内容不同"), "{message}");
        }
        r => panic!("expected a refusal, got {r:?}"),
    }
    // The same request again is still the same case.
    assert_eq!(s.cases().file(&clerk, &app).await.unwrap().id, a.id);
    assert_eq!(
        cases.len(),
        cases
            .iter()
            .map(|c| c.id)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    db.finish().await;
}

/// An instant in China time.
fn cst(y: i32, m: u32, d: u32, h: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .to_utc()
}

async fn time_limits_cross_national_day_and_count_the_adjusted_saturday(db: TestDb) {
    let db = db.with_demo(30).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let medical = db.actor("liaison").await;
    let head = s
        .households()
        .search(&clerk, &Default::default())
        .await
        .unwrap()
        .items[0]
        .head_person_id;
    let mine = |rows: Vec<jiuzhu_services::cases::CaseItemRow>, id: i64| {
        rows.into_iter().any(|r| r.case_id == id)
    };

    // Accepted on Tuesday 2025-09-30, the day before the holiday (10-01 to 10-08).
    s.set_clock(Some(cst(2025, 9, 30, 10)));
    let mut app = application(head, "form-national-day");
    app.items = vec!["medical_assistance".into()];
    let id = s.cases().file(&clerk, &app).await.unwrap().id;
    let reg = RegistrationInput {
        accept: vec!["medical_assistance".into()],
        ..Default::default()
    };
    let v = s.cases().register(&clerk, id, &reg).await.unwrap();
    let transfer = v.deadlines.iter().find(|d| d.kind == "transfer").unwrap();
    assert_eq!(
        transfer.due.to_string(),
        "2025-10-09",
        "one working day after 09-30 is after the holiday"
    );

    // During the holiday nothing is due; on 10-09 the transfer is due today.
    s.set_clock(Some(cst(2025, 10, 8, 9)));
    assert!(!mine(
        s.cases().queue(&clerk, Queue::Due).await.unwrap(),
        id
    ));
    s.set_clock(Some(cst(2025, 10, 9, 9)));
    assert!(mine(s.cases().queue(&clerk, Queue::Due).await.unwrap(), id));
    let v = s
        .cases()
        .window_step(
            &clerk,
            id,
            &window("transfer", Some("medical_assistance"), ""),
        )
        .await
        .unwrap();
    assert!(v.deadlines.iter().all(|d| !d.late));

    // Taken in on the adjusted Saturday 10-11, a working day; the initial check counts it:
    // 10-10, 10-11, 10-13, 10-14, 10-15, 10-16.
    s.set_clock(Some(cst(2025, 10, 11, 10)));
    let v = s
        .cases()
        .department_step(&medical, id, &dept("medical_assistance", "receive", ""))
        .await
        .unwrap();
    let check = v
        .deadlines
        .iter()
        .find(|d| d.kind == "initial_check")
        .unwrap()
        .clone();
    assert_eq!(check.due.to_string(), "2025-10-16");
    assert_eq!(check.days_left, Some(4));

    // On Friday 10-17 it is overdue, on the board and on the case page; done then, it stays late.
    s.set_clock(Some(cst(2025, 10, 17, 9)));
    assert!(mine(
        s.cases().queue(&medical, Queue::Due).await.unwrap(),
        id
    ));
    let v = s
        .cases()
        .department_step(
            &medical,
            id,
            &dept("medical_assistance", "initial_check", "核查属实"),
        )
        .await
        .unwrap();
    let check = v
        .deadlines
        .iter()
        .find(|d| d.kind == "initial_check")
        .unwrap();
    assert_eq!(
        (check.done.map(|d| d.to_string()), check.late),
        (Some("2025-10-17".into()), true)
    );
    s.set_clock(None);
    db.finish().await;
}

/// A department step taken after its limit must say why it was late.
async fn a_late_step_says_why(db: TestDb) {
    let db = db.with_demo(20).await;
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let medical = db.actor("liaison").await;
    let household = s
        .households()
        .search(&clerk, &Default::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let mut app = application(household.head_person_id, "form-late-0001");
    app.items = vec!["medical_assistance".into()];
    let id = s.cases().file(&clerk, &app).await.unwrap().id;
    let reg = RegistrationInput {
        accept: vec!["medical_assistance".into()],
        transfer: true,
        ..Default::default()
    };
    s.cases().register(&clerk, id, &reg).await.unwrap();
    s.cases()
        .department_step(&medical, id, &dept("medical_assistance", "receive", ""))
        .await
        .unwrap();
    // Forty days on, the initial check (due within 6 working days) is late.
    s.set_clock(Some(chrono::Utc::now() + chrono::Duration::days(40)));
    let silent = s
        .cases()
        .department_step(
            &medical,
            id,
            &dept("medical_assistance", "initial_check", ""),
        )
        .await;
    assert!(
        matches!(&silent, Err(ServiceError::Invalid { field, message })
            if field == "note" && message.contains("已逾期") && message.contains("逾期原因")),
        "{silent:?}"
    );
    let v = s
        .cases()
        .department_step(
            &medical,
            id,
            &dept(
                "medical_assistance",
                "initial_check",
                "等待医院出具费用清单，延误8个工作日",
            ),
        )
        .await
        .unwrap();
    assert_eq!(v.items[0].stage, "initial_checked");
    s.set_clock(None);

    // The window's transfer, due within 2 working days of acceptance, says why too.
    let mut app = application(household.head_person_id, "form-late-0002");
    app.items = vec!["medical_assistance".into()];
    let id = s.cases().file(&clerk, &app).await.unwrap().id;
    let reg = RegistrationInput {
        accept: vec!["medical_assistance".into()],
        transfer: false,
        ..Default::default()
    };
    s.cases().register(&clerk, id, &reg).await.unwrap();
    s.set_clock(Some(chrono::Utc::now() + chrono::Duration::days(20)));
    let transfer = |note: &str| WindowStep::Transfer {
        item: "medical_assistance".into(),
        note: note.into(),
    };
    let silent = s.cases().window_step(&clerk, id, &transfer("")).await;
    assert!(
        matches!(&silent, Err(ServiceError::Invalid { field, message })
            if field == "note" && message.contains("逾期原因")),
        "{silent:?}"
    );
    let v = s
        .cases()
        .window_step(&clerk, id, &transfer("申请人补交户口簿后方可转办"))
        .await
        .unwrap();
    assert_eq!(v.items[0].stage, "transferred");
    assert!(
        v.events
            .iter()
            .any(|e| e.text.contains("逾期原因：申请人补交户口簿后方可转办")),
        "the history keeps the reason: {:?}",
        v.events
    );
    s.set_clock(None);
    db.finish().await;
}

stories!(
    the_journey_from_window_to_close,
    a_late_step_says_why,
    bad_applications_are_refused_and_write_nothing,
    time_limits_cross_national_day_and_count_the_adjusted_saturday,
    a_double_submit_at_the_same_moment_files_one_case,
);
