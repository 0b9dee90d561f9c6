//! The nonconformity pages: the board (a column per step of the loop, overdue first) and one
//! page per nonconformity walking the loop, each step a small form of its own that posts back
//! and returns to the page, through the same gate as the API (`crate::nc`). Also the panel the
//! record pages of audits, complaints, incidents and management reviews show: what was raised
//! from them, and a button to raise a nonconformity.

use super::records::{pairs, take};
use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use iso20k_bundle::records::Kind;
use iso20k_core::nc as core_nc;
use iso20k_store::{Record, StoreError, Write};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Browser, Failure, PageResult, form, render};
use crate::App;
use crate::api::{check_record, encode_segment};
use crate::auth::Access;
use crate::error::ApiError;
use crate::nc::{self, GradeFilter, KIND};

pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/orgs/{slug}/nonconformities", get(board))
        .route("/orgs/{slug}/nonconformities/raise", post(raise))
        .route("/orgs/{slug}/nonconformities/{id}", get(show))
        .route(
            "/orgs/{slug}/nonconformities/{id}/correction",
            post(correction),
        )
        .route(
            "/orgs/{slug}/nonconformities/{id}/root-cause",
            post(root_cause),
        )
        .route(
            "/orgs/{slug}/nonconformities/{id}/actions",
            post(add_action),
        )
        .route(
            "/orgs/{slug}/nonconformities/{id}/actions/{action}/implemented",
            post(implemented),
        )
        .route(
            "/orgs/{slug}/nonconformities/{id}/effectiveness",
            post(effectiveness),
        )
        .route("/orgs/{slug}/nonconformities/{id}/close", post(close))
}

// ---------------------------------------------------------------------------------------------
// The board

#[derive(Deserialize, Default)]
pub(crate) struct BoardForm {
    grade: Option<String>,
    owner: Option<String>,
    overdue: Option<String>,
}

pub(crate) async fn board(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    Query(q): Query<BoardForm>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let grade = match q.grade.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
        None => None,
        Some(g) => Some(
            GradeFilter::ALL
                .into_iter()
                .find(|x| x.as_str() == g)
                .ok_or_else(|| {
                    ApiError::field(
                        "grade",
                        format!("`{g}` is not one of major, minor, observation"),
                    )
                })?,
        ),
    };
    let owner = q
        .owner
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned);
    if owner.as_ref().is_some_and(|o| o.len() > 200) {
        return Err(Failure(ApiError::field(
            "owner",
            "is longer than a person id can be",
        )));
    }
    let overdue = q.overdue.as_deref().is_some_and(|v| !v.is_empty());
    let as_of = nc::board_day(&app, &access.org, None).await?;
    let sms = app.current_model(&access.org).await?;
    let everything = nc::cards(&sms, &slug, as_of, &nc::Filter::default());
    let mut owners: Vec<(String, String)> = Vec::new();
    for c in &everything {
        if let Some(o) = &c.owner
            && !owners.iter().any(|(id, _)| id == o)
        {
            owners.push((o.clone(), c.owner_name.clone().unwrap_or_else(|| o.clone())));
        }
    }
    owners.sort_by(|a, b| a.1.cmp(&b.1));
    let filter = nc::Filter {
        grade,
        owner: owner.clone(),
        overdue: overdue.then_some(true),
    };
    let cards = nc::cards(&sms, &slug, as_of, &filter);
    let columns: Vec<Value> = nc::steps()
        .into_iter()
        .map(|(key, label)| {
            let here: Vec<Value> = cards
                .iter()
                .filter(|c| c.step == key)
                .map(|c| {
                    let mut v = serde_json::to_value(c).unwrap_or_default();
                    v["short"] = json!(short(&c.description, 140));
                    v
                })
                .collect();
            json!({ "key": key, "label": label, "cards": here })
        })
        .collect();
    let open = cards.iter().filter(|c| c.step != "closed").count();
    let late = cards.iter().filter(|c| c.overdue).count();
    let chrome = browser
        .chrome(&app, Some(&access), "nonconformities")
        .await?;
    Ok(render(
        "nonconformities.html",
        json!({
            "chrome": chrome,
            "as_of": as_of.to_string(),
            "columns": columns,
            "shown": cards.len(),
            "total": everything.len(),
            "open": open,
            "late": late,
            "owners": owners,
            "grades": GradeFilter::ALL.map(GradeFilter::as_str),
            "q": { "grade": grade.map(GradeFilter::as_str), "owner": owner, "overdue": overdue },
            "can_raise": nc::may_respond(&access),
        }),
    ))
}

/// The first `max` characters of a text, cut at a word, with an ellipsis when cut.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.', ' ']))
}

// ---------------------------------------------------------------------------------------------
// Raising from a record's page

pub(crate) async fn raise(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let mut posted = pairs(&body);
    browser.check_csrf(take(&mut posted, "csrf").as_deref())?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let source = take(&mut posted, "source").unwrap_or_default();
    let Some(source) = nc::RaiseSource::parse(source.trim()) else {
        return Err(Failure(ApiError::field(
            "source",
            format!(
                "“{source}” is not a source a nonconformity is raised from here (an audit \
                 finding, a complaint, an incident or a management review)"
            ),
        )));
    };
    let grade = match take(&mut posted, "grade").as_deref().map(str::trim) {
        None | Some("") => None,
        Some("major") => Some(nc::RaiseGrade::Major),
        Some("minor") => Some(nc::RaiseGrade::Minor),
        Some(other) => {
            return Err(Failure(ApiError::field(
                "grade",
                format!("“{other}” is neither major nor minor"),
            )));
        }
    };
    let ask = nc::Raise {
        source,
        source_ref: take(&mut posted, "source_ref").unwrap_or_default(),
        grade,
        description: take(&mut posted, "description"),
    };
    let record = nc::raise(&app, &access, &ask).await?;
    app.changed(&access.org);
    Ok(Redirect::to(&format!(
        "/orgs/{slug}/nonconformities/{}?saved=raised",
        encode_segment(&record.key)
    ))
    .into_response())
}

/// What a record's page says about nonconformities: for a nonconformity, its loop's page; for
/// an audit, each finding's nonconformity or a button to raise one; for a complaint, an
/// incident or a management review, those raised from it and a button.
pub(crate) async fn panel(
    app: &App,
    access: &Access,
    kind: &Kind,
    key: &str,
    value: &Value,
) -> Result<Option<Value>, Failure> {
    let slug = &access.org.slug;
    let page = |id: &str| format!("/orgs/{slug}/nonconformities/{}", encode_segment(id));
    let source = match kind.name {
        KIND => {
            return Ok(Some(json!({ "kind": "nonconformity", "href": page(key) })));
        }
        "audits" => None,
        "complaints" => Some("complaint"),
        "incidents" => Some("incident"),
        "management-reviews" => Some("management-review"),
        _ => return Ok(None),
    };
    let sms = app.current_model(&access.org).await?;
    let raised_from = |from: &[&str], id: &str| -> Vec<Value> {
        sms.nonconformities
            .iter()
            .filter(|n| {
                n.source_ref.as_deref() == Some(id) && from.contains(&nc::source_key(n.source))
            })
            .map(|n| json!({ "id": n.id, "href": page(&n.id), "closed": n.closed_on.is_some() }))
            .collect()
    };
    let respond = nc::may_respond(access);
    match source {
        None => {
            let can_raise = respond && access.can_write(crate::api::kind_named("audits")?);
            let findings: Vec<Value> = value["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    let id = f["id"].as_str().unwrap_or_default();
                    let mut ncs = raised_from(&["internal-audit", "external-audit"], id);
                    if let Some(named) = f["nonconformity"].as_str()
                        && !ncs.iter().any(|n| n["id"] == named)
                    {
                        ncs.insert(0, json!({ "id": named, "href": page(named) }));
                    }
                    let observation = f["grade"] == "observation";
                    json!({
                        "id": id,
                        "grade": f["grade"],
                        "statement": f["statement"],
                        "observation": observation,
                        "ncs": ncs,
                        "can_raise": can_raise && !observation && f["nonconformity"].is_null()
                            && ncs.is_empty(),
                    })
                })
                .collect();
            let source = match value["kind"].as_str() {
                None | Some("internal") => "internal-audit",
                Some(_) => "external-audit",
            };
            Ok(Some(json!({
                "kind": "audit",
                "source": source,
                "findings": findings,
            })))
        }
        Some(source) => Ok(Some(json!({
            "kind": "source",
            "source": source,
            "key": key,
            "ncs": raised_from(&[source], key),
            "can_raise": respond,
        }))),
    }
}

// ---------------------------------------------------------------------------------------------
// The nonconformity's page

/// A step of the loop a form posts to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Section {
    Correction,
    RootCause,
    AddAction,
    Implemented,
    Effectiveness,
    Close,
}

impl Section {
    /// The page's anchor for it, and the key of its errors.
    fn anchor(self) -> &'static str {
        match self {
            Section::Correction => "correction",
            Section::RootCause => "root-cause",
            Section::AddAction | Section::Implemented => "actions",
            Section::Effectiveness => "effectiveness",
            Section::Close => "close",
        }
    }
}

/// What went wrong with a form, to show beside it.
struct Problem {
    section: Section,
    /// For an action's implementation: which action.
    action: Option<String>,
    messages: Vec<String>,
    /// What was typed, to show again.
    posted: HashMap<String, String>,
    status: axum::http::StatusCode,
}

#[derive(Deserialize)]
pub(crate) struct Shown {
    saved: Option<String>,
}

pub(crate) async fn show(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
    Query(shown): Query<Shown>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let record = stored(&app, &access, &id).await?;
    page(
        &app,
        &browser,
        &access,
        &record,
        None,
        shown.saved.as_deref(),
    )
    .await
}

async fn stored(app: &App, access: &Access, id: &str) -> Result<Record, Failure> {
    app.store()
        .record(access.org.id, KIND, id)
        .await?
        .ok_or_else(|| Failure(ApiError::NotFound(format!("no nonconformity `{id}`"))))
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(text)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

const METHODS: [(&str, &str); 3] = [
    ("five-whys", "5 whys"),
    ("fishbone", "Fishbone (cause and effect)"),
    ("other", "Other"),
];

const SAVED: [(&str, &str); 7] = [
    (
        "raised",
        "Raised. Record the correction, then find the root cause.",
    ),
    ("correction", "The correction is saved."),
    ("root-cause", "The root cause is saved."),
    ("actions", "The corrective actions are saved."),
    ("effectiveness", "The effectiveness check is saved."),
    (
        "reopened",
        "The check found the actions did not work: it is kept among the earlier checks, the \
         new corrective action is added, and the nonconformity is open until a later check \
         finds the actions worked.",
    ),
    ("close", "Closed."),
];

async fn page(
    app: &App,
    browser: &Browser,
    access: &Access,
    record: &Record,
    problem: Option<Problem>,
    saved: Option<&str>,
) -> PageResult {
    let slug = &access.org.slug;
    let value: Value = serde_json::from_str(&record.body).map_err(ApiError::internal)?;
    let model = nc::model_of(&value)?;
    let sms = app.current_model(&access.org).await?;
    let as_of = nc::board_day(app, &access.org, None).await?;
    let name = |id: &str| sms.person(id).map(|p| p.name.clone());
    let person = |v: &Value| -> Value {
        match v.as_str() {
            Some(id) => json!({ "id": id, "name": name(id) }),
            None => Value::Null,
        }
    };
    let observation = core_nc::is_observation(&model);
    let step = core_nc::step(&model);
    let (due, rule) = nc::response(&sms, &model);
    let responded = core_nc::responded(&model);
    let late = due.filter(|d| *d < as_of && !responded && model.closed_on.is_none());
    let owner = core_nc::owner(&sms, &model).map(str::to_owned);
    let process = model.process.as_deref().map(|p| {
        json!({
            "id": p,
            "name": sms.processes.iter().find(|x| x.id == p).map(|x| x.name.clone()),
        })
    });
    let actions: Vec<Value> = value["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let id = a["id"].as_str().unwrap_or_default();
            let due = a["due"].as_str();
            let implemented = a["implemented_on"].as_str();
            json!({
                "id": id,
                "enc": encode_segment(id),
                "description": a["description"],
                "owner": person(&a["owner"]),
                "due": due,
                "late": implemented.is_none() && due.is_some_and(|d| d < as_of.to_string().as_str()),
                "implemented_on": implemented,
                "evidence": text(&a["evidence"]),
            })
        })
        .collect();
    let check = |c: &Value| {
        json!({
            "planned_on": c["planned_on"],
            "checked_on": c["checked_on"],
            "checked_by": person(&c["checked_by"]),
            "effective": c["effective"],
            "note": c["note"],
            "evidence": text(&c["evidence"]),
        })
    };
    let effectiveness = value.get("effectiveness").map(check);
    let earlier: Vec<Value> = value["earlier_checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(check)
        .collect();
    let blockers: Vec<String> = core_nc::blockers(&model)
        .iter()
        .map(|b| {
            let s = b.to_string();
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        })
        .collect();
    let mut people: Vec<(String, String)> = sms
        .people
        .iter()
        .filter(|p| p.left_on.is_none())
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    let today = crate::readiness::today().to_string();
    // What the forms show: the record, or what was typed into the form that failed.
    let eff = value.get("effectiveness").cloned().unwrap_or(Value::Null);
    let mut shown: HashMap<String, String> = HashMap::from([
        ("correction".into(), text(&value["correction"])),
        ("root_cause".into(), text(&value["root_cause"])),
        (
            "root_cause_method".into(),
            text(&value["root_cause_method"]),
        ),
        ("planned_on".into(), text(&eff["planned_on"])),
        ("checked_on".into(), text(&eff["checked_on"])),
        ("checked_by".into(), text(&eff["checked_by"])),
        (
            "result".into(),
            match eff["effective"].as_bool() {
                Some(true) => "effective".into(),
                Some(false) => "not-effective".into(),
                None => String::new(),
            },
        ),
        ("note".into(), text(&eff["note"])),
        ("evidence".into(), text(&eff["evidence"])),
        ("on".into(), today.clone()),
    ]);
    let mut errors: HashMap<&'static str, Vec<String>> = HashMap::new();
    let mut failed_action = None;
    let mut status = axum::http::StatusCode::OK;
    if let Some(p) = problem {
        for (k, v) in p.posted {
            shown.insert(k, v);
        }
        errors.insert(p.section.anchor(), p.messages);
        failed_action = p.action;
        status = p.status;
    }
    let saved = saved.and_then(|s| SAVED.iter().find(|(k, _)| *k == s).map(|(_, m)| *m));
    let chrome = browser.chrome(app, Some(access), "nonconformities").await?;
    let mut response = render(
        "nonconformity.html",
        json!({
            "chrome": chrome,
            "nc": {
                "id": model.id,
                "enc": encode_segment(&model.id),
                "version": record.version,
                "description": model.description,
                "grade": value["grade"],
                "step": step.key(),
                "step_label": step.label(),
                "raised_on": value["raised_on"],
                "closed_on": value["closed_on"],
                "clauses": model.clauses,
                "process": process,
                "owner": owner.as_deref().map(|o| json!({ "id": o, "name": name(o) })),
                "owner_from_process": model.owner.is_none() && owner.is_some(),
                "source": nc::source_label(model.source),
                "source_ref": model.source_ref,
                "source_link": nc::source_link(&sms, slug, &model),
                "correction": value["correction"],
                "root_cause": value["root_cause"],
                "root_cause_method": METHODS
                    .iter()
                    .find(|(k, _)| value["root_cause_method"] == *k)
                    .map(|(_, l)| *l),
                "actions": actions,
                "effectiveness": effectiveness,
                "earlier_checks": earlier,
            },
            "response": {
                "due": due.map(|d| d.to_string()),
                "rule": rule,
                "late_days": late.map(|d| i64::from((as_of - d).get_days())),
                "responded": responded,
            },
            "as_of": as_of.to_string(),
            "observation": observation,
            "can": { "respond": nc::may_respond(access), "verify": nc::may_verify(access) },
            "blockers": blockers,
            "people": people,
            "methods": METHODS,
            "form": shown,
            "errors": errors,
            "failed_action": failed_action,
            "saved": saved,
            "today": today,
            "record_link": format!("/orgs/{slug}/records/{KIND}/{}", encode_segment(&model.id)),
        }),
    );
    if status != axum::http::StatusCode::OK {
        *response.status_mut() = status;
    }
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// The steps' forms

pub(crate) async fn correction(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    step(&app, &browser, &slug, &id, None, &body, Section::Correction).await
}

pub(crate) async fn root_cause(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    step(&app, &browser, &slug, &id, None, &body, Section::RootCause).await
}

pub(crate) async fn add_action(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    step(&app, &browser, &slug, &id, None, &body, Section::AddAction).await
}

pub(crate) async fn implemented(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id, action)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    step(
        &app,
        &browser,
        &slug,
        &id,
        Some(action),
        &body,
        Section::Implemented,
    )
    .await
}

pub(crate) async fn effectiveness(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    step(
        &app,
        &browser,
        &slug,
        &id,
        None,
        &body,
        Section::Effectiveness,
    )
    .await
}

pub(crate) async fn close(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    step(&app, &browser, &slug, &id, None, &body, Section::Close).await
}

/// A text field: trimmed, left out when blank.
fn set_text(record: &mut Value, field: &str, given: Option<&String>) {
    match given.map(|t| t.trim()).filter(|t| !t.is_empty()) {
        Some(t) => record[field] = json!(t),
        None => {
            if let Some(o) = record.as_object_mut() {
                o.remove(field);
            }
        }
    }
}

/// A date field as typed: `None` when blank, the date when one, an error in words otherwise.
fn date_of(label: &str, given: Option<&String>, errors: &mut Vec<String>) -> Option<String> {
    let t = given.map(|t| t.trim()).filter(|t| !t.is_empty())?;
    match nc::day("", t) {
        Ok(d) => Some(d.to_string()),
        Err(e) => {
            errors.push(format!("{label}: {e}."));
            None
        }
    }
}

/// Ids of records or evidence files, as typed: separated by commas, spaces or lines.
fn ids(given: Option<&String>) -> Vec<String> {
    given
        .map(|t| {
            t.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The id of the next corrective action: the nonconformity's id, `-CA`, the next number.
fn next_action(record: &Value) -> String {
    let id = record["id"].as_str().unwrap_or("NC");
    let prefix = format!("{id}-CA");
    let taken: Vec<&str> = record["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["id"].as_str())
        .collect();
    let last = taken
        .iter()
        .filter_map(|a| a.strip_prefix(&prefix)?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    (last + 1..)
        .map(|n| format!("{prefix}{n}"))
        .find(|a| !taken.contains(&a.as_str()))
        .expect("some number is free")
}

/// Adds a corrective action from the fields `description`, `owner` and `due` (under
/// `prefix`), or says what is missing.
fn push_action(
    record: &mut Value,
    form: &HashMap<String, String>,
    prefix: &str,
    errors: &mut Vec<String>,
) {
    let field = |name: &str| form.get(&format!("{prefix}{name}"));
    let description = field("description").map(|d| d.trim()).unwrap_or_default();
    let due = date_of("Due", field("due"), errors);
    if description.is_empty() {
        errors
            .push("Describe the corrective action: what will be done to remove the cause.".into());
        return;
    }
    let mut action = json!({ "id": next_action(record), "description": description });
    if let Some(owner) = field("owner").map(|o| o.trim()).filter(|o| !o.is_empty()) {
        action["owner"] = json!(owner);
    }
    if let Some(due) = due {
        action["due"] = json!(due);
    }
    match record["actions"].as_array_mut() {
        Some(list) => list.push(action),
        None => record["actions"] = json!([action]),
    }
}

/// Changes the record as the form of `section` says; the errors, in words, when it cannot.
fn apply(
    section: Section,
    record: &mut Value,
    form: &HashMap<String, String>,
    action: Option<&str>,
) -> Result<Option<&'static str>, Vec<String>> {
    let mut errors = Vec::new();
    let mut saved = None;
    match section {
        Section::Correction => set_text(record, "correction", form.get("correction")),
        Section::RootCause => {
            set_text(record, "root_cause", form.get("root_cause"));
            match form.get("root_cause_method").map(|m| m.trim()) {
                None | Some("") => {
                    if let Some(o) = record.as_object_mut() {
                        o.remove("root_cause_method");
                    }
                }
                Some(m) if METHODS.iter().any(|(k, _)| *k == m) => {
                    record["root_cause_method"] = json!(m)
                }
                Some(m) => errors.push(format!(
                    "Method: “{m}” is not one of 5 whys, fishbone or other."
                )),
            }
        }
        Section::AddAction => push_action(record, form, "", &mut errors),
        Section::Implemented => {
            let on = form.get("on").map(|t| t.trim()).unwrap_or_default();
            if on.is_empty() {
                errors.push("Implemented on: say on which day it was done.".into());
            }
            let on = date_of("Implemented on", form.get("on"), &mut errors);
            let evidence = ids(form.get("evidence"));
            let wanted = action.unwrap_or_default();
            let found = record["actions"]
                .as_array_mut()
                .and_then(|list| list.iter_mut().find(|a| a["id"] == wanted));
            match found {
                None => errors.push(format!("There is no corrective action {wanted} here.")),
                Some(a) => {
                    if let Some(on) = on {
                        a["implemented_on"] = json!(on);
                    }
                    if !evidence.is_empty() {
                        a["evidence"] = json!(evidence);
                    }
                }
            }
        }
        Section::Effectiveness => {
            let planned = date_of("Planned for", form.get("planned_on"), &mut errors);
            let mut checked = date_of("Checked on", form.get("checked_on"), &mut errors);
            let result = match form.get("result").map(|r| r.trim()) {
                None | Some("") => None,
                Some("effective") => Some(true),
                Some("not-effective") => Some(false),
                Some(other) => {
                    errors.push(format!(
                        "Result: “{other}” is neither effective nor not effective."
                    ));
                    None
                }
            };
            if result.is_some() && checked.is_none() && errors.is_empty() {
                checked = Some(crate::readiness::today().to_string());
            }
            if checked.is_some() && result.is_none() && errors.is_empty() {
                errors.push(
                    "Result: say whether the actions worked, or leave “Checked on” empty while \
                     the check is only planned."
                        .into(),
                );
            }
            let mut check = json!({});
            if let Some(p) = planned {
                check["planned_on"] = json!(p);
            }
            if let Some(c) = checked {
                check["checked_on"] = json!(c);
            }
            set_text(&mut check, "checked_by", form.get("checked_by"));
            if let Some(r) = result {
                check["effective"] = json!(r);
            }
            set_text(&mut check, "note", form.get("note"));
            let evidence = ids(form.get("evidence"));
            if !evidence.is_empty() {
                check["evidence"] = json!(evidence);
            }
            if check.as_object().is_some_and(|o| o.is_empty()) {
                if let Some(o) = record.as_object_mut() {
                    o.remove("effectiveness");
                }
            } else {
                record["effectiveness"] = check;
            }
            let new = form
                .get("new_description")
                .is_some_and(|d| !d.trim().is_empty());
            if result == Some(false) {
                if new {
                    push_action(record, form, "new_", &mut errors);
                    saved = Some("reopened");
                } else {
                    errors.push(
                        "The check found the actions did not work: describe the new corrective \
                         action that will remove the cause (under “If it was not effective”); it \
                         is added together with the check."
                            .into(),
                    );
                }
            } else if new {
                push_action(record, form, "new_", &mut errors);
            }
        }
        Section::Close => {}
    }
    if errors.is_empty() {
        Ok(saved)
    } else {
        Err(errors)
    }
}

/// Saves one step's form: checks who may, applies the form to the record as stored (at the
/// version the page showed), and writes it through the same checks and gate as the API.
async fn step(
    app: &App,
    browser: &Browser,
    slug: &str,
    id: &str,
    action: Option<String>,
    body: &[u8],
    section: Section,
) -> PageResult {
    let mut posted = pairs(body);
    browser.check_csrf(take(&mut posted, "csrf").as_deref())?;
    let access = app.access(browser.auth.clone(), slug).await?;
    match section {
        Section::Effectiveness => {
            nc::require_verify(&access, "record the effectiveness check of a nonconformity")?
        }
        Section::Close => nc::require_verify(&access, "close a nonconformity")?,
        _ => nc::require_respond(&access)?,
    }
    let record = stored(app, &access, id).await?;
    let Some(version) = take(&mut posted, "version").and_then(|v| v.trim().parse::<i64>().ok())
    else {
        return Err(Failure(ApiError::field(
            "version",
            "the form does not say which version of the nonconformity it was filled in on; \
             reload the page and try again",
        )));
    };
    let form: HashMap<String, String> = posted.into_iter().collect();
    let problem = |messages: Vec<String>, status: axum::http::StatusCode| Problem {
        section,
        action: action.clone(),
        messages,
        // An action's date and evidence are named apart from the close form's and the
        // check's, which the page shows beside them.
        posted: form
            .iter()
            .map(|(k, v)| match (section, k.as_str()) {
                (Section::Implemented, "on" | "evidence") => {
                    (format!("implemented_{k}"), v.clone())
                }
                _ => (k.clone(), v.clone()),
            })
            .collect(),
        status,
    };
    let stale = || {
        problem(
            vec![
                "Someone else changed this nonconformity since you opened it: nothing was saved. \
                 The page now shows their change; make yours again."
                    .into(),
            ],
            axum::http::StatusCode::CONFLICT,
        )
    };
    let back = |record: &Record, problem: Problem| {
        let record = record.clone();
        let access = access.clone();
        async move { page(app, browser, &access, &record, Some(problem), None).await }
    };
    if record.version != version {
        return back(&record, stale()).await;
    }
    let here = format!("/orgs/{slug}/nonconformities/{}", encode_segment(id));
    if section == Section::Close {
        let on = match form.get("on").map(|t| t.trim()).filter(|t| !t.is_empty()) {
            None => crate::readiness::today(),
            Some(t) => match nc::day("", t) {
                Ok(d) => d,
                Err(e) => {
                    return back(
                        &record,
                        problem(
                            vec![format!("Closed on: {e}.")],
                            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                        ),
                    )
                    .await;
                }
            },
        };
        return match nc::close(
            app.store(),
            &access.org,
            &access.auth.actor(),
            id,
            on,
            Some(version),
        )
        .await
        {
            Ok(_) => {
                app.changed(&access.org);
                Ok(Redirect::to(&format!("{here}?saved=close#close")).into_response())
            }
            Err(ApiError::Conflict {
                current_version: Some(_),
                ..
            }) => back(&record, stale()).await,
            Err(e @ (ApiError::Conflict { .. } | ApiError::Invalid { .. })) => {
                let status = e.status();
                back(&record, problem(vec![e.to_string()], status)).await
            }
            Err(e) => Err(Failure(e)),
        };
    }
    let mut value: Value = serde_json::from_str(&record.body).map_err(ApiError::internal)?;
    if value["grade"] == "observation"
        && matches!(
            section,
            Section::RootCause | Section::AddAction | Section::Implemented | Section::Effectiveness
        )
    {
        return back(
            &record,
            problem(
                vec![
                    "An observation needs no root cause or corrective action, nor a check \
                     that actions worked."
                        .into(),
                ],
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            ),
        )
        .await;
    }
    if section == Section::Implemented {
        let wanted = action.as_deref().unwrap_or_default();
        let known = value["actions"]
            .as_array()
            .is_some_and(|l| l.iter().any(|a| a["id"] == wanted));
        if !known {
            return Err(Failure(ApiError::NotFound(format!(
                "{id} has no corrective action `{wanted}`"
            ))));
        }
    }
    let saved = match apply(section, &mut value, &form, action.as_deref()) {
        Ok(saved) => saved.unwrap_or(section.anchor()),
        Err(messages) => {
            return back(
                &record,
                problem(messages, axum::http::StatusCode::UNPROCESSABLE_ENTITY),
            )
            .await;
        }
    };
    let kind = nc::kind();
    let entry = match check_record(app, &access.org, kind, &value).await {
        Ok(entry) => entry,
        Err(ApiError::Invalid { fields, .. }) => {
            let messages = fields
                .iter()
                .map(|e| {
                    let field = e.field.strip_prefix("record.").unwrap_or(&e.field);
                    if field.is_empty() || field == "record" {
                        form::plain(&e.message)
                    } else {
                        format!("{}: {}", form::place(field), form::plain(&e.message))
                    }
                })
                .collect();
            return back(
                &record,
                problem(messages, axum::http::StatusCode::UNPROCESSABLE_ENTITY),
            )
            .await;
        }
        Err(e) => return Err(Failure(e)),
    };
    let entry = match nc::gate(Some(&record.body), entry, nc::Writer::of(&access)) {
        Ok(entry) => entry,
        Err(refusal) => {
            let status = refusal.error.status();
            return back(&record, problem(vec![refusal.error.to_string()], status)).await;
        }
    };
    let write = Write {
        kind: KIND.to_owned(),
        key: record.key.clone(),
        body: entry.body,
    };
    match app
        .store()
        .update(access.org.id, &access.auth.actor(), &write, version)
        .await
    {
        Ok(_) => {
            app.changed(&access.org);
            Ok(Redirect::to(&format!("{here}?saved={saved}#{}", section.anchor())).into_response())
        }
        Err(StoreError::Stale { .. }) => {
            let now = stored(app, &access, id).await?;
            back(&now, stale()).await
        }
        Err(e) => Err(Failure(e.into())),
    }
}
