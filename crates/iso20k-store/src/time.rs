//! Times as the store keeps them.

use jiff::{SignedDuration, Timestamp};

use crate::{Result, StoreError};

/// Writes a time as the store keeps it: RFC 3339 in UTC with exactly three fractional digits,
/// `2026-11-26T09:35:07.123Z`. Every such text has the same width, so comparing the texts
/// compares the times, in SQL on both engines as in Rust.
pub fn format_time(time: Timestamp) -> String {
    format!("{time:.3}")
}

/// The current time, as [`format_time`] writes it.
pub fn now() -> String {
    format_time(Timestamp::now())
}

/// The time a day before now: login failures older than that are forgotten.
pub(crate) fn a_day_ago() -> String {
    format_time(Timestamp::now() - SignedDuration::from_hours(24))
}

/// Rewrites a time given to the store in the store's form, so that "…07Z" and "…07.000Z" or
/// "…08+01:00" compare as the times they are.
pub(crate) fn normalize(text: &str) -> Result<String> {
    let invalid = || StoreError::Invalid(format!("invalid time {text:?}: expected RFC 3339"));
    let time: Timestamp = text.trim().parse().map_err(|_| invalid())?;
    let formatted = format_time(time);
    // Years before 1 or after 9999 would change the width and so the order.
    if formatted.len() != "2026-11-26T09:35:07.123Z".len() || formatted.starts_with('-') {
        return Err(invalid());
    }
    Ok(formatted)
}

/// [`normalize`] for optional times.
pub(crate) fn normalize_opt(text: Option<&str>) -> Result<Option<String>> {
    text.map(normalize).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_normalized_to_one_width() {
        let cases = [
            ("2026-11-26T09:35:07.123Z", Some("2026-11-26T09:35:07.123Z")),
            ("2026-11-26T09:35:07Z", Some("2026-11-26T09:35:07.000Z")),
            (
                "2026-11-26T09:35:07.123456789Z",
                Some("2026-11-26T09:35:07.123Z"),
            ),
            (
                "2026-11-26T10:35:07+01:00",
                Some("2026-11-26T09:35:07.000Z"),
            ),
            (" 2026-11-26T09:35:07Z ", Some("2026-11-26T09:35:07.000Z")),
            ("0001-01-01T00:00:00Z", Some("0001-01-01T00:00:00.000Z")),
            ("2026-11-26", None),
            ("2026-11-26T09:35:07", None),
            ("yesterday", None),
            ("", None),
        ];
        for (input, expected) in cases {
            let got = normalize(input).ok();
            assert_eq!(got.as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn now_has_the_fixed_width() {
        assert_eq!(now().len(), 24);
        assert!(a_day_ago() < now());
    }
}
