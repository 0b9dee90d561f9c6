//! The ticket tables on their own: read them from a bundle and write them back, for importers
//! that merge new tickets into what a bundle already holds.
//!
//! Writing is all-or-nothing: every table is written to a temporary file beside its target and
//! only then are they moved into place.

use std::path::{Path, PathBuf};

use iso20k_core::model::{
    Change, ChangeType, ConfigurationItem, Incident, Problem, Release, ServiceRequest, Tickets,
};
use iso20k_core::{Date, DateTime};

use crate::Reader;
use crate::error::{Error, Errors};

/// The ticket tables, by file name within the bundle, in the order they are read.
pub const TABLES: [&str; 6] = [
    "tickets/incidents.csv",
    "tickets/requests.csv",
    "tickets/problems.csv",
    "tickets/changes.csv",
    "tickets/releases.csv",
    "tickets/cis.csv",
];

/// Reads only the ticket tables of a bundle; missing tables are empty.
pub fn read(dir: &Path) -> Result<Tickets, Errors> {
    let mut reader = Reader::new(dir);
    let tickets = read_with(&mut reader);
    if reader.errors.is_empty() {
        Ok(tickets)
    } else {
        Err(Errors(reader.errors))
    }
}

pub(crate) fn read_with(reader: &mut Reader<'_>) -> Tickets {
    let (tickets, errors) = crate::ticket_reader::read(reader.dir);
    reader.errors.extend(errors);
    tickets
}

/// Removes the temporary tables a killed write left behind: `tickets/TABLE.csv.iso20k-PID`,
/// for one of the six ticket tables, whose PID is not this process and names no running
/// process (where `/proc` tells; where it does not, a file not modified for a day counts as
/// left behind). A write in progress in another process keeps its file. Returns the files
/// removed.
pub fn remove_stale_temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir.join("tickets")) else {
        return removed;
    };
    let ours = std::process::id();
    let proc = Path::new("/proc/self").is_dir();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((table, pid)) = name.split_once(".csv.iso20k-") else {
            continue;
        };
        if !TABLES
            .iter()
            .any(|t| t.strip_prefix("tickets/") == Some(&format!("{table}.csv")))
            || pid.is_empty()
            || !pid.bytes().all(|b| b.is_ascii_digit())
        {
            continue;
        }
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid == ours {
            continue;
        }
        let stale = if proc {
            !Path::new("/proc").join(pid.to_string()).exists()
        } else {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 24 * 3600)
        };
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

/// Writes every non-empty ticket table of `tickets` into the bundle, replacing what was there.
/// Tables with no rows are left as they are. Temporary tables a killed write left behind are
/// removed first ([`remove_stale_temporaries`]). Returns the files written.
pub fn write(dir: &Path, tickets: &Tickets) -> Result<Vec<PathBuf>, Error> {
    remove_stale_temporaries(dir);
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| {
        let mut stage = |name: &str,
                         header: &[&str],
                         rows: &mut dyn Iterator<Item = Vec<String>>|
         -> Result<(), Error> {
            let target = dir.join(name);
            let tmp = target.with_extension(format!("csv.iso20k-{}", std::process::id()));
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::file(parent, format!("cannot create: {e}")))?;
            }
            let io = |e: std::io::Error| Error::file(&tmp, format!("cannot write: {e}"));
            let mut w = csv::Writer::from_path(&tmp)
                .map_err(|e| Error::file(&tmp, format!("cannot write: {e}")))?;
            staged.push((tmp.clone(), target));
            w.write_record(header)
                .map_err(|e| Error::file(&tmp, e.to_string()))?;
            for row in rows {
                w.write_record(&row)
                    .map_err(|e| Error::file(&tmp, e.to_string()))?;
            }
            w.flush().map_err(io)?;
            Ok(())
        };
        if !tickets.incidents.is_empty() {
            stage(
                TABLES[0],
                INCIDENT_COLUMNS,
                &mut tickets.incidents.iter().map(incident),
            )?;
        }
        if !tickets.requests.is_empty() {
            stage(
                TABLES[1],
                REQUEST_COLUMNS,
                &mut tickets.requests.iter().map(request),
            )?;
        }
        if !tickets.problems.is_empty() {
            stage(
                TABLES[2],
                PROBLEM_COLUMNS,
                &mut tickets.problems.iter().map(problem),
            )?;
        }
        if !tickets.changes.is_empty() {
            stage(
                TABLES[3],
                CHANGE_COLUMNS,
                &mut tickets.changes.iter().map(change),
            )?;
        }
        if !tickets.releases.is_empty() {
            stage(
                TABLES[4],
                RELEASE_COLUMNS,
                &mut tickets.releases.iter().map(release),
            )?;
        }
        if !tickets.cis.is_empty() {
            stage(TABLES[5], CI_COLUMNS, &mut tickets.cis.iter().map(ci))?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (tmp, _) in &staged {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(e);
    }
    let mut written = Vec::new();
    for (tmp, target) in staged {
        std::fs::rename(&tmp, &target)
            .map_err(|e| Error::file(&target, format!("cannot replace: {e}")))?;
        written.push(target);
    }
    Ok(written)
}

/// The columns of `tickets/incidents.csv`, in the order iso20k writes them.
pub const INCIDENT_COLUMNS: &[&str] = &[
    "id",
    "opened_at",
    "resolved_at",
    "closed_at",
    "priority",
    "major",
    "category",
    "service",
    "ci",
    "problem",
    "resolution",
    "sla_met",
    "reopen_count",
    "breach_review",
];
/// The columns of `tickets/requests.csv`.
pub const REQUEST_COLUMNS: &[&str] = &[
    "id",
    "opened_at",
    "closed_at",
    "category",
    "service",
    "sla_met",
];
/// The columns of `tickets/problems.csv`.
pub const PROBLEM_COLUMNS: &[&str] = &[
    "id",
    "opened_at",
    "closed_at",
    "service",
    "root_cause",
    "known_error",
    "change",
];
/// The columns of `tickets/changes.csv`.
pub const CHANGE_COLUMNS: &[&str] = &[
    "id",
    "type",
    "service",
    "requested_at",
    "approved_at",
    "approver",
    "implemented_at",
    "risk",
    "backout_plan",
    "test_plan",
    "reviewed_on",
    "successful",
];
/// The columns of `tickets/releases.csv`.
pub const RELEASE_COLUMNS: &[&str] = &["id", "change", "service", "deployed_at", "tested"];
/// The columns of `tickets/cis.csv`.
pub const CI_COLUMNS: &[&str] = &["id", "name", "type", "owner", "service", "last_verified_on"];

fn stamp(t: Option<DateTime>) -> String {
    // `%.f` writes fractions of a second only when there are some, so re-importing an export
    // with milliseconds finds every ticket unchanged.
    t.map(|t| t.strftime("%Y-%m-%d %H:%M:%S%.f").to_string())
        .unwrap_or_default()
}

fn day(d: Option<Date>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn flag(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

fn maybe_flag(b: Option<bool>) -> String {
    b.map(flag).unwrap_or_default()
}

fn incident(i: &Incident) -> Vec<String> {
    vec![
        i.id.clone(),
        stamp(i.opened_at),
        stamp(i.resolved_at),
        stamp(i.closed_at),
        i.priority.map(|p| p.to_string()).unwrap_or_default(),
        flag(i.major),
        opt(&i.category),
        opt(&i.service),
        opt(&i.ci),
        opt(&i.problem),
        opt(&i.resolution),
        maybe_flag(i.sla_met),
        i.reopen_count.to_string(),
        opt(&i.breach_review),
    ]
}

fn request(r: &ServiceRequest) -> Vec<String> {
    vec![
        r.id.clone(),
        stamp(r.opened_at),
        stamp(r.closed_at),
        opt(&r.category),
        opt(&r.service),
        maybe_flag(r.sla_met),
    ]
}

fn problem(p: &Problem) -> Vec<String> {
    vec![
        p.id.clone(),
        stamp(p.opened_at),
        stamp(p.closed_at),
        opt(&p.service),
        opt(&p.root_cause),
        flag(p.known_error),
        opt(&p.change),
    ]
}

fn change(c: &Change) -> Vec<String> {
    let kind = match c.kind {
        ChangeType::Standard => "standard",
        ChangeType::Normal => "normal",
        ChangeType::Emergency => "emergency",
    };
    vec![
        c.id.clone(),
        kind.to_owned(),
        opt(&c.service),
        stamp(c.requested_at),
        stamp(c.approved_at),
        opt(&c.approver),
        stamp(c.implemented_at),
        opt(&c.risk),
        flag(c.backout_plan),
        flag(c.test_plan),
        day(c.reviewed_on),
        maybe_flag(c.successful),
    ]
}

fn release(r: &Release) -> Vec<String> {
    vec![
        r.id.clone(),
        opt(&r.change),
        opt(&r.service),
        stamp(r.deployed_at),
        flag(r.tested),
    ]
}

fn ci(c: &ConfigurationItem) -> Vec<String> {
    vec![
        c.id.clone(),
        c.name.clone(),
        opt(&c.kind),
        opt(&c.owner),
        opt(&c.service),
        day(c.last_verified_on),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_columns_are_the_columns_the_reader_knows() {
        use crate::files::{ChangeRow, CiRow, IncidentRow, ProblemRow, ReleaseRow, RequestRow};
        use crate::table::columns;
        for (written, (known, _)) in [
            (INCIDENT_COLUMNS, columns::<IncidentRow>()),
            (REQUEST_COLUMNS, columns::<RequestRow>()),
            (PROBLEM_COLUMNS, columns::<ProblemRow>()),
            (CHANGE_COLUMNS, columns::<ChangeRow>()),
            (RELEASE_COLUMNS, columns::<ReleaseRow>()),
            (CI_COLUMNS, columns::<CiRow>()),
        ] {
            let mut w: Vec<_> = written.iter().map(|s| s.to_string()).collect();
            let mut k = known.clone();
            w.sort();
            k.sort();
            assert_eq!(w, k);
        }
    }
}
