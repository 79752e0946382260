//! Those in assistance over HTTP: the register in scope and as a workbook, the two-person review,
//! the household file, and the pages each role works on.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn the_register_the_review_and_the_file_through_the_api() {
    let app = common::app(60).await;
    let (hid, enrolment, head) = common::enrolled_household(&app, 811).await;
    let clerk = app.token("clerk", false).await;
    let clerk2 = app.token("clerk2", false).await;
    let reviewer = app.token("reviewer", false).await;

    // The register of this month: the household, masked, and only 杨舍镇 for its clerk.
    let reg = app
        .api(
            Method::GET,
            "/api/v1/register?program=dibao",
            Some(&clerk),
            None,
        )
        .await;
    assert_eq!(reg.status, StatusCode::OK, "{}", reg.body);
    let reg = reg.json();
    let row = reg["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["household_id"] == hid)
        .expect("the household is on the register");
    assert_eq!(row["name"], head);
    assert_eq!(row["amount_fen"], 10_000);
    assert_eq!(row["persons"], 2);
    assert!(row["id_number_masked"].as_str().unwrap().contains("****"));
    assert!(reg["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["township"] == "杨舍镇"));
    let other = app
        .api(Method::GET, "/api/v1/register", Some(&clerk2), None)
        .await
        .json();
    assert!(other["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["household_id"] != hid && r["township"] == "塘桥镇"));
    let hidden = app
        .api(
            Method::GET,
            &format!("/api/v1/enrolments/{enrolment}"),
            Some(&clerk2),
            None,
        )
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let outside = app
        .api(
            Method::GET,
            "/api/v1/register?region=320582101",
            Some(&clerk),
            None,
        )
        .await;
    assert_eq!(outside.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(outside.json()["field"], "region");
    // The full numbers of a page only on request, by a role that may, and recorded.
    let revealed = app
        .api(
            Method::GET,
            "/api/v1/register?program=dibao&reveal=true",
            Some(&clerk),
            None,
        )
        .await
        .json();
    let shown = revealed["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["household_id"] == hid)
        .unwrap()["id_number"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(shown.len(), 18);
    assert!(!shown.contains('*'));
    let admin = app.token("admin", false).await;
    let refused = app
        .api(
            Method::GET,
            "/api/v1/register?reveal=true",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let mut tx = app.services.store.begin_read().await.unwrap();
    let (reveals, _) = tx
        .search_audit(&jiuzhu_store::AuditFilter {
            action_prefix: Some("register.reveal".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    drop(tx);
    assert_eq!(reveals.len(), 1);
    let xlsx = app
        .api(Method::GET, "/api/v1/register.xlsx", Some(&clerk), None)
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.headers["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));

    // A change before the enrolment began is refused with its field.
    let early = app
        .api(
            Method::POST,
            &format!("/api/v1/enrolments/{enrolment}/changes"),
            Some(&reviewer),
            Some(json!({"month": "2001-01", "change": {"kind": "suspended"}, "reason": "外出"})),
        )
        .await;
    assert_eq!(
        early.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        early.body
    );
    assert_eq!(early.json()["field"], "month");

    // Due today: the clerk reviews, the reviewer confirms the adjustment.
    let due = app
        .api(Method::GET, "/api/v1/reviews/due", Some(&clerk), None)
        .await
        .json();
    assert!(due
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["enrolment_id"] == enrolment));
    let r = app
        .api(
            Method::POST,
            "/api/v1/reviews",
            Some(&clerk),
            Some(json!({"enrolment_ids": [enrolment]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["reviewed"], 1);
    let proposals = app
        .api(
            Method::GET,
            "/api/v1/reviews/proposals",
            Some(&reviewer),
            None,
        )
        .await
        .json();
    let p = proposals
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["enrolment_id"] == enrolment)
        .unwrap()
        .clone();
    assert_eq!(p["outcome"], "adjust", "{p}");
    let decision = format!("/api/v1/reviews/{}/decision", p["id"]);
    let by_clerk = app
        .api(
            Method::POST,
            &decision,
            Some(&clerk),
            Some(json!({"confirm": true})),
        )
        .await;
    assert_eq!(by_clerk.status, StatusCode::FORBIDDEN);
    let ok = app
        .api(
            Method::POST,
            &decision,
            Some(&reviewer),
            Some(json!({"confirm": true})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    let twice = app
        .api(
            Method::POST,
            &decision,
            Some(&reviewer),
            Some(json!({"confirm": true})),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);

    // The household file shows the adjustment and the review.
    let file = app
        .api(
            Method::GET,
            &format!("/api/v1/households/{hid}/file"),
            Some(&clerk),
            None,
        )
        .await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    let file = file.json();
    let e = &file["enrolments"][0];
    assert_eq!(e["changes"][1]["kind"], "adjusted");
    assert_eq!(e["reviews"][0]["status"], "confirmed");

    // The state of any month: before the enrolment nothing, in its first month the first amount.
    let first = app
        .services
        .today()
        .checked_sub_months(chrono::Months::new(13))
        .unwrap();
    let then = app
        .api(
            Method::GET,
            &format!(
                "/api/v1/enrolments/{enrolment}?month={}",
                first.format("%Y-%m")
            ),
            Some(&clerk),
            None,
        )
        .await
        .json();
    assert_eq!(
        (then["status"].as_str(), then["amount_fen"].as_i64()),
        (Some("paid"), Some(10_000))
    );
    let before = first.checked_sub_months(chrono::Months::new(1)).unwrap();
    let none = app
        .api(
            Method::GET,
            &format!(
                "/api/v1/enrolments/{enrolment}?month={}",
                before.format("%Y-%m")
            ),
            Some(&clerk),
            None,
        )
        .await
        .json();
    assert_eq!(none["status"], "not_yet");

    // Entered by hand: an overlapping 低保 is refused; 低保边缘 waits for two other people.
    let next = app
        .services
        .today()
        .checked_add_months(chrono::Months::new(1))
        .unwrap();
    let month = next.format("%Y-%m").to_string();
    let twice = app
        .api(
            Method::POST,
            "/api/v1/enrolments",
            Some(&clerk),
            Some(json!({"household_id": hid, "program": "dibao", "amount_fen": 50_000, "first_month": month, "note": "旧名册移交"})),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    let manual = app
        .api(
            Method::POST,
            "/api/v1/enrolments",
            Some(&clerk),
            Some(json!({"household_id": hid, "program": "near_dibao", "amount_fen": 20_000, "first_month": month, "note": "镇联席评审会议纪要第12号"})),
        )
        .await;
    assert_eq!(manual.status, StatusCode::CREATED, "{}", manual.body);
    let id = manual.json()["id"].as_i64().unwrap();
    let decide = format!("/api/v1/enrolments/{id}/decision");
    let yes = json!({"approve": true, "note": ""});
    for (who, token, status) in [
        ("reviewer reviews", &reviewer, StatusCode::OK),
        (
            "reviewer confirms her own review",
            &reviewer,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = app
            .api(Method::POST, &decide, Some(token), Some(yes.clone()))
            .await;
        assert_eq!(r.status, status, "{who}: {}", r.body);
    }
    let reviewer2 = app.token("reviewer2", false).await;
    let confirmed = app
        .api(Method::POST, &decide, Some(&reviewer2), Some(yes.clone()))
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    assert_eq!(confirmed.json()["first_month"], month);

    // A plan whose need has no measure nor reason is not approved.
    let plan = app
        .api(
            Method::POST,
            &format!("/api/v1/households/{hid}/plans"),
            Some(&clerk),
            Some(json!({"causes": ["illness"], "needs": [{"need": "慢病用药"}]})),
        )
        .await;
    assert_eq!(plan.status, StatusCode::CREATED, "{}", plan.body);
    let approve = app
        .api(
            Method::POST,
            &format!("/api/v1/plans/{}/approval", plan.json()["id"]),
            Some(&reviewer),
            None,
        )
        .await;
    assert_eq!(approve.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(approve.json()["field"], "needs[0]");
}

#[tokio::test]
async fn each_role_reads_its_recipients_pages_in_chinese() {
    let app = common::app(200).await;
    let (hid, enrolment, head) = common::enrolled_household(&app, 821).await;
    let (clerk, _) = app.login("clerk").await;
    let (reviewer, _) = app.login("reviewer").await;
    let (assistant, _) = app.login("assistant").await;
    for (who, cookie, path, expect) in [
        ("clerk", &clerk, "/recipients".to_string(), "救助对象名册"),
        ("clerk", &clerk, "/reviews".to_string(), "到期的复核"),
        (
            "clerk",
            &clerk,
            format!("/households/{hid}/file"),
            "一户一档",
        ),
        (
            "clerk",
            &clerk,
            format!("/enrolments/{enrolment}"),
            "保障变更记录",
        ),
        (
            "reviewer",
            &reviewer,
            "/enrolments".to_string(),
            "待审核、待确认",
        ),
        ("assistant", &assistant, "/visits".to_string(), "走访"),
    ] {
        let page = app.get(&path, cookie).await;
        assert_eq!(page.status, StatusCode::OK, "{who} {path}: {}", page.body);
        assert!(page.body.contains(expect), "{who} {path}");
        // People read names and places, not codes (attributes may carry them for machines).
        let text = visible(&page.body);
        for code in ["dibao", "pending_review", "320582100", "confirmed"] {
            assert!(!text.contains(code), "{who} {path} shows {code}: {text}");
        }
    }
    // The household has not been visited since it was enrolled: the supervisor's board says so.
    let (supervisor, _) = app.login("supervisor").await;
    let board = app.get("/overdue", &supervisor).await;
    assert!(board.body.contains("逾期未走访"), "{}", board.body);
    let due = app.get("/visits", &clerk).await;
    assert!(
        due.body.contains(&head) && due.body.contains("已逾期"),
        "{}",
        due.body
    );
    let file = app.get(&format!("/households/{hid}/file"), &clerk).await;
    assert!(file.body.contains(&head) && file.body.contains("最低生活保障"));
    let roster = app.get("/recipients.xlsx", &clerk).await;
    assert_eq!(roster.status, StatusCode::OK);
    // Another township's clerk does not open the file.
    let (clerk2, _) = app.login("clerk2").await;
    assert_eq!(
        app.get(&format!("/households/{hid}/file"), &clerk2)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// The text of a page as a person reads it: without tags, scripts or styles.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}
