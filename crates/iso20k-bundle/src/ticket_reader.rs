//! Reading the ticket tables fast.
//!
//! Ticket tables run to millions of rows, where the serde path that reads the hand-written
//! files costs several microseconds a row. These readers stream each file, decode only the
//! columns the format has, parse the timestamps iso20k itself writes without going through a
//! general date parser, and read the incident table on its own thread. They accept exactly the
//! columns of the row types in `files.rs` (a test holds the two together) and report errors the
//! same way: file, line, column, field.

use std::collections::HashMap;
use std::path::Path;

use iso20k_core::model::{
    Change, ChangeType, ConfigurationItem, Incident, Problem, Release, ServiceRequest, Tickets,
};
use iso20k_core::{Date, DateTime};

use crate::error::Error;
use crate::tickets::{
    CHANGE_COLUMNS, CI_COLUMNS, INCIDENT_COLUMNS, PROBLEM_COLUMNS, RELEASE_COLUMNS,
    REQUEST_COLUMNS, TABLES,
};
use crate::value;

/// Reads every ticket table of the bundle at `dir`; missing tables are empty.
pub(crate) fn read(dir: &Path) -> (Tickets, Vec<Error>) {
    let path = |i: usize| dir.join(TABLES[i]);
    fn take<T>(r: Result<Vec<T>, Error>, errors: &mut Vec<Error>) -> Vec<T> {
        r.unwrap_or_else(|e| {
            errors.push(e);
            Vec::new()
        })
    }
    let mut errors = Vec::new();
    let tickets = Tickets {
        incidents: take(table(&path(0), INCIDENT_COLUMNS, incident), &mut errors),
        requests: take(table(&path(1), REQUEST_COLUMNS, request), &mut errors),
        problems: take(table(&path(2), PROBLEM_COLUMNS, problem), &mut errors),
        changes: take(table(&path(3), CHANGE_COLUMNS, change), &mut errors),
        releases: take(table(&path(4), RELEASE_COLUMNS, release), &mut errors),
        cis: take(table(&path(5), CI_COLUMNS, ci), &mut errors),
    };
    (tickets, errors)
}

/// Something with an id, for the duplicate check.
trait Ticket {
    fn id(&self) -> &str;
}

macro_rules! ticket {
    ($($t:ty),*) => {$(impl Ticket for $t { fn id(&self) -> &str { &self.id } })*};
}
ticket!(
    Incident,
    ServiceRequest,
    Problem,
    Change,
    Release,
    ConfigurationItem
);

/// One row, seen through the columns the format knows: `get(i)` is the cell of the `i`-th
/// known column, whatever its place in the file.
struct Cells<'r> {
    record: &'r csv::StringRecord,
    positions: &'r [Option<usize>],
}

impl<'r> Cells<'r> {
    fn get(&self, i: usize) -> Result<Option<&'r str>, (usize, String)> {
        let Some(pos) = self.positions[i] else {
            return Ok(None);
        };
        let s = self.record.get(pos).unwrap_or_default();
        // Most cells have no surrounding spaces; look before trimming.
        let b = s.as_bytes();
        let s = if b.first().is_some_and(u8::is_ascii_whitespace)
            || b.last().is_some_and(u8::is_ascii_whitespace)
        {
            s.trim()
        } else {
            s
        };
        Ok((!s.is_empty()).then_some(s))
    }

    fn text(&self, i: usize) -> Result<Option<String>, (usize, String)> {
        Ok(self.get(i)?.map(str::to_owned))
    }

    fn required(&self, i: usize) -> Result<String, (usize, String)> {
        self.get(i)?
            .map(str::to_owned)
            .ok_or_else(|| (i, "a value is required".to_owned()))
    }

    fn stamp(&self, i: usize) -> Result<Option<DateTime>, (usize, String)> {
        match self.get(i)? {
            None => Ok(None),
            Some(s) => fast_stamp(s)
                .or_else(|| value::parse_stamp(s).ok())
                .map(Some)
                .ok_or_else(|| {
                    (
                        i,
                        format!("invalid date and time `{s}`: expected YYYY-MM-DD HH:MM[:SS]"),
                    )
                }),
        }
    }

    fn day(&self, i: usize) -> Result<Option<Date>, (usize, String)> {
        match self.get(i)? {
            None => Ok(None),
            Some(s) => value::parse_date(s).map(Some).map_err(|m| (i, m)),
        }
    }

    fn flag(&self, i: usize) -> Result<Option<bool>, (usize, String)> {
        match self.get(i)? {
            None => Ok(None),
            Some(s) => match s.to_ascii_lowercase().as_str() {
                "yes" | "true" | "y" | "1" => Ok(Some(true)),
                "no" | "false" | "n" | "0" => Ok(Some(false)),
                _ => Err((
                    i,
                    format!("invalid yes/no value `{s}`: expected true or false"),
                )),
            },
        }
    }

    fn number<T: std::str::FromStr>(&self, i: usize) -> Result<Option<T>, (usize, String)> {
        match self.get(i)? {
            None => Ok(None),
            Some(s) => s
                .parse()
                .map(Some)
                .map_err(|_| (i, "not a whole number in the allowed range".to_owned())),
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS` (or with `T`, or without seconds, or with a fraction): the forms iso20k
/// writes and most exports use, read without a general parser.
fn fast_stamp(s: &str) -> Option<DateTime> {
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i32> {
        let mut n = 0i32;
        for &c in b.get(range)? {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i32::from(c - b'0');
        }
        Some(n)
    };
    if b.len() < 16
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b' ' || b[10] == b'T')
        || b[13] != b':'
    {
        return None;
    }
    let (second, rest) = match b.len() {
        16 => (0, 16),
        _ if b.len() >= 19 && b[16] == b':' => (num(17..19)?, 19),
        _ => return None,
    };
    let nanos = if rest == b.len() {
        0
    } else if b[rest] == b'.' && b.len() > rest + 1 && b.len() <= rest + 10 {
        let digits = &s[rest + 1..];
        let n: i32 = digits.parse().ok()?;
        n * 10i32.pow(9 - digits.len() as u32)
    } else {
        return None;
    };
    DateTime::new(
        i16::try_from(num(0..4)?).ok()?,
        i8::try_from(num(5..7)?).ok()?,
        i8::try_from(num(8..10)?).ok()?,
        i8::try_from(num(11..13)?).ok()?,
        i8::try_from(num(14..16)?).ok()?,
        i8::try_from(second).ok()?,
        nanos,
    )
    .ok()
}

/// Reads one ticket table, building each row with `build`.
fn table<T: Ticket + Send>(
    path: &Path,
    columns: &'static [&'static str],
    build: fn(&Cells<'_>) -> Result<T, (usize, String)>,
) -> Result<Vec<T>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::file(path, format!("cannot read: {e}"))),
    };
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64
                + 1;
            return Err(
                Error::file(path, "not valid UTF-8 (save the file as UTF-8)")
                    .at_line(line, None, ""),
            );
        }
    };
    let (header_line, body) = text.split_once('\n').unwrap_or((text, ""));
    let header_line = header_line.trim_end_matches('\r');
    let headers: Vec<String> = header_line
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(Error::file(
            path,
            "the file is empty; it needs at least its header row",
        ));
    }
    let mut positions = vec![None; columns.len()];
    for (pos, h) in headers.iter().enumerate() {
        match columns.iter().position(|c| c == h) {
            Some(i) if positions[i].is_some() => {
                return Err(Error::file(path, format!("column `{h}` appears twice"))
                    .field(h)
                    .at_line(1, None, header_line));
            }
            Some(i) => positions[i] = Some(pos),
            None => {
                let col = header_line
                    .split(',')
                    .take(pos)
                    .map(|c| c.chars().count() as u64 + 1)
                    .sum::<u64>()
                    + 1;
                return Err(Error::file(
                    path,
                    format!(
                        "unknown column `{h}`; expected one of {}",
                        columns.join(", ")
                    ),
                )
                .field(h)
                .at_line(1, Some(col), header_line));
            }
        }
    }
    // The first column of every table is its required key; configuration items also need a name.
    let required = if columns == CI_COLUMNS { 2 } else { 1 };
    if let Some(i) = (0..required).find(|i| positions[*i].is_none()) {
        return Err(
            Error::file(path, format!("required column `{}` is missing", columns[i]))
                .field(columns[i])
                .at_line(1, None, header_line),
        );
    }
    let width = headers.len();

    // Without quotes every record is one line, so a large table splits at a line break into
    // halves that two threads parse at once.
    let halves = if body.len() > (4 << 20) && !body.as_bytes().contains(&b'"') {
        let mid = body.len() / 2;
        let cut = body[mid..]
            .find('\n')
            .map(|i| mid + i + 1)
            .unwrap_or(body.len());
        vec![
            (&body[..cut], 2u64),
            (
                &body[cut..],
                2 + body[..cut].bytes().filter(|b| *b == b'\n').count() as u64,
            ),
        ]
    } else {
        vec![(body, 2u64)]
    };
    let positions = &positions;
    let parts: Vec<Parsed<T>> = std::thread::scope(|s| {
        let handles: Vec<_> = halves
            .iter()
            .map(|&(chunk, first_line)| {
                s.spawn(move || rows(path, columns, width, positions, chunk, first_line, build))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("row parsing does not panic"))
            .collect()
    });
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for part in parts {
        let (r, l) = part?;
        rows.extend(r);
        lines.extend(l);
    }

    // Exports usually come sorted by ticket number; then no id can repeat and the check is free.
    if rows.windows(2).all(|w| w[0].id() < w[1].id()) {
        return Ok(rows);
    }
    let mut seen: HashMap<&str, u64> = HashMap::with_capacity(rows.len());
    for (t, line) in rows.iter().zip(&lines) {
        if let Some(first) = seen.insert(t.id(), *line) {
            return Err(Error::file(
                path,
                format!("`{}` appears twice (first on line {first})", t.id()),
            )
            .field("id")
            .at_line(*line, None, ""));
        }
    }
    Ok(rows)
}

/// Rows parsed from part of a file, with the line each starts on.
type Parsed<T> = Result<(Vec<T>, Vec<u64>), Error>;

/// Parses the records of `chunk`, whose first line is line `first_line` of the file.
fn rows<T>(
    path: &Path,
    columns: &[&str],
    width: usize,
    positions: &[Option<usize>],
    chunk: &str,
    first_line: u64,
    build: fn(&Cells<'_>) -> Result<T, (usize, String)>,
) -> Parsed<T> {
    // Row lengths are checked against the header below, not against the first row.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(chunk.as_bytes());
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    let mut record = csv::StringRecord::new();

    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line() - 1 + first_line).unwrap_or(0);
                let msg = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("row has {len} fields but the header has {expected_len}")
                    }
                    _ => e.to_string(),
                };
                return Err(Error::file(path, msg).at_line(line, None, ""));
            }
        }
        let line = record
            .position()
            .map(|p| p.line() - 1 + first_line)
            .unwrap_or(0);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() != width {
            let excerpt = record.iter().collect::<Vec<_>>().join(",");
            return Err(Error::file(
                path,
                format!("row has {} fields but the header has {width}", record.len()),
            )
            .at_line(line, None, &excerpt));
        }
        let cells = Cells {
            record: &record,
            positions,
        };
        match build(&cells) {
            Ok(t) => {
                rows.push(t);
                lines.push(line);
            }
            Err((i, msg)) => {
                let excerpt = record.iter().collect::<Vec<_>>().join(",");
                let column = positions[i].and_then(|pos| {
                    (!excerpt.contains('"')).then(|| {
                        excerpt
                            .split(',')
                            .take(pos)
                            .map(|c| c.chars().count() as u64 + 1)
                            .sum::<u64>()
                            + 1
                    })
                });
                return Err(Error::file(path, msg)
                    .field(columns[i])
                    .at_line(line, column, &excerpt));
            }
        }
    }
    Ok((rows, lines))
}

// The builders read the known columns by their place in the `*_COLUMNS` lists.

fn incident(c: &Cells<'_>) -> Result<Incident, (usize, String)> {
    Ok(Incident {
        id: c.required(0)?,
        opened_at: c.stamp(1)?,
        resolved_at: c.stamp(2)?,
        closed_at: c.stamp(3)?,
        priority: c.number(4)?,
        major: c.flag(5)?.unwrap_or(false),
        category: c.text(6)?,
        service: c.text(7)?,
        ci: c.text(8)?,
        problem: c.text(9)?,
        resolution: c.text(10)?,
        sla_met: c.flag(11)?,
        reopen_count: c.number(12)?.unwrap_or(0),
        breach_review: c.text(13)?,
    })
}

fn request(c: &Cells<'_>) -> Result<ServiceRequest, (usize, String)> {
    Ok(ServiceRequest {
        id: c.required(0)?,
        opened_at: c.stamp(1)?,
        closed_at: c.stamp(2)?,
        category: c.text(3)?,
        service: c.text(4)?,
        sla_met: c.flag(5)?,
    })
}

fn problem(c: &Cells<'_>) -> Result<Problem, (usize, String)> {
    Ok(Problem {
        id: c.required(0)?,
        opened_at: c.stamp(1)?,
        closed_at: c.stamp(2)?,
        service: c.text(3)?,
        root_cause: c.text(4)?,
        known_error: c.flag(5)?.unwrap_or(false),
        change: c.text(6)?,
    })
}

fn change(c: &Cells<'_>) -> Result<Change, (usize, String)> {
    let kind = match c.get(1)?.map(str::to_ascii_lowercase).as_deref() {
        None | Some("normal") => ChangeType::Normal,
        Some("standard") => ChangeType::Standard,
        Some("emergency") => ChangeType::Emergency,
        Some(other) => {
            return Err((
                1,
                format!("unknown change type `{other}`: expected standard, normal or emergency"),
            ));
        }
    };
    Ok(Change {
        id: c.required(0)?,
        kind,
        service: c.text(2)?,
        requested_at: c.stamp(3)?,
        approved_at: c.stamp(4)?,
        approver: c.text(5)?,
        implemented_at: c.stamp(6)?,
        risk: c.text(7)?,
        backout_plan: c.flag(8)?.unwrap_or(false),
        test_plan: c.flag(9)?.unwrap_or(false),
        reviewed_on: c.day(10)?,
        successful: c.flag(11)?,
    })
}

fn release(c: &Cells<'_>) -> Result<Release, (usize, String)> {
    Ok(Release {
        id: c.required(0)?,
        change: c.text(1)?,
        service: c.text(2)?,
        deployed_at: c.stamp(3)?,
        tested: c.flag(4)?.unwrap_or(false),
    })
}

fn ci(c: &Cells<'_>) -> Result<ConfigurationItem, (usize, String)> {
    Ok(ConfigurationItem {
        id: c.required(0)?,
        name: c.required(1)?,
        kind: c.text(2)?,
        owner: c.text(3)?,
        service: c.text(4)?,
        last_verified_on: c.day(5)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_timestamps_agree_with_the_general_parser() {
        for s in [
            "2026-06-30 10:15:00",
            "2026-06-30T10:15:00",
            "2026-06-30 10:15",
            "2026-06-30 10:15:09.25",
            "2026-02-28 23:59:59",
        ] {
            assert_eq!(fast_stamp(s), value::parse_stamp(s).ok(), "{s}");
        }
        for s in [
            "2026-02-30 10:15:00",
            "2026-06-30",
            "30/06/2026 10:15",
            "2026-06-30 25:00:00",
        ] {
            assert_eq!(fast_stamp(s), None, "{s} is left to the general parser");
        }
    }
}
