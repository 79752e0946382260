//! Payments: the stages of a monthly roll, and the bank's batch-disbursement (批量代发) text file
//! and its return (回盘) — a summary first line, then `|`-separated detail lines. Text only here;
//! the GBK encoding is applied at the edge.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::person::coded_enum;
use crate::Money;

coded_enum! {
    /// Where a roll stands. The checker (审核) and the approver (审批) are different people; an
    /// approved roll is locked.
    RollStage {
        Draft => "draft", "草稿";
        Checked => "checked", "已审核";
        Approved => "approved", "已审批";
        Sent => "sent", "已送银行";
        Closed => "closed", "已对账结清";
    }
}

/// The summary line of a bank file: date, paying unit, line count, total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchHeader {
    pub date: NaiveDate,
    pub unit_code: String,
    pub count: usize,
    pub total_fen: i64,
}

/// One payment as the bank reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankLine {
    pub seq: usize,
    pub name: String,
    pub account: String,
    pub amount_fen: i64,
    pub id_number: String,
    pub memo: String,
}

/// One line of the bank's return: paid, or failed with the bank's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnLine {
    pub seq: usize,
    pub name: String,
    pub account: String,
    pub amount_fen: i64,
    pub paid: bool,
    pub reason: String,
}

/// Where a file is wrong: the line (1-based), the field, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("第{line}行“{field}”：{why}")]
pub struct FileError {
    pub line: usize,
    pub field: String,
    pub why: String,
}

fn fail(line: usize, field: &str, why: impl Into<String>) -> FileError {
    FileError {
        line,
        field: field.to_string(),
        why: why.into(),
    }
}

fn yuan(fen: i64) -> String {
    Money::from_fen(fen).to_plain_yuan()
}

fn amount(line: usize, field: &str, text: &str) -> Result<i64, FileError> {
    Money::parse_yuan(text.trim())
        .map(|m| m.fen())
        .map_err(|e| fail(line, field, e.to_string()))
        .and_then(|f| {
            if f < 0 {
                Err(fail(line, field, "金额不能为负"))
            } else {
                Ok(f)
            }
        })
}

coded_enum! {
    /// A column a bank's batch file may carry.
    BankColumn {
        Seq => "seq", "序号";
        Name => "name", "姓名";
        Account => "account", "账号";
        Amount => "amount", "金额";
        IdType => "id_type", "证件类型";
        IdNumber => "id_number", "身份证号";
        Memo => "memo", "摘要";
    }
}

coded_enum! {
    /// The character set a bank reads.
    FileEncoding {
        Gbk => "gbk", "GBK";
        Utf8 => "utf8", "UTF-8";
    }
}

/// A bank's batch-disbursement layout, as an administrator describes it: which columns in which
/// order, the separator, the encoding, whether a summary line (date, unit, count, total) comes
/// first, whether a row of column titles and a total row frame the details, and whether amounts
/// are in yuan (two decimals) or fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankTemplate {
    pub columns: Vec<BankColumn>,
    pub separator: char,
    pub encoding: FileEncoding,
    pub summary_line: bool,
    pub header_row: bool,
    pub total_row: bool,
    pub amount_in_fen: bool,
}

impl BankTemplate {
    /// The text file many banks take: `日期|单位代码|笔数|总金额`, then
    /// `序号|姓名|账号|金额|证件类型|证件号码|摘要` per payment, in GBK, amounts in yuan.
    pub fn pipe() -> BankTemplate {
        use BankColumn::*;
        BankTemplate {
            columns: vec![Seq, Name, Account, Amount, IdType, IdNumber, Memo],
            separator: '|',
            encoding: FileEncoding::Gbk,
            summary_line: true,
            header_row: false,
            total_row: false,
            amount_in_fen: false,
        }
    }

    /// The spreadsheet layout: a title row `序号,姓名,身份证号,账号,金额,摘要`, one row per
    /// payment, a total row last.
    pub fn csv() -> BankTemplate {
        use BankColumn::*;
        BankTemplate {
            columns: vec![Seq, Name, IdNumber, Account, Amount, Memo],
            separator: ',',
            encoding: FileEncoding::Gbk,
            summary_line: false,
            header_row: true,
            total_row: true,
            amount_in_fen: false,
        }
    }

    /// Refuses a layout a bank could not pay from: without name, account or amount, a column
    /// twice, or a separator that occurs inside amounts and numbers.
    pub fn check(&self) -> Result<(), FileError> {
        for needed in [BankColumn::Name, BankColumn::Account, BankColumn::Amount] {
            if !self.columns.contains(&needed) {
                return Err(fail(0, "columns", format!("缺少“{}”列", needed.label())));
            }
        }
        for (i, c) in self.columns.iter().enumerate() {
            if self.columns[..i].contains(c) {
                return Err(fail(0, "columns", format!("“{}”列重复", c.label())));
            }
        }
        if self.separator.is_alphanumeric() || ['.', '-', '"'].contains(&self.separator) {
            return Err(fail(
                0,
                "separator",
                format!("“{}”不能作分隔符（会出现在金额或账号中）", self.separator),
            ));
        }
        Ok(())
    }

    fn cell(&self, text: &str) -> String {
        if self.separator == ',' {
            if text.contains([',', '"', '\n', '\r']) {
                return format!(
                    "\"{}\"",
                    text.replace('"', "\"\"").replace(['\r', '\n'], " ")
                );
            }
            return text.to_string();
        }
        text.replace([self.separator, '\r', '\n'], " ")
    }

    fn amount(&self, fen: i64) -> String {
        if self.amount_in_fen {
            fen.to_string()
        } else {
            yuan(fen)
        }
    }

    fn join(&self, cells: Vec<String>) -> String {
        let mut row = cells.join(&self.separator.to_string());
        row.push('\n');
        row
    }

    /// What comes before the details: the summary line, the column titles.
    pub fn start(&self, header: &BatchHeader) -> String {
        let mut out = String::new();
        if self.summary_line {
            out.push_str(&self.join(vec![
                header.date.format("%Y%m%d").to_string(),
                self.cell(&header.unit_code),
                header.count.to_string(),
                self.amount(header.total_fen),
            ]));
        }
        if self.header_row {
            out.push_str(&self.join(self.columns.iter().map(|c| c.label().to_string()).collect()));
        }
        out
    }

    /// One payment's row.
    pub fn line(&self, l: &BankLine) -> String {
        self.join(
            self.columns
                .iter()
                .map(|c| match c {
                    BankColumn::Seq => l.seq.to_string(),
                    BankColumn::Name => self.cell(&l.name),
                    BankColumn::Account => self.cell(&l.account),
                    BankColumn::Amount => self.amount(l.amount_fen),
                    BankColumn::IdType => "01".to_string(),
                    BankColumn::IdNumber => self.cell(&l.id_number),
                    BankColumn::Memo => self.cell(&l.memo),
                })
                .collect(),
        )
    }

    /// What comes after the details, once their count and total are checked against the
    /// summary's.
    pub fn finish(
        &self,
        header: &BatchHeader,
        count: usize,
        total: i64,
    ) -> Result<String, FileError> {
        check_totals(header, count, total)?;
        if !self.total_row {
            return Ok(String::new());
        }
        // 合计 and the count go in the first two columns that are not the amount.
        let mut words = ["合计".to_string(), format!("{count}笔")].into_iter();
        let cells = self
            .columns
            .iter()
            .map(|c| match c {
                BankColumn::Amount => self.amount(total),
                _ => words.next().unwrap_or_default(),
            })
            .collect();
        Ok(self.join(cells))
    }

    /// The whole file, as text; refused when the header's count or total differ from the lines'.
    pub fn write(&self, header: &BatchHeader, lines: &[BankLine]) -> Result<String, FileError> {
        check_totals(
            header,
            lines.len(),
            lines.iter().map(|l| l.amount_fen).sum(),
        )?;
        let mut out = self.start(header);
        for l in lines {
            out.push_str(&self.line(l));
        }
        out.push_str(&self.finish(
            header,
            lines.len(),
            lines.iter().map(|l| l.amount_fen).sum(),
        )?);
        Ok(out)
    }
}

/// The batch file in the pipe layout ([`BankTemplate::pipe`]).
pub fn write_batch(header: &BatchHeader, lines: &[BankLine]) -> Result<String, FileError> {
    BankTemplate::pipe().write(header, lines)
}

/// The spreadsheet layout ([`BankTemplate::csv`]); its count and total are those of the lines.
pub fn write_csv(lines: &[BankLine]) -> String {
    let header = BatchHeader {
        date: NaiveDate::default(),
        unit_code: String::new(),
        count: lines.len(),
        total_fen: lines.iter().map(|l| l.amount_fen).sum(),
    };
    BankTemplate::csv()
        .write(&header, lines)
        .expect("the header is the lines'")
}

fn header_of(line: &str) -> Result<BatchHeader, FileError> {
    let f: Vec<&str> = line.split('|').map(str::trim).collect();
    if f.len() != 4 {
        return Err(fail(1, "汇总行", format!("应有4个字段，实有{}个", f.len())));
    }
    Ok(BatchHeader {
        date: NaiveDate::parse_from_str(f[0], "%Y%m%d")
            .map_err(|_| fail(1, "日期", format!("“{}”应写作20261203", f[0])))?,
        unit_code: f[1].to_string(),
        count: f[2]
            .parse()
            .map_err(|_| fail(1, "笔数", format!("“{}”不是整数", f[2])))?,
        total_fen: amount(1, "总金额", f[3])?,
    })
}

fn check_totals(header: &BatchHeader, count: usize, total: i64) -> Result<(), FileError> {
    if header.count != count {
        return Err(fail(
            1,
            "笔数",
            format!("汇总{}笔，明细{count}笔", header.count),
        ));
    }
    if header.total_fen != total {
        return Err(fail(
            1,
            "总金额",
            format!(
                "汇总{}元，明细合计{}元",
                yuan(header.total_fen),
                yuan(total)
            ),
        ));
    }
    Ok(())
}

/// Reads a batch file back (what the bank receives).
pub fn parse_batch(text: &str) -> Result<(BatchHeader, Vec<BankLine>), FileError> {
    let mut rows = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = rows.next().ok_or_else(|| fail(1, "汇总行", "文件为空"))?;
    let header = header_of(first.trim_start_matches('\u{feff}'))?;
    let mut lines = Vec::new();
    for (i, row) in rows {
        let n = i + 1;
        let f: Vec<&str> = row.split('|').map(str::trim).collect();
        if f.len() != 7 {
            return Err(fail(n, "明细行", format!("应有7个字段，实有{}个", f.len())));
        }
        lines.push(BankLine {
            seq: f[0]
                .parse()
                .map_err(|_| fail(n, "序号", format!("“{}”不是整数", f[0])))?,
            name: f[1].to_string(),
            account: f[2].to_string(),
            amount_fen: amount(n, "金额", f[3])?,
            id_number: f[5].to_string(),
            memo: f[6].to_string(),
        });
    }
    check_totals(
        &header,
        lines.len(),
        lines.iter().map(|l| l.amount_fen).sum(),
    )?;
    Ok((header, lines))
}

/// The bank's return: the batch's summary line, then `序号|姓名|账号|金额|结果|原因` with 结果
/// 成功 or 失败. The summary counts every line and totals every amount, paid or not.
pub fn parse_return(text: &str) -> Result<(BatchHeader, Vec<ReturnLine>), FileError> {
    let mut rows = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, first) = rows.next().ok_or_else(|| fail(1, "汇总行", "文件为空"))?;
    let header = header_of(first.trim_start_matches('\u{feff}'))?;
    let mut lines = Vec::new();
    for (i, row) in rows {
        let n = i + 1;
        let f: Vec<&str> = row.split('|').map(str::trim).collect();
        if f.len() != 6 {
            return Err(fail(n, "明细行", format!("应有6个字段，实有{}个", f.len())));
        }
        let paid = match f[4] {
            "成功" | "0" | "S" => true,
            "失败" | "1" | "F" => false,
            other => return Err(fail(n, "结果", format!("“{other}”应为成功或失败"))),
        };
        if !paid && f[5].is_empty() {
            return Err(fail(n, "原因", "失败的明细须写明原因"));
        }
        lines.push(ReturnLine {
            seq: f[0]
                .parse()
                .map_err(|_| fail(n, "序号", format!("“{}”不是整数", f[0])))?,
            name: f[1].to_string(),
            account: f[2].to_string(),
            amount_fen: amount(n, "金额", f[3])?,
            paid,
            reason: f[5].to_string(),
        });
    }
    check_totals(
        &header,
        lines.len(),
        lines.iter().map(|l| l.amount_fen).sum(),
    )?;
    Ok((header, lines))
}

/// `6222 **** **** 1234`: the bank and the last four, enough to recognise the card.
pub fn mask_account(account: &str) -> String {
    let digits: Vec<char> = account.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() < 8 {
        return "*".repeat(digits.len());
    }
    let head: String = digits[..4].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head} **** **** {tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines() -> Vec<BankLine> {
        vec![
            BankLine {
                seq: 1,
                name: "张桂英".into(),
                account: "6222021102003456789".into(),
                amount_fen: 127_000,
                id_number: "32058219620202001X".into(),
                memo: "2026年12月最低生活保障".into(),
            },
            BankLine {
                seq: 2,
                name: "李|四".into(),
                account: "6217001180001234".into(),
                amount_fen: 95_050,
                id_number: "320582196404040028".into(),
                memo: "2026年12月特困供养".into(),
            },
        ]
    }

    fn header(count: usize, total_fen: i64) -> BatchHeader {
        BatchHeader {
            date: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            unit_code: "320582MZJ".into(),
            count,
            total_fen,
        }
    }

    #[test]
    fn a_batch_file_round_trips_through_its_parser() {
        let text = write_batch(&header(2, 222_050), &lines()).unwrap();
        assert!(text
            .starts_with("20261203|320582MZJ|2|2220.50\n1|张桂英|6222021102003456789|1270.00|01|"));
        let (h, back) = parse_batch(&text).unwrap();
        assert_eq!(h, header(2, 222_050));
        assert_eq!(back[0], lines()[0]);
        // A separator inside a name cannot split its line.
        assert_eq!(back[1].name, "李 四");
    }

    #[test]
    fn counts_and_totals_must_agree() {
        let e = write_batch(&header(2, 222_000), &lines()).unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (1, "总金额"));
        let e = write_batch(&header(3, 222_050), &lines()).unwrap_err();
        assert_eq!(e.field, "笔数");
        let e = parse_return("20261203|U|1|10.00\n1|甲|6222|10.00|失败|\n").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (2, "原因"));
        let e = parse_return("20261203|U|1|10.00\n1|甲|6222|1O.00|成功|\n").unwrap_err();
        assert_eq!((e.line, e.field.as_str()), (2, "金额"));
        let ok = parse_return(
            "20261203|U|2|30.00\n1|甲|6222|10.00|成功|\n2|乙|6217|20.00|失败|户名不符\n",
        )
        .unwrap();
        assert_eq!(ok.1.iter().filter(|l| !l.paid).count(), 1);
        assert_eq!(ok.1[1].reason, "户名不符");
    }

    #[test]
    fn the_spreadsheet_layout_has_a_header_and_a_total_row() {
        let text = write_csv(&lines());
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows[0], "序号,姓名,身份证号,账号,金额,摘要");
        assert_eq!(rows.len(), 4);
        assert!(rows[1].starts_with("1,张桂英,32058219620202001X,6222021102003456789,1270.00,"));
        assert_eq!(rows[3], "合计,2笔,,,2220.50,");
    }

    #[test]
    fn a_banks_own_layout_orders_its_columns_and_writes_fen() {
        let t = BankTemplate {
            columns: vec![
                BankColumn::Amount,
                BankColumn::Account,
                BankColumn::Name,
                BankColumn::Memo,
            ],
            separator: '\t',
            encoding: FileEncoding::Utf8,
            summary_line: true,
            header_row: true,
            total_row: true,
            amount_in_fen: true,
        };
        t.check().unwrap();
        let mut odd = lines();
        odd[1].name = "李\t四".into();
        let text = t.write(&header(2, 222_050), &odd).unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(
            rows,
            [
                "20261203\t320582MZJ\t2\t222050",
                "金额\t账号\t姓名\t摘要",
                "127000\t6222021102003456789\t张桂英\t2026年12月最低生活保障",
                "95050\t6217001180001234\t李 四\t2026年12月特困供养",
                "222050\t合计\t2笔\t",
            ]
        );
        // A layout without the account or the amount cannot pay anyone.
        let e = BankTemplate {
            columns: vec![BankColumn::Name, BankColumn::Amount],
            ..t
        }
        .check()
        .unwrap_err();
        assert_eq!(e.field, "columns");
    }

    #[test]
    fn accounts_are_masked_to_the_first_and_last_four() {
        assert_eq!(
            mask_account("6222 0211 0200 3456 789"),
            "6222 **** **** 6789"
        );
        assert_eq!(mask_account("123"), "***");
    }
}
