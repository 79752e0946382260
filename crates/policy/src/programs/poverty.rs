//! 收入型贫困家庭 and 支出型贫困家庭: per-capita income between 1× and 2× (or 5×) the 低保
//! standard, and rigid expenditure over the 12 months below (or at least) 1.5× household income
//! over the same months. "以上" and "以内" include the bound; "未达到" is strict, "及以上" is not.

use jiuzhu_domain::Money;

use super::{read, Means};
use crate::param::Ratio;
use crate::trace::Tracer;
use crate::{Outcome, ParamSet, PolicyError};

#[derive(Debug, Clone)]
pub struct PovertyParams {
    pub standard: Money,
    pub income_upper: Ratio,
    pub expense_upper: Ratio,
    pub rigid_ratio: Ratio,
}

impl PovertyParams {
    pub fn read(ps: &ParamSet<'_>, t: &mut impl Tracer) -> Result<PovertyParams, PolicyError> {
        Ok(PovertyParams {
            standard: read(ps, "dibao.standard", t)?.money(),
            income_upper: read(ps, "poverty.income_upper", t)?.ratio(),
            expense_upper: read(ps, "poverty.expense_upper", t)?.ratio(),
            rigid_ratio: read(ps, "poverty.rigid_ratio", t)?.ratio(),
        })
    }
}

/// Which side of the rigid-expenditure line the household is: `rigid_12m ≥ ratio × 12 × income`.
fn rigid_heavy(means: &Means, p: &PovertyParams) -> bool {
    i128::from(means.rigid_12m.fen()) * i128::from(Ratio::DENOMINATOR)
        >= i128::from(p.rigid_ratio.basis_points()) * i128::from(means.income.fen()) * 12
}

/// `standard ≤ per-capita income ≤ upper × standard`, compared in integers.
fn income_band(means: &Means, p: &PovertyParams, upper: Ratio, t: &mut impl Tracer) -> bool {
    let income = i128::from(means.income.fen());
    let line = means.line(p.standard);
    t.test(
        || {
            format!(
                "家庭月收入{}元在低保标准{}元×{}人的1倍以上{upper}以内",
                means.income, p.standard, means.size
            )
        },
        income >= line
            && income * i128::from(Ratio::DENOMINATOR) <= line * i128::from(upper.basis_points()),
        "人均月收入在低保标准的规定倍数区间内",
    )
}

fn rigid_text(means: &Means, p: &PovertyParams) -> String {
    format!(
        "12个月刚性支出{}元，12个月家庭收入{}元的{}为{}元",
        means.rigid_12m,
        Money::from_fen(means.income.fen() * 12),
        p.rigid_ratio,
        p.rigid_ratio.of(Money::from_fen(means.income.fen() * 12))
    )
}

pub fn income_type(means: &Means, p: &PovertyParams, t: &mut impl Tracer) -> Outcome {
    if !income_band(means, p, p.income_upper, t) {
        return Outcome::not(t.say(|| {
            format!(
                "人均月收入{}元不在低保标准{}元的1倍至{}之间",
                means.per_capita(),
                p.standard,
                p.income_upper
            )
        }));
    }
    let heavy = rigid_heavy(means, p);
    if !t.test(
        || format!("{}：未达到", rigid_text(means, p)),
        !heavy,
        "刚性支出未达到家庭收入的规定倍数",
    ) {
        return Outcome::not(t.say(|| "刚性支出达到家庭收入的规定倍数，属支出型".into()));
    }
    Outcome::granted(Money::ZERO, t.say(|| "认定为收入型贫困家庭".into()))
}

pub fn expense_type(means: &Means, p: &PovertyParams, t: &mut impl Tracer) -> Outcome {
    if !income_band(means, p, p.expense_upper, t) {
        return Outcome::not(t.say(|| {
            format!(
                "人均月收入{}元不在低保标准{}元的1倍至{}之间",
                means.per_capita(),
                p.standard,
                p.expense_upper
            )
        }));
    }
    let heavy = rigid_heavy(means, p);
    if !t.test(
        || format!("{}：达到", rigid_text(means, p)),
        heavy,
        "刚性支出达到家庭收入的规定倍数及以上",
    ) {
        return Outcome::not(t.say(|| "刚性支出未达到家庭收入的规定倍数".into()));
    }
    Outcome::granted(Money::ZERO, t.say(|| "认定为支出型贫困家庭".into()))
}
