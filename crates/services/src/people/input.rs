//! A person as entered, checked once into a [`Person`].

use chrono::NaiveDate;
use jiuzhu_domain::{
    Disability, DisabilityGrade, DisabilityKind, IdNumber, LabourCapacity, Person, Phone,
    RegionCode, RegionLevel, SelfCare,
};
use serde::{Deserialize, Serialize};

use super::blank;
use crate::{Result, ServiceError};

/// A person as entered on the form or sent to the API, before it is checked.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PersonInput {
    /// 18-character resident identity number (15-digit numbers are upgraded).
    pub id_number: String,
    pub name: String,
    /// Region code of the hukou (6, 9 or 12 digits; may lie outside this city).
    pub hukou_region: String,
    /// Village or community (12 digits) where the person lives; must lie in the user's region.
    pub residence_region: String,
    pub residence_since: Option<NaiveDate>,
    pub phone: Option<String>,
    /// 1 (most severe) to 4.
    pub disability_grade: Option<u8>,
    /// visual, hearing, speech, physical, intellectual, mental, multiple
    pub disability_kind: Option<String>,
    pub serious_illness: Option<String>,
    /// full, partial, none
    pub labour_capacity: String,
    /// full, partial, none
    pub self_care: String,
    pub residence_permit: bool,
}

impl PersonInput {
    /// Turns the input into a valid person, naming the first field that is wrong.
    pub fn parse(&self, today: NaiveDate) -> Result<Person> {
        let id_number = IdNumber::parse(&self.id_number, today)
            .map_err(|e| ServiceError::invalid("id_number", e.to_string()))?;
        let region = |field: &str, text: &str| {
            RegionCode::parse(text).map_err(|e| ServiceError::invalid(field, e.to_string()))
        };
        let hukou_region = region("hukou_region", &self.hukou_region)?;
        let residence_region = region("residence_region", &self.residence_region)?;
        if residence_region.level() != RegionLevel::Village {
            return Err(ServiceError::invalid(
                "residence_region",
                "居住地应填写到村（社区），即12位行政区划代码",
            ));
        }
        let phone = blank(&self.phone)
            .map(Phone::parse)
            .transpose()
            .map_err(|e| ServiceError::invalid("phone", e.to_string()))?;
        let disability = match (self.disability_grade, blank(&self.disability_kind)) {
            (None, None) => None,
            (Some(g), Some(k)) => Some(Disability {
                grade: DisabilityGrade::new(g).ok_or_else(|| {
                    ServiceError::invalid(
                        "disability_grade",
                        format!("残疾等级应为1至4级，实际为{g}"),
                    )
                })?,
                kind: DisabilityKind::from_code(k).ok_or_else(|| {
                    ServiceError::invalid("disability_kind", format!("残疾类别“{k}”无效"))
                })?,
            }),
            (Some(_), None) => {
                return Err(ServiceError::invalid(
                    "disability_kind",
                    "填写了残疾等级，须同时填写残疾类别",
                ))
            }
            (None, Some(_)) => {
                return Err(ServiceError::invalid(
                    "disability_grade",
                    "填写了残疾类别，须同时填写残疾等级",
                ))
            }
        };
        if let Some(since) = self.residence_since {
            if since > today {
                return Err(ServiceError::invalid(
                    "residence_since",
                    "居住起始日期不能晚于今天",
                ));
            }
        }
        let labour_capacity =
            LabourCapacity::from_code(self.labour_capacity.trim()).ok_or_else(|| {
                ServiceError::invalid("labour_capacity", "劳动能力应为 full、partial 或 none")
            })?;
        let self_care = SelfCare::from_code(self.self_care.trim()).ok_or_else(|| {
            ServiceError::invalid("self_care", "生活自理能力应为 full、partial 或 none")
        })?;
        let person = Person {
            id_number,
            name: self.name.trim().to_string(),
            hukou_region,
            residence_region,
            residence_since: self.residence_since,
            phone,
            disability,
            serious_illness: blank(&self.serious_illness).map(str::to_string),
            labour_capacity,
            self_care,
            residence_permit: self.residence_permit,
        };
        person
            .validate()
            .map_err(|e| ServiceError::invalid(e.field(), e.to_string()))?;
        Ok(person)
    }
}
