//! `iso20k clauses`: the clause catalogues and the mapping between the editions.

use std::io::Write as _;
use std::process::ExitCode;

use anstyle::Style;
use iso20k_core::{Edition, clause};
use serde_json::json;

use crate::cli::{ClausesArgs, ClausesCommand, Format};

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

pub fn run(args: ClausesArgs) -> anyhow::Result<ExitCode> {
    let mut out = anstream::stdout();
    match args.map {
        None => {
            let edition: Edition = args.edition.into();
            let all = clause::catalogue(edition);
            match args.format {
                Format::Json => {
                    let list: Vec<_> = all
                        .iter()
                        .map(|c| {
                            json!({
                                "clause": c.id,
                                "title": c.title,
                                "summary": c.summary,
                                "looks_for": c.looks_for,
                                "requirement": c.is_requirement(),
                                "leaf": c.is_leaf(),
                                "counterparts": clause::counterparts(edition, c.id),
                            })
                        })
                        .collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
                }
                Format::Text => {
                    for c in all {
                        let indent = "  ".repeat(c.depth() - 1);
                        let style = if c.depth() == 1 { BOLD } else { Style::new() };
                        writeln!(
                            out,
                            "{indent}{style}{} {}{style:#}  {DIM}{}{DIM:#}",
                            c.id, c.title, c.summary
                        )?;
                    }
                }
            }
        }
        Some(ClausesCommand::Map {
            clause: id,
            from,
            format,
        }) => {
            let sources: Vec<Edition> = match from {
                Some(e) => vec![e.into()],
                None => Edition::ALL
                    .into_iter()
                    .rev()
                    .filter(|e| clause::find(*e, &id).is_some())
                    .collect(),
            };
            anyhow::ensure!(
                !sources.is_empty(),
                "no clause {id} in either edition (see `iso20k clauses`)"
            );
            let mut results = Vec::new();
            for from in sources {
                let Some(c) = clause::find(from, &id) else {
                    anyhow::bail!("no clause {id} in the {from} edition");
                };
                let to = from.other();
                let counterparts: Vec<_> = clause::counterparts(from, &id)
                    .into_iter()
                    .map(|t| (t, clause::find(to, t).map(|c| c.title).unwrap_or("")))
                    .collect();
                results.push((from, c, to, counterparts));
            }
            match format {
                Format::Json => {
                    let list: Vec<_> = results
                        .iter()
                        .map(|(from, c, to, cps)| {
                            json!({
                                "from": { "edition": from.as_str(), "clause": c.id, "title": c.title },
                                "to": { "edition": to.as_str(), "clauses": cps.iter().map(|(id, title)| json!({"clause": id, "title": title})).collect::<Vec<_>>() },
                            })
                        })
                        .collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
                }
                Format::Text => {
                    for (from, c, to, cps) in &results {
                        writeln!(out, "{BOLD}{from} {} {}{BOLD:#} →", c.id, c.title)?;
                        if cps.is_empty() {
                            writeln!(out, "  {DIM}nothing in {to}: new in 2018{DIM:#}")?;
                        }
                        for (id, title) in cps {
                            writeln!(out, "  {to} {id} {title}")?;
                        }
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
