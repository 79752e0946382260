//! Department feeds: a file is read row by row, its good rows stored as facts with their
//! provenance and its bad rows as rejections with row, field and reason, in one transaction (an
//! import interrupted at any point leaves the database as before the file), and only once.

use std::io::Read;
use std::path::Path;

use chrono::{DateTime, Utc};
use jiuzhu_domain::{Permission, Role};
use jiuzhu_feeds::{category, Category};
use jiuzhu_store::{Interface, NewFeedFile};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

mod rows;

use rows::{read_file, reading_failed, IMPORT_CACHE_MIB};

use crate::{Actor, Feeds, Result, ServiceError, Services};

/// A feed file as imported.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedFileRecord {
    pub id: i64,
    pub category: String,
    pub department: String,
    pub file_name: String,
    /// SHA-256 of the file's bytes: the same file is imported once.
    pub sha256: String,
    pub encoding: String,
    pub accepted: i64,
    pub rejected: i64,
    pub imported_by: String,
    pub imported_at: DateTime<Utc>,
}

impl From<jiuzhu_store::FeedFileRecord> for FeedFileRecord {
    fn from(r: jiuzhu_store::FeedFileRecord) -> Self {
        FeedFileRecord {
            id: r.id,
            category: r.category,
            department: r.department,
            file_name: r.file_name,
            sha256: r.sha256,
            encoding: r.encoding,
            accepted: r.accepted,
            rejected: r.rejected,
            imported_by: r.imported_by,
            imported_at: r.imported_at,
        }
    }
}

/// A rejected row of a file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedRejection {
    pub row_no: i64,
    pub field: String,
    /// The column as the category names it, e.g. 身份证号.
    pub field_label: String,
    pub reason: String,
}

impl From<jiuzhu_store::FeedRejection> for FeedRejection {
    fn from(r: jiuzhu_store::FeedRejection) -> Self {
        FeedRejection {
            row_no: r.row_no,
            field_label: r.field.clone(),
            field: r.field,
            reason: r.reason,
        }
    }
}

/// The outcome of importing one file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub file: FeedFileRecord,
    pub category_label: String,
    /// True when the same file had been imported before: nothing was changed.
    pub already_imported: bool,
    /// Those in assistance the file names as dead: a review of each was proposed for the
    /// township to confirm.
    #[serde(default)]
    pub deaths_proposed: usize,
    /// The rejected rows (all of them).
    pub rejections: Vec<FeedRejection>,
    /// Who imported it, by name.
    pub imported_by_name: String,
}

impl ImportReport {
    /// Columns by their names and the importer by theirs, as people read the report.
    async fn named(mut self, tx: &mut jiuzhu_store::Tx) -> Result<ImportReport> {
        if let Some(c) = category(&self.file.category) {
            for r in &mut self.rejections {
                if let Some(col) = c.columns.iter().find(|col| col.key == r.field) {
                    r.field_label = col.label.to_string();
                } else if r.field.is_empty() {
                    r.field_label = "整行".into();
                }
            }
        }
        let names =
            crate::recipients::display_names(tx, vec![self.file.imported_by.as_str()]).await?;
        self.imported_by_name = names
            .get(&self.file.imported_by)
            .cloned()
            .unwrap_or_else(|| self.file.imported_by.clone());
        Ok(self)
    }
}

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

impl Feeds<'_> {
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

    /// The categories this user may send: all for the bureau, their own department's for a
    /// liaison, none for anyone else.
    pub fn importable_categories(&self, actor: &Actor) -> Vec<&'static Category> {
        jiuzhu_feeds::CATEGORIES
            .iter()
            .filter(|c| self.may_import(actor, c.code).is_ok())
            .collect()
    }

    /// The latest imported files this user may see (those of the categories they may send).
    pub async fn files(&self, actor: &Actor) -> Result<Vec<FeedFileRecord>> {
        let codes: Vec<&str> = self
            .importable_categories(actor)
            .iter()
            .map(|c| c.code)
            .collect();
        if codes.is_empty() && actor.role != Role::DepartmentLiaison {
            return Err(ServiceError::Forbidden);
        }
        let mut tx = self.store.begin_read().await?;
        let all = actor.role.allows(Permission::ImportFeeds);
        Ok(tx
            .recent_feed_files((!all).then_some(&codes[..]), 200)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// One imported file with its rejected rows.
    pub async fn file_report(&self, actor: &Actor, id: i64) -> Result<ImportReport> {
        let mut tx = self.store.begin_read().await?;
        let file = tx.feed_file(id).await?.ok_or(ServiceError::NotFound)?;
        // A file of a category the user may not send is not theirs to see.
        self.may_import(actor, &file.category)
            .map_err(|_| ServiceError::NotFound)?;
        let rejections = tx.feed_rejections(id).await?;
        let label = category(&file.category)
            .map(|c| c.label)
            .unwrap_or_default()
            .to_string();
        ImportReport {
            file: file.into(),
            category_label: label,
            already_imported: true,
            deaths_proposed: 0,
            rejections: rejections.into_iter().map(Into::into).collect(),
            imported_by_name: String::new(),
        }
        .named(&mut tx)
        .await
    }

    /// Every registered person's identity number and name within the actor's region, for
    /// generating department files that match the registry. Command line only, audited.
    pub async fn registry_identities(&self, actor: &Actor) -> Result<Vec<(String, String)>> {
        if actor.interface != Interface::Cli || !actor.role.allows(Permission::ImportFeeds) {
            return Err(ServiceError::Forbidden);
        }
        let mut tx = self.store.begin().await?;
        let rows = tx.identities(actor.region.as_str()).await?;
        tx.append_audit(&actor.audit(
            "person.identities",
            "region",
            actor.region.as_str(),
            Some(actor.region.as_str()),
            json!({"persons": rows.len()}),
        ))
        .await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Imports a feed file from disk: hashed first (a file seen before changes nothing), then
    /// read as a stream, so its size is not bounded by memory.
    pub async fn import_file(
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
        self.import(actor, category_code, &name, &sha, Box::new(open()?))
            .await
    }

    /// Imports a feed file held in memory (an upload).
    pub async fn import_bytes(
        &self,
        actor: &Actor,
        category_code: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<ImportReport> {
        let sha = format!("{:x}", Sha256::digest(bytes));
        let bytes = std::io::Cursor::new(bytes.to_vec());
        self.import(actor, category_code, file_name, &sha, Box::new(bytes))
            .await
    }

    async fn import(
        &self,
        actor: &Actor,
        category_code: &str,
        file_name: &str,
        sha: &str,
        reader: Box<dyn Read + Send>,
    ) -> Result<ImportReport> {
        let c = category(category_code).ok_or_else(|| {
            ServiceError::invalid("category", format!("未知的数据类别“{category_code}”"))
        })?;
        self.may_import(actor, c.code)?;
        let mut tx = self.store.begin().await?;
        if let Some(file) = tx.feed_file_by_hash(c.code, sha).await? {
            let rejections = tx.feed_rejections(file.id).await?;
            return ImportReport {
                file: file.into(),
                category_label: c.label.to_string(),
                already_imported: true,
                deaths_proposed: 0,
                rejections: rejections.into_iter().map(Into::into).collect(),
                imported_by_name: String::new(),
            }
            .named(&mut tx)
            .await;
        }
        // The file is read on its own thread while this one writes: reading and storing overlap,
        // and at most a few batches are in memory whatever the file's size.
        let (sender, mut batches) = tokio::sync::mpsc::channel::<Batch>(4);
        let (encoding_tx, encoding_rx) = tokio::sync::oneshot::channel();
        let reading = {
            let services = Services::clone(self);
            let today = self.today();
            std::thread::Builder::new()
                .name("feed-reader".into())
                .spawn(move || read_file(&services, c, reader, today, encoding_tx, sender))
                .map_err(|e| ServiceError::invalid("file", format!("无法启动读取线程：{e}")))?
        };
        let encoding = match encoding_rx.await {
            Ok(Ok(e)) => e,
            Ok(Err(e)) => {
                let _ = reading.join();
                return Err(ServiceError::invalid("file", e.to_string()));
            }
            Err(_) => return Err(reading_failed(reading)),
        };
        let file_id = tx
            .insert_feed_file(&NewFeedFile {
                category: c.code,
                department: c.department,
                file_name,
                sha256: sha,
                encoding: encoding.label(),
                imported_by: &actor.username,
            })
            .await?;
        let mut rejections = Vec::new();
        let mut accepted = 0i64;
        tx.page_cache_mib(Some(IMPORT_CACHE_MIB)).await?;
        let written = async {
            let mut writer = tx.fact_writer(file_id).await?;
            while let Some(batch) = batches.recv().await {
                accepted += batch.facts.len() as i64;
                writer.write(&batch.facts).await?;
                rejections.extend(batch.rejections);
            }
            writer.finish().await
        }
        .await;
        // The larger cache is this import's alone, whether or not it succeeds.
        tx.page_cache_mib(None).await?;
        written?;
        reading
            .join()
            .map_err(|_| ServiceError::invalid("file", "读取文件时出错".to_string()))?;
        let rejected = rejections.len() as i64;
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
        self.store.refresh_statistics(&["facts"]).await?;
        // A death ends a recipient's part from the month after: the township is asked at once,
        // not at the next scheduled review.
        // The file is in whatever happens here: a failure is logged, not the import's.
        let deaths_proposed = if c.code == "death" && accepted > 0 {
            match self.recipients().review_deaths(file_id).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, file = file_id, "could not propose the reviews of deaths");
                    0
                }
            }
        } else {
            0
        };
        let mut read = self.store.begin_read().await?;
        ImportReport {
            file: file.into(),
            category_label: c.label.to_string(),
            already_imported: false,
            deaths_proposed,
            rejections: rejections.into_iter().map(Into::into).collect(),
            imported_by_name: String::new(),
        }
        .named(&mut read)
        .await
    }
}

/// Facts and rejected rows read from a stretch of a file.
struct Batch {
    facts: Vec<jiuzhu_store::NewFact>,
    rejections: Vec<jiuzhu_store::FeedRejection>,
}
