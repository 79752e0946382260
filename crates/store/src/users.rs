//! Users, their login sessions and the API tokens of department systems. Session and token
//! secrets are stored only as SHA-256 digests; passwords only as Argon2id hashes.

use chrono::{DateTime, Utc};
use jiuzhu_domain::{RegionCode, Role};
use serde::Serialize;

use crate::{like_prefix, on_tx, Result, StoreError, Tx};

#[derive(Debug, Clone, Serialize)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub region: RegionCode,
    pub department_code: Option<String>,
    /// For a social organisation's staff: their organisation.
    pub organisation_id: Option<i64>,
    #[serde(skip)]
    pub password_hash: String,
    /// Until when a lock from some address lasts, for the administrators' list; the failures
    /// themselves are counted per name and address in `login_failures`.
    pub locked_until: Option<DateTime<Utc>>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// The account of a department's system (its API tokens act as it); never signs in.
    pub system_account: bool,
    pub password_changed_at: Option<DateTime<Utc>>,
    /// Set when an administrator reset the password: the user chooses a new one first.
    pub must_change_password: bool,
    /// Whether the user has bound an authenticator (a confirmed TOTP secret).
    pub two_factor_enrolled: bool,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    region_code: String,
    department_code: Option<String>,
    organisation_id: Option<i64>,
    password_hash: String,
    locked_until: Option<DateTime<Utc>>,
    active: bool,
    created_at: DateTime<Utc>,
    system_account: bool,
    password_changed_at: Option<DateTime<Utc>>,
    must_change_password: bool,
    two_factor_enrolled: bool,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self> {
        Ok(UserRecord {
            role: Role::from_code(&r.role)
                .ok_or_else(|| StoreError::Corrupt(format!("用户角色“{}”", r.role)))?,
            region: RegionCode::parse(&r.region_code)
                .map_err(|_| StoreError::Corrupt(format!("用户区划“{}”", r.region_code)))?,
            id: r.id,
            username: r.username,
            display_name: r.display_name,
            department_code: r.department_code,
            organisation_id: r.organisation_id,
            password_hash: r.password_hash,
            locked_until: r.locked_until,
            active: r.active,
            created_at: r.created_at,
            system_account: r.system_account,
            password_changed_at: r.password_changed_at,
            must_change_password: r.must_change_password,
            two_factor_enrolled: r.two_factor_enrolled,
        })
    }
}

const USER_COLUMNS: &str = "id, username, display_name, role, region_code, department_code,
    organisation_id, password_hash, locked_until, active, created_at, system_account,
    password_changed_at, must_change_password,
    (totp_confirmed_at IS NOT NULL) AS two_factor_enrolled";

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub region: &'a RegionCode,
    pub department_code: Option<&'a str>,
    pub organisation_id: Option<i64>,
    pub password_hash: &'a str,
    pub system_account: bool,
    /// The password was chosen by someone else: its user chooses their own at first sign-in.
    pub must_change_password: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub user_id: i64,
    pub csrf_token: String,
    pub ip: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The password was right but the second factor is still to come: the session opens
    /// nothing but the two-factor page.
    pub second_factor_pending: bool,
    pub second_factor_failures: i64,
}

/// A user's authenticator secret (encrypted) and the last time step a code was accepted for.
#[derive(Debug, Clone)]
pub struct TotpRecord {
    pub secret_cipher: Vec<u8>,
    pub confirmed: bool,
    pub last_step: i64,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ApiTokenRecord {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The first characters of the token, to recognise it in lists.
    pub prefix: String,
    pub read_only: bool,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token presented by a department system, with the user it acts for.
#[derive(Debug, Clone)]
pub struct TokenUse {
    pub token: ApiTokenRecord,
    pub user: UserRecord,
}

const TOKEN_COLUMNS: &str = "id, user_id, name, prefix, read_only, created_by, created_at,
    expires_at, revoked_at, last_used_at";

impl Tx {
    pub async fn insert_user(&mut self, u: NewUser<'_>) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO users (username, display_name, role, region_code, department_code,
                password_hash, failed_logins, active, created_at, system_account,
                password_changed_at, must_change_password, organisation_id)
             VALUES ($1, $2, $3, $4, $5, $6, 0, TRUE, $7, $8, $7, $9, $10) RETURNING id")
            .bind(u.username)
            .bind(u.display_name)
            .bind(u.role.code())
            .bind(u.region.as_str())
            .bind(u.department_code)
            .bind(u.password_hash)
            .bind(Utc::now())
            .bind(u.system_account)
            .bind(u.must_change_password)
            .bind(u.organisation_id)
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    pub async fn user(&mut self, id: i64) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await)?;
        row.map(UserRecord::try_from).transpose()
    }

    pub async fn user_by_name(&mut self, username: &str) -> Result<Option<UserRecord>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        let row: Option<UserRow> = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(username)
            .fetch_optional(c)
            .await)?;
        row.map(UserRecord::try_from).transpose()
    }

    /// Users whose region lies within `scope`.
    pub async fn users_in(&mut self, scope: &str) -> Result<Vec<UserRecord>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE region_code LIKE $1 ORDER BY region_code, username"
        );
        let rows: Vec<UserRow> = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?;
        rows.into_iter().map(UserRecord::try_from).collect()
    }

    pub async fn count_users(&mut self) -> Result<i64> {
        let n = on_tx!(self, c => sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(c)
            .await)?;
        Ok(n)
    }

    /// Records a failed login; returns the new failure count.
    /// Failures so far from `ip` under the name whose key is `name_key`, and until when that
    /// pair is locked.
    pub async fn login_failures(
        &mut self,
        name_key: &str,
        ip: &str,
    ) -> Result<(i64, Option<DateTime<Utc>>)> {
        let row: Option<(i64, Option<DateTime<Utc>>)> = on_tx!(self, c => sqlx::query_as(
            "SELECT failures, locked_until FROM login_failures WHERE name_key = $1 AND ip = $2")
            .bind(name_key)
            .bind(ip)
            .fetch_optional(c)
            .await)?;
        Ok(row.unwrap_or((0, None)))
    }

    /// Counts one more failure of the pair, locking it until `lock_until` when given.
    pub async fn login_failed(
        &mut self,
        name_key: &str,
        ip: &str,
        lock_until: Option<DateTime<Utc>>,
    ) -> Result<i64> {
        let n: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO login_failures (name_key, ip, failures, locked_until) VALUES ($1, $2, 1, $3)
             ON CONFLICT (name_key, ip) DO UPDATE SET failures = login_failures.failures + 1,
                locked_until = COALESCE($3, login_failures.locked_until)
             RETURNING failures")
            .bind(name_key)
            .bind(ip)
            .bind(lock_until)
            .fetch_one(c)
            .await)?;
        Ok(n)
    }

    /// Marks a user locked (from some address) for the administrators' list.
    pub async fn mark_locked(&mut self, id: i64, until: DateTime<Utc>) -> Result<()> {
        on_tx!(self, c => sqlx::query("UPDATE users SET locked_until = $1 WHERE id = $2")
            .bind(until)
            .bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn login_succeeded(&mut self, id: i64, name_key: &str, ip: &str) -> Result<()> {
        on_tx!(self, c => sqlx::query("DELETE FROM login_failures WHERE name_key = $1 AND ip = $2")
            .bind(name_key)
            .bind(ip)
            .execute(c).await.map(|r| r.rows_affected()))?;
        on_tx!(self, c => sqlx::query(
            "UPDATE users SET locked_until = NULL WHERE id = $1")
            .bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Lifts every lock of a name, from every address (an administrator re-enabling the account).
    pub async fn clear_login_failures(&mut self, name_key: &str) -> Result<()> {
        on_tx!(self, c => sqlx::query("DELETE FROM login_failures WHERE name_key = $1")
            .bind(name_key)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn set_user_active(&mut self, id: i64, active: bool) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "UPDATE users SET active = $1, locked_until = NULL WHERE id = $2")
            .bind(active)
            .bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A new password: set by its user (`must_change` false) or reset by an administrator
    /// (`must_change` true, so the user chooses one at the next sign-in).
    pub async fn set_password_hash(
        &mut self,
        id: i64,
        hash: &str,
        must_change: bool,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2,
                must_change_password = $3 WHERE id = $4")
            .bind(hash)
            .bind(Utc::now())
            .bind(must_change)
            .bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn insert_session(&mut self, token_hash: &str, s: &SessionRecord) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, ip, created_at, last_seen_at,
                expires_at, second_factor_pending, second_factor_failures)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0)")
            .bind(token_hash)
            .bind(s.user_id)
            .bind(&s.csrf_token)
            .bind(&s.ip)
            .bind(s.created_at)
            .bind(s.last_seen_at)
            .bind(s.expires_at)
            .bind(s.second_factor_pending)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn session(&mut self, token_hash: &str) -> Result<Option<SessionRecord>> {
        let s = on_tx!(self, c => sqlx::query_as(
            "SELECT user_id, csrf_token, ip, created_at, last_seen_at, expires_at,
                second_factor_pending, second_factor_failures
             FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(c)
            .await)?;
        Ok(s)
    }

    /// The second factor was given: the session opens what the user's role allows.
    pub async fn complete_second_factor(&mut self, token_hash: &str) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "UPDATE sessions SET second_factor_pending = FALSE WHERE token_hash = $1")
            .bind(token_hash)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Counts a wrong code given in a session; returns the count.
    pub async fn second_factor_failed(&mut self, token_hash: &str) -> Result<i64> {
        let n: i64 = on_tx!(self, c => sqlx::query_scalar(
            "UPDATE sessions SET second_factor_failures = second_factor_failures + 1
             WHERE token_hash = $1 RETURNING second_factor_failures")
            .bind(token_hash)
            .fetch_one(c)
            .await)?;
        Ok(n)
    }

    pub async fn totp_of(&mut self, user_id: i64) -> Result<Option<TotpRecord>> {
        let row: Option<(Option<Vec<u8>>, bool, i64)> = on_tx!(self, c => sqlx::query_as(
            "SELECT totp_secret, totp_confirmed_at IS NOT NULL, totp_last_step
             FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(c)
            .await)?;
        Ok(row.and_then(|(secret, confirmed, last_step)| {
            secret.map(|secret_cipher| TotpRecord {
                secret_cipher,
                confirmed,
                last_step,
            })
        }))
    }

    /// A new, unconfirmed secret (enrolment), or none (a reset: the user binds again).
    pub async fn set_totp_secret(&mut self, user_id: i64, cipher: Option<&[u8]>) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "UPDATE users SET totp_secret = $1, totp_confirmed_at = NULL, totp_last_step = 0
             WHERE id = $2")
            .bind(cipher)
            .bind(user_id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Accepts a code's time step if it is later than any accepted before (so no code is used
    /// twice, even by two requests at once); confirms the secret at its first use. False when
    /// the step was already used.
    pub async fn accept_totp_step(
        &mut self,
        user_id: i64,
        step: i64,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let n = on_tx!(self, c => sqlx::query(
            "UPDATE users SET totp_last_step = $1,
                totp_confirmed_at = COALESCE(totp_confirmed_at, $2)
             WHERE id = $3 AND totp_last_step < $1 AND totp_secret IS NOT NULL")
            .bind(step)
            .bind(at)
            .bind(user_id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn touch_session(&mut self, token_hash: &str, at: DateTime<Utc>) -> Result<()> {
        on_tx!(self, c => sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(at)
            .bind(token_hash)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        on_tx!(self, c => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_sessions_of(&mut self, user_id: i64) -> Result<()> {
        on_tx!(self, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_expired_sessions(&mut self, now: DateTime<Utc>) -> Result<u64> {
        let r = on_tx!(self, c => sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(r)
    }

    pub async fn insert_token(&mut self, token_hash: &str, t: &ApiTokenRecord) -> Result<i64> {
        let id: i64 = on_tx!(self, c => sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix, read_only, created_by,
                created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(t.user_id)
            .bind(&t.name)
            .bind(token_hash)
            .bind(&t.prefix)
            .bind(t.read_only)
            .bind(t.created_by)
            .bind(t.created_at)
            .bind(t.expires_at)
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    pub async fn token_by_hash(&mut self, token_hash: &str) -> Result<Option<TokenUse>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1");
        let token: Option<ApiTokenRecord> = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(token_hash)
            .fetch_optional(c)
            .await)?;
        let Some(token) = token else { return Ok(None) };
        let user = self
            .user(token.user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(Some(TokenUse { token, user }))
    }

    pub async fn tokens_of(&mut self, user_id: i64) -> Result<Vec<ApiTokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY id");
        let rows = on_tx!(self, c => sqlx::query_as(&sql).bind(user_id).fetch_all(c).await)?;
        Ok(rows)
    }

    pub async fn token(&mut self, id: i64) -> Result<Option<ApiTokenRecord>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1");
        let row = on_tx!(self, c => sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
        Ok(row)
    }

    pub async fn revoke_token(&mut self, id: i64, at: DateTime<Utc>) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn touch_token(&mut self, id: i64, at: DateTime<Utc>) -> Result<()> {
        on_tx!(self, c => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
