//! The openness pages as their users meet them: a township publishes a notice, a member of the
//! public reads it without signing in and objects, the confirmation waits until the township
//! answers, and the complaint, look-up, statistics, performance and inspection pages work.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{cookie_value, App};

/// Any run of 18 characters that reads like an identity number.
fn identity_numbers(text: &str) -> usize {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(17))
        .filter(|&i| {
            b[i..i + 17].iter().all(u8::is_ascii_digit)
                && (b[i + 17].is_ascii_digit() || b[i + 17] == b'X')
                && (i == 0 || !b[i - 1].is_ascii_digit())
                && b.get(i + 18).is_none_or(|c| !c.is_ascii_digit())
        })
        .count()
}

async fn public_get(app: &App, path: &str) -> (common::Reply, String) {
    let r = app
        .send(Request::get(path).body(Body::empty()).unwrap())
        .await;
    let token = cookie_value(&r.headers, "jz_login").unwrap_or_default();
    (r, token)
}

#[tokio::test]
async fn the_public_objects_and_the_township_answers_before_the_approval() {
    let app = common::app(80).await;
    let (enrolment, village, _) = common::reviewed_for_publicity(&app).await;
    let today = app.services.today().to_string();
    let (clerk, clerk_csrf) = app.login("clerk").await;

    let page = app.get("/publicity", &clerk).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("发布公示"));
    let bad = app
        .post_form(
            "/publicity",
            &clerk,
            &[
                ("_csrf", &clerk_csrf),
                ("program", "dibao"),
                ("region", &village),
                ("from", &today),
                ("to", "2999-01-01"),
                ("contact", "电话0512-58681234"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("截止日期：只能公示已经作出的决定"),
        "{}",
        bad.body
    );
    let made = app
        .post_form(
            "/publicity",
            &clerk,
            &[
                ("_csrf", &clerk_csrf),
                ("program", "dibao"),
                ("region", &village),
                ("from", &today),
                ("to", &today),
                ("contact", "电话0512-58681234；杨舍镇社会事务办"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let location = made.headers["location"].to_str().unwrap().to_string();
    let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    let staff = app.get(&location, &clerk).await;
    assert!(staff.body.contains("拟纳入") && staff.body.contains("760.00"));
    let print = app.get(&format!("/publicity/{id}/print"), &clerk).await;
    assert_eq!(print.status, StatusCode::OK);
    assert!(print.body.contains("一、拟纳入对象") && print.body.contains("0512-58681234"));
    assert_eq!(identity_numbers(&print.body), 0);

    // The public: the list and the notice without signing in, no identity number anywhere.
    let (list, _) = public_get(&app, "/public").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(&format!("/public/notices/{id}")));
    let (notice, token) = public_get(&app, &format!("/public/notices/{id}")).await;
    assert_eq!(notice.status, StatusCode::OK);
    assert_eq!(identity_numbers(&notice.body), 0);
    assert!(!notice.body.contains("保障记录"), "no staff links");
    // The first line of the notice offered by the form's list.
    let entry = common::attribute_value(
        notice.body.split("name=\"entry_id\"").nth(1).unwrap(),
        "value",
    )
    .unwrap();
    let cookie = format!("jz_login={token}");
    // Without the form's token: refused.
    let forged = app
        .post_form(
            &format!("/public/notices/{id}/objections"),
            "",
            &[("entry_id", &entry), ("content", "异议")],
        )
        .await;
    assert_ne!(forged.status, StatusCode::OK);
    let empty = app
        .post_form(
            &format!("/public/notices/{id}/objections"),
            &cookie,
            &[("_csrf", &token), ("entry_id", &entry), ("content", "  ")],
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        empty.body.contains("内容：请填写异议内容"),
        "{}",
        empty.body
    );
    let sent = app
        .post_form(
            &format!("/public/notices/{id}/objections"),
            &cookie,
            &[
                ("_csrf", &token),
                ("entry_id", &entry),
                ("content", "<script>alert(1)</script>该户有经营收入"),
                ("contact", "13900001111"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert!(sent.body.contains("已收到您的异议"));
    let number = sent
        .body
        .split("编号 <strong>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let code = sent
        .body
        .split("查询码 <strong>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();

    // The approver sees it beside the enrolment and cannot confirm while it is open.
    let (approver, approver_csrf) = app.login("approver").await;
    let waiting = app.get("/enrolments", &approver).await;
    assert!(
        waiting.body.contains(&format!("公示异议{number}待答复")),
        "{}",
        waiting.body
    );
    let held = app
        .post_form(
            &format!("/enrolments/{enrolment}/decision"),
            &approver,
            &[("_csrf", &approver_csrf), ("approve", "yes"), ("note", "")],
        )
        .await;
    assert!(
        held.body.contains(&number) && held.body.contains("尚未答复"),
        "{}",
        held.body
    );

    // The township answers with a democratic appraisal; the markup sent is shown as text.
    let list = app.get("/publicity", &clerk).await;
    assert!(list.body.contains("&lt;script&gt;") && !list.body.contains("<script>alert"));
    let objection_id: i64 = list
        .body
        .split("/objections/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let answered = app
        .post_form(
            &format!("/objections/{objection_id}/answer"),
            &clerk,
            &[
                ("_csrf", &clerk_csrf),
                ("method", "appraisal"),
                ("date", &today),
                ("findings", "经评议，经营收入已计入，仍符合条件"),
                ("participants", "村民代表7人"),
                ("votes_for", "6"),
                ("votes_against", "1"),
                ("votes_abstain", "0"),
                ("reply", "经民主评议，维持审核意见"),
            ],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    let (lookup, _) =
        public_get(&app, &format!("/public/lookup?number={number}&code={code}")).await;
    assert!(
        lookup.body.contains("维持审核意见") && lookup.body.contains("不成立"),
        "{}",
        lookup.body
    );
    let confirmed = app
        .post_form(
            &format!("/enrolments/{enrolment}/decision"),
            &approver,
            &[("_csrf", &approver_csrf), ("approve", "yes"), ("note", "")],
        )
        .await;
    assert_eq!(
        confirmed.status,
        StatusCode::SEE_OTHER,
        "{}",
        confirmed.body
    );
}

#[tokio::test]
async fn complaints_statistics_and_inspections_through_the_pages() {
    let app = common::app(120).await;
    let (form, token) = public_get(&app, "/public/complaints").await;
    assert_eq!(form.status, StatusCode::OK);
    let cookie = format!("jz_login={token}");
    let sent = app
        .post_form(
            "/public/complaints",
            &cookie,
            &[
                ("_csrf", &token),
                ("category", "improper_receipt"),
                ("region", "320582100"),
                ("content", "举报某村有人隐瞒收入领取低保"),
                ("anonymous", "1"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let number = sent
        .body
        .split("编号 <strong>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let code = sent
        .body
        .split("查询码 <strong>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let (lookup, _) =
        public_get(&app, &format!("/public/lookup?number={number}&code={code}")).await;
    assert!(lookup.body.contains("办理中"));
    let (wrong, _) = public_get(
        &app,
        &format!("/public/lookup?number={number}&code=999999x"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);

    let (clerk, clerk_csrf) = app.login("clerk").await;
    let list = app.get("/complaints", &clerk).await;
    assert!(
        list.body.contains(&number),
        "the township owns an online complaint about it: {}",
        list.body
    );
    let recorded = app
        .post_form(
            "/complaints",
            &clerk,
            &[
                ("_csrf", &clerk_csrf),
                ("channel", "hotline"),
                ("category", "service"),
                ("region", "320582100"),
                ("content", "12345：窗口排队时间长"),
                ("name", "李女士"),
                ("contact", "13700002222"),
            ],
        )
        .await;
    assert_eq!(recorded.status, StatusCode::SEE_OTHER, "{}", recorded.body);
    let page = app
        .get(recorded.headers["location"].to_str().unwrap(), &clerk)
        .await;
    assert!(page.body.contains("首问人：陈丽华") && page.body.contains("李女士 13700002222"));

    let (supervisor, supervisor_csrf) = app.login("supervisor").await;
    let stats = app.get("/statistics", &supervisor).await;
    assert_eq!(stats.status, StatusCode::OK);
    assert!(stats.body.contains("救助对象（按乡镇、项目）"));
    let xlsx = app.get("/statistics.xlsx", &supervisor).await;
    assert!(xlsx.bytes.starts_with(b"PK"));
    let perf = app.get("/performance", &supervisor).await;
    assert_eq!(perf.status, StatusCode::OK);
    assert!(perf.body.contains("逢救必核率"));
    let bad_month = app.get("/statistics?month=2999-01", &supervisor).await;
    assert_eq!(bad_month.status, StatusCode::UNPROCESSABLE_ENTITY);

    let planned = app
        .post_form(
            "/inspections",
            &supervisor,
            &[
                ("_csrf", &supervisor_csrf),
                ("title", "低保抽查"),
                ("programs", "dibao"),
                ("percent", "20"),
                ("seed", "公开种子-1"),
                ("inspectors", "clerk"),
                ("inspectors", "clerk2"),
            ],
        )
        .await;
    assert_eq!(planned.status, StatusCode::SEE_OTHER, "{}", planned.body);
    let plan = app
        .get(planned.headers["location"].to_str().unwrap(), &supervisor)
        .await;
    assert!(plan.body.contains("公开种子-1"));
    let no_pool = app
        .post_form(
            "/inspections",
            &supervisor,
            &[("_csrf", &supervisor_csrf), ("title", "无人")],
        )
        .await;
    assert_eq!(no_pool.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_pool.body.contains("检查人员：请选择至少一名检查人员"));
    let (stats, _) = public_get(&app, "/public/statistics").await;
    assert_eq!(stats.status, StatusCode::OK);
    assert_eq!(identity_numbers(&stats.body), 0);
}
