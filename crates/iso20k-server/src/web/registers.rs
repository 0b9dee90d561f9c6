//! What the register pages add to a plain list: the findings citing each record, columns that
//! say what matters about a kind, a search box, filters and sortable columns, and the bulk
//! review of documents.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use iso20k_bundle::records::Kind;
use serde::Serialize;
use serde_json::{Value, json};

use super::Failure;
use crate::App;
use crate::auth::Access;
use crate::error::ApiError;

/// A finding as a record page or a register row names it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Cited {
    pub slug: String,
    pub check: String,
    pub title: String,
    pub grade: String,
}

/// Which records the organisation's current readiness report cites, finding by finding.
#[derive(Default)]
pub(crate) struct Citations {
    /// By kind and key, for evidence naming a record of its own.
    by_key: HashMap<(&'static str, String), Vec<(usize, String)>>,
    /// By kind and an id written inside its records (a document's number, a review's action,
    /// a supplier's contract, a person's training), for evidence naming no key of its own.
    by_id: HashMap<(&'static str, String), Vec<(usize, String)>>,
    findings: Vec<Cited>,
}

impl Citations {
    /// The citations of the organisation's readiness report as it is today.
    pub(crate) async fn current(app: &App, access: &Access) -> Result<Citations, Failure> {
        let report = super::pages::report(app, access, &Default::default()).await?;
        Ok(Citations::of(&report))
    }

    pub(crate) fn of(report: &Value) -> Citations {
        let mut out = Citations::default();
        for f in report["findings"].as_array().into_iter().flatten() {
            let n = out.findings.len();
            out.findings.push(Cited {
                slug: super::pages::finding_slug(f),
                check: f["check"].as_str().unwrap_or_default().to_owned(),
                title: f["title"].as_str().unwrap_or_default().to_owned(),
                grade: f["grade"].as_str().unwrap_or_default().to_owned(),
            });
            for e in f["evidence"].as_array().into_iter().flatten() {
                let (ekind, id) = (
                    e["kind"].as_str().unwrap_or_default(),
                    e["id"].as_str().unwrap_or_default(),
                );
                if ekind == "register" || id.is_empty() {
                    continue;
                }
                let Some(target) = super::records::evidence_target(ekind, id) else {
                    continue;
                };
                // A document's evidence names its number; its note, when it starts with the
                // version's label (`POL-001 v2.1 overdue…`), names the version.
                let version = (ekind == "document")
                    .then(|| e["note"].as_str())
                    .flatten()
                    .and_then(|note| note.strip_prefix(&format!("{id} v")))
                    .and_then(|rest| rest.split_whitespace().next())
                    .map(|v| v.trim_end_matches([',', ':', ';']))
                    .filter(|v| !v.is_empty());
                let key = match (target.key, version) {
                    (Some(key), _) => Some(key),
                    (None, Some(v)) => Some(format!("{id}/{v}")),
                    (None, None) => None,
                };
                let slot = match key {
                    Some(key) => out.by_key.entry((target.kind.name, key)).or_default(),
                    None => out
                        .by_id
                        .entry((target.kind.name, id.to_owned()))
                        .or_default(),
                };
                let note = e["note"].as_str().unwrap_or_default().trim().to_owned();
                slot.push((n, note));
            }
        }
        out
    }

    /// The findings citing one record, each once, in the report's order (worst first).
    pub(crate) fn of_record(&self, kind: &Kind, key: &str, body: &Value) -> Vec<&Cited> {
        self.hits(kind, key, body)
            .into_keys()
            .map(|i| &self.findings[i])
            .collect()
    }

    /// The findings citing one record, each with what its evidence says about the record.
    pub(crate) fn with_notes(&self, kind: &Kind, key: &str, body: &Value) -> Vec<Value> {
        self.hits(kind, key, body)
            .into_iter()
            .map(|(i, notes)| {
                let f = &self.findings[i];
                json!({ "slug": f.slug, "check": f.check, "title": f.title, "grade": f.grade, "notes": notes })
            })
            .collect()
    }

    fn hits(&self, kind: &Kind, key: &str, body: &Value) -> BTreeMap<usize, Vec<String>> {
        let mut hits: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        let mut add = |found: &Vec<(usize, String)>| {
            for (i, note) in found {
                let notes = hits.entry(*i).or_default();
                if !note.is_empty() && !notes.contains(note) {
                    notes.push(note.clone());
                }
            }
        };
        if let Some(found) = self.by_key.get(&(kind.name, key.to_owned())) {
            add(found);
        }
        if !self.by_id.is_empty() {
            for id in inner_ids(kind, body) {
                if let Some(found) = self.by_id.get(&(kind.name, id)) {
                    add(found);
                }
            }
        }
        hits
    }
}

/// The ids a record answers to besides its key: a document's number (for its current
/// version: the checks judge that one), the ids nested in it, a training record's person and
/// a RACI row's process.
fn inner_ids(kind: &Kind, body: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    match kind.name {
        "documents" => {
            if body["status"] == "current"
                && let Some(id) = body["id"].as_str()
            {
                ids.push(id.to_owned());
            }
        }
        "training" => ids.extend(body["person"].as_str().map(str::to_owned)),
        "raci" => ids.extend(body["process"].as_str().map(str::to_owned)),
        _ if !kind.ticket => {
            if let Ok(entry) = kind.parse(&body.to_string()) {
                ids.extend(entry.nested.into_iter().map(|(_, id)| id));
            }
        }
        _ => {}
    }
    ids
}

/// How a column reads its cell from a record.
#[derive(Clone, Copy)]
enum Get {
    /// A field as written.
    Field(&'static str),
    /// A field as written, or this when it is empty.
    Or(&'static str, &'static str),
    /// Whether a field is filled in: yes or no.
    Present(&'static str),
    /// A yes/no field: yes, no or unknown.
    Flag(&'static str),
    /// Whether a ticket breached its SLA: `sla_met` turned round.
    Breached,
    /// A document's last review or, later, its approval.
    Reviewed,
    /// Whether a finding says the document is past its review date.
    Overdue,
    /// How many findings cite the record.
    Findings,
}

/// A column of a register.
pub(crate) struct Column {
    /// Its name in the query (`?sort=approved`, `?approved=no`).
    pub key: &'static str,
    pub label: String,
    get: Get,
    /// What a filter on it offers; `None`: it has no filter.
    choices: Option<Choices>,
}

#[derive(Clone)]
enum Choices {
    /// These values, each with its words.
    Fixed(Vec<(&'static str, &'static str)>),
    /// The values the records hold, or the ids of a register.
    Seen(Option<&'static str>),
}

const YES_NO: [(&str, &str); 2] = [("yes", "Yes"), ("no", "No")];
const YES_NO_UNKNOWN: [(&str, &str); 3] = [("yes", "Yes"), ("no", "No"), ("unknown", "Unknown")];

fn column(key: &'static str, label: &str, get: Get, choices: Option<Choices>) -> Column {
    Column {
        key,
        label: label.to_owned(),
        get,
        choices,
    }
}

fn fixed(values: &[(&'static str, &'static str)]) -> Option<Choices> {
    Some(Choices::Fixed(values.to_vec()))
}

/// The columns a kind's register shows besides the key and when it last changed, the
/// findings count last.
pub(crate) fn columns(kind: &Kind, summary: &[&'static str]) -> Vec<Column> {
    let mut out = match kind.name {
        "changes" => vec![
            column(
                "type",
                "Type",
                Get::Or("type", "normal"),
                fixed(&[
                    ("standard", "Standard"),
                    ("normal", "Normal"),
                    ("emergency", "Emergency"),
                ]),
            ),
            column(
                "service",
                "Service",
                Get::Field("service"),
                Some(Choices::Seen(Some("services"))),
            ),
            column(
                "approved",
                "Approved",
                Get::Present("approved_at"),
                fixed(&YES_NO),
            ),
            column(
                "implemented",
                "Implemented",
                Get::Present("implemented_at"),
                fixed(&YES_NO),
            ),
            column(
                "successful",
                "Successful",
                Get::Flag("successful"),
                fixed(&YES_NO_UNKNOWN),
            ),
        ],
        "incidents" => vec![
            column(
                "priority",
                "Priority",
                Get::Field("priority"),
                fixed(&[("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5")]),
            ),
            column(
                "service",
                "Service",
                Get::Field("service"),
                Some(Choices::Seen(Some("services"))),
            ),
            column("major", "Major", Get::Flag("major"), fixed(&YES_NO)),
            column(
                "breached",
                "SLA breached",
                Get::Breached,
                fixed(&YES_NO_UNKNOWN),
            ),
        ],
        "documents" => vec![
            column("title", "Title", Get::Field("title"), None),
            column("version", "Version", Get::Field("version"), None),
            column(
                "status",
                "Status",
                Get::Field("status"),
                fixed(&[
                    ("draft", "Draft"),
                    ("current", "Current"),
                    ("obsolete", "Obsolete"),
                ]),
            ),
            column("last_reviewed", "Last reviewed", Get::Reviewed, None),
            column(
                "overdue",
                "Overdue for review",
                Get::Overdue,
                fixed(&YES_NO),
            ),
        ],
        _ => summary
            .iter()
            .map(|name| {
                // A service is one of the catalogue's; the rest are the values the records hold
                // (which a ticket register listed page by page does not know: it offers none).
                let choices = match *name {
                    "service" => Some(Choices::Seen(Some("services"))),
                    "status" | "state" | "priority" | "grade" if !kind.ticket => {
                        Some(Choices::Seen(None))
                    }
                    _ => None,
                };
                column(name, &form_label(name), Get::Field(name), choices)
            })
            .collect(),
    };
    out.push(column(
        "findings",
        "Findings",
        Get::Findings,
        Some(Choices::Fixed(vec![
            ("yes", "Has findings"),
            ("no", "Has no findings"),
        ])),
    ));
    out
}

fn form_label(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut c = words.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// A yes/no field as people wrote it: `true`, `yes`, `y`, `x`, `1`… or their opposites.
fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "x" | "1" => Some(true),
            "false" | "no" | "n" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

fn yes_no_unknown(v: Option<bool>) -> String {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
    .to_owned()
}

/// One row of a register, read and then forgotten: its body is not kept.
#[derive(Serialize)]
pub(crate) struct Row {
    pub key: String,
    pub version: i64,
    pub cells: Vec<String>,
    pub findings: usize,
    pub updated_at: String,
    pub updated_by: String,
}

/// Reads a record into its row.
pub(crate) fn row(
    kind: &Kind,
    columns: &[Column],
    citations: &Citations,
    record: &iso20k_store::Record,
) -> Row {
    let body: Value = serde_json::from_str(&record.body).unwrap_or(Value::Null);
    let cited = citations.of_record(kind, &record.key, &body);
    let cells = columns
        .iter()
        .map(|c| match c.get {
            Get::Field(f) => text(&body[f]),
            Get::Or(f, default) => match text(&body[f]) {
                t if t.is_empty() => default.to_owned(),
                t => t,
            },
            Get::Present(f) => match text(&body[f]).trim().is_empty() {
                true => "no".to_owned(),
                false => "yes".to_owned(),
            },
            Get::Flag(f) => match &body[f] {
                Value::Null => "unknown".to_owned(),
                v => yes_no_unknown(flag(v)),
            },
            Get::Breached => yes_no_unknown(flag(&body["sla_met"]).map(|met| !met)),
            Get::Reviewed => {
                let reviewed = text(&body["last_reviewed_on"]);
                let approved = text(&body["approved_on"]);
                reviewed.max(approved)
            }
            Get::Overdue => match cited.iter().any(|f| f.check == "doc-review-overdue") {
                true => "yes".to_owned(),
                false => "no".to_owned(),
            },
            Get::Findings => cited.len().to_string(),
        })
        .collect();
    Row {
        key: record.key.clone(),
        version: record.version,
        cells,
        findings: cited.len(),
        updated_at: record.updated_at.clone(),
        updated_by: record.updated_by.clone(),
    }
}

/// The longest value a register's query may carry.
pub(crate) const MAX_PARAM: usize = 200;

/// What the register's query asks for, checked.
pub(crate) struct Asked {
    pub search: String,
    /// Column index and the value wanted.
    pub filters: Vec<(usize, String)>,
    /// Column index (`None`: the key; `Some(usize::MAX)`: when it last changed) and descending.
    pub sort: Option<(Option<usize>, bool)>,
    pub page: usize,
    pub after: Option<String>,
}

/// The sort names beyond the columns.
const SORT_KEY: &str = "key";
const SORT_UPDATED: &str = "updated";
pub(crate) const UPDATED: usize = usize::MAX;

impl Asked {
    /// Whether the plain list, paged by key, is all that is asked.
    pub(crate) fn plain(&self) -> bool {
        self.search.is_empty() && self.filters.is_empty() && self.sort.is_none()
    }

    pub(crate) fn read(
        query: &[(String, String)],
        columns: &[Column],
        kind: &Kind,
    ) -> Result<Asked, Failure> {
        let mut asked = Asked {
            search: String::new(),
            filters: Vec::new(),
            sort: None,
            page: 1,
            after: None,
        };
        let mut sort: Option<&str> = None;
        let mut dir: Option<&str> = None;
        for (name, value) in query {
            if value.chars().count() > MAX_PARAM || name.chars().count() > MAX_PARAM {
                return Err(invalid(format!(
                    "what the address asks for is too long: each part of it may have at most {MAX_PARAM} characters"
                )));
            }
            let value = value.trim();
            match name.as_str() {
                "q" => asked.search = value.to_lowercase(),
                "sort" if !value.is_empty() => sort = Some(value),
                "dir" if !value.is_empty() => dir = Some(value),
                "after" if !value.is_empty() => asked.after = Some(value.to_owned()),
                "page" if !value.is_empty() => {
                    asked.page = value.parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
                        invalid(format!("page `{value}` is not a page number (1, 2, 3…)"))
                    })?;
                }
                other => {
                    let Some(i) = columns.iter().position(|c| c.key == other) else {
                        continue;
                    };
                    if value.is_empty() {
                        continue;
                    }
                    let c = &columns[i];
                    match &c.choices {
                        Some(Choices::Fixed(options)) => {
                            if !options.iter().any(|(v, _)| *v == value) {
                                let list: Vec<&str> = options.iter().map(|(v, _)| *v).collect();
                                return Err(invalid(format!(
                                    "{} cannot be filtered by `{value}`: choose one of {}",
                                    c.label,
                                    or_list(&list)
                                )));
                            }
                        }
                        Some(Choices::Seen(_)) => {}
                        None => {
                            return Err(invalid(format!(
                                "the {} register cannot be filtered by {}",
                                kind.name,
                                c.label.to_lowercase()
                            )));
                        }
                    }
                    asked.filters.push((i, value.to_owned()));
                }
            }
        }
        let descending = match dir {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(invalid(format!(
                    "the sort direction `{other}` is neither asc (A to Z, smallest first) nor desc"
                )));
            }
        };
        asked.sort = match sort {
            None => dir.map(|_| (None, descending)),
            Some(SORT_KEY) => Some((None, descending)),
            Some(SORT_UPDATED) => Some((Some(UPDATED), descending)),
            Some(name) => match columns.iter().position(|c| c.key == name) {
                Some(i) => Some((Some(i), descending)),
                None => {
                    let mut names: Vec<&str> = vec![SORT_KEY];
                    names.extend(columns.iter().map(|c| c.key));
                    names.push(SORT_UPDATED);
                    return Err(invalid(format!(
                        "the {} register has no column `{name}` to sort by: sort by {}",
                        kind.name,
                        or_list(&names)
                    )));
                }
            },
        };
        Ok(asked)
    }

    /// Whether a row is one the search and the filters ask for.
    pub(crate) fn wants(&self, row: &Row) -> bool {
        let filtered = self.filters.iter().all(|(i, value)| {
            // The findings column, always the last, counts; its filter says yes or no.
            if i + 1 == row.cells.len() {
                (row.findings > 0) == (value == "yes")
            } else {
                row.cells[*i].eq_ignore_ascii_case(value)
            }
        });
        filtered
            && (self.search.is_empty()
                || row.key.to_lowercase().contains(&self.search)
                || row
                    .cells
                    .iter()
                    .any(|c| c.to_lowercase().contains(&self.search)))
    }

    pub(crate) fn order(&self, rows: &mut [Row]) {
        let Some((column, descending)) = self.sort else {
            return;
        };
        rows.sort_by(|a, b| {
            let by = match column {
                None => natural(&a.key, &b.key),
                Some(UPDATED) => a.updated_at.cmp(&b.updated_at),
                Some(i) => natural(&a.cells[i], &b.cells[i]),
            };
            let by = by.then_with(|| a.key.cmp(&b.key));
            if descending { by.reverse() } else { by }
        });
    }
}

/// Numbers as numbers, the rest as words regardless of case; empty cells last.
fn natural(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.to_lowercase().cmp(&b.to_lowercase()),
    }
}

fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn invalid(message: String) -> Failure {
    Failure(ApiError::field("", message))
}

/// The filters of a register as its form shows them.
pub(crate) async fn filter_form(
    app: &App,
    access: &Access,
    columns: &[Column],
    asked: &Asked,
    seen: &BTreeMap<usize, BTreeSet<String>>,
) -> Result<Vec<Value>, Failure> {
    let mut out = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        let Some(choices) = &c.choices else { continue };
        let current = asked
            .filters
            .iter()
            .find(|(j, _)| *j == i)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let mut options: Vec<(String, String)> = match choices {
            Choices::Fixed(options) => options
                .iter()
                .map(|(v, words)| ((*v).to_owned(), (*words).to_owned()))
                .collect(),
            Choices::Seen(Some(register)) => {
                let ids: BTreeSet<String> = app
                    .store()
                    .records(access.org.id, register, None, 1000)
                    .await?
                    .into_iter()
                    .map(|r| r.key)
                    .collect();
                ids.into_iter().map(|id| (id.clone(), id)).collect()
            }
            Choices::Seen(None) => seen
                .get(&i)
                .into_iter()
                .flatten()
                .take(100)
                .map(|v| (v.clone(), v.clone()))
                .collect(),
        };
        if options.is_empty() {
            continue;
        }
        // A value asked for that the list does not hold stays shown, so the form says it.
        if !current.is_empty() && !options.iter().any(|(v, _)| *v == current) {
            options.push((current.clone(), current.clone()));
        }
        out.push(json!({
            "name": c.key,
            "label": c.label,
            "id": format!("filter-{}", c.key),
            "current": current,
            "options": options.into_iter().map(|(value, words)| json!({ "value": value, "words": words })).collect::<Vec<_>>(),
        }));
    }
    Ok(out)
}

/// The summary columns whose values are worth offering as filter choices, by column index.
pub(crate) fn seen_columns(columns: &[Column]) -> Vec<usize> {
    columns
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.choices, Some(Choices::Seen(None))))
        .map(|(i, _)| i)
        .collect()
}

/// The query string of the register with some parameters changed (empty: removed).
pub(crate) fn link(query: &[(String, String)], set: &[(&str, &str)]) -> String {
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    for (k, v) in query {
        if set.iter().any(|(name, _)| name == k) || v.is_empty() || is_notice(k) {
            continue;
        }
        pairs.append_pair(k, v);
    }
    for (k, v) in set {
        if !v.is_empty() {
            pairs.append_pair(k, v);
        }
    }
    let s = pairs.finish();
    if s.is_empty() {
        "?".to_owned()
    } else {
        format!("?{s}")
    }
}

/// The parameters that carry the outcome of a bulk review back to the list.
pub(crate) fn is_notice(name: &str) -> bool {
    matches!(
        name,
        "reviewed" | "on" | "left" | "drafts" | "kept" | "refused" | "picked"
    )
}

/// What a bulk review did, in words, from the parameters it sent the list.
pub(crate) fn review_notice(query: &[(String, String)]) -> Option<String> {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if get("picked") == Some("none") {
        return Some(
            "No document was picked: tick the ones reviewed, then press the button.".to_owned(),
        );
    }
    let reviewed: usize = get("reviewed")?.parse().ok()?;
    let on = get("on").unwrap_or_default();
    let drafts: usize = get("drafts").and_then(|d| d.parse().ok()).unwrap_or(0);
    let left: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "left")
        .map(|(_, v)| v.as_str())
        .collect();
    let kept: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "kept")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut words = format!(
        "{reviewed} document{} marked reviewed on {on}",
        if reviewed == 1 { "" } else { "s" }
    );
    if drafts > 0 {
        words.push_str(&format!(
            ", with {drafts} new draft version{} started",
            if drafts == 1 { "" } else { "s" }
        ));
    }
    if !left.is_empty() {
        words.push_str(&format!(
            "; {} had changed meanwhile and {} left: {}",
            left.len(),
            if left.len() == 1 { "was" } else { "were" },
            left.join(", ")
        ));
    }
    if !kept.is_empty() {
        words.push_str(&format!(
            "; no new version was started for {} (its next version exists already or its version is not a number)",
            kept.join(", ")
        ));
    }
    let refused: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "refused")
        .map(|(_, v)| v.as_str())
        .collect();
    if !refused.is_empty() {
        words.push_str(&format!(
            "; {} could not be saved as {} now, open {} to fix it: {}",
            refused.len(),
            if refused.len() == 1 {
                "it is"
            } else {
                "they are"
            },
            if refused.len() == 1 { "it" } else { "each" },
            refused.join(", ")
        ));
    }
    words.push('.');
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> &'static Kind {
        iso20k_bundle::records::kind(name).unwrap()
    }

    fn report() -> Value {
        json!({ "findings": [
            { "id": "doc-review-overdue", "check": "doc-review-overdue", "title": "Overdue", "grade": "minor",
              "evidence": [
                { "kind": "document", "id": "POL-001", "note": "POL-001 v2.1 overdue for its 12 months review" },
                { "kind": "document", "id": "POL-001", "note": "POL-001 v2.1 again" },
              ] },
            { "id": "doc-uncontrolled", "check": "doc-uncontrolled", "title": "Uncontrolled", "grade": "minor",
              "evidence": [{ "kind": "document", "id": "PRO-002", "note": "no approver" }] },
            { "id": "mr-actions", "check": "mr-actions", "title": "Actions", "grade": "minor",
              "evidence": [{ "kind": "review-action", "id": "MR-1-A2", "note": "late" }] },
            { "id": "audit-gaps", "check": "audit-gaps", "title": "Gaps", "grade": "minor",
              "evidence": [{ "kind": "register", "id": "audits", "note": "" }] },
            { "id": "change-no-backout", "check": "change-no-backout", "title": "Backout", "grade": "minor",
              "evidence": [{ "kind": "change", "id": "CHG1", "note": "" }] },
        ]})
    }

    #[test]
    fn a_finding_cites_the_document_version_it_names_else_the_current_one() {
        let c = Citations::of(&report());
        let docs = kind("documents");
        let cited = |key: &str, body: Value| {
            c.of_record(docs, key, &body)
                .iter()
                .map(|f| f.check.clone())
                .collect::<Vec<_>>()
        };
        let current = json!({ "id": "POL-001", "version": "2.1", "status": "current" });
        assert_eq!(
            cited("POL-001/2.1", current),
            ["doc-review-overdue"],
            "once"
        );
        let draft = json!({ "id": "POL-001", "version": "3.0", "status": "draft" });
        assert!(cited("POL-001/3.0", draft).is_empty());
        let named = json!({ "id": "PRO-002", "version": "1.0", "status": "current" });
        assert_eq!(cited("PRO-002/1.0", named), ["doc-uncontrolled"]);
        let old = json!({ "id": "PRO-002", "version": "0.9", "status": "obsolete" });
        assert!(cited("PRO-002/0.9", old).is_empty());
        let change = c.of_record(kind("changes"), "CHG1", &json!({ "id": "CHG1" }));
        assert_eq!(change.len(), 1);
        assert!(
            c.of_record(kind("audits"), "IA-1", &json!({ "id": "IA-1" }))
                .is_empty(),
            "a register-wide finding is no record's"
        );
    }

    #[test]
    fn the_query_is_bounded_and_said_back_in_words() {
        let changes = kind("changes");
        let columns = columns(changes, &[]);
        let q = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            Asked::read(&pairs, &columns, changes)
        };
        let asked = q(&[
            ("q", "  SVC-NET "),
            ("type", "emergency"),
            ("sort", "findings"),
            ("dir", "desc"),
        ])
        .ok()
        .unwrap();
        assert_eq!(asked.search, "svc-net");
        assert_eq!(asked.filters.len(), 1);
        assert_eq!(asked.sort, Some((Some(columns.len() - 1), true)));
        assert!(!asked.plain());
        assert!(q(&[("unrelated", "x"), ("type", "")]).ok().unwrap().plain());
        for bad in [
            vec![("sort", "colour")],
            vec![("dir", "up")],
            vec![("type", "urgent")],
            vec![("page", "0")],
            vec![("page", "two")],
        ] {
            let Err(Failure(ApiError::Invalid { message, .. })) = q(&bad) else {
                panic!("{bad:?} is refused");
            };
            assert!(!message.is_empty());
        }
        let long = "x".repeat(MAX_PARAM + 1);
        assert!(q(&[("q", &long)]).is_err());
        assert!(q(&[("q", &"x".repeat(MAX_PARAM))]).is_ok());
    }

    #[test]
    fn cells_sort_as_numbers_then_words_and_empty_last() {
        let mut v = vec!["10", "", "9", "b", "A"];
        v.sort_by(|a, b| natural(a, b));
        assert_eq!(v, ["9", "10", "A", "b", ""]);
        assert_eq!(flag(&json!("Yes")), Some(true));
        assert_eq!(flag(&json!(false)), Some(false));
        assert_eq!(flag(&json!("maybe")), None);
        assert_eq!(or_list(&["a", "b", "c"]), "a, b or c");
    }

    #[test]
    fn the_bulk_review_is_told_in_words() {
        let q: Vec<(String, String)> = [
            ("overdue", "yes"),
            ("reviewed", "3"),
            ("on", "2026-12-03"),
            ("left", "DOC-7"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(
            review_notice(&q).unwrap(),
            "3 documents marked reviewed on 2026-12-03; 1 had changed meanwhile and was left: DOC-7."
        );
        assert_eq!(link(&q, &[("sort", "key")]), "?overdue=yes&sort=key");
        assert!(review_notice(&q[..1]).is_none());
    }
}
