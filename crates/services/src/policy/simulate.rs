//! What-if: the registry's households under the parameters in force and under changed ones,
//! compared program by program and township by township.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{Datelike, NaiveDate};
use jiuzhu_domain::Permission;
use jiuzhu_policy::household::{parse_month, Member};
use jiuzhu_policy::simulate::{outcomes, SimRules, SIMULATED};
use jiuzhu_policy::{Household, Overrides};
use jiuzhu_store::RegistryScan;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{member_of, month_end, registry_supporters, REGISTRY_ASSUMPTIONS};
use crate::{Actor, Policy, Result, ServiceError};

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct SimulationInput {
    /// `YYYY-MM`; this month when left out.
    pub month: Option<String>,
    /// Pack id; the one governing the user's region when left out.
    pub jurisdiction: Option<String>,
    /// Changes as `name=value`: `dibao.standard=1400`, or `dibao.standard=+8%` to raise the
    /// value in force by a percentage.
    pub set: Vec<String>,
    /// How many affected households to list (all are counted); 500 when left out.
    pub list_limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ParameterChange {
    pub name: String,
    pub label: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ProgramChange {
    pub program: String,
    pub label: String,
    pub before_households: u64,
    pub after_households: u64,
    pub gained: u64,
    pub lost: u64,
    /// Households still eligible whose amount changed.
    pub changed: u64,
    pub before_monthly_fen: i64,
    pub after_monthly_fen: i64,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct TownshipChange {
    pub code: String,
    pub name: String,
    pub households: u64,
    pub gained: u64,
    pub lost: u64,
    pub before_monthly_fen: i64,
    pub after_monthly_fen: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AffectedHousehold {
    pub household_id: i64,
    pub township: String,
    pub program: String,
    /// gained, lost or changed.
    pub change: String,
    pub before_fen: Option<i64>,
    pub after_fen: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SimulationReport {
    pub month: String,
    pub jurisdiction: String,
    pub changes: Vec<ParameterChange>,
    pub households: u64,
    pub persons: u64,
    pub programs: Vec<ProgramChange>,
    pub townships: Vec<TownshipChange>,
    pub affected: Vec<AffectedHousehold>,
    pub affected_total: u64,
    /// What the registry cannot tell and the simulation therefore assumes.
    pub assumptions: Vec<String>,
    /// Time to read the registry, then in all.
    pub loaded_ms: u64,
    pub elapsed_ms: u64,
}

/// One thread's share of the households, tallied.
struct Tally {
    limit: usize,
    programs: Vec<ProgramChange>,
    townships: BTreeMap<i64, TownshipChange>,
    affected: Vec<AffectedHousehold>,
    affected_total: u64,
    households: u64,
    persons: u64,
}

impl Tally {
    fn new(limit: usize) -> Tally {
        Tally {
            limit,
            programs: SIMULATED
                .iter()
                .map(|p| ProgramChange {
                    program: p.code().to_string(),
                    label: p.label().to_string(),
                    ..Default::default()
                })
                .collect(),
            townships: BTreeMap::new(),
            affected: Vec::new(),
            affected_total: 0,
            households: 0,
            persons: 0,
        }
    }

    /// Evaluates household `i` of the scan under both scenarios and counts the differences.
    fn household(
        &mut self,
        scan: &RegistryScan,
        i: usize,
        month: NaiveDate,
        base: &SimRules,
        reform: &SimRules,
        buffer: &mut Vec<Member>,
    ) {
        let mut members = std::mem::take(buffer);
        members.clear();
        members.extend(
            scan.members(i)
                .iter()
                .map(|p| member_of(p, month, String::new())),
        );
        registry_supporters(&mut members);
        let household = Household::registered(month, members);
        let before = outcomes(&household, base);
        let after = outcomes(&household, reform);
        *buffer = household.members;
        let (id, township) = (scan.household_ids[i], scan.townships[i]);
        self.households += 1;
        self.persons += buffer.len() as u64;
        let t = self
            .townships
            .entry(township)
            .or_insert_with(|| TownshipChange {
                code: format!("{township:09}"),
                ..Default::default()
            });
        t.households += 1;
        for (k, p) in SIMULATED.iter().enumerate() {
            let (b, a) = (before.0[k], after.0[k]);
            let pc = &mut self.programs[k];
            pc.before_households += u64::from(b.is_some());
            pc.after_households += u64::from(a.is_some());
            pc.before_monthly_fen += b.unwrap_or(0);
            pc.after_monthly_fen += a.unwrap_or(0);
            t.before_monthly_fen += b.unwrap_or(0);
            t.after_monthly_fen += a.unwrap_or(0);
            let change = match (b, a) {
                (None, Some(_)) => {
                    pc.gained += 1;
                    t.gained += 1;
                    "gained"
                }
                (Some(_), None) => {
                    pc.lost += 1;
                    t.lost += 1;
                    "lost"
                }
                (Some(x), Some(y)) if x != y => {
                    pc.changed += 1;
                    "changed"
                }
                _ => continue,
            };
            self.affected_total += 1;
            if self.affected.len() < self.limit {
                self.affected.push(AffectedHousehold {
                    household_id: id,
                    township: format!("{township:09}"),
                    program: p.label().to_string(),
                    change: change.to_string(),
                    before_fen: b,
                    after_fen: a,
                });
            }
        }
    }

    /// Adds a later share's tally (households in id order stay in order).
    fn merge(&mut self, o: Tally) {
        for (a, b) in self.programs.iter_mut().zip(o.programs) {
            a.before_households += b.before_households;
            a.after_households += b.after_households;
            a.gained += b.gained;
            a.lost += b.lost;
            a.changed += b.changed;
            a.before_monthly_fen += b.before_monthly_fen;
            a.after_monthly_fen += b.after_monthly_fen;
        }
        for (code, b) in o.townships {
            let a = self
                .townships
                .entry(code)
                .or_insert_with(|| TownshipChange {
                    code: b.code.clone(),
                    ..Default::default()
                });
            a.households += b.households;
            a.gained += b.gained;
            a.lost += b.lost;
            a.before_monthly_fen += b.before_monthly_fen;
            a.after_monthly_fen += b.after_monthly_fen;
        }
        let room = self.limit.saturating_sub(self.affected.len());
        self.affected.extend(o.affected.into_iter().take(room));
        self.affected_total += o.affected_total;
        self.households += o.households;
        self.persons += o.persons;
    }
}

/// Evaluates every household of the scan, split over the machine's cores.
fn tally_all(
    scan: &RegistryScan,
    month: NaiveDate,
    base: &SimRules,
    reform: &SimRules,
    limit: usize,
) -> Tally {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let n = scan.households();
    let share = n.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut tally = Tally::new(limit);
                    let mut buffer = Vec::new();
                    for i in (t * share).min(n)..((t + 1) * share).min(n) {
                        tally.household(scan, i, month, base, reform, &mut buffer);
                    }
                    tally
                })
            })
            .collect();
        let mut total = Tally::new(limit);
        for h in handles {
            total.merge(h.join().expect("simulation thread"));
        }
        total
    })
}

impl Policy<'_> {
    /// Compares the households of the actor's region under the parameters in force and under
    /// the changes given, for one month. Bureau administrators and supervisors.
    pub async fn simulate(
        &self,
        actor: &Actor,
        input: &SimulationInput,
    ) -> Result<SimulationReport> {
        actor.require(Permission::Simulate)?;
        let started = Instant::now();
        let month = match &input.month {
            Some(m) => parse_month(m)?,
            None => self.today().with_day(1).expect("first of the month"),
        };
        let jurisdiction = match &input.jurisdiction {
            Some(j) => j.clone(),
            None => self.jurisdiction_of(&actor.region)?,
        };
        let book = self.book();
        let base_ps = book.params(&jurisdiction, month, &Overrides::default())?;
        let mut overrides = Overrides::default();
        for s in &input.set {
            let s = s.trim();
            // `name=+8%`: relative to the value in force.
            match s.split_once('=') {
                Some((name, rel)) if rel.trim().starts_with('+') || rel.trim().starts_with('-') => {
                    let current = base_ps.get(name.trim())?;
                    let pct =
                        jiuzhu_policy::Ratio::parse(rel.trim().trim_start_matches(['+', '-']))
                            .ok_or_else(|| {
                                ServiceError::invalid(
                                    "set",
                                    format!("“{s}”的变化幅度应写作 +8% 或 -5%"),
                                )
                            })?;
                    let sign = if rel.trim().starts_with('-') { -1 } else { 1 };
                    let jiuzhu_policy::param::Value::Money(m) = current.value else {
                        return Err(ServiceError::invalid(
                            "set",
                            format!("“{}”不是金额，不能按百分比调整", current.label),
                        ));
                    };
                    let delta = pct.of(m);
                    let new = jiuzhu_domain::Money::from_fen(m.fen() + sign * delta.fen());
                    overrides.set_text(&format!("{}={}", name.trim(), new.to_plain_yuan()))?;
                }
                _ => overrides.set_text(s)?,
            }
        }
        if overrides.is_empty() {
            return Err(ServiceError::invalid("set", "请至少调整一个参数"));
        }
        let reform_ps = book.params(&jurisdiction, month, &overrides)?;
        let changes = overrides
            .iter()
            .map(|(name, _)| {
                let after = reform_ps.get(name)?;
                Ok(ParameterChange {
                    name: name.to_string(),
                    label: after.label.to_string(),
                    before: base_ps
                        .get(name)
                        .map(|b| b.text)
                        .unwrap_or_else(|_| "（未设定）".into()),
                    after: after.text,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let base = SimRules::read(&base_ps)?;
        let reform = SimRules::read(&reform_ps)?;
        let limit = input.list_limit.unwrap_or(500);
        let scan = self
            .store
            .scan_registry(actor.scope(), month_end(month))
            .await?;
        let loaded_ms = started.elapsed().as_millis() as u64;
        let tally =
            tokio::task::spawn_blocking(move || tally_all(&scan, month, &base, &reform, limit))
                .await
                .map_err(|e| {
                    ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(e.to_string()))
                })?;
        let mut db = self.store.begin_read().await?;
        let names: std::collections::HashMap<String, String> = db
            .regions_under(actor.scope())
            .await?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect();
        drop(db);
        let mut townships: Vec<TownshipChange> = tally.townships.into_values().collect();
        for t in &mut townships {
            t.name = names
                .get(&t.code)
                .cloned()
                .unwrap_or_else(|| t.code.clone());
        }
        let mut affected = tally.affected;
        for a in &mut affected {
            if let Some(n) = names.get(&a.township) {
                a.township = n.clone();
            }
        }
        let programs: Vec<ProgramChange> = tally
            .programs
            .into_iter()
            .zip(SIMULATED)
            .filter(|(_, p)| base_ps.programs().contains(p))
            .map(|(c, _)| c)
            .collect();
        let report = SimulationReport {
            month: month.format("%Y-%m").to_string(),
            jurisdiction: base_ps.jurisdiction().name.clone(),
            changes,
            households: tally.households,
            persons: tally.persons,
            programs,
            townships,
            affected,
            affected_total: tally.affected_total,
            assumptions: REGISTRY_ASSUMPTIONS.iter().map(|a| a.to_string()).collect(),
            loaded_ms,
            elapsed_ms: started.elapsed().as_millis() as u64,
        };
        let mut tx = self.store.begin().await?;
        tx.append_audit(&actor.audit(
            "policy.simulate",
            "simulation",
            &report.month,
            Some(actor.scope()),
            json!({"jurisdiction": jurisdiction, "set": input.set, "households": report.households, "affected": report.affected_total}),
        ))
        .await?;
        tx.commit().await?;
        Ok(report)
    }
}

/// The affected households of a simulation as a workbook: one row each, amounts in yuan.
pub fn affected_xlsx(report: &SimulationReport) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let xlsx = |e: rust_xlsxwriter::XlsxError| {
        ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(format!("xlsx: {e}")))
    };
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let sheet = book.add_worksheet();
    sheet.set_name("受影响家庭").map_err(xlsx)?;
    let changes: Vec<String> = report
        .changes
        .iter()
        .map(|c| format!("{}：{} → {}", c.label, c.before, c.after))
        .collect();
    sheet
        .write_string_with_format(
            0,
            0,
            format!(
                "{}政策调整模拟受影响家庭（{}；{}）",
                report.jurisdiction,
                report.month,
                changes.join("，")
            ),
            &bold,
        )
        .map_err(xlsx)?;
    let heads = [
        "序号",
        "家庭编号",
        "乡镇（街道）",
        "救助项目",
        "变化",
        "调整前（元/月）",
        "调整后（元/月）",
    ];
    for (c, h) in heads.iter().enumerate() {
        sheet
            .write_string_with_format(2, c as u16, *h, &bold)
            .map_err(xlsx)?;
    }
    for (i, a) in report.affected.iter().enumerate() {
        let r = 3 + i as u32;
        sheet.write_number(r, 0, (i + 1) as f64).map_err(xlsx)?;
        sheet
            .write_string(r, 1, format!("户{}", a.household_id))
            .map_err(xlsx)?;
        sheet.write_string(r, 2, &a.township).map_err(xlsx)?;
        sheet.write_string(r, 3, &a.program).map_err(xlsx)?;
        sheet
            .write_string(r, 4, change_label(&a.change))
            .map_err(xlsx)?;
        for (c, fen) in [(5u16, a.before_fen), (6, a.after_fen)] {
            if let Some(f) = fen {
                sheet
                    .write_number_with_format(r, c, f as f64 / 100.0, &money)
                    .map_err(xlsx)?;
            }
        }
    }
    sheet.set_column_width(2, 14).map_err(xlsx)?;
    sheet.set_column_width(3, 22).map_err(xlsx)?;
    sheet.set_column_width(5, 16).map_err(xlsx)?;
    sheet.set_column_width(6, 16).map_err(xlsx)?;
    book.save_to_buffer().map_err(xlsx)
}

/// 新增, 退出 or 金额变化.
pub fn change_label(change: &str) -> &'static str {
    match change {
        "gained" => "新增",
        "lost" => "退出",
        _ => "金额变化",
    }
}
