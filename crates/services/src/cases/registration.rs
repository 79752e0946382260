//! The window's registration: accept items (an acceptance form number each), refuse with the
//! policy explanation, send the one-time notice of missing materials, record the needs
//! assessment, suggest items, and transfer the accepted ones, all as one step.

use jiuzhu_domain::case::{CaseEvent, MissingMaterials, NeedsAssessment};
use jiuzhu_domain::{Item, Money, Permission};
use serde::{Deserialize, Serialize};

use super::{text, CaseView};
use crate::{Actor, Cases, Result, ServiceError};

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MissingInput {
    pub item: String,
    /// Materials missing for this item, from its catalogue list.
    pub materials: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReasonedItem {
    pub item: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AssessmentInput {
    pub structure: String,
    pub health: String,
    pub labour_capacity: String,
    /// Rigid expenditure over 12 months, in fen.
    pub rigid_expenditure_fen: i64,
    pub notes: String,
}

/// The window's registration decisions, taken together.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RegistrationInput {
    /// Items the window suggests in addition; they join the request and can be decided below.
    pub suggest: Vec<ReasonedItem>,
    pub accept: Vec<String>,
    /// Not eligible at the window: the policy explanation for each.
    pub refuse: Vec<ReasonedItem>,
    /// The one-time notice of missing materials; it must cover every item left undecided.
    pub missing: Vec<MissingInput>,
    pub assessment: Option<AssessmentInput>,
    /// Transfer every accepted item to its department at once.
    pub transfer: bool,
}

impl Cases<'_> {
    /// The window registers the request: each decision an event, checked together.
    pub async fn register(
        &self,
        actor: &Actor,
        case_id: i64,
        input: &RegistrationInput,
    ) -> Result<CaseView> {
        actor.require(Permission::WritePeople)?;
        let mut tx = self.store.begin().await?;
        let mut loaded = self.load_case(&mut tx, actor, case_id).await?;
        let catalogue = self.catalogue_now(&mut tx).await?;
        let known = |field: &str, code: &str| -> Result<Item> {
            catalogue
                .item(code)
                .cloned()
                .ok_or_else(|| ServiceError::invalid(field, format!("救助事项“{code}”不存在")))
        };
        let mut events = Vec::new();
        for s in &input.suggest {
            known("suggest", &s.item)?;
            events.push(CaseEvent::ItemSuggested {
                item: s.item.clone(),
                reason: s.reason.trim().to_string(),
            });
        }
        let today = self.today();
        for code in &input.accept {
            known("accept", code)?;
            let form_no = self
                .next_form_no(&mut tx, &loaded.row.region_code, today)
                .await?;
            events.push(CaseEvent::ItemAccepted {
                item: code.clone(),
                form_no,
            });
        }
        for r in &input.refuse {
            known("refuse", &r.item)?;
            events.push(CaseEvent::ItemRefused {
                item: r.item.clone(),
                explanation: text("refuse", &r.reason, "不符合条件的政策解释")?,
            });
        }
        if !input.missing.is_empty() {
            let mut missing = Vec::new();
            for m in &input.missing {
                let item = known("missing", &m.item)?;
                let materials: Vec<String> = if m.materials.is_empty() {
                    item.materials.clone()
                } else {
                    m.materials.clone()
                };
                if let Some(bad) = materials.iter().find(|x| !item.materials.contains(x)) {
                    return Err(ServiceError::invalid(
                        "missing",
                        format!("“{bad}”不在{}的材料清单中", item.name),
                    ));
                }
                missing.push(MissingMaterials {
                    item: m.item.clone(),
                    materials,
                });
            }
            events.push(CaseEvent::MaterialsMissing { missing });
        }
        if let Some(a) = &input.assessment {
            if a.rigid_expenditure_fen < 0
                || Money::checked_from_fen(a.rigid_expenditure_fen).is_err()
            {
                return Err(ServiceError::invalid(
                    "assessment.rigid_expenditure_fen",
                    "刚性支出应为0至100亿元",
                ));
            }
            let assessment = NeedsAssessment {
                structure: a.structure.trim().into(),
                health: a.health.trim().into(),
                labour_capacity: a.labour_capacity.trim().into(),
                rigid_expenditure: Money::from_fen(a.rigid_expenditure_fen),
                notes: a.notes.trim().into(),
            };
            // The form comes back filled with the assessment on record: saved again unchanged,
            // it is not recorded twice.
            if loaded.state.assessment.as_ref() != Some(&assessment) {
                events.push(CaseEvent::NeedsAssessed { assessment });
            }
        }
        if input.transfer {
            for code in &input.accept {
                let department = known("accept", code)?.department;
                events.push(CaseEvent::Transferred {
                    item: code.clone(),
                    department,
                    late_reason: None,
                });
            }
        }
        if events.is_empty() {
            return Err(ServiceError::invalid(
                "accept",
                "请至少作出一项受理登记决定",
            ));
        }
        self.record(&mut tx, actor, &mut loaded, events).await?;
        tx.commit().await?;
        self.fresh_view(actor, case_id).await
    }
}
