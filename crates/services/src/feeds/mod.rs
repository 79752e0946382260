//! Department feeds: a file is read row by row, its good rows stored as facts with their
//! provenance and its bad rows as rejections with row, field and reason, in one transaction (an
//! import interrupted at any point leaves the database as before the file), and only once.

use std::io::Read;
use std::path::Path;

use jiuzhu_domain::{Permission, Role};
use jiuzhu_feeds::{category, parse_excel, Category, Fact, FeedReader, Rejection, Value};
use jiuzhu_store::{
    crypto_contexts, AuditRepo, FeedFileRecord, FeedRejection, FeedRepo, NewFact, NewFeedFile,
};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

pub mod verify;

use crate::{Actor, Result, ServiceError, Services};

/// The outcome of importing one file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub file: FeedFileRecord,
    pub category_label: String,
    /// True when the same file had been imported before: nothing was changed.
    pub already_imported: bool,
    /// The rejected rows (all of them).
    pub rejections: Vec<FeedRejection>,
}

/// Facts are written in groups of this many rows.
const BATCH: usize = 2000;

/// The catalogue department whose liaison may send a category; other categories come through
/// the bureau.
fn sending_department(category: &str) -> Option<&'static str> {
    Some(match category {
        "social_insurance" | "pension" | "unemployment" | "wage" => "hrss",
        "medical_claim" => "medical_insurance",
        "disability" => "disabled_federation",
        "school" => "education",
        "housing_subsidy" => "housing",
        "cremation" | "marriage" | "assistance_paid" => "civil_affairs",
        _ => return None,
    })
}

/// Account numbers are kept to their last four characters.
fn mask_account(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let keep = chars.len().min(4);
    format!(
        "****{}",
        chars[chars.len() - keep..].iter().collect::<String>()
    )
}

fn fact_of(services: &Services, c: &Category, f: jiuzhu_feeds::Fact) -> NewFact {
    let mut detail = serde_json::Map::new();
    detail.insert("name".into(), json!(f.name));
    let (mut date, mut amount) = (None, None);
    for col in c.columns {
        let Some(v) = f.values.get(col.key) else {
            continue;
        };
        match v {
            Value::Date(d) | Value::Month(d) if date.is_none() => date = Some(*d),
            Value::Money(fen) if amount.is_none() => amount = Some(*fen),
            _ => {}
        }
        let shown = match (col.key, v) {
            ("account", Value::Text(t)) => json!(mask_account(t)),
            _ => json!(v),
        };
        detail.insert(col.key.to_string(), shown);
    }
    NewFact {
        row_no: f.row as i64,
        person_index: services
            .store
            .cipher()
            .blind_index(crypto_contexts::ID_NUMBER, f.id_number.expose()),
        fact_date: date,
        amount_fen: amount,
        detail: serde_json::Value::Object(detail).to_string(),
    }
}

impl Services {
    fn may_import(&self, actor: &Actor, category: &str) -> Result<()> {
        if actor.read_only {
            return Err(ServiceError::Forbidden);
        }
        let allowed = actor.role.allows(Permission::ImportFeeds)
            || (actor.role == Role::DepartmentLiaison
                && sending_department(category)
                    .is_some_and(|d| actor.department.as_deref() == Some(d)));
        if allowed {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }

    /// Imports a feed file from disk: hashed first (a file seen before changes nothing), then
    /// read as a stream, so its size is not bounded by memory.
    pub async fn import_feed_file(
        &self,
        actor: &Actor,
        category_code: &str,
        path: &Path,
    ) -> Result<ImportReport> {
        let open = || {
            std::fs::File::open(path).map_err(|e| {
                ServiceError::invalid("file", format!("无法读取{}：{e}", path.display()))
            })
        };
        let mut hasher = Sha256::new();
        let mut f = open()?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f
                .read(&mut buf)
                .map_err(|e| ServiceError::invalid("file", e.to_string()))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let sha = format!("{:x}", hasher.finalize());
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.import_feed(
            actor,
            category_code,
            &name,
            &sha,
            std::io::BufReader::new(open()?),
        )
        .await
    }

    /// Imports a feed file held in memory (an upload).
    pub async fn import_feed_bytes(
        &self,
        actor: &Actor,
        category_code: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<ImportReport> {
        let sha = format!("{:x}", Sha256::digest(bytes));
        self.import_feed(actor, category_code, file_name, &sha, bytes)
            .await
    }

    async fn import_feed(
        &self,
        actor: &Actor,
        category_code: &str,
        file_name: &str,
        sha: &str,
        reader: impl Read + Send,
    ) -> Result<ImportReport> {
        let c = category(category_code).ok_or_else(|| {
            ServiceError::invalid("category", format!("未知的数据类别“{category_code}”"))
        })?;
        self.may_import(actor, c.code)?;
        let mut tx = self.store.begin().await?;
        if let Some(file) = tx.feed_file_by_hash(c.code, sha).await? {
            let rejections = tx.feed_rejections(file.id).await?;
            return Ok(ImportReport {
                file,
                category_label: c.label.to_string(),
                already_imported: true,
                rejections,
            });
        }
        let refused = |e: jiuzhu_feeds::FeedError| ServiceError::invalid("file", e.to_string());
        let mut head = [0u8; 8];
        let mut reader = std::io::BufReader::new(reader);
        let sniffed = std::io::BufRead::fill_buf(&mut reader)
            .map_err(|e| ServiceError::invalid("file", e.to_string()))?;
        head[..sniffed.len().min(8)].copy_from_slice(&sniffed[..sniffed.len().min(8)]);
        // A zip (.xlsx) or an OLE compound file (.xls) is a workbook; anything else is text.
        let excel = head.starts_with(b"PK\x03\x04") || head == *b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
        let (encoding, rows): (
            _,
            Box<dyn Iterator<Item = std::result::Result<Fact, Rejection>> + Send>,
        ) = if excel {
            let mut bytes = Vec::new();
            reader
                .read_to_end(&mut bytes)
                .map_err(|e| ServiceError::invalid("file", e.to_string()))?;
            let parsed = parse_excel(c, &bytes, self.today()).map_err(refused)?;
            let rows = parsed
                .facts
                .into_iter()
                .map(Ok)
                .chain(parsed.rejected.into_iter().map(Err));
            (parsed.encoding, Box::new(rows))
        } else {
            let rows = FeedReader::new(c, reader, self.today()).map_err(refused)?;
            (rows.encoding, Box::new(rows))
        };
        let encoding = encoding.label();
        let file_id = tx
            .insert_feed_file(&NewFeedFile {
                category: c.code,
                department: c.department,
                file_name,
                sha256: sha,
                encoding,
                imported_by: &actor.username,
            })
            .await?;
        let (mut facts, mut rejections) = (Vec::with_capacity(BATCH), Vec::new());
        let (mut accepted, mut rejected) = (0i64, 0i64);
        for row in rows {
            match row {
                Ok(f) => {
                    facts.push(fact_of(self, c, f));
                    accepted += 1;
                    if facts.len() == BATCH {
                        tx.insert_facts(file_id, c.code, &facts).await?;
                        facts.clear();
                    }
                }
                Err(r) => {
                    rejected += 1;
                    rejections.push(FeedRejection {
                        row_no: r.row as i64,
                        field: r.field,
                        reason: r.reason,
                    });
                }
            }
        }
        tx.insert_facts(file_id, c.code, &facts).await?;
        tx.insert_rejections(file_id, &rejections).await?;
        tx.finish_feed_file(file_id, accepted, rejected).await?;
        tx.append_audit(&actor.audit(
            "feed.import",
            "feed_file",
            file_id,
            None,
            json!({"category": c.code, "file": file_name, "sha256": sha, "accepted": accepted, "rejected": rejected}),
        ))
        .await?;
        let file = tx.feed_file(file_id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        Ok(ImportReport {
            file,
            category_label: c.label.to_string(),
            already_imported: false,
            rejections,
        })
    }
}
