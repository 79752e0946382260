//! Policy in force: the shipped packs plus the values administrators add, the evaluation of a
//! household (the calculator) and of a case's household (kept with the case), and what-if
//! simulation over the registry.

pub mod simulate;

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use jiuzhu_domain::{
    DisabilityKind, IncomeKind, LabourCapacity, Money, Permission, RegionCode, SelfCare,
};
use jiuzhu_policy::evaluate::{evaluate_input, raw_from_json};
use jiuzhu_policy::household::{Member, Support};
use jiuzhu_policy::pack::Entry;
use jiuzhu_policy::param::{def, RawValue, Value, DEFS};
use jiuzhu_policy::{
    evaluate, Evaluation, Household, HouseholdInput, Overrides, PolicyBook, PolicyError,
};
use jiuzhu_store::{
    AuditRepo, HouseholdRepo, NewEvaluation, NewPolicyValue, PolicyRepo, ScanPerson, SimulationRow,
};
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

/// An evaluation kept with a case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoredEvaluation {
    pub id: i64,
    pub month: String,
    pub jurisdiction: String,
    pub evaluated_by: String,
    pub evaluated_at: chrono::DateTime<chrono::Utc>,
    #[schema(value_type = Object)]
    pub evaluation: serde_json::Value,
}

/// A scan row of one member in the compact form the whole-registry scan uses.
pub(crate) fn scan_person(row: &SimulationRow) -> ScanPerson {
    ScanPerson {
        birth: row.birth_date,
        hukou_local: row.hukou_local,
        disability_grade: row.disability_grade.map_or(0, |g| g.clamp(0, 4) as u8),
        disability_kind: row.disability_kind as u8,
        ill: row.ill,
        labour: row.labour as u8,
        self_care: row.self_care as u8,
        counted: row.counted,
        excluded: row.excluded,
    }
}

/// A registry member as the programs see it.
pub(crate) fn member_of(p: &ScanPerson, month: NaiveDate, label: String) -> Member {
    let level = |n: u8| match n {
        1 => (LabourCapacity::Partial, SelfCare::Partial),
        2 => (LabourCapacity::None, SelfCare::None),
        _ => (LabourCapacity::Full, SelfCare::Full),
    };
    let kind = match p.disability_kind {
        1 => DisabilityKind::Intellectual,
        2 => DisabilityKind::Mental,
        _ => DisabilityKind::Physical,
    };
    let mut incomes = Vec::new();
    if p.counted > 0 {
        incomes.push((IncomeKind::Wage, Money::from_fen(p.counted)));
    }
    if p.excluded > 0 {
        incomes.push((IncomeKind::SpecialCare, Money::from_fen(p.excluded)));
    }
    Member {
        label,
        age: jiuzhu_domain::age_between(p.birth, month),
        incomes,
        disability: (p.disability_grade > 0).then_some((p.disability_grade, kind)),
        serious_illness: p.ill,
        labour: level(p.labour).0,
        self_care: level(p.self_care).1,
        hukou_local: p.hukou_local,
        residence_months: None,
        job_found: false,
        student: false,
        medical: None,
        has_supporter: true,
        support: Support::Dispersed,
        deceased: false,
    }
}

/// A registry member from the per-household query, unnamed.
pub fn registry_member(row: &SimulationRow, month: NaiveDate) -> Member {
    member_of(&scan_person(row), month, String::new())
}

/// The registry does not record who is bound to support whom outside the household: adults
/// are taken to have a supporter (to be confirmed by investigation), and a minor has one when
/// an adult able to work lives with them.
pub fn registry_supporters(members: &mut [Member]) {
    let adult_able = members
        .iter()
        .any(|m| m.age >= 18 && m.labour != LabourCapacity::None);
    for m in members.iter_mut() {
        m.has_supporter = m.age >= 18 || adult_able;
    }
}

/// What registry-based evaluations assume, shown with them.
pub const REGISTRY_ASSUMPTIONS: &[&str] = &[
    "家庭存款、车辆等财产及刚性支出按登记库现有数据计（未登记的按无计）",
    "收入按登记库中当月已生效的各类收入合计；优抚金、五老补助不计入",
    "登记库无户外赡养人信息：成年人按有法定赡养扶养义务人计（特困须经调查核实），未成年人同户无有劳动能力的成年人时按无义务人计",
];

/// The last day of the month that starts on `month`.
pub(crate) fn month_end(month: NaiveDate) -> NaiveDate {
    let next = if month.month() == 12 {
        NaiveDate::from_ymd_opt(month.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(month.year(), month.month() + 1, 1)
    };
    next.expect("a valid month")
        .pred_opt()
        .expect("a day before")
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

    /// Evaluates a household given in full (the calculator behind `POST /api/v1/evaluate`):
    /// nothing is stored and no registry record is read.
    pub fn evaluate_household(&self, actor: &Actor, input: &HouseholdInput) -> Result<Evaluation> {
        let default = self.jurisdiction_of(&actor.region).ok();
        let mut input = input.clone();
        if input.month.is_none() {
            input.month = Some(self.today().format("%Y-%m").to_string());
        }
        Ok(evaluate_input(
            &self.book(),
            &input,
            &[],
            default.as_deref(),
        )?)
    }

    /// Evaluates a case's household as the registry holds it this month; with `save`, keeps the
    /// evaluation with the case (with every parameter value used). Reading the household is
    /// audited as a read of the case.
    pub async fn evaluate_case(
        &self,
        actor: &Actor,
        case_id: i64,
        save: bool,
    ) -> Result<Evaluation> {
        let case = self.cases().get(actor, case_id).await?;
        let month = self.today().with_day(1).expect("first of the month");
        let region = RegionCode::parse(&case.region_code)
            .map_err(|e| ServiceError::invalid("region", e.to_string()))?;
        let jurisdiction = self.jurisdiction_of(&region)?;
        let mut tx = self.store.begin_read().await?;
        let names: std::collections::HashMap<i64, String> = tx
            .get_household(case.household_id, actor.scope())
            .await?
            .map(|h| {
                h.current_members()
                    .map(|m| (m.person_id, m.name.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let mut rows = Vec::new();
        tx.scan_households(
            &case.region_code[..6],
            Some(case.household_id),
            month_end(month),
            |r| rows.push(r),
        )
        .await?;
        drop(tx);
        if rows.is_empty() {
            return Err(ServiceError::invalid("household", "该户当前没有成员"));
        }
        let mut members: Vec<Member> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let label = match names.get(&r.person_id) {
                    Some(n) => format!("成员{}（{n}）", i + 1),
                    None => format!("成员{}", i + 1),
                };
                member_of(&scan_person(r), month, label)
            })
            .collect();
        registry_supporters(&mut members);
        let mut household = Household::registered(month, members);
        // The latest verification report, when there is one, supplies what the registry lacks.
        let reports = self.verification().case_reports(actor, case_id).await?;
        let mut basis = Vec::new();
        if let Some(latest) = reports.first() {
            basis.push(format!(
                "家庭经济状况核对报告第{}号（{}，{}）",
                latest.id,
                crate::clock::local(latest.created_at),
                latest.created_by
            ));
            basis.extend(crate::verification::apply_report(
                &mut household,
                &latest.report,
            ));
        } else {
            basis.push("尚无核对报告：存款、证券、车辆、医疗支出按零计，收入按申报".to_string());
        }
        let book = self.book();
        let ps = book.params(&jurisdiction, month, &Overrides::default())?;
        let mut evaluation = evaluate(&household, &ps)?;
        evaluation.basis = basis;
        if save {
            let result = serde_json::to_string(&evaluation).expect("evaluation serialises");
            let mut tx = self.store.begin().await?;
            let id = tx
                .save_evaluation(&NewEvaluation {
                    case_id,
                    region: &case.region_code,
                    household_id: case.household_id,
                    month: &evaluation.month,
                    jurisdiction: &evaluation.jurisdiction,
                    result: &result,
                    by: &actor.username,
                })
                .await?;
            tx.append_audit(&actor.audit(
                "case.evaluate",
                "case",
                case_id,
                Some(&case.region_code),
                json!({"evaluation": id, "month": evaluation.month, "eligible": evaluation.decisions.iter().filter(|d| d.eligible).map(|d| d.program.code()).collect::<Vec<_>>()}),
            ))
            .await?;
            tx.commit().await?;
        }
        Ok(evaluation)
    }

    /// The evaluations kept with a case, newest first.
    pub async fn case_evaluations(
        &self,
        actor: &Actor,
        case_id: i64,
    ) -> Result<Vec<StoredEvaluation>> {
        // Scope and existence through the case itself (the case's own read is audited by
        // whoever shows it).
        let mut tx = self.store.begin_read().await?;
        self.load_case(&mut tx, actor, case_id).await?;
        let rows = tx.case_evaluations(case_id).await?;
        rows.into_iter()
            .map(|r| {
                Ok(StoredEvaluation {
                    id: r.id,
                    month: r.month,
                    jurisdiction: r.jurisdiction,
                    evaluated_by: r.evaluated_by,
                    evaluated_at: r.evaluated_at,
                    evaluation: serde_json::from_str(&r.result).map_err(|e| {
                        ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(e.to_string()))
                    })?,
                })
            })
            .collect()
    }
}
