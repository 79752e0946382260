//! Social organisations, charities and volunteer teams that the window refers cases to.

use jiuzhu_domain::Permission;
use jiuzhu_store::Organisation;
use serde_json::json;

use crate::cases::text;
use crate::{Actor, Organisations, Result, ServiceError};

impl Organisations<'_> {
    /// The organisations within the actor's region.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<Organisation>> {
        let mut tx = self.store.begin_read().await?;
        Ok(tx.organisations(actor.scope()).await?)
    }

    /// Adds an organisation the window can refer cases to.
    pub async fn add(&self, actor: &Actor, o: &Organisation) -> Result<Organisation> {
        actor.require(Permission::ManageUsers)?;
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
        let mut saved = Organisation {
            id: 0,
            name,
            active: true,
            ..o.clone()
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
        Ok(saved)
    }
}
