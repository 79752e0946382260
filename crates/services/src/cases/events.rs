//! The plumbing every step goes through: load a case within the actor's scope, check new events
//! against its folded state, append them, refresh the item projection and audit, all in the
//! caller's transaction.

use jiuzhu_domain::case::{case_deadlines, CaseEvent, CaseState, Recorded};
use jiuzhu_domain::{Permission, Role};
use jiuzhu_store::{CaseRow, ItemProjection, Tx};
use serde_json::json;

use super::{refused, views, CaseView};
use crate::{Actor, Result, ServiceError, Services};

/// A case as read for a step: its row, its events and the state folded from them.
pub(crate) struct Loaded {
    pub row: CaseRow,
    pub events: Vec<Recorded>,
    pub state: CaseState,
}

impl Services {
    /// The case as it now stands, read after a step committed (the step itself was audited).
    pub(super) async fn fresh_view(&self, actor: &Actor, id: i64) -> Result<CaseView> {
        let mut tx = self.store.begin_read().await?;
        let loaded = self.load_case(&mut tx, actor, id).await?;
        self.case_view(&mut tx, actor, &loaded).await
    }

    /// The case if the actor may see it: by region, and for a liaison only when an item of the
    /// case went to their department.
    pub(crate) async fn load_case(&self, tx: &mut Tx, actor: &Actor, id: i64) -> Result<Loaded> {
        let row = tx
            .case_row(id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let events = tx.case_events(id).await?;
        let state = CaseState::fold(&events).map_err(|e| {
            ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(format!("案件{id}：{e}")))
        })?;
        if actor.role == Role::DepartmentLiaison {
            let mine = state
                .items
                .iter()
                .any(|i| i.department.is_some() && i.department == actor.department);
            if !mine {
                return Err(ServiceError::NotFound);
            }
        } else if !actor.role.allows(Permission::ReadPeople) {
            return Err(ServiceError::Forbidden);
        }
        Ok(Loaded { row, events, state })
    }

    /// Checks `events` against the case, records them, refreshes the projection and audits.
    pub(super) async fn record(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        loaded: &mut Loaded,
        events: Vec<CaseEvent>,
    ) -> Result<()> {
        let now = self.now();
        let catalogue = self.catalogue_now(tx).await?;
        let mut recorded = Vec::with_capacity(events.len());
        for event in events {
            let r = Recorded {
                at: now,
                actor: actor.username.clone(),
                department: if actor.role == Role::DepartmentLiaison {
                    actor.department.clone()
                } else {
                    None
                },
                event,
            };
            loaded.state.apply(&r).map_err(refused(&catalogue))?;
            recorded.push(r);
        }
        let seq = loaded.row.last_seq;
        let new_seq = tx
            .append_events(
                loaded.row.id,
                &loaded.row.region_code,
                seq,
                actor.interface.code(),
                &recorded,
            )
            .await?;
        loaded.row.last_seq = new_seq;
        self.project(tx, loaded).await?;
        let kinds: Vec<String> = recorded
            .iter()
            .map(|r| r.event.kind().label().to_string())
            .collect();
        tx.append_audit(&actor.audit(
            "case.step",
            "case",
            loaded.row.id,
            Some(&loaded.row.region_code),
            json!({"events": kinds, "seq": new_seq}),
        ))
        .await?;
        loaded.events.extend(recorded);
        Ok(())
    }

    /// Refreshes the per-item projection (stage, next due date, lateness) the work lists read.
    pub(super) async fn project(&self, tx: &mut Tx, loaded: &Loaded) -> Result<()> {
        let catalogue = self.catalogue_now(tx).await?;
        let today = self.today();
        let calendar = self.calendar().current();
        let limit = |code: &str| catalogue.item(code).map_or(30, |i| i.time_limit_days);
        let deadlines = case_deadlines(&loaded.state, limit, &calendar, today);
        let items: Vec<ItemProjection> = loaded
            .state
            .items
            .iter()
            .map(|i| {
                let mine: Vec<_> = deadlines.iter().filter(|d| d.item == i.item).collect();
                let next = mine
                    .iter()
                    .filter(|d| d.is_open())
                    .min_by_key(|d| d.due.date);
                ItemProjection {
                    item_code: i.item.clone(),
                    department_code: views::department_of(&catalogue, i),
                    stage: i.stage.code().to_string(),
                    form_no: i.form_no.clone(),
                    next_due: if i.stage.is_settled() {
                        None
                    } else {
                        next.map(|d| d.due.date)
                    },
                    next_due_kind: next.map(|d| d.kind.code().to_string()),
                    late: mine.iter().any(|d| d.late),
                }
            })
            .collect();
        let status = if loaded.state.is_closed() {
            "closed"
        } else {
            "open"
        };
        tx.save_projection(loaded.row.id, &loaded.row.region_code, status, &items)
            .await?;
        Ok(())
    }
}
