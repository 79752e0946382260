//! The JSON API as a department system or script uses it: errors, scope and tokens.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use chrono::NaiveDate;
use jiuzhu_domain::IdNumber;
use serde_json::json;

fn person(id: &str, village: &str) -> serde_json::Value {
    json!({
        "id_number": id, "name": "缪秀英", "hukou_region": village, "residence_region": village,
        "phone": "13812345678", "labour_capacity": "none", "self_care": "partial", "residence_permit": false
    })
}

fn new_id(seq: u16) -> String {
    IdNumber::from_parts("320582", NaiveDate::from_ymd_opt(1948, 8, 8).unwrap(), seq)
        .unwrap()
        .expose()
        .to_string()
}

async fn village_of(app: &common::App, token: &str, town: &str) -> String {
    let regions = app
        .api(Method::GET, "/api/v1/regions", Some(token), None)
        .await
        .json();
    regions
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["level"] == "village" && r["code"].as_str().unwrap().starts_with(town))
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn errors_are_json_with_a_chinese_message_and_the_field() {
    let app = common::app(60).await;
    let clerk = app.token("clerk", false).await;
    let village = village_of(&app, &clerk, "320582100").await;

    let created = app
        .api(
            Method::POST,
            "/api/v1/people",
            Some(&clerk),
            Some(person(&new_id(12), &village)),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let p = created.json();
    assert_eq!(p["sex"], "女");
    assert!(p["id_number"].as_str().unwrap().contains("**********"));

    // A wrong check digit.
    let mut bad = new_id(14);
    let last = if bad.ends_with('1') { "2" } else { "1" };
    bad.replace_range(17..18, last);
    let r = app
        .api(
            Method::POST,
            "/api/v1/people",
            Some(&clerk),
            Some(person(&bad, &village)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = r.json();
    assert_eq!(
        (e["code"].as_str(), e["field"].as_str()),
        (Some("invalid"), Some("id_number"))
    );
    assert!(e["message"].as_str().unwrap().contains("校验位"), "{e}");

    // The same person twice.
    let r = app
        .api(
            Method::POST,
            "/api/v1/people",
            Some(&clerk),
            Some(person(&new_id(12), &village)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["field"], "id_number");

    // A field of the wrong type is named by its path.
    let mut wrong = person(&new_id(16), &village);
    wrong["disability_grade"] = json!("二级");
    let r = app
        .api(Method::POST, "/api/v1/people", Some(&clerk), Some(wrong))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["field"], "disability_grade");

    // Malformed, oversized, not JSON at all, no credentials, unknown route.
    let raw = |body: Vec<u8>, ct: &str| {
        Request::post("/api/v1/people")
            .header(header::AUTHORIZATION, format!("Bearer {clerk}"))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap()
    };
    let r = app
        .send(raw(b"{\"name\": ".to_vec(), "application/json"))
        .await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid"))
    );
    let r = app.send(raw(vec![b' '; 2 << 20], "application/json")).await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload"))
    );
    let r = app
        .send(raw(b"name=x".to_vec(), "application/x-www-form-urlencoded"))
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = app.api(Method::GET, "/api/v1/people", None, None).await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthenticated"))
    );
    let r = app
        .api(Method::GET, "/api/v1/nothing-here", Some(&clerk), None)
        .await;
    assert_eq!(r.json()["code"], "not_found");
    // Nothing half written: still exactly one new person.
    let found = app
        .api(Method::GET, "/api/v1/people?q=缪秀英", Some(&clerk), None)
        .await
        .json();
    assert_eq!(found["total"], 1);
}

#[tokio::test]
async fn a_clerk_token_cannot_reach_another_township() {
    let app = common::app(120).await;
    let clerk = app.token("clerk", false).await;
    let clerk2 = app.token("clerk2", false).await;
    let tangqiao = village_of(&app, &clerk2, "320582101").await;
    let p = app
        .api(
            Method::POST,
            "/api/v1/people",
            Some(&clerk2),
            Some(person(&new_id(21), &tangqiao)),
        )
        .await
        .json();
    let id = p["id"].as_i64().unwrap();

    let r = app
        .api(
            Method::GET,
            &format!("/api/v1/people/{id}"),
            Some(&clerk),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let r = app
        .api(
            Method::GET,
            &format!("/api/v1/people?q={}", new_id(21)),
            Some(&clerk),
            None,
        )
        .await;
    assert_eq!(r.json()["total"], 0);
    let listed = app
        .api(Method::GET, "/api/v1/people", Some(&clerk), None)
        .await
        .json();
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["region_code"].as_str().unwrap().starts_with("320582100")));
    let mut change = person(&new_id(21), &tangqiao);
    change["revision"] = json!(1);
    let r = app
        .api(
            Method::PUT,
            &format!("/api/v1/people/{id}"),
            Some(&clerk),
            Some(change),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Writing someone into another township is refused by field.
    let r = app
        .api(
            Method::POST,
            "/api/v1/people",
            Some(&clerk),
            Some(person(&new_id(23), &tangqiao)),
        )
        .await;
    assert_eq!(r.json()["field"], "residence_region");
    // The owner reads it, revealed only on request.
    let own = app
        .api(
            Method::GET,
            &format!("/api/v1/people/{id}?reveal=true"),
            Some(&clerk2),
            None,
        )
        .await
        .json();
    assert_eq!(own["id_number"], new_id(21));
}

#[tokio::test]
async fn tokens_are_scoped_read_only_and_revocable() {
    let app = common::app(30).await;
    let read_only = app.token("clerk", true).await;
    let me = app
        .api(Method::GET, "/api/v1/me", Some(&read_only), None)
        .await
        .json();
    assert_eq!(
        (me["role"].as_str(), me["read_only"].as_bool()),
        (Some("window_clerk"), Some(true))
    );
    let village = village_of(&app, &read_only, "320582100").await;
    let r = app
        .api(
            Method::POST,
            "/api/v1/people",
            Some(&read_only),
            Some(person(&new_id(31), &village)),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    // The liaison's token sees the catalogue but not the registry.
    let liaison = app.token("liaison", false).await;
    assert_eq!(
        app.api(Method::GET, "/api/v1/catalogue", Some(&liaison), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/people", Some(&liaison), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Revoked through the API by the security administrator.
    let admin = app.token("security", false).await;
    let clerk_id = app.actor("clerk").await.user_id.unwrap();
    let tokens = app
        .api(
            Method::GET,
            &format!("/api/v1/users/{clerk_id}/tokens"),
            Some(&admin),
            None,
        )
        .await
        .json();
    let tid = tokens[0]["id"].as_i64().unwrap();
    assert_eq!(
        app.api(
            Method::DELETE,
            &format!("/api/v1/tokens/{tid}"),
            Some(&admin),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", Some(&read_only), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", Some("jz_forged"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_browser_session_needs_the_csrf_header_for_writes() {
    let app = common::app(20).await;
    let (cookie, csrf) = app.login("clerk").await;
    let get = app
        .send(
            Request::get("/api/v1/me")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(get.json()["username"], "clerk");
    let post = |with: Option<&str>| {
        let mut b = Request::post("/api/v1/people")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = with {
            b = b.header("x-csrf-token", t);
        }
        b.body(Body::from(person(&new_id(41), "320582100201").to_string()))
            .unwrap()
    };
    let r = app.send(post(None)).await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("csrf"))
    );
    let r = app.send(post(Some("wrong"))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.send(post(Some(&csrf))).await;
    assert_ne!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
}

#[tokio::test]
async fn working_days_are_answered_on_the_official_calendar() {
    let app = common::app(5).await;
    let t = app.token("clerk", true).await;
    let r = app
        .api(
            Method::GET,
            "/api/v1/calendar/due?from=2025-09-30&days=1",
            Some(&t),
            None,
        )
        .await
        .json();
    assert_eq!(r, json!({"date": "2025-10-09", "provisional": false}));
    let r = app
        .api(
            Method::GET,
            "/api/v1/calendar/due?from=2026-12-30&days=3",
            Some(&t),
            None,
        )
        .await
        .json();
    assert_eq!(r["provisional"], true);
    let r = app
        .api(
            Method::GET,
            "/api/v1/calendar/due?from=yesterday&days=3",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.json()["code"], "invalid");
}

#[tokio::test]
async fn the_openapi_document_is_stable() {
    let doc = serde_json::to_value(jiuzhu_web::api::document()).unwrap();
    assert!(doc["paths"]["/api/v1/people"]["post"].is_object());
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn the_health_check_names_the_database() {
    let app = common::app(1).await;
    let r = app
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.json(), json!({"status": "ok", "database": "sqlite"}));
}
