//! Policy through the API and the pages: the calculator, parameters and their history, adding a
//! value, what-if simulation with its chart, and a case's evaluation kept with the case.

mod common;

use axum::http::{Method, StatusCode};
use serde_json::json;

fn example() -> serde_json::Value {
    serde_json::from_str(include_str!("../../../examples/household.json")).unwrap()
}

#[tokio::test]
async fn the_calculator_returns_every_decision_with_its_trace_and_names_bad_fields() {
    let app = common::app(40).await;
    let clerk = app.token("clerk", false).await;
    let r = app
        .api(
            Method::POST,
            "/api/v1/evaluate",
            Some(&clerk),
            Some(example()),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["jurisdiction"], "zhangjiagang");
    let dibao = &v["decisions"][0];
    assert_eq!(dibao["program"], "dibao");
    assert_eq!(dibao["amount_fen"], 435_600);
    assert!(dibao["trace"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["kind"] == "parameter"
            && s["name"] == "dibao.standard"
            && s["text"] == "1,389.00元"));

    let mut with_override = example();
    with_override["parameters"] = json!({"dibao.standard": "1500"});
    let v = app
        .api(
            Method::POST,
            "/api/v1/evaluate",
            Some(&clerk),
            Some(with_override),
        )
        .await
        .json();
    assert_eq!(v["decisions"][0]["amount_fen"], 1500 * 4 * 100 - 120_000);

    let bad = json!({"month": "2024-08", "members": [{"age": 40}, {"age": 16, "birth_date": "1950-03-01"}]});
    let r = app
        .api(Method::POST, "/api/v1/evaluate", Some(&clerk), Some(bad))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["field"], "members[2].age");
    let negative = json!({"month": "2024-08", "members": [{"age": 40, "incomes": [{"kind": "wage", "monthly": -3}]}]});
    let r = app
        .api(
            Method::POST,
            "/api/v1/evaluate",
            Some(&clerk),
            Some(negative),
        )
        .await;
    assert_eq!(r.json()["field"], "members[1].incomes[1].monthly");
    let early = json!({"jurisdiction": "shanxi", "month": "2023-05", "members": [{"age": 40}]});
    let r = app
        .api(Method::POST, "/api/v1/evaluate", Some(&clerk), Some(early))
        .await;
    assert_eq!(r.json()["field"], "parameters.dibao.standard");
    let nowhere = json!({"jurisdiction": "atlantis", "month": "2024-05", "members": [{"age": 40}]});
    let r = app
        .api(
            Method::POST,
            "/api/v1/evaluate",
            Some(&clerk),
            Some(nowhere),
        )
        .await;
    assert_eq!(r.json()["field"], "jurisdiction");
}

#[tokio::test]
async fn administrators_add_dated_values_that_everyone_sees_with_their_source() {
    let app = common::app(40).await;
    let admin = app.token("admin", false).await;
    let clerk = app.token("clerk", false).await;
    let v = app
        .api(Method::GET, "/api/v1/parameters", Some(&clerk), None)
        .await
        .json();
    assert_eq!(v["jurisdiction"]["id"], "zhangjiagang");
    let standard = v["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "dibao.standard")
        .unwrap()
        .clone();
    assert_eq!(standard["current_demo"], true);
    assert!(standard["history"].as_array().unwrap().len() >= 8);

    let new = json!({"jurisdiction": "zhangjiagang", "name": "dibao.standard", "from": "2026-01-01",
                     "value": "1700", "source": "张民发〔2025〕12号 第一条"});
    let r = app
        .api(
            Method::POST,
            "/api/v1/parameters",
            Some(&clerk),
            Some(new.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .api(
            Method::POST,
            "/api/v1/parameters",
            Some(&admin),
            Some(new.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let again = app
        .api(Method::POST, "/api/v1/parameters", Some(&admin), Some(new))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["field"], "from");
    let bad = json!({"jurisdiction": "zhangjiagang", "name": "tekun.basic_ratio", "from": "2026-01-01", "value": "lots", "source": "某文件 第一条"});
    let r = app
        .api(Method::POST, "/api/v1/parameters", Some(&admin), Some(bad))
        .await;
    assert_eq!(r.json()["field"], "value");

    // The value is in force from its date, confirmed, for the calculator too.
    let eval = json!({"month": "2026-02", "members": [{"age": 50}]});
    let v = app
        .api(Method::POST, "/api/v1/evaluate", Some(&clerk), Some(eval))
        .await
        .json();
    assert_eq!(v["decisions"][0]["amount_fen"], 170_000);
    let used = v["decisions"][0]["trace"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "dibao.standard")
        .unwrap()
        .clone();
    assert_eq!(used["source"], "张民发〔2025〕12号 第一条");
    assert_eq!(used["demo"], false);

    // Audited, and still there after a restart (values are read back from the database).
    let audit = app
        .api(
            Method::GET,
            "/api/v1/audit?action=policy.add_value",
            Some(&app.token("auditor", false).await),
            None,
        )
        .await
        .json();
    assert_eq!(audit["total"], 1);
    let reopened = jiuzhu_services::Services::open(app.services.store.clone())
        .await
        .unwrap();
    let book = reopened.policy().book();
    let ps = book
        .params(
            "zhangjiagang",
            chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            &Default::default(),
        )
        .unwrap();
    assert_eq!(
        ps.get("dibao.standard").unwrap().money(),
        jiuzhu_domain::Money::from_yuan(1700)
    );
}

#[tokio::test]
async fn a_case_is_evaluated_and_the_evaluation_kept_with_its_parameters() {
    let app = common::app(60).await;
    let clerk = app.token("clerk", false).await;
    let head = app.first_head(&clerk).await;
    let id = app
        .file_case(&clerk, head, "dibao", "policy-case-0001")
        .await;

    let (cookie, _) = app.login("clerk").await;
    let page = app.get(&format!("/cases/{id}"), &cookie).await;
    assert!(page.body.contains("尚未测算"), "{}", page.body);
    let csrf = common::field_value(&page.body, "_csrf").unwrap();
    let r = app
        .post_form(
            &format!("/cases/{id}/evaluate"),
            &cookie,
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get(&format!("/cases/{id}"), &cookie).await;
    assert!(page.body.contains("最近一次测算"));
    assert!(page.body.contains("最低生活保障"));
    assert!(page.body.contains("计算过程与依据"));

    let stored = app
        .api(
            Method::GET,
            &format!("/api/v1/cases/{id}/evaluations"),
            Some(&clerk),
            None,
        )
        .await
        .json();
    let first = &stored[0]["evaluation"];
    assert_eq!(first["jurisdiction"], "zhangjiagang");
    assert!(first["decisions"][0]["trace"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["kind"] == "parameter" && s["name"] == "dibao.standard"));
    // A liaison of another department does not see the case, nor its evaluations.
    let other = app.token("liaison", false).await;
    let r = app
        .api(
            Method::GET,
            &format!("/api/v1/cases/{id}/evaluations"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn simulation_reports_programs_townships_and_households_with_a_chart() {
    let app = common::app(300).await;
    let admin = app.token("admin", false).await;
    let clerk = app.token("clerk", false).await;
    let input = json!({"set": ["dibao.standard=+8%"]});
    let r = app
        .api(
            Method::POST,
            "/api/v1/simulate",
            Some(&clerk),
            Some(input.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .api(Method::POST, "/api/v1/simulate", Some(&admin), Some(input))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["households"], 300);
    let dibao = &v["programs"][0];
    assert_eq!(dibao["program"], "dibao");
    // A higher standard never removes a 低保 household and never lowers the cost.
    assert_eq!(dibao["lost"], 0);
    assert!(dibao["after_monthly_fen"].as_i64() > dibao["before_monthly_fen"].as_i64());
    let townships = v["townships"].as_array().unwrap();
    assert!(townships.len() >= 2);
    let sum: u64 = townships
        .iter()
        .map(|t| t["households"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 300);
    assert!(townships.iter().all(|t| !t["name"]
        .as_str()
        .unwrap()
        .chars()
        .all(|c| c.is_ascii_digit())));
    let r = app
        .api(
            Method::POST,
            "/api/v1/simulate",
            Some(&admin),
            Some(json!({"set": []})),
        )
        .await;
    assert_eq!(r.json()["field"], "set");
    let r = app
        .api(
            Method::POST,
            "/api/v1/simulate",
            Some(&admin),
            Some(json!({"set": ["tekun.basic_ratio=+5%"]})),
        )
        .await;
    assert_eq!(r.json()["field"], "set");

    let (cookie, _) = app.login("supervisor").await;
    let page = app.get("/policy/simulate", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = common::field_value(&page.body, "_csrf").unwrap();
    let r = app
        .post_form(
            "/policy/simulate",
            &cookie,
            &[("_csrf", &csrf), ("set", "dibao.standard=+8%")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<svg") && r.body.contains("各乡镇（街道）每月支出变化"));
    // The same change picked from the list, with its current value shown: the same answer.
    assert!(
        page.body.contains("最低生活保障标准（每人每月）（现行"),
        "{}",
        page.body
    );
    let picked = app
        .post_form(
            "/policy/simulate",
            &cookie,
            &[
                ("_csrf", &csrf),
                ("param1", "dibao.standard"),
                ("change1", "调高8％"),
            ],
        )
        .await;
    assert_eq!(picked.status, StatusCode::OK, "{}", picked.body);
    let summary = |body: &str| {
        body.split("<table id=\"programs\">")
            .nth(1)
            .map(|t| t.split("</table>").next().unwrap_or("").to_string())
    };
    assert!(summary(&r.body).is_some());
    assert_eq!(summary(&picked.body), summary(&r.body));
    // Every affected household, on pages and in a workbook, as many as the report counts.
    let total: usize = v["affected_total"].as_u64().unwrap() as usize;
    assert!(total > 0);
    let query = "param1=dibao.standard&change1=%2B8%25";
    let list = app
        .get(&format!("/policy/simulate/households?{query}"), &cookie)
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(
        list.body.contains(&format!("共{total}户次受影响")),
        "{}",
        list.body
    );
    assert!(list.body.contains("最低生活保障"));
    let xlsx = app
        .get(
            &format!("/policy/simulate/households.xlsx?{query}"),
            &cookie,
        )
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(xlsx.bytes.clone())).unwrap();
    let sheet = book.worksheet_range("受影响家庭").unwrap();
    let rows: Vec<_> = sheet.rows().skip(3).collect();
    assert_eq!(rows.len(), total);
    assert!(rows
        .iter()
        .all(|r| r[1].to_string().starts_with('户') && !r[3].to_string().is_empty()));
    let (clerk_cookie, _) = app.login("clerk").await;
    assert_eq!(
        app.get("/policy/simulate", &clerk_cookie).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn policy_pages_render_and_the_form_adds_a_value() {
    let app = common::app(20).await;
    let (cookie, _) = app.login("admin").await;
    for path in [
        "/policy",
        "/policy?jurisdiction=xiamen",
        "/policy/evaluate",
        "/policy/simulate",
    ] {
        let r = app.get(path, &cookie).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    let page = app.get("/policy?jurisdiction=xiamen", &cookie).await;
    assert!(page.body.contains("高龄津贴") && page.body.contains("二㈢1"));
    let csrf = common::field_value(&page.body, "_csrf").unwrap();
    let r = app
        .post_form(
            "/policy",
            &cookie,
            &[
                ("_csrf", &csrf),
                ("jurisdiction", "xiamen"),
                ("name", "elderly.scale"),
                ("from", "2027-01-01"),
                ("value", "[[80, 150], [90, 300], [100, 1200]]"),
                ("source", "厦民〔2026〕8号 第二条"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("已新增参数值"), "{}", r.body);
    assert!(r.body.contains("80岁及以上150.00元"));
    let r = app
        .post_form(
            "/policy",
            &cookie,
            &[
                ("_csrf", &csrf),
                ("jurisdiction", "xiamen"),
                ("name", "elderly.scale"),
                ("from", "2027-02-01"),
                ("value", "[[90, 300], [80, 150]]"),
                ("source", "厦民〔2026〕8号 第二条"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("从小到大"));
    let page = app.get("/policy/evaluate", &cookie).await;
    let csrf = common::field_value(&page.body, "_csrf").unwrap();
    // The guide's worked household, typed member by member.
    let example = [
        ("month", "2024-08"),
        ("m1.name", "王建国"),
        ("m1.age", "52"),
        ("m1.labour", "partial"),
        ("m1.job_found", "1"),
        ("m1.income_wage", "1,200"),
        ("m2.name", "李秀英"),
        ("m2.age", "49"),
        ("m2.illness", "乳腺癌"),
        ("m2.labour", "none"),
        ("m2.self_care", "partial"),
        ("m2.own_costs", "38000"),
        ("m2.insurance_repaid", "16000"),
        ("m3.name", "王小明"),
        ("m3.age", "15"),
        ("m3.student", "1"),
        ("m4.name", "王德顺"),
        ("m4.age", "81"),
        ("m4.income_pension", "300"),
        ("m4.income_special_care", "600"),
        ("m5.name", ""),
        ("m5.age", ""),
        ("deposits", "8000"),
        ("rigid_medical", "22000"),
        ("rigid_education", "3000"),
        ("temporary_kind", "expenditure"),
        ("temporary_need", "6000"),
        ("temporary_stages", "2"),
        ("price_index_rise", "3.6%"),
    ];
    let post = |changes: Vec<(&'static str, &'static str)>| {
        let mut form: Vec<(&str, &str)> = vec![("_csrf", csrf.as_str())];
        form.extend(
            example
                .iter()
                .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k)),
        );
        form.extend(changes);
        let (app, cookie) = (&app, &cookie);
        async move { app.post_form("/policy/evaluate", cookie, &form).await }
    };
    let r = post(vec![("action", "evaluate")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("4,356.00"), "{}", r.body);
    assert!(
        r.body.contains("成员2（李秀英）"),
        "the trace names members"
    );
    // The same household through the JSON API gives the same figure.
    let json: serde_json::Value =
        serde_json::from_str(include_str!("../../../examples/household.json")).unwrap();
    let token = app.token("clerk", false).await;
    let api = app
        .api(Method::POST, "/api/v1/evaluate", Some(&token), Some(json))
        .await;
    assert!(api.body.contains("435600"), "{}", api.body);
    // A mistyped age is refused naming the member; what was typed comes back.
    let r = post(vec![("m2.age", "四十九")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("成员2（李秀英）年龄应为整数，实际为“四十九”"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("value=\"38000\""),
        "the form keeps what was typed"
    );
    // Repayment above the costs: the engine's refusal, named in Chinese.
    let r = post(vec![("m2.insurance_repaid", "40000")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("成员2医疗费用：大病保险补偿"), "{}", r.body);
    // Another member row on request, nothing evaluated.
    let r = post(vec![("action", "add_row")]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.matches("<fieldset class=\"member\">").count(), 6);
    assert!(!r.body.contains("测算结果"));
}
