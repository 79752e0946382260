//! 救助对象名册: who is paid in a month, per program, township and village, with totals, as a
//! page and as the `.xlsx` bureaus file (花名册).

use std::collections::HashMap;

use chrono::NaiveDate;
use jiuzhu_domain::enrolment::{month_of, MonthStatus};
use jiuzhu_domain::{Money, Permission};
use rust_xlsxwriter::{Format, Workbook};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::parse_month;
use crate::{Actor, Recipients, Result, ServiceError};

/// Rows a page shows.
pub const PAGE_SIZE: usize = 100;

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(default)]
pub struct RegisterQuery {
    /// YYYY-MM; this month when left out.
    pub month: Option<String>,
    /// A recurring item's code (dibao, tekun, near_dibao, disability_subsidies).
    pub program: Option<String>,
    /// A township's or village's division code.
    pub region: Option<String>,
    /// Part of the name of the person listed.
    pub q: Option<String>,
    /// 1-based page.
    pub page: Option<usize>,
    /// Show the page's full identity numbers (roles that may; each reveal is recorded).
    pub reveal: Option<bool>,
}

/// One line of the register.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterRow {
    pub enrolment_id: i64,
    pub household_id: i64,
    pub program: String,
    pub program_name: String,
    pub township: String,
    pub village: String,
    /// The village's division code.
    #[serde(skip)]
    pub region_code: String,
    /// The head of household, or the person for individual enrolments.
    pub name: String,
    /// The person listed (the head, or the one covered).
    pub person_id: i64,
    pub id_number_masked: String,
    /// The full number, only when revealed.
    pub id_number: Option<String>,
    pub persons: usize,
    pub amount_fen: i64,
    pub status_label: String,
    /// First month paid, YYYY-MM.
    pub since: String,
    pub next_review: Option<NaiveDate>,
}

/// Households, persons and money of one township and program.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterTotal {
    pub township: String,
    pub program_name: String,
    pub households: usize,
    pub persons: usize,
    pub amount_fen: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterView {
    pub month: String,
    /// The rows of the page asked for.
    pub rows: Vec<RegisterRow>,
    pub total_rows: usize,
    pub page: usize,
    pub pages: usize,
    pub totals: Vec<RegisterTotal>,
    pub households: usize,
    pub persons: usize,
    pub amount_fen: i64,
}

impl Recipients<'_> {
    /// Fills in the person each row is listed under: the head, or the one covered.
    async fn named(&self, rows: &mut [RegisterRow]) -> Result<()> {
        let ids: Vec<i64> = rows.iter().map(|r| r.enrolment_id).collect();
        let mut tx = self.store.begin_read().await?;
        let people: HashMap<i64, jiuzhu_store::EnrolmentPerson> = tx
            .enrolment_people_of(&ids)
            .await?
            .into_iter()
            .map(|p| (p.enrolment_id, p))
            .collect();
        for r in rows {
            if let Some(p) = people.get(&r.enrolment_id) {
                r.name = p.name.clone();
                r.person_id = p.person_id;
                r.id_number_masked = p.id_number_masked.clone();
            }
        }
        Ok(())
    }

    /// Every line of the register for a month: enrolments paid (or in their gradual exit)
    /// that month, suspended ones shown with nothing paid.
    pub(crate) async fn register_lines(
        &self,
        actor: &Actor,
        q: &RegisterQuery,
    ) -> Result<(NaiveDate, Vec<RegisterRow>)> {
        let month = match q.month.as_deref().filter(|m| !m.trim().is_empty()) {
            Some(m) => parse_month("month", m)?,
            None => month_of(self.today()),
        };
        let mut by_month = self.register_months(actor, q, &[month]).await?;
        Ok((month, by_month.pop().unwrap_or_default()))
    }

    /// The register's lines of each of `months` (the query's month is not read), from one
    /// read of the enrolments and their changes: a report over several months reads them once.
    pub(crate) async fn register_months(
        &self,
        actor: &Actor,
        q: &RegisterQuery,
        months: &[NaiveDate],
    ) -> Result<Vec<Vec<RegisterRow>>> {
        actor.require(Permission::ReadPeople)?;
        let scope = crate::Services::scope_within(actor, q.region.as_deref())?;
        let program = q.program.as_deref().filter(|p| !p.is_empty());
        let mut tx = self.store.begin_read().await?;
        let enrolments = tx.enrolment_lines(&scope, program).await?;
        let changes = tx.change_bodies(&scope).await?;
        let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let named: Option<std::collections::HashSet<i64>> = match search {
            Some(part) => Some(
                tx.enrolments_named(&scope, part)
                    .await?
                    .into_iter()
                    .collect(),
            ),
            None => None,
        };
        let regions: HashMap<String, String> = tx
            .regions_under(actor.scope())
            .await?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect();
        let catalogue = self.catalogue_now(&mut tx).await?;
        drop(tx);
        let mut out = Vec::with_capacity(months.len());
        for &month in months {
            let states = super::states_from(&changes, month)?;
            let mut rows = Vec::new();
            for e in &enrolments {
                let Some(state) = states.get(&e.id) else {
                    continue;
                };
                if matches!(state.status, MonthStatus::NotYet | MonthStatus::Ended) {
                    continue;
                }
                if named.as_ref().is_some_and(|n| !n.contains(&e.id)) {
                    continue;
                }
                let name_of = |len: usize| {
                    regions
                        .get(e.region_code.get(..len).unwrap_or(""))
                        .cloned()
                        .unwrap_or_default()
                };
                rows.push(RegisterRow {
                    enrolment_id: e.id,
                    household_id: e.household_id,
                    program_name: catalogue
                        .item(&e.program)
                        .map_or_else(|| e.program.clone(), |i| i.name.clone()),
                    program: e.program.clone(),
                    township: name_of(9),
                    village: name_of(12),
                    region_code: e.region_code.clone(),
                    // Names are read for the rows shown (`named`).
                    name: String::new(),
                    person_id: e.person_id.unwrap_or(0),
                    id_number_masked: String::new(),
                    id_number: None,
                    persons: state.members.len(),
                    amount_fen: state.amount.fen(),
                    status_label: state.status.label().to_string(),
                    since: e.first_month.format("%Y-%m").to_string(),
                    next_review: e.next_review,
                });
            }
            rows.sort_by(|a, b| {
                (&a.township, &a.village, &a.program, a.household_id).cmp(&(
                    &b.township,
                    &b.village,
                    &b.program,
                    b.household_id,
                ))
            });
            out.push(rows);
        }
        Ok(out)
    }

    /// The register for a month, a page of it, and the totals per township and program.
    pub async fn register(&self, actor: &Actor, q: &RegisterQuery) -> Result<RegisterView> {
        let (month, rows) = self.register_lines(actor, q).await?;
        let mut totals: Vec<RegisterTotal> = Vec::new();
        for r in &rows {
            match totals
                .iter_mut()
                .find(|t| t.township == r.township && t.program_name == r.program_name)
            {
                Some(t) => {
                    t.households += 1;
                    t.persons += r.persons;
                    t.amount_fen += r.amount_fen;
                }
                None => totals.push(RegisterTotal {
                    township: r.township.clone(),
                    program_name: r.program_name.clone(),
                    households: 1,
                    persons: r.persons,
                    amount_fen: r.amount_fen,
                }),
            }
        }
        let pages = rows.len().div_ceil(PAGE_SIZE).max(1);
        let page = q.page.unwrap_or(1).clamp(1, pages);
        let total_rows = rows.len();
        let (households, persons, amount_fen) = (
            rows.len(),
            rows.iter().map(|r| r.persons).sum(),
            rows.iter().map(|r| r.amount_fen).sum(),
        );
        let mut shown: Vec<RegisterRow> = rows
            .into_iter()
            .skip((page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .collect();
        self.named(&mut shown).await?;
        if q.reveal == Some(true) {
            actor.require(Permission::RevealIdentity)?;
            let ids: Vec<i64> = shown.iter().map(|r| r.person_id).collect();
            let mut tx = self.store.begin().await?;
            let numbers: std::collections::HashMap<i64, String> =
                tx.identity_numbers(&ids).await?.into_iter().collect();
            tx.append_audit(&actor.audit(
                "register.reveal",
                "region",
                actor.scope(),
                Some(actor.scope()),
                json!({"month": month.format("%Y-%m").to_string(), "persons": ids}),
            ))
            .await?;
            tx.commit().await?;
            for r in &mut shown {
                r.id_number = numbers.get(&r.person_id).cloned();
            }
        }
        self.reads
            .record(actor.audit(
                "register.read",
                "region",
                actor.scope(),
                Some(actor.scope()),
                json!({"month": month.format("%Y-%m").to_string(), "program": q.program, "households": shown.iter().map(|r| r.household_id).collect::<Vec<_>>()}),
            ))
            .await?;
        Ok(RegisterView {
            month: month.format("%Y-%m").to_string(),
            rows: shown,
            total_rows,
            page,
            pages,
            totals,
            households,
            persons,
            amount_fen,
        })
    }

    /// The 花名册 as an `.xlsx` workbook: one sheet of lines, one of totals.
    pub async fn register_xlsx(&self, actor: &Actor, q: &RegisterQuery) -> Result<Vec<u8>> {
        let (month, mut rows) = self.register_lines(actor, q).await?;
        self.named(&mut rows).await?;
        let region_name = {
            let mut tx = self.store.begin_read().await?;
            let scope = crate::Services::scope_within(actor, q.region.as_deref())?;
            match self.region_name(&mut tx, &scope).await? {
                // A county's (city's) register is titled with its name.
                n if n.is_empty() => tx
                    .get_region(&scope)
                    .await?
                    .map(|r| r.name)
                    .unwrap_or_default(),
                n => n.replace(' ', ""),
            }
        };
        let xlsx = |e: rust_xlsxwriter::XlsxError| {
            ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(format!("xlsx: {e}")))
        };
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let money = Format::new().set_num_format("#,##0.00");
        let month_format = Format::new().set_num_format("yyyy\"年\"m\"月\"");
        let date_format = Format::new().set_num_format("yyyy-mm-dd");
        let sheet = book.add_worksheet();
        sheet.set_name("花名册").map_err(xlsx)?;
        sheet
            .write_string_with_format(
                0,
                0,
                format!(
                    "{region_name}社会救助对象花名册（{}年{}月）",
                    month.format("%Y"),
                    month.format("%-m")
                ),
                &bold,
            )
            .map_err(xlsx)?;
        let headers = [
            "序号",
            "救助项目",
            "乡镇（街道）",
            "村（社区）",
            "户主（对象）姓名",
            "身份证号",
            "保障人数",
            "月救助金（元）",
            "发放状态",
            "纳入月份",
            "下次复核",
        ];
        for (c, h) in headers.iter().enumerate() {
            sheet
                .write_string_with_format(2, c as u16, *h, &bold)
                .map_err(xlsx)?;
        }
        let safe = crate::export::spreadsheet_safe;
        for (i, row) in rows.iter().enumerate() {
            let r = (i + 3) as u32;
            sheet.write_number(r, 0, (i + 1) as f64).map_err(xlsx)?;
            for (c, v) in [
                (1, &row.program_name),
                (2, &row.township),
                (3, &row.village),
                (4, &row.name),
                (5, &row.id_number_masked),
            ] {
                sheet.write_string(r, c, safe(v)).map_err(xlsx)?;
            }
            sheet.write_number(r, 6, row.persons as f64).map_err(xlsx)?;
            sheet
                .write_number_with_format(r, 7, row.amount_fen as f64 / 100.0, &money)
                .map_err(xlsx)?;
            sheet.write_string(r, 8, &row.status_label).map_err(xlsx)?;
            // Dates as dates, so that the sheet sorts and filters them.
            if let Ok(since) = NaiveDate::parse_from_str(&format!("{}-01", row.since), "%Y-%m-%d") {
                sheet
                    .write_datetime_with_format(
                        r,
                        9,
                        excel_date(since).map_err(xlsx)?,
                        &month_format,
                    )
                    .map_err(xlsx)?;
            }
            if let Some(d) = row.next_review {
                sheet
                    .write_datetime_with_format(r, 10, excel_date(d).map_err(xlsx)?, &date_format)
                    .map_err(xlsx)?;
            }
        }
        let last = (rows.len() + 3) as u32;
        sheet
            .write_string_with_format(last, 1, "合计", &bold)
            .map_err(xlsx)?;
        sheet
            .write_number(
                last,
                6,
                rows.iter().map(|r| r.persons).sum::<usize>() as f64,
            )
            .map_err(xlsx)?;
        let total: i64 = rows.iter().map(|r| r.amount_fen).sum();
        sheet
            .write_number_with_format(last, 7, Money::from_fen(total).fen() as f64 / 100.0, &money)
            .map_err(xlsx)?;
        for (c, w) in [(1, 16), (2, 14), (3, 18), (4, 14), (5, 22), (7, 14)] {
            sheet.set_column_width(c, w).map_err(xlsx)?;
        }
        self.reads
            .record(actor.audit(
                "register.export",
                "region",
                actor.scope(),
                Some(actor.scope()),
                json!({"month": month.format("%Y-%m").to_string(), "program": q.program, "rows": rows.len()}),
            ))
            .await?;
        book.save_to_buffer().map_err(xlsx)
    }
}

/// A date as Excel keeps it.
fn excel_date(
    d: NaiveDate,
) -> std::result::Result<rust_xlsxwriter::ExcelDateTime, rust_xlsxwriter::XlsxError> {
    use chrono::Datelike;
    rust_xlsxwriter::ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
}
