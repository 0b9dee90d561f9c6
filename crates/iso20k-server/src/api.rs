//! The HTTP routes and their handlers. Each handler authenticates (the [`Auth`] extractor),
//! resolves the caller's access to the organisation, checks the role, and calls the store.
//! `openapi.rs` documents the same routes; a test keeps the two in step.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::Body as HttpBody;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use futures::StreamExt;
use iso20k_bundle::records::{Entry, FieldError, KINDS, Kind, kind as find_kind};
use iso20k_core::Edition;
use iso20k_store::{ChangeFilter, Evidence, NewEvidence, Org, Record, Session, Write};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::App;
use crate::auth::{self, Access, Auth, Role, Via};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Path, Query, raw};

pub(crate) fn router(app: App) -> Router {
    let max_upload = app.config().max_upload;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::show))
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/session", post(login).get(whoami).delete(logout))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/api/v1/orgs", get(list_orgs).post(create_org))
        .route("/api/v1/orgs/{slug}", get(show_org))
        .route("/api/v1/orgs/{slug}/members", get(list_members))
        .route(
            "/api/v1/orgs/{slug}/members/{email}",
            put(set_member).delete(remove_member),
        )
        .route("/api/v1/orgs/{slug}/readiness", get(readiness))
        .route("/api/v1/orgs/{slug}/reports/{format}", get(download_report))
        .route("/api/v1/orgs/{slug}/changes", get(changes))
        .route("/api/v1/orgs/{slug}/trail", get(crate::trail::show))
        .route("/api/v1/orgs/{slug}/records", get(list_kinds))
        .route(
            "/api/v1/orgs/{slug}/records/{kind}",
            get(list_records).post(create_record),
        )
        .route(
            "/api/v1/orgs/{slug}/records/{kind}/{key}",
            get(get_record).put(update_record).delete(delete_record),
        )
        .route(
            "/api/v1/orgs/{slug}/records/{kind}/{key}/evidence",
            get(list_evidence)
                .post(upload_evidence)
                .layer(DefaultBodyLimit::max(max_upload)),
        )
        .route(
            "/api/v1/orgs/{slug}/evidence/{id}",
            get(download_evidence).delete(delete_evidence),
        )
        .route(
            "/api/v1/orgs/{slug}/imports/tickets",
            post(import_tickets).layer(DefaultBodyLimit::max(max_upload)),
        )
        .merge(crate::nc::routes())
        .merge(crate::audits::routes())
        .merge(crate::web::routes(max_upload))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(crate::guard::control_characters))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            crate::deadline::limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            crate::metrics::count,
        ))
        .with_state(app)
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::NotFound("no such route; see /api/openapi.json".to_owned()).into_response()
    } else {
        crate::web::Failure(ApiError::NotFound("no such page".to_owned())).into_response()
    }
}

// ---------------------------------------------------------------------------------------------
// Health and documentation

/// The server and its database answer.
#[derive(Serialize, JsonSchema)]
pub(crate) struct Health {
    /// Always `ok`.
    status: &'static str,
}

async fn healthz(State(app): State<App>) -> ApiResult<Json<Health>> {
    app.store().org("").await?;
    Ok(Json(Health { status: "ok" }))
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document().to_string(),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// Email and password.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Login {
    /// The account's email.
    email: String,
    /// Its password.
    password: String,
}

/// The caller and the organisations they can open.
#[derive(Serialize, JsonSchema)]
pub(crate) struct SessionInfo {
    /// The caller.
    user: UserInfo,
    /// For a cookie session: the token to send in `X-CSRF-Token` with every request that
    /// changes something.
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
    /// For a cookie session: when it ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    /// The organisations the caller belongs to.
    orgs: Vec<OrgInfo>,
}

/// A user.
#[derive(Serialize, JsonSchema)]
pub(crate) struct UserInfo {
    /// Email, lower case.
    email: String,
    /// Name.
    name: String,
}

/// An organisation as the caller sees it.
#[derive(Serialize, JsonSchema)]
pub(crate) struct OrgInfo {
    /// Its short name in URLs.
    slug: String,
    /// Its name.
    name: String,
    /// The caller's role in it.
    role: Role,
    /// For an external (read-only, time-limited) access: when it ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    /// Increases with every change to its records.
    revision: i64,
}

async fn login(State(app): State<App>, request: Request) -> ApiResult<Response> {
    let (parts, body) = request.into_parts();
    let Body(login): Body<Login> =
        Body::from_request(Request::from_parts(parts.clone(), body), &()).await?;
    let (auth, expires_at, cookie) = sign_in(&app, &parts, &login.email, login.password).await?;
    let info = session_info(&app, &auth, Some(expires_at)).await?;
    let mut response = Json(info).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Checks a password within the login limits and opens a session: the caller, when the session
/// ends, and the `Set-Cookie` value that carries it. Shared by the API and the sign-in page.
pub(crate) async fn sign_in(
    app: &App,
    parts: &axum::http::request::Parts,
    email: &str,
    password: String,
) -> ApiResult<(Auth, String, HeaderValue)> {
    let config = app.config();
    let store = app.store();
    let email = email.trim().to_lowercase();
    if config.sso_only && !config.break_glass.contains(&email) {
        return Err(ApiError::Forbidden(
            "password sign-in is turned off on this server: sign in with single sign-on".to_owned(),
        ));
    }
    let window =
        jiff::Timestamp::now() - jiff::SignedDuration::from_mins(config.login_window_minutes);
    let since = iso20k_store::format_time(window);
    let mut keys = vec![(
        format!("account:{email}"),
        config.login_attempts_per_account,
    )];
    if let Some(ip) = auth::client_ip(parts, config.behind_proxy) {
        keys.push((format!("address:{ip}"), config.login_attempts_per_address));
    }
    for (key, limit) in &keys {
        if store.login_failures_since(key, &since).await? >= *limit {
            return Err(ApiError::TooManyRequests {
                retry_after: u64::try_from(config.login_window_minutes * 60).unwrap_or(900),
            });
        }
    }
    let user = store.user_by_email(&email).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    // Verify even without an account, so the answer takes as long either way.
    let verified = app
        .blocking(move || match hash {
            Some(h) => auth::verify_password(&h, &password),
            None => {
                auth::verify_password(DUMMY_HASH, &password);
                false
            }
        })
        .await?;
    let Some(user) = user.filter(|_| verified) else {
        for (key, _) in &keys {
            store.login_failure(key).await?;
        }
        return Err(ApiError::Unauthenticated("wrong email or password"));
    };
    store.clear_login_failures(&keys[0].0).await?;
    open_session(app, parts, user).await
}

/// Opens a session for `user`: the caller, when the session ends, and the `Set-Cookie` value
/// that carries it. After a password check or a single sign-on.
pub(crate) async fn open_session(
    app: &App,
    parts: &axum::http::request::Parts,
    user: iso20k_store::User,
) -> ApiResult<(Auth, String, HeaderValue)> {
    let config = app.config();
    let store = app.store();
    let secret = auth::secret();
    let expires = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(config.session_hours);
    let session = Session {
        id_hash: auth::digest(&secret),
        user_id: user.id,
        csrf: auth::secret(),
        created_at: iso20k_store::now(),
        expires_at: iso20k_store::format_time(expires),
    };
    store.create_session(&session).await?;
    let secure = secure_cookies(app, parts);
    let cookie = format!(
        "{}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        auth::SESSION_COOKIE,
        config.session_hours * 3600,
        if secure { "; Secure" } else { "" }
    );
    let auth = Auth {
        user,
        via: Via::Session {
            id_hash: session.id_hash,
            csrf: session.csrf,
        },
    };
    Ok((
        auth,
        session.expires_at,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    ))
}

/// Whether cookies set in answer to this request are marked `Secure`.
pub(crate) fn secure_cookies(app: &App, parts: &axum::http::request::Parts) -> bool {
    app.config().secure_cookies.unwrap_or_else(|| {
        parts
            .headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
    })
}

/// An argon2id hash of a random password, verified against when the account does not exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Jx6VSTfpn8EDNF7bYJZlDd4A1U4oIo5Y6Yud7G0Wc6g";

use axum::extract::FromRequest as _;

async fn session_info(
    app: &App,
    auth: &Auth,
    expires_at: Option<String>,
) -> ApiResult<SessionInfo> {
    let memberships = app.store().memberships(auth.user.id).await?;
    let now = iso20k_store::now();
    Ok(SessionInfo {
        user: UserInfo {
            email: auth.user.email.clone(),
            name: auth.user.name.clone(),
        },
        csrf_token: match &auth.via {
            Via::Session { csrf, .. } => Some(csrf.clone()),
            Via::Token { .. } => None,
        },
        expires_at,
        orgs: memberships
            .into_iter()
            .filter(|(_, m)| m.expires_at.as_ref().is_none_or(|e| *e > now))
            .filter_map(|(org, m)| {
                Some(OrgInfo {
                    role: Role::parse(&m.role)?,
                    slug: org.slug,
                    name: org.name,
                    expires_at: m.expires_at,
                    revision: org.revision,
                })
            })
            .collect(),
    })
}

async fn whoami(State(app): State<App>, auth: Auth) -> ApiResult<Json<SessionInfo>> {
    Ok(Json(session_info(&app, &auth, None).await?))
}

async fn logout(State(app): State<App>, auth: Auth) -> ApiResult<Response> {
    if let Via::Session { id_hash, .. } = &auth.via {
        app.store().delete_session(id_hash).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
            auth::SESSION_COOKIE
        ))
        .map_err(ApiError::internal)?,
    );
    Ok(response)
}

// ---------------------------------------------------------------------------------------------
// API tokens

/// A token to create.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    /// What it is for, e.g. "CI pipeline".
    name: String,
    /// When it stops working (RFC 3339); never when left out.
    #[serde(default)]
    expires_at: Option<String>,
}

/// An API token, without its secret.
#[derive(Serialize, JsonSchema)]
pub(crate) struct TokenInfo {
    /// Its id.
    id: i64,
    /// What it is for.
    name: String,
    /// When it was created.
    created_at: String,
    /// When it stops working.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
}

/// A new API token: the secret is shown once, here.
#[derive(Serialize, JsonSchema)]
pub(crate) struct TokenCreated {
    /// The token; send it as `Authorization: Bearer TOKEN`.
    token: String,
    /// The token's details.
    #[serde(flatten)]
    info: TokenInfo,
}

fn token_info(t: iso20k_store::Token) -> TokenInfo {
    TokenInfo {
        id: t.id,
        name: t.name,
        created_at: t.created_at,
        expires_at: t.expires_at,
    }
}

async fn list_tokens(State(app): State<App>, auth: Auth) -> ApiResult<Json<Vec<TokenInfo>>> {
    let tokens = app.store().tokens(auth.user.id).await?;
    Ok(Json(tokens.into_iter().map(token_info).collect()))
}

async fn create_token(
    State(app): State<App>,
    auth: Auth,
    Body(new): Body<NewToken>,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    if new.name.trim().is_empty() {
        return Err(ApiError::field("name", "a value is required"));
    }
    let expires_at = new
        .expires_at
        .as_deref()
        .map(|t| future_time("expires_at", t))
        .transpose()?;
    let token = auth::new_token();
    let created = app
        .store()
        .create_token(
            auth.user.id,
            new.name.trim(),
            &auth::digest(&token),
            expires_at.as_deref(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            token,
            info: token_info(created),
        }),
    ))
}

async fn revoke_token(
    State(app): State<App>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    app.store()
        .revoke_token(auth.user.id, id)
        .await
        .map_err(|e| not_found_as(e, "you have no token with this id"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// A time in the future, as RFC 3339, normalised the way the store keeps times.
fn future_time(field: &str, text: &str) -> ApiResult<String> {
    let t: jiff::Timestamp = text.parse().map_err(|_| {
        ApiError::field(
            field,
            format!("`{text}` is not an RFC 3339 time such as 2026-12-31T23:59:59Z"),
        )
    })?;
    if t <= jiff::Timestamp::now() {
        return Err(ApiError::field(field, "must be in the future"));
    }
    Ok(iso20k_store::format_time(t))
}

fn not_found_as(e: iso20k_store::StoreError, message: &str) -> ApiError {
    match e {
        iso20k_store::StoreError::NotFound => ApiError::NotFound(message.to_owned()),
        other => other.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Organisations and members

/// An organisation to create.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewOrg {
    /// Its short name in URLs: lower-case letters, digits and dashes.
    slug: String,
    /// Its name.
    name: String,
}

/// Checks an organisation's slug.
pub fn check_slug(slug: &str) -> Result<(), String> {
    let ok = !slug.is_empty()
        && slug.len() <= 63
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(
            "use 1 to 63 lower-case letters, digits and dashes, not starting or ending with a dash"
                .to_owned(),
        )
    }
}

async fn list_orgs(State(app): State<App>, auth: Auth) -> ApiResult<Json<Vec<OrgInfo>>> {
    Ok(Json(session_info(&app, &auth, None).await?.orgs))
}

async fn create_org(
    State(app): State<App>,
    auth: Auth,
    Body(new): Body<NewOrg>,
) -> ApiResult<(StatusCode, Json<OrgInfo>)> {
    // A consultant who administers one client's organisation may open another; anyone else
    // asks an administrator.
    let administers = app
        .store()
        .memberships(auth.user.id)
        .await?
        .iter()
        .any(|(_, m)| m.role == "admin" && m.expires_at.is_none());
    if !administers {
        return Err(ApiError::Forbidden(
            "only an admin of an organisation may create organisations".to_owned(),
        ));
    }
    check_slug(&new.slug).map_err(|m| ApiError::field("slug", m))?;
    if new.name.trim().is_empty() {
        return Err(ApiError::field("name", "a value is required"));
    }
    let org = app.store().create_org(&new.slug, new.name.trim()).await?;
    app.store()
        .set_membership(org.id, auth.user.id, Role::Admin.as_str(), None)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(OrgInfo {
            slug: org.slug,
            name: org.name,
            role: Role::Admin,
            expires_at: None,
            revision: org.revision,
        }),
    ))
}

async fn show_org(
    State(app): State<App>,
    auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<Json<OrgInfo>> {
    let access = app.access(auth, &slug).await?;
    Ok(Json(OrgInfo {
        slug: access.org.slug,
        name: access.org.name,
        role: access.role,
        expires_at: access.expires_at,
        revision: access.org.revision,
    }))
}

/// A member of an organisation.
#[derive(Serialize, JsonSchema)]
pub(crate) struct MemberInfo {
    /// Email.
    email: String,
    /// Name.
    name: String,
    /// Role.
    role: Role,
    /// For an external (read-only) access: when it ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    /// The person of the organisation's records the account is linked to (an id of its people
    /// register): whose findings, actions and documents are theirs.
    #[serde(skip_serializing_if = "Option::is_none")]
    person: Option<String>,
}

/// A member's role; a new account also needs a password.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MemberUpdate {
    /// The role in this organisation.
    role: Role,
    /// Makes the access external: read-only, ending at this time (RFC 3339).
    #[serde(default)]
    expires_at: Option<String>,
    /// The name of a new account.
    #[serde(default)]
    name: Option<String>,
    /// The password of a new account (at least 10 characters).
    #[serde(default)]
    password: Option<String>,
    /// Links the account to this person of the people register; an empty text unlinks it;
    /// left out, the link stays as it was.
    #[serde(default)]
    person: Option<String>,
}

async fn list_members(
    State(app): State<App>,
    auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<MemberInfo>>> {
    let access = app.access(auth, &slug).await?;
    let members = app.store().members(access.org.id).await?;
    Ok(Json(
        members
            .into_iter()
            .filter_map(|(u, m)| {
                Some(MemberInfo {
                    role: Role::parse(&m.role)?,
                    email: u.email,
                    name: u.name,
                    expires_at: m.expires_at,
                    person: m.person,
                })
            })
            .collect(),
    ))
}

async fn set_member(
    State(app): State<App>,
    auth: Auth,
    Path((slug, email)): Path<(String, String)>,
    Body(update): Body<MemberUpdate>,
) -> ApiResult<Json<MemberInfo>> {
    let access = app.access(auth, &slug).await?;
    access.require_admin()?;
    let email = email.trim().to_lowercase();
    if !looks_like_email(&email) {
        return Err(ApiError::field("email", "not an email address"));
    }
    let expires_at = update
        .expires_at
        .as_deref()
        .map(|t| future_time("expires_at", t))
        .transpose()?;
    if let Some(person) = update
        .person
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        check_person(&app, &access.org, person).await?;
    }
    let store = app.store();
    let user = match store.user_by_email(&email).await? {
        Some(user) => user,
        None => {
            let Some(password) = update.password else {
                return Err(ApiError::field(
                    "password",
                    "required to create the account of a new member",
                ));
            };
            auth::check_password(&password).map_err(|m| ApiError::field("password", m))?;
            let hash = app
                .blocking(move || auth::hash_password(&password))
                .await?
                .map_err(ApiError::internal)?;
            let name = update.name.unwrap_or_default();
            store.create_user(&email, name.trim(), Some(&hash)).await?
        }
    };
    if user.id == access.auth.user.id && (update.role != Role::Admin || expires_at.is_some()) {
        last_admin_guard(&app, &access.org, user.id).await?;
    }
    let m = store
        .set_membership(
            access.org.id,
            user.id,
            update.role.as_str(),
            expires_at.as_deref(),
        )
        .await?;
    let person = match update.person {
        Some(person) => {
            let person = Some(person.trim().to_owned()).filter(|p| !p.is_empty());
            store
                .set_person(access.org.id, user.id, person.as_deref())
                .await?;
            person
        }
        None => m.person,
    };
    Ok(Json(MemberInfo {
        email: user.email,
        name: user.name,
        role: update.role,
        expires_at: m.expires_at,
        person,
    }))
}

/// Refuses a person id that the organisation's people register does not hold.
pub(crate) async fn check_person(app: &App, org: &Org, person: &str) -> ApiResult<()> {
    let sms = app.current_model(org).await?;
    if sms.person(person).is_some() {
        Ok(())
    } else {
        Err(ApiError::field(
            "person",
            format!(
                "there is no `{person}` in the people register of `{}`",
                org.slug
            ),
        ))
    }
}

async fn remove_member(
    State(app): State<App>,
    auth: Auth,
    Path((slug, email)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let access = app.access(auth, &slug).await?;
    access.require_admin()?;
    let store = app.store();
    let user = store
        .user_by_email(&email)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("`{email}` is not a member")))?;
    last_admin_guard(&app, &access.org, user.id).await?;
    store
        .remove_membership(access.org.id, user.id)
        .await
        .map_err(|e| not_found_as(e, &format!("`{email}` is not a member")))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Refuses to leave an organisation without a standing admin.
pub(crate) async fn last_admin_guard(app: &App, org: &Org, leaving: i64) -> ApiResult<()> {
    let others = app
        .store()
        .members(org.id)
        .await?
        .into_iter()
        .any(|(u, m)| u.id != leaving && m.role == "admin" && m.expires_at.is_none());
    if others {
        Ok(())
    } else {
        Err(ApiError::Conflict {
            message: "an organisation needs at least one admin; make someone else admin first"
                .to_owned(),
            current_version: None,
        })
    }
}

fn looks_like_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace)
    })
}

// ---------------------------------------------------------------------------------------------
// Readiness

/// Which report.
#[derive(Deserialize, JsonSchema)]
pub(crate) struct ReadinessQuery {
    /// 2018 or 2011; the organisation's declared edition when left out.
    #[serde(default)]
    edition: Option<String>,
    /// Judge the records as of this day (YYYY-MM-DD); today when left out.
    #[serde(default)]
    as_of: Option<String>,
}

async fn readiness(
    State(app): State<App>,
    auth: Auth,
    Path(slug): Path<String>,
    Query(q): Query<ReadinessQuery>,
) -> ApiResult<Response> {
    let access = app.access(auth, &slug).await?;
    let (edition, as_of) = edition_and_day(q.edition.as_deref(), q.as_of.as_deref())?;
    let as_of = app.day_or_default(&access.org, as_of).await?;
    let json = app.readiness(&access.org, edition, as_of).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response())
}

/// A format the server writes reports in: the report crate's, and PDF when built with it.
#[derive(Clone, Copy)]
pub(crate) enum ReportKind {
    Plain(iso20k_report::Format),
    #[cfg(feature = "pdf")]
    Pdf,
}

impl ReportKind {
    pub(crate) fn names() -> Vec<&'static str> {
        let names = iso20k_report::Format::ALL.iter().map(|f| f.name());
        #[cfg(feature = "pdf")]
        let names = names.chain(["pdf"]);
        names.collect()
    }

    fn named(name: &str) -> Option<ReportKind> {
        #[cfg(feature = "pdf")]
        if name == "pdf" {
            return Some(ReportKind::Pdf);
        }
        iso20k_report::Format::named(name).map(ReportKind::Plain)
    }

    fn media_type(self) -> &'static str {
        match self {
            ReportKind::Plain(f) => f.media_type(),
            #[cfg(feature = "pdf")]
            ReportKind::Pdf => "application/pdf",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            ReportKind::Plain(f) => f.extension(),
            #[cfg(feature = "pdf")]
            ReportKind::Pdf => "pdf",
        }
    }

    fn render(
        self,
        report: &iso20k_core::audit::Report,
        sms: &iso20k_core::model::Sms,
    ) -> Result<Vec<u8>, String> {
        let deadlines = iso20k_report::Deadlines::default();
        match self {
            ReportKind::Plain(f) => f.render(report, sms, &deadlines, ""),
            #[cfg(feature = "pdf")]
            ReportKind::Pdf => iso20k_pdf::render(report, sms, &deadlines),
        }
    }
}

/// The report in one of the formats of `iso20k report`, as a file to save.
async fn download_report(
    State(app): State<App>,
    auth: Auth,
    Path((slug, format)): Path<(String, String)>,
    Query(q): Query<ReadinessQuery>,
) -> ApiResult<Response> {
    let access = app.access(auth, &slug).await?;
    let format = ReportKind::named(&format).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no report format `{format}`; there are {}",
            ReportKind::names().join(", ")
        ))
    })?;
    let (edition, as_of) = edition_and_day(q.edition.as_deref(), q.as_of.as_deref())?;
    let as_of = app.day_or_default(&access.org, as_of).await?;
    let edition = match edition {
        Some(e) => e,
        None => app.declared_edition(&access.org).await?,
    };
    let sms = app.model(&access.org, access.org.revision).await?;
    let bytes = app
        .blocking(move || {
            let report =
                iso20k_core::audit::audit(&sms, iso20k_core::audit::Options { edition, as_of });
            format.render(&report, &sms)
        })
        .await?
        .map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    let name = format!(
        "{}-readiness-{as_of}.{}",
        access.org.slug,
        format.extension()
    );
    let mut response = Response::new(HttpBody::from(bytes));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// The edition and day a report is asked for: each optional (empty counts as left out, as an
/// emptied form field sends it); left out, the organisation's own decide.
pub(crate) fn edition_and_day(
    edition: Option<&str>,
    as_of: Option<&str>,
) -> ApiResult<(Option<Edition>, Option<iso20k_core::Date>)> {
    let edition = match edition.filter(|e| !e.is_empty()) {
        None => None,
        Some("2018") => Some(Edition::Y2018),
        Some("2011") => Some(Edition::Y2011),
        Some(other) => {
            return Err(ApiError::field(
                "edition",
                format!("unknown edition `{other}`: expected 2018 or 2011"),
            ));
        }
    };
    let as_of = match as_of.filter(|d| !d.is_empty()) {
        None => None,
        Some(text) => Some(
            parse_day(text)
                .and_then(iso20k_core::check_as_of)
                .map_err(|m| ApiError::field("as_of", m))?,
        ),
    };
    Ok((edition, as_of))
}

fn parse_day(text: &str) -> Result<iso20k_core::Date, String> {
    let bad = || format!("invalid date `{text}`: expected YYYY-MM-DD");
    if text.len() != 10 {
        return Err(bad());
    }
    text.parse().map_err(|_| bad())
}

// ---------------------------------------------------------------------------------------------
// Records

/// A kind of record and how many the organisation holds.
#[derive(Serialize, JsonSchema)]
pub(crate) struct KindInfo {
    /// Its name in URLs.
    name: &'static str,
    /// The bundle file its records live in.
    file: &'static str,
    /// One record, in words.
    what: &'static str,
    /// What a record's key is made of.
    key: &'static str,
    /// Whether it holds at most one record, keyed by the kind's name.
    singleton: bool,
    /// Whether its records are tickets.
    ticket: bool,
    /// How many records the organisation has.
    count: i64,
    /// Whether the caller may change them.
    writable: bool,
}

async fn list_kinds(
    State(app): State<App>,
    auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<KindInfo>>> {
    let access = app.access(auth, &slug).await?;
    let counts = app.counts(&access.org).await?;
    Ok(Json(
        KINDS
            .iter()
            .map(|k| KindInfo {
                name: k.name,
                file: k.file,
                what: k.what,
                key: k.key,
                singleton: k.singleton,
                ticket: k.ticket,
                count: counts.get(k.name).copied().unwrap_or(0),
                writable: access.can_write(k),
            })
            .collect(),
    ))
}

/// A stored record.
#[derive(Serialize)]
pub(crate) struct RecordItem {
    kind: String,
    key: String,
    version: i64,
    updated_at: String,
    updated_by: String,
    record: Box<serde_json::value::RawValue>,
    /// After a create or a replace: the record's references that name no record.
    #[serde(skip_serializing_if = "Option::is_none")]
    warnings: Option<Vec<crate::refs::Warning>>,
}

fn item(r: Record) -> ApiResult<RecordItem> {
    Ok(RecordItem {
        record: serde_json::value::RawValue::from_string(r.body).map_err(ApiError::internal)?,
        kind: r.kind,
        key: r.key,
        version: r.version,
        updated_at: r.updated_at,
        updated_by: r.updated_by,
        warnings: None,
    })
}

/// A record just saved, with the warnings of its references that do not resolve.
pub(crate) async fn saved(app: &App, org: &Org, kind: &Kind, r: Record) -> ApiResult<RecordItem> {
    let warnings = app.reference_warnings(org, kind, &r.body).await?;
    Ok(RecordItem {
        warnings: Some(warnings),
        ..item(r)?
    })
}

/// A page of records.
#[derive(Serialize)]
pub(crate) struct RecordPage {
    items: Vec<RecordItem>,
    next: Option<String>,
    total: i64,
}

/// Which page.
#[derive(Deserialize, JsonSchema)]
pub(crate) struct PageQuery {
    /// The `next` of the previous page: records with keys after this one.
    #[serde(default)]
    after: Option<String>,
    /// How many, 1 to 1000; 100 when left out.
    #[serde(default)]
    limit: Option<i64>,
}

/// A record to create.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBody {
    /// The record, as in its bundle file.
    record: serde_json::Value,
}

/// A new version of a record.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateBody {
    /// The version this change was made against: the one last read.
    version: i64,
    /// The record, whole, as in its bundle file.
    record: serde_json::Value,
}

/// Which version to delete.
#[derive(Deserialize, JsonSchema)]
pub(crate) struct VersionQuery {
    /// The version last read; deleting anything newer is refused.
    version: i64,
}

pub(crate) fn kind_named(name: &str) -> ApiResult<&'static Kind> {
    find_kind(name).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no kind of record named `{name}`; GET /api/v1/orgs/{{slug}}/records lists them"
        ))
    })
}

async fn list_records(
    State(app): State<App>,
    auth: Auth,
    Path((slug, kind)): Path<(String, String)>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<RecordPage>> {
    let access = app.access(auth, &slug).await?;
    let kind = kind_named(&kind)?;
    let limit = page.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 1000"));
    }
    let store = app.store();
    let mut records = store
        .records(access.org.id, kind.name, page.after.as_deref(), limit + 1)
        .await?;
    let next = if records.len() as i64 > limit {
        records.truncate(limit as usize);
        records.last().map(|r| r.key.clone())
    } else {
        None
    };
    Ok(Json(RecordPage {
        items: records.into_iter().map(item).collect::<ApiResult<_>>()?,
        next,
        total: app
            .counts(&access.org)
            .await?
            .get(kind.name)
            .copied()
            .unwrap_or(0),
    }))
}

async fn get_record(
    State(app): State<App>,
    auth: Auth,
    Path((slug, kind, key)): Path<(String, String, String)>,
) -> ApiResult<Json<RecordItem>> {
    let access = app.access(auth, &slug).await?;
    let kind = kind_named(&kind)?;
    let record = app
        .store()
        .record(access.org.id, kind.name, &key)
        .await?
        .ok_or_else(|| no_record(kind, &key))?;
    Ok(Json(item(record)?))
}

fn no_record(kind: &Kind, key: &str) -> ApiError {
    ApiError::NotFound(format!("no {} `{key}`", kind.what))
}

/// Checks a record sent to the API: its fields, and that the ids in it are not used by another
/// record of the same bundle file (which would make the exported bundle unreadable).
pub(crate) async fn check_record(
    app: &App,
    org: &Org,
    kind: &'static Kind,
    record: &serde_json::Value,
) -> ApiResult<Entry> {
    let entry = kind.parse(&record.to_string()).map_err(prefixed)?;
    if !kind.shares_ids() {
        return Ok(entry);
    }
    let mut taken: HashMap<String, (&'static Kind, String)> = HashMap::new();
    for mate in kind.file_mates().filter(|k| k.shares_ids()) {
        let mut bodies = app.store().bodies(org.id, mate.name);
        while let Some(body) = bodies.next().await {
            let other = mate.parse(&body?).map_err(|e| {
                ApiError::internal(anyhow::anyhow!(
                    "a stored {} does not read: {e:?}",
                    mate.name
                ))
            })?;
            if mate == kind && other.key == entry.key {
                continue;
            }
            for (_, id) in &other.nested {
                taken.insert(id.clone(), (mate, other.key.clone()));
            }
            taken.insert(other.key.clone(), (mate, other.key));
        }
    }
    let mut errors = Vec::new();
    let mut clash = |field: &str, id: &str| {
        if let Some((mate, key)) = taken.get(id) {
            // The same key in the same kind is the store's 409, not a field error.
            if field == "id" && *mate == kind && key == id {
                return;
            }
            errors.push(FieldError {
                field: format!("record.{field}"),
                message: format!("id `{id}` is already used by {} `{key}`", mate.what),
            });
        }
    };
    clash("id", &entry.key);
    for (field, id) in &entry.nested {
        clash(field, id);
    }
    if errors.is_empty() {
        Ok(entry)
    } else {
        Err(ApiError::fields(errors))
    }
}

/// Field errors of the record, named as the fields of the request body.
fn prefixed(errors: Vec<FieldError>) -> ApiError {
    ApiError::fields(
        errors
            .into_iter()
            .map(|e| FieldError {
                field: if e.field.is_empty() {
                    "record".to_owned()
                } else {
                    format!("record.{}", e.field)
                },
                message: e.message,
            })
            .collect(),
    )
}

async fn create_record(
    State(app): State<App>,
    auth: Auth,
    Path((slug, kind)): Path<(String, String)>,
    Body(body): Body<CreateBody>,
) -> ApiResult<Response> {
    let access = app.access(auth, &slug).await?;
    let kind = kind_named(&kind)?;
    access.require_write(kind)?;
    let entry = check_record(&app, &access.org, kind, &body.record).await?;
    let entry = crate::nc::gate_record(kind, &access, None, entry)?;
    let write = Write {
        kind: kind.name.to_owned(),
        key: entry.key,
        body: entry.body,
    };
    let record = app
        .store()
        .create(access.org.id, &access.auth.actor(), &write)
        .await
        .map_err(|e| match e {
            iso20k_store::StoreError::Conflict(_) => ApiError::Conflict {
                message: format!(
                    "{} `{}` exists already; update it with PUT",
                    kind.what, write.key
                ),
                current_version: None,
            },
            other => other.into(),
        })?;
    app.changed(&access.org);
    let location = format!(
        "/api/v1/orgs/{}/records/{}/{}",
        access.org.slug,
        kind.name,
        encode_segment(&record.key)
    );
    let mut response = (
        StatusCode::CREATED,
        Json(saved(&app, &access.org, kind, record).await?),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// Percent-encodes a key for one path segment (keys may hold `/`).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn update_record(
    State(app): State<App>,
    auth: Auth,
    Path((slug, kind, key)): Path<(String, String, String)>,
    Body(body): Body<UpdateBody>,
) -> ApiResult<Json<RecordItem>> {
    let access = app.access(auth, &slug).await?;
    let kind = kind_named(&kind)?;
    access.require_write(kind)?;
    let entry = check_record(&app, &access.org, kind, &body.record).await?;
    if entry.key != key {
        return Err(ApiError::field(
            &format!(
                "record.{}",
                kind.key.split(['/', '[']).next().unwrap_or("id")
            ),
            format!(
                "the record's key is `{}` but the URL names `{key}`; to rename a record, delete it and create it anew",
                entry.key
            ),
        ));
    }
    let entry = if kind.name == crate::nc::KIND {
        // The loop's rules compare the write with the record it replaces.
        let before = app.store().record(access.org.id, kind.name, &key).await?;
        let before = before.filter(|r| r.version == body.version);
        match before {
            Some(r) => crate::nc::gate_record(kind, &access, Some(&r.body), entry)?,
            // Unknown or stale: the store says which.
            None => entry,
        }
    } else {
        entry
    };
    let write = Write {
        kind: kind.name.to_owned(),
        key,
        body: entry.body,
    };
    let record = app
        .store()
        .update(access.org.id, &access.auth.actor(), &write, body.version)
        .await
        .map_err(|e| not_found_as(e, &format!("no {} `{}`", kind.what, write.key)))?;
    app.changed(&access.org);
    Ok(Json(saved(&app, &access.org, kind, record).await?))
}

async fn delete_record(
    State(app): State<App>,
    auth: Auth,
    Path((slug, kind, key)): Path<(String, String, String)>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<StatusCode> {
    let access = app.access(auth, &slug).await?;
    let kind = kind_named(&kind)?;
    access.require_write(kind)?;
    let store = app.store();
    let actor = access.auth.actor();
    store
        .delete(access.org.id, &actor, kind.name, &key, Some(q.version))
        .await
        .map_err(|e| not_found_as(e, &format!("no {} `{key}`", kind.what)))?;
    // Evidence goes with its record, each removal in the audit trail.
    for e in store.evidence(access.org.id, kind.name, &key).await? {
        store.delete_evidence(access.org.id, &actor, e.id).await?;
    }
    app.changed(&access.org);
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Audit trail

/// Which changes.
#[derive(Deserialize, JsonSchema)]
pub(crate) struct ChangeQuery {
    /// Only changes to records of this kind.
    #[serde(default)]
    kind: Option<String>,
    /// Only changes to the record with this key.
    #[serde(default)]
    key: Option<String>,
    /// The `next` of the previous page: changes older than this id.
    #[serde(default)]
    before: Option<i64>,
    /// How many, 1 to 1000; 100 when left out.
    #[serde(default)]
    limit: Option<i64>,
}

/// One change to a record.
#[derive(Serialize)]
pub(crate) struct ChangeItem {
    id: i64,
    at: String,
    actor: String,
    action: String,
    kind: String,
    key: String,
    before: Option<Box<serde_json::value::RawValue>>,
    after: Option<Box<serde_json::value::RawValue>>,
    changed: Option<Box<serde_json::value::RawValue>>,
    digest: Option<String>,
    seq: i64,
    hash: String,
}

/// A page of the audit trail, newest first.
#[derive(Serialize)]
pub(crate) struct ChangePage {
    items: Vec<ChangeItem>,
    next: Option<i64>,
}

async fn changes(
    State(app): State<App>,
    auth: Auth,
    Path(slug): Path<String>,
    Query(q): Query<ChangeQuery>,
) -> ApiResult<Json<ChangePage>> {
    let access = app.access(auth, &slug).await?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 1000"));
    }
    let filter = ChangeFilter {
        kind: q.kind,
        key: q.key,
        before_id: q.before,
        limit: limit + 1,
    };
    let mut found = app.store().changes(access.org.id, &filter).await?;
    let next = if found.len() as i64 > limit {
        found.truncate(limit as usize);
        found.last().map(|c| c.id)
    } else {
        None
    };
    let raw = |s: Option<String>| -> ApiResult<Option<Box<serde_json::value::RawValue>>> {
        s.map(|s| serde_json::value::RawValue::from_string(s).map_err(ApiError::internal))
            .transpose()
    };
    let items = found
        .into_iter()
        .map(|c| {
            let changed = raw(c.changed_fields())?;
            Ok(ChangeItem {
                id: c.id,
                at: c.at,
                actor: c.actor,
                action: c.action,
                kind: c.kind,
                key: c.key,
                changed,
                before: raw(c.before)?,
                after: raw(c.after)?,
                digest: c.digest,
                seq: c.seq,
                hash: c.hash,
            })
        })
        .collect::<ApiResult<_>>()?;
    Ok(Json(ChangePage { items, next }))
}

// ---------------------------------------------------------------------------------------------
// Evidence

/// An evidence file attached to a record.
#[derive(Serialize, JsonSchema)]
pub(crate) struct EvidenceInfo {
    /// Its id.
    id: i64,
    /// The kind of the record it supports.
    kind: String,
    /// The key of the record it supports.
    key: String,
    /// The file's name.
    name: String,
    /// The file's media type.
    media_type: String,
    /// Its size in bytes.
    size: i64,
    /// Its SHA-256, hex.
    sha256: String,
    /// When it was attached.
    created_at: String,
    /// Who attached it.
    created_by: String,
}

impl From<Evidence> for EvidenceInfo {
    fn from(e: Evidence) -> Self {
        EvidenceInfo {
            id: e.id,
            kind: e.kind,
            key: e.key,
            name: e.name,
            media_type: e.media_type,
            size: e.size,
            sha256: e.sha256,
            created_at: e.created_at,
            created_by: e.created_by,
        }
    }
}

/// The file's name.
#[derive(Deserialize, JsonSchema)]
pub(crate) struct UploadQuery {
    /// The name to keep the file under, e.g. `minutes-2026-03.pdf`.
    name: String,
}

/// A file name safe to store and to send back in a header: no folders, no control characters.
pub(crate) fn clean_name(name: &str) -> ApiResult<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .collect();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return Err(ApiError::field("name", "a file name is required"));
    }
    if cleaned.len() > 255 {
        return Err(ApiError::field("name", "at most 255 bytes"));
    }
    Ok(cleaned)
}

async fn list_evidence(
    State(app): State<App>,
    auth: Auth,
    Path((slug, kind, key)): Path<(String, String, String)>,
) -> ApiResult<Json<Vec<EvidenceInfo>>> {
    let access = app.access(auth, &slug).await?;
    let kind = kind_named(&kind)?;
    let files = app.store().evidence(access.org.id, kind.name, &key).await?;
    Ok(Json(files.into_iter().map(Into::into).collect()))
}

async fn upload_evidence(
    State(app): State<App>,
    auth: Auth,
    Path((slug, kind, key)): Path<(String, String, String)>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    request: Request,
) -> ApiResult<(StatusCode, Json<EvidenceInfo>)> {
    let access = app.access(auth, &slug).await?;
    let kind = kind_named(&kind)?;
    access.require_evidence()?;
    let data = raw(request, &()).await?;
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 255 && !v.trim().is_empty())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let evidence = store_evidence(
        &app,
        &access,
        kind,
        &key,
        &q.name,
        &media_type,
        data.to_vec(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(evidence.into())))
}

/// Attaches a file to a record: its name cleaned, its hash computed, its record required.
/// Shared by the API and the record page.
pub(crate) async fn store_evidence(
    app: &App,
    access: &Access,
    kind: &'static Kind,
    key: &str,
    name: &str,
    media_type: &str,
    data: Vec<u8>,
) -> ApiResult<iso20k_store::Evidence> {
    let name = clean_name(name)?;
    let store = app.store();
    if store.record(access.org.id, kind.name, key).await?.is_none() {
        return Err(no_record(kind, key));
    }
    if data.is_empty() {
        return Err(ApiError::field("", "the file is empty"));
    }
    let sha256: String = sha2::Sha256::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(store
        .add_evidence(
            access.org.id,
            &access.auth.actor(),
            NewEvidence {
                kind: kind.name.to_owned(),
                key: key.to_owned(),
                name,
                media_type: media_type.to_owned(),
                sha256,
                data,
            },
        )
        .await?)
}

async fn download_evidence(
    State(app): State<App>,
    auth: Auth,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<Response> {
    let access = app.access(auth, &slug).await?;
    let (meta, data) = app
        .store()
        .evidence_file(access.org.id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no evidence file {id}")))?;
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        meta.name.replace(|c: char| !c.is_ascii() || c == '"', "_"),
        encode_segment(&meta.name)
    );
    let mut response = Response::new(HttpBody::from(data));
    let h = response.headers_mut();
    // Evidence is whatever people uploaded: never let a browser render it as part of the site.
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&meta.media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(ApiError::internal)?,
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{}\"", meta.sha256)).map_err(ApiError::internal)?,
    );
    Ok(response)
}

async fn delete_evidence(
    State(app): State<App>,
    auth: Auth,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    let access = app.access(auth, &slug).await?;
    access.require_evidence()?;
    app.store()
        .delete_evidence(access.org.id, &access.auth.actor(), id)
        .await
        .map_err(|e| not_found_as(e, &format!("no evidence file {id}")))?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Ticket imports

/// The export's tool, kind and file name.
#[derive(Deserialize, JsonSchema)]
pub(crate) struct TicketImportQuery {
    /// The export's file name; its extension tells the format (.csv, .csv.gz, .xlsx, .json).
    name: String,
    /// The tool that wrote it (servicenow, jira, glpi, itop, csv); recognised from the header
    /// row when left out.
    #[serde(default)]
    from: Option<String>,
    /// The kind of ticket it holds (incidents, requests, problems, changes, releases, cis,
    /// slas); recognised when left out.
    #[serde(default)]
    kind: Option<String>,
}

/// What a ticket import did.
#[derive(Serialize, JsonSchema)]
pub(crate) struct TicketImportSummary {
    /// The tool the export came from.
    source: String,
    /// Rows read.
    rows: usize,
    /// Per kind of ticket: how many were new, changed and already there.
    tables: Vec<TableSummary>,
    /// Rows skipped, by reason.
    skipped: Vec<Skipped>,
    /// Things to know about the export.
    warnings: Vec<String>,
}

/// One kind of ticket in an import.
#[derive(Serialize, JsonSchema)]
pub(crate) struct TableSummary {
    /// The kind.
    kind: String,
    /// Tickets the organisation did not have.
    added: usize,
    /// Tickets it had, now different.
    updated: usize,
    /// Tickets it had exactly.
    unchanged: usize,
}

/// Rows skipped for one reason.
#[derive(Serialize, JsonSchema)]
pub(crate) struct Skipped {
    /// Why.
    reason: String,
    /// How many.
    rows: usize,
}

async fn import_tickets(
    State(app): State<App>,
    auth: Auth,
    Path(slug): Path<String>,
    Query(q): Query<TicketImportQuery>,
    request: Request,
) -> ApiResult<Json<TicketImportSummary>> {
    let access = app.access(auth, &slug).await?;
    for k in KINDS.iter().filter(|k| k.ticket) {
        access.require_write(k)?;
    }
    let name = clean_name(&q.name)?;
    let options = iso20k_import::Options {
        from: q
            .from
            .as_deref()
            .map(|s| s.parse().map_err(|m: String| ApiError::field("from", m)))
            .transpose()?,
        kind: q
            .kind
            .as_deref()
            .map(|s| s.parse().map_err(|m: String| ApiError::field("kind", m)))
            .transpose()?,
        map: None,
    };
    let data = raw(request, &()).await?;
    let folder = tempfile::tempdir().map_err(ApiError::internal)?;
    let path = folder.path().join(&name);
    tokio::fs::write(&path, &data)
        .await
        .map_err(ApiError::internal)?;
    let summary = crate::load::import_tickets(
        app.store(),
        &access.org,
        vec![path],
        options,
        &access.auth.actor(),
        Box::new(|_, _, _| {}),
    )
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| {
        // The importer's error names the file by its temporary path; name the upload instead.
        let message = e.to_string();
        let message = match message.find(name.as_str()) {
            Some(i) => message[i..].to_owned(),
            None => message,
        };
        ApiError::field("", message)
    })?;
    drop(folder);
    if summary.tables.iter().any(|(_, c)| c.added + c.updated > 0) {
        app.changed(&access.org);
    }
    let file = summary.files.into_iter().next();
    Ok(Json(TicketImportSummary {
        source: file
            .as_ref()
            .map(|f| f.source.to_string())
            .unwrap_or_default(),
        rows: file.as_ref().map_or(0, |f| f.rows),
        tables: summary
            .tables
            .iter()
            .map(|(k, c)| TableSummary {
                kind: k.as_str().to_owned(),
                added: c.added,
                updated: c.updated,
                unchanged: c.unchanged,
            })
            .collect(),
        skipped: file
            .as_ref()
            .map(|f| {
                f.skipped
                    .iter()
                    .map(|(reason, rows)| Skipped {
                        reason: reason.clone(),
                        rows: *rows,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        warnings: file.map(|f| f.warnings).unwrap_or_default(),
    }))
}
