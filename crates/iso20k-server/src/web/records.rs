//! The registers: every kind of record listed, shown with its history and evidence, and
//! edited in a form drawn from its schema. Writes go through the same checks as the API.

use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use iso20k_bundle::records::{KINDS, Kind};
use iso20k_store::{ChangeFilter, StoreError, Write};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Browser, Failure, PageResult, render};
use super::{form, registers};
use crate::App;
use crate::api::{check_record, encode_segment, kind_named};
use crate::auth::Access;
use crate::error::ApiError;

/// Where a finding's evidence lives, as a link.
pub(crate) struct Target {
    pub kind: &'static Kind,
    pub key: Option<String>,
}

impl Target {
    pub(crate) fn link(&self, slug: &str) -> String {
        match &self.key {
            Some(key) => format!(
                "/orgs/{slug}/records/{}/{}",
                self.kind.name,
                encode_segment(key)
            ),
            None => format!("/orgs/{slug}/records/{}", self.kind.name),
        }
    }
}

/// The record behind a piece of a finding's evidence.
pub(crate) fn evidence_target(kind: &str, id: &str) -> Option<Target> {
    iso20k_bundle::records::for_evidence(kind, id).map(|p| Target {
        kind: p.kind,
        key: p.key,
    })
}

pub(crate) async fn kinds(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let chrome = browser.chrome(&app, Some(&access), "records").await?;
    let counts = app.counts(&access.org).await?;
    let kinds: Vec<Value> = KINDS
        .iter()
        .map(|k| {
            json!({
                "name": k.name,
                "what": k.what,
                "file": k.file,
                "ticket": k.ticket,
                "count": counts.get(k.name).copied().unwrap_or(0),
                // A singleton's register is its one record: link there, not to a redirect.
                "href": if k.singleton {
                    format!("records/{}/{}", k.name, k.name)
                } else {
                    format!("records/{}", k.name)
                },
            })
        })
        .collect();
    Ok(render(
        "kinds.html",
        json!({ "chrome": chrome, "kinds": kinds }),
    ))
}

const PAGE: usize = 50;

/// How many records each read of a search fetches.
const BATCH: i64 = 1_000;

pub(crate) async fn list(
    State(app): State<App>,
    browser: Browser,
    Path((slug, kind)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let kind = kind_named(&kind)?;
    if kind.singleton {
        return Ok(
            Redirect::to(&format!("/orgs/{slug}/records/{}/{}", kind.name, kind.name))
                .into_response(),
        );
    }
    let columns = registers::columns(kind, &summary_columns(kind));
    let asked = registers::Asked::read(&query, &columns, kind)?;
    let chrome = browser.chrome(&app, Some(&access), "records").await?;
    let citations = registers::Citations::current(&app, &access).await?;
    let total = app
        .counts(&access.org)
        .await?
        .get(kind.name)
        .copied()
        .unwrap_or(0);
    let store = app.store();
    let seen_at = registers::seen_columns(&columns);
    let mut seen: std::collections::BTreeMap<usize, std::collections::BTreeSet<String>> =
        Default::default();
    // Tickets may run to millions: listed plainly they are read a page at a time by key.
    // Everything else, and any search, filter or sort, reads the kind whole (up to a cap).
    let paged = kind.ticket && asked.plain();
    let (rows, matched, capped, next, previous) = if paged {
        let mut records = store
            .records(
                access.org.id,
                kind.name,
                asked.after.as_deref(),
                PAGE as i64 + 1,
            )
            .await?;
        let next = (records.len() > PAGE).then(|| {
            records.truncate(PAGE);
            let last = records.last().map(|r| r.key.clone()).unwrap_or_default();
            registers::link(&query, &[("after", &last), ("page", "")])
        });
        let rows: Vec<registers::Row> = records
            .iter()
            .map(|r| registers::row(kind, &columns, &citations, r))
            .collect();
        (rows, None, None, next, None)
    } else {
        let mut rows = Vec::new();
        let mut after: Option<String> = None;
        let mut read = 0usize;
        let mut capped = false;
        let cap = app.config().register_cap;
        loop {
            let batch = store
                .records(access.org.id, kind.name, after.as_deref(), BATCH)
                .await?;
            let full = batch.len() as i64 == BATCH;
            after = batch.last().map(|r| r.key.clone());
            for r in &batch {
                if read == cap {
                    capped = true;
                    break;
                }
                read += 1;
                let row = registers::row(kind, &columns, &citations, r);
                for i in &seen_at {
                    if !row.cells[*i].is_empty() {
                        seen.entry(*i).or_default().insert(row.cells[*i].clone());
                    }
                }
                if asked.wants(&row) {
                    rows.push(row);
                }
            }
            if capped || !full {
                break;
            }
        }
        asked.order(&mut rows);
        let matched = rows.len();
        let pages = matched.div_ceil(PAGE).max(1);
        if asked.page > pages {
            return Err(Failure(ApiError::field(
                "",
                format!(
                    "there is no page {} of these {}: there {} {pages}",
                    asked.page,
                    kind.name.replace('-', " "),
                    if pages == 1 { "is" } else { "are" }
                ),
            )));
        }
        let from = (asked.page - 1) * PAGE;
        let rows: Vec<registers::Row> = rows.into_iter().skip(from).take(PAGE).collect();
        let page_link =
            |n: usize| registers::link(&query, &[("page", &n.to_string()), ("after", "")]);
        let next = (asked.page < pages).then(|| page_link(asked.page + 1));
        let previous = (asked.page > 1).then(|| page_link(asked.page - 1));
        (rows, Some(matched), capped.then_some(read), next, previous)
    };
    let filters = registers::filter_form(&app, &access, &columns, &asked, &seen).await?;
    // Unsorted, the list is in key order.
    let sorted = asked.sort.or(Some((None, false)));
    let mut heads: Vec<Value> = vec![head("key", "Key", None, sorted, &query)];
    for (i, c) in columns.iter().enumerate() {
        heads.push(head(c.key, &c.label, Some(i), sorted, &query));
    }
    heads.push(head(
        "updated",
        "Last changed",
        Some(registers::UPDATED),
        sorted,
        &query,
    ));
    let base = format!("/orgs/{slug}/records/{}", kind.name);
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let href = format!("{base}/{}", encode_segment(&r.key));
            json!({
                "key": r.key,
                "version": r.version,
                "href": href,
                "cells": r.cells,
                "findings": r.findings,
                "findings_href": format!("{href}#findings-title"),
                "updated_at": r.updated_at,
                "updated_by": r.updated_by,
            })
        })
        .collect();
    let search = query
        .iter()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default();
    let kind_view = kind_json(kind, &access);
    Ok(render(
        "records.html",
        json!({
            "chrome": chrome,
            "kind": kind_view,
            "heads": heads,
            "rows": rows,
            "total": total,
            "matched": matched,
            "narrowed": !asked.plain(),
            "capped": capped,
            "cap": app.config().register_cap,
            "search": search,
            "filters": filters,
            "sort": query.iter().find(|(k, _)| k == "sort").map(|(_, v)| v.clone()),
            "dir": query.iter().find(|(k, _)| k == "dir").map(|(_, v)| v.clone()),
            "next": next,
            "previous": previous,
            "bulk_review": kind.name == "documents" && access.can_write(kind),
            "today": crate::readiness::today().to_string(),
            "notice": registers::review_notice(&query),
            "back": registers::link(&query, &[]),
        }),
    ))
}

/// A column's header: a link sorting by it, ascending first, or the other way round when the
/// list is sorted by it already.
fn head(
    key: &str,
    label: &str,
    column: Option<usize>,
    sorted: Option<(Option<usize>, bool)>,
    query: &[(String, String)],
) -> Value {
    let current = sorted.filter(|(c, _)| *c == column).map(|(_, desc)| desc);
    let dir = match current {
        Some(false) => "desc",
        _ => "asc",
    };
    json!({
        "label": label,
        "href": registers::link(query, &[("sort", key), ("dir", dir), ("page", ""), ("after", "")]),
        "aria_sort": current.map(|desc| if desc { "descending" } else { "ascending" }),
        "next_dir": if dir == "asc" { "ascending" } else { "descending" },
    })
}

/// The fields a list shows besides the key: the ones that say what a record is.
fn summary_columns(kind: &Kind) -> Vec<&'static str> {
    let wanted = [
        "title",
        "name",
        "description",
        "short_description",
        "status",
        "state",
        "owner",
        "held_on",
        "priority",
        "grade",
        "answer",
        "service",
    ];
    let schema = form::Schema::of(kind);
    let props = schema.property_names();
    wanted
        .into_iter()
        .filter(|w| props.iter().any(|p| p == w))
        .take(4)
        .collect()
}

/// A warning's field in words: `approved_by` → "Approved by", `actions[1].owner` → "Actions 2:
/// owner".
fn warning_label(path: &str) -> String {
    let words: Vec<String> = path
        .split('.')
        .map(|segment| match segment.split_once('[') {
            Some((name, rest)) => {
                let n: usize = rest.trim_end_matches(']').parse().unwrap_or(0);
                format!("{} {}", name.replace('_', " "), n + 1)
            }
            None => segment.replace('_', " "),
        })
        .collect();
    capitalised(&words.join(": "))
}

fn capitalised(text: &str) -> String {
    let mut c = text.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn kind_json(kind: &Kind, access: &Access) -> Value {
    json!({
        "name": kind.name,
        "what": kind.what,
        "file": kind.file,
        "key": kind.key,
        "singleton": kind.singleton,
        "writable": access.can_write(kind),
    })
}

/// The empty form of a kind. Links may fill top-level fields in advance through the query
/// (`?pattern=F-012` from a checklist question), as a person could have typed them.
pub(crate) async fn new(
    State(app): State<App>,
    browser: Browser,
    Path((slug, kind)): Path<(String, String)>,
    Query(given): Query<std::collections::BTreeMap<String, String>>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let kind = kind_named(&kind)?;
    access.require_write(kind)?;
    let schema = form::Schema::of(kind);
    let fields = schema.property_names();
    // A list field given one value starts as a list of it ("a plan covering this service").
    let start: serde_json::Map<String, Value> = given
        .into_iter()
        .filter(|(k, _)| fields.contains(k))
        .map(|(k, v)| {
            let value = if schema.is_list(&k) {
                Value::Array(vec![Value::String(v)])
            } else {
                Value::String(v)
            };
            (k, value)
        })
        .collect();
    form_page(
        &app,
        &browser,
        &access,
        kind,
        None,
        &Value::Object(start),
        &[],
        false,
    )
    .await
}

/// The record page: its fields in a form (read-only for who may not edit), its evidence and
/// its history.
#[allow(clippy::too_many_arguments)]
async fn form_page(
    app: &App,
    browser: &Browser,
    access: &Access,
    kind: &'static Kind,
    existing: Option<&iso20k_store::Record>,
    value: &Value,
    errors: &[iso20k_bundle::records::FieldError],
    saved: bool,
) -> PageResult {
    let chrome = browser.chrome(app, Some(access), "records").await?;
    let by_name = form::error_names(errors);
    // References are picked from the registers as they are now, and what the values shown
    // name that is not there is said beside each field: always true, whatever came before.
    let has_refs = crate::refs::fields_of(kind.name).next().is_some();
    let sms = match has_refs {
        true => Some(app.current_model(&access.org).await?),
        false => None,
    };
    let warnings = match &sms {
        Some(sms) if value.is_object() => crate::refs::warnings(sms, kind.name, value),
        _ => Vec::new(),
    };
    let mut refs = form::Refs {
        sms: sms.as_deref(),
        ..form::Refs::default()
    };
    for w in &warnings {
        refs.warnings
            .entry(form::form_name(&w.field))
            .and_modify(|m| {
                m.push_str("; ");
                m.push_str(&w.message);
            })
            .or_insert_with(|| capitalised(&w.message));
    }
    let fields = form::fields(kind, value, &by_name, &refs);
    let notice = (!warnings.is_empty()).then(|| {
        let count = match warnings.len() {
            1 => "1 reference does not resolve".to_owned(),
            n => format!("{n} references do not resolve"),
        };
        let each: Vec<String> = warnings
            .iter()
            .map(|w| format!("{} {}", warning_label(&w.field), w.message))
            .collect();
        format!("{count}: {}.", each.join("; "))
    });
    let (evidence, history) = match existing {
        Some(r) => {
            let evidence = app
                .store()
                .evidence(access.org.id, kind.name, &r.key)
                .await?;
            let history = app
                .store()
                .changes(
                    access.org.id,
                    &ChangeFilter {
                        kind: Some(kind.name.to_owned()),
                        key: Some(r.key.clone()),
                        before_id: None,
                        limit: 20,
                    },
                )
                .await?;
            (
                evidence
                    .into_iter()
                    .map(|e| json!({ "id": e.id, "name": e.name, "size": e.size, "sha256": e.sha256, "at": e.created_at, "by": e.created_by }))
                    .collect::<Vec<_>>(),
                history
                    .into_iter()
                    .map(|c| super::trail::entry(&access.org.slug, &c))
                    .collect::<Vec<_>>(),
            )
        }
        None => (Vec::new(), Vec::new()),
    };
    let slug = &access.org.slug;
    let action = match existing {
        Some(r) => format!(
            "/orgs/{slug}/records/{}/{}",
            kind.name,
            encode_segment(&r.key)
        ),
        None => format!("/orgs/{slug}/records/{}", kind.name),
    };
    let unplaced: Vec<String> = errors
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
    let findings = match existing {
        Some(r) => {
            let citations = registers::Citations::current(app, access).await?;
            Some(citations.with_notes(kind, &r.key, value))
        }
        None => None,
    };
    let lifecycle = match (kind.name, existing) {
        ("documents", Some(_)) => lifecycle_panel(app, access, value).await?,
        _ => None,
    };
    let nc_panel = match existing {
        Some(r) => super::nc::panel(app, access, kind, &r.key, value).await?,
        None => None,
    };
    let mut page = render(
        "record.html",
        json!({
            "chrome": chrome,
            "kind": kind_json(kind, access),
            "record": existing.map(|r| json!({ "key": r.key, "enc": encode_segment(&r.key), "version": r.version, "updated_at": r.updated_at, "updated_by": r.updated_by })),
            "fields": fields,
            "action": action,
            "errors": unplaced,
            "saved": saved,
            "warnings": notice,
            "evidence": evidence,
            "history": history,
            "can_attach": access.expires_at.is_none() && access.role != crate::auth::Role::Viewer,
            "max_upload_mib": app.config().max_upload / (1024 * 1024),
            "lifecycle": lifecycle,
            "findings": findings,
            "nc_panel": nc_panel,
        }),
    );
    if !errors.is_empty() {
        *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

#[derive(Deserialize)]
pub(crate) struct Shown {
    saved: Option<String>,
}

pub(crate) async fn show(
    State(app): State<App>,
    browser: Browser,
    Path((slug, kind, key)): Path<(String, String, String)>,
    Query(shown): Query<Shown>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let kind = kind_named(&kind)?;
    let record = app.store().record(access.org.id, kind.name, &key).await?;
    let Some(record) = record else {
        if kind.singleton && access.can_write(kind) {
            // A one-of-a-kind record not written yet: offer the empty form.
            return form_page(
                &app,
                &browser,
                &access,
                kind,
                None,
                &Value::Null,
                &[],
                false,
            )
            .await;
        }
        return Err(Failure(ApiError::NotFound(format!(
            "no {} `{key}`",
            kind.what
        ))));
    };
    let value: Value = serde_json::from_str(&record.body).map_err(ApiError::internal)?;
    form_page(
        &app,
        &browser,
        &access,
        kind,
        Some(&record),
        &value,
        &[],
        shown.saved.is_some(),
    )
    .await
}

/// A posted form as name-value pairs, in order (a list of checkboxes repeats its name).
pub(crate) fn pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// Removes the first value posted under `name`, leaving the rest for the form reader.
pub(crate) fn take(pairs: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let i = pairs.iter().position(|(k, _)| k == name)?;
    Some(pairs.remove(i).1)
}

pub(crate) async fn create(
    State(app): State<App>,
    browser: Browser,
    Path((slug, kind)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    let mut posted = pairs(&body);
    browser.check_csrf(take(&mut posted, "csrf").as_deref())?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let kind = kind_named(&kind)?;
    access.require_write(kind)?;
    let value = form::read(kind, &posted);
    let entry = match check_record(&app, &access.org, kind, &value).await {
        Ok(entry) => entry,
        Err(ApiError::Invalid { fields, .. }) => {
            return form_page(&app, &browser, &access, kind, None, &value, &fields, false).await;
        }
        Err(e) => return Err(Failure(e)),
    };
    let entry = match crate::nc::gate_record(kind, &access, None, entry) {
        Ok(entry) => entry,
        Err(refusal) => {
            let page = form_page(
                &app,
                &browser,
                &access,
                kind,
                None,
                &value,
                &[refused(&refusal)],
                false,
            )
            .await?;
            return Ok(with_status(page, &refusal));
        }
    };
    let write = Write {
        kind: kind.name.to_owned(),
        key: entry.key,
        body: entry.body,
    };
    match app
        .store()
        .create(access.org.id, &access.auth.actor(), &write)
        .await
    {
        Ok(record) => {
            app.changed(&access.org);
            Ok(Redirect::to(&format!(
                "/orgs/{slug}/records/{}/{}?saved=1",
                kind.name,
                encode_segment(&record.key)
            ))
            .into_response())
        }
        Err(StoreError::Conflict(_)) => {
            let errors = vec![iso20k_bundle::records::FieldError {
                field: kind
                    .key
                    .split(['/', '[', ' '])
                    .next()
                    .unwrap_or("id")
                    .to_owned(),
                message: format!("{} `{}` exists already", kind.what, write.key),
            }];
            form_page(&app, &browser, &access, kind, None, &value, &errors, false).await
        }
        Err(e) => Err(Failure(e.into())),
    }
}

pub(crate) async fn update(
    State(app): State<App>,
    browser: Browser,
    Path((slug, kind, key)): Path<(String, String, String)>,
    body: axum::body::Bytes,
) -> PageResult {
    let mut posted = pairs(&body);
    browser.check_csrf(take(&mut posted, "csrf").as_deref())?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let kind = kind_named(&kind)?;
    access.require_write(kind)?;
    // `_version` is the stored revision; a document's own `version` is one of its fields.
    let version: Option<i64> = take(&mut posted, "_version").and_then(|v| v.parse().ok());
    let value = form::read(kind, &posted);
    let existing = app.store().record(access.org.id, kind.name, &key).await?;
    let invalid = |fields: Vec<iso20k_bundle::records::FieldError>| {
        let existing = existing.clone();
        let value = value.clone();
        let app = app.clone();
        let access = &access;
        let browser = &browser;
        async move {
            form_page(
                &app,
                browser,
                access,
                kind,
                existing.as_ref(),
                &value,
                &fields,
                false,
            )
            .await
        }
    };
    let entry = match check_record(&app, &access.org, kind, &value).await {
        Ok(entry) => entry,
        Err(ApiError::Invalid { fields, .. }) => return invalid(fields).await,
        Err(e) => return Err(Failure(e)),
    };
    let key_field = kind
        .key
        .split(['/', '[', ' '])
        .next()
        .unwrap_or("id")
        .to_owned();
    if entry.key != key {
        return invalid(vec![iso20k_bundle::records::FieldError {
            field: key_field,
            message: format!(
                "this is {} `{key}`: to rename it, create the new one and delete this",
                kind.what
            ),
        }])
        .await;
    }
    let gated = match &existing {
        // Changed since the form was drawn: the store refuses it below, saying so.
        Some(r) if Some(r.version) != version => Ok(entry),
        before => crate::nc::gate_record(
            kind,
            &access,
            before.as_ref().map(|r| r.body.as_str()),
            entry,
        ),
    };
    let entry = match gated {
        Ok(entry) => entry,
        Err(refusal) => {
            let page = invalid(vec![refused(&refusal)]).await?;
            return Ok(with_status(page, &refusal));
        }
    };
    let write = Write {
        kind: kind.name.to_owned(),
        key: key.clone(),
        body: entry.body,
    };
    let result = match (&existing, version) {
        (Some(_), Some(v)) => {
            app.store()
                .update(access.org.id, &access.auth.actor(), &write, v)
                .await
        }
        // A one-of-a-kind record saved for the first time.
        (None, _) => {
            app.store()
                .create(access.org.id, &access.auth.actor(), &write)
                .await
        }
        (Some(_), None) => {
            return Err(Failure(ApiError::field(
                "version",
                "the form lost its version: reload the page",
            )));
        }
    };
    match result {
        Ok(_) => {
            app.changed(&access.org);
            Ok(Redirect::to(&format!(
                "/orgs/{slug}/records/{}/{}?saved=1",
                kind.name,
                encode_segment(&key)
            ))
            .into_response())
        }
        Err(StoreError::Stale { .. }) => {
            invalid(vec![iso20k_bundle::records::FieldError {
                field: String::new(),
                message: "someone else changed this record while you were editing it: open it again to see their change, then make yours".to_owned(),
            }])
            .await
        }
        Err(e) => Err(Failure(e.into())),
    }
}

/// The nonconformity gate's refusal as an error beside its field.
fn refused(refusal: &crate::nc::Refusal) -> iso20k_bundle::records::FieldError {
    iso20k_bundle::records::FieldError {
        field: refusal.field.to_owned(),
        message: refusal.error.to_string(),
    }
}

/// The form page, answered with the refusal's status (403, 409) rather than 422.
fn with_status(
    mut page: axum::response::Response,
    refusal: &crate::nc::Refusal,
) -> axum::response::Response {
    *page.status_mut() = refusal.error.status();
    page
}

#[derive(Deserialize)]
pub(crate) struct DeleteForm {
    csrf: Option<String>,
    version: Option<i64>,
}

pub(crate) async fn delete(
    State(app): State<App>,
    browser: Browser,
    Path((slug, kind, key)): Path<(String, String, String)>,
    axum::Form(form): axum::Form<DeleteForm>,
) -> PageResult {
    browser.check_csrf(form.csrf.as_deref())?;
    // Without the version the page showed, a delete could remove a change made since unseen.
    let Some(version) = form.version else {
        return Err(Failure(crate::error::ApiError::field(
            "version",
            "the form does not say which version of the record it shows; reload the page and try again",
        )));
    };
    let access = app.access(browser.auth.clone(), &slug).await?;
    let kind = kind_named(&kind)?;
    access.require_write(kind)?;
    let store = app.store();
    let actor = access.auth.actor();
    store
        .delete(access.org.id, &actor, kind.name, &key, Some(version))
        .await?;
    for e in store.evidence(access.org.id, kind.name, &key).await? {
        store.delete_evidence(access.org.id, &actor, e.id).await?;
    }
    app.changed(&access.org);
    Ok(Redirect::to(&format!("/orgs/{slug}/records/{}", kind.name)).into_response())
}

pub(crate) async fn attach(
    State(app): State<App>,
    browser: Browser,
    Path((slug, kind, key)): Path<(String, String, String)>,
    multipart: Multipart,
) -> PageResult {
    let kind = kind_named(&kind)?;
    store_upload(&app, &browser, &slug, kind, &key, multipart).await?;
    Ok(Redirect::to(&format!(
        "/orgs/{slug}/records/{}/{}",
        kind.name,
        encode_segment(&key)
    ))
    .into_response())
}

/// Reads an evidence upload form (its CSRF token and one file) and attaches the file to record
/// `key` of `kind`, for any page that offers an upload.
pub(crate) async fn store_upload(
    app: &App,
    browser: &Browser,
    slug: &str,
    kind: &'static Kind,
    key: &str,
    mut multipart: Multipart,
) -> Result<(), Failure> {
    let mut csrf = None;
    let mut file: Option<(String, String, Vec<u8>)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::field("file", e.body_text()))?
    {
        match field.name() {
            Some("csrf") => {
                csrf = Some(
                    field
                        .text()
                        .await
                        .map_err(|e| ApiError::field("csrf", e.body_text()))?,
                )
            }
            Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let media_type = field
                    .content_type()
                    .filter(|t| t.len() <= 255)
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| ApiError::field("file", e.body_text()))?;
                file = Some((name, media_type, bytes.to_vec()));
            }
            _ => {}
        }
    }
    browser.check_csrf(csrf.as_deref())?;
    let access = app.access(browser.auth.clone(), slug).await?;
    access.require_evidence()?;
    let Some((name, media_type, bytes)) = file.filter(|(_, _, b)| !b.is_empty()) else {
        return Err(Failure(ApiError::field("file", "choose a file to attach")));
    };
    crate::api::store_evidence(app, &access, kind, key, &name, &media_type, bytes).await?;
    Ok(())
}

#[derive(Deserialize)]
pub(crate) struct LifecycleForm {
    csrf: Option<String>,
    version: Option<i64>,
    action: String,
    /// Approve: who approves (a person id).
    approver: Option<String>,
    /// Approve or retire: on which day; today when left out.
    on: Option<String>,
    /// New version: its number.
    next_version: Option<String>,
}

/// The document register's lifecycle in one click each: approve a draft (it becomes current),
/// retire a document (obsolete), or start its next version as a draft.
pub(crate) async fn lifecycle(
    State(app): State<App>,
    browser: Browser,
    Path((slug, key)): Path<(String, String)>,
    axum::Form(form): axum::Form<LifecycleForm>,
) -> PageResult {
    browser.check_csrf(form.csrf.as_deref())?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let kind = kind_named("documents")?;
    access.require_write(kind)?;
    let Some(record) = app.store().record(access.org.id, kind.name, &key).await? else {
        return Err(Failure(ApiError::NotFound(format!("no document `{key}`"))));
    };
    let mut doc: Value = serde_json::from_str(&record.body).map_err(ApiError::internal)?;
    let day = match form.on.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => d.to_owned(),
        None => crate::readiness::today().to_string(),
    };
    let actor = access.auth.actor();
    let store = app.store();
    let target_key = match form.action.as_str() {
        "approve" => {
            let approver = form
                .approver
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .ok_or_else(|| ApiError::field("approver", "name who approves it"))?;
            doc["status"] = json!("current");
            doc["approver"] = json!(approver);
            doc["approved_on"] = json!(day);
            key.clone()
        }
        "retire" => {
            doc["status"] = json!("obsolete");
            key.clone()
        }
        // Reviewed and still right as it is: the review is recorded, the version stays.
        "reviewed" => {
            doc["last_reviewed_on"] = json!(day);
            key.clone()
        }
        "new-version" => {
            let next = form
                .next_version
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| ApiError::field("next_version", "give the new version a number"))?;
            doc["version"] = json!(next);
            doc["status"] = json!("draft");
            for field in ["approver", "approved_on", "last_reviewed_on"] {
                if let Some(o) = doc.as_object_mut() {
                    o.remove(field);
                }
            }
            String::new()
        }
        other => {
            return Err(Failure(ApiError::field(
                "action",
                format!("`{other}` is not approve, reviewed, retire or new-version"),
            )));
        }
    };
    let entry = check_record(&app, &access.org, kind, &doc).await?;
    let write = Write {
        kind: kind.name.to_owned(),
        key: entry.key.clone(),
        body: entry.body,
    };
    if target_key.is_empty() {
        store
            .create(access.org.id, &actor, &write)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => ApiError::Conflict {
                    message: format!("document `{}` exists already", write.key),
                    current_version: None,
                },
                other => other.into(),
            })?;
    } else {
        store
            .update(
                access.org.id,
                &actor,
                &write,
                form.version.unwrap_or(record.version),
            )
            .await?;
    }
    app.changed(&access.org);
    Ok(Redirect::to(&format!(
        "/orgs/{slug}/records/documents/{}?saved=1",
        encode_segment(&entry.key)
    ))
    .into_response())
}

/// The version after `version`: 2.0 → 2.1, 3 → 4; empty when it is not a number.
fn next_version(version: &str) -> String {
    match version.rsplit_once('.') {
        Some((head, last)) => last
            .parse::<u32>()
            .map(|n| format!("{head}.{}", n + 1))
            .unwrap_or_default(),
        None => version
            .parse::<u32>()
            .map(|n| (n + 1).to_string())
            .unwrap_or_default(),
    }
}

/// The most documents one bulk review takes.
const REVIEW_MAX: usize = 1_000;

/// Marks the documents picked on the register reviewed today, each written at the revision
/// the page showed: those changed since are left and named, the others saved. With
/// `new_version`, each also gets its next version started as a draft, as the lifecycle's "new
/// version" does.
pub(crate) async fn review(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let mut posted = pairs(&body);
    browser.check_csrf(take(&mut posted, "csrf").as_deref())?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let kind = kind_named("documents")?;
    access.require_write(kind)?;
    let back = take(&mut posted, "back")
        .filter(|b| b.starts_with('?') && b.len() <= 4_000 && !b.chars().any(char::is_control))
        .unwrap_or_default();
    let new_version = take(&mut posted, "new_version").is_some_and(|v| !v.is_empty());
    let mut picked: Vec<(i64, String)> = Vec::new();
    for (name, value) in &posted {
        if name != "doc" {
            continue;
        }
        let parsed = value
            .split_once(':')
            .and_then(|(v, key)| Some((v.parse::<i64>().ok()?, key.to_owned())))
            .filter(|(_, key)| !key.is_empty() && key.len() <= registers::MAX_PARAM);
        let Some(pick) = parsed else {
            return Err(Failure(ApiError::field(
                "doc",
                "the form names a document in a way this server does not read: reload the page and try again",
            )));
        };
        picked.push(pick);
    }
    // Nothing ticked: back to the same list, which says so.
    if picked.is_empty() {
        let query = match back.trim_start_matches('?') {
            "" => "?picked=none".to_owned(),
            rest => format!("?{rest}&picked=none"),
        };
        return Ok(Redirect::to(&format!("/orgs/{slug}/records/documents{query}")).into_response());
    }
    if picked.len() > REVIEW_MAX {
        return Err(Failure(ApiError::field(
            "",
            format!("at most {REVIEW_MAX} documents can be reviewed at once"),
        )));
    }
    let today = crate::readiness::today().to_string();
    let store = app.store();
    let actor = access.auth.actor();
    let (mut reviewed, mut drafts) = (0usize, 0usize);
    let (mut left, mut kept, mut refused): (Vec<String>, Vec<String>, Vec<String>) =
        (Vec::new(), Vec::new(), Vec::new());
    for (version, key) in picked {
        let record = store.record(access.org.id, kind.name, &key).await?;
        let Some(record) = record.filter(|r| r.version == version) else {
            left.push(key);
            continue;
        };
        let mut doc: Value = serde_json::from_str(&record.body).map_err(ApiError::internal)?;
        doc["last_reviewed_on"] = json!(today);
        // A record the checks refuse now (written before a rule tightened) is named, not saved.
        let entry = match check_record(&app, &access.org, kind, &doc).await {
            Ok(entry) => entry,
            Err(ApiError::Invalid { .. }) => {
                refused.push(key);
                continue;
            }
            Err(e) => return Err(Failure(e)),
        };
        let write = Write {
            kind: kind.name.to_owned(),
            key: record.key.clone(),
            body: entry.body,
        };
        match store.update(access.org.id, &actor, &write, version).await {
            Ok(_) => reviewed += 1,
            Err(StoreError::Stale { .. }) | Err(StoreError::NotFound) => {
                left.push(key);
                continue;
            }
            Err(e) => return Err(Failure(e.into())),
        }
        if new_version {
            let next = next_version(doc["version"].as_str().unwrap_or_default());
            if next.is_empty() {
                kept.push(key);
                continue;
            }
            doc["version"] = json!(next);
            doc["status"] = json!("draft");
            if let Some(o) = doc.as_object_mut() {
                for field in ["approver", "approved_on", "last_reviewed_on"] {
                    o.remove(field);
                }
            }
            let Ok(entry) = check_record(&app, &access.org, kind, &doc).await else {
                kept.push(key);
                continue;
            };
            let write = Write {
                kind: kind.name.to_owned(),
                key: entry.key,
                body: entry.body,
            };
            match store.create(access.org.id, &actor, &write).await {
                Ok(_) => drafts += 1,
                Err(StoreError::Conflict(_)) => kept.push(write.key),
                Err(e) => return Err(Failure(e.into())),
            }
        }
    }
    if reviewed > 0 {
        app.changed(&access.org);
    }
    let mut outcome = form_urlencoded::Serializer::new(String::new());
    outcome.append_pair("reviewed", &reviewed.to_string());
    outcome.append_pair("on", &today);
    if new_version {
        outcome.append_pair("drafts", &drafts.to_string());
    }
    for key in left.iter().take(50) {
        outcome.append_pair("left", key);
    }
    for key in kept.iter().take(50) {
        outcome.append_pair("kept", key);
    }
    for key in refused.iter().take(50) {
        outcome.append_pair("refused", key);
    }
    let outcome = outcome.finish();
    let query = match back.trim_start_matches('?') {
        "" => format!("?{outcome}"),
        rest => format!("?{rest}&{outcome}"),
    };
    Ok(Redirect::to(&format!("/orgs/{slug}/records/documents{query}")).into_response())
}

/// What the lifecycle panel of a document offers, given its status.
pub(crate) async fn lifecycle_panel(
    app: &App,
    access: &Access,
    value: &Value,
) -> Result<Option<Value>, Failure> {
    if !access.can_write(kind_named("documents")?) {
        return Ok(None);
    }
    let people = app
        .store()
        .records(access.org.id, "people", None, 1000)
        .await?;
    let people: Vec<Value> = people
        .iter()
        .filter_map(|p| serde_json::from_str::<Value>(&p.body).ok())
        .filter(|p| p.get("left_on").is_none())
        .map(|p| json!({ "id": p["id"], "name": p["name"], "top": p["top_management"] }))
        .collect();
    let next = next_version(value["version"].as_str().unwrap_or_default());
    Ok(Some(json!({
        "status": value["status"],
        "people": people,
        "today": crate::readiness::today().to_string(),
        "next_version": next,
    })))
}

/// The letters a grid cell offers: one role each, or accountable and responsible at once.
const RACI_CELLS: [&str; 6] = ["", "R", "A", "C", "I", "A+R"];

/// The RACI grid: processes down, people across, a role letter where they meet. Only the
/// process-level assignments are in the grid; those of single activities stay in the register.
pub(crate) async fn raci(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    Query(shown): Query<Shown>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let chrome = browser.chrome(&app, Some(&access), "records").await?;
    let (processes, people, cells) = raci_state(&app, &access).await?;
    let writable = access.can_write(kind_named("raci")?);
    let rows: Vec<Value> = processes
        .iter()
        .map(|(pid, pname)| {
            let cells: Vec<Value> = people
                .iter()
                .map(|(person, _)| {
                    let current = cells
                        .get(&(pid.clone(), person.clone()))
                        .cloned()
                        .unwrap_or_default();
                    json!({
                        "name": format!("cell.{pid}.{person}"),
                        "id": format!("c-{pid}-{person}").replace('.', "-"),
                        "label": format!("{pname}: {person}"),
                        "current": current,
                    })
                })
                .collect();
            let has_a = cells
                .iter()
                .any(|c| c["current"].as_str().is_some_and(|v| v.contains('A')));
            json!({ "id": pid, "name": pname, "cells": cells, "accountable": has_a })
        })
        .collect();
    Ok(render(
        "raci.html",
        json!({
            "chrome": chrome,
            "people": people.iter().map(|(id, name)| json!({ "id": id, "name": name })).collect::<Vec<_>>(),
            "rows": rows,
            "options": RACI_CELLS,
            "writable": writable,
            "saved": shown.saved.is_some(),
        }),
    ))
}

type Grid = (
    Vec<(String, String)>,
    Vec<(String, String)>,
    std::collections::BTreeMap<(String, String), String>,
);

async fn raci_state(app: &App, access: &Access) -> Result<Grid, Failure> {
    let store = app.store();
    let bodies = |kind: &'static str| async move {
        Ok::<_, Failure>(
            store
                .records(access.org.id, kind, None, 10_000)
                .await?
                .into_iter()
                .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
                .collect::<Vec<_>>(),
        )
    };
    let processes: Vec<(String, String)> = bodies("processes")
        .await?
        .iter()
        .map(|p| (cell(&p["id"]), cell(&p["name"])))
        .collect();
    let people: Vec<(String, String)> = bodies("people")
        .await?
        .iter()
        .filter(|p| p.get("left_on").is_none())
        .map(|p| (cell(&p["id"]), cell(&p["name"])))
        .collect();
    let mut cells: std::collections::BTreeMap<(String, String), String> = Default::default();
    for r in bodies("raci").await? {
        if r.get("activity").is_some() {
            continue;
        }
        let entry = cells
            .entry((cell(&r["process"]), cell(&r["person"])))
            .or_default();
        let mut letters: Vec<char> = entry.chars().filter(|c| *c != '+').collect();
        letters.extend(cell(&r["raci"]).chars());
        letters.sort();
        letters.dedup();
        *entry = letters
            .iter()
            .map(char::to_string)
            .collect::<Vec<_>>()
            .join("+");
    }
    Ok((processes, people, cells))
}

/// Saves the grid: every cell that changed becomes the RACI records it now says.
pub(crate) async fn save_raci(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let mut posted = pairs(&body);
    browser.check_csrf(take(&mut posted, "csrf").as_deref())?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let kind = kind_named("raci")?;
    access.require_write(kind)?;
    let (processes, people, cells) = raci_state(&app, &access).await?;
    let store = app.store();
    let actor = access.auth.actor();
    let mut changed = false;
    for (pid, _) in &processes {
        for (person, _) in &people {
            let Some(wanted) = posted
                .iter()
                .find(|(k, _)| *k == format!("cell.{pid}.{person}"))
                .map(|(_, v)| v.clone())
            else {
                continue;
            };
            if !RACI_CELLS.contains(&wanted.as_str()) {
                return Err(Failure(ApiError::field(
                    &format!("cell.{pid}.{person}"),
                    format!("`{wanted}` is not one of R, A, C, I or A+R"),
                )));
            }
            let current = cells
                .get(&(pid.clone(), person.clone()))
                .cloned()
                .unwrap_or_default();
            if current == wanted {
                continue;
            }
            let had: Vec<&str> = current.split('+').filter(|l| !l.is_empty()).collect();
            let want: Vec<&str> = wanted.split('+').filter(|l| !l.is_empty()).collect();
            for letter in had.iter().filter(|l| !want.contains(l)) {
                store
                    .delete(
                        access.org.id,
                        &actor,
                        kind.name,
                        &format!("{pid}/{person}/{letter}"),
                        None,
                    )
                    .await?;
                changed = true;
            }
            for letter in want.iter().filter(|l| !had.contains(l)) {
                let record = json!({ "process": pid, "person": person, "raci": letter });
                let entry = check_record(&app, &access.org, kind, &record).await?;
                store
                    .create(
                        access.org.id,
                        &actor,
                        &Write {
                            kind: kind.name.to_owned(),
                            key: entry.key,
                            body: entry.body,
                        },
                    )
                    .await?;
                changed = true;
            }
        }
    }
    if changed {
        app.changed(&access.org);
    }
    Ok(Redirect::to(&format!("/orgs/{slug}/raci?saved=1")).into_response())
}
