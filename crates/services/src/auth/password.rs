//! Argon2id password hashing and the password rules.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

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

/// At least 10 characters, with letters and digits; at most 128.
pub fn check_password_rules(password: &str) -> Result<()> {
    let n = password.chars().count();
    let letters = password.chars().any(|c| c.is_alphabetic());
    let digits = password.chars().any(|c| c.is_ascii_digit());
    if !(10..=128).contains(&n) || !letters || !digits {
        return Err(ServiceError::invalid(
            "password",
            "密码应为10至128位，且同时包含字母和数字",
        ));
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
        assert!(check_password_rules("short1").is_err());
        assert!(check_password_rules("onlyletterslong").is_err());
        assert!(check_password_rules("letters1234").is_ok());
    }
}
