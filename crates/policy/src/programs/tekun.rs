//! 特困人员救助供养: per member. The basic living standard is a multiple of the 低保 standard;
//! the care standard has three tiers by self-care ability, against the provincial care subsidy
//! for dispersed support and against the local minimum wage for centralised support.

use jiuzhu_domain::{LabourCapacity, Money, SelfCare};

use super::read;
use crate::household::{Member, Support};
use crate::param::Ratio;
use crate::trace::Tracer;
use crate::{Outcome, ParamSet, PolicyError};

#[derive(Debug, Clone)]
pub struct TekunParams {
    pub standard: Money,
    pub basic_ratio: Ratio,
    pub minor_age: i64,
    pub elderly_age: i64,
    pub care_subsidy: Money,
    pub minimum_wage: Money,
    /// Full, partial, none: dispersed then centralised.
    pub dispersed: [Ratio; 3],
    pub centralised: [Ratio; 3],
}

impl TekunParams {
    pub fn read(ps: &ParamSet<'_>, t: &mut impl Tracer) -> Result<TekunParams, PolicyError> {
        let mut r = |name: &str| read(ps, name, t);
        Ok(TekunParams {
            standard: r("dibao.standard")?.money(),
            basic_ratio: r("tekun.basic_ratio")?.ratio(),
            minor_age: r("tekun.minor_age")?.count(),
            elderly_age: r("tekun.elderly_age")?.count(),
            care_subsidy: r("tekun.care_subsidy")?.money(),
            minimum_wage: r("minimum_wage")?.money(),
            dispersed: [
                r("tekun.care_dispersed_full")?.ratio(),
                r("tekun.care_dispersed_partial")?.ratio(),
                r("tekun.care_dispersed_none")?.ratio(),
            ],
            centralised: [
                r("tekun.care_centralised_full")?.ratio(),
                r("tekun.care_centralised_partial")?.ratio(),
                r("tekun.care_centralised_none")?.ratio(),
            ],
        })
    }

    pub fn basic(&self) -> Money {
        self.basic_ratio.of(self.standard)
    }

    /// The monthly care standard for a self-care tier and form of support.
    pub fn care(&self, self_care: SelfCare, support: Support) -> Money {
        let tier = match self_care {
            SelfCare::Full => 0,
            SelfCare::Partial => 1,
            SelfCare::None => 2,
        };
        match support {
            Support::Dispersed => self.dispersed[tier].of(self.care_subsidy),
            Support::Centralised => self.centralised[tier].of(self.minimum_wage),
        }
    }
}

/// The household's 特困 support: every eligible member's amount added up, how many are
/// eligible, and why each of the others is not.
pub fn assess_household(
    members: &[Member],
    p: &TekunParams,
    t: &mut impl Tracer,
) -> (Money, usize, Vec<String>) {
    let mut total = Money::ZERO;
    let mut count = 0;
    let mut reasons = Vec::new();
    for m in members {
        let o = assess_member(m, p, t);
        if o.eligible {
            total += o.amount;
            count += 1;
        } else if let Some(r) = o.reason {
            reasons.push(r);
        }
    }
    (total, count, reasons)
}

/// One member: in a covered group (elderly, disabled, minor), unable to work (minors need not
/// be), without a living (own income below the basic standard), and without a supporter able
/// to support them.
pub fn assess_member(m: &Member, p: &TekunParams, t: &mut impl Tracer) -> Outcome {
    let age = i64::from(m.age);
    let minor = age < p.minor_age;
    let group = t.test(
        || {
            format!(
                "{}：{}岁{}（老年人{}周岁以上、残疾人或未满{}周岁的未成年人）",
                m.label,
                m.age,
                if m.disability.is_some() {
                    "，持残疾证"
                } else {
                    ""
                },
                p.elderly_age,
                p.minor_age
            )
        },
        age >= p.elderly_age || m.disability.is_some() || minor,
        "特困人员范围",
    );
    if !group {
        return Outcome::not(t.say(|| format!("{}不属于老年人、残疾人或未成年人", m.label)));
    }
    if !t.test(
        || format!("{}：{}", m.label, m.labour.label()),
        minor || m.labour == LabourCapacity::None,
        "无劳动能力（未成年人除外）",
    ) {
        return Outcome::not(t.say(|| format!("{}有劳动能力", m.label)));
    }
    let basic = p.basic();
    let income = m.countable_income();
    if !t.test(
        || format!("{}：月收入{income}元低于基本生活标准{basic}元", m.label),
        income < basic,
        "无生活来源",
    ) {
        return Outcome::not(t.say(|| format!("{}有生活来源（月收入{income}元）", m.label)));
    }
    if !t.test(
        || format!("{}：无有履行能力的法定赡养抚养扶养义务人", m.label),
        !m.has_supporter,
        "无法定义务人或其无履行义务能力",
    ) {
        return Outcome::not(t.say(|| format!("{}有能履行义务的法定义务人", m.label)));
    }
    let care = p.care(m.self_care, m.support);
    let amount = basic + care;
    t.value(&format!("{}供养金", m.label), || {
        let (form, base) = match m.support {
            Support::Dispersed => ("分散供养", format!("护理补贴{}元", p.care_subsidy)),
            Support::Centralised => ("集中供养", format!("最低工资{}元", p.minimum_wage)),
        };
        format!(
            "基本生活标准{basic}元（低保标准{}元×{}）+ 照料护理标准{care}元（{form}，{}，按{base}）= {amount}元",
            p.standard,
            p.basic_ratio,
            m.self_care.label()
        )
    });
    Outcome::granted(amount, None)
}
