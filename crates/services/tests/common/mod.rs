//! Runs each story against a fresh SQLite file and, when `JIUZHU_TEST_POSTGRES_URL` is set, a
//! fresh PostgreSQL database created for the test and dropped after it.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use jiuzhu_domain::Role;
use jiuzhu_services::{Actor, Services};
use jiuzhu_store::{FieldCipher, Interface, Store};

pub struct TestDb {
    pub url: String,
    pub services: Services,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn cipher() -> FieldCipher {
    FieldCipher::new(&[42u8; 32], 1)
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = Store::connect(&url, cipher()).await.unwrap();
    let services = Services::open(store).await.unwrap();
    TestDb {
        url,
        services,
        _dir: Some(dir),
        pg_drop: None,
    }
}

/// A fresh PostgreSQL database, or None when no server is configured. With
/// `JIUZHU_REQUIRE_POSTGRES=1` (as in CI) a missing server fails the test instead.
pub async fn postgres() -> Option<TestDb> {
    let Ok(base) = std::env::var("JIUZHU_TEST_POSTGRES_URL") else {
        if std::env::var("JIUZHU_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!("JIUZHU_TEST_POSTGRES_URL is not set but PostgreSQL tests are required");
        }
        eprintln!("PostgreSQL story skipped: JIUZHU_TEST_POSTGRES_URL is not set");
        return None;
    };
    let name = format!(
        "jiuzhu_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        rand_suffix()
    );
    let admin = sqlx::PgPool::connect(&base)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    // The base URL names a database to connect to (e.g. .../postgres); the test's replaces it.
    let url = format!(
        "{}/{name}",
        &base[..base.rfind('/').expect("URL with a database")]
    );
    let store = Store::connect(&url, cipher()).await.unwrap();
    let services = Services::open(store).await.unwrap();
    Some(TestDb {
        url,
        services,
        _dir: None,
        pg_drop: Some((base, name)),
    })
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

impl TestDb {
    pub async fn finish(self) {
        self.services.store.close().await;
        if let Some((base, name)) = self.pg_drop {
            let admin = sqlx::PgPool::connect(&base).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
        }
    }

    /// The demo user with this name, as the web layer would resolve them.
    pub async fn actor(&self, username: &str) -> Actor {
        let mut tx = self.services.store.begin_read().await.unwrap();
        let user = tx
            .user_by_name(username)
            .await
            .unwrap()
            .expect("demo user exists");
        Actor::from_user(&user, Interface::Web, "127.0.0.1")
    }

    pub async fn with_demo(self, households: usize) -> Self {
        let today = jiuzhu_services::clock::today();
        jiuzhu_demo::generate(&self.services, households, 7, today, |_, _| {})
            .await
            .unwrap();
        self
    }
}

pub fn role_of(actor: &Actor) -> Role {
    actor.role
}

/// Declares one test per backend for a story `async fn(TestDb)`.
#[macro_export]
macro_rules! stories {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let db = $crate::common::sqlite().await;
                    super::$story(db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    if let Some(db) = $crate::common::postgres().await {
                        super::$story(db).await;
                    }
                }
            )*
        }
    };
}

/// Runs `$body` with a raw connection pool to the test database, whichever backend it is: for
/// checks below the services (what is stored, what the triggers refuse).
#[macro_export]
macro_rules! with_raw_pool {
    ($url:expr, $pool:ident => $body:block) => {
        if $url.starts_with("sqlite:") {
            let $pool = sqlx::SqlitePool::connect(&$url).await.unwrap();
            $body
            $pool.close().await;
        } else {
            let $pool = sqlx::PgPool::connect(&$url).await.unwrap();
            $body
            $pool.close().await;
        }
    };
}

/// Any run of 18 characters that could be an identity number.
pub fn identity_numbers_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 18 <= chars.len() {
        let w = &chars[i..i + 18];
        if w[..17].iter().all(|c| c.is_ascii_digit())
            && (w[17].is_ascii_digit() || w[17] == 'X')
            && (i == 0 || !chars[i - 1].is_ascii_digit())
        {
            out.push(w.iter().collect());
            i += 18;
        } else {
            i += 1;
        }
    }
    out
}
