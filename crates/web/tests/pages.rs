//! The pages as people use them: sign in, CSRF on every form, scope, and every page renders.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::NaiveDate;
use jiuzhu_domain::IdNumber;

#[tokio::test]
async fn forms_without_the_sessions_token_are_refused() {
    let app = common::app(20).await;
    let (cookie, csrf) = app.login("clerk").await;
    let fields = |token: &'static str| {
        vec![
            ("_csrf", token),
            ("name", "季德忠"),
            ("id_number", "320582195001010011"),
            ("residence_region", "320582100201"),
        ]
    };
    let forged = app.post_form("/people", &cookie, &fields("")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.body.contains("表单已失效"));
    let wrong = app
        .post_form("/people", &cookie, &fields("not-the-token"))
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    // From another site, even with the token.
    let body = format!("_csrf={csrf}&name=x");
    let cross = app
        .send(
            Request::post("/people")
                .header(header::COOKIE, &cookie)
                .header(header::ORIGIN, "https://evil.example")
                .header(header::HOST, "jiuzhu.local")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    // A login form without its cookie's token.
    let r = app
        .post_form(
            "/login",
            "",
            &[
                ("_csrf", "x"),
                ("username", "clerk"),
                ("password", "jiuzhu2026"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // None of the refused forms wrote anything.
    let q = jiuzhu_services::people::PersonQuery {
        q: Some("季德忠".into()),
        ..Default::default()
    };
    assert_eq!(
        app.services
            .people()
            .search(&app.actor("clerk").await, &q)
            .await
            .unwrap()
            .total,
        0
    );
}

#[tokio::test]
async fn a_refused_form_comes_back_with_what_was_typed() {
    let app = common::app(20).await;
    let (cookie, csrf) = app.login("clerk").await;
    let r = app
        .post_form(
            "/people",
            &cookie,
            &[
                ("_csrf", &csrf),
                ("name", "季德忠"),
                ("id_number", "320582195001010012"),
                ("residence_region", "320582100201"),
                ("hukou_region", "320582100201"),
                ("labour_capacity", "full"),
                ("self_care", "full"),
                ("phone", "13900001111"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("公民身份号码：身份证号校验位错误"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"季德忠\"") && r.body.contains("value=\"13900001111\""));
    // Corrected, it is saved and shown.
    let good =
        IdNumber::from_parts("320582", NaiveDate::from_ymd_opt(1950, 1, 1).unwrap(), 1).unwrap();
    let village = common::field_value(
        &app.get("/people/new", &cookie).await.body,
        "residence_region",
    );
    let village = village.unwrap_or_else(|| "320582100001".into());
    let r = app
        .post_form(
            "/people",
            &cookie,
            &[
                ("_csrf", &csrf),
                ("name", "季德忠"),
                ("id_number", good.expose()),
                ("residence_region", &village),
                ("hukou_region", &village),
                ("labour_capacity", "none"),
                ("self_care", "full"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let location = r.headers[header::LOCATION].to_str().unwrap().to_string();
    let page = app.get(&location, &cookie).await;
    assert!(page.body.contains("季德忠") && page.body.contains("3****************"));
}

#[tokio::test]
async fn another_townships_household_is_not_found_in_the_ui() {
    let app = common::app(150).await;
    let (cookie, csrf) = app.login("clerk").await;
    let clerk2 = app.actor("clerk2").await;
    let theirs = app
        .services
        .households()
        .search(&clerk2, &Default::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let r = app
        .get(&format!("/households/{}", theirs.id), &cookie)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("不在您的管辖范围"));
    let list = app
        .get(&format!("/households?q={}", theirs.head_name), &cookie)
        .await;
    assert!(!list.body.contains(&format!("/households/{}\"", theirs.id)));
    let person = app
        .get(&format!("/people/{}", theirs.head_person_id), &cookie)
        .await;
    assert_eq!(person.status, StatusCode::NOT_FOUND);
    // Nor can a form change them or their household.
    let head = theirs.head_person_id.to_string();
    let edit = app
        .post_form(
            &format!("/people/{head}"),
            &cookie,
            &[("_csrf", &csrf), ("name", "改名"), ("revision", "1")],
        )
        .await;
    assert_eq!(edit.status, StatusCode::NOT_FOUND, "{}", edit.body);
    let edit = app
        .post_form(
            &format!("/households/{}/edit", theirs.id),
            &cookie,
            &[
                ("_csrf", &csrf),
                ("address", "别处"),
                ("head_person_id", &head),
                ("revision", "1"),
            ],
        )
        .await;
    assert_eq!(edit.status, StatusCode::NOT_FOUND, "{}", edit.body);
    let clerk2_view = app
        .services
        .households()
        .get(&clerk2, theirs.id)
        .await
        .unwrap();
    assert_eq!(clerk2_view.household.address, theirs.address);
}

#[tokio::test]
async fn sessions_end_at_logout_and_stale_ones_go_to_the_login_page() {
    let app = common::app(5).await;
    let (cookie, csrf) = app.login("supervisor").await;
    assert_eq!(app.get("/", &cookie).await.status, StatusCode::OK);
    let r = app.post_form("/logout", &cookie, &[("_csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let after = app.get("/households", &cookie).await;
    assert_eq!(
        (
            after.status,
            after.headers[header::LOCATION].to_str().unwrap()
        ),
        (StatusCode::SEE_OTHER, "/login")
    );
    let forged = app.get("/", "jz_session=made-up").await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_page_renders_in_chinese_for_every_role() {
    let app = common::app(80).await;
    let admin = app.actor("admin").await;
    let some_household = app
        .services
        .households()
        .search(&admin, &Default::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let pages_for = |role: &str| -> Vec<String> {
        let mut p = vec![
            "/".to_string(),
            "/catalogue".into(),
            "/catalogue/dibao".into(),
            "/calendar".into(),
            "/calendar?from=2025-09-30&days=6".into(),
            "/policy".into(),
            "/policy?jurisdiction=yubei".into(),
            "/policy/evaluate".into(),
        ];
        match role {
            "security" => p.extend(["/users".into(), "/audit".into()]),
            "admin" => p.extend([
                "/audit".into(),
                "/people".into(),
                "/people?q=w".into(),
                "/households".into(),
                format!("/households/{}", some_household.id),
                format!("/people/{}", some_household.head_person_id),
                "/catalogue/dibao/edit".into(),
                "/policy/simulate".into(),
                "/feeds".into(),
            ]),
            "auditor" => p.extend([
                "/audit".into(),
                "/audit?action=login&from=2020-01-01".into(),
            ]),
            "supervisor" => p.extend([
                "/people".into(),
                "/households".into(),
                "/policy/simulate".into(),
            ]),
            "reviewer" => p.extend(["/people".into(), "/households".into()]),
            "liaison" => p.push("/feeds".into()),
            _ => {}
        }
        p
    };
    for user in [
        "admin",
        "security",
        "clerk",
        "assistant",
        "reviewer",
        "liaison",
        "supervisor",
        "auditor",
    ] {
        let (cookie, _) = app.login(user).await;
        for path in pages_for(user) {
            let r = app.get(&path, &cookie).await;
            assert_eq!(r.status, StatusCode::OK, "{user} {path}: {}", r.body);
            assert!(
                r.body.contains("救助平台") && r.body.contains("退出"),
                "{user} {path}"
            );
        }
    }
    let (cookie, _) = app.login("clerk").await;
    assert_eq!(
        app.get("/audit", &cookie).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/users", &cookie).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/catalogue/dibao/edit", &cookie).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_auditor_finds_who_read_a_record() {
    let app = common::app(40).await;
    let (clerk, _) = app.login("clerk").await;
    let mine = app
        .services
        .people()
        .search(&app.actor("clerk").await, &Default::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    assert_eq!(
        app.get(&format!("/people/{}?reveal=1", mine.id), &clerk)
            .await
            .status,
        StatusCode::OK
    );
    let (auditor, _) = app.login("auditor").await;
    let page = app
        .get(
            &format!("/audit?actor=clerk&entity=person&entity_id={}", mine.id),
            &auditor,
        )
        .await;
    assert!(
        page.body.contains("查看完整身份证号和电话"),
        "{}",
        page.body
    );
    assert!(page.body.contains("网页"));
}

/// The text a person reads on a page: tags, scripts and styles left out.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let tag = &rest[i..];
        // A code shown beside its name, marked as such, is meant to be there.
        let close = if tag.starts_with("<code class=\"code\"") {
            tag.find("</code>").map(|j| j + 7)
        } else if tag.starts_with("<script") {
            tag.find("</script>").map(|j| j + 9)
        } else if tag.starts_with("<style") {
            tag.find("</style>").map(|j| j + 8)
        } else {
            tag.find('>').map(|j| j + 1)
        };
        match close {
            Some(j) => {
                out.push(' ');
                rest = &tag[j..];
            }
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn each_role_opens_on_its_work_for_today() {
    let app = common::app(200).await;
    // What each finds on the home page, with the list each count leads to.
    let expected: [(&str, &[&str], &[&str]); 5] = [
        (
            "clerk",
            &[
                "今日待办",
                "待受理登记",
                "待转办",
                "待告知结果并结案",
                "本月应走访",
            ],
            &["/queue", "/queue#to-close", "/visits"],
        ),
        (
            "assistant",
            &["今日待办", "待受理登记", "本月应走访"],
            &["/visits"],
        ),
        (
            "liaison",
            &["待接收", "核查、办理中", "待反馈结果"],
            &["/inbox"],
        ),
        (
            "approver",
            &[
                "复核结果待确认",
                "发放花名册待审核、审批",
                "近六个月受理申请",
                "逾期事项：按乡镇（街道）",
            ],
            &["/reviews", "/rolls", "/overdue"],
        ),
        (
            "supervisor",
            &["本月受理申请", "本月按时办理率", "逾期事项：按责任部门"],
            &["/overdue"],
        ),
    ];
    for (user, words, links) in expected {
        let (cookie, _) = app.login(user).await;
        let home = app.get("/", &cookie).await;
        assert_eq!(home.status, StatusCode::OK, "{user}: {}", home.body);
        let body = home.body.replace("&#x2f;", "/");
        let text = visible(&body);
        for w in words {
            assert!(text.contains(w), "{user}'s home lacks {w}: {text}");
        }
        for l in links {
            assert!(
                body.contains(&format!("href=\"{l}\"")),
                "{user}'s home lacks a link to {l}"
            );
        }
        // Names of places, never their codes.
        assert!(
            !text.contains("320582"),
            "{user}'s home shows a division code: {text}"
        );
    }
    // The counts are the lists' own: the clerk's items waiting to be transferred are those the
    // window queue lists as 已受理，待转办.
    let (cookie, _) = app.login("clerk").await;
    let home = visible(&app.get("/", &cookie).await.body);
    let queue = app.get("/queue", &cookie).await.body;
    let waiting = queue.matches("<td>已受理，待转办</td>").count();
    let shown: usize = home
        .split("待转办")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a count after 待转办");
    assert_eq!(shown, waiting, "{home}");
}

#[tokio::test]
async fn the_audit_log_reads_and_is_searched_in_chinese() {
    let app = common::app(20).await;
    let (_clerk, _) = app.login("clerk").await;
    let (cookie, _) = app.login("auditor").await;
    let page = app.get("/audit?action=%E7%99%BB%E5%BD%95", &cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let text = visible(&page.body);
    assert!(
        text.contains("登录成功"),
        "a search by 登录 finds the sign-ins: {text}"
    );
    assert!(!text.contains("login.ok"), "{text}");
    assert!(!text.contains("没有记录"), "{text}");
}

#[tokio::test]
async fn the_overdue_board_is_filtered_and_summed_by_township_and_department() {
    let app = common::app(200).await;
    let (cookie, _) = app.login("supervisor").await;
    let all = app.get("/overdue", &cookie).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let text = visible(&all.body);
    assert!(
        text.contains("按乡镇（街道）") && text.contains("按责任部门"),
        "{text}"
    );
    // Rows of the board: the township is the third cell.
    let townships = |body: &str| -> Vec<String> {
        body.split("<tr><td><a href=\"/cases/")
            .skip(1)
            .filter_map(|row| {
                row.split("<td>")
                    .nth(2)
                    .and_then(|c| c.split("</td>").next())
                    .map(str::to_string)
            })
            .collect()
    };
    let every = townships(&all.body);
    assert!(!every.is_empty(), "{text}");
    let one = every[0].clone();
    let narrowed = app
        .get(
            &format!(
                "/overdue?township={}",
                form_urlencoded::byte_serialize(one.as_bytes()).collect::<String>()
            ),
            &cookie,
        )
        .await;
    let only = townships(&narrowed.body);
    assert!(
        !only.is_empty() && only.iter().all(|t| *t == one),
        "{only:?}"
    );
    assert_eq!(
        only.len(),
        every.iter().filter(|t| **t == one).count().min(100)
    );
}

/// Words of code in what a person reads: snake_case identifiers, dotted action codes, and
/// division codes standing alone (a 受理单号 such as SL3205821002026… carries one inside it,
/// which is fine).
fn leaks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')) {
        let w = word.trim_matches('.');
        if w.is_empty() {
            continue;
        }
        let snake = w.contains('_')
            && w.chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
            && w.chars().any(|c| c.is_ascii_lowercase());
        let dotted = w.split('.').count() == 2
            && w.split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        let division = w.starts_with("3205")
            && [6, 9, 12].contains(&w.len())
            && w.chars().all(|c| c.is_ascii_digit());
        if snake || dotted || division {
            out.push(w.to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

#[tokio::test]
async fn no_page_shows_a_code_where_a_word_belongs() {
    let app = common::app(60).await;
    let admin = app.actor("clerk").await;
    let household = app
        .services
        .households()
        .search(&admin, &Default::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let common_pages = [
        "/",
        "/catalogue",
        "/catalogue/dibao",
        "/calendar",
        "/policy",
        "/policy/evaluate",
        "/policy/evaluate?example=1",
    ];
    let by_role: [(&str, Vec<String>); 9] = [
        (
            "clerk",
            vec![
                "/queue".into(),
                "/overdue".into(),
                "/people".into(),
                "/households".into(),
                format!("/households/{}", household.id),
                format!("/people/{}", household.head_person_id),
                "/rolls".into(),
                "/visits".into(),
                "/reviews".into(),
                "/register".into(),
                format!("/households/{}/file", household.id),
                "/cases/1".into(),
                "/warnings".into(),
                "/publicity".into(),
                "/complaints".into(),
                "/statistics".into(),
                "/inspections".into(),
                "/social".into(),
                "/new-citizens".into(),
            ],
        ),
        (
            "assistant",
            vec!["/queue".into(), "/visits".into(), "/warnings".into()],
        ),
        (
            "reviewer",
            vec!["/queue".into(), "/enrolments".into(), "/rolls".into()],
        ),
        (
            "liaison",
            vec!["/inbox".into(), "/overdue".into(), "/feeds".into()],
        ),
        (
            "approver",
            vec!["/overdue".into(), "/rolls".into(), "/receivables".into()],
        ),
        (
            "supervisor",
            vec![
                "/overdue".into(),
                "/people".into(),
                "/cases/1".into(),
                "/policy/simulate".into(),
                "/policy/simulate/households?param1=dibao.standard&change1=%2B8%25".into(),
                "/complaints".into(),
                "/statistics".into(),
                "/performance".into(),
                "/inspections".into(),
            ],
        ),
        (
            "admin",
            vec![
                "/feeds".into(),
                "/bank-templates".into(),
                "/organisations".into(),
            ],
        ),
        ("auditor", vec!["/audit".into()]),
        ("org", vec!["/needs".into(), "/volunteers".into()]),
    ];
    let mut found = Vec::new();
    for (user, pages) in by_role {
        let (cookie, _) = app.login(user).await;
        for path in common_pages.iter().map(|p| p.to_string()).chain(pages) {
            let r = app.get(&path, &cookie).await;
            if r.status != StatusCode::OK {
                found.push(format!("{user} {path}: {}", r.status));
                continue;
            }
            let words = leaks(&visible(&r.body.replace("&#x2f;", "/")));
            if !words.is_empty() {
                found.push(format!("{user} {path}: {words:?}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "codes on the pages:\n{}",
        found.join("\n")
    );
}

#[tokio::test]
async fn the_hukou_place_is_written_by_its_name() {
    let app = common::app(20).await;
    let (cookie, csrf) = app.login("clerk").await;
    // A village of another township, as the form's list offers it.
    let admin = app.actor("admin").await;
    let regions = app.services.regions().list(&admin).await.unwrap();
    let village = regions
        .iter()
        .find(|r| r.level == "village" && !r.code.starts_with("320582100"))
        .unwrap();
    let town = regions
        .iter()
        .find(|t| Some(&t.code) == village.parent_code.as_ref())
        .unwrap();
    let place = format!("{}{}", town.name, village.name);
    let form = app.get("/people/new", &cookie).await;
    assert!(
        form.body.contains(&format!("<option value=\"{place}\">")),
        "the list offers it"
    );
    let residence = regions
        .iter()
        .find(|r| r.level == "village" && r.code.starts_with("320582100"))
        .unwrap()
        .code
        .clone();
    let post = |hukou: String, serial: u16| {
        let id = IdNumber::from_parts(
            "320582",
            NaiveDate::from_ymd_opt(1961, 3, 5).unwrap(),
            serial,
        )
        .unwrap();
        let (cookie, csrf, residence) = (cookie.clone(), csrf.clone(), residence.clone());
        let app = &app;
        async move {
            app.post_form(
                "/people",
                &cookie,
                &[
                    ("_csrf", &csrf),
                    ("name", "沈秀英"),
                    ("id_number", id.expose()),
                    ("residence_region", &residence),
                    ("hukou_region", &hukou),
                    ("labour_capacity", "partial"),
                    ("self_care", "full"),
                ],
            )
            .await
        }
    };
    let unknown = post("杨舍镇没有这个村".into(), 41).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown.body.contains("没有名为“杨舍镇没有这个村”的区划"),
        "{}",
        unknown.body
    );
    let saved = post(place.clone(), 42).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let location = saved.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let page = app.get(&location, &cookie).await;
    assert!(
        page.body
            .contains(&format!("{} {}", town.name, village.name)),
        "the person page names the hukou place: {}",
        page.body
    );
    let person_id: i64 = location.trim_start_matches("/people/").parse().unwrap();
    let stored = app
        .services
        .people()
        .get(&admin, person_id, false)
        .await
        .unwrap();
    assert_eq!(stored.hukou_region, village.code);
}

#[tokio::test]
async fn incomes_are_entered_and_corrected_on_the_household_page() {
    let app = common::app(20).await;
    let (cookie, csrf) = app.login("clerk").await;
    let clerk = app.actor("clerk").await;
    let h = app
        .services
        .households()
        .search(&clerk, &Default::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let path = format!("/households/{}", h.id);
    let before = app.services.households().get(&clerk, h.id).await.unwrap();
    let page = app.get(&path, &cookie).await;
    assert!(page.body.contains("登记收入"), "the form is there");
    let head = h.head_person_id.to_string();
    let add = |yuan: &'static str| {
        let (app, cookie, csrf, path, head) = (&app, &cookie, &csrf, &path, &head);
        async move {
            app.post_form(
                &format!("{path}/incomes"),
                cookie,
                &[
                    ("_csrf", csrf.as_str()),
                    ("person_id", head.as_str()),
                    ("kind", "business"),
                    ("monthly_yuan", yuan),
                    ("since", "2026-03-01"),
                ],
            )
            .await
        }
    };
    let bad = add("12.345").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        visible(&bad.body).contains("月收入：金额“12.345”的小数超过两位（分）"),
        "{}",
        visible(&bad.body)
    );
    let ok = add("1,234.50").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let after = app.services.households().get(&clerk, h.id).await.unwrap();
    assert_eq!(
        after.counted_monthly_income - before.counted_monthly_income,
        jiuzhu_domain::Money::from_fen(123_450)
    );
    let page = visible(&app.get(&path, &cookie).await.body);
    assert!(page.contains("经营净收入"), "{page}");
    let added = after
        .incomes
        .iter()
        .find(|i| i.kind.code() == "business" && i.monthly.fen() == 123_450)
        .unwrap()
        .id;
    // Corrected to 980 yuan, then removed.
    let save = app
        .post_form(
            &format!("{path}/incomes/{added}"),
            &cookie,
            &[
                ("_csrf", &csrf),
                ("person_id", &head),
                ("kind", "business"),
                ("monthly_yuan", "980"),
                ("since", "2026-03-01"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(save.status, StatusCode::SEE_OTHER, "{}", save.body);
    let v = app.services.households().get(&clerk, h.id).await.unwrap();
    assert_eq!(
        v.counted_monthly_income - before.counted_monthly_income,
        jiuzhu_domain::Money::from_yuan(980)
    );
    let remove = app
        .post_form(
            &format!("{path}/incomes/{added}"),
            &cookie,
            &[("_csrf", &csrf), ("action", "remove")],
        )
        .await;
    assert_eq!(remove.status, StatusCode::SEE_OTHER, "{}", remove.body);
    let v = app.services.households().get(&clerk, h.id).await.unwrap();
    assert_eq!(v.counted_monthly_income, before.counted_monthly_income);
    // The auditor reads the change in Chinese.
    let (auditor, _) = app.login("auditor").await;
    let log = visible(
        &app.get("/audit?action=household.income", &auditor)
            .await
            .body,
    );
    assert!(
        log.contains("修改申报收入") && log.contains("删除申报收入"),
        "{log}"
    );
}

#[tokio::test]
async fn the_bureau_keeps_its_referral_organisations() {
    let app = common::app(20).await;
    let (cookie, csrf) = app.login("admin").await;
    let page = app.get("/organisations", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    let township = "320582100";
    let post = |path: String, fields: Vec<(&'static str, &'static str)>| {
        let (app, cookie, csrf) = (&app, &cookie, &csrf);
        async move {
            let mut form = vec![("_csrf", csrf.as_str())];
            form.extend(fields);
            app.post_form(&path, cookie, &form).await
        }
    };
    let fields = vec![
        ("name", "杨舍镇邻里互助队"),
        ("kind", "mutual_aid"),
        ("region_code", township),
        ("services", "助餐、陪诊"),
    ];
    let refused = post("/organisations".into(), fields.clone()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible(&refused.body).contains("请填写联系人和电话"));
    assert!(
        refused.body.contains("助餐、陪诊"),
        "what was typed comes back"
    );
    let mut with_contact = fields.clone();
    with_contact.push(("contact", "陈红 13962211234"));
    let added = post("/organisations".into(), with_contact.clone()).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let clerk = app.actor("clerk").await;
    let listed = app.services.organisations().list(&clerk).await.unwrap();
    let org = listed
        .iter()
        .find(|o| o.name == "杨舍镇邻里互助队")
        .expect("the window can refer to it");
    let page = visible(&app.get("/organisations", &cookie).await.body);
    assert!(
        page.contains("邻里互助队") && page.contains("杨舍镇"),
        "{page}"
    );
    // Withdrawn: the window no longer offers it, the bureau still sees it.
    let withdrawn = post(format!("/organisations/{}", org.id), with_contact).await;
    assert_eq!(
        withdrawn.status,
        StatusCode::SEE_OTHER,
        "{}",
        withdrawn.body
    );
    let listed = app.services.organisations().list(&clerk).await.unwrap();
    assert!(listed.iter().all(|o| o.id != org.id));
    assert!(app
        .get("/organisations", &cookie)
        .await
        .body
        .contains("已停用"));
    // A clerk does not manage them.
    let (clerk_cookie, _) = app.login("clerk").await;
    assert_eq!(
        app.get("/organisations", &clerk_cookie).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_village_registers_a_household_in_difficulty_and_the_bureau_exports_the_population() {
    let app = common::app(40).await;
    let (cookie, csrf) = app.login("assistant").await;
    let assistant = app.actor("assistant").await;
    let h = app
        .services
        .households()
        .search(&assistant, &Default::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let path = format!("/households/{}/monitor", h.id);
    let empty = app
        .post_form(&path, &cookie, &[("_csrf", &csrf), ("reason", " ")])
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(visible(&empty.body).contains("请写明家庭的困难情况"));
    let ok = app
        .post_form(
            &path,
            &cookie,
            &[("_csrf", &csrf), ("reason", "户主突发重病，配偶无业")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let page = visible(
        &app.get("/monitoring/population?group=registered", &cookie)
            .await
            .body,
    );
    assert!(
        page.contains(&h.head_name) && page.contains("村（社区）登记困难家庭"),
        "{page}"
    );
    let (admin, _) = app.login("supervisor").await;
    let csv = app.get("/monitoring/population.csv", &admin).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with("\u{feff}序号,户编号,户主"));
    assert!(csv.body.contains(&format!(",{},{},", h.id, h.head_name)));
    assert!(
        !csv.body.contains("3205821"),
        "no identity number in the export"
    );
}
