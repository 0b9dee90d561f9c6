//! The SMS bundle: an organisation's service management records as a folder of files.
//!
//! People write YAML by hand (policy, reviews, services, audits…) and keep registers and ticket
//! tables as CSV (people, documents, risks, tickets…). [`read`] turns a bundle into the core
//! model or reports every problem with its file, line, column and field; [`init`] writes a
//! starting bundle. The format is documented in `docs/bundle-format.md`, with a JSON Schema per
//! YAML file under `schema/` generated from the types in [`files`].

// A bundle error carries its location and the source line; it is built once, on the cold path
// that ends the run, so its size costs nothing worth boxing for.
#![allow(clippy::result_large_err)]

mod bundle;
mod error;
pub mod files;
mod init;
pub mod population;
pub mod records;
pub mod schema;
mod table;
mod ticket_reader;
pub mod tickets;
pub mod value;
mod yaml;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use iso20k_core::model::Sms;
use serde::de::DeserializeOwned;

pub use bundle::Bundle;
pub use error::{Error, Errors};
pub use init::init;
pub use value::MAX_KEY_CHARS;

use files::*;

/// The file every bundle has; the others are optional.
pub const ORGANISATION: &str = "organisation.yaml";

/// Every file a bundle may hold, relative to its folder, with what it holds.
pub const FILES: &[(&str, &str)] = &[
    (
        ORGANISATION,
        "the organisation, the scope of its SMS and its planned intervals",
    ),
    ("policy.yaml", "the service management policy"),
    (
        "objectives.yaml",
        "service management objectives and their measurements",
    ),
    ("people.csv", "the people register"),
    ("processes.yaml", "SMS processes and their owners"),
    (
        "raci.csv",
        "who is responsible, accountable, consulted and informed for each process",
    ),
    (
        "management-reviews.yaml",
        "management reviews, their inputs, decisions and actions",
    ),
    (
        "documents.csv",
        "the register of controlled documents, one row per version",
    ),
    ("services.yaml", "the service catalogue"),
    ("slas.yaml", "service level agreements"),
    ("suppliers.yaml", "suppliers and their contracts"),
    ("risks.csv", "the risk register"),
    (
        "audits.yaml",
        "the internal audit programme, audits and their findings",
    ),
    (
        "nonconformities.yaml",
        "nonconformities, root causes, corrective actions and effectiveness checks",
    ),
    ("improvements.csv", "the improvement register"),
    (
        "continuity.yaml",
        "service continuity and availability plans and their tests",
    ),
    ("capacity.yaml", "capacity plans"),
    ("training.csv", "training and competence records"),
    ("tickets/incidents.csv", "incidents"),
    ("tickets/requests.csv", "service requests"),
    ("tickets/problems.csv", "problems"),
    ("tickets/changes.csv", "changes"),
    ("tickets/releases.csv", "releases"),
    ("tickets/cis.csv", "configuration items"),
    (
        "customers.yaml",
        "customers, relationship owners, satisfaction surveys, service reviews and complaints",
    ),
    (
        "checklist.yaml",
        "the internal auditor's answers to the checklist questions",
    ),
    (
        "plan.yaml",
        "the action plan: each finding's owner, due date and status",
    ),
];

/// Reads a bundle folder into the core model.
///
/// Every file is read even after one fails, so the caller can show all problems at once.
pub fn read(dir: &Path) -> Result<Sms, Errors> {
    Bundle::read(dir).map(Bundle::into_sms)
}

/// The ids of YAML entries, with the line each was written on.
fn ids<'a, T: 'a>(
    items: impl IntoIterator<Item = &'a T>,
    id: impl Fn(&T) -> &Id,
) -> Vec<(String, u64, u64)> {
    items
        .into_iter()
        .map(|x| {
            let id = id(x);
            (
                id.value.clone(),
                id.referenced.line(),
                id.referenced.column(),
            )
        })
        .collect()
}

pub(crate) struct Reader<'a> {
    dir: &'a Path,
    pub(crate) errors: Vec<Error>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(dir: &'a Path) -> Self {
        Reader {
            dir,
            errors: Vec::new(),
        }
    }

    fn text(&mut self, name: &str) -> Option<(PathBuf, String)> {
        let path = self.dir.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                // A byte-order mark is what spreadsheet programs put in front of CSV exports.
                Ok(s) => Some((
                    path,
                    s.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(s),
                )),
                Err(_) => {
                    self.errors.push(Error::file(
                        &path,
                        "not valid UTF-8 (save the file as UTF-8)",
                    ));
                    None
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                self.errors
                    .push(Error::file(&path, format!("cannot read: {e}")));
                None
            }
        }
    }

    fn yaml<T: DeserializeOwned>(
        &mut self,
        name: &str,
        keys: impl Fn(&T) -> Vec<(String, u64, u64)>,
    ) -> Option<T> {
        let (path, text) = self.text(name)?;
        // A file of comments holds nothing yet (as `iso20k init` writes them); only the
        // organisation must say something.
        let blank = text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
        if blank && name != "organisation.yaml" {
            return None;
        }
        match yaml::parse::<T>(&path, &text) {
            Ok(v) => {
                let mut seen: HashMap<String, u64> = HashMap::new();
                for (id, line, col) in keys(&v) {
                    if id.trim().is_empty() {
                        self.errors
                            .push(Error::file(&path, "an id is empty").field("id").at(
                                line,
                                Some(col),
                                Some(&text),
                            ));
                    } else if let Some(first) = seen.insert(id.clone(), line) {
                        self.errors.push(
                            Error::file(
                                &path,
                                format!("id `{id}` is used twice (first on line {first})"),
                            )
                            .field("id")
                            .at(line, Some(col), Some(&text)),
                        );
                    }
                }
                Some(v)
            }
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    pub(crate) fn csv<T: DeserializeOwned + schemars::JsonSchema>(
        &mut self,
        name: &str,
        key: impl Fn(&T) -> Vec<String>,
    ) -> Vec<T> {
        let Some((path, text)) = self.text(name) else {
            return Vec::new();
        };
        // Registers without an id column (the RACI) are keyed on all their columns.
        let has_id = table::columns::<T>().0.iter().any(|c| c == "id");
        match table::read_with_lines::<T>(&path, &text) {
            Ok(rows) => {
                let mut seen: HashMap<String, u64> = HashMap::new();
                for (row, line) in &rows {
                    for k in key(row) {
                        if let Some(first) = seen.insert(k.clone(), *line) {
                            self.errors.push(
                                Error::file(
                                    &path,
                                    format!("`{k}` appears twice (first on line {first})"),
                                )
                                .field(if has_id { "id" } else { "" })
                                .at(*line, None, Some(&text)),
                            );
                        }
                    }
                }
                rows.into_iter().map(|(r, _)| r).collect()
            }
            Err(e) => {
                self.errors.push(e);
                Vec::new()
            }
        }
    }

    /// A misspelt file name would drop its records without a word, so anything that looks like
    /// a bundle file but is not one is an error.
    fn unknown_files(&mut self) {
        for sub in ["", "tickets"] {
            let Ok(entries) = std::fs::read_dir(self.dir.join(sub)) else {
                continue;
            };
            let mut names: Vec<_> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for name in names {
                let rel = if sub.is_empty() {
                    name.clone()
                } else {
                    format!("{sub}/{name}")
                };
                let lower = name.to_ascii_lowercase();
                let looks_like_data = [".yaml", ".yml", ".csv"]
                    .iter()
                    .any(|ext| lower.ends_with(ext));
                let allowed = FILES.iter().any(|(f, _)| *f == rel);
                if looks_like_data && !allowed {
                    let closest = FILES
                        .iter()
                        .map(|f| (strsim::levenshtein(f.0, &rel), f.0))
                        .min()
                        .filter(|(d, _)| *d <= 4)
                        .map(|(_, f)| format!("; did you mean {f}?"))
                        .unwrap_or_else(|| {
                            "; see docs/bundle-format.md for the files a bundle holds".to_owned()
                        });
                    self.errors.push(Error::file(
                        &self.dir.join(&rel),
                        format!("not a bundle file{closest}"),
                    ));
                }
            }
        }
    }
}
