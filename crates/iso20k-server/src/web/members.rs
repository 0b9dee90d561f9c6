//! The members page, for administrators: who has access, in which role, and which person of
//! the records each account is (what My work, the digest and the calendar are about).

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Browser, Failure, PageResult, render};
use crate::App;
use crate::auth::Role;
use crate::error::ApiError;

#[derive(Deserialize)]
pub(crate) struct Shown {
    saved: Option<String>,
}

pub(crate) async fn page(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    Query(shown): Query<Shown>,
) -> PageResult {
    let access = app.access(browser.auth.clone(), &slug).await?;
    access.require_admin()?;
    let chrome = browser.chrome(&app, Some(&access), "members").await?;
    let sms = app.current_model(&access.org).await?;
    let today = crate::readiness::today();
    let people: Vec<Value> = sms
        .people
        .iter()
        .filter(|p| p.is_active(today))
        .map(|p| json!({ "id": p.id, "label": format!("{} — {}", p.id, p.name) }))
        .collect();
    let members: Vec<Value> = app
        .store()
        .members(access.org.id)
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, (user, m))| {
            let person = m.person.clone();
            let known = person
                .as_deref()
                .is_none_or(|p| sms.person(p).is_some());
            json!({
                "n": i,
                "email": user.email,
                "name": user.name,
                "role": m.role,
                "expires_at": m.expires_at,
                "person": person,
                "person_known": known,
                "person_name": person.as_deref().and_then(|p| sms.person(p)).map(|p| p.name.clone()),
            })
        })
        .collect();
    Ok(render(
        "members.html",
        json!({
            "chrome": chrome,
            "members": members,
            "people": people,
            "roles": Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            "saved": shown.saved,
        }),
    ))
}

#[derive(Deserialize)]
pub(crate) struct MemberForm {
    csrf: Option<String>,
    email: String,
    role: String,
    #[serde(default)]
    person: String,
}

pub(crate) async fn save(
    State(app): State<App>,
    browser: Browser,
    Path(slug): Path<String>,
    axum::Form(form): axum::Form<MemberForm>,
) -> PageResult {
    browser.check_csrf(form.csrf.as_deref())?;
    let access = app.access(browser.auth.clone(), &slug).await?;
    access.require_admin()?;
    let store = app.store();
    let email = form.email.trim().to_lowercase();
    let user = store
        .user_by_email(&email)
        .await?
        .ok_or_else(|| Failure(ApiError::NotFound(format!("no account {email}"))))?;
    let membership = store
        .membership(access.org.id, user.id)
        .await?
        .ok_or_else(|| Failure(ApiError::NotFound(format!("{email} is not a member"))))?;
    let role = Role::parse(form.role.trim()).ok_or_else(|| {
        Failure(ApiError::field(
            "role",
            format!("`{}` is not a role", form.role),
        ))
    })?;
    let person = Some(form.person.trim()).filter(|p| !p.is_empty());
    if let Some(person) = person {
        crate::api::check_person(&app, &access.org, person).await?;
    }
    if user.id == access.auth.user.id && role != Role::Admin {
        crate::api::last_admin_guard(&app, &access.org, user.id).await?;
    }
    if membership.role != role.as_str() {
        store
            .set_membership(
                access.org.id,
                user.id,
                role.as_str(),
                membership.expires_at.as_deref(),
            )
            .await?;
    }
    store.set_person(access.org.id, user.id, person).await?;
    let saved: String = form_urlencoded::byte_serialize(email.as_bytes()).collect();
    Ok(Redirect::to(&format!("/orgs/{slug}/members?saved={saved}")).into_response())
}
