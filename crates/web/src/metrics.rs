//! `/metrics` in the Prometheus text format: requests by status class and their latencies,
//! refused and failed requests, and the work the bureau watches (open and overdue case items).
//! Answered to the machine itself (or a trusted proxy's scraper) only.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 8] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
pub struct Metrics {
    /// Requests by status class: 1xx..5xx.
    by_class: [AtomicU64; 5],
    /// Cumulative counts per bucket, then the total.
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Microseconds.
    sum_micros: AtomicU64,
}

impl Metrics {
    fn observe(&self, status: StatusCode, seconds: f64) {
        let class = (status.as_u16() / 100).clamp(1, 5) as usize - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }
}

/// Times every request.
pub async fn measure(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .observe(response.status(), started.elapsed().as_secs_f64());
    response
}

pub async fn metrics(
    State(state): State<AppState>,
    crate::auth::ClientIp(ip): crate::auth::ClientIp,
) -> Response {
    let local = ip
        .parse::<std::net::IpAddr>()
        .is_ok_and(|a| a.is_loopback() || state.config.trusts(a));
    if !local {
        return StatusCode::NOT_FOUND.into_response();
    }
    let m = &state.metrics;
    let mut out = String::with_capacity(2048);
    out.push_str("# HELP jiuzhu_http_requests_total HTTP requests answered, by status class.\n");
    out.push_str("# TYPE jiuzhu_http_requests_total counter\n");
    for (i, n) in m.by_class.iter().enumerate() {
        out.push_str(&format!(
            "jiuzhu_http_requests_total{{class=\"{}xx\"}} {}\n",
            i + 1,
            n.load(Ordering::Relaxed)
        ));
    }
    out.push_str("# HELP jiuzhu_http_request_duration_seconds Time to answer a request.\n");
    out.push_str("# TYPE jiuzhu_http_request_duration_seconds histogram\n");
    for (i, le) in BUCKETS.iter().enumerate() {
        out.push_str(&format!(
            "jiuzhu_http_request_duration_seconds_bucket{{le=\"{le}\"}} {}\n",
            m.buckets[i].load(Ordering::Relaxed)
        ));
    }
    let count = m.count.load(Ordering::Relaxed);
    out.push_str(&format!(
        "jiuzhu_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n\
         jiuzhu_http_request_duration_seconds_sum {}\n\
         jiuzhu_http_request_duration_seconds_count {count}\n",
        m.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
    ));
    let today = state.services.today();
    let counts = match state.services.store.begin_read().await {
        Ok(mut tx) => tx.work_counts(today).await.ok(),
        Err(_) => None,
    };
    if let Some(c) = counts {
        out.push_str("# HELP jiuzhu_case_items_open Case items not yet settled.\n");
        out.push_str("# TYPE jiuzhu_case_items_open gauge\n");
        out.push_str(&format!("jiuzhu_case_items_open {}\n", c.open_items));
        out.push_str("# HELP jiuzhu_case_items_overdue Open case items past their due date.\n");
        out.push_str("# TYPE jiuzhu_case_items_overdue gauge\n");
        out.push_str(&format!("jiuzhu_case_items_overdue {}\n", c.overdue_items));
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}
