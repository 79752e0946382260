//! Persistence for jiuzhu. One schema and one migration history serve SQLite (the default, a
//! single file in WAL mode) and PostgreSQL (production), chosen by the database URL.
//!
//! Every use case runs in one transaction: [`Store::begin`] gives a [`Tx`] whose methods
//! (written in the module of their area below, each query once for both databases) read and
//! write through it, and nothing is
//! visible until [`Tx::commit`]. Writes on SQLite go through a single writer connection, so
//! concurrent use cases queue instead of failing with `SQLITE_BUSY`; reads use a pool of their own.

mod audit;
mod calendar;
mod cases;
mod catalogue;
pub mod crypto;
mod dashboard;

/// The contexts (column names) that encryption and blind indexes are bound to.
pub mod crypto_contexts {
    pub const ID_NUMBER: &str = crate::people::ID_CONTEXT;
}
mod error;
mod feeds;
mod households;
mod incomes;
mod monitoring;
mod openness;
mod payments;
mod people;
mod policy;
mod recipients;
mod regions;
mod registry_scan;
mod rekey;
mod schema;
mod settings;
mod social;
mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};

pub use audit::{
    AuditEntry, AuditFilter, AuditRecord, ChainBreak, ChainReport, Interface, SealedRecord,
};
pub use calendar::StoredYear;
pub use cases::{
    CaseItemFilter, CaseItemRow, CaseRow, ItemProjection, NewCase, Organisation, ReadyToClose,
    WorkCounts,
};
pub use catalogue::ItemUpdate;
pub use crypto::{blind_key_of_index, FieldAlgorithm, FieldCipher, IndexAlgorithm, KeyError};
pub use dashboard::{MonthCount, StageCount};
pub use error::StoreError;
pub use feeds::{
    push_iso_date, FactWriter, FeedFileRecord, FeedRejection, KeyedFact, MemberFact, NewFact,
    NewFeedFile, ReportRecord, ReviewMember,
};
pub use households::{
    HouseholdFilter, HouseholdRecord, HouseholdSummary, MemberRecord, NewHousehold,
};
pub use incomes::{IncomeRecord, NewIncome};
pub use monitoring::{
    MonitorFact, MonitorFile, MonitorPerson, MonitorRun, PopulationSource, WarningFilter,
    WarningKey, WarningRecord, WarningUpdate,
};
pub use openness::{
    AwardRow, ComplaintEvent, ComplaintRecord, Decision, InspectionPlanRecord,
    InspectionTargetRecord, ItemStageCount, NoticeEntryRecord, NoticeRecord, ObjectionRecord,
    CONTACT_CONTEXT,
};
pub use payments::{
    BankReturnRecord, BankTemplateRecord, Due, LineTally, MonthTotals, PayeeRecord,
    ReceivableRecord, RollLine, RollRecord, ACCOUNT_CONTEXT,
};
pub use people::{NewPersonRow, PersonFilter, PersonRecord, PersonSummary};
pub use policy::{
    EvaluationRecord, NewEvaluation, NewPolicyValue, PolicyValueRecord, SimulationRow,
};
pub use recipients::{
    AwardRecord, ChangeRecord, EnrolmentLine, EnrolmentPerson, EnrolmentRecord, PlanRecord,
    ReviewRecord, VisitRecord,
};
pub use regions::Region;
pub use registry_scan::{RegistryScan, ScanPerson};
pub use rekey::ENCRYPTED;
pub use schema::MIGRATIONS;
pub use social::{
    CommitmentRecord, ConsentRecord, MaterialRecord, PermitRow, PointsRow, ProjectRecord,
    PublishedNeedRecord, ServiceLogRecord, VolunteerRecord,
};
pub use users::{ApiTokenRecord, NewUser, SessionRecord, TokenUse, TotpRecord, UserRecord};

/// The database file readable by its owner only: it holds names, illnesses, court cases and
/// balances. Created so before SQLite opens it (its journal files take the same mode), and
/// narrowed when an older installation left it readable by others.
fn private_file(path: &std::path::Path) -> Result<()> {
    if path.as_os_str().is_empty() || path.to_string_lossy().starts_with(':') {
        return Ok(()); // in memory
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if !path.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| {
                    StoreError::Corrupt(format!("无法创建数据库文件 {}：{e}", path.display()))
                })?;
        }
        for file in [
            path.to_path_buf(),
            path.with_extension(format!(
                "{}-wal",
                path.extension().and_then(|e| e.to_str()).unwrap_or("")
            )),
            path.with_extension(format!(
                "{}-shm",
                path.extension().and_then(|e| e.to_str()).unwrap_or("")
            )),
        ] {
            if let Ok(meta) = std::fs::metadata(&file) {
                if meta.permissions().mode() & 0o077 != 0 {
                    let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600));
                }
            }
        }
    }
    Ok(())
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
enum Pools {
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
        path: std::path::PathBuf,
    },
    Postgres(PgPool),
}

/// The database and the key that protects its sensitive fields.
#[derive(Clone)]
pub struct Store {
    pools: Pools,
    cipher: Arc<FieldCipher>,
}

/// One unit of work. Dropped without `commit`, it rolls back.
pub struct Tx {
    inner: TxInner,
    cipher: Arc<FieldCipher>,
}

pub(crate) enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs the same body against whichever backend the transaction holds. The body is compiled
/// once per backend, so every query is type-checked against both drivers.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match &mut $tx.inner {
            $crate::TxInner::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::TxInner::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

impl Tx {
    /// The rows of `sql` for these ids, `chunk` ids a statement: `{ids}` in `sql` stands for
    /// the list, in the order given (rows come chunk by chunk, each as `sql` orders it).
    pub(crate) async fn fetch_for_ids<T>(
        &mut self,
        sql: &str,
        ids: &[i64],
        chunk: usize,
    ) -> Result<Vec<T>>
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let mut out = Vec::with_capacity(ids.len());
        for part in ids.chunks(chunk) {
            let sql = sql.replace("{ids}", &value_rows(self.backend(), 1, part.len()));
            let rows: Vec<T> = on_tx!(self, c => {
                let mut q = sqlx::query_as(&sql);
                for id in part {
                    q = q.bind(*id);
                }
                q.fetch_all(c).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }
}

/// Runs `f` through SQLite's own interface on the connection sqlx holds: for bulk reads and
/// writes, where the driver's cost per value dominates. `what` names the work in an error.
pub(crate) async fn with_raw_sqlite<R>(
    conn: &mut sqlx::SqliteConnection,
    what: &str,
    f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<R>,
) -> Result<R> {
    let err = |e: rusqlite::Error| StoreError::Corrupt(format!("{what}：{e}"));
    let mut handle = conn.lock_handle().await?;
    // SAFETY: the handle is sqlx's open connection, locked for us while `handle` lives (and
    // `db`, declared after it, is dropped first); `from_handle` never closes it.
    let db = unsafe { rusqlite::Connection::from_handle(handle.as_raw_handle().as_ptr()) }
        .map_err(err)?;
    f(&db).map_err(err)
}

impl Store {
    /// Connects to `sqlite://path` (created when missing) or `postgres://...`.
    pub async fn connect(url: &str, cipher: FieldCipher) -> Result<Store> {
        let pools = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma("cache_size", "-65536")
                .pragma("temp_store", "memory");
            let path = options.get_filename().to_path_buf();
            private_file(&path)?;
            let writer = PoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await?;
            let reader = PoolOptions::new()
                .max_connections(8)
                .connect_with(options.read_only(false))
                .await?;
            Pools::Sqlite {
                writer,
                reader,
                path,
            }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            let pool = PoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(15))
                .connect_with(options)
                .await?;
            Pools::Postgres(pool)
        } else {
            return Err(StoreError::Config(format!(
                "数据库地址“{url}”无法识别：应以 sqlite:// 或 postgres:// 开头"
            )));
        };
        Ok(Store {
            pools,
            cipher: Arc::new(cipher),
        })
    }

    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// A consistent copy of a SQLite database while it serves (`VACUUM INTO` reads one
    /// snapshot), readable by its owner only. PostgreSQL is backed up with its own tools
    /// (`pg_dump`), which this refuses to stand in for.
    pub async fn backup_to(&self, target: &std::path::Path) -> Result<()> {
        let Pools::Sqlite { reader, .. } = &self.pools else {
            return Err(StoreError::Corrupt(
                "PostgreSQL 数据库请用 pg_dump 备份（见 README）".into(),
            ));
        };
        if target.exists() {
            return Err(StoreError::Corrupt(format!(
                "备份文件 {} 已存在",
                target.display()
            )));
        }
        private_file(target)?;
        // VACUUM INTO wants a file that does not exist yet: the empty private one goes, its mode
        // is given back after.
        std::fs::remove_file(target)
            .map_err(|e| StoreError::Corrupt(format!("{}：{e}", target.display())))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target.to_string_lossy().as_ref())
            .execute(reader)
            .await?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(target, std::fs::Permissions::from_mode(0o600));
        }
        Ok(())
    }

    /// The SQLite file this store serves, if it is one.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match &self.pools {
            Pools::Sqlite { path, .. } => Some(path),
            Pools::Postgres(_) => None,
        }
    }

    pub fn cipher(&self) -> &FieldCipher {
        &self.cipher
    }

    /// A transaction for a use case that writes.
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match &self.pools {
            Pools::Sqlite { writer, .. } => TxInner::Sqlite(writer.begin().await?),
            Pools::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            inner,
            cipher: self.cipher.clone(),
        })
    }

    /// A transaction for a use case that only reads (on SQLite it does not wait for writers).
    /// Reads of sensitive records still append to the audit log, so this is only for pure reads.
    pub async fn begin_read(&self) -> Result<Tx> {
        let inner = match &self.pools {
            Pools::Sqlite { reader, .. } => TxInner::Sqlite(reader.begin().await?),
            Pools::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            inner,
            cipher: self.cipher.clone(),
        })
    }

    /// Brings the schema up to date; safe to run on every start and from several processes.
    pub async fn migrate(&self) -> Result<Vec<&'static str>> {
        let mut tx = self.begin().await?;
        let applied = schema::migrate(&mut tx).await?;
        settings::check_key(&mut tx).await?;
        tx.ensure_audit_chain().await?;
        tx.commit().await?;
        Ok(applied)
    }

    /// After a bulk load: PostgreSQL plans by the statistics autovacuum gathers later, and until
    /// then took ten million fresh facts for a few hundred rows and scanned them all. SQLite
    /// plans by its indexes alone.
    pub async fn refresh_statistics(&self, tables: &[&str]) -> Result<()> {
        if let Pools::Postgres(pool) = &self.pools {
            let sql = if tables.is_empty() {
                "ANALYZE".to_string()
            } else {
                format!("ANALYZE {}", tables.join(", "))
            };
            sqlx::query(&sql).execute(pool).await?;
        }
        Ok(())
    }

    /// The households of a region with their current members, for what-if simulation; incomes
    /// in force on `until`. See [`RegistryScan`].
    pub async fn scan_registry(
        &self,
        scope: &str,
        until: chrono::NaiveDate,
    ) -> Result<RegistryScan> {
        match &self.pools {
            Pools::Sqlite { path, .. } => {
                let (path, scope) = (path.clone(), scope.to_string());
                tokio::task::spawn_blocking(move || {
                    registry_scan::scan_sqlite(&path, &scope, until)
                })
                .await
                .map_err(|e| StoreError::Corrupt(format!("登记库扫描：{e}")))?
            }
            Pools::Postgres(pool) => registry_scan::scan_postgres(pool, scope, until).await,
        }
    }

    pub async fn ping(&self) -> Result<()> {
        let mut tx = self.begin_read().await?;
        on_tx!(tx, c => sqlx::query("SELECT 1").execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { writer, reader, .. } => {
                reader.close().await;
                writer.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    /// Lets SQLite keep up to `mib` MiB of pages of this connection in memory (a bulk import's
    /// index stays in memory instead of being re-read); `None` restores the usual 64 MiB.
    /// Nothing to do on PostgreSQL, whose buffers are the server's.
    pub async fn page_cache_mib(&mut self, mib: Option<u32>) -> Result<()> {
        if let TxInner::Sqlite(t) = &mut self.inner {
            let kib = i64::from(mib.unwrap_or(64)) * 1024;
            sqlx::query(&format!("PRAGMA cache_size = -{kib}"))
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn cipher(&self) -> &FieldCipher {
        &self.cipher
    }
}

/// A value bound into a dynamically built query.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    Ts(chrono::DateTime<chrono::Utc>),
    Date(chrono::NaiveDate),
}

/// A `WHERE` clause built from optional filters, numbering placeholders as `$1, $2, ...`,
/// which both SQLite and PostgreSQL accept.
#[derive(Debug, Default)]
pub(crate) struct Where {
    clauses: Vec<String>,
    pub(crate) params: Vec<Param>,
}

impl Where {
    /// Adds a clause whose `?` marks are all the same new parameter.
    pub(crate) fn and(&mut self, clause: &str, param: Param) -> &mut Self {
        self.params.push(param);
        let n = self.params.len();
        self.clauses.push(clause.replace('?', &format!("${n}")));
        self
    }

    /// Adds `column IN (...)` over text values; nothing matches an empty list.
    pub(crate) fn and_in(&mut self, column: &str, values: &[String]) -> &mut Self {
        if values.is_empty() {
            self.clauses.push("1 = 0".into());
            return self;
        }
        let mut marks = Vec::with_capacity(values.len());
        for v in values {
            self.params.push(Param::Text(v.clone()));
            marks.push(format!("${}", self.params.len()));
        }
        self.clauses
            .push(format!("{column} IN ({})", marks.join(", ")));
        self
    }

    pub(crate) fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// The placeholder number the next parameter (e.g. LIMIT) will take.
    pub(crate) fn next(&self) -> usize {
        self.params.len() + 1
    }
}

/// `($1, $2), ($3, $4)` for PostgreSQL, `(?, ?), (?, ?)` for SQLite: the rows of a multi-row
/// INSERT. SQLite resolves each numbered parameter by a linear search of their names, which is
/// quadratic over the thousands of parameters of a bulk insert; plain `?` is positional.
pub(crate) fn value_rows(backend: Backend, rows: usize, per_row: usize) -> String {
    let mut out = String::with_capacity(rows * per_row * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..per_row {
            if c > 0 {
                out.push_str(", ");
            }
            match backend {
                Backend::Sqlite => out.push('?'),
                Backend::Postgres => {
                    out.push('$');
                    out.push_str(&(r * per_row + c + 1).to_string());
                }
            }
        }
        out.push(')');
    }
    out
}

/// Escapes `%`, `_` and `\` so user text matches literally in `LIKE ... ESCAPE '\'`.
pub(crate) fn like_prefix(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

macro_rules! bind_params {
    ($query:expr, $params:expr) => {{
        let mut q = $query;
        for p in $params {
            q = match p {
                $crate::Param::Text(v) => q.bind(v.clone()),
                $crate::Param::Ts(v) => q.bind(*v),
                $crate::Param::Date(v) => q.bind(*v),
            };
        }
        q
    }};
}
pub(crate) use bind_params;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_rows_number_postgres_and_position_sqlite() {
        assert_eq!(value_rows(Backend::Postgres, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(value_rows(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
    }

    #[test]
    fn like_prefix_escapes_wildcards() {
        assert_eq!(like_prefix("50%_a\\"), "50\\%\\_a\\\\%");
    }
}
