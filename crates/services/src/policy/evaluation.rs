//! Evaluating a household given as JSON, or a case's household as registered (with the latest
//! verification report), every program with its trace; evaluations are kept with the case.

use chrono::{Datelike, NaiveDate};
use jiuzhu_domain::{DisabilityKind, IncomeKind, LabourCapacity, Money, RegionCode, SelfCare};
use jiuzhu_policy::evaluate::evaluate_input;
use jiuzhu_policy::household::{Member, Support};
use jiuzhu_policy::{evaluate, Evaluation, Household, HouseholdInput, Overrides};
use jiuzhu_store::{NewEvaluation, ScanPerson, SimulationRow};
use serde::Serialize;
use serde_json::json;

use crate::{Actor, Policy, Result, ServiceError};

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

impl Policy<'_> {
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

    /// Evaluates a household as the registry holds it in `month`, with a verification report's
    /// findings applied when one is given (its description heads the basis).
    pub(crate) async fn evaluate_registered(
        &self,
        household_id: i64,
        region_code: &str,
        month: NaiveDate,
        report: Option<(String, &jiuzhu_feeds::verify::Report)>,
        no_supporter_established: bool,
    ) -> Result<Evaluation> {
        let region = RegionCode::parse(region_code)
            .map_err(|e| ServiceError::invalid("region", e.to_string()))?;
        let jurisdiction = self.jurisdiction_of(&region)?;
        let mut tx = self.store.begin_read().await?;
        let names: std::collections::HashMap<i64, String> = tx
            .get_household(household_id, "")
            .await?
            .map(|h| {
                h.current_members()
                    .map(|m| (m.person_id, m.name.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let mut rows = Vec::new();
        tx.scan_households(
            &region_code[..6],
            Some(household_id),
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
        if no_supporter_established {
            for m in &mut members {
                m.has_supporter = false;
            }
        }
        let mut household = Household::registered(month, members);
        let mut basis = Vec::new();
        match report {
            Some((described, report)) => {
                basis.push(described);
                basis.extend(crate::verification::apply_report(&mut household, report));
            }
            None => {
                basis.push("尚无核对报告：存款、证券、车辆、医疗支出按零计，收入按申报".to_string())
            }
        }
        let book = self.book();
        let ps = book.params(&jurisdiction, month, &Overrides::default())?;
        let mut evaluation = evaluate(&household, &ps)?;
        evaluation.basis = basis;
        Ok(evaluation)
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
        if save {
            actor.require_case_work()?;
        }
        let case = self.cases().get(actor, case_id).await?;
        let month = self.today().with_day(1).expect("first of the month");
        // The latest verification report, when there is one, supplies what the registry lacks.
        let reports = self.verification().case_reports(actor, case_id).await?;
        let latest = reports.first().map(|r| {
            (
                format!(
                    "家庭经济状况核对报告第{}号（{}，{}）",
                    r.id,
                    crate::clock::local(r.created_at),
                    r.created_by
                ),
                &r.report,
            )
        });
        let evaluation = self
            .evaluate_registered(case.household_id, &case.region_code, month, latest, false)
            .await?;
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
        let mut tx = self.store.begin_read().await?;
        let loaded = self.load_case(&mut tx, actor, case_id).await?;
        let rows = tx.case_evaluations(case_id).await?;
        drop(tx);
        // Evaluations hold the household's incomes and assets: every read is audited.
        self.reads
            .record(actor.audit(
                "case.evaluations.read",
                "case",
                case_id,
                Some(&loaded.row.region_code),
                json!({"evaluations": rows.iter().map(|r| r.id).collect::<Vec<_>>()}),
            ))
            .await?;
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
