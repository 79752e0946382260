//! One household, every program its jurisdiction runs, each decision with its trace.

use std::collections::BTreeMap;

use jiuzhu_domain::Money;
use serde::Serialize;

use crate::household::{Household, HouseholdInput};
use crate::param::RawValue;
use crate::programs::dibao::{self, DibaoParams, History};
use crate::programs::poverty::{self, PovertyParams};
use crate::programs::special::{self, TemporaryParams};
use crate::programs::tekun::{self, TekunParams};
use crate::programs::{means_of, read, read_optional, Means};
use crate::trace::{NoTrace, Trace, Tracer};
use crate::{Decision, Outcome, Overrides, ParamSet, Period, PolicyBook, PolicyError, Program};

/// Every decision about one household in one month.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub jurisdiction: String,
    pub jurisdiction_name: String,
    /// `2024-01`.
    pub month: String,
    pub members: usize,
    pub household_income_fen: i64,
    pub per_capita_income_fen: i64,
    pub rigid_expenditure_12m_fen: i64,
    pub decisions: Vec<Decision>,
    /// Where the household's figures came from beyond its input (a verification report).
    pub basis: Vec<String>,
}

impl Evaluation {
    pub fn decision(&self, program: Program) -> Option<&Decision> {
        self.decisions.iter().find(|d| d.program == program)
    }
}

/// Checks a household given as input, applies its `parameters` and the command line's
/// `name=value` overrides, and evaluates it in its jurisdiction (or `default_jurisdiction`).
pub fn evaluate_input(
    book: &PolicyBook,
    input: &HouseholdInput,
    set: &[String],
    default_jurisdiction: Option<&str>,
) -> Result<Evaluation, PolicyError> {
    let jurisdiction = input
        .jurisdiction
        .as_deref()
        .or(default_jurisdiction)
        .ok_or_else(|| PolicyError::Input {
            field: "jurisdiction".into(),
            message: "请给出政策辖区（政策包名称或行政区划代码）".into(),
        })?;
    let h = input.check(None)?;
    let mut overrides = Overrides::default();
    for (name, v) in &input.parameters {
        let raw = raw_from_json(v).ok_or_else(|| PolicyError::Input {
            field: format!("parameters.{name}"),
            message: "参数值应为数字、文字或 [[起点, 数值], ...]".into(),
        })?;
        overrides.set(name, &raw)?;
    }
    for s in set {
        overrides.set_text(s)?;
    }
    let ps = book.params(jurisdiction, h.month, &overrides)?;
    evaluate(&h, &ps)
}

/// A JSON scalar or `[[key, value], ...]` as a raw parameter value.
pub fn raw_from_json(v: &serde_json::Value) -> Option<RawValue> {
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match v {
        serde_json::Value::Array(rows) => rows
            .iter()
            .map(|row| match row.as_array()?.as_slice() {
                [k, v] => Some((scalar(k)?, scalar(v)?)),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(RawValue::Pairs),
        other => scalar(other).map(RawValue::Text),
    }
}

/// Evaluates every program the jurisdiction runs.
pub fn evaluate(h: &Household, ps: &ParamSet<'_>) -> Result<Evaluation, PolicyError> {
    let mut ctx = Ctx {
        h,
        ps,
        done: BTreeMap::new(),
        tekun_members: 0,
    };
    let mut decisions = Vec::new();
    for &program in Program::ALL {
        if ps.programs().contains(&program) {
            decisions.push(ctx.get(program)?.clone());
        }
    }
    let job_cost = ps
        .get("dibao.job_cost")
        .map(|p| p.money())
        .unwrap_or(Money::ZERO);
    let means = means_of(h, None, job_cost, &mut NoTrace);
    let pack = ps.jurisdiction();
    Ok(Evaluation {
        jurisdiction: pack.id.clone(),
        jurisdiction_name: pack.name.clone(),
        month: h.month.format("%Y-%m").to_string(),
        members: h.members.len(),
        household_income_fen: means.income.fen(),
        per_capita_income_fen: means.per_capita().fen(),
        rigid_expenditure_12m_fen: means.rigid_12m.fen(),
        decisions,
        basis: Vec::new(),
    })
}

/// One program's decision, whether or not the jurisdiction lists it (golden cases, what-if).
pub fn decide(h: &Household, ps: &ParamSet<'_>, program: Program) -> Result<Decision, PolicyError> {
    let mut ctx = Ctx {
        h,
        ps,
        done: BTreeMap::new(),
        tekun_members: 0,
    };
    Ok(ctx.get(program)?.clone())
}

struct Ctx<'a, 'b> {
    h: &'a Household,
    ps: &'a ParamSet<'b>,
    done: BTreeMap<Program, Decision>,
    tekun_members: i64,
}

impl Ctx<'_, '_> {
    /// A program's decision, computed once: later programs depend on earlier ones.
    fn get(&mut self, program: Program) -> Result<&Decision, PolicyError> {
        if !self.done.contains_key(&program) {
            let d = self.compute(program)?;
            self.done.insert(program, d);
        }
        Ok(&self.done[&program])
    }

    fn eligible(&mut self, program: Program) -> Result<bool, PolicyError> {
        Ok(self.get(program)?.eligible)
    }

    /// 低保, 特困, 低保边缘 or either poverty type: the low-income population.
    fn low_income(&mut self) -> Result<bool, PolicyError> {
        for p in [
            Program::Dibao,
            Program::Tekun,
            Program::NearDibao,
            Program::IncomePoverty,
            Program::ExpensePoverty,
        ] {
            if self.eligible(p)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn household_means(&self, t: &mut Trace) -> Result<Means, PolicyError> {
        let job_cost = read(self.ps, "dibao.job_cost", t)?.money();
        Ok(means_of(self.h, None, job_cost, t))
    }

    fn compute(&mut self, program: Program) -> Result<Decision, PolicyError> {
        let (h, ps) = (self.h, self.ps);
        let mut t = Trace::default();
        let monthly =
            |outcome: Outcome, t: Trace| Decision::new(program, Period::Monthly, outcome, t);
        let once = |outcome: Outcome, t: Trace| Decision::new(program, Period::Once, outcome, t);
        Ok(match program {
            Program::Dibao => {
                let p = DibaoParams::read(ps, &mut t)?;
                let job_cost = read(ps, "dibao.job_cost", &mut t)?.money();
                let asset_months = read(ps, "dibao.asset_months", &mut t)?.count();
                if let Some(i) = h.apply_alone {
                    let ratio = read(ps, "near_dibao.ratio", &mut t)?.ratio();
                    let family = means_of(h, None, job_cost, &mut t);
                    let m = &h.members[i];
                    let can = t.test(
                        || format!("{}：一、二级残疾，三级智力或精神残疾，或患重病", m.label),
                        dibao::may_apply_alone(m.disability, m.serious_illness),
                        "低收入家庭中的重度残疾人、重病患者可单独申请低保",
                    );
                    let low = t.test(
                        || {
                            format!(
                                "家庭人均月收入{}元不超过低保标准的{ratio}（低收入家庭）",
                                family.per_capita()
                            )
                        },
                        i128::from(family.income.fen()) * 10_000
                            <= family.line(p.standard) * i128::from(ratio.basis_points()),
                        "单独申请须为低收入家庭成员",
                    );
                    if !(can && low) {
                        let reason = if can {
                            "家庭不属于低收入家庭"
                        } else {
                            "该成员不属于可单独申请的情形"
                        };
                        return Ok(monthly(Outcome::refused(reason), t));
                    }
                    t.value("单人户", || format!("{}单独计算", m.label));
                }
                let means = means_of(h, h.apply_alone, job_cost, &mut t);
                let refusal = dibao::asset_refusal(h, &means, p.standard, asset_months, &mut t);
                let history = h.dibao_last_month.map(|last| History {
                    last_month: last,
                    exit_months_used: h.exit_months_used,
                    job_found: h.members.iter().any(|m| m.job_found),
                });
                monthly(dibao::assess(&means, refusal, history, &p, &mut t), t)
            }
            Program::NearDibao => {
                let standard = read(ps, "dibao.standard", &mut t)?.money();
                let ratio = read(ps, "near_dibao.ratio", &mut t)?.ratio();
                let asset_months = read(ps, "dibao.asset_months", &mut t)?.count();
                let means = self.household_means(&mut t)?;
                let refusal = dibao::asset_refusal(h, &means, standard, asset_months, &mut t);
                monthly(
                    dibao::near_dibao(&means, standard, ratio, refusal, &mut t),
                    t,
                )
            }
            Program::Tekun => {
                let p = TekunParams::read(ps, &mut t)?;
                let (total, count, reasons) = tekun::assess_household(&h.members, &p, &mut t);
                self.tekun_members = count as i64;
                let outcome = if count > 0 {
                    Outcome::granted(total, Some(format!("{count}人符合特困供养条件")))
                } else {
                    Outcome::refused(reasons.join("；"))
                };
                monthly(outcome, t)
            }
            Program::IncomePoverty | Program::ExpensePoverty => {
                let p = PovertyParams::read(ps, &mut t)?;
                if let Some(years) = read_optional(ps, "poverty.residence_years", &mut t)? {
                    let months = years.count() * 12;
                    let lived = h
                        .members
                        .iter()
                        .filter(|m| m.hukou_local)
                        .filter_map(|m| m.residence_months)
                        .max();
                    let ok = t.test(
                        || match lived {
                            Some(n) => {
                                format!("本地户籍，在本地居住{n}个月，要求{}年以上", years.count())
                            }
                            None => {
                                format!("未提供本地户籍成员的居住时间，要求{}年以上", years.count())
                            }
                        },
                        lived.is_some_and(|n| i64::from(n) >= months),
                        "本地户籍且在本地居住满规定年限",
                    );
                    if !ok {
                        return Ok(monthly(Outcome::refused("不满足本地户籍及居住年限条件"), t));
                    }
                }
                let means = self.household_means(&mut t)?;
                let outcome = if program == Program::IncomePoverty {
                    poverty::income_type(&means, &p, &mut t)
                } else {
                    poverty::expense_type(&means, &p, &mut t)
                };
                monthly(outcome, t)
            }
            Program::LowIncomeMedical => {
                let ratio = read(ps, "low_income.medical_ratio", &mut t)?.ratio();
                let low = self.low_income()?;
                if !t.test(
                    || "属于低保、特困、低保边缘或收入型、支出型贫困家庭".into(),
                    low,
                    "低收入人员",
                ) {
                    return Ok(once(Outcome::refused("不属于低收入人口"), t));
                }
                once(special::medical_top_up(&h.members, ratio, &mut t), t)
            }
            Program::LowIncomeStudent => {
                let aid = read(ps, "dibao.student_aid", &mut t)?.money();
                let ratio = read(ps, "low_income.student_ratio", &mut t)?.ratio();
                let dibao = self.eligible(Program::Dibao)?;
                let low = self.low_income()?;
                if !t.test(
                    || "属于低收入家庭（低保家庭按低保家庭标准资助）".into(),
                    low && !dibao,
                    "低收入家庭在读困难学生",
                ) {
                    let reason = if dibao {
                        "低保家庭学生按低保家庭助学标准资助"
                    } else {
                        "不属于低收入家庭"
                    };
                    return Ok(Decision::new(
                        program,
                        Period::Yearly,
                        Outcome::refused(reason),
                        t,
                    ));
                }
                Decision::new(
                    program,
                    Period::Yearly,
                    special::student_aid(&h.members, aid, ratio, &mut t),
                    t,
                )
            }
            Program::Temporary => {
                let Some(req) = &h.temporary else {
                    return Ok(once(Outcome::refused("未申请临时救助"), t));
                };
                let mut r = |name: &str| read(ps, name, &mut t);
                let p = TemporaryParams {
                    standard: r("dibao.standard")?.money(),
                    emergency_amount: r("temporary.emergency_amount")?.money(),
                    tiers: r("temporary.tiers")?.tiers().to_vec(),
                    case_by_case_months: r("temporary.case_by_case_months")?.count(),
                    nonlocal_months: r("temporary.nonlocal_months")?.count(),
                    max_stages: r("temporary.max_stages")?.count(),
                };
                let (outcome, stages) = special::temporary(h, req, &p, &mut t);
                let mut d = once(outcome, t);
                d.stages_fen = stages.iter().map(|m| m.fen()).collect();
                d
            }
            Program::ElderlyAllowance => {
                let scale = read(ps, "elderly.scale", &mut t)?;
                monthly(special::elderly(&h.members, scale.tiers(), &mut t), t)
            }
            Program::PriceSubsidy => {
                let trigger = read(ps, "price.trigger", &mut t)?.ratio();
                let per_person = read(ps, "price.subsidy", &mut t)?.money();
                let dibao_size = if self.eligible(Program::Dibao)? {
                    if h.apply_alone.is_some() {
                        1
                    } else {
                        h.members.len() as i64
                    }
                } else {
                    0
                };
                self.get(Program::Tekun)?;
                let recipients = if dibao_size > 0 {
                    dibao_size
                } else {
                    self.tekun_members
                };
                monthly(
                    special::price_subsidy(
                        h.price_index_rise,
                        trigger,
                        per_person,
                        recipients,
                        &mut t,
                    ),
                    t,
                )
            }
            Program::DisasterHousing => {
                let Some(d) = &h.disaster else {
                    return Ok(once(Outcome::refused("未申报因灾住房损毁"), t));
                };
                let rebuild = read(ps, "disaster.rebuild_cap", &mut t)?.money();
                let repair = read(ps, "disaster.repair_cap", &mut t)?.money();
                let entitled = self.low_income()?
                    || h.members.iter().any(|m| m.excluded_income() > Money::ZERO);
                once(
                    special::disaster_housing(
                        d.damage, d.cost.0, entitled, rebuild, repair, &mut t,
                    ),
                    t,
                )
            }
            Program::Funeral => {
                if h.deceased.is_empty() {
                    return Ok(once(Outcome::refused("家庭无已故成员"), t));
                }
                let months = read(ps, "funeral.months", &mut t)?.count();
                once(special::funeral(&h.deceased, months, &mut t), t)
            }
        })
    }
}
