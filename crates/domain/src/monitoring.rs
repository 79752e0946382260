//! Dynamic monitoring of the low-income population (低收入人口动态监测预警): the rules that turn
//! department facts into graded warnings, each with the working days the township has to check
//! it on site (分级预警、分类管理、限时核查). Pure: the facts and thresholds come in, warnings go out.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::money::Money;
use crate::person::coded_enum;
use serde::{Deserialize, Serialize};

coded_enum! {
    /// 预警等级.
    Grade {
        Red => "red", "红色预警";
        Orange => "orange", "橙色预警";
        Yellow => "yellow", "黄色预警";
    }
}

coded_enum! {
    /// What a warning is about; each rule has one grade and one expected handling.
    Rule {
        Death => "death", "成员死亡";
        SeriousIllness => "serious_illness", "确诊重特大疾病";
        MedicalCosts => "medical_costs", "医疗自负费用过高";
        Unemployment => "unemployment", "登记失业";
        Disability => "disability", "新办残疾人证";
        School => "school", "子女入学";
        NewIncome => "new_income", "新发现工资或经营收入";
        NewVehicle => "new_vehicle", "新登记机动车";
        NewRealEstate => "new_real_estate", "新登记不动产";
        NewBusiness => "new_business", "新登记市场主体";
        MovedOut => "moved_out", "户籍迁出";
        Marriage => "marriage", "婚姻变动";
        Birth => "birth", "出生";
    }
}

coded_enum! {
    /// How a warning was settled.
    Outcome {
        ProactiveCase => "proactive_case", "主动发起救助申请";
        Review => "review", "启动复核";
        HouseholdChange => "household_change", "办理家庭成员变更";
        NoAction => "no_action", "无需处置";
    }
}

coded_enum! {
    /// Where a warning is in its handling.
    WarningStatus {
        New => "new", "待分派";
        Assigned => "assigned", "待核查";
        Checked => "checked", "已核查待处置";
        Closed => "closed", "已办结";
    }
}

impl Rule {
    pub fn grade(self) -> Grade {
        match self {
            Rule::Death => Grade::Red,
            Rule::SeriousIllness | Rule::MedicalCosts => Grade::Orange,
            _ => Grade::Yellow,
        }
    }

    /// What the township is expected to do, as the warning page says it.
    pub fn advice(self) -> &'static str {
        match self {
            Rule::Death => "核实死亡情况；核实前暂停该成员下月救助金发放",
            Rule::SeriousIllness | Rule::MedicalCosts => {
                "入户了解医疗负担，告知并协助申请医疗救助、临时救助"
            }
            Rule::Unemployment => "了解就业和生活情况，告知就业救助和临时救助",
            Rule::Disability => "了解照护需要，告知残疾人两项补贴和相关救助",
            Rule::School => "了解就学负担，告知教育救助",
            Rule::NewIncome | Rule::NewVehicle | Rule::NewRealEstate | Rule::NewBusiness => {
                "核实家庭经济状况变化，必要时启动复核"
            }
            Rule::MovedOut | Rule::Marriage | Rule::Birth => "核实家庭人口变化，办理成员变更",
        }
    }

    /// Whether the rule watches the monitored population only (changes that matter to a
    /// recipient's entitlement), not everyone the facts know.
    pub fn monitored_only(self) -> bool {
        matches!(
            self,
            Rule::NewIncome
                | Rule::NewVehicle
                | Rule::NewRealEstate
                | Rule::NewBusiness
                | Rule::MovedOut
                | Rule::Marriage
                | Rule::Birth
                | Rule::Unemployment
                | Rule::School
        )
    }
}

/// Diagnoses counted as serious illness (重特大疾病), by the words a hospital writes.
const SERIOUS: &[&str] = &[
    "癌",
    "恶性肿瘤",
    "白血病",
    "淋巴瘤",
    "尿毒症",
    "肾功能衰竭",
    "肾衰竭",
    "透析",
    "器官移植",
    "心肌梗死",
    "脑梗死",
    "脑出血",
    "再生障碍性贫血",
    "血友病",
    "重症肌无力",
    "渐冻症",
    "帕金森",
    "精神分裂",
];

pub fn is_serious(diagnosis: &str) -> bool {
    SERIOUS.iter().any(|w| diagnosis.contains(w))
}

/// One department fact as the rules read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub category: String,
    pub date: Option<NaiveDate>,
    pub amount: Option<Money>,
    /// A text the rule needs: the diagnosis, the change type, the disability grade.
    pub text: String,
    /// Where it came from, for the warning's basis: 文件名 第N行.
    pub source: String,
}

/// What the rules know of the person a fact is about.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// In the monitored population (recipients, 低保边缘, recently left or refused, registered
    /// as in difficulty).
    pub monitored: bool,
    /// The household's counted monthly income (declared), for the medical-cost share.
    pub household_monthly_income: Money,
    /// What the person declared as their own counted monthly income: earnings a department
    /// finds above it are new.
    pub declared_monthly: Money,
    /// The person is the only member with earnings facts in the household.
    pub only_earner: bool,
}

/// The thresholds in force, each an effective-dated parameter with its source.
#[derive(Debug, Clone)]
pub struct Thresholds {
    /// The months of costs and of facts the run looks back over.
    pub months: u32,
    /// Own medical costs over `months` from which a warning fires.
    pub medical_own: Money,
    /// Own medical costs above this share (in per cent) of the household's income over `months`.
    pub medical_income_percent: i64,
}

/// A warning as a rule raises it: the person and the figure behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raised {
    pub rule: Rule,
    /// A discovery: someone outside the monitored population found in difficulty.
    pub discovery: bool,
    /// The date of the fact (or the latest fact) behind it.
    pub fact_date: Option<NaiveDate>,
    /// The figure behind it (costs, income), if any: a changed figure is a new warning.
    pub figure: Option<Money>,
    /// Why, in words, with the sources.
    pub basis: String,
}

impl Raised {
    pub fn grade(&self) -> Grade {
        self.rule.grade()
    }

    /// The identity of the underlying fact: the same fact from two files gives one warning;
    /// a different figure gives a new one.
    pub fn fingerprint(&self) -> String {
        format!(
            "{}|{}|{}",
            self.rule.code(),
            self.fact_date.map(|d| d.to_string()).unwrap_or_default(),
            self.figure.map(|m| m.fen()).unwrap_or(0)
        )
    }
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// The first day of the window of `months` months ending with `month`.
pub fn window_start(month: NaiveDate, months: u32) -> NaiveDate {
    first_of_month(month)
        .checked_sub_months(chrono::Months::new(months.saturating_sub(1)))
        .unwrap_or(month)
}

/// Weighs one person's facts dated within the window ending in `month`; facts outside the
/// window are ignored. One warning per rule at most (the latest fact), so two files carrying
/// the same event do not give two.
pub fn weigh(facts: &[Fact], subject: &Subject, month: NaiveDate, t: &Thresholds) -> Vec<Raised> {
    let from = window_start(month, t.months);
    let until = first_of_month(month)
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(month);
    let within = |f: &&Fact| f.date.is_some_and(|d| d >= from && d < until);
    let mut facts: Vec<&Fact> = facts.iter().filter(within).collect();
    // Databases give rows in no set order: the rules read them in one, so the same facts
    // always give the same warnings.
    facts.sort_by(|a, b| {
        (a.date, &a.category, a.amount, &a.text, &a.source).cmp(&(
            b.date,
            &b.category,
            b.amount,
            &b.text,
            &b.source,
        ))
    });
    let mut by_rule: BTreeMap<Rule, Raised> = BTreeMap::new();
    let mut raise = |rule: Rule, discovery: bool, f: &Fact, figure: Option<Money>, why: String| {
        if rule.monitored_only() && !subject.monitored {
            return;
        }
        let r = Raised {
            rule,
            discovery,
            fact_date: f.date,
            figure,
            basis: format!("{why}（{}）", f.source),
        };
        // The latest fact of a rule stands for the rule.
        match by_rule.get(&rule) {
            Some(old) if old.fact_date >= r.fact_date => {}
            _ => {
                by_rule.insert(rule, r);
            }
        }
    };
    let date = |f: &Fact| f.date.map(|d| d.to_string()).unwrap_or_default();
    for f in &facts {
        match f.category.as_str() {
            // A death outside the monitored population matters when it takes the household's
            // only earnings.
            "death" | "cremation" if subject.monitored || subject.only_earner => raise(
                Rule::Death,
                !subject.monitored,
                f,
                None,
                if subject.monitored {
                    format!("{}死亡", date(f))
                } else {
                    format!("{}死亡，系家庭唯一有收入的成员", date(f))
                },
            ),
            "medical_claim" if is_serious(&f.text) && subject.monitored => raise(
                Rule::SeriousIllness,
                false,
                f,
                None,
                format!("{}诊断：{}", date(f), f.text),
            ),
            "unemployment" => raise(
                Rule::Unemployment,
                false,
                f,
                None,
                format!("{}登记失业", date(f)),
            ),
            "disability" => {
                let grade: u8 = f.text.parse().unwrap_or(4);
                // Outside the population only a severe disability (grades 1–2) is a discovery.
                if subject.monitored || grade <= 2 {
                    raise(
                        Rule::Disability,
                        !subject.monitored,
                        f,
                        None,
                        format!("{}办理残疾人证，残疾等级{}级", date(f), grade),
                    )
                }
            }
            "school" => raise(
                Rule::School,
                false,
                f,
                None,
                format!("{}入学：{}", date(f), f.text),
            ),
            // Earnings above what the person declared are new; what was declared is known.
            "wage" | "tax" if f.amount.unwrap_or_default() > subject.declared_monthly => raise(
                Rule::NewIncome,
                false,
                f,
                f.amount,
                format!(
                    "{}收入{}元，申报月收入{}元",
                    f.date
                        .map(|d| d.format("%Y年%-m月").to_string())
                        .unwrap_or_default(),
                    f.amount.unwrap_or_default(),
                    subject.declared_monthly
                ),
            ),
            "vehicle" => raise(
                Rule::NewVehicle,
                false,
                f,
                None,
                format!("{}登记机动车", date(f)),
            ),
            "real_estate" => raise(
                Rule::NewRealEstate,
                false,
                f,
                None,
                format!("{}登记不动产", date(f)),
            ),
            "business" => raise(
                Rule::NewBusiness,
                false,
                f,
                None,
                format!("{}登记市场主体：{}", date(f), f.text),
            ),
            "marriage" => raise(
                Rule::Marriage,
                false,
                f,
                None,
                format!("{}办理{}", date(f), f.text),
            ),
            "hukou_change" if f.text.contains("出生") => {
                raise(Rule::Birth, false, f, None, format!("{}出生登记", date(f)))
            }
            "hukou_change" if f.text.contains("迁出") => raise(
                Rule::MovedOut,
                false,
                f,
                None,
                format!("{}户籍迁出", date(f)),
            ),
            _ => {}
        }
    }
    // Own medical costs over the window: above the amount, or above the share of the
    // household's income over the same months.
    let claims: Vec<&&Fact> = facts
        .iter()
        .filter(|f| f.category == "medical_claim")
        .collect();
    let own: Money = claims.iter().filter_map(|f| f.amount).sum();
    if let Some(latest) = claims.iter().max_by_key(|f| f.date) {
        let income = subject.household_monthly_income.fen() * i64::from(t.months);
        // With no declared income the share says nothing: the amount alone decides.
        let share_hit = income > 0 && own.fen() * 100 > income * t.medical_income_percent;
        let amount_hit = own >= t.medical_own;
        let serious = claims.iter().any(|f| is_serious(&f.text));
        // Outside the population: a serious illness with high own costs is a discovery.
        if (amount_hit || (share_hit && subject.monitored)) && (subject.monitored || serious) {
            let why = if amount_hit {
                format!(
                    "近{}个月医疗自负费用{}元，达到{}元",
                    t.months, own, t.medical_own
                )
            } else {
                format!(
                    "近{}个月医疗自负费用{}元，超过同期家庭收入{}元的{}%",
                    t.months,
                    own,
                    Money::from_fen(income),
                    t.medical_income_percent
                )
            };
            let why = if serious && !subject.monitored {
                let d = claims
                    .iter()
                    .find(|f| is_serious(&f.text))
                    .map(|f| f.text.clone())
                    .unwrap_or_default();
                format!("{why}；诊断：{d}")
            } else {
                why
            };
            raise(
                Rule::MedicalCosts,
                !subject.monitored,
                latest,
                Some(own),
                why,
            );
        }
    }
    by_rule.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn fact(category: &str, date: NaiveDate, amount: Option<i64>, text: &str) -> Fact {
        Fact {
            category: category.into(),
            date: Some(date),
            amount: amount.map(Money::from_yuan),
            text: text.into(),
            source: "测试.csv 第2行".into(),
        }
    }

    fn t() -> Thresholds {
        Thresholds {
            months: 12,
            medical_own: Money::from_yuan(20_000),
            medical_income_percent: 50,
        }
    }

    #[test]
    fn medical_costs_fire_at_the_amount_and_not_one_fen_below() {
        let month = d(2026, 11, 1);
        let subject = Subject {
            monitored: true,
            household_monthly_income: Money::from_yuan(10_000),
            only_earner: false,
            declared_monthly: Money::ZERO,
        };
        let mut facts = vec![fact("medical_claim", d(2026, 3, 5), Some(12_000), "肺炎")];
        facts.push(Fact {
            amount: Some(Money::from_fen(799_999)),
            ..fact("medical_claim", d(2026, 10, 5), None, "骨折")
        });
        assert!(weigh(&facts, &subject, month, &t()).is_empty());
        facts[1].amount = Some(Money::from_yuan(8_000));
        let w = weigh(&facts, &subject, month, &t());
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].rule, Rule::MedicalCosts);
        assert_eq!(w[0].figure, Some(Money::from_yuan(20_000)));
        assert_eq!(w[0].fact_date, Some(d(2026, 10, 5)));
        // A claim outside the twelve months does not count.
        facts[0].date = Some(d(2025, 11, 30));
        assert!(weigh(&facts, &subject, month, &t()).is_empty());
    }

    #[test]
    fn medical_costs_above_half_the_households_income_fire_for_the_monitored() {
        let month = d(2026, 11, 1);
        let mut subject = Subject {
            monitored: true,
            household_monthly_income: Money::from_yuan(1_000),
            only_earner: false,
            declared_monthly: Money::ZERO,
        };
        // 12 months × 1,000 = 12,000; half is 6,000: 6,000 exactly is not above it.
        let mut facts = vec![fact("medical_claim", d(2026, 6, 1), Some(6_000), "肺炎")];
        assert!(weigh(&facts, &subject, month, &t()).is_empty());
        facts[0].amount = Some(Money::from_fen(600_001));
        assert_eq!(
            weigh(&facts, &subject, month, &t())[0].rule,
            Rule::MedicalCosts
        );
        subject.monitored = false;
        assert!(weigh(&facts, &subject, month, &t()).is_empty());
    }

    #[test]
    fn outside_the_population_only_hardship_is_a_discovery() {
        let month = d(2026, 11, 1);
        let outsider = Subject::default();
        let facts = vec![
            fact("unemployment", d(2026, 10, 2), None, ""),
            fact("wage", d(2026, 10, 1), Some(5_000), ""),
            fact("disability", d(2026, 10, 3), None, "3"),
        ];
        assert!(weigh(&facts, &outsider, month, &t()).is_empty());
        let severe = vec![fact("disability", d(2026, 10, 3), None, "2")];
        let w = weigh(&severe, &outsider, month, &t());
        assert_eq!((w[0].rule, w[0].discovery), (Rule::Disability, true));
        let ill = vec![fact("medical_claim", d(2026, 9, 3), Some(25_000), "肺癌")];
        let w = weigh(&ill, &outsider, month, &t());
        assert_eq!((w[0].rule, w[0].discovery), (Rule::MedicalCosts, true));
        assert!(w[0].basis.contains("肺癌"));
        let death = vec![fact("death", d(2026, 10, 9), None, "")];
        assert!(weigh(&death, &outsider, month, &t()).is_empty());
        let earner = Subject {
            only_earner: true,
            ..Subject::default()
        };
        assert_eq!(weigh(&death, &earner, month, &t())[0].grade(), Grade::Red);
    }

    #[test]
    fn each_rule_fires_for_the_monitored_with_its_grade() {
        let month = d(2026, 11, 1);
        let subject = Subject {
            monitored: true,
            ..Subject::default()
        };
        let cases = [
            (
                fact("death", d(2026, 10, 9), None, ""),
                Rule::Death,
                Grade::Red,
            ),
            (
                fact("medical_claim", d(2026, 10, 9), Some(100), "胃癌"),
                Rule::SeriousIllness,
                Grade::Orange,
            ),
            (
                fact("unemployment", d(2026, 10, 9), None, ""),
                Rule::Unemployment,
                Grade::Yellow,
            ),
            (
                fact("disability", d(2026, 10, 9), None, "4"),
                Rule::Disability,
                Grade::Yellow,
            ),
            (
                fact("school", d(2026, 9, 1), None, "实验小学"),
                Rule::School,
                Grade::Yellow,
            ),
            (
                fact("wage", d(2026, 10, 1), Some(2_600), ""),
                Rule::NewIncome,
                Grade::Yellow,
            ),
            (
                fact("tax", d(2026, 10, 1), Some(9_000), ""),
                Rule::NewIncome,
                Grade::Yellow,
            ),
            (
                fact("vehicle", d(2026, 8, 1), None, ""),
                Rule::NewVehicle,
                Grade::Yellow,
            ),
            (
                fact("real_estate", d(2026, 8, 1), None, ""),
                Rule::NewRealEstate,
                Grade::Yellow,
            ),
            (
                fact("business", d(2026, 8, 1), None, "某商行"),
                Rule::NewBusiness,
                Grade::Yellow,
            ),
            (
                fact("marriage", d(2026, 8, 1), None, "结婚登记"),
                Rule::Marriage,
                Grade::Yellow,
            ),
            (
                fact("hukou_change", d(2026, 8, 1), None, "出生"),
                Rule::Birth,
                Grade::Yellow,
            ),
            (
                fact("hukou_change", d(2026, 8, 1), None, "迁出"),
                Rule::MovedOut,
                Grade::Yellow,
            ),
        ];
        for (f, rule, grade) in cases {
            let w = weigh(std::slice::from_ref(&f), &subject, month, &t());
            assert_eq!(w.len(), 1, "{rule:?}");
            assert_eq!((w[0].rule, w[0].grade()), (rule, grade));
            assert!(!w[0].discovery);
            // A day after the month the run is for, the fact is not yet weighed.
            let mut later = f.clone();
            later.date = Some(d(2026, 12, 1));
            assert!(
                weigh(&[later], &subject, month, &t()).is_empty(),
                "{rule:?}"
            );
        }
        // A stay in hospital that is not a serious illness is no warning by itself.
        let flu = fact("medical_claim", d(2026, 10, 9), Some(100), "流行性感冒");
        assert!(weigh(&[flu], &subject, month, &t()).is_empty());
    }

    #[test]
    fn earnings_are_new_only_above_what_was_declared() {
        let month = d(2026, 11, 1);
        let subject = Subject {
            monitored: true,
            declared_monthly: Money::from_yuan(3_000),
            ..Subject::default()
        };
        let declared = fact("wage", d(2026, 10, 1), Some(3_000), "");
        assert!(weigh(&[declared], &subject, month, &t()).is_empty());
        let mut more = fact("wage", d(2026, 10, 1), None, "");
        more.amount = Some(Money::from_fen(300_001));
        let w = weigh(&[more], &subject, month, &t());
        assert_eq!(w[0].rule, Rule::NewIncome);
        assert!(
            w[0].basis.contains("申报月收入3,000.00元"),
            "{}",
            w[0].basis
        );
    }

    #[test]
    fn the_order_facts_arrive_in_does_not_change_the_warnings() {
        let month = d(2026, 11, 1);
        let subject = Subject {
            monitored: true,
            ..Subject::default()
        };
        // Two wages of the same month: whichever comes first, the same one stands.
        let a = fact("wage", d(2026, 10, 1), Some(3_000), "");
        let b = fact("wage", d(2026, 10, 1), Some(4_500), "");
        let one = weigh(&[a.clone(), b.clone()], &subject, month, &t());
        let other = weigh(&[b, a], &subject, month, &t());
        assert_eq!(one, other);
        assert_eq!(one[0].figure, Some(Money::from_yuan(3_000)));
    }

    #[test]
    fn the_same_event_in_two_files_is_one_warning_with_one_fingerprint() {
        let month = d(2026, 11, 1);
        let subject = Subject {
            monitored: true,
            ..Subject::default()
        };
        let a = fact("death", d(2026, 10, 9), None, "");
        let mut b = fact("cremation", d(2026, 10, 9), None, "");
        b.source = "火化.csv 第7行".into();
        let w = weigh(&[a, b], &subject, month, &t());
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].fingerprint(), "death|2026-10-09|0");
    }
}
