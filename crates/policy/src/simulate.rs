//! What-if over many households: the programs' outcomes without traces, read from the same
//! program functions as a single evaluation, with the parameters read once per scenario.

use jiuzhu_domain::Money;
use serde::Serialize;

use crate::household::Household;
use crate::param::{Ratio, Tier};
use crate::programs::dibao::{self, DibaoParams};
use crate::programs::poverty::{self, PovertyParams};
use crate::programs::special;
use crate::programs::tekun::{self, TekunParams};
use crate::programs::{means_of, read, read_optional};
use crate::trace::NoTrace;
use crate::{ParamSet, PolicyError, Program};

/// The programs a simulation compares: those decided from the registry's data alone.
pub const SIMULATED: &[Program] = &[
    Program::Dibao,
    Program::NearDibao,
    Program::Tekun,
    Program::IncomePoverty,
    Program::ExpensePoverty,
    Program::ElderlyAllowance,
];

/// One scenario's parameters, read once.
#[derive(Debug, Clone)]
pub struct SimRules {
    pub programs: Vec<Program>,
    dibao: DibaoParams,
    job_cost: Money,
    asset_months: i64,
    near_ratio: Ratio,
    tekun: TekunParams,
    poverty: Option<PovertyParams>,
    residence_years: Option<i64>,
    elderly: Option<Vec<Tier>>,
}

impl SimRules {
    pub fn read(ps: &ParamSet<'_>) -> Result<SimRules, PolicyError> {
        let t = &mut NoTrace;
        let programs: Vec<Program> = SIMULATED
            .iter()
            .copied()
            .filter(|p| ps.programs().contains(p))
            .collect();
        let poverty_runs = programs.contains(&Program::IncomePoverty)
            || programs.contains(&Program::ExpensePoverty);
        Ok(SimRules {
            dibao: DibaoParams::read(ps, t)?,
            job_cost: read(ps, "dibao.job_cost", t)?.money(),
            asset_months: read(ps, "dibao.asset_months", t)?.count(),
            near_ratio: read(ps, "near_dibao.ratio", t)?.ratio(),
            tekun: TekunParams::read(ps, t)?,
            poverty: if poverty_runs {
                Some(PovertyParams::read(ps, t)?)
            } else {
                None
            },
            residence_years: read_optional(ps, "poverty.residence_years", t)?.map(|p| p.count()),
            elderly: if programs.contains(&Program::ElderlyAllowance) {
                Some(read(ps, "elderly.scale", t)?.tiers().to_vec())
            } else {
                None
            },
            programs,
        })
    }
}

/// What each simulated program gives a household: the monthly amount in fen when eligible.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes(pub [Option<i64>; 6]);

impl Outcomes {
    pub fn get(&self, program: Program) -> Option<i64> {
        SIMULATED
            .iter()
            .position(|p| *p == program)
            .and_then(|i| self.0[i])
    }
}

/// The outcomes of one household under one scenario.
pub fn outcomes(h: &Household, r: &SimRules) -> Outcomes {
    let t = &mut NoTrace;
    let means = means_of(h, None, r.job_cost, t);
    let refusal = dibao::asset_refusal(h, &means, r.dibao.standard, r.asset_months, t);
    let mut out = [None; 6];
    let amount = |o: crate::Outcome| o.eligible.then_some(o.amount.fen());
    let d = dibao::assess(&means, refusal.clone(), None, &r.dibao, t);
    out[0] = amount(d);
    if r.programs.contains(&Program::NearDibao) {
        out[1] = amount(dibao::near_dibao(
            &means,
            r.dibao.standard,
            r.near_ratio,
            refusal,
            t,
        ));
    }
    if r.programs.contains(&Program::Tekun) {
        let (total, count, _) = tekun::assess_household(&h.members, &r.tekun, t);
        out[2] = (count > 0).then_some(total.fen());
    }
    if let Some(p) = &r.poverty {
        let resident = r.residence_years.is_none_or(|years| {
            h.members
                .iter()
                .filter(|m| m.hukou_local)
                .filter_map(|m| m.residence_months)
                .max()
                .is_some_and(|n| i64::from(n) >= years * 12)
        });
        if resident && r.programs.contains(&Program::IncomePoverty) {
            out[3] = amount(poverty::income_type(&means, p, t));
        }
        if resident && r.programs.contains(&Program::ExpensePoverty) {
            out[4] = amount(poverty::expense_type(&means, p, t));
        }
    }
    if let Some(scale) = &r.elderly {
        out[5] = amount(special::elderly(&h.members, scale, t));
    }
    Outcomes(out)
}
