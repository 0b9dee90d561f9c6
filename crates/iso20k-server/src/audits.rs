//! The internal audit programme and one audit's work from plan to report, on the server: the
//! coverage matrix of the programme's cycle, carrying a cycle's audits into the next, an
//! audit's status steps and findings, its sampling workpapers (drawn from the organisation's
//! records with `population::draw`, tested item by item, rolled into a finding), its report,
//! and readiness on two days compared. The pages in `web/audits.rs` call the same functions,
//! so a page can never do what the API would refuse.
//!
//! Every change is a new version of the audit record (or the programme's), written through the
//! same `check_record` as the record API, with its place in the audit trail.

use std::collections::{BTreeMap, HashSet};

use axum::Json;
use axum::Router;
use axum::body::Body as HttpBody;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post, put};
use iso20k_bundle::population::{self, Size};
use iso20k_bundle::records::{self, Kind};
use iso20k_core::interval::Activity;
use iso20k_core::kb::Grade;
use iso20k_core::model::{
    AuditKind, AuditStatus, InternalAudit, ItemResult, PopulationDef, Sample, SampleMethod, Sms,
};
use iso20k_core::{Date, Edition, clause, programme, sampling};
use iso20k_store::{Record, Write};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::App;
use crate::api::{check_record, edition_and_day, kind_named};
use crate::auth::{Access, Auth};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path, Query};
use crate::refs::Warning;

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/orgs/{slug}/audit-programme", get(programme_api))
        .route(
            "/api/v1/orgs/{slug}/audit-programme/next-cycle",
            post(next_cycle_api),
        )
        .route("/api/v1/orgs/{slug}/audits/{id}/status", post(status_api))
        .route(
            "/api/v1/orgs/{slug}/audits/{id}/findings",
            post(finding_api),
        )
        .route("/api/v1/orgs/{slug}/audits/{id}/samples", post(draw_api))
        .route(
            "/api/v1/orgs/{slug}/audits/{id}/samples/{sample}/items",
            put(items_api),
        )
        .route(
            "/api/v1/orgs/{slug}/audits/{id}/samples/{sample}/finding",
            post(roll_api),
        )
        .route("/api/v1/orgs/{slug}/audits/{id}/report", get(report_api))
        .route("/api/v1/orgs/{slug}/diff", get(diff_api))
}

/// The longest statement, rationale or conclusion accepted, in characters.
pub(crate) const MAX_TEXT: usize = 10_000;
/// The longest note on a sampled item.
pub(crate) const MAX_NOTE: usize = 2_000;
/// The most pieces of evidence one finding lists.
pub(crate) const MAX_EVIDENCE: usize = 1_000;
/// The longest id (of a process, a clause, a piece of evidence) accepted.
const MAX_ID: usize = 300;

// ---------------------------------------------------------------------------------------------
// Shared pieces

/// A day as the API takes it: `YYYY-MM-DD`, within the bounds of every day the server judges.
pub(crate) fn day(field: &str, text: &str) -> ApiResult<Date> {
    let text = text.trim();
    let bad = || ApiError::field(field, format!("invalid date `{text}`: expected YYYY-MM-DD"));
    if text.len() != 10 {
        return Err(bad());
    }
    let d: Date = text.parse().map_err(|_| bad())?;
    if !(iso20k_core::FIRST_AS_OF..=iso20k_core::LAST_AS_OF).contains(&d) {
        return Err(ApiError::field(
            field,
            format!(
                "{d} is out of range: a day must lie between {} and {}",
                iso20k_core::FIRST_AS_OF,
                iso20k_core::LAST_AS_OF
            ),
        ));
    }
    Ok(d)
}

/// An optional day: left out or empty is none.
pub(crate) fn optional_day(field: &str, text: Option<&str>) -> ApiResult<Option<Date>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => day(field, t).map(Some),
    }
}

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::Conflict {
        message: message.into(),
        current_version: None,
    }
}

fn audits_kind() -> ApiResult<&'static Kind> {
    kind_named("audits")
}

/// The stored audit `id` and its body.
pub(crate) async fn read_audit(app: &App, access: &Access, id: &str) -> ApiResult<(Record, Value)> {
    let record = app
        .store()
        .record(access.org.id, "audits", id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no audit `{id}`")))?;
    let body: Value = serde_json::from_str(&record.body).map_err(ApiError::internal)?;
    Ok((record, body))
}

/// The model of one stored audit, read from its body exactly as the bundle reader reads it.
pub(crate) fn model_of(body: &Value) -> ApiResult<InternalAudit> {
    serde_json::from_value::<iso20k_bundle::files::AuditEntry>(body.clone())
        .map(Into::into)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("a stored audit does not read: {e}")))
}

/// Saves a new version of an audit, checked as the record API checks it, against the version
/// read (or the one the caller names).
pub(crate) async fn save_audit(
    app: &App,
    access: &Access,
    record: &Record,
    body: &Value,
    version: Option<i64>,
) -> ApiResult<Record> {
    let kind = audits_kind()?;
    let entry = check_record(app, &access.org, kind, body).await?;
    if entry.key != record.key {
        return Err(ApiError::field(
            "id",
            format!("the audit is `{}`: an id cannot change here", record.key),
        ));
    }
    let write = Write {
        kind: kind.name.to_owned(),
        key: record.key.clone(),
        body: entry.body,
    };
    let saved = app
        .store()
        .update(
            access.org.id,
            &access.auth.actor(),
            &write,
            version.unwrap_or(record.version),
        )
        .await?;
    app.changed(&access.org);
    Ok(saved)
}

fn object(body: &mut Value) -> ApiResult<&mut serde_json::Map<String, Value>> {
    body.as_object_mut()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a stored audit is not an object")))
}

/// The texts of a JSON list (or of one text).
pub(crate) fn texts(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_owned()],
        _ => Vec::new(),
    }
}

/// A random seed for a sample: short enough to read out and type into another tool.
pub(crate) fn random_seed() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    u64::from_le_bytes(bytes) % 1_000_000_000 + 1
}

// ---------------------------------------------------------------------------------------------
// Independence

/// Why the lead auditor or a member of the team of the audit `record` (its JSON) is not
/// independent of a process the audit covers: one warning per person and process, on that
/// person's field (`auditor`, `team[1]`). Outside audits are not the organisation's to judge.
pub(crate) fn independence(sms: &Sms, record: &Value) -> Vec<Warning> {
    let external = record
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k != "internal");
    let processes = texts(record.get("processes"));
    if external || processes.is_empty() {
        return Vec::new();
    }
    let mut people: Vec<(String, String)> = Vec::new();
    if let Some(a) = record
        .get("auditor")
        .and_then(Value::as_str)
        .filter(|a| !a.trim().is_empty())
    {
        people.push(("auditor".to_owned(), a.trim().to_owned()));
    }
    if let Some(Value::Array(team)) = record.get("team") {
        for (i, t) in team.iter().enumerate() {
            if let Some(t) = t.as_str().filter(|t| !t.trim().is_empty()) {
                people.push((format!("team[{i}]"), t.trim().to_owned()));
            }
        }
    }
    let mut out = Vec::new();
    for (field, who) in people {
        let probe = InternalAudit {
            auditor: Some(who),
            processes: processes.clone(),
            ..InternalAudit::default()
        };
        for sentence in programme::conflicts(sms, &probe) {
            out.push(Warning {
                field: field.clone(),
                message: format!("{sentence}: an auditor must not audit their own work"),
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The programme

/// What the coverage matrix says of a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum CellState {
    /// Audited that year, with evidence recorded (a report, sample results, checklist answers
    /// or findings with evidence).
    Audited,
    /// An audit was held but recorded no evidence.
    HeldWithoutEvidence,
    /// An audit is planned and its day has not come.
    Planned,
    /// An audit was planned, its day passed and it was not held.
    Missed,
    /// Nothing, in a year the row's frequency needs an audit.
    Gap,
    /// Nothing, and nothing needed that year.
    NotDue,
}

impl From<programme::State> for CellState {
    fn from(s: programme::State) -> Self {
        match s {
            programme::State::Audited => CellState::Audited,
            programme::State::HeldWithoutEvidence => CellState::HeldWithoutEvidence,
            programme::State::Planned => CellState::Planned,
            programme::State::Missed => CellState::Missed,
            programme::State::Gap => CellState::Gap,
            programme::State::NotDue => CellState::NotDue,
        }
    }
}

/// How often a row must be audited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum AuditFrequency {
    /// Every year of the cycle.
    Yearly,
    /// At least once in the cycle.
    OncePerCycle,
}

/// The internal audit programme judged as of one day.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ProgrammeView {
    /// The day judged.
    pub as_of: String,
    /// The edition whose clauses the clause rows are.
    pub edition: &'static str,
    /// The first day of a cycle as the programme declares it (`cycle_start`); none when it
    /// declares none, and the cycle then trails the day judged.
    pub declared_start: Option<String>,
    /// The cycle holding the day judged.
    pub cycle: CycleView,
    /// The rule deciding how often each row is audited, in words.
    pub rule: &'static str,
    /// How many cells are gaps.
    pub gaps: usize,
    /// One row per process of the process register.
    pub processes: Vec<RowView>,
    /// One row per second-level requirement clause of the edition.
    pub clauses: Vec<RowView>,
}

/// A programme cycle.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub(crate) struct CycleView {
    /// Its first day.
    pub start: String,
    /// Its last day.
    pub end: String,
    /// How long a cycle runs: the organisation's `audit_cycle` interval.
    pub length: String,
    /// Its years, in order (the last may be shorter).
    pub years: Vec<YearView>,
}

/// One year of a cycle.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub(crate) struct YearView {
    /// Its first day.
    pub start: String,
    /// Its last day.
    pub end: String,
}

/// One row of the coverage matrix: a process, or a second-level clause.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct RowView {
    /// The process id or the clause number.
    pub key: String,
    /// The process's name or the clause's title.
    pub title: String,
    /// How often it must be audited.
    pub frequency: AuditFrequency,
    /// The frequency in words: `every year`, `once per cycle`.
    pub frequency_label: &'static str,
    /// Why it is audited every year, when it is: `2 nonconformities in the last cycle`.
    pub reasons: Vec<String>,
    /// One cell per year of the cycle.
    pub cells: Vec<CellView>,
}

/// One year of one row.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CellView {
    /// What the cell says.
    pub state: CellState,
    /// The same in words: `audited with evidence`, `planned, not held`…
    pub label: &'static str,
    /// The internal audits (ids) that fall in it.
    pub audits: Vec<String>,
}

/// The frequency rule, as the programme page and the API state it (from `programme.rs`).
pub(crate) const RULE: &str = "A process or a second-level clause is audited every year of the \
    cycle when, in the cycle's length before the day judged, it had a major nonconformity, or two \
    or more major or minor ones (raised in the nonconformity register or found by internal or \
    outside audits), or when the process is rated high risk in the process register. Everything \
    else is audited at least once per cycle. A nonconformity belongs to a process when it names \
    the process, or when its clause lies within one of the process's clauses. Only internal \
    audits fill the matrix: outside audits are not the organisation's own check of itself.";

fn cell_label(s: programme::State) -> &'static str {
    match s {
        programme::State::HeldWithoutEvidence => "held, no evidence",
        other => other.label(),
    }
}

fn last_day(end: Date) -> Date {
    end.yesterday().unwrap_or(end)
}

fn cycle_view(sms: &Sms, c: &programme::Cycle) -> CycleView {
    CycleView {
        start: c.start.to_string(),
        end: last_day(c.end).to_string(),
        length: sms.interval(Activity::AuditCycle).to_string(),
        years: c
            .years
            .iter()
            .map(|(s, e)| YearView {
                start: s.to_string(),
                end: last_day(*e).to_string(),
            })
            .collect(),
    }
}

fn row_view(r: &programme::Row) -> RowView {
    RowView {
        key: r.key.clone(),
        title: r.title.clone(),
        frequency: match r.frequency {
            programme::Frequency::Yearly => AuditFrequency::Yearly,
            programme::Frequency::OncePerCycle => AuditFrequency::OncePerCycle,
        },
        frequency_label: r.frequency.label(),
        reasons: r.reasons.clone(),
        cells: r
            .cells
            .iter()
            .map(|c| CellView {
                state: c.state.into(),
                label: cell_label(c.state),
                audits: c.audits.clone(),
            })
            .collect(),
    }
}

/// The programme of `sms` as of `as_of`.
pub(crate) fn programme_view(sms: &Sms, as_of: Date) -> ProgrammeView {
    let m = programme::matrix(sms, as_of);
    ProgrammeView {
        as_of: as_of.to_string(),
        edition: m.edition.as_str(),
        declared_start: sms.audit_cycle_start.map(|d| d.to_string()),
        cycle: cycle_view(sms, &m.cycle),
        rule: RULE,
        gaps: m.gaps(),
        processes: m.processes.iter().map(row_view).collect(),
        clauses: m.clauses.iter().map(row_view).collect(),
    }
}

/// The day to judge as of.
#[derive(Deserialize, JsonSchema)]
pub(crate) struct AsOfQuery {
    /// Judge as of this day (YYYY-MM-DD); the organisation's own day when left out.
    #[serde(default)]
    pub as_of: Option<String>,
}

/// The day asked for (bounded as every as-of day is), else the organisation's own.
pub(crate) async fn as_of_or_default(
    app: &App,
    access: &Access,
    asked: Option<&str>,
) -> ApiResult<Date> {
    let (_, asked) = edition_and_day(None, asked)?;
    app.day_or_default(&access.org, asked).await
}

async fn programme_api(
    State(app): State<App>,
    auth: Auth,
    Path(slug): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> ApiResult<Json<ProgrammeView>> {
    let access = app.access(auth, &slug).await?;
    let as_of = as_of_or_default(&app, &access, q.as_of.as_deref()).await?;
    let sms = app.current_model(&access.org).await?;
    Ok(Json(
        app.blocking(move || programme_view(&sms, as_of)).await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// The next cycle

/// What carrying a cycle forward did.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct NextCycle {
    /// The cycle carried from.
    pub from: CycleView,
    /// The programme's new `cycle_start`: the first day of the next cycle.
    pub cycle_start: String,
    /// The next cycle's last day.
    pub cycle_end: String,
    /// The audits planned in the next cycle, each with the one it carries forward.
    pub carried: Vec<CarriedAudit>,
}

/// One audit carried into the next cycle.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CarriedAudit {
    /// The audit of the cycle carried from.
    pub from: String,
    /// The new audit's id.
    pub id: String,
    /// The day the new audit is planned for: the old one's, a cycle later.
    pub planned_on: String,
}

/// The id of an audit carried `years` later: the year in it moved on (`IA-2025-01` →
/// `IA-2028-01`), else `-C2` added (or `-C2` → `-C3`), then a number added until it is free.
pub(crate) fn carried_id(id: &str, years: i32, taken: &HashSet<String>) -> String {
    let bytes = id.as_bytes();
    let mut base = None;
    if years != 0 {
        for i in 0..bytes.len().saturating_sub(3) {
            let run = &bytes[i..i + 4];
            let alone = (i == 0 || !bytes[i - 1].is_ascii_digit())
                && bytes.get(i + 4).is_none_or(|b| !b.is_ascii_digit());
            if alone && run.iter().all(u8::is_ascii_digit) {
                let year: i32 = id[i..i + 4].parse().unwrap_or(0);
                if (1900..=2199).contains(&year) {
                    base = Some(format!("{}{}{}", &id[..i], year + years, &id[i + 4..]));
                    break;
                }
            }
        }
    }
    let base = base.unwrap_or_else(|| match id.rsplit_once("-C") {
        Some((head, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            format!(
                "{head}-C{}",
                n.parse::<u32>().map_or(2, |n| n.saturating_add(1))
            )
        }
        _ => format!("{id}-C2"),
    });
    if !taken.contains(&base) {
        return base;
    }
    (2u32..)
        .map(|n| format!("{base}-{n}"))
        .find(|c| !taken.contains(c))
        .unwrap_or(base)
}

/// Carries the internal audits of the cycle holding `as_of` into the next cycle, and moves the
/// programme's start there, all in one transaction. Refused when the programme declares no
/// start, when the cycle has no internal audit, and when the next cycle already holds audits
/// carried from this one (same title, planned a cycle later).
pub(crate) async fn next_cycle(app: &App, access: &Access, as_of: Date) -> ApiResult<NextCycle> {
    let audits = audits_kind()?;
    let programme_kind = kind_named("audit-programme")?;
    access.require_write(audits)?;
    access.require_write(programme_kind)?;
    let sms = app.current_model(&access.org).await?;
    if sms.audit_cycle_start.is_none() {
        return Err(conflict(
            "the programme declares no cycle start, so it has no cycle to carry forward: set the \
             first day of the cycle first",
        ));
    }
    let length = sms.interval(Activity::AuditCycle);
    let current = programme::cycle(&sms, as_of);
    let next_start = current.end;
    let next_end = length.after(next_start);
    let ours: Vec<&InternalAudit> = sms
        .audits
        .iter()
        .filter(|a| a.kind == AuditKind::Internal)
        .filter(|a| a.date().is_some_and(|d| current.contains(d)))
        .collect();
    if ours.is_empty() {
        return Err(conflict(format!(
            "the cycle from {} to {} has no internal audit to carry forward",
            current.start,
            last_day(current.end)
        )));
    }
    let already: Vec<String> = ours
        .iter()
        .filter_map(|a| {
            let later = length.after(a.date()?);
            sms.audits
                .iter()
                .find(|b| {
                    b.kind == AuditKind::Internal
                        && b.title == a.title
                        && b.planned_on == Some(later)
                })
                .map(|b| format!("{} (from {})", b.id, a.id))
        })
        .collect();
    if !already.is_empty() {
        return Err(conflict(format!(
            "the next cycle, from {next_start} to {}, already holds audits carried from this one: \
             {}; it was carried forward before",
            last_day(next_end),
            already.join(", ")
        )));
    }
    let mut taken: HashSet<String> = HashSet::new();
    for a in &sms.audits {
        taken.insert(a.id.clone());
        taken.extend(a.findings.iter().map(|f| f.id.clone()));
    }
    let mut writes = Vec::new();
    let mut carried = Vec::new();
    for a in ours {
        let (_, mut body) = read_audit(app, access, &a.id).await.map_err(|e| match e {
            ApiError::NotFound(_) => {
                conflict(format!("audit {} was deleted meanwhile: try again", a.id))
            }
            other => other,
        })?;
        let was = a.date().unwrap_or(current.start);
        let planned = length.after(was);
        let years = i32::from(planned.year()) - i32::from(was.year());
        let id = carried_id(&a.id, years, &taken);
        taken.insert(id.clone());
        let o = object(&mut body)?;
        o.insert("id".into(), json!(id));
        o.insert("planned_on".into(), json!(planned.to_string()));
        match a.ends_on {
            Some(end) => {
                o.insert("ends_on".into(), json!(length.after(end).to_string()));
            }
            None => {
                o.remove("ends_on");
            }
        }
        for field in [
            "held_on",
            "report",
            "status",
            "findings",
            "samples",
            "conclusion",
            "cancelled",
        ] {
            o.remove(field);
        }
        if let Some(Value::Array(questions)) = o.get_mut("checklist") {
            for q in questions.iter_mut().filter_map(Value::as_object_mut) {
                q.remove("result");
                q.remove("note");
            }
        }
        let entry = check_record(app, &access.org, audits, &body).await?;
        writes.push(Write {
            kind: audits.name.to_owned(),
            key: entry.key,
            body: entry.body,
        });
        carried.push(CarriedAudit {
            from: a.id.clone(),
            id,
            planned_on: planned.to_string(),
        });
    }
    let stored = app
        .store()
        .record(access.org.id, programme_kind.name, programme_kind.name)
        .await?;
    let mut programme: Value = match stored {
        Some(r) => serde_json::from_str(&r.body).map_err(ApiError::internal)?,
        None => json!({}),
    };
    programme["cycle_start"] = json!(next_start.to_string());
    let entry = check_record(app, &access.org, programme_kind, &programme).await?;
    writes.push(Write {
        kind: programme_kind.name.to_owned(),
        key: entry.key,
        body: entry.body,
    });
    app.store()
        .apply(access.org.id, &access.auth.actor(), writes, &[])
        .await?;
    app.changed(&access.org);
    Ok(NextCycle {
        from: cycle_view(&sms, &current),
        cycle_start: next_start.to_string(),
        cycle_end: last_day(next_end).to_string(),
        carried,
    })
}

async fn next_cycle_api(
    State(app): State<App>,
    auth: Auth,
    Path(slug): Path<String>,
    Query(q): Query<AsOfQuery>,
) -> ApiResult<(StatusCode, Json<NextCycle>)> {
    let access = app.access(auth, &slug).await?;
    access.require_write(audits_kind()?)?;
    let as_of = as_of_or_default(&app, &access, q.as_of.as_deref()).await?;
    Ok((
        StatusCode::CREATED,
        Json(next_cycle(&app, &access, as_of).await?),
    ))
}

// ---------------------------------------------------------------------------------------------
// Status

/// A step of an audit's way from plan to closure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum AuditStep {
    /// Planned, not started.
    Planned,
    /// Being held: fieldwork, sampling, findings.
    InProgress,
    /// The report is issued; findings are being answered.
    Reported,
    /// Every major and minor finding is closed.
    Closed,
}

impl AuditStep {
    fn status(self) -> AuditStatus {
        match self {
            AuditStep::Planned => AuditStatus::Planned,
            AuditStep::InProgress => AuditStatus::InProgress,
            AuditStep::Reported => AuditStatus::Reported,
            AuditStep::Closed => AuditStatus::Closed,
        }
    }

    fn key(self) -> &'static str {
        match self {
            AuditStep::Planned => "planned",
            AuditStep::InProgress => "in-progress",
            AuditStep::Reported => "reported",
            AuditStep::Closed => "closed",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<AuditStep> {
        [
            AuditStep::Planned,
            AuditStep::InProgress,
            AuditStep::Reported,
            AuditStep::Closed,
        ]
        .into_iter()
        .find(|s| s.key() == text)
    }
}

/// The step after `status`, if there is one.
pub(crate) fn next_step(status: AuditStatus) -> Option<AuditStep> {
    match status {
        AuditStatus::Planned => Some(AuditStep::InProgress),
        AuditStatus::InProgress => Some(AuditStep::Reported),
        AuditStatus::Reported => Some(AuditStep::Closed),
        AuditStatus::Closed | AuditStatus::Cancelled => None,
    }
}

/// A status to move an audit to.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusChange {
    /// The next step: planned → in-progress → reported → closed.
    pub status: AuditStep,
    /// For in-progress: the day fieldwork started, kept as `held_on` when the audit has none
    /// (YYYY-MM-DD; today when left out).
    #[serde(default)]
    pub on: Option<String>,
    /// The version of the audit record this is made against; the current one when left out.
    #[serde(default)]
    pub version: Option<i64>,
}

/// An audit's new status.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct StatusChanged {
    /// The audit.
    pub audit: String,
    /// The audit record's new version.
    pub version: i64,
    /// Its status now.
    pub status: AuditStep,
    /// The same in words.
    pub label: &'static str,
    /// When it was held.
    pub held_on: Option<String>,
}

/// Moves audit `id` to its next step, refusing in words what the step needs and the audit
/// lacks: objectives and a scope to be reported, every major and minor finding closed to be
/// closed.
pub(crate) async fn change_status(
    app: &App,
    access: &Access,
    id: &str,
    change: StatusChange,
) -> ApiResult<StatusChanged> {
    access.require_write(audits_kind()?)?;
    let on = optional_day("on", change.on.as_deref())?;
    let (record, mut body) = read_audit(app, access, id).await?;
    let audit = model_of(&body)?;
    let current = audit.status();
    let want = change.status;
    if current == AuditStatus::Cancelled {
        return Err(conflict(format!(
            "audit {id} was cancelled: it has no next step"
        )));
    }
    if current == want.status() {
        return Err(conflict(format!(
            "audit {id} is {} already",
            current.label().to_lowercase()
        )));
    }
    match next_step(current) {
        Some(next) if next == want => {}
        Some(next) => {
            return Err(conflict(format!(
                "audit {id} is {}: its next step is {}, not {}",
                current.label().to_lowercase(),
                next.status().label().to_lowercase(),
                want.status().label().to_lowercase()
            )));
        }
        None => {
            return Err(conflict(format!("audit {id} is closed: no step follows")));
        }
    }
    let o = object(&mut body)?;
    match want {
        AuditStep::InProgress if audit.held_on.is_none() => {
            let started = on.unwrap_or_else(crate::readiness::today);
            o.insert("held_on".into(), json!(started.to_string()));
        }
        AuditStep::Reported => {
            let mut missing = Vec::new();
            if audit
                .objectives
                .as_deref()
                .is_none_or(|t| t.trim().is_empty())
            {
                missing.push("its objectives");
            }
            if audit.clauses.is_empty() && audit.processes.is_empty() {
                missing.push("its scope (the clauses or processes it covers)");
            }
            if audit.held_on.is_none() {
                missing.push("the day it was held");
            }
            if !missing.is_empty() {
                let list = match missing.len() {
                    1 => missing[0].to_owned(),
                    n => format!("{} and {}", missing[..n - 1].join(", "), missing[n - 1]),
                };
                return Err(conflict(format!(
                    "audit {id} cannot be reported without {list}: record them first"
                )));
            }
        }
        AuditStep::Closed => {
            let open: Vec<String> = audit
                .findings
                .iter()
                .filter(|f| f.grade != Grade::Observation && f.closed_on.is_none())
                .map(|f| format!("{} ({})", f.id, f.grade.as_str()))
                .collect();
            if !open.is_empty() {
                let what = if open.len() == 1 {
                    "a major or minor finding is".to_owned()
                } else {
                    format!("{} major or minor findings are", open.len())
                };
                return Err(conflict(format!(
                    "audit {id} cannot be closed while {what} open: {}; record when each was \
                     closed first",
                    open.join(", ")
                )));
            }
        }
        _ => {}
    }
    o.insert("status".into(), json!(want.key()));
    let saved = save_audit(app, access, &record, &body, change.version).await?;
    let after = model_of(&serde_json::from_str(&saved.body).map_err(ApiError::internal)?)?;
    Ok(StatusChanged {
        audit: saved.key,
        version: saved.version,
        status: want,
        label: want.status().label(),
        held_on: after.held_on.map(|d| d.to_string()),
    })
}

async fn status_api(
    State(app): State<App>,
    auth: Auth,
    Path((slug, id)): Path<(String, String)>,
    Body(change): Body<StatusChange>,
) -> ApiResult<Json<StatusChanged>> {
    let access = app.access(auth, &slug).await?;
    Ok(Json(change_status(&app, &access, &id, change).await?))
}

// ---------------------------------------------------------------------------------------------
// Findings

/// A finding's grade.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum FindingGrade {
    /// A major nonconformity.
    Major,
    /// A minor nonconformity.
    Minor,
    /// An observation or opportunity for improvement.
    Observation,
}

impl FindingGrade {
    pub(crate) fn key(self) -> &'static str {
        match self {
            FindingGrade::Major => "major",
            FindingGrade::Minor => "minor",
            FindingGrade::Observation => "observation",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<FindingGrade> {
        [
            FindingGrade::Major,
            FindingGrade::Minor,
            FindingGrade::Observation,
        ]
        .into_iter()
        .find(|g| g.key() == text)
    }
}

/// A finding to add to an audit.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewFinding {
    /// major, minor or observation.
    pub grade: FindingGrade,
    /// The clause of the organisation's edition it is raised against.
    #[serde(default)]
    pub clause: Option<String>,
    /// The process (id) it concerns.
    #[serde(default)]
    pub process: Option<String>,
    /// What was found.
    pub statement: String,
    /// Objective evidence: record ids (sampled items, tickets, documents) or the names of files
    /// attached to the audit.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// When it must be closed (YYYY-MM-DD).
    #[serde(default)]
    pub due: Option<String>,
    /// The sample (id, in the same audit) whose results it reports.
    #[serde(default)]
    pub sample: Option<String>,
    /// The version of the audit record this is made against; the current one when left out.
    #[serde(default)]
    pub version: Option<i64>,
}

/// A finding added.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct FindingAdded {
    /// The audit.
    pub audit: String,
    /// The audit record's new version.
    pub version: i64,
    /// The new finding's id.
    pub finding: String,
    /// Its statement.
    pub statement: String,
    /// Its evidence.
    pub evidence: Vec<String>,
    /// The sample it reports.
    pub sample: Option<String>,
}

/// The id of the next finding of audit `id`: `ID-F1`, `ID-F2`…, free across every audit.
fn next_finding_id(sms: &Sms, audit: &InternalAudit) -> String {
    let taken: HashSet<&str> = sms
        .audits
        .iter()
        .flat_map(|a| a.findings.iter().map(|f| f.id.as_str()))
        .chain(audit.findings.iter().map(|f| f.id.as_str()))
        .chain(sms.audits.iter().map(|a| a.id.as_str()))
        .collect();
    (audit.findings.len() + 1..)
        .map(|n| format!("{}-F{n}", audit.id))
        .find(|c| !taken.contains(c.as_str()))
        .unwrap_or_default()
}

fn bounded_text(field: &str, text: &str, max: usize) -> ApiResult<String> {
    let text = text.trim();
    if text.chars().count() > max {
        return Err(ApiError::field(field, format!("at most {max} characters")));
    }
    Ok(text.to_owned())
}

/// Adds a finding to audit `id`. The clause must be one of the edition's, the process one of
/// the register's, the sample one of the audit's (whose `finding` then names it, unless it
/// names another already).
pub(crate) async fn add_finding(
    app: &App,
    access: &Access,
    id: &str,
    new: NewFinding,
) -> ApiResult<FindingAdded> {
    access.require_write(audits_kind()?)?;
    let statement = bounded_text("statement", &new.statement, MAX_TEXT)?;
    if statement.is_empty() {
        return Err(ApiError::field("statement", "say what was found"));
    }
    let due = optional_day("due", new.due.as_deref())?;
    if new.evidence.len() > MAX_EVIDENCE {
        return Err(ApiError::field(
            "evidence",
            format!("at most {MAX_EVIDENCE} pieces of evidence"),
        ));
    }
    let mut evidence: Vec<String> = Vec::new();
    for (i, e) in new.evidence.iter().enumerate() {
        let e = bounded_text(&format!("evidence[{i}]"), e, MAX_ID)?;
        if !e.is_empty() && !evidence.contains(&e) {
            evidence.push(e);
        }
    }
    let sms = app.current_model(&access.org).await?;
    let clause = match new
        .clause
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => None,
        Some(c) => {
            let edition = sms.edition();
            if clause::find(edition, c).is_none() {
                return Err(ApiError::field(
                    "clause",
                    format!("`{}` is not a clause of the {edition} edition", short(c)),
                ));
            }
            Some(c.to_owned())
        }
    };
    let process = match new
        .process
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => {
            if !sms.processes.iter().any(|x| x.id == p) {
                return Err(ApiError::field(
                    "process",
                    format!("there is no process `{}` in the process register", short(p)),
                ));
            }
            Some(p.to_owned())
        }
    };
    let (record, mut body) = read_audit(app, access, id).await?;
    let audit = model_of(&body)?;
    let sample = match new
        .sample
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => {
            if !audit.samples.iter().any(|x| x.id == s) {
                return Err(ApiError::field(
                    "sample",
                    format!("audit {id} has no sample `{}`", short(s)),
                ));
            }
            Some(s.to_owned())
        }
    };
    let finding_id = next_finding_id(&sms, &audit);
    let mut finding = json!({
        "id": finding_id,
        "grade": new.grade.key(),
        "statement": statement,
    });
    if let Some(c) = &clause {
        finding["clause"] = json!(c);
    }
    if let Some(p) = &process {
        finding["process"] = json!(p);
    }
    if let Some(d) = due {
        finding["due"] = json!(d.to_string());
    }
    if !evidence.is_empty() {
        finding["evidence"] = json!(evidence);
    }
    if let Some(s) = &sample {
        finding["sample"] = json!(s);
    }
    let o = object(&mut body)?;
    match o.get_mut("findings") {
        Some(Value::Array(list)) => list.push(finding),
        _ => {
            o.insert("findings".into(), json!([finding]));
        }
    }
    if let (Some(s), Some(Value::Array(samples))) = (&sample, o.get_mut("samples")) {
        for x in samples.iter_mut() {
            if x["id"] == json!(s) && x.get("finding").is_none_or(Value::is_null) {
                x["finding"] = json!(finding_id);
            }
        }
    }
    let saved = save_audit(app, access, &record, &body, new.version).await?;
    Ok(FindingAdded {
        audit: saved.key,
        version: saved.version,
        finding: finding_id,
        statement,
        evidence,
        sample,
    })
}

/// At most 60 characters of an input, for quoting it back.
fn short(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

async fn finding_api(
    State(app): State<App>,
    auth: Auth,
    Path((slug, id)): Path<(String, String)>,
    Body(new): Body<NewFinding>,
) -> ApiResult<(StatusCode, Json<FindingAdded>)> {
    let access = app.access(auth, &slug).await?;
    Ok((
        StatusCode::CREATED,
        Json(add_finding(&app, &access, &id, new).await?),
    ))
}

// ---------------------------------------------------------------------------------------------
// Samples

/// How a sample is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SamplingMethod {
    /// Drawn at random, as many as a confidence and a tolerable deviation rate need.
    #[default]
    Statistical,
    /// As many as the auditor judges enough, for a written reason; still drawn at random, so
    /// the draw can be repeated.
    Judgement,
}

/// The result of testing one sampled record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SampleResult {
    /// It meets the criterion.
    Conforms,
    /// It does not.
    DoesNotConform,
    /// The criterion does not apply to it.
    NotApplicable,
}

impl SampleResult {
    pub(crate) fn key(self) -> &'static str {
        match self {
            SampleResult::Conforms => "conforms",
            SampleResult::DoesNotConform => "does-not-conform",
            SampleResult::NotApplicable => "not-applicable",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<SampleResult> {
        [
            SampleResult::Conforms,
            SampleResult::DoesNotConform,
            SampleResult::NotApplicable,
        ]
        .into_iter()
        .find(|r| r.key() == text)
    }
}

impl From<ItemResult> for SampleResult {
    fn from(r: ItemResult) -> Self {
        match r {
            ItemResult::Conforms => SampleResult::Conforms,
            ItemResult::DoesNotConform => SampleResult::DoesNotConform,
            ItemResult::NotApplicable => SampleResult::NotApplicable,
        }
    }
}

/// A sample to draw from the organisation's records as they are now.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DrawRequest {
    /// The kind of record sampled: a ticket table (changes, incidents…) or a register
    /// (documents, suppliers…), not a one-of-a-kind record.
    pub kind: String,
    /// First day of the period (inclusive), judged by the kind's own date.
    #[serde(default)]
    pub from: Option<String>,
    /// Last day of the period (inclusive).
    #[serde(default)]
    pub to: Option<String>,
    /// Filters on top-level fields, each `field=value` or `field!=value`; at most 20.
    #[serde(default, rename = "where")]
    pub filters: Vec<String>,
    /// statistical (default) or judgement.
    #[serde(default)]
    pub method: SamplingMethod,
    /// For a statistical sample: the confidence sought, as a fraction (0.95 when left out).
    #[serde(default)]
    #[schemars(range(min = 0.5, max = 0.999))]
    pub confidence: Option<f64>,
    /// For a statistical sample: the tolerable deviation rate, as a fraction (0.05 when left
    /// out).
    #[serde(default)]
    #[schemars(range(min = 0.001, max = 0.5))]
    pub tdr: Option<f64>,
    /// For a judgement sample: how many records, 1 to 10,000.
    #[serde(default)]
    #[schemars(range(min = 1, max = 10000))]
    pub size: Option<u64>,
    /// For a judgement sample: why this many, and what it should show (required).
    #[serde(default)]
    pub rationale: Option<String>,
    /// For a judgement sample: the records the auditor chose, by id (at most 10,000, each a
    /// record of the population), instead of `size` drawn at random.
    #[serde(default)]
    #[schemars(length(max = 10000))]
    pub items: Vec<String>,
    /// The seed of the draw; random when left out. The same records, definition and seed
    /// always draw the same items.
    #[serde(default)]
    pub seed: Option<u64>,
    /// The day it is drawn (YYYY-MM-DD); today when left out.
    #[serde(default)]
    pub drawn_on: Option<String>,
    /// The version of the audit record this is made against; the current one when left out.
    #[serde(default)]
    pub version: Option<i64>,
}

/// A sample, as the audit holds it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SampleView {
    /// Its id within the audit: S1, S2…
    pub id: String,
    /// What it was drawn from.
    pub population: PopulationView,
    /// How many records the population held when drawn.
    pub population_size: u64,
    /// How it was chosen.
    pub method: SamplingMethod,
    /// For a statistical sample: the confidence sought.
    pub confidence: Option<f64>,
    /// For a statistical sample: the tolerable deviation rate.
    pub tdr: Option<f64>,
    /// For a judgement sample: why.
    pub rationale: Option<String>,
    /// The seed of the draw.
    pub seed: Option<u64>,
    /// When it was drawn.
    pub drawn_on: Option<String>,
    /// The sampled records, in draw order, with what testing found.
    pub items: Vec<ItemView>,
    /// The finding its results were rolled into.
    pub finding: Option<String>,
    /// The results counted.
    pub tally: Tally,
}

/// A sample's population.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct PopulationView {
    /// The kind of record.
    pub kind: String,
    /// First day of the period.
    pub from: Option<String>,
    /// Last day of the period.
    pub to: Option<String>,
    /// The filters.
    #[serde(rename = "where")]
    pub filters: Vec<String>,
}

/// One sampled record.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ItemView {
    /// The record's key.
    pub id: String,
    /// What testing it showed; none while untested.
    pub result: Option<SampleResult>,
    /// The auditor's note.
    pub note: Option<String>,
}

/// A sample's results counted.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Tally {
    /// How many items the sample holds.
    pub sampled: usize,
    /// How many conform.
    pub conform: usize,
    /// How many do not.
    pub do_not_conform: usize,
    /// How many the criterion does not apply to.
    pub not_applicable: usize,
    /// How many are not tested yet.
    pub untested: usize,
    /// In words: `25 tested: 22 conform, 3 do not`.
    pub words: String,
}

pub(crate) fn tally(items: &[iso20k_core::model::SampleItem]) -> Tally {
    let count = |r: Option<ItemResult>| items.iter().filter(|i| i.result == r).count();
    let conform = count(Some(ItemResult::Conforms));
    let do_not_conform = count(Some(ItemResult::DoesNotConform));
    let not_applicable = count(Some(ItemResult::NotApplicable));
    let untested = count(None);
    let mut words = format!(
        "{} tested: {conform} conform, {do_not_conform} do not",
        conform + do_not_conform
    );
    if not_applicable > 0 {
        words.push_str(&format!("; {not_applicable} not applicable"));
    }
    if untested > 0 {
        words.push_str(&format!("; {untested} not yet tested"));
    }
    Tally {
        sampled: items.len(),
        conform,
        do_not_conform,
        not_applicable,
        untested,
        words,
    }
}

pub(crate) fn sample_view(s: &Sample) -> SampleView {
    SampleView {
        id: s.id.clone(),
        population: PopulationView {
            kind: s.population.kind.clone(),
            from: s.population.from.map(|d| d.to_string()),
            to: s.population.to.map(|d| d.to_string()),
            filters: s.population.filters.clone(),
        },
        population_size: s.population_size,
        method: match s.method {
            SampleMethod::Statistical => SamplingMethod::Statistical,
            SampleMethod::Judgement => SamplingMethod::Judgement,
        },
        confidence: s.confidence,
        tdr: s.tdr,
        rationale: s.rationale.clone(),
        seed: s.seed,
        drawn_on: s.drawn_on.map(|d| d.to_string()),
        items: s
            .items
            .iter()
            .map(|i| ItemView {
                id: i.id.clone(),
                result: i.result.map(Into::into),
                note: i.note.clone(),
            })
            .collect(),
        finding: s.finding.clone(),
        tally: tally(&s.items),
    }
}

/// A sample drawn and stored.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SampleDrawn {
    /// The audit.
    pub audit: String,
    /// The audit record's new version.
    pub version: i64,
    /// How many items the method asked for (more than the sample holds when the population
    /// is smaller, which is then tested whole).
    pub required: usize,
    /// The sample.
    pub sample: SampleView,
}

/// The kinds a sample may be drawn from: every kind of many records, tickets first.
pub(crate) fn sampled_kinds() -> Vec<&'static Kind> {
    let mut kinds: Vec<&'static Kind> = records::KINDS.iter().filter(|k| !k.singleton).collect();
    kinds.sort_by_key(|k| !k.ticket);
    kinds
}

/// The population's definition and size of a draw, checked field by field.
fn draw_definition(req: &DrawRequest) -> ApiResult<(&'static Kind, PopulationDef, Size)> {
    let kind = records::kind(req.kind.trim())
        .filter(|k| !k.singleton)
        .ok_or_else(|| {
            let names: Vec<&str> = sampled_kinds().iter().map(|k| k.name).collect();
            ApiError::field(
                "kind",
                format!(
                    "cannot sample `{}`: the kinds are {}",
                    short(&req.kind),
                    names.join(", ")
                ),
            )
        })?;
    let from = optional_day("from", req.from.as_deref())?;
    let to = optional_day("to", req.to.as_deref())?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::field(
            "to",
            format!("the period ends ({t}) before it starts ({f})"),
        ));
    }
    if (from.is_some() || to.is_some()) && population::date_field(kind.name).is_none() {
        return Err(ApiError::field(
            "from",
            format!(
                "{} have no date to judge a period by: leave the period out",
                kind.name
            ),
        ));
    }
    let filters: Vec<String> = req
        .filters
        .iter()
        .map(|f| f.trim().to_owned())
        .filter(|f| !f.is_empty())
        .collect();
    if filters.len() > population::MAX_FILTERS {
        return Err(ApiError::field(
            "where",
            format!("at most {} filters", population::MAX_FILTERS),
        ));
    }
    if let Some(i) = filters
        .iter()
        .position(|f| f.len() > population::MAX_FILTER_LEN)
    {
        return Err(ApiError::field(
            &format!("where[{i}]"),
            format!(
                "a filter is at most {} characters",
                population::MAX_FILTER_LEN
            ),
        ));
    }
    let size = match req.method {
        SamplingMethod::Statistical => {
            if req.size.is_some() {
                return Err(ApiError::field(
                    "size",
                    "a statistical sample's size comes from its confidence and tolerable \
                     deviation rate: leave size out, or choose the judgement method",
                ));
            }
            let confidence = req.confidence.unwrap_or(0.95);
            let tdr = req.tdr.unwrap_or(0.05);
            if !(sampling::MIN_CONFIDENCE..=sampling::MAX_CONFIDENCE).contains(&confidence) {
                return Err(ApiError::field(
                    "confidence",
                    format!(
                        "must lie between {} and {} (a fraction: 0.95 for 95 %), not {confidence}",
                        sampling::MIN_CONFIDENCE,
                        sampling::MAX_CONFIDENCE
                    ),
                ));
            }
            if !(sampling::MIN_TDR..=sampling::MAX_TDR).contains(&tdr) {
                return Err(ApiError::field(
                    "tdr",
                    format!(
                        "must lie between {} and {} (a fraction: 0.05 for 5 %), not {tdr}",
                        sampling::MIN_TDR,
                        sampling::MAX_TDR
                    ),
                ));
            }
            Size::Statistical { confidence, tdr }
        }
        SamplingMethod::Judgement => {
            if req.confidence.is_some() || req.tdr.is_some() {
                return Err(ApiError::field(
                    "confidence",
                    "a judgement sample has no confidence or tolerable deviation rate: leave \
                     them out, or choose the statistical method",
                ));
            }
            let chosen = req.items.iter().filter(|i| !i.trim().is_empty()).count();
            if chosen > sampling::MAX_SIZE {
                return Err(ApiError::field(
                    "items",
                    format!("at most {} records", sampling::MAX_SIZE),
                ));
            }
            let Some(n) = req.size.or((chosen > 0).then_some(chosen as u64)) else {
                return Err(ApiError::field(
                    "size",
                    "a judgement sample needs its size, or the records chosen",
                ));
            };
            if n == 0 || n > sampling::MAX_SIZE as u64 {
                return Err(ApiError::field(
                    "size",
                    format!("must lie between 1 and {}", sampling::MAX_SIZE),
                ));
            }
            let rationale = req.rationale.as_deref().map(str::trim).unwrap_or_default();
            if rationale.is_empty() {
                return Err(ApiError::field(
                    "rationale",
                    "a judgement sample needs its reason written down: why this many, and what \
                     they should show",
                ));
            }
            bounded_text("rationale", rationale, MAX_TEXT)?;
            Size::Fixed(n as usize)
        }
    };
    Ok((
        kind,
        PopulationDef {
            kind: kind.name.to_owned(),
            from,
            to,
            filters,
        },
        size,
    ))
}

/// Draws a sample with `population::draw` on the organisation's records as they are now and
/// stores it in audit `id` as its next sample (S1, S2…), items in draw order, untested.
pub(crate) async fn draw(
    app: &App,
    access: &Access,
    id: &str,
    req: DrawRequest,
) -> ApiResult<SampleDrawn> {
    access.require_write(audits_kind()?)?;
    let (kind, def, size) = draw_definition(&req)?;
    let seed = req.seed.unwrap_or_else(random_seed);
    let drawn_on =
        optional_day("drawn_on", req.drawn_on.as_deref())?.unwrap_or_else(crate::readiness::today);
    let (record, mut body) = read_audit(app, access, id).await?;
    let audit = model_of(&body)?;
    let bundle = crate::load::bundle_of(app.store(), &access.org, |k| k.name == kind.name)
        .await
        .map_err(ApiError::internal)?;
    let drawn_def = def.clone();
    let chosen: Vec<String> = {
        let mut seen = std::collections::BTreeSet::new();
        req.items
            .iter()
            .map(|i| i.trim().to_owned())
            .filter(|i| !i.is_empty() && seen.insert(i.clone()))
            .collect()
    };
    let picked = matches!(req.method, SamplingMethod::Judgement) && !chosen.is_empty();
    let drawn = app
        .blocking(move || {
            if !picked {
                return population::draw(&bundle, &drawn_def, size, seed);
            }
            // The auditor's own pick: every record must belong to the population defined.
            let members = population::select(&bundle, &drawn_def)?;
            let set: std::collections::HashSet<&str> = members.iter().map(String::as_str).collect();
            let outside: Vec<&str> = chosen
                .iter()
                .filter(|i| !set.contains(i.as_str()))
                .map(String::as_str)
                .take(5)
                .collect();
            if !outside.is_empty() {
                return Err(format!(
                    "not in the population defined: {}",
                    outside.join(", ")
                ));
            }
            Ok(population::Drawn {
                population: members.len(),
                required: chosen.len(),
                items: chosen,
                seed,
            })
        })
        .await?
        .map_err(|m| ApiError::field(if picked { "items" } else { "" }, m))?;
    if drawn.items.is_empty() {
        return Err(ApiError::field(
            "kind",
            format!(
                "no {} match this definition: there is nothing to sample",
                kind.name
            ),
        ));
    }
    let number = audit
        .samples
        .iter()
        .filter_map(|s| s.id.strip_prefix('S')?.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
        .max(audit.samples.len() as u64)
        + 1;
    let sample_id = format!("S{number}");
    let mut population = json!({ "kind": def.kind });
    if let Some(f) = def.from {
        population["from"] = json!(f.to_string());
    }
    if let Some(t) = def.to {
        population["to"] = json!(t.to_string());
    }
    if !def.filters.is_empty() {
        population["where"] = json!(def.filters);
    }
    let mut sample = json!({
        "id": sample_id,
        "population": population,
        "population_size": drawn.population,
        "method": req.method,
        "seed": (!picked).then_some(seed),
        "drawn_on": drawn_on.to_string(),
        "items": drawn.items.iter().map(|i| json!({ "id": i })).collect::<Vec<_>>(),
    });
    match size {
        Size::Statistical { confidence, tdr } => {
            sample["confidence"] = json!(confidence);
            sample["tdr"] = json!(tdr);
        }
        Size::Fixed(_) => {
            sample["rationale"] = json!(req.rationale.as_deref().map(str::trim));
        }
    }
    let o = object(&mut body)?;
    match o.get_mut("samples") {
        Some(Value::Array(list)) => list.push(sample),
        _ => {
            o.insert("samples".into(), json!([sample]));
        }
    }
    let saved = save_audit(app, access, &record, &body, req.version).await?;
    let after = model_of(&serde_json::from_str(&saved.body).map_err(ApiError::internal)?)?;
    let stored = after
        .samples
        .iter()
        .find(|s| s.id == sample_id)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the sample was not kept")))?;
    Ok(SampleDrawn {
        audit: saved.key,
        version: saved.version,
        required: drawn.required,
        sample: sample_view(stored),
    })
}

async fn draw_api(
    State(app): State<App>,
    auth: Auth,
    Path((slug, id)): Path<(String, String)>,
    Body(req): Body<DrawRequest>,
) -> ApiResult<(StatusCode, Json<SampleDrawn>)> {
    let access = app.access(auth, &slug).await?;
    Ok((
        StatusCode::CREATED,
        Json(draw(&app, &access, &id, req).await?),
    ))
}

/// What testing one sampled record found.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemUpdate {
    /// The sampled record's id.
    pub id: String,
    /// conforms, does-not-conform or not-applicable; left out (or null) while untested.
    #[serde(default)]
    pub result: Option<SampleResult>,
    /// The auditor's note (at most 2,000 characters); left out or empty for none.
    #[serde(default)]
    pub note: Option<String>,
}

/// A sample's results saved.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SampleSaved {
    /// The audit.
    pub audit: String,
    /// The audit record's new version.
    pub version: i64,
    /// The sample as it is now.
    pub sample: SampleView,
}

/// Saves what testing found for the items listed (the others stay as they were), all at once.
pub(crate) async fn save_items(
    app: &App,
    access: &Access,
    id: &str,
    sample_id: &str,
    updates: Vec<ItemUpdate>,
    version: Option<i64>,
) -> ApiResult<SampleSaved> {
    access.require_write(audits_kind()?)?;
    if updates.len() > sampling::MAX_SIZE {
        return Err(ApiError::field(
            "",
            format!("a sample holds at most {} items", sampling::MAX_SIZE),
        ));
    }
    let (record, mut body) = read_audit(app, access, id).await?;
    let o = object(&mut body)?;
    let sample = o
        .get_mut("samples")
        .and_then(Value::as_array_mut)
        .and_then(|list| list.iter_mut().find(|s| s["id"] == json!(sample_id)))
        .ok_or_else(|| {
            ApiError::NotFound(format!("audit {id} has no sample `{}`", short(sample_id)))
        })?;
    let items = sample
        .get_mut("items")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| ApiError::field("", format!("sample {sample_id} has no items")))?;
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, u) in updates.iter().enumerate() {
        if !seen.insert(u.id.as_str()) {
            return Err(ApiError::field(
                &format!("[{i}].id"),
                format!("item `{}` is listed twice", short(&u.id)),
            ));
        }
        let Some(item) = items.iter_mut().find(|x| x["id"] == json!(u.id)) else {
            return Err(ApiError::field(
                &format!("[{i}].id"),
                format!("sample {sample_id} has no item `{}`", short(&u.id)),
            ));
        };
        let note = bounded_text(
            &format!("[{i}].note"),
            u.note.as_deref().unwrap_or_default(),
            MAX_NOTE,
        )?;
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        match u.result {
            Some(r) => {
                item.insert("result".into(), json!(r.key()));
            }
            None => {
                item.remove("result");
            }
        }
        if note.is_empty() {
            item.remove("note");
        } else {
            item.insert("note".into(), json!(note));
        }
    }
    let saved = save_audit(app, access, &record, &body, version).await?;
    let after = model_of(&serde_json::from_str(&saved.body).map_err(ApiError::internal)?)?;
    let stored = after
        .samples
        .iter()
        .find(|s| s.id == sample_id)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the sample was not kept")))?;
    Ok(SampleSaved {
        audit: saved.key,
        version: saved.version,
        sample: sample_view(stored),
    })
}

async fn items_api(
    State(app): State<App>,
    auth: Auth,
    Path((slug, id, sample)): Path<(String, String, String)>,
    Body(updates): Body<Vec<ItemUpdate>>,
) -> ApiResult<Json<SampleSaved>> {
    let access = app.access(auth, &slug).await?;
    Ok(Json(
        save_items(&app, &access, &id, &sample, updates, None).await?,
    ))
}

/// The sentence a finding rolled from `s` starts with: how many of the sampled records did not
/// conform, and which (with the auditor's note on each).
pub(crate) fn roll_statement(s: &Sample) -> String {
    let failing: Vec<String> = s
        .items
        .iter()
        .filter(|i| i.result == Some(ItemResult::DoesNotConform))
        .map(
            |i| match i.note.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                Some(note) => format!("{} ({note})", i.id),
                None => i.id.clone(),
            },
        )
        .collect();
    let p = &s.population;
    let what = p.kind.replace('-', " ");
    let period = match (p.from, p.to) {
        (Some(f), Some(t)) => format!(" from {f} to {t}"),
        (Some(f), None) => format!(" from {f}"),
        (None, Some(t)) => format!(" up to {t}"),
        (None, None) => String::new(),
    };
    let filters = if p.filters.is_empty() {
        String::new()
    } else {
        format!(" where {}", p.filters.join(" and "))
    };
    format!(
        "{} of {} sampled {what}{period}{filters} did not conform: {}.",
        failing.len(),
        s.items.len(),
        failing.join(", ")
    )
}

/// A sample's failures, made a finding.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RollFinding {
    /// major, minor (when left out) or observation.
    #[serde(default)]
    pub grade: Option<FindingGrade>,
    /// The clause it is raised against.
    #[serde(default)]
    pub clause: Option<String>,
    /// The process (id) it concerns.
    #[serde(default)]
    pub process: Option<String>,
    /// What was found; left out, the sentence with the sample's figures ("3 of 25 sampled
    /// changes … did not conform: …").
    #[serde(default)]
    pub statement: Option<String>,
    /// The version of the audit record this is made against; the current one when left out.
    #[serde(default)]
    pub version: Option<i64>,
}

/// Rolls the items of a sample that do not conform into a new finding of the same audit, with
/// the figures in its statement, the failing items as its evidence and the sample linked both
/// ways. Refused when nothing failed, or the sample was rolled already.
pub(crate) async fn roll(
    app: &App,
    access: &Access,
    id: &str,
    sample_id: &str,
    r: RollFinding,
) -> ApiResult<FindingAdded> {
    access.require_write(audits_kind()?)?;
    let (_, body) = read_audit(app, access, id).await?;
    let audit = model_of(&body)?;
    let sample = audit
        .samples
        .iter()
        .find(|s| s.id == sample_id)
        .ok_or_else(|| {
            ApiError::NotFound(format!("audit {id} has no sample `{}`", short(sample_id)))
        })?;
    if let Some(f) = &sample.finding {
        return Err(conflict(format!(
            "sample {sample_id} was rolled into finding {f} already"
        )));
    }
    let failing: Vec<String> = sample
        .items
        .iter()
        .filter(|i| i.result == Some(ItemResult::DoesNotConform))
        .map(|i| i.id.clone())
        .collect();
    if failing.is_empty() {
        return Err(conflict(format!(
            "no item of sample {sample_id} is marked as not conforming: there is nothing to roll \
             into a finding"
        )));
    }
    let statement = r
        .statement
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| roll_statement(sample));
    add_finding(
        app,
        access,
        id,
        NewFinding {
            grade: r.grade.unwrap_or(FindingGrade::Minor),
            clause: r.clause,
            process: r.process,
            statement,
            evidence: failing,
            due: None,
            sample: Some(sample_id.to_owned()),
            version: r.version,
        },
    )
    .await
}

async fn roll_api(
    State(app): State<App>,
    auth: Auth,
    Path((slug, id, sample)): Path<(String, String, String)>,
    Body(r): Body<RollFinding>,
) -> ApiResult<(StatusCode, Json<FindingAdded>)> {
    let access = app.access(auth, &slug).await?;
    Ok((
        StatusCode::CREATED,
        Json(roll(&app, &access, &id, &sample, r).await?),
    ))
}

// ---------------------------------------------------------------------------------------------
// The audit report

/// The formats an audit report is written in by this server.
pub(crate) fn report_formats() -> Vec<&'static str> {
    let formats = vec!["html"];
    #[cfg(feature = "pdf")]
    let formats = {
        let mut f = formats;
        f.push("pdf");
        f
    };
    formats
}

/// Which format.
#[derive(Deserialize, JsonSchema)]
pub(crate) struct ReportQuery {
    /// html (when left out) or pdf.
    #[serde(default)]
    pub format: Option<String>,
}

/// The report of audit `id` as HTML (`pdf` false) or PDF, from the records as they are now.
pub(crate) async fn report_bytes(
    app: &App,
    access: &Access,
    id: &str,
    pdf: bool,
) -> ApiResult<Vec<u8>> {
    let sms = app.current_model(&access.org).await?;
    let id = id.to_owned();
    app.blocking(move || -> Result<Vec<u8>, ApiError> {
        let data = iso20k_report::audit_report::data(&sms, &id).map_err(ApiError::NotFound)?;
        if pdf {
            #[cfg(feature = "pdf")]
            {
                return iso20k_pdf::audit_report(&data)
                    .map_err(|e| ApiError::internal(anyhow::anyhow!(e)));
            }
            #[cfg(not(feature = "pdf"))]
            return Err(ApiError::NotFound(
                "this server was built without PDF support".to_owned(),
            ));
        }
        Ok(iso20k_report::audit_report::html(&data).into_bytes())
    })
    .await?
}

/// A name made safe for a download's file name.
pub(crate) fn file_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect()
}

async fn report_api(
    State(app): State<App>,
    auth: Auth,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let access = app.access(auth, &slug).await?;
    let format = q
        .format
        .as_deref()
        .filter(|f| !f.is_empty())
        .unwrap_or("html");
    if !report_formats().contains(&format) {
        return Err(ApiError::field(
            "format",
            format!(
                "no audit report format `{}`; there are {}",
                short(format),
                report_formats().join(", ")
            ),
        ));
    }
    let pdf = format == "pdf";
    let bytes = report_bytes(&app, &access, &id, pdf).await?;
    let mut response = Response::new(HttpBody::from(bytes));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if pdf {
            "application/pdf"
        } else {
            "text/html; charset=utf-8"
        }),
    );
    let name = format!("{}-audit-{}.{format}", access.org.slug, file_safe(&id));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// Two days compared

/// Which two days.
#[derive(Deserialize, JsonSchema)]
pub(crate) struct DiffQuery {
    /// The earlier day (YYYY-MM-DD); the first day of the programme's current cycle when left
    /// out.
    #[serde(default)]
    pub from: Option<String>,
    /// The later day (YYYY-MM-DD); the organisation's own day when left out.
    #[serde(default)]
    pub to: Option<String>,
    /// 2018 or 2011; the organisation's declared edition when left out.
    #[serde(default)]
    pub edition: Option<String>,
}

/// Readiness on two days compared, as `iso20k diff --format json` prints it.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DiffView {
    /// The earlier day.
    pub from: String,
    /// The later day.
    pub to: String,
    /// The edition judged against.
    pub edition: &'static str,
    /// The overall score on both days.
    pub overall: ThenNow,
    /// Findings (ids) only the later day has.
    pub new: Vec<String>,
    /// Findings only the earlier day has.
    pub resolved: Vec<String>,
    /// Findings both days have.
    pub recurring: Vec<String>,
    /// Each finding named above: its title, grade and check.
    pub findings: BTreeMap<String, DiffFinding>,
    /// Every clause with its score on both days.
    pub clauses: Vec<ClauseScores>,
}

/// A score on both days.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ThenNow {
    /// On the earlier day.
    pub then: f64,
    /// On the later day.
    pub now: f64,
}

/// A finding of the comparison.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DiffFinding {
    /// What it says.
    pub title: String,
    /// major, minor or observation.
    pub grade: &'static str,
    /// The check that raised it.
    pub check: String,
}

/// One clause's score on both days.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ClauseScores {
    /// The clause number.
    pub clause: &'static str,
    /// Its title.
    pub title: &'static str,
    /// The score on the earlier day.
    pub then: f64,
    /// The score on the later day.
    pub now: f64,
}

/// Readiness of the organisation's records as of two days, compared.
pub(crate) async fn diff(app: &App, access: &Access, q: &DiffQuery) -> ApiResult<DiffView> {
    let (edition, _) = edition_and_day(q.edition.as_deref(), None)?;
    let to = match optional_day("to", q.to.as_deref())? {
        Some(d) => d,
        None => app.default_day(&access.org).await?,
    };
    let sms = app.current_model(&access.org).await?;
    let from = match optional_day("from", q.from.as_deref())? {
        Some(d) => d,
        None => programme::cycle(&sms, to).start,
    };
    if from >= to {
        return Err(ApiError::field(
            "from",
            format!("the earlier day ({from}) must come before the later one ({to})"),
        ));
    }
    let edition: Edition = edition.unwrap_or_else(|| sms.edition());
    app.blocking(move || {
        let judge =
            |as_of| iso20k_core::audit::audit(&sms, iso20k_core::audit::Options { edition, as_of });
        let then = judge(from);
        let now = judge(to);
        let d = iso20k_core::diff::compare(&then, &now);
        let ids = |v: &[&iso20k_core::checks::Finding]| v.iter().map(|f| f.id.clone()).collect();
        let findings = d
            .new
            .iter()
            .chain(&d.recurring)
            .chain(&d.resolved)
            .map(|f| {
                (
                    f.id.clone(),
                    DiffFinding {
                        title: f.title.clone(),
                        grade: f.grade.as_str(),
                        check: f.check.to_string(),
                    },
                )
            })
            .collect();
        DiffView {
            from: d.from.to_string(),
            to: d.to.to_string(),
            edition: edition.as_str(),
            overall: ThenNow {
                then: d.overall.0,
                now: d.overall.1,
            },
            new: ids(&d.new),
            resolved: ids(&d.resolved),
            recurring: ids(&d.recurring),
            findings,
            clauses: d
                .clauses
                .iter()
                .map(|c| ClauseScores {
                    clause: c.clause,
                    title: c.title,
                    then: c.then,
                    now: c.now,
                })
                .collect(),
        }
    })
    .await
}

async fn diff_api(
    State(app): State<App>,
    auth: Auth,
    Path(slug): Path<String>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Json<DiffView>> {
    let access = app.access(auth, &slug).await?;
    Ok(Json(diff(&app, &access, &q).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carried_ids_move_their_year_or_get_a_cycle_suffix_and_stay_unique() {
        let none = HashSet::new();
        assert_eq!(carried_id("IA-2025-01", 3, &none), "IA-2028-01");
        assert_eq!(carried_id("2024Q3", 3, &none), "2027Q3");
        assert_eq!(carried_id("AUD-7", 3, &none), "AUD-7-C2");
        assert_eq!(carried_id("AUD-7-C2", 3, &none), "AUD-7-C3");
        assert_eq!(carried_id("IA-12345", 3, &none), "IA-12345-C2");
        let taken: HashSet<String> = ["IA-2028-01".to_owned(), "IA-2028-01-2".to_owned()].into();
        assert_eq!(carried_id("IA-2025-01", 3, &taken), "IA-2028-01-3");
        assert_eq!(carried_id("IA-2025-01", 0, &none), "IA-2025-01-C2");
    }

    #[test]
    fn the_roll_sentence_gives_the_figures_and_the_failing_items() {
        use iso20k_core::model::SampleItem;
        let item = |id: &str, r: Option<ItemResult>, note: Option<&str>| SampleItem {
            id: id.into(),
            result: r,
            note: note.map(Into::into),
        };
        let s = Sample {
            id: "S1".into(),
            population: PopulationDef {
                kind: "changes".into(),
                from: Some(jiff::civil::date(2026, 1, 1)),
                to: Some(jiff::civil::date(2026, 6, 30)),
                filters: vec!["type=emergency".into()],
            },
            items: vec![
                item("CHG1", Some(ItemResult::DoesNotConform), Some("no review")),
                item("CHG2", Some(ItemResult::Conforms), None),
                item("CHG3", Some(ItemResult::DoesNotConform), None),
            ],
            ..Sample::default()
        };
        assert_eq!(
            roll_statement(&s),
            "2 of 3 sampled changes from 2026-01-01 to 2026-06-30 where type=emergency did not \
             conform: CHG1 (no review), CHG3."
        );
        assert_eq!(tally(&s.items).words, "3 tested: 1 conform, 2 do not");
    }
}
