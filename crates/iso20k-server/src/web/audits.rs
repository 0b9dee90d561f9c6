//! The internal auditor's pages: the audit programme (its cycle, the coverage matrix with its
//! gaps, each row's frequency and why), the audits from plan to report (scope, team,
//! independence, status steps, findings, evidence), the sampling workpapers (draw, test each
//! item, roll the failures into a finding), the report downloads and the two-day comparison.
//! Every change goes through the functions of `crate::audits`, which the API calls too.

use super::records::pairs;
use std::collections::HashMap;

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use iso20k_bundle::population;
use iso20k_core::model::{InternalAudit, ItemResult, Sms};
use iso20k_core::refs::Target;
use iso20k_core::{Date, clause, sampling};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Browser, Failure, PageResult, form, render};
use crate::App;
use crate::api::{check_record, encode_segment, kind_named};
use crate::audits::{self as a, AuditStep, FindingGrade, SampleResult, SamplingMethod};
use crate::auth::{Access, Role};
use crate::error::ApiError;

/// The templates of these pages, registered with the others.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[
    (
        "audit-programme.html",
        include_str!("../../templates/audit-programme.html"),
    ),
    ("audits.html", include_str!("../../templates/audits.html")),
    ("audit.html", include_str!("../../templates/audit.html")),
    ("sample.html", include_str!("../../templates/sample.html")),
    ("diff.html", include_str!("../../templates/diff.html")),
];

pub(crate) fn routes(max_upload: usize) -> axum::Router<App> {
    use axum::extract::DefaultBodyLimit;
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/orgs/{slug}/audit-programme",
            get(programme_page).post(set_cycle_start),
        )
        .route("/orgs/{slug}/audit-programme/next-cycle", post(next_cycle))
        .route("/orgs/{slug}/audits", get(list).post(create))
        .route("/orgs/{slug}/audits/new", get(new))
        .route("/orgs/{slug}/audits/{id}", get(show).post(save_plan))
        .route("/orgs/{slug}/audits/{id}/status", post(status))
        .route("/orgs/{slug}/audits/{id}/findings", post(add_finding))
        .route("/orgs/{slug}/audits/{id}/samples", post(draw))
        .route(
            "/orgs/{slug}/audits/{id}/samples/{sample}",
            get(sample_page).post(save_results),
        )
        .route(
            "/orgs/{slug}/audits/{id}/samples/{sample}/finding",
            post(roll),
        )
        .route(
            "/orgs/{slug}/audits/{id}/evidence",
            post(attach).layer(DefaultBodyLimit::max(max_upload + 64 * 1024)),
        )
        .route("/orgs/{slug}/audits/{id}/report.html", get(report_html))
        .route("/orgs/{slug}/audits/{id}/report.pdf", get(report_pdf))
        .route("/orgs/{slug}/diff", get(diff_page))
}

// ---------------------------------------------------------------------------------------------
// Forms

/// A posted form as name-value pairs, in order (a multiple list repeats its name).
fn one(posted: &[(String, String)], name: &str) -> String {
    posted
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

fn all(posted: &[(String, String)], name: &str) -> Vec<String> {
    posted
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn capitalised(text: &str) -> String {
    let mut c = text.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn audit_link(slug: &str, id: &str) -> String {
    format!("/orgs/{slug}/audits/{}", encode_segment(id))
}

/// An error of the shared functions as sentences for an alert (with the status to answer), or
/// a failure page for anything else.
fn refusal(e: ApiError) -> Result<(StatusCode, Vec<String>), Failure> {
    match e {
        ApiError::Invalid { fields, .. } => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            fields
                .iter()
                .map(|f| {
                    let field = f.field.strip_prefix("record.").unwrap_or(&f.field);
                    if field.is_empty() || field == "record" {
                        form::plain(&f.message)
                    } else {
                        format!("{}: {}", form::place(field), form::plain(&f.message))
                    }
                })
                .collect(),
        )),
        ApiError::Conflict { message, .. } => Ok((
            StatusCode::CONFLICT,
            vec![format!("{}.", capitalised(message.trim_end_matches('.')))],
        )),
        other => Err(Failure(other)),
    }
}

fn can_write(access: &Access) -> bool {
    kind_named("audits").is_ok_and(|k| access.can_write(k))
}

// ---------------------------------------------------------------------------------------------
// The programme

#[derive(Deserialize)]
pub(crate) struct ProgrammeQuery {
    as_of: Option<String>,
    carried: Option<String>,
    saved: Option<String>,
}

/// A day inside year `(start, end)` (end exclusive) to plan an audit on: a month after the day
/// judged, or after the year's start when that is later, and never past the year's last day.
fn plan_day(start: Date, end: Date, as_of: Date) -> Date {
    let after = start.max(as_of);
    let pick = after
        .checked_add(jiff::Span::new().days(30))
        .unwrap_or(after);
    let last = end.yesterday().unwrap_or(end);
    pick.min(last).max(start)
}

pub(crate) async fn programme_page(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    Query(q): Query<ProgrammeQuery>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    programme_response(&app, &browser, &access, q, Vec::new(), StatusCode::OK).await
}

async fn programme_response(
    app: &App,
    browser: &Browser,
    access: &Access,
    q: ProgrammeQuery,
    alert: Vec<String>,
    status: StatusCode,
) -> PageResult {
    let as_of = a::as_of_or_default(app, access, q.as_of.as_deref()).await?;
    let sms = app.current_model(&access.org).await?;
    let view = {
        let sms = sms.clone();
        app.blocking(move || a::programme_view(&sms, as_of)).await?
    };
    let slug = &access.org.slug;
    let writable = can_write(access);
    let years: Vec<(Date, Date)> = view
        .cycle
        .years
        .iter()
        .filter_map(|y| {
            let s: Date = y.start.parse().ok()?;
            let e: Date = y.end.parse().ok()?;
            Some((s, e.tomorrow().unwrap_or(e)))
        })
        .collect();
    let rows = |rows: &[a::RowView], field: &str| -> Vec<Value> {
        rows.iter()
            .map(|r| {
                let cells: Vec<Value> = r
                    .cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let plan = (writable && c.state == a::CellState::Gap)
                            .then(|| years.get(i))
                            .flatten()
                            .map(|(s, e)| {
                                let query = form_urlencoded::Serializer::new(String::new())
                                    .append_pair(field, &r.key)
                                    .append_pair("planned_on", &plan_day(*s, *e, as_of).to_string())
                                    .finish();
                                format!("/orgs/{slug}/audits/new?{query}")
                            });
                        json!({
                            "state": c.state,
                            "label": c.label,
                            "audits": c.audits.iter().map(|id| json!({ "id": id, "href": audit_link(slug, id) })).collect::<Vec<_>>(),
                            "plan": plan,
                        })
                    })
                    .collect();
                json!({
                    "key": r.key,
                    "title": r.title,
                    "frequency": r.frequency,
                    "frequency_label": r.frequency_label,
                    "reasons": r.reasons,
                    "gap": r.cells.iter().any(|c| c.state == a::CellState::Gap),
                    "cells": cells,
                })
            })
            .collect()
    };
    let processes = rows(&view.processes, "process");
    let clauses = rows(&view.clauses, "clause");
    // A cycle start after the day shown: the programme has moved on to its next cycle.
    let ahead = sms
        .audit_cycle_start
        .filter(|s| *s > as_of)
        .map(|s| s.to_string());
    let chrome = browser.chrome(app, Some(access), "programme").await?;
    let mut page = render(
        "audit-programme.html",
        json!({
            "chrome": chrome,
            "p": view,
            "processes": processes,
            "clauses": clauses,
            "writable": writable,
            "ahead": ahead,
            // Only a count is said back: the query is anyone's to write.
            "carried": q.carried.as_deref().and_then(|c| c.parse::<usize>().ok()),
            "saved": q.saved.is_some(),
            "alert": alert,
            "asked": q.as_of.filter(|d| !d.trim().is_empty()),
            "next_start": years.last().map(|(_, e)| e.to_string()),
        }),
    );
    *page.status_mut() = status;
    Ok(page)
}

pub(crate) async fn set_cycle_start(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let posted = pairs(&body);
    browser.check_csrf(Some(&one(&posted, "csrf")))?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let kind = kind_named("audit-programme")?;
    access.require_write(kind)?;
    let back = ProgrammeQuery {
        as_of: Some(one(&posted, "as_of")).filter(|d| !d.is_empty()),
        carried: None,
        saved: None,
    };
    let start = match a::day("cycle_start", &one(&posted, "cycle_start")) {
        Ok(d) => d,
        Err(e) => {
            let (status, alert) = refusal(e)?;
            return programme_response(&app, &browser, &access, back, alert, status).await;
        }
    };
    let store = app.store();
    let stored = store.record(access.org.id, kind.name, kind.name).await?;
    let mut value = match &stored {
        Some(r) => serde_json::from_str(&r.body).map_err(ApiError::internal)?,
        None => json!({}),
    };
    value["cycle_start"] = json!(start.to_string());
    let entry = check_record(&app, &access.org, kind, &value).await?;
    let write = iso20k_store::Write {
        kind: kind.name.to_owned(),
        key: entry.key,
        body: entry.body,
    };
    match stored {
        Some(r) => {
            store
                .update(access.org.id, &access.auth.actor(), &write, r.version)
                .await?;
        }
        None => {
            store
                .create(access.org.id, &access.auth.actor(), &write)
                .await?;
        }
    }
    app.changed(&access.org);
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("saved", "1");
    if let Some(d) = &back.as_of {
        query.append_pair("as_of", d);
    }
    Ok(Redirect::to(&format!("/orgs/{slug}/audit-programme?{}", query.finish())).into_response())
}

pub(crate) async fn next_cycle(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let posted = pairs(&body);
    browser.check_csrf(Some(&one(&posted, "csrf")))?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let asked = Some(one(&posted, "as_of")).filter(|d| !d.is_empty());
    let as_of = a::as_of_or_default(&app, &access, asked.as_deref()).await?;
    match a::next_cycle(&app, &access, as_of).await {
        Ok(done) => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("as_of", &done.cycle_start)
                .append_pair("carried", &done.carried.len().to_string())
                .finish();
            Ok(Redirect::to(&format!("/orgs/{slug}/audit-programme?{query}")).into_response())
        }
        Err(e) => {
            let (status, alert) = refusal(e)?;
            let back = ProgrammeQuery {
                as_of: asked,
                carried: None,
                saved: None,
            };
            programme_response(&app, &browser, &access, back, alert, status).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The audits

pub(crate) async fn list(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let sms = app.current_model(&access.org).await?;
    let mut audits: Vec<&InternalAudit> = sms.audits.iter().collect();
    audits.sort_by(|x, y| y.date().cmp(&x.date()).then_with(|| x.id.cmp(&y.id)));
    let rows: Vec<Value> = audits
        .iter()
        .map(|au| {
            json!({
                "id": au.id,
                "href": audit_link(&slug, &au.id),
                "title": au.title,
                "kind": au.kind.label(),
                "status": au.status().label(),
                "planned_on": au.planned_on.map(|d| d.to_string()),
                "held_on": au.held_on.map(|d| d.to_string()),
                "auditor": au.auditor.as_deref().map(|x| iso20k_report::person_name(&sms, x)),
                "findings": au.findings.len(),
                "samples": au.samples.len(),
            })
        })
        .collect();
    let chrome = browser.chrome(&app, Some(&access), "audits").await?;
    Ok(render(
        "audits.html",
        json!({ "chrome": chrome, "rows": rows, "writable": can_write(&access) }),
    ))
}

/// One option of a list.
fn option(value: &str, label: String, selected: bool) -> Value {
    json!({ "value": value, "label": label, "selected": selected })
}

/// The options of a picker: what is chosen first, in the record's order (marked when it is not
/// in the register), then the rest of the register.
fn picks(choices: Vec<crate::refs::Choice>, chosen: &[String], register: &str) -> Vec<Value> {
    let mut out: Vec<Value> = chosen
        .iter()
        .map(|v| {
            let label = choices
                .iter()
                .find(|c| &c.value == v)
                .map(|c| c.label.clone())
                .unwrap_or_else(|| format!("{v} (not in the {register})"));
            option(v, label, true)
        })
        .collect();
    out.extend(
        choices
            .into_iter()
            .filter(|c| !chosen.contains(&c.value))
            .map(|c| option(&c.value, c.label, false)),
    );
    out
}

fn clause_picks(sms: &Sms, chosen: &[String]) -> Vec<Value> {
    let edition = sms.edition();
    let choices = clause::catalogue(edition)
        .iter()
        .filter(|c| c.is_requirement())
        .map(|c| crate::refs::Choice {
            value: c.id.to_owned(),
            label: format!("{} {}", c.id, c.title),
        })
        .collect();
    picks(choices, chosen, &format!("{edition} edition"))
}

const GRADES: [&str; 3] = ["major", "minor", "observation"];

const KINDS: [(&str, &str); 6] = [
    ("internal", "Internal audit"),
    ("stage1", "Stage 1 certification audit"),
    ("stage2", "Stage 2 certification audit"),
    ("surveillance", "Surveillance audit"),
    ("recertification", "Recertification audit"),
    ("customer", "Customer audit"),
];

/// The plan-and-scope form's fields, filled from `value` (an audit's JSON), with errors and
/// warnings beside their fields.
fn plan_form(
    sms: &Sms,
    value: &Value,
    errors: &HashMap<String, String>,
    warnings: &HashMap<String, Vec<String>>,
) -> Value {
    let text = |f: &str| {
        value
            .get(f)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let list = |f: &str| a::texts(value.get(f));
    let people = crate::refs::choices(sms, Target::Person);
    let auditor = text("auditor");
    let auditor_known = auditor.is_empty() || people.iter().any(|p| p.value == auditor);
    let mut auditor_options = vec![option(
        "",
        "—".to_owned(),
        auditor.is_empty() || !auditor_known,
    )];
    auditor_options.extend(
        people
            .iter()
            .map(|p| option(&p.value, p.label.clone(), p.value == auditor)),
    );
    let team = list("team");
    let (team_known, team_other): (Vec<String>, Vec<String>) = team
        .into_iter()
        .partition(|t| people.iter().any(|p| &p.value == t));
    let report = text("report");
    let mut documents = vec![option("", "—".to_owned(), report.is_empty())];
    documents.extend(picks(
        crate::refs::choices(sms, Target::Document),
        &Some(report.clone())
            .filter(|r| !r.is_empty())
            .into_iter()
            .collect::<Vec<_>>(),
        "document register",
    ));
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("internal");
    let warn = |f: &str| warnings.get(f).map(|w| w.join("; "));
    json!({
        "id": text("id"),
        "title": text("title"),
        "kinds": KINDS.iter().map(|(k, l)| option(k, (*l).to_owned(), *k == kind)).collect::<Vec<_>>(),
        "body": text("body"),
        "planned_on": text("planned_on"),
        "held_on": text("held_on"),
        "ends_on": text("ends_on"),
        "auditor": auditor_options,
        "auditor_other": if auditor_known { String::new() } else { auditor },
        "team": picks(people.clone(), &team_known, "people register"),
        "team_other": team_other.join("\n"),
        "processes": picks(crate::refs::choices(sms, Target::Process), &list("processes"), "process register"),
        "clauses": clause_picks(sms, &list("clauses")),
        "services": picks(crate::refs::choices(sms, Target::Service), &list("services"), "service catalogue"),
        "sites": list("sites").join("\n"),
        "objectives": text("objectives"),
        "criteria": text("criteria"),
        "method": text("method"),
        "conclusion": text("conclusion"),
        "report": documents,
        "errors": errors,
        "warnings": {
            "auditor": warn("auditor"),
            "team": warn("team"),
            "processes": warn("processes"),
            "report": warn("report"),
        },
    })
}

/// The posted plan-and-scope form on top of the audit it edits (`existing`; an empty object for
/// a new one): the fields the form holds replaced, everything else (findings, samples,
/// checklist) kept.
fn read_plan(posted: &[(String, String)], existing: &Value, new: bool) -> Value {
    let mut value = if existing.is_object() {
        existing.clone()
    } else {
        json!({})
    };
    let o = value.as_object_mut().expect("an object");
    let mut set = |field: &str, v: Option<Value>| match v {
        Some(v) => {
            o.insert(field.to_owned(), v);
        }
        None => {
            o.remove(field);
        }
    };
    let text = |name: &str| {
        Some(one(posted, name))
            .filter(|v| !v.is_empty())
            .map(Value::from)
    };
    let list = |items: Vec<String>| (!items.is_empty()).then(|| json!(dedup(items)));
    if new {
        set("id", text("id"));
    }
    set("title", Some(json!(one(posted, "title"))));
    set(
        "kind",
        text("kind").filter(|k| k.as_str() != Some("internal")),
    );
    set("body", text("body"));
    for f in [
        "planned_on",
        "held_on",
        "ends_on",
        "objectives",
        "criteria",
        "method",
        "conclusion",
        "report",
    ] {
        set(f, text(f));
    }
    let other = one(posted, "auditor_other");
    set(
        "auditor",
        if other.is_empty() {
            text("auditor")
        } else {
            Some(json!(other))
        },
    );
    let mut team = all(posted, "team");
    team.extend(lines(&one(posted, "team_other")));
    set("team", list(team));
    set("processes", list(all(posted, "processes")));
    set("clauses", list(all(posted, "clauses")));
    set("services", list(all(posted, "services")));
    set("sites", list(lines(&one(posted, "sites"))));
    value
}

#[derive(Deserialize)]
pub(crate) struct NewQuery {
    process: Option<String>,
    clause: Option<String>,
    planned_on: Option<String>,
}

/// A free id for a new audit planned on `day`: `IA-YEAR-NN`.
fn suggested_id(sms: &Sms, day: Option<Date>) -> String {
    let year = day.unwrap_or_else(crate::readiness::today).year();
    (1..)
        .map(|n| format!("IA-{year}-{n:02}"))
        .find(|id| {
            !sms.audits
                .iter()
                .any(|au| au.id == *id || au.findings.iter().any(|f| f.id == *id))
        })
        .unwrap_or_default()
}

pub(crate) async fn new(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    access.require_write(kind_named("audits")?)?;
    let sms = app.current_model(&access.org).await?;
    let planned = a::optional_day("planned_on", q.planned_on.as_deref())?;
    let mut value = json!({ "id": suggested_id(&sms, planned) });
    if let Some(d) = planned {
        value["planned_on"] = json!(d.to_string());
    }
    let mut title = Vec::new();
    if let Some(p) = q
        .process
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if p.len() > 200 {
            return Err(Failure(ApiError::field(
                "process",
                "longer than a process id can be",
            )));
        }
        value["processes"] = json!([p]);
        title.push(
            sms.processes
                .iter()
                .find(|x| x.id == p)
                .map_or_else(|| p.to_owned(), |x| x.name.clone()),
        );
    }
    if let Some(c) = q.clause.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        let Some(found) = clause::find(sms.edition(), c) else {
            return Err(Failure(ApiError::field(
                "clause",
                format!("not a clause of the {} edition", sms.edition()),
            )));
        };
        value["clauses"] = json!([c]);
        title.push(format!("{} {}", found.id, found.title));
    }
    if !title.is_empty() {
        value["title"] = json!(title.join("; "));
    }
    new_page(&app, &browser, &access, &value, &[], StatusCode::OK).await
}

async fn new_page(
    app: &App,
    browser: &Browser,
    access: &Access,
    value: &Value,
    errors: &[iso20k_bundle::records::FieldError],
    status: StatusCode,
) -> PageResult {
    let sms = app.current_model(&access.org).await?;
    let (by_field, unplaced) = placed(errors);
    let warnings = warnings_by_field(&sms, value);
    let chrome = browser.chrome(app, Some(access), "audits").await?;
    let mut page = render(
        "audit.html",
        json!({
            "chrome": chrome,
            "new": true,
            "writable": true,
            "plan": plan_form(&sms, value, &by_field, &warnings),
            "alert": unplaced,
        }),
    );
    *page.status_mut() = status;
    Ok(page)
}

/// Field errors by the form's field names (`record.planned_on` → `planned_on`), and the rest as
/// sentences.
fn placed(errors: &[iso20k_bundle::records::FieldError]) -> (HashMap<String, String>, Vec<String>) {
    let mut by_field = HashMap::new();
    let mut unplaced = Vec::new();
    for e in errors {
        let field = e.field.strip_prefix("record.").unwrap_or(&e.field);
        let top = field.split(['.', '[']).next().unwrap_or_default();
        let on_form = [
            "id",
            "title",
            "kind",
            "body",
            "planned_on",
            "held_on",
            "ends_on",
            "auditor",
            "team",
            "processes",
            "clauses",
            "services",
            "sites",
            "objectives",
            "criteria",
            "method",
            "conclusion",
            "report",
        ];
        if on_form.contains(&top) && !top.is_empty() {
            by_field
                .entry(top.to_owned())
                .or_insert_with(|| form::plain(&e.message));
        } else if field.is_empty() || field == "record" {
            unplaced.push(form::plain(&e.message));
        } else {
            unplaced.push(format!(
                "{}: {}",
                form::place(field),
                form::plain(&e.message)
            ));
        }
    }
    (by_field, unplaced)
}

/// The warnings of an audit's JSON (references that name nothing, and the auditor's
/// independence), by the form field they belong beside: `team[1]` is the team's.
fn warnings_by_field(sms: &Sms, value: &Value) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for w in crate::refs::warnings(sms, "audits", value) {
        let top = w
            .field
            .split(['.', '['])
            .next()
            .unwrap_or_default()
            .to_owned();
        // A reference's message starts with a word ("names person…"); an independence
        // sentence with the person's id, which keeps its case.
        let message = if w.message.starts_with("names ") {
            capitalised(&w.message)
        } else {
            w.message
        };
        out.entry(top).or_default().push(message);
    }
    out
}

/// A new audit's checks beyond the record's: an id and a title.
fn new_audit_errors(value: &Value) -> Vec<iso20k_bundle::records::FieldError> {
    let mut errors = Vec::new();
    for (field, what) in [("id", "an id, such as IA-2026-03"), ("title", "a title")] {
        if value
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(|v| v.trim().is_empty())
        {
            errors.push(iso20k_bundle::records::FieldError {
                field: field.to_owned(),
                message: format!("the audit needs {what}"),
            });
        }
    }
    errors
}

pub(crate) async fn create(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let posted = pairs(&body);
    browser.check_csrf(Some(&one(&posted, "csrf")))?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let kind = kind_named("audits")?;
    access.require_write(kind)?;
    let value = read_plan(&posted, &json!({}), true);
    let mut errors = new_audit_errors(&value);
    if errors.is_empty() {
        match check_record(&app, &access.org, kind, &value).await {
            Ok(entry) => {
                let write = iso20k_store::Write {
                    kind: kind.name.to_owned(),
                    key: entry.key,
                    body: entry.body,
                };
                match app
                    .store()
                    .create(access.org.id, &access.auth.actor(), &write)
                    .await
                {
                    Ok(r) => {
                        app.changed(&access.org);
                        return Ok(
                            Redirect::to(&format!("{}?saved=1", audit_link(&slug, &r.key)))
                                .into_response(),
                        );
                    }
                    Err(iso20k_store::StoreError::Conflict(_)) => {
                        errors.push(iso20k_bundle::records::FieldError {
                            field: "id".into(),
                            message: format!("audit `{}` exists already", write.key),
                        });
                    }
                    Err(e) => return Err(Failure(e.into())),
                }
            }
            Err(ApiError::Invalid { fields, .. }) => errors = fields,
            Err(e) => return Err(Failure(e)),
        }
    }
    new_page(
        &app,
        &browser,
        &access,
        &value,
        &errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Deserialize, Default)]
pub(crate) struct Shown {
    saved: Option<String>,
    finding: Option<String>,
    moved: Option<String>,
}

/// What an audit page shows besides the audit: a refusal, and the forms' values to show again.
#[derive(Default)]
struct Extra {
    alert: Vec<String>,
    status: Option<StatusCode>,
    plan: Option<Value>,
    plan_errors: Vec<iso20k_bundle::records::FieldError>,
    draw: Option<Value>,
    finding: Option<Value>,
    notice: Option<String>,
}

pub(crate) async fn show(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
    Query(shown): Query<Shown>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let notice = if shown.saved.is_some() {
        Some("Saved.".to_owned())
    } else if let Some(f) = shown.finding.filter(|f| f.len() <= 200) {
        // Said only of a finding the audit holds: the query is anyone's to write.
        let (_, body) = a::read_audit(&app, &access, &id).await?;
        a::model_of(&body)?
            .findings
            .iter()
            .any(|x| x.id == f)
            .then(|| format!("Finding {f} added."))
    } else {
        shown
            .moved
            .and_then(|s| AuditStep::parse(&s))
            .map(|s| format!("The audit is {} now.", step_words(s)))
    };
    audit_page(
        &app,
        &browser,
        &access,
        &id,
        Extra {
            notice,
            ..Extra::default()
        },
    )
    .await
}

fn step_words(s: AuditStep) -> &'static str {
    match s {
        AuditStep::Planned => "planned",
        AuditStep::InProgress => "in progress",
        AuditStep::Reported => "reported",
        AuditStep::Closed => "closed",
    }
}

/// What moving to `step` is called on its button.
fn step_button(s: AuditStep) -> &'static str {
    match s {
        AuditStep::Planned => "Back to planned",
        AuditStep::InProgress => "Start the audit (in progress)",
        AuditStep::Reported => "Mark reported",
        AuditStep::Closed => "Close the audit",
    }
}

/// Where a sampled record lives, when its kind is known and it is still there.
async fn item_link(
    app: &App,
    access: &Access,
    kind: &str,
    key: &str,
    check: bool,
) -> Result<Option<String>, Failure> {
    let Some(k) = iso20k_bundle::records::kind(kind) else {
        return Ok(None);
    };
    if check
        && app
            .store()
            .record(access.org.id, k.name, key)
            .await?
            .is_none()
    {
        return Ok(None);
    }
    Ok(Some(format!(
        "/orgs/{}/records/{}/{}",
        access.org.slug,
        k.name,
        encode_segment(key)
    )))
}

/// How many sampled items a page checks one by one before linking them unchecked.
const CHECKED_LINKS: usize = 500;

fn population_words(p: &iso20k_core::model::PopulationDef) -> String {
    let mut out = p.kind.replace('-', " ");
    match (p.from, p.to) {
        (Some(f), Some(t)) => out.push_str(&format!(" from {f} to {t}")),
        (Some(f), None) => out.push_str(&format!(" from {f}")),
        (None, Some(t)) => out.push_str(&format!(" up to {t}")),
        (None, None) => {}
    }
    if let Some(field) =
        population::date_field(&p.kind).filter(|_| p.from.is_some() || p.to.is_some())
    {
        out.push_str(&format!(" (by {field})"));
    }
    if !p.filters.is_empty() {
        out.push_str(&format!(" where {}", p.filters.join(" and ")));
    }
    out
}

fn method_words(s: &iso20k_core::model::Sample) -> String {
    match (s.method, s.confidence, s.tdr) {
        (iso20k_core::model::SampleMethod::Statistical, Some(c), Some(t)) => {
            let n = sampling::statistical_size(c, t)
                .map(|n| format!(", which needs {n}"))
                .unwrap_or_default();
            format!(
                "Statistical: {}% confidence that deviations stay below {}%{n}",
                percent(c),
                percent(t)
            )
        }
        (iso20k_core::model::SampleMethod::Statistical, _, _) => "Statistical".to_owned(),
        (iso20k_core::model::SampleMethod::Judgement, _, _) => format!(
            "By judgement: {}",
            // The page puts its own full stop after this.
            s.rationale
                .as_deref()
                .map_or("no reason recorded", |r| r.trim_end().trim_end_matches('.'))
        ),
    }
}

/// A fraction as a percentage without float noise: 0.95 → 95, 0.025 → 2.5.
fn percent(f: f64) -> String {
    let p = (f * 1000.0).round() / 10.0;
    if p.fract() == 0.0 {
        format!("{}", p as i64)
    } else {
        format!("{p}")
    }
}

const CONFIDENCES: [f64; 4] = [0.80, 0.90, 0.95, 0.99];
const TDRS: [f64; 4] = [0.10, 0.05, 0.02, 0.01];

/// The sizes a statistical sample takes for the confidences and rates the form offers.
fn size_table() -> Value {
    json!({
        "tdrs": TDRS.iter().map(|t| percent(*t)).collect::<Vec<_>>(),
        "rows": CONFIDENCES.iter().map(|c| json!({
            "confidence": percent(*c),
            "sizes": TDRS.iter().map(|t| sampling::statistical_size(*c, *t).unwrap_or(0)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// The draw form's values: posted ones shown again, else the defaults and a random seed.
fn draw_form(posted: Option<&Value>) -> Value {
    let get = |f: &str, default: &str| {
        posted
            .and_then(|p| p.get(f))
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_owned()
    };
    let kind = get("kind", "changes");
    let method = get("method", "statistical");
    let confidence = get("confidence", "0.95");
    let tdr = get("tdr", "0.05");
    let kinds: Vec<Value> = a::sampled_kinds()
        .iter()
        .map(|k| {
            let by = match population::date_field(k.name) {
                Some(f) => format!("{} (period by {f})", k.name),
                None => format!("{} (no period)", k.name),
            };
            option(k.name, by, k.name == kind)
        })
        .collect();
    json!({
        "kinds": kinds,
        "from": get("from", ""),
        "to": get("to", ""),
        "where": get("where", ""),
        "method": method,
        "confidences": CONFIDENCES.iter().map(|c| option(&format!("{c:.2}"), format!("{}%", percent(*c)), format!("{c:.2}") == confidence)).collect::<Vec<_>>(),
        "tdrs": TDRS.iter().map(|t| option(&format!("{t:.2}"), format!("{}%", percent(*t)), format!("{t:.2}") == tdr)).collect::<Vec<_>>(),
        "size": get("size", ""),
        "rationale": get("rationale", ""),
        "items": get("items", ""),
        "seed": get("seed", &a::random_seed().to_string()),
        "table": size_table(),
    })
}

async fn audit_page(
    app: &App,
    browser: &Browser,
    access: &Access,
    id: &str,
    extra: Extra,
) -> PageResult {
    let (record, body) = a::read_audit(app, access, id).await?;
    let audit = a::model_of(&body)?;
    let sms = app.current_model(&access.org).await?;
    let slug = &access.org.slug;
    let writable = can_write(access);
    let base = audit_link(slug, id);
    let plan_value = extra.plan.as_ref().unwrap_or(&body);
    let (by_field, mut unplaced) = placed(&extra.plan_errors);
    let warnings = warnings_by_field(&sms, plan_value);
    let mut alert = extra.alert;
    alert.append(&mut unplaced);
    let other_warnings: Vec<String> = warnings
        .iter()
        .filter(|(f, _)| !["auditor", "team", "processes", "report"].contains(&f.as_str()))
        .flat_map(|(f, ws)| ws.iter().map(move |w| format!("{}: {w}", form::place(f))))
        .collect();
    let status = audit.status();
    let next = a::next_step(status).map(|s| {
        json!({
            "key": match s { AuditStep::Planned => "planned", AuditStep::InProgress => "in-progress", AuditStep::Reported => "reported", AuditStep::Closed => "closed" },
            "button": step_button(s),
            "asks_day": s == AuditStep::InProgress && audit.held_on.is_none(),
        })
    });
    let files = app
        .store()
        .evidence(access.org.id, "audits", &record.key)
        .await?;
    let file_names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    // Every sampled item, to link evidence that names one and to offer them as evidence.
    let mut sampled: HashMap<String, String> = HashMap::new();
    for s in &audit.samples {
        for i in &s.items {
            sampled
                .entry(i.id.clone())
                .or_insert_with(|| s.population.kind.clone());
        }
    }
    let mut findings = Vec::new();
    for f in &audit.findings {
        let mut evidence = Vec::new();
        for e in &f.evidence {
            let href = if let Some(file) = files.iter().find(|x| x.name == *e) {
                Some(format!("/api/v1/orgs/{slug}/evidence/{}", file.id))
            } else if let Some(kind) = sampled.get(e) {
                item_link(app, access, kind, e, true).await?
            } else {
                None
            };
            evidence.push(json!({ "id": e, "href": href }));
        }
        findings.push(json!({
            "id": f.id,
            "grade": f.grade.as_str(),
            "clause": f.clause.as_deref().map(|c| match clause::find(sms.edition(), c) {
                Some(found) => format!("{} {}", found.id, found.title),
                None => c.to_owned(),
            }),
            "process": f.process.as_deref().map(|p| sms.processes.iter().find(|x| x.id == p).map_or_else(|| p.to_owned(), |x| format!("{} ({p})", x.name))),
            "statement": f.statement.trim(),
            "evidence": evidence,
            "sample": f.sample.as_deref().map(|s| json!({ "id": s, "href": format!("{base}/samples/{}", encode_segment(s)) })),
            "nonconformity": f.nonconformity.as_deref().map(|n| json!({ "id": n, "href": format!("/orgs/{slug}/nonconformities/{}", encode_segment(n)) })),
            "due": f.due.map(|d| d.to_string()),
            "closed_on": f.closed_on.map(|d| d.to_string()),
            "verified_on": f.verified_on.map(|d| d.to_string()),
        }));
    }
    let samples: Vec<Value> = audit
        .samples
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "href": format!("{base}/samples/{}", encode_segment(&s.id)),
                "population": population_words(&s.population),
                "population_size": s.population_size,
                "method": method_words(s),
                "size": s.items.len(),
                "tally": a::tally(&s.items).words,
                "finding": s.finding,
                "drawn_on": s.drawn_on.map(|d| d.to_string()),
            })
        })
        .collect();
    // The finding form: the audit's clauses and processes first.
    let posted_finding = extra.finding.as_ref();
    let pick = |f: &str| {
        posted_finding
            .and_then(|p| p.get(f))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let chosen_clause = pick("clause");
    let mut clause_options = vec![option("", "—".to_owned(), chosen_clause.is_empty())];
    for c in &audit.clauses {
        let label = clause::find(sms.edition(), c)
            .map_or_else(|| c.clone(), |x| format!("{} {} (in scope)", x.id, x.title));
        clause_options.push(option(c, label, *c == chosen_clause));
    }
    for c in clause::catalogue(sms.edition())
        .iter()
        .filter(|c| c.is_requirement() && !audit.clauses.iter().any(|x| x == c.id))
    {
        clause_options.push(option(
            c.id,
            format!("{} {}", c.id, c.title),
            c.id == chosen_clause,
        ));
    }
    let chosen_process = pick("process");
    let mut process_options = vec![option("", "—".to_owned(), chosen_process.is_empty())];
    let mut in_scope: Vec<&iso20k_core::model::Process> = sms
        .processes
        .iter()
        .filter(|p| audit.processes.contains(&p.id))
        .collect();
    in_scope.extend(
        sms.processes
            .iter()
            .filter(|p| !audit.processes.contains(&p.id)),
    );
    for p in in_scope {
        let scope = if audit.processes.contains(&p.id) {
            " (in scope)"
        } else {
            ""
        };
        process_options.push(option(
            &p.id,
            format!("{} — {}{scope}", p.id, p.name),
            p.id == chosen_process,
        ));
    }
    let chosen_items: Vec<String> = posted_finding
        .and_then(|p| p.get("items"))
        .map(|v| a::texts(Some(v)))
        .unwrap_or_default();
    let item_groups: Vec<Value> = audit
        .samples
        .iter()
        .map(|s| {
            let mut items: Vec<&iso20k_core::model::SampleItem> = s.items.iter().collect();
            // Those that do not conform first: they are what a finding cites.
            items.sort_by_key(|i| i.result != Some(ItemResult::DoesNotConform));
            json!({
                "label": format!("{} — {}", s.id, population_words(&s.population)),
                "items": items.iter().map(|i| option(&i.id, match i.result {
                    Some(r) => format!("{} ({})", i.id, r.label().to_lowercase()),
                    None => i.id.clone(),
                }, chosen_items.contains(&i.id))).collect::<Vec<_>>(),
            })
        })
        .collect();
    let chosen_grade = Some(pick("grade"))
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| "minor".to_owned());
    let finding_form = json!({
        "grades": GRADES.iter().map(|g| option(g, capitalised(g), *g == chosen_grade)).collect::<Vec<_>>(),
        "clauses": clause_options,
        "processes": process_options,
        "statement": pick("statement"),
        "items": item_groups,
        "files": file_names.iter().map(|n| json!({ "name": n, "checked": posted_finding.and_then(|p| p.get("files")).map(|v| a::texts(Some(v))).unwrap_or_default().contains(n) })).collect::<Vec<_>>(),
        "other": pick("other"),
        "due": pick("due"),
        "samples": audit.samples.iter().map(|s| option(&s.id, s.id.clone(), pick("sample") == s.id)).collect::<Vec<_>>(),
    });
    let checklist: Vec<Value> = audit
        .checklist
        .iter()
        .map(|q| {
            json!({
                "question": q.question,
                "clause": q.clause,
                "result": q.result.map(|r| r.label()),
                "note": q.note,
            })
        })
        .collect();
    let independence = if audit.kind.is_external() {
        Vec::new()
    } else {
        iso20k_core::programme::conflicts(&sms, &audit)
    };
    let chrome = browser.chrome(app, Some(access), "audits").await?;
    let mut page = render(
        "audit.html",
        json!({
            "chrome": chrome,
            "new": false,
            "writable": writable,
            "can_attach": access.expires_at.is_none() && access.role != Role::Viewer,
            "max_upload_mib": app.config().max_upload / (1024 * 1024),
            "audit": {
                "id": audit.id,
                "enc": encode_segment(&audit.id),
                "title": audit.title,
                "kind": audit.kind.label(),
                "external": audit.kind.is_external(),
                "body": audit.body,
                "status": status.label(),
                "cancelled": audit.cancelled,
                "version": record.version,
                "updated_at": record.updated_at,
                "updated_by": record.updated_by,
                "planned_on": audit.planned_on.map(|d| d.to_string()),
                "held_on": audit.held_on.map(|d| d.to_string()),
            },
            "next": next,
            "today": crate::readiness::today().to_string(),
            "plan": plan_form(&sms, plan_value, &by_field, &warnings),
            "summary": plan_form(&sms, &body, &HashMap::new(), &warnings_by_field(&sms, &body)),
            "plan_open": status == iso20k_core::model::AuditStatus::Planned || extra.plan.is_some(),
            "other_warnings": other_warnings,
            "independence": independence,
            "findings": findings,
            "finding_form": finding_form,
            "samples": samples,
            "draw": draw_form(extra.draw.as_ref()),
            "files": files.iter().map(|f| json!({ "id": f.id, "name": f.name, "size": f.size, "at": f.created_at, "by": f.created_by })).collect::<Vec<_>>(),
            "checklist": checklist,
            "alert": alert,
            "notice": extra.notice,
            "pdf": cfg!(feature = "pdf"),
            "record_href": format!("/orgs/{slug}/records/audits/{}", encode_segment(&record.key)),
        }),
    );
    if let Some(s) = extra.status {
        *page.status_mut() = s;
    }
    Ok(page)
}

pub(crate) async fn save_plan(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    let posted = pairs(&body);
    browser.check_csrf(Some(&one(&posted, "csrf")))?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    access.require_write(kind_named("audits")?)?;
    let version: Option<i64> = one(&posted, "_version").parse().ok();
    if version.is_none() {
        return Err(Failure(ApiError::field(
            "version",
            "the form lost its version: reload the page",
        )));
    }
    let (record, existing) = a::read_audit(&app, &access, &id).await?;
    let value = read_plan(&posted, &existing, false);
    let mut errors = Vec::new();
    if value
        .get("title")
        .and_then(Value::as_str)
        .is_none_or(|t| t.trim().is_empty())
    {
        errors.push(iso20k_bundle::records::FieldError {
            field: "title".into(),
            message: "the audit needs a title".into(),
        });
    }
    if errors.is_empty() {
        match a::save_audit(&app, &access, &record, &value, version).await {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("{}?saved=1", audit_link(&slug, &id))).into_response()
                );
            }
            Err(ApiError::Invalid { fields, .. }) => errors = fields,
            Err(ApiError::Conflict { .. }) => {
                errors.push(iso20k_bundle::records::FieldError {
                    field: String::new(),
                    message: "someone else changed this audit while you were editing it: open it again to see their change, then make yours".into(),
                });
            }
            Err(e) => return Err(Failure(e)),
        }
    }
    audit_page(
        &app,
        &browser,
        &access,
        &id,
        Extra {
            status: Some(StatusCode::UNPROCESSABLE_ENTITY),
            plan: Some(value),
            plan_errors: errors,
            ..Extra::default()
        },
    )
    .await
}

pub(crate) async fn status(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    let posted = pairs(&body);
    browser.check_csrf(Some(&one(&posted, "csrf")))?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let Some(step) = AuditStep::parse(&one(&posted, "status")) else {
        return Err(Failure(ApiError::field(
            "status",
            "not one of planned, in-progress, reported or closed",
        )));
    };
    let change = a::StatusChange {
        status: step,
        on: Some(one(&posted, "on")),
        version: one(&posted, "_version").parse().ok(),
    };
    match a::change_status(&app, &access, &id, change).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "{}?moved={}",
            audit_link(&slug, &id),
            one(&posted, "status")
        ))
        .into_response()),
        Err(e) => {
            let (status, alert) = refusal(e)?;
            audit_page(
                &app,
                &browser,
                &access,
                &id,
                Extra {
                    alert,
                    status: Some(status),
                    ..Extra::default()
                },
            )
            .await
        }
    }
}

pub(crate) async fn add_finding(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    let posted = pairs(&body);
    browser.check_csrf(Some(&one(&posted, "csrf")))?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let shown = json!({
        "grade": one(&posted, "grade"),
        "clause": one(&posted, "clause"),
        "process": one(&posted, "process"),
        "statement": one(&posted, "statement"),
        "items": all(&posted, "items"),
        "files": all(&posted, "files"),
        "other": one(&posted, "other"),
        "due": one(&posted, "due"),
        "sample": one(&posted, "sample"),
    });
    let outcome = match FindingGrade::parse(&one(&posted, "grade")) {
        None => Err(ApiError::field(
            "grade",
            "choose major, minor or observation",
        )),
        Some(grade) => {
            let mut evidence = all(&posted, "items");
            evidence.extend(all(&posted, "files"));
            evidence.extend(lines(&one(&posted, "other")));
            a::add_finding(
                &app,
                &access,
                &id,
                a::NewFinding {
                    grade,
                    clause: Some(one(&posted, "clause")),
                    process: Some(one(&posted, "process")),
                    statement: one(&posted, "statement"),
                    evidence: dedup(evidence),
                    due: Some(one(&posted, "due")),
                    sample: Some(one(&posted, "sample")),
                    version: one(&posted, "_version").parse().ok(),
                },
            )
            .await
        }
    };
    match outcome {
        Ok(added) => Ok(to_finding(&slug, &id, &added.finding)),
        Err(e) => {
            let (status, alert) = refusal(e)?;
            audit_page(
                &app,
                &browser,
                &access,
                &id,
                Extra {
                    alert,
                    status: Some(status),
                    finding: Some(shown),
                    ..Extra::default()
                },
            )
            .await
        }
    }
}

/// The draw form read into the API's request; what cannot be read is refused naming the field.
fn read_draw(posted: &[(String, String)]) -> Result<a::DrawRequest, ApiError> {
    let method = match one(posted, "method").as_str() {
        "" | "statistical" => SamplingMethod::Statistical,
        "judgement" => SamplingMethod::Judgement,
        _ => {
            return Err(ApiError::field(
                "method",
                "choose statistical or by judgement",
            ));
        }
    };
    let number = |name: &str| -> Result<Option<f64>, ApiError> {
        let t = one(posted, name);
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<f64>()
            .map(Some)
            .map_err(|_| ApiError::field(name, format!("`{t}` is not a number")))
    };
    let (confidence, tdr, size) = match method {
        SamplingMethod::Statistical => (number("confidence")?, number("tdr")?, None),
        SamplingMethod::Judgement => {
            let t = one(posted, "size");
            let size = if t.is_empty() {
                None
            } else {
                Some(t.parse::<u64>().map_err(|_| {
                    ApiError::field("size", format!("`{t}` is not a whole number of records"))
                })?)
            };
            (None, None, size)
        }
    };
    let seed_text = one(posted, "seed");
    let seed = if seed_text.is_empty() {
        None
    } else {
        Some(seed_text.parse::<u64>().map_err(|_| {
            ApiError::field(
                "seed",
                format!("`{seed_text}` is not a whole number from 0 to 18446744073709551615"),
            )
        })?)
    };
    Ok(a::DrawRequest {
        kind: one(posted, "kind"),
        from: Some(one(posted, "from")),
        to: Some(one(posted, "to")),
        filters: lines(&one(posted, "where")),
        method,
        confidence,
        tdr,
        size,
        rationale: Some(one(posted, "rationale")).filter(|r| !r.is_empty()),
        items: lines(&one(posted, "items")),
        seed,
        drawn_on: None,
        version: one(posted, "_version").parse().ok(),
    })
}

pub(crate) async fn draw(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    let posted = pairs(&body);
    browser.check_csrf(Some(&one(&posted, "csrf")))?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let shown: serde_json::Map<String, Value> = [
        "kind",
        "from",
        "to",
        "where",
        "method",
        "confidence",
        "tdr",
        "size",
        "rationale",
        "seed",
    ]
    .iter()
    .map(|f| ((*f).to_owned(), json!(one(&posted, f))))
    .collect();
    let outcome = match read_draw(&posted) {
        Ok(req) => a::draw(&app, &access, &id, req).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(drawn) => Ok(Redirect::to(&format!(
            "{}/samples/{}?drawn=1",
            audit_link(&slug, &id),
            encode_segment(&drawn.sample.id)
        ))
        .into_response()),
        Err(e) => {
            let (status, alert) = refusal(e)?;
            audit_page(
                &app,
                &browser,
                &access,
                &id,
                Extra {
                    alert,
                    status: Some(status),
                    draw: Some(Value::Object(shown)),
                    ..Extra::default()
                },
            )
            .await
        }
    }
}

/// Back to the audit's findings, saying which one was just added.
fn to_finding(slug: &str, id: &str, finding: &str) -> Response {
    let q: String = form_urlencoded::byte_serialize(finding.as_bytes()).collect();
    Redirect::to(&format!("{}?finding={q}#findings", audit_link(slug, id))).into_response()
}

pub(crate) async fn attach(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
    multipart: Multipart,
) -> PageResult {
    let kind = kind_named("audits")?;
    super::records::store_upload(&app, &browser, &slug, kind, &id, multipart).await?;
    Ok(Redirect::to(&format!("{}#evidence-title", audit_link(&slug, &id))).into_response())
}

// ---------------------------------------------------------------------------------------------
// A sample

#[derive(Deserialize, Default)]
pub(crate) struct SampleShown {
    drawn: Option<String>,
    saved: Option<String>,
}

pub(crate) async fn sample_page(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id, sample)): Path<(String, String, String)>,
    Query(shown): Query<SampleShown>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let notice = if shown.drawn.is_some() {
        Some("Drawn and kept in the audit. Test each item, then save the results.".to_owned())
    } else {
        shown.saved.map(|_| "Results saved.".to_owned())
    };
    sample_response(
        &app,
        &browser,
        &access,
        &id,
        &sample,
        notice,
        Vec::new(),
        None,
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn sample_response(
    app: &App,
    browser: &Browser,
    access: &Access,
    id: &str,
    sample_id: &str,
    notice: Option<String>,
    alert: Vec<String>,
    roll_posted: Option<Value>,
    status: StatusCode,
) -> PageResult {
    let (record, body) = a::read_audit(app, access, id).await?;
    let audit = a::model_of(&body)?;
    let Some(s) = audit.samples.iter().find(|s| s.id == sample_id) else {
        return Err(Failure(ApiError::NotFound(format!(
            "audit {id} has no sample `{sample_id}`"
        ))));
    };
    let sms = app.current_model(&access.org).await?;
    let slug = &access.org.slug;
    let mut items = Vec::new();
    for (i, item) in s.items.iter().enumerate() {
        let href = item_link(app, access, &s.population.kind, &item.id, i < CHECKED_LINKS).await?;
        items.push(json!({
            "n": i + 1,
            "index": i,
            "id": item.id,
            "href": href,
            "result": item.result.map(|r| SampleResult::from(r).key()).unwrap_or(""),
            "note": item.note.clone().unwrap_or_default(),
        }));
    }
    let failing = s
        .items
        .iter()
        .any(|i| i.result == Some(ItemResult::DoesNotConform));
    let posted = |f: &str| {
        roll_posted
            .as_ref()
            .and_then(|p| p.get(f))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let grade = posted("grade").unwrap_or_else(|| "minor".to_owned());
    let clause_chosen =
        posted("clause").unwrap_or_else(|| audit.clauses.first().cloned().unwrap_or_default());
    let mut clauses = vec![option("", "—".to_owned(), clause_chosen.is_empty())];
    for c in &audit.clauses {
        let label = clause::find(sms.edition(), c)
            .map_or_else(|| c.clone(), |x| format!("{} {} (in scope)", x.id, x.title));
        clauses.push(option(c, label, *c == clause_chosen));
    }
    for c in clause::catalogue(sms.edition())
        .iter()
        .filter(|c| c.is_requirement() && !audit.clauses.iter().any(|x| x == c.id))
    {
        clauses.push(option(
            c.id,
            format!("{} {}", c.id, c.title),
            c.id == clause_chosen,
        ));
    }
    let process_chosen = posted("process").unwrap_or_else(|| {
        if audit.processes.len() == 1 {
            audit.processes[0].clone()
        } else {
            String::new()
        }
    });
    let mut processes = vec![option("", "—".to_owned(), process_chosen.is_empty())];
    for p in &sms.processes {
        processes.push(option(
            &p.id,
            format!("{} — {}", p.id, p.name),
            p.id == process_chosen,
        ));
    }
    let roll = (failing && s.finding.is_none() && can_write(access)).then(|| {
        json!({
            "statement": posted("statement").unwrap_or_else(|| a::roll_statement(s)),
            "grades": GRADES.iter().map(|g| option(g, capitalised(g), *g == grade)).collect::<Vec<_>>(),
            "clauses": clauses,
            "processes": processes,
        })
    });
    let base = audit_link(slug, id);
    let seed_line = s.seed.map(|seed| {
        let mut cmd = format!("iso20k sample SMS-FOLDER --kind {}", s.population.kind);
        if let Some(f) = s.population.from {
            cmd.push_str(&format!(" --from {f}"));
        }
        if let Some(t) = s.population.to {
            cmd.push_str(&format!(" --to {t}"));
        }
        for f in &s.population.filters {
            cmd.push_str(&format!(" --where '{f}'"));
        }
        match (s.method, s.confidence, s.tdr) {
            (iso20k_core::model::SampleMethod::Statistical, Some(c), Some(t)) => {
                cmd.push_str(&format!(" --confidence {c} --tdr {t}"));
            }
            _ => cmd.push_str(&format!(" --size {}", s.items.len())),
        }
        cmd.push_str(&format!(" --seed {seed}"));
        cmd
    });
    let chrome = browser.chrome(app, Some(access), "audits").await?;
    let mut page = render(
        "sample.html",
        json!({
            "chrome": chrome,
            "writable": can_write(access),
            "audit": { "id": audit.id, "title": audit.title, "href": base, "version": record.version },
            "sample": {
                "id": s.id,
                "enc": encode_segment(&s.id),
                "population": population_words(&s.population),
                "population_size": s.population_size,
                "method": method_words(s),
                "seed": s.seed,
                "drawn_on": s.drawn_on.map(|d| d.to_string()),
                "size": s.items.len(),
                "whole": (s.items.len() as u64) >= s.population_size,
                "finding": s.finding,
                "tally": a::tally(&s.items).words,
            },
            "command": seed_line,
            "items": items,
            "roll": roll,
            "notice": notice,
            "alert": alert,
        }),
    );
    *page.status_mut() = status;
    Ok(page)
}

pub(crate) async fn save_results(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id, sample)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    let posted = pairs(&body);
    browser.check_csrf(Some(&one(&posted, "csrf")))?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let mut updates = Vec::new();
    let mut bad = Vec::new();
    for (name, item) in posted.iter().filter(|(k, _)| k.starts_with("item.")) {
        let i = &name["item.".len()..];
        let result = one(&posted, &format!("result.{i}"));
        let result = match result.as_str() {
            "" => None,
            other => match SampleResult::parse(other) {
                Some(r) => Some(r),
                None => {
                    bad.push(format!(
                        "Item {item}: “{other}” is not a result this form offers."
                    ));
                    None
                }
            },
        };
        updates.push(a::ItemUpdate {
            id: item.clone(),
            result,
            note: Some(one(&posted, &format!("note.{i}"))),
        });
    }
    let outcome = if bad.is_empty() {
        a::save_items(
            &app,
            &access,
            &id,
            &sample,
            updates,
            one(&posted, "_version").parse().ok(),
        )
        .await
    } else {
        Err(ApiError::field("", bad.join(" ")))
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!(
            "{}/samples/{}?saved=1",
            audit_link(&slug, &id),
            encode_segment(&sample)
        ))
        .into_response()),
        Err(e) => {
            let (status, alert) = refusal(e)?;
            sample_response(
                &app, &browser, &access, &id, &sample, None, alert, None, status,
            )
            .await
        }
    }
}

pub(crate) async fn roll(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id, sample)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    let posted = pairs(&body);
    browser.check_csrf(Some(&one(&posted, "csrf")))?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let outcome = match FindingGrade::parse(&one(&posted, "grade")) {
        None => Err(ApiError::field(
            "grade",
            "choose major, minor or observation",
        )),
        Some(grade) => {
            a::roll(
                &app,
                &access,
                &id,
                &sample,
                a::RollFinding {
                    grade: Some(grade),
                    clause: Some(one(&posted, "clause")),
                    process: Some(one(&posted, "process")),
                    statement: Some(one(&posted, "statement")),
                    version: one(&posted, "_version").parse().ok(),
                },
            )
            .await
        }
    };
    match outcome {
        Ok(added) => Ok(to_finding(&slug, &id, &added.finding)),
        Err(e) => {
            let (status, alert) = refusal(e)?;
            let shown = json!({
                "grade": one(&posted, "grade"),
                "clause": one(&posted, "clause"),
                "process": one(&posted, "process"),
                "statement": one(&posted, "statement"),
            });
            sample_response(
                &app,
                &browser,
                &access,
                &id,
                &sample,
                None,
                alert,
                Some(shown),
                status,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reports

pub(crate) async fn report_html(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let bytes = a::report_bytes(&app, &access, &id, false).await?;
    let mut response = Response::new(axum::body::Body::from(bytes));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The report is one page of our own markup with its style inline: nothing else may load.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    Ok(response)
}

pub(crate) async fn report_pdf(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let bytes = a::report_bytes(&app, &access, &id, true).await?;
    let mut response = Response::new(axum::body::Body::from(bytes));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let name = format!("{}-audit-{}.pdf", access.org.slug, a::file_safe(&id));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// Two days compared

#[derive(Deserialize, Default)]
pub(crate) struct DiffPageQuery {
    from: Option<String>,
    to: Option<String>,
    edition: Option<String>,
    all: Option<String>,
}

pub(crate) async fn diff_page(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    Query(q): Query<DiffPageQuery>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let asked = a::DiffQuery {
        from: q.from.clone(),
        to: q.to.clone(),
        edition: q.edition.clone(),
    };
    let d = a::diff(&app, &access, &asked).await?;
    let link = |id: &str, day: &str| {
        format!(
            "/orgs/{slug}/findings/{}?as_of={day}&edition={}",
            id.replace('/', "--"),
            d.edition
        )
    };
    let list = |ids: &[String], day: &str| -> Vec<Value> {
        ids.iter()
            .map(|id| {
                let f = d.findings.get(id);
                json!({
                    "id": id,
                    "href": link(id, day),
                    "title": f.map(|f| f.title.clone()),
                    "grade": f.map(|f| f.grade),
                })
            })
            .collect()
    };
    let show_all = q.all.is_some();
    let clauses: Vec<Value> = d
        .clauses
        .iter()
        .filter(|c| show_all || (c.then - c.now).abs() >= 0.05)
        .map(|c| {
            json!({
                "clause": c.clause,
                "title": c.title,
                "then": c.then,
                "now": c.now,
                "up": c.now > c.then + 0.05,
                "down": c.now + 0.05 < c.then,
                "href": format!("/orgs/{slug}/clauses/{}?as_of={}&edition={}", c.clause, d.to, d.edition),
            })
        })
        .collect();
    let moved = d
        .clauses
        .iter()
        .filter(|c| (c.then - c.now).abs() >= 0.05)
        .count();
    let toggle = {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("from", &d.from).append_pair("to", &d.to);
        if let Some(e) = q.edition.as_deref().filter(|e| !e.is_empty()) {
            s.append_pair("edition", e);
        }
        if !show_all {
            s.append_pair("all", "1");
        }
        format!("/orgs/{slug}/diff?{}", s.finish())
    };
    let chrome = browser.chrome(&app, Some(&access), "programme").await?;
    Ok(render(
        "diff.html",
        json!({
            "chrome": chrome,
            "d": d,
            "new": list(&d.new, &d.to),
            "resolved": list(&d.resolved, &d.from),
            "recurring": list(&d.recurring, &d.to),
            "clauses": clauses,
            "moved": moved,
            "total": d.clauses.len(),
            "all": show_all,
            "toggle": toggle,
        }),
    ))
}
