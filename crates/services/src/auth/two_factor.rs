//! The second factor of the administrator roles (等保 三级: two kinds of proof for those who hold
//! the keys): a time-based one-time code (RFC 6238, 6 digits every 30 seconds) from an
//! authenticator app bound at the first sign-in. A password opens a session that shows nothing
//! but the two-factor page until the code is given.

use chrono::Utc;
use jiuzhu_store::{Interface, UserRecord};
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use totp_rs::{Algorithm, TOTP};

use super::{digest, login_audit};
use crate::{Actor, Auth, Result, ServiceError, Users};

/// Seconds per code.
pub const STEP_SECONDS: u64 = 30;
/// Wrong codes in one session before it ends (the password must be given again, and that is
/// counted by the lock-out).
pub const MAX_FAILURES: i64 = 5;
/// Who the codes are for, as authenticator apps show it.
const ISSUER: &str = "救助平台";
const SECRET_CONTEXT: &str = "users.totp_secret";

/// Whether a user must give a second factor to sign in.
pub fn required_for(user: &UserRecord) -> bool {
    user.role.is_administrator() && !user.system_account
}

fn totp(secret: &[u8]) -> TOTP {
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, STEP_SECONDS, secret.to_vec())
}

/// The code of an authenticator holding `secret_base32` at `unix_seconds`; what the app shows.
pub fn code_at(secret_base32: &str, unix_seconds: u64) -> Option<String> {
    let secret = base32_decode(secret_base32)?;
    Some(totp(&secret).generate(unix_seconds))
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    totp_rs::Secret::Encoded(clean).to_bytes().ok()
}

/// What the two-factor page shows: a code to type, or first the secret to bind.
#[derive(Debug, Clone, Serialize)]
pub struct SecondFactorPrompt {
    pub display_name: String,
    /// None when the authenticator is bound and only a code is asked for.
    pub enrolment: Option<Enrolment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Enrolment {
    /// The secret in base32, for typing into an app by hand.
    pub secret: String,
    /// The `otpauth://` address a QR code carries.
    pub uri: String,
}

fn unix_now() -> u64 {
    Utc::now().timestamp().max(0) as u64
}

impl Auth<'_> {
    /// What a session waiting for its second factor is to be asked. Binding creates the secret
    /// once; it is shown until the first code confirms it.
    pub async fn second_factor_prompt(&self, session_token: &str) -> Result<SecondFactorPrompt> {
        let mut tx = self.store.begin().await?;
        let session = tx
            .session(&digest(session_token))
            .await?
            .filter(|s| s.second_factor_pending)
            .ok_or(ServiceError::Unauthenticated)?;
        let user = tx
            .user(session.user_id)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let enrolment = match tx.totp_of(user.id).await? {
            Some(t) if t.confirmed => None,
            Some(t) => Some(
                self.store
                    .cipher()
                    .decrypt(SECRET_CONTEXT, &t.secret_cipher)?,
            ),
            None => {
                let mut secret = [0u8; 20];
                rand::thread_rng().fill_bytes(&mut secret);
                let text = totp(&secret).get_secret_base32();
                let cipher = self.store.cipher().encrypt(SECRET_CONTEXT, &text);
                tx.set_totp_secret(user.id, Some(&cipher)).await?;
                Some(text)
            }
        };
        tx.commit().await?;
        Ok(SecondFactorPrompt {
            display_name: user.display_name.clone(),
            enrolment: enrolment.map(|secret| Enrolment {
                uri: otpauth_uri(&secret, &user.username),
                secret,
            }),
        })
    }

    /// Checks the code of a session waiting for it. A code is good for its 30 seconds and the
    /// ones either side (clocks drift), and only once. After `MAX_FAILURES` wrong codes the
    /// session ends.
    pub async fn give_second_factor(
        &self,
        session_token: &str,
        code: &str,
        ip: &str,
        interface: Interface,
    ) -> Result<()> {
        let hash = digest(session_token);
        let mut tx = self.store.begin().await?;
        let session = tx
            .session(&hash)
            .await?
            .filter(|s| s.second_factor_pending)
            .ok_or(ServiceError::Unauthenticated)?;
        let user = tx
            .user(session.user_id)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let record = tx.totp_of(user.id).await?.ok_or(ServiceError::invalid(
            "code",
            "尚未绑定动态口令，请刷新页面",
        ))?;
        let secret_text = self
            .store
            .cipher()
            .decrypt(SECRET_CONTEXT, &record.secret_cipher)?;
        let secret = base32_decode(&secret_text).ok_or_else(|| {
            ServiceError::Internal(jiuzhu_store::StoreError::Corrupt("动态口令密钥".into()))
        })?;
        let code = code.trim();
        let now_step = (unix_now() / STEP_SECONDS) as i64;
        let matched = (code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()))
            .then(|| {
                let t = totp(&secret);
                [now_step - 1, now_step, now_step + 1]
                    .into_iter()
                    .find(|s| t.generate(*s as u64 * STEP_SECONDS) == code)
            })
            .flatten();
        let accepted = match matched {
            Some(step) => tx.accept_totp_step(user.id, step, Utc::now()).await?,
            None => false,
        };
        if !accepted {
            let failures = tx.second_factor_failed(&hash).await?;
            let reason = if matched.is_some() {
                "second_factor_reused"
            } else {
                "second_factor"
            };
            tx.append_audit(&login_audit(
                Some(&user),
                ip,
                interface,
                "login.failed",
                json!({"reason": reason, "failures": failures}),
            ))
            .await?;
            let ended = failures >= MAX_FAILURES;
            if ended {
                tx.delete_session(&hash).await?;
            }
            tx.commit().await?;
            return Err(if ended {
                ServiceError::Unauthenticated
            } else if matched.is_some() {
                ServiceError::invalid("code", "该动态验证码已使用过，请等下一个验证码")
            } else {
                ServiceError::invalid("code", "动态验证码不正确，请核对手机上的验证码")
            });
        }
        tx.complete_second_factor(&hash).await?;
        tx.append_audit(&login_audit(
            Some(&user),
            ip,
            interface,
            if record.confirmed {
                "login.second_factor"
            } else {
                "two_factor.bind"
            },
            json!({}),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Users<'_> {
    /// Unbinds a user's authenticator (a lost phone): they bind a new one at the next sign-in,
    /// and their sessions end. Administrators' accounts change at installation only, so this is
    /// the command line's.
    pub async fn reset_second_factor(&self, actor: &Actor, username: &str) -> Result<()> {
        if !(actor.user_id.is_none() && actor.interface == Interface::Cli) {
            return Err(ServiceError::Forbidden);
        }
        let mut tx = self.store.begin().await?;
        let user = tx
            .user_by_name(username)
            .await?
            .ok_or(ServiceError::NotFound)?;
        tx.set_totp_secret(user.id, None).await?;
        tx.delete_sessions_of(user.id).await?;
        tx.append_audit(&actor.audit(
            "two_factor.reset",
            "user",
            user.id,
            Some(user.region.as_str()),
            json!({"username": user.username}),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn otpauth_uri(secret: &str, username: &str) -> String {
    let enc = |s: &str| form_urlencoded_component(s);
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period={STEP_SECONDS}",
        enc(ISSUER),
        enc(username),
        enc(ISSUER)
    )
}

/// Percent-encodes everything but unreserved characters (RFC 3986), as otpauth labels need.
fn form_urlencoded_component(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1: the secret "12345678901234567890" at 59 s gives 94287082
    /// (8 digits); the 6-digit code is its last six.
    #[test]
    fn codes_follow_rfc_6238() {
        let t = totp(b"12345678901234567890");
        assert_eq!(t.generate(59), "287082");
        assert_eq!(t.generate(1111111109), "081804");
        assert_eq!(t.generate(2000000000), "279037");
        let b32 = t.get_secret_base32();
        assert_eq!(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            code_at(&b32.to_lowercase(), 1111111109).as_deref(),
            Some("081804")
        );
    }

    #[test]
    fn the_binding_address_names_the_platform_and_the_account() {
        let uri = otpauth_uri("ABC", "security");
        assert_eq!(
            uri,
            "otpauth://totp/%E6%95%91%E5%8A%A9%E5%B9%B3%E5%8F%B0:security?secret=ABC&issuer=%E6%95%91%E5%8A%A9%E5%B9%B3%E5%8F%B0&algorithm=SHA1&digits=6&period=30"
        );
    }
}
