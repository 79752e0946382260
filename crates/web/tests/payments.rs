//! Payments over HTTP: a payee, the month's roll, two people to approve it, the bank file, the
//! return, and the pages.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn a_roll_is_made_approved_sent_and_reconciled_through_the_api() {
    let app = common::app(40).await;
    let (hid, enrolment, head) = common::enrolled_household(&app, 851).await;
    let clerk = app.token("clerk", false).await;
    let reviewer = app.token("reviewer", false).await;
    let approver = app.token("approver", false).await;
    let file = app
        .api(
            Method::GET,
            &format!("/api/v1/households/{hid}/file"),
            Some(&clerk),
            None,
        )
        .await
        .json();
    let person = file["household"]["head_person_id"].as_i64().unwrap();

    // Before an account is registered, the draft names the household instead of paying it.
    let month = app.services.today().format("%Y-%m").to_string();
    let draft = app
        .api(
            Method::POST,
            "/api/v1/rolls",
            Some(&clerk),
            Some(json!({"month": month, "program": "dibao"})),
        )
        .await
        .json();
    assert!(draft["missing_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["enrolment_id"] == enrolment && m["name"] == head));
    assert!(draft["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["household_id"] != hid));

    // A bad account is refused with its field; a good one is kept masked.
    let path = format!("/api/v1/enrolments/{enrolment}/payee");
    let bad = app
        .api(
            Method::PUT,
            &path,
            Some(&clerk),
            Some(json!({"person_id": person, "holder_name": head, "bank": "张家港农商银行", "account": "6222-12"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["field"], "account");
    let ok = app
        .api(
            Method::PUT,
            &path,
            Some(&clerk),
            Some(json!({"person_id": person, "holder_name": head, "bank": "张家港农商银行", "account": "6222021102003451234"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.json()["account_masked"], "6222 **** **** 1234");
    assert!(!ok.body.contains("6222021102003451234"));

    let roll = app
        .api(
            Method::POST,
            "/api/v1/rolls",
            Some(&clerk),
            Some(json!({"month": month, "program": "dibao"})),
        )
        .await;
    assert_eq!(roll.status, StatusCode::CREATED, "{}", roll.body);
    let roll = roll.json();
    let id = roll["id"].as_i64().unwrap();
    let line = roll["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["household_id"] == hid)
        .expect("the household is on the roll")
        .clone();
    assert_eq!(line["amount_fen"], 10_000);
    let step = |s: &str| format!("/api/v1/rolls/{id}/{s}");
    assert_eq!(
        app.api(Method::POST, &step("check"), Some(&reviewer), None)
            .await
            .status,
        StatusCode::OK
    );
    let same = app
        .api(Method::POST, &step("approve"), Some(&reviewer), None)
        .await;
    assert_eq!(same.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(same.json()["field"], "approved_by");
    let approved = app
        .api(Method::POST, &step("approve"), Some(&approver), None)
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);

    let bank = app
        .api(
            Method::GET,
            &step("bank-file?unit=320582MZJ"),
            Some(&approver),
            None,
        )
        .await;
    assert_eq!(bank.status, StatusCode::OK);
    assert!(bank.headers["content-type"]
        .to_str()
        .unwrap()
        .contains("GBK"));
    let sheet = app
        .api(
            Method::GET,
            &step("bank-file?layout=csv"),
            Some(&approver),
            None,
        )
        .await;
    assert_eq!(sheet.status, StatusCode::OK);
    assert!(sheet.headers["content-type"]
        .to_str()
        .unwrap()
        .contains("text/csv"));
    let odd = app
        .api(
            Method::GET,
            &step("bank-file?layout=xml"),
            Some(&approver),
            None,
        )
        .await;
    assert_eq!(odd.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(odd.json()["field"], "layout");

    // The whole roll returned paid: it closes.
    let detail = app
        .api(
            Method::GET,
            &format!("/api/v1/rolls/{id}"),
            Some(&approver),
            None,
        )
        .await
        .json();
    let items = detail["items"].as_array().unwrap();
    let total: i64 = items
        .iter()
        .map(|l| l["amount_fen"].as_i64().unwrap())
        .sum();
    let yuan = |f: i64| format!("{}.{:02}", f / 100, f % 100);
    let mut body = format!("20261203|320582MZJ|{}|{}\n", items.len(), yuan(total));
    for l in items {
        let masked = l["account_masked"].as_str().unwrap();
        body.push_str(&format!(
            "{}|{}|{}|{}|成功|\n",
            l["seq"],
            l["holder_name"].as_str().unwrap(),
            masked.replace(' ', "").replace('*', "0"),
            yuan(l["amount_fen"].as_i64().unwrap())
        ));
    }
    let ret = app
        .send(
            axum::http::Request::post(step("returns?file_name=回盘.txt"))
                .header("authorization", format!("Bearer {approver}"))
                .body(axum::body::Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(ret.status, StatusCode::CREATED, "{}", ret.body);
    assert_eq!(ret.json()["closed"], true, "{}", ret.body);

    // Money obtained by concealing an income: a receivable, recovered in full.
    let owed = app
        .api(
            Method::POST,
            "/api/v1/receivables",
            Some(&approver),
            Some(json!({"household_id": hid, "amount_fen": 5_000, "cause": "隐瞒子女工资收入（复核发现）"})),
        )
        .await;
    assert_eq!(owed.status, StatusCode::CREATED, "{}", owed.body);
    let rid = owed.json()["id"].as_i64().unwrap();
    let back = app
        .api(
            Method::POST,
            &format!("/api/v1/receivables/{rid}/recoveries"),
            Some(&clerk),
            Some(json!({"amount_fen": 5_000, "method": "refund", "note": "本人到镇民政办退回"})),
        )
        .await;
    assert_eq!(back.status, StatusCode::CREATED, "{}", back.body);
    assert_eq!(back.json()["cleared"], true);
    let file = app
        .api(
            Method::GET,
            &format!("/api/v1/households/{hid}/file"),
            Some(&clerk),
            None,
        )
        .await
        .json();
    assert_eq!(file["payments"][0]["status_label"], "已发放");
    assert_eq!(file["receivables"][0]["cleared"], true);

    // The pages: the receivables, the rolls and this one, in Chinese.
    let (clerk_cookie, csrf) = app.login("clerk").await;
    let page = app.get("/receivables", &clerk_cookie).await;
    assert!(page.body.contains("隐瞒子女工资收入") && page.body.contains("已追回"));
    let over = app
        .post_form(
            &format!("/receivables/{rid}/recoveries"),
            &clerk_cookie,
            &[
                ("_csrf", &csrf),
                ("amount_yuan", "1.00"),
                ("method", "refund"),
            ],
        )
        .await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(over.body.contains("不超过未追回"), "{}", over.body);
    let (cookie, _) = app.login("approver").await;
    let list = app.get("/rolls", &cookie).await;
    assert!(list.body.contains("发放花名册") && list.body.contains("已对账结清"));
    let page = app.get(&format!("/rolls/{id}"), &cookie).await;
    assert!(page.body.contains(&head) && page.body.contains("已发放"));
}
