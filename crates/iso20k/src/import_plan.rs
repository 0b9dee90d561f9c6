//! `iso20k import-plan`: the action plan people edited in the workbook's `Action plan` sheet
//! (`iso20k report --format xlsx`), recorded in the bundle's plan.yaml.
//!
//! The sheet is the whole plan: plan.yaml afterwards holds an entry for every row that says
//! something the defaults do not (an owner or due date other than the default, a status other
//! than open, a reason, an approver or comments) and for every row plan.yaml already had an
//! entry for; a row left at its defaults adds nothing, and an entry whose row was deleted is
//! dropped. So a workbook written from a bundle and imported straight back changes nothing.
//!
//! All or nothing: every row is checked first (a finding id must name a check, an owner must be
//! in people.csv, a date must be a date, a status one of open, in-progress, done and
//! risk-accepted, and a risk accepted needs a reason and a top-management approver), every
//! problem is reported with its sheet, row and column, and plan.yaml is replaced, through a file
//! beside it, only when there is none.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use calamine::{Data, Reader as _};
use iso20k_bundle::Bundle;
use iso20k_bundle::files::PlanItem;
use iso20k_core::Date;
use iso20k_core::model::{PlanComment, PlanEntry, PlanStatus, Sms};
use iso20k_core::plan::{Deadlines, check_finding_id, default_due, default_owner};
use iso20k_report::xlsx::{PLAN_SHEET, PLAN_STATUSES, plan_col as col};

use crate::cli::ImportPlanArgs;
use crate::import_checklist::{column_letters, date, text};

const PLAN: &str = "plan.yaml";

/// One row of the sheet, checked.
struct Row {
    row: u32,
    finding: String,
    owner: Option<String>,
    due: Option<Date>,
    status: PlanStatus,
    reason: Option<String>,
    approved_by: Option<String>,
    comments: Vec<PlanComment>,
}

pub fn run(args: ImportPlanArgs) -> anyhow::Result<ExitCode> {
    // The bundle is read whole first: a plan goes into a bundle that reads cleanly, or nowhere.
    let sms = iso20k_bundle::read(&args.dir)?;
    let edition = args
        .edition
        .map(Into::into)
        .unwrap_or_else(|| sms.edition());
    let as_of = crate::default_day(&sms, args.as_of);
    let mut report =
        iso20k_core::audit::audit(&sms, iso20k_core::audit::Options { edition, as_of });
    let deadlines = Deadlines {
        days: args.deadlines,
    };
    report.replan(&sms, &deadlines);
    let rows = read_workbook(&args.file, &sms, as_of)?;

    let mut plan: Vec<PlanEntry> = Vec::new();
    for r in rows {
        let existing = sms.plan.iter().find(|e| e.finding == r.finding);
        let firing = report
            .findings
            .iter()
            .position(|f| f.id == r.finding)
            .map(|i| (i, &report.findings[i]));
        // What the report would show for the row with no entry at all.
        let (owner_default, due_default) = match firing {
            Some((i, f)) => (
                default_owner(&sms, as_of, f).map(|(o, _)| o),
                Some(
                    default_due(
                        f.grade,
                        report.readiness.blocks[i],
                        &report.bookings,
                        as_of,
                        &deadlines,
                    )
                    .0,
                ),
            ),
            None => (None, None),
        };
        let owner = match r.owner {
            Some(o) if existing.is_some_and(|e| e.owner.is_some()) => Some(o),
            Some(o) if Some(&o) == owner_default.as_ref() => None,
            other => other,
        };
        let due = match r.due {
            Some(d) if existing.is_some_and(|e| e.due.is_some()) => Some(d),
            Some(d) if Some(d) == due_default => None,
            other => other,
        };
        let entry = PlanEntry {
            finding: r.finding,
            owner,
            due,
            status: r.status,
            reason: r.reason,
            approved_by: r.approved_by,
            comments: r.comments,
        };
        let says_something = entry.owner.is_some()
            || entry.due.is_some()
            || entry.status != PlanStatus::Open
            || entry.reason.is_some()
            || entry.approved_by.is_some()
            || !entry.comments.is_empty();
        if existing.is_some() || says_something {
            plan.push(entry);
        }
    }
    plan.sort_by(|a, b| a.finding.cmp(&b.finding));

    let path = args.dir.join(PLAN);
    let mut before = sms.plan.clone();
    before.sort_by(|a, b| a.finding.cmp(&b.finding));
    let mut out = anstream::stdout();
    if before == plan {
        writeln!(
            out,
            "{} holds the plan of {} already; nothing changed",
            path.display(),
            args.file.display()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let dropped = before
        .iter()
        .filter(|e| plan.iter().all(|p| p.finding != e.finding))
        .count();
    write_plan(&path, &plan)?;
    writeln!(
        out,
        "{} entries of {} recorded in {}{}",
        plan.len(),
        args.file.display(),
        path.display(),
        if dropped > 0 {
            format!("; {dropped} entries whose rows are gone were removed")
        } else {
            String::new()
        }
    )?;
    Ok(ExitCode::SUCCESS)
}

/// The rows of the action-plan sheet, or every problem in them.
fn read_workbook(file: &Path, sms: &Sms, as_of: Date) -> anyhow::Result<Vec<Row>> {
    let name = file.display();
    // The archive's sizes, ratios and sheet ranges are checked before calamine inflates it.
    let lower = file.to_string_lossy().to_ascii_lowercase();
    if lower.ends_with(".xlsx") || lower.ends_with(".xlsm") || lower.ends_with(".ods") {
        iso20k_import::check_archive(file).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let mut book = calamine::open_workbook_auto(file)
        .map_err(|e| anyhow::anyhow!("{name}: cannot read the workbook: {e}"))?;
    if !book.sheet_names().iter().any(|s| s == PLAN_SHEET) {
        anyhow::bail!(
            "{name}: no sheet `{PLAN_SHEET}`; edit the plan in a workbook written by \
             `iso20k report --format xlsx`"
        );
    }
    let range = book
        .worksheet_range(PLAN_SHEET)
        .map_err(|e| anyhow::anyhow!("{name}: cannot read sheet `{PLAN_SHEET}`: {e}"))?;
    let (top, left) = range.start().unwrap_or((0, 0));
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(|c| text(c).unwrap_or_default()).collect())
        .unwrap_or_default();
    let missing: Vec<&str> = [col::FINDING, col::OWNER, col::DUE, col::STATUS]
        .into_iter()
        .filter(|w| !header.iter().any(|h| h == w))
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "{name}: sheet `{PLAN_SHEET}`, row {}: no column {} in the header row",
            top + 1,
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let index = |n: &str| header.iter().position(|h| h == n);
    let active_or_known = |id: &str| sms.person(id).is_some();

    let mut problems = Vec::new();
    let mut out: Vec<Row> = Vec::new();
    for (row, cells) in (top + 2..).zip(rows) {
        if cells.iter().all(|c| text(c).is_none()) {
            continue;
        }
        let cell = |n: &str| index(n).and_then(|i| cells.get(i)).unwrap_or(&Data::Empty);
        let mut problem = |n: &str, message: String| {
            let at = index(n)
                .map(|i| format!(" ({}{row})", column_letters(left as usize + i)))
                .unwrap_or_default();
            problems.push(format!(
                "{name}: sheet `{PLAN_SHEET}`, row {row}, column `{n}`{at}: {message}"
            ));
        };
        let finding = match text(cell(col::FINDING)) {
            None => {
                problem(col::FINDING, "empty: every row names a finding".to_owned());
                None
            }
            Some(id) => match check_finding_id(&id) {
                Ok(()) => Some(id),
                Err(e) => {
                    problem(col::FINDING, e);
                    None
                }
            },
        };
        if let Some(id) = &finding
            && let Some(first) = out.iter().find(|r| &r.finding == id)
        {
            problem(
                col::FINDING,
                format!("`{id}` is planned twice, also in row {}", first.row),
            );
        }
        let owner = text(cell(col::OWNER));
        if let Some(o) = &owner
            && !active_or_known(o)
        {
            problem(
                col::OWNER,
                format!("`{o}` is not in people.csv: an owner is a person id"),
            );
        }
        let due = match date(cell(col::DUE)) {
            Ok(d) => d,
            Err(message) => {
                problem(col::DUE, message);
                None
            }
        };
        let status = match text(cell(col::STATUS)) {
            None => Some(PlanStatus::Open),
            Some(s) => {
                let key = s.trim().to_lowercase().replace(['_', ' '], "-");
                match PlanStatus::parse(&key) {
                    Some(st) => Some(st),
                    None => {
                        problem(
                            col::STATUS,
                            format!(
                                "`{s}` is not a status; expected {}",
                                PLAN_STATUSES.join(", ")
                            ),
                        );
                        None
                    }
                }
            }
        };
        let reason = text(cell(col::REASON));
        let approved_by = text(cell(col::APPROVED_BY));
        if status == Some(PlanStatus::RiskAccepted) {
            if reason.is_none() {
                problem(
                    col::REASON,
                    "required when the status is risk-accepted: say why the risk is accepted"
                        .to_owned(),
                );
            }
            if approved_by.is_none() {
                problem(
                    col::APPROVED_BY,
                    "required when the status is risk-accepted: the person id of the \
                     top-management member who accepted it"
                        .to_owned(),
                );
            }
        }
        if let Some(by) = &approved_by {
            match sms.person(by) {
                None => problem(
                    col::APPROVED_BY,
                    format!("`{by}` is not in people.csv: a risk is accepted by top management"),
                ),
                Some(p) if !p.top_management => problem(
                    col::APPROVED_BY,
                    format!("`{by}` is not top management: only top management accepts a risk"),
                ),
                Some(p) if !p.is_active(as_of) => problem(
                    col::APPROVED_BY,
                    format!("`{by}` has left: a risk is accepted by someone still here"),
                ),
                Some(_) => {}
            }
        }
        let comments = match comments(cell(col::COMMENTS)) {
            Ok(c) => c,
            Err(message) => {
                problem(col::COMMENTS, message);
                Vec::new()
            }
        };
        if let (Some(finding), Some(status)) = (finding, status) {
            out.push(Row {
                row,
                finding,
                owner,
                due,
                status,
                reason,
                approved_by,
                comments,
            });
        }
    }
    if !problems.is_empty() {
        let n = problems.len();
        anyhow::bail!(
            "{name}: {n} problem{}; {PLAN} was not changed\n  {}",
            if n == 1 { "" } else { "s" },
            problems.join("\n  ")
        );
    }
    Ok(out)
}

/// The comments cell: one comment a line, `YYYY-MM-DD person: text`, with `-` for an unknown
/// day or person (as the workbook writes them).
fn comments(cell: &Data) -> Result<Vec<PlanComment>, String> {
    let Some(all) = text(cell) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for line in all.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let wrong =
            || format!("`{line}` is not a comment; write one a line as `YYYY-MM-DD person: text`");
        let (on, rest) = line.split_once(' ').ok_or_else(wrong)?;
        let (by, said) = rest.split_once(':').ok_or_else(wrong)?;
        let on = match on {
            "-" => None,
            d => Some(
                date(&Data::String(d.to_owned()))
                    .map_err(|_| wrong())?
                    .ok_or_else(wrong)?,
            ),
        };
        let by = by.trim();
        if by.contains(char::is_whitespace) {
            return Err(wrong());
        }
        out.push(PlanComment {
            on,
            by: (by != "-" && !by.is_empty()).then(|| by.to_owned()),
            text: said.trim().to_owned(),
        });
    }
    Ok(out)
}

/// The plan as the bundle file's entry, through its JSON form (the form records take).
fn item(e: &PlanEntry) -> anyhow::Result<PlanItem> {
    let comments: Vec<serde_json::Value> = e
        .comments
        .iter()
        .map(|c| {
            serde_json::json!({
                "on": c.on.map(|d| d.to_string()),
                "by": c.by,
                "text": c.text,
            })
        })
        .collect();
    let json = serde_json::json!({
        "finding": e.finding,
        "owner": e.owner,
        "due": e.due.map(|d| d.to_string()),
        "status": e.status.as_str(),
        "reason": e.reason,
        "approved_by": e.approved_by,
        "comments": comments,
    });
    serde_json::from_value(json).context("a plan entry the bundle cannot hold")
}

/// Replaces plan.yaml whole, through a file beside it. The comment block at the top of the old
/// file is kept; the entries are written as `iso20k export-bundle` writes them.
fn write_plan(path: &Path, plan: &[PlanEntry]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let items = plan.iter().map(item).collect::<anyhow::Result<Vec<_>>>()?;
    let staging = tempfile::tempdir_in(dir)
        .with_context(|| format!("cannot write into {}", dir.display()))?;
    let only = staging.path().join("plan");
    Bundle {
        plan: items,
        ..Bundle::default()
    }
    .write(&only)?;
    // An empty plan writes no file: plan.yaml then holds its comments alone.
    let body = std::fs::read_to_string(only.join(PLAN)).unwrap_or_default();
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
    fn comments_read_back_as_the_workbook_writes_them() {
        let c = comments(&Data::String(
            "2026-06-01 m.castell: started: draft out\n- -: no date".into(),
        ))
        .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].on, Some(jiff::civil::date(2026, 6, 1)));
        assert_eq!(c[0].by.as_deref(), Some("m.castell"));
        assert_eq!(c[0].text, "started: draft out");
        assert_eq!((c[1].on, c[1].by.as_deref()), (None, None));
        assert!(comments(&Data::String("no colon here".into())).is_err());
        assert!(comments(&Data::String("2026-13-01 x: bad day".into())).is_err());
    }
}
