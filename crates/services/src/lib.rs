//! The use cases of jiuzhu. Each takes an authenticated [`Actor`] and enforces role and region
//! scope itself, so the web pages, the JSON API and the command line cannot differ or bypass it.
//! Each runs in one transaction, with its audit record written in the same transaction.
//!
//! The use cases of an area are reached through its handle (`services.cases().file(..)`,
//! `services.people().search(..)`), and live in the area's folder: one handle, one folder.

mod actor;
pub mod audit;
mod audit_sink;
pub mod auth;
pub mod calendar;
pub mod cases;
pub mod catalogue;
pub mod clock;
pub mod dashboard;
mod error;
pub mod export;
pub mod feeds;
pub mod households;
pub mod keys;
pub mod monitoring;
pub mod openness;
pub mod organisations;
pub mod payments;
pub mod people;
pub mod policy;
pub mod recipients;
pub mod regions;
pub mod social;
pub mod verification;

use std::sync::{Arc, RwLock};

use jiuzhu_domain::{Catalogue, WorkCalendar};
use jiuzhu_store::Store;
use serde::Serialize;

pub use actor::Actor;
pub use error::{ErrorBody, Result, ServiceError};

#[derive(Clone)]
pub struct Services {
    pub store: Store,
    calendar: Arc<RwLock<WorkCalendar>>,
    loaded_by: Arc<RwLock<Vec<(i32, String)>>>,
    /// Verified against when a login names an unknown user, so both take the same time.
    dummy_hash: Arc<String>,
    /// The catalogue as last read; cleared when an administrator edits an item.
    catalogue_cache: Arc<RwLock<Option<Arc<Catalogue>>>>,
    /// The time cases are recorded at: the system clock unless set (tests, replays).
    clock: Arc<RwLock<Option<chrono::DateTime<chrono::Utc>>>>,
    /// Commits the audit rows of reads in groups.
    reads: audit_sink::AuditSink,
    /// Region names by code: the division tree does not change while the platform runs.
    region_names: Arc<RwLock<std::collections::HashMap<String, String>>>,
    /// The policy packs with the values added on the platform.
    policy: Arc<RwLock<Arc<jiuzhu_policy::PolicyBook>>>,
    /// The password policy as last read, and when: every request checks a session against it.
    password_policy: Arc<RwLock<Option<(std::time::Instant, auth::PasswordPolicy)>>>,
    /// Where the files applicants upload are kept (`uploads` beside the process unless set).
    upload_dir: Arc<RwLock<std::path::PathBuf>>,
}

/// Declares each area's handle: a borrowed view of the services whose methods are that area's
/// use cases. It reads the shared state (store, clock, caches) through `Deref`, so a use case
/// written on a handle looks exactly like one written on `Services`.
macro_rules! areas {
    ($($(#[$doc:meta])* $method:ident => $handle:ident,)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy)]
            pub struct $handle<'a>(&'a Services);

            impl std::ops::Deref for $handle<'_> {
                type Target = Services;
                fn deref(&self) -> &Services {
                    self.0
                }
            }
        )*

        impl Services {
            $(
                $(#[$doc])*
                pub fn $method(&self) -> $handle<'_> {
                    $handle(self)
                }
            )*
        }
    };
}

areas! {
    /// Sign-in, sessions and API tokens (`auth/`).
    auth => Auth,
    /// Accounts and their tokens, as administrators manage them (`auth/accounts.rs`).
    users => Users,
    /// The working-day calendar (`calendar.rs`).
    calendar => Calendar,
    /// Assistance items and departments (`catalogue.rs`).
    catalogue => CatalogueArea,
    /// The division tree (`regions.rs`).
    regions => Regions,
    /// The audit record (`audit.rs`).
    audit => Audit,
    /// Residents (`people/`).
    people => People,
    /// Households and their members (`households/`).
    households => Households,
    /// One-window intake and collaborative handling (`cases/`).
    cases => Cases,
    /// Social organisations and charities that cases are referred to (`organisations/`).
    organisations => Organisations,
    /// Parameters, evaluation and what-if simulation (`policy/`).
    policy => Policy,
    /// Department data files (`feeds/`).
    feeds => Feeds,
    /// Household economic verification against the department facts (`verification/`).
    verification => Verification,
    /// Those in assistance: enrolments, the register, reviews, plans and visits (`recipients/`).
    recipients => Recipients,
    /// Rotation of the field-encryption keys (`keys.rs`).
    keys => Keys,
    /// Payees, monthly rolls, bank files and returns (`payments/`).
    payments => Payments,
    /// The monthly monitoring run and its warnings (`monitoring/`).
    monitoring => Monitoring,
    /// Public notices and objections, complaints, random inspections, statistics (`openness/`).
    openness => Openness,
    /// Charities, needs and matching, projects, volunteers and points (`social/`).
    social => Social,
}

/// Sizes of what the database holds, for the home page and the health check.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub regions: i64,
    pub persons: i64,
    pub households: i64,
    pub users: i64,
}

impl Services {
    /// Brings the schema up to date, writes the seed catalogue where missing and loads the
    /// working-day calendar. Safe on every start.
    pub async fn open(store: Store) -> Result<Services> {
        store.migrate().await?;
        let mut tx = store.begin().await?;
        tx.seed_catalogue(&Catalogue::seed()).await?;
        tx.commit().await?;
        let services = Services {
            store: store.clone(),
            calendar: Arc::new(RwLock::new(WorkCalendar::official())),
            loaded_by: Arc::new(RwLock::new(Vec::new())),
            dummy_hash: Arc::new(auth::hash_password("jiuzhu-no-such-user-0")),
            catalogue_cache: Arc::new(RwLock::new(None)),
            clock: Arc::new(RwLock::new(None)),
            reads: audit_sink::AuditSink::start(store.clone()),
            region_names: Arc::new(RwLock::new(std::collections::HashMap::new())),
            policy: Arc::new(RwLock::new(Arc::new(jiuzhu_policy::PolicyBook::shipped()))),
            password_policy: Arc::new(RwLock::new(None)),
            upload_dir: Arc::new(RwLock::new(std::path::PathBuf::from("uploads"))),
        };
        services.load_calendar().await?;
        services.load_policy().await?;
        Ok(services)
    }

    /// Now, as the case workflow sees it.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock
            .read()
            .expect("clock lock")
            .unwrap_or_else(chrono::Utc::now)
    }

    /// Today in China Standard Time, as the case workflow sees it.
    pub fn today(&self) -> chrono::NaiveDate {
        jiuzhu_domain::case::china_date(self.now())
    }

    /// Sets the workflow's clock (`None`: back to the system clock). For tests that walk a case
    /// through a holiday, and for replaying recorded steps at their original times.
    pub fn set_clock(&self, at: Option<chrono::DateTime<chrono::Utc>>) {
        *self.clock.write().expect("clock lock") = at;
    }

    /// Where uploaded materials are kept: a directory the platform may write, backed up with
    /// the database.
    pub fn set_upload_dir(&self, dir: impl Into<std::path::PathBuf>) {
        *self.upload_dir.write().expect("upload dir lock") = dir.into();
    }

    pub fn upload_dir(&self) -> std::path::PathBuf {
        self.upload_dir.read().expect("upload dir lock").clone()
    }

    /// Counts within the actor's region.
    pub async fn overview(&self, actor: &Actor) -> Result<Overview> {
        let mut tx = self.store.begin_read().await?;
        Ok(Overview {
            regions: tx.regions_under(actor.scope()).await?.len() as i64,
            persons: tx.count_persons(actor.scope()).await?,
            households: tx.count_households(actor.scope()).await?,
            users: tx.count_users().await?,
        })
    }

    /// True when the database holds no region yet (a fresh installation).
    pub async fn is_empty(&self) -> Result<bool> {
        let mut tx = self.store.begin_read().await?;
        Ok(tx.count_regions().await? == 0)
    }
}
