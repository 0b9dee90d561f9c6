//! Ticket exports uploaded from the browser: the importers of `iso20k import`, all or nothing,
//! with what they did shown in words.

use axum::extract::{Multipart, Path, State};
use serde_json::{Value, json};

use super::{Browser, Failure, PageResult, render};
use crate::App;
use crate::auth::Access;
use crate::error::ApiError;

const SOURCES: [(&str, &str); 6] = [
    ("", "Recognise it from the header row"),
    ("servicenow", "ServiceNow"),
    ("jira", "Jira Service Management"),
    ("glpi", "GLPI"),
    ("itop", "iTop"),
    ("csv", "Plain CSV in iso20k's columns"),
];

/// Whether the caller may import tickets: as through the API, whoever writes every ticket kind.
fn may_import(access: &Access) -> bool {
    iso20k_bundle::records::KINDS
        .iter()
        .filter(|k| k.ticket)
        .all(|k| access.can_write(k))
}

async fn page(
    app: &App,
    browser: &Browser,
    access: &Access,
    outcome: Option<Value>,
    error: Option<String>,
) -> PageResult {
    let chrome = browser.chrome(app, Some(access), "metrics").await?;
    Ok(render(
        "import.html",
        json!({
            "chrome": chrome,
            "sources": SOURCES,
            "allowed": may_import(access),
            "outcome": outcome,
            "error": error,
            "max_upload_mib": app.config().max_upload / (1024 * 1024),
        }),
    ))
}

pub(crate) async fn form(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    page(&app, &browser, &access, None, None).await
}

pub(crate) async fn upload(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    mut multipart: Multipart,
) -> PageResult {
    let mut csrf = None;
    let mut from = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::field("file", e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                let file_name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| ApiError::field("file", e.body_text()))?;
                file = Some((file_name, bytes.to_vec()));
            }
            "csrf" | "from" => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| ApiError::field(&name, e.body_text()))?;
                if name == "csrf" {
                    csrf = Some(text);
                } else {
                    from = Some(text).filter(|t| !t.is_empty());
                }
            }
            _ => {}
        }
    }
    browser.check_csrf(csrf.as_deref())?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    if !may_import(&access) {
        return Err(Failure(ApiError::Forbidden(
            "importing tickets needs the right to change every ticket table".to_owned(),
        )));
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let mut page = page(
            &app,
            &browser,
            &access,
            None,
            Some("Choose an export file.".to_owned()),
        )
        .await?;
        *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(page);
    };
    let name = crate::api::clean_name(&name)?;
    let options = iso20k_import::Options {
        from: from
            .as_deref()
            .map(|s| s.parse().map_err(|m: String| ApiError::field("from", m)))
            .transpose()?,
        ..iso20k_import::Options::default()
    };
    let folder = tempfile::tempdir().map_err(ApiError::internal)?;
    let path = folder.path().join(&name);
    tokio::fs::write(&path, &bytes)
        .await
        .map_err(ApiError::internal)?;
    let result = crate::load::import_tickets(
        app.store(),
        &access.org,
        vec![path],
        options,
        &access.auth.actor(),
        Box::new(|_, _, _| {}),
    )
    .await
    .map_err(ApiError::internal)?;
    drop(folder);
    match result {
        Ok(summary) => {
            if summary.tables.iter().any(|(_, c)| c.added + c.updated > 0) {
                app.changed(&access.org);
            }
            let file = summary.files.first();
            let outcome = json!({
                "name": name,
                "source": file.map(|f| f.source.to_string()),
                "rows": file.map_or(0, |f| f.rows),
                "tables": summary.tables.iter().map(|(k, c)| json!({
                    "kind": k.as_str(), "added": c.added, "updated": c.updated, "unchanged": c.unchanged,
                })).collect::<Vec<_>>(),
                "skipped": file.map(|f| f.skipped.iter().map(|(why, n)| json!({ "why": why, "rows": n })).collect::<Vec<_>>()),
                "warnings": file.map(|f| f.warnings.clone()),
            });
            page(&app, &browser, &access, Some(outcome), None).await
        }
        Err(e) => {
            // The importer names the file by its temporary path; name the upload instead.
            let message = e.to_string();
            let message = match message.find(name.as_str()) {
                Some(i) => message[i..].to_owned(),
                None => message,
            };
            let mut page = page(&app, &browser, &access, None, Some(message)).await?;
            *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
    }
}
