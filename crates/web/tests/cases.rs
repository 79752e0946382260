//! The one-window pages and API in-process: filing, the case page for each role, printed forms,
//! the register as Excel, the applicant's status page and its rate limit.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::json;

/// Files and registers a medical-assistance application through the API as the clerk; returns
/// (case id, acceptance form number, last four characters of the applicant's number).
async fn filed(app: &common::App) -> (i64, String, String) {
    let clerk = app.token("clerk", false).await;
    let h = app
        .api(Method::GET, "/api/v1/households", Some(&clerk), None)
        .await
        .json();
    let head = h["items"][0]["head_person_id"].as_i64().unwrap();
    let body = json!({"applicant_person_id": head, "channel": "window", "hardship": "住院自付费用较高",
                      "causes": ["illness"], "items": ["medical_assistance"], "idempotency_key": "api-test-000001"});
    let c = app
        .api(
            Method::POST,
            "/api/v1/cases",
            Some(&clerk),
            Some(body.clone()),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let id = c.json()["id"].as_i64().unwrap();
    let again = app
        .api(Method::POST, "/api/v1/cases", Some(&clerk), Some(body))
        .await
        .json();
    assert_eq!(
        again["id"].as_i64(),
        Some(id),
        "the same key files one case"
    );
    let reg = json!({"accept": ["medical_assistance"], "transfer": true});
    let v = app
        .api(
            Method::POST,
            &format!("/api/v1/cases/{id}/registration"),
            Some(&clerk),
            Some(reg),
        )
        .await
        .json();
    let form_no = v["items"][0]["form_no"].as_str().unwrap().to_string();
    let person = app.revealed_person(&clerk, head).await;
    let number = person["id_number"].as_str().unwrap();
    (id, form_no, number[14..].to_string())
}

#[tokio::test]
async fn the_applicant_sees_progress_with_the_form_number_only() {
    let app = common::app(40).await;
    let (_, form_no, last4) = filed(&app).await;
    let page = app
        .get(&format!("/status?form_no={form_no}&last4={last4}"), "")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("医疗救助") && page.body.contains("已转交主管部门，等待部门接收"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("受理窗口：杨舍镇社会救助服务窗口"),
        "the applicant is told which office has it: {}",
        page.body
    );
    // The acceptance form names the office and where to look the progress up.
    let (cookie, _) = app.login("clerk").await;
    let case_id = app
        .services
        .cases()
        .by_form_no(&app.actor("clerk").await, &form_no)
        .await
        .unwrap()
        .unwrap();
    let printed = app
        .get(
            &format!("/cases/{case_id}/print/acceptance?item=medical_assistance"),
            &cookie,
        )
        .await;
    assert!(
        printed.body.contains("<td>杨舍镇社会救助服务窗口</td>")
            && printed
                .body
                .replace("&#x2f;", "/")
                .contains("://localhost/status</strong>"),
        "{}",
        printed.body
    );
    let wrong = app
        .get(&format!("/status?form_no={form_no}&last4=0000"), "")
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert!(!wrong.body.contains("医疗救助"));
    // The JSON form, and its limit per address: guessing stops after 20 tries in 10 minutes.
    let ok = app
        .api(
            Method::GET,
            &format!("/api/v1/status?form_no={form_no}&last4={last4}"),
            None,
            None,
        )
        .await;
    assert_eq!(ok.json()["items"][0]["name"], "医疗救助");
    let mut last = StatusCode::OK;
    for _ in 0..25 {
        last = app
            .api(
                Method::GET,
                &format!("/api/v1/status?form_no={form_no}&last4=9999"),
                None,
                None,
            )
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn case_pages_forms_and_the_register_render_for_each_role() {
    let app = common::app(60).await;
    let (id, _, _) = filed(&app).await;
    for (user, paths) in [
        (
            "clerk",
            vec![
                format!("/cases/{id}"),
                format!("/cases/{id}/print/acceptance?item=medical_assistance"),
                format!("/cases/{id}/print/transfer?item=medical_assistance"),
                "/queue".into(),
                "/overdue".into(),
                "/register".into(),
                "/cases/new?person=1".into(),
            ],
        ),
        (
            "liaison",
            vec![format!("/cases/{id}"), "/inbox".into(), "/overdue".into()],
        ),
        (
            "supervisor",
            vec![
                format!("/cases/{id}"),
                "/overdue".into(),
                "/register?from=2020-01-01".into(),
            ],
        ),
    ] {
        let (cookie, _) = app.login(user).await;
        for path in paths {
            let r = app.get(&path, &cookie).await;
            assert_eq!(r.status, StatusCode::OK, "{user} {path}: {}", r.body);
        }
    }
    // The household's page lists its applications.
    let (cookie, _) = app.login("clerk").await;
    let token = app.token("clerk", true).await;
    let case = app
        .api(
            Method::GET,
            &format!("/api/v1/cases/{id}"),
            Some(&token),
            None,
        )
        .await
        .json();
    let household = app
        .get(&format!("/households/{}", case["household_id"]), &cookie)
        .await;
    assert!(
        household.body.contains(&format!("href=\"/cases/{id}\"")),
        "{}",
        household.body
    );
    // The liaison of another department does not see the case.
    let (cookie, _) = app.login("liaison2").await;
    assert_eq!(
        app.get(&format!("/cases/{id}"), &cookie).await.status,
        StatusCode::NOT_FOUND
    );
    // The register downloads as a real workbook (a ZIP container).
    let (cookie, _) = app.login("clerk").await;
    let x = app.get("/register.xlsx?from=2020-01-01", &cookie).await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.headers["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    let page = app.get("/register?from=2020-01-01", &cookie).await;
    assert!(page.body.contains("医疗救助"));
}

#[tokio::test]
async fn a_case_with_every_outcome_waits_in_the_window_queue_to_be_closed() {
    let app = common::app(40).await;
    let (id, form_no, _) = filed(&app).await;
    // The liaison's inbox names the township, as the clerk's queue does.
    let (liaison_cookie, _) = app.login("liaison").await;
    let inbox = app.get("/inbox", &liaison_cookie).await;
    assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
    let row = inbox
        .body
        .split("<tr>")
        .find(|r| r.contains(&form_no))
        .expect("the case in the inbox");
    assert!(row.contains("<td>杨舍镇</td>"), "{row}");
    let liaison = app.token("liaison", false).await;
    for step in [
        json!({"action": "receive", "item": "medical_assistance"}),
        json!({"action": "refuse", "item": "medical_assistance", "note": "住院费用已由大病保险全额报销"}),
    ] {
        let r = app
            .api(
                Method::POST,
                &format!("/api/v1/cases/{id}/department-steps"),
                Some(&liaison),
                Some(step),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    // Every item has its outcome: the window is told to tell the applicant and close.
    let (clerk, _) = app.login("clerk").await;
    let queue = app.get("/queue", &clerk).await;
    let section = queue
        .body
        .split("待告知结果并结案")
        .nth(1)
        .expect("the section of cases to close");
    assert!(
        section.contains(&format!("/cases/{id}#close")) && section.contains(&form_no),
        "{section}"
    );
}

#[tokio::test]
async fn a_village_assistant_files_on_the_applicants_behalf_by_default() {
    let app = common::app(40).await;
    let assistant = app.actor("assistant").await;
    let person = app
        .services
        .people()
        .search(&assistant, &Default::default())
        .await
        .unwrap()
        .items[0]
        .id;
    for (user, chosen) in [("assistant", "village_assistant"), ("clerk", "window")] {
        let (cookie, _) = app.login(user).await;
        let form = app
            .get(&format!("/cases/new?person={person}"), &cookie)
            .await;
        assert_eq!(form.status, StatusCode::OK, "{user}: {}", form.body);
        assert!(
            form.body
                .contains(&format!("<option value=\"{chosen}\" selected>")),
            "{user}: {}",
            form.body
        );
    }
}

#[tokio::test]
async fn a_case_is_found_by_its_form_number_from_any_page() {
    let app = common::app(40).await;
    let (id, form_no, _) = filed(&app).await;
    let (cookie, _) = app.login("clerk").await;
    let home = app.get("/", &cookie).await;
    assert!(home.body.contains("action=\"&#x2f;find\"") || home.body.contains("action=\"/find\""));
    let found = app.get(&format!("/find?q={form_no}"), &cookie).await;
    assert_eq!(found.status, StatusCode::SEE_OTHER);
    assert_eq!(found.headers["location"], format!("/cases/{id}"));
    // Not a form number: the people it names.
    let named = app.get("/find?q=%E7%8E%8B", &cookie).await;
    assert_eq!(named.headers["location"], "/people?q=%E7%8E%8B");
    // Another township's clerk does not find it.
    let (other, _) = app.login("clerk2").await;
    let elsewhere = app.get(&format!("/find?q={form_no}"), &other).await;
    assert!(elsewhere.headers["location"]
        .to_str()
        .unwrap()
        .starts_with("/people"));
}

#[tokio::test]
async fn the_needs_assessment_comes_back_as_saved() {
    let app = common::app(40).await;
    let clerk = app.token("clerk", false).await;
    let h = app
        .api(Method::GET, "/api/v1/households", Some(&clerk), None)
        .await
        .json();
    let head = h["items"][1]["head_person_id"].as_i64().unwrap();
    let body = json!({"applicant_person_id": head, "channel": "window", "hardship": "儿子重病",
                      "causes": ["illness"], "items": ["medical_assistance", "dibao"],
                      "idempotency_key": "assessment-0001"});
    let c = app
        .api(Method::POST, "/api/v1/cases", Some(&clerk), Some(body))
        .await;
    let id = c.json()["id"].as_i64().unwrap();
    let (cookie, csrf) = app.login("clerk").await;
    let saved = app
        .post_form(
            &format!("/cases/{id}/registration"),
            &cookie,
            &[
                ("_csrf", &csrf),
                ("item", "medical_assistance"),
                ("decision_medical_assistance", "accept"),
                ("item", "dibao"),
                ("decision_dibao", "none"),
                ("structure", "夫妻二人与患病儿子同住"),
                ("health", "儿子白血病化疗中"),
                ("labour", "妻子半劳动力"),
                ("rigid_yuan", "48200.50"),
                ("notes", "已借亲友款8万元"),
            ],
        )
        .await;
    assert!(
        saved.status.is_redirection() || saved.status == StatusCode::OK,
        "{}",
        saved.body
    );
    let page = app.get(&format!("/cases/{id}"), &cookie).await.body;
    for value in [
        "夫妻二人与患病儿子同住",
        "儿子白血病化疗中",
        "妻子半劳动力",
        "48200.50",
        "已借亲友款8万元",
    ] {
        assert!(
            page.contains(&format!("value=\"{value}\"")),
            "{value} not on the form again"
        );
    }
}
