//! Department feeds on both databases: encodings, rejected rows, one import per file, who may
//! send what, and facts kept for people not yet registered.

mod common;

use common::TestDb;
use jiuzhu_services::ServiceError;
use jiuzhu_store::FeedRepo;

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
        .import_feed_bytes(&admin, "wage", "工资2025年3月.csv", &gbk)
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
        .import_feed_bytes(&admin, "wage", "copy.csv", &gbk)
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
        .import_feed_bytes(
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
        .import_feed_bytes(&admin, "horoscope", "x.csv", b"a\n")
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
            .import_feed_bytes(who, "wage", "w.csv", WAGES.as_bytes())
            .await;
        assert!(
            matches!(r, Err(ServiceError::Forbidden)),
            "{}",
            who.username
        );
    }
    let r = db
        .services
        .import_feed_bytes(&hrss, "wage", "w.csv", WAGES.as_bytes())
        .await
        .unwrap();
    assert_eq!(r.file.accepted, 2);
    assert_eq!(r.file.department, "人力资源和社会保障局");
    // The medical-insurance liaison sends medical claims, not vehicles.
    let claims = "身份证号,姓名,结算日期,医疗总费用,个人自付,大病保险支付\n11010519491231002X,张桂英,2025-05-02,52000,31000,9000\n";
    let r = db
        .services
        .import_feed_bytes(&medical, "medical_claim", "c.csv", claims.as_bytes())
        .await
        .unwrap();
    assert_eq!(r.file.accepted, 1);
    let r = db
        .services
        .import_feed_bytes(
            &medical,
            "vehicle",
            "v.csv",
            "身份证号,姓名,号牌号码,初次登记日期\n".as_bytes(),
        )
        .await;
    assert!(matches!(r, Err(ServiceError::Forbidden)));
    db.finish().await;
}

stories!(
    a_gbk_wage_file_is_imported_once_with_its_bad_rows_listed,
    only_the_sending_department_or_the_bureau_imports,
);
