//! Field encryption at rest and keyed blind indexes.
//!
//! Identity numbers, phone numbers and authenticator secrets are stored encrypted — AES-256-GCM,
//! or SM4-GCM (GB/T 32907) where 国密 is required — bound to their column by the associated data,
//! beside a keyed blind index (HMAC-SHA256, or HMAC-SM3 per GB/T 32905) that allows exact
//! look-up without decrypting. The keys derive from master keys that come from configuration and
//! are never written to the database. A ciphertext starts with a format byte (the algorithm) and
//! a key id, so keys are rotated by adding one and re-encrypting under it (`jiuzhu rekey`) while
//! the older keys still read what is not yet re-encrypted. The blind index and the audit seals
//! stay keyed by the first key: changing them would change every index and every seal.

use std::collections::BTreeMap;

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use sm3::Sm3;
use sm4::Sm4;
use thiserror::Error;

/// The format bytes: which algorithm sealed a ciphertext.
const AES_256_GCM: u8 = 1;
const SM4_GCM: u8 = 2;

type Sm4Gcm = AesGcm<Sm4, U12>;

#[derive(Debug, Error)]
pub enum KeyError {
    #[error("加密主密钥应为32字节的Base64编码（openssl rand -base64 32 可生成）：{0}")]
    Malformed(String),
    #[error("密钥文件第{line}行：{why}")]
    Line { line: usize, why: String },
}

/// The cipher new values are encrypted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldAlgorithm {
    #[default]
    Aes256Gcm,
    /// 国密 SM4 in Galois/counter mode.
    Sm4Gcm,
}

impl FieldAlgorithm {
    pub fn parse(text: &str) -> Option<FieldAlgorithm> {
        match text.trim().to_ascii_lowercase().as_str() {
            "aes-256-gcm" | "aes" => Some(FieldAlgorithm::Aes256Gcm),
            "sm4-gcm" | "sm4" => Some(FieldAlgorithm::Sm4Gcm),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FieldAlgorithm::Aes256Gcm => "aes-256-gcm",
            FieldAlgorithm::Sm4Gcm => "sm4-gcm",
        }
    }

    fn format(self) -> u8 {
        match self {
            FieldAlgorithm::Aes256Gcm => AES_256_GCM,
            FieldAlgorithm::Sm4Gcm => SM4_GCM,
        }
    }
}

/// The keyed digest behind blind indexes and audit seals. Fixed for a database's life: it is
/// recorded at the first start and a different one is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IndexAlgorithm {
    #[default]
    HmacSha256,
    /// 国密 SM3.
    HmacSm3,
}

impl IndexAlgorithm {
    pub fn parse(text: &str) -> Option<IndexAlgorithm> {
        match text.trim().to_ascii_lowercase().as_str() {
            "hmac-sha256" | "sha256" => Some(IndexAlgorithm::HmacSha256),
            "hmac-sm3" | "sm3" => Some(IndexAlgorithm::HmacSm3),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            IndexAlgorithm::HmacSha256 => "hmac-sha256",
            IndexAlgorithm::HmacSm3 => "hmac-sm3",
        }
    }
}

/// One master key's two ciphers.
struct Key {
    aes: Aes256Gcm,
    sm4: Sm4Gcm,
}

impl Key {
    fn new(master: &[u8; 32]) -> Key {
        let enc = derive(master, "jiuzhu/field-encryption/v1");
        let sm4 = derive(master, "jiuzhu/field-encryption/sm4/v1");
        Key {
            aes: Aes256Gcm::new_from_slice(&enc).expect("32-byte key"),
            sm4: Sm4Gcm::new_from_slice(&sm4[..16]).expect("16-byte key"),
        }
    }

    fn seal(&self, format: u8, nonce: &[u8; 12], payload: Payload) -> Vec<u8> {
        let nonce = Nonce::from_slice(nonce);
        match format {
            SM4_GCM => self.sm4.encrypt(nonce, payload),
            _ => self.aes.encrypt(nonce, payload),
        }
        .expect("GCM encryption does not fail for in-memory data")
    }

    fn open(&self, format: u8, nonce: &[u8], payload: Payload) -> Option<Vec<u8>> {
        let nonce = Nonce::from_slice(nonce);
        match format {
            AES_256_GCM => self.aes.decrypt(nonce, payload).ok(),
            SM4_GCM => self.sm4.decrypt(nonce, payload).ok(),
            _ => None,
        }
    }
}

#[derive(Clone)]
enum IndexMac {
    Sha256(Hmac<Sha256>),
    Sm3(Hmac<Sm3>),
}

pub struct FieldCipher {
    key_id: u8,
    algorithm: FieldAlgorithm,
    index_algorithm: IndexAlgorithm,
    keys: BTreeMap<u8, Key>,
    /// HMAC keyed once with the blind-index key; cloned for each digest.
    index: IndexMac,
}

fn derive(master: &[u8; 32], label: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).expect("any key length");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

fn decode_key(text: &str) -> Result<[u8; 32], KeyError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| KeyError::Malformed(e.to_string()))?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| KeyError::Malformed(format!("长度为{}字节", b.len())))
}

impl FieldCipher {
    /// One key, AES-256-GCM and HMAC-SHA256.
    pub fn new(master: &[u8; 32], key_id: u8) -> Self {
        Self::with_keys(
            &[(key_id, *master)],
            FieldAlgorithm::default(),
            IndexAlgorithm::default(),
        )
    }

    /// Several keys by id: new values are encrypted under the highest, any of them decrypts,
    /// and the lowest keys the blind index and the seals.
    pub fn with_keys(
        keys: &[(u8, [u8; 32])],
        algorithm: FieldAlgorithm,
        index_algorithm: IndexAlgorithm,
    ) -> Self {
        let ring: BTreeMap<u8, Key> = keys.iter().map(|(id, k)| (*id, Key::new(k))).collect();
        let (first_id, _) = keys
            .iter()
            .min_by_key(|(id, _)| *id)
            .expect("at least one key");
        let first = keys
            .iter()
            .find(|(id, _)| id == first_id)
            .map(|(_, k)| k)
            .expect("the first key");
        let index_key = derive(first, "jiuzhu/blind-index/v1");
        let index = match index_algorithm {
            IndexAlgorithm::HmacSha256 => IndexMac::Sha256(
                <Hmac<Sha256> as Mac>::new_from_slice(&index_key).expect("any key length"),
            ),
            IndexAlgorithm::HmacSm3 => IndexMac::Sm3(
                <Hmac<Sm3> as Mac>::new_from_slice(&index_key).expect("any key length"),
            ),
        };
        FieldCipher {
            key_id: *ring.keys().next_back().expect("at least one key"),
            algorithm,
            index_algorithm,
            keys: ring,
            index,
        }
    }

    pub fn from_base64(text: &str, key_id: u8) -> Result<Self, KeyError> {
        Ok(Self::new(&decode_key(text)?, key_id))
    }

    /// A key file: one Base64 key (key 1), or lines of `ID:BASE64` (key ids 1–255), as
    /// `jiuzhu key add` writes them. Blank lines and `#` comments are skipped.
    pub fn parse_keys(text: &str) -> Result<Vec<(u8, [u8; 32])>, KeyError> {
        let mut keys = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fail = |why: String| KeyError::Line { line: i + 1, why };
            let (id, key) = match line.split_once(':') {
                Some((id, key)) => (
                    id.trim()
                        .parse::<u8>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| fail(format!("密钥编号“{id}”应为1至255")))?,
                    key,
                ),
                None => (1, line),
            };
            if keys.iter().any(|(k, _)| *k == id) {
                return Err(fail(format!("密钥编号{id}重复")));
            }
            keys.push((id, decode_key(key).map_err(|e| fail(e.to_string()))?));
        }
        if keys.is_empty() {
            return Err(KeyError::Malformed("文件中没有密钥".into()));
        }
        Ok(keys)
    }

    /// A fresh random master key, Base64-encoded, for a new installation.
    pub fn generate_key() -> String {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        base64::engine::general_purpose::STANDARD.encode(key)
    }

    /// The id new values are encrypted under.
    pub fn current_key(&self) -> u8 {
        self.key_id
    }

    pub fn algorithm(&self) -> FieldAlgorithm {
        self.algorithm
    }

    pub fn index_algorithm(&self) -> IndexAlgorithm {
        self.index_algorithm
    }

    /// Whether a ciphertext was sealed by another key or algorithm than new values are.
    pub fn is_stale(&self, blob: &[u8]) -> bool {
        blob.len() < 2 || blob[0] != self.algorithm.format() || blob[1] != self.key_id
    }

    /// Encrypts `plain` for the column named by `context` (e.g. `persons.id_number`).
    pub fn encrypt(&self, context: &str, plain: &str) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let format = self.algorithm.format();
        let sealed = self.keys[&self.key_id].seal(
            format,
            &nonce,
            Payload {
                msg: plain.as_bytes(),
                aad: context.as_bytes(),
            },
        );
        let mut out = Vec::with_capacity(2 + 12 + sealed.len());
        out.extend_from_slice(&[format, self.key_id]);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn decrypt(&self, context: &str, blob: &[u8]) -> Result<String, crate::StoreError> {
        let fail = |why: &str| crate::StoreError::Crypto(format!("{context}: {why}"));
        if blob.len() < 2 + 12 + 16 || !matches!(blob[0], AES_256_GCM | SM4_GCM) {
            return Err(fail("格式不符"));
        }
        let key = self.keys.get(&blob[1]).ok_or_else(|| {
            fail(&format!(
                "密钥编号为{}，配置中只有{:?}号密钥",
                blob[1],
                self.keys.keys().collect::<Vec<_>>()
            ))
        })?;
        let plain = key
            .open(
                blob[0],
                &blob[2..14],
                Payload {
                    msg: &blob[14..],
                    aad: context.as_bytes(),
                },
            )
            .ok_or_else(|| fail("密钥不符或数据被篡改"))?;
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

    /// A keyed seal of `value` (hex): whoever can write the database but does not hold the key
    /// cannot forge one.
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
        fn run<M: Mac + Clone>(mac: &M, context: &str, value: &str) -> [u8; 32] {
            let mut mac = mac.clone();
            mac.update(context.as_bytes());
            mac.update(&[0]);
            mac.update(value.as_bytes());
            let out = mac.finalize().into_bytes();
            out[..32].try_into().expect("32-byte digest")
        }
        match &self.index {
            IndexMac::Sha256(m) => run(m, context, value),
            IndexMac::Sm3(m) => run(m, context, value),
        }
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
    fn sm4_and_aes_ciphertexts_both_read_and_rotation_keeps_the_index() {
        let one = [3u8; 32];
        let two = [4u8; 32];
        let old = FieldCipher::new(&one, 1);
        let aes_blob = old.encrypt("persons.id_number", "32058219620202001X");
        assert_eq!(aes_blob[..2], [AES_256_GCM, 1]);
        let ring = FieldCipher::with_keys(
            &[(1, one), (2, two)],
            FieldAlgorithm::Sm4Gcm,
            IndexAlgorithm::HmacSha256,
        );
        let sm4_blob = ring.encrypt("persons.id_number", "32058219620202001X");
        assert_eq!(sm4_blob[..2], [SM4_GCM, 2]);
        for blob in [&aes_blob, &sm4_blob] {
            assert_eq!(
                ring.decrypt("persons.id_number", blob).unwrap(),
                "32058219620202001X"
            );
        }
        assert!(ring.is_stale(&aes_blob) && !ring.is_stale(&sm4_blob));
        // The old key alone cannot read what the new one wrote.
        assert!(old.decrypt("persons.id_number", &sm4_blob).is_err());
        // Rotation leaves the blind index as it was.
        assert_eq!(
            ring.blind_index("id", "32058219620202001X"),
            old.blind_index("id", "32058219620202001X")
        );
        // SM3 gives another index from the same key.
        let sm3 =
            FieldCipher::with_keys(&[(1, one)], FieldAlgorithm::Sm4Gcm, IndexAlgorithm::HmacSm3);
        assert_ne!(
            sm3.blind_index("id", "32058219620202001X"),
            old.blind_index("id", "32058219620202001X")
        );
    }

    /// GB/T 32907 example 1: SM4 of 0123456789abcdeffedcba9876543210 under itself.
    #[test]
    fn sm4_is_the_standard_one() {
        use sm4::cipher::{BlockEncrypt, KeyInit};
        let hex = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let key = hex("0123456789abcdeffedcba9876543210");
        let cipher = Sm4::new_from_slice(&key).unwrap();
        let mut block = sm4::cipher::generic_array::GenericArray::clone_from_slice(&key);
        cipher.encrypt_block(&mut block);
        assert_eq!(block.to_vec(), hex("681edf34d206965e86b3e94f536e4246"));
    }

    #[test]
    fn key_files_list_keys_by_id() {
        let a = FieldCipher::generate_key();
        let b = FieldCipher::generate_key();
        assert_eq!(FieldCipher::parse_keys(&a).unwrap()[0].0, 1);
        let two = FieldCipher::parse_keys(&format!("# keys\n1:{a}\n2:{b}\n")).unwrap();
        assert_eq!(two.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [1, 2]);
        assert!(FieldCipher::parse_keys(&format!("1:{a}\n1:{b}")).is_err());
        assert!(FieldCipher::parse_keys("0:abc").is_err());
        assert!(FieldCipher::parse_keys("").is_err());
    }

    #[test]
    fn base64_keys_must_be_32_bytes() {
        assert!(FieldCipher::from_base64(&FieldCipher::generate_key(), 1).is_ok());
        assert!(FieldCipher::from_base64("c2hvcnQ=", 1).is_err());
        assert!(FieldCipher::from_base64("***", 1).is_err());
    }
}
