//! Department feeds on both databases: encodings, rejected rows, one import per file, who may
//! send what, and facts kept for people not yet registered.

mod common;

use common::TestDb;
use jiuzhu_services::ServiceError;

const WAGES: &str = "公民身份号码,姓名,所属期,应发工资,单位名称\n\
11010519491231002X,张桂英,2025-03,\"4,500.00\",张家港某厂\n\
110105194912310021,李四,2025-03,3000,某厂\n\
11010519491231002X,张桂英,2025年13月,3000,某厂\n\
32058219800101001X,王五,202504,2800.5,某厂\n";

async fn a_gbk_wage_file_is_imported_once_with_its_bad_rows_listed(db: TestDb) {
    let db = db.with_demo(20).await;
    let admin = db.actor("admin").await;
    let (gbk, _, _) = encoding_rs::GBK.encode(WAGES);
    let r = db
        .services
        .feeds()
        .import_bytes(&admin, "wage", "工资2025年3月.csv", &gbk)
        .await
        .unwrap();
    assert!(!r.already_imported);
    assert_eq!(r.file.encoding, "GB18030");
    assert_eq!((r.file.accepted, r.file.rejected), (2, 2));
    let why: Vec<_> = r
        .rejections
        .iter()
        .map(|x| (x.row_no, x.field.as_str()))
        .collect();
    assert_eq!(why, [(3, "id_number"), (4, "month")]);
    assert!(r.rejections[0].reason.contains("校验位"));

    // The same file again changes nothing and says so.
    let again = db
        .services
        .feeds()
        .import_bytes(&admin, "wage", "copy.csv", &gbk)
        .await
        .unwrap();
    assert!(again.already_imported);
    assert_eq!(again.file.id, r.file.id);
    let mut tx = db.services.store.begin_read().await.unwrap();
    assert_eq!(tx.count_facts(r.file.id).await.unwrap(), 2);
    drop(tx);

    // A missing column refuses the file and stores nothing.
    let bad = db
        .services
        .feeds()
        .import_bytes(
            &admin,
            "vehicle",
            "车辆.csv",
            "身份证号,姓名,车型\n".as_bytes(),
        )
        .await;
    assert!(
        matches!(bad, Err(ServiceError::Invalid { ref field, .. }) if field == "file"),
        "{bad:?}"
    );
    let unknown = db
        .services
        .feeds()
        .import_bytes(&admin, "horoscope", "x.csv", b"a\n")
        .await;
    assert!(matches!(unknown, Err(ServiceError::Invalid { ref field, .. }) if field == "category"));
    db.finish().await;
}

async fn only_the_sending_department_or_the_bureau_imports(db: TestDb) {
    let db = db.with_demo(20).await;
    let clerk = db.actor("clerk").await;
    let medical = db.actor("liaison").await;
    let hrss = db.actor("liaison2").await;
    for who in [&clerk, &medical] {
        let r = db
            .services
            .feeds()
            .import_bytes(who, "wage", "w.csv", WAGES.as_bytes())
            .await;
        assert!(
            matches!(r, Err(ServiceError::Forbidden)),
            "{}",
            who.username
        );
    }
    let r = db
        .services
        .feeds()
        .import_bytes(&hrss, "wage", "w.csv", WAGES.as_bytes())
        .await
        .unwrap();
    assert_eq!(r.file.accepted, 2);
    assert_eq!(r.file.department, "人力资源和社会保障局");
    // The medical-insurance liaison sends medical claims, not vehicles.
    let claims = "身份证号,姓名,结算日期,医疗总费用,个人自付,大病保险支付\n11010519491231002X,张桂英,2025-05-02,52000,31000,9000\n";
    let r = db
        .services
        .feeds()
        .import_bytes(&medical, "medical_claim", "c.csv", claims.as_bytes())
        .await
        .unwrap();
    assert_eq!(r.file.accepted, 1);
    let r = db
        .services
        .feeds()
        .import_bytes(
            &medical,
            "vehicle",
            "v.csv",
            "身份证号,姓名,号牌号码,初次登记日期\n".as_bytes(),
        )
        .await;
    assert!(matches!(r, Err(ServiceError::Forbidden)));
    db.finish().await;
}

async fn a_case_is_verified_against_the_facts_about_its_members(db: TestDb) {
    let db = db.with_demo(30).await;
    let clerk = db.actor("clerk").await;
    let admin = db.actor("admin").await;
    let households = db
        .services
        .households()
        .search(&clerk, &Default::default())
        .await
        .unwrap();
    let h = &households.items[0];
    let case = db
        .services
        .cases()
        .file(
            &clerk,
            &jiuzhu_services::cases::ApplicationInput {
                applicant_person_id: h.head_person_id,
                channel: "window".into(),
                hardship: "收入不足以维持基本生活".into(),
                causes: vec!["illness".into()],
                items: vec!["dibao".into()],
                received_at: None,
                idempotency_key: "verify-case-000001".into(),
            },
        )
        .await
        .unwrap();
    let head = db
        .services
        .people()
        .get(&clerk, h.head_person_id, true)
        .await
        .unwrap();
    let id = &head.id_number;
    // Facts about the head; and one about someone not registered, kept for later.
    let vehicles = format!("身份证号,姓名,号牌号码,初次登记日期\n{id},{},苏E12345,2025-03-08\n11010519491231002X,张桂英,苏E99999,2024-01-01\n", head.name);
    let r = db
        .services
        .feeds()
        .import_bytes(&admin, "vehicle", "车辆.csv", vehicles.as_bytes())
        .await
        .unwrap();
    assert_eq!(r.file.accepted, 2);
    // The last day of the month before the application: inside the 12 months weighed.
    let before = chrono::Datelike::with_day(&jiuzhu_services::clock::today(), 1)
        .unwrap()
        .pred_opt()
        .unwrap();
    let claims = format!(
        "身份证号,姓名,结算日期,医疗总费用,个人自付\n{id},{},{},52000,31000\n",
        head.name,
        before.format("%Y-%m-%d")
    );
    db.services
        .feeds()
        .import_bytes(&admin, "medical_claim", "结算.csv", claims.as_bytes())
        .await
        .unwrap();
    // Paid 6,800 a month for the last three months, more than any demo household declares.
    let mut wages = String::from("公民身份号码,姓名,所属期,应发工资\n");
    for k in 1..=3 {
        let month = before - chrono::Months::new(k - 1);
        wages.push_str(&format!(
            "{id},{},{},6800\n",
            head.name,
            month.format("%Y-%m")
        ));
    }
    db.services
        .feeds()
        .import_bytes(&admin, "wage", "工资.csv", wages.as_bytes())
        .await
        .unwrap();

    // Without a report the evaluation says what it lacks.
    let unverified = db
        .services
        .policy()
        .evaluate_case(&clerk, case.id, false)
        .await
        .unwrap();
    assert!(unverified.basis[0].contains("尚无核对报告"));
    assert_eq!(unverified.rigid_expenditure_12m_fen, 0);

    let report = db
        .services
        .verification()
        .verify_case(&clerk, case.id)
        .await
        .unwrap();
    // The report feeds the evaluation: the verified wage and the own medical costs count.
    let verified = db
        .services
        .policy()
        .evaluate_case(&clerk, case.id, false)
        .await
        .unwrap();
    assert!(verified.basis[0].contains(&format!("核对报告第{}号", report.id)));
    assert!(
        verified
            .basis
            .iter()
            .any(|b| b.contains(&head.name) && b.contains("工资性收入按核对结果6,800.00元/月计")),
        "{:?}",
        verified.basis
    );
    assert_eq!(verified.rigid_expenditure_12m_fen, 3_100_000);
    assert!(verified.household_income_fen >= 680_000);
    let dibao = verified
        .decisions
        .iter()
        .find(|d| d.program == jiuzhu_policy::Program::Dibao)
        .unwrap();
    assert!(!dibao.eligible, "6,800 a month, and a vehicle besides");
    assert_eq!(report.report.vehicles, 1, "only the household's own facts");
    let vehicle = report
        .report
        .findings
        .iter()
        .find(|f| f.text.contains("机动车"))
        .unwrap();
    assert_eq!(vehicle.text, "名下有机动车（苏E***45，2025-03登记）");
    assert!(vehicle.member.contains(&head.name));
    assert!(vehicle.source.contains("车辆.csv 第2行"));
    assert_eq!(report.report.medical_own_costs_fen, 3_100_000);
    // Rerun: every report is kept.
    db.services
        .verification()
        .verify_case(&clerk, case.id)
        .await
        .unwrap();
    assert_eq!(
        db.services
            .verification()
            .case_reports(&clerk, case.id)
            .await
            .unwrap()
            .len(),
        2
    );
    // Another township's clerk cannot verify or read it.
    let other = db.actor("clerk2").await;
    assert!(matches!(
        db.services
            .verification()
            .verify_case(&other, case.id)
            .await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        db.services
            .verification()
            .case_reports(&other, case.id)
            .await,
        Err(ServiceError::NotFound)
    ));
    db.finish().await;
}

async fn an_excel_workbook_is_read_like_a_csv_file(db: TestDb) {
    let db = db.with_demo(10).await;
    let admin = db.actor("admin").await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (col, title) in ["身份证号", "姓名", "开户银行", "账号", "余额", "查询日期"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, col as u16, *title).unwrap();
    }
    let rows = [
        [
            "11010519491231002X",
            "张桂英",
            "农业银行",
            "6228480012345678",
        ],
        ["110105194912310021", "李四", "工商银行", "6222020000000001"],
    ];
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        for (col, v) in r.iter().enumerate() {
            sheet.write_string(row, col as u16, *v).unwrap();
        }
        sheet.write_number(row, 4, 38_500.5).unwrap();
        sheet.write_string(row, 5, "2026-06-30").unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let r = db
        .services
        .feeds()
        .import_bytes(&admin, "bank_deposit", "存款.xlsx", &bytes)
        .await
        .unwrap();
    assert_eq!(r.file.encoding, "Excel");
    assert_eq!((r.file.accepted, r.file.rejected), (1, 1));
    assert_eq!(
        (r.rejections[0].row_no, r.rejections[0].field.as_str()),
        (3, "id_number")
    );
    db.finish().await;
}

async fn households_are_reviewed_in_a_batch_within_the_reviewers_region(db: TestDb) {
    let db = db.with_demo(30).await;
    let clerk = db.actor("clerk").await;
    let admin = db.actor("admin").await;
    let mine = db
        .services
        .households()
        .search(&clerk, &Default::default())
        .await
        .unwrap();
    let h = &mine.items[0];
    let head = db
        .services
        .people()
        .get(&clerk, h.head_person_id, true)
        .await
        .unwrap();
    let month = chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
    let wages = format!(
        "公民身份号码,姓名,所属期,应发工资\n{0},{1},2026-04,5000\n{0},{1},2026-05,5200\n{0},{1},2026-06,5400\n",
        head.id_number, head.name
    );
    db.services
        .feeds()
        .import_bytes(&admin, "wage", "工资.csv", wages.as_bytes())
        .await
        .unwrap();

    let one = db
        .services
        .verification()
        .review_households(&clerk, Some(&[h.id]), month)
        .await
        .unwrap();
    assert_eq!(one.households.len(), 1);
    assert_eq!(one.facts_read, 3);
    let line = one.households[0]
        .report
        .incomes
        .iter()
        .find(|l| l.kind == "工资性收入" && l.member.contains(&head.name))
        .unwrap();
    assert_eq!(line.verified_fen, 520_000, "the average of the months paid");
    // Wages paid in the application month or after are outside the 12 months weighed.
    let earlier = db
        .services
        .verification()
        .review_households(
            &clerk,
            Some(&[h.id]),
            chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
        )
        .await
        .unwrap();
    let april_only = earlier.households[0]
        .report
        .incomes
        .iter()
        .find(|l| l.kind == "工资性收入" && l.member.contains(&head.name))
        .unwrap();
    assert_eq!(april_only.verified_fen, 500_000);

    // The whole township: every household of the clerk's region, none beyond it.
    let all = db
        .services
        .verification()
        .review_households(&clerk, None, month)
        .await
        .unwrap();
    assert_eq!(all.households.len() as i64, mine.total);
    let everywhere = db
        .services
        .verification()
        .review_households(&admin, None, month)
        .await
        .unwrap();
    assert!(everywhere.households.len() > all.households.len());
    let elsewhere = everywhere
        .households
        .iter()
        .find(|x| {
            !all.households
                .iter()
                .any(|y| y.household_id == x.household_id)
        })
        .unwrap()
        .household_id;
    let refused = db
        .services
        .verification()
        .review_households(&clerk, Some(&[elsewhere]), month)
        .await;
    assert!(
        matches!(refused, Err(ServiceError::Invalid { ref field, .. }) if field == "households"),
        "{refused:?}"
    );
    // A liaison reviews no households.
    let liaison = db.actor("liaison").await;
    assert!(matches!(
        db.services
            .verification()
            .review_households(&liaison, None, month)
            .await,
        Err(ServiceError::Forbidden)
    ));
    db.finish().await;
}

stories!(
    a_gbk_wage_file_is_imported_once_with_its_bad_rows_listed,
    only_the_sending_department_or_the_bureau_imports,
    a_case_is_verified_against_the_facts_about_its_members,
    an_excel_workbook_is_read_like_a_csv_file,
    households_are_reviewed_in_a_batch_within_the_reviewers_region,
);
