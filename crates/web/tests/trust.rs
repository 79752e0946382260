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
    // Failures do, per account and address: after eleven wrong passwords that account waits
    // at that address, and the rest of the office signs in.
    let app = &app;
    let form = |password: &'static str| login_form(app, "reviewer", password);
    for _ in 0..11 {
        let r = form("not-the-password1").await;
        assert!(!r.body.contains("过于频繁"), "refused too early");
    }
    let r = form("jiuzhu2026").await;
    assert!(r.body.contains("登录尝试过于频繁"), "{}", r.body);
    let r = login_form(app, "clerk", "jiuzhu2026").await;
    assert!(!r.body.contains("过于频繁"), "{}", r.body);
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
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

/// Posts the login form with a password.
async fn login_form(app: &common::App, username: &str, password: &str) -> common::Reply {
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
            ("username", username),
            ("password", password),
        ],
    )
    .await
}

/// Signs in through the form with a password, returning the session cookie.
async fn sign_in(app: &common::App, username: &str, password: &str) -> Option<String> {
    let r = login_form(app, username, password).await;
    common::cookie_value(&r.headers, "jz_session").map(|s| format!("jz_session={s}"))
}

#[tokio::test]
async fn a_reset_password_is_changed_first_and_weak_ones_are_refused() {
    let app = common::app(60).await;
    let security = app.token("security", false).await;
    let system = app.token("admin", false).await;
    let clerk_id = app.actor("clerk").await.user_id.unwrap();
    let path = format!("/api/v1/users/{clerk_id}/password");
    // Only the security administrator resets passwords.
    let r = app.api(Method::POST, &path, Some(&system), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = app.api(Method::POST, &path, Some(&security), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let temporary = r.json()["password"].as_str().unwrap().to_string();
    assert!(sign_in(&app, "clerk", "jiuzhu2026").await.is_none());
    let cookie = sign_in(&app, "clerk", &temporary).await.expect("signed in");
    // Every page leads to the password form until a new one is chosen.
    let home = app.get("/", &cookie).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.headers["location"], "/password");
    let form = app.get("/password", &cookie).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("已被重置"), "{}", form.body);
    let csrf = common::field_value(&form.body, "_csrf").unwrap();
    let change = |new: &'static str| {
        let (cookie, csrf, temporary) = (cookie.clone(), csrf.clone(), temporary.clone());
        let app = &app;
        async move {
            app.post_form(
                "/password",
                &cookie,
                &[
                    ("_csrf", csrf.as_str()),
                    ("current", temporary.as_str()),
                    ("password", new),
                    ("confirm", new),
                ],
            )
            .await
        }
    };
    let weak = change("aaaaaaaaa1").await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("过于简单"), "{}", weak.body);
    let named = change("clerk20261234").await;
    assert!(named.body.contains("不能包含用户名"), "{}", named.body);
    let ok = change("Yangshe-window-7").await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(app.get("/", &cookie).await.status, StatusCode::OK);
    assert!(sign_in(&app, "clerk", "Yangshe-window-7").await.is_some());
}

#[tokio::test]
async fn an_expired_password_must_be_changed() {
    let app = common::app(60).await;
    let security = app.token("security", false).await;
    let r = app
        .api(
            Method::PUT,
            "/api/v1/password-policy",
            Some(&security),
            Some(json!({"min_length": 12, "max_age_days": 30})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let long_ago = chrono::Utc::now() - chrono::Duration::days(31);
    let pool = sqlx::SqlitePool::connect(&app.url).await.unwrap();
    sqlx::query("UPDATE users SET password_changed_at = $1 WHERE username = 'reviewer'")
        .bind(long_ago)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let cookie = sign_in(&app, "reviewer", "jiuzhu2026").await.unwrap();
    let home = app.get("/", &cookie).await;
    assert_eq!(home.headers["location"], "/password");
    // Someone whose password is fresh goes straight in.
    let cookie = sign_in(&app, "clerk", "jiuzhu2026").await.unwrap();
    assert_eq!(app.get("/", &cookie).await.status, StatusCode::OK);
}

#[tokio::test]
async fn metrics_are_answered_to_this_machine_only() {
    use axum::extract::ConnectInfo;
    let app = common::app(60).await;
    let clerk = app.token("clerk", false).await;
    app.api(Method::GET, "/api/v1/me", Some(&clerk), None).await;
    let from = |ip: [u8; 4]| {
        axum::http::Request::get("/metrics")
            .extension(ConnectInfo(std::net::SocketAddr::from((ip, 40000))))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let local = app.send(from([127, 0, 0, 1])).await;
    assert_eq!(local.status, StatusCode::OK);
    assert!(
        local
            .body
            .contains("jiuzhu_http_requests_total{class=\"2xx\"}"),
        "{}",
        local.body
    );
    assert!(local
        .body
        .contains("jiuzhu_http_request_duration_seconds_count"));
    let overdue = local
        .body
        .lines()
        .find(|l| l.starts_with("jiuzhu_case_items_overdue "))
        .expect("overdue gauge");
    let n: i64 = overdue.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 0);
    let remote = app.send(from([203, 0, 113, 9])).await;
    assert_eq!(remote.status, StatusCode::NOT_FOUND);
}

/// The code an authenticator holding `secret` shows `steps` steps of 30 seconds from now.
fn code(secret: &str, steps: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    jiuzhu_services::auth::two_factor::code_at(secret, (now + steps * 30) as u64).unwrap()
}

async fn give_code(app: &common::App, cookie: &str, code: &str) -> common::Reply {
    let page = app.get("/two-factor", cookie).await;
    let csrf = common::field_value(&page.body, "_csrf").unwrap();
    app.post_form("/two-factor", cookie, &[("_csrf", &csrf), ("code", code)])
        .await
}

#[tokio::test]
async fn administrators_sign_in_with_a_password_and_a_one_time_code() {
    let app = common::app(20).await;
    // A clerk is not asked for a second factor.
    let clerk = sign_in(&app, "clerk", "jiuzhu2026").await.unwrap();
    assert!(app.get("/", &clerk).await.body.contains("您好"));

    // The password alone opens nothing but the two-factor page: no page, no API.
    let cookie = sign_in(&app, "auditor", "jiuzhu2026").await.unwrap();
    for path in ["/", "/audit", "/users"] {
        let r = app.get(path, &cookie).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.headers["location"], "/two-factor", "{path}");
    }
    let api = app
        .send(
            axum::http::Request::get("/api/v1/audit")
                .header("cookie", &cookie)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED, "{}", api.body);

    // The first time, the page shows the secret to bind (and its QR code).
    let page = app.get("/two-factor", &cookie).await;
    assert!(page.body.contains("绑定动态口令") && page.body.contains("<svg"));
    let secret = common::attribute_value(&page.body, "data-secret").unwrap();
    assert_eq!(secret.len(), 32, "a 160-bit secret in base32: {secret}");
    // A wrong code is refused with the reason and the page stays.
    let wrong = format!(
        "{:06}",
        (code(&secret, 0).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    let r = give_code(&app, &cookie, &wrong).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("动态验证码不正确"), "{}", r.body);
    assert_eq!(app.get("/", &cookie).await.status, StatusCode::SEE_OTHER);
    // The right code binds the authenticator and opens the session.
    let now = code(&secret, 0);
    let r = give_code(&app, &cookie, &now).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(app.get("/audit", &cookie).await.body.contains("审计"));

    // The next sign-in asks only for a code, and a code already used is refused.
    let again = sign_in(&app, "auditor", "jiuzhu2026").await.unwrap();
    let page = app.get("/two-factor", &again).await;
    assert!(page.body.contains("输入动态验证码") && !page.body.contains("data-secret"));
    let r = give_code(&app, &again, &now).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("已使用过"), "{}", r.body);
    // The next step's code (a phone's clock a little ahead) is accepted.
    let r = give_code(&app, &again, &code(&secret, 1)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Five wrong codes end the session: the password must be given again.
    let third = sign_in(&app, "auditor", "jiuzhu2026").await.unwrap();
    for i in 0..5 {
        let r = give_code(&app, &third, "000000").await;
        if i < 4 {
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        } else {
            assert_eq!(r.headers["location"], "/login");
        }
    }
    assert_eq!(
        app.get("/two-factor", &third).await.headers["location"],
        "/login"
    );

    // An administrator holds no token: it would act without the second factor.
    let auditor = app.actor("auditor").await;
    let issued = app
        .services
        .users()
        .issue_token(
            &auditor,
            &jiuzhu_services::auth::TokenInput {
                user_id: auditor.user_id.unwrap(),
                name: "脚本".into(),
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(&issued, Err(jiuzhu_services::ServiceError::Invalid { message, .. }) if message.contains("不能持有令牌")),
        "{issued:?}"
    );

    // A lost phone: the installer unbinds it, sessions end, and a new secret is bound.
    let installer = jiuzhu_services::Actor::installer(auditor.region.clone());
    app.services
        .users()
        .reset_second_factor(&installer, "auditor")
        .await
        .unwrap();
    assert_eq!(
        app.get("/audit", &cookie).await.headers["location"],
        "/login"
    );
    let fresh = sign_in(&app, "auditor", "jiuzhu2026").await.unwrap();
    let page = app.get("/two-factor", &fresh).await;
    let new_secret = common::attribute_value(&page.body, "data-secret").unwrap();
    assert_ne!(new_secret, secret);
    // A signed-in user cannot unbind anyone, not even the security administrator.
    let security = app.actor("security").await;
    assert!(app
        .services
        .users()
        .reset_second_factor(&security, "auditor")
        .await
        .is_err());

    // Each step is in the audit log.
    let actions: Vec<String> = {
        let mut tx = app.services.store.begin_read().await.unwrap();
        tx.search_audit(&jiuzhu_store::AuditFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .0
        .into_iter()
        .filter(|r| {
            r.actor_name == "auditor" || r.entity_id == auditor.user_id.unwrap().to_string()
        })
        .map(|r| r.action)
        .collect()
    };
    for action in ["two_factor.bind", "login.second_factor", "two_factor.reset"] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    assert!(actions.iter().filter(|a| *a == "login.failed").count() >= 6);
}

#[tokio::test]
async fn pages_with_personal_data_are_not_cached_framed_or_sniffed() {
    let app = common::app(20).await;
    let (hid, _, _) = common::enrolled_household(&app, 841).await;
    let cookie = sign_in(&app, "clerk", "jiuzhu2026").await.unwrap();
    for path in [
        "/people".to_string(),
        format!("/households/{hid}/file"),
        "/recipients".into(),
    ] {
        let page = app.get(&path, &cookie).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        let h = |name: &str| {
            page.headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        assert_eq!(h("cache-control"), "no-store", "{path}");
        assert_eq!(h("x-frame-options"), "DENY", "{path}");
        assert_eq!(h("x-content-type-options"), "nosniff", "{path}");
        assert!(
            h("content-security-policy").contains("frame-ancestors 'none'"),
            "{path}"
        );
    }
}
