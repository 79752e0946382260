//! What a security review probes: writes behind read-only access, amounts meant to overflow.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::json;

async fn a_case_of(app: &common::App, token: &str) -> i64 {
    let queue = app
        .api(Method::GET, "/api/v1/queues/window", Some(token), None)
        .await
        .json();
    queue[0]["case_id"]
        .as_i64()
        .expect("a case waiting at the window")
}

#[tokio::test]
async fn read_only_tokens_and_the_supervisor_cannot_save_reports_or_evaluations() {
    let app = common::app(60).await;
    let clerk = app.token("clerk", false).await;
    let read_only = app.token("clerk", true).await;
    let supervisor = app.token("supervisor", false).await;
    let case = a_case_of(&app, &clerk).await;
    let verifications = format!("/api/v1/cases/{case}/verifications");
    let evaluations = format!("/api/v1/cases/{case}/evaluations");
    for (who, token) in [("read-only token", &read_only), ("supervisor", &supervisor)] {
        for path in [&verifications, &evaluations] {
            let r = app.api(Method::POST, path, Some(token), None).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{who} {path}: {}", r.body);
            assert_eq!(r.json()["code"], "forbidden");
            // Reading stays open to them.
            let read = app.api(Method::GET, path, Some(token), None).await;
            assert_eq!(read.status, StatusCode::OK, "{who} {path}: {}", read.body);
        }
    }
    // Nothing was saved by either of them.
    let reports = app
        .api(Method::GET, &verifications, Some(&clerk), None)
        .await
        .json();
    assert_eq!(reports.as_array().unwrap().len(), 0);
    // The clerk who works the case may.
    let r = app
        .api(Method::POST, &verifications, Some(&clerk), None)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn amounts_meant_to_overflow_are_refused_with_the_field() {
    let app = common::app(60).await;
    let clerk = app.token("clerk", false).await;
    let huge = "92233720368547758.07";
    let household = json!({
        "jurisdiction": "zhangjiagang",
        "month": "2026-11",
        "members": [
            {"age": 40, "incomes": [{"kind": "wage", "monthly": huge}]},
            {"age": 41, "incomes": [{"kind": "wage", "monthly": huge}]}
        ]
    });
    let r = app
        .api(
            Method::POST,
            "/api/v1/evaluate",
            Some(&clerk),
            Some(household),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let body = r.json();
    assert_eq!(body["code"], "invalid");
    assert!(
        body["message"].as_str().unwrap().contains("超出范围"),
        "{body}"
    );

    // Ten billion yuan is the most any amount may be; one fen more is refused.
    let edge = json!({
        "jurisdiction": "zhangjiagang",
        "month": "2026-11",
        "members": [{"age": 40, "incomes": [{"kind": "wage", "monthly": "10000000000.01"}]}]
    });
    let r = app
        .api(Method::POST, "/api/v1/evaluate", Some(&clerk), Some(edge))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    // A department cannot grant more than one item can be worth.
    let civil = app.token("liaison3", false).await;
    let case = a_case_of(&app, &clerk).await;
    let r = app
        .api(
            Method::POST,
            &format!("/api/v1/cases/{case}/department-steps"),
            Some(&civil),
            Some(json!({
                "action": "complete", "item": "dibao", "outcome": "granted",
                "amount_fen": 9_223_372_036_854_775_807i64, "monthly": true
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["field"], "amount_fen");
}

#[tokio::test]
async fn a_whole_office_signs_in_through_one_gateway() {
    let app = common::app(60).await;
    // Fifteen sign-ins from one address in a row: successes do not count against it.
    for i in 0..15 {
        let user = if i % 2 == 0 { "clerk" } else { "assistant" };
        app.login(user).await;
    }
    // Failures do: after eleven wrong passwords the address waits.
    let app = &app;
    let form = |password: &'static str| async move {
        let page = app
            .send(
                axum::http::Request::get("/login")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        let pre = common::cookie_value(&page.headers, "jz_login").unwrap();
        app.post_form(
            "/login",
            &format!("jz_login={pre}"),
            &[
                ("_csrf", &pre),
                ("username", "reviewer"),
                ("password", password),
            ],
        )
        .await
    };
    for _ in 0..11 {
        let r = form("not-the-password1").await;
        assert!(!r.body.contains("过于频繁"), "refused too early");
    }
    let r = form("jiuzhu2026").await;
    assert!(r.body.contains("登录尝试过于频繁"), "{}", r.body);
}

#[tokio::test]
async fn refused_accesses_leave_a_row_the_auditor_reads() {
    let app = common::app(60).await;
    let clerk = app.token("clerk", false).await;
    let auditor = app.token("auditor", false).await;
    // Beyond the clerk's role, and a case of another township (answered "not found").
    let r = app
        .api(Method::GET, "/api/v1/users", Some(&clerk), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let clerk2 = app.token("clerk2", false).await;
    let elsewhere = a_case_of(&app, &clerk2).await;
    let path = format!("/api/v1/cases/{elsewhere}");
    let r = app.api(Method::GET, &path, Some(&clerk), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let log = app
        .api(
            Method::GET,
            "/api/v1/audit?action=access.refused",
            Some(&auditor),
            None,
        )
        .await
        .json();
    let rows = log["items"].as_array().unwrap();
    let refused = |p: &str| {
        rows.iter().any(|row| {
            row["entity_id"] == p && row["actor_name"].as_str().unwrap().starts_with("clerk#")
        })
    };
    assert!(refused("/api/v1/users"), "{log}");
    assert!(refused(&path), "{log}");
}
