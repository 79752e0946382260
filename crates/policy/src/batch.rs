//! The columnar batch path: persons' rows (`household_id, person_id, age, monthly_income,
//! excluded_income, disability_level, rigid_expense`, sorted by household) read into household
//! columns, then the same program functions as the single-household path, without a trace.
//!
//! Parsing and formatting work on byte slices so the caller decides how to read and write
//! (streaming chunks, threads); nothing here does I/O.

use jiuzhu_domain::Money;

use crate::param::Tier;
use crate::programs::dibao::{self, DibaoParams};
use crate::programs::poverty::{self, PovertyParams};
use crate::programs::special::elderly_monthly;
use crate::programs::{read, Means};
use crate::trace::NoTrace;
use crate::{ParamSet, PolicyError};

/// The header the persons file must start with.
pub const PERSONS_HEADER: &str =
    "household_id,person_id,age,monthly_income,excluded_income,disability_level,rigid_expense";

/// The header of the households file written.
pub const HOUSEHOLDS_HEADER: &str = "household_id,household_size,household_income,household_rigid_expense,per_capita_income,dibao_eligible,dibao_amount,income_poverty,expense_poverty,household_elderly_allowance";

/// The parameters of the batch programs, read once for the month.
#[derive(Debug, Clone)]
pub struct BatchRules {
    pub dibao: DibaoParams,
    pub poverty: PovertyParams,
    pub elderly: Vec<Tier>,
    /// The elderly allowance by age (0–130), looked up once per age from the scale.
    elderly_by_age: Vec<i64>,
}

impl BatchRules {
    pub fn read(ps: &ParamSet<'_>) -> Result<BatchRules, PolicyError> {
        let t = &mut NoTrace;
        let dibao = DibaoParams::read(ps, t)?;
        let poverty = PovertyParams::read(ps, t)?;
        let elderly = read(ps, "elderly.scale", t)?.tiers().to_vec();
        let elderly_by_age = (0..=130)
            .map(|age| elderly_monthly(age, &elderly).fen())
            .collect();
        Ok(BatchRules {
            dibao,
            poverty,
            elderly,
            elderly_by_age,
        })
    }
}

/// A row that could not be read: its line in the file, the column and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("第{line}行 {field}：{message}")]
pub struct RowError {
    pub line: u64,
    pub field: &'static str,
    pub message: String,
}

/// Households as columns, with the nine outputs.
#[derive(Debug, Default)]
pub struct Households {
    pub id: Vec<u64>,
    pub size: Vec<i64>,
    pub income: Vec<i64>,
    pub rigid: Vec<i64>,
    pub elderly: Vec<i64>,
    pub dibao_eligible: Vec<bool>,
    pub dibao_amount: Vec<i64>,
    pub income_poverty: Vec<bool>,
    pub expense_poverty: Vec<bool>,
}

impl Households {
    pub fn clear(&mut self) {
        for v in [
            &mut self.size,
            &mut self.income,
            &mut self.rigid,
            &mut self.elderly,
            &mut self.dibao_amount,
        ] {
            v.clear();
        }
        self.id.clear();
        self.dibao_eligible.clear();
        self.income_poverty.clear();
        self.expense_poverty.clear();
    }

    pub fn len(&self) -> usize {
        self.id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.id.is_empty()
    }
}

fn field_error(line: u64, field: &'static str, message: impl Into<String>) -> RowError {
    RowError {
        line,
        field,
        message: message.into(),
    }
}

/// A non-negative whole number.
#[inline]
fn parse_uint(bytes: &[u8], line: u64, field: &'static str) -> Result<u64, RowError> {
    if bytes.is_empty() || bytes.len() > 18 {
        return Err(field_error(
            line,
            field,
            format!("“{}”不是非负整数", String::from_utf8_lossy(bytes)),
        ));
    }
    let mut n: u64 = 0;
    for &b in bytes {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return Err(field_error(
                line,
                field,
                format!("“{}”不是非负整数", String::from_utf8_lossy(bytes)),
            ));
        }
        n = n * 10 + u64::from(d);
    }
    Ok(n)
}

/// Yuan, whole or with up to two decimals, as fen; negative amounts are refused.
#[inline]
fn parse_yuan(bytes: &[u8], line: u64, field: &'static str) -> Result<i64, RowError> {
    match bytes.iter().position(|&b| b == b'.') {
        None => Ok(parse_uint(bytes, line, field)? as i64 * 100),
        Some(dot) => {
            let (whole, frac) = (&bytes[..dot], &bytes[dot + 1..]);
            let bad = || {
                field_error(
                    line,
                    field,
                    format!(
                        "“{}”不是金额（元，至多两位小数，不能为负）",
                        String::from_utf8_lossy(bytes)
                    ),
                )
            };
            if frac.len() > 2 || whole.is_empty() {
                return Err(bad());
            }
            let w = parse_uint(whole, line, field).map_err(|_| bad())? as i64;
            let f = if frac.is_empty() {
                0
            } else {
                parse_uint(frac, line, field).map_err(|_| bad())? as i64
            };
            Ok(w * 100 + if frac.len() == 1 { f * 10 } else { f })
        }
    }
}

/// Up to seven digits at `*i` read eight bytes at a time (SWAR): the digit count comes from a
/// bit mask and the value from three multiplications, so field lengths cost no mispredicted
/// branches. `None` when eight bytes are not available or the field is not 1–7 digits.
#[inline(always)]
fn swar_digits(bytes: &[u8], i: &mut usize) -> Option<u64> {
    let word: [u8; 8] = bytes.get(*i..*i + 8)?.try_into().ok()?;
    let t = u64::from_le_bytes(word) ^ 0x3030_3030_3030_3030;
    // A byte of `t` above 9 is not a digit; carries only spill into later bytes, so the
    // lowest flagged byte is exact.
    let non_digit = (t.wrapping_add(0x7676_7676_7676_7676) | t) & 0x8080_8080_8080_8080;
    let len = (non_digit.trailing_zeros() / 8) as usize;
    if len == 0 || len == 8 {
        return None;
    }
    // Digits to the top bytes, leading zeros below; then pairs, quads and the whole.
    let v = t << (8 * (8 - len));
    let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    let v = (v.wrapping_mul(10_000) + (v >> 32)) & 0x0000_0000_FFFF_FFFF;
    *i += len;
    Some(v)
}

/// Digits from `*i`, one at a time; `None` when there are none or too many.
#[inline]
fn digits(bytes: &[u8], i: &mut usize) -> Option<u64> {
    let start = *i;
    let mut n: u64 = 0;
    while let Some(&b) = bytes.get(*i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        n = n * 10 + u64::from(d);
        *i += 1;
    }
    let len = *i - start;
    (len > 0 && len <= 18).then_some(n)
}

#[inline(always)]
fn number(bytes: &[u8], i: &mut usize) -> Option<u64> {
    // Most amounts, levels and flags are one digit (`0`): take them without the word trick.
    if let [d, next, ..] = bytes[*i..] {
        if d.is_ascii_digit() && !next.is_ascii_digit() && next != b'.' {
            *i += 1;
            return Some(u64::from(d - b'0'));
        }
    }
    match swar_digits(bytes, i) {
        Some(n) => Some(n),
        None => digits(bytes, i),
    }
}

/// Yuan from `*i` as fen: digits, then optionally `.` and one or two digits.
#[inline(always)]
fn yuan(bytes: &[u8], i: &mut usize) -> Option<i64> {
    let whole = number(bytes, i)? as i64 * 100;
    if bytes.get(*i) != Some(&b'.') {
        return Some(whole);
    }
    *i += 1;
    let start = *i;
    let frac = digits(bytes, i).unwrap_or(0) as i64;
    match *i - start {
        0 => Some(whole),
        1 => Some(whole + frac * 10),
        2 => Some(whole + frac),
        _ => None,
    }
}

#[inline(always)]
fn expect(bytes: &[u8], i: &mut usize, sep: u8) -> Option<()> {
    (bytes.get(*i) == Some(&sep)).then(|| *i += 1)
}

/// One row on the fast path: `None` on anything unusual, for [`explain_row`] to explain.
#[inline(always)]
fn fast_row(bytes: &[u8], i: &mut usize) -> Option<[i64; 6]> {
    let household = number(bytes, i)? as i64;
    expect(bytes, i, b',')?;
    number(bytes, i)?;
    expect(bytes, i, b',')?;
    let age = number(bytes, i)? as i64;
    expect(bytes, i, b',')?;
    let income = yuan(bytes, i)?;
    expect(bytes, i, b',')?;
    let excluded = yuan(bytes, i)?;
    expect(bytes, i, b',')?;
    let disability = number(bytes, i)? as i64;
    expect(bytes, i, b',')?;
    let rigid = yuan(bytes, i)?;
    if bytes.get(*i) == Some(&b'\r') {
        *i += 1;
    }
    match bytes.get(*i) {
        Some(b'\n') => *i += 1,
        None => {}
        Some(_) => return None,
    }
    (age <= 130 && disability <= 4 && excluded <= income)
        .then_some([household, age, income, excluded, disability, rigid])
}

/// The bytes a wide read looks at: the longest row the fast path takes whole.
const WIDE: usize = 40;

#[inline(always)]
fn word_at(bytes: &[u8], at: usize) -> u64 {
    let w: [u8; 8] = bytes[at..at + 8].try_into().expect("eight bytes");
    u64::from_le_bytes(w)
}

/// Bit k set when byte k of the 48 from `start` is not a digit. For the bytes of a valid row
/// (digits, `,`, `.`, `\r`, `\n`) no carry crosses bytes, so the mask is exact; any other byte
/// is flagged itself and the row falls back to the byte-by-byte path.
#[inline(always)]
fn separators(bytes: &[u8], start: usize) -> u64 {
    let mut mask = 0u64;
    for k in 0..WIDE / 8 {
        let t = word_at(bytes, start + 8 * k) ^ 0x3030_3030_3030_3030;
        let flags = ((t.wrapping_add(0x7676_7676_7676_7676) | t) & 0x8080_8080_8080_8080) >> 7;
        // Gathers the eight flag bits (one per byte) into one byte.
        mask |= (flags.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    mask
}

/// A field of 1–8 digits at `at` (its length known from the separators), by SWAR.
#[inline(always)]
fn field(bytes: &[u8], at: usize, len: usize) -> u64 {
    let t = word_at(bytes, at) ^ 0x3030_3030_3030_3030;
    let v = t << (8 * (8 - len));
    let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    (v.wrapping_mul(10_000) + (v >> 32)) & 0x0000_0000_FFFF_FFFF
}

/// A whole row of whole numbers from one look at its separators: seven fields, six commas and
/// a newline within [`WIDE`] bytes. `None` for anything else (decimals, CRLF, long fields), which
/// the narrower path reads. Returns the fields and the start of the next row.
#[inline(always)]
fn wide_row(bytes: &[u8], start: usize) -> Option<([i64; 7], usize)> {
    if start + WIDE + 8 > bytes.len() {
        return None;
    }
    let mut mask = separators(bytes, start);
    let mut vals = [0i64; 7];
    let mut from = 0usize;
    for (k, val) in vals.iter_mut().enumerate() {
        if mask == 0 {
            return None;
        }
        let at = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        let len = at - from;
        let sep = bytes[start + at];
        let expected = if k == 6 { b'\n' } else { b',' };
        if len == 0 || len > 8 || sep != expected {
            return None;
        }
        // The person number is not used and the disability level only checked, so neither
        // is converted.
        *val = match k {
            1 => 0,
            5 if len == 1 => i64::from(bytes[start + from] - b'0'),
            _ => field(bytes, start + from, len) as i64,
        };
        from = at + 1;
    }
    Some((vals, start + from))
}

/// One person's row, read: household, age, and money in fen.
#[derive(Debug, Clone, Copy)]
struct Row {
    household: u64,
    age: u32,
    income: i64,
    excluded: i64,
    rigid: i64,
}

/// Reads whole lines (no header), handing each row to `sink`; `first_line` is the file line
/// number of the first. A row the fast path cannot read is parsed again field by field to say
/// which field is wrong and why. Households must come in order.
#[inline(always)]
fn parse_rows(
    bytes: &[u8],
    first_line: u64,
    mut last: u64,
    mut sink: impl FnMut(Row),
) -> Result<(), RowError> {
    let mut line = first_line;
    let mut i = 0;
    while i < bytes.len() {
        let row = match wide_row(bytes, i) {
            Some(([household, _, age, income, excluded, disability, rigid], next))
                if age <= 130 && disability <= 4 && excluded <= income =>
            {
                i = next;
                [household, age, income * 100, excluded * 100, rigid * 100]
            }
            _ => {
                let start = i;
                if bytes[i] == b'\n' || bytes[i..].starts_with(b"\r\n") {
                    i += if bytes[i] == b'\n' { 1 } else { 2 };
                    line += 1;
                    continue;
                }
                match fast_row(bytes, &mut i) {
                    Some([household, age, income, excluded, _, rigid]) => {
                        [household, age, income, excluded, rigid]
                    }
                    None => {
                        let end = bytes[start..]
                            .iter()
                            .position(|&b| b == b'\n')
                            .map_or(bytes.len(), |p| start + p);
                        let raw = &bytes[start..end];
                        return Err(explain_row(raw.strip_suffix(b"\r").unwrap_or(raw), line));
                    }
                }
            }
        };
        let [household, age, income, excluded, rigid] = row;
        let household = household as u64;
        if household < last {
            return Err(field_error(
                line,
                "household_id",
                "文件未按户排序：同一户的成员应相邻且户号递增",
            ));
        }
        last = household;
        sink(Row {
            household,
            age: age as u32,
            income,
            excluded,
            rigid,
        });
        line += 1;
    }
    Ok(())
}

/// Parses whole lines (no header) straight into household columns: size, countable income,
/// rigid expense and elderly allowance per household. The chunk must hold whole households.
pub fn parse_households(
    bytes: &[u8],
    first_line: u64,
    rules: &BatchRules,
    out: &mut Households,
) -> Result<(), RowError> {
    let mut current: Option<(u64, [i64; 4])> = None;
    let flush = |out: &mut Households, id: u64, [size, income, rigid, elderly]: [i64; 4]| {
        out.id.push(id);
        out.size.push(size);
        out.income.push(income);
        out.rigid.push(rigid);
        out.elderly.push(elderly);
    };
    let last = out.id.last().copied().unwrap_or(0);
    parse_rows(bytes, first_line, last, |r| {
        let elderly = rules.elderly_by_age[r.age as usize];
        match &mut current {
            Some((id, acc)) if *id == r.household => {
                acc[0] += 1;
                acc[1] += r.income - r.excluded;
                acc[2] += r.rigid;
                acc[3] += elderly;
            }
            _ => {
                if let Some((id, acc)) = current.take() {
                    flush(out, id, acc);
                }
                current = Some((r.household, [1, r.income - r.excluded, r.rigid, elderly]));
            }
        }
    })?;
    if let Some((id, acc)) = current {
        flush(out, id, acc);
    }
    Ok(())
}

/// Why a row the fast path refused is wrong: field by field, the first field at fault.
fn explain_row(row: &[u8], line: u64) -> RowError {
    match check_row(row, line) {
        Err(e) => e,
        Ok(()) => field_error(line, "household_id", "无法识别的行"),
    }
}

fn check_row(row: &[u8], line: u64) -> Result<(), RowError> {
    let mut fields = row.split(|&b| b == b',');
    let mut next = |field: &'static str| {
        fields
            .next()
            .ok_or_else(|| field_error(line, field, "缺少该列"))
    };
    parse_uint(next("household_id")?, line, "household_id")?;
    parse_uint(next("person_id")?, line, "person_id")?;
    let age = parse_uint(next("age")?, line, "age")?;
    let income = parse_yuan(next("monthly_income")?, line, "monthly_income")?;
    let excluded = parse_yuan(next("excluded_income")?, line, "excluded_income")?;
    let disability = parse_uint(next("disability_level")?, line, "disability_level")?;
    parse_yuan(next("rigid_expense")?, line, "rigid_expense")?;
    if fields.next().is_some() {
        return Err(field_error(line, "rigid_expense", "列数多于7列"));
    }
    if age > 130 {
        return Err(field_error(line, "age", format!("年龄{age}岁不合常理")));
    }
    if disability > 4 {
        return Err(field_error(
            line,
            "disability_level",
            format!("残疾等级应为0至4，实际为{disability}"),
        ));
    }
    if excluded > income {
        return Err(field_error(
            line,
            "excluded_income",
            "不计入收入的部分大于月收入",
        ));
    }
    Ok(())
}

/// Applies the programs to every household: the same `dibao::assess` and `poverty` functions
/// as one household's evaluation, with no assets declared, no history and no trace.
pub fn decide(h: &mut Households, rules: &BatchRules) {
    let t = &mut NoTrace;
    for i in 0..h.len() {
        // The file's rigid expense is a monthly average; the rule compares 12 months of each.
        let means = Means {
            size: h.size[i],
            income: Money::from_fen(h.income[i]),
            rigid_12m: Money::from_fen(h.rigid[i] * 12),
        };
        let d = dibao::assess(&means, None, None, &rules.dibao, t);
        h.dibao_eligible.push(d.eligible);
        h.dibao_amount.push(d.amount.fen());
        h.income_poverty
            .push(poverty::income_type(&means, &rules.poverty, t).eligible);
        h.expense_poverty
            .push(poverty::expense_type(&means, &rules.poverty, t).eligible);
    }
}

/// The longest line `format` writes: ten fields of at most 22 bytes.
const MAX_LINE: usize = 240;

/// Writes into a buffer sized beforehand, so no byte is bounds-checked twice or copied again.
struct Cursor<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Cursor<'_> {
    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.buf[self.at] = b;
        self.at += 1;
    }

    #[inline(always)]
    fn uint(&mut self, mut n: u64) {
        // Two digits at a time from a table, written from the end.
        const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
        5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";
        // Straight into the buffer from the last digit back: composing the number in a scratch
        // array and copying it out stalls on every reload of what was just stored.
        let len = digit_count(n);
        let mut end = self.at + len;
        self.at = end;
        while n >= 100 {
            let pair = (n % 100) as usize * 2;
            n /= 100;
            self.buf[end - 2] = PAIRS[pair];
            self.buf[end - 1] = PAIRS[pair + 1];
            end -= 2;
        }
        if n >= 10 {
            let pair = n as usize * 2;
            self.buf[end - 2] = PAIRS[pair];
            self.buf[end - 1] = PAIRS[pair + 1];
        } else {
            self.buf[end - 1] = b'0' + n as u8;
        }
    }

    /// Yuan with two decimals: `1234.50`.
    #[inline(always)]
    fn yuan(&mut self, fen: i64) {
        if fen == 0 {
            self.buf[self.at..self.at + 4].copy_from_slice(b"0.00");
            self.at += 4;
            return;
        }
        if fen < 0 {
            self.byte(b'-');
        }
        let a = fen.unsigned_abs();
        self.uint(a / 100);
        let c = (a % 100) as u8;
        self.byte(b'.');
        self.byte(b'0' + c / 10);
        self.byte(b'0' + c % 10);
    }
}

/// Decimal digits of `n` from its bit length, without dividing.
#[inline(always)]
fn digit_count(n: u64) -> usize {
    const POW10: [u64; 20] = {
        let mut p = [1u64; 20];
        let mut i = 1;
        while i < 20 {
            p[i] = p[i - 1] * 10;
            i += 1;
        }
        p
    };
    let bits = 64 - (n | 1).leading_zeros() as usize;
    let t = (bits * 1233) >> 12;
    (t + 1 - usize::from(n < POW10[t])).max(1)
}

/// Per-capita income to the fen, half away from zero, as `Money::mul_ratio` rounds, in i64.
#[inline(always)]
fn per_capita(income: i64, size: i64) -> i64 {
    let size = size.max(1);
    // A 32-bit division is several times faster, and almost every household fits it.
    if let (Ok(income), Ok(size)) = (u32::try_from(income), u32::try_from(size)) {
        let (q, r) = (income / size, income % size);
        return i64::from(q + u32::from(2 * u64::from(r) >= u64::from(size)));
    }
    let (q, r) = (income / size, income % size);
    if 2 * r.abs() >= size {
        q + income.signum()
    } else {
        q
    }
}

/// Writes one CSV line per household (no header) from the start of `scratch`, which only ever
/// grows (so it is not cleared for every chunk), and returns the number of bytes written.
pub fn format(h: &Households, scratch: &mut Vec<u8>) -> usize {
    let flag = |b: bool| if b { b'1' } else { b'0' };
    let need = h.len() * MAX_LINE;
    if scratch.len() < need {
        scratch.resize(need, 0);
    }
    let mut c = Cursor {
        buf: scratch,
        at: 0,
    };
    let n = h.len();
    // Slices of one length, so the loop's indexing needs no bounds checks.
    let (id, size, income, rigid) = (&h.id[..n], &h.size[..n], &h.income[..n], &h.rigid[..n]);
    let (eligible, amount, elderly) = (
        &h.dibao_eligible[..n],
        &h.dibao_amount[..n],
        &h.elderly[..n],
    );
    let (income_type, expense_type) = (&h.income_poverty[..n], &h.expense_poverty[..n]);
    for i in 0..n {
        c.uint(id[i]);
        c.byte(b',');
        c.uint(size[i] as u64);
        c.byte(b',');
        c.yuan(income[i]);
        c.byte(b',');
        c.yuan(rigid[i]);
        c.byte(b',');
        c.yuan(per_capita(income[i], size[i]));
        c.byte(b',');
        c.byte(flag(eligible[i]));
        c.byte(b',');
        c.yuan(amount[i]);
        c.byte(b',');
        c.byte(flag(income_type[i]));
        c.byte(b',');
        c.byte(flag(expense_type[i]));
        c.byte(b',');
        c.yuan(elderly[i]);
        c.byte(b'\n');
    }
    c.at
}

/// Counts and sums over households, to compare with the reference table.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub persons: u64,
    pub households: u64,
    pub dibao_eligible: u64,
    pub income_poverty: u64,
    pub expense_poverty: u64,
    pub dibao_amount: i64,
    pub elderly_allowance: i64,
    pub household_income: i64,
}

impl Totals {
    pub fn add(&mut self, h: &Households) {
        self.households += h.len() as u64;
        self.persons += h.size.iter().sum::<i64>() as u64;
        self.dibao_eligible += h.dibao_eligible.iter().filter(|b| **b).count() as u64;
        self.income_poverty += h.income_poverty.iter().filter(|b| **b).count() as u64;
        self.expense_poverty += h.expense_poverty.iter().filter(|b| **b).count() as u64;
        self.dibao_amount += h.dibao_amount.iter().sum::<i64>();
        self.elderly_allowance += h.elderly.iter().sum::<i64>();
        self.household_income += h.income.iter().sum::<i64>();
    }

    pub fn merge(&mut self, o: &Totals) {
        self.persons += o.persons;
        self.households += o.households;
        self.dibao_eligible += o.dibao_eligible;
        self.income_poverty += o.income_poverty;
        self.expense_poverty += o.expense_poverty;
        self.dibao_amount += o.dibao_amount;
        self.elderly_allowance += o.elderly_allowance;
        self.household_income += o.household_income;
    }
}

/// Where to cut a buffer of whole lines so that no household is split: the start of the last
/// household's first line. `None` when the buffer holds a single household.
pub fn household_boundary(bytes: &[u8]) -> Option<usize> {
    let end = bytes.iter().rposition(|&b| b == b'\n')?;
    let line_start = |end: usize| {
        bytes[..end]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
    };
    let key = |start: usize| {
        let rest = &bytes[start..];
        &rest[..rest.iter().position(|&b| b == b',').unwrap_or(rest.len())]
    };
    let mut start = line_start(end);
    let last = key(start);
    while start > 0 {
        let prev = line_start(start - 1);
        if key(prev) != last {
            return Some(start);
        }
        start = prev;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_in_full() {
        for n in [
            0u64,
            1,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            123_456,
            9_999_999,
            10_000_000,
            u64::MAX,
        ] {
            assert_eq!(digit_count(n), n.to_string().len(), "{n}");
            let mut buf = vec![0u8; 64];
            let mut c = Cursor {
                buf: &mut buf,
                at: 0,
            };
            c.uint(n);
            let at = c.at;
            assert_eq!(std::str::from_utf8(&buf[..at]).unwrap(), n.to_string());
        }
        let mut buf = vec![0u8; 64];
        let mut c = Cursor {
            buf: &mut buf,
            at: 0,
        };
        for fen in [0i64, 5, 100, 123_405, -250] {
            c.yuan(fen);
            c.byte(b' ');
        }
        let at = c.at;
        assert_eq!(
            std::str::from_utf8(&buf[..at]).unwrap(),
            "0.00 0.05 1.00 1234.05 -2.50 "
        );
        assert_eq!(
            (per_capita(10, 3), per_capita(20, 3), per_capita(5, 2)),
            (3, 7, 3)
        );
    }
}
