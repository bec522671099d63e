//! The print position of a page — publication, issue date, edition, page number, page label,
//! page name — as validated newtypes. Their constructors are the only place the rules live:
//! one slug rule, one calendar rule (with its year range), one edition rule, one range of page
//! numbers, one limit each for the label and the name.
//!
//! The input boundary (`envelope`) builds a [`PrintPosition`] once per message and hands it to
//! the parser; `parse::parse_page`, called without an envelope (`pagewire parse`, `pagewire
//! eval`), builds it with the same constructors. A leaf: pure, imports only `proto`.

use std::fmt;

use crate::proto::{PagePosition, RawPage};

/// Longest publication slug, in bytes.
pub const MAX_PUBLICATION_BYTES: usize = 64;
/// Earliest year of an issue date (and of a date the parser resolves in article text).
pub const MIN_YEAR: i32 = 1800;
/// Latest year of an issue date (and of a date the parser resolves in article text).
pub const MAX_YEAR: i32 = 2200;
/// Largest page number accepted. No printed issue has ten thousand pages; anything above is a
/// producer bug, and keeping it small keeps ids and subjects short.
pub const MAX_PAGE_NUMBER: u32 = 9_999;
/// Longest edition, in bytes: it is a token of ids and keys.
pub const MAX_EDITION_BYTES: usize = 64;
/// Longest page label (`A5`, `01`), in characters.
pub const MAX_PAGE_LABEL_CHARS: usize = 32;
/// Longest page name (版名, `Metro`), in characters. Copied into every article of the page.
pub const MAX_PAGE_NAME_CHARS: usize = 64;

/// Characters of an offending value quoted in an error reason; the rest is elided, so a reason
/// (and the dead letter carrying it) stays small whatever the input holds.
pub const QUOTE_CHARS: usize = 32;

/// `value` for an error reason: Debug-quoted (controls escaped), at most [`QUOTE_CHARS`]
/// characters of it, and its length when longer.
pub fn quote(value: &str) -> String {
    match value.char_indices().nth(QUOTE_CHARS) {
        None => format!("{value:?}"),
        Some((cut, _)) => format!("{:?}... ({} bytes)", &value[..cut], value.len()),
    }
}

/// A field of the print position that breaks its rule. Displays as `invalid <field>: <reason>`,
/// the text of the `invalid_metadata` dead letter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct PositionError {
    /// Which field: `publication`, `issue_date`, `page_number`, `edition`, `page_label`,
    /// `page_name`.
    pub field: &'static str,
    /// What is wrong with it (the value quoted by [`quote`]).
    pub reason: String,
}

/// A subject-safe publication slug: 1-64 of `a-z0-9-`, not starting or ending with `-`.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_PUBLICATION_BYTES
        && !s.starts_with('-')
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `year-month-day` is a day of the proleptic Gregorian calendar within
/// [`MIN_YEAR`]..=[`MAX_YEAR`].
pub fn is_real_day(year: i32, month: u32, day: u32) -> bool {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (MIN_YEAR..=MAX_YEAR).contains(&year) && (1..=days).contains(&day)
}

/// `YYYY-MM-DD` naming a real day (see [`IssueDate`]).
pub fn is_calendar_date(s: &str) -> bool {
    IssueDate::parse(s).is_ok()
}

/// A publication slug ([`is_slug`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Publication(String);

impl Publication {
    /// The slug, if `s` is one.
    pub fn new(s: &str) -> Result<Self, PositionError> {
        if is_slug(s) {
            Ok(Publication(s.to_owned()))
        } else {
            Err(PositionError {
                field: "publication",
                reason: format!(
                    "{} is not a slug (1-64 of a-z, 0-9 and inner '-')",
                    quote(s)
                ),
            })
        }
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The issue date: `YYYY-MM-DD`, four, two and two ASCII digits, naming a day that exists in
/// the proleptic Gregorian calendar, in a year of [`MIN_YEAR`]..=[`MAX_YEAR`]. Displays as it
/// was written (the form admits one spelling per day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IssueDate {
    year: i32,
    month: u32,
    day: u32,
}

impl IssueDate {
    /// The date `s` names, if it is one.
    pub fn parse(s: &str) -> Result<Self, PositionError> {
        let invalid = |what: String| PositionError {
            field: "issue_date",
            reason: format!("{} {what}", quote(s)),
        };
        let not_a_date = || invalid("is not a calendar date YYYY-MM-DD".to_owned());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(not_a_date());
        }
        // Bytes 4 and 7 are ASCII, so every slice below is at a character boundary.
        let num = |part: &str| -> Option<u32> {
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let (Some(year), Some(month), Some(day)) = (num(&s[..4]), num(&s[5..7]), num(&s[8..]))
        else {
            return Err(not_a_date());
        };
        let year = year as i32; // four digits
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(invalid(format!(
                "is outside the years {MIN_YEAR}-{MAX_YEAR}"
            )));
        }
        IssueDate::new(year, month, day).ok_or_else(not_a_date)
    }

    /// The date, if it exists ([`is_real_day`]).
    pub fn new(year: i32, month: u32, day: u32) -> Option<Self> {
        is_real_day(year, month, day).then_some(IssueDate { year, month, day })
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1-12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// The day of the month, from 1.
    pub fn day(self) -> u32 {
        self.day
    }
}

impl fmt::Display for IssueDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The edition as printed (`morning`, `晚版`); empty for the only edition. At most
/// [`MAX_EDITION_BYTES`] bytes without whitespace, controls, `/`, `.`, `*` or `>`: it is a
/// token of ids and stitch keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edition(String);

impl Edition {
    /// The edition, if `s` is one.
    pub fn new(s: &str) -> Result<Self, PositionError> {
        if s.len() > MAX_EDITION_BYTES
            || s.chars()
                .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '/' | '.' | '*' | '>'))
        {
            return Err(PositionError {
                field: "edition",
                reason: format!(
                    "{} must be at most {MAX_EDITION_BYTES} bytes without spaces, controls, \
                     '/', '.', '*' or '>'",
                    quote(s)
                ),
            });
        }
        Ok(Edition(s.to_owned()))
    }

    /// The edition as given; empty for the only edition.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The edition's token in article ids: the edition, or `main` when it is empty.
    pub fn id_token(&self) -> &str {
        if self.0.is_empty() {
            "main"
        } else {
            &self.0
        }
    }
}

/// A page number, 1..=[`MAX_PAGE_NUMBER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PageNumber(u32);

impl PageNumber {
    /// The page number, if `n` is in range.
    pub fn new(n: u32) -> Result<Self, PositionError> {
        if n == 0 || n > MAX_PAGE_NUMBER {
            return Err(PositionError {
                field: "page_number",
                reason: format!("{n} is not in 1..={MAX_PAGE_NUMBER}"),
            });
        }
        Ok(PageNumber(n))
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// At most `limit` characters and no controls: the rule of the label and the name.
fn short_text(field: &'static str, value: &str, limit: usize) -> Result<String, PositionError> {
    if value.chars().nth(limit).is_some() || value.chars().any(char::is_control) {
        return Err(PositionError {
            field,
            reason: format!(
                "{} must be at most {limit} characters without controls",
                quote(value)
            ),
        });
    }
    Ok(value.to_owned())
}

/// The page label as printed (`A5`, `01`): at most [`MAX_PAGE_LABEL_CHARS`] characters
/// without controls; the zero-padded page number when none is given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PageLabel(String);

impl PageLabel {
    /// The label `s`, or the label of page `number` when `s` is empty.
    pub fn new(s: &str, number: PageNumber) -> Result<Self, PositionError> {
        if s.is_empty() {
            return Ok(PageLabel(format!("{:02}", number.get())));
        }
        short_text("page_label", s, MAX_PAGE_LABEL_CHARS).map(PageLabel)
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The page name (版名, `Metro`): at most [`MAX_PAGE_NAME_CHARS`] characters without
/// controls; may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PageName(String);

impl PageName {
    /// The name, if `s` is one.
    pub fn new(s: &str) -> Result<Self, PositionError> {
        short_text("page_name", s, MAX_PAGE_NAME_CHARS).map(PageName)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a page was printed, every part validated. Only buildable from valid parts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrintPosition {
    /// The publication.
    pub publication: Publication,
    /// The issue date.
    pub issue_date: IssueDate,
    /// The edition.
    pub edition: Edition,
    /// The page number.
    pub page_number: PageNumber,
    /// The page label (defaulted from the number).
    pub page_label: PageLabel,
    /// The page name.
    pub page_name: PageName,
}

impl PrintPosition {
    /// The print position of a raw page, checked field by field in this order: publication,
    /// issue date, page number, edition, page label, page name (the first field that breaks
    /// its rule is the error).
    pub fn from_raw(raw: &RawPage) -> Result<Self, PositionError> {
        let publication = Publication::new(&raw.publication)?;
        let issue_date = IssueDate::parse(&raw.issue_date)?;
        let page_number = PageNumber::new(raw.page_number)?;
        let edition = Edition::new(&raw.edition)?;
        let page_label = PageLabel::new(&raw.page_label, page_number)?;
        let page_name = PageName::new(&raw.page_name)?;
        Ok(PrintPosition {
            publication,
            issue_date,
            edition,
            page_number,
            page_label,
            page_name,
        })
    }

    /// The wire form, with ordinal 0 (the page itself).
    pub fn to_proto(&self) -> PagePosition {
        PagePosition {
            publication: self.publication.as_str().to_owned(),
            issue_date: self.issue_date.to_string(),
            edition: self.edition.as_str().to_owned(),
            page_number: self.page_number.get(),
            page_label: self.page_label.as_str().to_owned(),
            page_name: self.page_name.as_str().to_owned(),
            ordinal: 0,
        }
    }

    /// Writes the validated position back into `raw` (the label defaulted).
    pub fn write_to(&self, raw: &mut RawPage) {
        raw.publication = self.publication.as_str().to_owned();
        raw.issue_date = self.issue_date.to_string();
        raw.edition = self.edition.as_str().to_owned();
        raw.page_number = self.page_number.get();
        raw.page_label = self.page_label.as_str().to_owned();
        raw.page_name = self.page_name.as_str().to_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["a", "baotou-daily", "rmrb", "a-1", &"x".repeat(64)] {
            assert!(is_slug(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "Baotou",
            "a_b",
            "a.b",
            "a b",
            "报",
            &"x".repeat(65),
        ] {
            assert!(!is_slug(bad), "{bad}");
            assert_eq!(Publication::new(bad).unwrap_err().field, "publication");
        }
    }

    #[test]
    fn calendar_dates_within_the_years() {
        assert!(is_calendar_date("2024-02-29"));
        assert!(is_calendar_date("2000-02-29"));
        assert!(is_calendar_date("1800-01-01"));
        assert!(is_calendar_date("2200-12-31"));
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-07-00",
            "2025-04-31",
            "2025-7-10",
            "2025-07-1a",
            "+025-07-10",
            "2025-+7-10",
            "2025-07-+1",
            "2025/07/10",
            "2025-07-10 ",
            "1799-12-31",
            "2201-01-01",
            "0000-01-01",
            "",
        ] {
            assert!(!is_calendar_date(bad), "{bad}");
        }
        let e = IssueDate::parse("1799-12-31").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid issue_date: \"1799-12-31\" is outside the years 1800-2200"
        );
        let e = IssueDate::parse("2025-02-30").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid issue_date: \"2025-02-30\" is not a calendar date YYYY-MM-DD"
        );
        // one spelling per day: the date displays as written
        assert_eq!(
            IssueDate::parse("2025-07-10").unwrap().to_string(),
            "2025-07-10"
        );
    }

    #[test]
    fn editions() {
        for ok in ["", "morning", "晚版", "a-b_c", &"e".repeat(64)] {
            assert_eq!(Edition::new(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "a b",
            "a.b",
            "a/b",
            "a*",
            ">",
            "a\u{7}",
            "\u{85}",
            &"e".repeat(65),
        ] {
            assert_eq!(Edition::new(bad).unwrap_err().field, "edition", "{bad:?}");
        }
        assert_eq!(Edition::default().id_token(), "main");
        assert_eq!(Edition::new("late").unwrap().id_token(), "late");
    }

    #[test]
    fn page_numbers_labels_and_names() {
        assert!(PageNumber::new(0).is_err());
        assert!(PageNumber::new(MAX_PAGE_NUMBER + 1).is_err());
        let five = PageNumber::new(5).unwrap();
        assert_eq!(PageLabel::new("", five).unwrap().as_str(), "05");
        assert_eq!(PageLabel::new("A5", five).unwrap().as_str(), "A5");
        assert_eq!(
            PageLabel::new(&"x".repeat(33), five).unwrap_err().field,
            "page_label"
        );
        assert!(PageLabel::new(&"版".repeat(32), five).is_ok());
        assert_eq!(PageName::new("要\n闻").unwrap_err().field, "page_name");
        assert!(PageName::new(&"闻".repeat(64)).is_ok());
        assert!(PageName::new(&"闻".repeat(65)).is_err());
    }

    #[test]
    fn a_print_position_reports_the_first_bad_field_and_round_trips() {
        let raw = RawPage {
            publication: "daily-herald".into(),
            issue_date: "2025-07-12".into(),
            page_number: 8,
            edition: "late".into(),
            page_name: "Metro".into(),
            ..RawPage::default()
        };
        let position = PrintPosition::from_raw(&raw).unwrap();
        let wire = position.to_proto();
        assert_eq!(
            (
                wire.publication.as_str(),
                wire.issue_date.as_str(),
                wire.edition.as_str(),
                wire.page_number,
                wire.page_label.as_str(),
                wire.page_name.as_str(),
                wire.ordinal
            ),
            ("daily-herald", "2025-07-12", "late", 8, "08", "Metro", 0)
        );
        let mut back = RawPage::default();
        position.write_to(&mut back);
        assert_eq!(PrintPosition::from_raw(&back).unwrap(), position);
        // publication before issue date before page number before edition
        let bad = RawPage {
            publication: "X".into(),
            issue_date: "x".into(),
            page_number: 0,
            edition: "a b".into(),
            ..RawPage::default()
        };
        assert_eq!(
            PrintPosition::from_raw(&bad).unwrap_err().field,
            "publication"
        );
        let bad = RawPage {
            publication: "x".into(),
            ..bad
        };
        assert_eq!(
            PrintPosition::from_raw(&bad).unwrap_err().field,
            "issue_date"
        );
        let bad = RawPage {
            issue_date: "2025-01-01".into(),
            ..bad
        };
        assert_eq!(
            PrintPosition::from_raw(&bad).unwrap_err().field,
            "page_number"
        );
        let bad = RawPage {
            page_number: 1,
            ..bad
        };
        assert_eq!(PrintPosition::from_raw(&bad).unwrap_err().field, "edition");
    }

    #[test]
    fn quotes_are_short() {
        assert_eq!(quote("a\u{7}"), "\"a\\u{7}\"");
        let long = "x".repeat(100);
        assert_eq!(quote(&long), format!("{:?}... (100 bytes)", "x".repeat(32)));
    }
}
