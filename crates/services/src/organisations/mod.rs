//! Social organisations, charities and volunteer teams that the window refers cases to.

use jiuzhu_domain::Permission;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cases::text;
use crate::{Actor, Organisations, Result, ServiceError};

/// An organisation the window refers cases to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    /// social_work, charity, volunteer, mutual_aid
    pub kind: String,
    pub region_code: String,
    pub services: String,
    pub contact: String,
    pub active: bool,
}

/// Kinds of organisation, as people call them.
pub const KINDS: &[(&str, &str)] = &[
    ("social_work", "社会工作服务机构"),
    ("charity", "慈善组织"),
    ("volunteer", "志愿服务队伍"),
    ("mutual_aid", "邻里互助队"),
];

impl From<jiuzhu_store::Organisation> for Organisation {
    fn from(r: jiuzhu_store::Organisation) -> Self {
        Organisation {
            id: r.id,
            name: r.name,
            kind: r.kind,
            region_code: r.region_code,
            services: r.services,
            contact: r.contact,
            active: r.active,
        }
    }
}

/// A new organisation, or an organisation's details corrected.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct OrganisationInput {
    pub name: String,
    /// social_work, charity, volunteer, mutual_aid
    pub kind: String,
    pub region_code: String,
    pub services: String,
    pub contact: String,
    /// False withdraws it from referrals; history keeps its name.
    pub active: bool,
}

impl Default for OrganisationInput {
    fn default() -> Self {
        OrganisationInput {
            name: String::new(),
            kind: String::new(),
            region_code: String::new(),
            services: String::new(),
            contact: String::new(),
            active: true,
        }
    }
}

impl OrganisationInput {
    fn checked(&self, actor: &Actor, id: i64) -> Result<jiuzhu_store::Organisation> {
        let name = text("name", &self.name, "机构名称")?;
        if !KINDS.iter().any(|(k, _)| *k == self.kind) {
            return Err(ServiceError::invalid("kind", "请选择机构类别"));
        }
        let region = jiuzhu_domain::RegionCode::parse(&self.region_code)
            .map_err(|e| ServiceError::invalid("region_code", e.to_string()))?;
        if !actor.covers(&region) {
            return Err(ServiceError::invalid("region_code", "不在您的管辖范围内"));
        }
        if self.contact.trim().is_empty() {
            return Err(ServiceError::invalid(
                "contact",
                "请填写联系人和电话，转介时窗口要联系机构",
            ));
        }
        Ok(jiuzhu_store::Organisation {
            id,
            name,
            kind: self.kind.clone(),
            region_code: region.to_string(),
            services: self.services.trim().to_string(),
            contact: self.contact.trim().to_string(),
            active: self.active,
        })
    }
}

impl Organisations<'_> {
    /// The organisations within the actor's region.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<Organisation>> {
        let mut tx = self.store.begin_read().await?;
        Ok(tx
            .organisations(actor.scope())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Every organisation registered in the actor's region, withdrawn ones too.
    pub async fn all(&self, actor: &Actor) -> Result<Vec<Organisation>> {
        actor.require(Permission::EditCatalogue)?;
        let mut tx = self.store.begin_read().await?;
        Ok(tx
            .all_organisations(actor.scope())
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Adds an organisation the window can refer cases to.
    pub async fn add(&self, actor: &Actor, o: &OrganisationInput) -> Result<Organisation> {
        actor.require(Permission::EditCatalogue)?;
        let mut saved = o.checked(actor, 0)?;
        saved.active = true;
        let mut tx = self.store.begin().await?;
        if tx.get_region(&saved.region_code).await?.is_none() {
            return Err(ServiceError::invalid("region_code", "所在区划不存在"));
        }
        saved.id = tx.insert_organisation(&saved).await?;
        tx.append_audit(&actor.audit(
            "organisation.create",
            "organisation",
            saved.id,
            Some(&saved.region_code),
            json!({"name": saved.name, "kind": saved.kind, "contact": saved.contact}),
        ))
        .await?;
        tx.commit().await?;
        Ok(saved.into())
    }

    /// Corrects an organisation's details, or withdraws it from referrals (or restores it).
    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        o: &OrganisationInput,
    ) -> Result<Organisation> {
        actor.require(Permission::EditCatalogue)?;
        let saved = o.checked(actor, id)?;
        let mut tx = self.store.begin().await?;
        let before = tx
            .organisation(id)
            .await?
            .filter(|b| b.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        if tx.get_region(&saved.region_code).await?.is_none() {
            return Err(ServiceError::invalid("region_code", "所在区划不存在"));
        }
        tx.update_organisation(&saved).await?;
        tx.append_audit(&actor.audit(
            "organisation.update",
            "organisation",
            id,
            Some(&saved.region_code),
            json!({"before": {"name": before.name, "contact": before.contact, "services": before.services, "active": before.active},
                   "after": {"name": saved.name, "contact": saved.contact, "services": saved.services, "active": saved.active}}),
        ))
        .await?;
        tx.commit().await?;
        Ok(saved.into())
    }
}
