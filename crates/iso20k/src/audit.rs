//! The internal auditor's commands on a bundle: `sample` (a reproducible audit sample), `diff`
//! (the same records judged on two days) and `audit-report` (one audit's report).

use std::io::Write as _;
use std::process::ExitCode;

use anstyle::Style;
use iso20k_bundle::Bundle;
use iso20k_bundle::population::{self, Size};
use iso20k_core::model::PopulationDef;
use serde_json::json;

use crate::cli::{AuditReportArgs, DiffArgs, Format, SampleArgs};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

pub fn sample(args: SampleArgs) -> anyhow::Result<ExitCode> {
    let bundle = Bundle::read(&args.dir)?;
    let def = PopulationDef {
        kind: args.kind.clone(),
        from: args.from,
        to: args.to,
        filters: args.filters.clone(),
    };
    let (size, method) = match (args.size, args.confidence, args.tdr) {
        (Some(n), _, _) => (Size::Fixed(n), "random"),
        (None, Some(confidence), Some(tdr)) => {
            (Size::Statistical { confidence, tdr }, "statistical")
        }
        _ => (
            Size::Statistical {
                confidence: 0.95,
                tdr: 0.05,
            },
            "statistical",
        ),
    };
    // Without a seed the clock gives one; it is printed, so the draw can still be repeated.
    let seed = args
        .seed
        .unwrap_or_else(|| jiff::Timestamp::now().as_nanosecond() as u64);
    let drawn = population::draw(&bundle, &def, size, seed).map_err(anyhow::Error::msg)?;
    let mut out = anstream::stdout();
    match args.format {
        Format::Json => {
            let (confidence, tdr) = match size {
                Size::Statistical { confidence, tdr } => (Some(confidence), Some(tdr)),
                Size::Fixed(_) => (None, None),
            };
            let value = json!({
                "kind": def.kind,
                "from": def.from.map(|d| d.to_string()),
                "to": def.to.map(|d| d.to_string()),
                "where": def.filters,
                "date_field": population::date_field(&def.kind)
                    .filter(|_| def.from.is_some() || def.to.is_some()),
                "population": drawn.population,
                "method": method,
                "confidence": confidence,
                "tdr": tdr,
                "required": drawn.required,
                "size": drawn.items.len(),
                "seed": drawn.seed,
                "items": drawn.items,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
        Format::Text => {
            let period = match (def.from, def.to, population::date_field(&def.kind)) {
                (None, None, _) | (_, _, None) => String::new(),
                (from, to, Some(field)) => format!(
                    " with {field} from {} to {}",
                    from.map_or("the start".to_owned(), |d| d.to_string()),
                    to.map_or("the end".to_owned(), |d| d.to_string())
                ),
            };
            let filters = if def.filters.is_empty() {
                String::new()
            } else {
                format!(" where {}", def.filters.join(" and "))
            };
            writeln!(out, "{BOLD}Sample of {}{period}{filters}{BOLD:#}", def.kind)?;
            let rule = match size {
                Size::Statistical { confidence, tdr } => format!(
                    "{}% confidence that deviations stay below {}% needs {}",
                    confidence * 100.0,
                    tdr * 100.0,
                    drawn.required
                ),
                Size::Fixed(n) => format!("{n} asked for"),
            };
            let whole = if drawn.items.len() < drawn.required {
                "; the population is smaller, so every record is tested"
            } else {
                ""
            };
            writeln!(
                out,
                "Population: {} records. Sample: {} ({rule}{whole}).",
                drawn.population,
                drawn.items.len()
            )?;
            writeln!(
                out,
                "{DIM}Seed {}: the same records and arguments with --seed {} draw these again.{DIM:#}",
                drawn.seed, drawn.seed
            )?;
            for (i, id) in drawn.items.iter().enumerate() {
                writeln!(out, "{:>4}. {id}", i + 1)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn diff(args: DiffArgs) -> anyhow::Result<ExitCode> {
    if args.from_date >= args.to_date {
        anyhow::bail!(
            "--from-date ({}) must come before --to-date ({})",
            args.from_date,
            args.to_date
        );
    }
    let sms = iso20k_bundle::read(&args.dir)?;
    let edition = args
        .edition
        .map(Into::into)
        .unwrap_or_else(|| sms.edition());
    let judge =
        |as_of| iso20k_core::audit::audit(&sms, iso20k_core::audit::Options { edition, as_of });
    let then = judge(args.from_date);
    let now = judge(args.to_date);
    let d = iso20k_core::diff::compare(&then, &now);
    let ids =
        |v: &[&iso20k_core::checks::Finding]| v.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
    let mut out = anstream::stdout();
    match args.format {
        Format::Json => {
            let findings: serde_json::Map<String, serde_json::Value> = d
                .new
                .iter()
                .chain(&d.recurring)
                .chain(&d.resolved)
                .map(|f| {
                    (
                        f.id.clone(),
                        json!({"title": f.title, "grade": f.grade.as_str(), "check": f.check}),
                    )
                })
                .collect();
            let value = json!({
                "from": d.from.to_string(),
                "to": d.to.to_string(),
                "edition": edition.as_str(),
                "overall": {"then": d.overall.0, "now": d.overall.1},
                "new": ids(&d.new),
                "resolved": ids(&d.resolved),
                "recurring": ids(&d.recurring),
                "moved": d.recurring.iter().zip(&d.moved).filter(|(_, (gone, added))| !gone.is_empty() || !added.is_empty()).map(|(f, (gone, added))| json!({
                    "finding": f.id,
                    "no_longer": gone,
                    "now_also": added,
                })).collect::<Vec<_>>(),
                "findings": findings,
                "clauses": d.clauses.iter().map(|c| json!({
                    "clause": c.clause,
                    "title": c.title,
                    "then": c.then,
                    "now": c.now,
                })).collect::<Vec<_>>(),
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
        Format::Text => {
            writeln!(
                out,
                "{BOLD}{} as of {} against {}{BOLD:#}",
                now.organisation, d.from, d.to
            )?;
            writeln!(
                out,
                "Overall score {:.1} then, {:.1} now.",
                d.overall.0, d.overall.1
            )?;
            for (label, list) in [
                ("New", &d.new),
                ("Resolved", &d.resolved),
                ("Recurring", &d.recurring),
            ] {
                writeln!(out, "\n{BOLD}{label} ({}){BOLD:#}", list.len())?;
                for f in list.iter() {
                    writeln!(
                        out,
                        "  {} {DIM}{}{DIM:#} {}",
                        f.grade.as_str(),
                        f.id,
                        f.title
                    )?;
                }
            }
            let moved: Vec<_> = d
                .clauses
                .iter()
                .filter(|c| (c.then - c.now).abs() >= 0.05)
                .collect();
            writeln!(
                out,
                "\n{BOLD}Clauses whose score moved ({}){BOLD:#}",
                moved.len()
            )?;
            for c in moved {
                writeln!(
                    out,
                    "  {:<9} {:>5.1} -> {:>5.1}  {}",
                    c.clause, c.then, c.now, c.title
                )?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn report(args: AuditReportArgs) -> anyhow::Result<ExitCode> {
    let ext = args
        .output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let pdf = match ext.as_deref() {
        Some("html" | "htm") => false,
        Some("pdf") => true,
        _ => anyhow::bail!(
            "{}: write the report to a `.html` or a `.pdf` file",
            args.output.display()
        ),
    };
    #[cfg(not(feature = "pdf"))]
    if pdf {
        anyhow::bail!(
            "this iso20k was built without PDF support: build it with the `pdf` feature (on by default)"
        );
    }
    let sms = iso20k_bundle::read(&args.dir)?;
    let data = iso20k_report::audit_report::data(&sms, &args.audit).map_err(anyhow::Error::msg)?;
    let bytes = if pdf {
        #[cfg(feature = "pdf")]
        {
            iso20k_pdf::audit_report(&data).map_err(anyhow::Error::msg)?
        }
        #[cfg(not(feature = "pdf"))]
        unreachable!("refused above")
    } else {
        iso20k_report::audit_report::html(&data).into_bytes()
    };
    crate::report::write(&args.output, &bytes)?;
    Ok(ExitCode::SUCCESS)
}
