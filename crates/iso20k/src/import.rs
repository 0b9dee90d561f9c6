//! `iso20k import`: ticket exports into the bundle's ticket tables, with a progress bar on a
//! terminal and a summary at the end.

use std::io::{IsTerminal, Write as _};
use std::process::ExitCode;
use std::time::Instant;

use anstyle::Style;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::ImportArgs;

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

pub fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let options = iso20k_import::Options {
        from: args.from,
        kind: args.kind,
        map: args.map.clone(),
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        bar
    });
    let progress = {
        let bar = bar.clone();
        move |path: &std::path::Path, done: u64, total: u64| {
            if let Some(bar) = &bar {
                bar.set_length(total);
                bar.set_position(done);
                bar.set_message(
                    path.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                );
            }
        }
    };
    let started = Instant::now();
    let (result, into) = match &args.org {
        Some(slug) => {
            let mut files = vec![args.dir.clone()];
            files.extend(args.files.iter().cloned());
            let result = crate::server::import_tickets(
                slug,
                args.database.clone(),
                files,
                options,
                Box::new(progress),
            )?;
            (result.map_err(|e| *e), Some(slug))
        }
        None => {
            let mut progress = progress;
            let result = iso20k_import::import(&args.dir, &args.files, &options, &mut progress);
            (result, None)
        }
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let summary = result?;
    let elapsed = started.elapsed();

    let mut out = anstream::stdout();
    let mut rows = 0;
    for f in &summary.files {
        rows += f.rows;
        let found: Vec<_> = f
            .tickets
            .iter()
            .map(|(k, n)| count(*n, singular(*k), plural(*k)))
            .collect();
        writeln!(
            out,
            "{BOLD}{}{BOLD:#} {DIM}({}){DIM:#}: {} read, {}",
            f.path.display(),
            f.source,
            count(f.rows, "row", "rows"),
            if found.is_empty() {
                "no tickets".to_owned()
            } else {
                found.join(", ")
            }
        )?;
        for (why, n) in &f.skipped {
            writeln!(out, "  skipped {}: {why}", count(*n, "row", "rows"))?;
        }
        for w in &f.warnings {
            writeln!(out, "  {BOLD}note:{BOLD:#} {w}")?;
        }
    }
    for (kind, c) in &summary.tables {
        writeln!(
            out,
            "  {kind}: {} added, {} updated, {} unchanged",
            c.added, c.updated, c.unchanged
        )?;
    }
    let rate = rows as f64 / elapsed.as_secs_f64().max(1e-9);
    let changed = summary.tables.iter().any(|(_, c)| c.added + c.updated > 0);
    if let Some(slug) = into {
        if changed {
            writeln!(
                out,
                "Stored in `{slug}`. {DIM}({rows} rows in {:.2} s, {:.0} rows/s){DIM:#}",
                elapsed.as_secs_f64(),
                rate
            )?;
        } else {
            writeln!(
                out,
                "Nothing changed: `{slug}` already holds these tickets. {DIM}({rows} rows in {:.2} s){DIM:#}",
                elapsed.as_secs_f64()
            )?;
        }
    } else if summary.written.is_empty() {
        writeln!(
            out,
            "Nothing changed: the bundle already holds these tickets. {DIM}({rows} rows in {:.2} s){DIM:#}",
            elapsed.as_secs_f64()
        )?;
    } else {
        let files: Vec<_> = summary
            .written
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        writeln!(
            out,
            "Wrote {}. {DIM}({rows} rows in {:.2} s, {:.0} rows/s){DIM:#}",
            files.join(", "),
            elapsed.as_secs_f64(),
            rate
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn plural(kind: iso20k_import::Kind) -> &'static str {
    use iso20k_import::Kind::*;
    match kind {
        Incidents => "incidents",
        Requests => "requests",
        Problems => "problems",
        Changes => "changes",
        Releases => "releases",
        Cis => "configuration items",
        Slas => "SLA records",
    }
}

fn singular(kind: iso20k_import::Kind) -> &'static str {
    use iso20k_import::Kind::*;
    match kind {
        Incidents => "incident",
        Requests => "request",
        Problems => "problem",
        Changes => "change",
        Releases => "release",
        Cis => "configuration item",
        Slas => "SLA record",
    }
}
