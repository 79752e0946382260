//! Materials an applicant sends from a phone: photos or scans (JPEG, PNG or PDF, recognised by
//! their content, not their name; at most 5 MB), each for one of the materials its items ask
//! for. The file is kept in the upload directory under its SHA-256, referenced by a row of
//! `case_materials`; the same file twice is kept once; every upload and every staff read is
//! audited. The status page says, item by item, what is still wanted.

use std::path::PathBuf;

use chrono::Utc;
use jiuzhu_domain::case::{CaseState, ItemStage};
use jiuzhu_domain::Catalogue;
use jiuzhu_store::MaterialRecord;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::views::ItemMaterials;
use crate::openness::public_audit;
use crate::{Actor, Cases, Result, ServiceError};

/// The largest file accepted.
pub const MAX_UPLOAD: usize = 5 << 20;

/// A file as sent from the public page.
pub struct MaterialUpload<'a> {
    pub number: &'a str,
    pub last4: &'a str,
    pub material: &'a str,
    pub file_name: &'a str,
    pub bytes: &'a [u8],
}

/// An uploaded material as staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MaterialView {
    pub id: i64,
    pub material: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_at: chrono::DateTime<Utc>,
}

/// The type of a file from its first bytes: (content type, extension).
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", "jpg"))
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(("image/png", "png"))
    } else if bytes.starts_with(b"%PDF-") {
        Some(("application/pdf", "pdf"))
    } else {
        None
    }
}

/// Item by item: what the window said is missing (or, before it looked, what the catalogue
/// asks for), less what was uploaded.
pub(crate) fn still_needed(
    state: &CaseState,
    catalogue: &Catalogue,
    uploaded: &[MaterialRecord],
) -> Vec<ItemMaterials> {
    state
        .items
        .iter()
        .filter(|i| !i.stage.is_settled())
        .filter_map(|i| {
            let item = catalogue.item(&i.item)?;
            let wanted: Vec<String> = if i.stage == ItemStage::MaterialsMissing {
                i.missing_materials.clone()
            } else if matches!(i.stage, ItemStage::Requested) {
                item.materials.clone()
            } else {
                Vec::new()
            };
            let have: Vec<String> = uploaded
                .iter()
                .filter(|m| item.materials.contains(&m.material) || wanted.contains(&m.material))
                .map(|m| m.material.clone())
                .collect();
            let mut uploaded_names = have.clone();
            uploaded_names.dedup();
            Some(ItemMaterials {
                item: item.name.clone(),
                missing: wanted.into_iter().filter(|w| !have.contains(w)).collect(),
                uploaded: uploaded_names,
            })
        })
        .collect()
}

impl Cases<'_> {
    /// Keeps a material the applicant sends for their case (number and last four characters).
    pub async fn upload_material(
        &self,
        ip: &str,
        up: &MaterialUpload<'_>,
    ) -> Result<Vec<ItemMaterials>> {
        if up.bytes.is_empty() {
            return Err(ServiceError::invalid("file", "请选择要上传的文件"));
        }
        if up.bytes.len() > MAX_UPLOAD {
            return Err(ServiceError::invalid(
                "file",
                format!(
                    "文件过大（{:.1}MB）：每个文件不超过5MB",
                    up.bytes.len() as f64 / 1048576.0
                ),
            ));
        }
        let (content_type, ext) = sniff(up.bytes)
            .ok_or_else(|| ServiceError::invalid("file", "只能上传照片（JPG、PNG）或PDF扫描件"))?;
        let file_name: String = up
            .file_name
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect();
        let mut tx = self.store.begin().await?;
        let (row, _) = self.public_case(&mut tx, up.number, up.last4).await?;
        let events = tx.case_events(row.id).await?;
        let state = CaseState::fold(&events).map_err(|e| {
            ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(e.to_string()))
        })?;
        let catalogue = self.catalogue_now(&mut tx).await?;
        let asked: Vec<String> = state
            .items
            .iter()
            .filter_map(|i| catalogue.item(&i.item))
            .flat_map(|i| i.materials.clone())
            .collect();
        if !asked.iter().any(|m| m == up.material) {
            return Err(ServiceError::invalid(
                "material",
                "请选择这份文件是哪一项材料",
            ));
        }
        let sha: String = Sha256::digest(up.bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let stored_as = format!("{}/{sha}.{ext}", row.id);
        let path: PathBuf = self.upload_dir().join(&stored_as);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                ServiceError::Internal(jiuzhu_store::StoreError::Config(format!(
                    "无法保存上传的文件：{e}"
                )))
            })?;
        }
        // Written before the row: a row never points at a file that is not there.
        std::fs::write(&path, up.bytes).map_err(|e| {
            ServiceError::Internal(jiuzhu_store::StoreError::Config(format!(
                "无法保存上传的文件：{e}"
            )))
        })?;
        let fresh = tx
            .insert_material(&MaterialRecord {
                id: 0,
                case_id: row.id,
                region_code: row.region_code.clone(),
                material: up.material.to_string(),
                file_name,
                content_type: content_type.into(),
                size: up.bytes.len() as i64,
                sha256: sha.clone(),
                stored_as,
                uploaded_at: self.now(),
                ip: ip.into(),
            })
            .await?;
        tx.append_audit(&public_audit(
            ip,
            "case.upload_material",
            "case",
            row.id,
            &row.region_code,
            json!({"material": up.material, "sha256": sha, "size": up.bytes.len(), "again": !fresh}),
        ))
        .await?;
        let uploaded = tx.materials_of(row.id).await?;
        tx.commit().await?;
        Ok(still_needed(&state, &catalogue, &uploaded))
    }

    /// The materials the applicant uploaded for a case within the actor's region.
    pub async fn materials(&self, actor: &Actor, case_id: i64) -> Result<Vec<MaterialView>> {
        let case = self.get(actor, case_id).await?;
        let mut tx = self.store.begin_read().await?;
        Ok(tx
            .materials_of(case.id)
            .await?
            .into_iter()
            .map(|m| MaterialView {
                id: m.id,
                material: m.material,
                file_name: m.file_name,
                content_type: m.content_type,
                size: m.size,
                uploaded_at: m.uploaded_at,
            })
            .collect())
    }

    /// One uploaded file, read by staff of the case's region; the read is recorded.
    pub async fn material_file(
        &self,
        actor: &Actor,
        case_id: i64,
        id: i64,
    ) -> Result<(String, String, Vec<u8>)> {
        let case = self.get(actor, case_id).await?;
        let mut tx = self.store.begin().await?;
        let m = tx
            .materials_of(case.id)
            .await?
            .into_iter()
            .find(|m| m.id == id)
            .ok_or(ServiceError::NotFound)?;
        let bytes = std::fs::read(self.upload_dir().join(&m.stored_as)).map_err(|e| {
            ServiceError::Internal(jiuzhu_store::StoreError::Config(format!(
                "上传的文件无法读取：{e}"
            )))
        })?;
        tx.append_audit(&actor.audit(
            "case.read_material",
            "case",
            case.id,
            Some(&case.region_code),
            json!({"material": m.material, "sha256": m.sha256}),
        ))
        .await?;
        tx.commit().await?;
        Ok((m.content_type, m.file_name, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_told_by_their_content() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0]).unwrap().0, "image/jpeg");
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0])
                .unwrap()
                .0,
            "image/png"
        );
        assert_eq!(sniff(b"%PDF-1.7\n").unwrap().0, "application/pdf");
        assert!(sniff(b"MZ\x90\x00 not a picture").is_none());
        assert!(sniff(b"<html>").is_none());
    }
}
