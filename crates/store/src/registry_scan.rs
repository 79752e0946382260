//! The whole registry of a region in memory, for what-if simulation: households with their
//! current members' ages, health, capacities and incomes. No names, no numbers.
//!
//! Four sequential scans (households, persons, incomes, memberships) joined in memory by id are
//! far faster than one join on a city of a million households; on SQLite they run in process
//! on one read transaction (one snapshot), on PostgreSQL in one repeatable-read transaction.

use std::path::PathBuf;

use chrono::NaiveDate;
use futures_util::TryStreamExt;

use crate::{like_prefix, Result, StoreError};

/// A current member of a household, as the programs need them.
#[derive(Debug, Clone, Copy)]
pub struct ScanPerson {
    pub birth: NaiveDate,
    pub hukou_local: bool,
    /// 0 when no disability certificate.
    pub disability_grade: u8,
    /// 1 intellectual, 2 mental, 0 other.
    pub disability_kind: u8,
    pub ill: bool,
    /// 0 full, 1 partial, 2 none.
    pub labour: u8,
    /// 0 full, 1 partial, 2 none.
    pub self_care: u8,
    /// Monthly income that counts, in fen.
    pub counted: i64,
    /// 优抚金 and 五老 subsidies, in fen.
    pub excluded: i64,
}

/// Households in id order; the members of household `i` are `persons[offsets[i]..offsets[i+1]]`.
#[derive(Debug, Default)]
pub struct RegistryScan {
    pub household_ids: Vec<i64>,
    /// The township's 9-digit code as a number.
    pub townships: Vec<i64>,
    pub offsets: Vec<u32>,
    pub persons: Vec<ScanPerson>,
}

impl RegistryScan {
    pub fn households(&self) -> usize {
        self.household_ids.len()
    }

    pub fn members(&self, i: usize) -> &[ScanPerson] {
        &self.persons[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
}

#[derive(Clone, Copy)]
struct Slot {
    person: ScanPerson,
    /// The first six digits of the hukou region.
    hukou_county: u32,
    present: bool,
}

/// Assembles the scan from rows given in any order.
struct Builder {
    /// Household id → index, `u32::MAX` when not in scope.
    household_index: Vec<u32>,
    household_ids: Vec<i64>,
    townships: Vec<i64>,
    counties: Vec<u32>,
    slots: Vec<Slot>,
    members: Vec<(u32, u32)>,
}

fn digits(s: &str) -> Option<u32> {
    s.parse().ok()
}

fn level(code: &str) -> u8 {
    match code {
        "partial" => 1,
        "none" => 2,
        _ => 0,
    }
}

/// `YYYY-MM-DD` without the general parser: a million rows need it fast.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    NaiveDate::from_ymd_opt(n(0..4)? as i32, n(5..7)?, n(8..10)?)
}

impl Builder {
    fn new() -> Builder {
        Builder {
            household_index: Vec::new(),
            household_ids: Vec::new(),
            townships: Vec::new(),
            counties: Vec::new(),
            slots: Vec::new(),
            members: Vec::new(),
        }
    }

    fn household(&mut self, id: i64, region: &str) -> Result<()> {
        let bad = || StoreError::Corrupt(format!("户{id}的区划“{region}”"));
        let index = usize::try_from(id).map_err(|_| bad())?;
        if self.household_index.len() <= index {
            self.household_index.resize(index + 1, u32::MAX);
        }
        self.household_index[index] = self.household_ids.len() as u32;
        self.household_ids.push(id);
        self.townships.push(
            region
                .get(..9)
                .and_then(|t| t.parse().ok())
                .ok_or_else(bad)?,
        );
        self.counties
            .push(region.get(..6).and_then(digits).ok_or_else(bad)?);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn person(
        &mut self,
        id: i64,
        birth: NaiveDate,
        hukou: &str,
        grade: Option<i64>,
        kind: Option<&str>,
        ill: bool,
        labour: &str,
        self_care: &str,
    ) {
        let Ok(index) = usize::try_from(id) else {
            return;
        };
        if self.slots.len() <= index {
            let empty = Slot {
                person: ScanPerson {
                    birth: NaiveDate::MIN,
                    hukou_local: false,
                    disability_grade: 0,
                    disability_kind: 0,
                    ill: false,
                    labour: 0,
                    self_care: 0,
                    counted: 0,
                    excluded: 0,
                },
                hukou_county: 0,
                present: false,
            };
            self.slots
                .resize((index + 1).max(self.slots.len() * 5 / 4), empty);
        }
        let slot = &mut self.slots[index];
        slot.present = true;
        slot.hukou_county = hukou.get(..6).and_then(digits).unwrap_or(0);
        slot.person.birth = birth;
        slot.person.disability_grade = grade.map_or(0, |g| g.clamp(0, 4) as u8);
        slot.person.disability_kind = match kind {
            Some("intellectual") => 1,
            Some("mental") => 2,
            _ => 0,
        };
        slot.person.ill = ill;
        slot.person.labour = level(labour);
        slot.person.self_care = level(self_care);
    }

    fn income(&mut self, person_id: i64, kind: &str, fen: i64) {
        let Some(slot) = usize::try_from(person_id)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
        else {
            return;
        };
        if !slot.present {
            return;
        }
        if matches!(kind, "special_care" | "veteran_subsidy") {
            slot.person.excluded += fen;
        } else {
            slot.person.counted += fen;
        }
    }

    fn member(&mut self, household_id: i64, person_id: i64) {
        let household = usize::try_from(household_id)
            .ok()
            .and_then(|i| self.household_index.get(i).copied())
            .unwrap_or(u32::MAX);
        let present = usize::try_from(person_id)
            .ok()
            .and_then(|i| self.slots.get(i))
            .is_some_and(|s| s.present);
        if household != u32::MAX && present {
            self.members.push((household, person_id as u32));
        }
    }

    /// Groups the members by household (a counting sort: households are already in order).
    fn finish(self) -> RegistryScan {
        let n = self.household_ids.len();
        let mut offsets = vec![0u32; n + 1];
        for &(h, _) in &self.members {
            offsets[h as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut next = offsets.clone();
        let empty = self.slots.first().map(|s| s.person);
        let mut persons = vec![
            empty.unwrap_or(ScanPerson {
                birth: NaiveDate::MIN,
                hukou_local: false,
                disability_grade: 0,
                disability_kind: 0,
                ill: false,
                labour: 0,
                self_care: 0,
                counted: 0,
                excluded: 0,
            });
            self.members.len()
        ];
        for &(h, p) in &self.members {
            let slot = &self.slots[p as usize];
            let mut person = slot.person;
            person.hukou_local = slot.hukou_county == self.counties[h as usize];
            persons[next[h as usize] as usize] = person;
            next[h as usize] += 1;
        }
        RegistryScan {
            household_ids: self.household_ids,
            townships: self.townships,
            offsets,
            persons,
        }
    }
}

const HOUSEHOLDS: &str =
    "SELECT id, region_code FROM households WHERE region_code LIKE $1 ORDER BY id";
const PERSONS: &str = "SELECT id, birth_date, hukou_region, disability_grade, disability_kind, serious_illness IS NOT NULL, labour_capacity, self_care FROM persons WHERE region_code LIKE $1";
const INCOMES: &str =
    "SELECT person_id, kind, monthly_fen FROM incomes WHERE region_code LIKE $1 AND since <= $2";
const MEMBERS: &str = "SELECT household_id, person_id FROM household_members WHERE to_date IS NULL AND region_code LIKE $1";

/// SQLite, in process, on one read transaction.
pub(crate) fn scan_sqlite(path: &PathBuf, scope: &str, until: NaiveDate) -> Result<RegistryScan> {
    use rusqlite::{Connection, OpenFlags};
    let err = |e: rusqlite::Error| StoreError::Corrupt(format!("登记库扫描：{e}"));
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    conn.execute_batch("PRAGMA cache_size = -65536; BEGIN")
        .map_err(err)?;
    let prefix = like_prefix(scope);
    let until = until.format("%Y-%m-%d").to_string();
    let sql = |s: &str| s.replace("$1", "?1").replace("$2", "?2");
    let mut b = Builder::new();
    {
        let mut st = conn.prepare(&sql(HOUSEHOLDS)).map_err(err)?;
        let mut rows = st.query([&prefix]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            b.household(
                r.get(0).map_err(err)?,
                r.get_ref(1).map_err(err)?.as_str().unwrap_or(""),
            )?;
        }
    }
    {
        let mut st = conn.prepare(&sql(PERSONS)).map_err(err)?;
        let mut rows = st.query([&prefix]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let text = |i: usize| r.get_ref(i).ok().and_then(|v| v.as_str().ok());
            let id: i64 = r.get(0).map_err(err)?;
            let birth = text(1)
                .and_then(parse_date)
                .ok_or_else(|| StoreError::Corrupt(format!("人员{id}的出生日期")))?;
            b.person(
                id,
                birth,
                text(2).unwrap_or(""),
                r.get(3).map_err(err)?,
                text(4),
                r.get(5).map_err(err)?,
                text(6).unwrap_or(""),
                text(7).unwrap_or(""),
            );
        }
    }
    {
        let mut st = conn.prepare(&sql(INCOMES)).map_err(err)?;
        let mut rows = st.query([&prefix, &until]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let kind = r.get_ref(1).map_err(err)?.as_str().unwrap_or("");
            b.income(r.get(0).map_err(err)?, kind, r.get(2).map_err(err)?);
        }
    }
    {
        let mut st = conn.prepare(&sql(MEMBERS)).map_err(err)?;
        let mut rows = st.query([&prefix]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            b.member(r.get(0).map_err(err)?, r.get(1).map_err(err)?);
        }
    }
    conn.execute_batch("COMMIT").map_err(err)?;
    Ok(b.finish())
}

/// PostgreSQL, on one repeatable-read transaction.
pub(crate) async fn scan_postgres(
    pool: &sqlx::PgPool,
    scope: &str,
    until: NaiveDate,
) -> Result<RegistryScan> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let prefix = like_prefix(scope);
    let mut b = Builder::new();
    {
        let mut rows = sqlx::query_as::<_, (i64, String)>(HOUSEHOLDS)
            .bind(&prefix)
            .fetch(&mut *tx);
        while let Some((id, region)) = rows.try_next().await? {
            b.household(id, &region)?;
        }
    }
    {
        type Row = (
            i64,
            NaiveDate,
            String,
            Option<i64>,
            Option<String>,
            bool,
            String,
            String,
        );
        let mut rows = sqlx::query_as::<_, Row>(PERSONS)
            .bind(&prefix)
            .fetch(&mut *tx);
        while let Some(r) = rows.try_next().await? {
            b.person(r.0, r.1, &r.2, r.3, r.4.as_deref(), r.5, &r.6, &r.7);
        }
    }
    {
        let mut rows = sqlx::query_as::<_, (i64, String, i64)>(INCOMES)
            .bind(&prefix)
            .bind(until)
            .fetch(&mut *tx);
        while let Some((p, kind, fen)) = rows.try_next().await? {
            b.income(p, &kind, fen);
        }
    }
    {
        let mut rows = sqlx::query_as::<_, (i64, i64)>(MEMBERS)
            .bind(&prefix)
            .fetch(&mut *tx);
        while let Some((h, p)) = rows.try_next().await? {
            b.member(h, p);
        }
    }
    tx.commit().await?;
    Ok(b.finish())
}
