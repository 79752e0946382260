//! Payments (发放): the payee of each enrolment and award, the monthly roll from the register,
//! checked and approved by two people and then locked, the bank's batch file in the bank's own
//! layout and its return, failures paid again once the account is corrected, receivables
//! withheld from later payments, and the roll closed when the bank's figures reconcile with it.
//!
//! A city's roll is a million lines, so nothing here holds a roll in memory: what a draft is due
//! is worked out per range of enrolments, the payees' accounts are joined in the database, and a
//! roll is read back a page at a time.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::enrolment::{add_months, month_of, MonthStatus};
use jiuzhu_domain::payment::{
    mask_account, parse_return, BankLine, BankTemplate, BatchHeader, FileEncoding, RollStage,
};
use jiuzhu_domain::{Money, Permission};
use jiuzhu_store::{Due, PayeeRecord, RollLine, RollRecord, Tx, ACCOUNT_CONTEXT};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::recipients::parse_month;
use crate::{Actor, Payments, Result, ServiceError};

mod templates;
pub use templates::{BankTemplateInput, BankTemplateView};

/// Lines read or written at a time.
const PAGE: i64 = 20_000;
/// Enrolment ids whose changes are weighed at a time.
const ID_RANGE: i64 = 100_000;

/// The bank file layouts shipped: the pipe-separated text with a summary line, and the
/// spreadsheet (CSV) one; both GBK. Administrators add their banks' own
/// ([`BankTemplateInput`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BankLayout {
    Pipe,
    Csv,
}

/// Who an enrolment or award is paid to, and where.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PayeeInput {
    /// A current member of the household (the head or another member), or, with `guardian`,
    /// a person of the registry who is the guardian of a minor or of a member who cannot
    /// manage money.
    pub person_id: i64,
    /// The payee is a guardian (监护人) and need not be in the household.
    pub guardian: bool,
    /// The account holder's name as the bank has it.
    pub holder_name: String,
    /// The bank, e.g. 张家港农村商业银行.
    pub bank: String,
    /// The 一卡通 account number (digits).
    pub account: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PayeeView {
    pub enrolment_id: Option<i64>,
    pub award_id: Option<i64>,
    pub person_id: i64,
    /// 户主, 家庭成员 or 监护人.
    pub role_label: String,
    pub holder_name: String,
    pub bank: String,
    pub account_masked: String,
    pub updated_at: DateTime<Utc>,
}

fn role_label(code: &str) -> &'static str {
    match code {
        "head" => "户主",
        "guardian" => "监护人",
        _ => "家庭成员",
    }
}

impl From<&PayeeRecord> for PayeeView {
    fn from(p: &PayeeRecord) -> Self {
        PayeeView {
            enrolment_id: p.enrolment_id,
            award_id: p.award_id,
            person_id: p.person_id,
            role_label: role_label(&p.role).into(),
            holder_name: p.holder_name.clone(),
            bank: p.bank.clone(),
            account_masked: p.account_masked.clone(),
            updated_at: p.updated_at,
        }
    }
}

/// Which roll to make.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RollInput {
    /// YYYY-MM paid for.
    pub month: String,
    /// One program (its item code), or every recurring program and the one-off awards due.
    pub program: Option<String>,
    /// A township's division code; the whole of one's region without it.
    pub region: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineView {
    pub seq: i64,
    pub household_id: i64,
    pub enrolment_id: Option<i64>,
    pub award_id: Option<i64>,
    pub program: String,
    pub month: String,
    pub holder_name: String,
    pub account_masked: String,
    /// What is paid.
    pub amount_fen: i64,
    /// Withheld towards money to be recovered (从后续发放中扣减).
    pub deduction_fen: i64,
    /// 待发放, 已发放, 发放失败
    pub status_label: String,
    pub reason: String,
    /// A re-issue of a failed payment.
    pub reissue: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RollView {
    pub id: i64,
    pub month: String,
    pub program: Option<String>,
    /// 最低生活保障, or 全部按月发放项目 for a roll of all programs.
    pub program_name: String,
    pub region_code: String,
    /// The township, or the county (city) for a roll of the whole region.
    pub region_name: String,
    pub stage: String,
    pub stage_label: String,
    pub lines: i64,
    pub total_fen: i64,
    /// SHA-256 of the lines: the same roll regenerated gives the same digest.
    pub digest: String,
    pub created_by: String,
    pub checked_by: Option<String>,
    pub approved_by: Option<String>,
    /// Lines the bank paid, failed, and not yet answered, with their amounts: reconciled when
    /// nothing is pending and paid + failed = the roll's total.
    pub paid: i64,
    pub failed: i64,
    pub pending: i64,
    pub paid_fen: i64,
    pub failed_fen: i64,
    /// A page of the lines (`page`, 200 a page), in order; only those of `status` when asked.
    pub items: Vec<LineView>,
    pub status: Option<String>,
    pub page: i64,
    pub pages: i64,
    /// For a draft: those due this month with no payee account yet, so not on the roll (the
    /// first 200; `missing_count` says how many).
    pub missing_accounts: Vec<MissingAccount>,
    pub missing_count: i64,
    /// The bank's return files imported, in order.
    pub returns: Vec<ReturnView>,
}

/// A bank's return file as imported.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReturnView {
    pub file_name: String,
    pub paid: i64,
    pub failed: i64,
    /// Lines kept as errors, not applied, with their row and why.
    pub errors: Vec<String>,
    pub imported_by: String,
    pub imported_at: DateTime<Utc>,
}

/// Lines of a roll shown on one page.
pub const LINES_PER_PAGE: i64 = 200;

/// Someone due a payment who cannot be paid until an account is registered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MissingAccount {
    pub enrolment_id: Option<i64>,
    pub award_id: Option<i64>,
    pub household_id: i64,
    pub name: String,
}

/// What a return file did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReturnReport {
    pub already_imported: bool,
    pub paid: usize,
    pub failed: usize,
    /// Lines not applied, with why (unknown, amount differs, paid twice).
    pub errors: Vec<String>,
    /// True when the roll reconciled and closed.
    pub closed: bool,
    /// Why it did not close, when it did not: the figures that disagree.
    pub mismatch: Option<String>,
}

impl From<&RollLine> for LineView {
    fn from(l: &RollLine) -> Self {
        LineView {
            seq: l.seq,
            household_id: l.household_id,
            enrolment_id: l.enrolment_id,
            award_id: l.award_id,
            program: l.program.clone(),
            month: l.month.format("%Y-%m").to_string(),
            holder_name: l.holder_name.clone(),
            account_masked: l.account_masked.clone(),
            amount_fen: l.amount_fen,
            deduction_fen: l.deduction_fen,
            status_label: status_label(&l.status).into(),
            reason: l.reason.clone(),
            reissue: l.reissue_of.is_some(),
        }
    }
}

fn status_label(status: &str) -> &'static str {
    match status {
        "paid" => "已发放",
        "failed" => "发放失败",
        _ => "待发放",
    }
}

/// Reads a roll's lines for its digest a page at a time, in order, handing each to `f` as
/// (seq, digest text, the enrolment when it is the month's own payment, gross amount); returns
/// the SHA-256 of the lines.
async fn digest_lines(
    tx: &mut Tx,
    roll_id: i64,
    month: NaiveDate,
    mut f: impl FnMut(i64, Option<i64>, i64),
) -> Result<String> {
    let mut sha = Sha256::new();
    let mut after = 0;
    loop {
        let page = tx.line_digests(roll_id, month, after, PAGE).await?;
        for (seq, text, enrolment, gross) in &page {
            sha.update(text.as_bytes());
            sha.update(b"\n");
            f(*seq, *enrolment, *gross);
        }
        match page.last() {
            Some((seq, ..)) if page.len() as i64 == PAGE => after = *seq,
            _ => return Ok(format!("{:x}", sha.finalize())),
        }
    }
}

/// What each enrolment paid in `month` is due: (amount, members covered), worked out from the
/// changes a range of enrolments at a time so that a city's history is never all in memory.
async fn enrolment_dues(
    tx: &mut Tx,
    scope: &str,
    program: Option<&str>,
    month: NaiveDate,
) -> Result<HashMap<i64, (i64, i64)>> {
    let max = tx.max_enrolment_id().await?;
    // A member whose death a red warning reports is not paid until the township confirms:
    // the household gets the others' share.
    let held: HashSet<i64> = tx.held_for_death(scope).await?.into_iter().collect();
    let mut dues = HashMap::new();
    let mut after = 0;
    while after < max {
        let bodies = tx
            .change_bodies_between(scope, program, after, after + ID_RANGE)
            .await?;
        for (id, s) in crate::recipients::states_from(&bodies, month)? {
            if matches!(s.status, MonthStatus::Paid | MonthStatus::GradualExit)
                && s.amount.fen() > 0
            {
                let all = s.members.len() as i64;
                let paid = s.members.iter().filter(|m| !held.contains(m)).count() as i64;
                if paid == 0 {
                    continue;
                }
                let amount = if paid == all {
                    s.amount.fen()
                } else {
                    s.amount.fen() * paid / all
                };
                dues.insert(id, (amount, paid));
            }
        }
        after += ID_RANGE;
    }
    Ok(dues)
}

/// The month an award's stage falls due: the grant's month for the first, a month later for
/// each next.
fn stage_month(granted_at: DateTime<Utc>, stage: usize) -> NaiveDate {
    add_months(
        month_of(jiuzhu_domain::case::china_date(granted_at)),
        stage as u32,
    )
}

impl Payments<'_> {
    /// Sets the payee of an enrolment. Rolls already approved keep the account they were made
    /// with; drafts take the new one when made again.
    pub async fn set_payee(
        &self,
        actor: &Actor,
        enrolment_id: i64,
        input: &PayeeInput,
    ) -> Result<PayeeView> {
        actor.require(Permission::ManageRecipients)?;
        let mut tx = self.store.begin().await?;
        let e = tx
            .enrolment(enrolment_id)
            .await?
            .filter(|e| e.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        let before = tx.payee_of_enrolment(enrolment_id).await?;
        let record = self
            .payee_record(&mut tx, actor, e.household_id, &e.region_code, input)
            .await?;
        let record = PayeeRecord {
            enrolment_id: Some(enrolment_id),
            ..record
        };
        self.save_payee(tx, actor, &record, before, "enrolment", enrolment_id)
            .await
    }

    /// Sets the payee of a one-off award (临时救助 and the like).
    pub async fn set_award_payee(
        &self,
        actor: &Actor,
        award_id: i64,
        input: &PayeeInput,
    ) -> Result<PayeeView> {
        actor.require(Permission::ManageRecipients)?;
        let mut tx = self.store.begin().await?;
        let a = tx
            .award(award_id)
            .await?
            .filter(|a| a.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        let before = tx.payee_of_award(award_id).await?;
        let record = self
            .payee_record(&mut tx, actor, a.household_id, &a.region_code, input)
            .await?;
        let record = PayeeRecord {
            award_id: Some(award_id),
            ..record
        };
        self.save_payee(tx, actor, &record, before, "award", award_id)
            .await
    }

    /// The payee as entered, checked: the account is digits, the person a member of the
    /// household, or for a guardian a person of the registry.
    async fn payee_record(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        household_id: i64,
        region_code: &str,
        input: &PayeeInput,
    ) -> Result<PayeeRecord> {
        let account: String = input
            .account
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if !(12..=30).contains(&account.len()) || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ServiceError::invalid("account", "账号应为12至30位数字"));
        }
        let holder = crate::cases::text("holder_name", &input.holder_name, "户名")?;
        let bank = crate::cases::text("bank", &input.bank, "开户银行")?;
        let household = tx
            .get_household(household_id, "")
            .await?
            .ok_or(ServiceError::NotFound)?;
        let member = household
            .current_members()
            .any(|m| m.person_id == input.person_id);
        let role = if input.guardian {
            if tx.person_brief(input.person_id).await?.is_none() {
                return Err(ServiceError::invalid(
                    "person_id",
                    "监护人应先登记在人员信息中",
                ));
            }
            "guardian"
        } else if !member {
            return Err(ServiceError::invalid(
                "person_id",
                "收款人应为本户现有成员；监护人代领的，请勾选“监护人”",
            ));
        } else if household.head_person_id == input.person_id {
            "head"
        } else {
            "member"
        };
        Ok(PayeeRecord {
            id: 0,
            enrolment_id: None,
            award_id: None,
            household_id,
            region_code: region_code.to_string(),
            person_id: input.person_id,
            holder_name: holder,
            bank,
            account_cipher: self.store.cipher().encrypt(ACCOUNT_CONTEXT, &account),
            account_masked: mask_account(&account),
            role: role.into(),
            updated_by: actor.username.clone(),
            updated_at: self.now(),
        })
    }

    async fn save_payee(
        &self,
        mut tx: Tx,
        actor: &Actor,
        record: &PayeeRecord,
        before: Option<PayeeRecord>,
        kind: &str,
        id: i64,
    ) -> Result<PayeeView> {
        tx.set_payee(record).await?;
        tx.append_audit(&actor.audit(
            "payee.set",
            kind,
            id,
            Some(&record.region_code),
            json!({"before": before.as_ref().map(|b| &b.account_masked),
                   "after": record.account_masked, "holder": record.holder_name,
                   "role": record.role, "person": record.person_id}),
        ))
        .await?;
        tx.commit().await?;
        Ok(PayeeView::from(record))
    }

    /// Who an enrolment is paid to, if anyone yet.
    pub async fn payee(&self, actor: &Actor, enrolment_id: i64) -> Result<Option<PayeeView>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        tx.enrolment(enrolment_id)
            .await?
            .filter(|e| e.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        Ok(tx
            .payee_of_enrolment(enrolment_id)
            .await?
            .as_ref()
            .map(PayeeView::from))
    }

    /// Makes (or makes again) the draft roll of a month: every enrolment paid that month with
    /// its amount (gradual-exit months included, suspended ones not), the stages of one-off
    /// awards due, and every failed payment whose account was corrected since; less what is
    /// withheld towards receivables. What approved rolls already pay is left out (a later roll
    /// is a supplement); those due without an account are listed. One transaction.
    pub async fn generate(&self, actor: &Actor, input: &RollInput) -> Result<RollView> {
        let id = self.generate_draft(actor, input).await?;
        self.roll(actor, id, 1).await
    }

    /// [`generate`](Self::generate) without reading the roll back: its id.
    pub async fn generate_draft(&self, actor: &Actor, input: &RollInput) -> Result<i64> {
        actor.require(Permission::ManageRecipients)?;
        let month = parse_month("month", &input.month)?;
        let scope = crate::Services::scope_within(actor, input.region.as_deref())?;
        let program = input.program.clone().filter(|p| !p.is_empty());
        let started = std::time::Instant::now();
        let mut tx = self.store.begin().await?;
        if let Some(p) = &program {
            let catalogue = self.catalogue_now(&mut tx).await?;
            if catalogue.item(p).is_none() {
                return Err(ServiceError::invalid("program", "没有这一救助事项"));
            }
        }
        let locked: HashSet<(Option<i64>, Option<i64>)> = tx
            .locked_in_month(&scope, month)
            .await?
            .into_iter()
            .collect();
        let mut dues: Vec<Due> = enrolment_dues(&mut tx, &scope, program.as_deref(), month)
            .await?
            .into_iter()
            .filter(|(e, _)| !locked.contains(&(Some(*e), None)))
            .map(|(e, (amount, persons))| Due {
                enrolment_id: Some(e),
                award_id: None,
                month,
                amount_fen: amount,
                deduction_fen: 0,
                receivable_id: None,
                reissue_of: None,
                persons,
            })
            .collect();
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "roll generate: enrolments due"
        );
        dues.sort_by_key(|d| d.enrolment_id);
        self.withhold(&mut tx, &scope, month, &mut dues).await?;
        // One-off awards: every stage due by this month that no approved roll pays.
        let stages_paid: HashSet<(i64, NaiveDate)> =
            tx.locked_award_stages(&scope).await?.into_iter().collect();
        let awards = tx.awards_in(&scope, program.as_deref()).await?;
        let mut sizes: HashMap<i64, i64> = HashMap::new();
        for (household, _) in tx
            .current_members_of(&awards.iter().map(|a| a.household_id).collect::<Vec<_>>())
            .await?
        {
            *sizes.entry(household).or_default() += 1;
        }
        for a in &awards {
            let stages: Vec<i64> = serde_json::from_str(&a.stages).unwrap_or_default();
            for (k, fen) in stages.iter().enumerate() {
                let due = stage_month(a.granted_at, k);
                if due > month || *fen <= 0 || stages_paid.contains(&(a.id, due)) {
                    continue;
                }
                dues.push(Due {
                    enrolment_id: None,
                    award_id: Some(a.id),
                    month: due,
                    amount_fen: *fen,
                    deduction_fen: 0,
                    receivable_id: None,
                    reissue_of: None,
                    persons: sizes.get(&a.household_id).copied().unwrap_or(1),
                });
            }
        }
        // Failed payments whose account was corrected after the failure are paid again, for
        // their own month.
        let rolls: HashMap<i64, RollRecord> = tx
            .rolls_in(&scope)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        for f in tx.failed_lines_in(&scope).await? {
            if program.as_deref().is_some_and(|p| p != f.program) {
                continue;
            }
            let payee = match (f.enrolment_id, f.award_id) {
                (Some(e), _) => tx.payee_of_enrolment(e).await?,
                (None, Some(a)) => tx.payee_of_award(a).await?,
                _ => None,
            };
            let failed_at = rolls
                .get(&f.roll_id)
                .and_then(|r| r.sent_at.or(r.approved_at));
            if payee
                .as_ref()
                .zip(failed_at)
                .is_none_or(|(p, t)| p.updated_at <= t)
            {
                continue;
            }
            dues.push(Due {
                enrolment_id: f.enrolment_id,
                award_id: f.award_id,
                month: f.month,
                amount_fen: f.amount_fen,
                deduction_fen: 0,
                receivable_id: None,
                reissue_of: Some(f.id),
                persons: f.persons,
            });
        }
        let existing = tx.rolls_in(&scope).await?.into_iter().find(|r| {
            r.month == month
                && r.program == program
                && r.region_code == scope
                && r.stage == RollStage::Draft.code()
        });
        let id = match existing {
            Some(r) => r.id,
            None => {
                tx.insert_roll(&RollRecord {
                    id: 0,
                    month,
                    program: program.clone(),
                    region_code: scope.clone(),
                    stage: RollStage::Draft.code().into(),
                    lines: 0,
                    total_fen: 0,
                    digest: String::new(),
                    created_by: actor.username.clone(),
                    created_at: self.now(),
                    checked_by: None,
                    checked_at: None,
                    approved_by: None,
                    approved_at: None,
                    sent_at: None,
                    closed_at: None,
                })
                .await?
            }
        };
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "roll generate: awards, re-issues, deductions"
        );
        let (lines, total) = tx.replace_draft(id, &dues).await?;
        drop(dues);
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "roll generate: lines written"
        );
        let digest = digest_lines(&mut tx, id, month, |_, _, _| ()).await?;
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "roll generate: digest"
        );
        tx.set_draft_summary(id, lines, total, &digest).await?;
        tx.append_audit(&actor.audit(
            "roll.generate",
            "roll",
            id,
            Some(&scope),
            json!({"month": input.month, "program": program, "lines": lines, "total_fen": total, "digest": digest}),
        ))
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Withholds from this month's payments what receivables set to be deducted still want:
    /// the month's deduction, never more than is outstanding nor more than the parameter's
    /// share of the payment.
    async fn withhold(
        &self,
        tx: &mut Tx,
        scope: &str,
        month: NaiveDate,
        dues: &mut [Due],
    ) -> Result<()> {
        let plans = tx.deductions_in(scope).await?;
        for (receivable_id, per_month) in plans.into_iter().filter(|(_, n)| *n > 0) {
            let Some(r) = tx.receivable(receivable_id).await? else {
                continue;
            };
            let outstanding = r.amount_fen - r.recovered_fen;
            if outstanding <= 0 {
                continue;
            }
            let enrolments: Vec<i64> = match r.enrolment_id {
                Some(e) => vec![e],
                None => tx
                    .enrolments_of_household(r.household_id)
                    .await?
                    .iter()
                    .map(|e| e.id)
                    .collect(),
            };
            let share = self.count_param(&r.region_code, "payment.deduction_max_percent", month)?;
            let Some(due) = dues.iter_mut().find(|d| {
                d.receivable_id.is_none() && d.enrolment_id.is_some_and(|e| enrolments.contains(&e))
            }) else {
                continue;
            };
            let cap = due.amount_fen * share / 100;
            let take = per_month.min(outstanding).min(cap);
            if take > 0 {
                due.amount_fen -= take;
                due.deduction_fen = take;
                due.receivable_id = Some(receivable_id);
            }
        }
        Ok(())
    }

    /// A roll with one page of its lines.
    pub async fn roll(&self, actor: &Actor, id: i64, page: i64) -> Result<RollView> {
        self.roll_lines(actor, id, page, None).await
    }

    /// A roll with one page of its lines of one status (pending, paid, failed) or all: what
    /// stands between a roll and its reconciliation.
    pub async fn roll_lines(
        &self,
        actor: &Actor,
        id: i64,
        page: i64,
        status: Option<&str>,
    ) -> Result<RollView> {
        actor.require(Permission::ReadPeople)?;
        let status = status.filter(|s| !s.is_empty());
        if status.is_some_and(|s| !["pending", "paid", "failed"].contains(&s)) {
            return Err(ServiceError::invalid(
                "status",
                "状态应为待发放、已发放或发放失败",
            ));
        }
        let mut tx = self.store.begin_read().await?;
        let r = tx
            .roll(id)
            .await?
            .filter(|r| r.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        let mut view = self.summary(&mut tx, &r).await?;
        let count = match status {
            Some("pending") => view.pending,
            Some("paid") => view.paid,
            Some("failed") => view.failed,
            _ => r.lines,
        };
        let pages = ((count + LINES_PER_PAGE - 1) / LINES_PER_PAGE).max(1);
        let page = page.clamp(1, pages);
        let items = match status {
            None => {
                tx.roll_lines_after(id, (page - 1) * LINES_PER_PAGE, LINES_PER_PAGE)
                    .await?
            }
            Some(s) => {
                tx.roll_lines_of_status(id, s, (page - 1) * LINES_PER_PAGE, LINES_PER_PAGE)
                    .await?
            }
        };
        view.status = status.map(str::to_string);
        view.returns = Vec::new();
        let returns = tx.bank_returns(id).await?;
        let names = crate::recipients::display_names(
            &mut tx,
            returns.iter().map(|b| b.imported_by.as_str()).collect(),
        )
        .await?;
        for b in returns {
            view.returns.push(ReturnView {
                imported_by: names.get(&b.imported_by).cloned().unwrap_or(b.imported_by),
                file_name: b.file_name,
                paid: b.paid,
                failed: b.failed,
                errors: serde_json::from_str(&b.errors).unwrap_or_default(),
                imported_at: b.imported_at,
            });
        }
        view.items = items.iter().map(LineView::from).collect();
        view.page = page;
        view.pages = pages;
        if r.stage == RollStage::Draft.code() {
            let (missing, count) = tx.dues_without_account(id, 200).await?;
            view.missing_accounts = missing
                .into_iter()
                .map(
                    |(enrolment_id, award_id, household_id, name)| MissingAccount {
                        enrolment_id,
                        award_id,
                        household_id,
                        name,
                    },
                )
                .collect();
            view.missing_count = count;
        }
        Ok(view)
    }

    /// A roll's figures, without its lines.
    async fn summary(&self, tx: &mut Tx, r: &RollRecord) -> Result<RollView> {
        let tally = tx.roll_line_counts(r.id).await?;
        let mut users: Vec<&str> = vec![r.created_by.as_str()];
        users.extend(r.checked_by.as_deref());
        users.extend(r.approved_by.as_deref());
        let names = crate::recipients::display_names(tx, users).await?;
        let shown = |u: &str| names.get(u).cloned().unwrap_or_else(|| u.to_string());
        let stage = RollStage::from_code(&r.stage).unwrap_or(RollStage::Draft);
        let program_name = match &r.program {
            Some(p) => self
                .catalogue_now(tx)
                .await?
                .item(p)
                .map_or_else(|| p.clone(), |i| i.name.clone()),
            None => "全部按月发放项目".to_string(),
        };
        let region_name = match self.region_name(tx, &r.region_code).await? {
            n if n.is_empty() => tx
                .get_region(&r.region_code)
                .await?
                .map_or_else(|| r.region_code.clone(), |g| g.name),
            n => n,
        };
        Ok(RollView {
            id: r.id,
            month: r.month.format("%Y-%m").to_string(),
            program: r.program.clone(),
            program_name,
            region_code: r.region_code.clone(),
            region_name,
            stage: stage.code().into(),
            stage_label: stage.label().into(),
            lines: r.lines,
            total_fen: r.total_fen,
            digest: r.digest.clone(),
            created_by: shown(&r.created_by),
            checked_by: r.checked_by.as_deref().map(shown),
            approved_by: r.approved_by.as_deref().map(shown),
            paid: tally.paid,
            failed: tally.failed,
            pending: tally.pending,
            paid_fen: tally.paid_fen,
            failed_fen: tally.failed_fen,
            items: Vec::new(),
            status: None,
            page: 1,
            pages: 1,
            missing_accounts: Vec::new(),
            missing_count: 0,
            returns: Vec::new(),
        })
    }

    /// The rolls of one's region, newest first, without their lines.
    pub async fn rolls(&self, actor: &Actor) -> Result<Vec<RollView>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        let mut out = Vec::new();
        for r in tx.rolls_in(actor.scope()).await? {
            out.push(self.summary(&mut tx, &r).await?);
        }
        Ok(out)
    }

    /// 审核 of a draft, then 审批 by someone else; approval locks the lines, refusing any that
    /// another approved roll already pays for the same month, and records what was withheld
    /// as recovered.
    pub async fn advance(&self, actor: &Actor, id: i64, step: &str) -> Result<RollView> {
        self.advance_only(actor, id, step).await?;
        self.roll(actor, id, 1).await
    }

    /// [`advance`](Self::advance) without reading the roll back.
    pub async fn advance_only(&self, actor: &Actor, id: i64, step: &str) -> Result<()> {
        actor.require(Permission::ApproveAssistance)?;
        let mut tx = self.store.begin().await?;
        let r = tx
            .roll(id)
            .await?
            .filter(|r| r.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        let now = self.now();
        match step {
            "check" => {
                if r.lines == 0 {
                    return Err(ServiceError::invalid("lines", "花名册没有发放明细"));
                }
                if !tx
                    .advance_roll(id, "draft", "checked", &actor.username, now)
                    .await?
                {
                    return Err(stage_conflict(&r.stage));
                }
            }
            "approve" => {
                if r.checked_by.as_deref() == Some(actor.username.as_str()) {
                    return Err(ServiceError::invalid(
                        "approved_by",
                        "审核人不能审批自己审核的花名册：须由另一人审批",
                    ));
                }
                if r.stage != RollStage::Checked.code() {
                    return Err(stage_conflict(&r.stage));
                }
                let started = std::time::Instant::now();
                self.check_still_due(&mut tx, &r).await?;
                tracing::debug!(
                    ms = started.elapsed().as_millis() as u64,
                    "roll approve: still due"
                );
                let twice: Vec<String> = tx
                    .lines_paid_elsewhere(id)
                    .await?
                    .iter()
                    .map(|(seq, name, m)| format!("第{seq}行（{name}，{}）", m.format("%Y-%m")))
                    .collect();
                if !twice.is_empty() {
                    return Err(ServiceError::Conflict {
                        field: Some("lines".into()),
                        message: format!(
                            "以下明细的同一项目同一月份已在其他花名册发放，不能重复发放：{}",
                            twice.join("、")
                        ),
                    });
                }
                if !tx
                    .advance_roll(id, "checked", "approved", &actor.username, now)
                    .await?
                {
                    return Err(stage_conflict(&r.stage));
                }
                tracing::debug!(
                    ms = started.elapsed().as_millis() as u64,
                    "roll approve: paid elsewhere"
                );
                tx.lock_lines(id).await?;
                tracing::debug!(
                    ms = started.elapsed().as_millis() as u64,
                    "roll approve: locked"
                );
                self.record_withheld(&mut tx, actor, &r).await?;
                tracing::debug!(
                    ms = started.elapsed().as_millis() as u64,
                    "roll approve: withheld"
                );
            }
            _ => return Err(ServiceError::invalid("step", "应为 check 或 approve")),
        }
        tx.append_audit(&actor.audit(
            &format!("roll.{step}"),
            "roll",
            id,
            Some(&r.region_code),
            json!({"digest": r.digest, "total_fen": r.total_fen}),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Refuses to approve a checked roll whose lines changed since the check, or that the
    /// register no longer bears out (a death, exit or adjustment recorded since the draft), or
    /// that withholds more than is still owed.
    async fn check_still_due(&self, tx: &mut Tx, r: &RollRecord) -> Result<()> {
        let started = std::time::Instant::now();
        let dues = enrolment_dues(tx, &r.region_code, r.program.as_deref(), r.month).await?;
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "roll approve: dues"
        );
        let outstanding: HashMap<i64, i64> = tx
            .receivables_in(&r.region_code)
            .await?
            .into_iter()
            .map(|x| (x.id, x.amount_fen - x.recovered_fen))
            .collect();
        let mut stale = Vec::new();
        let digest = digest_lines(tx, r.id, r.month, |seq, enrolment, gross| {
            if let Some(e) = enrolment {
                if dues.get(&e).map_or(0, |(a, _)| *a) != gross && stale.len() < 50 {
                    stale.push(seq);
                }
            }
        })
        .await?;
        if digest != r.digest {
            return Err(ServiceError::Conflict {
                field: Some("digest".into()),
                message: "花名册明细与审核时不一致，请重新生成并审核".into(),
            });
        }
        // Withholding more than is still owed (recovered otherwise since the draft).
        for (seq, receivable, withheld, ..) in tx.withholding_lines(r.id).await? {
            if outstanding.get(&receivable).copied().unwrap_or(0) < withheld && stale.len() < 50 {
                stale.push(seq);
            }
        }
        stale.sort_unstable();
        stale.dedup();
        let mut named = Vec::new();
        for seq in &stale {
            if let Some(l) = tx.roll_lines_after(r.id, seq - 1, 1).await?.first() {
                named.push(format!("第{}行（{}）", l.seq, l.holder_name));
            }
        }
        let stale = named;
        if !stale.is_empty() {
            return Err(ServiceError::Conflict {
                field: Some("lines".into()),
                message: format!(
                    "以下明细与救助对象名册已不一致（如已死亡、退出或调整），请重新生成草稿并审核：{}",
                    stale.join("、")
                ),
            });
        }
        Ok(())
    }

    /// What an approved roll withholds is recovered: one recovery per line, named by month.
    async fn record_withheld(&self, tx: &mut Tx, actor: &Actor, r: &RollRecord) -> Result<()> {
        let withheld = tx.withholding_lines(r.id).await?;
        for (_, receivable, fen, month, region) in withheld {
            tx.insert_recovery(
                receivable,
                &region,
                fen,
                "deduction",
                &format!("{}发放中扣减", month.format("%Y年%-m月")),
                &actor.username,
            )
            .await?;
        }
        Ok(())
    }

    /// The bank's batch file of an approved roll in a shipped layout; the roll is then sent.
    pub async fn bank_file_as(
        &self,
        actor: &Actor,
        id: i64,
        unit_code: &str,
        layout: BankLayout,
    ) -> Result<Vec<u8>> {
        let template = match layout {
            BankLayout::Pipe => BankTemplate::pipe(),
            BankLayout::Csv => BankTemplate::csv(),
        };
        self.bank_file_with(actor, id, unit_code, &template).await
    }

    /// The bank's batch file of an approved roll in the pipe layout.
    pub async fn bank_file(&self, actor: &Actor, id: i64, unit_code: &str) -> Result<Vec<u8>> {
        self.bank_file_as(actor, id, unit_code, BankLayout::Pipe)
            .await
    }

    /// The bank's batch file in a bank's layout; its count and total are checked against the
    /// roll's before it is handed out, and the roll is then sent.
    pub async fn bank_file_with(
        &self,
        actor: &Actor,
        id: i64,
        unit_code: &str,
        template: &BankTemplate,
    ) -> Result<Vec<u8>> {
        actor.require(Permission::ApproveAssistance)?;
        let mut tx = self.store.begin().await?;
        let r = tx
            .roll(id)
            .await?
            .filter(|r| r.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        if !matches!(r.stage.as_str(), "approved" | "sent") {
            return Err(ServiceError::invalid(
                "stage",
                "花名册审批后才能生成银行代发文件",
            ));
        }
        let catalogue = self.catalogue_now(&mut tx).await?;
        let header = BatchHeader {
            date: self.today(),
            unit_code: unit_code.to_string(),
            count: r.lines as usize,
            total_fen: r.total_fen,
        };
        let encode = |text: &str, out: &mut Vec<u8>| -> Result<()> {
            match template.encoding {
                FileEncoding::Utf8 => out.extend_from_slice(text.as_bytes()),
                FileEncoding::Gbk => {
                    let (gbk, _, lossy) = encoding_rs::GBK.encode(text);
                    if lossy {
                        return Err(ServiceError::invalid(
                            "lines",
                            format!("“{}”有字无法用GBK编码", text.trim()),
                        ));
                    }
                    out.extend_from_slice(&gbk);
                }
            }
            Ok(())
        };
        let started = std::time::Instant::now();
        let (mut reading, mut decrypting) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
        let mut out = Vec::with_capacity(r.lines as usize * 96);
        encode(&template.start(&header), &mut out)?;
        let (mut count, mut total) = (0usize, 0i64);
        let mut after = 0;
        loop {
            let t = std::time::Instant::now();
            let page = tx.bank_lines(id, after, PAGE).await?;
            reading += t.elapsed();
            let t = std::time::Instant::now();
            let mut text = String::with_capacity(page.len() * 96);
            for (seq, holder, account, amount_fen, month, program, id_number) in &page {
                let cipher = self.store.cipher();
                let line = BankLine {
                    seq: *seq as usize,
                    name: holder.clone(),
                    account: cipher.decrypt(ACCOUNT_CONTEXT, account)?,
                    amount_fen: *amount_fen,
                    id_number: cipher
                        .decrypt(jiuzhu_store::crypto_contexts::ID_NUMBER, id_number)?,
                    memo: format!(
                        "{}{}",
                        month.format("%Y年%-m月"),
                        catalogue
                            .item(program)
                            .map_or(program.as_str(), |i| i.name.as_str())
                    ),
                };
                text.push_str(&template.line(&line));
                count += 1;
                total += amount_fen;
            }
            decrypting += t.elapsed();
            encode(&text, &mut out)?;
            match page.last() {
                Some((seq, ..)) if page.len() as i64 == PAGE => after = *seq,
                _ => break,
            }
        }
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            reading_ms = reading.as_millis() as u64,
            writing_ms = decrypting.as_millis() as u64,
            "bank file: lines"
        );
        let end = template
            .finish(&header, count, total)
            .map_err(|e| ServiceError::invalid("lines", e.to_string()))?;
        encode(&end, &mut out)?;
        if r.stage == "approved" {
            tx.advance_roll(id, "approved", "sent", &actor.username, self.now())
                .await?;
        }
        tx.append_audit(&actor.audit(
            "roll.bank_file",
            "roll",
            id,
            Some(&r.region_code),
            json!({"lines": r.lines, "total_fen": r.total_fen, "bytes": out.len()}),
        ))
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The bank's return file (回盘): each line paid or failed with the bank's reason. Lines the
    /// roll does not know, whose amount or account differs, or paid twice are kept as errors and
    /// not applied; the same file twice changes nothing. When every line has its answer and the
    /// totals agree, the roll closes. One transaction: a process killed halfway leaves nothing.
    pub async fn import_return(
        &self,
        actor: &Actor,
        id: i64,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<ReturnReport> {
        actor.require(Permission::ApproveAssistance)?;
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => {
                let (t, _, bad) = encoding_rs::GBK.decode(bytes);
                if bad {
                    return Err(ServiceError::invalid(
                        "file",
                        "文件既不是UTF-8也不是GBK编码",
                    ));
                }
                t
            }
        };
        let started = std::time::Instant::now();
        let (header, returned) =
            parse_return(&text).map_err(|e| ServiceError::invalid("file", e.to_string()))?;
        drop(text);
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "return: parsed");
        let sha = format!("{:x}", Sha256::digest(bytes));
        let mut tx = self.store.begin().await?;
        let r = tx
            .roll(id)
            .await?
            .filter(|r| r.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        let seen = ReturnReport {
            already_imported: true,
            paid: 0,
            failed: 0,
            errors: Vec::new(),
            closed: r.stage == "closed",
            mismatch: None,
        };
        if tx.bank_return_seen(id, &sha).await? {
            return Ok(seen);
        }
        if r.stage != "sent" {
            return Err(ServiceError::invalid(
                "stage",
                "花名册送银行后才能导入回盘文件",
            ));
        }
        if header.count as i64 > r.lines {
            return Err(ServiceError::invalid(
                "file",
                format!(
                    "回盘文件汇总{}笔，本花名册只有{}笔：是否为另一花名册的回盘？",
                    header.count, r.lines
                ),
            ));
        }
        // seq → (line, amount, last four of the account, status)
        let mut known: HashMap<i64, (i64, i64, String, String)> =
            HashMap::with_capacity(r.lines as usize);
        let mut after = 0;
        loop {
            let page = tx.return_keys(id, after, PAGE).await?;
            for (seq, line, amount, masked, status) in &page {
                let last4: String = masked.chars().rev().take(4).collect();
                known.insert(*seq, (*line, *amount, last4, status.clone()));
            }
            match page.last() {
                Some((seq, ..)) if page.len() as i64 == PAGE => after = *seq,
                _ => break,
            }
        }
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "return: roll read"
        );
        // A line whose amount or account differs from the roll's refuses the whole file: the
        // bank paid something else than was sent, or the file answers another roll. Lines the
        // roll does not know and second answers are kept as errors; the rest is applied.
        let (mut paid, mut failures, mut errors) = (Vec::new(), Vec::new(), Vec::new());
        let mut refused = Vec::new();
        let mut answered = HashSet::with_capacity(returned.len());
        let mut answered_pending = 0i64;
        let pending_before = tx.roll_line_counts(id).await?.pending;
        for (i, ret) in returned.iter().enumerate() {
            let row = i + 2;
            let Some((line, amount, last4, status)) = known.get(&(ret.seq as i64)) else {
                errors.push(format!("第{row}行：花名册没有序号{}", ret.seq));
                continue;
            };
            if *amount != ret.amount_fen {
                refused.push(format!(
                    "第{row}行（序号{}）金额：{}元与花名册的{}元不符",
                    ret.seq,
                    Money::from_fen(ret.amount_fen),
                    Money::from_fen(*amount)
                ));
                continue;
            }
            if ret.account.chars().rev().take(4).collect::<String>() != *last4 {
                refused.push(format!(
                    "第{row}行（序号{}）账号：与花名册该笔的账号不符",
                    ret.seq
                ));
                continue;
            }
            if !answered.insert(*line) || (status == "paid" && ret.paid) {
                errors.push(format!(
                    "第{row}行：序号{}已有回盘结果，不重复记账",
                    ret.seq
                ));
                continue;
            }
            if status == "pending" {
                answered_pending += 1;
            }
            if ret.paid {
                paid.push(*line);
            } else {
                failures.push((*line, ret.reason.clone()));
            }
        }
        if !refused.is_empty() {
            let unmatched = refused.len() + errors.len();
            let mut message = if unmatched * 2 > returned.len() {
                format!(
                    "回盘文件{}行中{unmatched}行与本花名册不符，是否为另一花名册的回盘？",
                    returned.len()
                )
            } else {
                "回盘文件与花名册不符，整个文件未入账".to_string()
            };
            for r in refused.iter().take(20) {
                message.push('；');
                message.push_str(r);
            }
            if refused.len() > 20 {
                message.push_str(&format!("；另有{}行", refused.len() - 20));
            }
            return Err(ServiceError::invalid("file", message));
        }
        if !tx
            .insert_bank_return(
                id,
                &sha,
                file_name,
                paid.len() as i64,
                failures.len() as i64,
                &serde_json::to_string(&errors).expect("strings"),
                &actor.username,
            )
            .await?
        {
            return Ok(seen);
        }
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "return: matched");
        for (line, reason) in &failures {
            tx.mark_line(*line, "failed", reason).await?;
        }
        // A return that answers every line still waiting pays them in one statement.
        if answered_pending == pending_before {
            tx.mark_pending_paid(id).await?;
        } else {
            tx.mark_paid(&paid).await?;
        }
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "return: marked");
        // Reconciled: every line answered, no line in error, and roll total = file total =
        // paid + failed.
        let tally = tx.roll_line_counts(id).await?;
        let mismatch = if tally.pending > 0 {
            Some(format!("还有{}笔没有回盘结果", tally.pending))
        } else if !errors.is_empty() {
            Some(format!("{}行回盘有误，见上", errors.len()))
        } else if tally.paid_fen + tally.failed_fen != r.total_fen {
            Some(format!(
                "回盘成功{}元加失败{}元与花名册{}元不符",
                Money::from_fen(tally.paid_fen),
                Money::from_fen(tally.failed_fen),
                Money::from_fen(r.total_fen)
            ))
        } else {
            None
        };
        let closed = mismatch.is_none();
        if closed {
            tx.advance_roll(id, "sent", "closed", &actor.username, self.now())
                .await?;
        }
        tx.append_audit(&actor.audit(
            "roll.return",
            "roll",
            id,
            Some(&r.region_code),
            json!({"file": file_name, "sha256": sha, "paid": paid.len(), "failed": failures.len(), "errors": errors.len(), "closed": closed}),
        ))
        .await?;
        tx.commit().await?;
        Ok(ReturnReport {
            already_imported: false,
            paid: paid.len(),
            failed: failures.len(),
            errors,
            closed,
            mismatch,
        })
    }
}

/// Money to be recovered, as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceivableView {
    pub id: i64,
    pub household_id: i64,
    pub enrolment_id: Option<i64>,
    pub month: Option<String>,
    pub amount_fen: i64,
    pub recovered_fen: i64,
    pub outstanding_fen: i64,
    pub cause: String,
    pub cleared: bool,
    pub created_at: DateTime<Utc>,
    /// Withheld from each later payment (0: not deducted).
    pub deduct_per_month_fen: i64,
}

impl From<&jiuzhu_store::ReceivableRecord> for ReceivableView {
    fn from(r: &jiuzhu_store::ReceivableRecord) -> Self {
        ReceivableView {
            id: r.id,
            household_id: r.household_id,
            enrolment_id: r.enrolment_id,
            month: r.month.map(|m| m.format("%Y-%m").to_string()),
            amount_fen: r.amount_fen,
            recovered_fen: r.recovered_fen,
            outstanding_fen: r.amount_fen - r.recovered_fen,
            cause: r.cause.clone(),
            cleared: r.recovered_fen >= r.amount_fen,
            created_at: r.created_at,
            deduct_per_month_fen: 0,
        }
    }
}

/// Money obtained wrongly, found by a review, a complaint or an inspection.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReceivableInput {
    pub household_id: i64,
    pub amount_fen: i64,
    /// The cause, e.g. 隐瞒家庭成员工资收入骗取低保金（2026年第3次复核发现）.
    pub cause: String,
}

/// Money recovered.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RecoveryInput {
    pub amount_fen: i64,
    /// bank_clawback (银行退回), refund (本人退回), deduction (从后续发放中扣减)
    pub method: String,
    pub note: String,
}

fn method_label(code: &str) -> Option<&'static str> {
    match code {
        "bank_clawback" => Some("银行退回"),
        "refund" => Some("本人退回"),
        "deduction" => Some("从后续发放中扣减"),
        _ => None,
    }
}

impl Payments<'_> {
    pub async fn receivables(&self, actor: &Actor) -> Result<Vec<ReceivableView>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        let plans: HashMap<i64, i64> = tx.deductions_in(actor.scope()).await?.into_iter().collect();
        Ok(tx
            .receivables_in(actor.scope())
            .await?
            .iter()
            .map(|r| ReceivableView {
                deduct_per_month_fen: plans.get(&r.id).copied().unwrap_or(0),
                ..ReceivableView::from(r)
            })
            .collect())
    }

    pub async fn receivables_of_household(
        &self,
        actor: &Actor,
        household_id: i64,
    ) -> Result<Vec<ReceivableView>> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        tx.get_household(household_id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let plans: HashMap<i64, i64> = tx.deductions_in(actor.scope()).await?.into_iter().collect();
        Ok(tx
            .receivables_of_household(household_id)
            .await?
            .iter()
            .map(|r| ReceivableView {
                deduct_per_month_fen: plans.get(&r.id).copied().unwrap_or(0),
                ..ReceivableView::from(r)
            })
            .collect())
    }

    /// Records money obtained wrongly (骗取 and the like) as a receivable with its cause.
    pub async fn add_receivable(
        &self,
        actor: &Actor,
        input: &ReceivableInput,
    ) -> Result<ReceivableView> {
        actor.require(Permission::ApproveAssistance)?;
        if !(1..=crate::cases::MAX_GRANT.fen()).contains(&input.amount_fen) {
            return Err(ServiceError::invalid(
                "amount_fen",
                "应追回金额应大于零且不超过100万元",
            ));
        }
        let cause = crate::cases::text("cause", &input.cause, "追回原因")?;
        let mut tx = self.store.begin().await?;
        let h = tx
            .get_household(input.household_id, actor.scope())
            .await?
            .ok_or(ServiceError::NotFound)?;
        let id = tx
            .insert_receivable(
                h.id,
                None,
                None,
                &h.region_code,
                None,
                input.amount_fen,
                &cause,
                &actor.username,
            )
            .await?
            .expect("no line to collide on");
        tx.append_audit(&actor.audit(
            "receivable.create",
            "household",
            h.id,
            Some(&h.region_code),
            json!({"receivable": id, "amount_fen": input.amount_fen, "cause": cause}),
        ))
        .await?;
        let r = tx.receivable(id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        Ok(ReceivableView::from(&r))
    }

    /// Records a recovery; more than is outstanding is refused.
    pub async fn recover(
        &self,
        actor: &Actor,
        id: i64,
        input: &RecoveryInput,
    ) -> Result<ReceivableView> {
        actor.require(Permission::ManageRecipients)?;
        let method = method_label(&input.method).ok_or_else(|| {
            ServiceError::invalid("method", "追回方式应为银行退回、本人退回或从后续发放中扣减")
        })?;
        let mut tx = self.store.begin().await?;
        let r = tx
            .receivable(id)
            .await?
            .filter(|r| r.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        let outstanding = r.amount_fen - r.recovered_fen;
        if input.amount_fen <= 0 || input.amount_fen > outstanding {
            return Err(ServiceError::invalid(
                "amount_fen",
                format!(
                    "追回金额应大于零且不超过未追回的{}元",
                    jiuzhu_domain::Money::from_fen(outstanding)
                ),
            ));
        }
        tx.insert_recovery(
            id,
            &r.region_code,
            input.amount_fen,
            &input.method,
            input.note.trim(),
            &actor.username,
        )
        .await?;
        tx.append_audit(&actor.audit(
            "receivable.recover",
            "household",
            r.household_id,
            Some(&r.region_code),
            json!({"receivable": id, "amount_fen": input.amount_fen, "method": method}),
        ))
        .await?;
        let r = tx.receivable(id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        Ok(ReceivableView::from(&r))
    }
}

/// How much of each later payment is withheld towards a receivable.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DeductionInput {
    /// Per month, in fen; 0 stops withholding.
    pub per_month_fen: i64,
}

impl Payments<'_> {
    /// Sets the monthly amount withheld from the household's later payments until the
    /// receivable is cleared (从后续发放中扣减). Each roll withholds at most the parameter
    /// `payment.deduction_max_percent` of a payment, so that the household keeps its living.
    pub async fn set_deduction(
        &self,
        actor: &Actor,
        id: i64,
        input: &DeductionInput,
    ) -> Result<ReceivableView> {
        actor.require(Permission::ApproveAssistance)?;
        let mut tx = self.store.begin().await?;
        let r = tx
            .receivable(id)
            .await?
            .filter(|r| r.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        let outstanding = r.amount_fen - r.recovered_fen;
        if input.per_month_fen < 0 || input.per_month_fen > outstanding {
            return Err(ServiceError::invalid(
                "per_month_fen",
                format!(
                    "每月扣减应在0至未追回的{}元之间",
                    Money::from_fen(outstanding)
                ),
            ));
        }
        tx.insert_deduction(
            id,
            &r.region_code,
            input.per_month_fen,
            &actor.username,
            self.now(),
        )
        .await?;
        tx.append_audit(&actor.audit(
            "receivable.deduction",
            "household",
            r.household_id,
            Some(&r.region_code),
            json!({"receivable": id, "per_month_fen": input.per_month_fen}),
        ))
        .await?;
        let mut view = ReceivableView::from(&r);
        view.deduct_per_month_fen = input.per_month_fen;
        tx.commit().await?;
        Ok(view)
    }
}

fn stage_conflict(stage: &str) -> ServiceError {
    ServiceError::Conflict {
        field: Some("stage".into()),
        message: format!(
            "花名册当前为“{}”，不能办理这一步（可能是重复提交）",
            RollStage::from_code(stage).map_or(stage, |s| s.label())
        ),
    }
}

/// One township's and program's figures for a month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportRow {
    pub township: String,
    pub program_name: String,
    pub households: i64,
    /// Members covered by the month's first payments (re-issues not counted again).
    pub persons: i64,
    /// Paid, pending and failed lines of the month's approved rolls.
    pub amount_fen: i64,
    pub paid_fen: i64,
    pub failed_fen: i64,
    /// Failed payments of earlier months paid again on this month's rolls.
    pub reissued_fen: i64,
    /// Withheld from the payments towards money to be recovered.
    pub deducted_fen: i64,
}

/// A month's payments per township and program; its total is the month's rolls' total.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaymentReport {
    pub month: String,
    pub rows: Vec<ReportRow>,
    pub households: i64,
    pub persons: i64,
    pub amount_fen: i64,
    pub paid_fen: i64,
    pub failed_fen: i64,
    pub reissued_fen: i64,
    pub deducted_fen: i64,
    /// Recovered during the month, in the whole region (withheld on rolls included).
    pub recovered_fen: i64,
}

impl Payments<'_> {
    pub async fn report(&self, actor: &Actor, month_text: &str) -> Result<PaymentReport> {
        actor.require(Permission::ReadPeople)?;
        let month = parse_month("month", month_text)?;
        let mut tx = self.store.begin_read().await?;
        let totals = tx.month_totals(actor.scope(), month).await?;
        let towns: HashMap<String, String> = tx
            .regions_under(actor.scope())
            .await?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect();
        let catalogue = self.catalogue_now(&mut tx).await?;
        let start = |d: NaiveDate| {
            DateTime::<Utc>::from_naive_utc_and_offset(
                d.and_hms_opt(0, 0, 0).expect("midnight") - chrono::Duration::hours(8),
                Utc,
            )
        };
        let next = add_months(month, 1);
        let recovered: i64 = tx
            .recoveries_between(actor.scope(), start(month), start(next))
            .await?
            .iter()
            .map(|(_, a)| a)
            .sum();
        drop(tx);
        let rows: Vec<ReportRow> = totals
            .into_iter()
            .map(|t| ReportRow {
                township: towns.get(&t.township).cloned().unwrap_or(t.township),
                program_name: catalogue
                    .item(&t.program)
                    .map_or_else(|| t.program.clone(), |i| i.name.clone()),
                households: t.households,
                persons: t.persons,
                amount_fen: t.amount_fen,
                paid_fen: t.paid_fen,
                failed_fen: t.failed_fen,
                reissued_fen: t.reissued_fen,
                deducted_fen: t.deducted_fen,
            })
            .collect();
        let sum = |f: fn(&ReportRow) -> i64| rows.iter().map(f).sum::<i64>();
        Ok(PaymentReport {
            month: month.format("%Y-%m").to_string(),
            households: sum(|r| r.households),
            persons: sum(|r| r.persons),
            amount_fen: sum(|r| r.amount_fen),
            paid_fen: sum(|r| r.paid_fen),
            failed_fen: sum(|r| r.failed_fen),
            reissued_fen: sum(|r| r.reissued_fen),
            deducted_fen: sum(|r| r.deducted_fen),
            recovered_fen: recovered,
            rows,
        })
    }

    /// The month's report as a workbook.
    pub async fn report_xlsx(&self, actor: &Actor, month_text: &str) -> Result<Vec<u8>> {
        use rust_xlsxwriter::{Format, Workbook};
        let report = self.report(actor, month_text).await?;
        let region_name = self.regions().name_of(actor.scope()).await?;
        let xlsx = |e: rust_xlsxwriter::XlsxError| {
            ServiceError::Internal(jiuzhu_store::StoreError::Corrupt(format!("xlsx: {e}")))
        };
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let money = Format::new().set_num_format("#,##0.00");
        let sheet = book.add_worksheet();
        sheet.set_name("发放统计").map_err(xlsx)?;
        sheet
            .write_string_with_format(
                0,
                0,
                format!("{region_name}社会救助资金发放统计（{}）", report.month),
                &bold,
            )
            .map_err(xlsx)?;
        let headers = [
            "乡镇（街道）",
            "项目",
            "户数",
            "人数",
            "应发（元）",
            "已发（元）",
            "失败（元）",
            "补发（元）",
            "扣减（元）",
        ];
        for (c, h) in headers.iter().enumerate() {
            sheet
                .write_string_with_format(2, c as u16, *h, &bold)
                .map_err(xlsx)?;
        }
        let yuan = |f: i64| f as f64 / 100.0;
        for (i, r) in report.rows.iter().enumerate() {
            let row = (i + 3) as u32;
            sheet.write_string(row, 0, &r.township).map_err(xlsx)?;
            sheet.write_string(row, 1, &r.program_name).map_err(xlsx)?;
            sheet
                .write_number(row, 2, r.households as f64)
                .map_err(xlsx)?;
            sheet.write_number(row, 3, r.persons as f64).map_err(xlsx)?;
            for (c, v) in [
                (4, r.amount_fen),
                (5, r.paid_fen),
                (6, r.failed_fen),
                (7, r.reissued_fen),
                (8, r.deducted_fen),
            ] {
                sheet
                    .write_number_with_format(row, c, yuan(v), &money)
                    .map_err(xlsx)?;
            }
        }
        let last = (report.rows.len() + 3) as u32;
        sheet
            .write_string_with_format(last, 0, "合计", &bold)
            .map_err(xlsx)?;
        sheet
            .write_number(last, 2, report.households as f64)
            .map_err(xlsx)?;
        sheet
            .write_number(last, 3, report.persons as f64)
            .map_err(xlsx)?;
        for (c, v) in [
            (4, report.amount_fen),
            (5, report.paid_fen),
            (6, report.failed_fen),
            (7, report.reissued_fen),
            (8, report.deducted_fen),
        ] {
            sheet
                .write_number_with_format(last, c, yuan(v), &money)
                .map_err(xlsx)?;
        }
        sheet
            .write_string(
                last + 1,
                0,
                format!(
                    "本月追回{}元",
                    jiuzhu_domain::Money::from_fen(report.recovered_fen)
                ),
            )
            .map_err(xlsx)?;
        sheet.set_column_width(0, 16).map_err(xlsx)?;
        sheet.set_column_width(1, 18).map_err(xlsx)?;
        book.save_to_buffer().map_err(xlsx)
    }
}
