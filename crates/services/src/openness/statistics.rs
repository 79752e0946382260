//! The monthly statistical report (per township and program: households, persons, money, new
//! and exited; one-off grants; one-window applications by item and result), any past month,
//! from the same register the 花名册 lists — so the two cannot disagree; the performance
//! indicators of seed 000 §三(三)4(2); and the public figures, where no cell under
//! `statistics.min_households` households is shown.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, NaiveDate};
use jiuzhu_domain::case::{case_deadlines, CaseState, DeadlineKind, ItemStage};
use jiuzhu_domain::enrolment::{add_months, month_end, month_of};
use jiuzhu_domain::openness::public_count;
use jiuzhu_domain::{Money, Permission, Role};
use rust_xlsxwriter::{Format, Workbook};
use serde::Serialize;
use serde_json::json;

use super::publicity::china_midnight;
use crate::recipients::{RegisterQuery, RegisterRow};
use crate::{Actor, Openness, Result, ServiceError};

/// One township and program of a month.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ReportRow {
    pub township: String,
    pub program_name: String,
    pub households: i64,
    pub persons: i64,
    #[schema(value_type = i64)]
    pub amount: Money,
    /// Paid this month and not the month before.
    pub new_households: i64,
    /// Paid the month before and not this month.
    pub exited_households: i64,
}

/// One-off grants or applications of one item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemCount {
    pub township: String,
    pub item_name: String,
    pub count: i64,
    #[schema(value_type = i64)]
    pub amount: Money,
}

/// Applications of one item filed in the month, by where they stand.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApplicationRow {
    pub item_name: String,
    pub filed: i64,
    pub granted: i64,
    pub refused: i64,
    pub withdrawn: i64,
    pub in_progress: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthlyReport {
    /// YYYY-MM
    pub month: String,
    /// 2026年12月
    pub month_label: String,
    pub rows: Vec<ReportRow>,
    pub total: ReportRow,
    pub one_off: Vec<ItemCount>,
    pub temporary_count: i64,
    #[schema(value_type = i64)]
    pub temporary_amount: Money,
    pub applications: Vec<ApplicationRow>,
    /// The six months up to this one: households and money paid (for the chart).
    pub trend: Vec<TrendPoint>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrendPoint {
    pub month_label: String,
    pub households: i64,
    #[schema(value_type = i64)]
    pub amount: Money,
    /// One-window items handled within their limits, per cent.
    pub on_time_percent: Option<i64>,
}

/// One indicator of one township or department.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PerformanceRow {
    pub place: String,
    pub department: String,
    pub step: String,
    /// Steps done or due in the month.
    pub total: i64,
    pub on_time: i64,
    pub late: i64,
    pub on_time_percent: Option<i64>,
    /// Working days from the start of the step to its completion, over those done.
    pub average_days: Option<f64>,
}

/// A township's other indicators.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TownshipIndicators {
    pub township: String,
    /// Decided applications with a verification report (逢救必核: 100%).
    pub verified: i64,
    pub decided: i64,
    pub verification_percent: Option<i64>,
    /// Enrolments past their review date without one.
    pub reviews_overdue: i64,
    pub enrolments: i64,
    /// Households whose visit is past due.
    pub visits_overdue: i64,
    pub warnings_closed: i64,
    pub warnings_on_time_percent: Option<i64>,
    pub complaints_answered: i64,
    pub complaints_on_time_percent: Option<i64>,
    pub complaints_overdue: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Performance {
    pub month: String,
    pub month_label: String,
    /// Each township, department and step.
    pub steps: Vec<PerformanceRow>,
    /// Each department and step, over all townships.
    pub departments: Vec<PerformanceRow>,
    /// Each township and step, over all departments.
    pub township_steps: Vec<PerformanceRow>,
    pub townships: Vec<TownshipIndicators>,
    pub trend: Vec<TrendPoint>,
}

/// The figures anyone may read: no cell of fewer than the threshold of households.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicStatistics {
    pub month: String,
    pub month_label: String,
    pub threshold: i64,
    pub rows: Vec<PublicRow>,
    pub households: i64,
    pub persons: i64,
    #[schema(value_type = i64)]
    pub amount: Money,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicRow {
    pub township: String,
    pub program_name: String,
    /// None: fewer than the threshold, not shown.
    pub households: Option<i64>,
    pub persons: Option<i64>,
    #[schema(value_type = Option<i64>)]
    pub amount: Option<Money>,
}

/// Steps counted, late, working days taken by those done, and those done.
type Tally = (i64, i64, i64, i64);

fn month_label(m: NaiveDate) -> String {
    format!("{}年{}月", m.year(), m.month())
}

fn percent(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| part * 100 / whole)
}

impl Openness<'_> {
    fn report_month(&self, month: Option<&str>) -> Result<NaiveDate> {
        let m = match month.map(str::trim).filter(|m| !m.is_empty()) {
            Some(m) => crate::recipients::parse_month("month", m)?,
            None => month_of(self.today()),
        };
        if m > month_of(self.today()) {
            return Err(ServiceError::invalid("month", "统计月份不能晚于本月"));
        }
        Ok(m)
    }

    /// The register's lines of the six months up to `month`, oldest first, read once.
    async fn six_months(
        &self,
        actor: &Actor,
        month: NaiveDate,
    ) -> Result<(Vec<NaiveDate>, Vec<Vec<RegisterRow>>)> {
        let first = month
            .checked_sub_months(chrono::Months::new(5))
            .expect("a month");
        let months: Vec<NaiveDate> = (0..6).map(|k| add_months(first, k)).collect();
        let lines = self
            .recipients()
            .register_months(actor, &RegisterQuery::default(), &months)
            .await?;
        Ok((months, lines))
    }

    /// The monthly statistical report of the actor's region.
    pub async fn monthly_report(
        &self,
        actor: &Actor,
        month: Option<&str>,
    ) -> Result<MonthlyReport> {
        actor.require(Permission::ReadPeople)?;
        let month = self.report_month(month)?;
        let (months, lines) = self.six_months(actor, month).await?;
        let (before, this) = (&lines[4], &lines[5]);
        let before_ids: HashSet<i64> = before
            .iter()
            .filter(|r| r.amount_fen > 0)
            .map(|r| r.enrolment_id)
            .collect();
        let this_ids: HashSet<i64> = this
            .iter()
            .filter(|r| r.amount_fen > 0)
            .map(|r| r.enrolment_id)
            .collect();
        let mut rows: BTreeMap<(String, String), ReportRow> = BTreeMap::new();
        let mut total = ReportRow {
            township: "合计".into(),
            program_name: String::new(),
            ..Default::default()
        };
        for r in this {
            let row = rows
                .entry((r.township.clone(), r.program_name.clone()))
                .or_insert_with(|| ReportRow {
                    township: r.township.clone(),
                    program_name: r.program_name.clone(),
                    ..Default::default()
                });
            for t in [&mut *row, &mut total] {
                t.households += 1;
                t.persons += r.persons as i64;
                t.amount += Money::from_fen(r.amount_fen);
                if this_ids.contains(&r.enrolment_id) && !before_ids.contains(&r.enrolment_id) {
                    t.new_households += 1;
                }
            }
        }
        for r in before {
            if before_ids.contains(&r.enrolment_id) && !this_ids.contains(&r.enrolment_id) {
                for t in [
                    rows.entry((r.township.clone(), r.program_name.clone()))
                        .or_insert_with(|| ReportRow {
                            township: r.township.clone(),
                            program_name: r.program_name.clone(),
                            ..Default::default()
                        }),
                    &mut total,
                ] {
                    t.exited_households += 1;
                }
            }
        }
        let from = china_midnight(month);
        let until = china_midnight(add_months(month, 1));
        let mut tx = self.store.begin_read().await?;
        let catalogue = self.catalogue_now(&mut tx).await?;
        let item_name = |c: &str| {
            catalogue
                .item(c)
                .map_or_else(|| c.to_string(), |i| i.name.clone())
        };
        let mut one_off: BTreeMap<(String, String), ItemCount> = BTreeMap::new();
        let (mut temporary_count, mut temporary_amount) = (0, Money::ZERO);
        for a in tx.awards_between(actor.scope(), from, until).await? {
            let township = self
                .region_name(&mut tx, &a.region_code[..9.min(a.region_code.len())])
                .await?;
            let e = one_off
                .entry((township.clone(), a.item.clone()))
                .or_insert_with(|| ItemCount {
                    township,
                    item_name: item_name(&a.item),
                    count: 0,
                    amount: Money::ZERO,
                });
            e.count += 1;
            e.amount += Money::from_fen(a.amount_fen);
            if a.item == "temporary_assistance" {
                temporary_count += 1;
                temporary_amount += Money::from_fen(a.amount_fen);
            }
        }
        let mut applications: BTreeMap<String, ApplicationRow> = BTreeMap::new();
        for c in tx.applications_by_item(actor.scope(), from, until).await? {
            let row = applications
                .entry(c.item_code.clone())
                .or_insert_with(|| ApplicationRow {
                    item_name: item_name(&c.item_code),
                    filed: 0,
                    granted: 0,
                    refused: 0,
                    withdrawn: 0,
                    in_progress: 0,
                });
            row.filed += c.n;
            match ItemStage::from_code(&c.stage) {
                Some(ItemStage::Completed | ItemStage::FedBack) => row.granted += c.n,
                Some(ItemStage::RefusedAtWindow | ItemStage::DepartmentRefused) => {
                    row.refused += c.n
                }
                Some(ItemStage::Withdrawn) => row.withdrawn += c.n,
                _ => row.in_progress += c.n,
            }
        }
        drop(tx);
        let trend = self.trend(actor, &months, &lines).await?;
        self.reads
            .record(actor.audit(
                "statistics.read",
                "region",
                actor.scope(),
                Some(actor.scope()),
                json!({"month": month.format("%Y-%m").to_string()}),
            ))
            .await?;
        Ok(MonthlyReport {
            month: month.format("%Y-%m").to_string(),
            month_label: month_label(month),
            rows: rows.into_values().collect(),
            total,
            one_off: one_off.into_values().collect(),
            temporary_count,
            temporary_amount,
            applications: applications.into_values().collect(),
            trend,
        })
    }

    /// Households and money of each month with its register lines, and the on-time share of
    /// the one-window items filed in it.
    async fn trend(
        &self,
        actor: &Actor,
        months: &[NaiveDate],
        lines: &[Vec<RegisterRow>],
    ) -> Result<Vec<TrendPoint>> {
        let mut tx = self.store.begin_read().await?;
        let counts = tx
            .monthly_applications(actor.scope(), china_midnight(months[0]), self.today())
            .await?;
        drop(tx);
        let mut out = Vec::new();
        for (&m, lines) in months.iter().zip(lines) {
            let key = m.format("%Y-%m").to_string();
            let c = counts.iter().find(|c| c.month == key);
            out.push(TrendPoint {
                month_label: month_label(m),
                households: lines.iter().filter(|r| r.amount_fen > 0).count() as i64,
                amount: Money::from_fen(lines.iter().map(|r| r.amount_fen).sum()),
                on_time_percent: c.and_then(|c| percent(c.items - c.late, c.items)),
            });
        }
        Ok(out)
    }

    /// The month's report as the workbook a bureau files.
    pub async fn report_xlsx(&self, actor: &Actor, month: Option<&str>) -> Result<Vec<u8>> {
        let r = self.monthly_report(actor, month).await?;
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let money = Format::new().set_num_format("#,##0.00");
        let xl = |e: rust_xlsxwriter::XlsxError| ServiceError::invalid("xlsx", e.to_string());
        let sheet = book.add_worksheet();
        sheet.set_name("救助对象").map_err(xl)?;
        sheet
            .write_string_with_format(
                0,
                0,
                format!("社会救助统计月报（{}）", r.month_label),
                &bold,
            )
            .map_err(xl)?;
        let head = [
            "乡镇（街道）",
            "救助项目",
            "户数",
            "人数",
            "金额（元）",
            "新增户数",
            "退出户数",
        ];
        for (c, h) in head.iter().enumerate() {
            sheet
                .write_string_with_format(2, c as u16, *h, &bold)
                .map_err(xl)?;
        }
        for (row, x) in (3u32..).zip(r.rows.iter().chain(std::iter::once(&r.total))) {
            sheet.write_string(row, 0, &x.township).map_err(xl)?;
            sheet.write_string(row, 1, &x.program_name).map_err(xl)?;
            sheet
                .write_number(row, 2, x.households as f64)
                .map_err(xl)?;
            sheet.write_number(row, 3, x.persons as f64).map_err(xl)?;
            sheet
                .write_number_with_format(row, 4, x.amount.fen() as f64 / 100.0, &money)
                .map_err(xl)?;
            sheet
                .write_number(row, 5, x.new_households as f64)
                .map_err(xl)?;
            sheet
                .write_number(row, 6, x.exited_households as f64)
                .map_err(xl)?;
        }
        let sheet = book.add_worksheet();
        sheet.set_name("一次性救助").map_err(xl)?;
        for (c, h) in ["乡镇（街道）", "救助事项", "人次", "金额（元）"]
            .iter()
            .enumerate()
        {
            sheet
                .write_string_with_format(0, c as u16, *h, &bold)
                .map_err(xl)?;
        }
        for (i, x) in r.one_off.iter().enumerate() {
            let row = i as u32 + 1;
            sheet.write_string(row, 0, &x.township).map_err(xl)?;
            sheet.write_string(row, 1, &x.item_name).map_err(xl)?;
            sheet.write_number(row, 2, x.count as f64).map_err(xl)?;
            sheet
                .write_number_with_format(row, 3, x.amount.fen() as f64 / 100.0, &money)
                .map_err(xl)?;
        }
        let sheet = book.add_worksheet();
        sheet.set_name("一门受理").map_err(xl)?;
        for (c, h) in ["救助事项", "申请", "给予救助", "不予救助", "撤回", "办理中"]
            .iter()
            .enumerate()
        {
            sheet
                .write_string_with_format(0, c as u16, *h, &bold)
                .map_err(xl)?;
        }
        for (i, x) in r.applications.iter().enumerate() {
            let row = i as u32 + 1;
            sheet.write_string(row, 0, &x.item_name).map_err(xl)?;
            for (c, v) in [x.filed, x.granted, x.refused, x.withdrawn, x.in_progress]
                .iter()
                .enumerate()
            {
                sheet
                    .write_number(row, c as u16 + 1, *v as f64)
                    .map_err(xl)?;
            }
        }
        book.save_to_buffer().map_err(xl)
    }

    /// The performance indicators of a month for the actor's region.
    pub async fn performance(&self, actor: &Actor, month: Option<&str>) -> Result<Performance> {
        actor.require(Permission::ReadPeople)?;
        if !matches!(
            actor.role,
            Role::Supervisor | Role::CountyApprover | Role::TownshipReviewer
        ) {
            return Err(ServiceError::Forbidden);
        }
        let month = self.report_month(month)?;
        let from = china_midnight(month);
        let until = china_midnight(add_months(month, 1));
        let today = self.today();
        let calendar = self.calendar().current();
        let mut tx = self.store.begin_read().await?;
        let catalogue = self.catalogue_now(&mut tx).await?;
        let limit = |code: &str| catalogue.item(code).map_or(30, |i| i.time_limit_days);
        let cases = tx
            .cases_filed(actor.scope(), from, until, 1_000_000)
            .await?;
        // (township, department, step) → (total, late, days done, done)
        let mut steps: BTreeMap<(String, String, DeadlineKind), Tally> = BTreeMap::new();
        let mut towns: BTreeMap<String, TownshipIndicators> = BTreeMap::new();
        let town = |code: &str| -> String { code[..9.min(code.len())].to_string() };
        for c in &cases {
            let events = tx.case_events(c.id).await?;
            let Ok(state) = CaseState::fold(&events) else {
                continue;
            };
            let t = town(&c.region_code);
            for d in case_deadlines(&state, limit, &calendar, today) {
                let dept = state
                    .items
                    .iter()
                    .find(|i| i.item == d.item)
                    .and_then(|i| i.department.clone())
                    .unwrap_or_default();
                let e = steps.entry((t.clone(), dept, d.kind)).or_default();
                if d.done.is_none() && !d.late {
                    continue;
                }
                e.0 += 1;
                if d.late {
                    e.1 += 1;
                }
                if let Some(done) = d.done {
                    e.2 += calendar.working_days_between(d.start, done) as i64;
                    e.3 += 1;
                }
            }
            let decided = state
                .items
                .iter()
                .any(|i| i.completed_at.is_some() || i.refused_at.is_some());
            if decided {
                let verified = !tx.case_reports(c.id).await?.is_empty();
                let ti = towns.entry(t.clone()).or_insert_with(|| empty_town(&t));
                ti.decided += 1;
                if verified {
                    ti.verified += 1;
                }
            }
        }
        let enrolments = tx.enrolments_in(actor.scope(), None).await?;
        for e in enrolments.iter().filter(|e| e.stage == "confirmed") {
            let t = town(&e.region_code);
            let ti = towns.entry(t.clone()).or_insert_with(|| empty_town(&t));
            ti.enrolments += 1;
            if e.next_review.is_some_and(|d| d < today) {
                ti.reviews_overdue += 1;
            }
        }
        let unit_scope = actor.scope().to_string();
        let complaints = tx.complaints_for(&[], Some(&unit_scope)).await?;
        for c in &complaints {
            let t = town(&c.region_code);
            let ti = towns.entry(t.clone()).or_insert_with(|| empty_town(&t));
            match c.answered_on {
                Some(on) => {
                    ti.complaints_answered += 1;
                    if on <= c.due {
                        ti.complaints_on_time_percent =
                            Some(ti.complaints_on_time_percent.unwrap_or(0) + 1);
                    }
                }
                None if today > c.due => ti.complaints_overdue += 1,
                None => {}
            }
        }
        let mut names = BTreeMap::new();
        for code in towns.keys().chain(steps.keys().map(|k| &k.0)) {
            if !names.contains_key(code) {
                names.insert(code.clone(), self.region_name(&mut tx, code).await?);
            }
        }
        drop(tx);
        for ti in towns.values_mut() {
            ti.verification_percent = percent(ti.verified, ti.decided);
            ti.complaints_on_time_percent = ti
                .complaints_on_time_percent
                .and_then(|n| percent(n, ti.complaints_answered));
        }
        for w in self.monitoring().by_township(actor).await? {
            let ti = towns
                .entry(w.code.clone())
                .or_insert_with(|| empty_town(&w.code));
            ti.warnings_closed = w.closed;
            ti.warnings_on_time_percent = w.on_time_percent;
        }
        for v in self.recipients().visits_due(actor, today).await? {
            if v.overdue {
                let t = town(&v.region_code);
                towns
                    .entry(t.clone())
                    .or_insert_with(|| empty_town(&t))
                    .visits_overdue += 1;
            }
        }
        for (code, ti) in towns.iter_mut() {
            ti.township = names.get(code).cloned().unwrap_or_else(|| code.clone());
        }
        let dept_name = |dept: &str| {
            catalogue
                .departments
                .iter()
                .find(|d| d.code == dept)
                .map_or_else(|| "窗口".to_string(), |d| d.name.clone())
        };
        let row = |place: String, department: String, kind: DeadlineKind, v: Tally| {
            let (total, late, days, done) = v;
            PerformanceRow {
                place,
                department,
                step: kind.label().to_string(),
                total,
                on_time: total - late,
                late,
                on_time_percent: percent(total - late, total),
                average_days: (done > 0).then(|| (days as f64 / done as f64 * 10.0).round() / 10.0),
            }
        };
        // The same counts summed by department (across townships) and by township (across
        // departments): the two views a director compares.
        let mut by_department: BTreeMap<(String, DeadlineKind), Tally> = BTreeMap::new();
        let mut by_township: BTreeMap<(String, DeadlineKind), Tally> = BTreeMap::new();
        for ((t, dept, kind), v) in steps.iter().filter(|(_, v)| v.0 > 0) {
            for (map, key) in [
                (&mut by_department, dept.clone()),
                (&mut by_township, t.clone()),
            ] {
                let e = map.entry((key, *kind)).or_default();
                e.0 += v.0;
                e.1 += v.1;
                e.2 += v.2;
                e.3 += v.3;
            }
        }
        let departments = by_department
            .into_iter()
            .map(|((dept, kind), v)| row(String::new(), dept_name(&dept), kind, v))
            .collect();
        let township_steps = by_township
            .into_iter()
            .map(|((t, kind), v)| row(names.get(&t).cloned().unwrap_or(t), String::new(), kind, v))
            .collect();
        let steps = steps
            .into_iter()
            .filter(|(_, v)| v.0 > 0)
            .map(|((t, dept, kind), v)| {
                row(
                    names.get(&t).cloned().unwrap_or(t),
                    dept_name(&dept),
                    kind,
                    v,
                )
            })
            .collect();
        let (months, lines) = self.six_months(actor, month).await?;
        let trend = self.trend(actor, &months, &lines).await?;
        Ok(Performance {
            month: month.format("%Y-%m").to_string(),
            month_label: month_label(month),
            steps,
            departments,
            township_steps,
            townships: towns
                .into_values()
                .filter(|t| t.township.chars().count() > 0)
                .collect(),
            trend,
        })
    }

    /// The public figures of a month: households, persons and money per township and program,
    /// with cells under the threshold left out.
    pub async fn public_statistics(&self, month: Option<&str>) -> Result<PublicStatistics> {
        let month = self.report_month(month)?;
        // The last finished month: this month's figures change until it ends.
        let shown = if month_end(month) >= self.today() {
            month_of(month.pred_opt().expect("a month"))
        } else {
            month
        };
        let region = self
            .regions()
            .county()
            .await?
            .ok_or(ServiceError::NotFound)?;
        let reader = Actor {
            role: Role::Supervisor,
            ..Actor::system(region, jiuzhu_store::Interface::Web)
        };
        let (_, lines) = self
            .recipients()
            .register_lines(
                &reader,
                &RegisterQuery {
                    month: Some(shown.format("%Y-%m").to_string()),
                    ..Default::default()
                },
            )
            .await?;
        let threshold =
            self.count_param(reader.scope(), "statistics.min_households", self.today())?;
        let mut cells: BTreeMap<(String, String), (i64, i64, i64)> = BTreeMap::new();
        for r in &lines {
            let c = cells
                .entry((r.township.clone(), r.program_name.clone()))
                .or_default();
            c.0 += 1;
            c.1 += r.persons as i64;
            c.2 += r.amount_fen;
        }
        let (households, persons, amount) = cells
            .values()
            .fold((0, 0, 0), |a, c| (a.0 + c.0, a.1 + c.1, a.2 + c.2));
        Ok(PublicStatistics {
            month: shown.format("%Y-%m").to_string(),
            month_label: month_label(shown),
            threshold,
            rows: cells
                .into_iter()
                .map(|((township, program_name), (h, p, a))| {
                    let show = public_count(h, threshold).is_some();
                    PublicRow {
                        township,
                        program_name,
                        households: show.then_some(h),
                        persons: show.then_some(p),
                        amount: show.then_some(Money::from_fen(a)),
                    }
                })
                .collect(),
            households: public_count(households, threshold).unwrap_or(0),
            persons: if public_count(households, threshold).is_some() {
                persons
            } else {
                0
            },
            amount: Money::from_fen(if public_count(households, threshold).is_some() {
                amount
            } else {
                0
            }),
        })
    }
}

fn empty_town(code: &str) -> TownshipIndicators {
    TownshipIndicators {
        township: code.to_string(),
        verified: 0,
        decided: 0,
        verification_percent: None,
        reviews_overdue: 0,
        enrolments: 0,
        visits_overdue: 0,
        warnings_closed: 0,
        warnings_on_time_percent: None,
        complaints_answered: 0,
        complaints_on_time_percent: None,
        complaints_overdue: 0,
    }
}
