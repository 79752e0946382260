//! The household calculator's form: members row by row, amounts in yuan, every field named in
//! Chinese. It builds the same household the JSON API takes, so both give the same decisions.

use std::collections::BTreeMap;

use jiuzhu_domain::{DisabilityKind, IncomeKind, LabourCapacity, Money, SelfCare};
use jiuzhu_policy::household::{
    AssetsInput, BenefitsInput, Damage, DisabilityInput, DisasterInput, ExpenditureInput,
    HouseholdInput, IncomeInput, MedicalInput, MemberInput, TemporaryInput, TemporaryKind, Yuan,
};
use jiuzhu_services::ServiceError;
use serde::Serialize;

/// Rows offered on a fresh form; "增加一行" adds one more.
const FRESH_ROWS: usize = 3;
const MAX_ROWS: usize = 20;

#[derive(Debug, Default, Clone, Serialize)]
pub struct MemberRow {
    pub name: String,
    pub age: String,
    pub labour: String,
    pub self_care: String,
    pub disability_grade: String,
    pub disability_kind: String,
    pub illness: String,
    pub student: bool,
    pub job_found: bool,
    pub non_local: bool,
    pub residence_months: String,
    /// Monthly income by kind code, in yuan as typed.
    pub incomes: BTreeMap<String, String>,
    pub own_costs: String,
    pub insurance_repaid: String,
}

impl MemberRow {
    fn is_blank(&self) -> bool {
        self.name.trim().is_empty() && self.age.trim().is_empty()
    }
}

/// The whole form as typed, kept to be shown again with a refusal.
#[derive(Debug, Default, Clone, Serialize)]
pub struct EvaluateSheet {
    pub month: String,
    pub members: Vec<MemberRow>,
    pub deposits: String,
    pub securities: String,
    pub vehicles: String,
    pub business: bool,
    pub rigid_medical: String,
    pub rigid_education: String,
    pub rigid_disaster: String,
    pub rigid_other: String,
    pub dibao_last_month: String,
    pub temporary_kind: String,
    pub temporary_need: String,
    pub temporary_stages: String,
    pub disaster_damage: String,
    pub disaster_cost: String,
    pub price_index_rise: String,
    /// `add_row` when the person asked for another member row.
    #[serde(skip)]
    pub action: String,
}

fn money(field: &str, label: &str, text: &str) -> Result<Option<Money>, ServiceError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let m =
        Money::parse_yuan(t).map_err(|e| ServiceError::invalid(field, format!("{label}：{e}")))?;
    if m < Money::ZERO {
        return Err(ServiceError::invalid(field, format!("{label}不能为负数")));
    }
    Ok(Some(m))
}

fn yuan(field: &str, label: &str, text: &str) -> Result<Yuan, ServiceError> {
    Ok(Yuan(money(field, label, text)?.unwrap_or_default()))
}

fn number(field: &str, label: &str, text: &str) -> Result<Option<u32>, ServiceError> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse()
        .map(Some)
        .map_err(|_| ServiceError::invalid(field, format!("{label}应为整数，实际为“{t}”")))
}

impl EvaluateSheet {
    pub fn fresh(month: String) -> Self {
        EvaluateSheet {
            month,
            members: vec![MemberRow::default(); FRESH_ROWS],
            ..Default::default()
        }
    }

    /// Reads the posted pairs: household fields by name, member fields as `m3.age`.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut s = EvaluateSheet::default();
        let mut rows: BTreeMap<usize, MemberRow> = BTreeMap::new();
        for (k, v) in pairs {
            if let Some((n, field)) = k
                .strip_prefix('m')
                .and_then(|rest| rest.split_once('.'))
                .and_then(|(n, f)| Some((n.parse::<usize>().ok()?, f)))
            {
                if n == 0 || n > MAX_ROWS {
                    continue;
                }
                let row = rows.entry(n).or_default();
                let v = v.clone();
                match field {
                    "name" => row.name = v,
                    "age" => row.age = v,
                    "labour" => row.labour = v,
                    "self_care" => row.self_care = v,
                    "disability_grade" => row.disability_grade = v,
                    "disability_kind" => row.disability_kind = v,
                    "illness" => row.illness = v,
                    "student" => row.student = true,
                    "job_found" => row.job_found = true,
                    "non_local" => row.non_local = true,
                    "residence_months" => row.residence_months = v,
                    "own_costs" => row.own_costs = v,
                    "insurance_repaid" => row.insurance_repaid = v,
                    f => {
                        if let Some(kind) = f.strip_prefix("income_") {
                            row.incomes.insert(kind.to_string(), v);
                        }
                    }
                }
                continue;
            }
            let v = v.clone();
            match k.as_str() {
                "month" => s.month = v,
                "deposits" => s.deposits = v,
                "securities" => s.securities = v,
                "vehicles" => s.vehicles = v,
                "business" => s.business = true,
                "rigid_medical" => s.rigid_medical = v,
                "rigid_education" => s.rigid_education = v,
                "rigid_disaster" => s.rigid_disaster = v,
                "rigid_other" => s.rigid_other = v,
                "dibao_last_month" => s.dibao_last_month = v,
                "temporary_kind" => s.temporary_kind = v,
                "temporary_need" => s.temporary_need = v,
                "temporary_stages" => s.temporary_stages = v,
                "disaster_damage" => s.disaster_damage = v,
                "disaster_cost" => s.disaster_cost = v,
                "price_index_rise" => s.price_index_rise = v,
                "action" => s.action = v,
                _ => {}
            }
        }
        // Rows keep their numbers; gaps (a row never sent) become blank rows.
        let last = rows.keys().next_back().copied().unwrap_or(0);
        s.members = (1..=last)
            .map(|n| rows.remove(&n).unwrap_or_default())
            .collect();
        if s.action == "add_row" && s.members.len() < MAX_ROWS {
            s.members.push(MemberRow::default());
        }
        if s.members.is_empty() {
            s.members = vec![MemberRow::default(); FRESH_ROWS];
        }
        s
    }

    /// The household the calculator evaluates; each refusal names the row and the field.
    pub fn to_input(&self) -> Result<HouseholdInput, ServiceError> {
        let mut members = Vec::new();
        for (i, row) in self.members.iter().enumerate() {
            if row.is_blank() {
                continue;
            }
            members.push(member(i + 1, row)?);
        }
        if members.is_empty() {
            return Err(ServiceError::invalid(
                "members",
                "请至少填写一名家庭成员（姓名和年龄）",
            ));
        }
        let temporary = match self.temporary_kind.as_str() {
            "" => None,
            k => Some(TemporaryInput {
                kind: if k == "emergency" {
                    TemporaryKind::Emergency
                } else {
                    TemporaryKind::Expenditure
                },
                need: yuan("temporary_need", "临时救助所需金额", &self.temporary_need)?,
                case_by_case: false,
                stages: number("temporary_stages", "分期数", &self.temporary_stages)?,
            }),
        };
        let disaster = match self.disaster_damage.as_str() {
            "" => None,
            d => Some(DisasterInput {
                damage: if d == "collapsed" {
                    Damage::Collapsed
                } else {
                    Damage::Damaged
                },
                cost: yuan("disaster_cost", "建房或修缮费用", &self.disaster_cost)?,
            }),
        };
        Ok(HouseholdInput {
            jurisdiction: None,
            month: Some(self.month.trim().to_string()).filter(|m| !m.is_empty()),
            members,
            assets: AssetsInput {
                deposits: yuan("deposits", "存款", &self.deposits)?,
                securities: yuan("securities", "有价证券", &self.securities)?,
                vehicles: number("vehicles", "机动车数量", &self.vehicles)?.unwrap_or(0),
                business: self.business,
            },
            rigid_expenditure_12m: ExpenditureInput {
                medical: yuan("rigid_medical", "刚性支出：医疗", &self.rigid_medical)?,
                education: yuan("rigid_education", "刚性支出：教育", &self.rigid_education)?,
                disaster: yuan("rigid_disaster", "刚性支出：灾害", &self.rigid_disaster)?,
                other: yuan("rigid_other", "刚性支出：其他", &self.rigid_other)?,
            },
            apply_alone: None,
            benefits: BenefitsInput {
                dibao_last_month: money("dibao_last_month", "上月低保金", &self.dibao_last_month)?
                    .map(Yuan),
                exit_months_used: 0,
            },
            temporary,
            disaster,
            price_index_rise: Some(self.price_index_rise.trim().to_string())
                .filter(|p| !p.is_empty()),
            parameters: BTreeMap::new(),
        })
    }

    /// The worked example of the user guide, as the form shows it.
    pub fn example() -> Self {
        let row = |name: &str, age: &str| MemberRow {
            name: name.into(),
            age: age.into(),
            ..Default::default()
        };
        let mut wang = row("王建国", "52");
        wang.labour = "partial".into();
        wang.job_found = true;
        wang.incomes.insert("wage".into(), "1200".into());
        let mut li = row("李秀英", "49");
        li.illness = "乳腺癌".into();
        li.labour = "none".into();
        li.self_care = "partial".into();
        li.own_costs = "38000".into();
        li.insurance_repaid = "16000".into();
        let mut ming = row("王小明", "15");
        ming.student = true;
        let mut de = row("王德顺", "81");
        de.incomes.insert("pension".into(), "300".into());
        de.incomes.insert("special_care".into(), "600".into());
        EvaluateSheet {
            month: "2024-08".into(),
            members: vec![wang, li, ming, de],
            deposits: "8000".into(),
            rigid_medical: "22000".into(),
            rigid_education: "3000".into(),
            temporary_kind: "expenditure".into(),
            temporary_need: "6000".into(),
            temporary_stages: "2".into(),
            price_index_rise: "3.6%".into(),
            ..Default::default()
        }
    }
}

fn member(n: usize, row: &MemberRow) -> Result<MemberInput, ServiceError> {
    let who = if row.name.trim().is_empty() {
        format!("成员{n}")
    } else {
        format!("成员{n}（{}）", row.name.trim())
    };
    let field = |f: &str| format!("members[{n}].{f}");
    let age = number(&field("age"), &format!("{who}年龄"), &row.age)?;
    let mut incomes = Vec::new();
    for kind in IncomeKind::ALL {
        let text = row.incomes.get(kind.code()).map_or("", String::as_str);
        if let Some(m) = money(&field("incomes"), &format!("{who}{}", kind.label()), text)? {
            if m > Money::ZERO {
                incomes.push(IncomeInput {
                    kind: *kind,
                    monthly: Yuan(m),
                });
            }
        }
    }
    let disability = match row.disability_grade.trim() {
        "" => None,
        g => Some(DisabilityInput {
            grade: g.parse().map_err(|_| {
                ServiceError::invalid(&field("disability"), format!("{who}残疾等级无效"))
            })?,
            kind: DisabilityKind::from_code(&row.disability_kind)
                .unwrap_or(DisabilityKind::Physical),
        }),
    };
    let own = money(
        &field("medical"),
        &format!("{who}医疗自负费用"),
        &row.own_costs,
    )?;
    let repaid = money(
        &field("medical"),
        &format!("{who}大病保险补偿"),
        &row.insurance_repaid,
    )?;
    let medical = (own.is_some() || repaid.is_some()).then(|| MedicalInput {
        own_costs: Yuan(own.unwrap_or_default()),
        insurance_repaid: Yuan(repaid.unwrap_or_default()),
    });
    Ok(MemberInput {
        name: Some(row.name.trim().to_string()).filter(|s| !s.is_empty()),
        age,
        incomes,
        disability,
        serious_illness: Some(row.illness.trim().to_string()).filter(|s| !s.is_empty()),
        labour_capacity: LabourCapacity::from_code(&row.labour),
        self_care: SelfCare::from_code(&row.self_care),
        hukou_local: Some(!row.non_local),
        residence_months: number(
            &field("residence_months"),
            &format!("{who}本地居住月数"),
            &row.residence_months,
        )?,
        job_found: row.job_found,
        student: row.student,
        medical,
        ..Default::default()
    })
}

/// A policy refusal's field (`members[2].age`) as a person reads it.
pub fn field_in_chinese(field: &str) -> String {
    let Some(rest) = field.strip_prefix("members[") else {
        return match field {
            "month" => "测算月份".into(),
            "members" => "家庭成员".into(),
            "price_index_rise" => "价格指数涨幅".into(),
            f if f.starts_with("temporary") => "临时救助".into(),
            f if f.starts_with("disaster") => "受灾情况".into(),
            f if f.starts_with("assets") => "家庭财产".into(),
            f if f.starts_with("rigid") => "刚性支出".into(),
            _ => "家庭情况".into(),
        };
    };
    let (n, f) = rest.split_once("].").unwrap_or((rest, ""));
    let what = match f.split('.').next().unwrap_or("") {
        "age" | "birth_date" => "年龄",
        "id_number" => "身份证号",
        "incomes" => "收入",
        "disability" => "残疾",
        "medical" => "医疗费用",
        "residence_months" => "居住月数",
        _ => "",
    };
    format!("成员{n}{what}")
}
