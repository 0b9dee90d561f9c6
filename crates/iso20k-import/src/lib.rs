//! Imports ticket exports into an iso20k bundle.
//!
//! Providers keep incidents, requests, problems, changes and configuration items in ServiceNow,
//! Jira Service Management, GLPI or iTop and export them as CSV, XLSX or JSON. This crate reads
//! those exports as they come (the tool is recognised from the header row), turns each row into
//! a ticket, and merges the tickets into the bundle's `tickets/` tables by id, so importing the
//! same export twice changes nothing. An import is all-or-nothing: one bad row fails it with
//! file, line and column, and the bundle is left as it was.

// Bundle errors carry their location and source line; they are built once, on the way out.
#![allow(clippy::result_large_err)]

mod convert;
mod input;
mod mapfile;
pub mod profile;
pub mod values;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use iso20k_bundle::Error;
use iso20k_core::model::Tickets;

pub use input::{Limits, check_archive};
pub use profile::{Kind, Source};

/// How to read the files.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The tool, when detection from the headers should be overridden.
    pub from: Option<Source>,
    /// The kind of ticket, for exports that hold one kind; for mixed exports, only rows of it.
    pub kind: Option<Kind>,
    /// A mapping file for exports iso20k has no profile for.
    pub map: Option<PathBuf>,
}

/// What one file contributed.
#[derive(Clone, Debug)]
pub struct FileSummary {
    /// The file.
    pub path: PathBuf,
    /// What the user should know about what the export could not say.
    pub warnings: Vec<String>,
    /// The tool it was read as.
    pub source: Source,
    /// Rows read.
    pub rows: usize,
    /// Tickets found, by kind (one per ticket id).
    pub tickets: Vec<(Kind, usize)>,
    /// Rows not imported, with why and how many.
    pub skipped: Vec<(String, usize)>,
}

/// How one ticket table changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Tickets the bundle did not have.
    pub added: usize,
    /// Tickets the bundle had, now different.
    pub updated: usize,
    /// Tickets the bundle already had exactly.
    pub unchanged: usize,
}

/// The outcome of an import.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Each file read.
    pub files: Vec<FileSummary>,
    /// How each ticket table changed.
    pub tables: Vec<(Kind, Changes)>,
    /// The files written (none when nothing changed).
    pub written: Vec<PathBuf>,
}

/// Imports `files` into the bundle at `dir`. `progress` is called with the bytes read so far and
/// the total, file by file.
pub fn import(
    dir: &Path,
    files: &[PathBuf],
    options: &Options,
    progress: &mut dyn FnMut(&Path, u64, u64),
) -> Result<Summary, Error> {
    if !dir.join(iso20k_bundle::ORGANISATION).is_file() {
        return Err(Error::file(
            dir,
            "not a bundle: organisation.yaml is missing (create one with `iso20k init DIR`)",
        ));
    }
    // A run killed while writing leaves its temporary tables: the next import removes them,
    // whether or not it writes anything.
    iso20k_bundle::tickets::remove_stale_temporaries(dir);
    let mut tickets = iso20k_bundle::tickets::read(dir).map_err(|mut e| e.0.remove(0))?;
    let mut summary = merge_into(&mut tickets, files, options, progress)?;
    if summary.tables.iter().any(|(_, c)| c.added + c.updated > 0) {
        summary.written =
            iso20k_bundle::tickets::write(dir, &changed_only(&tickets, &summary.tables))?;
    }
    Ok(summary)
}

/// Imports `files` into `tickets` held in memory (the server's way), by the same rules as
/// [`import`]: tickets merge by id, the last row of a ticket wins, nothing changes on error.
/// `summary.written` stays empty.
pub fn merge_into(
    tickets: &mut Tickets,
    files: &[PathBuf],
    options: &Options,
    progress: &mut dyn FnMut(&Path, u64, u64),
) -> Result<Summary, Error> {
    let mapped = options.map.as_deref().map(mapfile::load).transpose()?;

    let mut summary = Summary::default();
    let mut imported = Vec::new();
    for path in files {
        let sheet = input::Sheet::open(path)?;
        let plan = plan(path, &sheet.headers, options, mapped.as_ref())?;
        let found = convert::read(path, sheet, &plan, &mut |done, total| {
            progress(path, done, total)
        })?;
        let counts = [
            (Kind::Incidents, found.incidents.len()),
            (Kind::Requests, found.requests.len()),
            (Kind::Problems, found.problems.len()),
            (Kind::Changes, found.changes.len()),
            (Kind::Releases, found.releases.len()),
            (Kind::Cis, found.cis.len()),
            (Kind::Slas, found.slas.len()),
        ];
        let mut warnings = Vec::new();
        if plan.source == Source::Jira && !found.changes.is_empty() {
            warnings.push(
                "Jira exports carry no approvals, back-out or test plans, or reviews of changes: \
                 the change checks report these changes as lacking them until they are recorded"
                    .to_owned(),
            );
        }
        summary.files.push(FileSummary {
            path: path.clone(),
            warnings,
            source: plan.source,
            rows: found.rows,
            tickets: counts.into_iter().filter(|c| c.1 > 0).collect(),
            skipped: found.skipped.clone(),
        });
        imported.push(found);
    }

    let mut tables: Vec<(Kind, Changes)> = Vec::new();
    // SLA records are applied to the incidents of this import before they are merged, so that
    // importing incidents together with their SLA records twice changes nothing.
    // Per ticket: breached if any of its SLA records was, and how many records it had.
    let mut breached: HashMap<String, (bool, usize)> = HashMap::new();
    for found in &mut imported {
        for (task, b) in std::mem::take(&mut found.slas) {
            let entry = breached.entry(task).or_default();
            entry.0 |= b;
            entry.1 += 1;
        }
    }
    for found in &mut imported {
        for i in &mut found.incidents {
            if let Some((b, _)) = breached.get(&i.id) {
                i.sla_met = Some(!b);
            }
        }
    }
    let imported_ids: std::collections::HashSet<String> = imported
        .iter()
        .flat_map(|f| f.incidents.iter().map(|i| i.id.clone()))
        .collect();
    breached.retain(|task, _| !imported_ids.contains(task));
    for found in imported {
        merge(
            &mut tickets.incidents,
            found.incidents,
            |t| &t.id,
            tally(&mut tables, Kind::Incidents),
        );
        merge(
            &mut tickets.requests,
            found.requests,
            |t| &t.id,
            tally(&mut tables, Kind::Requests),
        );
        merge(
            &mut tickets.problems,
            found.problems,
            |t| &t.id,
            tally(&mut tables, Kind::Problems),
        );
        merge(
            &mut tickets.changes,
            found.changes,
            |t| &t.id,
            tally(&mut tables, Kind::Changes),
        );
        merge(
            &mut tickets.releases,
            found.releases,
            |t| &t.id,
            tally(&mut tables, Kind::Releases),
        );
        merge(
            &mut tickets.cis,
            found.cis,
            |t| &t.id,
            tally(&mut tables, Kind::Cis),
        );
    }
    apply_slas(
        tickets,
        breached,
        tally(&mut tables, Kind::Incidents),
        &mut summary,
    );
    summary.tables = tables
        .into_iter()
        .filter(|(_, c)| *c != Changes::default())
        .collect();
    Ok(summary)
}

fn plan(
    path: &Path,
    headers: &[String],
    options: &Options,
    mapped: Option<&(Kind, profile::Profile)>,
) -> Result<convert::Plan, Error> {
    if let Some((kind, p)) = mapped {
        return Ok(convert::Plan {
            source: Source::Csv,
            kind: Some(options.kind.unwrap_or(*kind)),
            only: None,
            profile: p.clone(),
        });
    }
    let detected = profile::detect(headers);
    let source = options.from.or(detected.map(|d| d.0)).ok_or_else(|| {
        Error::file(
            path,
            "cannot tell which tool wrote this export from its header row; name it with --from, or map its columns with --map",
        )
    })?;
    let mixed = matches!(source, Source::Jira | Source::Glpi | Source::Itop);
    let kind = if mixed {
        None
    } else {
        let guessed = detected.filter(|d| d.0 == source).and_then(|d| d.1);
        Some(options.kind.or(guessed).ok_or_else(|| {
            Error::file(path, format!("cannot tell which kind of ticket this {source} export holds; name it with --kind"))
        })?)
    };
    let profile_kind = kind.or(options.kind).unwrap_or(Kind::Incidents);
    Ok(convert::Plan {
        source,
        kind,
        only: if mixed { options.kind } else { None },
        profile: profile::profile(source, profile_kind),
    })
}

fn tally(tables: &mut Vec<(Kind, Changes)>, kind: Kind) -> &mut Changes {
    let i = match tables.iter().position(|t| t.0 == kind) {
        Some(i) => i,
        None => {
            tables.push((kind, Changes::default()));
            tables.len() - 1
        }
    };
    &mut tables[i].1
}

/// Upserts `new` into `existing` by id, counting what changed.
fn merge<T: PartialEq>(
    existing: &mut Vec<T>,
    new: Vec<T>,
    id: impl Fn(&T) -> &String,
    changes: &mut Changes,
) {
    let mut index: HashMap<String, usize> = existing
        .iter()
        .enumerate()
        .map(|(i, t)| (id(t).clone(), i))
        .collect();
    for t in new {
        match index.get(id(&t)) {
            Some(&i) if existing[i] == t => changes.unchanged += 1,
            Some(&i) => {
                existing[i] = t;
                changes.updated += 1;
            }
            None => {
                index.insert(id(&t).clone(), existing.len());
                existing.push(t);
                changes.added += 1;
            }
        }
    }
}

/// SLA records of incidents already in the bundle set whether each met its SLA: breached if any
/// of its SLAs was.
fn apply_slas(
    tickets: &mut Tickets,
    breached: HashMap<String, (bool, usize)>,
    changes: &mut Changes,
    summary: &mut Summary,
) {
    if breached.is_empty() {
        return;
    }
    let mut unknown = 0;
    let index: HashMap<&str, usize> = tickets
        .incidents
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    let mut updates = Vec::new();
    for (task, (b, rows)) in &breached {
        match index.get(task.as_str()) {
            Some(&i) => updates.push((i, !b)),
            None => unknown += rows,
        }
    }
    for (i, met) in updates {
        if tickets.incidents[i].sla_met == Some(met) {
            changes.unchanged += 1;
        } else {
            tickets.incidents[i].sla_met = Some(met);
            changes.updated += 1;
        }
    }
    if unknown > 0
        && let Some(f) = summary.files.last_mut()
    {
        f.skipped.push((
            "SLA records of tickets that are not incidents in the bundle".to_owned(),
            unknown,
        ));
    }
}

/// Only the tables that changed are rewritten, so an import of changes leaves incidents.csv
/// byte for byte as it was.
fn changed_only(tickets: &Tickets, tables: &[(Kind, Changes)]) -> Tickets {
    let touched = |k: Kind| {
        tables
            .iter()
            .any(|(t, c)| *t == k && c.added + c.updated > 0)
    };
    Tickets {
        incidents: if touched(Kind::Incidents) {
            tickets.incidents.clone()
        } else {
            Vec::new()
        },
        requests: if touched(Kind::Requests) {
            tickets.requests.clone()
        } else {
            Vec::new()
        },
        problems: if touched(Kind::Problems) {
            tickets.problems.clone()
        } else {
            Vec::new()
        },
        changes: if touched(Kind::Changes) {
            tickets.changes.clone()
        } else {
            Vec::new()
        },
        releases: if touched(Kind::Releases) {
            tickets.releases.clone()
        } else {
            Vec::new()
        },
        cis: if touched(Kind::Cis) {
            tickets.cis.clone()
        } else {
            Vec::new()
        },
    }
}
