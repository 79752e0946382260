//! `jiuzhu bench load`: the one-window load benchmark. It serves the platform on the configured
//! database (the demo city) on a loopback port and drives it over real HTTP connections from
//! concurrent clients: first filing applications, then reading case pages. It reports requests
//! per second, latency percentiles and errors, as JSON on standard output.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jiuzhu_domain::Money;
use jiuzhu_services::auth::TokenInput;
use jiuzhu_services::{Actor, Services};
use jiuzhu_store::Interface;
use serde_json::json;

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Concurrent clients filing applications, then reading case pages, over HTTP against the
    /// platform served on this database (which must hold the demo city).
    Load {
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// Seconds per phase.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// Verification of single cases against the facts in the database: the case page's 核对,
    /// one case after another, with the time each took.
    Verify {
        /// Cases 1..=N.
        #[arg(long, default_value_t = 500)]
        cases: i64,
    },
    Policy(crate::bench_policy::Args),
    /// The register of those in assistance for the whole city — its first page and its `.xlsx`
    /// — then a review of every enrolment paid now (which leaves proposals to confirm).
    Recipients {
        /// Times the register page is built (the median is reported).
        #[arg(long, default_value_t = 5)]
        pages: usize,
        /// Skip the review (it writes a proposal per enrolment).
        #[arg(long)]
        no_review: bool,
    },
    /// A month's roll for the whole city: generated, checked and approved by two people, its
    /// bank file written, a return of every line (one in a hundred failed) written and
    /// reconciled. Run `--enrol N` first (a separate run) to give households not in
    /// assistance a 低保 enrolment with an account until the city has N enrolments.
    Payments {
        /// Enrol households (and stop) until there are this many enrolments.
        #[arg(long)]
        enrol: Option<usize>,
        /// YYYY-MM paid for (this month without it).
        #[arg(long)]
        month: Option<String>,
        /// Where the bank file and the return are written.
        #[arg(long, default_value = ".")]
        dir: std::path::PathBuf,
    },
}

pub struct LoadOptions {
    pub clients: usize,
    pub seconds: u64,
}

/// The benchmarks that run on the database (`bench policy` needs none and runs before it opens).
pub async fn run_on(services: Services, command: Command) -> Result<()> {
    match command {
        Command::Load { clients, seconds } => run(services, LoadOptions { clients, seconds }).await,
        Command::Verify { cases } => {
            let actor = crate::cli_actor(&services).await?;
            verify(services, actor, cases).await
        }
        Command::Policy(args) => crate::bench_policy::run(args),
        Command::Recipients { pages, no_review } => recipients(services, pages, no_review).await,
        Command::Payments { enrol, month, dir } => match enrol {
            Some(n) => enrol_up_to(&services, n).await,
            None => payments(&services, month, &dir).await,
        },
    }
}

/// Gives households with no enrolment a confirmed 低保 enrolment paid from three months ago,
/// with the head's account, until the city has `target` enrolments.
async fn enrol_up_to(services: &Services, target: usize) -> Result<()> {
    use jiuzhu_domain::enrolment::{add_months, month_of, EnrolmentChange};
    use jiuzhu_store::{ChangeRecord, EnrolmentRecord, PayeeRecord};
    let started = Instant::now();
    let have: usize = {
        let mut tx = services.store.begin_read().await?;
        tx.count_enrolments().await? as usize
    };
    let first = add_months(month_of(jiuzhu_services::clock::today()), 0)
        .checked_sub_months(chrono::Months::new(3))
        .expect("a month");
    let at = chrono::Utc::now();
    let mut added = 0usize;
    let mut after = 0i64;
    while have + added < target {
        let want = (target - have - added).min(50_000) as i64;
        let mut tx = services.store.begin().await?;
        let households = tx.households_not_enrolled(after, want).await?;
        let Some(last) = households.last() else {
            break;
        };
        after = last.0;
        let ids: Vec<i64> = households.iter().map(|h| h.0).collect();
        let mut members: std::collections::HashMap<i64, Vec<i64>> = Default::default();
        for (h, p) in tx.current_members_of(&ids).await? {
            members.entry(h).or_default().push(p);
        }
        let rows: Vec<EnrolmentRecord> = households
            .iter()
            .map(|(h, region, _, _)| {
                let n = members.get(h).map_or(1, Vec::len) as i64;
                EnrolmentRecord {
                    id: 0,
                    household_id: *h,
                    person_id: None,
                    program: "dibao".into(),
                    region_code: region.clone(),
                    case_id: None,
                    evaluation_id: None,
                    report_id: None,
                    amount_fen: 30_000 * n + (h % 7) * 1_000,
                    members: serde_json::to_string(&members.get(h).cloned().unwrap_or_default())
                        .expect("ids"),
                    first_month: first,
                    stage: "confirmed".into(),
                    granted_by: "system".into(),
                    reviewed_by: Some("system".into()),
                    reviewed_at: Some(at),
                    review_note: "性能测试".into(),
                    confirmed_by: Some("system".into()),
                    confirmed_at: Some(at),
                    next_review: Some(add_months(first, 12)),
                    created_at: at,
                }
            })
            .collect();
        let enrolment_ids = tx.insert_enrolments(&rows).await?;
        let mut changes = Vec::with_capacity(rows.len());
        let mut payees = Vec::with_capacity(rows.len());
        for ((e, id), (_, _, head, name)) in rows.iter().zip(&enrolment_ids).zip(&households) {
            let change = EnrolmentChange::Enrolled {
                amount_fen: e.amount_fen,
                members: serde_json::from_str(&e.members).expect("ids"),
            };
            changes.push(ChangeRecord {
                id: 0,
                enrolment_id: *id,
                region_code: e.region_code.clone(),
                month: first,
                kind: change.code().to_string(),
                body: serde_json::to_string(&change).expect("a change"),
                reason: "性能测试".into(),
                recorded_by: "system".into(),
                approved_by: "system".into(),
                created_at: at,
            });
            let account = format!("62220210{:011}", e.household_id);
            payees.push(PayeeRecord {
                id: 0,
                enrolment_id: Some(*id),
                award_id: None,
                household_id: e.household_id,
                region_code: e.region_code.clone(),
                person_id: *head,
                holder_name: name.clone(),
                bank: "张家港农村商业银行".into(),
                account_cipher: services
                    .store
                    .cipher()
                    .encrypt(jiuzhu_store::ACCOUNT_CONTEXT, &account),
                account_masked: jiuzhu_domain::payment::mask_account(&account),
                role: "head".into(),
                updated_by: "system".into(),
                updated_at: at,
            });
        }
        tx.insert_changes(&changes).await?;
        tx.insert_payees(&payees).await?;
        tx.commit().await?;
        added += rows.len();
        eprintln!("已纳入{added}户");
    }
    println!(
        "原有保障{have}个，新纳入{added}户（低保，自{}起），用时{:.1}秒",
        first.format("%Y-%m"),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The month's roll of the whole city, end to end, each step timed.
async fn payments(services: &Services, month: Option<String>, dir: &std::path::Path) -> Result<()> {
    use jiuzhu_services::payments::RollInput;
    let county = crate::cli_actor(services).await?;
    let as_role = |role: jiuzhu_domain::Role, name: &str| Actor {
        role,
        username: format!("bench-{name}"),
        display_name: format!("性能测试（{name}）"),
        ..county.clone()
    };
    let clerk = as_role(jiuzhu_domain::Role::TownshipReviewer, "clerk");
    let checker = as_role(jiuzhu_domain::Role::CountyApprover, "checker");
    let approver = as_role(jiuzhu_domain::Role::CountyApprover, "approver");
    let month =
        month.unwrap_or_else(|| jiuzhu_services::clock::today().format("%Y-%m").to_string());
    let payments = services.payments();
    let mut times = Vec::new();
    let mut step = |name: &'static str, t: Instant| {
        let s = t.elapsed().as_secs_f64();
        eprintln!("{name}：{s:.2}秒");
        times.push((name, s));
    };
    let t = Instant::now();
    let id = payments
        .generate_draft(
            &clerk,
            &RollInput {
                month: month.clone(),
                ..Default::default()
            },
        )
        .await?;
    step("生成花名册", t);
    let r = payments.roll(&clerk, id, 1).await?;
    let t = Instant::now();
    payments.advance_only(&checker, id, "check").await?;
    step("审核", t);
    let t = Instant::now();
    payments.advance_only(&approver, id, "approve").await?;
    step("审批（重算名册核对并锁定）", t);
    let t = Instant::now();
    let bytes = payments
        .bank_file_as(
            &approver,
            id,
            "320582MZJ",
            jiuzhu_services::payments::BankLayout::Pipe,
        )
        .await?;
    step("写银行代发文件", t);
    let bank_path = dir.join(format!("roll-{id}.txt"));
    std::fs::write(&bank_path, &bytes)?;
    let bank_mb = bytes.len() as f64 / 1_048_576.0;
    // The bank's answer, written line by line from the file sent: every line, one in a hundred
    // failed for one of four reasons.
    let (text, _, _) = encoding_rs::GBK.decode(&bytes);
    let mut rows = text.lines();
    let summary = rows.next().unwrap_or_default();
    let reasons = ["户名不符", "账户已销户", "账户冻结", "账号不存在"];
    let mut ret = String::with_capacity(text.len());
    let fields: Vec<&str> = summary.split('|').collect();
    ret.push_str(&fields[..4.min(fields.len())].join("|"));
    ret.push('\n');
    for (i, row) in rows.enumerate() {
        // 序号|姓名|账号|金额|证件类型|证件号码|摘要
        let f: Vec<&str> = row.splitn(5, '|').collect();
        let (result, reason) = if i % 100 == 37 {
            ("失败", reasons[(i / 100) % 4])
        } else {
            ("成功", "")
        };
        ret.push_str(&format!(
            "{}|{}|{}|{}|{result}|{reason}\n",
            f[0], f[1], f[2], f[3]
        ));
    }
    drop(text);
    drop(bytes);
    let return_path = dir.join(format!("roll-{id}-return.txt"));
    std::fs::write(&return_path, encoding_rs::GBK.encode(&ret).0)?;
    drop(ret);
    let gbk = std::fs::read(&return_path)?;
    let t = Instant::now();
    let report = payments
        .import_return(&approver, id, "return.txt", &gbk)
        .await?;
    step("导入回盘并对账", t);
    let (y, m) = month.split_once('-').unwrap_or((&month, ""));
    println!(
        "{y}年{}月全市花名册：{}笔，{}元；尚未登记账户{}个；代发文件{:.1} MB；回盘成功{}笔、失败{}笔、有误{}行，{}",
        m.trim_start_matches('0'),
        r.lines,
        Money::from_fen(r.total_fen),
        r.missing_count,
        bank_mb,
        report.paid,
        report.failed,
        report.errors.len(),
        if report.closed {
            "已对账结清（失败的待更正账户后补发）".to_string()
        } else {
            format!("未结清：{}", report.mismatch.clone().unwrap_or_default())
        }
    );
    for (name, s) in &times {
        println!("  {name}：{s:.2}秒");
    }
    println!("  文件：{}，{}", bank_path.display(), return_path.display());
    Ok(())
}

async fn recipients(services: Services, pages: usize, no_review: bool) -> Result<()> {
    let actor = crate::cli_actor(&services).await?;
    let r = services.recipients();
    let query = jiuzhu_services::recipients::RegisterQuery::default();
    let mut times = Vec::new();
    let mut view = None;
    for _ in 0..pages.max(1) {
        let started = Instant::now();
        view = Some(r.register(&actor, &query).await?);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let view = view.expect("at least one page");
    println!(
        "名册（全市，{}）：{}户、{}人、月发放{}元；生成一页 中位数{:.0}毫秒，最慢{:.0}毫秒（{}次）",
        view.month,
        view.households,
        view.persons,
        jiuzhu_domain::Money::from_fen(view.amount_fen),
        times[times.len() / 2],
        times[times.len() - 1],
        times.len()
    );
    let started = Instant::now();
    let xlsx = r.register_xlsx(&actor, &query).await?;
    println!(
        "花名册 .xlsx（全市）：{:.1} MB，用时{:.2}秒",
        xlsx.len() as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );
    if !no_review {
        crate::review::review(&services, crate::review::ReviewArgs::everything()).await?;
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct Phase {
    name: &'static str,
    clients: usize,
    requests: usize,
    errors: usize,
    seconds: f64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn phase<F, Fut>(name: &'static str, clients: usize, seconds: u64, work: F) -> Phase
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let work = Arc::new(work);
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let work = work.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                if !work(c, n).await {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                latencies.push(t.elapsed());
                n += 1;
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("client task"));
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort_unstable();
    Phase {
        name,
        clients,
        requests: all.len(),
        errors: errors.load(Ordering::Relaxed),
        seconds: secs,
        per_second: all.len() as f64 / secs,
        p50_ms: percentile(&all, 0.50),
        p99_ms: percentile(&all, 0.99),
        max_ms: all.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
    }
}

async fn call(
    client: &HttpClient,
    method: Method,
    url: &str,
    token: &str,
    body: Option<String>,
) -> Option<(u16, Bytes)> {
    let mut req = Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .ok()?;
    let res = client.request(req).await.ok()?;
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.ok()?.to_bytes();
    Some((status, bytes))
}

pub async fn run(services: Services, options: LoadOptions) -> Result<()> {
    if services.is_empty().await? {
        bail!("数据库为空：请先运行 jiuzhu demo");
    }
    // The window clerk of 杨舍镇 files for the heads of the households of her township.
    let (clerk, admin) = {
        let mut tx = services.store.begin_read().await?;
        let clerk = tx
            .user_by_name("clerk")
            .await?
            .context("需要示范用户 clerk")?;
        let admin = tx
            .user_by_name("admin")
            .await?
            .context("需要示范用户 admin")?;
        (clerk, admin)
    };
    let admin = Actor::from_user(&admin, Interface::Cli, "local");
    let token = services
        .users()
        .issue_token(
            &admin,
            &TokenInput {
                user_id: clerk.id,
                name: "负载测试".into(),
                read_only: false,
                expires_in_days: Some(1),
            },
        )
        .await?
        .token;
    let clerk_actor = Actor::from_user(&clerk, Interface::Cli, "local");
    let mut heads = Vec::new();
    for page in 1..=20 {
        let q = jiuzhu_services::households::HouseholdQuery {
            page: Some(page),
            ..Default::default()
        };
        let p = services.households().search(&clerk_actor, &q).await?;
        heads.extend(p.items.iter().map(|h| h.head_person_id));
        if p.items.is_empty() {
            break;
        }
    }
    if heads.is_empty() {
        bail!("clerk 的乡镇没有家庭");
    }
    let heads = Arc::new(heads);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = jiuzhu_web::AppState::new(services.clone(), jiuzhu_web::WebConfig::default());
    let server = tokio::spawn(jiuzhu_web::serve_on(state, listener));
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(options.clients)
        .build_http();
    let run_id = format!("{:x}", rand::random::<u32>());
    let filed = Arc::new(std::sync::Mutex::new(Vec::<i64>::new()));

    let (c, t, b, h, f) = (
        client.clone(),
        token.clone(),
        base.clone(),
        heads.clone(),
        filed.clone(),
    );
    let filing = phase("file_application", options.clients, options.seconds, move |client_no, n| {
        let (client, token, base, heads, filed, run_id) = (c.clone(), t.clone(), b.clone(), h.clone(), f.clone(), run_id.clone());
        async move {
            let person = heads[(client_no * 7919 + n * 104_729) % heads.len()];
            let body = json!({
                "applicant_person_id": person, "channel": "window", "hardship": "负载测试：因病支出较大",
                "causes": ["illness"], "items": ["medical_assistance", "temporary_assistance"],
                "idempotency_key": format!("bench-{run_id}-{client_no}-{n}"),
            });
            match call(&client, Method::POST, &format!("{base}/api/v1/cases"), &token, Some(body.to_string())).await {
                Some((201, bytes)) => {
                    if let Some(id) = serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|v| v["id"].as_i64()) {
                        filed.lock().expect("lock").push(id);
                    }
                    true
                }
                _ => false,
            }
        }
    })
    .await;

    let ids = Arc::new(filed.lock().expect("lock").clone());
    if ids.is_empty() {
        server.abort();
        bail!("没有成功提交的申请，无法测试读取");
    }
    let (c, t, b, i) = (client.clone(), token.clone(), base.clone(), ids.clone());
    let reading = phase(
        "read_case",
        options.clients,
        options.seconds,
        move |client_no, n| {
            let (client, token, base, ids) = (c.clone(), t.clone(), b.clone(), i.clone());
            async move {
                let id = ids[(client_no * 31 + n * 17) % ids.len()];
                matches!(
                    call(
                        &client,
                        Method::GET,
                        &format!("{base}/api/v1/cases/{id}"),
                        &token,
                        None
                    )
                    .await,
                    Some((200, _))
                )
            }
        },
    )
    .await;
    server.abort();
    let backend = match services.store.backend() {
        jiuzhu_store::Backend::Sqlite => "sqlite",
        jiuzhu_store::Backend::Postgres => "postgres",
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({"database": backend, "phases": [filing, reading]}))?
    );
    Ok(())
}

/// Verifies the first `cases` cases one after another, as the case page's 核对 does (facts
/// read, report saved, audited), and prints the time each took.
pub async fn verify(services: Services, actor: jiuzhu_services::Actor, cases: i64) -> Result<()> {
    let mut times = Vec::new();
    let mut facts = 0;
    for id in 1..=cases {
        let started = Instant::now();
        match services.verification().verify_case(&actor, id).await {
            Ok(r) => {
                times.push(started.elapsed());
                facts += r.report.facts_weighed;
            }
            Err(jiuzhu_services::ServiceError::NotFound) => continue,
            Err(e) => anyhow::bail!("案件{id}：{e}"),
        }
    }
    times.sort();
    println!(
        "核对{}件（部门数据{}条）：中位数{:.1}毫秒，95%{:.1}毫秒，最长{:.1}毫秒",
        times.len(),
        facts,
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 1.0)
    );
    Ok(())
}
