//! Configuration: defaults, then a TOML file, then `JIUZHU_*` environment variables, then
//! command-line flags, each overriding the one before.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use jiuzhu_store::{FieldAlgorithm, FieldCipher, IndexAlgorithm};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// `sqlite://jiuzhu.db` (default) or `postgres://user@host:5432/db`.
    pub database_url: String,
    /// Address to listen on.
    pub bind: String,
    /// Base64 of the 32-byte master key for field encryption. Never stored in the database.
    pub encryption_key: Option<String>,
    /// A file holding that key (preferred to putting the key in the environment).
    pub encryption_key_file: Option<PathBuf>,
    /// Mark cookies Secure: set when users reach the platform over HTTPS.
    pub secure_cookies: bool,
    /// The reverse proxies in front of the platform (addresses, in TOML a list or in the
    /// environment separated by commas): only what they append to `X-Forwarded-For` is believed.
    #[serde(deserialize_with = "addresses")]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Older setting: a proxy on this machine (127.0.0.1, ::1) when no list is given.
    pub trust_proxy: bool,
    /// `aes-256-gcm` (default) or `sm4-gcm` (国密): the cipher new values are encrypted with.
    pub field_cipher: String,
    /// `hmac-sha256` (default) or `hmac-sm3` (国密): the blind index, fixed when the database
    /// is created.
    pub blind_index: String,
    /// Log filter, e.g. `info` or `jiuzhu=debug,sqlx=warn`.
    pub log: String,
    /// `text` for people, `json` (one object a line) for a log collector.
    pub log_format: LogFormat,
    /// The address applicants reach the platform at, printed on the acceptance form with the
    /// status page (the address the clerk uses when empty).
    pub public_url: String,
    /// The bureau's telephone for applicants' questions.
    pub service_phone: String,
    /// Where the materials applicants upload are kept (back it up with the database).
    pub upload_dir: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://jiuzhu.db".into(),
            bind: "127.0.0.1:8080".into(),
            encryption_key: None,
            encryption_key_file: None,
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            trust_proxy: false,
            field_cipher: "aes-256-gcm".into(),
            blind_index: "hmac-sha256".into(),
            log: "info,sqlx=warn,tower_http=warn".into(),
            log_format: LogFormat::Text,
            public_url: String::new(),
            service_phone: String::new(),
            upload_dir: "uploads".into(),
        }
    }
}

/// Values given on the command line; only those set override.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
}

impl Config {
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    bail!("配置文件 {} 不存在", path.display());
                }
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file("jiuzhu.toml")),
        }
        figment
            .merge(Env::prefixed("JIUZHU_"))
            .merge(Serialized::defaults(overrides))
            .extract()
            .context("配置无效")
    }

    /// Where the keys are kept: the configured file, or, for a SQLite database only, a file
    /// beside the database (created on first use). None when the key comes from the
    /// environment.
    pub fn key_file(&self) -> Result<Option<PathBuf>> {
        if self.encryption_key.is_some() {
            return Ok(None);
        }
        if let Some(path) = &self.encryption_key_file {
            return Ok(Some(path.clone()));
        }
        let Some(db) = self
            .database_url
            .strip_prefix("sqlite://")
            .or_else(|| self.database_url.strip_prefix("sqlite:"))
        else {
            bail!("使用 PostgreSQL 时必须配置加密主密钥（encryption_key_file 或 JIUZHU_ENCRYPTION_KEY）；可用 `jiuzhu keygen` 生成");
        };
        let db = db.split('?').next().unwrap_or(db);
        Ok(Some(PathBuf::from(format!("{db}.key"))))
    }

    /// The field-encryption keys: configured, read from their file, or, for a SQLite database
    /// only, kept in a file beside the database and created on first use. A file may hold
    /// several keys (`ID:BASE64` lines, as `jiuzhu key add` writes them): the highest encrypts.
    pub fn cipher(&self) -> Result<FieldCipher> {
        let algorithm = FieldAlgorithm::parse(&self.field_cipher).with_context(|| {
            format!(
                "field_cipher“{}”无效：应为 aes-256-gcm 或 sm4-gcm",
                self.field_cipher
            )
        })?;
        let index = IndexAlgorithm::parse(&self.blind_index).with_context(|| {
            format!(
                "blind_index“{}”无效：应为 hmac-sha256 或 hmac-sm3",
                self.blind_index
            )
        })?;
        let text = match (&self.encryption_key, self.key_file()?) {
            (Some(key), _) => key.clone(),
            (None, Some(path)) => {
                if self.encryption_key_file.is_none() && !path.exists() {
                    write_private(&path, &FieldCipher::generate_key())?;
                    eprintln!(
                        "已生成加密主密钥 {}（请备份；丢失后无法解密身份证号和电话）",
                        path.display()
                    );
                }
                std::fs::read_to_string(&path)
                    .with_context(|| format!("读取密钥文件 {}", path.display()))?
            }
            (None, None) => unreachable!("a key from the environment or a file"),
        };
        let keys = FieldCipher::parse_keys(&text).context("加密主密钥无效")?;
        Ok(FieldCipher::with_keys(&keys, algorithm, index))
    }
}

impl Config {
    /// The proxies whose `X-Forwarded-For` entries are believed.
    pub fn proxies(&self) -> Vec<std::net::IpAddr> {
        if self.trusted_proxies.is_empty() && self.trust_proxy {
            return vec![
                std::net::Ipv4Addr::LOCALHOST.into(),
                std::net::Ipv6Addr::LOCALHOST.into(),
            ];
        }
        self.trusted_proxies.clone()
    }
}

/// Addresses as a TOML list or one string separated by commas (as environment variables are).
fn addresses<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<std::net::IpAddr>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        One(String),
        Many(Vec<String>),
    }
    let list = match Given::deserialize(d)? {
        Given::One(s) => s.split(',').map(|x| x.trim().to_string()).collect(),
        Given::Many(v) => v,
    };
    list.iter()
        .filter(|x| !x.trim().is_empty())
        .map(|x| {
            x.trim()
                .parse()
                .map_err(|_| serde::de::Error::custom(format!("代理地址“{x}”无效")))
        })
        .collect()
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("创建密钥文件 {}", path.display()))?;
    writeln!(f, "{text}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail closure signature
    fn environment_overrides_the_file_and_flags_override_both() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "app.toml",
                "database_url = \"sqlite://file.db\"\nbind = \"0.0.0.0:9000\"\ntrusted_proxies = [\"10.1.0.5\"]",
            )?;
            jail.set_env("JIUZHU_BIND", "127.0.0.1:7000");
            let c = Config::load(Some(Path::new("app.toml")), Overrides::default()).unwrap();
            assert_eq!(c.database_url, "sqlite://file.db");
            assert_eq!(c.bind, "127.0.0.1:7000");
            assert_eq!(
                c.proxies(),
                vec!["10.1.0.5".parse::<std::net::IpAddr>().unwrap()]
            );
            jail.set_env("JIUZHU_TRUSTED_PROXIES", "10.1.0.5, 10.1.0.6");
            let c = Config::load(Some(Path::new("app.toml")), Overrides::default()).unwrap();
            assert_eq!(c.proxies().len(), 2);
            let c = Config::load(
                Some(Path::new("app.toml")),
                Overrides {
                    bind: Some("127.0.0.1:6000".into()),
                    database_url: None,
                },
            )
            .unwrap();
            assert_eq!(c.bind, "127.0.0.1:6000");
            Ok(())
        });
    }

    #[test]
    fn postgres_needs_a_configured_key() {
        let c = Config {
            database_url: "postgres://x@127.0.0.1/db".into(),
            ..Config::default()
        };
        assert!(c.cipher().is_err());
    }
}
