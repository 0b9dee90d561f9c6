//! `iso20k kb`: the knowledge base of audit-failure patterns.

use std::io::Write as _;
use std::process::ExitCode;

use anstyle::Style;
use iso20k_core::kb::{self, Pattern};
use iso20k_core::{Edition, clause};

use crate::cli::{Format, KbCommand};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

pub fn run(cmd: KbCommand) -> anyhow::Result<ExitCode> {
    let mut out = anstream::stdout();
    match cmd {
        KbCommand::List {
            edition,
            clause,
            format,
        } => {
            let edition: Option<Edition> = edition.map(Into::into);
            if let Some(c) = &clause {
                let known = Edition::ALL
                    .iter()
                    .filter(|e| edition.is_none_or(|x| x == **e))
                    .any(|e| clause::find(*e, c).is_some());
                anyhow::ensure!(
                    known,
                    "no clause {c} in {}",
                    edition.map_or("either edition".into(), |e| format!("the {e} edition"))
                );
            }
            let selected: Vec<&Pattern> = kb::patterns()
                .iter()
                .filter(|p| edition.is_none_or(|e| !p.clauses(e).is_empty()))
                .filter(|p| {
                    clause.as_deref().is_none_or(|c| {
                        Edition::ALL
                            .iter()
                            .filter(|e| edition.is_none_or(|x| x == **e))
                            .any(|e| {
                                p.clauses(*e)
                                    .iter()
                                    .any(|pc| clause::is_within(pc, c) || clause::is_within(c, pc))
                            })
                    })
                })
                .collect();
            match format {
                Format::Json => {
                    let all: Vec<_> = selected
                        .iter()
                        .map(|p| iso20k_report::kb::pattern(p))
                        .collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
                }
                Format::Text => {
                    let e = edition.unwrap_or(Edition::Y2018);
                    for p in &selected {
                        let clauses = p.clauses(e).join(", ");
                        writeln!(
                            out,
                            "{BOLD}{}{BOLD:#}  {:<11} {:<11} {}",
                            p.id,
                            p.grade.as_str(),
                            clauses,
                            p.title
                        )?;
                    }
                    writeln!(
                        out,
                        "{DIM}{} patterns; clauses shown for {e}; `iso20k kb show ID` for one in full{DIM:#}",
                        selected.len()
                    )?;
                }
            }
        }
        KbCommand::Search { words, format } => {
            let hits = kb::search(&words.join(" "));
            match format {
                Format::Json => {
                    let all: Vec<_> = hits.iter().map(|p| iso20k_report::kb::pattern(p)).collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
                }
                Format::Text => {
                    for p in &hits {
                        writeln!(
                            out,
                            "{BOLD}{}{BOLD:#}  {:<20} {}",
                            p.id,
                            p.clauses_2018.join(", "),
                            p.title
                        )?;
                    }
                    writeln!(out, "{DIM}{} patterns match{DIM:#}", hits.len())?;
                }
            }
        }
        KbCommand::Show { id, format } => {
            let p = kb::find(&id)
                .ok_or_else(|| anyhow::anyhow!("no pattern {id} (see `iso20k kb list`)"))?;
            match format {
                Format::Json => writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&iso20k_report::kb::pattern(p))?
                )?,
                Format::Text => show(&mut out, p)?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(out: &mut impl std::io::Write, p: &Pattern) -> std::io::Result<()> {
    writeln!(out, "{BOLD}{}  {}{BOLD:#}", p.id, p.title)?;
    for e in [Edition::Y2018, Edition::Y2011] {
        let clauses: Vec<String> = p
            .clauses(e)
            .iter()
            .map(|c| format!("{c} {}", clause::find(e, c).map(|c| c.title).unwrap_or("")))
            .collect();
        let shown = if clauses.is_empty() {
            "(no counterpart)".to_string()
        } else {
            clauses.join("; ")
        };
        writeln!(out, "{DIM}ISO/IEC 20000-1:{e}:{DIM:#} {shown}")?;
    }
    writeln!(
        out,
        "{DIM}Typical grade:{DIM:#} {}. {}",
        p.grade, p.escalation
    )?;
    section(out, "What goes wrong", p.what_goes_wrong)?;
    section(out, "Why it matters in an audit", p.why_it_matters)?;
    writeln!(out, "\n{BOLD}How to fix it{BOLD:#}")?;
    for (i, step) in p.how_to_fix.iter().enumerate() {
        writeln!(out, "  {}. {step}", i + 1)?;
    }
    section(out, "What fixing it achieves", p.result)?;
    writeln!(out, "\n{BOLD}Evidence the auditor asks for{BOLD:#}")?;
    for e in p.evidence {
        writeln!(out, "  - {e}")?;
    }
    let checks = p.checks();
    writeln!(out, "\n{BOLD}Detection{BOLD:#}")?;
    if checks.is_empty() {
        writeln!(out, "  Checklist question: {}", p.question)?;
    } else {
        writeln!(out, "  Checks: {}", checks.join(", "))?;
    }
    Ok(())
}

fn section(out: &mut impl std::io::Write, title: &str, text: &str) -> std::io::Result<()> {
    writeln!(out, "\n{BOLD}{title}{BOLD:#}\n  {text}")
}
