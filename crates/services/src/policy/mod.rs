//! Policy in force: the shipped packs plus the values administrators add, the evaluation of a
//! household (the calculator) and of a case's household (kept with the case), and what-if
//! simulation over the registry.

mod evaluation;
pub mod simulate;

pub(crate) use evaluation::{member_of, month_end};
pub use evaluation::{
    registry_member, registry_supporters, StoredEvaluation, REGISTRY_ASSUMPTIONS,
};

use std::sync::Arc;

use chrono::NaiveDate;
use jiuzhu_domain::{Permission, RegionCode};
use jiuzhu_policy::evaluate::raw_from_json;
use jiuzhu_policy::pack::Entry;
use jiuzhu_policy::param::{def, RawValue, Value, DEFS};
use jiuzhu_policy::{Overrides, PolicyBook, PolicyError};
use jiuzhu_store::NewPolicyValue;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{Actor, Policy, Result, ServiceError, Services};

impl From<PolicyError> for ServiceError {
    fn from(e: PolicyError) -> Self {
        let message = match &e {
            PolicyError::Input { message, .. } => message.clone(),
            other => other.to_string(),
        };
        ServiceError::Invalid {
            field: e.field(),
            message,
        }
    }
}

/// One value of a parameter in a pack's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ParameterValueView {
    pub from: NaiveDate,
    pub text: String,
    pub source: String,
    /// The pack the value belongs to (the jurisdiction's own, or one it inherits from).
    pub jurisdiction: String,
    pub demo: bool,
    pub in_force: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ParameterView {
    pub name: String,
    pub label: String,
    /// The value in force today, if any.
    pub current: Option<String>,
    pub current_demo: bool,
    /// Every value from the jurisdiction and its parents, newest first.
    pub history: Vec<ParameterValueView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PackView {
    pub id: String,
    pub name: String,
    pub region: Option<String>,
    pub document: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ParametersView {
    pub jurisdiction: PackView,
    pub packs: Vec<PackView>,
    pub programs: Vec<String>,
    pub parameters: Vec<ParameterView>,
}

/// A new effective-dated value for a parameter of a pack.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewValueInput {
    pub jurisdiction: String,
    pub name: String,
    pub from: NaiveDate,
    /// As packs write it: `1389`, `1.3`, `75%`; scales as `[[80, 100], [90, 200]]`.
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
    /// Document number (文号) and clause.
    pub source: String,
}

impl Services {
    /// Reads the values added on the platform into the shipped packs.
    pub(crate) async fn load_policy(&self) -> Result<()> {
        let mut book = PolicyBook::shipped();
        let mut tx = self.store.begin_read().await?;
        for v in tx.policy_values().await? {
            let corrupt = |m: String| ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(m));
            let d = def(&v.name).map_err(|e| corrupt(e.to_string()))?;
            let json: serde_json::Value =
                serde_json::from_str(&v.value).map_err(|e| corrupt(e.to_string()))?;
            let raw = raw_from_json(&json).ok_or_else(|| corrupt(format!("参数值{}", v.value)))?;
            let value = Value::parse(d.kind, &raw).map_err(corrupt)?;
            let pack = book
                .pack_mut(&v.pack_id)
                .ok_or_else(|| corrupt(format!("政策包{}", v.pack_id)))?;
            pack.add(Entry {
                name: d.name,
                from: v.from_date,
                value,
                source: v.source,
                demo: false,
            })?;
        }
        *self.policy.write().expect("policy lock") = Arc::new(book);
        Ok(())
    }
}

impl Policy<'_> {
    /// The parameters in force now, shipped and added.
    pub fn book(&self) -> Arc<PolicyBook> {
        self.policy.read().expect("policy lock").clone()
    }

    /// The pack governing a region, for users who do not name one.
    pub fn jurisdiction_of(&self, region: &RegionCode) -> Result<String> {
        Ok(self.book().jurisdiction(region.as_str())?.id.clone())
    }

    /// Every parameter of a jurisdiction (the actor's own by default) with its history and
    /// sources. Policy is public: every signed-in user may read it.
    pub fn parameters(&self, actor: &Actor, jurisdiction: Option<&str>) -> Result<ParametersView> {
        let book = self.book();
        let id = match jurisdiction {
            Some(j) => j.to_string(),
            None => self.jurisdiction_of(&actor.region)?,
        };
        let today = self.today();
        let ps = book.params(&id, today, &Overrides::default())?;
        let pack_view = |p: &jiuzhu_policy::Pack| PackView {
            id: p.id.clone(),
            name: p.name.clone(),
            region: p.region.as_ref().map(|r| r.to_string()),
            document: p.document.clone(),
        };
        let chain = book.chain(&id)?;
        let mut parameters = Vec::new();
        for d in DEFS {
            let mut history = Vec::new();
            for pack in &chain {
                for e in pack.history(d.name).iter().rev() {
                    history.push(ParameterValueView {
                        from: e.from,
                        text: e.value.display(d),
                        source: e.source.clone(),
                        jurisdiction: pack.name.clone(),
                        demo: e.demo,
                        in_force: false,
                    });
                }
            }
            if history.is_empty() {
                continue;
            }
            let current = ps.get(d.name).ok();
            if let Some(c) = &current {
                if let Some(h) = history
                    .iter_mut()
                    .find(|h| h.from == c.from && h.jurisdiction == c.jurisdiction)
                {
                    h.in_force = true;
                }
            }
            parameters.push(ParameterView {
                name: d.name.to_string(),
                label: d.label.to_string(),
                current_demo: current.as_ref().is_some_and(|c| c.demo),
                current: current.map(|c| c.text),
                history,
            });
        }
        Ok(ParametersView {
            jurisdiction: pack_view(chain[0]),
            packs: book.packs().iter().map(pack_view).collect(),
            programs: ps
                .programs()
                .iter()
                .map(|p| p.label().to_string())
                .collect(),
            parameters,
        })
    }

    /// Adds an effective-dated value to a pack (bureau administrators). Values are never
    /// edited; decisions already taken keep the values they stored.
    pub async fn add_value(&self, actor: &Actor, input: &NewValueInput) -> Result<ParametersView> {
        actor.require(Permission::EditPolicy)?;
        let book = self.book();
        let pack = book.pack(&input.jurisdiction).ok_or_else(|| {
            ServiceError::invalid(
                "jurisdiction",
                format!("未知的政策包“{}”", input.jurisdiction),
            )
        })?;
        let d = def(input.name.trim()).map_err(|e| ServiceError::invalid("name", e.to_string()))?;
        let raw = raw_from_json(&input.value).ok_or_else(|| {
            ServiceError::invalid("value", "参数值应为数字、文字或 [[起点, 数值], ...]")
        })?;
        let value = Value::parse(d.kind, &raw).map_err(|m| ServiceError::invalid("value", m))?;
        let source = input.source.trim();
        if source.chars().count() < 4 {
            return Err(ServiceError::invalid(
                "source",
                "请写明依据的文件文号及条款",
            ));
        }
        if pack.history(d.name).iter().any(|e| e.from == input.from) {
            return Err(ServiceError::Conflict {
                field: Some("from".into()),
                message: format!(
                    "“{}”自{}起已有数值；新的数值请另选生效日期",
                    d.label, input.from
                ),
            });
        }
        let stored = match &raw {
            RawValue::Text(t) => json!(t),
            RawValue::Pairs(p) => json!(p.iter().map(|(k, v)| [k, v]).collect::<Vec<_>>()),
        };
        let mut tx = self.store.begin().await?;
        let id = tx
            .add_policy_value(&NewPolicyValue {
                pack_id: &pack.id,
                name: d.name,
                from_date: input.from,
                value: &stored.to_string(),
                source,
                added_by: &actor.username,
            })
            .await?;
        tx.append_audit(&actor.audit(
            "policy.add_value",
            "policy_value",
            id,
            pack.region.as_ref().map(|r| r.as_str()),
            json!({"jurisdiction": pack.id, "name": d.name, "from": input.from, "value": value.display(d), "source": source}),
        ))
        .await?;
        tx.commit().await?;
        self.load_policy().await?;
        self.parameters(actor, Some(&input.jurisdiction))
    }
}
