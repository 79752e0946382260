//! Payments (发放): the payee of each enrolment, the monthly roll from the register, checked and
//! approved by two people and then locked, the bank's batch file (GBK, `|`-separated, a summary
//! line first) and its return, failures paid again once the account is corrected, and the roll
//! closed when the bank's figures reconcile with it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use jiuzhu_domain::enrolment::MonthStatus;
use jiuzhu_domain::payment::{
    mask_account, parse_return, write_batch, BankLine, BatchHeader, RollStage,
};
use jiuzhu_domain::Permission;
use jiuzhu_store::{PayeeRecord, RollLine, RollRecord, ACCOUNT_CONTEXT};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::recipients::parse_month;
use crate::{Actor, Payments, Result, ServiceError};

/// The bank file layouts shipped: the pipe-separated text with a summary line, and the
/// spreadsheet (CSV) one; both GBK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BankLayout {
    Pipe,
    Csv,
}

/// Who an enrolment is paid to, and where.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct PayeeInput {
    /// A current member of the household (the head, another member, or a guardian registered
    /// in the household).
    pub person_id: i64,
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
    pub person_id: i64,
    pub holder_name: String,
    pub bank: String,
    pub account_masked: String,
    pub updated_at: DateTime<Utc>,
}

impl From<&PayeeRecord> for PayeeView {
    fn from(p: &PayeeRecord) -> Self {
        PayeeView {
            enrolment_id: p.enrolment_id,
            person_id: p.person_id,
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
    /// One recurring program, or all of them.
    pub program: Option<String>,
    /// A township's division code; the whole of one's region without it.
    pub region: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineView {
    pub seq: i64,
    pub household_id: i64,
    pub enrolment_id: Option<i64>,
    pub program: String,
    pub month: String,
    pub holder_name: String,
    pub account_masked: String,
    pub amount_fen: i64,
    /// 待发放, 已发放, 发放失败, 已补发
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
    pub region_code: String,
    pub stage: String,
    pub stage_label: String,
    pub lines: i64,
    pub total_fen: i64,
    /// SHA-256 of the lines: the same roll regenerated gives the same digest.
    pub digest: String,
    pub created_by: String,
    pub checked_by: Option<String>,
    pub approved_by: Option<String>,
    pub paid: usize,
    pub failed: usize,
    pub items: Vec<LineView>,
    /// For a draft: those due this month with no payee account yet, so not on the roll.
    pub missing_accounts: Vec<MissingAccount>,
}

/// Someone due a payment who cannot be paid until an account is registered.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MissingAccount {
    pub enrolment_id: i64,
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
}

impl From<&RollLine> for LineView {
    fn from(l: &RollLine) -> Self {
        LineView {
            seq: l.seq,
            household_id: l.household_id,
            enrolment_id: l.enrolment_id,
            program: l.program.clone(),
            month: l.month.format("%Y-%m").to_string(),
            holder_name: l.holder_name.clone(),
            account_masked: l.account_masked.clone(),
            amount_fen: l.amount_fen,
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

fn digest_of(lines: &[RollLine]) -> String {
    let mut h = Sha256::new();
    for l in lines {
        h.update(format!(
            "{}|{:?}|{:?}|{}|{}|{}|{}|{}\n",
            l.seq,
            l.enrolment_id,
            l.award_id,
            l.month,
            l.amount_fen,
            l.person_id,
            l.holder_name,
            l.account_masked
        ));
    }
    format!("{:x}", h.finalize())
}

impl Payments<'_> {
    /// Sets the payee of an enrolment. Rolls already approved keep the account they were made
    /// with; drafts take the new one when regenerated.
    pub async fn set_payee(
        &self,
        actor: &Actor,
        enrolment_id: i64,
        input: &PayeeInput,
    ) -> Result<PayeeView> {
        actor.require(Permission::ManageRecipients)?;
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
        let mut tx = self.store.begin().await?;
        let e = tx
            .enrolment(enrolment_id)
            .await?
            .filter(|e| e.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        let household = tx
            .get_household(e.household_id, "")
            .await?
            .ok_or(ServiceError::NotFound)?;
        if !household
            .current_members()
            .any(|m| m.person_id == input.person_id)
        {
            return Err(ServiceError::invalid("person_id", "收款人应为本户现有成员"));
        }
        let before = tx.payee_of_enrolment(enrolment_id).await?;
        let record = PayeeRecord {
            id: 0,
            enrolment_id: Some(enrolment_id),
            award_id: None,
            household_id: e.household_id,
            region_code: e.region_code.clone(),
            person_id: input.person_id,
            holder_name: holder,
            bank,
            account_cipher: self.store.cipher().encrypt(ACCOUNT_CONTEXT, &account),
            account_masked: mask_account(&account),
            updated_by: actor.username.clone(),
            updated_at: self.now(),
        };
        tx.set_payee(&record).await?;
        tx.append_audit(&actor.audit(
            "payee.set",
            "enrolment",
            enrolment_id,
            Some(&e.region_code),
            json!({"before": before.as_ref().map(|b| &b.account_masked), "after": record.account_masked, "holder": record.holder_name}),
        ))
        .await?;
        tx.commit().await?;
        Ok(PayeeView::from(&record))
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

    /// Makes (or remakes) the draft roll of a month: every enrolment paid that month with its
    /// amount (gradual-exit months included, suspended ones not), and every failed payment whose
    /// account was corrected since. Enrolments already on an approved roll for the month are
    /// left out (a later roll is a supplement); those without an account are listed.
    pub async fn generate(&self, actor: &Actor, input: &RollInput) -> Result<RollView> {
        actor.require(Permission::ManageRecipients)?;
        let month = parse_month("month", &input.month)?;
        let scope = crate::Services::scope_within(actor, input.region.as_deref())?;
        let program = input.program.clone().filter(|p| !p.is_empty());
        let mut tx = self.store.begin().await?;
        let enrolments = tx.enrolment_lines(&scope, program.as_deref()).await?;
        let states = crate::recipients::states_from(&tx.change_bodies(&scope).await?, month)?;
        let payees: HashMap<i64, PayeeRecord> = tx
            .payees_in(&scope)
            .await?
            .into_iter()
            .filter_map(|p| p.enrolment_id.map(|e| (e, p)))
            .collect();
        let locked: HashSet<(i64, NaiveDate)> = tx
            .locked_lines_in(&scope)
            .await?
            .into_iter()
            .filter_map(|(e, _, m, _)| e.map(|e| (e, m)))
            .collect();
        let mut lines = Vec::new();
        for e in &enrolments {
            let Some(state) = states.get(&e.id) else {
                continue;
            };
            if !matches!(state.status, MonthStatus::Paid | MonthStatus::GradualExit)
                || state.amount.fen() <= 0
                || locked.contains(&(e.id, month))
            {
                continue;
            }
            // Without an account there is nothing to pay into: listed on the draft instead.
            let Some(p) = payees.get(&e.id) else {
                continue;
            };
            lines.push(RollLine {
                id: 0,
                roll_id: 0,
                seq: 0,
                enrolment_id: Some(e.id),
                award_id: None,
                household_id: e.household_id,
                program: e.program.clone(),
                month,
                region_code: e.region_code.clone(),
                person_id: p.person_id,
                holder_name: p.holder_name.clone(),
                account_cipher: p.account_cipher.clone(),
                account_masked: p.account_masked.clone(),
                amount_fen: state.amount.fen(),
                reissue_of: None,
                status: "pending".into(),
                reason: String::new(),
                locked: false,
            });
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
            let (Some(e), Some(p)) = (f.enrolment_id, f.enrolment_id.and_then(|e| payees.get(&e)))
            else {
                continue;
            };
            if program.as_deref().is_some_and(|p| p != f.program) {
                continue;
            }
            let failed_at = rolls
                .get(&f.roll_id)
                .and_then(|r| r.sent_at.or(r.approved_at));
            if failed_at.is_none_or(|t| p.updated_at <= t) {
                continue;
            }
            lines.push(RollLine {
                enrolment_id: Some(e),
                person_id: p.person_id,
                holder_name: p.holder_name.clone(),
                account_cipher: p.account_cipher.clone(),
                account_masked: p.account_masked.clone(),
                reissue_of: Some(f.id),
                status: "pending".into(),
                reason: String::new(),
                locked: false,
                id: 0,
                roll_id: 0,
                seq: 0,
                ..f
            });
        }
        lines.sort_by_key(|l| (l.region_code.clone(), l.household_id, l.month));
        for (i, l) in lines.iter_mut().enumerate() {
            l.seq = i as i64 + 1;
        }
        let total: i64 = lines.iter().map(|l| l.amount_fen).sum();
        let digest = digest_of(&lines);
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
        tx.replace_draft_lines(id, &lines, total, &digest).await?;
        tx.append_audit(&actor.audit(
            "roll.generate",
            "roll",
            id,
            Some(&scope),
            json!({"month": input.month, "program": program, "lines": lines.len(), "total_fen": total, "digest": digest}),
        ))
        .await?;
        tx.commit().await?;
        self.roll(actor, id).await
    }

    /// Enrolments a draft's month and scope pay that have no payee account.
    async fn missing_accounts(&self, r: &RollRecord) -> Result<Vec<MissingAccount>> {
        let mut tx = self.store.begin_read().await?;
        let enrolments = tx
            .enrolment_lines(&r.region_code, r.program.as_deref())
            .await?;
        let states =
            crate::recipients::states_from(&tx.change_bodies(&r.region_code).await?, r.month)?;
        let paid: HashSet<i64> = tx
            .payees_in(&r.region_code)
            .await?
            .into_iter()
            .filter_map(|p| p.enrolment_id)
            .collect();
        let missing: Vec<i64> = enrolments
            .iter()
            .filter(|e| !paid.contains(&e.id))
            .filter(|e| {
                states.get(&e.id).is_some_and(|s| {
                    matches!(s.status, MonthStatus::Paid | MonthStatus::GradualExit)
                        && s.amount.fen() > 0
                })
            })
            .map(|e| e.id)
            .collect();
        let names: HashMap<i64, (i64, String)> = tx
            .enrolment_people_of(&missing)
            .await?
            .into_iter()
            .map(|p| (p.enrolment_id, (p.person_id, p.name)))
            .collect();
        Ok(enrolments
            .iter()
            .filter(|e| missing.contains(&e.id))
            .map(|e| MissingAccount {
                enrolment_id: e.id,
                household_id: e.household_id,
                name: names.get(&e.id).map(|(_, n)| n.clone()).unwrap_or_default(),
            })
            .collect())
    }

    pub async fn roll(&self, actor: &Actor, id: i64) -> Result<RollView> {
        actor.require(Permission::ReadPeople)?;
        let mut tx = self.store.begin_read().await?;
        let r = tx
            .roll(id)
            .await?
            .filter(|r| r.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        let lines = tx.roll_lines(id).await?;
        let mut users: Vec<&str> = vec![r.created_by.as_str()];
        users.extend(r.checked_by.as_deref());
        users.extend(r.approved_by.as_deref());
        let names = crate::recipients::display_names(&mut tx, users).await?;
        let shown = |u: &str| names.get(u).cloned().unwrap_or_else(|| u.to_string());
        let stage = RollStage::from_code(&r.stage).unwrap_or(RollStage::Draft);
        Ok(RollView {
            id: r.id,
            month: r.month.format("%Y-%m").to_string(),
            program: r.program.clone(),
            region_code: r.region_code.clone(),
            stage: stage.code().into(),
            stage_label: stage.label().into(),
            lines: r.lines,
            total_fen: r.total_fen,
            digest: r.digest.clone(),
            created_by: shown(&r.created_by),
            checked_by: r.checked_by.as_deref().map(shown),
            approved_by: r.approved_by.as_deref().map(shown),
            paid: lines.iter().filter(|l| l.status == "paid").count(),
            failed: lines.iter().filter(|l| l.status == "failed").count(),
            items: lines.iter().map(LineView::from).collect(),
            missing_accounts: if stage == RollStage::Draft {
                self.missing_accounts(&r).await?
            } else {
                Vec::new()
            },
        })
    }

    pub async fn rolls(&self, actor: &Actor) -> Result<Vec<RollView>> {
        actor.require(Permission::ReadPeople)?;
        let ids: Vec<i64> = {
            let mut tx = self.store.begin_read().await?;
            tx.rolls_in(actor.scope())
                .await?
                .into_iter()
                .map(|r| r.id)
                .collect()
        };
        let mut out = Vec::new();
        for id in ids {
            let mut v = self.roll(actor, id).await?;
            v.items.clear();
            out.push(v);
        }
        Ok(out)
    }

    /// 审核 of a draft, then 审批 by someone else; approval locks the lines, refusing any that
    /// another approved roll already pays for the same month.
    pub async fn advance(&self, actor: &Actor, id: i64, step: &str) -> Result<RollView> {
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
                let lines = tx.roll_lines(id).await?;
                if digest_of(&lines) != r.digest {
                    return Err(ServiceError::Conflict {
                        field: Some("digest".into()),
                        message: "花名册明细与审核时不一致，请重新生成并审核".into(),
                    });
                }
                // A death or exit recorded since the draft stops its payment: the draft must be
                // made again before it can be approved.
                let states_now: HashMap<
                    NaiveDate,
                    HashMap<i64, jiuzhu_domain::enrolment::MonthState>,
                > = {
                    let bodies = tx.change_bodies(&r.region_code).await?;
                    let mut by = HashMap::new();
                    for m in lines.iter().map(|l| l.month).collect::<HashSet<_>>() {
                        by.insert(m, crate::recipients::states_from(&bodies, m)?);
                    }
                    by
                };
                let stale: Vec<String> = lines
                    .iter()
                    .filter(|l| l.reissue_of.is_none())
                    .filter(|l| {
                        let due = l
                            .enrolment_id
                            .and_then(|e| states_now.get(&l.month)?.get(&e))
                            .filter(|s| {
                                matches!(s.status, MonthStatus::Paid | MonthStatus::GradualExit)
                            })
                            .map_or(0, |s| s.amount.fen());
                        l.enrolment_id.is_some() && due != l.amount_fen
                    })
                    .map(|l| format!("第{}行（{}）", l.seq, l.holder_name))
                    .collect();
                if !stale.is_empty() {
                    return Err(ServiceError::Conflict {
                        field: Some("lines".into()),
                        message: format!(
                            "以下明细与救助对象名册已不一致（如已死亡、退出或调整），请重新生成草稿并审核：{}",
                            stale.join("、")
                        ),
                    });
                }
                let paid: HashSet<(i64, NaiveDate)> = tx
                    .locked_lines_in(&r.region_code)
                    .await?
                    .into_iter()
                    .filter_map(|(e, _, m, _)| e.map(|e| (e, m)))
                    .collect();
                let twice: Vec<String> = lines
                    .iter()
                    .filter(|l| l.enrolment_id.is_some_and(|e| paid.contains(&(e, l.month))))
                    .map(|l| {
                        format!(
                            "第{}行（{}，{}）",
                            l.seq,
                            l.holder_name,
                            l.month.format("%Y-%m")
                        )
                    })
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
                tx.lock_lines(id).await?;
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
        self.roll(actor, id).await
    }

    /// The bank's batch file of an approved roll (GBK, a summary line, `|`-separated details);
    /// the roll is then sent. Its count and total are checked against the roll's.
    pub async fn bank_file(&self, actor: &Actor, id: i64, unit_code: &str) -> Result<Vec<u8>> {
        self.bank_file_as(actor, id, unit_code, BankLayout::Pipe)
            .await
    }

    /// The bank file in one of the shipped layouts.
    pub async fn bank_file_as(
        &self,
        actor: &Actor,
        id: i64,
        unit_code: &str,
        layout: BankLayout,
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
        let lines = tx.roll_lines(id).await?;
        let ids: Vec<i64> = lines.iter().map(|l| l.person_id).collect();
        let numbers: HashMap<i64, String> = tx.identity_numbers(&ids).await?.into_iter().collect();
        let catalogue = self.catalogue_now(&mut tx).await?;
        let mut bank = Vec::with_capacity(lines.len());
        for l in &lines {
            bank.push(BankLine {
                seq: l.seq as usize,
                name: l.holder_name.clone(),
                account: self
                    .store
                    .cipher()
                    .decrypt(ACCOUNT_CONTEXT, &l.account_cipher)?,
                amount_fen: l.amount_fen,
                id_number: numbers.get(&l.person_id).cloned().unwrap_or_default(),
                memo: format!(
                    "{}{}",
                    l.month.format("%Y年%-m月"),
                    catalogue
                        .item(&l.program)
                        .map_or(l.program.as_str(), |i| i.name.as_str())
                ),
            });
        }
        // Written either way, so its count and total are checked against the roll's.
        let pipe = write_batch(
            &BatchHeader {
                date: self.today(),
                unit_code: unit_code.to_string(),
                count: r.lines as usize,
                total_fen: r.total_fen,
            },
            &bank,
        )
        .map_err(|e| ServiceError::invalid("lines", e.to_string()))?;
        let text = match layout {
            BankLayout::Pipe => pipe,
            BankLayout::Csv => jiuzhu_domain::payment::write_csv(&bank),
        };
        let (gbk, _, lossy) = encoding_rs::GBK.encode(&text);
        if lossy {
            return Err(ServiceError::invalid("lines", "有姓名或摘要无法用GBK编码"));
        }
        if r.stage == "approved" {
            tx.advance_roll(id, "approved", "sent", &actor.username, self.now())
                .await?;
        }
        tx.append_audit(&actor.audit(
            "roll.bank_file",
            "roll",
            id,
            Some(&r.region_code),
            json!({"lines": r.lines, "total_fen": r.total_fen}),
        ))
        .await?;
        tx.commit().await?;
        Ok(gbk.into_owned())
    }

    /// The bank's return file (回盘): each line paid or failed with the bank's reason. Lines the
    /// roll does not know, whose amount or account differs, or paid twice are kept as errors and
    /// not applied; the same file twice changes nothing. When every line has its answer and the
    /// totals agree, the roll closes.
    pub async fn import_return(
        &self,
        actor: &Actor,
        id: i64,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<ReturnReport> {
        actor.require(Permission::ApproveAssistance)?;
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t.to_string(),
            Err(_) => {
                let (t, _, bad) = encoding_rs::GBK.decode(bytes);
                if bad {
                    return Err(ServiceError::invalid(
                        "file",
                        "文件既不是UTF-8也不是GBK编码",
                    ));
                }
                t.into_owned()
            }
        };
        let (header, returned) =
            parse_return(&text).map_err(|e| ServiceError::invalid("file", e.to_string()))?;
        let sha = format!("{:x}", Sha256::digest(bytes));
        let mut tx = self.store.begin().await?;
        let r = tx
            .roll(id)
            .await?
            .filter(|r| r.region_code.starts_with(actor.scope()))
            .ok_or(ServiceError::NotFound)?;
        if tx.bank_return_seen(id, &sha).await? {
            return Ok(ReturnReport {
                already_imported: true,
                paid: 0,
                failed: 0,
                errors: Vec::new(),
                closed: r.stage == "closed",
            });
        }
        if r.stage != "sent" {
            return Err(ServiceError::invalid(
                "stage",
                "花名册送银行后才能导入回盘文件",
            ));
        }
        let lines = tx.roll_lines(id).await?;
        let by_seq: HashMap<i64, &RollLine> = lines.iter().map(|l| (l.seq, l)).collect();
        let (mut paid, mut failed, mut errors) = (0usize, 0usize, Vec::new());
        let mut apply = Vec::new();
        for (i, ret) in returned.iter().enumerate() {
            let row = i + 2;
            let Some(line) = by_seq.get(&(ret.seq as i64)) else {
                errors.push(format!("第{row}行：花名册没有序号{}", ret.seq));
                continue;
            };
            if line.amount_fen != ret.amount_fen {
                errors.push(format!(
                    "第{row}行：金额{}元与花名册的{}元不符",
                    jiuzhu_domain::Money::from_fen(ret.amount_fen),
                    jiuzhu_domain::Money::from_fen(line.amount_fen)
                ));
                continue;
            }
            let last4 = |s: &str| s.chars().rev().take(4).collect::<String>();
            if last4(&ret.account) != last4(&line.account_masked) {
                errors.push(format!("第{row}行：账号与花名册不符"));
                continue;
            }
            if line.status == "paid" && ret.paid {
                errors.push(format!(
                    "第{row}行：序号{}已记为发放成功，不重复记账",
                    ret.seq
                ));
                continue;
            }
            apply.push((line.id, ret.paid, ret.reason.clone()));
            if ret.paid {
                paid += 1;
            } else {
                failed += 1;
            }
        }
        let fresh = tx
            .insert_bank_return(
                id,
                &sha,
                file_name,
                paid as i64,
                failed as i64,
                &serde_json::to_string(&errors).expect("strings"),
                &actor.username,
            )
            .await?;
        if !fresh {
            return Ok(ReturnReport {
                already_imported: true,
                paid: 0,
                failed: 0,
                errors: Vec::new(),
                closed: false,
            });
        }
        for (line, ok, reason) in &apply {
            tx.mark_line(*line, if *ok { "paid" } else { "failed" }, reason)
                .await?;
        }
        // Reconciled: every line answered, and the bank's total is the roll's.
        let answered: HashSet<i64> = apply.iter().map(|(l, _, _)| *l).collect();
        let all = lines
            .iter()
            .all(|l| answered.contains(&l.id) || l.status != "pending");
        let closed = all && errors.is_empty() && header.total_fen == r.total_fen;
        if closed {
            tx.advance_roll(id, "sent", "closed", &actor.username, self.now())
                .await?;
        }
        tx.append_audit(&actor.audit(
            "roll.return",
            "roll",
            id,
            Some(&r.region_code),
            json!({"file": file_name, "sha256": sha, "paid": paid, "failed": failed, "errors": errors.len(), "closed": closed}),
        ))
        .await?;
        tx.commit().await?;
        Ok(ReturnReport {
            already_imported: false,
            paid,
            failed,
            errors,
            closed,
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
        Ok(tx
            .receivables_in(actor.scope())
            .await?
            .iter()
            .map(ReceivableView::from)
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
        Ok(tx
            .receivables_of_household(household_id)
            .await?
            .iter()
            .map(ReceivableView::from)
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
    pub households: usize,
    /// Paid, pending and failed lines of the month's approved rolls.
    pub amount_fen: i64,
    pub paid_fen: i64,
    pub failed_fen: i64,
    /// Failed payments of earlier months paid again on this month's rolls.
    pub reissued_fen: i64,
}

/// A month's payments per township and program; its total is the month's rolls' total.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PaymentReport {
    pub month: String,
    pub rows: Vec<ReportRow>,
    pub amount_fen: i64,
    pub paid_fen: i64,
    pub failed_fen: i64,
    pub reissued_fen: i64,
    /// Recovered during the month, in the whole region.
    pub recovered_fen: i64,
}

impl Payments<'_> {
    pub async fn report(&self, actor: &Actor, month_text: &str) -> Result<PaymentReport> {
        actor.require(Permission::ReadPeople)?;
        let month = parse_month("month", month_text)?;
        let mut tx = self.store.begin_read().await?;
        let lines = tx.lines_of_month(actor.scope(), month).await?;
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
        let next = jiuzhu_domain::enrolment::add_months(month, 1);
        let recovered: i64 = tx
            .recoveries_between(actor.scope(), start(month), start(next))
            .await?
            .iter()
            .map(|(_, a)| a)
            .sum();
        drop(tx);
        let mut rows: Vec<ReportRow> = Vec::new();
        let mut seen: HashMap<(String, String), HashSet<i64>> = HashMap::new();
        for l in &lines {
            let township = towns
                .get(l.region_code.get(..9).unwrap_or(""))
                .cloned()
                .unwrap_or_default();
            let program_name = catalogue
                .item(&l.program)
                .map_or_else(|| l.program.clone(), |i| i.name.clone());
            let key = (township.clone(), program_name.clone());
            let row = match rows
                .iter_mut()
                .position(|r| r.township == township && r.program_name == program_name)
            {
                Some(i) => &mut rows[i],
                None => {
                    rows.push(ReportRow {
                        township,
                        program_name,
                        households: 0,
                        amount_fen: 0,
                        paid_fen: 0,
                        failed_fen: 0,
                        reissued_fen: 0,
                    });
                    rows.last_mut().expect("just pushed")
                }
            };
            if seen.entry(key).or_default().insert(l.household_id) {
                row.households += 1;
            }
            row.amount_fen += l.amount_fen;
            match l.status.as_str() {
                "paid" => row.paid_fen += l.amount_fen,
                "failed" => row.failed_fen += l.amount_fen,
                _ => {}
            }
            if l.reissue_of.is_some() {
                row.reissued_fen += l.amount_fen;
            }
        }
        rows.sort_by(|a, b| (&a.township, &a.program_name).cmp(&(&b.township, &b.program_name)));
        let sum = |f: fn(&ReportRow) -> i64| rows.iter().map(f).sum::<i64>();
        Ok(PaymentReport {
            month: month.format("%Y-%m").to_string(),
            amount_fen: sum(|r| r.amount_fen),
            paid_fen: sum(|r| r.paid_fen),
            failed_fen: sum(|r| r.failed_fen),
            reissued_fen: sum(|r| r.reissued_fen),
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
            "应发（元）",
            "已发（元）",
            "失败（元）",
            "补发（元）",
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
            for (c, v) in [
                (3, r.amount_fen),
                (4, r.paid_fen),
                (5, r.failed_fen),
                (6, r.reissued_fen),
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
        for (c, v) in [
            (3, report.amount_fen),
            (4, report.paid_fen),
            (5, report.failed_fen),
            (6, report.reissued_fen),
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
