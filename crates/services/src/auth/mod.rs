//! Login, sessions, API tokens and user administration.

mod password;

pub use password::{check_password_rules, hash_password, verify_password};

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use jiuzhu_domain::{Permission, RegionCode, Role};
use jiuzhu_store::{
    ApiTokenRecord, AuditEntry, AuditRepo, CatalogueRepo, Interface, NewUser, RegionRepo,
    SessionRecord, UserRecord, UserRepo,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{clock, Actor, Result, ServiceError, Services};

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
    pub password: String,
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
    pub active: bool,
    pub locked: bool,
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
            active: u.active,
            locked: u.locked_until.is_some_and(|t| t > Utc::now()),
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
    username: &str,
    ip: &str,
    interface: Interface,
    action: &str,
    detail: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        actor_id: user.map(|u| u.id),
        actor_name: username.to_string(),
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

impl Services {
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
        let mut tx = self.store.begin().await?;
        let user = tx.user_by_name(username).await?;
        let Some(user) = user else {
            // Spend the same time as a real check, so timing does not reveal which names exist.
            verify_password(password, &self.dummy_hash);
            tx.append_audit(&login_audit(
                None,
                username,
                ip,
                interface,
                "login.failed",
                json!({"reason": "unknown_user"}),
            ))
            .await?;
            tx.commit().await?;
            return Err(ServiceError::BadCredentials);
        };
        if let Some(until) = user.locked_until.filter(|t| *t > now) {
            tx.append_audit(&login_audit(
                Some(&user),
                username,
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
        if !user.active || !verify_password(password, &user.password_hash) {
            let lock = (user.failed_logins + 1 >= LOCKOUT_THRESHOLD)
                .then(|| now + Duration::minutes(LOCKOUT_MINUTES));
            let failures = tx.login_failed(user.id, lock).await?;
            tx.append_audit(&login_audit(
                Some(&user),
                username,
                ip,
                interface,
                if lock.is_some() { "login.locked" } else { "login.failed" },
                json!({"reason": if user.active {"password"} else {"inactive"}, "failures": failures}),
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
        tx.login_succeeded(user.id).await?;
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
            },
        )
        .await?;
        tx.append_audit(&login_audit(
            Some(&user),
            username,
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
        Ok(ResolvedSession {
            actor: Actor::from_user(&user, interface, ip),
            csrf_token: session.csrf_token,
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
        if t.revoked_at.is_some() || t.expires_at.is_some_and(|e| e <= now) || !found.user.active {
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

    pub async fn create_user(&self, actor: &Actor, input: &UserInput) -> Result<UserView> {
        actor.require(Permission::ManageUsers)?;
        let username = input.username.trim();
        let valid_name = (3..=32).contains(&username.len())
            && username
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
        if !valid_name {
            return Err(ServiceError::invalid(
                "username",
                "用户名应为3至32位小写字母、数字或 _ . -",
            ));
        }
        if input.display_name.trim().is_empty() {
            return Err(ServiceError::invalid("display_name", "姓名不能为空"));
        }
        let role = Role::from_code(input.role.trim())
            .ok_or_else(|| ServiceError::invalid("role", "角色无效"))?;
        let region = RegionCode::parse(&input.region_code)
            .map_err(|e| ServiceError::invalid("region_code", e.to_string()))?;
        if region.level() != role.region_level() {
            return Err(ServiceError::invalid(
                "region_code",
                format!(
                    "{}应属于{}级区划",
                    role.label(),
                    role.region_level().label()
                ),
            ));
        }
        if !actor.covers(&region) {
            return Err(ServiceError::invalid(
                "region_code",
                format!("{region}不在您的管辖范围内"),
            ));
        }
        let department = input
            .department_code
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if role.needs_department() != department.is_some() {
            return Err(ServiceError::invalid(
                "department_code",
                if role.needs_department() {
                    "部门联络专员须指定所属部门"
                } else {
                    "只有部门联络专员指定部门"
                },
            ));
        }
        check_password_rules(&input.password)?;
        let hash = hash_password(&input.password);
        let mut tx = self.store.begin().await?;
        if tx.get_region(region.as_str()).await?.is_none() {
            return Err(ServiceError::invalid(
                "region_code",
                format!("行政区划代码{region}不存在"),
            ));
        }
        if let Some(d) = department {
            if !tx.departments().await?.iter().any(|x| x.code == d) {
                return Err(ServiceError::invalid(
                    "department_code",
                    format!("部门“{d}”不存在"),
                ));
            }
        }
        if tx.user_by_name(username).await?.is_some() {
            return Err(ServiceError::Conflict {
                field: Some("username".into()),
                message: format!("用户名{username}已被使用"),
            });
        }
        let id = tx
            .insert_user(NewUser {
                username,
                display_name: input.display_name.trim(),
                role,
                region: &region,
                department_code: department,
                password_hash: &hash,
            })
            .await?;
        tx.append_audit(&actor.audit(
            "user.create",
            "user",
            id,
            Some(region.as_str()),
            json!({"username": username, "role": role.code(), "department": department}),
        ))
        .await?;
        let user = tx.user(id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        Ok(UserView::from(&user))
    }

    pub async fn list_users(&self, actor: &Actor) -> Result<Vec<UserView>> {
        actor.require(Permission::ManageUsers)?;
        let mut tx = self.store.begin_read().await?;
        Ok(tx
            .users_in(actor.scope())
            .await?
            .iter()
            .map(UserView::from)
            .collect())
    }

    async fn user_in_scope(&self, actor: &Actor, id: i64) -> Result<UserRecord> {
        let mut tx = self.store.begin_read().await?;
        tx.user(id)
            .await?
            .filter(|u| actor.covers(&u.region))
            .ok_or(ServiceError::NotFound)
    }

    /// Enables or disables an account; disabling ends its sessions. Enabling also clears a lock.
    pub async fn set_user_active(&self, actor: &Actor, id: i64, active: bool) -> Result<UserView> {
        actor.require(Permission::ManageUsers)?;
        let user = self.user_in_scope(actor, id).await?;
        if Some(id) == actor.user_id && !active {
            return Err(ServiceError::invalid("active", "不能停用自己的账号"));
        }
        let mut tx = self.store.begin().await?;
        tx.set_user_active(id, active).await?;
        if !active {
            tx.delete_sessions_of(id).await?;
        }
        tx.append_audit(&actor.audit(
            if active {
                "user.enable"
            } else {
                "user.disable"
            },
            "user",
            id,
            Some(user.region.as_str()),
            json!({"username": user.username}),
        ))
        .await?;
        let user = tx.user(id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        Ok(UserView::from(&user))
    }

    pub async fn issue_token(&self, actor: &Actor, input: &TokenInput) -> Result<IssuedToken> {
        actor.require(Permission::ManageUsers)?;
        let user = self
            .user_in_scope(actor, input.user_id)
            .await
            .map_err(|_| ServiceError::invalid("user_id", "用户不存在或不在您的管辖范围内"))?;
        let name = input.name.trim();
        if name.is_empty() {
            return Err(ServiceError::invalid("name", "请填写令牌用途"));
        }
        if let Some(days) = input.expires_in_days {
            if !(1..=3650).contains(&days) {
                return Err(ServiceError::invalid(
                    "expires_in_days",
                    "有效期应为1至3650天",
                ));
            }
        }
        let token = format!("jz_{}", random_token(32));
        let now = Utc::now();
        let mut record = ApiTokenRecord {
            id: 0,
            user_id: user.id,
            name: name.to_string(),
            prefix: token[..9].to_string(),
            read_only: input.read_only,
            created_by: actor.user_id.unwrap_or(user.id),
            created_at: now,
            expires_at: input.expires_in_days.map(|d| now + Duration::days(d)),
            revoked_at: None,
            last_used_at: None,
        };
        let mut tx = self.store.begin().await?;
        record.id = tx.insert_token(&digest(&token), &record).await?;
        tx.append_audit(&actor.audit(
            "token.issue",
            "api_token",
            record.id,
            Some(user.region.as_str()),
            json!({"user": user.username, "name": name, "read_only": input.read_only}),
        ))
        .await?;
        tx.commit().await?;
        Ok(IssuedToken {
            id: record.id,
            token,
            record,
        })
    }

    pub async fn tokens_of(&self, actor: &Actor, user_id: i64) -> Result<Vec<ApiTokenRecord>> {
        actor.require(Permission::ManageUsers)?;
        self.user_in_scope(actor, user_id).await?;
        let mut tx = self.store.begin_read().await?;
        Ok(tx.tokens_of(user_id).await?)
    }

    pub async fn revoke_token(&self, actor: &Actor, token_id: i64) -> Result<()> {
        actor.require(Permission::ManageUsers)?;
        let mut tx = self.store.begin().await?;
        let token = tx.token(token_id).await?.ok_or(ServiceError::NotFound)?;
        let user = tx
            .user(token.user_id)
            .await?
            .filter(|u| actor.covers(&u.region))
            .ok_or(ServiceError::NotFound)?;
        tx.revoke_token(token_id, Utc::now()).await?;
        tx.append_audit(&actor.audit(
            "token.revoke",
            "api_token",
            token_id,
            Some(user.region.as_str()),
            json!({"user": user.username}),
        ))
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
