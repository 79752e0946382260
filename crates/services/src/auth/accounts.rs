//! Accounts and their API tokens, as administrators manage them; every change audited.

use chrono::{Duration, Utc};
use jiuzhu_domain::{Permission, RegionCode, Role};
use jiuzhu_store::{Interface, NewUser, UserRecord};
use serde_json::json;

use super::{
    check_password_rules, digest, hash_password, random_token, ApiTokenRecord, IssuedToken,
    TokenInput, UserInput, UserView,
};
use crate::{Actor, Result, ServiceError, Users};

/// The person installing the platform: the command line acting as itself, not a signed-in user.
fn installer(actor: &Actor) -> bool {
    actor.user_id.is_none() && actor.interface == Interface::Cli
}

/// 三权分立: the system, security and audit administrators' accounts are made and changed at
/// installation only, so no administrator can make or silence another.
fn administrators_are_installed(actor: &Actor, role: Role) -> Result<()> {
    if role.is_administrator() && !installer(actor) {
        return Err(ServiceError::invalid(
            "role",
            "三权分立：系统管理员、安全管理员和审计员的账号只能在安装时用 jiuzhu user add 创建和变更",
        ));
    }
    Ok(())
}

impl Users<'_> {
    pub async fn create(&self, actor: &Actor, input: &UserInput) -> Result<UserView> {
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
        administrators_are_installed(actor, role)?;
        if input.system_account && role != Role::DepartmentLiaison {
            return Err(ServiceError::invalid(
                "system_account",
                "系统账号只能是某部门的部门联络专员角色",
            ));
        }
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
        let hash = if input.system_account {
            // No password opens it: a random one nobody is told.
            hash_password(&random_token(32))
        } else {
            let policy = self.auth().password_policy().await?;
            check_password_rules(&input.password, username, &policy)?;
            hash_password(&input.password)
        };
        let mut tx = self.store.begin().await?;
        if tx.get_region(region.as_str()).await?.is_none() {
            return Err(ServiceError::invalid(
                "region_code",
                format!("行政区划代码{region}不存在"),
            ));
        }
        let organisation = match (role, input.organisation_id) {
            (Role::Organisation, Some(id)) => {
                if !tx.organisation(id).await?.is_some_and(|o| o.active) {
                    return Err(ServiceError::invalid(
                        "organisation_id",
                        "请选择已登记并接受转介的社会组织",
                    ));
                }
                Some(id)
            }
            (Role::Organisation, None) => {
                return Err(ServiceError::invalid(
                    "organisation_id",
                    "社会组织账号须指定所属组织",
                ))
            }
            _ => None,
        };
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
                organisation_id: organisation,
                password_hash: &hash,
                system_account: input.system_account,
                // Whoever set the password knows it: the user replaces it at first sign-in.
                must_change_password: !input.system_account,
            })
            .await?;
        tx.append_audit(&actor.audit(
            "user.create",
            "user",
            id,
            Some(region.as_str()),
            json!({"username": username, "role": role.code(), "department": department, "system_account": input.system_account}),
        ))
        .await?;
        let user = tx.user(id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        Ok(UserView::from(&user))
    }

    /// Resets a user's password to a new temporary one, returned once; the user chooses their
    /// own at the next sign-in. Administrators' passwords are reset at installation only.
    pub async fn reset_password(&self, actor: &Actor, id: i64) -> Result<(UserView, String)> {
        actor.require(Permission::ManageUsers)?;
        let user = self.user_in_scope(actor, id).await?;
        administrators_are_installed(actor, user.role)?;
        if user.system_account {
            return Err(ServiceError::invalid("id", "系统账号没有密码"));
        }
        // Letters and digits, long enough for any policy.
        let temporary = format!("{}7a", random_token(12).replace(['-', '_'], "x"));
        let mut tx = self.store.begin().await?;
        tx.set_password_hash(id, &hash_password(&temporary), true)
            .await?;
        tx.clear_login_failures(&super::login_key(&self.store, &user.username))
            .await?;
        tx.delete_sessions_of(id).await?;
        tx.append_audit(&actor.audit(
            "password.reset",
            "user",
            id,
            Some(user.region.as_str()),
            json!({"username": user.username}),
        ))
        .await?;
        tx.commit().await?;
        Ok((UserView::from(&user), temporary))
    }

    /// Sets the bureau's password policy (the security administrator).
    pub async fn set_password_policy(
        &self,
        actor: &Actor,
        policy: &super::PasswordPolicy,
    ) -> Result<super::PasswordPolicy> {
        actor.require(Permission::ManageUsers)?;
        if !(8..=64).contains(&policy.min_length) {
            return Err(ServiceError::invalid("min_length", "最短长度应为8至64位"));
        }
        if !(0..=365).contains(&policy.max_age_days) {
            return Err(ServiceError::invalid(
                "max_age_days",
                "有效期应为0（不过期）至365天",
            ));
        }
        let mut tx = self.store.begin().await?;
        tx.set_setting(
            "password_policy",
            &serde_json::to_string(policy).expect("policy serialises"),
        )
        .await?;
        tx.append_audit(&actor.audit(
            "password.policy",
            "setting",
            "password_policy",
            None,
            json!(policy),
        ))
        .await?;
        tx.commit().await?;
        self.auth().forget_password_policy();
        Ok(*policy)
    }

    pub async fn list(&self, actor: &Actor) -> Result<Vec<UserView>> {
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
    pub async fn set_active(&self, actor: &Actor, id: i64, active: bool) -> Result<UserView> {
        actor.require(Permission::ManageUsers)?;
        let user = self.user_in_scope(actor, id).await?;
        administrators_are_installed(actor, user.role)?;
        if Some(id) == actor.user_id && !active {
            return Err(ServiceError::invalid("active", "不能停用自己的账号"));
        }
        let mut tx = self.store.begin().await?;
        tx.set_user_active(id, active).await?;
        tx.clear_login_failures(&super::login_key(&self.store, &user.username))
            .await?;
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

    /// A token acts as its account. Anyone may issue one for themselves; the security
    /// administrator issues them for the system accounts of departments. Nobody issues a token
    /// that acts as another person.
    pub async fn issue_token(&self, actor: &Actor, input: &TokenInput) -> Result<IssuedToken> {
        if actor.read_only {
            return Err(ServiceError::Forbidden);
        }
        let own = Some(input.user_id) == actor.user_id;
        let user = if own {
            let mut tx = self.store.begin_read().await?;
            tx.user(input.user_id)
                .await?
                .ok_or(ServiceError::NotFound)?
        } else {
            actor.require(Permission::ManageUsers)?;
            let user = self
                .user_in_scope(actor, input.user_id)
                .await
                .map_err(|_| ServiceError::invalid("user_id", "用户不存在或不在您的管辖范围内"))?;
            if !user.system_account {
                return Err(ServiceError::invalid(
                    "user_id",
                    "令牌只能签发给本人或部门系统账号：不能签发以他人身份操作的令牌",
                ));
            }
            user
        };
        if super::two_factor::required_for(&user) {
            return Err(ServiceError::invalid(
                "user_id",
                "管理员账号只能通过双因素登录操作，不能持有令牌",
            ));
        }
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
        let mut record = jiuzhu_store::ApiTokenRecord {
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
            record: record.into(),
        })
    }

    pub async fn tokens_of(&self, actor: &Actor, user_id: i64) -> Result<Vec<ApiTokenRecord>> {
        if Some(user_id) != actor.user_id {
            actor.require(Permission::ManageUsers)?;
            self.user_in_scope(actor, user_id).await?;
        }
        let mut tx = self.store.begin_read().await?;
        Ok(tx
            .tokens_of(user_id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub async fn revoke_token(&self, actor: &Actor, token_id: i64) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let token = tx.token(token_id).await?.ok_or(ServiceError::NotFound)?;
        if Some(token.user_id) != actor.user_id {
            actor.require(Permission::ManageUsers)?;
        }
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
}
