//! Department data feeds, read: the categories and their typed columns, the text encoding of a
//! file, and each row turned into a fact or rejected with its row number, field and reason.
//! Pure: bytes in, facts and rejections out; storing them is the store's business.

pub mod category;
pub mod verify;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use jiuzhu_domain::{IdNumber, Money};
use serde::Serialize;
use thiserror::Error;

pub use category::{category, Category, Column, Kind, CATEGORIES};

/// The encodings department files arrive in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Encoding {
    Utf8,
    /// GBK and its superset GB18030 are read alike: GB18030 decodes every GBK file.
    Gb18030,
    /// An Excel workbook (.xlsx or .xls): text is Unicode inside.
    Excel,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Gb18030 => "GB18030",
            Encoding::Excel => "Excel",
        }
    }
}

/// Which encoding a file is in, from its first bytes: UTF-8 when they are valid UTF-8 (a
/// sequence cut by the end of the sample is allowed), otherwise GB18030, which covers GBK.
/// Chinese text in GBK is practically never valid UTF-8.
pub fn sniff(sample: &[u8]) -> Encoding {
    match std::str::from_utf8(sample) {
        Ok(_) => Encoding::Utf8,
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Gb18030,
    }
}

/// A reader that turns a file's bytes into UTF-8 as they are read, a block at a time, so a file
/// of any size is read in bounded memory.
pub struct Decoding<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    output: String,
    at: usize,
    done: bool,
}

impl<R: std::io::Read> Decoding<R> {
    /// `head` is what was already read from `inner` to sniff the encoding.
    pub fn new(head: Vec<u8>, inner: R, encoding: Encoding) -> Decoding<R> {
        let decoder = match encoding {
            Encoding::Gb18030 => encoding_rs::GB18030.new_decoder_without_bom_handling(),
            // A text stream is never an Excel workbook; `sniff` answers only the two others.
            Encoding::Utf8 | Encoding::Excel => encoding_rs::UTF_8.new_decoder_with_bom_removal(),
        };
        Decoding {
            inner,
            decoder,
            input: head,
            output: String::new(),
            at: 0,
            done: false,
        }
    }
}

impl<R: std::io::Read> std::io::Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.output.len() {
            if self.done {
                return Ok(0);
            }
            self.output.clear();
            self.at = 0;
            if self.input.is_empty() {
                self.input.resize(1 << 16, 0);
                let n = self.inner.read(&mut self.input)?;
                self.input.truncate(n);
                self.done = n == 0;
            }
            let need = self
                .decoder
                .max_utf8_buffer_length(self.input.len())
                .unwrap_or(self.input.len() * 4 + 16);
            self.output.reserve(need);
            let (_, _, _) = self
                .decoder
                .decode_to_string(&self.input, &mut self.output, self.done);
            self.input.clear();
        }
        let n = buf.len().min(self.output.len() - self.at);
        buf[..n].copy_from_slice(&self.output.as_bytes()[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A value read from a typed column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Text(String),
    /// Fen.
    Money(i64),
    Date(NaiveDate),
    /// The first day of the month.
    Month(NaiveDate),
    Count(i64),
}

/// One row of a feed, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// The row's line in the file (the header is line 1).
    pub row: u64,
    pub id_number: IdNumber,
    pub name: String,
    pub values: BTreeMap<&'static str, Value>,
}

/// A row that could not be read, and why. Nothing of it is kept as a fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub row: u64,
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FeedError {
    #[error("未知的数据类别“{0}”")]
    UnknownCategory(String),
    #[error("文件没有表头行")]
    NoHeader,
    #[error("缺少必填列“{label}”（{key}）；表头为：{header}")]
    MissingColumn {
        key: &'static str,
        label: &'static str,
        header: String,
    },
    #[error("第{row}行无法读取：{reason}")]
    Malformed { row: u64, reason: String },
}

/// What a file gave: the facts, the rejected rows and how it was read.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub encoding: Encoding,
    pub facts: Vec<Fact>,
    pub rejected: Vec<Rejection>,
}

fn parse_money(s: &str) -> Result<i64, String> {
    let m = Money::parse_yuan(s).map_err(|e| e.to_string())?;
    if m.is_negative() {
        return Err(format!("金额不能为负数：{s}"));
    }
    Ok(m.fen())
}

/// `2025-03-01`, `2025/3/1`, `2025.3.1`, `20250301`, `2025年3月1日`.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(t, "%Y%m%d").ok();
    }
    let parts: Vec<&str> = t
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.is_empty())
        .collect();
    match parts.as_slice() {
        [y, m, d] => NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?),
        _ => None,
    }
}

/// `2025-03`, `2025/3`, `202503`, `2025年3月`.
pub fn parse_month(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    if t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::from_ymd_opt(t[..4].parse().ok()?, t[4..].parse().ok()?, 1);
    }
    let parts: Vec<&str> = t
        .split(['-', '/', '.', '年', '月'])
        .filter(|p| !p.is_empty())
        .collect();
    match parts.as_slice() {
        [y, m] => NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1),
        _ => None,
    }
}

fn read_value(kind: Kind, s: &str) -> Result<Value, String> {
    match kind {
        Kind::Text => Ok(Value::Text(s.to_string())),
        Kind::Money => parse_money(s).map(Value::Money),
        Kind::Date => parse_date(s)
            .map(Value::Date)
            .ok_or_else(|| format!("“{s}”不是日期（如 2025-03-01）")),
        Kind::Month => parse_month(s)
            .map(Value::Month)
            .ok_or_else(|| format!("“{s}”不是月份（如 2025-03）")),
        Kind::Count => s
            .replace(',', "")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| Value::Count(v.round() as i64))
            .ok_or_else(|| format!("“{s}”不是非负数")),
    }
}

/// Reads a CSV feed of one category row by row, in bounded memory, whatever its encoding.
pub struct FeedReader<R: std::io::Read> {
    category: &'static Category,
    positions: Vec<Option<&'static Column>>,
    reader: csv::Reader<Decoding<R>>,
    /// Reused for every row.
    record: csv::StringRecord,
    row: u64,
    today: NaiveDate,
    pub encoding: Encoding,
}

impl<R: std::io::Read> FeedReader<R> {
    /// Sniffs the encoding, reads the header and checks that every required column is there.
    /// `today` bounds the birth dates of identity numbers.
    pub fn new(
        category: &'static Category,
        mut inner: R,
        today: NaiveDate,
    ) -> Result<FeedReader<R>, FeedError> {
        let mut head = vec![0u8; 1 << 16];
        let mut filled = 0;
        while filled < head.len() {
            match inner.read(&mut head[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => {
                    return Err(FeedError::Malformed {
                        row: 1,
                        reason: e.to_string(),
                    })
                }
            }
        }
        head.truncate(filled);
        let encoding = sniff(&head);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(Decoding::new(head, inner, encoding));
        let mut header = csv::StringRecord::new();
        match reader.read_record(&mut header) {
            Ok(true) => {}
            Ok(false) => return Err(FeedError::NoHeader),
            Err(e) => {
                return Err(FeedError::Malformed {
                    row: 1,
                    reason: e.to_string(),
                })
            }
        }
        let positions = positions(category, header.iter())?;
        Ok(FeedReader {
            category,
            positions,
            reader,
            record: csv::StringRecord::new(),
            row: 1,
            today,
            encoding,
        })
    }
}

impl<R: std::io::Read> Iterator for FeedReader<R> {
    type Item = Result<Fact, Rejection>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let read = self.reader.read_record(&mut self.record);
            self.row += 1;
            let record = match read {
                Ok(true) => &self.record,
                Ok(false) => return None,
                Err(e) => {
                    return Some(Err(Rejection {
                        row: self.row,
                        field: String::new(),
                        reason: format!("无法读取：{e}"),
                    }))
                }
            };
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            return Some(read_row(
                self.category,
                &self.positions,
                record.iter(),
                self.row,
                self.today,
            ));
        }
    }
}

/// Which column each header cell names; every required column must be there.
fn positions<'h>(
    category: &Category,
    header: impl Iterator<Item = &'h str> + Clone,
) -> Result<Vec<Option<&'static Column>>, FeedError> {
    let positions: Vec<Option<&'static Column>> =
        header.clone().map(|h| category.column_for(h)).collect();
    for c in category.columns.iter().filter(|c| c.required) {
        if !positions.iter().any(|p| p.is_some_and(|p| p.key == c.key)) {
            return Err(FeedError::MissingColumn {
                key: c.key,
                label: c.label,
                header: header.collect::<Vec<_>>().join(","),
            });
        }
    }
    Ok(positions)
}

/// A spreadsheet cell as the text a CSV would carry.
fn cell_text(cell: &calamine::Data) -> String {
    use calamine::Data;
    match cell {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|t| t.date().to_string())
            .unwrap_or_default(),
        Data::Error(e) => format!("#{e:?}"),
        Data::Empty => String::new(),
    }
}

/// Reads the first sheet of an Excel workbook (.xlsx or .xls) of one category, as a CSV file is
/// read: the header row first, bad rows rejected with their row (as Excel numbers it), field and
/// reason.
pub fn parse_excel(
    category: &'static Category,
    bytes: &[u8],
    today: NaiveDate,
) -> Result<Parsed, FeedError> {
    use calamine::Reader;
    let unreadable = |e: String| FeedError::Malformed {
        row: 1,
        reason: format!("无法读取Excel文件：{e}"),
    };
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| unreadable(e.to_string()))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or(FeedError::NoHeader)?
        .map_err(|e| unreadable(e.to_string()))?;
    let first_row = range.start().map_or(0, |(r, _)| u64::from(r)) + 1;
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .ok_or(FeedError::NoHeader)?
        .iter()
        .map(cell_text)
        .collect();
    let positions = positions(category, header.iter().map(String::as_str))?;
    let (mut facts, mut rejected) = (Vec::new(), Vec::new());
    for (i, cells) in rows.enumerate() {
        let row = first_row + 1 + i as u64;
        let texts: Vec<String> = cells.iter().map(cell_text).collect();
        if texts.iter().all(|t| t.is_empty()) {
            continue;
        }
        match read_row(
            category,
            &positions,
            texts.iter().map(String::as_str),
            row,
            today,
        ) {
            Ok(f) => facts.push(f),
            Err(r) => rejected.push(r),
        }
    }
    Ok(Parsed {
        encoding: Encoding::Excel,
        facts,
        rejected,
    })
}

/// Reads a whole CSV feed held in memory (tests, small uploads).
pub fn parse_csv(
    category: &'static Category,
    bytes: &[u8],
    today: NaiveDate,
) -> Result<Parsed, FeedError> {
    let reader = FeedReader::new(category, bytes, today)?;
    let encoding = reader.encoding;
    let (mut facts, mut rejected) = (Vec::new(), Vec::new());
    for r in reader {
        match r {
            Ok(f) => facts.push(f),
            Err(r) => rejected.push(r),
        }
    }
    Ok(Parsed {
        encoding,
        facts,
        rejected,
    })
}

fn read_row<'c>(
    category: &Category,
    positions: &[Option<&'static Column>],
    record: impl Iterator<Item = &'c str>,
    row: u64,
    today: NaiveDate,
) -> Result<Fact, Rejection> {
    let reject = |field: &str, reason: String| Rejection {
        row,
        field: field.to_string(),
        reason,
    };
    // The cell of each of the category's columns, by the column's place in the category.
    let mut cells = [""; 16];
    for (p, cell) in positions.iter().zip(record) {
        if let Some(c) = p {
            let at = category
                .columns
                .iter()
                .position(|x| std::ptr::eq(x, *c))
                .expect("a column of this category");
            cells[at] = cell.trim();
        }
    }
    let mut values = BTreeMap::new();
    for (i, c) in category.columns.iter().enumerate() {
        let cell = cells[i];
        // What a decoder could not read (bytes invalid in the file's encoding) is not guessed.
        if cell.contains('\u{fffd}') {
            return Err(reject(
                c.key,
                format!(
                    "“{}”含无法识别的字符：该行的编码与文件其余部分不符",
                    c.label
                ),
            ));
        }
        if cell.is_empty() {
            if c.required {
                return Err(reject(c.key, format!("“{}”为空", c.label)));
            }
            continue;
        }
        if matches!(c.key, "id_number" | "name") {
            continue;
        }
        let v = read_value(c.kind, cell).map_err(|e| reject(c.key, format!("{}：{e}", c.label)))?;
        values.insert(c.key, v);
    }
    // Every category starts with the identity number and the name.
    let id_number =
        IdNumber::parse(cells[0], today).map_err(|e| reject("id_number", e.to_string()))?;
    Ok(Fact {
        row,
        id_number,
        name: cells[1].to_string(),
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn every_category_has_a_department_and_unique_columns() {
        assert!(CATEGORIES.len() >= 22);
        for c in CATEGORIES {
            assert!(!c.department.is_empty());
            assert_eq!(c.columns[0].key, "id_number");
            assert_eq!(c.columns[1].key, "name");
            // Rows are read into a fixed array of 16 cells.
            assert!(c.columns.len() <= 16, "{}", c.code);
            let mut keys: Vec<_> = c.columns.iter().map(|x| x.key).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), c.columns.len(), "{}", c.code);
        }
    }

    #[test]
    fn gbk_and_utf8_files_read_alike_and_bad_rows_say_why() {
        let text = "公民身份号码,姓名,所属期,应发工资,单位名称\n\
                    11010519491231002X,张桂英,2025-03,\"4,500.00\",张家港某厂\n\
                    110105194912310021,李四,2025-03,3000,某厂\n\
                    11010519491231002X,张桂英,2025年13月,3000,某厂\n\
                    11010519491231002X,张桂英,202504,,某厂\n\
                    ,,,,\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let wage = category("wage").unwrap();
        for (bytes, encoding) in [
            (text.as_bytes().to_vec(), Encoding::Utf8),
            (gbk.into_owned(), Encoding::Gb18030),
        ] {
            let p = parse_csv(wage, &bytes, today()).unwrap();
            assert_eq!(p.encoding, encoding);
            assert_eq!(p.facts.len(), 1);
            assert_eq!(p.facts[0].name, "张桂英");
            assert_eq!(p.facts[0].values["amount"], Value::Money(450_000));
            assert_eq!(
                p.facts[0].values["month"],
                Value::Month(NaiveDate::from_ymd_opt(2025, 3, 1).unwrap())
            );
            let why: Vec<_> = p
                .rejected
                .iter()
                .map(|r| (r.row, r.field.as_str()))
                .collect();
            assert_eq!(why, [(3, "id_number"), (4, "month"), (5, "amount")]);
            assert!(p.rejected[2].reason.contains("为空"));
        }
    }

    #[test]
    fn a_large_gbk_file_streams_across_block_boundaries() {
        let mut text = String::from("身份证号,姓名,号牌号码,初次登记日期\n");
        for i in 0..20_000 {
            text.push_str(&format!(
                "11010519491231002X,张桂英{i},苏E{i:05},2025-03-01\n"
            ));
        }
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        assert!(gbk.len() > 1 << 17, "more than two blocks");
        let reader = FeedReader::new(category("vehicle").unwrap(), &gbk[..], today()).unwrap();
        assert_eq!(reader.encoding, Encoding::Gb18030);
        let facts: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
        assert_eq!(facts.len(), 20_000);
        assert_eq!(facts[19_999].name, "张桂英19999");
        assert_eq!(facts[19_999].row, 20_001);
        assert_eq!(
            facts[12_345].values["plate"],
            Value::Text("苏E12345".into())
        );
    }

    #[test]
    fn bytes_the_encoding_cannot_read_reject_their_row_not_the_file() {
        let mut bytes = "身份证号,姓名,号牌号码,初次登记日期\n".as_bytes().to_vec();
        for i in 0..5_000 {
            bytes.extend(format!("11010519491231002X,张桂英{i},苏E{i:05},2025-03-01\n").bytes());
        }
        // Past the first block (which decided UTF-8), a row carries a byte UTF-8 never has.
        assert!(bytes.len() > 1 << 17);
        bytes.extend(b"11010519491231002X,\xff\xfe,\xe8\x8b\x8fE1,2025-03-01\n");
        bytes.extend("11010519491231002X,李四,苏E99999,2025-03-01\n".bytes());
        let reader = FeedReader::new(category("vehicle").unwrap(), &bytes[..], today()).unwrap();
        assert_eq!(reader.encoding, Encoding::Utf8);
        let rows: Vec<_> = reader.collect();
        assert_eq!(rows.len(), 5_002);
        let bad = rows[5_000].as_ref().unwrap_err();
        assert_eq!((bad.row, bad.field.as_str()), (5_002, "name"));
        assert!(bad.reason.contains("无法识别的字符"), "{}", bad.reason);
        assert_eq!(rows[5_001].as_ref().unwrap().name, "李四");
    }

    #[test]
    fn a_missing_column_refuses_the_file() {
        let err = parse_csv(
            category("vehicle").unwrap(),
            "身份证号,姓名,车型\n".as_bytes(),
            today(),
        )
        .unwrap_err();
        assert!(
            matches!(err, FeedError::MissingColumn { key: "plate", .. }),
            "{err}"
        );
        assert!(err.to_string().contains("号牌号码"));
    }

    #[test]
    fn dates_and_months_are_read_as_departments_write_them() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(parse_date("2025-03-01"), Some(d(2025, 3, 1)));
        assert_eq!(parse_date("2025/3/1"), Some(d(2025, 3, 1)));
        assert_eq!(parse_date("20250301"), Some(d(2025, 3, 1)));
        assert_eq!(parse_date("2025年3月1日"), Some(d(2025, 3, 1)));
        assert_eq!(parse_date("2025-02-30"), None);
        assert_eq!(parse_month("202503"), Some(d(2025, 3, 1)));
        assert_eq!(parse_month("2025年3月"), Some(d(2025, 3, 1)));
        assert_eq!(parse_month("2025-13"), None);
    }
}
