//! GB 11643-1999 citizen identity numbers (公民身份号码).
//!
//! An [`IdNumber`] can only exist valid: 18 characters, a region prefix naming a real province,
//! a real birth date not after the day of parsing, and the ISO 7064 MOD 11-2 check character.
//! First-generation 15-digit numbers are upgraded to 18. `Display` masks the number; the full
//! form is reached only through [`IdNumber::expose`], so it cannot leak into a page by accident.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Serialize, Serializer};
use thiserror::Error;

/// Weights of positions 1–17 for the MOD 11-2 check character.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder 0–10.
const CHECK: [u8; 11] = *b"10X98765432";
/// Province-level codes of GB/T 2260 (first two digits), plus Taiwan, Hong Kong and Macao.
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdNumberError {
    #[error("身份证号应为18位（或15位旧号），实际为{0}位")]
    Length(usize),
    #[error("身份证号第{position}位“{found}”不是数字")]
    Character { position: usize, found: char },
    #[error("身份证号前两位“{0}”不是有效的省级行政区划代码")]
    Region(String),
    #[error("身份证号中的出生日期“{0}”不存在")]
    BirthDate(String),
    #[error("身份证号中的出生日期{0}晚于今天")]
    FutureBirth(NaiveDate),
    #[error("身份证号校验位错误：应为“{expected}”，实际为“{found}”")]
    CheckDigit { expected: char, found: char },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn label(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber([u8; 18]);

impl IdNumber {
    /// Parses a 15- or 18-character number as written on a form; spaces are ignored and a lower-case
    /// `x` is accepted. `today` bounds the birth date.
    pub fn parse(text: &str, today: NaiveDate) -> Result<Self, IdNumberError> {
        let cleaned: Vec<char> = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        match cleaned.len() {
            18 => Self::parse18(&cleaned, today),
            15 => Self::upgrade15(&cleaned, today),
            n => Err(IdNumberError::Length(n)),
        }
    }

    fn parse18(chars: &[char], today: NaiveDate) -> Result<Self, IdNumberError> {
        let mut digits = [0u8; 18];
        for (i, &c) in chars.iter().enumerate() {
            let ok = c.is_ascii_digit() || (i == 17 && c == 'X');
            if !ok {
                return Err(IdNumberError::Character {
                    position: i + 1,
                    found: c,
                });
            }
            digits[i] = c as u8;
        }
        check_body(&digits[..17], today)?;
        let expected = check_char(&digits[..17]);
        if digits[17] != expected {
            return Err(IdNumberError::CheckDigit {
                expected: expected as char,
                found: digits[17] as char,
            });
        }
        Ok(IdNumber(digits))
    }

    /// 15-digit numbers (issued before 1999) have a two-digit year of the 1900s and no check digit.
    fn upgrade15(chars: &[char], today: NaiveDate) -> Result<Self, IdNumberError> {
        let mut digits = [0u8; 18];
        for (i, &c) in chars.iter().enumerate() {
            if !c.is_ascii_digit() {
                return Err(IdNumberError::Character {
                    position: i + 1,
                    found: c,
                });
            }
        }
        let bytes: Vec<u8> = chars.iter().map(|&c| c as u8).collect();
        digits[..6].copy_from_slice(&bytes[..6]);
        digits[6] = b'1';
        digits[7] = b'9';
        digits[8..17].copy_from_slice(&bytes[6..15]);
        check_body(&digits[..17], today)?;
        digits[17] = check_char(&digits[..17]);
        Ok(IdNumber(digits))
    }

    /// Builds a valid number from its parts; used by the demo generator and tests.
    /// `sequence` is the three-digit order code (odd for men, even for women).
    pub fn from_parts(
        region6: &str,
        birth: NaiveDate,
        sequence: u16,
    ) -> Result<Self, IdNumberError> {
        let body = format!("{region6}{}{:03}", birth.format("%Y%m%d"), sequence % 1000);
        let mut digits = [0u8; 18];
        if body.len() != 17 || !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdNumberError::Length(body.len() + 1));
        }
        digits[..17].copy_from_slice(body.as_bytes());
        digits[17] = check_char(&digits[..17]);
        check_body(&digits[..17], birth)?;
        Ok(IdNumber(digits))
    }

    /// The full number. Call only where the full form is needed and its reading is audited.
    pub fn expose(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII by construction")
    }

    /// `3205**********123X`: the region's first four characters and the last four.
    /// `3****************X`: the first and the last character only. What is shown or stored in
    /// plaintext beside a masked number (the birth date, the sex, the place) fixes up to 15 of
    /// the 18 characters; the three sequence digits stay unknown, so some forty numbers fit.
    pub fn masked(&self) -> String {
        let s = self.expose();
        format!("{}{}{}", &s[..1], "*".repeat(16), &s[17..])
    }

    pub fn last4(&self) -> &str {
        &self.expose()[14..]
    }

    /// The six-digit county code of the issuing place.
    pub fn region_prefix(&self) -> &str {
        &self.expose()[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        birth_of(&self.0[..17]).expect("validated on construction")
    }

    /// Odd order codes are men, even are women (GB 11643 §4.3.3).
    pub fn sex(&self) -> Sex {
        if (self.0[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Age in completed years on `date`.
    pub fn age_on(&self, date: NaiveDate) -> u32 {
        age_between(self.birth_date(), date)
    }
}

/// Completed years between a birth date and `date` (0 when `date` precedes the birth).
pub fn age_between(birth: NaiveDate, date: NaiveDate) -> u32 {
    if date < birth {
        return 0;
    }
    let mut years = date.year() - birth.year();
    if (date.month(), date.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

fn check_char(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

fn check_body(body: &[u8], today: NaiveDate) -> Result<(), IdNumberError> {
    let province = (body[0] - b'0') * 10 + (body[1] - b'0');
    if !PROVINCES.contains(&province) {
        return Err(IdNumberError::Region(
            String::from_utf8_lossy(&body[..2]).into_owned(),
        ));
    }
    let birth = birth_of(body).ok_or_else(|| {
        IdNumberError::BirthDate(String::from_utf8_lossy(&body[6..14]).into_owned())
    })?;
    if birth > today {
        return Err(IdNumberError::FutureBirth(birth));
    }
    Ok(())
}

fn birth_of(body: &[u8]) -> Option<NaiveDate> {
    let text = std::str::from_utf8(&body[6..14]).ok()?;
    let year: i32 = text[..4].parse().ok()?;
    let month: u32 = text[4..6].parse().ok()?;
    let day: u32 = text[6..8].parse().ok()?;
    if year < 1890 {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, day)
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// Serialises masked: a full number leaves the system only through an explicit `expose()`.
impl Serialize for IdNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn accepts_the_standard_example() {
        // The worked example of GB 11643-1999 appendix A.
        let id = IdNumber::parse("11010519491231002X", today()).unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.masked(), "1****************X");
        assert_eq!(id.to_string(), "1****************X");
        assert_eq!(id.last4(), "002X");
        assert_eq!(id.age_on(today()), 76);
    }

    #[test]
    fn lower_case_x_and_spaces_are_accepted() {
        let id = IdNumber::parse(" 110105 19491231 002x ", today()).unwrap();
        assert_eq!(id.expose(), "11010519491231002X");
    }

    #[test]
    fn wrong_check_digit_names_the_expected_one() {
        let err = IdNumber::parse("110105194912310021", today()).unwrap_err();
        assert_eq!(
            err,
            IdNumberError::CheckDigit {
                expected: 'X',
                found: '1'
            }
        );
        assert!(err.to_string().contains("校验位"));
    }

    #[test]
    fn impossible_and_future_birth_dates_are_refused() {
        let feb30 = IdNumber::from_parts("320582", today(), 1).unwrap();
        let mut text = feb30.expose().to_string();
        text.replace_range(6..14, "20230230");
        assert!(matches!(
            IdNumber::parse(&text, today()),
            Err(IdNumberError::BirthDate(_))
        ));
        let tomorrow = today().succ_opt().unwrap();
        let id = IdNumber::from_parts("320582", tomorrow, 1).unwrap();
        assert_eq!(
            IdNumber::parse(id.expose(), today()),
            Err(IdNumberError::FutureBirth(tomorrow))
        );
    }

    #[test]
    fn unknown_province_and_bad_length_are_refused() {
        assert!(matches!(
            IdNumber::parse("991105194912310021", today()),
            Err(IdNumberError::Region(_))
        ));
        assert_eq!(
            IdNumber::parse("1101051949", today()),
            Err(IdNumberError::Length(10))
        );
        assert_eq!(
            IdNumber::parse("11010519491231A02X", today()),
            Err(IdNumberError::Character {
                position: 15,
                found: 'A'
            })
        );
    }

    #[test]
    fn fifteen_digit_numbers_are_upgraded() {
        // 110105491231002 is the 15-digit form of the standard example.
        let id = IdNumber::parse("110105491231002", today()).unwrap();
        assert_eq!(id.expose(), "11010519491231002X");
    }

    #[test]
    fn age_counts_completed_years() {
        let birth = NaiveDate::from_ymd_opt(2008, 2, 29).unwrap();
        assert_eq!(
            age_between(birth, NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()),
            17
        );
        assert_eq!(
            age_between(birth, NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()),
            18
        );
    }

    fn any_birth() -> impl Strategy<Value = NaiveDate> {
        (0i64..(365 * 120)).prop_map(|d| today() - chrono::Duration::days(d))
    }

    proptest! {
        #[test]
        fn every_valid_number_round_trips(birth in any_birth(), seq in 0u16..1000, p in 0usize..PROVINCES.len()) {
            let region = format!("{:02}0102", PROVINCES[p]);
            let id = IdNumber::from_parts(&region, birth, seq).unwrap();
            let again = IdNumber::parse(id.expose(), today()).unwrap();
            prop_assert_eq!(&again, &id);
            prop_assert_eq!(again.birth_date(), birth);
            prop_assert_eq!(again.sex() == Sex::Male, seq % 2 == 1);
        }

        #[test]
        fn any_single_digit_change_is_caught(birth in any_birth(), seq in 0u16..1000, pos in 0usize..17, delta in 1u8..10) {
            let id = IdNumber::from_parts("320582", birth, seq).unwrap();
            let mut bytes = id.expose().as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let text = String::from_utf8(bytes).unwrap();
            prop_assert!(IdNumber::parse(&text, today()).is_err());
        }
    }
}
