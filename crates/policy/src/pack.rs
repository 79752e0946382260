//! Policy packs: one data file per jurisdiction, holding its effective-dated parameter values
//! and the programs it runs, inheriting from a parent pack what it does not say itself.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use jiuzhu_domain::RegionCode;
use serde::Deserialize;

use crate::param::{def, Def, RawValue, Resolved, Value};
use crate::{PolicyError, Program};

/// One value of one parameter, in force from a date until the next value of the same parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: &'static str,
    pub from: NaiveDate,
    pub value: Value,
    /// Document number (文号) or seed and clause.
    pub source: String,
    pub demo: bool,
}

/// The parameter values of one jurisdiction.
#[derive(Debug, Clone)]
pub struct Pack {
    pub id: String,
    pub name: String,
    /// The administrative division the pack governs; `None` for packs chosen only by id.
    pub region: Option<RegionCode>,
    pub parent: Option<String>,
    /// The document the pack's clauses belong to.
    pub document: String,
    /// Programs run in this jurisdiction; `None` inherits the parent's list.
    pub programs: Option<Vec<Program>>,
    /// Entries per parameter, sorted by date.
    entries: BTreeMap<&'static str, Vec<Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    id: String,
    name: String,
    region: Option<String>,
    parent: Option<String>,
    document: String,
    programs: Option<Vec<String>>,
    #[serde(default, rename = "value")]
    values: Vec<EntryFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    name: String,
    from: NaiveDate,
    value: toml::Value,
    clause: String,
    /// Another document than the pack's.
    document: Option<String>,
    #[serde(default)]
    demo: bool,
}

/// Turns a TOML scalar or `[[key, value], ...]` into a raw value, as a JSON one is.
pub fn raw_from_toml(v: &toml::Value) -> Option<RawValue> {
    crate::evaluate::raw_from_json(&serde_json::to_value(v).ok()?)
}

impl Pack {
    /// Parses a pack file; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Pack, PolicyError> {
        let bad = |message: String| PolicyError::Pack {
            file: file.to_string(),
            message,
        };
        let raw: PackFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let region = raw
            .region
            .as_deref()
            .map(|r| RegionCode::parse(r).map_err(|e| bad(format!("region: {e}"))))
            .transpose()?;
        let programs = raw
            .programs
            .map(|list| {
                list.iter()
                    .map(|p| {
                        Program::from_code(p).ok_or_else(|| bad(format!("未知的救助项目“{p}”")))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let mut pack = Pack {
            id: raw.id,
            name: raw.name,
            region,
            parent: raw.parent,
            document: raw.document,
            programs,
            entries: BTreeMap::new(),
        };
        for (i, e) in raw.values.into_iter().enumerate() {
            let at = |m: String| bad(format!("第{}个参数值（{}）：{m}", i + 1, e.name));
            let d = def(&e.name).map_err(|err| at(err.to_string()))?;
            let raw = raw_from_toml(&e.value).ok_or_else(|| at("无法识别的数值".into()))?;
            let value = Value::parse(d.kind, &raw).map_err(at)?;
            let source = match &e.document {
                Some(doc) => format!("{doc} {}", e.clause),
                None => format!("{} {}", pack.document, e.clause),
            };
            pack.add(Entry {
                name: d.name,
                from: e.from,
                value,
                source,
                demo: e.demo,
            })
            .map_err(|err| at(err.to_string()))?;
        }
        Ok(pack)
    }

    /// Adds a value; two values of one parameter from the same date are refused.
    pub fn add(&mut self, entry: Entry) -> Result<(), PolicyError> {
        let list = self.entries.entry(entry.name).or_default();
        if list.iter().any(|e| e.from == entry.from) {
            return Err(PolicyError::DuplicateValue {
                name: entry.name.to_string(),
                from: entry.from,
            });
        }
        let at = list.partition_point(|e| e.from < entry.from);
        list.insert(at, entry);
        Ok(())
    }

    /// The values of one parameter, oldest first.
    pub fn history(&self, name: &str) -> &[Entry] {
        self.entries.get(name).map_or(&[], Vec::as_slice)
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.keys().copied()
    }
}

/// Every pack, and how a jurisdiction's parameters are found.
#[derive(Debug, Clone, Default)]
pub struct PolicyBook {
    packs: Vec<Pack>,
}

/// The packs shipped with jiuzhu, from `policies/`.
pub const SHIPPED: &[(&str, &str)] = &[
    ("common.toml", include_str!("../../../policies/common.toml")),
    ("shanxi.toml", include_str!("../../../policies/shanxi.toml")),
    (
        "zhangjiagang.toml",
        include_str!("../../../policies/zhangjiagang.toml"),
    ),
    ("xiamen.toml", include_str!("../../../policies/xiamen.toml")),
    ("yubei.toml", include_str!("../../../policies/yubei.toml")),
    (
        "one-window-city.toml",
        include_str!("../../../policies/one-window-city.toml"),
    ),
    (
        "openfisca-bench.toml",
        include_str!("../../../policies/openfisca-bench.toml"),
    ),
];

impl PolicyBook {
    /// The shipped packs; they are checked by the tests, so this cannot fail in a release.
    pub fn shipped() -> PolicyBook {
        PolicyBook::from_files(SHIPPED.iter().copied()).expect("shipped policy packs are valid")
    }

    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<PolicyBook, PolicyError> {
        let mut book = PolicyBook::default();
        for (file, text) in files {
            let pack = Pack::parse(file, text)?;
            if book.packs.iter().any(|p| p.id == pack.id) {
                return Err(PolicyError::Pack {
                    file: file.to_string(),
                    message: format!("政策包“{}”重复", pack.id),
                });
            }
            book.packs.push(pack);
        }
        for pack in &book.packs {
            book.chain(&pack.id)?;
        }
        Ok(book)
    }

    pub fn packs(&self) -> &[Pack] {
        &self.packs
    }

    pub fn pack(&self, id: &str) -> Option<&Pack> {
        self.packs.iter().find(|p| p.id == id)
    }

    pub fn pack_mut(&mut self, id: &str) -> Option<&mut Pack> {
        self.packs.iter_mut().find(|p| p.id == id)
    }

    /// The pack for a jurisdiction given by pack id or by region code: a region is governed by
    /// the pack of its nearest ancestor that has one (a township by its county's pack).
    pub fn jurisdiction(&self, key: &str) -> Result<&Pack, PolicyError> {
        if let Some(p) = self.pack(key) {
            return Ok(p);
        }
        let unknown = || PolicyError::UnknownJurisdiction(key.to_string());
        let code = RegionCode::parse(key).map_err(|_| unknown())?;
        self.packs
            .iter()
            .filter_map(|p| Some((p, division_prefix(p.region.as_ref()?))))
            .filter(|(_, prefix)| code.as_str().starts_with(prefix))
            .max_by_key(|(_, prefix)| prefix.len())
            .map(|(p, _)| p)
            .ok_or_else(unknown)
    }

    /// The pack and its ancestors, nearest first.
    pub fn chain(&self, id: &str) -> Result<Vec<&Pack>, PolicyError> {
        let mut chain: Vec<&Pack> = Vec::new();
        let mut next = Some(id.to_string());
        while let Some(id) = next {
            let pack = self
                .pack(&id)
                .ok_or_else(|| PolicyError::UnknownJurisdiction(id.clone()))?;
            if chain.iter().any(|p| p.id == pack.id) {
                return Err(PolicyError::Pack {
                    file: pack.id.clone(),
                    message: "政策包的上级关系成环".into(),
                });
            }
            chain.push(pack);
            next = pack.parent.clone();
        }
        Ok(chain)
    }

    /// The parameters of a jurisdiction as in force on `date`, with what-if overrides on top.
    pub fn params(
        &self,
        jurisdiction: &str,
        date: NaiveDate,
        overrides: &Overrides,
    ) -> Result<ParamSet<'_>, PolicyError> {
        let pack = self.jurisdiction(jurisdiction)?;
        let chain = self.chain(&pack.id)?;
        let programs = chain
            .iter()
            .find_map(|p| p.programs.clone())
            .unwrap_or_default();
        Ok(ParamSet {
            chain,
            date,
            overrides: overrides.clone(),
            programs,
        })
    }
}

/// The digits a division code shares with everything inside it: `140000` (a province) → `14`,
/// `350200` (a city) → `3502`, `320582` (a county) → `320582`.
fn division_prefix(code: &RegionCode) -> &str {
    let s = code.as_str();
    if s.len() != 6 {
        return s;
    }
    if s.ends_with("0000") {
        &s[..2]
    } else if s.ends_with("00") {
        &s[..4]
    } else {
        s
    }
}

/// Values set for one evaluation or simulation, by parameter name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides(BTreeMap<&'static str, Value>);

impl Overrides {
    /// Adds `name=value` as written on a command line (`dibao.standard=1000`).
    pub fn set_text(&mut self, assignment: &str) -> Result<(), PolicyError> {
        let (name, value) = assignment
            .split_once('=')
            .ok_or_else(|| PolicyError::Input {
                field: "set".into(),
                message: format!("“{assignment}”应写作 参数名=数值"),
            })?;
        self.set(name.trim(), &RawValue::Text(value.trim().to_string()))
    }

    pub fn set(&mut self, name: &str, raw: &RawValue) -> Result<(), PolicyError> {
        let d: &Def = def(name)?;
        let value = Value::parse(d.kind, raw).map_err(|message| PolicyError::Input {
            field: format!("parameters.{name}"),
            message,
        })?;
        self.0.insert(d.name, value);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Value)> {
        self.0.iter().map(|(k, v)| (*k, v))
    }
}

/// A jurisdiction's parameters on one date: what the programs read.
#[derive(Debug, Clone)]
pub struct ParamSet<'a> {
    chain: Vec<&'a Pack>,
    date: NaiveDate,
    overrides: Overrides,
    programs: Vec<Program>,
}

impl ParamSet<'_> {
    pub fn date(&self) -> NaiveDate {
        self.date
    }

    /// The pack the set was asked for.
    pub fn jurisdiction(&self) -> &Pack {
        self.chain[0]
    }

    /// Programs this jurisdiction runs.
    pub fn programs(&self) -> &[Program] {
        &self.programs
    }

    /// The value in force: an override, else the nearest pack's latest value from on or before
    /// the date, else the parent's. A parameter with no value in force is an error naming it.
    pub fn get(&self, name: &str) -> Result<Resolved, PolicyError> {
        let d = def(name)?;
        if let Some(v) = self.overrides.0.get(d.name) {
            return Ok(Resolved {
                name: d.name,
                label: d.label,
                text: v.display(d),
                value: v.clone(),
                from: self.date,
                source: "试算设定（非正式参数）".into(),
                jurisdiction: self.chain[0].name.clone(),
                demo: false,
                overridden: true,
            });
        }
        let mut earliest: Option<NaiveDate> = None;
        for pack in &self.chain {
            let history = pack.history(d.name);
            if let Some(e) = history.iter().rev().find(|e| e.from <= self.date) {
                return Ok(Resolved {
                    name: d.name,
                    label: d.label,
                    text: e.value.display(d),
                    value: e.value.clone(),
                    from: e.from,
                    source: e.source.clone(),
                    jurisdiction: pack.name.clone(),
                    demo: e.demo,
                    overridden: false,
                });
            }
            if let Some(first) = history.first() {
                earliest = Some(earliest.map_or(first.from, |d| d.min(first.from)));
            }
        }
        Err(PolicyError::NotInForce {
            name: d.name.to_string(),
            label: d.label.to_string(),
            date: self.date,
            earliest,
        })
    }
}
