//! 家庭经济状况核对: what the departments' facts show about a household over the 12 months
//! before the application month, against what the family declared. Pure: facts in, report out.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use jiuzhu_domain::{IncomeKind, Money};
use serde::{Deserialize, Serialize};

/// A fact about a member, as stored: category, date, main amount and the row's values.
#[derive(Debug, Clone)]
pub struct StoredFact {
    pub category: String,
    pub date: Option<NaiveDate>,
    pub amount_fen: Option<i64>,
    pub detail: serde_json::Value,
    /// `工资2025年3月.csv 第12行（人力资源和社会保障局）`.
    pub source: String,
}

/// A member to verify: how reports name them, what they declared, what is known.
#[derive(Debug, Clone)]
pub struct MemberFacts {
    pub label: String,
    pub declared: Vec<(IncomeKind, Money)>,
    pub facts: Vec<StoredFact>,
}

/// One thing found, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    pub member: String,
    pub text: String,
    pub source: String,
    /// True when it contradicts what was declared or bars assistance as such (a vehicle, a
    /// business, a death): the clerk must look at it.
    pub attention: bool,
}

/// A monthly income line: declared against found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncomeLine {
    pub member: String,
    pub kind: String,
    pub declared_fen: i64,
    pub verified_fen: i64,
    /// Whether any department reported on it: without data, 0 verified means "unknown", not
    /// "verified zero" (reports made before this was kept count as reported).
    #[serde(default = "reported")]
    pub found: bool,
}

fn reported() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report {
    /// The application month: facts from the 12 months before it are weighed.
    pub month: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub incomes: Vec<IncomeLine>,
    /// Verified monthly income that counts (wages, pensions, benefits, business).
    pub verified_monthly_income_fen: i64,
    pub declared_monthly_income_fen: i64,
    pub deposits_fen: i64,
    pub securities_fen: i64,
    pub vehicles: i64,
    pub real_estate: i64,
    pub businesses: i64,
    /// The patients' own medical costs over the 12 months: rigid expenditure.
    pub medical_own_costs_fen: i64,
    pub findings: Vec<Finding>,
    pub facts_weighed: usize,
}

/// The 12 months before the month that starts on `month`: [first day 12 months earlier, last
/// day of the month before].
pub fn window(month: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = NaiveDate::from_ymd_opt(month.year() - 1, month.month(), 1).expect("a month");
    (first, month.pred_opt().expect("a day before"))
}

fn text(detail: &serde_json::Value, key: &str) -> String {
    detail
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string()
}

/// `苏E12345` → `苏E***45`: enough to tell vehicles apart, not to look one up.
fn mask_plate(plate: &str) -> String {
    let chars: Vec<char> = plate.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..2].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 4))
}

fn yuan(fen: i64) -> String {
    Money::from_fen(fen).to_string()
}

/// Average of monthly amounts over the distinct months they cover.
fn monthly_average(facts: &[&StoredFact]) -> i64 {
    let mut by_month: BTreeMap<(i32, u32), i64> = BTreeMap::new();
    for f in facts {
        if let (Some(d), Some(a)) = (f.date, f.amount_fen) {
            *by_month.entry((d.year(), d.month())).or_default() += a;
        }
    }
    if by_month.is_empty() {
        return 0;
    }
    Money::from_fen(by_month.values().sum())
        .mul_ratio(1, by_month.len() as i64)
        .fen()
}

/// The latest amount per holder key (a bank, a broker) on or before `to`, summed.
fn latest_sum(facts: &[&StoredFact], key: &str, to: NaiveDate) -> i64 {
    let mut latest: BTreeMap<String, (NaiveDate, i64)> = BTreeMap::new();
    for f in facts {
        let (Some(d), Some(a)) = (f.date, f.amount_fen) else {
            continue;
        };
        if d > to {
            continue;
        }
        let holder = text(&f.detail, key);
        if latest.get(&holder).is_none_or(|(seen, _)| d >= *seen) {
            latest.insert(holder, (d, a));
        }
    }
    latest.values().map(|(_, a)| a).sum()
}

/// Weighs every member's facts against their declarations for the application month.
pub fn verify(month: NaiveDate, members: &[MemberFacts]) -> Report {
    let (from, to) = window(month);
    let mut r = Report {
        month: month.format("%Y-%m").to_string(),
        from,
        to,
        incomes: Vec::new(),
        verified_monthly_income_fen: 0,
        declared_monthly_income_fen: 0,
        deposits_fen: 0,
        securities_fen: 0,
        vehicles: 0,
        real_estate: 0,
        businesses: 0,
        medical_own_costs_fen: 0,
        findings: Vec::new(),
        facts_weighed: 0,
    };
    for m in members {
        let of = |cat: &str, in_window: bool| -> Vec<&StoredFact> {
            m.facts
                .iter()
                .filter(|f| f.category == cat)
                .filter(|f| !in_window || f.date.is_some_and(|d| d >= from && d <= to))
                .collect()
        };
        let mut find = |text: String, source: &str, attention: bool| {
            r.findings.push(Finding {
                member: m.label.clone(),
                text,
                source: source.to_string(),
                attention,
            })
        };
        r.facts_weighed += m.facts.len();
        let declared = |kinds: &[IncomeKind]| -> i64 {
            m.declared
                .iter()
                .filter(|(k, _)| kinds.contains(k))
                .map(|(_, a)| a.fen())
                .sum()
        };

        // Wages: paid wages, else tax-declared income, against the declaration; the social
        // insurance base says what an employer reports.
        let wages = of("wage", true);
        let taxed = of("tax", true);
        let wage = if wages.is_empty() {
            monthly_average(&taxed)
        } else {
            monthly_average(&wages)
        };
        let declared_wage = declared(&[IncomeKind::Wage]);
        if wage > 0 || declared_wage > 0 {
            r.incomes.push(IncomeLine {
                member: m.label.clone(),
                kind: "工资性收入".into(),
                declared_fen: declared_wage,
                verified_fen: wage,
                found: !(wages.is_empty() && taxed.is_empty()),
            });
        }
        if wage > declared_wage {
            let src = wages
                .first()
                .or(taxed.first())
                .map(|f| f.source.as_str())
                .unwrap_or("");
            find(
                format!(
                    "申报工资{}元/月，部门数据平均{}元/月",
                    yuan(declared_wage),
                    yuan(wage)
                ),
                src,
                true,
            );
        }
        let base = of("social_insurance", true)
            .iter()
            .filter_map(|f| f.amount_fen.map(|a| (a, f.source.clone())))
            .max();
        if let Some((base, src)) = base {
            if base > declared_wage.max(wage) {
                find(
                    format!(
                        "申报工资{}元/月，社保缴费基数{}元/月",
                        yuan(declared_wage),
                        yuan(base)
                    ),
                    &src,
                    true,
                );
            }
        }
        // Pensions and unemployment benefit.
        let pensions = of("pension", true);
        let pension = pensions
            .iter()
            .filter_map(|f| f.date.zip(f.amount_fen))
            .max()
            .map_or(0, |(_, a)| a);
        let declared_pension = declared(&[IncomeKind::Pension]);
        if pension > 0 || declared_pension > 0 {
            r.incomes.push(IncomeLine {
                member: m.label.clone(),
                kind: "养老金".into(),
                declared_fen: declared_pension,
                verified_fen: pension,
                found: !pensions.is_empty(),
            });
        }
        if pension > declared_pension {
            find(
                format!(
                    "申报养老金{}元/月，实际发放{}元/月",
                    yuan(declared_pension),
                    yuan(pension)
                ),
                &pensions[0].source,
                true,
            );
        }
        let benefit = of("unemployment", false)
            .iter()
            .filter_map(|f| f.amount_fen)
            .max()
            .unwrap_or(0);
        for f in of("unemployment", false) {
            find(
                format!(
                    "{}登记失业{}",
                    f.date.map(|d| d.to_string()).unwrap_or_default(),
                    if benefit > 0 {
                        format!("，领取失业保险金{}元/月", yuan(benefit))
                    } else {
                        String::new()
                    }
                ),
                &f.source,
                false,
            );
        }
        r.verified_monthly_income_fen += wage + pension + benefit;
        r.declared_monthly_income_fen += m
            .declared
            .iter()
            .filter(|(k, _)| k.counts())
            .map(|(_, a)| a.fen())
            .sum::<i64>();

        // Assets: amounts only; account numbers never appear.
        let deposits = latest_sum(&of("bank_deposit", false), "bank", to);
        let securities = latest_sum(&of("securities", false), "broker", to);
        r.deposits_fen += deposits;
        r.securities_fen += securities;
        if deposits > 0 {
            find(
                format!("银行存款合计{}元（截至{}）", yuan(deposits), to),
                &of("bank_deposit", false)[0].source,
                false,
            );
        }
        if securities > 0 {
            find(
                format!("持有证券市值{}元", yuan(securities)),
                &of("securities", false)[0].source,
                false,
            );
        }
        for f in of("vehicle", false) {
            r.vehicles += 1;
            find(
                format!(
                    "名下有机动车（{}，{}登记）",
                    mask_plate(&text(&f.detail, "plate")),
                    f.date
                        .map(|d| d.format("%Y-%m").to_string())
                        .unwrap_or_default()
                ),
                &f.source,
                true,
            );
        }
        for f in of("real_estate", false) {
            r.real_estate += 1;
            let area = f.detail.get("area").and_then(|v| v.as_i64()).unwrap_or(0);
            find(
                format!("名下有不动产{area}平方米（{}）", text(&f.detail, "use")),
                &f.source,
                false,
            );
        }
        for f in of("business", false) {
            r.businesses += 1;
            find(
                format!(
                    "登记有市场主体“{}”（{}）",
                    text(&f.detail, "entity"),
                    text(&f.detail, "status")
                ),
                &f.source,
                true,
            );
        }
        // Rigid expenditure: the patient's own medical costs in the window.
        let claims = of("medical_claim", true);
        let own: i64 = claims
            .iter()
            .map(|f| f.detail.get("own").and_then(|v| v.as_i64()).unwrap_or(0))
            .sum();
        if own > 0 {
            r.medical_own_costs_fen += own;
            find(
                format!(
                    "12个月内医疗费用个人自付{}元（{}次结算）",
                    yuan(own),
                    claims.len()
                ),
                &claims[0].source,
                false,
            );
        }
        for f in of("death", false) {
            find(
                format!(
                    "{}已登记死亡",
                    f.date.map(|d| d.to_string()).unwrap_or_default()
                ),
                &f.source,
                true,
            );
        }
        for f in of("court_enforcement", false) {
            find(
                format!("涉法院执行案件{}", text(&f.detail, "case_no")),
                &f.source,
                true,
            );
        }
        let on = |f: &StoredFact| f.date.map(|d| d.to_string()).unwrap_or_default();
        for f in of("cremation", false) {
            find(format!("{}已火化", on(f)), &f.source, true);
        }
        // Changes of household: the members the family declared may no longer be its members.
        for f in of("hukou_change", false) {
            let change = text(&f.detail, "change");
            let away = change.contains("迁出") || change.contains("注销");
            find(format!("{}户籍{change}", on(f)), &f.source, away);
        }
        for f in of("marriage", false) {
            find(
                format!("{}办理{}登记", on(f), text(&f.detail, "change")),
                &f.source,
                true,
            );
        }
        // Assistance already paid in the window: the same need may not be met twice.
        let paid = of("assistance_paid", true);
        if let Some(first) = paid.first() {
            let total: i64 = paid.iter().filter_map(|f| f.amount_fen).sum();
            let mut programs: Vec<String> =
                paid.iter().map(|f| text(&f.detail, "program")).collect();
            programs.sort();
            programs.dedup();
            find(
                format!(
                    "12个月内已领取{}共{}元（{}笔）",
                    programs.join("、"),
                    yuan(total),
                    paid.len()
                ),
                &first.source,
                true,
            );
        }
        // Facts that qualify or explain rather than contradict.
        for f in of("disability", false) {
            find(
                format!(
                    "持残疾人证：{}{}级",
                    text(&f.detail, "kind"),
                    f.detail.get("grade").and_then(|v| v.as_i64()).unwrap_or(0)
                ),
                &f.source,
                false,
            );
        }
        for f in of("school", false) {
            find(
                format!(
                    "在读：{}（{}）",
                    text(&f.detail, "school"),
                    text(&f.detail, "stage")
                ),
                &f.source,
                false,
            );
        }
        for f in of("veteran", false) {
            find(
                format!(
                    "优抚对象（{}），月{}元，不计入家庭收入",
                    text(&f.detail, "kind"),
                    yuan(f.amount_fen.unwrap_or(0))
                ),
                &f.source,
                false,
            );
        }
        for f in of("housing_subsidy", false) {
            find(
                format!(
                    "享受住房保障（{}）{}",
                    text(&f.detail, "kind"),
                    f.amount_fen
                        .map(|a| format!("，月补贴{}元", yuan(a)))
                        .unwrap_or_default()
                ),
                &f.source,
                false,
            );
        }
        if let Some(f) = of("provident_fund", true).last() {
            let balance = f
                .detail
                .get("balance")
                .and_then(|v| v.as_i64())
                .unwrap_or(0);
            find(
                format!("住房公积金账户余额{}元（{}）", yuan(balance), on(f)),
                &f.source,
                false,
            );
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn fact(
        category: &str,
        date: NaiveDate,
        amount: Option<i64>,
        detail: serde_json::Value,
    ) -> StoredFact {
        StoredFact {
            category: category.into(),
            date: Some(date),
            amount_fen: amount,
            detail,
            source: format!("{category}.csv 第2行（部门）"),
        }
    }

    #[test]
    fn changes_of_household_and_assistance_already_paid_need_a_look() {
        let member = MemberFacts {
            label: "成员1（王芳）".into(),
            declared: vec![],
            facts: vec![
                fact(
                    "hukou_change",
                    d(2026, 3, 2),
                    None,
                    serde_json::json!({"change": "迁出"}),
                ),
                fact(
                    "assistance_paid",
                    d(2026, 1, 1),
                    Some(80_000),
                    serde_json::json!({"program": "临时救助"}),
                ),
                fact(
                    "assistance_paid",
                    d(2026, 2, 1),
                    Some(80_000),
                    serde_json::json!({"program": "临时救助"}),
                ),
                fact(
                    "disability",
                    d(2020, 5, 6),
                    None,
                    serde_json::json!({"kind": "肢体", "grade": 2}),
                ),
                // Paid before the 12 months weighed: not counted.
                fact(
                    "assistance_paid",
                    d(2024, 12, 1),
                    Some(50_000),
                    serde_json::json!({"program": "低保"}),
                ),
            ],
        };
        let r = verify(d(2026, 6, 1), &[member]);
        let said: Vec<(&str, bool)> = r
            .findings
            .iter()
            .map(|f| (f.text.as_str(), f.attention))
            .collect();
        assert!(said.contains(&("2026-03-02户籍迁出", true)), "{said:?}");
        assert!(
            said.contains(&("12个月内已领取临时救助共1,600.00元（2笔）", true)),
            "{said:?}"
        );
        assert!(said.contains(&("持残疾人证：肢体2级", false)), "{said:?}");
    }

    #[test]
    fn a_declared_income_no_department_reported_on_is_not_verified_as_zero() {
        let member = MemberFacts {
            label: "成员1（王芳）".into(),
            declared: vec![
                (IncomeKind::Wage, Money::from_yuan(1500)),
                (IncomeKind::Pension, Money::from_yuan(900)),
            ],
            facts: vec![fact(
                "pension",
                d(2026, 3, 1),
                Some(95_000),
                serde_json::json!({}),
            )],
        };
        let r = verify(d(2026, 6, 1), &[member]);
        let lines: Vec<(&str, i64, bool)> = r
            .incomes
            .iter()
            .map(|l| (l.kind.as_str(), l.verified_fen, l.found))
            .collect();
        assert_eq!(
            lines,
            [("工资性收入", 0, false), ("养老金", 95_000, true)],
            "wages: no data, not zero; the pension as the department reported it"
        );
    }

    #[test]
    fn findings_name_the_member_the_figures_and_the_source() {
        let members = vec![
            MemberFacts {
                label: "成员1（王建国）".into(),
                declared: vec![(IncomeKind::Wage, Money::from_yuan(1200))],
                facts: vec![
                    fact(
                        "social_insurance",
                        d(2025, 9, 1),
                        Some(450_000),
                        serde_json::json!({}),
                    ),
                    fact("wage", d(2025, 9, 1), Some(300_000), serde_json::json!({})),
                    fact("wage", d(2025, 10, 1), Some(200_000), serde_json::json!({})),
                    // Outside the 12 months: not weighed.
                    fact("wage", d(2024, 10, 1), Some(900_000), serde_json::json!({})),
                    fact(
                        "bank_deposit",
                        d(2025, 12, 31),
                        Some(1_200_000),
                        serde_json::json!({"bank": "农行", "account": "****1234"}),
                    ),
                    fact(
                        "bank_deposit",
                        d(2026, 6, 30),
                        Some(800_000),
                        serde_json::json!({"bank": "农行", "account": "****1234"}),
                    ),
                    fact(
                        "bank_deposit",
                        d(2026, 6, 30),
                        Some(50_000),
                        serde_json::json!({"bank": "工行"}),
                    ),
                ],
            },
            MemberFacts {
                label: "成员2（李秀英）".into(),
                declared: vec![],
                facts: vec![
                    fact(
                        "vehicle",
                        d(2025, 3, 8),
                        None,
                        serde_json::json!({"plate": "苏E12345"}),
                    ),
                    fact(
                        "medical_claim",
                        d(2026, 2, 1),
                        Some(5_200_000),
                        serde_json::json!({"own": 3_100_000}),
                    ),
                ],
            },
        ];
        let r = verify(d(2026, 8, 1), &members);
        assert_eq!((r.from, r.to), (d(2025, 8, 1), d(2026, 7, 31)));
        assert_eq!(
            r.incomes[0].verified_fen, 250_000,
            "the average of September and October"
        );
        assert_eq!(r.deposits_fen, 850_000, "the latest balance of each bank");
        assert_eq!(r.vehicles, 1);
        assert_eq!(r.medical_own_costs_fen, 3_100_000);
        let texts: Vec<&str> = r.findings.iter().map(|f| f.text.as_str()).collect();
        assert!(
            texts.contains(&"申报工资1,200.00元/月，部门数据平均2,500.00元/月"),
            "{texts:?}"
        );
        assert!(
            texts.contains(&"申报工资1,200.00元/月，社保缴费基数4,500.00元/月"),
            "{texts:?}"
        );
        assert!(
            texts.contains(&"名下有机动车（苏E***45，2025-03登记）"),
            "{texts:?}"
        );
        let vehicle = r
            .findings
            .iter()
            .find(|f| f.text.contains("机动车"))
            .unwrap();
        assert_eq!(vehicle.member, "成员2（李秀英）");
        assert!(vehicle.attention && vehicle.source.contains("vehicle.csv"));
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("1234"), "no account numbers in the report");
    }
}
