//! The household as the programs see it, and the JSON it is given as (`jiuzhu evaluate`,
//! `POST /api/v1/evaluate`). Input is checked once here; every error names its field.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use jiuzhu_domain::{
    age_between, DisabilityKind, IdNumber, IncomeKind, LabourCapacity, Money, SelfCare,
};
use serde::{Deserialize, Deserializer};

use crate::param::Ratio;
use crate::PolicyError;

/// Money as people write it in a household file: yuan, as a number (`1200.5`) or text (`"1,200.50"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Yuan(pub Money);

impl<'de> Deserialize<'de> for Yuan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Yuan, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Float(f64),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Int(i) => i.to_string(),
            // Shortest round-trip form, so 1200.5 reads as written.
            Raw::Float(f) => f.to_string(),
            Raw::Text(s) => s,
        };
        Money::parse_yuan(&text)
            .map(Yuan)
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdInput {
    /// Pack id (`zhangjiagang`) or division code (`320582`).
    pub jurisdiction: Option<String>,
    /// `YYYY-MM`.
    pub month: Option<String>,
    pub members: Vec<MemberInput>,
    #[serde(default)]
    pub assets: AssetsInput,
    /// Rigid expenditure over the 12 months before the application month.
    #[serde(default)]
    pub rigid_expenditure_12m: ExpenditureInput,
    /// Member number (from 1) who applies alone as a single-person household (单人户).
    pub apply_alone: Option<usize>,
    #[serde(default)]
    pub benefits: BenefitsInput,
    pub temporary: Option<TemporaryInput>,
    pub disaster: Option<DisasterInput>,
    /// Year-on-year rise of the price index that triggers the linkage subsidy, e.g. `"3.6%"`.
    pub price_index_rise: Option<String>,
    /// What-if values: `{"dibao.standard": "1000"}`.
    #[serde(default)]
    pub parameters: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub name: Option<String>,
    pub id_number: Option<String>,
    pub birth_date: Option<NaiveDate>,
    /// Age in full years on the first day of the month; may stand in for a birth date.
    pub age: Option<u32>,
    #[serde(default)]
    pub incomes: Vec<IncomeInput>,
    pub disability: Option<DisabilityInput>,
    /// The serious illness diagnosed, if any.
    pub serious_illness: Option<String>,
    pub labour_capacity: Option<LabourCapacity>,
    pub self_care: Option<SelfCare>,
    /// Registered (户籍) here; default true.
    pub hukou_local: Option<bool>,
    /// Months lived here, for residents registered elsewhere and for the Yubei residence test.
    pub residence_months: Option<u32>,
    /// Found work after a spell on assistance (就业成本扣减, 渐退).
    #[serde(default)]
    pub job_found: bool,
    #[serde(default)]
    pub student: bool,
    pub medical: Option<MedicalInput>,
    /// Has someone legally bound and able to support them (法定赡养抚养扶养义务人). When not
    /// given, a living member of working age (18–59) able to work is taken as one.
    pub has_supporter: Option<bool>,
    /// For 特困: `dispersed` (分散供养, default) or `centralised` (集中供养).
    pub support: Option<Support>,
    #[serde(default)]
    pub deceased: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncomeInput {
    pub kind: IncomeKind,
    pub monthly: Yuan,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisabilityInput {
    pub grade: u8,
    pub kind: DisabilityKind,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MedicalInput {
    /// The patient's own costs (自负费用) after basic insurance.
    pub own_costs: Yuan,
    /// What critical-illness insurance repaid of them.
    pub insurance_repaid: Yuan,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetsInput {
    #[serde(default)]
    pub deposits: Yuan,
    #[serde(default)]
    pub securities: Yuan,
    #[serde(default)]
    pub vehicles: u32,
    #[serde(default)]
    pub business: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpenditureInput {
    #[serde(default)]
    pub medical: Yuan,
    #[serde(default)]
    pub education: Yuan,
    #[serde(default)]
    pub disaster: Yuan,
    #[serde(default)]
    pub other: Yuan,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenefitsInput {
    /// 低保 paid last month, if the household received it.
    pub dibao_last_month: Option<Yuan>,
    /// Months of gradual exit already paid.
    #[serde(default)]
    pub exit_months_used: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemporaryKind {
    /// 急难型: a small amount first, documents afterwards.
    Emergency,
    /// 支出型: normal review, tiered.
    Expenditure,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporaryInput {
    pub kind: TemporaryKind,
    /// The hardship to meet: the expense or loss.
    pub need: Yuan,
    /// 一事一议: decided case by case above the tiers.
    #[serde(default)]
    pub case_by_case: bool,
    /// Pay in this many stages from one approval.
    pub stages: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Damage {
    /// Collapsed: rebuild (新（翻）建).
    Collapsed,
    /// Damaged: repair (修缮).
    Damaged,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisasterInput {
    pub damage: Damage,
    pub cost: Yuan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    #[default]
    Dispersed,
    Centralised,
}

/// A member, checked.
#[derive(Debug, Clone)]
pub struct Member {
    /// `成员2（李四）`: how traces name the member; never the identity number.
    pub label: String,
    pub age: u32,
    pub incomes: Vec<(IncomeKind, Money)>,
    pub disability: Option<(u8, DisabilityKind)>,
    pub serious_illness: bool,
    pub labour: LabourCapacity,
    pub self_care: SelfCare,
    pub hukou_local: bool,
    pub residence_months: Option<u32>,
    pub job_found: bool,
    pub student: bool,
    pub medical: Option<(Money, Money)>,
    pub has_supporter: bool,
    pub support: Support,
    pub deceased: bool,
}

impl Member {
    /// Monthly income that counts for means tests, before any job-cost deduction.
    pub fn countable_income(&self) -> Money {
        self.incomes
            .iter()
            .filter(|(k, _)| k.counts())
            .map(|(_, m)| *m)
            .sum()
    }

    pub fn excluded_income(&self) -> Money {
        self.incomes
            .iter()
            .filter(|(k, _)| !k.counts())
            .map(|(_, m)| *m)
            .sum()
    }

    /// The monthly 优抚金 or 五老 subsidy, for the funeral grant.
    pub fn entitled_subsidy(&self) -> Money {
        self.excluded_income()
    }
}

/// A household, checked: what the programs evaluate.
#[derive(Debug, Clone)]
pub struct Household {
    /// First day of the month evaluated.
    pub month: NaiveDate,
    /// Living members (the deceased are kept apart for the funeral grant).
    pub members: Vec<Member>,
    pub deceased: Vec<Member>,
    pub deposits: Money,
    pub securities: Money,
    pub vehicles: u32,
    pub business: bool,
    pub rigid_12m: [(&'static str, Money); 4],
    pub apply_alone: Option<usize>,
    pub dibao_last_month: Option<Money>,
    pub exit_months_used: u32,
    pub temporary: Option<TemporaryInput>,
    pub disaster: Option<DisasterInput>,
    pub price_index_rise: Option<Ratio>,
}

impl Household {
    /// A household as the registry holds it: its members, nothing declared beyond them (no
    /// assets, rigid expenditure, history or requests).
    pub fn registered(month: NaiveDate, members: Vec<Member>) -> Household {
        Household {
            month,
            members,
            deceased: Vec::new(),
            deposits: Money::ZERO,
            securities: Money::ZERO,
            vehicles: 0,
            business: false,
            rigid_12m: [
                ("医疗", Money::ZERO),
                ("教育", Money::ZERO),
                ("灾害", Money::ZERO),
                ("其他", Money::ZERO),
            ],
            apply_alone: None,
            dibao_last_month: None,
            exit_months_used: 0,
            temporary: None,
            disaster: None,
            price_index_rise: None,
        }
    }
}

/// `2024-01` → 2024-01-01.
pub fn parse_month(text: &str) -> Result<NaiveDate, PolicyError> {
    let bad = || PolicyError::Input {
        field: "month".into(),
        message: format!("月份“{text}”无效：应写作 YYYY-MM"),
    };
    let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let (y, m) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError::Input {
        field: field.into(),
        message: message.into(),
    }
}

impl HouseholdInput {
    /// Checks the input for `month` (the input's own month wins when given).
    pub fn check(&self, default_month: Option<NaiveDate>) -> Result<Household, PolicyError> {
        let month = match (&self.month, default_month) {
            (Some(m), _) => parse_month(m)?,
            (None, Some(m)) => m,
            (None, None) => return Err(invalid("month", "请给出评估月份（YYYY-MM）")),
        };
        if self.members.is_empty() {
            return Err(invalid("members", "家庭至少应有一名成员"));
        }
        let mut members = Vec::new();
        let mut deceased = Vec::new();
        for (i, m) in self.members.iter().enumerate() {
            let member = check_member(i, m, month)?;
            if m.deceased {
                deceased.push(member);
            } else {
                members.push(member);
            }
        }
        let able: Vec<bool> = members
            .iter()
            .map(|m| (18..60).contains(&m.age) && m.labour != LabourCapacity::None)
            .collect();
        let living = self.members.iter().filter(|m| !m.deceased);
        for (i, (member, given)) in members.iter_mut().zip(living).enumerate() {
            member.has_supporter = given
                .has_supporter
                .unwrap_or_else(|| able.iter().enumerate().any(|(j, a)| *a && j != i));
        }
        if members.is_empty() {
            return Err(invalid("members", "家庭没有在世成员"));
        }
        let apply_alone = match self.apply_alone {
            None => None,
            Some(n) => {
                let index = n.checked_sub(1).filter(|i| *i < self.members.len());
                match index {
                    Some(i) if !self.members[i].deceased => {
                        Some(self.members[..i].iter().filter(|m| !m.deceased).count())
                    }
                    _ => {
                        return Err(invalid(
                            "apply_alone",
                            format!(
                                "单独申请的成员序号{n}不存在（应为1至{}）",
                                self.members.len()
                            ),
                        ))
                    }
                }
            }
        };
        let temporary = self.temporary.clone();
        if let Some(t) = &temporary {
            if t.stages == Some(0) {
                return Err(invalid("temporary.stages", "分期数至少为1"));
            }
        }
        let price_index_rise = self
            .price_index_rise
            .as_deref()
            .map(|s| {
                Ratio::parse(s).ok_or_else(|| {
                    invalid("price_index_rise", format!("“{s}”不是涨幅：应写作 3.5%"))
                })
            })
            .transpose()?;
        let e = &self.rigid_expenditure_12m;
        let money = |field: &str, y: Yuan| {
            if y.0.is_negative() {
                Err(invalid(field, format!("金额不能为负数：{}", y.0)))
            } else {
                Ok(y.0)
            }
        };
        Ok(Household {
            month,
            members,
            deceased,
            deposits: money("assets.deposits", self.assets.deposits)?,
            securities: money("assets.securities", self.assets.securities)?,
            vehicles: self.assets.vehicles,
            business: self.assets.business,
            rigid_12m: [
                ("医疗", money("rigid_expenditure_12m.medical", e.medical)?),
                (
                    "教育",
                    money("rigid_expenditure_12m.education", e.education)?,
                ),
                ("灾害", money("rigid_expenditure_12m.disaster", e.disaster)?),
                ("其他", money("rigid_expenditure_12m.other", e.other)?),
            ],
            apply_alone,
            dibao_last_month: self
                .benefits
                .dibao_last_month
                .map(|y| money("benefits.dibao_last_month", y))
                .transpose()?,
            exit_months_used: self.benefits.exit_months_used,
            temporary: match temporary {
                Some(t) => {
                    money("temporary.need", t.need)?;
                    Some(t)
                }
                None => None,
            },
            disaster: match &self.disaster {
                Some(d) => {
                    money("disaster.cost", d.cost)?;
                    Some(d.clone())
                }
                None => None,
            },
            price_index_rise,
        })
    }
}

fn check_member(i: usize, m: &MemberInput, month: NaiveDate) -> Result<Member, PolicyError> {
    let at = |field: &str| format!("members[{}].{field}", i + 1);
    let id_birth = match &m.id_number {
        Some(text) => Some(
            IdNumber::parse(text, month)
                .map_err(|e| invalid(at("id_number"), e.to_string()))?
                .birth_date(),
        ),
        None => None,
    };
    if let (Some(a), Some(b)) = (id_birth, m.birth_date) {
        if a != b {
            return Err(invalid(
                at("birth_date"),
                format!("出生日期{b}与身份证号中的出生日期{a}不符"),
            ));
        }
    }
    let birth = id_birth.or(m.birth_date);
    if let Some(b) = birth {
        if b > month {
            return Err(invalid(
                at("birth_date"),
                format!("出生日期{b}晚于评估月份"),
            ));
        }
    }
    let age = match (m.age, birth) {
        (Some(a), Some(b)) => {
            let computed = age_between(b, month);
            if a != computed {
                return Err(invalid(
                    at("age"),
                    format!(
                        "年龄{a}岁与出生日期{b}不符（{}年{}月1日应为{computed}岁）",
                        month.year(),
                        month.month()
                    ),
                ));
            }
            a
        }
        (Some(a), None) => {
            if a > 130 {
                return Err(invalid(at("age"), format!("年龄{a}岁不合常理")));
            }
            a
        }
        (None, Some(b)) => age_between(b, month),
        (None, None) => return Err(invalid(at("age"), "请给出身份证号、出生日期或年龄")),
    };
    let mut incomes = Vec::new();
    for (j, inc) in m.incomes.iter().enumerate() {
        if inc.monthly.0.is_negative() {
            return Err(invalid(
                format!("members[{}].incomes[{}].monthly", i + 1, j + 1),
                format!("收入不能为负数：{}元", inc.monthly.0),
            ));
        }
        incomes.push((inc.kind, inc.monthly.0));
    }
    let disability = match &m.disability {
        Some(d) if (1..=4).contains(&d.grade) => Some((d.grade, d.kind)),
        Some(d) => {
            return Err(invalid(
                at("disability.grade"),
                format!("残疾等级应为1至4级，实际为{}", d.grade),
            ))
        }
        None => None,
    };
    let medical = match &m.medical {
        Some(md) => {
            if md.own_costs.0.is_negative() || md.insurance_repaid.0.is_negative() {
                return Err(invalid(at("medical"), "医疗费用不能为负数"));
            }
            if md.insurance_repaid.0 > md.own_costs.0 {
                return Err(invalid(
                    at("medical.insurance_repaid"),
                    format!(
                        "大病保险补偿{}元超过自负费用{}元",
                        md.insurance_repaid.0, md.own_costs.0
                    ),
                ));
            }
            Some((md.own_costs.0, md.insurance_repaid.0))
        }
        None => None,
    };
    let name = m.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    Ok(Member {
        label: match name {
            Some(n) => format!("成员{}（{n}）", i + 1),
            None => format!("成员{}", i + 1),
        },
        age,
        incomes,
        disability,
        serious_illness: m
            .serious_illness
            .as_deref()
            .is_some_and(|s| !s.trim().is_empty()),
        labour: m.labour_capacity.unwrap_or(if (16..60).contains(&age) {
            LabourCapacity::Full
        } else {
            LabourCapacity::None
        }),
        self_care: m.self_care.unwrap_or(SelfCare::Full),
        hukou_local: m.hukou_local.unwrap_or(true),
        residence_months: m.residence_months,
        job_found: m.job_found,
        student: m.student,
        medical,
        has_supporter: m.has_supporter.unwrap_or(false),
        support: m.support.unwrap_or_default(),
        deceased: m.deceased,
    })
}
