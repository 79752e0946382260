//! Department files through the API, token-scoped to the sending department, and the
//! verification report on the case page.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};

async fn upload(app: &common::App, token: &str, category: &str, bytes: Vec<u8>) -> common::Reply {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/feeds/{category}?file_name=2025年工资.csv"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(bytes))
        .unwrap();
    app.send(req).await
}

#[tokio::test]
async fn a_department_sends_its_file_once_and_the_window_verifies_a_case() {
    let app = common::app(40).await;
    let clerk = app.token("clerk", false).await;
    let hrss = app.token("liaison2", false).await;
    let medical = app.token("liaison", false).await;
    let head = app.first_head(&clerk).await;
    let person = app.revealed_person(&clerk, head).await;
    let (id, name) = (
        person["id_number"].as_str().unwrap(),
        person["name"].as_str().unwrap(),
    );
    let csv = format!("公民身份号码,姓名,费款所属期,缴费基数\n{id},{name},2026-09,4500\n{id},{name},2026-13,4500\n");
    let (gbk, _, _) = encoding_rs::GBK.encode(&csv);

    let r = upload(&app, &medical, "social_insurance", gbk.to_vec()).await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "another department's category"
    );
    let r = upload(&app, &hrss, "social_insurance", gbk.to_vec()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = r.json();
    assert_eq!(
        (
            v["file"]["accepted"].as_i64(),
            v["file"]["rejected"].as_i64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(v["file"]["encoding"], "GB18030");
    assert_eq!(v["rejections"][0]["row_no"], 3);
    assert_eq!(v["rejections"][0]["field"], "month");
    let again = upload(&app, &hrss, "social_insurance", gbk.to_vec()).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["already_imported"], true);
    let file_id = v["file"]["id"].as_i64().unwrap();

    // Its system reads the rejected rows back; another department's cannot.
    let back = app
        .api(
            Method::GET,
            &format!("/api/v1/feed-files/{file_id}"),
            Some(&hrss),
            None,
        )
        .await;
    assert_eq!(back.json()["rejections"][0]["field"], "month");
    let listed = app
        .api(Method::GET, "/api/v1/feed-files", Some(&hrss), None)
        .await;
    assert_eq!(listed.json()[0]["id"], file_id);
    assert_eq!(
        app.api(
            Method::GET,
            &format!("/api/v1/feed-files/{file_id}"),
            Some(&medical),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // The sending department sees its files and their rejected rows, and downloads them.
    let (hrss_cookie, _) = app.login("liaison2").await;
    let page = app.get("/feeds", &hrss_cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("2025年工资.csv") && page.body.contains("社会保险缴费"));
    assert!(!page.body.contains("不动产登记"), "only its own categories");
    let page = app.get(&format!("/feeds/{file_id}"), &hrss_cookie).await;
    assert!(page.body.contains("“2026-13”不是月份"), "{}", page.body);
    // Fields by their names, never their codes; the importer by name.
    assert!(
        page.body.contains("<td>缴费月份</td>") && !page.body.contains("<td>month</td>"),
        "{}",
        page.body
    );
    let csv = app
        .get(&format!("/feeds/{file_id}/rejected.csv"), &hrss_cookie)
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with('\u{feff}'));
    assert!(
        csv.body
            .contains("2025年工资.csv,3,缴费月份,缴费月份：“2026-13”不是月份"),
        "{}",
        csv.body
    );
    // Another department's liaison does not see that file; a clerk has no feeds page.
    let (medical_cookie, _) = app.login("liaison").await;
    assert_eq!(
        app.get(&format!("/feeds/{file_id}"), &medical_cookie)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let (clerk_cookie, _) = app.login("clerk").await;
    assert_eq!(
        app.get("/feeds", &clerk_cookie).await.status,
        StatusCode::FORBIDDEN
    );

    let case = app
        .file_case(&clerk, head, "dibao", "feeds-case-00001")
        .await;
    let r = app
        .api(
            Method::POST,
            &format!("/api/v1/cases/{case}/verifications"),
            Some(&clerk),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let report = &r.json()["report"];
    assert!(report["facts_weighed"].as_i64().unwrap() >= 1);
    let (cookie, _) = app.login("clerk").await;
    let page = app.get(&format!("/cases/{case}"), &cookie).await;
    assert!(
        page.body.contains("家庭经济状况核对") && page.body.contains("最近一次核对"),
        "{}",
        page.body
    );
    // The report printed, and its reads in the audit log.
    let report_id = r.json()["id"].as_i64().unwrap();
    let print = app
        .get(&format!("/cases/{case}/verifications/{report_id}"), &cookie)
        .await;
    assert_eq!(print.status, StatusCode::OK);
    assert!(
        print.body.contains("家庭经济状况核对报告")
            && print.body.contains(&format!("第{report_id}号"))
    );
    let auditor = app.token("auditor", false).await;
    let log = app
        .api(
            Method::GET,
            &format!("/api/v1/audit?action=case.verifications.read&entity_id={case}"),
            Some(&auditor),
            None,
        )
        .await;
    assert!(log.body.contains("\"clerk\""), "{}", log.body);
}
