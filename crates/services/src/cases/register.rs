//! 受理、转办、办理结果登记表: one line per requested item of every case filed in a period, as
//! the township keeps it (seed 002 §三(六)), on a page and as an Excel file.

use chrono::NaiveDate;
use jiuzhu_domain::case::{case_deadlines, china_date, CaseState};
use jiuzhu_domain::Permission;

use rust_xlsxwriter::{Format, Workbook};
use serde::Serialize;
use serde_json::json;

use super::views::outcome_text;
use crate::{clock, Actor, Cases, Result, ServiceError};

/// Cases per register, at most: a township's month is far below it.
const REGISTER_LIMIT: i64 = 20_000;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterRow {
    pub case_id: i64,
    pub filed_on: NaiveDate,
    pub applicant: String,
    pub id_number: String,
    pub channel: String,
    pub item: String,
    pub department: String,
    pub form_no: String,
    pub accepted_on: Option<NaiveDate>,
    pub transferred_on: Option<NaiveDate>,
    pub answered_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub fed_back_on: Option<NaiveDate>,
    pub stage: String,
    pub result: String,
    /// Some time limit was missed.
    pub late: bool,
}

/// The Chinese label of a stored item stage code.
pub fn stage_label(code: &str) -> &'static str {
    jiuzhu_domain::case::ItemStage::from_code(code).map_or("", |s| s.label())
}

impl Cases<'_> {
    pub async fn register_rows(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<RegisterRow>> {
        actor.require(Permission::ReadPeople)?;
        if to < from {
            return Err(ServiceError::invalid("to", "结束日期不能早于开始日期"));
        }
        let (start, end) = clock::days(from, to);
        let mut tx = self.store.begin().await?;
        let cases = tx
            .cases_filed(actor.scope(), start, end, REGISTER_LIMIT)
            .await?;
        let catalogue = self.catalogue_now(&mut tx).await?;
        let calendar = self.calendar().current();
        let today = self.today();
        let mut rows = Vec::new();
        for c in &cases {
            let events = tx.case_events(c.id).await?;
            let state = CaseState::fold(&events).map_err(|e| {
                ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(e.to_string()))
            })?;
            let person = tx
                .get_person(c.applicant_person_id, "")
                .await?
                .ok_or(ServiceError::NotFound)?;
            let deadlines = case_deadlines(
                &state,
                |code| catalogue.item(code).map_or(30, |i| i.time_limit_days),
                &calendar,
                today,
            );
            for i in &state.items {
                let item = catalogue.item(&i.item);
                let department = i
                    .department
                    .clone()
                    .or_else(|| item.map(|x| x.department.clone()))
                    .unwrap_or_default();
                let day = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(china_date);
                let result = match (&i.outcome, &i.window_explanation, &i.department_reason) {
                    (Some(o), _, _) => outcome_text(o),
                    (None, Some(e), _) => format!("窗口告知不符合：{e}"),
                    (None, None, Some(r)) => format!("部门认定不符合：{r}"),
                    _ => String::new(),
                };
                rows.push(RegisterRow {
                    case_id: c.id,
                    filed_on: china_date(c.filed_at),
                    applicant: person.person.name.clone(),
                    id_number: person.person.id_number.masked(),
                    channel: jiuzhu_domain::case::Channel::from_code(&c.channel)
                        .map_or("", |x| x.label())
                        .into(),
                    item: item.map_or_else(|| i.item.clone(), |x| x.name.clone()),
                    department: catalogue
                        .departments
                        .iter()
                        .find(|d| d.code == department)
                        .map_or(department.clone(), |d| d.name.clone()),
                    form_no: i.form_no.clone().unwrap_or_default(),
                    accepted_on: day(i.accepted_at),
                    transferred_on: day(i.transferred_at),
                    answered_on: day(i.initial_check_at.or(i.refused_at)),
                    completed_on: day(i.completed_at),
                    fed_back_on: day(i.fed_back_at.or(i.refused_at)),
                    stage: i.stage.label().into(),
                    result,
                    late: deadlines.iter().any(|d| d.item == i.item && d.late),
                });
            }
        }
        tx.append_audit(&actor.audit(
            "register.read",
            "register",
            format!("{from}..{to}"),
            Some(actor.scope()),
            json!({"cases": cases.len()}),
        ))
        .await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// The register as an `.xlsx` workbook.
    pub async fn register_xlsx(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<u8>> {
        let rows = self.register_rows(actor, from, to).await?;
        let xlsx = |e: rust_xlsxwriter::XlsxError| {
            ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(format!("xlsx: {e}")))
        };
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("登记表").map_err(xlsx)?;
        let bold = Format::new().set_bold();
        sheet
            .write_string_with_format(
                0,
                0,
                format!(
                    "受理、转办、办理结果登记表（{from} 至 {to}，{}）",
                    actor.region
                ),
                &bold,
            )
            .map_err(xlsx)?;
        let headers = [
            "案件号",
            "申请日期",
            "申请人",
            "身份证号",
            "申请渠道",
            "救助事项",
            "责任部门",
            "受理单号",
            "受理日期",
            "转办日期",
            "部门答复日期",
            "办结日期",
            "反馈日期",
            "当前状态",
            "办理结果",
            "是否超时",
        ];
        for (c, h) in headers.iter().enumerate() {
            sheet
                .write_string_with_format(2, c as u16, *h, &bold)
                .map_err(xlsx)?;
        }
        let d = |x: Option<NaiveDate>| x.map(|v| v.to_string()).unwrap_or_default();
        for (r, row) in rows.iter().enumerate() {
            let r = (r + 3) as u32;
            let cells = [
                row.case_id.to_string(),
                row.filed_on.to_string(),
                row.applicant.clone(),
                row.id_number.clone(),
                row.channel.clone(),
                row.item.clone(),
                row.department.clone(),
                row.form_no.clone(),
                d(row.accepted_on),
                d(row.transferred_on),
                d(row.answered_on),
                d(row.completed_on),
                d(row.fed_back_on),
                row.stage.clone(),
                row.result.clone(),
                if row.late {
                    "超时".into()
                } else {
                    String::new()
                },
            ];
            for (c, v) in cells.iter().enumerate() {
                sheet.write_string(r, c as u16, v).map_err(xlsx)?;
            }
        }
        sheet.set_column_width(14, 40).map_err(xlsx)?;
        book.save_to_buffer().map_err(xlsx)
    }
}
