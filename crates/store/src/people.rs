//! Persons. Identity and phone numbers are written only encrypted, with a blind index for exact
//! look-up and a masked copy for lists; the full values are decrypted only for a full record.

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::{
    Disability, DisabilityGrade, DisabilityKind, IdNumber, LabourCapacity, Person, Phone,
    RegionCode, SelfCare, Sex,
};
use serde::Serialize;

use crate::{bind_params, like_prefix, on_tx, value_rows, Param, Result, StoreError, Tx, Where};

pub(crate) const ID_CONTEXT: &str = "persons.id_number";
pub(crate) const PHONE_CONTEXT: &str = "persons.phone";

/// A person as stored, with the full identity and phone numbers decrypted.
#[derive(Debug, Clone)]
pub struct PersonRecord {
    pub id: i64,
    pub person: Person,
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub household_id: Option<i64>,
}

/// A line of a list: masked identity number, no health or phone details beyond the grade.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PersonSummary {
    pub id: i64,
    pub region_code: String,
    pub id_number_masked: String,
    pub name: String,
    pub sex: String,
    pub birth_date: NaiveDate,
    pub disability_grade: Option<i64>,
    pub household_id: Option<i64>,
}

/// What a new or changed person row holds besides the domain fields: the search forms of the name.
pub struct NewPersonRow<'a> {
    pub person: &'a Person,
    pub name_pinyin: &'a str,
    pub name_initials: &'a str,
}

#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    /// The caller's region: only people whose region lies inside it are seen.
    pub scope: String,
    pub region_prefix: Option<String>,
    pub name_prefix: Option<String>,
    /// Lower-case pinyin without spaces, or initials (`zs` for 张三).
    pub pinyin_prefix: Option<String>,
    pub id_number_index: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(sqlx::FromRow)]
struct PersonRow {
    id: i64,
    region_code: String,
    id_number_cipher: Vec<u8>,
    name: String,
    hukou_region: String,
    residence_since: Option<NaiveDate>,
    phone_cipher: Option<Vec<u8>>,
    disability_grade: Option<i64>,
    disability_kind: Option<String>,
    serious_illness: Option<String>,
    labour_capacity: String,
    self_care: String,
    residence_permit: bool,
    revision: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    household_id: Option<i64>,
}

const SELECT_FULL: &str = "SELECT p.id, p.region_code, p.id_number_cipher, p.name, p.hukou_region,
    p.residence_since, p.phone_cipher, p.disability_grade, p.disability_kind, p.serious_illness,
    p.labour_capacity, p.self_care, p.residence_permit, p.revision, p.created_at, p.updated_at,
    (SELECT m.household_id FROM household_members m WHERE m.person_id = p.id AND m.to_date IS NULL) AS household_id
    FROM persons p";

const SELECT_SUMMARY: &str = "SELECT p.id, p.region_code, p.id_number_masked, p.name, p.sex,
    p.birth_date, p.disability_grade,
    (SELECT m.household_id FROM household_members m WHERE m.person_id = p.id AND m.to_date IS NULL) AS household_id
    FROM persons p";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}“{value}”"))
}

impl PersonRow {
    fn into_record(self, tx: &Tx) -> Result<PersonRecord> {
        let cipher = tx.cipher();
        let id_text = cipher.decrypt(ID_CONTEXT, &self.id_number_cipher)?;
        // Stored numbers were checked on entry; the far date only skips the "born in future" test.
        let id_number = IdNumber::parse(&id_text, NaiveDate::MAX)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let phone = match &self.phone_cipher {
            Some(blob) => {
                let text = cipher.decrypt(PHONE_CONTEXT, blob)?;
                Some(Phone::parse(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?)
            }
            None => None,
        };
        let disability = match (self.disability_grade, &self.disability_kind) {
            (Some(g), Some(k)) => Some(Disability {
                grade: u8::try_from(g)
                    .ok()
                    .and_then(DisabilityGrade::new)
                    .ok_or_else(|| corrupt("残疾等级", &g.to_string()))?,
                kind: DisabilityKind::from_code(k).ok_or_else(|| corrupt("残疾类别", k))?,
            }),
            _ => None,
        };
        let region = |s: &str| RegionCode::parse(s).map_err(|_| corrupt("行政区划代码", s));
        Ok(PersonRecord {
            id: self.id,
            person: Person {
                id_number,
                name: self.name,
                hukou_region: region(&self.hukou_region)?,
                residence_region: region(&self.region_code)?,
                residence_since: self.residence_since,
                phone,
                disability,
                serious_illness: self.serious_illness,
                labour_capacity: LabourCapacity::from_code(&self.labour_capacity)
                    .ok_or_else(|| corrupt("劳动能力", &self.labour_capacity))?,
                self_care: SelfCare::from_code(&self.self_care)
                    .ok_or_else(|| corrupt("自理能力", &self.self_care))?,
                residence_permit: self.residence_permit,
            },
            revision: self.revision,
            created_at: self.created_at,
            updated_at: self.updated_at,
            household_id: self.household_id,
        })
    }
}

fn sex_code(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "male",
        Sex::Female => "female",
    }
}

/// The column values of a person row, in the order of `COLUMNS`.
struct Encoded {
    region_code: String,
    id_cipher: Vec<u8>,
    id_index: String,
    id_masked: String,
    name: String,
    pinyin: String,
    initials: String,
    sex: &'static str,
    birth: NaiveDate,
    hukou: String,
    since: Option<NaiveDate>,
    phone_cipher: Option<Vec<u8>>,
    phone_masked: Option<String>,
    grade: Option<i64>,
    kind: Option<&'static str>,
    illness: Option<String>,
    labour: &'static str,
    self_care: &'static str,
    permit: bool,
}

const COLUMNS: &str = "region_code, id_number_cipher, id_number_index, id_number_masked, name,
    name_pinyin, name_initials, sex, birth_date, hukou_region, residence_since, phone_cipher,
    phone_masked, disability_grade, disability_kind, serious_illness, labour_capacity, self_care,
    residence_permit, revision, created_at, updated_at";
const COLUMN_COUNT: usize = 22;

fn encode(tx: &Tx, row: &NewPersonRow<'_>) -> Encoded {
    let p = row.person;
    let cipher = tx.cipher();
    let id = p.id_number.expose();
    Encoded {
        region_code: p.residence_region.to_string(),
        id_cipher: cipher.encrypt(ID_CONTEXT, id),
        id_index: cipher.blind_index(ID_CONTEXT, id),
        id_masked: p.id_number.masked(),
        name: p.name.trim().to_string(),
        pinyin: row.name_pinyin.to_string(),
        initials: row.name_initials.to_string(),
        sex: sex_code(p.sex()),
        birth: p.birth_date(),
        hukou: p.hukou_region.to_string(),
        since: p.residence_since,
        phone_cipher: p
            .phone
            .as_ref()
            .map(|ph| cipher.encrypt(PHONE_CONTEXT, ph.expose())),
        phone_masked: p.phone.as_ref().map(Phone::masked),
        grade: p.disability.map(|d| i64::from(d.grade.get())),
        kind: p.disability.map(|d| d.kind.code()),
        illness: p.serious_illness.clone().filter(|s| !s.trim().is_empty()),
        labour: p.labour_capacity.code(),
        self_care: p.self_care.code(),
        permit: p.residence_permit,
    }
}

macro_rules! bind_person {
    ($q:expr, $e:expr, $now:expr) => {
        $q.bind($e.region_code)
            .bind($e.id_cipher)
            .bind($e.id_index)
            .bind($e.id_masked)
            .bind($e.name)
            .bind($e.pinyin)
            .bind($e.initials)
            .bind($e.sex)
            .bind($e.birth)
            .bind($e.hukou)
            .bind($e.since)
            .bind($e.phone_cipher)
            .bind($e.phone_masked)
            .bind($e.grade)
            .bind($e.kind)
            .bind($e.illness)
            .bind($e.labour)
            .bind($e.self_care)
            .bind($e.permit)
            .bind(1i64)
            .bind($now)
            .bind($now)
    };
}

impl Tx {
    pub async fn insert_person(&mut self, row: NewPersonRow<'_>) -> Result<i64> {
        let e = encode(self, &row);
        let now = Utc::now();
        let sql = format!(
            "INSERT INTO persons ({COLUMNS}) VALUES {} RETURNING id",
            value_rows(self.backend(), 1, COLUMN_COUNT)
        );
        let id: i64 = on_tx!(self, c => bind_person!(sqlx::query_scalar(&sql), e, now)
            .fetch_one(c)
            .await)?;
        Ok(id)
    }

    /// Inserts many persons in one statement per chunk; returns their ids in order.
    pub async fn insert_persons(&mut self, rows: &[NewPersonRow<'_>]) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        let now = Utc::now();
        // 400 rows × 22 columns stays under both backends' parameter limits.
        for chunk in rows.chunks(400) {
            let encoded: Vec<Encoded> = chunk.iter().map(|r| encode(self, r)).collect();
            let order: Vec<String> = encoded.iter().map(|e| e.id_index.clone()).collect();
            let sql = format!(
                "INSERT INTO persons ({COLUMNS}) VALUES {} RETURNING id, id_number_index",
                value_rows(self.backend(), chunk.len(), COLUMN_COUNT)
            );
            let got: Vec<(i64, String)> = on_tx!(self, c => {
                let mut q = sqlx::query_as(&sql);
                for e in encoded {
                    q = bind_person!(q, e, now);
                }
                q.fetch_all(c).await
            })?;
            // RETURNING order is not promised by either backend: match rows by their index.
            let by_index: std::collections::HashMap<String, i64> =
                got.into_iter().map(|(id, ix)| (ix, id)).collect();
            for ix in order {
                ids.push(*by_index.get(&ix).ok_or(StoreError::NotFound)?);
            }
        }
        Ok(ids)
    }

    pub async fn update_person(
        &mut self,
        id: i64,
        row: NewPersonRow<'_>,
        revision: i64,
    ) -> Result<()> {
        let e = encode(self, &row);
        let now = Utc::now();
        let done = on_tx!(self, c => sqlx::query(
            "UPDATE persons SET region_code = $1, id_number_cipher = $2, id_number_index = $3,
                id_number_masked = $4, name = $5, name_pinyin = $6, name_initials = $7, sex = $8,
                birth_date = $9, hukou_region = $10, residence_since = $11, phone_cipher = $12,
                phone_masked = $13, disability_grade = $14, disability_kind = $15,
                serious_illness = $16, labour_capacity = $17, self_care = $18,
                residence_permit = $19, revision = revision + 1, updated_at = $20
             WHERE id = $21 AND revision = $22")
            .bind(e.region_code).bind(e.id_cipher).bind(e.id_index).bind(e.id_masked)
            .bind(e.name).bind(e.pinyin).bind(e.initials).bind(e.sex).bind(e.birth)
            .bind(e.hukou).bind(e.since).bind(e.phone_cipher).bind(e.phone_masked)
            .bind(e.grade).bind(e.kind).bind(e.illness).bind(e.labour).bind(e.self_care)
            .bind(e.permit).bind(now).bind(id).bind(revision)
            .execute(c).await.map(|r| r.rows_affected()))?;
        if done == 1 {
            Ok(())
        } else {
            Err(StoreError::Stale)
        }
    }

    /// The person with `id` if their region lies within `scope`.
    pub async fn get_person(&mut self, id: i64, scope: &str) -> Result<Option<PersonRecord>> {
        let sql = format!("{SELECT_FULL} WHERE p.id = $1 AND p.region_code LIKE $2");
        let row: Option<PersonRow> = on_tx!(self, c => sqlx::query_as(&sql)
            .bind(id)
            .bind(like_prefix(scope))
            .fetch_optional(c)
            .await)?;
        row.map(|r| r.into_record(self)).transpose()
    }

    /// Id and region of whoever holds this identity number, in any region (for duplicates).
    pub async fn find_id_number(&mut self, id_number: &IdNumber) -> Result<Option<(i64, String)>> {
        let index = self.cipher().blind_index(ID_CONTEXT, id_number.expose());
        let row: Option<(i64, String)> = on_tx!(self, c => sqlx::query_as(
            "SELECT id, region_code FROM persons WHERE id_number_index = $1")
            .bind(index)
            .fetch_optional(c)
            .await)?;
        Ok(row)
    }

    pub async fn search_persons(&mut self, f: &PersonFilter) -> Result<(Vec<PersonSummary>, i64)> {
        let mut w = Where::default();
        w.and("p.region_code LIKE ?", Param::Text(like_prefix(&f.scope)));
        if let Some(r) = &f.region_prefix {
            w.and("p.region_code LIKE ?", Param::Text(like_prefix(r)));
        }
        if let Some(n) = &f.name_prefix {
            w.and("p.name LIKE ? ESCAPE '\\'", Param::Text(like_prefix(n)));
        }
        if let Some(py) = &f.pinyin_prefix {
            // Full pinyin from the start, or the initials of any reading of the name.
            w.and(
                "(p.name_pinyin LIKE ? ESCAPE '\\' OR (' ' || p.name_initials) LIKE ('% ' || ?) ESCAPE '\\')",
                Param::Text(like_prefix(py)),
            );
        }
        if let Some(ix) = &f.id_number_index {
            w.and("p.id_number_index = ?", Param::Text(ix.clone()));
        }
        let count_sql = format!("SELECT COUNT(*) FROM persons p{}", w.sql());
        let total: i64 = on_tx!(self, c => bind_params!(sqlx::query_scalar(&count_sql), &w.params)
            .fetch_one(c)
            .await)?;
        let n = w.next();
        let sql = format!(
            "{SELECT_SUMMARY}{} ORDER BY p.region_code, p.name, p.id LIMIT ${} OFFSET ${}",
            w.sql(),
            n,
            n + 1
        );
        let rows: Vec<PersonSummary> = on_tx!(self, c => bind_params!(sqlx::query_as(&sql), &w.params)
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(c)
            .await)?;
        Ok((rows, total))
    }

    pub async fn count_persons(&mut self, scope: &str) -> Result<i64> {
        let n: i64 = on_tx!(self, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM persons WHERE region_code LIKE $1")
            .bind(like_prefix(scope))
            .fetch_one(c)
            .await)?;
        Ok(n)
    }

    /// Name and masked identity number, without decrypting anything.
    pub async fn person_brief(&mut self, id: i64) -> Result<Option<(String, String)>> {
        let row = on_tx!(self, c => sqlx::query_as(
            "SELECT name, id_number_masked FROM persons WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await)?;
        Ok(row)
    }

    /// Identity number and name of every person within `scope`, decrypted (for generating
    /// test feeds that match the registry; callers audit it).
    pub async fn identities(&mut self, scope: &str) -> Result<Vec<(String, String)>> {
        let rows: Vec<(Vec<u8>, String)> = on_tx!(self, c => sqlx::query_as(
            "SELECT id_number_cipher, name FROM persons WHERE region_code LIKE $1 ORDER BY id")
            .bind(like_prefix(scope))
            .fetch_all(c)
            .await)?;
        let cipher = self.cipher();
        rows.into_iter()
            .map(|(blob, name)| Ok((cipher.decrypt(ID_CONTEXT, &blob)?, name)))
            .collect()
    }
}
