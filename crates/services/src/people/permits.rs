//! New citizens (新市民, seed 000 §三(一)2): residence-permit holders are people of the registry
//! with their permit date and how long they have lived here. Those living here
//! `new_citizens.temporary_months` months or more are covered by temporary assistance; those
//! working, aged 16 to 60 and holding the permit a year are listed for the insurer's accident
//! insurance. Points (积分) are kept per person as an append-only record.

use chrono::NaiveDate;
use jiuzhu_domain::social::{accident_insurance_eligible, covered_by_temporary};
use jiuzhu_domain::{age_between, IdNumber, Permission};
use rust_xlsxwriter::{Format, Workbook};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::openness::bounded;
use crate::{Actor, People, Result, ServiceError};

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PermitInput {
    /// The holder's identity number (a registered person within one's region).
    pub id_number: String,
    pub issued_on: Option<NaiveDate>,
    /// Since when the holder has lived here.
    pub resident_since: Option<NaiveDate>,
    pub working: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewCitizen {
    pub person_id: i64,
    pub name: String,
    pub id_number_masked: String,
    pub place: String,
    pub age: u32,
    pub issued_on: NaiveDate,
    pub resident_since: NaiveDate,
    pub working: bool,
    /// Lives here long enough for temporary assistance.
    pub temporary_covered: bool,
    /// Listed for the accident insurance.
    pub insurance_eligible: bool,
    pub points: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewCitizens {
    pub rows: Vec<NewCitizen>,
    pub covered: usize,
    pub eligible: usize,
    pub months: i64,
}

impl People<'_> {
    /// Records (or updates) a person's residence permit.
    pub async fn record_permit(&self, actor: &Actor, input: &PermitInput) -> Result<NewCitizens> {
        actor.require(Permission::WritePeople)?;
        let today = self.today();
        let id = IdNumber::parse(&input.id_number, today)
            .map_err(|e| ServiceError::invalid("id_number", e.to_string()))?;
        let issued = input
            .issued_on
            .ok_or_else(|| ServiceError::invalid("issued_on", "请填写居住证签发日期"))?;
        let since = input
            .resident_since
            .ok_or_else(|| ServiceError::invalid("resident_since", "请填写在本地居住的起始日期"))?;
        if issued > today || since > today {
            return Err(ServiceError::invalid("issued_on", "日期不能晚于今天"));
        }
        let mut tx = self.store.begin().await?;
        let (person, region) = tx
            .find_id_number(&id)
            .await?
            .filter(|(_, r)| r.starts_with(actor.scope()))
            .ok_or_else(|| {
                ServiceError::invalid("id_number", "该身份证号未在本辖区登记：请先登记人员")
            })?;
        tx.upsert_permit(
            person,
            &region,
            issued,
            since,
            input.working,
            &actor.username,
            self.now(),
        )
        .await?;
        tx.append_audit(&actor.audit(
            "permit.record",
            "person",
            person,
            Some(&region),
            json!({"issued_on": issued.to_string(), "resident_since": since.to_string(), "working": input.working}),
        ))
        .await?;
        tx.commit().await?;
        self.new_citizens(actor).await
    }

    /// Residence-permit holders within the actor's region, with what they are covered by.
    pub async fn new_citizens(&self, actor: &Actor) -> Result<NewCitizens> {
        actor.require(Permission::ReadPeople)?;
        let today = self.today();
        let months = self.count_param(actor.scope(), "new_citizens.temporary_months", today)?;
        let mut tx = self.store.begin_read().await?;
        let mut rows = Vec::new();
        for p in tx.permits(actor.scope()).await? {
            rows.push(NewCitizen {
                place: self.region_name(&mut tx, &p.region_code).await?,
                age: age_between(p.birth_date, today),
                temporary_covered: covered_by_temporary(
                    Some(p.resident_since),
                    today,
                    months as u32,
                ),
                insurance_eligible: accident_insurance_eligible(
                    p.birth_date,
                    Some(p.issued_on),
                    p.working,
                    today,
                ),
                person_id: p.person_id,
                name: p.name,
                id_number_masked: p.id_number_masked,
                issued_on: p.issued_on,
                resident_since: p.resident_since,
                working: p.working,
                points: p.points,
            });
        }
        Ok(NewCitizens {
            covered: rows.iter().filter(|r| r.temporary_covered).count(),
            eligible: rows.iter().filter(|r| r.insurance_eligible).count(),
            rows,
            months,
        })
    }

    /// Adds (or, negative, takes back) points of a residence-permit holder.
    pub async fn add_permit_points(
        &self,
        actor: &Actor,
        person_id: i64,
        points: i64,
        reason: &str,
    ) -> Result<NewCitizens> {
        actor.require(Permission::WritePeople)?;
        let reason = bounded("reason", reason, "积分事由", 100)?;
        if points == 0 || points.abs() > 1000 {
            return Err(ServiceError::invalid(
                "points",
                "积分应为-1000至1000之间的非零整数",
            ));
        }
        let mut tx = self.store.begin().await?;
        if !tx
            .permits(actor.scope())
            .await?
            .iter()
            .any(|p| p.person_id == person_id)
        {
            return Err(ServiceError::NotFound);
        }
        tx.add_permit_points(person_id, points, &reason, &actor.username, self.now())
            .await?;
        tx.append_audit(&actor.audit(
            "permit.points",
            "person",
            person_id,
            Some(actor.scope()),
            json!({"points": points, "reason": reason}),
        ))
        .await?;
        tx.commit().await?;
        self.new_citizens(actor).await
    }

    /// Those eligible for the accident insurance, as the workbook sent to the insurer: with
    /// their full identity numbers (the export is recorded).
    pub async fn insurance_xlsx(&self, actor: &Actor) -> Result<Vec<u8>> {
        actor.require(Permission::RevealIdentity)?;
        let list = self.new_citizens(actor).await?;
        let eligible: Vec<&NewCitizen> =
            list.rows.iter().filter(|r| r.insurance_eligible).collect();
        let ids: Vec<i64> = eligible.iter().map(|r| r.person_id).collect();
        let mut tx = self.store.begin().await?;
        let numbers: std::collections::HashMap<i64, String> =
            tx.identity_numbers(&ids).await?.into_iter().collect();
        tx.append_audit(&actor.audit(
            "permit.insurance_export",
            "region",
            actor.scope(),
            Some(actor.scope()),
            json!({"persons": ids}),
        ))
        .await?;
        tx.commit().await?;
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let xl = |e: rust_xlsxwriter::XlsxError| ServiceError::invalid("xlsx", e.to_string());
        let sheet = book.add_worksheet();
        sheet.set_name("新市民意外保险").map_err(xl)?;
        for (c, h) in [
            "序号",
            "姓名",
            "公民身份号码",
            "年龄",
            "居住地",
            "居住证签发日期",
        ]
        .iter()
        .enumerate()
        {
            sheet
                .write_string_with_format(0, c as u16, *h, &bold)
                .map_err(xl)?;
        }
        for (i, r) in eligible.iter().enumerate() {
            let row = i as u32 + 1;
            sheet.write_number(row, 0, (i + 1) as f64).map_err(xl)?;
            sheet.write_string(row, 1, &r.name).map_err(xl)?;
            sheet
                .write_string(
                    row,
                    2,
                    numbers.get(&r.person_id).cloned().unwrap_or_default(),
                )
                .map_err(xl)?;
            sheet.write_number(row, 3, r.age as f64).map_err(xl)?;
            sheet.write_string(row, 4, &r.place).map_err(xl)?;
            sheet
                .write_string(row, 5, r.issued_on.to_string())
                .map_err(xl)?;
        }
        book.save_to_buffer().map_err(xl)
    }
}
