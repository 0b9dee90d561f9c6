//! `iso20k import-checklist`: the checklist answers an internal auditor filled into the
//! gap-analysis workbook (`iso20k report --format xlsx`), recorded in the bundle's
//! checklist.yaml.
//!
//! All or nothing: every problem in the workbook is reported with its sheet, row and column,
//! and checklist.yaml is replaced only when there is none. An answer replaces every earlier
//! answer to the same question; answers the workbook leaves as they were are not touched.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use calamine::{Data, Reader as _};
use iso20k_bundle::Bundle;
use iso20k_bundle::files::{AnswerEntry, AnswerKey};
use iso20k_bundle::value::{Day, PatternId};
use iso20k_core::Date;
use iso20k_report::xlsx::{ANSWERS, GAP_SHEET, col};

use crate::cli::ImportChecklistArgs;

const CHECKLIST: &str = "checklist.yaml";

pub fn run(args: ImportChecklistArgs) -> anyhow::Result<ExitCode> {
    // The bundle is read whole first: answers go into a bundle that reads cleanly, or nowhere.
    let mut bundle = Bundle::read(&args.dir)?;
    let answers = read_workbook(&args.file)?;
    let given = answers.len();
    let mut changed = 0;
    for answer in answers {
        if replace(&mut bundle.checklist, answer) {
            changed += 1;
        }
    }
    let path = args.dir.join(CHECKLIST);
    let mut out = anstream::stdout();
    if changed > 0 {
        write_checklist(&path, bundle.checklist)?;
    }
    writeln!(
        out,
        "{changed} of {given} answers in {} recorded in {}; {} were already recorded",
        args.file.display(),
        path.display(),
        given - changed
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The answered checklist rows of the gap-analysis sheet, or every problem in them.
fn read_workbook(file: &Path) -> anyhow::Result<Vec<AnswerEntry>> {
    let name = file.display();
    // The archive's sizes, ratios and sheet ranges are checked before calamine inflates it:
    // a small hostile workbook would otherwise cost gigabytes.
    let lower = file.to_string_lossy().to_ascii_lowercase();
    if lower.ends_with(".xlsx") || lower.ends_with(".xlsm") || lower.ends_with(".ods") {
        iso20k_import::check_archive(file).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    // calamine's errors repeat their sources in their own text: show that text alone.
    let mut book = calamine::open_workbook_auto(file)
        .map_err(|e| anyhow::anyhow!("{name}: cannot read the workbook: {e}"))?;
    if !book.sheet_names().iter().any(|s| s == GAP_SHEET) {
        anyhow::bail!(
            "{name}: no sheet `{GAP_SHEET}`; answer the checklist in a workbook written by \
             `iso20k report --format xlsx`"
        );
    }
    let range = book
        .worksheet_range(GAP_SHEET)
        .map_err(|e| anyhow::anyhow!("{name}: cannot read sheet `{GAP_SHEET}`: {e}"))?;
    let (top, left) = range.start().unwrap_or((0, 0));
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(|c| text(c).unwrap_or_default()).collect())
        .unwrap_or_default();
    let wanted = [
        col::PATTERN,
        col::ANSWER,
        col::ANSWER_EVIDENCE,
        col::ANSWER_NOTE,
        col::ANSWERED_ON,
        col::ANSWERED_BY,
    ];
    let missing: Vec<&str> = wanted
        .into_iter()
        .filter(|w| !header.iter().any(|h| h == w))
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "{name}: sheet `{GAP_SHEET}`, row {}: no column {} in the header row",
            top + 1,
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let index = |n: &str| header.iter().position(|h| h == n).expect("checked above");

    let mut problems = Vec::new();
    let mut answers: Vec<(u32, AnswerEntry)> = Vec::new();
    for (row, cells) in (top + 2..).zip(rows) {
        let cell = |n: &str| cells.get(index(n)).unwrap_or(&Data::Empty);
        let mut problem = |n: &str, message: String| {
            let column = left as usize + index(n);
            problems.push(format!(
                "{name}: sheet `{GAP_SHEET}`, row {row}, column `{n}` ({}{row}): {message}",
                column_letters(column)
            ));
        };
        let Some(answer) = text(cell(col::ANSWER)) else {
            continue;
        };
        let answer = match answer.to_lowercase().as_str() {
            "yes" => Some(AnswerKey::Yes),
            "partly" => Some(AnswerKey::Partly),
            "no" => Some(AnswerKey::No),
            _ => {
                problem(
                    col::ANSWER,
                    format!(
                        "`{answer}` is not an answer; expected {}, {} or {}",
                        ANSWERS[0], ANSWERS[1], ANSWERS[2]
                    ),
                );
                None
            }
        };
        let pattern = match text(cell(col::PATTERN)) {
            None => {
                problem(
                    col::PATTERN,
                    "empty: only question rows, which name a pattern, take an answer".to_owned(),
                );
                None
            }
            Some(id) => match iso20k_core::kb::find(&id) {
                Some(p) if p.checks().is_empty() => Some(p),
                Some(p) => {
                    problem(
                        col::PATTERN,
                        format!(
                            "{} is found by checks on the records ({}), not by the checklist",
                            p.id,
                            p.checks().join(", ")
                        ),
                    );
                    None
                }
                None => {
                    problem(
                        col::PATTERN,
                        format!("unknown pattern `{id}` (see `iso20k checklist DIR`)"),
                    );
                    None
                }
            },
        };
        let answered_on = match date(cell(col::ANSWERED_ON)) {
            Ok(d) => d,
            Err(message) => {
                problem(col::ANSWERED_ON, message);
                None
            }
        };
        if let Some(p) = pattern
            && let Some((first, _)) = answers.iter().find(|(_, a)| a.pattern.0 == p.id)
        {
            problem(
                col::PATTERN,
                format!("{} is answered twice, also in row {first}", p.id),
            );
        }
        if let (Some(p), Some(answer)) = (pattern, answer) {
            answers.push((
                row,
                AnswerEntry {
                    pattern: PatternId(p.id),
                    answer,
                    evidence: text(cell(col::ANSWER_EVIDENCE)),
                    note: text(cell(col::ANSWER_NOTE)),
                    answered_on: answered_on.map(Day),
                    answered_by: text(cell(col::ANSWERED_BY)),
                },
            ));
        }
    }
    if !problems.is_empty() {
        let n = problems.len();
        anyhow::bail!(
            "{name}: {n} problem{}; {CHECKLIST} was not changed\n  {}",
            if n == 1 { "" } else { "s" },
            problems.join("\n  ")
        );
    }
    Ok(answers.into_iter().map(|(_, a)| a).collect())
}

/// A cell as text, or `None` when it holds nothing. Whole numbers lose the `.0` a spreadsheet
/// adds, so a staff number stays a staff number.
pub(crate) fn text(cell: &Data) -> Option<String> {
    let s = match cell {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::DateTime(_) => date(cell).ok().flatten()?.to_string(),
        other => other.to_string(),
    };
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// A day as Excel may hold it: a date cell, a serial number in a cell formatted as a number, or
/// text written YYYY-MM-DD (a time of day, if any, is dropped).
pub(crate) fn date(cell: &Data) -> Result<Option<Date>, String> {
    let serial = |value: f64, is_1904: bool| {
        if !(1.0..2_958_466.0).contains(&value) {
            return Err(format!("{value} is not a date; expected YYYY-MM-DD"));
        }
        let dt =
            calamine::ExcelDateTime::new(value, calamine::ExcelDateTimeType::DateTime, is_1904);
        from_ymd(dt.to_ymd_hms_milli())
    };
    match cell {
        Data::Empty => Ok(None),
        Data::DateTime(dt) => from_ymd(dt.to_ymd_hms_milli()),
        Data::Float(f) => serial(*f, false),
        Data::Int(i) => serial(*i as f64, false),
        Data::String(s) | Data::DateTimeIso(s) => {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            let day = s.split(['T', ' ']).next().unwrap_or(s);
            match day.parse::<Date>() {
                Ok(d) if day.len() == 10 => Ok(Some(d)),
                _ => Err(format!("`{s}` is not a date; expected YYYY-MM-DD")),
            }
        }
        other => Err(format!("`{other}` is not a date; expected YYYY-MM-DD")),
    }
}

fn from_ymd((y, m, d, ..): (u16, u8, u8, u8, u8, u8, u16)) -> Result<Option<Date>, String> {
    let day = i16::try_from(y)
        .ok()
        .and_then(|y| Date::new(y, m as i8, d as i8).ok());
    match day {
        Some(day) => Ok(Some(day)),
        None => Err(format!("{y:04}-{m:02}-{d:02} is not a date")),
    }
}

/// `A` for the first column, `AA` for the 27th, as Excel names them.
pub(crate) fn column_letters(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// Records `answer` as the only answer to its question, where the first earlier answer stood.
/// Returns false, changing nothing, when it is the answer that already counts: a workbook
/// hands back every answer it was written with.
fn replace(list: &mut Vec<AnswerEntry>, answer: AnswerEntry) -> bool {
    let same = |a: &AnswerEntry| a.pattern == answer.pattern;
    // The answer that counts is the latest, a later entry winning a tie, as the core reads them.
    let current = list.iter().filter(|a| same(a)).reduce(|best, a| {
        if best.answered_on.map(|d| d.0) <= a.answered_on.map(|d| d.0) {
            a
        } else {
            best
        }
    });
    let json = |a: &AnswerEntry| serde_json::to_value(a).expect("answers serialize to JSON");
    if current.is_some_and(|c| json(c) == json(&answer)) {
        return false;
    }
    match list.iter().position(same) {
        Some(first) => {
            let mut i = 0;
            list.retain(|a| {
                i += 1;
                i - 1 == first || !same(a)
            });
            list[first] = answer;
        }
        None => list.push(answer),
    }
    true
}

/// Replaces checklist.yaml whole, through a file beside it. The comment block at the top of
/// the old file is kept; the answers are written as `iso20k export-bundle` writes them, so
/// comments among them and blank lines between them are not.
fn write_checklist(path: &Path, checklist: Vec<AnswerEntry>) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    // The bundle crate writes files only as part of a whole folder: one holding only the
    // checklist gives the file exactly as an export would.
    let staging = tempfile::tempdir_in(dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    let only = staging.path().join("checklist");
    Bundle {
        checklist,
        ..Bundle::default()
    }
    .write(&only)?;
    let body = std::fs::read_to_string(only.join(CHECKLIST))
        .with_context(|| format!("cannot write {}", path.display()))?;
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let header: String = old
        .lines()
        .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    file.write_all(header.as_bytes())?;
    file.write_all(body.as_bytes())?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_named_as_excel_names_them() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn dates_are_read_however_excel_keeps_them() {
        let day = |s: &str| Some(s.parse::<Date>().unwrap());
        assert_eq!(date(&Data::Empty), Ok(None));
        assert_eq!(
            date(&Data::String("2026-06-20".into())),
            Ok(day("2026-06-20"))
        );
        assert_eq!(
            date(&Data::DateTimeIso("2026-06-20T00:00:00".into())),
            Ok(day("2026-06-20"))
        );
        assert_eq!(date(&Data::Float(46193.0)), Ok(day("2026-06-20")));
        assert_eq!(date(&Data::Int(46193)), Ok(day("2026-06-20")));
        assert!(date(&Data::String("20/06/2026".into())).is_err());
        assert!(date(&Data::String("2026-6-20".into())).is_err());
        assert!(date(&Data::Float(-3.0)).is_err());
    }
}
