//! `jiuzhu serve`: the web pages and the JSON API.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use jiuzhu_services::Services;

use crate::config::Config;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on [env: JIUZHU_BIND]
    #[arg(long)]
    pub bind: Option<String>,
    /// Write the demo city first when the database is empty.
    #[arg(long)]
    demo: bool,
    /// Households of that demo city.
    #[arg(long, default_value_t = 20_000)]
    demo_households: usize,
}

pub async fn run(services: Services, config: &Config, args: Args) -> Result<()> {
    services.set_upload_dir(&config.upload_dir);
    if args.demo && services.is_empty().await? {
        crate::demo::write(&services, args.demo_households, 2026).await?;
    }
    // The audit chain is checked on every start, beside serving: a long log takes a while.
    let checking = services.clone();
    tokio::spawn(async move {
        let Ok(Some(county)) = checking.regions().county().await else {
            return;
        };
        let actor = jiuzhu_services::Actor::system_auditor(county, jiuzhu_store::Interface::System);
        match checking.audit().verify(&actor).await {
            Ok(r) => match r.broken {
                None => tracing::info!(rows = r.rows, "审计日志封印链完整"),
                Some(b) => tracing::error!(
                    seq = b.seq,
                    id = b.id,
                    "审计日志被篡改：{}（运行 jiuzhu audit verify 查看）",
                    b.reason
                ),
            },
            Err(e) => tracing::error!(error = %e, "无法核验审计日志"),
        }
    });
    // The month's monitoring runs by itself once the month has begun: each server looks every
    // hour, and the database lets one of them record the month's run.
    let monitoring = services.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            let Ok(Some(county)) = monitoring.regions().county().await else {
                continue;
            };
            let actor = jiuzhu_services::Actor::system(county, jiuzhu_store::Interface::System);
            match monitoring.monitoring().run_due(&actor).await {
                Ok(Some(r)) => tracing::info!(
                    month = %r.month,
                    warnings = r.warnings,
                    raised = r.raised,
                    "本月动态监测已运行"
                ),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "本月动态监测未能运行"),
            }
        }
    });
    let addr: SocketAddr = config
        .bind
        .parse()
        .with_context(|| format!("监听地址“{}”无效", config.bind))?;
    let state = jiuzhu_web::AppState::new(
        services,
        jiuzhu_web::WebConfig {
            secure_cookies: config.secure_cookies,
            trusted_proxies: config.proxies(),
            public_url: config.public_url.clone(),
            service_phone: config.service_phone.clone(),
        },
    );
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("无法监听 {addr}"))?;
    println!("救助平台已启动：http://{addr}/  （Ctrl-C 停止）");
    jiuzhu_web::serve_on(state, listener).await?;
    Ok(())
}
