//! The mapping file for exports iso20k has no profile for: which column holds which field, and
//! the conventions the tool writes them in.
//!
//! ```yaml
//! kind: incidents
//! columns:
//!   id: Ticket
//!   opened_at: [Created, Opened on]   # the first column present wins
//!   priority: Prio
//!   closed_at: Closed
//!   state: Status
//! date_format: "%d.%m.%Y %H:%M"       # optional: sniffed from the data when left out
//! priorities: one-is-highest          # or jira, glpi
//! closed_states: [Closed, Cancelled]  # state values that mean closed
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use iso20k_bundle::Error;
use serde::Deserialize;

use crate::profile::{Field, Kind, Profile, Source, profile};
use crate::values::PriorityScale;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    kind: String,
    columns: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    date_format: Option<String>,
    #[serde(default)]
    priorities: Option<String>,
    #[serde(default)]
    closed_states: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Reads a mapping file into the kind it maps and a profile.
pub fn load(path: &Path) -> Result<(Kind, Profile), Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::file(path, format!("cannot read: {e}")))?;
    let map: MapFile = serde_saphyr::from_str(&text).map_err(|e| {
        let err = Error::file(
            path,
            e.to_string()
                .lines()
                .next()
                .unwrap_or("not a valid mapping file")
                .to_owned(),
        );
        match e.location() {
            Some(l) => err.at(l.line(), Some(l.column()), Some(&text)),
            None => err,
        }
    })?;
    let at = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|i| i as u64 + 1)
            .unwrap_or(1)
    };
    let kind: Kind = map.kind.parse().map_err(|m: String| {
        Error::file(path, m)
            .field("kind")
            .at(at("kind:"), None, Some(&text))
    })?;
    let mut p = profile(Source::Csv, kind);
    p.columns.clear();
    for (name, cols) in map.columns {
        let field = Field::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == name)
            .ok_or_else(|| {
                let all: Vec<_> = Field::ALL.iter().map(|f| f.as_str()).collect();
                Error::file(
                    path,
                    format!("unknown field `{name}`; expected one of {}", all.join(", ")),
                )
                .field(format!("columns.{name}"))
                .at(at(&format!("{name}:")), None, Some(&text))
            })?;
        let cols = match cols {
            OneOrMany::One(c) => vec![c],
            OneOrMany::Many(v) => v,
        };
        p.columns.push((field, cols));
    }
    if !p
        .columns
        .iter()
        .any(|c| c.0 == Field::Id || c.0 == Field::Task)
    {
        return Err(Error::file(
            path,
            "`columns` must say which column holds the ticket `id`",
        )
        .field("columns"));
    }
    if let Some(f) = map.date_format {
        p.date_format = Some(f);
    }
    if let Some(s) = map.priorities {
        p.priorities = match s.as_str() {
            "one-is-highest" => PriorityScale::OneIsHighest,
            "jira" => PriorityScale::Jira,
            "glpi" => PriorityScale::Glpi,
            other => {
                return Err(Error::file(
                    path,
                    format!(
                        "unknown priority scale `{other}`; expected one-is-highest, jira or glpi"
                    ),
                )
                .field("priorities")
                .at(at("priorities:"), None, Some(&text)));
            }
        };
    }
    if let Some(states) = map.closed_states {
        p.closed_states = states.into_iter().map(|s| s.to_ascii_lowercase()).collect();
    }
    Ok((kind, p))
}
