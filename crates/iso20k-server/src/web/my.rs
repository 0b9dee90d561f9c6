//! My work: what the signed-in person has to do in an organisation, late first, with a link to
//! where each is done. An account is linked to a person of the records by its membership.
//! Here, too, the member subscribes to their calendar feed and opts out of the daily digest.

use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use serde_json::json;

use super::{Browser, PageResult, render};
use crate::App;

pub(crate) async fn page(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    parts: Parts,
) -> PageResult {
    show(&app, &browser, &slug, &parts, None).await
}

/// My work, with the address of a calendar feed just created: the only time it is shown, as
/// the store keeps only its SHA-256.
async fn show(
    app: &App,
    browser: &Browser,
    slug: &str,
    parts: &Parts,
    new_feed: Option<String>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), slug).await?;
    let chrome = browser.chrome(app, Some(&access), "my").await?;
    let membership = app
        .store()
        .membership(access.org.id, access.auth.user.id)
        .await?
        .unwrap_or_default();
    let person = membership.person.clone();
    let as_of = app.day_or_default(&access.org, None).await?;
    let (name, todos) = match &person {
        Some(person) => {
            let sms = app.current_model(&access.org).await?;
            let name = sms.person(person).map(|p| p.name.clone());
            (
                name,
                crate::work::of(app, &access.org, person, as_of).await?,
            )
        }
        None => (None, Vec::new()),
    };
    let (late, soon): (Vec<_>, Vec<_>) = todos.iter().partition(|t| t.overdue);
    let (soon, later): (Vec<_>, Vec<_>) = soon
        .into_iter()
        .partition(|t| t.days.is_some_and(|d| d >= -30));
    let feed_url = match new_feed {
        Some(secret) => {
            let base = super::sso::base_url(app, parts)
                .map_err(|e| super::Failure(crate::error::ApiError::field("host", e.message)))?;
            Some(format!("{base}{}", crate::calendar::path(&secret)))
        }
        None => None,
    };
    Ok(render(
        "my.html",
        json!({
            "chrome": chrome,
            "person": person,
            "name": name,
            "as_of": as_of.to_string(),
            "late": late,
            "soon": soon,
            "later": later,
            "total": todos.len(),
            "admin": access.role == crate::auth::Role::Admin && access.expires_at.is_none(),
            "calendar": membership.calendar,
            "feed_url": feed_url,
            "digest": !membership.digest_opt_out,
            "mailing": app.mailing(),
        }),
    ))
}

#[derive(Deserialize)]
pub(crate) struct CalendarForm {
    csrf: Option<String>,
    /// `create` (a new feed, replacing the one there was) or `revoke`.
    action: String,
}

/// `POST /orgs/{slug}/my/calendar`: creates (or replaces) or revokes the member's feed.
pub(crate) async fn calendar(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    parts: Parts,
    axum::Form(form): axum::Form<CalendarForm>,
) -> PageResult {
    browser.check_csrf(form.csrf.as_deref())?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    let (org, user) = (access.org.id, access.auth.user.id);
    match form.action.as_str() {
        "create" => {
            let secret = crate::auth::secret();
            app.store()
                .set_calendar(org, user, &crate::auth::digest(&secret))
                .await?;
            show(&app, &browser, &slug, &parts, Some(secret)).await
        }
        "revoke" => {
            app.store().revoke_calendar(org, user).await?;
            Ok(Redirect::to(&format!("/orgs/{slug}/my")).into_response())
        }
        other => Err(super::Failure(crate::error::ApiError::field(
            "action",
            format!("`{other}` is neither create nor revoke"),
        ))),
    }
}

#[derive(Deserialize)]
pub(crate) struct DigestForm {
    csrf: Option<String>,
    /// Present (`on`) when the box is ticked: the member wants the digest.
    digest: Option<String>,
}

/// `POST /orgs/{slug}/my/digest`: the member's choice of the daily digest e-mail.
pub(crate) async fn digest(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    axum::Form(form): axum::Form<DigestForm>,
) -> PageResult {
    browser.check_csrf(form.csrf.as_deref())?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    app.store()
        .set_digest_opt_out(access.org.id, access.auth.user.id, form.digest.is_none())
        .await?;
    Ok(Redirect::to(&format!("/orgs/{slug}/my")).into_response())
}
