//! The person registry: register, correct, read (audited) and search residents.

mod input;
mod name_search;
mod permits;
mod views;

pub use input::PersonInput;
pub use name_search::{name_search, NameSearch};
pub use permits::{NewCitizen, NewCitizens, PermitInput};
pub use views::{PersonSummary, PersonView};

use jiuzhu_domain::{IdNumber, Permission, Person, RegionCode};
use jiuzhu_store::{NewPersonRow, PersonFilter, Tx};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{clock, Actor, People, Result, ServiceError};

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

/// The trimmed text of an optional field, or nothing when it is blank.
pub(crate) fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
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
        // A hukou elsewhere in China is fine (migrants), but it must be a place: a real
        // province, and within a county this platform holds, a division of its tree.
        let hukou = &person.hukou_region;
        let unknown =
            || ServiceError::invalid("hukou_region", format!("户籍地行政区划代码{hukou}不存在"));
        if !hukou.in_known_province() {
            return Err(unknown());
        }
        if tx.get_region(&hukou.as_str()[..6]).await?.is_some()
            && tx.get_region(hukou.as_str()).await?.is_none()
        {
            return Err(unknown());
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
        self.commit_person_view(tx, actor, id).await
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
        self.commit_person_view(tx, actor, id).await
    }

    /// A person's full record. Every read is audited; `reveal` unmasks the identity number and
    /// phone, and is recorded as such.
    pub async fn get(&self, actor: &Actor, id: i64, reveal: bool) -> Result<PersonView> {
        actor.require(Permission::ReadPeople)?;
        if reveal {
            actor.require(Permission::RevealIdentity)?;
        }
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
            let found = tx.search_persons(&filter).await?;
            drop(tx);
            // A list of people is a read of each of them: who saw which names is recorded.
            self.reads
                .record(actor.audit(
                    "person.search",
                    "person",
                    "-",
                    filter.region_prefix.as_deref(),
                    json!({"q": blank(&q.q), "page": page, "shown": found.0.iter().map(|p| p.id).collect::<Vec<_>>()}),
                ))
                .await?;
            found
        };
        Ok(Page {
            items: items.into_iter().map(Into::into).collect(),
            total,
            page,
            per_page: PER_PAGE,
        })
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
