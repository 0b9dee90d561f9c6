//! The nonconformity loop on the server: the closure gate every write of a nonconformity goes
//! through, raising one from its source in one step, closing it, and the board.
//!
//! The rules are the core's (`iso20k_core::nc`); this module applies them to writes:
//!
//! - [`gate`] runs on every create and replace of a nonconformity through the API and the
//!   pages (not on a bulk import: historical records are what they are, and the checks judge
//!   them). A write that closes one (`closed_on` from absent to present) is refused while
//!   `nc::blockers` has anything to say; a write that records an effectiveness check finding
//!   the actions did not work moves that check into `earlier_checks`, reopens the
//!   nonconformity, and must add a new corrective action in the same change. Only auditors and
//!   admins may touch the check and the closure: whoever else writes nonconformities (a
//!   manager) records the correction, root cause and actions.
//! - [`raise`] creates a nonconformity from an audit finding, a complaint, an incident or a
//!   management review, and for a finding writes the new id into the finding in the same
//!   transaction.
//! - [`close`] closes one, for the API, the page and `iso20k nonconformity close`.

use std::collections::HashSet;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use iso20k_bundle::files::NonconformityEntry;
use iso20k_bundle::records::{Entry, Kind};
use iso20k_core::Date;
use iso20k_core::model::{NcSource, Nonconformity, Sms};
use iso20k_core::nc::{self as core_nc, Response as Deadlines, Step};
use iso20k_store::{Org, Record, Store, StoreError, Write};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::App;
use crate::api::{check_record, encode_segment, kind_named, saved};
use crate::auth::{Access, Auth, Role};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path, Query, raw};

/// The kind of record a nonconformity is.
pub(crate) const KIND: &str = "nonconformities";

/// The fields only a verifier (an auditor, an admin) may change.
const VERIFIED: [&str; 3] = ["effectiveness", "earlier_checks", "closed_on"];

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/orgs/{slug}/nonconformities/board", get(board_api))
        .route("/api/v1/orgs/{slug}/nonconformities/raise", post(raise_api))
        .route(
            "/api/v1/orgs/{slug}/nonconformities/{id}/close",
            post(close_api),
        )
}

pub(crate) fn kind() -> &'static Kind {
    iso20k_bundle::records::kind(KIND).expect("nonconformities are a kind of record")
}

// ---------------------------------------------------------------------------------------------
// Who does what

/// Whether the caller may record a correction, a root cause and corrective actions, and mark
/// actions implemented: whoever writes nonconformities (admins, managers, auditors).
pub(crate) fn may_respond(access: &Access) -> bool {
    access.can_write(kind())
}

/// Whether the caller may record the effectiveness check and close: the auditor verifies (and
/// admins may do everything).
pub(crate) fn may_verify(access: &Access) -> bool {
    may_respond(access) && matches!(access.role, Role::Admin | Role::Auditor)
}

/// Who is writing, as the gate sees it.
#[derive(Clone, Copy)]
pub(crate) enum Writer<'a> {
    /// May change everything, the check and the closure included: an auditor, an admin, the
    /// command line.
    Verifier,
    /// May change the rest.
    Responder(&'a Access),
}

impl<'a> Writer<'a> {
    /// The writer `access` is.
    pub(crate) fn of(access: &'a Access) -> Writer<'a> {
        if may_verify(access) {
            Writer::Verifier
        } else {
            Writer::Responder(access)
        }
    }
}

fn not_a_verifier(access: &Access, what: &str) -> ApiError {
    ApiError::Forbidden(format!(
        "your role {} in `{}` does not allow you to {what}: the auditor verifies that the \
         corrective actions worked and closes the nonconformity (admins may too)",
        if access.expires_at.is_some() {
            "(external, read-only)"
        } else {
            access.role.as_str()
        },
        access.org.slug
    ))
}

/// Refuses unless the caller may record the correction, root cause and actions.
pub(crate) fn require_respond(access: &Access) -> ApiResult<()> {
    access.require_write(kind())
}

/// Refuses unless the caller may record the effectiveness check and close.
pub(crate) fn require_verify(access: &Access, what: &str) -> ApiResult<()> {
    require_respond(access)?;
    if may_verify(access) {
        Ok(())
    } else {
        Err(not_a_verifier(access, what))
    }
}

// ---------------------------------------------------------------------------------------------
// The gate

/// Why a write of a nonconformity is refused, with the field it is about so that a form can
/// say it beside that field.
#[derive(Debug)]
pub(crate) struct Refusal {
    /// The record's field (`closed_on`, `actions`, `effectiveness`).
    pub field: &'static str,
    /// The answer: 403 for a role that may not, 409 for a loop that does not allow it yet.
    pub error: ApiError,
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        r.error
    }
}

fn conflict(field: &'static str, message: String) -> Refusal {
    Refusal {
        field,
        error: ApiError::Conflict {
            message,
            current_version: None,
        },
    }
}

fn internal(e: impl Into<anyhow::Error>) -> Refusal {
    Refusal {
        field: "",
        error: ApiError::internal(e),
    }
}

/// The core's nonconformity from a record's JSON.
pub(crate) fn model_of(body: &Value) -> ApiResult<Nonconformity> {
    let entry: NonconformityEntry =
        serde_json::from_value(body.clone()).map_err(ApiError::internal)?;
    Ok(entry.into())
}

fn action_ids(record: Option<&Value>) -> HashSet<String> {
    record
        .and_then(|r| r["actions"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|a| a["id"].as_str().map(str::to_owned))
        .collect()
}

/// Applies the loop's rules to a write of a nonconformity: `before` is the stored body (`None`
/// for a create), `entry` the new record as checked. Returns what to store: the entry itself,
/// or with an ineffective check moved into `earlier_checks` and the closure undone.
pub(crate) fn gate(
    before: Option<&str>,
    entry: Entry,
    writer: Writer<'_>,
) -> Result<Entry, Refusal> {
    let mut after: Value = serde_json::from_str(&entry.body).map_err(internal)?;
    let before: Option<Value> = before
        .map(serde_json::from_str)
        .transpose()
        .map_err(internal)?;
    let was = |field: &str| before.as_ref().and_then(|b| b.get(field)).cloned();
    if let Writer::Responder(access) = writer {
        for field in VERIFIED {
            if was(field).as_ref() != after.get(field) {
                return Err(Refusal {
                    field,
                    error: not_a_verifier(
                        access,
                        "record the effectiveness check of a nonconformity or close it",
                    ),
                });
            }
        }
    }
    let id = entry.key.clone();
    let observation = after["grade"] == "observation";
    let mut moved = false;
    let check = after.get("effectiveness").cloned();
    let ineffective = check
        .as_ref()
        .is_some_and(|c| c["effective"] == false && c["checked_on"].is_string());
    if ineffective && !observation {
        let known = action_ids(before.as_ref());
        let added = action_ids(Some(&after)).iter().any(|a| !known.contains(a));
        if added {
            let record = after.as_object_mut().ok_or_else(|| {
                internal(anyhow::anyhow!("a nonconformity that is not an object"))
            })?;
            let check = record.remove("effectiveness").unwrap_or(Value::Null);
            let earlier = record
                .entry("earlier_checks")
                .or_insert_with(|| Value::Array(Vec::new()));
            match earlier.as_array_mut() {
                Some(list) => list.push(check),
                None => *earlier = Value::Array(vec![check]),
            }
            record.remove("closed_on");
            moved = true;
        } else if was("effectiveness") != check {
            return Err(conflict(
                "actions",
                format!(
                    "{id}: the effectiveness check found that the corrective actions did not \
                     work, so the same change must add a new corrective action (one with a new \
                     id) to remove the cause; the nonconformity stays open until a later check \
                     finds the actions worked"
                ),
            ));
        }
    }
    let closing = after.get("closed_on").is_some() && was("closed_on").is_none();
    if closing {
        let nc = model_of(&after).map_err(|error| Refusal { field: "", error })?;
        if let Some(message) = core_nc::refusal(&nc) {
            return Err(conflict("closed_on", message));
        }
        if let Some(on) = nc.closed_on {
            if let Some(raised) = nc.raised_on.filter(|r| on < *r) {
                return Err(conflict(
                    "closed_on",
                    format!("{id} cannot be closed on {on}: it was raised later, on {raised}"),
                ));
            }
            let checked = nc
                .effectiveness
                .as_ref()
                .and_then(|e| e.found_effective())
                .filter(|c| !observation && on < *c);
            if let Some(checked) = checked {
                return Err(conflict(
                    "closed_on",
                    format!(
                        "{id} cannot be closed on {on}, before its effectiveness check on {checked}"
                    ),
                ));
            }
        }
    }
    if !moved {
        return Ok(entry);
    }
    kind().parse(&after.to_string()).map_err(|fields| Refusal {
        field: "",
        error: ApiError::fields(fields),
    })
}

/// The gate for a write through the generic record routes: nothing for other kinds.
pub(crate) fn gate_record(
    kind: &Kind,
    access: &Access,
    before: Option<&str>,
    entry: Entry,
) -> Result<Entry, Refusal> {
    if kind.name == KIND {
        gate(before, entry, Writer::of(access))
    } else {
        Ok(entry)
    }
}

// ---------------------------------------------------------------------------------------------
// Closing

/// Closes nonconformity `id` of `org` on `on`, if the loop allows it: 404 for an unknown id,
/// 409 with the reasons (in words) otherwise, or when it is closed already or changed since
/// `version`. Whoever calls it has decided the caller may close (the API and pages: auditors
/// and admins; the command line: whoever runs it).
pub async fn close(
    store: &dyn Store,
    org: &Org,
    actor: &str,
    id: &str,
    on: Date,
    version: Option<i64>,
) -> ApiResult<Record> {
    let record = store
        .record(org.id, KIND, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no nonconformity `{id}`")))?;
    if version.is_some_and(|v| v != record.version) {
        return Err(StoreError::Stale {
            current: record.version,
        }
        .into());
    }
    let mut value: Value = serde_json::from_str(&record.body).map_err(ApiError::internal)?;
    if let Some(closed) = value["closed_on"].as_str() {
        return Err(ApiError::Conflict {
            message: format!("{id} is closed already, since {closed}"),
            current_version: None,
        });
    }
    value["closed_on"] = json!(on.to_string());
    let entry = kind().parse(&value.to_string()).map_err(ApiError::fields)?;
    let entry = gate(Some(&record.body), entry, Writer::Verifier)?;
    let write = Write {
        kind: KIND.to_owned(),
        key: record.key.clone(),
        body: entry.body,
    };
    Ok(store.update(org.id, actor, &write, record.version).await?)
}

/// When to close, for `POST …/close`: today when left out.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct CloseBody {
    /// The day it is closed (YYYY-MM-DD); today when left out.
    #[serde(default)]
    #[schemars(regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    on: Option<String>,
}

/// A day as a form or body gives it: exactly `YYYY-MM-DD`, between 1990 and 2200.
pub(crate) fn day(field: &str, text: &str) -> ApiResult<Date> {
    let text = text.trim();
    let bad = || {
        ApiError::field(
            field,
            format!("“{text}” is not a date: write it as year-month-day, e.g. 2026-12-31"),
        )
    };
    if text.len() != 10 {
        return Err(bad());
    }
    let date: Date = text.parse().map_err(|_| bad())?;
    iso20k_core::check_as_of(date).map_err(|m| ApiError::field(field, m))
}

async fn close_api(
    State(app): State<App>,
    auth: Auth,
    Path((slug, id)): Path<(String, String)>,
    request: axum::extract::Request,
) -> ApiResult<Json<crate::api::RecordItem>> {
    let access = app.access(auth, &slug).await?;
    require_verify(&access, "close a nonconformity")?;
    let bytes = raw(request, &()).await?;
    let body: CloseBody = if bytes.iter().all(u8::is_ascii_whitespace) {
        CloseBody::default()
    } else {
        use axum::extract::FromRequest as _;
        let request = axum::extract::Request::new(axum::body::Body::from(bytes));
        Body::<CloseBody>::from_request(request, &()).await?.0
    };
    let on = match body.on.as_deref() {
        Some(text) => day("on", text)?,
        None => crate::readiness::today(),
    };
    let record = close(
        app.store(),
        &access.org,
        &access.auth.actor(),
        &id,
        on,
        None,
    )
    .await?;
    app.changed(&access.org);
    Ok(Json(saved(&app, &access.org, kind(), record).await?))
}

// ---------------------------------------------------------------------------------------------
// Raising

/// Where a nonconformity is raised from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RaiseSource {
    /// A finding of an internal audit (its id).
    InternalAudit,
    /// A finding of an outside audit: certification body or customer (its id).
    ExternalAudit,
    /// A complaint of customers.yaml (its id).
    Complaint,
    /// An incident (its ticket number).
    Incident,
    /// A management review (its id).
    ManagementReview,
}

impl RaiseSource {
    pub(crate) fn parse(s: &str) -> Option<RaiseSource> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }

    fn is_audit(self) -> bool {
        matches!(
            self,
            RaiseSource::InternalAudit | RaiseSource::ExternalAudit
        )
    }
}

/// A grade a raised nonconformity may be given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RaiseGrade {
    /// A major nonconformity.
    Major,
    /// A minor nonconformity.
    Minor,
}

impl RaiseGrade {
    fn as_str(self) -> &'static str {
        match self {
            RaiseGrade::Major => "major",
            RaiseGrade::Minor => "minor",
        }
    }
}

/// What to raise a nonconformity from.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Raise {
    /// The kind of record it comes from.
    pub source: RaiseSource,
    /// That record's id: the audit finding's, the complaint's, the incident's ticket number,
    /// the management review's.
    pub source_ref: String,
    /// For a complaint, an incident or a review: major or minor (ungraded when left out). An
    /// audit finding's nonconformity takes the finding's grade.
    #[serde(default)]
    pub grade: Option<RaiseGrade>,
    /// What is wrong, when not the source's own words.
    #[serde(default)]
    pub description: Option<String>,
}

/// Every record of a kind, by key.
async fn all(store: &dyn Store, org: &Org, kind: &str) -> ApiResult<Vec<Record>> {
    let mut out: Vec<Record> = Vec::new();
    loop {
        let after = out.last().map(|r| r.key.clone());
        let page = store.records(org.id, kind, after.as_deref(), 1000).await?;
        let full = page.len() == 1000;
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}

fn body_of(record: &Record) -> ApiResult<Value> {
    serde_json::from_str(&record.body).map_err(ApiError::internal)
}

/// The first free id `NC-YEAR-NN` for the year, past every one taken.
fn next_id(taken: &HashSet<String>, year: i16) -> String {
    let prefix = format!("NC-{year}-");
    let last = taken
        .iter()
        .filter_map(|k| k.strip_prefix(&prefix)?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    (last + 1..)
        .map(|n| format!("{prefix}{n:02}"))
        .find(|id| !taken.contains(id))
        .expect("some number is free")
}

/// The audit holding finding `id`, and the finding's place in it.
async fn finding(
    store: &dyn Store,
    org: &Org,
    id: &str,
) -> ApiResult<Option<(Record, Value, usize)>> {
    for audit in all(store, org, "audits").await? {
        let body = body_of(&audit)?;
        let at = body["findings"]
            .as_array()
            .and_then(|fs| fs.iter().position(|f| f["id"] == id));
        if let Some(at) = at {
            return Ok(Some((audit, body, at)));
        }
    }
    Ok(None)
}

fn text_of(v: &Value) -> Option<String> {
    v.as_str()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
}

/// Raises a nonconformity from its source: the new record, created with the next free id.
/// For an audit finding the finding gets the new id in the same transaction.
pub(crate) async fn raise(app: &App, access: &Access, ask: &Raise) -> ApiResult<Record> {
    require_respond(access)?;
    let store = app.store();
    let org = &access.org;
    let source_ref = ask.source_ref.trim();
    if source_ref.is_empty() {
        return Err(ApiError::field("source_ref", "a value is required"));
    }
    let nc_kind = kind();
    let mut nc = json!({ "source_ref": source_ref });
    let mut audit: Option<(Record, Value, usize)> = None;
    let from_audit = ask.source.is_audit();
    let mut source = ask.source;
    match ask.source {
        RaiseSource::InternalAudit | RaiseSource::ExternalAudit => {
            access.require_write(kind_named("audits")?)?;
            let Some((record, body, at)) = finding(store, org, source_ref).await? else {
                return Err(ApiError::NotFound(format!(
                    "no audit finding `{source_ref}`"
                )));
            };
            let f = &body["findings"][at];
            if f["grade"] == "observation" {
                return Err(ApiError::field(
                    "source_ref",
                    format!(
                        "{source_ref} is an observation, and observations are not \
                         nonconformities: none is raised for it"
                    ),
                ));
            }
            let raised = all(store, org, KIND).await?.into_iter().find(|r| {
                body_of(r).is_ok_and(|n| {
                    n["source_ref"] == source_ref
                        && matches!(
                            n["source"].as_str(),
                            Some("internal-audit" | "external-audit")
                        )
                })
            });
            if let Some(existing) = f["nonconformity"]
                .as_str()
                .or(raised.as_ref().map(|r| r.key.as_str()))
            {
                return Err(ApiError::Conflict {
                    message: format!(
                        "audit finding {source_ref} already has nonconformity {existing}"
                    ),
                    current_version: None,
                });
            }
            if let Some(g) = ask.grade.filter(|g| f["grade"] != g.as_str()) {
                return Err(ApiError::field(
                    "grade",
                    format!(
                        "{source_ref} is graded {}: its nonconformity takes the finding's grade, \
                         not {}",
                        f["grade"].as_str().unwrap_or("differently"),
                        g.as_str()
                    ),
                ));
            }
            // The audit's own kind says whose it was.
            source = match body["kind"].as_str() {
                None | Some("internal") => RaiseSource::InternalAudit,
                Some(_) => RaiseSource::ExternalAudit,
            };
            nc["description"] = json!(text_of(&f["statement"]).unwrap_or_default());
            nc["grade"] = f["grade"].clone();
            if let Some(clause) = f["clause"].as_str() {
                nc["clauses"] = json!([clause]);
            }
            if let Some(process) = f["process"].as_str() {
                nc["process"] = json!(process);
            }
            audit = Some((record, body, at));
        }
        RaiseSource::Complaint => {
            let record = store
                .record(org.id, "complaints", source_ref)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("no complaint `{source_ref}`")))?;
            let c = body_of(&record)?;
            nc["description"] = json!(text_of(&c["summary"]).unwrap_or_default());
        }
        RaiseSource::Incident => {
            let record = store
                .record(org.id, "incidents", source_ref)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("no incident `{source_ref}`")))?;
            let i = body_of(&record)?;
            let mut about: Vec<String> = Vec::new();
            if let Some(p) = i["priority"].as_u64() {
                about.push(format!("priority {p}"));
            }
            if i["major"] == true {
                about.push("a major incident".to_owned());
            }
            if let Some(c) = text_of(&i["category"]) {
                about.push(c);
            }
            if let Some(s) = text_of(&i["service"]) {
                about.push(format!("service {s}"));
            }
            let mut text = format!("Incident {source_ref}");
            if !about.is_empty() {
                text.push_str(&format!(" ({})", about.join(", ")));
            }
            if let Some(r) = text_of(&i["resolution"]).or_else(|| text_of(&i["breach_review"])) {
                text.push_str(": ");
                text.push_str(&r);
            }
            nc["description"] = json!(text);
        }
        RaiseSource::ManagementReview => {
            let record = store
                .record(org.id, "management-reviews", source_ref)
                .await?
                .ok_or_else(|| {
                    ApiError::NotFound(format!("no management review `{source_ref}`"))
                })?;
            let r = body_of(&record)?;
            let when = r["held_on"]
                .as_str()
                .or(r["planned_on"].as_str())
                .map(|d| format!(" of {d}"))
                .unwrap_or_default();
            nc["description"] = json!(format!("Raised by management review {source_ref}{when}"));
        }
    }
    if !from_audit && let Some(g) = ask.grade {
        nc["grade"] = json!(g.as_str());
    }
    if let Some(d) = ask
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        nc["description"] = json!(d);
    }
    if nc["description"].as_str().is_none_or(str::is_empty) {
        nc["description"] = json!(format!("Raised from {source_ref}"));
    }
    nc["source"] = serde_json::to_value(source).map_err(ApiError::internal)?;
    let today = crate::readiness::today();
    nc["raised_on"] = json!(today.to_string());
    // Two people raising at once may pick the same id: the second tries the next.
    for _ in 0..5 {
        let mut taken: HashSet<String> = HashSet::new();
        for r in all(store, org, KIND).await? {
            taken.extend(action_ids(Some(&body_of(&r)?)));
            taken.insert(r.key);
        }
        let id = next_id(&taken, today.year());
        nc["id"] = json!(id);
        let entry = check_record(app, org, nc_kind, &nc).await?;
        let mut writes = vec![(
            Write {
                kind: KIND.to_owned(),
                key: entry.key.clone(),
                body: entry.body,
            },
            None,
        )];
        if let Some((record, body, at)) = &audit {
            let mut body = body.clone();
            body["findings"][*at]["nonconformity"] = json!(id);
            let audits = kind_named("audits")?;
            let entry = check_record(app, org, audits, &body).await?;
            writes.push((
                Write {
                    kind: audits.name.to_owned(),
                    key: record.key.clone(),
                    body: entry.body,
                },
                Some(record.version),
            ));
        }
        match store.write_all(org.id, &access.auth.actor(), &writes).await {
            Ok(mut records) => return Ok(records.swap_remove(0)),
            Err(StoreError::Conflict(_)) => continue,
            Err(StoreError::Stale { current }) => {
                return Err(ApiError::Conflict {
                    message: format!(
                        "the audit holding {source_ref} changed while the nonconformity was being \
                         raised: nothing was saved; try again"
                    ),
                    current_version: Some(current),
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict {
        message: "others were raising nonconformities at the same moment: try again".to_owned(),
        current_version: None,
    })
}

async fn raise_api(
    State(app): State<App>,
    auth: Auth,
    Path(slug): Path<String>,
    Body(ask): Body<Raise>,
) -> ApiResult<Response> {
    let access = app.access(auth, &slug).await?;
    let record = raise(&app, &access, &ask).await?;
    app.changed(&access.org);
    let location = format!(
        "/api/v1/orgs/{}/records/{KIND}/{}",
        access.org.slug,
        encode_segment(&record.key)
    );
    let mut response = (
        StatusCode::CREATED,
        Json(saved(&app, &access.org, kind(), record).await?),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// The board

/// A grade to filter the board by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum GradeFilter {
    /// Major nonconformities.
    Major,
    /// Minor nonconformities.
    Minor,
    /// Observations.
    Observation,
}

impl GradeFilter {
    pub(crate) const ALL: [GradeFilter; 3] = [
        GradeFilter::Major,
        GradeFilter::Minor,
        GradeFilter::Observation,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            GradeFilter::Major => "major",
            GradeFilter::Minor => "minor",
            GradeFilter::Observation => "observation",
        }
    }
}

/// Which cards.
#[derive(Deserialize, JsonSchema, Default)]
pub(crate) struct BoardQuery {
    /// Only this grade.
    #[serde(default)]
    grade: Option<GradeFilter>,
    /// Only those this person (an id of the people register) answers.
    #[serde(default)]
    owner: Option<String>,
    /// Only those whose response is late (`true`), or only the others (`false`).
    #[serde(default)]
    overdue: Option<bool>,
    /// Judge lateness as of this day (YYYY-MM-DD); the organisation's day when left out.
    #[serde(default)]
    as_of: Option<String>,
}

/// What the board shows.
#[derive(Clone, Debug, Default)]
pub(crate) struct Filter {
    pub grade: Option<GradeFilter>,
    pub owner: Option<String>,
    pub overdue: Option<bool>,
}

/// One nonconformity on the board.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub(crate) struct Card {
    /// Its id.
    pub id: String,
    /// What is wrong.
    pub description: String,
    /// Where it is in the loop: correction, root-cause, actions, implementation, verification,
    /// ready-to-close or closed.
    pub step: &'static str,
    /// That step in words.
    pub step_label: &'static str,
    /// major, minor or observation; none when ungraded.
    pub grade: Option<&'static str>,
    /// When its response is due (YYYY-MM-DD); none for an observation or an undated one.
    pub due: Option<String>,
    /// Whether it is open and its response is late on the day judged.
    pub overdue: bool,
    /// How many days late, when overdue.
    pub overdue_days: Option<i64>,
    /// Whether it has the response its grade asks for (a major corrected, a minor planned).
    pub responded: bool,
    /// Who answers it (a person id): its own owner, else its process's.
    pub owner: Option<String>,
    /// That person's name, from the people register.
    pub owner_name: Option<String>,
    /// Where it came from: internal-audit, external-audit, management-review, complaint,
    /// incident, monitoring or other.
    pub source: &'static str,
    /// The id of the record it came from.
    pub source_ref: Option<String>,
    /// The page of that record, when it is one of the organisation's records.
    pub source_link: Option<String>,
    /// When it was raised.
    pub raised_on: Option<String>,
    /// When it was closed.
    pub closed_on: Option<String>,
    /// Its page.
    pub link: String,
}

/// The board: every card, in the board's order.
#[derive(Serialize, JsonSchema)]
pub(crate) struct Board {
    /// The day lateness is judged on.
    pub as_of: String,
    /// The cards, open ones first, overdue before the rest, then by due date; closed last.
    pub cards: Vec<Card>,
}

pub(crate) fn source_key(source: NcSource) -> &'static str {
    match source {
        NcSource::InternalAudit => "internal-audit",
        NcSource::ExternalAudit => "external-audit",
        NcSource::ManagementReview => "management-review",
        NcSource::Complaint => "complaint",
        NcSource::Incident => "incident",
        NcSource::Monitoring => "monitoring",
        NcSource::Other => "other",
    }
}

pub(crate) fn source_label(source: NcSource) -> &'static str {
    match source {
        NcSource::InternalAudit => "Internal audit",
        NcSource::ExternalAudit => "Outside audit",
        NcSource::ManagementReview => "Management review",
        NcSource::Complaint => "Complaint",
        NcSource::Incident => "Incident",
        NcSource::Monitoring => "Monitoring",
        NcSource::Other => "Other",
    }
}

/// The page of the record a nonconformity came from, when the organisation has it.
pub(crate) fn source_link(sms: &Sms, slug: &str, nc: &Nonconformity) -> Option<String> {
    let r = nc.source_ref.as_deref()?;
    let record =
        |kind: &str, key: &str| format!("/orgs/{slug}/records/{kind}/{}", encode_segment(key));
    match nc.source {
        NcSource::InternalAudit | NcSource::ExternalAudit => sms
            .audits
            .iter()
            .find(|a| a.findings.iter().any(|f| f.id == r))
            .map(|a| format!("{}#finding-{}", record("audits", &a.id), encode_segment(r))),
        NcSource::Complaint => sms
            .complaints
            .iter()
            .any(|c| c.id == r)
            .then(|| record("complaints", r)),
        NcSource::ManagementReview => sms
            .management_reviews
            .iter()
            .any(|m| m.id == r)
            .then(|| record("management-reviews", r)),
        NcSource::Incident => {
            if sms.tickets.incidents.iter().any(|i| i.id == r) {
                Some(record("incidents", r))
            } else if sms.tickets.problems.iter().any(|p| p.id == r) {
                Some(record("problems", r))
            } else {
                None
            }
        }
        NcSource::Monitoring | NcSource::Other => None,
    }
}

/// The cards of the board, filtered.
pub(crate) fn cards(sms: &Sms, slug: &str, as_of: Date, filter: &Filter) -> Vec<Card> {
    core_nc::board(sms, as_of)
        .into_iter()
        .filter(|c| {
            filter
                .grade
                .is_none_or(|g| c.nc.grade.map(|x| x.as_str()) == Some(g.as_str()))
                && filter.owner.as_deref().is_none_or(|o| c.owner == Some(o))
                && filter.overdue.is_none_or(|o| c.overdue == o)
        })
        .map(|c| Card {
            id: c.nc.id.clone(),
            description: c.nc.description.clone(),
            step: c.step.key(),
            step_label: c.step.label(),
            grade: c.nc.grade.map(|g| g.as_str()),
            due: c.due.map(|d| d.to_string()),
            overdue: c.overdue,
            overdue_days: c
                .due
                .filter(|_| c.overdue)
                .map(|d| i64::from((as_of - d).get_days())),
            responded: core_nc::responded(c.nc),
            owner: c.owner.map(str::to_owned),
            owner_name: c.owner.and_then(|o| sms.person(o)).map(|p| p.name.clone()),
            source: source_key(c.nc.source),
            source_ref: c.nc.source_ref.clone(),
            source_link: source_link(sms, slug, c.nc),
            raised_on: c.nc.raised_on.map(|d| d.to_string()),
            closed_on: c.nc.closed_on.map(|d| d.to_string()),
            link: format!("/orgs/{slug}/nonconformities/{}", encode_segment(&c.nc.id)),
        })
        .collect()
}

/// The day the board judges lateness on: the one asked for, else the organisation's.
pub(crate) async fn board_day(app: &App, org: &Org, asked: Option<&str>) -> ApiResult<Date> {
    let (_, asked) = crate::api::edition_and_day(None, asked)?;
    app.day_or_default(org, asked).await
}

async fn board_api(
    State(app): State<App>,
    auth: Auth,
    Path(slug): Path<String>,
    Query(q): Query<BoardQuery>,
) -> ApiResult<Json<Board>> {
    let access = app.access(auth, &slug).await?;
    let as_of = board_day(&app, &access.org, q.as_of.as_deref()).await?;
    let owner = q
        .owner
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty());
    let sms = app.current_model(&access.org).await?;
    let filter = Filter {
        grade: q.grade,
        owner,
        overdue: q.overdue,
    };
    Ok(Json(Board {
        as_of: as_of.to_string(),
        cards: cards(&sms, &access.org.slug, as_of, &filter),
    }))
}

/// The steps of the loop, as board columns: key and words.
pub(crate) fn steps() -> Vec<(&'static str, &'static str)> {
    Step::ALL.iter().map(|s| (s.key(), s.label())).collect()
}

/// When a nonconformity's response is due, and how long the body gives by its grade.
pub(crate) fn response(sms: &Sms, nc: &Nonconformity) -> (Option<Date>, String) {
    let deadlines = Deadlines::of(&sms.organisation);
    let due = deadlines.due(nc);
    let body = sms
        .organisation
        .certification_body
        .as_deref()
        .map(|b| format!(", as {b} sets it"))
        .unwrap_or_default();
    let rule = match nc.grade {
        Some(iso20k_core::kb::Grade::Observation) => "An observation needs no response.".to_owned(),
        Some(iso20k_core::kb::Grade::Major) => format!(
            "A major must be corrected, with every corrective action implemented, within {} of \
             being raised{body}.",
            deadlines.major
        ),
        _ => format!(
            "A minor needs a plan (root cause, and actions with owners and dates) within {} of \
             being raised{body}.",
            deadlines.minor
        ),
    };
    let rule = if nc.due.is_some() && !core_nc::is_observation(nc) {
        format!("{rule} This one has its own date.")
    } else {
        rule
    };
    (due, rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_last_of_the_year() {
        let taken: HashSet<String> = ["NC-2026-01", "NC-2026-07", "NC-2025-09", "NC-2026-07-CA1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(next_id(&taken, 2026), "NC-2026-08");
        assert_eq!(next_id(&taken, 2027), "NC-2027-01");
        assert_eq!(next_id(&HashSet::new(), 2026), "NC-2026-01");
    }

    fn entry(v: Value) -> Entry {
        kind().parse(&v.to_string()).unwrap()
    }

    #[test]
    fn an_ineffective_check_goes_into_history_and_needs_a_new_action() {
        let before = json!({
            "id": "NC-1", "description": "x", "grade": "minor", "root_cause": "why",
            "actions": [{ "id": "A1", "description": "a", "implemented_on": "2026-02-01" }],
            "closed_on": "2026-03-01",
            "effectiveness": { "checked_on": "2026-03-01", "effective": true },
        });
        let mut after = before.clone();
        after["effectiveness"] = json!({ "checked_on": "2026-05-01", "effective": false });
        let refused = gate(
            Some(&before.to_string()),
            entry(after.clone()),
            Writer::Verifier,
        )
        .unwrap_err();
        assert_eq!(refused.field, "actions");
        after["actions"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "id": "A2", "description": "b" }));
        let kept = gate(Some(&before.to_string()), entry(after), Writer::Verifier).unwrap();
        let kept: Value = serde_json::from_str(&kept.body).unwrap();
        assert!(kept.get("effectiveness").is_none());
        assert!(kept.get("closed_on").is_none(), "reopened");
        assert_eq!(kept["earlier_checks"][0]["checked_on"], "2026-05-01");
    }

    #[test]
    fn closing_waits_for_the_loop_but_an_observation_does_not() {
        let open = json!({ "id": "NC-1", "description": "x", "grade": "minor" });
        let mut closed = open.clone();
        closed["closed_on"] = json!("2026-03-01");
        let refused = gate(
            Some(&open.to_string()),
            entry(closed.clone()),
            Writer::Verifier,
        )
        .unwrap_err();
        assert_eq!(refused.field, "closed_on");
        assert!(
            refused
                .error
                .to_string()
                .starts_with("NC-1 cannot be closed yet: no root cause is recorded")
        );
        closed["grade"] = json!("observation");
        assert!(gate(None, entry(closed), Writer::Verifier).is_ok());
    }
}
