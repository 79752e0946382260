//! 一户一档: everything the platform knows of a household on one page — members and their
//! history, declared incomes, applications with their steps, evaluations, verification reports,
//! enrolments with their changes and reviews, one-off awards, the plan and the visits.

use chrono::{DateTime, Utc};
use jiuzhu_domain::enrolment::month_of;
use jiuzhu_domain::Permission;
use serde::Serialize;
use serde_json::json;

use super::{EnrolmentView, PlanView, ReviewView, VisitView};
use crate::cases::CaseView;
use crate::households::HouseholdView;
use crate::policy::StoredEvaluation;
use crate::verification::StoredReport;
use crate::{Actor, Recipients, Result};

/// A one-off award.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AwardView {
    pub id: i64,
    pub case_id: Option<i64>,
    pub item_name: String,
    pub amount_fen: i64,
    /// The payments in fen: one, or the stages of a staged grant.
    pub stages_fen: Vec<i64>,
    pub note: String,
    pub granted_at: DateTime<Utc>,
    /// Who it is paid to, once registered.
    pub payee: Option<crate::payments::PayeeView>,
}

/// An application with what was weighed for it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseFile {
    #[schema(value_type = Object)]
    pub case: CaseView,
    pub evaluations: Vec<StoredEvaluation>,
    #[schema(value_type = Vec<Object>)]
    pub reports: Vec<StoredReport>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnrolmentFile {
    #[serde(flatten)]
    pub enrolment: EnrolmentView,
    pub reviews: Vec<ReviewView>,
}

/// The household's file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HouseholdFile {
    #[schema(value_type = Object)]
    pub household: HouseholdView,
    pub cases: Vec<CaseFile>,
    pub enrolments: Vec<EnrolmentFile>,
    pub awards: Vec<AwardView>,
    /// Every version, oldest first.
    pub plans: Vec<PlanView>,
    /// Newest first.
    pub visits: Vec<VisitView>,
    /// Every payment on an approved roll, newest first: paid, failed, re-issued.
    pub payments: Vec<crate::payments::LineView>,
    /// Money to be recovered, and how much was.
    pub receivables: Vec<crate::payments::ReceivableView>,
}

impl Recipients<'_> {
    /// The household's file. Reading it is recorded once for the household, and once for each
    /// case's evaluations and reports it shows.
    pub async fn household_file(&self, actor: &Actor, household_id: i64) -> Result<HouseholdFile> {
        actor.require(Permission::ReadPeople)?;
        let household = self.households().get(actor, household_id).await?;
        let mut cases = Vec::new();
        for row in self.cases().of_household(actor, household_id).await? {
            cases.push(CaseFile {
                case: self.cases().get(actor, row.id).await?,
                evaluations: self.policy().case_evaluations(actor, row.id).await?,
                reports: self.verification().case_reports(actor, row.id).await?,
            });
        }
        let mut tx = self.store.begin_read().await?;
        let month = month_of(self.today());
        let mut enrolments = Vec::new();
        for e in tx.enrolments_of_household(household_id).await? {
            let id = e.id;
            enrolments.push((self.enrolment_view(&mut tx, e, month).await?, id));
        }
        let catalogue = self.catalogue_now(&mut tx).await?;
        let mut awards = Vec::new();
        for a in tx.awards_of_household(household_id).await? {
            let payee = tx
                .payee_of_award(a.id)
                .await?
                .as_ref()
                .map(crate::payments::PayeeView::from);
            awards.push(AwardView {
                id: a.id,
                case_id: a.case_id,
                item_name: catalogue
                    .item(&a.item)
                    .map_or_else(|| a.item.clone(), |i| i.name.clone()),
                amount_fen: a.amount_fen,
                stages_fen: serde_json::from_str(&a.stages).unwrap_or_default(),
                note: a.note,
                granted_at: a.granted_at,
                payee,
            });
        }
        let payments = tx
            .lines_of_household(household_id)
            .await?
            .iter()
            .map(crate::payments::LineView::from)
            .collect();
        let receivables = tx
            .receivables_of_household(household_id)
            .await?
            .iter()
            .map(crate::payments::ReceivableView::from)
            .collect();
        drop(tx);
        let mut with_reviews = Vec::new();
        for (view, id) in enrolments {
            with_reviews.push(EnrolmentFile {
                reviews: self.reviews_of(actor, id).await?,
                enrolment: view,
            });
        }
        let file = HouseholdFile {
            plans: self.plans(actor, household_id).await?,
            visits: self.visits(actor, household_id).await?,
            household,
            cases,
            enrolments: with_reviews,
            awards,
            payments,
            receivables,
        };
        self.reads
            .record(actor.audit(
                "household.file",
                "household",
                household_id,
                Some(&file.household.household.region_code),
                json!({"cases": file.cases.len(), "enrolments": file.enrolments.len()}),
            ))
            .await?;
        Ok(file)
    }
}
