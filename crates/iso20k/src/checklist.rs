//! `iso20k checklist`: the questions an internal auditor answers where no record can tell.

use std::io::Write as _;
use std::process::ExitCode;

use anstyle::Style;
use iso20k_core::checklist;
use iso20k_core::model::Answer;
use serde_json::json;

use crate::cli::{ChecklistArgs, Format};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

pub fn run(args: ChecklistArgs) -> anyhow::Result<ExitCode> {
    let sms = iso20k_bundle::read(&args.dir)?;
    let edition = args
        .edition
        .map(Into::into)
        .unwrap_or_else(|| sms.edition());
    let as_of = crate::default_day(&sms, args.as_of);
    let given = checklist::answers(&sms, as_of);
    let rows: Vec<_> = checklist::questions(edition)
        .into_iter()
        .map(|p| (p, given.iter().find(|(q, _)| q.id == p.id).map(|(_, a)| *a)))
        .filter(|(_, a)| args.all || a.is_none_or(|a| a.answer == Answer::NotAssessed))
        .collect();
    let mut out = anstream::stdout();
    match args.format {
        Format::Json => {
            let list: Vec<_> = rows
                .iter()
                .map(|(p, a)| {
                    json!({
                        "pattern": p.id,
                        "title": p.title,
                        "clauses": p.clauses(edition),
                        "question": p.question,
                        "answer": a.map_or("not-assessed", |a| answer(a.answer)),
                        "evidence": a.and_then(|a| a.evidence.as_deref()),
                        "answered_on": a.and_then(|a| a.answered_on).map(|d| d.to_string()),
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        }
        Format::Text => {
            for (p, a) in &rows {
                let status = a.map_or("open", |a| answer(a.answer));
                writeln!(
                    out,
                    "{BOLD}{}{BOLD:#} {DIM}[{}] {status}{DIM:#}\n  {}",
                    p.id,
                    p.clauses(edition).join(", "),
                    p.question
                )?;
            }
            let s = checklist::status(&sms, edition, as_of);
            writeln!(
                out,
                "{DIM}{} of {} questions answered for {edition}; record answers in {}/checklist.yaml{DIM:#}",
                s.answered,
                s.questions,
                args.dir.display()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn answer(a: Answer) -> &'static str {
    match a {
        Answer::Yes => "yes",
        Answer::Partly => "partly",
        Answer::No => "no",
        Answer::NotAssessed => "not-assessed",
    }
}
