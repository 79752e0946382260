//! Argon2id password hashing and the password rules.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use serde::{Deserialize, Serialize};

use crate::{Result, ServiceError};

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 hashing of a bounded password does not fail")
        .to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The bureau's password policy (安全管理员 sets it; kept in the settings table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PasswordPolicy {
    /// Fewest characters (at least 8).
    pub min_length: usize,
    /// Days a password lasts before its user must choose a new one; 0 for no expiry.
    pub max_age_days: i64,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 10,
            max_age_days: 90,
        }
    }
}

/// At least the policy's length and at most 128 characters, with letters and digits, at least
/// six different characters (`aaaaaaaaa1` is no password), and not containing the username.
pub fn check_password_rules(password: &str, username: &str, policy: &PasswordPolicy) -> Result<()> {
    let n = password.chars().count();
    let letters = password.chars().any(|c| c.is_alphabetic());
    let digits = password.chars().any(|c| c.is_ascii_digit());
    if !(policy.min_length..=128).contains(&n) || !letters || !digits {
        return Err(ServiceError::invalid(
            "password",
            format!("密码应为{}至128位，且同时包含字母和数字", policy.min_length),
        ));
    }
    let distinct: std::collections::HashSet<char> = password.chars().collect();
    if distinct.len() < 6 {
        return Err(ServiceError::invalid(
            "password",
            "密码过于简单：至少应含6个不同的字符",
        ));
    }
    let name = username.trim().to_lowercase();
    if name.len() >= 3 && password.to_lowercase().contains(&name) {
        return Err(ServiceError::invalid("password", "密码不能包含用户名"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let h = hash_password("Jiuzhu2026window");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("Jiuzhu2026window", &h));
        assert!(!verify_password("jiuzhu2026window", &h));
        assert!(!verify_password("x", "not a hash"));
        let p = PasswordPolicy::default();
        assert!(check_password_rules("short1", "clerk", &p).is_err());
        assert!(check_password_rules("onlyletterslong", "clerk", &p).is_err());
        assert!(check_password_rules("aaaaaaaaa1", "clerk", &p).is_err());
        assert!(check_password_rules("clerk2026abc", "clerk", &p).is_err());
        assert!(check_password_rules("letters1234", "clerk", &p).is_ok());
        let longer = PasswordPolicy {
            min_length: 14,
            ..p
        };
        assert!(check_password_rules("letters1234", "clerk", &longer).is_err());
    }
}
