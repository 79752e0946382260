//! A person as shown to someone who handles them.

use chrono::NaiveDate;
use jiuzhu_domain::{RegionCode, RegionLevel};
use jiuzhu_store::{PersonRecord, Tx};
use serde::Serialize;

use crate::{clock, Actor, Result, ServiceError, Services};

/// A line of a list: masked identity number, no health or phone details beyond the grade.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonSummary {
    pub id: i64,
    pub region_code: String,
    pub id_number_masked: String,
    pub name: String,
    pub sex: String,
    /// Age in whole years today; lists show no birth date.
    pub age: u32,
    pub disability_grade: Option<i64>,
    pub household_id: Option<i64>,
}

impl From<jiuzhu_store::PersonSummary> for PersonSummary {
    fn from(r: jiuzhu_store::PersonSummary) -> Self {
        PersonSummary {
            id: r.id,
            region_code: r.region_code,
            id_number_masked: r.id_number_masked,
            name: r.name,
            sex: r.sex,
            age: jiuzhu_domain::age_between(r.birth_date, crate::clock::today()),
            disability_grade: r.disability_grade,
            household_id: r.household_id,
        }
    }
}

/// A full record as shown to someone who handles the person; identity and phone masked unless
/// the caller asked for them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    pub id: i64,
    pub id_number: String,
    pub name: String,
    pub sex: String,
    pub birth_date: NaiveDate,
    pub age: u32,
    pub hukou_region: String,
    /// The hukou place by name (empty when it lies outside the platform's regions).
    pub hukou_region_name: String,
    pub residence_region: String,
    pub residence_region_name: String,
    pub residence_since: Option<NaiveDate>,
    pub phone: Option<String>,
    pub disability_grade: Option<u8>,
    pub disability_kind: Option<String>,
    pub disability_label: Option<String>,
    pub serious_illness: Option<String>,
    pub labour_capacity: String,
    pub labour_capacity_label: String,
    pub self_care: String,
    pub self_care_label: String,
    pub residence_permit: bool,
    pub household_id: Option<i64>,
    pub revision: i64,
}

impl Services {
    /// The person as they stand after a change, committed with it.
    pub(super) async fn commit_person_view(
        &self,
        mut tx: Tx,
        actor: &Actor,
        id: i64,
    ) -> Result<PersonView> {
        let record = tx
            .get_person(id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let view = self.person_view(&mut tx, &record, false).await?;
        tx.commit().await?;
        Ok(view)
    }

    pub(crate) async fn person_view(
        &self,
        tx: &mut Tx,
        r: &PersonRecord,
        reveal: bool,
    ) -> Result<PersonView> {
        let p = &r.person;
        let region_name = self.region_name(tx, p.residence_region.as_str()).await?;
        let hukou_region_name = self.region_name(tx, p.hukou_region.as_str()).await?;
        Ok(PersonView {
            id: r.id,
            id_number: if reveal {
                p.id_number.expose().to_string()
            } else {
                p.id_number.masked()
            },
            name: p.name.clone(),
            sex: p.sex().label().to_string(),
            birth_date: p.birth_date(),
            age: p.id_number.age_on(clock::today()),
            hukou_region: p.hukou_region.to_string(),
            hukou_region_name,
            residence_region: p.residence_region.to_string(),
            residence_region_name: region_name,
            residence_since: p.residence_since,
            phone: p.phone.as_ref().map(|ph| {
                if reveal {
                    ph.expose().to_string()
                } else {
                    ph.masked()
                }
            }),
            disability_grade: p.disability.map(|d| d.grade.get()),
            disability_kind: p.disability.map(|d| d.kind.code().to_string()),
            disability_label: p
                .disability
                .map(|d| format!("{}{}", d.kind.label(), d.grade.label())),
            serious_illness: p.serious_illness.clone(),
            labour_capacity: p.labour_capacity.code().to_string(),
            labour_capacity_label: p.labour_capacity.label().to_string(),
            self_care: p.self_care.code().to_string(),
            self_care_label: p.self_care.label().to_string(),
            residence_permit: p.residence_permit,
            household_id: r.household_id,
            revision: r.revision,
        })
    }

    /// "杨舍镇 东湖村": the names of a region and its township, for display.
    pub(crate) async fn region_name(&self, tx: &mut Tx, code: &str) -> Result<String> {
        let region = RegionCode::parse(code).map_err(|_| ServiceError::NotFound)?;
        let mut names = Vec::new();
        let mut wanted = Vec::new();
        if let Some(town) = region.at_level(RegionLevel::Township) {
            wanted.push(town.to_string());
        }
        if region.level() == RegionLevel::Village {
            wanted.push(code.to_string());
        }
        for c in wanted {
            let cached = self
                .region_names
                .read()
                .expect("region lock")
                .get(&c)
                .cloned();
            let name = match cached {
                Some(n) => Some(n),
                None => {
                    let found = tx.get_region(&c).await?.map(|r| r.name);
                    if let Some(n) = &found {
                        self.region_names
                            .write()
                            .expect("region lock")
                            .insert(c.clone(), n.clone());
                    }
                    found
                }
            };
            names.extend(name);
        }
        Ok(names.join(" "))
    }
}
