//! The programs. Each exposes the rule as a function of plain figures (a household's means, the
//! parameters) so that one household with a trace and millions in a batch run the same code.

pub mod dibao;
pub mod poverty;
pub mod special;
pub mod tekun;

use jiuzhu_domain::Money;

use crate::household::{Household, Member};
use crate::param::Resolved;
use crate::trace::Tracer;
use crate::{ParamSet, PolicyError};

/// The figures of a means test: how many people, their countable monthly income and their
/// rigid expenditure over the 12 months before the application month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Means {
    pub size: i64,
    pub income: Money,
    pub rigid_12m: Money,
}

impl Means {
    /// `standard × size`: the household's monthly income line at that standard.
    pub fn line(&self, per_person: Money) -> i128 {
        i128::from(per_person.fen()) * i128::from(self.size)
    }

    /// Per-capita income to the fen (half away from zero), for display only: tests compare
    /// `income` with `standard × size` exactly.
    pub fn per_capita(&self) -> Money {
        self.income.mul_ratio(1, self.size.max(1))
    }
}

/// Reads a parameter and writes it to the trace.
pub fn read(ps: &ParamSet<'_>, name: &str, t: &mut impl Tracer) -> Result<Resolved, PolicyError> {
    let p = ps.get(name)?;
    t.param(&p);
    Ok(p)
}

/// Reads a parameter that a jurisdiction may leave out (payment by tiers, the residence test).
pub fn read_optional(
    ps: &ParamSet<'_>,
    name: &str,
    t: &mut impl Tracer,
) -> Result<Option<Resolved>, PolicyError> {
    match ps.get(name) {
        Ok(p) => {
            t.param(&p);
            Ok(Some(p))
        }
        Err(PolicyError::NotInForce { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The household's means: every living member, or only the member who applies alone; job costs
/// deducted from the wage of members who found work. Each step goes to the trace.
pub fn means_of(
    h: &Household,
    alone: Option<usize>,
    job_cost: Money,
    t: &mut impl Tracer,
) -> Means {
    let members: &[Member] = match alone {
        Some(i) => std::slice::from_ref(&h.members[i]),
        None => &h.members,
    };
    let mut income = Money::ZERO;
    for m in members {
        let counted = m.countable_income();
        let excluded = m.excluded_income();
        if !m.incomes.is_empty() {
            t.value(&format!("{}月收入", m.label), || {
                let parts: Vec<String> = m
                    .incomes
                    .iter()
                    .map(|(k, a)| format!("{}{a}元", k.label()))
                    .collect();
                let mut s = format!("计入{counted}元（{}）", parts.join("，"));
                if excluded > Money::ZERO {
                    s.push_str(&format!("；优抚金、五老补助等{excluded}元不计入家庭收入"));
                }
                s
            });
        }
        let mut counted = counted;
        if m.job_found && job_cost > Money::ZERO {
            let deduction = job_cost.min(counted);
            counted -= deduction;
            t.value(&format!("{}就业成本扣减", m.label), || {
                format!("{deduction}元，扣减后计入{counted}元")
            });
        }
        income += counted;
    }
    let rigid_12m: Money = h.rigid_12m.iter().map(|(_, a)| *a).sum();
    let means = Means {
        size: members.len() as i64,
        income,
        rigid_12m,
    };
    t.value("计算人数", || format!("{}人", means.size));
    t.value("家庭月收入（计入部分）", || {
        format!("{}元", means.income)
    });
    t.value("人均月收入", || {
        format!(
            "{}元（资格按“家庭月收入与标准×人数”精确比较）",
            means.per_capita()
        )
    });
    if rigid_12m > Money::ZERO {
        t.value("申请前12个月刚性支出", || {
            let parts: Vec<String> = h
                .rigid_12m
                .iter()
                .filter(|(_, a)| *a > Money::ZERO)
                .map(|(k, a)| format!("{k}{a}元"))
                .collect();
            format!("{rigid_12m}元（{}）", parts.join("，"))
        });
    }
    means
}
