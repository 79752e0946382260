//! Reading cases: one case with its history (audited), the work lists, a household's
//! applications, and the applicant's own status page.

use jiuzhu_domain::case::{china_date, CaseState, ItemStage};
use jiuzhu_domain::{Permission, Role};
use jiuzhu_store::{CaseItemFilter, CaseRow};
use serde_json::json;

use super::{views, CaseItemRow, CaseToClose, CaseView, PublicStatus};
use crate::{Actor, Cases, Result, ServiceError};

/// Which projection rows a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// A liaison's inbox: items with the department, not yet reported.
    Inbox,
    /// The window's queue: items waiting for the window.
    Window,
    /// Open items due today or overdue.
    Due,
}

impl Cases<'_> {
    /// A case with its items, time limits and history. Audited as a read of the applicant's file.
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<CaseView> {
        // Read on the readers' pool; the audit row goes through the group-commit sink, and the
        // case is returned only once that row is committed.
        let mut tx = self.store.begin_read().await?;
        let loaded = self.load_case(&mut tx, actor, id).await?;
        let view = self.case_view(&mut tx, actor, &loaded).await?;
        drop(tx);
        self.reads
            .record(actor.audit("case.read", "case", id, Some(&view.region_code), json!({})))
            .await?;
        Ok(view)
    }

    /// A work list from the item projection, within the actor's region.
    pub async fn queue(&self, actor: &Actor, queue: Queue) -> Result<Vec<CaseItemRow>> {
        let codes = |s: &[ItemStage]| s.iter().map(|x| x.code().to_string()).collect::<Vec<_>>();
        let mut filter = CaseItemFilter {
            scope: actor.scope().to_string(),
            limit: 500,
            ..Default::default()
        };
        match queue {
            Queue::Inbox => {
                if actor.role != Role::DepartmentLiaison {
                    return Err(ServiceError::Forbidden);
                }
                filter.department = actor.department.clone();
                filter.stages = codes(ItemStage::WITH_DEPARTMENT);
            }
            Queue::Window => {
                actor.require(Permission::ReadPeople)?;
                filter.stages = codes(ItemStage::AT_WINDOW);
            }
            Queue::Due => {
                if actor.role == Role::DepartmentLiaison {
                    filter.department = actor.department.clone();
                } else {
                    actor.require(Permission::ReadPeople)?;
                }
                filter.due_by = Some(self.today());
                let mut open = vec![ItemStage::Accepted];
                open.extend_from_slice(ItemStage::WITH_DEPARTMENT);
                filter.stages = codes(&open);
            }
        }
        let mut tx = self.store.begin_read().await?;
        Ok(tx
            .case_items(&filter)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Open cases whose every item has its outcome: the window tells the applicant the combined
    /// result and closes them (告知结果并结案), within 1 working day of the last outcome.
    pub async fn ready_to_close(&self, actor: &Actor) -> Result<Vec<CaseToClose>> {
        actor.require(Permission::ReadPeople)?;
        let settled: Vec<&str> = [
            ItemStage::FedBack,
            ItemStage::RefusedAtWindow,
            ItemStage::DepartmentRefused,
            ItemStage::Withdrawn,
        ]
        .iter()
        .map(|s| s.code())
        .collect();
        debug_assert!(settled
            .iter()
            .all(|c| ItemStage::from_code(c).is_some_and(|s| s.is_settled())));
        let mut tx = self.store.begin_read().await?;
        let rows = tx
            .cases_ready_to_close(actor.scope(), &settled, 500)
            .await?;
        let calendar = self.calendar().current();
        Ok(rows
            .into_iter()
            .map(|c| {
                let settled_on = china_date(c.settled_at);
                CaseToClose {
                    due: calendar.add_working_days(settled_on, 1).date,
                    settled_on,
                    case_id: c.case_id,
                    applicant_name: c.applicant_name,
                    township_name: c.township_name.unwrap_or_default(),
                    form_no: c.form_no,
                }
            })
            .collect())
    }

    /// The case of an acceptance form number (受理单号) within the actor's region.
    pub async fn by_form_no(&self, actor: &Actor, form_no: &str) -> Result<Option<i64>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        let Some(id) = tx.case_id_by_form_no(form_no.trim()).await? else {
            return Ok(None);
        };
        Ok(tx.case_row(id, actor.scope()).await?.map(|c| c.id))
    }

    /// The applications of a household the actor may see, newest first.
    pub async fn of_household(&self, actor: &Actor, household_id: i64) -> Result<Vec<CaseRow>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        let rows = tx.cases_of_household(household_id).await?;
        Ok(rows
            .into_iter()
            .filter(|c| c.region_code.starts_with(actor.scope()))
            .collect())
    }

    /// The applicant's status page: the acceptance form number and the last four characters of
    /// the identity number, nothing else; only that case, in plain words.
    pub async fn public_status(&self, form_no: &str, last4: &str) -> Result<PublicStatus> {
        let mut tx = self.store.begin().await?;
        let (row, person) = self.public_case(&mut tx, form_no, last4).await?;
        let case_id = row.id;
        let events = tx.case_events(case_id).await?;
        let state = CaseState::fold(&events).map_err(|e| {
            ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(e.to_string()))
        })?;
        let catalogue = self.catalogue_now(&mut tx).await?;
        let township = match row.region_code.get(..9) {
            Some(code) => tx
                .get_region(code)
                .await?
                .map(|r| r.name)
                .unwrap_or_default(),
            None => String::new(),
        };
        tx.append_audit(&jiuzhu_store::AuditEntry {
            actor_id: None,
            actor_name: "applicant".into(),
            actor_role: "applicant".into(),
            interface: jiuzhu_store::Interface::Web,
            ip: "-".into(),
            action: "case.public_status".into(),
            entity: "case".into(),
            entity_id: case_id.to_string(),
            region_code: Some(row.region_code.clone()),
            detail: json!({"form_no": form_no.trim()}).to_string(),
        })
        .await?;
        let rules = refusal_rules(&tx.case_evaluations(case_id).await?);
        let uploaded = tx.materials_of(case_id).await?;
        tx.commit().await?;
        let mut status = views::public_status(
            &state,
            &person.person.name,
            &catalogue,
            china_date(row.filed_at),
            &township,
        );
        // A refusal says which rule of the evaluation it rests on.
        for (item, public) in state.items.iter().zip(status.items.iter_mut()) {
            if matches!(
                item.stage,
                jiuzhu_domain::case::ItemStage::DepartmentRefused
                    | jiuzhu_domain::case::ItemStage::RefusedAtWindow
            ) {
                if let Some(rule) = rules.get(program_of_item(&item.item)) {
                    public.progress = format!("{}。{rule}", public.progress.trim_end_matches('。'));
                }
            }
        }
        status.materials = super::materials::still_needed(&state, &catalogue, &uploaded);
        Ok(status)
    }

    /// The case an applicant names by its acceptance form number or online application number,
    /// with the last four characters of the applicant's identity number; not found otherwise.
    pub(crate) async fn public_case(
        &self,
        tx: &mut jiuzhu_store::Tx,
        form_no: &str,
        last4: &str,
    ) -> Result<(jiuzhu_store::CaseRow, jiuzhu_store::PersonRecord)> {
        let case_id = match super::case_of_application_no(form_no) {
            Some(id) => id,
            None => tx
                .case_id_by_form_no(form_no.trim())
                .await?
                .ok_or(ServiceError::NotFound)?,
        };
        let row = tx
            .case_row(case_id, "")
            .await?
            .filter(|r| super::case_of_application_no(form_no).is_none() || r.channel == "online")
            .ok_or(ServiceError::NotFound)?;
        let person = tx
            .get_person(row.applicant_person_id, "")
            .await?
            .ok_or(ServiceError::NotFound)?;
        if !person
            .person
            .id_number
            .last4()
            .eq_ignore_ascii_case(last4.trim())
        {
            return Err(ServiceError::NotFound);
        }
        Ok((row, person))
    }
}

/// The program of the policy engine that decides a catalogue item, where they differ in name.
fn program_of_item(item: &str) -> &str {
    match item {
        "temporary_assistance" => "temporary",
        other => other,
    }
}

/// For each program the latest evaluation of a case found not eligible, the first condition it
/// failed, with its clause, in words for the applicant.
fn refusal_rules(
    evaluations: &[jiuzhu_store::EvaluationRecord],
) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    let Some(latest) = evaluations.iter().max_by_key(|e| e.evaluated_at) else {
        return out;
    };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&latest.result) else {
        return out;
    };
    for d in value["decisions"].as_array().into_iter().flatten() {
        if d["eligible"].as_bool() != Some(false) {
            continue;
        }
        let Some(program) = d["program"].as_str() else {
            continue;
        };
        let failed = d["trace"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["kind"] == "test" && s["passed"].as_bool() == Some(false));
        let text = match (failed, d["reason"].as_str()) {
            (Some(s), _) => format!(
                "不符合的条件：{}（依据：{}）",
                s["label"].as_str().unwrap_or_default(),
                s["clause"].as_str().unwrap_or_default()
            ),
            (None, Some(reason)) => format!("不符合的原因：{reason}"),
            (None, None) => continue,
        };
        out.insert(program.to_string(), text);
    }
    out
}
