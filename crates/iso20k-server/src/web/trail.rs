//! The audit trail page: the proof of the chain, then the entries, newest first, each with the
//! fields it changed.

use axum::extract::{Path, Query, State};
use iso20k_store::{Change, ChangeFilter};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Browser, PageResult, render};
use crate::App;
use crate::api::encode_segment;
use crate::trail::{prove, require_prover};

const PAGE: i64 = 50;

#[derive(Deserialize)]
pub(crate) struct TrailQuery {
    /// Entries older than this id: the next page.
    before: Option<i64>,
}

pub(crate) async fn page(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    Query(q): Query<TrailQuery>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    require_prover(&access)?;
    let proof = prove(&app, &access).await?;
    let mut entries = app
        .store()
        .changes(
            access.org.id,
            &ChangeFilter {
                before_id: q.before,
                limit: PAGE + 1,
                ..ChangeFilter::default()
            },
        )
        .await?;
    let next = if entries.len() as i64 > PAGE {
        entries.truncate(PAGE as usize);
        entries.last().map(|c| c.id)
    } else {
        None
    };
    let entries: Vec<Value> = entries.iter().map(|c| entry(&slug, c)).collect();
    let chrome = browser.chrome(&app, Some(&access), "trail").await?;
    Ok(render(
        "trail.html",
        json!({ "chrome": chrome, "proof": proof, "entries": entries, "next": next }),
    ))
}

/// One entry as the page and the record page show it.
pub(crate) fn entry(slug: &str, c: &Change) -> Value {
    json!({
        "id": c.id,
        "seq": c.seq,
        "at": c.at,
        "actor": c.actor,
        "action": action_label(&c.action),
        "kind": c.kind,
        "key": c.key,
        "link": format!("/orgs/{slug}/records/{}/{}", c.kind, encode_segment(&c.key)),
        "fields": fields(c),
        "hash": c.hash,
    })
}

fn action_label(action: &str) -> &str {
    match action {
        "create" => "Created",
        "update" => "Changed",
        "delete" => "Deleted",
        "attach" => "Evidence attached",
        "detach" => "Evidence removed",
        other => other,
    }
}

/// The fields an update changed, each with its value before and after as short text.
pub(crate) fn fields(c: &Change) -> Vec<Value> {
    let Some(changed) = c.changed_fields() else {
        return Vec::new();
    };
    let Ok(Value::Object(changed)) = serde_json::from_str::<Value>(&changed) else {
        return Vec::new();
    };
    changed
        .iter()
        .map(|(field, sides)| {
            json!({
                "field": if field.is_empty() { "value" } else { field.as_str() },
                "from": sides.get("from").map(short),
                "to": sides.get("to").map(short),
            })
        })
        .collect()
}

/// A value as a person reads it: text without its quotes, anything else as JSON, long values
/// cut with an ellipsis.
fn short(value: &Value) -> String {
    const MAX: usize = 120;
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".to_owned(),
        other => other.to_string(),
    };
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
