//! The gap analysis as an Excel workbook: where each clause and checklist question stands, the
//! findings register, and an action plan for people to fill in.
//!
//! The workbook goes both ways: the internal auditor answers the checklist questions in the
//! "Gap analysis" sheet, and `iso20k import-checklist` reads the columns named in [`col`] back
//! into the bundle. The same report always gives the same bytes: the document's creation date
//! is the report's as-of day, not the time it was written.

use std::borrow::Cow;

use iso20k_core::audit::Report;
use iso20k_core::checklist;
use iso20k_core::checks::Finding;
use iso20k_core::clause;
use iso20k_core::kb::Grade;
use iso20k_core::model::{Answer, Sms};
use iso20k_core::readiness::ClauseScore;
use rust_xlsxwriter::{
    Color, DataValidation, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Note,
    Workbook, Worksheet, XlsxError,
};

/// The sheet `iso20k import-checklist` reads the answers from.
pub const GAP_SHEET: &str = "Gap analysis";

/// The names of the gap-analysis columns that `iso20k import-checklist` reads back, as written
/// in the header row; it finds them by name, so people may add or move columns.
pub mod col {
    /// The pattern whose question a row asks; empty on clause rows.
    pub const PATTERN: &str = "pattern";
    /// yes, partly or no.
    pub const ANSWER: &str = "answer";
    /// The record that supports the answer.
    pub const ANSWER_EVIDENCE: &str = "answer_evidence";
    /// A note on the answer.
    pub const ANSWER_NOTE: &str = "answer_note";
    /// The day the question was answered.
    pub const ANSWERED_ON: &str = "answered_on";
    /// Who answered (person id).
    pub const ANSWERED_BY: &str = "answered_by";
}

/// The answers a checklist row accepts, as the answer column's drop-down offers them.
pub const ANSWERS: [&str; 3] = ["yes", "partly", "no"];

/// Where a clause or a checklist question stands, in the words of a gap analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Compliant,
    PartiallyCompliant,
    NonCompliant,
    NotAssessed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Compliant => "compliant",
            Status::PartiallyCompliant => "partially_compliant",
            Status::NonCompliant => "non_compliant",
            Status::NotAssessed => "not_assessed",
        }
    }
}

/// A clause nothing looked at is not assessed, never compliant; a major finding under it means
/// an auditor would call it non-compliant, any lesser finding partially compliant.
fn clause_status(score: &ClauseScore, findings: &[Finding]) -> Status {
    if !score.assessed {
        return Status::NotAssessed;
    }
    match score.findings.iter().map(|&i| findings[i].grade).max() {
        Some(Grade::Major) => Status::NonCompliant,
        Some(_) => Status::PartiallyCompliant,
        None => Status::Compliant,
    }
}

/// An answer as the answer column holds it; not-assessed is no answer.
fn answer_key(answer: Answer) -> Option<&'static str> {
    match answer {
        Answer::Yes => Some(ANSWERS[0]),
        Answer::Partly => Some(ANSWERS[1]),
        Answer::No => Some(ANSWERS[2]),
        Answer::NotAssessed => None,
    }
}

fn answer_status(answer: Option<Answer>) -> Status {
    match answer {
        Some(Answer::Yes) => Status::Compliant,
        Some(Answer::Partly) => Status::PartiallyCompliant,
        Some(Answer::No) => Status::NonCompliant,
        Some(Answer::NotAssessed) | None => Status::NotAssessed,
    }
}

/// Evidence ids shown per finding in the gap analysis; the findings register has them all.
const EVIDENCE_SHOWN: usize = 3;

/// The evidence of some findings in a few words: the first records of each.
fn short_evidence<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> String {
    findings
        .into_iter()
        .map(|f| {
            let ids: Vec<&str> = f
                .evidence
                .iter()
                .take(EVIDENCE_SHOWN)
                .map(|e| e.id.as_str())
                .collect();
            let more = f.evidence.len().saturating_sub(EVIDENCE_SHOWN);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("{}: {}{more}", f.id.clone(), ids.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn finding_lines<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> String {
    findings
        .into_iter()
        .map(|f| format!("{} ({}): {}", f.id.clone(), f.grade, f.title))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Excel holds at most 32,767 UTF-16 units in a cell; the evidence of a register with thousands
/// of records at fault can be longer, and is cut with a mark rather than failing the report.
fn fit(text: &str) -> Cow<'_, str> {
    const LIMIT: usize = 32_767;
    if text.encode_utf16().count() <= LIMIT {
        return Cow::Borrowed(text);
    }
    let mut out = String::new();
    let mut units = 1; // the mark
    for c in text.chars() {
        units += c.len_utf16();
        if units > LIMIT {
            break;
        }
        out.push(c);
    }
    out.push('…');
    Cow::Owned(out)
}

fn excel_date(d: iso20k_core::Date) -> Result<ExcelDateTime, XlsxError> {
    // Dates in the records lie within Excel's range (1900–9999); `from_ymd` says so otherwise.
    ExcelDateTime::from_ymd(
        u16::try_from(d.year()).unwrap_or(0),
        d.month().unsigned_abs(),
        d.day().unsigned_abs(),
    )
}

/// The formats every sheet shares.
struct Formats {
    header: Format,
    text: Format,
    date: Format,
    score: Format,
}

impl Formats {
    fn new() -> Self {
        let text = Format::new().set_text_wrap().set_align(FormatAlign::Top);
        Formats {
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xD9E1F2))
                .set_border_bottom(FormatBorder::Thin),
            date: text.clone().set_num_format("yyyy-mm-dd"),
            score: text.clone().set_num_format("0.0"),
            text,
        }
    }
}

/// A sheet with its header row bold, frozen and filtered, and its columns sized.
fn sheet(
    name: &str,
    columns: &[(&str, f64)],
    rows: u32,
    f: &Formats,
) -> Result<Worksheet, XlsxError> {
    let mut ws = Worksheet::new();
    ws.set_name(name)?;
    for (i, (title, width)) in (0u16..).zip(columns) {
        ws.write_string_with_format(0, i, *title, &f.header)?;
        ws.set_column_width(i, *width)?;
    }
    ws.set_freeze_panes(1, 0)?;
    let last = u16::try_from(columns.len() - 1).expect("a handful of columns");
    ws.autofilter(0, 0, rows.max(1), last)?;
    Ok(ws)
}

fn text(ws: &mut Worksheet, row: u32, col: u16, s: &str, f: &Formats) -> Result<(), XlsxError> {
    if !s.is_empty() {
        ws.write_string_with_format(row, col, fit(s), &f.text)?;
    }
    Ok(())
}

fn date(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    d: Option<iso20k_core::Date>,
    f: &Formats,
) -> Result<(), XlsxError> {
    match d.map(excel_date) {
        Some(Ok(day)) => {
            ws.write_datetime_with_format(row, col, day, &f.date)?;
        }
        // Spreadsheets count days from 1900: an earlier date (a typo, mostly) is kept as text,
        // as written, rather than failing the whole workbook.
        Some(Err(_)) => text(ws, row, col, &d.expect("matched Some").to_string(), f)?,
        None => {}
    }
    Ok(())
}

fn position(columns: &[(&str, f64)], name: &str) -> u16 {
    let i = columns
        .iter()
        .position(|c| c.0 == name)
        .expect("the column is in the sheet");
    u16::try_from(i).expect("a handful of columns")
}

/// The workbook, as the bytes of an .xlsx file. `sms` gives the checklist answers; `plan` the
/// days the action plan allows to fix a finding of each grade.
pub fn render(report: &Report, sms: &Sms, plan: &crate::Deadlines) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut book = Workbook::new();
    book.set_properties(
        &DocProperties::new()
            .set_title(format!("Gap analysis: {}", report.organisation))
            .set_subject(format!(
                "ISO/IEC 20000-1:{} as of {}",
                report.edition.as_str(),
                report.as_of
            ))
            .set_author("iso20k")
            .set_creation_datetime(&excel_date(report.as_of)?),
    );
    book.push_worksheet(gap_analysis(report, sms, &f)?);
    book.push_worksheet(findings(report, &f)?);
    book.push_worksheet(action_plan(report, plan, &f)?);
    book.save_to_buffer()
}

const GAP_COLUMNS: &[(&str, f64)] = &[
    ("kind", 9.0),
    ("clause", 10.0),
    (col::PATTERN, 9.0),
    ("title", 32.0),
    ("paraphrase", 50.0),
    ("status", 19.0),
    ("score", 7.0),
    ("evidence", 40.0),
    ("findings", 50.0),
    ("grade", 11.0),
    (col::ANSWER, 9.0),
    (col::ANSWER_EVIDENCE, 36.0),
    (col::ANSWER_NOTE, 36.0),
    (col::ANSWERED_ON, 12.0),
    (col::ANSWERED_BY, 13.0),
    ("owner", 14.0),
    ("action", 36.0),
    ("target_date", 12.0),
];

/// A row per leaf clause in catalogue order, then a row per checklist question in pattern order.
fn gap_analysis(report: &Report, sms: &Sms, f: &Formats) -> Result<Worksheet, XlsxError> {
    let edition = report.edition;
    let leaves: Vec<_> = clause::leaves(edition).collect();
    let questions = checklist::questions(edition);
    let given = checklist::answers(sms, report.as_of);
    let rows = u32::try_from(leaves.len() + questions.len()).expect("a few hundred rows");
    let mut ws = sheet(GAP_SHEET, GAP_COLUMNS, rows, f)?;
    let c = |name| position(GAP_COLUMNS, name);
    // People type dates and answers into these columns; a typed date shows as one.
    for name in [col::ANSWERED_ON, "target_date"] {
        ws.set_column_format(c(name), &f.date)?;
    }
    ws.insert_note(
        0,
        c(col::ANSWER),
        &Note::new(
            "On question rows, answer yes, partly or no, with the evidence, the day and who \
             answered; then run `iso20k import-checklist DIR THIS-FILE.xlsx` to record the \
             answers in the bundle's checklist.yaml.",
        )
        .set_author("iso20k"),
    )?;

    let mut row = 1;
    for leaf in &leaves {
        let score = report
            .readiness
            .clauses
            .iter()
            .find(|s| s.clause.id == leaf.id)
            .expect("readiness scores every requirement clause");
        let under: Vec<usize> = score.findings.clone();
        let under: Vec<&Finding> = under.iter().map(|&i| &report.findings[i]).collect();
        text(&mut ws, row, c("kind"), "clause", f)?;
        text(&mut ws, row, c("clause"), leaf.id, f)?;
        text(&mut ws, row, c("title"), leaf.title, f)?;
        text(&mut ws, row, c("paraphrase"), leaf.summary, f)?;
        let status = clause_status(score, &report.findings);
        text(&mut ws, row, c("status"), status.as_str(), f)?;
        if score.assessed {
            ws.write_number_with_format(row, c("score"), score.score, &f.score)?;
        }
        text(
            &mut ws,
            row,
            c("evidence"),
            &short_evidence(under.iter().copied()),
            f,
        )?;
        text(
            &mut ws,
            row,
            c("findings"),
            &finding_lines(under.iter().copied()),
            f,
        )?;
        if let Some(worst) = under.iter().map(|x| x.grade).max() {
            text(&mut ws, row, c("grade"), worst.as_str(), f)?;
        }
        row += 1;
    }

    let first_question = row;
    for p in &questions {
        // A not-assessed answer is no answer: its row is left for the auditor to fill.
        let answer = given
            .iter()
            .find(|(q, _)| q.id == p.id)
            .and_then(|(_, a)| Some((answer_key(a.answer)?, *a)));
        let found: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|x| x.pattern.id == p.id)
            .collect();
        text(&mut ws, row, c("kind"), "question", f)?;
        text(&mut ws, row, c("clause"), &p.clauses(edition).join(", "), f)?;
        text(&mut ws, row, c(col::PATTERN), p.id, f)?;
        text(&mut ws, row, c("title"), p.title, f)?;
        text(&mut ws, row, c("paraphrase"), p.question, f)?;
        let status = answer_status(answer.map(|(_, a)| a.answer));
        text(&mut ws, row, c("status"), status.as_str(), f)?;
        text(
            &mut ws,
            row,
            c("evidence"),
            &short_evidence(found.iter().copied()),
            f,
        )?;
        text(
            &mut ws,
            row,
            c("findings"),
            &finding_lines(found.iter().copied()),
            f,
        )?;
        if let Some(worst) = found.iter().map(|x| x.grade).max() {
            text(&mut ws, row, c("grade"), worst.as_str(), f)?;
        }
        if let Some((key, a)) = answer {
            text(&mut ws, row, c(col::ANSWER), key, f)?;
            let evidence = a.evidence.as_deref().unwrap_or("");
            text(&mut ws, row, c(col::ANSWER_EVIDENCE), evidence, f)?;
            text(
                &mut ws,
                row,
                c(col::ANSWER_NOTE),
                a.note.as_deref().unwrap_or(""),
                f,
            )?;
            date(&mut ws, row, c(col::ANSWERED_ON), a.answered_on, f)?;
            let by = a.answered_by.as_deref().unwrap_or("");
            text(&mut ws, row, c(col::ANSWERED_BY), by, f)?;
        }
        row += 1;
    }
    if row > first_question {
        let answers = DataValidation::new()
            .allow_list_strings(&ANSWERS)?
            .set_error_title("Not an answer")?
            .set_error_message("Answer yes, partly or no.")?;
        let c = c(col::ANSWER);
        ws.add_data_validation(first_question, c, row - 1, c, &answers)?;
    }
    Ok(ws)
}

/// The findings register, cell for cell what `findings_csv` writes (the workbook writes text
/// as text, so it needs no formula guard), so the two never differ.
fn findings(report: &Report, f: &Formats) -> Result<Worksheet, XlsxError> {
    let header = crate::findings_csv::HEADER;
    let columns: Vec<(&str, f64)> = header
        .iter()
        .map(|&h| {
            let width = match h {
                "title" | "pattern_title" | "evidence" | "first_fix_step" => 40.0,
                "finding" => 28.0,
                _ => 12.0,
            };
            (h, width)
        })
        .collect();
    let rows = u32::try_from(report.findings.len()).expect("findings fit a sheet");
    let mut ws = sheet("Findings", &columns, rows, f)?;
    for (row, record) in (1u32..).zip(crate::findings_csv::rows(report)) {
        for ((col, name), value) in (0u16..).zip(header).zip(record.iter()) {
            let number = match name {
                "affected" | "population" | "gain" => value.parse::<f64>().ok(),
                _ => None,
            };
            match number {
                Some(n) => {
                    ws.write_number_with_format(row, col, n, &f.text)?;
                }
                None => text(&mut ws, row, col, value, f)?,
            }
        }
    }
    Ok(ws)
}

/// The sheet `iso20k import-plan` reads the action plan from.
pub const PLAN_SHEET: &str = "Action plan";

/// The names of the action-plan columns, as written in the header row. `iso20k import-plan`
/// reads the first four and the reason, approver and comments back by name.
pub mod plan_col {
    /// The finding's stable id.
    pub const FINDING: &str = "Finding";
    /// Who fixes it (person id).
    pub const OWNER: &str = "Owner";
    /// When it is to be fixed by.
    pub const DUE: &str = "Due";
    /// open, in-progress, done or risk-accepted.
    pub const STATUS: &str = "Status";
    /// Why a risk is accepted.
    pub const REASON: &str = "Reason";
    /// Who accepted it (a top-management person id).
    pub const APPROVED_BY: &str = "Approved by";
    /// Notes on progress, one a line: `YYYY-MM-DD person: text` (`-` for an unknown day or
    /// person).
    pub const COMMENTS: &str = "Comments";
}

const PLAN_COLUMNS: &[(&str, f64)] = &[
    (plan_col::FINDING, 28.0),
    (plan_col::OWNER, 14.0),
    (plan_col::DUE, 12.0),
    (plan_col::STATUS, 13.0),
    ("Grade", 11.0),
    ("Clauses", 12.0),
    ("Title", 45.0),
    ("First step", 50.0),
    (plan_col::REASON, 36.0),
    (plan_col::APPROVED_BY, 14.0),
    (plan_col::COMMENTS, 50.0),
];

/// The statuses an action may be in, offered in the action plan's status column.
pub const PLAN_STATUSES: [&str; 4] = ["open", "in-progress", "done", "risk-accepted"];

/// Comments as the workbook's comments cell holds them, one a line.
pub fn comments_cell(comments: &[iso20k_core::model::PlanComment]) -> String {
    comments
        .iter()
        .map(|c| {
            let on = c.on.map(|d| d.to_string());
            format!(
                "{} {}: {}",
                on.as_deref().unwrap_or("-"),
                c.by.as_deref().unwrap_or("-"),
                c.text.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A row per finding, worst first then in clause order (the report's own order), with its
/// owner, due date and status from the plan (or their defaults), then a row per plan entry
/// whose finding no longer fires.
fn action_plan(
    report: &Report,
    plan: &crate::Deadlines,
    f: &Formats,
) -> Result<Worksheet, XlsxError> {
    let closed = &report.plan.closed;
    let rows = u32::try_from(report.findings.len() + closed.len()).expect("findings fit a sheet");
    let mut ws = sheet(PLAN_SHEET, PLAN_COLUMNS, rows, f)?;
    let c = |name| position(PLAN_COLUMNS, name);
    ws.set_column_format(c(plan_col::DUE), &f.date)?;
    ws.insert_note(
        0,
        c(plan_col::DUE),
        &Note::new(format!(
            "Without a date in plan.yaml, counted from {}: {} days to close a major finding, \
             {} for a minor, {} for an observation, and never after the day before a booked \
             audit the finding would block. The defaults (90, 180, 365) follow certification \
             practice: majors closed before a certificate is granted, minors within about six \
             months, observations within the year. Set others with `--deadlines`, or agree \
             dates with your certification body.",
            report.as_of, plan.days[0], plan.days[1], plan.days[2]
        ))
        .set_author("iso20k"),
    )?;
    ws.insert_note(
        0,
        c(plan_col::STATUS),
        &Note::new(
            "open, in-progress, done or risk-accepted (with a reason and the top-management \
             person who approved it). Edit owners, dates and statuses here, then run \
             `iso20k import-plan DIR THIS-FILE.xlsx` to record them in the bundle's plan.yaml.",
        )
        .set_author("iso20k"),
    )?;
    for (row, (finding, action)) in (1u32..).zip(report.findings.iter().zip(&report.plan.actions)) {
        text(&mut ws, row, c(plan_col::FINDING), &finding.id.clone(), f)?;
        text(
            &mut ws,
            row,
            c(plan_col::OWNER),
            action.owner.as_deref().unwrap_or(""),
            f,
        )?;
        date(&mut ws, row, c(plan_col::DUE), Some(action.due), f)?;
        text(&mut ws, row, c(plan_col::STATUS), action.status.as_str(), f)?;
        text(&mut ws, row, c("Grade"), finding.grade.as_str(), f)?;
        let clauses = finding.clauses(report.edition).join(", ");
        text(&mut ws, row, c("Clauses"), &clauses, f)?;
        let mut title = finding.title.clone();
        if action.marked_done_but_still_fires {
            title.push_str(" (marked done, but the records still show it)");
        }
        text(&mut ws, row, c("Title"), &title, f)?;
        let step = finding.fix().first().copied().unwrap_or("");
        text(&mut ws, row, c("First step"), step, f)?;
        text(
            &mut ws,
            row,
            c(plan_col::REASON),
            action.reason.as_deref().unwrap_or(""),
            f,
        )?;
        let by = action.approved_by.as_deref().unwrap_or("");
        text(&mut ws, row, c(plan_col::APPROVED_BY), by, f)?;
        text(
            &mut ws,
            row,
            c(plan_col::COMMENTS),
            &comments_cell(&action.comments),
            f,
        )?;
    }
    let first = u32::try_from(report.findings.len()).expect("findings fit a sheet") + 1;
    for (row, e) in (first..).zip(closed) {
        text(&mut ws, row, c(plan_col::FINDING), &e.finding, f)?;
        text(
            &mut ws,
            row,
            c(plan_col::OWNER),
            e.owner.as_deref().unwrap_or(""),
            f,
        )?;
        date(&mut ws, row, c(plan_col::DUE), e.due, f)?;
        text(&mut ws, row, c(plan_col::STATUS), e.status.as_str(), f)?;
        text(
            &mut ws,
            row,
            c("Title"),
            "(closed: the finding no longer fires)",
            f,
        )?;
        text(
            &mut ws,
            row,
            c(plan_col::REASON),
            e.reason.as_deref().unwrap_or(""),
            f,
        )?;
        let by = e.approved_by.as_deref().unwrap_or("");
        text(&mut ws, row, c(plan_col::APPROVED_BY), by, f)?;
        text(
            &mut ws,
            row,
            c(plan_col::COMMENTS),
            &comments_cell(&e.comments),
            f,
        )?;
    }
    if rows > 0 {
        let statuses = DataValidation::new().allow_list_strings(&PLAN_STATUSES)?;
        ws.add_data_validation(1, c(plan_col::STATUS), rows, c(plan_col::STATUS), &statuses)?;
    }
    Ok(ws)
}

#[cfg(test)]
mod tests {
    use super::*;
    use iso20k_core::audit::{Options, audit};
    use iso20k_core::{Edition, checks};

    fn finding(check: &str, grade: Grade) -> Finding {
        checks::find(check).unwrap().finding(grade, "test")
    }

    fn score(assessed: bool, lost: &[usize]) -> ClauseScore {
        ClauseScore {
            clause: clause::find(Edition::Y2018, "9.3").unwrap(),
            score: 100.0,
            assessed,
            findings: lost.to_vec(),
        }
    }

    #[test]
    fn a_clause_is_as_compliant_as_its_worst_finding_allows() {
        let findings = [
            finding("mr-overdue", Grade::Major),
            finding("mr-inputs-missing", Grade::Minor),
            finding("mr-no-outputs", Grade::Observation),
        ];
        let status = |assessed, lost: &[usize]| clause_status(&score(assessed, lost), &findings);
        assert_eq!(status(false, &[]), Status::NotAssessed);
        assert_eq!(status(true, &[]), Status::Compliant);
        assert_eq!(status(true, &[2]), Status::PartiallyCompliant);
        assert_eq!(status(true, &[1, 2]), Status::PartiallyCompliant);
        assert_eq!(status(true, &[2, 0]), Status::NonCompliant);
    }

    #[test]
    fn a_question_is_as_compliant_as_its_answer() {
        assert_eq!(answer_status(Some(Answer::Yes)), Status::Compliant);
        assert_eq!(
            answer_status(Some(Answer::Partly)),
            Status::PartiallyCompliant
        );
        assert_eq!(answer_status(Some(Answer::No)), Status::NonCompliant);
        assert_eq!(
            answer_status(Some(Answer::NotAssessed)),
            Status::NotAssessed
        );
        assert_eq!(answer_status(None), Status::NotAssessed);
    }

    #[test]
    fn the_same_report_gives_the_same_bytes() {
        let sms = Sms::default();
        let report = audit(
            &sms,
            Options {
                edition: Edition::Y2018,
                as_of: jiff::civil::date(2026, 6, 30),
            },
        );
        let plan = crate::Deadlines::default();
        let first = render(&report, &sms, &plan).unwrap();
        assert!(first.starts_with(b"PK"), "an .xlsx is a zip archive");
        assert_eq!(first, render(&report, &sms, &plan).unwrap());
    }

    #[test]
    fn a_date_before_1900_is_kept_as_text_and_the_workbook_still_renders() {
        let mut sms = Sms::default();
        sms.checklist.push(iso20k_core::model::ChecklistAnswer {
            pattern: iso20k_core::checklist::questions(Edition::Y2018)[0]
                .id
                .into(),
            answer: iso20k_core::model::Answer::Yes,
            evidence: None,
            note: None,
            answered_on: Some(jiff::civil::date(1850, 1, 1)),
            answered_by: None,
        });
        let report = audit(
            &sms,
            Options {
                edition: Edition::Y2018,
                as_of: jiff::civil::date(2026, 6, 30),
            },
        );
        let bytes = render(&report, &sms, &crate::Deadlines::default()).unwrap();
        assert!(bytes.starts_with(b"PK"));
    }

    #[test]
    fn overlong_text_is_cut_to_what_a_cell_holds() {
        let long = "x".repeat(40_000);
        let cut = fit(&long);
        assert_eq!(cut.encode_utf16().count(), 32_767);
        assert!(cut.ends_with('…'));
        assert_eq!(fit("short"), "short");
    }
}
