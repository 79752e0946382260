//! 核对报告 for a case: the household's members as registered, their declared incomes and every
//! department fact about them, weighed for the 12 months before the application month. Each
//! report is kept; verification can be rerun.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use jiuzhu_domain::RegionCode;
use jiuzhu_feeds::verify::{verify, MemberFacts, Report, StoredFact};
use jiuzhu_store::{IncomeRecord, KeyedFact, ReviewMember};
use serde::Serialize;
use serde_json::json;

use crate::{Actor, Result, ServiceError, Verification};

/// A report kept with its case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StoredReport {
    pub id: i64,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub report: Report,
}

impl Verification<'_> {
    /// Verifies a case's household against the department facts and keeps the report. Reading
    /// the facts is audited with the report.
    pub async fn verify_case(&self, actor: &Actor, case_id: i64) -> Result<StoredReport> {
        actor.require_case_work()?;
        let case = self.cases().get(actor, case_id).await?;
        RegionCode::parse(&case.region_code)
            .map_err(|e| ServiceError::invalid("region", e.to_string()))?;
        let filed = jiuzhu_domain::case::china_date(case.filed_at);
        let month = filed.with_day(1).expect("first of the month");
        let mut tx = self.store.begin().await?;
        // 逢救必核 with the applicant's authority: an online application carries its signed
        // consent; without one nothing is read.
        if case.channel == "online"
            && !tx
                .consents(case.household_id, "verification")
                .await?
                .iter()
                .any(|c| c.case_id == Some(case_id))
        {
            return Err(ServiceError::invalid(
                "consent",
                "网上申请未签署家庭经济状况核对授权书，不能核对：请申请人到窗口签署授权书",
            ));
        }
        let household = tx
            .get_household(case.household_id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let incomes = tx.household_incomes(case.household_id).await?;
        let facts = tx.household_facts(case.household_id).await?;
        let mut current: Vec<_> = household
            .current_members()
            .map(|m| (m.person_id, m.name.clone()))
            .collect();
        current.sort_by_key(|m| m.0);
        let members = member_facts(&current, &incomes, month, |person_id| {
            facts
                .iter()
                .filter(|f| f.person_id == person_id)
                .map(|f| StoredFact {
                    category: f.category.clone(),
                    date: f.fact_date,
                    amount_fen: f.amount_fen,
                    detail: serde_json::from_str(&f.detail).unwrap_or_default(),
                    source: format!("{} 第{}行（{}）", f.file_name, f.row_no, f.department),
                })
                .collect()
        });
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

/// The members as verification weighs them, numbered in the order of their person ids as the
/// policy engine numbers them (so a report's 成员N is the evaluation's), with what each
/// declared in force in the application month.
fn member_facts(
    members: &[(i64, String)],
    incomes: &[IncomeRecord],
    month: NaiveDate,
    mut facts_of: impl FnMut(i64) -> Vec<StoredFact>,
) -> Vec<MemberFacts> {
    members
        .iter()
        .enumerate()
        .map(|(i, (person_id, name))| MemberFacts {
            label: format!("成员{}（{name}）", i + 1),
            declared: incomes
                .iter()
                .filter(|x| x.person_id == *person_id && x.since <= month)
                .map(|x| (x.kind, x.monthly))
                .collect(),
            facts: facts_of(*person_id),
        })
        .collect()
}

/// Households verified together in a batch review.
const REVIEW_CHUNK: usize = 2_000;

/// One household of a batch review.
#[derive(Debug, Clone, Serialize)]
pub struct HouseholdReview {
    pub household_id: i64,
    pub region_code: String,
    pub members: usize,
    pub report: Report,
}

/// A batch review's households and what it took.
#[derive(Debug, Clone, Serialize)]
pub struct Review {
    pub month: String,
    pub households: Vec<HouseholdReview>,
    pub facts_read: usize,
    pub loaded_ms: u128,
    pub elapsed_ms: u128,
}

impl Verification<'_> {
    /// 年度、半年度复核: verifies many households at once against the department facts, for the
    /// month given — every household in the actor's region, or those listed. Nothing is saved
    /// with a case; the review is audited as one read of the facts it weighed.
    pub async fn review_households(
        &self,
        actor: &Actor,
        only: Option<&[i64]>,
        month: NaiveDate,
    ) -> Result<Review> {
        actor.require(jiuzhu_domain::Permission::ReadPeople)?;
        let started = std::time::Instant::now();
        let month = month.with_day(1).expect("first of the month");
        let mut tx = self.store.begin_read().await?;
        // Households listed: only theirs are read, not the whole region's.
        let members = match only {
            Some(ids) => tx.review_members_of(actor.scope(), ids).await?,
            None => tx.review_members(actor.scope()).await?,
        };
        if let Some(ids) = only {
            if let Some(missing) = ids
                .iter()
                .find(|id| !members.iter().any(|m| m.household_id == **id))
            {
                return Err(ServiceError::invalid(
                    "households",
                    format!("家庭{missing}不在您的辖区内或没有现有成员"),
                ));
            }
        }
        let incomes = match only {
            Some(_) => {
                let persons: Vec<i64> = members.iter().map(|m| m.person_id).collect();
                tx.incomes_of(&persons).await?
            }
            None => tx.scope_incomes(actor.scope()).await?,
        };
        let mut incomes_by_person: HashMap<i64, Vec<IncomeRecord>> = HashMap::new();
        for i in incomes {
            incomes_by_person.entry(i.person_id).or_default().push(i);
        }
        let files: HashMap<i64, (String, String, String)> = tx
            .recent_feed_files(None, i64::MAX)
            .await?
            .into_iter()
            .map(|f| (f.id, (f.file_name, f.department, f.category)))
            .collect();
        let stored = |f: &KeyedFact| {
            let (file, department, category) = files.get(&f.file_id).cloned().unwrap_or_default();
            StoredFact {
                category,
                date: f.fact_date,
                amount_fen: f.amount_fen,
                detail: serde_json::from_str(&f.detail).unwrap_or_default(),
                source: format!("{file} 第{}行（{department}）", f.row_no),
            }
        };
        let groups: Vec<&[ReviewMember]> = members
            .chunk_by(|a, b| a.household_id == b.household_id)
            .collect();
        let key_of = |m: &ReviewMember| {
            m.id_number_index
                .as_deref()
                .and_then(jiuzhu_store::blind_key_of_index)
        };
        let (mut households, mut facts_read, mut loaded) =
            (Vec::new(), 0, std::time::Duration::ZERO);
        // A few thousand households at a time: memory stays bounded whatever the city's size.
        for chunk in groups.chunks(REVIEW_CHUNK) {
            let reading = std::time::Instant::now();
            let keys: Vec<i64> = chunk
                .iter()
                .flat_map(|g| g.iter())
                .filter_map(key_of)
                .collect();
            let facts = tx.facts_by_keys(&keys).await?;
            loaded += reading.elapsed();
            facts_read += facts.len();
            let mut by_key: HashMap<i64, Vec<KeyedFact>> = HashMap::new();
            for f in facts {
                by_key.entry(f.person_key).or_default().push(f);
            }
            for group in chunk {
                let people: Vec<(i64, String)> = group
                    .iter()
                    .map(|m| (m.person_id, m.name.clone()))
                    .collect();
                let declared: Vec<IncomeRecord> = group
                    .iter()
                    .flat_map(|m| {
                        incomes_by_person
                            .get(&m.person_id)
                            .cloned()
                            .unwrap_or_default()
                    })
                    .collect();
                let member_facts = member_facts(&people, &declared, month, |person_id| {
                    group
                        .iter()
                        .find(|m| m.person_id == person_id)
                        .and_then(key_of)
                        .and_then(|k| by_key.get(&k))
                        .map(|fs| fs.iter().map(stored).collect())
                        .unwrap_or_default()
                });
                households.push(HouseholdReview {
                    household_id: group[0].household_id,
                    region_code: group[0].region_code.clone(),
                    members: group.len(),
                    report: verify(month, &member_facts),
                });
            }
        }
        drop(tx);
        let loaded_ms = loaded.as_millis();
        self.reads
            .record(actor.audit(
                "households.review",
                "region",
                actor.scope(),
                Some(actor.scope()),
                json!({"month": month.format("%Y-%m").to_string(), "households": households.len(), "facts": facts_read}),
            ))
            .await?;
        Ok(Review {
            month: month.format("%Y-%m").to_string(),
            households,
            facts_read,
            loaded_ms,
            elapsed_ms: started.elapsed().as_millis(),
        })
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
