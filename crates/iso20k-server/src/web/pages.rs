//! Signing in, the organisation switcher, the dashboard, clause and finding pages and the
//! knowledge base. Everything about readiness is read from the same JSON report the API serves,
//! so the pages can never tell a different story from `iso20k check`.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use iso20k_core::{Edition, clause, kb};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Browser, Chrome, Failure, PageResult, render, svg};
use crate::App;
use crate::auth::Access;
use crate::error::ApiError;

pub(crate) async fn home(State(app): State<App>, parts: Parts) -> Response {
    match crate::auth::from_session(&app, &parts).await {
        Ok(Some(_)) => Redirect::to("/orgs").into_response(),
        _ => Redirect::to("/login").into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
    /// Under `--sso-only`, shows the password form for a break-glass administrator.
    password: Option<String>,
}

/// What the sign-in page offers: single sign-on, the password form, or both.
fn login_options(app: &App, show_password: bool, next: Option<&str>) -> Value {
    let sso = app.sso().is_some();
    let sso_only = sso && app.config().sso_only;
    json!({
        "next_q": next.map(|n| form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>()),
        "sso": sso,
        "sso_only": sso_only,
        "password_form": !sso_only || show_password,
    })
}

/// Only a path on this server may follow a sign-in: never another site. Browsers drop tabs and
/// newlines from a URL and read a backslash as a slash, so `/\t/evil.example` would become
/// `//evil.example`, another host: anything holding whitespace, a control character, a
/// backslash or an encoded slash is refused outright rather than cleaned.
pub(crate) fn safe_next(next: Option<&str>) -> Option<String> {
    let n = next?;
    let lower = n.to_ascii_lowercase();
    let plain_path = n.starts_with('/')
        && !n.starts_with("//")
        && !n
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
        && !lower.contains("%2f")
        && !lower.contains("%5c");
    plain_path.then(|| n.to_owned())
}

pub(crate) async fn login_form(State(app): State<App>, Query(q): Query<Next>) -> Response {
    render(
        "login.html",
        json!({
            "next": safe_next(q.next.as_deref()),
            "email": "",
            "options": login_options(&app, q.password.is_some(), safe_next(q.next.as_deref()).as_deref()),
        }),
    )
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub(crate) async fn login(
    State(app): State<App>,
    parts: Parts,
    body: axum::body::Bytes,
) -> Response {
    let form: LoginForm = match serde_urlencoded::from_bytes(&body) {
        Ok(f) => f,
        Err(_) => {
            return render(
                "login.html",
                json!({
                    "error": "Enter your email and password.",
                    "email": "",
                    "options": login_options(&app, true, None),
                }),
            );
        }
    };
    let next = safe_next(form.next.as_deref());
    match crate::api::sign_in(&app, &parts, &form.email, form.password).await {
        Ok((auth, _, cookie)) => {
            // Straight to the organisation when there is only one.
            let target = match next {
                Some(n) => n,
                None => match app.store().memberships(auth.user.id).await {
                    Ok(m) if m.len() == 1 => super::landing(&m[0].0, &m[0].1),
                    _ => "/orgs".to_owned(),
                },
            };
            let mut response = Redirect::to(&target).into_response();
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
        }
        Err(ApiError::Unauthenticated(_)) => {
            let mut page = render(
                "login.html",
                json!({
                    "error": "Wrong email or password.",
                    "email": form.email,
                    "next": next,
                    "options": login_options(&app, true, next.as_deref()),
                }),
            );
            *page.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
            page
        }
        Err(ApiError::Forbidden(_)) if app.config().sso_only => {
            let mut page = render(
                "login.html",
                json!({
                    "error": "Password sign-in is turned off on this server, except for break-glass administrators: sign in with single sign-on.",
                    "email": form.email,
                    "next": next,
                    "options": login_options(&app, false, next.as_deref()),
                }),
            );
            *page.status_mut() = axum::http::StatusCode::FORBIDDEN;
            page
        }
        Err(e) => Failure(e).into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    csrf: Option<String>,
}

pub(crate) async fn logout(
    State(app): State<App>,
    browser: Browser,
    parts: Parts,
    axum::Form(form): axum::Form<CsrfForm>,
) -> PageResult {
    browser.check_csrf(form.csrf.as_deref())?;
    if let crate::auth::Via::Session { id_hash, .. } = &browser.auth.via {
        app.store().delete_session(id_hash).await?;
    }
    // Signed in through the provider: sign out there too, when it offers that.
    let id_token = super::sso::cookie(&parts, crate::sso::ID_TOKEN_COOKIE);
    let mut target = "/login".to_owned();
    if let (Some(sso), Some(token)) = (app.sso(), id_token.as_deref())
        && let Ok(base) = super::sso::base_url(&app, &parts)
        && let Some(url) = sso.logout_url(&base, token).await
    {
        target = url;
    }
    let mut response = Redirect::to(&target).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        axum::http::HeaderValue::from_static(
            "iso20k_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
        ),
    );
    if id_token.is_some() {
        headers.append(
            header::SET_COOKIE,
            axum::http::HeaderValue::from_static(
                "iso20k_sso_id=; Path=/logout; HttpOnly; SameSite=Lax; Max-Age=0",
            ),
        );
    }
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct Go {
    go: Option<String>,
}

pub(crate) async fn orgs(
    State(app): State<App>,
    browser: Browser,
    Query(q): Query<Go>,
) -> PageResult {
    // The organisation switcher works without script: a GET form that lands here.
    if let Some(slug) = q.go.filter(|s| crate::api::check_slug(s).is_ok()) {
        return Ok(Redirect::to(&format!("/orgs/{slug}")).into_response());
    }
    let chrome = browser.chrome(&app, None, "orgs").await?;
    Ok(render(
        "orgs.html",
        json!({ "chrome": chrome, "sso": app.sso().is_some() }),
    ))
}

/// Which report a page shows: an edition and a day, both optional.
#[derive(Deserialize, Default)]
pub(crate) struct ReportQuery {
    edition: Option<String>,
    as_of: Option<String>,
}

/// The readiness report of the organisation as JSON, with the edition and day it is for.
pub(crate) async fn report(app: &App, access: &Access, q: &ReportQuery) -> Result<Value, Failure> {
    let (edition, as_of) = crate::api::edition_and_day(q.edition.as_deref(), q.as_of.as_deref())?;
    let as_of = app.day_or_default(&access.org, as_of).await?;
    let bytes = app.readiness(&access.org, edition, as_of).await?;
    serde_json::from_slice(&bytes).map_err(|e| Failure(ApiError::internal(e)))
}

fn edition_of(report: &Value) -> Edition {
    match report["edition"].as_str() {
        Some("2011") => Edition::Y2011,
        _ => Edition::Y2018,
    }
}

/// The query string that keeps the chosen edition and day on links between pages.
fn keep(q: &ReportQuery) -> String {
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    if let Some(e) = q.edition.as_deref().filter(|e| !e.is_empty()) {
        pairs.append_pair("edition", e);
    }
    if let Some(d) = q.as_of.as_deref().filter(|d| !d.is_empty()) {
        pairs.append_pair("as_of", d);
    }
    let s = pairs.finish();
    if s.is_empty() { s } else { format!("?{s}") }
}

/// A finding's address: its check, or for a checklist answer the pattern it answers.
/// A finding's id as one path segment: its `/` becomes `--`, which no check id or record slug
/// holds, so the mapping is one to one.
pub(crate) fn finding_slug(f: &Value) -> String {
    f["id"].as_str().unwrap_or_default().replace('/', "--")
}

/// A finding as lists show it.
#[derive(Serialize)]
struct FindingRow {
    slug: String,
    title: String,
    grade: String,
    pattern: String,
    pattern_title: String,
    clauses: Vec<String>,
    gain: f64,
    uncapped_gain: f64,
    blocks: Option<String>,
}

fn finding_rows(report: &Value, only: impl Fn(&Value) -> bool) -> Vec<FindingRow> {
    let edition = report["edition"].as_str().unwrap_or("2018");
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| only(f))
        .map(|f| FindingRow {
            slug: finding_slug(f),
            title: text(&f["title"]),
            grade: text(&f["grade"]),
            pattern: text(&f["pattern"]),
            pattern_title: text(&f["pattern_title"]),
            clauses: f["clauses"][edition]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect(),
            gain: f["gain"].as_f64().unwrap_or(0.0),
            uncapped_gain: f["uncapped_gain"].as_f64().unwrap_or(0.0),
            blocks: f["blocks"].as_str().map(str::to_owned),
        })
        .collect()
}

/// How many findings of each group the fix-first panel lists before pointing at the rest.
const FIX_FIRST_SHOWN: usize = 5;

/// The findings to work on first: what blocks stage 1, then what blocks stage 2, then the
/// rest, each in the report's order (grade, then gain).
fn fix_first(rows: &[FindingRow]) -> Vec<Value> {
    [
        ("Blocking stage 1", Some("stage-1")),
        ("Blocking stage 2", Some("stage-2")),
        ("Everything else", None),
    ]
    .into_iter()
    .filter_map(|(title, blocks)| {
        let items: Vec<&FindingRow> = rows
            .iter()
            .filter(|r| r.blocks.as_deref() == blocks)
            .collect();
        (!items.is_empty()).then(|| {
            json!({
                "title": title,
                "total": items.len(),
                "items": items.into_iter().take(FIX_FIRST_SHOWN).collect::<Vec<_>>(),
            })
        })
    })
    .collect()
}

pub(crate) fn booking_name(audit: &str) -> &'static str {
    match audit {
        "stage-1" => "Stage 1 audit",
        "stage-2" => "Stage 2 audit",
        "surveillance" => "Surveillance audit",
        _ => "Recertification audit",
    }
}

/// Days to an event, in words.
fn countdown(days: i64) -> String {
    match days {
        0 => "today".into(),
        1 => "tomorrow".into(),
        -1 => "yesterday".into(),
        d if d > 0 => format!("in {d} days"),
        d => format!("{} days ago", -d),
    }
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

pub(crate) async fn dashboard(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let report = report(&app, &access, &q).await?;
    let chrome = browser.chrome(&app, Some(&access), "dashboard").await?;
    let edition = edition_of(&report);
    let rows = finding_rows(&report, |_| true);
    let grades: Vec<Value> = ["major", "minor", "observation"]
        .iter()
        .map(|g| {
            let items: Vec<&FindingRow> = rows.iter().filter(|r| r.grade == *g).collect();
            json!({ "grade": g, "items": items })
        })
        .collect();
    let base = format!("/orgs/{}", access.org.slug);
    let query = keep(&q);
    let fix_first = fix_first(&rows);
    let figure = |key: &str| {
        iso20k_core::readiness::figure(report["readiness"][key].as_f64().unwrap_or(0.0))
    };
    let figures = json!({
        "overall": figure("overall"),
        "uncapped": figure("uncapped"),
        "assessed_score": figure("assessed_score"),
    });
    let bookings: Vec<Value> = report["readiness"]["bookings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            let on = text(&b["on"]);
            let mut pairs = form_urlencoded::Serializer::new(String::new());
            if let Some(e) = q.edition.as_deref().filter(|e| !e.is_empty()) {
                pairs.append_pair("edition", e);
            }
            pairs.append_pair("as_of", &on);
            json!({
                "audit": booking_name(b["audit"].as_str().unwrap_or_default()),
                "on": on,
                "when": countdown(b["days"].as_i64().unwrap_or(0)),
                "judge": format!("{base}?{}", pairs.finish()),
            })
        })
        .collect();
    let history = app
        .store()
        .score_history(access.org.id, edition.as_str(), 90)
        .await?;
    let trend = (history.len() >= 2).then(|| svg::trend(&history));
    let mut downloads = vec![("html", "HTML")];
    if cfg!(feature = "pdf") {
        downloads.push(("pdf", "PDF"));
    }
    downloads.extend([
        ("xlsx", "Excel gap analysis"),
        ("md", "Markdown"),
        ("csv", "findings CSV"),
        ("oscal-results", "OSCAL results"),
        ("sarif", "SARIF"),
        ("junit", "JUnit"),
    ]);
    Ok(render(
        "dashboard.html",
        json!({
            "chrome": chrome,
            "report": report,
            "figures": figures,
            "fix_first": fix_first,
            "bookings": bookings,
            "grades": grades,
            "query": query,
            "heatmap": svg::heatmap(&report, edition, &base, &query),
            "bars": svg::clause_bars(&report, edition, &base, &query),
            "editions": ["2018", "2011"],
            "trend": trend,
            "downloads": downloads,
            "history": history,
        }),
    ))
}

pub(crate) async fn clause(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let report = report(&app, &access, &q).await?;
    let edition = edition_of(&report);
    let Some(entry) = clause::find(edition, &id) else {
        return Err(Failure(ApiError::NotFound(format!(
            "there is no clause {id} in the {} edition",
            edition.as_str()
        ))));
    };
    let chrome = browser.chrome(&app, Some(&access), "dashboard").await?;
    let scores: Vec<&Value> = report["readiness"]["clauses"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let score_of = |c: &str| scores.iter().find(|s| s["clause"] == c).copied();
    let children: Vec<Value> = clause::catalogue(edition)
        .iter()
        .filter(|c| {
            c.id.strip_prefix(&format!("{id}."))
                .is_some_and(|rest| !rest.contains('.'))
        })
        .map(|c| json!({ "id": c.id, "title": c.title, "score": score_of(c.id) }))
        .collect();
    let within = |clauses: &[&str]| clauses.iter().any(|c| clause::is_within(c, &id));
    let findings = finding_rows(&report, |f| {
        let listed: Vec<&str> = f["clauses"][edition.as_str()]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        within(&listed)
    });
    let patterns: Vec<Value> = kb::patterns()
        .iter()
        .filter(|p| within(p.clauses(edition)))
        .map(|p| json!({ "id": p.id, "title": p.title, "grade": p.grade.as_str(), "detected": !p.checks().is_empty() }))
        .collect();
    let answers = checklist_answers(&app, &access).await?;
    let questions: Vec<Value> = iso20k_core::checklist::questions(edition)
        .into_iter()
        .filter(|p| within(p.clauses(edition)))
        .map(|p| {
            json!({
                "pattern": p.id,
                "question": p.question,
                "answer": answers.iter().find(|a| a["pattern"] == p.id),
            })
        })
        .collect();
    let other = match edition {
        Edition::Y2018 => Edition::Y2011,
        Edition::Y2011 => Edition::Y2018,
    };
    Ok(render(
        "clause.html",
        json!({
            "chrome": chrome,
            "report": report,
            "query": keep(&q),
            "clause": { "id": entry.id, "title": entry.title, "summary": entry.summary, "looks_for": entry.looks_for },
            "score": score_of(entry.id),
            "children": children,
            "findings": findings,
            "patterns": patterns,
            "questions": questions,
            "other_edition": other.as_str(),
            "counterparts": clause::counterparts(edition, entry.id),
            "can_answer": access.can_write(iso20k_bundle::records::kind("checklist").expect("a kind")),
        }),
    ))
}

/// The internal auditor's checklist answers, as stored.
async fn checklist_answers(app: &App, access: &Access) -> Result<Vec<Value>, Failure> {
    let records = app
        .store()
        .records(access.org.id, "checklist", None, 1000)
        .await?;
    Ok(records
        .iter()
        .filter_map(|r| serde_json::from_str(&r.body).ok())
        .collect())
}

pub(crate) async fn finding(
    State(app): State<App>,
    browser: Browser,
    Path((slug, wanted)): Path<(String, String)>,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let report = report(&app, &access, &q).await?;
    let Some(found) = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| finding_slug(f) == wanted)
        .cloned()
    else {
        return Err(Failure(ApiError::NotFound(format!(
            "`{wanted}` is not among the findings of this report: it may have been fixed"
        ))));
    };
    let chrome = browser.chrome(&app, Some(&access), "dashboard").await?;
    let pattern = kb::find(found["pattern"].as_str().unwrap_or_default());
    // Where each piece of evidence lives; an id inside another record (a test of a plan, an
    // action of a review) links to its register.
    let mut targets = Vec::new();
    for e in found["evidence"].as_array().into_iter().flatten() {
        let mut target = super::records::evidence_target(
            e["kind"].as_str().unwrap_or_default(),
            e["id"].as_str().unwrap_or_default(),
        );
        if let Some(t) = target.as_mut()
            && let Some(key) = &t.key
            && app
                .store()
                .record(access.org.id, t.kind.name, key)
                .await?
                .is_none()
        {
            t.key = None;
        }
        targets.push((e, target));
    }
    let evidence: Vec<Value> = targets
        .iter()
        .map(|(e, target)| {
            json!({ "item": e, "link": target.as_ref().map(|t| t.link(&access.org.slug)) })
        })
        .collect();
    // The shortest way to a fix: for a finding about something missing, a new record of
    // what is missing, already naming what it is for; then the records the finding names, or
    // a new one of their kind.
    let mut fixes: Vec<Value> = Vec::new();
    if let Some(missing) = missing_record(found["check"].as_str().unwrap_or_default())
        && let Some(kind) = iso20k_bundle::records::kind(missing.kind)
        && access.can_write(kind)
    {
        for e in found["evidence"].as_array().into_iter().flatten() {
            let (Some(of), Some(id)) = (e["kind"].as_str(), e["id"].as_str()) else {
                continue;
            };
            if of != missing.from {
                continue;
            }
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair(missing.field, id)
                .finish();
            fixes.push(json!({
                "label": format!("Add {} for {id}", kind.what),
                "href": format!("/orgs/{}/records/{}/new?{query}", access.org.slug, kind.name),
            }));
        }
    }
    let made = fixes.len();
    for (_, target) in &targets {
        let Some(target) = target else {
            continue;
        };
        if !access.can_write(target.kind) {
            continue;
        }
        let new = json!({
            "label": format!("Add {}", target.kind.what),
            "href": format!("/orgs/{}/records/{}/new", access.org.slug, target.kind.name),
        });
        if !target.kind.singleton && !fixes.contains(&new) {
            fixes.push(new);
        }
        if let Some(key) = &target.key {
            let edit = json!({
                "label": format!("Edit {} {key}", target.kind.what),
                "href": target.link(&access.org.slug),
            });
            if !fixes.contains(&edit) {
                fixes.push(edit);
            }
        }
    }
    fixes[made..].sort_by_key(|f| !f["label"].as_str().unwrap_or_default().starts_with("Add"));
    fixes.truncate(6);
    Ok(render(
        "finding.html",
        json!({
            "chrome": chrome,
            "report": report,
            "query": keep(&q),
            "finding": found,
            "evidence": evidence,
            "fixes": fixes,
            "pattern": pattern.map(iso20k_report::kb::pattern),
        }),
    ))
}

#[derive(Deserialize)]
pub(crate) struct KbQuery {
    q: Option<String>,
    clause: Option<String>,
    edition: Option<String>,
}

pub(crate) async fn kb(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    Query(q): Query<KbQuery>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let chrome = browser.chrome(&app, Some(&access), "kb").await?;
    let edition = match q.edition.as_deref() {
        Some("2011") => Edition::Y2011,
        Some("2018") => Edition::Y2018,
        _ => app.declared_edition(&access.org).await?,
    };
    let words = q.q.as_deref().unwrap_or_default().trim();
    let clause_filter = q.clause.as_deref().unwrap_or_default().trim();
    let found: Vec<&kb::Pattern> = if words.is_empty() {
        kb::patterns().iter().collect()
    } else {
        kb::search(words)
    };
    let patterns: Vec<Value> = found
        .into_iter()
        .filter(|p| {
            clause_filter.is_empty()
                || p.clauses(edition)
                    .iter()
                    .any(|c| clause::is_within(c, clause_filter))
        })
        .map(|p| {
            json!({
                "id": p.id,
                "title": p.title,
                "grade": p.grade.as_str(),
                "clauses": p.clauses(edition),
                "detected": !p.checks().is_empty(),
            })
        })
        .collect();
    let top: Vec<Value> = clause::catalogue(edition)
        .iter()
        .filter(|c| !c.id.contains('.'))
        .map(|c| json!({ "id": c.id, "title": c.title }))
        .collect();
    Ok(render(
        "kb.html",
        json!({
            "chrome": chrome,
            "q": words,
            "clause": clause_filter,
            "edition": edition.as_str(),
            "patterns": patterns,
            "top": top,
            "total": kb::patterns().len(),
        }),
    ))
}

pub(crate) async fn pattern(
    State(app): State<App>,
    browser: Browser,
    Path((slug, id)): Path<(String, String)>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let Some(p) = kb::find(&id) else {
        return Err(Failure(ApiError::NotFound(format!(
            "there is no pattern {id}"
        ))));
    };
    let chrome: Chrome = browser.chrome(&app, Some(&access), "kb").await?;
    Ok(render(
        "pattern.html",
        json!({ "chrome": chrome, "pattern": iso20k_report::kb::pattern(p) }),
    ))
}

#[derive(Deserialize)]
pub(crate) struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The figures of a service report from the ticket tables, with SLA attainment by month drawn
/// as a chart: what `iso20k metrics` prints.
pub(crate) async fn metrics(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let day = |field: &str, text: Option<&str>| -> Result<Option<iso20k_core::Date>, Failure> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => t
                .parse()
                .map(Some)
                .map_err(|_| Failure(ApiError::field(field, format!("invalid date `{t}`")))),
        }
    };
    let period = iso20k_core::metrics::Period {
        from: day("from", q.from.as_deref())?,
        to: day("to", q.to.as_deref())?,
    };
    let sms = app.model(&access.org, access.org.revision).await?;
    let major = sms.organisation.major_priority.unwrap_or(1);
    let figures = app
        .blocking(move || {
            let m = iso20k_core::metrics::compute(&sms.tickets, period, major);
            iso20k_report::metrics::json(&m)
        })
        .await?;
    let figures: Value = serde_json::from_str(&figures).map_err(ApiError::internal)?;
    let chart = svg::monthly_attainment(&figures);
    let chrome = browser.chrome(&app, Some(&access), "metrics").await?;
    Ok(render(
        "metrics.html",
        json!({
            "chrome": chrome,
            "m": figures,
            "chart": chart,
            "from": q.from.unwrap_or_default(),
            "to": q.to.unwrap_or_default(),
        }),
    ))
}

/// A record a finding says is missing: its kind, the field of it that names what the
/// finding's evidence is about, and the kind of that evidence.
struct Missing {
    kind: &'static str,
    field: &'static str,
    from: &'static str,
}

/// The checks whose fix is a new record for each thing their evidence names.
fn missing_record(check: &str) -> Option<Missing> {
    let (kind, field, from) = match check {
        "service-no-continuity-plan" => ("continuity-plans", "services", "service"),
        "service-no-sla" => ("slas", "service", "service"),
        "training-missing" => ("training", "person", "person"),
        _ => return None,
    };
    Some(Missing { kind, field, from })
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn sign_in_never_redirects_off_site() {
        for bad in [
            "//evil.example/",
            "/\t/evil.example/",
            "/\n/evil.example/",
            "/\\evil.example/",
            "/%2F/evil.example/",
            "/%5c/evil.example/",
            "https://evil.example/",
            "/ /evil.example",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
        }
        assert_eq!(
            safe_next(Some("/orgs/acme?as_of=2026-06-30")).as_deref(),
            Some("/orgs/acme?as_of=2026-06-30")
        );
    }
}
