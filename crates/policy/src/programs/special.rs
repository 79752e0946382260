//! The special and one-off programs: low-income medical top-up and student aid, temporary
//! assistance, the elderly allowance, the price-linkage subsidy, disaster housing and the
//! funeral grant.

use jiuzhu_domain::Money;

use crate::household::{Damage, Household, Member, TemporaryInput, TemporaryKind};
use crate::param::{tier_of, Ratio, Tier};
use crate::trace::Tracer;
use crate::Outcome;

/// Critical-illness insurance that repaid less than `ratio` of the patient's own costs is
/// topped up to it.
pub fn medical_top_up(members: &[Member], ratio: Ratio, t: &mut impl Tracer) -> Outcome {
    let mut total = Money::ZERO;
    let mut any = false;
    for m in members {
        let Some((own, repaid)) = m.medical else {
            continue;
        };
        any = true;
        let target = ratio.of(own);
        let short = t.test(
            || {
                format!(
                    "{}：大病保险补偿{repaid}元，不足自负费用{own}元的{ratio}（{target}元）",
                    m.label
                )
            },
            repaid < target,
            "大病保险补偿不足自负费用规定比例的部分予以补足",
        );
        if short {
            let top_up = target - repaid;
            t.value(&format!("{}补足金额", m.label), || {
                format!("{target}元 − {repaid}元 = {top_up}元")
            });
            total += top_up;
        }
    }
    if !any {
        return Outcome::not(t.say(|| "无医疗费用记录".into()));
    }
    if total == Money::ZERO {
        return Outcome::not(t.say(|| "大病保险补偿已达到规定比例".into()));
    }
    Outcome::granted(total, None)
}

/// Students of low-income families get `ratio` of the 低保-family student aid each.
pub fn student_aid(members: &[Member], aid: Money, ratio: Ratio, t: &mut impl Tracer) -> Outcome {
    let students = members.iter().filter(|m| m.student).count() as i64;
    if !t.test(
        || format!("在读学生{students}人"),
        students > 0,
        "低收入家庭在读困难学生",
    ) {
        return Outcome::not(t.say(|| "家庭无在读学生".into()));
    }
    let each = ratio.of(aid);
    let amount = Money::from_fen(each.fen() * students);
    t.value("助学金", || {
        format!("低保家庭助学标准{aid}元×{ratio} = 每人{each}元，×{students}人 = {amount}元")
    });
    Outcome::granted(amount, None)
}

#[derive(Debug, Clone)]
pub struct TemporaryParams {
    pub standard: Money,
    pub emergency_amount: Money,
    pub tiers: Vec<Tier>,
    pub case_by_case_months: i64,
    pub nonlocal_months: i64,
    pub max_stages: i64,
}

/// Temporary assistance: emergency pays a small amount first; expenditure type pays the need up
/// to the tier's months of the 低保 standard, or more case by case. Returns the stages too.
pub fn temporary(
    h: &Household,
    req: &TemporaryInput,
    p: &TemporaryParams,
    t: &mut impl Tracer,
) -> (Outcome, Vec<Money>) {
    let resident = h.members.iter().any(|m| {
        m.hukou_local
            || m.residence_months
                .is_some_and(|n| i64::from(n) >= p.nonlocal_months)
    });
    if !t.test(
        || {
            format!(
                "本地户籍，或非本地户籍在本地居住{}个月以上",
                p.nonlocal_months
            )
        },
        resident,
        "非本地户籍常住人口纳入临时救助范围",
    ) {
        return (
            Outcome::not(t.say(|| format!("非本地户籍且在本地居住不满{}个月", p.nonlocal_months))),
            Vec::new(),
        );
    }
    let need = req.need.0;
    let (amount, note) = match req.kind {
        TemporaryKind::Emergency => {
            let amount = need.min(p.emergency_amount);
            t.value("急难型临时救助（先行救助）", || {
                format!(
                    "困难金额{need}元，先行救助额{}元，发放{amount}元",
                    p.emergency_amount
                )
            });
            (amount, "小金额先行救助，事后补充说明情况".to_string())
        }
        TemporaryKind::Expenditure => {
            let months = if req.case_by_case {
                t.value("一事一议", || {
                    format!("最多{}个月低保标准", p.case_by_case_months)
                });
                p.case_by_case_months
            } else {
                let tier = tier_of(&p.tiers, need.fen()).map_or(0, |t| t.value);
                t.value("支出型临时救助分档", || {
                    format!("困难金额{need}元，所在档最多{tier}个月低保标准")
                });
                tier
            };
            let cap = Money::from_fen(p.standard.fen() * months);
            let amount = need.min(cap);
            t.value("临时救助金", || {
                format!(
                    "困难金额{need}元与上限{}元×{months}个月={cap}元取小者：{amount}元",
                    p.standard
                )
            });
            (
                amount,
                if req.case_by_case {
                    "一事一议".to_string()
                } else {
                    "按档救助".to_string()
                },
            )
        }
    };
    let stages = i64::from(req.stages.unwrap_or(1));
    if !t.test(
        || format!("分{stages}期发放，不超过{}期", p.max_stages),
        stages <= p.max_stages,
        "一次审批、分阶段救助",
    ) {
        return (
            Outcome::not(t.say(|| format!("分期数{stages}超过{}期", p.max_stages))),
            Vec::new(),
        );
    }
    let parts = amount.split(stages as u32);
    (
        Outcome::granted(amount, Some(note)),
        if stages > 1 { parts } else { Vec::new() },
    )
}

/// The elderly allowance of one person by age.
pub fn elderly_monthly(age: u32, scale: &[Tier]) -> Money {
    tier_of(scale, i64::from(age)).map_or(Money::ZERO, |t| Money::from_fen(t.value))
}

/// The elderly allowance of a household: local-hukou members by their age tier.
pub fn elderly(members: &[Member], scale: &[Tier], t: &mut impl Tracer) -> Outcome {
    let mut total = Money::ZERO;
    for m in members {
        let each = elderly_monthly(m.age, scale);
        if each > Money::ZERO
            && t.test(
                || format!("{}：{}岁，本地户籍", m.label, m.age),
                m.hukou_local,
                "具有本地户籍且达到高龄津贴年龄",
            )
        {
            t.value(&format!("{}高龄津贴", m.label), || format!("{each}元"));
            total += each;
        }
    }
    if total == Money::ZERO {
        return Outcome::not(t.say(|| "无年满规定年龄的本地户籍成员".into()));
    }
    Outcome::granted(total, None)
}

/// The price-linkage subsidy: when the index rose past the trigger, each person receiving 低保
/// or 特困 support gets the monthly subsidy.
pub fn price_subsidy(
    rise: Option<Ratio>,
    trigger: Ratio,
    per_person: Money,
    recipients: i64,
    t: &mut impl Tracer,
) -> Outcome {
    let Some(rise) = rise else {
        return Outcome::not(t.say(|| "未给出当月物价指数涨幅".into()));
    };
    if !t.test(
        || format!("物价指数同比涨幅{rise}，启动条件{trigger}"),
        rise >= trigger,
        "物价上涨挂钩联动机制启动条件",
    ) {
        return Outcome::not(t.say(|| format!("物价涨幅{rise}未达到启动条件{trigger}")));
    }
    if !t.test(
        || format!("低保、特困保障人数{recipients}人"),
        recipients > 0,
        "发放对象为低保、特困等困难群众",
    ) {
        return Outcome::not(t.say(|| "家庭无低保、特困保障对象".into()));
    }
    let amount = Money::from_fen(per_person.fen() * recipients);
    t.value("价格临时补贴", || {
        format!("{per_person}元×{recipients}人 = {amount}元")
    });
    Outcome::granted(amount, None)
}

/// Disaster housing: the cost up to the cap for rebuilding or repairing.
pub fn disaster_housing(
    damage: Damage,
    cost: Money,
    entitled: bool,
    rebuild_cap: Money,
    repair_cap: Money,
    t: &mut impl Tracer,
) -> Outcome {
    if !t.test(
        || "低保、特困、低收入、重点优抚对象、革命五老或贫困残疾人家庭".into(),
        entitled,
        "纳入灾后重建的困难家庭",
    ) {
        return Outcome::not(t.say(|| "不属于灾后住房补助的对象".into()));
    }
    let (label, cap) = match damage {
        Damage::Collapsed => ("新（翻）建", rebuild_cap),
        Damage::Damaged => ("修缮", repair_cap),
    };
    let amount = cost.min(cap);
    t.value("住房补助", || {
        format!("{label}费用{cost}元，最高{cap}元，补助{amount}元")
    });
    Outcome::granted(amount, Some(label.to_string()))
}

/// The funeral grant: months of the deceased's regular subsidy.
pub fn funeral(deceased: &[Member], months: i64, t: &mut impl Tracer) -> Outcome {
    let mut total = Money::ZERO;
    for m in deceased {
        let monthly = m.entitled_subsidy();
        if t.test(
            || format!("{}：生前领取优抚金或五老定期补助{monthly}元/月", m.label),
            monthly > Money::ZERO,
            "重点优抚对象、革命五老人员死亡后发放丧葬补助",
        ) {
            let amount = Money::from_fen(monthly.fen() * months);
            t.value(&format!("{}丧葬补助", m.label), || {
                format!("{monthly}元×{months}个月 = {amount}元")
            });
            total += amount;
        }
    }
    if total == Money::ZERO {
        return Outcome::not(t.say(|| "无领取定期补助的已故成员".into()));
    }
    Outcome::granted(total, None)
}
