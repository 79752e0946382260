//! Rules as code. Parameters are effective-dated values per jurisdiction, read from policy packs
//! (`policies/*.toml`) with their source; programs are pure functions of a household and those
//! parameters that return a decision with a trace of every step. No I/O.
//!
//! The money rules compare in integers: "per-capita income below the standard" is
//! `household income < standard × members`, so no rounding ever decides eligibility.

pub mod batch;
pub mod evaluate;
pub mod household;
pub mod pack;
pub mod param;
pub mod programs;
pub mod simulate;
pub mod trace;

use chrono::NaiveDate;
use jiuzhu_domain::Money;
use serde::Serialize;
use thiserror::Error;

pub use evaluate::{evaluate, Evaluation};
pub use household::{Household, HouseholdInput};
pub use pack::{Overrides, Pack, ParamSet, PolicyBook};
pub use param::{Ratio, Resolved};
pub use trace::{NoTrace, Step, Trace, Tracer};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    #[error("{field}：{message}")]
    Input { field: String, message: String },
    #[error("未知的参数“{0}”")]
    UnknownParameter(String),
    #[error("参数“{name}”（{label}）在{date}没有生效的数值{}", earliest.map(|d| format!("（最早自{d}起）")).unwrap_or_default())]
    NotInForce {
        name: String,
        label: String,
        date: NaiveDate,
        earliest: Option<NaiveDate>,
    },
    #[error("未知的政策辖区“{0}”")]
    UnknownJurisdiction(String),
    #[error("政策包{file}：{message}")]
    Pack { file: String, message: String },
    #[error("参数“{name}”自{from}起已有数值")]
    DuplicateValue { name: String, from: NaiveDate },
}

impl PolicyError {
    /// The input field or parameter the error concerns.
    pub fn field(&self) -> String {
        match self {
            PolicyError::Input { field, .. } => field.clone(),
            PolicyError::UnknownParameter(name)
            | PolicyError::NotInForce { name, .. }
            | PolicyError::DuplicateValue { name, .. } => format!("parameters.{name}"),
            PolicyError::UnknownJurisdiction(_) => "jurisdiction".into(),
            PolicyError::Pack { .. } => "policies".into(),
        }
    }
}

macro_rules! programs {
    ($($variant:ident => $code:literal, $label:literal;)+) => {
        /// The assistance programs the engine evaluates.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Program { $($variant),+ }

        impl Program {
            pub const ALL: &'static [Program] = &[$(Program::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $(Program::$variant => $code),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $(Program::$variant => $label),+ }
            }

            pub fn from_code(code: &str) -> Option<Program> {
                match code { $($code => Some(Program::$variant),)+ _ => None }
            }
        }
    };
}

programs! {
    Dibao => "dibao", "最低生活保障";
    NearDibao => "near_dibao", "低保边缘家庭";
    Tekun => "tekun", "特困人员救助供养";
    IncomePoverty => "income_poverty", "收入型贫困家庭";
    ExpensePoverty => "expense_poverty", "支出型贫困家庭";
    LowIncomeMedical => "low_income_medical", "低收入人员专项医疗救助";
    LowIncomeStudent => "low_income_student", "低收入家庭困难学生助学";
    Temporary => "temporary", "临时救助";
    ElderlyAllowance => "elderly_allowance", "高龄津贴";
    PriceSubsidy => "price_subsidy", "价格临时补贴";
    DisasterHousing => "disaster_housing", "灾后住房重建修缮补助";
    Funeral => "funeral", "丧葬补助";
}

/// How often an amount is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Monthly,
    Once,
    Yearly,
}

impl Period {
    pub fn label(self) -> &'static str {
        match self {
            Period::Monthly => "每月",
            Period::Once => "一次性",
            Period::Yearly => "每学年",
        }
    }
}

/// What a program's rule found, before it is labelled with the program and its trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub eligible: bool,
    pub amount: Money,
    /// Why not eligible, or how it is paid (渐退期, 分档).
    pub reason: Option<String>,
}

impl Outcome {
    pub fn refused(reason: impl Into<String>) -> Outcome {
        Outcome {
            eligible: false,
            amount: Money::ZERO,
            reason: Some(reason.into()),
        }
    }

    /// Not eligible, with the reason when one is wanted (see [`Tracer::say`]).
    pub fn not(reason: Option<String>) -> Outcome {
        Outcome {
            eligible: false,
            amount: Money::ZERO,
            reason,
        }
    }

    pub fn granted(amount: Money, note: Option<String>) -> Outcome {
        Outcome {
            eligible: true,
            amount,
            reason: note,
        }
    }
}

/// One program's decision about one household in one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub program: Program,
    pub label: &'static str,
    pub eligible: bool,
    pub amount_fen: i64,
    /// `每月864.00元`.
    pub amount_text: String,
    pub period: Period,
    pub reason: Option<String>,
    /// Payments of one approval in stages (临时救助 分期).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stages_fen: Vec<i64>,
    /// True when a parameter behind the decision is a demo value no document confirms.
    pub unconfirmed: bool,
    pub trace: Vec<Step>,
}

impl Decision {
    pub fn new(program: Program, period: Period, outcome: Outcome, trace: Trace) -> Decision {
        let unconfirmed = trace
            .0
            .iter()
            .any(|s| matches!(s, Step::Parameter(p) if p.demo));
        Decision {
            program,
            label: program.label(),
            eligible: outcome.eligible,
            amount_fen: outcome.amount.fen(),
            amount_text: if outcome.eligible {
                format!("{}{}元", period.label(), outcome.amount)
            } else {
                "不符合".into()
            },
            period,
            reason: outcome.reason,
            stages_fen: Vec::new(),
            unconfirmed,
            trace: trace.0,
        }
    }

    pub fn amount(&self) -> Money {
        Money::from_fen(self.amount_fen)
    }

    /// Every parameter the decision read: stored with it so a later change of a pack never
    /// changes what was decided.
    pub fn parameters(&self) -> impl Iterator<Item = &Resolved> {
        self.trace.iter().filter_map(|s| match s {
            Step::Parameter(p) => Some(p),
            _ => None,
        })
    }
}
