#![allow(dead_code)]

use axum::body::{to_bytes, Body};
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use jiuzhu_services::auth::TokenInput;
use jiuzhu_services::{Actor, Services};
use jiuzhu_store::{FieldCipher, Interface, Store};
use tower::ServiceExt;

/// How `token` hands back an administrator's session instead of a token.
const SESSION_PREFIX: &str = "session:";

pub struct App {
    pub router: Router,
    /// Authenticators bound by administrators in this test, and the last time step used.
    authenticators: std::sync::Mutex<std::collections::HashMap<String, (String, u64)>>,
    pub services: Services,
    pub url: String,
    _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
    /// The body as sent, for downloads.
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub async fn app(households: usize) -> App {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("web.db").display());
    let store = Store::connect(&url, FieldCipher::new(&[9u8; 32], 1))
        .await
        .unwrap();
    let services = Services::open(store).await.unwrap();
    jiuzhu_demo::generate(
        &services,
        households,
        11,
        jiuzhu_services::clock::today(),
        |_, _| {},
    )
    .await
    .unwrap();
    let state = jiuzhu_web::AppState::new(services.clone(), jiuzhu_web::WebConfig::default());
    App {
        router: jiuzhu_web::router(state),
        services,
        url,
        authenticators: Default::default(),
        _dir: dir,
    }
}

impl App {
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = to_bytes(res.into_body(), 16 << 20).await.unwrap();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    pub async fn actor(&self, username: &str) -> Actor {
        let mut tx = self.services.store.begin_read().await.unwrap();
        let u = tx.user_by_name(username).await.unwrap().unwrap();
        Actor::from_user(&u, Interface::Web, "127.0.0.1")
    }

    /// An API token acting as `username`, issued by that user for themselves (as the security
    /// administrator does for a department's system account).
    pub async fn token(&self, username: &str, read_only: bool) -> String {
        let user = self.actor(username).await;
        if user.role.is_administrator() {
            // Administrators hold no tokens: they act through a session with both factors,
            // which `api` sends as the cookie and the CSRF header.
            let (cookie, csrf) = self.login(username).await;
            return format!("{SESSION_PREFIX}{cookie}\n{csrf}");
        }
        let issuer = if username.ends_with("_system") {
            self.actor("security").await
        } else {
            user.clone()
        };
        let t = TokenInput {
            user_id: user.user_id.unwrap(),
            name: format!("测试 {username}"),
            read_only,
            expires_in_days: None,
        };
        self.services
            .users()
            .issue_token(&issuer, &t)
            .await
            .unwrap()
            .token
    }

    pub async fn api(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let mut b = Request::builder().method(method).uri(path);
        match token.map(|t| (t, t.strip_prefix(SESSION_PREFIX))) {
            Some((_, Some(session))) => {
                let (cookie, csrf) = session.split_once('\n').unwrap();
                b = b
                    .header(header::COOKIE, cookie)
                    .header("x-csrf-token", csrf);
            }
            Some((t, None)) => b = b.header(header::AUTHORIZATION, format!("Bearer {t}")),
            None => {}
        }
        let req = match body {
            Some(json) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(json.to_string())),
            None => b.body(Body::empty()),
        };
        self.send(req.unwrap()).await
    }

    pub async fn get(&self, path: &str, cookie: &str) -> Reply {
        self.send(
            Request::get(path)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn post_form(&self, path: &str, cookie: &str, form: &[(&str, &str)]) -> Reply {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = Request::post(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Signs in through the login form; returns the cookie header and the session's CSRF token.
    /// The head of the first household the token's user can see.
    pub async fn first_head(&self, token: &str) -> i64 {
        let h = self
            .api(Method::GET, "/api/v1/households", Some(token), None)
            .await
            .json();
        h["items"][0]["head_person_id"].as_i64().unwrap()
    }

    /// A person as the API shows them with the identity number revealed (an audited read).
    pub async fn revealed_person(&self, token: &str, person: i64) -> serde_json::Value {
        self.api(
            Method::GET,
            &format!("/api/v1/people/{person}?reveal=true"),
            Some(token),
            None,
        )
        .await
        .json()
    }

    /// Files an application for `item` at the window for `applicant`; returns the case id.
    pub async fn file_case(&self, token: &str, applicant: i64, item: &str, key: &str) -> i64 {
        let body = serde_json::json!({"applicant_person_id": applicant, "channel": "window",
            "hardship": "收入不足以维持基本生活", "causes": ["illness"], "items": [item], "idempotency_key": key});
        let c = self
            .api(Method::POST, "/api/v1/cases", Some(token), Some(body))
            .await;
        assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
        c.json()["id"].as_i64().unwrap()
    }

    /// The code of the authenticator `username` bound (as a phone shows it): the current one,
    /// or the next if the current was used already.
    pub fn authenticator_code(&self, username: &str) -> String {
        let mut bound = self.authenticators.lock().unwrap();
        let (secret, last) = bound.get_mut(username).expect("bound authenticator");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 30;
        let step = now.max(*last + 1);
        *last = step;
        jiuzhu_services::auth::two_factor::code_at(secret, step * 30).unwrap()
    }

    /// Gives the second factor if the session waits for one, binding an authenticator the
    /// first time as an administrator would with a phone.
    async fn second_factor(&self, username: &str, cookie: &str) {
        let page = self.get("/two-factor", cookie).await;
        if page.status != StatusCode::OK {
            return;
        }
        if let Some(secret) = attribute_value(&page.body, "data-secret") {
            self.authenticators
                .lock()
                .unwrap()
                .insert(username.to_string(), (secret, 0));
        }
        let csrf = field_value(&page.body, "_csrf").expect("csrf on the two-factor page");
        let code = self.authenticator_code(username);
        let reply = self
            .post_form("/two-factor", cookie, &[("_csrf", &csrf), ("code", &code)])
            .await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "second factor of {username}: {}",
            reply.body
        );
    }

    pub async fn login(&self, username: &str) -> (String, String) {
        let page = self
            .send(Request::get("/login").body(Body::empty()).unwrap())
            .await;
        let pre = cookie_value(&page.headers, "jz_login").expect("login cookie");
        let reply = self
            .post_form(
                "/login",
                &format!("jz_login={pre}"),
                &[
                    ("_csrf", &pre),
                    ("username", username),
                    ("password", "jiuzhu2026"),
                ],
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "login of {username}: {}",
            reply.body
        );
        let session = cookie_value(&reply.headers, "jz_session").expect("session cookie");
        let cookie = format!("jz_session={session}");
        self.second_factor(username, &cookie).await;
        let home = self.get("/", &cookie).await;
        let csrf = field_value(&home.body, "_csrf").expect("csrf token on the page");
        (cookie, csrf)
    }
}

pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

pub fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// The value of the first `name="..."` attribute in the page.
pub fn attribute_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("{name}=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// A household of 杨舍镇 on 低保 for thirteen months at 100.00 yuan a month — far below what the
/// rules give a couple without income — with its review due today. Returns (household,
/// enrolment, head's name).
pub async fn enrolled_household(app: &App, seq: u16) -> (i64, i64, String) {
    use chrono::{Months, NaiveDate, Utc};
    use jiuzhu_domain::enrolment::{month_of, EnrolmentChange};
    let s = &app.services;
    let clerk = app.actor("clerk").await;
    let village = s
        .regions()
        .list(&clerk)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.level == "village")
        .unwrap()
        .code;
    let id = |y, m, d, n| {
        jiuzhu_domain::IdNumber::from_parts("320582", NaiveDate::from_ymd_opt(y, m, d).unwrap(), n)
            .unwrap()
            .expose()
            .to_string()
    };
    let person = |id_number: String, name: &str| jiuzhu_services::people::PersonInput {
        id_number,
        name: name.into(),
        hukou_region: village.clone(),
        residence_region: village.clone(),
        residence_since: NaiveDate::from_ymd_opt(2001, 5, 1),
        phone: None,
        disability_grade: None,
        disability_kind: None,
        serious_illness: None,
        labour_capacity: "partial".into(),
        self_care: "full".into(),
        residence_permit: false,
    };
    let head_name = "柏永康";
    let head = s
        .people()
        .create(&clerk, &person(id(1962, 2, 2, seq), head_name))
        .await
        .unwrap();
    let wife = s
        .people()
        .create(&clerk, &person(id(1964, 4, 4, seq + 1), "缪桂芳"))
        .await
        .unwrap();
    let h = s
        .households()
        .create(
            &clerk,
            &jiuzhu_services::households::HouseholdInput {
                region_code: village.clone(),
                address: "河东村5组7号".into(),
                head_person_id: head.id,
                from_date: NaiveDate::from_ymd_opt(1988, 1, 1),
            },
        )
        .await
        .unwrap();
    let hid = h.household.id;
    s.households()
        .add_member(
            &clerk,
            hid,
            &jiuzhu_services::households::MemberInput {
                person_id: wife.id,
                relation: "spouse".into(),
                from_date: NaiveDate::from_ymd_opt(1988, 1, 1),
            },
        )
        .await
        .unwrap();
    let today = s.today();
    let first = month_of(today).checked_sub_months(Months::new(13)).unwrap();
    let members = vec![head.id, wife.id];
    let mut tx = s.store.begin().await.unwrap();
    let ids = tx
        .insert_enrolments(&[jiuzhu_store::EnrolmentRecord {
            id: 0,
            household_id: hid,
            person_id: None,
            program: "dibao".into(),
            region_code: village.clone(),
            case_id: None,
            evaluation_id: None,
            report_id: None,
            amount_fen: 10_000,
            members: serde_json::to_string(&members).unwrap(),
            first_month: first,
            stage: "confirmed".into(),
            granted_by: "liaison3".into(),
            reviewed_by: Some("reviewer".into()),
            reviewed_at: Some(Utc::now()),
            review_note: String::new(),
            confirmed_by: Some("approver".into()),
            confirmed_at: Some(Utc::now()),
            next_review: Some(today),
            created_at: Utc::now(),
        }])
        .await
        .unwrap();
    let enrolled = EnrolmentChange::Enrolled {
        amount_fen: 10_000,
        members,
    };
    tx.insert_changes(&[jiuzhu_store::ChangeRecord {
        id: 0,
        enrolment_id: ids[0],
        region_code: village,
        month: first,
        kind: "enrolled".into(),
        body: serde_json::to_string(&enrolled).unwrap(),
        reason: "审核确认".into(),
        recorded_by: "approver".into(),
        approved_by: "approver".into(),
        created_at: Utc::now(),
    }])
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (hid, ids[0], head_name.to_string())
}

/// A household of 杨舍镇 outside every enrolment, entered on 低保 and reviewed by the township:
/// (enrolment, village code, head's name).
pub async fn reviewed_for_publicity(app: &App) -> (i64, String, String) {
    use jiuzhu_services::recipients::{DecisionInput, EnrolInput};
    let s = &app.services;
    let clerk = app.actor("clerk").await;
    let mut tx = s.store.begin_read().await.unwrap();
    let enrolled: Vec<i64> = tx
        .enrolments_in("320582100", None)
        .await
        .unwrap()
        .iter()
        .map(|e| e.household_id)
        .collect();
    drop(tx);
    let h = s
        .households()
        .search(&clerk, &Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|h| !enrolled.contains(&h.id))
        .unwrap();
    let e = s
        .recipients()
        .enrol(
            &clerk,
            &EnrolInput {
                household_id: h.id,
                program: "dibao".into(),
                person_id: None,
                amount_fen: 76_000,
                first_month: s.today().format("%Y-%m").to_string(),
                note: "入户调查和核对后符合低保条件".into(),
            },
        )
        .await
        .unwrap();
    s.recipients()
        .decide(
            &app.actor("reviewer").await,
            e.id,
            &DecisionInput {
                approve: true,
                note: "审核同意".into(),
            },
        )
        .await
        .unwrap();
    (e.id, h.region_code, e.head_name)
}

/// A need of a 杨舍镇 household's plan (陪同就医, `quantity` visits) published to the
/// organisations with the household's consent: (need, head of household's name).
pub async fn published_need(app: &App, quantity: i64) -> (i64, String) {
    use jiuzhu_services::recipients::{Measure, Need, PlanInput};
    use jiuzhu_services::social::{ConsentInput, NeedInput};
    let s = &app.services;
    let clerk = app.actor("clerk").await;
    let household = s
        .households()
        .search(&clerk, &Default::default())
        .await
        .unwrap()
        .items[0]
        .clone();
    let plan = s
        .recipients()
        .save_plan(
            &clerk,
            household.id,
            &PlanInput {
                causes: vec!["illness".into()],
                needs: vec![Need {
                    need: "行动不便，需要陪同就医".into(),
                    measure: Some(Measure {
                        by: "社会组织".into(),
                        what: "陪同就医".into(),
                        due_days: 20,
                        status: String::new(),
                    }),
                    no_measure_reason: String::new(),
                }],
                changes: "新增需求".into(),
            },
        )
        .await
        .unwrap();
    s.social()
        .record_consent(
            &clerk,
            &ConsentInput {
                household_id: household.id,
                person_id: household.head_person_id,
                kind: "share_needs".into(),
                channel: "visit".into(),
            },
        )
        .await
        .unwrap();
    let need = s
        .social()
        .publish_need(
            &clerk,
            &NeedInput {
                plan_id: plan.id,
                need_index: 0,
                description: "独居老人每月复查需有人陪同".into(),
                quantity,
                unit: "visits".into(),
            },
        )
        .await
        .unwrap();
    (need.item.id, household.head_name)
}
