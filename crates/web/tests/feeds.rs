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
    let person = app
        .api(
            Method::GET,
            &format!("/api/v1/people/{head}?reveal=true"),
            Some(&clerk),
            None,
        )
        .await
        .json();
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
}
