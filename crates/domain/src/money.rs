//! Money as integer fen (分). Never a float: every benefit, payment and sum is exact.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Neg, Sub, SubAssign};

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoneyError {
    #[error("金额“{0}”不是有效的数字")]
    Malformed(String),
    #[error("金额“{0}”的小数超过两位（分）")]
    TooPrecise(String),
    #[error("金额“{0}”超出范围（不超过100亿元）")]
    Overflow(String),
}

/// An amount of renminbi in fen. Serialised as an integer number of fen.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Self {
        Money(fen)
    }

    pub const fn from_yuan(yuan: i64) -> Self {
        Money(yuan * 100)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn abs(self) -> Money {
        Money(self.0.abs())
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    pub fn checked_mul(self, factor: i64) -> Option<Money> {
        self.0.checked_mul(factor).map(Money)
    }

    /// `self × numerator / denominator`, rounded half away from zero to the fen.
    /// Ratios of policy (1.3×, 75%, 50%) are applied through this, never through floats.
    pub fn mul_ratio(self, numerator: i64, denominator: i64) -> Money {
        assert!(denominator != 0, "ratio with a zero denominator");
        let product = i128::from(self.0) * i128::from(numerator);
        let d = i128::from(denominator);
        let (q, r) = (product / d, product % d);
        let rounded = if 2 * r.abs() >= d.abs() {
            q + product.signum() * d.signum()
        } else {
            q
        };
        Money(i64::try_from(rounded).expect("money overflow in ratio"))
    }

    /// Splits an amount into `parts` shares that differ by at most one fen and add up exactly.
    pub fn split(self, parts: u32) -> Vec<Money> {
        assert!(parts > 0, "split into zero parts");
        let n = i64::from(parts);
        let (base, rest) = (self.0.div_euclid(n), self.0.rem_euclid(n));
        (0..n).map(|i| Money(base + i64::from(i < rest))).collect()
    }

    /// Parses yuan as people write it: `1234.5`, `1,234.50`, `¥12`, `-3.05`, `1234.50元`.
    /// The largest amount the platform takes in, either way: 100亿元. Any sum of a few million
    /// such amounts stays far inside `i64`, so no total over the entries of a city can overflow.
    pub const LIMIT: Money = Money(1_000_000_000_000);

    /// An amount given in fen by a machine (the API), refused beyond [`Money::LIMIT`].
    pub fn checked_from_fen(fen: i64) -> Result<Money, MoneyError> {
        if fen.unsigned_abs() > Money::LIMIT.0.unsigned_abs() {
            return Err(MoneyError::Overflow(
                Money(fen.signum() * Money::LIMIT.0).to_string(),
            ));
        }
        Ok(Money(fen))
    }

    pub fn parse_yuan(text: &str) -> Result<Money, MoneyError> {
        let t: String = text
            .trim()
            .trim_start_matches(['¥', '￥'])
            .trim_end_matches('元')
            .chars()
            .filter(|c| *c != ',' && *c != '，' && !c.is_whitespace())
            .collect();
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t.as_str()),
        };
        let malformed = || MoneyError::Malformed(text.trim().to_string());
        let (whole, frac) = match digits.split_once('.') {
            Some((w, f)) => (w, f),
            None => (digits, ""),
        };
        if whole.is_empty() && frac.is_empty() {
            return Err(malformed());
        }
        if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        if frac.len() > 2 {
            return Err(MoneyError::TooPrecise(text.trim().to_string()));
        }
        let overflow = || MoneyError::Overflow(text.trim().to_string());
        let yuan: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| overflow())?
        };
        let fen_part: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| malformed())? * 10,
            _ => frac.parse().map_err(|_| malformed())?,
        };
        let fen = yuan
            .checked_mul(100)
            .and_then(|v| v.checked_add(fen_part))
            .filter(|v| *v <= Money::LIMIT.0)
            .ok_or_else(overflow)?;
        Ok(Money(if negative { -fen } else { fen }))
    }

    /// Yuan with two decimals and no grouping, as CSV and Excel files carry it: `1234.50`.
    pub fn to_plain_yuan(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", a / 100, a % 100)
    }

    /// The amount in Chinese capitals as written on cheques and payment forms:
    /// `壹仟贰佰叁拾肆元伍角整`. Follows the rules for 零 and 整 of the PBOC's payment
    /// settlement measures: one 零 for a run of zeros, 零 after 元 when the 角 is zero and
    /// the 分 is not, 整 when there is no 分.
    pub fn to_capital(self) -> String {
        const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
        const PLACES: [&str; 4] = ["", "拾", "佰", "仟"];
        const GROUPS: [&str; 5] = ["", "万", "亿", "万亿", "亿亿"];

        let mut out = String::new();
        if self.0 < 0 {
            out.push('负');
        }
        let a = self.0.unsigned_abs();
        let (yuan, jiao, fen) = (a / 100, (a / 10) % 10, a % 10);
        if a == 0 {
            return "零元整".to_string();
        }
        if yuan > 0 {
            let mut groups = Vec::new();
            let mut rest = yuan;
            while rest > 0 {
                groups.push(rest % 10_000);
                rest /= 10_000;
            }
            let mut written = false;
            let mut pending_zero = false;
            for (g, &group) in groups.iter().enumerate().rev() {
                if group == 0 {
                    pending_zero |= written;
                    continue;
                }
                if written && group < 1000 {
                    pending_zero = true;
                }
                for place in (0..4).rev() {
                    let d = (group / 10u64.pow(place as u32)) % 10;
                    if d == 0 {
                        // A zero after a written digit of this group counts only if a digit follows.
                        pending_zero |= written && group % 10u64.pow(place as u32) != 0;
                        continue;
                    }
                    if pending_zero {
                        out.push('零');
                        pending_zero = false;
                    }
                    out.push(DIGITS[d as usize]);
                    out.push_str(PLACES[place]);
                    written = true;
                }
                out.push_str(GROUPS[g]);
            }
            out.push('元');
        }
        match (jiao, fen) {
            (0, 0) => out.push('整'),
            (0, f) => {
                if yuan > 0 {
                    out.push('零');
                }
                out.push(DIGITS[f as usize]);
                out.push('分');
            }
            (j, f) => {
                if yuan > 0 && yuan % 10 == 0 {
                    out.push('零');
                }
                out.push(DIGITS[j as usize]);
                out.push('角');
                if f == 0 {
                    out.push('整');
                } else {
                    out.push(DIGITS[f as usize]);
                    out.push('分');
                }
            }
        }
        out
    }
}

/// `1,234.50`: yuan with thousands separators and two decimals.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.0.unsigned_abs();
        let whole = (a / 100).to_string();
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{grouped}.{:02}", a % 100)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{self}")
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0.checked_add(rhs.0).expect("money overflow"))
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0.checked_sub(rhs.0).expect("money overflow"))
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        *self = *self + rhs;
    }
}

impl SubAssign for Money {
    fn sub_assign(&mut self, rhs: Money) {
        *self = *self - rhs;
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        iter.copied().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn capitals_follow_the_cheque_rules() {
        // (fen, capital): the examples of the PBOC rules for writing amounts, and edge cases.
        let table: &[(i64, &str)] = &[
            (0, "零元整"),
            (1, "壹分"),
            (10, "壹角整"),
            (55, "伍角伍分"),
            (100, "壹元整"),
            (1_000, "壹拾元整"),
            (1_500, "壹拾伍元整"),
            (123_450, "壹仟贰佰叁拾肆元伍角整"),
            (140_950, "壹仟肆佰零玖元伍角整"),
            (600_714, "陆仟零柒元壹角肆分"),
            (168_032, "壹仟陆佰捌拾元零叁角贰分"),
            (10_700_053, "壹拾万柒仟元零伍角叁分"),
            (1_640_902, "壹万陆仟肆佰零玖元零贰分"),
            (32_504, "叁佰贰拾伍元零肆分"),
            (10_000_005, "壹拾万元零伍分"),
            (100_010_000, "壹佰万零壹佰元整"),
            (10_000_000_000, "壹亿元整"),
            (10_000_100_000, "壹亿零壹仟元整"),
            (10_010_000_000, "壹亿零壹拾万元整"),
            (5_000_000, "伍万元整"),
            (2_500_000, "贰万伍仟元整"),
            (-5_000, "负伍拾元整"),
        ];
        for &(fen, expected) in table {
            assert_eq!(Money::from_fen(fen).to_capital(), expected, "{fen} fen");
        }
    }

    #[test]
    fn amounts_beyond_the_limit_are_refused() {
        assert_eq!(
            Money::parse_yuan("10,000,000,000.00"),
            Ok(Money::from_fen(1_000_000_000_000))
        );
        assert!(matches!(
            Money::parse_yuan("10000000000.01"),
            Err(MoneyError::Overflow(_))
        ));
        assert!(Money::checked_from_fen(i64::MAX / 100).is_err());
        assert!(Money::checked_from_fen(-1_000_000_000_001).is_err());
        assert_eq!(
            Money::checked_from_fen(386_000),
            Ok(Money::from_fen(386_000))
        );
    }

    #[test]
    fn display_groups_thousands() {
        assert_eq!(Money::from_fen(123_450).to_string(), "1,234.50");
        assert_eq!(Money::from_fen(5).to_string(), "0.05");
        assert_eq!(Money::from_fen(-100_000_000).to_string(), "-1,000,000.00");
        assert_eq!(Money::from_fen(99_999).to_string(), "999.99");
        assert_eq!(Money::from_fen(123_450).to_plain_yuan(), "1234.50");
    }

    #[test]
    fn parses_yuan_as_written() {
        let cases = [
            ("1234.5", 123_450),
            ("1,234.50", 123_450),
            ("¥12", 1_200),
            ("-3.05", -305),
            ("1234.50元", 123_450),
            (".5", 50),
            ("0", 0),
        ];
        for (text, fen) in cases {
            assert_eq!(Money::parse_yuan(text), Ok(Money::from_fen(fen)), "{text}");
        }
        assert!(matches!(
            Money::parse_yuan("1.005"),
            Err(MoneyError::TooPrecise(_))
        ));
        assert!(matches!(
            Money::parse_yuan("12a"),
            Err(MoneyError::Malformed(_))
        ));
        assert!(matches!(
            Money::parse_yuan(""),
            Err(MoneyError::Malformed(_))
        ));
        assert!(matches!(
            Money::parse_yuan("999999999999999999"),
            Err(MoneyError::Overflow(_))
        ));
    }

    #[test]
    fn ratios_round_half_away_from_zero() {
        // 1.3 × 864.00 = 1,123.20
        assert_eq!(
            Money::from_yuan(864).mul_ratio(13, 10),
            Money::from_fen(112_320)
        );
        assert_eq!(Money::from_fen(5).mul_ratio(1, 2), Money::from_fen(3));
        assert_eq!(Money::from_fen(-5).mul_ratio(1, 2), Money::from_fen(-3));
        assert_eq!(Money::from_fen(4).mul_ratio(1, 3), Money::from_fen(1));
    }

    proptest! {
        #[test]
        fn arithmetic_is_exact(a in -1_000_000_000_000i64..1_000_000_000_000, b in -1_000_000_000_000i64..1_000_000_000_000) {
            let (x, y) = (Money::from_fen(a), Money::from_fen(b));
            prop_assert_eq!((x + y).fen(), a + b);
            prop_assert_eq!(x + y - y, x);
            prop_assert_eq!(x + y, y + x);
        }

        #[test]
        fn split_adds_up(a in 0i64..1_000_000_000, parts in 1u32..50) {
            let shares = Money::from_fen(a).split(parts);
            prop_assert_eq!(shares.iter().sum::<Money>(), Money::from_fen(a));
            let max = shares.iter().max().unwrap().fen();
            let min = shares.iter().min().unwrap().fen();
            prop_assert!(max - min <= 1);
        }

        #[test]
        fn display_parses_back(a in -1_000_000_000_000i64..1_000_000_000_000) {
            let m = Money::from_fen(a);
            prop_assert_eq!(Money::parse_yuan(&m.to_string()), Ok(m));
            prop_assert_eq!(Money::parse_yuan(&m.to_plain_yuan()), Ok(m));
        }

        #[test]
        fn capitals_never_end_in_a_dangling_zero(a in 1i64..10_000_000_000_000) {
            let s = Money::from_fen(a).to_capital();
            prop_assert!(!s.contains("零零"));
            prop_assert!(!s.contains("零元"));
            prop_assert!(!s.contains("零万") && !s.contains("零亿"));
            prop_assert_eq!(s.ends_with('整'), a % 10 == 0);
        }
    }
}
