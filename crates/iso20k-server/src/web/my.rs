//! My work: what the signed-in person has to do in an organisation, late first, with a link to
//! where each is done. An account is linked to a person of the records by its membership.

use axum::extract::{Path, State};
use serde_json::json;

use super::{Browser, PageResult, render};
use crate::App;

pub(crate) async fn page(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    let chrome = browser.chrome(&app, Some(&access), "my").await?;
    let membership = app
        .store()
        .membership(access.org.id, access.auth.user.id)
        .await?;
    let person = membership.and_then(|m| m.person);
    let as_of = app.day_or_default(&access.org, None).await?;
    let (name, todos) = match &person {
        Some(person) => {
            let sms = app.current_model(&access.org).await?;
            let name = sms.person(person).map(|p| p.name.clone());
            (
                name,
                crate::work::of(&app, &access.org, person, as_of).await?,
            )
        }
        None => (None, Vec::new()),
    };
    let (late, soon): (Vec<_>, Vec<_>) = todos.iter().partition(|t| t.overdue);
    let (soon, later): (Vec<_>, Vec<_>) = soon
        .into_iter()
        .partition(|t| t.days.is_some_and(|d| d >= -30));
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
        }),
    ))
}
