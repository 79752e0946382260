//! Field encryption at rest and keyed blind indexes.
//!
//! Identity numbers and phone numbers are stored as AES-256-GCM ciphertext, bound to their column
//! by the associated data, beside an HMAC-SHA256 blind index that allows exact look-up without
//! decrypting. Both keys derive from one master key that comes from configuration and is never
//! written to the database. A ciphertext starts with a format byte and a key id, so keys can be
//! rotated by re-encrypting under a new id.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use thiserror::Error;

const FORMAT: u8 = 1;

#[derive(Debug, Error)]
pub enum KeyError {
    #[error("加密主密钥应为32字节的Base64编码（openssl rand -base64 32 可生成）：{0}")]
    Malformed(String),
}

pub struct FieldCipher {
    key_id: u8,
    aead: Aes256Gcm,
    /// HMAC keyed once with the blind-index key; cloned for each digest.
    blind_mac: Hmac<Sha256>,
}

fn derive(master: &[u8; 32], label: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("any key length");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

impl FieldCipher {
    pub fn new(master: &[u8; 32], key_id: u8) -> Self {
        let enc = derive(master, "jiuzhu/field-encryption/v1");
        FieldCipher {
            key_id,
            aead: Aes256Gcm::new_from_slice(&enc).expect("32-byte key"),
            blind_mac: <Hmac<Sha256> as Mac>::new_from_slice(&derive(
                master,
                "jiuzhu/blind-index/v1",
            ))
            .expect("any key length"),
        }
    }

    pub fn from_base64(text: &str, key_id: u8) -> Result<Self, KeyError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| KeyError::Malformed(e.to_string()))?;
        let master: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| KeyError::Malformed(format!("长度为{}字节", b.len())))?;
        Ok(Self::new(&master, key_id))
    }

    /// A fresh random master key, Base64-encoded, for a new installation.
    pub fn generate_key() -> String {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// Encrypts `plain` for the column named by `context` (e.g. `persons.id_number`).
    pub fn encrypt(&self, context: &str, plain: &str) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption does not fail for in-memory data");
        let mut out = Vec::with_capacity(2 + 12 + sealed.len());
        out.extend_from_slice(&[FORMAT, self.key_id]);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn decrypt(&self, context: &str, blob: &[u8]) -> Result<String, crate::StoreError> {
        let fail = |why: &str| crate::StoreError::Crypto(format!("{context}: {why}"));
        if blob.len() < 2 + 12 + 16 || blob[0] != FORMAT {
            return Err(fail("格式不符"));
        }
        if blob[1] != self.key_id {
            return Err(fail(&format!(
                "密钥编号为{}，当前密钥为{}",
                blob[1], self.key_id
            )));
        }
        let plain = self
            .aead
            .decrypt(
                Nonce::from_slice(&blob[2..14]),
                Payload {
                    msg: &blob[14..],
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| fail("密钥不符或数据被篡改"))?;
        String::from_utf8(plain).map_err(|_| fail("不是UTF-8文本"))
    }

    /// A deterministic keyed digest for exact look-up: equal values give equal indexes, and
    /// without the key the index reveals nothing (not even a dictionary of identity numbers).
    pub fn blind_index(&self, context: &str, value: &str) -> String {
        let digest = self.digest(context, value);
        let mut hex = String::with_capacity(40);
        for b in &digest[..20] {
            hex.push(char::from_digit(u32::from(b >> 4), 16).expect("nibble"));
            hex.push(char::from_digit(u32::from(b & 15), 16).expect("nibble"));
        }
        hex
    }

    /// A keyed seal of `value` (HMAC-SHA256, hex): whoever can write the database but does not
    /// hold the key cannot forge one.
    pub fn seal(&self, context: &str, value: &str) -> String {
        self.digest(context, value)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The first 64 bits of the same digest as a number: the compact key department facts are
    /// stored under, equal to [`blind_key_of_index`] of the blind index.
    pub fn blind_key(&self, context: &str, value: &str) -> i64 {
        let digest = self.digest(context, value);
        i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
    }

    fn digest(&self, context: &str, value: &str) -> [u8; 32] {
        let mut mac = self.blind_mac.clone();
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// The 64-bit key of a blind index (its first sixteen hexadecimal digits, two's complement).
pub fn blind_key_of_index(index: &str) -> Option<i64> {
    let hex = index.get(..16)?;
    u64::from_str_radix(hex, 16).ok().map(|v| v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_a_wrong_key_or_column() {
        let a = FieldCipher::new(&[7u8; 32], 1);
        let b = FieldCipher::new(&[8u8; 32], 1);
        let blob = a.encrypt("persons.id_number", "11010519491231002X");
        assert!(!String::from_utf8_lossy(&blob).contains("1101051949"));
        assert_eq!(
            a.decrypt("persons.id_number", &blob).unwrap(),
            "11010519491231002X"
        );
        assert!(b.decrypt("persons.id_number", &blob).is_err());
        assert!(a.decrypt("persons.phone", &blob).is_err());
        // Two encryptions of the same value differ; their blind indexes do not.
        assert_ne!(blob, a.encrypt("persons.id_number", "11010519491231002X"));
        assert_eq!(
            a.blind_index("id", "11010519491231002X"),
            a.blind_index("id", "11010519491231002X")
        );
        assert_ne!(
            a.blind_index("id", "11010519491231002X"),
            b.blind_index("id", "11010519491231002X")
        );
        // The compact key is the index's first 64 bits, whichever way it is computed.
        let index = a.blind_index("id", "11010519491231002X");
        assert_eq!(
            blind_key_of_index(&index),
            Some(a.blind_key("id", "11010519491231002X"))
        );
        assert_eq!(blind_key_of_index("ffffffffffffffff0000"), Some(-1));
        assert_eq!(blind_key_of_index("8000000000000000"), Some(i64::MIN));
        assert_eq!(blind_key_of_index("short"), None);
    }

    #[test]
    fn base64_keys_must_be_32_bytes() {
        assert!(FieldCipher::from_base64(&FieldCipher::generate_key(), 1).is_ok());
        assert!(FieldCipher::from_base64("c2hvcnQ=", 1).is_err());
        assert!(FieldCipher::from_base64("***", 1).is_err());
    }
}
