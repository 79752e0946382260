//! The catalogue of departments and items; the bureau edits it, every edit audited.

use jiuzhu_domain::{Catalogue, Department, Item, Permission};
use jiuzhu_store::{ItemUpdate, Tx};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Actor, CatalogueArea, Result, ServiceError, Services};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CatalogueItemView {
    pub code: String,
    pub name: String,
    pub department: String,
    pub department_name: String,
    pub time_limit_days: u32,
    pub time_limit_source: String,
    pub materials: Vec<String>,
    pub guide: String,
    pub revision: i64,
    /// Paid every month once granted (the household is enrolled on the register).
    pub recurring: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ItemInput {
    pub name: String,
    pub time_limit_days: u32,
    pub time_limit_source: String,
    pub materials: Vec<String>,
    pub guide: String,
    /// The revision the edit was made on; a stale one is refused.
    pub revision: i64,
    /// Paid every month once granted; left out, unchanged.
    pub recurring: Option<bool>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CatalogueView {
    pub departments: Vec<DepartmentView>,
    pub items: Vec<CatalogueItemView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DepartmentView {
    pub code: String,
    pub name: String,
}

fn view(item: Item, revision: i64, departments: &[Department]) -> CatalogueItemView {
    let department_name = departments
        .iter()
        .find(|d| d.code == item.department)
        .map(|d| d.name.clone())
        .unwrap_or_default();
    CatalogueItemView {
        code: item.code,
        name: item.name,
        department: item.department,
        department_name,
        time_limit_days: item.time_limit_days,
        time_limit_source: item.time_limit_source,
        materials: item.materials,
        guide: item.guide,
        revision,
        recurring: item.recurring,
    }
}

impl Services {
    /// The catalogue in force, from memory after the first read.
    pub(crate) async fn catalogue_now(&self, tx: &mut Tx) -> Result<std::sync::Arc<Catalogue>> {
        if let Some(c) = self.catalogue_cache.read().expect("catalogue lock").clone() {
            return Ok(c);
        }
        let departments: Vec<Department> = tx.departments().await?;
        let items: Vec<Item> = tx.items().await?.into_iter().map(|(i, _)| i).collect();
        let c = std::sync::Arc::new(Catalogue {
            source: String::new(),
            departments,
            items,
        });
        *self.catalogue_cache.write().expect("catalogue lock") = Some(c.clone());
        Ok(c)
    }
}

impl CatalogueArea<'_> {
    /// The catalogue is public information (the service guide): any signed-in user reads it.
    pub async fn all(&self) -> Result<CatalogueView> {
        let mut tx = self.store.begin_read().await?;
        let departments = tx.departments().await?;
        let items = tx.items().await?;
        Ok(CatalogueView {
            items: items
                .into_iter()
                .map(|(i, r)| view(i, r, &departments))
                .collect(),
            departments: departments
                .into_iter()
                .map(|d| DepartmentView {
                    code: d.code,
                    name: d.name,
                })
                .collect(),
        })
    }

    pub async fn item(&self, code: &str) -> Result<CatalogueItemView> {
        let mut tx = self.store.begin_read().await?;
        let departments = tx.departments().await?;
        let (item, revision) = tx.item(code).await?.ok_or(ServiceError::NotFound)?;
        Ok(view(item, revision, &departments))
    }

    pub async fn update_item(
        &self,
        actor: &Actor,
        code: &str,
        input: &ItemInput,
    ) -> Result<CatalogueItemView> {
        actor.require(Permission::EditCatalogue)?;
        let name = input.name.trim();
        if name.is_empty() {
            return Err(ServiceError::invalid("name", "事项名称不能为空"));
        }
        if input.time_limit_days == 0 || input.time_limit_days > 365 {
            return Err(ServiceError::invalid(
                "time_limit_days",
                "办理时限应为1至365个工作日",
            ));
        }
        if input.time_limit_source.trim().is_empty() {
            return Err(ServiceError::invalid(
                "time_limit_source",
                "请注明办理时限的依据（文号或“示范值”）",
            ));
        }
        let materials: Vec<String> = input
            .materials
            .iter()
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .collect();
        if materials.is_empty() {
            return Err(ServiceError::invalid("materials", "材料清单不能为空"));
        }
        let mut tx = self.store.begin().await?;
        let (before, _) = tx.item(code).await?.ok_or(ServiceError::NotFound)?;
        tx.update_item(
            code,
            ItemUpdate {
                name,
                time_limit_days: input.time_limit_days,
                time_limit_source: input.time_limit_source.trim(),
                materials: &materials,
                guide: input.guide.trim(),
                recurring: input.recurring.unwrap_or(before.recurring),
            },
            input.revision,
            &actor.username,
        )
        .await?;
        tx.append_audit(&actor.audit(
            "item.update",
            "item",
            code,
            None,
            json!({
                "before": {"name": before.name, "time_limit_days": before.time_limit_days,
                           "time_limit_source": before.time_limit_source, "materials": before.materials},
                "after": {"name": name, "time_limit_days": input.time_limit_days,
                          "time_limit_source": input.time_limit_source.trim(), "materials": materials},
            }),
        ))
        .await?;
        let departments = tx.departments().await?;
        let (item, revision) = tx.item(code).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        *self.catalogue_cache.write().expect("catalogue lock") = None;
        Ok(view(item, revision, &departments))
    }
}
