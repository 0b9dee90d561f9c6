//! The single sign-on pages: `/sso/login` sends the browser to the provider, `/sso/callback`
//! takes it back, checks everything (see [`crate::sso`]), finds or creates the account, applies
//! the role mapping and opens a session. Every refusal is a page in words with a 4xx status
//! (502 when the provider itself fails), never a 500.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use iso20k_store::{StoreError, User};
use serde::Deserialize;
use serde_json::json;

use super::pages::safe_next;
use super::render;
use crate::App;
use crate::error::ApiError;
use crate::sso::{self, ID_TOKEN_COOKIE, STATE_COOKIE, SsoError, mapped_roles};

/// A page saying why, with `status`.
pub(crate) fn refusal(status: StatusCode, message: &str) -> Response {
    let mut page = render(
        "error.html",
        json!({
            "status": status.as_u16(),
            "reason": status.canonical_reason().unwrap_or("Error"),
            "message": message,
        }),
    );
    *page.status_mut() = status;
    page
}

fn sso_refusal(e: SsoError) -> Response {
    refusal(e.status, &e.message)
}

fn not_configured() -> Response {
    refusal(
        StatusCode::NOT_FOUND,
        "Single sign-on is not set up on this server: sign in with your e-mail and password.",
    )
}

/// The server's address as the browser reaches it, without a trailing slash.
pub(crate) fn base_url(app: &App, parts: &Parts) -> Result<String, SsoError> {
    let configured = app.config().public_url.as_deref();
    if let Some(url) =
        configured.or_else(|| app.sso().and_then(|s| s.config().public_url.as_deref()))
    {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .ok_or_else(|| SsoError {
            status: StatusCode::BAD_REQUEST,
            message: "The request does not say which address it was sent to (no usable Host header), so the sign-in cannot come back here.".to_owned(),
        })?;
    let scheme = if crate::api::secure_cookies(app, parts) {
        "https"
    } else {
        "http"
    };
    Ok(format!("{scheme}://{host}"))
}

fn cookie_header(value: String) -> Option<HeaderValue> {
    HeaderValue::from_str(&value).ok()
}

fn clear_state_cookie() -> HeaderValue {
    HeaderValue::from_static("iso20k_sso_state=; Path=/sso; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The value of the cookie `name`, if the request carries it.
pub(crate) fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(axum_extra::extract::cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

#[derive(Deserialize)]
struct StartQuery {
    next: Option<String>,
}

pub(crate) async fn start(State(app): State<App>, parts: Parts) -> Response {
    let Some(sso) = app.sso() else {
        return not_configured();
    };
    let query: StartQuery = serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
        .unwrap_or(StartQuery { next: None });
    let base = match base_url(&app, &parts) {
        Ok(b) => b,
        Err(e) => return sso_refusal(e),
    };
    match sso.start(&base, safe_next(query.next.as_deref())).await {
        Ok((url, sealed)) => {
            let secure = if crate::api::secure_cookies(&app, &parts) {
                "; Secure"
            } else {
                ""
            };
            let mut response = Redirect::to(&url).into_response();
            if let Some(c) = cookie_header(format!(
                "{STATE_COOKIE}={sealed}; Path=/sso; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                sso::STATE_SECONDS
            )) {
                response.headers_mut().append(header::SET_COOKIE, c);
            }
            response
        }
        Err(e) => sso_refusal(e),
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    /// The issuer of the answer (RFC 9207), from providers that send it.
    iss: Option<String>,
}

pub(crate) async fn callback(State(app): State<App>, parts: Parts) -> Response {
    let mut response = match sign_in(&app, &parts).await {
        Ok(r) => r,
        Err(e) => sso_refusal(e),
    };
    // The state is good for one answer, whatever it was.
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_state_cookie());
    response
}

async fn sign_in(app: &App, parts: &Parts) -> Result<Response, SsoError> {
    let Some(sso) = app.sso() else {
        return Ok(not_configured());
    };
    let bad = |m: &str| SsoError {
        status: StatusCode::BAD_REQUEST,
        message: m.to_owned(),
    };
    let query: CallbackQuery = serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
        .map_err(|_| bad("The answer from the sign-in provider is not readable. Start again from the sign-in page."))?;
    if let Some(iss) = &query.iss
        && iss.trim_end_matches('/') != sso.config().issuer.trim_end_matches('/')
    {
        return Err(bad(
            "The answer comes from another sign-in provider than this server's (wrong issuer). Start again from the sign-in page.",
        ));
    }
    if let Some(error) = query.error {
        let said = query
            .error_description
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        return Err(SsoError {
            status: StatusCode::FORBIDDEN,
            message: format!("The sign-in provider did not sign you in ({error}{said})."),
        });
    }
    let (Some(code), Some(state)) = (query.code, query.state) else {
        return Err(bad(
            "The answer from the sign-in provider has no code or no state. Start again from the sign-in page.",
        ));
    };
    let base = base_url(app, parts)?;
    let (identity, next) = sso
        .finish(&base, cookie(parts, STATE_COOKIE).as_deref(), &code, &state)
        .await?;
    let internal = |e: ApiError| {
        tracing::error!("single sign-on: {e:#}");
        SsoError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: "The sign-in could not be recorded; try again in a moment.".to_owned(),
        }
    };
    let user = account(app, &identity)
        .await
        .map_err(|e| internal(e.into()))?;
    apply_roles(app, &user, &identity.groups)
        .await
        .map_err(|e| internal(e.into()))?;
    let user_id = user.id;
    let (_, _, session_cookie) = crate::api::open_session(app, parts, user)
        .await
        .map_err(internal)?;
    let target = match next {
        Some(n) => n,
        None => match app.store().memberships(user_id).await {
            Ok(m) if m.len() == 1 => super::landing(&m[0].0, &m[0].1),
            _ => "/orgs".to_owned(),
        },
    };
    let mut response = Redirect::to(&target).into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, session_cookie);
    let secure = if crate::api::secure_cookies(app, parts) {
        "; Secure"
    } else {
        ""
    };
    if let Some(c) = cookie_header(format!(
        "{ID_TOKEN_COOKIE}={}; Path=/logout; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        identity.id_token,
        app.config().session_hours * 3600
    )) {
        headers.append(header::SET_COOKIE, c);
    }
    tracing::info!(email = %identity.email, "signed in with single sign-on");
    Ok(response)
}

/// The account with the identity's e-mail, created (without a password) on first sign-in.
async fn account(app: &App, identity: &sso::Identity) -> Result<User, StoreError> {
    let store = app.store();
    if let Some(user) = store.user_by_email(&identity.email).await? {
        return Ok(user);
    }
    let name = identity.name.as_deref().unwrap_or(&identity.email);
    match store.create_user(&identity.email, name, None).await {
        Ok(user) => {
            tracing::info!(email = %identity.email, "account created by single sign-on");
            Ok(user)
        }
        // Two first sign-ins at once: the other one created it.
        Err(StoreError::Conflict(_)) => store
            .user_by_email(&identity.email)
            .await?
            .ok_or(StoreError::NotFound),
        Err(e) => Err(e),
    }
}

/// Makes the user's roles in the organisations the mapping names what the provider says: the
/// best role mapped, or none. Organisations the mapping does not name, and external
/// (time-limited) accesses, are left as the administrators set them; the last standing admin
/// of an organisation stays admin.
async fn apply_roles(app: &App, user: &User, groups: &[String]) -> Result<(), StoreError> {
    let Some(sso) = app.sso() else {
        return Ok(());
    };
    let rules = &sso.config().roles;
    let best = mapped_roles(rules, groups);
    let governed: BTreeSet<&str> = rules.iter().map(|r| r.org.as_str()).collect();
    let store = app.store();
    for slug in governed {
        let Some(org) = store.org(slug).await? else {
            tracing::warn!(
                "single sign-on: the role mapping names organisation `{slug}`, which does not exist"
            );
            continue;
        };
        let current = store.membership(org.id, user.id).await?;
        if current.as_ref().is_some_and(|m| m.expires_at.is_some()) {
            continue;
        }
        let was_admin = current.as_ref().is_some_and(|m| m.role == "admin");
        if was_admin && best.get(slug) != Some(&crate::auth::Role::Admin) {
            // The mapping may not leave an organisation without a standing admin, as no admin
            // can: the last one stays until someone else is made admin.
            let others = store
                .members(org.id)
                .await?
                .into_iter()
                .any(|(u, m)| u.id != user.id && m.role == "admin" && m.expires_at.is_none());
            if !others {
                tracing::warn!(email = %user.email, org = slug, "single sign-on would take the last admin's role: kept");
                continue;
            }
        }
        match best.get(slug) {
            Some(role) => {
                if current.as_ref().map(|m| m.role.as_str()) != Some(role.as_str()) {
                    store
                        .set_membership(org.id, user.id, role.as_str(), None)
                        .await?;
                    tracing::info!(email = %user.email, org = slug, role = role.as_str(), "role granted by single sign-on");
                }
            }
            None => {
                if current.is_some() {
                    store.remove_membership(org.id, user.id).await?;
                    tracing::info!(email = %user.email, org = slug, "role withdrawn by single sign-on");
                }
            }
        }
    }
    Ok(())
}
