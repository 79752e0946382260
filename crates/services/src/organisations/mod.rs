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
    /// social_work, charity, volunteer
    pub kind: String,
    pub region_code: String,
    pub services: String,
    pub contact: String,
    pub active: bool,
}

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

/// A new organisation.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct OrganisationInput {
    pub name: String,
    /// social_work, charity, volunteer
    pub kind: String,
    pub region_code: String,
    pub services: String,
    pub contact: String,
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

    /// Adds an organisation the window can refer cases to.
    pub async fn add(&self, actor: &Actor, o: &OrganisationInput) -> Result<Organisation> {
        actor.require(Permission::EditCatalogue)?;
        let name = text("name", &o.name, "机构名称")?;
        if !matches!(o.kind.as_str(), "social_work" | "charity" | "volunteer") {
            return Err(ServiceError::invalid(
                "kind",
                "机构类别应为 social_work、charity 或 volunteer",
            ));
        }
        let region = jiuzhu_domain::RegionCode::parse(&o.region_code)
            .map_err(|e| ServiceError::invalid("region_code", e.to_string()))?;
        if !actor.covers(&region) {
            return Err(ServiceError::invalid("region_code", "不在您的管辖范围内"));
        }
        let mut tx = self.store.begin().await?;
        let mut saved = jiuzhu_store::Organisation {
            id: 0,
            name,
            kind: o.kind.clone(),
            region_code: region.to_string(),
            services: o.services.trim().to_string(),
            contact: o.contact.trim().to_string(),
            active: true,
        };
        saved.id = tx.insert_organisation(&saved).await?;
        tx.append_audit(&actor.audit(
            "organisation.create",
            "organisation",
            saved.id,
            Some(region.as_str()),
            json!({"name": saved.name}),
        ))
        .await?;
        tx.commit().await?;
        Ok(saved.into())
    }
}
