//! The monthly payment: the roll from the register, two people to approve it, the bank file, a
//! return with three failures, those three paid again next month once their accounts are
//! corrected, nothing paid twice, and a death that stops the next roll. On SQLite and PostgreSQL.

mod common;

use chrono::{Datelike, Months, NaiveDate, TimeZone, Utc};
use common::TestDb;
use jiuzhu_domain::enrolment::{month_of, EnrolmentChange, ExitCause};
use jiuzhu_domain::payment::parse_batch;
use jiuzhu_services::payments::{PayeeInput, RollInput};
use jiuzhu_services::recipients::ChangeInput;
use jiuzhu_services::ServiceError;

/// Five couples of 杨舍镇 on 低保 since last month at 1,000.00 yuan, each with a payee account.
async fn enrolled(db: &TestDb) -> Vec<(i64, String)> {
    let s = &db.services;
    let clerk = db.actor("clerk").await;
    let village = s
        .regions()
        .list(&clerk)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.level == "village")
        .unwrap()
        .code;
    let first = month_of(s.today())
        .checked_sub_months(Months::new(1))
        .unwrap();
    let mut out = Vec::new();
    for i in 0..5u16 {
        let id = jiuzhu_domain::IdNumber::from_parts(
            "320582",
            NaiveDate::from_ymd_opt(1960, 1 + u32::from(i), 9).unwrap(),
            900 + i,
        )
        .unwrap();
        let name = format!("付{}", ["建国", "秀兰", "德明", "桂香", "永福"][i as usize]);
        let head = s
            .people()
            .create(
                &clerk,
                &jiuzhu_services::people::PersonInput {
                    id_number: id.expose().to_string(),
                    name: name.clone(),
                    hukou_region: village.clone(),
                    residence_region: village.clone(),
                    residence_since: NaiveDate::from_ymd_opt(2000, 1, 1),
                    phone: None,
                    disability_grade: None,
                    disability_kind: None,
                    serious_illness: None,
                    labour_capacity: "partial".into(),
                    self_care: "full".into(),
                    residence_permit: false,
                },
            )
            .await
            .unwrap();
        let h = s
            .households()
            .create(
                &clerk,
                &jiuzhu_services::households::HouseholdInput {
                    region_code: village.clone(),
                    address: format!("付家宅{i}号"),
                    head_person_id: head.id,
                    from_date: NaiveDate::from_ymd_opt(1990, 1, 1),
                },
            )
            .await
            .unwrap();
        let mut tx = s.store.begin().await.unwrap();
        let ids = tx
            .insert_enrolments(&[jiuzhu_store::EnrolmentRecord {
                id: 0,
                household_id: h.household.id,
                person_id: None,
                program: "dibao".into(),
                region_code: village.clone(),
                case_id: None,
                evaluation_id: None,
                report_id: None,
                amount_fen: 100_000,
                members: format!("[{}]", head.id),
                first_month: first,
                stage: "confirmed".into(),
                granted_by: "liaison3".into(),
                reviewed_by: Some("reviewer".into()),
                reviewed_at: Some(Utc::now()),
                review_note: String::new(),
                confirmed_by: Some("approver".into()),
                confirmed_at: Some(Utc::now()),
                next_review: None,
                created_at: Utc::now(),
            }])
            .await
            .unwrap();
        let change = EnrolmentChange::Enrolled {
            amount_fen: 100_000,
            members: vec![head.id],
        };
        tx.insert_changes(&[jiuzhu_store::ChangeRecord {
            id: 0,
            enrolment_id: ids[0],
            region_code: village.clone(),
            month: first,
            kind: "enrolled".into(),
            body: serde_json::to_string(&change).unwrap(),
            reason: "审核确认".into(),
            recorded_by: "approver".into(),
            approved_by: "approver".into(),
            created_at: Utc::now(),
        }])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        s.payments()
            .set_payee(
                &clerk,
                ids[0],
                &PayeeInput {
                    person_id: head.id,
                    guardian: false,
                    holder_name: name.clone(),
                    bank: "张家港农村商业银行".into(),
                    account: format!("62220211020034{:05}", 10 + i),
                },
            )
            .await
            .unwrap();
        out.push((ids[0], name));
    }
    out
}

fn ym(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

async fn a_month_is_paid_failures_are_paid_again_and_nothing_twice(db: TestDb) {
    let db = db.with_demo(20).await;
    let s = &db.services;
    let p = s.payments();
    let (clerk, reviewer, approver) = (
        db.actor("clerk").await,
        db.actor("reviewer").await,
        db.actor("approver").await,
    );
    let people = enrolled(&db).await;
    let mine: Vec<i64> = people.iter().map(|(e, _)| *e).collect();
    let month = month_of(s.today());
    let input = RollInput {
        month: ym(month),
        program: Some("dibao".into()),
        region: None,
    };

    // The draft follows the register: the five, 1,000.00 each; again, the same digest.
    let roll = p.generate(&clerk, &input).await.unwrap();
    let ours: Vec<_> = roll
        .items
        .iter()
        .filter(|l| l.enrolment_id.is_some_and(|e| mine.contains(&e)))
        .collect();
    assert_eq!(ours.len(), 5);
    assert!(ours.iter().all(|l| l.amount_fen == 100_000));
    assert!(ours[0].account_masked.starts_with("6222 **** **** "));
    let again = p.generate(&clerk, &input).await.unwrap();
    assert_eq!((again.id, &again.digest), (roll.id, &roll.digest));
    // Those due without an account are named on the draft, not paid.
    assert!(roll
        .missing_accounts
        .iter()
        .all(|m| !m.enrolment_id.is_some_and(|e| mine.contains(&e)) && !m.name.is_empty()));

    // Two people: the checker cannot approve.
    p.advance(&reviewer, roll.id, "check").await.unwrap();
    let refused = p.advance(&reviewer, roll.id, "approve").await;
    assert!(
        matches!(refused, Err(ServiceError::Invalid { ref field, .. }) if field == "approved_by")
    );
    let approved = p.advance(&approver, roll.id, "approve").await.unwrap();
    assert_eq!(approved.stage_label, "已审批");
    assert!(matches!(
        p.advance(&approver, roll.id, "approve").await,
        Err(ServiceError::Conflict { .. })
    ));
    // A roll made after it for the same month pays none of them again.
    let supplement = p.generate(&clerk, &input).await.unwrap();
    assert_ne!(supplement.id, roll.id);
    assert!(supplement
        .items
        .iter()
        .all(|l| !l.enrolment_id.is_some_and(|e| mine.contains(&e))));

    // The bank file: GBK, its count and total those of the roll.
    let gbk = p.bank_file(&approver, roll.id, "320582MZJ").await.unwrap();
    let sent = p.roll(&approver, roll.id, 1).await.unwrap();
    assert_eq!(sent.stage_label, "已送银行");
    let (text, _, bad) = encoding_rs::GBK.decode(&gbk);
    assert!(!bad);
    let (header, lines) = parse_batch(&text).unwrap();
    assert_eq!(header.count as i64, approved.lines);
    assert_eq!(header.total_fen, approved.total_fen);
    assert!(lines
        .iter()
        .any(|l| l.name == people[0].1 && l.id_number.len() == 18));

    // The return: three failures of three kinds, the rest paid.
    let reasons = ["户名不符", "账户已销户", "账户冻结"];
    let failing: Vec<&str> = people[..3].iter().map(|(_, n)| n.as_str()).collect();
    let mut body = format!(
        "{}|320582MZJ|{}|{}\n",
        s.today().format("%Y%m%d"),
        lines.len(),
        jiuzhu_domain::Money::from_fen(header.total_fen).to_plain_yuan()
    );
    for l in &lines {
        let fail = failing.iter().position(|n| *n == l.name);
        body.push_str(&format!(
            "{}|{}|{}|{}|{}|{}\n",
            l.seq,
            l.name,
            l.account,
            jiuzhu_domain::Money::from_fen(l.amount_fen).to_plain_yuan(),
            if fail.is_some() { "失败" } else { "成功" },
            fail.map_or("", |i| reasons[i])
        ));
    }
    let (ret, _, _) = encoding_rs::GBK.encode(&body);
    let report = p
        .import_return(&approver, roll.id, "回盘.txt", &ret)
        .await
        .unwrap();
    assert_eq!((report.failed, report.errors.len()), (3, 0), "{report:?}");
    assert!(report.closed);
    let twice = p
        .import_return(&approver, roll.id, "回盘.txt", &ret)
        .await
        .unwrap();
    assert!(twice.already_imported);
    let closed = p.roll(&approver, roll.id, 1).await.unwrap();
    assert_eq!(
        (closed.stage_label.as_str(), closed.failed),
        ("已对账结清", 3)
    );
    let why: Vec<&str> = closed
        .items
        .iter()
        .filter(|l| l.status_label == "发放失败")
        .map(|l| l.reason.as_str())
        .collect();
    assert_eq!(why.len(), 3);
    for r in reasons {
        assert!(why.contains(&r), "{why:?}");
    }

    // The fourth, it turns out, died last month: this month was paid for nothing. A receivable
    // follows; recoveries clear it, and no more than is owed can be recorded.
    s.recipients()
        .change(
            &reviewer,
            people[3].0,
            &ChangeInput {
                month: ym(month),
                change: EnrolmentChange::Ended {
                    cause: ExitCause::Death,
                },
                reason: "公安户籍注销：上月死亡".into(),
            },
        )
        .await
        .unwrap();
    let owed: Vec<_> = p
        .receivables(&clerk)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.enrolment_id == Some(people[3].0))
        .collect();
    assert_eq!(owed.len(), 1, "{owed:?}");
    assert_eq!(owed[0].amount_fen, 100_000);
    assert!(owed[0].cause.contains("死亡后已发放"), "{}", owed[0].cause);
    let recovery = |amount_fen: i64, method: &str| jiuzhu_services::payments::RecoveryInput {
        amount_fen,
        method: method.into(),
        note: String::new(),
    };
    let too_much = p
        .recover(&clerk, owed[0].id, &recovery(100_001, "refund"))
        .await;
    assert!(
        matches!(too_much, Err(ServiceError::Invalid { ref field, .. }) if field == "amount_fen")
    );
    p.recover(&clerk, owed[0].id, &recovery(60_000, "bank_clawback"))
        .await
        .unwrap();
    let cleared = p
        .recover(&clerk, owed[0].id, &recovery(40_000, "refund"))
        .await
        .unwrap();
    assert!(cleared.cleared && cleared.outstanding_fen == 0);

    // The month's report: its total is the roll's; three failures; what was recovered.
    let report = p.report(&clerk, &ym(month)).await.unwrap();
    assert_eq!(report.amount_fen, approved.total_fen);
    assert_eq!(report.failed_fen, 300_000);
    assert_eq!(report.paid_fen, approved.total_fen - 300_000);
    assert_eq!(report.recovered_fen, 100_000);
    assert!(report
        .rows
        .iter()
        .any(|r| r.township == "杨舍镇" && r.program_name == "最低生活保障" && r.households >= 5));
    let xlsx = p.report_xlsx(&clerk, &ym(month)).await.unwrap();
    assert_eq!(&xlsx[..2], b"PK");

    // Next month: the accounts of the three are corrected; the fifth died this month.
    let next = month.checked_add_months(Months::new(1)).unwrap();
    s.set_clock(Some(Utc.from_utc_datetime(
        &next.with_day(3).unwrap().and_hms_opt(2, 0, 0).unwrap(),
    )));
    for (i, (e, name)) in people[..3].iter().enumerate() {
        let head = s.recipients().enrolment(&clerk, *e).await.unwrap().members[0].person_id;
        p.set_payee(
            &clerk,
            *e,
            &PayeeInput {
                person_id: head,
                guardian: false,
                holder_name: name.clone(),
                bank: "中国农业银行张家港支行".into(),
                account: format!("62284801180077{:05}", 20 + i),
            },
        )
        .await
        .unwrap();
    }
    let next_input = RollInput {
        month: ym(next),
        program: Some("dibao".into()),
        region: None,
    };
    // A draft checked before the fifth's death is known cannot be approved after it.
    let early = p.generate(&clerk, &next_input).await.unwrap();
    p.advance(&reviewer, early.id, "check").await.unwrap();
    s.recipients()
        .change(
            &reviewer,
            people[4].0,
            &ChangeInput {
                month: ym(next),
                change: EnrolmentChange::Ended {
                    cause: ExitCause::Death,
                },
                reason: "户主于上月病故".into(),
            },
        )
        .await
        .unwrap();
    let stale = p.advance(&approver, early.id, "approve").await;
    assert!(
        matches!(&stale, Err(ServiceError::Conflict { message, .. }) if message.contains("重新生成")),
        "{stale:?}"
    );
    let following = p.generate(&clerk, &next_input).await.unwrap();
    assert_ne!(following.id, early.id);
    let ours: Vec<_> = following
        .items
        .iter()
        .filter(|l| l.enrolment_id.is_some_and(|e| mine.contains(&e)))
        .collect();
    // Three paid for the new month (not the two dead), three paid again for the month before.
    assert_eq!(ours.iter().filter(|l| !l.reissue).count(), 3);
    let reissued: Vec<_> = ours.iter().filter(|l| l.reissue).collect();
    assert_eq!(reissued.len(), 3);
    assert!(reissued.iter().all(|l| l.month == ym(month)));
    assert!(!ours
        .iter()
        .any(|l| l.enrolment_id == Some(people[4].0) && l.month == ym(next)));
    p.advance(&reviewer, following.id, "check").await.unwrap();
    p.advance(&approver, following.id, "approve").await.unwrap();

    // A return with a line of another amount is refused whole, naming the row and the field.
    let gbk = p
        .bank_file(&approver, following.id, "320582MZJ")
        .await
        .unwrap();
    let (text, _, _) = encoding_rs::GBK.decode(&gbk);
    let (header, lines) = parse_batch(&text).unwrap();
    let yuan = |f: i64| jiuzhu_domain::Money::from_fen(f).to_plain_yuan();
    let return_of = |rows: &[(usize, &str, &str, i64)]| {
        let mut out = format!(
            "{}|320582MZJ|{}|{}\n",
            s.today().format("%Y%m%d"),
            rows.len(),
            yuan(rows.iter().map(|r| r.3).sum())
        );
        for (seq, name, account, fen) in rows {
            out.push_str(&format!("{seq}|{name}|{account}|{}|成功|\n", yuan(*fen)));
        }
        out
    };
    let (first, second) = (&lines[0], &lines[1]);
    let wrong = return_of(&[
        (first.seq, &first.name, &first.account, first.amount_fen),
        (
            second.seq,
            &second.name,
            &second.account,
            second.amount_fen + 100,
        ),
    ]);
    let refused = p
        .import_return(
            &approver,
            following.id,
            "回盘-金额不符.txt",
            wrong.as_bytes(),
        )
        .await;
    assert!(
        matches!(&refused, Err(ServiceError::Invalid { message, .. })
            if message.contains("第3行") && message.contains("金额")),
        "{refused:?}"
    );
    let still = p.roll(&approver, following.id, 1).await.unwrap();
    assert_eq!((still.paid, still.stage_label.as_str()), (0, "已送银行"));

    // A line the roll does not have is kept as an error, the others applied; the roll stays
    // open until every line has its answer.
    let unknown = return_of(&[
        (first.seq, &first.name, &first.account, first.amount_fen),
        (9999, "无名", "6222000000001234", first.amount_fen),
    ]);
    let report = p
        .import_return(&approver, following.id, "回盘-一.txt", unknown.as_bytes())
        .await
        .unwrap();
    assert_eq!((report.paid, report.errors.len()), (1, 1), "{report:?}");
    assert!(report.errors[0].contains("序号9999"));
    assert!(!report.closed);
    let still = p.roll(&approver, following.id, 1).await.unwrap();
    assert_eq!((still.paid, still.pending), (1, following.lines - 1));
    assert_eq!(still.total_fen, header.total_fen);

    // The rest comes in a second file; now paid + failed = the roll's total and it closes.
    let rest: Vec<_> = lines[1..]
        .iter()
        .map(|l| (l.seq, l.name.as_str(), l.account.as_str(), l.amount_fen))
        .collect();
    let report = p
        .import_return(
            &approver,
            following.id,
            "回盘-二.txt",
            return_of(&rest).as_bytes(),
        )
        .await
        .unwrap();
    assert!(report.closed && report.errors.is_empty(), "{report:?}");
    let closed = p.roll(&approver, following.id, 1).await.unwrap();
    assert_eq!(closed.paid_fen + closed.failed_fen, closed.total_fen);
    assert_eq!(closed.stage_label, "已对账结清");
    s.set_clock(None);
    db.finish().await;
}

/// A one-off award paid in stages to a guardian, money withheld towards a receivable, the
/// month's report counting persons, and a bank's own layout for the file.
async fn awards_deductions_guardians_and_a_banks_own_layout(db: TestDb) {
    let db = db.with_demo(20).await;
    let s = &db.services;
    let p = s.payments();
    let (clerk, reviewer, approver, admin) = (
        db.actor("clerk").await,
        db.actor("reviewer").await,
        db.actor("approver").await,
        db.actor("admin").await,
    );
    let people = enrolled(&db).await;
    let month = month_of(s.today());
    let h0 = s
        .recipients()
        .enrolment(&clerk, people[0].0)
        .await
        .unwrap()
        .household_id;
    let h1 = s
        .recipients()
        .enrolment(&clerk, people[1].0)
        .await
        .unwrap()
        .household_id;

    // 临时救助 of 1,000.00 granted this month in two stages: 600.00 now, 400.00 next month.
    let region = s
        .recipients()
        .enrolment(&clerk, people[0].0)
        .await
        .unwrap()
        .region_code;
    let mut tx = s.store.begin().await.unwrap();
    let award = tx
        .insert_award(&jiuzhu_store::AwardRecord {
            id: 0,
            household_id: h0,
            case_id: None,
            item: "temporary_assistance".into(),
            region_code: region.clone(),
            amount_fen: 100_000,
            note: "火灾后临时救助，分两期".into(),
            stages: "[60000,40000]".into(),
            granted_by: "approver".into(),
            granted_at: Utc::now(),
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Paid to a guardian: someone outside the household must be marked as one.
    let guardian = s
        .people()
        .create(
            &clerk,
            &jiuzhu_services::people::PersonInput {
                id_number: jiuzhu_domain::IdNumber::from_parts(
                    "320582",
                    NaiveDate::from_ymd_opt(1975, 6, 1).unwrap(),
                    731,
                )
                .unwrap()
                .expose()
                .to_string(),
                name: "付卫东".into(),
                hukou_region: region.clone(),
                residence_region: region.clone(),
                residence_since: None,
                phone: None,
                disability_grade: None,
                disability_kind: None,
                serious_illness: None,
                labour_capacity: "full".into(),
                self_care: "full".into(),
                residence_permit: false,
            },
        )
        .await
        .unwrap();
    let mut payee = PayeeInput {
        person_id: guardian.id,
        guardian: false,
        holder_name: "付卫东".into(),
        bank: "张家港农村商业银行".into(),
        account: "6222021102003488888".into(),
    };
    let outsider = p.set_award_payee(&clerk, award, &payee).await;
    assert!(
        matches!(&outsider, Err(ServiceError::Invalid { field, .. }) if field == "person_id"),
        "{outsider:?}"
    );
    payee.guardian = true;
    let set = p.set_award_payee(&clerk, award, &payee).await.unwrap();
    assert_eq!(set.account_masked, "6222 **** **** 8888");

    // 追回 of 1,500.00 from the second household, 800.00 a month withheld; at most half of a
    // payment (the parameter) is withheld, so 500.00 this month.
    let receivable = p
        .add_receivable(
            &approver,
            &jiuzhu_services::payments::ReceivableInput {
                household_id: h1,
                amount_fen: 150_000,
                cause: "隐瞒工资收入多领低保金（复核发现）".into(),
            },
        )
        .await
        .unwrap();
    p.set_deduction(
        &approver,
        receivable.id,
        &jiuzhu_services::payments::DeductionInput {
            per_month_fen: 80_000,
        },
    )
    .await
    .unwrap();

    let input = RollInput {
        month: ym(month),
        program: None,
        region: None,
    };
    let roll = p.generate(&clerk, &input).await.unwrap();
    let all = {
        let mut all = roll.items.clone();
        for page in 2..=roll.pages {
            all.extend(p.roll(&clerk, roll.id, page).await.unwrap().items);
        }
        all
    };
    let stage: Vec<_> = all.iter().filter(|l| l.award_id == Some(award)).collect();
    assert_eq!(stage.len(), 1, "only the first stage is due this month");
    assert_eq!(
        (stage[0].amount_fen, stage[0].holder_name.as_str()),
        (60_000, "付卫东")
    );
    let withheld = all
        .iter()
        .find(|l| l.enrolment_id == Some(people[1].0))
        .unwrap();
    assert_eq!(
        (withheld.amount_fen, withheld.deduction_fen),
        (50_000, 50_000)
    );
    assert_eq!(
        all.iter().map(|l| l.amount_fen).sum::<i64>(),
        roll.total_fen
    );

    // Approval records what was withheld as recovered.
    p.advance(&reviewer, roll.id, "check").await.unwrap();
    p.advance(&approver, roll.id, "approve").await.unwrap();
    let after = p
        .receivables_of_household(&approver, h1)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == receivable.id)
        .unwrap();
    assert_eq!(
        (after.recovered_fen, after.outstanding_fen),
        (50_000, 100_000)
    );

    // A bank's own layout: tab-separated UTF-8, amounts in fen, a header row and a total row.
    let refused = p
        .put_bank_template(
            &clerk,
            &jiuzhu_services::payments::BankTemplateInput {
                code: "abc_zjg".into(),
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(refused, Err(ServiceError::Forbidden)),
        "{refused:?}"
    );
    p.put_bank_template(
        &admin,
        &jiuzhu_services::payments::BankTemplateInput {
            code: "abc_zjg".into(),
            name: "农业银行张家港支行批量代发".into(),
            columns: vec![
                "account".into(),
                "name".into(),
                "amount".into(),
                "memo".into(),
            ],
            separator: "\\t".into(),
            encoding: "utf8".into(),
            summary_line: false,
            header_row: true,
            total_row: true,
            amount_in_fen: true,
        },
    )
    .await
    .unwrap();
    let layout = p.bank_template("abc_zjg").await.unwrap();
    let file = p
        .bank_file_with(&approver, roll.id, "320582MZJ", &layout)
        .await
        .unwrap();
    let text = String::from_utf8(file).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "账号\t姓名\t金额\t摘要");
    assert_eq!(rows.len() as i64, roll.lines + 2);
    let guardian_row = rows.iter().find(|r| r.contains("付卫东")).unwrap();
    assert!(
        guardian_row.starts_with("6222021102003488888\t付卫东\t60000\t"),
        "{guardian_row}"
    );
    assert!(rows.last().unwrap().contains(&roll.total_fen.to_string()));

    // The report: the households and persons paid, and the total the roll's.
    let report = p.report(&clerk, &ym(month)).await.unwrap();
    assert_eq!(report.amount_fen, roll.total_fen);
    assert_eq!(report.deducted_fen, 50_000);
    assert!(report.persons >= report.households && report.households > 0);
    assert_eq!(
        report.rows.iter().map(|r| r.persons).sum::<i64>(),
        report.persons
    );
    db.finish().await;
}

stories!(
    a_month_is_paid_failures_are_paid_again_and_nothing_twice,
    awards_deductions_guardians_and_a_banks_own_layout
);
