//! `iso20k init`: a starting bundle with a commented example in every file.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// The starting content of every bundle file.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "organisation.yaml",
        include_str!("../templates/organisation.yaml"),
    ),
    ("policy.yaml", include_str!("../templates/policy.yaml")),
    (
        "objectives.yaml",
        include_str!("../templates/objectives.yaml"),
    ),
    ("people.csv", include_str!("../templates/people.csv")),
    (
        "processes.yaml",
        include_str!("../templates/processes.yaml"),
    ),
    ("raci.csv", include_str!("../templates/raci.csv")),
    (
        "management-reviews.yaml",
        include_str!("../templates/management-reviews.yaml"),
    ),
    ("documents.csv", include_str!("../templates/documents.csv")),
    ("services.yaml", include_str!("../templates/services.yaml")),
    ("slas.yaml", include_str!("../templates/slas.yaml")),
    (
        "suppliers.yaml",
        include_str!("../templates/suppliers.yaml"),
    ),
    ("risks.csv", include_str!("../templates/risks.csv")),
    ("audits.yaml", include_str!("../templates/audits.yaml")),
    (
        "nonconformities.yaml",
        include_str!("../templates/nonconformities.yaml"),
    ),
    (
        "improvements.csv",
        include_str!("../templates/improvements.csv"),
    ),
    (
        "continuity.yaml",
        include_str!("../templates/continuity.yaml"),
    ),
    ("capacity.yaml", include_str!("../templates/capacity.yaml")),
    ("training.csv", include_str!("../templates/training.csv")),
    (
        "tickets/incidents.csv",
        include_str!("../templates/tickets/incidents.csv"),
    ),
    (
        "tickets/requests.csv",
        include_str!("../templates/tickets/requests.csv"),
    ),
    (
        "tickets/problems.csv",
        include_str!("../templates/tickets/problems.csv"),
    ),
    (
        "tickets/changes.csv",
        include_str!("../templates/tickets/changes.csv"),
    ),
    (
        "tickets/releases.csv",
        include_str!("../templates/tickets/releases.csv"),
    ),
    (
        "tickets/cis.csv",
        include_str!("../templates/tickets/cis.csv"),
    ),
    (
        "customers.yaml",
        include_str!("../templates/customers.yaml"),
    ),
    (
        "checklist.yaml",
        include_str!("../templates/checklist.yaml"),
    ),
    ("plan.yaml", include_str!("../templates/plan.yaml")),
];

/// Writes a starting bundle into `dir`, which must not exist or be empty, and returns the
/// files written.
///
/// The files are written into a temporary folder beside `dir` and moved into place at the end,
/// so an interrupted or failed run leaves nothing half-written.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map_err(|e| Error::file(dir, format!("cannot read: {e}")))?
            .next()
            .is_none();
        if !empty {
            return Err(Error::file(
                dir,
                "already exists and is not empty; choose a new folder",
            ));
        }
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = dir
        .file_name()
        .ok_or_else(|| Error::file(dir, "not a folder name"))?;
    let staging = parent.join(format!(
        ".{}.iso20k-init-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = write_all(&staging);
    let result = result.and_then(|written| {
        if dir.exists() {
            std::fs::remove_dir(dir)
                .map_err(|e| Error::file(dir, format!("cannot replace the empty folder: {e}")))?;
        }
        std::fs::rename(&staging, dir)
            .map_err(|e| Error::file(dir, format!("cannot create: {e}")))?;
        Ok(written.into_iter().map(|f| dir.join(f)).collect())
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

fn write_all(staging: &Path) -> Result<Vec<&'static str>, Error> {
    let mut written = Vec::new();
    for (name, text) in TEMPLATES {
        let path = staging.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::file(parent, format!("cannot create: {e}")))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| Error::file(&path, format!("cannot write: {e}")))?;
        written.push(*name);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_is_a_template_for_every_bundle_file() {
        let templates: Vec<_> = TEMPLATES.iter().map(|t| t.0).collect();
        let files: Vec<_> = crate::FILES.iter().map(|f| f.0).collect();
        assert_eq!(templates, files);
    }
}
