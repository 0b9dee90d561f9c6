//! Turning the text of an export's cells into values: missing markers, yes/no, priorities in
//! every tool's dialect, and dates in whatever format the instance was set to.

use iso20k_core::DateTime;
use jiff::civil::{Date, Time};

/// Cell texts that mean "no value" in the exports iso20k reads.
pub fn is_missing(s: &str) -> bool {
    matches!(
        s,
        "" | "?" | "-" | "NULL" | "null" | "(empty)" | "N/A" | "n/a" | "NA" | "NS"
    )
}

/// A trimmed cell, or `None` when it holds nothing or a missing marker.
pub fn text(s: &str) -> Option<&str> {
    let s = s.trim();
    (!is_missing(s)).then_some(s)
}

/// A yes/no cell.
pub fn flag(s: &str) -> Result<Option<bool>, String> {
    let Some(s) = text(s) else { return Ok(None) };
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "t" => Ok(Some(true)),
        "false" | "no" | "n" | "0" | "f" => Ok(Some(false)),
        _ => Err(format!("`{s}` is not yes or no")),
    }
}

/// A whole number of something (a count).
pub fn count(s: &str) -> Result<Option<u32>, String> {
    let Some(s) = text(s) else { return Ok(None) };
    s.parse()
        .map(Some)
        .map_err(|_| format!("`{s}` is not a whole number"))
}

/// How a tool writes priorities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriorityScale {
    /// 1 is the highest; display values such as `1 - Critical` or `P1` carry the number first.
    OneIsHighest,
    /// Jira's names (Highest … Lowest), or a number with 1 highest.
    Jira,
    /// GLPI's 1 (very low) to 5 (very high) and 6 (major).
    Glpi,
}

/// A priority on iso20k's scale: 1 (highest) to 5.
pub fn priority(s: &str, scale: PriorityScale) -> Result<Option<u8>, String> {
    let Some(s) = text(s) else { return Ok(None) };
    let lower = s.to_ascii_lowercase();
    let named = match lower.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' ' || c == '-')
    {
        "critical" | "highest" | "blocker" | "urgent" => Some(1),
        "high" | "major" => Some(2),
        "moderate" | "medium" | "normal" => Some(3),
        "low" | "minor" => Some(4),
        "planning" | "lowest" | "trivial" | "very low" => Some(5),
        _ => None,
    };
    let digits: String = lower
        .trim_start_matches('p')
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let number: Option<u8> = digits.parse().ok();
    let glpi_name = match lower.as_str() {
        "major" => Some(6),
        "very high" => Some(5),
        "high" => Some(4),
        "medium" => Some(3),
        "low" => Some(2),
        "very low" => Some(1),
        _ => None,
    };
    let p = match (
        scale,
        number.or(glpi_name.filter(|_| scale == PriorityScale::Glpi)),
        named,
    ) {
        (PriorityScale::Glpi, Some(n), _) => match n {
            6 | 5 => 1,
            4 => 2,
            3 => 3,
            2 => 4,
            1 => 5,
            _ => return Err(format!("`{s}` is not a GLPI priority (1 to 6)")),
        },
        (_, Some(n), _) if (1..=5).contains(&n) => n,
        (_, None, Some(n)) => n,
        _ => {
            return Err(format!(
                "`{s}` is not a priority iso20k understands (1 to 5, P1, Critical … Planning, Highest … Lowest)"
            ));
        }
    };
    Ok(Some(p))
}

/// Date and time formats seen in ITSM exports, tried in this order when a column is sniffed.
/// Day-first comes before month-first: ServiceNow instances outside the US and most European
/// tools write day first, and a column where any day exceeds 12 settles it either way.
pub const FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S%.fZ",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y",
    "%d/%b/%y %I:%M %p",
    "%d/%b/%Y %I:%M %p",
    "%d/%b/%y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
];

/// Parses a cell with one format. Offsets (`Z`, `+01:00`) are dropped: tickets are compared
/// with each other, all written by the same tool in the same zone.
pub fn parse_with(format: &str, s: &str) -> Option<DateTime> {
    let parsed = jiff::fmt::strtime::parse(format, s).ok()?;
    if let Ok(dt) = parsed.to_datetime() {
        return Some(dt);
    }
    parsed
        .to_date()
        .ok()
        .map(|d: Date| d.to_datetime(Time::midnight()))
}

/// Whether a day/month/year column written with slashes must be month first: some value in it
/// reads month-first but not day-first. Exports keep one order for every column, so the answer
/// for one column is the answer for all.
pub fn month_first<'a>(samples: impl IntoIterator<Item = &'a str>) -> bool {
    let day_first: Vec<_> = FORMATS
        .iter()
        .copied()
        .filter(|f| f.starts_with("%d/%m"))
        .collect();
    let month_first: Vec<_> = FORMATS
        .iter()
        .copied()
        .filter(|f| f.starts_with("%m/%d"))
        .collect();
    samples.into_iter().any(|s| {
        !day_first.iter().any(|f| parse_with(f, s).is_some())
            && month_first.iter().any(|f| parse_with(f, s).is_some())
    })
}

/// The first format that reads every sample, if any does, leaving out day-first formats when
/// `month_first` says the export is written month first.
pub fn sniff_in<'a>(
    samples: impl IntoIterator<Item = &'a str> + Clone,
    month_first: bool,
) -> Option<&'static str> {
    FORMATS
        .iter()
        .copied()
        .filter(|f| !(month_first && f.starts_with("%d/%m")))
        .find(|f| {
            samples
                .clone()
                .into_iter()
                .all(|s| parse_with(f, s).is_some())
        })
}

/// The format that reads the most samples, and the first sample it does not read: where a
/// column holds one odd value, that value is the one to report.
pub fn odd_one_out<'a>(samples: &[(&'a str, u64)]) -> (&'a str, u64) {
    let best = FORMATS.iter().max_by_key(|f| {
        samples
            .iter()
            .filter(|s| parse_with(f, s.0).is_some())
            .count()
    });
    best.and_then(|f| {
        samples
            .iter()
            .find(|s| parse_with(f, s.0).is_none())
            .copied()
    })
    .unwrap_or(samples[0])
}

/// The first format that reads every sample, if any does.
pub fn sniff<'a>(samples: impl IntoIterator<Item = &'a str> + Clone) -> Option<&'static str> {
    FORMATS.iter().copied().find(|f| {
        samples
            .clone()
            .into_iter()
            .all(|s| parse_with(f, s).is_some())
    })
}

/// An Excel serial date (days since 1899-12-30, the fraction being the time of day).
pub fn excel_serial(value: f64) -> Option<DateTime> {
    if !(1.0..2_958_466.0).contains(&value) {
        return None;
    }
    let days = value.trunc() as i64;
    let seconds = ((value - value.trunc()) * 86_400.0).round() as i64;
    let base = jiff::civil::date(1899, 12, 30).to_datetime(Time::midnight());
    base.checked_add(jiff::Span::new().days(days).seconds(seconds))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_in_every_dialect() {
        use PriorityScale::*;
        for (text, scale, want) in [
            ("1 - Critical", OneIsHighest, 1),
            ("3 - Moderate", OneIsHighest, 3),
            ("P2", OneIsHighest, 2),
            ("5", OneIsHighest, 5),
            ("Planning", OneIsHighest, 5),
            ("Highest", Jira, 1),
            ("Medium", Jira, 3),
            ("Lowest", Jira, 5),
            ("6", Glpi, 1),
            ("3", Glpi, 3),
            ("1", Glpi, 5),
            ("Major", Glpi, 1),
            ("Very high", Glpi, 1),
            ("High", Glpi, 2),
            ("Very low", Glpi, 5),
        ] {
            assert_eq!(priority(text, scale), Ok(Some(want)), "{text}");
        }
        assert_eq!(priority("?", OneIsHighest), Ok(None));
        assert!(priority("soonish", OneIsHighest).is_err());
    }

    #[test]
    fn date_columns_are_sniffed_as_a_whole() {
        assert_eq!(
            sniff(["29/2/2016 01:16", "5/3/2016 12:00"]),
            Some("%d/%m/%Y %H:%M")
        );
        assert_eq!(
            sniff(["2/25/2026 10:17", "3/1/2026 09:00"]),
            Some("%m/%d/%Y %H:%M")
        );
        assert_eq!(sniff(["25/Feb/26 10:17 PM"]), Some("%d/%b/%y %I:%M %p"));
        assert_eq!(sniff(["2024-01-05 13:22:11"]), Some("%Y-%m-%d %H:%M:%S"));
        assert_eq!(
            sniff(["2024-01-05T13:22:11.123Z"]),
            Some("%Y-%m-%dT%H:%M:%S%.fZ")
        );
        assert_eq!(sniff(["yesterday"]), None);
        assert_eq!(
            parse_with("%d/%b/%y %I:%M %p", "25/Feb/26 10:17 PM")
                .unwrap()
                .to_string(),
            "2026-02-25T22:17:00"
        );
    }

    #[test]
    fn excel_serial_dates() {
        assert_eq!(
            excel_serial(46_022.5).unwrap().to_string(),
            "2025-12-31T12:00:00"
        );
    }

    #[test]
    fn missing_markers_and_flags() {
        assert_eq!(text(" ? "), None);
        assert_eq!(flag("TRUE"), Ok(Some(true)));
        assert!(flag("maybe").is_err());
    }
}
