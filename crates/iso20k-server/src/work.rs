//! One person's work in one organisation: what the records assign them
//! ([`iso20k_core::work::assigned`]) and the action plan's findings they own, open or in
//! progress. My work, the daily digest and the calendar feed all read this list.

use iso20k_core::Date;
use serde::Serialize;
use serde_json::Value;

use crate::App;
use crate::api::encode_segment;
use crate::error::ApiResult;

/// One thing to do, as pages, e-mails and calendars show it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub(crate) struct Todo {
    /// A stable id within the organisation (a calendar event's UID).
    pub uid: String,
    /// What kind of thing, in words: "Major finding", "Review a document".
    pub what: String,
    /// For a finding, its grade (`major`, `minor`, `observation`).
    pub grade: Option<String>,
    /// What is to be done.
    pub title: String,
    /// By when (YYYY-MM-DD), if known.
    pub due: Option<String>,
    /// Late on the day judged.
    pub overdue: bool,
    /// Days late (positive) or left (negative), when dated.
    pub days: Option<i64>,
    /// Where to do it: a path on this server.
    pub link: String,
}

/// The work of `person` in `org`, judged on `as_of`, late first.
pub(crate) async fn of(
    app: &App,
    org: &iso20k_store::Org,
    person: &str,
    as_of: Date,
) -> ApiResult<Vec<Todo>> {
    let slug = &org.slug;
    let sms = app.current_model(org).await?;
    let mut todos: Vec<(Option<Date>, bool, Todo)> = Vec::new();
    let days = |due: Option<Date>| due.map(|d| i64::from((as_of - d).get_days()));
    for item in iso20k_core::work::assigned(&sms, person, as_of) {
        let (kind, id) = &item.record;
        let document = matches!(
            item.task,
            iso20k_core::work::Task::DocumentReview | iso20k_core::work::Task::DocumentApproval
        );
        let link = match iso20k_bundle::records::for_evidence(kind.as_str(), id) {
            // A document's record is its version: `id/version`, or `id` when it has none.
            Some(p) if document => {
                let key = match &item.item {
                    Some(version) => format!("{id}/{version}"),
                    None => id.clone(),
                };
                format!(
                    "/orgs/{slug}/records/{}/{}",
                    p.kind.name,
                    encode_segment(&key)
                )
            }
            Some(p) => match &p.key {
                Some(key) => format!(
                    "/orgs/{slug}/records/{}/{}",
                    p.kind.name,
                    encode_segment(key)
                ),
                None => format!("/orgs/{slug}/records/{}", p.kind.name),
            },
            None => format!("/orgs/{slug}/records"),
        };
        let overdue = item.overdue(as_of);
        todos.push((
            item.due,
            overdue,
            Todo {
                uid: item.uid(),
                what: item.task.label().to_owned(),
                grade: None,
                title: item.title.clone(),
                due: item.due.map(|d| d.to_string()),
                overdue,
                days: days(item.due),
                link,
            },
        ));
    }
    let report: Value = {
        let bytes = app.readiness(org, None, as_of).await?;
        serde_json::from_slice(&bytes).map_err(crate::error::ApiError::internal)?
    };
    for f in report["findings"].as_array().into_iter().flatten() {
        let open = matches!(f["status"].as_str(), Some("open" | "in-progress"));
        if f["owner"].as_str() != Some(person) || !open {
            continue;
        }
        let due: Option<Date> = f["due"].as_str().and_then(|d| d.parse().ok());
        let grade = f["grade"].as_str().unwrap_or("minor").to_owned();
        let overdue = due.is_some_and(|d| d < as_of);
        todos.push((
            due,
            overdue,
            Todo {
                uid: format!("finding/{}", f["id"].as_str().unwrap_or_default()),
                what: match grade.as_str() {
                    "major" => "Major finding",
                    "minor" => "Minor finding",
                    _ => "Observation",
                }
                .to_owned(),
                title: f["title"].as_str().unwrap_or_default().to_owned(),
                grade: Some(grade),
                due: due.map(|d| d.to_string()),
                overdue,
                days: days(due),
                link: format!("/orgs/{slug}/findings/{}", crate::web::finding_slug(f)),
            },
        ));
    }
    todos.sort_by(|a, b| {
        (!a.1, a.0.is_none(), a.0, &a.2.title).cmp(&(!b.1, b.0.is_none(), b.0, &b.2.title))
    });
    Ok(todos.into_iter().map(|(_, _, t)| t).collect())
}
