//! Login, sessions and API tokens; `accounts` is how administrators manage users and tokens.

mod accounts;
mod password;
pub mod two_factor;

pub use password::{check_password_rules, hash_password, verify_password, PasswordPolicy};

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use jiuzhu_store::{AuditEntry, Interface, SessionRecord, UserRecord};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{clock, Actor, Auth, Result, ServiceError};

/// An API token as listed: never the token itself.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

impl From<jiuzhu_store::ApiTokenRecord> for ApiTokenRecord {
    fn from(r: jiuzhu_store::ApiTokenRecord) -> Self {
        ApiTokenRecord {
            id: r.id,
            user_id: r.user_id,
            name: r.name,
            prefix: r.prefix,
            read_only: r.read_only,
            created_by: r.created_by,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
        }
    }
}

/// Failed logins in a row before the account locks, and for how long.
pub const LOCKOUT_THRESHOLD: i64 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;
/// A session ends after this long, or after this long without use.
pub const SESSION_HOURS: i64 = 12;
pub const SESSION_IDLE_MINUTES: i64 = 30;

pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A session as the web layer holds it: the secret for the cookie and the CSRF token for forms.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub user: UserRecord,
}

#[derive(Debug, Clone)]
pub struct ResolvedSession {
    pub actor: Actor,
    pub csrf_token: String,
    /// Reset by an administrator, or older than the policy allows: the user must choose a new
    /// password before anything else.
    pub must_change_password: bool,
    /// The password was given but not yet the second factor: only the two-factor page opens.
    pub second_factor_pending: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    /// window_clerk, village_assistant, department_liaison, township_reviewer, bureau_admin,
    /// supervisor, auditor
    pub role: String,
    pub region_code: String,
    /// Required for department liaisons.
    pub department_code: Option<String>,
    /// Ignored for a system account, which never signs in.
    pub password: String,
    /// The account of a department's system (a liaison role): only its API tokens act as it.
    pub system_account: bool,
    /// Required for the staff of a social organisation (role organisation).
    pub organisation_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub role_label: String,
    pub region_code: String,
    pub department_code: Option<String>,
    pub organisation_id: Option<i64>,
    pub active: bool,
    pub locked: bool,
    pub system_account: bool,
}

impl From<&UserRecord> for UserView {
    fn from(u: &UserRecord) -> Self {
        UserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role: u.role.code().to_string(),
            role_label: u.role.label().to_string(),
            region_code: u.region.to_string(),
            department_code: u.department_code.clone(),
            organisation_id: u.organisation_id,
            active: u.active,
            locked: u.locked_until.is_some_and(|t| t > Utc::now()),
            system_account: u.system_account,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct TokenInput {
    /// The user (usually a department liaison) the system acts as.
    pub user_id: i64,
    /// What the token is for, e.g. "医保局核对接口".
    pub name: String,
    pub read_only: bool,
    /// Days until it expires; none for no expiry.
    pub expires_in_days: Option<i64>,
}

/// A newly issued token: the secret is shown this once and never stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    pub id: i64,
    pub token: String,
    #[schema(value_type = Object)]
    pub record: ApiTokenRecord,
}

fn login_audit(
    user: Option<&UserRecord>,
    ip: &str,
    interface: Interface,
    action: &str,
    detail: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor_id: user.map(|u| u.id),
        // What was typed for an unknown name is not kept: people type passwords there.
        actor_name: match user {
            Some(u) => u.username.clone(),
            None => UNKNOWN_NAME.to_string(),
        },
        actor_role: user.map(|u| u.role.code()).unwrap_or("-").to_string(),
        interface,
        ip: ip.to_string(),
        action: action.to_string(),
        entity: "user".to_string(),
        entity_id: user.map(|u| u.id.to_string()).unwrap_or_else(|| "-".into()),
        region_code: None,
        detail: detail.to_string(),
    }
}

/// How a failed login under a name that does not exist is recorded.
pub const UNKNOWN_NAME: &str = "（未知用户名）";

/// The key failures are counted under: a keyed digest of the name as typed.
pub(crate) fn login_key(store: &jiuzhu_store::Store, username: &str) -> String {
    store
        .cipher()
        .blind_index("login.name", &username.to_lowercase())
}

impl Auth<'_> {
    /// Checks a username and password. Unknown users, wrong passwords and inactive accounts
    /// get the same answer; after `LOCKOUT_THRESHOLD` failures the account locks.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        ip: &str,
        interface: Interface,
    ) -> Result<NewSession> {
        let username = username.trim();
        let now = Utc::now();
        // Failures count per name and address: a stranger cannot lock a clerk out of her own
        // office, and a name that does not exist is answered exactly like one that does.
        let key = login_key(&self.store, username);
        let mut tx = self.store.begin().await?;
        let (failures, locked_until) = tx.login_failures(&key, ip).await?;
        let user = tx.user_by_name(username).await?;
        if let Some(until) = locked_until.filter(|t| *t > now) {
            verify_password(password, &self.dummy_hash);
            tx.append_audit(&login_audit(
                user.as_ref(),
                ip,
                interface,
                "login.failed",
                json!({"reason": "locked"}),
            ))
            .await?;
            tx.commit().await?;
            return Err(ServiceError::Locked {
                until: clock::local(until),
            });
        }
        let verified = match &user {
            Some(u) => u.active && !u.system_account && verify_password(password, &u.password_hash),
            None => {
                // Spend the same time as a real check, so timing does not reveal which names exist.
                verify_password(password, &self.dummy_hash);
                false
            }
        };
        let user = match user {
            Some(u) if verified => u,
            user => {
                let lock = (failures + 1 >= LOCKOUT_THRESHOLD)
                    .then(|| now + Duration::minutes(LOCKOUT_MINUTES));
                let failures = tx.login_failed(&key, ip, lock).await?;
                if let (Some(u), Some(until)) = (&user, lock) {
                    tx.mark_locked(u.id, until).await?;
                }
                let reason = match &user {
                    None => "unknown_user",
                    Some(u) if !u.active => "inactive",
                    Some(u) if u.system_account => "system_account",
                    Some(_) => "password",
                };
                tx.append_audit(&login_audit(
                    user.as_ref(),
                    ip,
                    interface,
                    if lock.is_some() {
                        "login.locked"
                    } else {
                        "login.failed"
                    },
                    json!({"reason": reason, "failures": failures}),
                ))
                .await?;
                tx.commit().await?;
                return Err(match lock {
                    Some(until) => ServiceError::Locked {
                        until: clock::local(until),
                    },
                    None => ServiceError::BadCredentials,
                });
            }
        };
        tx.login_succeeded(user.id, &key, ip).await?;
        let session = NewSession {
            token: random_token(32),
            csrf_token: random_token(24),
            user: user.clone(),
        };
        tx.insert_session(
            &digest(&session.token),
            &SessionRecord {
                user_id: user.id,
                csrf_token: session.csrf_token.clone(),
                ip: ip.to_string(),
                created_at: now,
                last_seen_at: now,
                expires_at: now + Duration::hours(SESSION_HOURS),
                second_factor_pending: two_factor::required_for(&user),
                second_factor_failures: 0,
            },
        )
        .await?;
        tx.append_audit(&login_audit(
            Some(&user),
            ip,
            interface,
            "login.ok",
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        Ok(session)
    }

    /// The actor behind a session cookie, or `Unauthenticated` when it is unknown, expired or idle.
    pub async fn resolve_session(
        &self,
        token: &str,
        ip: &str,
        interface: Interface,
    ) -> Result<ResolvedSession> {
        let hash = digest(token);
        let now = Utc::now();
        let mut tx = self.store.begin_read().await?;
        let session = tx
            .session(&hash)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let idle = now - session.last_seen_at > Duration::minutes(SESSION_IDLE_MINUTES);
        if session.expires_at <= now || idle {
            drop(tx);
            let mut w = self.store.begin().await?;
            w.delete_session(&hash).await?;
            w.commit().await?;
            return Err(ServiceError::Unauthenticated);
        }
        let user = tx
            .user(session.user_id)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        drop(tx);
        if !user.active {
            return Err(ServiceError::Unauthenticated);
        }
        // Touch at most once a minute: idle tracking does not need a write per request.
        if now - session.last_seen_at > Duration::minutes(1) {
            let mut w = self.store.begin().await?;
            w.touch_session(&hash, now).await?;
            w.commit().await?;
        }
        let policy = self.password_policy().await?;
        let expired = policy.max_age_days > 0
            && user
                .password_changed_at
                .is_some_and(|at| now - at > Duration::days(policy.max_age_days));
        Ok(ResolvedSession {
            actor: Actor::from_user(&user, interface, ip),
            csrf_token: session.csrf_token,
            must_change_password: user.must_change_password || expired,
            second_factor_pending: session.second_factor_pending,
        })
    }

    pub async fn logout(&self, token: &str, actor: &Actor) -> Result<()> {
        let mut tx = self.store.begin().await?;
        tx.delete_session(&digest(token)).await?;
        tx.append_audit(&actor.audit(
            "logout",
            "user",
            actor.user_id.unwrap_or(0),
            None,
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The actor behind an API token (`Authorization: Bearer jz_...`).
    pub async fn resolve_token(&self, token: &str, ip: &str) -> Result<Actor> {
        let now = Utc::now();
        let mut tx = self.store.begin_read().await?;
        let found = tx
            .token_by_hash(&digest(token))
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        drop(tx);
        let t = &found.token;
        // An administrator acts only through a session with both factors.
        if t.revoked_at.is_some()
            || t.expires_at.is_some_and(|e| e <= now)
            || !found.user.active
            || two_factor::required_for(&found.user)
        {
            return Err(ServiceError::Unauthenticated);
        }
        if t.last_used_at
            .is_none_or(|at| now - at > Duration::minutes(1))
        {
            let mut w = self.store.begin().await?;
            w.touch_token(t.id, now).await?;
            w.commit().await?;
        }
        let mut actor = Actor::from_user(&found.user, Interface::Api, ip);
        actor.read_only = t.read_only;
        actor.username = format!("{}#token{}", found.user.username, t.id);
        Ok(actor)
    }

    /// The password policy in force.
    /// Read at most once a minute: another server's change reaches this one within that.
    pub async fn password_policy(&self) -> Result<PasswordPolicy> {
        if let Some((at, p)) = *self.password_policy.read().expect("policy lock") {
            if at.elapsed() < std::time::Duration::from_secs(60) {
                return Ok(p);
            }
        }
        let mut tx = self.store.begin_read().await?;
        let policy = match tx.setting("password_policy").await? {
            Some(text) => serde_json::from_str(&text).unwrap_or_default(),
            None => PasswordPolicy::default(),
        };
        *self.password_policy.write().expect("policy lock") =
            Some((std::time::Instant::now(), policy));
        Ok(policy)
    }

    pub(crate) fn forget_password_policy(&self) {
        *self.password_policy.write().expect("policy lock") = None;
    }

    /// A user changes their own password, giving the current one.
    pub async fn change_password(&self, actor: &Actor, current: &str, new: &str) -> Result<()> {
        let id = actor.user_id.ok_or(ServiceError::Forbidden)?;
        if actor.interface == Interface::Api && actor.username.contains("#token") {
            // A token changes nobody's password.
            return Err(ServiceError::Forbidden);
        }
        let policy = self.password_policy().await?;
        let mut tx = self.store.begin().await?;
        let user = tx.user(id).await?.ok_or(ServiceError::NotFound)?;
        if !verify_password(current, &user.password_hash) {
            return Err(ServiceError::invalid("current", "当前密码不正确"));
        }
        if current == new {
            return Err(ServiceError::invalid(
                "password",
                "新密码不能与当前密码相同",
            ));
        }
        check_password_rules(new, &user.username, &policy)?;
        tx.set_password_hash(id, &hash_password(new), false).await?;
        tx.append_audit(&actor.audit("password.change", "user", id, None, json!({})))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn purge_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut tx = self.store.begin().await?;
        let n = tx.delete_expired_sessions(now).await?;
        tx.commit().await?;
        Ok(n)
    }
}
