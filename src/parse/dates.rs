//! Dates mentioned in article text, resolved against the issue date: `2025年7月9日`,
//! `7月11日` and `8日` (year and month from the issue), `2025-07-09`, `July 9, 2025`, `9 July`.
//! The issue date is data, never the clock.

use std::sync::LazyLock;

use regex::Regex;

use crate::position::{self, IssueDate};

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD` by the issue-date rule ([`IssueDate::parse`]).
    pub fn parse_iso(s: &str) -> Option<Date> {
        IssueDate::parse(s).ok().map(Date::from)
    }

    /// A date, if it exists and its year is one pagewire reads ([`position::is_real_day`]).
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        position::is_real_day(year, month, day).then_some(Date { year, month, day })
    }

    /// Days since 0000-03-01 (for distances only).
    fn ordinal(self) -> i64 {
        let (y, m) = if self.month <= 2 {
            (self.year as i64 - 1, self.month as i64 + 9)
        } else {
            (self.year as i64, self.month as i64 - 3)
        };
        365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + self.day as i64
    }

    fn distance(self, other: Date) -> i64 {
        (self.ordinal() - other.ordinal()).abs()
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl From<IssueDate> for Date {
    fn from(d: IssueDate) -> Self {
        Date {
            year: d.year(),
            month: d.month(),
            day: d.day(),
        }
    }
}

static DATES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?P<y>[0-9]{4})\s*年\s*(?P<m>[0-9]{1,2})\s*月\s*(?P<d>[0-9]{1,2})\s*[日号]",
        r"|(?P<iy>[0-9]{4})[-/.](?P<im>[0-9]{1,2})[-/.](?P<id>[0-9]{1,2})(?-u:\b)",
        r"|(?P<mm>[0-9]{1,2})\s*月\s*(?P<md>[0-9]{1,2})\s*[日号]",
        r"|(?P<dd>[0-9]{1,2})\s*日(?P<after>[内以之左后]?)",
        r"|(?i:(?-u:\b)(?P<en_m>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?P<en_d>[0-9]{1,2})(?:st|nd|rd|th)?(?-u:\b)(?:,?\s+(?P<en_y>[0-9]{4})(?-u:\b))?)",
        r"|(?i:(?-u:\b)(?P<en_d2>[0-9]{1,2})(?:st|nd|rd|th)?\s+(?P<en_m2>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?:\s+(?P<en_y2>[0-9]{4})(?-u:\b))?)",
    ))
    .expect("valid regex")
});

fn month_number(name: &str) -> Option<u32> {
    let n = name.to_ascii_lowercase();
    Some(match n.get(..3).unwrap_or(&n) {
        "jan" => 1,
        "feb" => 2,
        "mar" => 3,
        "apr" => 4,
        "may" => 5,
        "jun" => 6,
        "jul" => 7,
        "aug" => 8,
        "sep" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    })
}

/// The date nearest the issue among candidate years for a month-day.
fn resolve_month_day(issue: Date, month: u32, day: u32) -> Option<Date> {
    [issue.year - 1, issue.year, issue.year + 1]
        .into_iter()
        .filter_map(|y| Date::new(y, month, day))
        .min_by_key(|d| d.distance(issue))
}

/// The date nearest the issue among candidate months for a day of the month.
fn resolve_day(issue: Date, day: u32) -> Option<Date> {
    let (py, pm) = if issue.month == 1 {
        (issue.year - 1, 12)
    } else {
        (issue.year, issue.month - 1)
    };
    let (ny, nm) = if issue.month == 12 {
        (issue.year + 1, 1)
    } else {
        (issue.year, issue.month + 1)
    };
    [(py, pm), (issue.year, issue.month), (ny, nm)]
        .into_iter()
        .filter_map(|(y, m)| Date::new(y, m, day))
        .min_by_key(|d| d.distance(issue))
}

/// Every date `text` mentions, in order of first mention, without repeats. Without an issue
/// date only full dates are returned.
pub fn find(text: &str, issue: Option<Date>) -> Vec<Date> {
    let mut out: Vec<Date> = Vec::new();
    let has_digit = text.bytes().any(|b| b.is_ascii_digit());
    if !has_digit {
        return out;
    }
    for caps in DATES.captures_iter(text) {
        let whole = caps.get(0).expect("group 0");
        // a number glued to the digits before it is not a day (`123日`)
        if text[..whole.start()]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_digit() || c == '.')
        {
            continue;
        }
        let num = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
        let date = if let (Some(y), Some(m), Some(d)) = (num("y"), num("m"), num("d")) {
            Date::new(y as i32, m, d)
        } else if let (Some(y), Some(m), Some(d)) = (num("iy"), num("im"), num("id")) {
            Date::new(y as i32, m, d)
        } else if let (Some(m), Some(d)) = (num("mm"), num("md")) {
            issue.and_then(|i| resolve_month_day(i, m, d))
        } else if let Some(d) = num("dd") {
            // `30日内` is a span of days, `第3日` a count, not dates
            let before = text[..whole.start()].chars().next_back();
            let span = caps
                .name("after")
                .is_some_and(|m| !m.as_str().is_empty() && m.as_str() != "后");
            if span || matches!(before, Some('第' | '每' | '个' | '数')) {
                None
            } else {
                issue.and_then(|i| resolve_day(i, d))
            }
        } else if let (Some(m), Some(d)) = (
            caps.name("en_m").and_then(|m| month_number(m.as_str())),
            num("en_d"),
        ) {
            match num("en_y") {
                Some(y) => Date::new(y as i32, m, d),
                None => issue.and_then(|i| resolve_month_day(i, m, d)),
            }
        } else if let (Some(m), Some(d)) = (
            caps.name("en_m2").and_then(|m| month_number(m.as_str())),
            num("en_d2"),
        ) {
            match num("en_y2") {
                Some(y) => Date::new(y as i32, m, d),
                None => issue.and_then(|i| resolve_month_day(i, m, d)),
            }
        } else {
            None
        };
        if let Some(date) = date {
            if !out.contains(&date) {
                out.push(date);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(dates: Vec<Date>) -> Vec<String> {
        dates.into_iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn chinese_dates_resolve_against_the_issue() {
        let issue = Date::parse_iso("2025-07-10");
        assert_eq!(iso(find("意见8日对外发布", issue)), vec!["2025-07-08"]);
        assert_eq!(
            iso(find("2025年7月9日下午，7月11日开幕", issue)),
            vec!["2025-07-09", "2025-07-11"]
        );
        assert_eq!(
            iso(find("自2022年7月1日起，30日内办结，第3日", issue)),
            vec!["2022-07-01"]
        );
        assert_eq!(iso(find("上月30日", issue)), vec!["2025-06-30"]);
    }

    #[test]
    fn year_boundaries_pick_the_nearest_year() {
        let issue = Date::parse_iso("2025-01-03");
        assert_eq!(iso(find("12月30日", issue)), vec!["2024-12-30"]);
        assert_eq!(iso(find("30日", issue)), vec!["2024-12-30"]);
    }

    #[test]
    fn english_dates() {
        let issue = Date::parse_iso("2025-07-10");
        assert_eq!(
            iso(find("On July 9, 2025 and Sept. 3 and 4 March", issue)),
            vec!["2025-07-09", "2025-09-03", "2025-03-04"]
        );
        assert!(find("May I say", issue).is_empty());
    }

    #[test]
    fn impossible_dates_are_dropped() {
        assert!(find("2025年2月30日", None).is_empty());
        assert!(Date::parse_iso("2025-13-01").is_none());
    }
}
