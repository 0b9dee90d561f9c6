//! The action plan page: every finding with its owner, due date and status (the plan's
//! entries, else the defaults), filtered by owner, grade, status and lateness, each with a link
//! to change its plan entry; the entries whose finding no longer fires, as closed.

use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::pages::{ReportQuery, report};
use super::{Browser, Failure, PageResult, render};
use crate::App;
use crate::api::encode_segment;
use crate::error::ApiError;

#[derive(Deserialize, Default)]
pub(crate) struct PlanQuery {
    owner: Option<String>,
    grade: Option<String>,
    status: Option<String>,
    late: Option<String>,
}

const GRADES: [&str; 3] = ["major", "minor", "observation"];
const STATUSES: [&str; 4] = ["open", "in-progress", "done", "risk-accepted"];

pub(crate) async fn page(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    Query(q): Query<PlanQuery>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let pick = |field: &str,
                value: &Option<String>,
                allowed: &[&str]|
     -> Result<Option<String>, Failure> {
        match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) if allowed.is_empty() || allowed.contains(&v) => Ok(Some(v.to_owned())),
            Some(v) => Err(Failure(ApiError::field(
                field,
                format!("`{v}` is not one of {}", allowed.join(", ")),
            ))),
        }
    };
    let grade = pick("grade", &q.grade, &GRADES)?;
    let status = pick("status", &q.status, &STATUSES)?;
    let owner = pick("owner", &q.owner, &[])?;
    if owner.as_ref().is_some_and(|o| o.len() > 200) {
        return Err(Failure(ApiError::field(
            "owner",
            "is longer than a person id can be",
        )));
    }
    let late = q.late.is_some();
    let report = report(&app, &access, &ReportQuery::default()).await?;
    let as_of = report["as_of"].as_str().unwrap_or_default().to_owned();
    let sms = app.current_model(&access.org).await?;
    let name = |id: &str| sms.person(id).map(|p| p.name.clone());
    let plan_kind = iso20k_bundle::records::kind("plan");
    let can_edit = plan_kind.is_some_and(|k| access.can_write(k));
    let mut owners: Vec<(String, String)> = Vec::new();
    let mut rows = Vec::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        let id = f["id"].as_str().unwrap_or_default();
        let who = f["owner"].as_str().unwrap_or_default();
        if !who.is_empty() && !owners.iter().any(|(o, _)| o == who) {
            owners.push((who.to_owned(), name(who).unwrap_or_else(|| who.to_owned())));
        }
        let due = f["due"].as_str().unwrap_or_default();
        let st = f["status"].as_str().unwrap_or("open");
        let is_late =
            !due.is_empty() && due < as_of.as_str() && matches!(st, "open" | "in-progress");
        let keep = grade.as_deref().is_none_or(|g| f["grade"] == g)
            && status.as_deref().is_none_or(|s| st == s)
            && owner.as_deref().is_none_or(|o| who == o)
            && (!late || is_late);
        if !keep {
            continue;
        }
        let planned =
            f["owner_from"] == "plan" || f["due_from"] == "plan" || f.get("reason").is_some();
        let edit = if planned {
            format!("/orgs/{slug}/records/plan/{}", encode_segment(id))
        } else {
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("finding", id)
                .append_pair("owner", who)
                .append_pair("due", due)
                .append_pair("status", st)
                .finish();
            format!("/orgs/{slug}/records/plan/new?{query}")
        };
        rows.push(json!({
            "id": id,
            "title": f["title"],
            "grade": f["grade"],
            "link": format!("/orgs/{slug}/findings/{}", super::finding_slug(f)),
            "owner": who,
            "owner_name": name(who),
            "owner_from": f["owner_from"],
            "due": due,
            "due_from": f["due_from"],
            "status": st,
            "late": is_late,
            "still_fires": f["marked_done_but_still_fires"] == true,
            "reason": f["reason"],
            "edit": can_edit.then_some(edit),
        }));
    }
    owners.sort_by(|a, b| a.1.cmp(&b.1));
    let closed: Vec<Value> = report["closed_actions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let chrome = browser.chrome(&app, Some(&access), "plan").await?;
    Ok(render(
        "plan.html",
        json!({
            "chrome": chrome,
            "as_of": as_of,
            "rows": rows,
            "closed": closed,
            "owners": owners,
            "grades": GRADES,
            "statuses": STATUSES,
            "q": { "owner": owner, "grade": grade, "status": status, "late": late },
        }),
    ))
}
