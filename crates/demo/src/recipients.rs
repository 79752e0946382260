//! Those in assistance in the demo city: about 3% of households on 低保, some 特困, 低保边缘 and
//! disability subsidies, enrolled over the past two years with adjustments, suspensions,
//! gradual exits and exits; reviews falling due (some overdue), visits (some overdue) and plans.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use jiuzhu_domain::enrolment::{add_months, month_of, EnrolmentChange, ExitCause};
use jiuzhu_services::{Result, Services};
use jiuzhu_store::{ChangeRecord, EnrolmentRecord, PlanRecord, VisitRecord};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

/// A household picked to be in assistance: its id, village, and members (person, age).
pub(crate) struct Candidate {
    pub household_id: i64,
    /// Declared monthly income of the household, in fen.
    pub income_fen: i64,
    /// Members' names, for the payee's account holder.
    pub names: std::collections::HashMap<i64, String>,
    pub region_code: String,
    pub members: Vec<(i64, u32)>,
}

/// Households below this per-capita income are picked, this many in a thousand.
pub(crate) const POOR_PER_CAPITA_FEN: i64 = 150_000;
pub(crate) const POOR_PER_THOUSAND: u32 = 250;

const FINDINGS: [&str; 6] = [
    "家中生活基本正常，药品按时领取",
    "户主腰椎病加重，行动不便",
    "子女在外务工，每月寄回少量生活费",
    "房屋老旧，雨季有渗漏",
    "老人独居，邻里照看",
    "家中有学生，学费已申请教育救助",
];

fn at(d: NaiveDate) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(d.and_hms_opt(1, 30, 0).expect("time"), Utc)
}

fn change(
    enrolment_id: i64,
    region: &str,
    month: NaiveDate,
    c: &EnrolmentChange,
    reason: &str,
) -> ChangeRecord {
    ChangeRecord {
        id: 0,
        enrolment_id,
        region_code: region.to_string(),
        month,
        kind: c.code().to_string(),
        body: serde_json::to_string(c).expect("changes serialise"),
        reason: reason.to_string(),
        recorded_by: "reviewer".into(),
        approved_by: "reviewer".into(),
        created_at: at(month),
    }
}

/// Writes the enrolments of the picked households with their histories, visits and plans.
pub(crate) async fn write(
    services: &Services,
    rng: &mut StdRng,
    candidates: &[Candidate],
    today: NaiveDate,
) -> Result<usize> {
    let this_month = month_of(today);
    // What the jurisdiction's rules give: the 低保 standard, and the 特困 amount of a fully
    // self-caring person supported at home (basic standard plus care).
    let (standard, tekun) = match candidates.first() {
        Some(c) => {
            let region = jiuzhu_domain::RegionCode::parse(&c.region_code)
                .map_err(|e| jiuzhu_services::ServiceError::invalid("region", e.to_string()))?;
            let policy = services.policy();
            let book = policy.book();
            let ps = book.params(
                &policy.jurisdiction_of(&region)?,
                today,
                &jiuzhu_policy::Overrides::default(),
            )?;
            let standard = ps.get("dibao.standard")?.money();
            let basic = ps.get("tekun.basic_ratio")?.ratio().of(standard);
            let care = ps
                .get("tekun.care_dispersed_full")?
                .ratio()
                .of(ps.get("tekun.care_subsidy")?.money());
            (standard.fen(), (basic + care).fen())
        }
        None => return Ok(0),
    };
    let mut rows = Vec::with_capacity(candidates.len());
    for c in candidates {
        let size = c.members.len() as i64;
        let elderly_alone = c.members.len() == 1 && c.members[0].1 >= 60;
        let gap = standard * size - c.income_fen;
        let roll = rng.gen_range(0..100);
        let disability = |rng: &mut StdRng| {
            let (pid, _) = *c.members.choose(rng).expect("members");
            (
                "disability_subsidies",
                Some(pid),
                rng.gen_range(9..19) * 1000,
            )
        };
        let (program, person, amount) = if elderly_alone && gap > 0 && roll < 40 {
            ("tekun", None, tekun)
        } else if gap > 0 && roll < 88 {
            // Paid as the difference, in whole yuan.
            ("dibao", None, gap / 100 * 100)
        } else if gap <= 0 && gap > -standard * size / 2 && roll < 88 {
            ("near_dibao", None, rng.gen_range(10..30) * 1000)
        } else {
            disability(rng)
        };
        let months_ago = rng.gen_range(1..=24u32);
        let first = add_months(this_month, 0)
            .checked_sub_months(chrono::Months::new(months_ago))
            .expect("dates in range");
        let members: Vec<i64> = match person {
            Some(p) => vec![p],
            None => c.members.iter().map(|(p, _)| *p).collect(),
        };
        let period = if program == "dibao" && rng.gen_bool(0.3) {
            6
        } else {
            12
        };
        // Reviews were kept up, except for a few that slipped into the past.
        let mut next = add_months(first, period);
        while next <= this_month {
            next = add_months(next, period);
        }
        if rng.gen_ratio(1, 20) {
            next = next
                .checked_sub_months(chrono::Months::new(period))
                .unwrap_or(next)
                .max(first);
        }
        let next = next.with_day(rng.gen_range(1..=28)).unwrap_or(next);
        rows.push(EnrolmentRecord {
            id: 0,
            household_id: c.household_id,
            person_id: person,
            program: program.to_string(),
            region_code: c.region_code.clone(),
            case_id: None,
            evaluation_id: None,
            report_id: None,
            amount_fen: amount,
            members: serde_json::to_string(&members).expect("ids"),
            first_month: first,
            stage: "confirmed".into(),
            granted_by: "liaison3".into(),
            reviewed_by: Some("reviewer".into()),
            reviewed_at: Some(at(first)),
            review_note: "入户调查属实".into(),
            confirmed_by: Some(if ["dibao", "tekun"].contains(&program) {
                "approver".into()
            } else {
                "liaison3".into()
            }),
            confirmed_at: Some(at(first)),
            next_review: Some(next),
            created_at: at(first),
        });
    }
    let mut tx = services.store.begin().await?;
    let ids = tx.insert_enrolments(&rows).await?;
    let (mut changes, mut visits, mut plans) = (Vec::new(), Vec::new(), Vec::new());
    for (e, id) in rows.iter().zip(&ids) {
        let members: Vec<i64> = serde_json::from_str(&e.members).expect("ids");
        let region = e.region_code.as_str();
        changes.push(change(
            *id,
            region,
            e.first_month,
            &EnrolmentChange::Enrolled {
                amount_fen: e.amount_fen,
                members,
            },
            "审核确认",
        ));
        let lived = chrono::Months::new(
            ((this_month.year() - e.first_month.year()) * 12 + this_month.month() as i32
                - e.first_month.month() as i32)
                .max(1) as u32,
        );
        let span = lived.as_u32();
        let roll = rng.gen_range(0..100);
        if span > 6 && roll < 30 {
            let m = add_months(e.first_month, rng.gen_range(3..span));
            let delta = rng.gen_range(-20..30) * 1000;
            changes.push(change(
                *id,
                region,
                m,
                &EnrolmentChange::Adjusted {
                    amount_fen: (e.amount_fen + delta).max(5_000),
                },
                "低保标准提高，按新标准调整",
            ));
        }
        if span > 3 && (30..38).contains(&roll) {
            let m = add_months(e.first_month, rng.gen_range(1..span));
            let cause = *[
                ExitCause::IncomeAboveStandard,
                ExitCause::MovedAway,
                ExitCause::Death,
                ExitCause::AskedToLeave,
            ]
            .choose(rng)
            .expect("causes");
            changes.push(change(
                *id,
                region,
                m,
                &EnrolmentChange::Ended { cause },
                "复核不再符合条件",
            ));
        } else if e.program == "dibao" && span > 2 && (38..43).contains(&roll) {
            let m = add_months(this_month, 0)
                .checked_sub_months(chrono::Months::new(rng.gen_range(0..4)))
                .expect("dates")
                .max(add_months(e.first_month, 1));
            changes.push(change(
                *id,
                region,
                m,
                &EnrolmentChange::GradualExit { months: 6 },
                "家庭成员就业增收，人均收入超过低保标准",
            ));
        } else if span > 2 && (43..45).contains(&roll) {
            changes.push(change(
                *id,
                region,
                this_month,
                &EnrolmentChange::Suspended,
                "户主外出，暂无法联系，待核实",
            ));
        }
        // Visits: most households were visited in the last months, some not for a while.
        if rng.gen_ratio(4, 5) {
            let longest = if rng.gen_ratio(1, 5) { 8 } else { 3 };
            let back = rng.gen_range(0..longest);
            let d = today
                .checked_sub_months(chrono::Months::new(back))
                .expect("dates")
                .with_day(rng.gen_range(1..=today.day().max(1)))
                .unwrap_or(today);
            visits.push(VisitRecord {
                id: 0,
                household_id: e.household_id,
                region_code: region.to_string(),
                visit_date: d.min(today),
                visitor: "钱芳".into(),
                findings: FINDINGS.choose(rng).expect("findings").to_string(),
                follow_up: String::new(),
                recorded_by: "assistant".into(),
                created_at: at(d.min(today)),
            });
        }
        if rng.gen_ratio(1, 3) {
            let causes = match e.program.as_str() {
                "tekun" => vec!["lack_of_labour"],
                "disability_subsidies" => vec!["disability"],
                _ => vec!["illness", "lack_of_skills"],
            };
            let needs = serde_json::json!([
                {"need": "基本生活保障", "measure": {"by": "镇民政办", "what": "按月发放救助金", "due_days": 5, "status": "done"}, "no_measure_reason": ""},
                {"need": "就医费用负担重", "measure": {"by": "市医保局", "what": "落实医疗救助和大病保险倾斜", "due_days": 15, "status": "in_progress"}, "no_measure_reason": ""}
            ]);
            plans.push(PlanRecord {
                id: 0,
                household_id: e.household_id,
                region_code: region.to_string(),
                version: 1,
                causes: serde_json::to_string(&causes).expect("codes"),
                needs: needs.to_string(),
                changes: String::new(),
                based_on:
                    serde_json::json!({"summary": format!("{}：纳入保障时制定", e.first_month)})
                        .to_string(),
                status: "approved".into(),
                created_by: "clerk".into(),
                created_at: at(e.first_month),
                approved_by: Some("reviewer".into()),
                approved_at: Some(at(e.first_month)),
            });
        }
    }
    // Most are paid to the head's 一卡通; a few have no account yet.
    let banks = [
        "张家港农村商业银行",
        "中国农业银行张家港支行",
        "中国工商银行张家港支行",
    ];
    let mut payees = Vec::new();
    for ((e, id), c) in rows.iter().zip(&ids).zip(candidates) {
        if rng.gen_ratio(1, 20) {
            continue;
        }
        let person = e.person_id.unwrap_or(c.members[0].0);
        let account = format!("622202{:013}", rng.gen_range(0..10_000_000_000_000u64));
        payees.push(jiuzhu_store::PayeeRecord {
            id: 0,
            enrolment_id: Some(*id),
            award_id: None,
            household_id: e.household_id,
            region_code: e.region_code.clone(),
            person_id: person,
            holder_name: c.names.get(&person).cloned().unwrap_or_default(),
            bank: banks.choose(rng).expect("banks").to_string(),
            account_cipher: services
                .store
                .cipher()
                .encrypt(jiuzhu_store::ACCOUNT_CONTEXT, &account),
            account_masked: jiuzhu_domain::payment::mask_account(&account),
            role: if person == c.members[0].0 {
                "head"
            } else {
                "member"
            }
            .into(),
            updated_by: "clerk".into(),
            updated_at: at(e.first_month),
        });
    }
    tx.insert_payees(&payees).await?;
    tx.insert_changes(&changes).await?;
    tx.insert_visits(&visits).await?;
    tx.insert_plans(&plans).await?;
    tx.commit().await?;
    Ok(ids.len())
}
