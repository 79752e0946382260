//! The resident's own door and the social forces through the pages: a guide, an online
//! application that reaches the township's queue and the status page, the honour board; an
//! organisation committing to a need and delivering it; new citizens.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{cookie_value, App};

fn id(y: i32, m: u32, d: u32, n: u16) -> String {
    jiuzhu_domain::IdNumber::from_parts(
        "320582",
        chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        n,
    )
    .unwrap()
    .expose()
    .to_string()
}

async fn public_get(app: &App, path: &str) -> (common::Reply, String) {
    let r = app
        .send(Request::get(path).body(Body::empty()).unwrap())
        .await;
    let token = cookie_value(&r.headers, "jz_login").unwrap_or_default();
    (r, token)
}

#[tokio::test]
async fn a_resident_reads_a_guide_and_applies_online() {
    let app = common::app(60).await;
    let (guides, _) = public_get(&app, "/public/guides").await;
    assert_eq!(guides.status, StatusCode::OK);
    assert!(guides.body.contains("最低生活保障"));
    let (guide, _) = public_get(&app, "/public/guides/dibao").await;
    assert!(guide.body.contains("需要的材料") && guide.body.contains("个工作日内办结"));
    let (missing, _) = public_get(&app, "/public/guides/nothing").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let (form, token) = public_get(&app, "/public/apply?item=dibao").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("value=\"dibao\" checked"));
    let village = form.body.split("<option value=\"320582100").nth(1).unwrap()[..3].to_string();
    let village = format!("320582100{village}");
    let cookie = format!("jz_login={token}");
    let applicant = id(1983, 2, 14, 515);
    let spouse = id(1981, 7, 30, 534);
    let fields = |consent: &'static str| {
        vec![
            ("_csrf", token.clone()),
            ("name", "许晓梅".to_string()),
            ("id_number", applicant.clone()),
            ("phone", "13862220000".to_string()),
            ("village", village.clone()),
            ("address", "长安南路8号".to_string()),
            ("items", "dibao".to_string()),
            ("items", "temporary_assistance".to_string()),
            ("causes", "illness".to_string()),
            ("hardship", "丈夫车祸后卧床，家里没有收入".to_string()),
            ("member_name", "朱国庆".to_string()),
            ("member_id_number", spouse.clone()),
            ("member_relation", "spouse".to_string()),
            ("member_name", String::new()),
            ("member_id_number", String::new()),
            ("member_relation", "child".to_string()),
            ("consent", consent.to_string()),
        ]
    };
    let app = &app;
    let cookie = &cookie;
    let post = |f: Vec<(&'static str, String)>| async move {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        app.post_form("/public/apply", cookie, &pairs).await
    };
    let refused = post(fields("")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("授权书"), "{}", refused.body);
    assert!(refused.body.contains("许晓梅"), "what was typed comes back");
    let more = post({
        let mut f = fields("1");
        f.push(("more", "1".into()));
        f
    })
    .await;
    assert_eq!(more.body.matches("name=\"member_name\"").count(), 3);
    let sent = post(fields("1")).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert!(sent.body.contains("网上申请编号"));
    let number = sent
        .body
        .split("网上申请编号：<strong>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let (status, _) = public_get(
        app,
        &format!("/status?form_no={number}&last4={}", &applicant[14..]),
    )
    .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert!(status.body.contains("等待窗口受理"));

    // In the township's queue as an online application.
    let (clerk, _) = app.login("clerk").await;
    let queue = app.get("/queue", &clerk).await;
    assert!(queue.body.contains("许晓梅"), "in 杨舍镇's queue");
}

#[tokio::test]
async fn an_organisation_commits_to_a_need_and_volunteers_earn_points() {
    let app = common::app(80).await;
    let (need, head_name) = common::published_need(&app, 6).await;
    let (org, org_csrf) = app.login("org").await;
    let board = app.get("/needs", &org).await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    assert!(board.body.contains("独居老人每月复查需有人陪同"));
    assert!(!board.body.contains(&head_name), "no name on the board");
    let over = app
        .post_form(
            &format!("/needs/{need}/commitments"),
            &org,
            &[("_csrf", &org_csrf), ("quantity", "999")],
        )
        .await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(over.body.contains("认领数量应在1至"));
    let ok = app
        .post_form(
            &format!("/needs/{need}/commitments"),
            &org,
            &[("_csrf", &org_csrf), ("quantity", "6")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body.contains("已认领6次"));
    let commitment: i64 = ok
        .body
        .split(&format!("id=\"n{need}\""))
        .nth(1)
        .unwrap()
        .split("/commitments/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let done = app
        .post_form(
            &format!("/commitments/{commitment}/delivery"),
            &org,
            &[("_csrf", &org_csrf)],
        )
        .await;
    assert!(
        done.body.contains("帮扶计划中的这项措施已落实"),
        "{}",
        done.body
    );

    let vols = app.get("/volunteers", &org).await;
    assert!(vols.body.contains("沈晓燕"));
    let (honour, _) = public_get(&app, "/public/honour").await;
    assert!(honour.body.contains("沈晓燕") && honour.body.contains("爱心志愿者"));
    assert!(
        !honour.body.contains("钱佳怡"),
        "a volunteer who did not agree is not named"
    );
    // A clerk has no needs board.
    let (clerk, _) = app.login("clerk").await;
    assert_eq!(
        app.get("/needs", &clerk).await.status,
        StatusCode::FORBIDDEN
    );
    let social = app.get("/social", &clerk).await;
    assert_eq!(social.status, StatusCode::OK);
    let citizens = app.get("/new-citizens", &clerk).await;
    assert_eq!(citizens.status, StatusCode::OK);
}

/// A multipart body with the given text fields and one file.
fn multipart(fields: &[(&str, &str)], file: (&str, &[u8])) -> (String, Vec<u8>) {
    let boundary = "jiuzhuTestBoundary7MA4YWxk";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
            file.0
        )
        .as_bytes(),
    );
    body.extend_from_slice(file.1);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn an_applicant_uploads_a_photo_of_a_material_and_the_window_reads_it() {
    let app = common::app(40).await;
    let dir = tempfile::tempdir().unwrap();
    app.services.set_upload_dir(dir.path());
    let clerk_actor = app.actor("clerk").await;
    let village = app
        .services
        .regions()
        .list(&clerk_actor)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.level == "village")
        .unwrap()
        .code;
    let applicant = id(1990, 10, 2, 612);
    let receipt = app
        .services
        .cases()
        .apply_online(
            "10.2.2.2",
            &jiuzhu_services::cases::OnlineApplication {
                id_number: applicant.clone(),
                name: "严丽君".into(),
                phone: "13915550000".into(),
                village,
                address: "港城大道1号".into(),
                hardship: "独自抚养孩子，收入不够".into(),
                causes: vec![],
                items: vec!["temporary_assistance".into()],
                members: vec![],
                consent: true,
            },
        )
        .await
        .unwrap();
    let number = receipt.application_no.clone();
    let last4 = applicant[14..].to_string();
    let (page, token) = public_get(
        &app,
        &format!("/public/materials?number={number}&last4={last4}"),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("还需要"));
    let material = "申请人居民身份证";
    assert!(page.body.contains(material), "{}", page.body);
    let send = |bytes: &'static [u8], name: &'static str, token: String, sent: String| {
        let (ct, body) = multipart(
            &[
                ("number", &number),
                ("last4", &last4),
                ("material", material),
            ],
            (name, bytes),
        );
        let cookie = format!("jz_login={token}");
        let uri = format!("/public/materials?_csrf={sent}");
        let app = &app;
        async move {
            app.send(
                Request::post(uri)
                    .header("content-type", ct)
                    .header("cookie", cookie)
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
        }
    };
    // Named like a picture, but a program: refused by its content.
    let bad = send(
        b"MZ\x90\x00\x03 this is not a picture",
        "身份证.jpg",
        token.clone(),
        token.clone(),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("只能上传照片"));
    let forged = send(
        b"\xFF\xD8\xFF\xE0 jpeg",
        "a.jpg",
        token.clone(),
        "wrong".into(),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let ok = send(
        b"\xFF\xD8\xFF\xE0\x00\x10JFIF photo of the card",
        "身份证正面.jpg",
        token.clone(),
        token.clone(),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body.contains("已收到") && ok.body.contains("已上传：申请人居民身份证"));
    let (status, _) = public_get(&app, &format!("/status?form_no={number}&last4={last4}")).await;
    assert!(
        status.body.contains("已上传申请人居民身份证"),
        "{}",
        status.body
    );
    // Kept as a file, read by the township's clerk.
    let files: Vec<_> = walk(dir.path());
    assert_eq!(files.len(), 1);
    let case = jiuzhu_services::cases::case_of_application_no(&number).unwrap();
    let (clerk, _) = app.login("clerk").await;
    let page = app.get(&format!("/cases/{case}"), &clerk).await;
    let link = format!("/cases/{case}/materials/");
    assert!(page.body.contains(&link), "{}", page.body);
    let m: i64 = page
        .body
        .split(&link)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let file = app.get(&format!("{link}{m}"), &clerk).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.headers["content-type"], "image/jpeg");
    assert!(file.bytes.starts_with(b"\xFF\xD8\xFF"));
    let (clerk2, _) = app.login("clerk2").await;
    assert_eq!(
        app.get(&format!("{link}{m}"), &clerk2).await.status,
        StatusCode::NOT_FOUND
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
