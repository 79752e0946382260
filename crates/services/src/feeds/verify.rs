//! 核对报告 for a case: the household's members as registered, their declared incomes and every
//! department fact about them, weighed for the 12 months before the application month. Each
//! report is kept; verification can be rerun.

use chrono::Datelike;
use jiuzhu_domain::RegionCode;
use jiuzhu_feeds::verify::{verify, MemberFacts, Report, StoredFact};
use jiuzhu_store::{AuditRepo, FeedRepo, HouseholdRepo, IncomeRepo};
use serde::Serialize;
use serde_json::json;

use crate::{Actor, Result, ServiceError, Services};

/// A report kept with its case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoredReport {
    pub id: i64,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub report: Report,
}

impl Services {
    /// Verifies a case's household against the department facts and keeps the report. Reading
    /// the facts is audited with the report.
    pub async fn verify_case(&self, actor: &Actor, case_id: i64) -> Result<StoredReport> {
        let case = self.get_case(actor, case_id).await?;
        RegionCode::parse(&case.region_code)
            .map_err(|e| ServiceError::invalid("region", e.to_string()))?;
        let filed = jiuzhu_domain::case::china_date(case.filed_at);
        let month = filed.with_day(1).expect("first of the month");
        let mut tx = self.store.begin().await?;
        let household = tx
            .get_household(case.household_id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let incomes = tx.household_incomes(case.household_id).await?;
        let facts = tx.household_facts(case.household_id).await?;
        // Members numbered in the order of their person ids, as the policy engine numbers them,
        // so a report's lines name the same 成员N the evaluation does.
        let mut current: Vec<_> = household.current_members().collect();
        current.sort_by_key(|m| m.person_id);
        let members: Vec<MemberFacts> = current
            .into_iter()
            .enumerate()
            .map(|(i, m)| MemberFacts {
                label: format!("成员{}（{}）", i + 1, m.name),
                declared: incomes
                    .iter()
                    .filter(|x| x.person_id == m.person_id && x.since <= month)
                    .map(|x| (x.kind, x.monthly))
                    .collect(),
                facts: facts
                    .iter()
                    .filter(|f| f.person_id == m.person_id)
                    .map(|f| StoredFact {
                        category: f.category.clone(),
                        date: f.fact_date,
                        amount_fen: f.amount_fen,
                        detail: serde_json::from_str(&f.detail).unwrap_or_default(),
                        source: format!("{} 第{}行（{}）", f.file_name, f.row_no, f.department),
                    })
                    .collect(),
            })
            .collect();
        let report = verify(month, &members);
        let text = serde_json::to_string(&report).expect("report serialises");
        let id = tx
            .save_report(
                case_id,
                &case.region_code,
                case.household_id,
                &text,
                &actor.username,
            )
            .await?;
        tx.append_audit(&actor.audit(
            "case.verify",
            "case",
            case_id,
            Some(&case.region_code),
            json!({"report": id, "facts": report.facts_weighed, "findings": report.findings.len()}),
        ))
        .await?;
        tx.commit().await?;
        let stored = self.case_reports(actor, case_id).await?;
        stored
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(ServiceError::NotFound)
    }

    /// The verification reports of a case, newest first.
    pub async fn case_reports(&self, actor: &Actor, case_id: i64) -> Result<Vec<StoredReport>> {
        let mut tx = self.store.begin_read().await?;
        let loaded = self.load_case(&mut tx, actor, case_id).await?;
        let rows = tx.case_reports(case_id).await?;
        drop(tx);
        // The reports carry what departments know about the family: every read is audited.
        self.reads
            .record(actor.audit(
                "case.verifications.read",
                "case",
                case_id,
                Some(&loaded.row.region_code),
                json!({"reports": rows.iter().map(|r| r.id).collect::<Vec<_>>()}),
            ))
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(StoredReport {
                    id: r.id,
                    created_by: r.created_by,
                    created_at: r.created_at,
                    report: serde_json::from_str(&r.report).map_err(|e| {
                        ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(e.to_string()))
                    })?,
                })
            })
            .collect()
    }
}

/// What a verification report changes in a household as the registry holds it: the verified
/// deposits, securities, vehicles, businesses and own medical costs (rigid expenditure), and
/// each member's wage or pension where the departments found more than was declared. Returns
/// the lines saying so, for the evaluation's basis.
pub fn apply_report(
    household: &mut jiuzhu_policy::household::Household,
    report: &Report,
) -> Vec<String> {
    use jiuzhu_domain::{IncomeKind, Money};
    let mut said = Vec::new();
    household.deposits = Money::from_fen(report.deposits_fen);
    household.securities = Money::from_fen(report.securities_fen);
    household.vehicles = u32::try_from(report.vehicles).unwrap_or(u32::MAX);
    household.business = report.businesses > 0;
    if let Some(medical) = household.rigid_12m.iter_mut().find(|(k, _)| *k == "医疗") {
        medical.1 = Money::from_fen(report.medical_own_costs_fen);
    }
    for line in &report.incomes {
        if line.verified_fen <= line.declared_fen {
            continue;
        }
        let Some(kind) = IncomeKind::ALL
            .iter()
            .copied()
            .find(|k| k.label() == line.kind)
        else {
            continue;
        };
        let Some(member) = household
            .members
            .iter_mut()
            .find(|m| m.label == line.member)
        else {
            continue;
        };
        member.incomes.retain(|(k, _)| *k != kind);
        member
            .incomes
            .push((kind, Money::from_fen(line.verified_fen)));
        said.push(format!(
            "{}{}按核对结果{}元/月计（申报{}元/月）",
            line.member,
            line.kind,
            Money::from_fen(line.verified_fen),
            Money::from_fen(line.declared_fen)
        ));
    }
    said
}
