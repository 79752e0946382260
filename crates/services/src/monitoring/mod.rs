//! Dynamic monitoring and early warning (低收入人口动态监测预警): the monthly run over the
//! department facts, the warnings it raises with their working-day deadlines, and their handling
//! by the township: assigned, checked on site, settled with one outcome.

pub mod population;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, NaiveDate, Utc};
use jiuzhu_domain::monitoring::{
    weigh, window_start, Fact, Grade, Outcome, Rule, Subject, Thresholds, WarningStatus,
};
use jiuzhu_domain::{Money, Permission};
use jiuzhu_store::{blind_key_of_index, MonitorRun, StoreError, WarningFilter, WarningRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::cases::ApplicationInput;
use crate::people::{Page, PER_PAGE};
use crate::{Actor, Monitoring, Result, ServiceError};

/// The categories the rules read.
const CATEGORIES: &[&str] = &[
    "death",
    "cremation",
    "medical_claim",
    "unemployment",
    "disability",
    "school",
    "wage",
    "tax",
    "vehicle",
    "real_estate",
    "business",
    "marriage",
    "hukou_change",
];

/// What a run did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunReport {
    pub month: String,
    pub attempt: i64,
    /// The month had been run and no rerun was asked for: nothing changed.
    pub already_run: bool,
    pub facts_read: i64,
    pub files: Vec<FileRead>,
    /// Warnings the run found, new or already raised by this month's earlier attempt.
    pub warnings: i64,
    /// Of them, raised now.
    pub raised: i64,
    pub red: i64,
    pub orange: i64,
    pub yellow: i64,
    pub discoveries: i64,
    pub digest: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FileRead {
    pub file_id: i64,
    pub file_name: String,
    pub facts: i64,
}

/// A warning as people read it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WarningView {
    pub id: i64,
    pub month: String,
    pub region_code: String,
    pub region_name: String,
    pub household_id: Option<i64>,
    pub person_id: i64,
    pub person_name: String,
    pub rule: String,
    pub rule_label: String,
    pub grade: String,
    pub grade_label: String,
    pub discovery: bool,
    pub fact_date: Option<NaiveDate>,
    pub figure_fen: Option<i64>,
    pub basis: String,
    pub advice: String,
    pub due: NaiveDate,
    pub overdue: bool,
    pub status: String,
    pub status_label: String,
    pub assigned_to: Option<String>,
    pub visit_date: Option<NaiveDate>,
    pub visit_findings: Option<String>,
    pub outcome: Option<String>,
    pub outcome_label: Option<String>,
    pub outcome_note: Option<String>,
    pub case_id: Option<i64>,
    pub closed_on: Option<NaiveDate>,
    pub closed_late: bool,
    pub revision: i64,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct WarningQuery {
    /// new, assigned, checked, closed; `open` for all but closed.
    pub status: Option<String>,
    /// red, orange, yellow
    pub grade: Option<String>,
    /// A township or village within the user's region.
    pub region: Option<String>,
    /// Only open warnings past their due date.
    pub overdue: Option<bool>,
    pub page: Option<i64>,
}

/// Handling a warning.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum WarningStep {
    /// 分派: the township sends it to whoever checks on site.
    Assign {
        #[serde(default)]
        to: String,
        revision: i64,
    },
    /// 核查: the on-site visit and what it found.
    Check {
        date: Option<NaiveDate>,
        #[serde(default)]
        findings: String,
        revision: i64,
    },
    /// 办结: one outcome, with what was done. `proactive_case` files the application.
    Close {
        #[serde(default)]
        outcome: String,
        #[serde(default)]
        note: String,
        revision: i64,
    },
}

/// Warnings of one township: counts and how many were handled on time.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TownshipWarnings {
    pub code: String,
    pub name: String,
    pub open: i64,
    pub red_open: i64,
    pub overdue: i64,
    pub closed: i64,
    pub closed_on_time: i64,
    /// Per cent of closed warnings closed by their due date; none closed yet gives none.
    pub on_time_percent: Option<i64>,
}

/// The warning if it lies within the actor's region; "not found" otherwise.
async fn in_scope(read: &mut jiuzhu_store::Tx, actor: &Actor, id: i64) -> Result<WarningRecord> {
    read.warning(id)
        .await?
        .filter(|w| w.region_code.starts_with(actor.scope()))
        .ok_or(ServiceError::NotFound)
}

/// A registered person as the run holds them: a few words each for a city of millions.
#[derive(Debug, Clone, Copy)]
struct Known {
    person_id: i64,
    household_id: Option<i64>,
    /// Index into the run's list of places.
    region: u32,
}

fn status_of(s: &str) -> WarningStatus {
    WarningStatus::from_code(s).unwrap_or(WarningStatus::New)
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

impl Monitoring<'_> {
    /// The thresholds and deadlines in force for a region in a month, with their sources.
    fn thresholds(
        &self,
        region: &str,
        month: NaiveDate,
    ) -> Result<(Thresholds, BTreeMap<Grade, u32>, serde_json::Value)> {
        let r = self.recipients();
        let names = [
            "monitoring.months",
            "monitoring.population_months",
            "monitoring.medical_own",
            "monitoring.medical_income_percent",
            "monitoring.red_days",
            "monitoring.orange_days",
            "monitoring.yellow_days",
        ];
        let mut used = serde_json::Map::new();
        for n in names {
            let p = r.param(region, n, month)?;
            used.insert(
                n.to_string(),
                json!({"value": p.text, "from": p.from, "source": p.source}),
            );
        }
        let count = |n: &str| -> Result<i64> { r.count_param(region, n, month) };
        let t = Thresholds {
            months: count("monitoring.months")?.clamp(1, 60) as u32,
            medical_own: r.money_param(region, "monitoring.medical_own", month)?,
            medical_income_percent: count("monitoring.medical_income_percent")?,
        };
        let days = BTreeMap::from([
            (Grade::Red, count("monitoring.red_days")?.max(1) as u32),
            (
                Grade::Orange,
                count("monitoring.orange_days")?.max(1) as u32,
            ),
            (
                Grade::Yellow,
                count("monitoring.yellow_days")?.max(1) as u32,
            ),
        ]);
        Ok((t, days, serde_json::Value::Object(used)))
    }

    /// Runs the monitoring for `month` over the whole registry. A month already run says so
    /// and changes nothing unless `rerun`; a rerun replaces the month's untouched warnings and,
    /// on the same data, finds the same ones (the same digest).
    pub async fn run(&self, actor: &Actor, month: NaiveDate, rerun: bool) -> Result<RunReport> {
        actor.require(Permission::ImportFeeds)?;
        let month = month_start(month);
        let county = actor.region.as_str().to_string();
        let (t, days, parameters) = self.thresholds(&county, month)?;
        let mut read = self.store.begin_read().await?;
        let earlier = read.monitor_runs_of(month).await?;
        if let Some(last) = earlier.last().filter(|_| !rerun) {
            return Ok(RunReport {
                month: month.format("%Y-%m").to_string(),
                attempt: last.attempt,
                already_run: true,
                facts_read: last.facts_read,
                files: serde_json::from_str(&last.files).unwrap_or_default(),
                warnings: last.warnings,
                raised: 0,
                red: 0,
                orange: 0,
                yellow: 0,
                discoveries: 0,
                digest: last.digest.clone(),
            });
        }
        let until = month
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(month);
        let from = window_start(month, t.months);
        let started = std::time::Instant::now();
        // People compactly: the key facts carry, the household, the place (interned).
        let mut people: Vec<Known> = Vec::new();
        let mut by_key: HashMap<i64, usize> = HashMap::new();
        let mut places: Vec<String> = Vec::new();
        let mut place_index: HashMap<String, u32> = HashMap::new();
        read.monitor_people(|p| {
            let region = match place_index.get(&p.region_code) {
                Some(i) => *i,
                None => {
                    let i = places.len() as u32;
                    places.push(p.region_code.clone());
                    place_index.insert(p.region_code, i);
                    i
                }
            };
            if let Some(k) = p.id_number_index.as_deref().and_then(blind_key_of_index) {
                by_key.insert(k, people.len());
            }
            people.push(Known {
                person_id: p.person_id,
                household_id: p.household_id,
                region,
            });
        })
        .await?;
        drop(place_index);
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            people = people.len(),
            "monitor: people"
        );
        // The population as its page and export list it, as of the month run.
        let monitored: HashSet<i64> = self
            .groups_in(&county, month)
            .await?
            .into_iter()
            .map(|(household, ..)| household)
            .collect();
        let this_month: HashSet<i64> = earlier.iter().map(|r| r.id).collect();
        // A rerun replaces the month's untouched warnings: they do not count as raised.
        let keys: Vec<_> = read
            .warning_keys()
            .await?
            .into_iter()
            .filter(|k| !(rerun && k.untouched && this_month.contains(&k.run_id)))
            .collect();
        let open_rules: HashSet<(i64, String)> = keys
            .iter()
            .filter(|k| k.open)
            .map(|k| (k.person_id, k.rule.clone()))
            .collect();
        let known: HashMap<(i64, String), i64> = keys
            .into_iter()
            .map(|k| ((k.person_id, k.fingerprint), k.run_id))
            .collect();
        let mut per_person: BTreeMap<i64, Vec<Fact>> = BTreeMap::new();
        let mut earners: HashMap<i64, HashSet<i64>> = HashMap::new();
        // Facts stream past: only those about registered people are kept.
        let read_files = read
            .monitor_facts(
                CATEGORIES,
                from,
                until,
                |key| by_key.contains_key(&key),
                |file, f| {
                    let Some(p) = by_key.get(&f.person_key).map(|i| &people[*i]) else {
                        return;
                    };
                    if matches!(file.category.as_str(), "wage" | "tax") {
                        if let Some(h) = p.household_id {
                            earners.entry(h).or_default().insert(p.person_id);
                        }
                    }
                    let detail: serde_json::Value =
                        serde_json::from_str(&f.detail).unwrap_or_default();
                    let text = match file.category.as_str() {
                        "medical_claim" => detail["diagnosis"].as_str().unwrap_or("").to_string(),
                        "disability" => detail["grade"].to_string(),
                        "school" => detail["school"].as_str().unwrap_or("").to_string(),
                        "business" => detail["entity"].as_str().unwrap_or("").to_string(),
                        "marriage" | "hukou_change" => {
                            detail["change"].as_str().unwrap_or("").to_string()
                        }
                        _ => String::new(),
                    };
                    // Medical claims are weighed by what the patient paid.
                    let amount = match file.category.as_str() {
                        "medical_claim" => detail["own"].as_i64().map(Money::from_fen),
                        _ => f.amount_fen.map(Money::from_fen),
                    };
                    per_person.entry(p.person_id).or_default().push(Fact {
                        date: f.fact_date,
                        amount,
                        text,
                        source: format!("{} 第{}行", file.file_name, f.row_no),
                        category: file.category.clone(),
                    });
                },
            )
            .await?;
        let facts_read: i64 = read_files.iter().map(|(_, n)| n).sum();
        let files: Vec<FileRead> = read_files
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(f, n)| FileRead {
                file_id: f.id,
                file_name: f.file_name,
                facts: n,
            })
            .collect();
        drop(read);
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            facts = facts_read,
            "monitor: facts"
        );
        // Declared incomes of the households whose members have medical claims.
        let mut incomes: HashMap<i64, Money> = HashMap::new();
        drop(by_key);
        let person_of: HashMap<i64, Known> = people.iter().map(|p| (p.person_id, *p)).collect();
        drop(people);
        let households_with_claims: Vec<i64> = per_person
            .iter()
            .filter(|(_, fs)| fs.iter().any(|f| f.category == "medical_claim"))
            .filter_map(|(pid, _)| person_of.get(pid).and_then(|p| p.household_id))
            .collect();
        // Declared incomes in one pass (a query per household cost seconds in a large city):
        // per household where a member has medical claims, per person where earnings were found.
        let earning: HashSet<i64> = per_person
            .iter()
            .filter(|(_, fs)| {
                fs.iter()
                    .any(|f| matches!(f.category.as_str(), "wage" | "tax"))
            })
            .map(|(p, _)| *p)
            .collect();
        let mut declared: HashMap<i64, Money> = HashMap::new();
        if !households_with_claims.is_empty() || !earning.is_empty() {
            let wanted: HashSet<i64> = households_with_claims.into_iter().collect();
            let mut read = self.store.begin_read().await?;
            read.all_incomes(|person, kind, fen| {
                if !jiuzhu_domain::IncomeKind::from_code(kind).is_some_and(|k| k.counts()) {
                    return;
                }
                if earning.contains(&person) {
                    *declared.entry(person).or_default() += Money::from_fen(fen);
                }
                let Some(h) = person_of.get(&person).and_then(|p| p.household_id) else {
                    return;
                };
                if wanted.contains(&h) {
                    *incomes.entry(h).or_default() += Money::from_fen(fen);
                }
            })
            .await?;
        }
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "monitor: incomes"
        );
        let calendar = self.calendar().current();
        let today = self.today();
        let mut candidates = Vec::new();
        for (person_id, facts) in &per_person {
            let p = person_of[person_id];
            let subject = Subject {
                monitored: p.household_id.is_some_and(|h| monitored.contains(&h)),
                household_monthly_income: p
                    .household_id
                    .and_then(|h| incomes.get(&h).copied())
                    .unwrap_or_default(),
                declared_monthly: declared.get(person_id).copied().unwrap_or_default(),
                only_earner: p.household_id.is_some_and(|h| {
                    earners
                        .get(&h)
                        .is_some_and(|e| e.len() == 1 && e.contains(person_id))
                }),
            };
            for raised in weigh(facts, &subject, month, &t) {
                candidates.push((p, raised));
            }
        }
        candidates.sort_by(|a, b| {
            (a.0.person_id, a.1.fingerprint()).cmp(&(b.0.person_id, b.1.fingerprint()))
        });
        let mut digest = Sha256::new();
        let mut found = 0i64;
        let mut fresh = Vec::new();
        for (p, r) in &candidates {
            let key = (p.person_id, r.fingerprint());
            match known.get(&key) {
                // Raised by an earlier month: not this month's.
                Some(run) if !this_month.contains(run) => continue,
                Some(_) => {}
                None => {
                    // Open under another figure: it stays one warning until settled.
                    if open_rules.contains(&(p.person_id, r.rule.code().to_string())) {
                        continue;
                    }
                    fresh.push((*p, r.clone()));
                }
            }
            found += 1;
            digest.update(format!("{}|{}\n", p.person_id, r.fingerprint()));
        }
        let digest = format!("{:x}", digest.finalize());
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            found,
            "monitor: weighed"
        );
        let grade_count = |g: Grade| fresh.iter().filter(|(_, r)| r.grade() == g).count() as i64;
        let (red, orange, yellow) = (
            grade_count(Grade::Red),
            grade_count(Grade::Orange),
            grade_count(Grade::Yellow),
        );
        let discoveries = fresh.iter().filter(|(_, r)| r.discovery).count() as i64;
        let mut tx = self.store.begin().await?;
        if rerun {
            let runs: Vec<i64> = earlier.iter().map(|r| r.id).collect();
            tx.delete_untouched_warnings(&runs).await?;
        }
        let attempt = earlier.last().map_or(1, |r| r.attempt + 1);
        let run_id = tx
            .insert_monitor_run(&MonitorRun {
                id: 0,
                month,
                attempt,
                started_by: actor.username.clone(),
                started_at: Utc::now(),
                files: serde_json::to_string(&files).unwrap_or_default(),
                parameters: parameters.to_string(),
                facts_read,
                warnings: found,
                digest: digest.clone(),
            })
            .await
            .map_err(|e| match e {
                StoreError::Duplicate(_) => ServiceError::Conflict {
                    field: Some("month".into()),
                    message: format!("{}的监测正由另一处运行", month.format("%Y年%-m月")),
                },
                other => other.into(),
            })?;
        let mut raised = 0;
        for (p, r) in &fresh {
            let due = calendar.add_working_days(today, days[&r.grade()]).date;
            let inserted = tx
                .insert_warning(&WarningRecord {
                    id: 0,
                    run_id,
                    month,
                    region_code: places[p.region as usize].clone(),
                    household_id: p.household_id,
                    person_id: p.person_id,
                    rule: r.rule.code().to_string(),
                    grade: r.grade().code().to_string(),
                    discovery: r.discovery,
                    fingerprint: r.fingerprint(),
                    fact_date: r.fact_date,
                    figure_fen: r.figure.map(|m| m.fen()),
                    basis: r.basis.clone(),
                    due,
                    status: "new".into(),
                    assigned_to: None,
                    visit_date: None,
                    visit_findings: None,
                    outcome: None,
                    outcome_note: None,
                    case_id: None,
                    closed_on: None,
                    closed_by: None,
                    created_at: Utc::now(),
                    revision: 0,
                })
                .await;
            match inserted {
                Ok(_) => raised += 1,
                // Kept from the earlier attempt (touched since): still this month's warning.
                Err(StoreError::Duplicate(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        tx.append_audit(&actor.audit(
            "monitoring.run",
            "monitor_run",
            run_id,
            Some(actor.scope()),
            json!({"month": month.format("%Y-%m").to_string(), "facts": facts_read, "warnings": found, "raised": raised, "digest": digest}),
        ))
        .await?;
        tx.commit().await?;
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            raised,
            "monitor: written"
        );
        Ok(RunReport {
            month: month.format("%Y-%m").to_string(),
            attempt,
            already_run: false,
            facts_read,
            files,
            warnings: found,
            raised,
            red,
            orange,
            yellow,
            discoveries,
            digest,
        })
    }

    /// The server's own run at the start of a month: once, whichever server gets there first.
    pub async fn run_due(&self, actor: &Actor) -> Result<Option<RunReport>> {
        let month = month_start(self.today());
        let mut read = self.store.begin_read().await?;
        if !read.monitor_runs_of(month).await?.is_empty() {
            return Ok(None);
        }
        drop(read);
        match self.run(actor, month, false).await {
            Ok(r) => Ok(Some(r)),
            Err(ServiceError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn recent_runs(&self, actor: &Actor) -> Result<Vec<MonitorRun>> {
        actor.require(Permission::ReadPeople)?;
        let mut read = self.store.begin_read().await?;
        Ok(read.recent_monitor_runs(12).await?)
    }

    /// A warning as people read it: the person and the place by name.
    async fn view(&self, read: &mut jiuzhu_store::Tx, w: WarningRecord) -> Result<WarningView> {
        let person_name = read
            .person_brief(w.person_id)
            .await?
            .map(|(n, _)| n)
            .unwrap_or_default();
        let region_name = self.region_name(read, &w.region_code).await?;
        Ok(to_view(w, person_name, region_name, self.today()))
    }

    pub async fn warnings(&self, actor: &Actor, q: &WarningQuery) -> Result<Page<WarningView>> {
        actor.require(Permission::ReadPeople)?;
        let scope = crate::Services::scope_within(actor, q.region.as_deref())?;
        let page = q.page.unwrap_or(1).max(1);
        let (status, open) = match q.status.as_deref().filter(|s| !s.is_empty()) {
            Some("open") => (None, true),
            Some(s) => (
                Some(
                    WarningStatus::from_code(s)
                        .ok_or_else(|| ServiceError::invalid("status", "处理状态无效"))?
                        .code()
                        .to_string(),
                ),
                false,
            ),
            None => (None, false),
        };
        let grade = match q.grade.as_deref().filter(|s| !s.is_empty()) {
            Some(g) => Some(
                Grade::from_code(g)
                    .ok_or_else(|| ServiceError::invalid("grade", "预警等级无效"))?
                    .code()
                    .to_string(),
            ),
            None => None,
        };
        let today = self.today();
        let overdue_on = if q.overdue == Some(true) || open {
            // "Open" is every warning not closed, due any time before the far future.
            Some(if q.overdue == Some(true) {
                today
            } else {
                NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(today)
            })
        } else {
            None
        };
        let mut read = self.store.begin_read().await?;
        let (rows, total) = read
            .warnings(&WarningFilter {
                scope,
                status,
                grade,
                overdue_on,
                limit: PER_PAGE,
                offset: (page - 1) * PER_PAGE,
            })
            .await?;
        let mut items = Vec::with_capacity(rows.len());
        for w in rows {
            items.push(self.view(&mut read, w).await?);
        }
        drop(read);
        self.reads
            .record(actor.audit(
                "warning.search",
                "warning",
                "-",
                Some(actor.scope()),
                json!({"page": page, "shown": items.iter().map(|w| w.id).collect::<Vec<_>>()}),
            ))
            .await?;
        Ok(Page {
            items,
            total,
            page,
            per_page: PER_PAGE,
        })
    }

    async fn in_scope(&self, actor: &Actor, id: i64) -> Result<WarningRecord> {
        let mut read = self.store.begin_read().await?;
        in_scope(&mut read, actor, id).await
    }

    pub async fn warning(&self, actor: &Actor, id: i64) -> Result<WarningView> {
        actor.require(Permission::ReadPeople)?;
        let w = self.in_scope(actor, id).await?;
        self.reads
            .record(actor.audit(
                "warning.read",
                "warning",
                id,
                Some(&w.region_code),
                json!({}),
            ))
            .await?;
        let mut read = self.store.begin_read().await?;
        self.view(&mut read, w).await
    }

    /// Assigns, records the visit, or settles a warning with its outcome.
    pub async fn step(&self, actor: &Actor, id: i64, step: &WarningStep) -> Result<WarningView> {
        actor.require(Permission::ManageRecipients)?;
        let w = self.in_scope(actor, id).await?;
        let status = status_of(&w.status);
        if status == WarningStatus::Closed {
            return Err(ServiceError::invalid("action", "该预警已办结"));
        }
        let today = self.today();
        let mut u = jiuzhu_store::WarningUpdate {
            status: w.status.clone(),
            assigned_to: w.assigned_to.clone(),
            visit_date: w.visit_date,
            visit_findings: w.visit_findings.clone(),
            outcome: None,
            outcome_note: None,
            case_id: None,
            closed_on: None,
            closed_by: None,
        };
        let (revision, action) = match step {
            WarningStep::Assign { to, revision } => {
                let to = to.trim();
                u.assigned_to = Some(if to.is_empty() {
                    actor.display_name.clone()
                } else {
                    to.to_string()
                });
                u.status = WarningStatus::Assigned.code().into();
                (*revision, "warning.assign")
            }
            WarningStep::Check {
                date,
                findings,
                revision,
            } => {
                let findings = findings.trim();
                if findings.is_empty() {
                    return Err(ServiceError::invalid("findings", "请填写入户核查情况"));
                }
                let date = date.unwrap_or(today);
                if date > today {
                    return Err(ServiceError::invalid("date", "核查日期不能晚于今天"));
                }
                u.visit_date = Some(date);
                u.visit_findings = Some(findings.to_string());
                if u.assigned_to.is_none() {
                    u.assigned_to = Some(actor.display_name.clone());
                }
                u.status = WarningStatus::Checked.code().into();
                (*revision, "warning.check")
            }
            WarningStep::Close {
                outcome,
                note,
                revision,
            } => {
                let outcome = Outcome::from_code(outcome.trim()).ok_or_else(|| {
                    ServiceError::invalid("outcome", "请选择处置结果，预警不能无结果办结")
                })?;
                if status != WarningStatus::Checked {
                    return Err(ServiceError::invalid(
                        "outcome",
                        "请先记录入户核查情况，再办结预警",
                    ));
                }
                let note = note.trim();
                if note.is_empty() {
                    return Err(ServiceError::invalid(
                        "note",
                        match outcome {
                            Outcome::NoAction => "无需处置的，请写明理由",
                            _ => "请写明处置情况",
                        },
                    ));
                }
                let mut note = note.to_string();
                match outcome {
                    Outcome::ProactiveCase => {
                        u.case_id = Some(self.file_proactive(actor, &w, &note).await?);
                    }
                    // The household's enrolments are reviewed now: verified, evaluated and a
                    // proposal left for the reviewer to confirm.
                    Outcome::Review => {
                        let household = w.household_id.ok_or_else(|| {
                            ServiceError::invalid(
                                "outcome",
                                "该户没有在保的救助，无需复核；请选择其他处置结果",
                            )
                        })?;
                        note = self
                            .recipients()
                            .review_household(actor, household, &note)
                            .await?
                    }
                    _ => {}
                }
                u.outcome = Some(outcome.code().into());
                u.outcome_note = Some(note);
                u.closed_on = Some(today);
                u.closed_by = Some(actor.display_name.clone());
                u.status = WarningStatus::Closed.code().into();
                (*revision, "warning.close")
            }
        };
        let mut tx = self.store.begin().await?;
        tx.update_warning(id, revision, &u).await?;
        tx.append_audit(&actor.audit(
            action,
            "warning",
            id,
            Some(&w.region_code),
            json!({"status": u.status, "outcome": u.outcome, "case": u.case_id}),
        ))
        .await?;
        tx.commit().await?;
        let mut read = self.store.begin_read().await?;
        let fresh = in_scope(&mut read, actor, id).await?;
        self.view(&mut read, fresh).await
    }

    /// Files the application a warning calls for, channel 主动发现, pre-filled from it; the
    /// same warning twice files one case.
    async fn file_proactive(&self, actor: &Actor, w: &WarningRecord, note: &str) -> Result<i64> {
        let rule = Rule::from_code(&w.rule).unwrap_or(Rule::MedicalCosts);
        let (items, cause) = match rule {
            Rule::SeriousIllness | Rule::MedicalCosts => (
                vec!["medical_assistance", "temporary_assistance"],
                "illness",
            ),
            Rule::Disability => (vec!["disability_subsidies"], "disability"),
            Rule::Unemployment => (
                vec!["employment_assistance", "temporary_assistance"],
                "unemployment",
            ),
            Rule::School => (vec!["education_assistance"], "education"),
            _ => (vec!["temporary_assistance"], "other"),
        };
        // After a death the family applies: the head, or another member, not the deceased.
        let applicant = match (rule, w.household_id) {
            (Rule::Death, Some(h)) => {
                let household = self.households().get(actor, h).await?;
                let head = household.household.head_person_id;
                household
                    .household
                    .current_members()
                    .map(|m| m.person_id)
                    .filter(|p| *p != w.person_id)
                    .min_by_key(|p| (*p != head, *p))
                    .ok_or_else(|| {
                        ServiceError::invalid("outcome", "该户已无其他成员，无法代为申请")
                    })?
            }
            _ => w.person_id,
        };
        let case = self
            .cases()
            .file(
                actor,
                &ApplicationInput {
                    applicant_person_id: applicant,
                    channel: "proactive".into(),
                    hardship: format!("监测预警：{}。核查：{note}", w.basis),
                    causes: vec![cause.into()],
                    items: items.into_iter().map(String::from).collect(),
                    received_at: None,
                    idempotency_key: format!("warning-{}", w.id),
                },
            )
            .await?;
        Ok(case.id)
    }

    /// Per township: open, overdue, closed and closed on time.
    pub async fn by_township(&self, actor: &Actor) -> Result<Vec<TownshipWarnings>> {
        actor.require(Permission::ReadPeople)?;
        let mut read = self.store.begin_read().await?;
        let all = read.warnings_in(actor.scope()).await?;
        let today = self.today();
        let mut towns: BTreeMap<String, TownshipWarnings> = BTreeMap::new();
        for w in &all {
            let code = w.region_code.get(..9).unwrap_or(&w.region_code).to_string();
            let t = towns
                .entry(code.clone())
                .or_insert_with(|| TownshipWarnings {
                    code,
                    name: String::new(),
                    open: 0,
                    red_open: 0,
                    overdue: 0,
                    closed: 0,
                    closed_on_time: 0,
                    on_time_percent: None,
                });
            if w.status == "closed" {
                t.closed += 1;
                if w.closed_on.is_some_and(|d| d <= w.due) {
                    t.closed_on_time += 1;
                }
            } else {
                t.open += 1;
                t.red_open += i64::from(w.grade == "red");
                t.overdue += i64::from(w.due < today);
            }
        }
        let mut out: Vec<TownshipWarnings> = towns.into_values().collect();
        for t in &mut out {
            t.name = self
                .region_name(&mut read, &t.code)
                .await
                .unwrap_or_else(|_| t.code.clone());
            t.on_time_percent = (t.closed > 0).then(|| t.closed_on_time * 100 / t.closed);
        }
        Ok(out)
    }
}

fn to_view(
    w: WarningRecord,
    person_name: String,
    region_name: String,
    today: NaiveDate,
) -> WarningView {
    let rule = Rule::from_code(&w.rule);
    let grade = Grade::from_code(&w.grade);
    let status = status_of(&w.status);
    let outcome = w.outcome.as_deref().and_then(Outcome::from_code);
    WarningView {
        id: w.id,
        month: w.month.format("%Y-%m").to_string(),
        region_code: w.region_code,
        region_name,
        household_id: w.household_id,
        person_id: w.person_id,
        person_name,
        rule_label: rule.map_or("", |r| r.label()).to_string(),
        advice: rule.map_or("", |r| r.advice()).to_string(),
        rule: w.rule,
        grade_label: grade.map_or("", |g| g.label()).to_string(),
        grade: w.grade,
        discovery: w.discovery,
        fact_date: w.fact_date,
        figure_fen: w.figure_fen,
        basis: w.basis,
        overdue: status != WarningStatus::Closed && w.due < today,
        closed_late: w.closed_on.is_some_and(|d| d > w.due),
        due: w.due,
        status_label: status.label().to_string(),
        status: w.status,
        assigned_to: w.assigned_to,
        visit_date: w.visit_date,
        visit_findings: w.visit_findings,
        outcome_label: outcome.map(|o| o.label().to_string()),
        outcome: w.outcome,
        outcome_note: w.outcome_note,
        case_id: w.case_id,
        closed_on: w.closed_on,
        revision: w.revision,
    }
}
