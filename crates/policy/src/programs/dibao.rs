//! 最低生活保障 and 低保边缘家庭.

use jiuzhu_domain::{DisabilityKind, Money};

use super::{read, read_optional, Means};
use crate::household::Household;
use crate::param::{tier_of, Ratio, Tier};
use crate::trace::Tracer;
use crate::{Outcome, ParamSet, PolicyError};

/// The parameters of the 低保 rule.
#[derive(Debug, Clone)]
pub struct DibaoParams {
    pub standard: Money,
    /// Payment by tiers of the per-capita gap, where the jurisdiction pays by tiers.
    pub tiers: Option<Vec<Tier>>,
    pub exit_months: i64,
}

impl DibaoParams {
    pub fn read(ps: &ParamSet<'_>, t: &mut impl Tracer) -> Result<DibaoParams, PolicyError> {
        Ok(DibaoParams {
            standard: read(ps, "dibao.standard", t)?.money(),
            tiers: read_optional(ps, "dibao.tiers", t)?.map(|p| p.tiers().to_vec()),
            exit_months: read(ps, "dibao.exit_months", t)?.count(),
        })
    }
}

/// What the household received before: for the gradual exit.
#[derive(Debug, Clone, Copy)]
pub struct History {
    pub last_month: Money,
    pub exit_months_used: u32,
    /// Income rose because a member found work (the exit is for those who did).
    pub job_found: bool,
}

/// The 低保 rule on a household's means. `refusal` is the asset test's finding, if it failed.
pub fn assess(
    means: &Means,
    refusal: Option<String>,
    history: Option<History>,
    p: &DibaoParams,
    t: &mut impl Tracer,
) -> Outcome {
    let line = means.line(p.standard);
    let below = t.test(
        || {
            format!(
                "家庭月收入{}元低于低保标准{}元×{}人={}元",
                means.income,
                p.standard,
                means.size,
                Money::from_fen(line as i64)
            )
        },
        i128::from(means.income.fen()) < line,
        "家庭人均收入低于当地低保标准",
    );
    if below {
        if let Some(reason) = refusal {
            return Outcome::refused(reason);
        }
        let (amount, note) = payment(means, p, t);
        return Outcome::granted(amount, note);
    }
    match history {
        Some(h) if h.job_found => {
            let month = i64::from(h.exit_months_used) + 1;
            let within = t.test(
                || {
                    format!(
                        "就业后人均收入超过标准，渐退期第{month}个月（共{}个月）",
                        p.exit_months
                    )
                },
                month <= p.exit_months,
                "就业增收后的渐退期",
            );
            if within {
                t.value("渐退期内继续发放", || {
                    format!("上月低保金{}元", h.last_month)
                });
                Outcome::granted(
                    h.last_month,
                    t.say(|| format!("渐退期第{month}个月（共{}个月）", p.exit_months)),
                )
            } else {
                Outcome::not(
                    t.say(|| format!("人均收入超过低保标准，{}个月渐退期已满", p.exit_months)),
                )
            }
        }
        _ => Outcome::not(t.say(|| {
            format!(
                "人均月收入{}元不低于低保标准{}元",
                means.per_capita(),
                p.standard
            )
        })),
    }
}

/// The monthly amount: the gap to the standard for the whole household, or by tiers.
pub fn payment(means: &Means, p: &DibaoParams, t: &mut impl Tracer) -> (Money, Option<String>) {
    let gap = Money::from_fen((means.line(p.standard) - i128::from(means.income.fen())) as i64);
    match &p.tiers {
        None => {
            t.value("低保金（差额发放）", || {
                format!(
                    "低保标准{}元×{}人 − 家庭月收入{}元 = {gap}元",
                    p.standard, means.size, means.income
                )
            });
            (gap, None)
        }
        Some(tiers) => {
            let per_capita_gap = gap.fen() / means.size.max(1);
            let per_person =
                tier_of(tiers, per_capita_gap).map_or(Money::ZERO, |t| Money::from_fen(t.value));
            let amount = Money::from_fen(per_person.fen() * means.size);
            t.value("低保金（分档发放）", || {
                format!(
                    "人均差额{}元，所在档每人{per_person}元，×{}人 = {amount}元",
                    Money::from_fen(per_capita_gap),
                    means.size
                )
            });
            (amount, t.say(|| "按档发放".into()))
        }
    }
}

/// The asset test: financial assets per member within the limit, no vehicle, no business.
/// Returns the reason when it fails.
pub fn asset_refusal(
    h: &Household,
    means: &Means,
    standard: Money,
    asset_months: i64,
    t: &mut impl Tracer,
) -> Option<String> {
    let financial = h.deposits + h.securities;
    let limit = i128::from(standard.fen()) * i128::from(asset_months) * i128::from(means.size);
    let ok = t.test(
        || {
            format!(
                "存款及有价证券{financial}元不超过低保标准{standard}元×{asset_months}个月×{}人={}元",
                means.size,
                Money::from_fen(limit as i64)
            )
        },
        i128::from(financial.fen()) <= limit,
        "低保家庭财产状况：金融资产",
    );
    if !ok {
        return Some(format!("家庭金融资产{financial}元超过限额"));
    }
    if !t.test(
        || format!("名下机动车{}辆", h.vehicles),
        h.vehicles == 0,
        "低保家庭财产状况：机动车",
    ) {
        return Some("家庭成员名下有机动车".into());
    }
    if !t.test(
        || "无经营性企业或个体工商户".into(),
        !h.business,
        "低保家庭财产状况：经营性资产",
    ) {
        return Some("家庭成员有经营性企业或个体工商户".into());
    }
    None
}

/// Whether a member may apply alone as a single-person household: grade 1–2 disability,
/// grade 3 intellectual or mental disability, or serious illness.
pub fn may_apply_alone(disability: Option<(u8, DisabilityKind)>, serious_illness: bool) -> bool {
    serious_illness
        || match disability {
            Some((g, _)) if g <= 2 => true,
            Some((3, k)) => matches!(k, DisabilityKind::Intellectual | DisabilityKind::Mental),
            _ => false,
        }
}

/// 低保边缘家庭: not below the standard, within `ratio ×` it, assets passing.
pub fn near_dibao(
    means: &Means,
    standard: Money,
    ratio: Ratio,
    refusal: Option<String>,
    t: &mut impl Tracer,
) -> Outcome {
    let income = i128::from(means.income.fen());
    let line = means.line(standard);
    if income < line {
        t.test(
            || "家庭人均收入低于低保标准（属低保范围）".into(),
            false,
            "低保边缘家庭：人均收入不低于低保标准",
        );
        return Outcome::not(t.say(|| "人均收入低于低保标准，应按低保认定".into()));
    }
    let upper = line * i128::from(ratio.basis_points());
    let within = t.test(
        || {
            format!(
                "家庭月收入{}元不超过低保标准{}元×{}×{}人",
                means.income, standard, ratio, means.size
            )
        },
        income * i128::from(Ratio::DENOMINATOR) <= upper,
        "低保边缘家庭：人均收入在低保标准的规定倍数以内",
    );
    if !within {
        return Outcome::not(
            t.say(|| format!("人均月收入{}元超过低保标准的{ratio}", means.per_capita())),
        );
    }
    if let Some(reason) = refusal {
        return Outcome::refused(reason);
    }
    Outcome::granted(
        Money::ZERO,
        t.say(|| "认定为低保边缘家庭，可享受医疗、教育、住房等专项救助".into()),
    )
}
