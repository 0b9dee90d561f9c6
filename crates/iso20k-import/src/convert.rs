//! Reading one export into tickets: find the columns, settle each date column's format, then
//! turn every row into a ticket of its kind. The last row of a ticket wins, so event-log exports
//! (one row per update) end with each ticket's final state.

use std::collections::HashMap;
use std::path::Path;

use iso20k_bundle::Error;
use iso20k_core::DateTime;
use iso20k_core::model::{
    Change, ChangeType, ConfigurationItem, Incident, Problem, Release, ServiceRequest,
};

use crate::input::{Limits, Row, Sheet};
use crate::profile::{Field, Kind, Profile, Source, row_kind};
use crate::values;

/// How many rows are read ahead to settle the format of each date column.
const SNIFF_ROWS: usize = 2000;

/// Everything one file held.
#[derive(Debug, Default)]
pub struct FileImport {
    /// Rows read.
    pub rows: usize,
    /// Tickets by kind, one per id (the last row of each).
    pub incidents: Vec<Incident>,
    /// Service requests.
    pub requests: Vec<ServiceRequest>,
    /// Problems.
    pub problems: Vec<Problem>,
    /// Changes.
    pub changes: Vec<Change>,
    /// Releases.
    pub releases: Vec<Release>,
    /// Configuration items.
    pub cis: Vec<ConfigurationItem>,
    /// SLA records: ticket id and whether the SLA was breached.
    pub slas: Vec<(String, bool)>,
    /// Rows not imported, with why.
    pub skipped: Vec<(String, usize)>,
}

impl FileImport {
    fn skip(&mut self, why: String) {
        match self.skipped.iter_mut().find(|s| s.0 == why) {
            Some(s) => s.1 += 1,
            None => self.skipped.push((why, 1)),
        }
    }
}

/// What decides how a file is read.
pub struct Plan {
    /// The tool.
    pub source: Source,
    /// The kind of every row, when the export holds one kind; `None` when rows say it.
    pub kind: Option<Kind>,
    /// Only rows of this kind are imported, when set for a mixed export.
    pub only: Option<Kind>,
    /// The columns and conventions.
    pub profile: Profile,
}

struct Columns {
    /// The columns of each field, best first, indexed by `Field as usize`.
    by_field: Vec<Vec<usize>>,
    /// The date format of each column, indexed by column.
    formats: Vec<Option<&'static str>>,
    custom_format: Option<String>,
}

impl Columns {
    fn get<'r>(&self, row: &'r Row, field: Field) -> Option<&'r str> {
        self.by_field[field as usize]
            .iter()
            .filter_map(|i| row.cells.get(*i))
            .find_map(|c| values::text(c))
    }

    /// The first column of a field that holds a value in this row.
    fn column_of(&self, row: &Row, field: Field) -> Option<usize> {
        self.by_field[field as usize]
            .iter()
            .copied()
            .find(|i| row.cells.get(*i).and_then(|c| values::text(c)).is_some())
    }
}

/// Reads a whole export, calling `progress` with the bytes read so far as it goes.
pub fn read(
    path: &Path,
    mut sheet: Sheet,
    plan: &Plan,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<FileImport, Error> {
    let headers = sheet.headers.clone();
    let mut by_field: Vec<Vec<usize>> = vec![Vec::new(); Field::RowKind as usize + 1];
    for (field, candidates) in &plan.profile.columns {
        let mut idx = Vec::new();
        for c in candidates {
            for (i, h) in headers.iter().enumerate() {
                if h.eq_ignore_ascii_case(c) && !idx.contains(&i) {
                    idx.push(i);
                }
            }
        }
        if !idx.is_empty() {
            by_field[*field as usize] = idx;
        }
    }
    // The same column written twice (after aliasing, without regard to case): if rows give it
    // two values, which one is meant cannot be told.
    let mut twins: Vec<(usize, usize)> = Vec::new();
    for idx in &by_field {
        for (a, &i) in idx.iter().enumerate() {
            for &j in &idx[a + 1..] {
                if headers[i].eq_ignore_ascii_case(&headers[j]) && !twins.contains(&(i, j)) {
                    twins.push((i, j));
                }
            }
        }
    }
    let key_field = if plan.kind == Some(Kind::Slas) {
        Field::Task
    } else {
        Field::Id
    };
    if by_field[key_field as usize].is_empty() {
        let wanted: Vec<_> = plan
            .profile
            .columns
            .iter()
            .filter(|c| c.0 == key_field)
            .flat_map(|c| c.1.clone())
            .collect();
        return Err(Error::file(
            path,
            format!(
                "no column holds the ticket {}: looked for {} in a {} export (give the column in a mapping file with --map)",
                if key_field == Field::Task {
                    "each SLA record belongs to"
                } else {
                    "number"
                },
                if wanted.is_empty() {
                    "?".to_owned()
                } else {
                    wanted.join(", ")
                },
                plan.source
            ),
        ));
    }

    // Read ahead, then settle each date column's format on what it holds.
    let mut ahead = Vec::new();
    loop {
        let mut row = Row::default();
        if ahead.len() >= SNIFF_ROWS || !sheet.next_row(&mut row)? {
            break;
        }
        ahead.push(row);
    }
    let mut cols = Columns {
        by_field,
        formats: vec![None; headers.len()],
        custom_format: plan.profile.date_format.clone(),
    };
    if cols.custom_format.is_none() {
        let time_columns: Vec<usize> = Field::ALL
            .iter()
            .filter(|f| f.is_time())
            .flat_map(|f| cols.by_field[*f as usize].iter().copied())
            .collect();
        let samples_of = |i: usize| -> Vec<(&str, u64)> {
            ahead
                .iter()
                .filter_map(|r| {
                    r.cells
                        .get(i)
                        .and_then(|c| values::text(c))
                        .map(|c| (c, r.line))
                })
                .collect()
        };
        let month_first = values::month_first(
            time_columns
                .iter()
                .flat_map(|i| samples_of(*i))
                .map(|s| s.0),
        );
        for i in time_columns {
            if cols.formats[i].is_some() {
                continue;
            }
            let samples = samples_of(i);
            if samples.is_empty() {
                continue;
            }
            match values::sniff_in(samples.iter().map(|s| s.0), month_first) {
                Some(f) => {
                    cols.formats[i] = Some(f);
                }
                None => {
                    let bad = values::odd_one_out(&samples);
                    return Err(Error::file(
                        path,
                        format!("cannot read `{}` as a date and time; give the format as `date_format` in a mapping file (--map)", bad.0),
                    )
                    .field(&headers[i])
                    .at_line(bad.1, None, ""));
                }
            }
        }
    }

    let mut out = FileImport::default();
    let mut seen: Vec<HashMap<String, usize>> = vec![HashMap::new(); Kind::ALL.len()];
    let mut handle = |row: &Row, out: &mut FileImport| -> Result<(), Error> {
        out.rows += 1;
        for &(i, j) in &twins {
            let a = row.cells.get(i).and_then(|c| values::text(c));
            let b = row.cells.get(j).and_then(|c| values::text(c));
            if let (Some(a), Some(b)) = (a, b)
                && a != b
            {
                return Err(Error::file(
                    path,
                    format!(
                        "the header names `{}` twice (columns {} and {}) and this row holds two different values in them, `{}` and `{}`: remove one of the columns",
                        headers[i],
                        i + 1,
                        j + 1,
                        excerpt(a),
                        excerpt(b)
                    ),
                )
                .field(&headers[i])
                .at_line(row.line, None, &excerpt(&row.cells.join(","))));
            }
        }
        let kind = match plan.kind {
            Some(k) => k,
            None => {
                let value = cols.get(row, Field::RowKind).unwrap_or("");
                match row_kind(plan.source, value) {
                    Some(k) => k,
                    None => {
                        out.skip(format!(
                            "{} `{value}` is not a ticket kind iso20k reads",
                            kind_column_name(plan.source)
                        ));
                        return Ok(());
                    }
                }
            }
        };
        if plan.only.is_some_and(|o| o != kind) {
            out.skip(format!("{kind} rows left out by --kind"));
            return Ok(());
        }
        let r = RowReader {
            row,
            cols: &cols,
            headers: &headers,
            path,
            plan,
        };
        if kind == Kind::Slas {
            let task = r
                .text(Field::Task)
                .ok_or_else(|| r.error(Field::Task, "empty ticket reference".into()))?;
            r.key(Field::Task, task)?;
            let breached = r.flag(Field::Breached)?.unwrap_or(false);
            // A cancelled SLA says nothing; a running one says something only once breached.
            match r.text(Field::State).map(|s| s.to_ascii_lowercase()) {
                Some(s) if s.starts_with("cancel") => out.skip("cancelled SLA records".into()),
                Some(s) if !breached && (s.contains("progress") || s.contains("paused")) => {
                    out.skip("SLA records still running and not breached".into())
                }
                _ => out.slas.push((task.to_owned(), breached)),
            }
            return Ok(());
        }
        let id = r
            .text(Field::Id)
            .ok_or_else(|| r.error(Field::Id, "empty ticket number".into()))?
            .to_owned();
        r.key(Field::Id, &id)?;
        let seen = &mut seen[kind as usize];
        let slot = seen.get(&id).copied();
        // The id is kept only for a ticket not seen before; most rows of an event log repeat one.
        let new_key = if slot.is_none() {
            Some(id.clone())
        } else {
            None
        };
        macro_rules! put {
            ($list:ident, $value:expr) => {{
                let v = $value;
                match slot {
                    Some(i) => out.$list[i] = v,
                    None => {
                        seen.insert(new_key.expect("set when there is no slot"), out.$list.len());
                        out.$list.push(v);
                    }
                }
            }};
        }
        match kind {
            Kind::Incidents => put!(incidents, r.incident(id)?),
            Kind::Requests => put!(requests, r.request(id)?),
            Kind::Problems => put!(problems, r.problem(id)?),
            Kind::Changes => put!(changes, r.change(id)?),
            Kind::Releases => put!(releases, r.release(id)?),
            Kind::Cis => put!(cis, r.ci(id)?),
            Kind::Slas => unreachable!("handled above"),
        }
        Ok(())
    };
    for row in &ahead {
        handle(row, &mut out)?;
    }
    let mut row = Row::default();
    let mut n = 0u64;
    while sheet.next_row(&mut row)? {
        handle(&row, &mut out)?;
        n += 1;
        if n.is_multiple_of(8192) {
            progress(sheet.bytes_read(), sheet.size);
        }
    }
    progress(sheet.size, sheet.size);
    Ok(out)
}

/// At most 200 characters of a text, for a message.
fn excerpt(s: &str) -> String {
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

fn kind_column_name(source: Source) -> &'static str {
    match source {
        Source::Jira => "issue type",
        Source::Glpi => "ticket type",
        Source::Itop => "class",
        _ => "kind",
    }
}

struct RowReader<'a> {
    row: &'a Row,
    cols: &'a Columns,
    headers: &'a [String],
    path: &'a Path,
    plan: &'a Plan,
}

impl RowReader<'_> {
    fn text(&self, f: Field) -> Option<&str> {
        self.cols.get(self.row, f)
    }

    fn owned(&self, f: Field) -> Option<String> {
        self.text(f).map(str::to_owned)
    }

    fn error(&self, f: Field, message: String) -> Error {
        let col = self
            .cols
            .column_of(self.row, f)
            .or_else(|| self.cols.by_field[f as usize].first().copied());
        let excerpt = excerpt(&self.row.cells.join(","));
        let mut e = Error::file(self.path, message).at_line(self.row.line, None, &excerpt);
        if let Some(i) = col {
            e = e.field(&self.headers[i]);
        }
        e
    }

    /// A ticket number, or the ticket an SLA record belongs to, becomes a record key: it must
    /// fit the store's keys and hold no control character.
    fn key(&self, f: Field, value: &str) -> Result<(), Error> {
        let chars = value.chars().count();
        if chars > Limits::MAX_ID_CHARS {
            return Err(self.error(
                f,
                format!(
                    "a ticket number of {chars} characters: at most {} are allowed",
                    Limits::MAX_ID_CHARS
                ),
            ));
        }
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            return Err(self.error(
                f,
                format!(
                    "`{}` holds the control character {:?}: a ticket number must be printable",
                    excerpt(value),
                    c
                ),
            ));
        }
        Ok(())
    }

    fn time(&self, f: Field) -> Result<Option<DateTime>, Error> {
        let Some(i) = self.cols.column_of(self.row, f) else {
            return Ok(None);
        };
        let value = values::text(&self.row.cells[i]).unwrap_or_default();
        let format = self
            .cols
            .custom_format
            .as_deref()
            .or_else(|| self.cols.formats[i]);
        let parsed = match format {
            Some(fmt) => values::parse_with(fmt, value),
            None => values::sniff([value]).and_then(|fmt| values::parse_with(fmt, value)),
        };
        parsed.map(Some).ok_or_else(|| {
            let expected = format
                .map(|f| format!(" (this column is written `{f}`, judged from its first rows)"))
                .unwrap_or_default();
            self.error(f, format!("`{value}` is not a date and time{expected}"))
        })
    }

    fn date(&self, f: Field) -> Result<Option<iso20k_core::Date>, Error> {
        Ok(self.time(f)?.map(|t| t.date()))
    }

    fn flag(&self, f: Field) -> Result<Option<bool>, Error> {
        match self.text(f) {
            None => Ok(None),
            Some(v) => values::flag(v).map_err(|m| self.error(f, m)),
        }
    }

    /// A yes/no field that some tools fill with the text of a plan instead: any text is a yes.
    fn present(&self, f: Field) -> bool {
        match self.text(f) {
            None => false,
            Some(v) => values::flag(v).unwrap_or(Some(true)).unwrap_or(false),
        }
    }

    /// Whether a change has been implemented, when its state says; true when it does not.
    fn implemented(&self) -> bool {
        let states = &self.plan.profile.implemented_states;
        match self.text(Field::State) {
            Some(s) if !states.is_empty() => states.contains(&s.to_ascii_lowercase()),
            _ => true,
        }
    }

    fn closed(&self) -> Option<bool> {
        let state = self.text(Field::State)?.to_ascii_lowercase();
        Some(self.plan.profile.closed_states.contains(&state))
    }

    /// The close time, unless the state says the ticket is still open. Exports enriched with
    /// final timestamps (the UCI event log) carry a close time on every row.
    fn closed_at(&self) -> Result<Option<DateTime>, Error> {
        match self.closed() {
            Some(false) => Ok(None),
            Some(true) => Ok(self
                .time(Field::ClosedAt)?
                .or(self.time(Field::ResolvedAt)?)),
            None => self.time(Field::ClosedAt),
        }
    }

    fn incident(&self, id: String) -> Result<Incident, Error> {
        let priority = match self.text(Field::Priority) {
            None => None,
            Some(v) => values::priority(v, self.plan.profile.priorities)
                .map_err(|m| self.error(Field::Priority, m))?,
        };
        let major = match self.text(Field::Major) {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("accepted") => true,
            Some(v) => values::flag(v).unwrap_or(Some(false)).unwrap_or(false),
        };
        let resolved_at = self.time(Field::ResolvedAt)?;
        let sla_met = match (
            self.flag(Field::SlaMet)?,
            self.flag(Field::Breached)?,
            self.time(Field::DueAt)?,
        ) {
            (Some(met), _, _) => Some(met),
            (None, Some(breached), _) => Some(!breached),
            (None, None, Some(due)) => resolved_at.map(|r| r <= due),
            _ => None,
        };
        let reopen_count = match self.text(Field::ReopenCount) {
            None => 0,
            Some(v) => values::count(v)
                .map_err(|m| self.error(Field::ReopenCount, m))?
                .unwrap_or(0),
        };
        Ok(Incident {
            id,
            opened_at: self.time(Field::OpenedAt)?,
            resolved_at,
            closed_at: self.closed_at()?,
            priority,
            major,
            category: self.owned(Field::Category),
            service: self.owned(Field::Service),
            ci: self.owned(Field::Ci),
            problem: self.owned(Field::Problem),
            resolution: self.owned(Field::Resolution),
            sla_met,
            reopen_count,
            breach_review: self.owned(Field::BreachReview),
        })
    }

    fn request(&self, id: String) -> Result<ServiceRequest, Error> {
        let closed_at = self.closed_at()?;
        let sla_met = match (
            self.flag(Field::SlaMet)?,
            self.flag(Field::Breached)?,
            self.time(Field::DueAt)?,
        ) {
            (Some(met), _, _) => Some(met),
            (None, Some(breached), _) => Some(!breached),
            (None, None, Some(due)) => self
                .time(Field::ResolvedAt)?
                .or(closed_at)
                .map(|r| r <= due),
            _ => None,
        };
        Ok(ServiceRequest {
            id,
            opened_at: self.time(Field::OpenedAt)?,
            closed_at,
            category: self.owned(Field::Category),
            service: self.owned(Field::Service),
            sla_met,
        })
    }

    fn problem(&self, id: String) -> Result<Problem, Error> {
        Ok(Problem {
            id,
            opened_at: self.time(Field::OpenedAt)?,
            closed_at: self.closed_at()?,
            service: self.owned(Field::Service),
            root_cause: self.owned(Field::RootCause),
            known_error: self.flag(Field::KnownError)?.unwrap_or(false),
            change: self.owned(Field::Change),
        })
    }

    fn change(&self, id: String) -> Result<Change, Error> {
        let kind = match self.text(Field::Type).map(|t| t.to_ascii_lowercase()) {
            // iTop calls its pre-approved standard changes routine changes.
            Some(t) if t.contains("standard") || t.contains("routine") => ChangeType::Standard,
            Some(t) if t.contains("emergency") || t.contains("urgent") => ChangeType::Emergency,
            _ => ChangeType::Normal,
        };
        // An approval time only counts when the approval state (if the export has one) says so.
        let approved = match self.text(Field::Approval).map(|a| a.to_ascii_lowercase()) {
            None => true,
            Some(a) => a == "approved" || a == "yes" || a == "true",
        };
        let successful = match self.text(Field::Successful).map(|s| s.to_ascii_lowercase()) {
            None => None,
            Some(s)
                if s.starts_with("unsuccessful")
                    || s.contains("fail")
                    || s.contains("backed out") =>
            {
                Some(false)
            }
            Some(s) if s.starts_with("successful") => Some(true),
            Some(s) => values::flag(&s).ok().flatten(),
        };
        Ok(Change {
            id,
            kind,
            service: self.owned(Field::Service),
            requested_at: self.time(Field::RequestedAt)?,
            approved_at: if approved {
                self.time(Field::ApprovedAt)?
            } else {
                None
            },
            approver: if approved {
                self.owned(Field::Approver)
            } else {
                None
            },
            implemented_at: if self.implemented() {
                self.time(Field::ImplementedAt)?
            } else {
                None
            },
            risk: self.owned(Field::Risk),
            backout_plan: self.present(Field::BackoutPlan),
            test_plan: self.present(Field::TestPlan),
            reviewed_on: self.date(Field::ReviewedOn)?,
            successful,
        })
    }

    fn release(&self, id: String) -> Result<Release, Error> {
        Ok(Release {
            id,
            change: self.owned(Field::Change),
            service: self.owned(Field::Service),
            deployed_at: self.time(Field::DeployedAt)?,
            tested: self.present(Field::Tested),
        })
    }

    fn ci(&self, id: String) -> Result<ConfigurationItem, Error> {
        Ok(ConfigurationItem {
            name: self.owned(Field::Name).unwrap_or_else(|| id.clone()),
            id,
            kind: self.owned(Field::Type),
            owner: self.owned(Field::Owner),
            service: self.owned(Field::Service),
            last_verified_on: self.date(Field::LastVerifiedOn)?,
        })
    }
}
