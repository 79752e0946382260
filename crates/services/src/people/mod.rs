//! The person registry: register, correct, read (audited) and search residents.

mod name_search;

pub use name_search::{name_search, NameSearch};

use chrono::NaiveDate;
use jiuzhu_domain::{
    Disability, DisabilityGrade, DisabilityKind, IdNumber, LabourCapacity, Permission, Person,
    Phone, RegionCode, RegionLevel, SelfCare,
};
use jiuzhu_store::{
    AuditRepo, NewPersonRow, PeopleRepo, PersonFilter, PersonRecord, PersonSummary, RegionRepo, Tx,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{clock, Actor, People, Result, ServiceError, Services};

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

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct PersonQuery {
    /// Name (prefix), pinyin or initials, or a full identity number.
    pub q: Option<String>,
    /// Region code prefix within the user's region.
    pub region: Option<String>,
    pub page: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

pub const PER_PAGE: i64 = 50;

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
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

impl People<'_> {
    async fn check_residence(&self, tx: &mut Tx, actor: &Actor, person: &Person) -> Result<()> {
        if !actor.covers(&person.residence_region) {
            return Err(ServiceError::invalid(
                "residence_region",
                format!(
                    "居住地{}不在您的管辖范围（{}）内",
                    person.residence_region, actor.region
                ),
            ));
        }
        if tx
            .get_region(person.residence_region.as_str())
            .await?
            .is_none()
        {
            return Err(ServiceError::invalid(
                "residence_region",
                format!("行政区划代码{}不存在", person.residence_region),
            ));
        }
        Ok(())
    }

    pub async fn create(&self, actor: &Actor, input: &PersonInput) -> Result<PersonView> {
        actor.require(Permission::WritePeople)?;
        let person = input.parse(clock::today())?;
        let mut tx = self.store.begin().await?;
        self.check_residence(&mut tx, actor, &person).await?;
        if tx.find_id_number(&person.id_number).await?.is_some() {
            return Err(ServiceError::Conflict {
                field: Some("id_number".into()),
                message: format!("身份证号{}已登记，请勿重复登记", person.id_number),
            });
        }
        let search = name_search(&person.name);
        let id = tx
            .insert_person(NewPersonRow {
                person: &person,
                name_pinyin: &search.pinyin,
                name_initials: &search.initials,
            })
            .await?;
        tx.append_audit(&actor.audit(
            "person.create",
            "person",
            id,
            Some(person.residence_region.as_str()),
            json!({"name": person.name, "id_number": person.id_number.masked()}),
        ))
        .await?;
        let record = tx
            .get_person(id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let view = self.person_view(&mut tx, &record, false).await?;
        tx.commit().await?;
        Ok(view)
    }

    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        revision: i64,
        input: &PersonInput,
    ) -> Result<PersonView> {
        actor.require(Permission::WritePeople)?;
        let mut tx = self.store.begin().await?;
        // Scope first: someone outside the region learns nothing, not even which field is wrong.
        let before = tx
            .get_person(id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let person = input.parse(clock::today())?;
        self.check_residence(&mut tx, actor, &person).await?;
        if let Some((other, _)) = tx.find_id_number(&person.id_number).await? {
            if other != id {
                return Err(ServiceError::Conflict {
                    field: Some("id_number".into()),
                    message: format!("身份证号{}已属于另一登记人员", person.id_number),
                });
            }
        }
        let search = name_search(&person.name);
        tx.update_person(
            id,
            NewPersonRow {
                person: &person,
                name_pinyin: &search.pinyin,
                name_initials: &search.initials,
            },
            revision,
        )
        .await?;
        tx.append_audit(&actor.audit(
            "person.update",
            "person",
            id,
            Some(person.residence_region.as_str()),
            json!({"changed": changed_fields(&before.person, &person)}),
        ))
        .await?;
        let record = tx
            .get_person(id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let view = self.person_view(&mut tx, &record, false).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// A person's full record. Every read is audited; `reveal` unmasks the identity number and
    /// phone, and is recorded as such.
    pub async fn get(&self, actor: &Actor, id: i64, reveal: bool) -> Result<PersonView> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        let record = tx
            .get_person(id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let view = self.person_view(&mut tx, &record, reveal).await?;
        drop(tx);
        // Shown only once the read is recorded.
        let action = if reveal {
            "person.reveal"
        } else {
            "person.read"
        };
        let region = record.person.residence_region.as_str();
        self.reads
            .record(actor.audit(action, "person", id, Some(region), json!({})))
            .await?;
        Ok(view)
    }

    pub async fn search(&self, actor: &Actor, q: &PersonQuery) -> Result<Page<PersonSummary>> {
        actor.require(Permission::ReadPeople)?;
        let page = q.page.unwrap_or(1).max(1);
        let mut filter = PersonFilter {
            scope: actor.scope().to_string(),
            limit: PER_PAGE,
            offset: (page - 1) * PER_PAGE,
            ..Default::default()
        };
        if let Some(region) = blank(&q.region) {
            let region = RegionCode::parse(region)
                .map_err(|e| ServiceError::invalid("region", e.to_string()))?;
            filter.region_prefix = Some(region.to_string());
        }
        let mut audited_id = None;
        if let Some(text) = blank(&q.q) {
            if text.chars().any(|c| c.is_ascii_digit()) {
                let id = IdNumber::parse(text, clock::today())
                    .map_err(|e| ServiceError::invalid("q", e.to_string()))?;
                filter.id_number_index = Some(
                    self.store
                        .cipher()
                        .blind_index(jiuzhu_store::crypto_contexts::ID_NUMBER, id.expose()),
                );
                audited_id = Some(id.masked());
            } else if text.chars().all(|c| c.is_ascii_alphabetic()) {
                filter.pinyin_prefix = Some(text.to_ascii_lowercase());
            } else {
                filter.name_prefix = Some(text.to_string());
            }
        }
        let (items, total) = if let Some(masked) = audited_id {
            // A look-up by identity number is recorded: it tells whether someone is registered.
            let mut tx = self.store.begin().await?;
            let found = tx.search_persons(&filter).await?;
            tx.append_audit(&actor.audit(
                "person.lookup",
                "person",
                "-",
                None,
                json!({"id_number": masked, "found": found.1}),
            ))
            .await?;
            tx.commit().await?;
            found
        } else {
            let mut tx = self.store.begin_read().await?;
            tx.search_persons(&filter).await?
        };
        Ok(Page {
            items,
            total,
            page,
            per_page: PER_PAGE,
        })
    }
}

impl Services {
    pub(crate) async fn person_view(
        &self,
        tx: &mut Tx,
        r: &PersonRecord,
        reveal: bool,
    ) -> Result<PersonView> {
        let p = &r.person;
        let region_name = self.region_name(tx, p.residence_region.as_str()).await?;
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

/// Names of the fields that differ; sensitive values are not copied into the audit log.
fn changed_fields(a: &Person, b: &Person) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut check = |name, differs: bool| {
        if differs {
            out.push(name);
        }
    };
    check("id_number", a.id_number != b.id_number);
    check("name", a.name != b.name);
    check("hukou_region", a.hukou_region != b.hukou_region);
    check("residence_region", a.residence_region != b.residence_region);
    check("residence_since", a.residence_since != b.residence_since);
    check("phone", a.phone != b.phone);
    check("disability", a.disability != b.disability);
    check("serious_illness", a.serious_illness != b.serious_illness);
    check("labour_capacity", a.labour_capacity != b.labour_capacity);
    check("self_care", a.self_care != b.self_care);
    check("residence_permit", a.residence_permit != b.residence_permit);
    out
}
