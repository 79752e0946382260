//! Parameters: named, typed, effective-dated values with their source.
//!
//! Every amount, ratio, age and tier a program uses is a parameter; the programs hold no numbers
//! of policy. The catalogue of parameter names ([`DEFS`]) fixes each one's kind and Chinese label,
//! so a pack or an override with a misspelt name or a value of the wrong kind is refused.

use std::fmt;

use chrono::NaiveDate;
use jiuzhu_domain::Money;
use serde::Serialize;

use crate::PolicyError;

/// A ratio in ten-thousandths: 1.3× is 13,000 and 75% is 7,500. Exact; no floats anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ratio(i64);

impl Ratio {
    pub const DENOMINATOR: i64 = 10_000;

    pub const fn from_basis_points(bp: i64) -> Ratio {
        Ratio(bp)
    }

    pub const fn basis_points(self) -> i64 {
        self.0
    }

    /// `1.3`, `0.75`, `75%`, `7.5%`: at most four decimal places of the whole.
    pub fn parse(text: &str) -> Option<Ratio> {
        let t = text.trim();
        let (digits, scale) = match t.strip_suffix(['%', '％']) {
            Some(p) => (p.trim(), 100),
            None => (t.strip_suffix('倍').unwrap_or(t).trim(), 1),
        };
        let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 4 {
            return None;
        }
        let mut ten_thousandths: i64 = whole.parse::<i64>().ok()?.checked_mul(10_000)?;
        let padded = format!("{frac:0<4}");
        ten_thousandths += padded.parse::<i64>().ok()?;
        (ten_thousandths % scale == 0).then_some(Ratio(ten_thousandths / scale))
    }

    /// `amount × ratio`, rounded half away from zero to the fen.
    pub fn of(self, amount: Money) -> Money {
        amount.mul_ratio(self.0, Self::DENOMINATOR)
    }
}

impl fmt::Display for Ratio {
    /// Below one as a percentage (`75%`), from one up as a multiple (`1.3倍`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let trim = |n: i64, places: usize| {
            let s = format!(
                "{}.{:0places$}",
                n / 10i64.pow(places as u32),
                n % 10i64.pow(places as u32)
            );
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        };
        if self.0 < Self::DENOMINATOR {
            write!(f, "{}%", trim(self.0, 2))
        } else {
            write!(f, "{}倍", trim(self.0, 4))
        }
    }
}

/// What a parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Money,
    Ratio,
    Count,
    /// Tiers keyed by a count (an age) giving an amount.
    AgeScale,
    /// Tiers keyed by an amount giving an amount.
    MoneyScale,
    /// Tiers keyed by an amount giving a count (months of the standard).
    MoneyToCount,
}

/// One tier of a scale: from `at_least` (inclusive) up to the next tier, `value` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tier {
    pub at_least: i64,
    pub value: i64,
}

/// A parameter's value, already parsed to its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Money(Money),
    Ratio(Ratio),
    Count(i64),
    Scale(Vec<Tier>),
}

impl Value {
    /// Parses `text` (or, for scales, `[[key, value], ...]`) as a value of `kind`.
    pub fn parse(kind: Kind, raw: &RawValue) -> Result<Value, String> {
        let money = |s: &str| Money::parse_yuan(s).map_err(|e| e.to_string());
        match (kind, raw) {
            (Kind::Money, RawValue::Text(s)) => {
                let m = money(s)?;
                if m.is_negative() {
                    return Err(format!("金额不能为负数：{s}"));
                }
                Ok(Value::Money(m))
            }
            (Kind::Ratio, RawValue::Text(s)) => Ratio::parse(s)
                .map(Value::Ratio)
                .ok_or_else(|| format!("“{s}”不是比例：应写作 1.3、0.75 或 75%")),
            (Kind::Count, RawValue::Text(s)) => s
                .trim()
                .parse::<u32>()
                .map(|n| Value::Count(n.into()))
                .map_err(|_| format!("“{s}”不是非负整数")),
            (Kind::AgeScale | Kind::MoneyScale | Kind::MoneyToCount, RawValue::Pairs(pairs)) => {
                let mut tiers = Vec::with_capacity(pairs.len());
                for (k, v) in pairs {
                    let at_least = match kind {
                        Kind::AgeScale => k
                            .trim()
                            .parse::<u32>()
                            .map(i64::from)
                            .map_err(|_| format!("档次起点“{k}”不是年龄"))?,
                        _ => money(k)?.fen(),
                    };
                    let value = match kind {
                        Kind::MoneyToCount => v
                            .trim()
                            .parse::<u32>()
                            .map(i64::from)
                            .map_err(|_| format!("档次值“{v}”不是非负整数"))?,
                        _ => money(v)?.fen(),
                    };
                    if tiers.last().is_some_and(|t: &Tier| t.at_least >= at_least) {
                        return Err("档次起点应从小到大排列".into());
                    }
                    tiers.push(Tier { at_least, value });
                }
                if tiers.is_empty() {
                    return Err("分档表不能为空".into());
                }
                Ok(Value::Scale(tiers))
            }
            (Kind::AgeScale | Kind::MoneyScale | Kind::MoneyToCount, RawValue::Text(_)) => {
                Err("分档参数应写作 [[起点, 数值], ...]".into())
            }
            (_, RawValue::Pairs(_)) => Err("该参数是单个数值，不是分档表".into()),
        }
    }

    /// The value as a clerk reads it.
    pub fn display(&self, def: &Def) -> String {
        match self {
            Value::Money(m) => format!("{m}元"),
            Value::Ratio(r) => r.to_string(),
            Value::Count(n) => format!("{n}{}", def.unit),
            Value::Scale(tiers) => tiers
                .iter()
                .map(|t| match def.kind {
                    Kind::AgeScale => {
                        format!("{}岁及以上{}元", t.at_least, Money::from_fen(t.value))
                    }
                    Kind::MoneyScale => format!(
                        "{}元及以上{}元",
                        Money::from_fen(t.at_least),
                        Money::from_fen(t.value)
                    ),
                    _ => format!(
                        "{}元及以上{}{}",
                        Money::from_fen(t.at_least),
                        t.value,
                        def.unit
                    ),
                })
                .collect::<Vec<_>>()
                .join("；"),
        }
    }

    /// The value in the form packs and overrides write it.
    pub fn to_raw(&self) -> RawValue {
        match self {
            Value::Money(m) => RawValue::Text(m.to_plain_yuan()),
            Value::Ratio(r) => RawValue::Text(format!("{}", r.basis_points() as f64 / 10_000.0)),
            Value::Count(n) => RawValue::Text(n.to_string()),
            Value::Scale(tiers) => RawValue::Pairs(
                tiers
                    .iter()
                    .map(|t| (t.at_least.to_string(), t.value.to_string()))
                    .collect(),
            ),
        }
    }
}

/// A value as written in a pack, an override or a form, before it is parsed to its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawValue {
    Text(String),
    Pairs(Vec<(String, String)>),
}

/// Which tier of a scale applies to `key`: the last tier whose start is at most `key`.
pub fn tier_of(tiers: &[Tier], key: i64) -> Option<Tier> {
    tiers.iter().rev().find(|t| t.at_least <= key).copied()
}

/// A parameter's name, kind and label.
#[derive(Debug)]
pub struct Def {
    pub name: &'static str,
    pub kind: Kind,
    pub label: &'static str,
    /// Unit of counts and of scale values that are counts.
    pub unit: &'static str,
}

macro_rules! defs {
    ($($name:literal, $kind:ident, $unit:literal, $label:literal;)+) => {
        /// Every parameter the programs read.
        pub const DEFS: &[Def] = &[$(Def { name: $name, kind: Kind::$kind, unit: $unit, label: $label }),+];
    };
}

defs! {
    "dibao.standard", Money, "", "最低生活保障标准（每人每月）";
    "dibao.annual_growth", Ratio, "", "低保标准年增长下限";
    "dibao.tiers", MoneyScale, "", "分档发放：人均差额达到该数时每人每月发放额";
    "dibao.exit_months", Count, "个月", "就业增收后的渐退期";
    "dibao.job_cost", Money, "", "就业成本扣减（每名就业成员每月）";
    "dibao.asset_months", Count, "个月", "人均金融资产上限（低保标准的月数）";
    "near_dibao.ratio", Ratio, "", "低保边缘家庭人均收入上限（低保标准的倍数）";
    "tekun.basic_ratio", Ratio, "", "特困人员基本生活标准（低保标准的倍数）";
    "tekun.minor_age", Count, "周岁", "未成年人纳入特困供养的年龄上限";
    "tekun.elderly_age", Count, "周岁", "特困供养的老年人年龄";
    "tekun.care_subsidy", Money, "", "经济困难失能老年人护理补贴标准（每人每月）";
    "minimum_wage", Money, "", "当地最低工资标准（每月）";
    "tekun.care_dispersed_full", Ratio, "", "分散供养照料护理标准：全自理（护理补贴的倍数）";
    "tekun.care_dispersed_partial", Ratio, "", "分散供养照料护理标准：半自理（护理补贴的倍数）";
    "tekun.care_dispersed_none", Ratio, "", "分散供养照料护理标准：全护理（护理补贴的倍数）";
    "tekun.care_centralised_full", Ratio, "", "集中供养照料护理标准：全自理（最低工资的比例）";
    "tekun.care_centralised_partial", Ratio, "", "集中供养照料护理标准：半自理（最低工资的比例）";
    "tekun.care_centralised_none", Ratio, "", "集中供养照料护理标准：全护理（最低工资的比例）";
    "poverty.income_upper", Ratio, "", "收入型贫困家庭人均收入上限（低保标准的倍数）";
    "poverty.expense_upper", Ratio, "", "支出型贫困家庭人均收入上限（低保标准的倍数）";
    "poverty.rigid_ratio", Ratio, "", "刚性支出与家庭收入之比的界限";
    "poverty.residence_years", Count, "年", "在本地居住年限下限";
    "low_income.medical_ratio", Ratio, "", "低收入人员大病保险补偿占自负费用的保障比例";
    "low_income.student_ratio", Ratio, "", "低收入家庭学生助学（低保家庭助学标准的比例）";
    "dibao.student_aid", Money, "", "低保家庭困难学生助学标准（每人每学年）";
    "temporary.emergency_amount", Money, "", "急难型临时救助先行救助额";
    "temporary.tiers", MoneyToCount, "个月", "支出型临时救助分档：困难金额达到该数时最多救助的低保标准月数";
    "temporary.case_by_case_months", Count, "个月", "“一事一议”最多救助的低保标准月数";
    "temporary.nonlocal_months", Count, "个月", "非本地户籍常住人口纳入临时救助的居住月数";
    "temporary.max_stages", Count, "期", "一次审批最多分期发放的期数";
    "elderly.scale", AgeScale, "", "高龄津贴（按年龄分档，每人每月）";
    "price.trigger", Ratio, "", "价格临时补贴启动条件：物价指数同比涨幅";
    "price.subsidy", Money, "", "价格临时补贴（每人每月）";
    "disaster.rebuild_cap", Money, "", "因灾倒房新（翻）建补助上限";
    "disaster.repair_cap", Money, "", "因灾损房修缮补助上限";
    "funeral.months", Count, "个月", "丧葬补助：定期补助的月数";
    "verification.max_age_days", Count, "天", "作出救助决定时家庭经济状况核对报告的最长有效期";
    "approval.delegated", Count, "", "低保、特困审核确认权限下放乡镇（1＝乡镇确认，0＝县级民政部门确认）";
    "review.stable_months", Count, "个月", "特困人员和经济状况变化不大的低保家庭核查周期";
    "review.unstable_months", Count, "个月", "收入来源不固定且有劳动能力成员的低保家庭核查周期";
    "review.adjust_threshold", Money, "", "复核时月救助金变化不足该数视为没有明显变化，不调整";
    "visit.tekun_months", Count, "个月", "分散供养特困人员走访周期";
    "visit.dibao_months", Count, "个月", "低保家庭走访周期";
    "visit.other_months", Count, "个月", "其他救助对象走访周期";
    "payment.deduction_max_percent", Count, "%", "从后续发放中扣减追回款时，每次最多扣减当月发放额的百分比";
    "monitoring.months", Count, "个月", "动态监测回溯的月数（医疗费用累计和部门数据的时间范围）";
    "monitoring.population_months", Count, "个月", "退出救助或申请未获批准的家庭继续纳入监测的月数";
    "monitoring.medical_own", Money, "", "监测期内医疗自负费用达到该数即预警";
    "monitoring.medical_income_percent", Count, "%", "监测期内医疗自负费用超过同期家庭收入的百分比即预警";
    "monitoring.red_days", Count, "个工作日", "红色预警的核查时限";
    "monitoring.orange_days", Count, "个工作日", "橙色预警的核查时限";
    "monitoring.yellow_days", Count, "个工作日", "黄色预警的核查时限";
    "publicity.days", Count, "天", "救助对象公示期（自公示之日起的自然日）";
    "complaints.answer_days", Count, "个工作日", "投诉举报的答复时限，逾期升级督办";
    "inspections.sample_percent", Count, "%", "双随机抽查在每个乡镇、每个项目中抽取救助对象的比例";
    "statistics.min_households", Count, "户", "公开统计数据中单元格的最少户数，少于该数不公开";
    "social.service_cap_percent", Count, "%", "政府购买社会救助服务经费占当年社会救助专项资金的上限";
    "social.cap_warn_percent", Count, "%", "购买服务经费达到上限的该百分比时提醒";
    "volunteers.points_per_hour", Count, "分", "志愿服务每核实一小时记的积分";
    "new_citizens.temporary_months", Count, "个月", "持居住证的新市民在本地居住满该月数即纳入临时救助范围";
}

pub fn def(name: &str) -> Result<&'static Def, PolicyError> {
    DEFS.iter()
        .find(|d| d.name == name)
        .ok_or_else(|| PolicyError::UnknownParameter(name.to_string()))
}

/// A parameter as it applies on a date, with everything needed to justify it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resolved {
    pub name: &'static str,
    pub label: &'static str,
    #[serde(skip)]
    pub value: Value,
    /// The value as a clerk reads it.
    pub text: String,
    pub from: NaiveDate,
    /// Document number or seed and clause.
    pub source: String,
    /// The policy pack (jurisdiction) the value comes from.
    pub jurisdiction: String,
    /// A value no document confirms: shown as unconfirmed.
    pub demo: bool,
    /// A value set for this evaluation only (what-if), not from a pack.
    pub overridden: bool,
}

impl Resolved {
    pub fn money(&self) -> Money {
        match self.value {
            Value::Money(m) => m,
            _ => unreachable!("{} is not money", self.name),
        }
    }

    pub fn ratio(&self) -> Ratio {
        match self.value {
            Value::Ratio(r) => r,
            _ => unreachable!("{} is not a ratio", self.name),
        }
    }

    pub fn count(&self) -> i64 {
        match self.value {
            Value::Count(n) => n,
            _ => unreachable!("{} is not a count", self.name),
        }
    }

    pub fn tiers(&self) -> &[Tier] {
        match &self.value {
            Value::Scale(t) => t,
            _ => unreachable!("{} is not a scale", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_parse_exactly_and_print_as_clerks_write_them() {
        assert_eq!(Ratio::parse("1.3"), Some(Ratio(13_000)));
        assert_eq!(Ratio::parse("75%"), Some(Ratio(7_500)));
        assert_eq!(Ratio::parse("0.5"), Some(Ratio(5_000)));
        assert_eq!(Ratio::parse("2倍"), Some(Ratio(20_000)));
        assert_eq!(Ratio::parse("3.5%"), Some(Ratio(350)));
        assert_eq!(Ratio::parse("1.00001"), None);
        assert_eq!(Ratio::parse("-1"), None);
        assert_eq!(Ratio::parse("abc"), None);
        assert_eq!(Ratio(13_000).to_string(), "1.3倍");
        assert_eq!(Ratio(7_500).to_string(), "75%");
        assert_eq!(Ratio(350).to_string(), "3.5%");
        assert_eq!(
            Ratio(13_000).of(Money::from_yuan(864)),
            Money::from_fen(112_320)
        );
    }

    #[test]
    fn scales_must_rise_and_tiers_include_their_start() {
        let pairs = |p: &[(&str, &str)]| {
            RawValue::Pairs(
                p.iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect(),
            )
        };
        let Value::Scale(tiers) = Value::parse(
            Kind::AgeScale,
            &pairs(&[("80", "100"), ("90", "200"), ("100", "1100")]),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(tier_of(&tiers, 79), None);
        assert_eq!(tier_of(&tiers, 80).unwrap().value, 10_000);
        assert_eq!(tier_of(&tiers, 99).unwrap().value, 20_000);
        assert_eq!(tier_of(&tiers, 100).unwrap().value, 110_000);
        assert!(Value::parse(Kind::AgeScale, &pairs(&[("90", "200"), ("80", "100")])).is_err());
        assert!(Value::parse(Kind::Money, &RawValue::Text("-5".into())).is_err());
    }
}
