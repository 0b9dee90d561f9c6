//! The browser UI: server-rendered pages over the same store, access rules and readiness report
//! as the JSON API. Pages work without JavaScript; forms post back and redirect, and the CSRF
//! token of the session travels in a hidden field.

mod audits;
pub(crate) mod form;
mod imports;
mod pages;
mod records;
mod registers;
pub(crate) mod sso;
mod svg;
pub(crate) use pages::{booking_name, finding_slug};

/// Where someone lands in their one organisation after signing in: administrators on the
/// dashboard, everyone else on My work (the dashboard stays one click away).
pub(crate) fn landing(org: &iso20k_store::Org, membership: &iso20k_store::Membership) -> String {
    if membership.role == Role::Admin.as_str() {
        format!("/orgs/{}", org.slug)
    } else {
        format!("/orgs/{}/my", org.slug)
    }
}

mod members;
mod my;
mod nc;
mod plan;
mod trail;

use std::sync::OnceLock;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::Environment;
use minijinja::value::Serde;
use serde::Serialize;

use crate::App;
use crate::auth::{Access, Auth, Role};
use crate::error::ApiError;

pub(crate) fn routes(max_upload: usize) -> Router<App> {
    Router::new()
        .route("/calendar/{file}", get(crate::calendar::feed))
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/sso/login", get(sso::start))
        .route(crate::sso::CALLBACK_PATH, get(sso::callback))
        .route("/static/app.css", get(stylesheet))
        .route("/orgs", get(pages::orgs))
        .route("/orgs/{slug}", get(pages::dashboard))
        .route("/orgs/{slug}/clauses/{clause}", get(pages::clause))
        .route("/orgs/{slug}/findings/{finding}", get(pages::finding))
        .route("/orgs/{slug}/metrics", get(pages::metrics))
        .route("/orgs/{slug}/trail", get(trail::page))
        .route("/orgs/{slug}/my", get(my::page))
        .route("/orgs/{slug}/plan", get(plan::page))
        .merge(nc::routes())
        .route("/orgs/{slug}/my/calendar", post(my::calendar))
        .route("/orgs/{slug}/my/digest", post(my::digest))
        .route(
            "/orgs/{slug}/members",
            get(members::page).post(members::save),
        )
        .route(
            "/orgs/{slug}/tickets/import",
            get(imports::form)
                .post(imports::upload)
                .layer(DefaultBodyLimit::max(max_upload + 64 * 1024)),
        )
        .route("/orgs/{slug}/kb", get(pages::kb))
        .route("/orgs/{slug}/kb/{pattern}", get(pages::pattern))
        .route("/orgs/{slug}/records", get(records::kinds))
        .route(
            "/orgs/{slug}/raci",
            get(records::raci).post(records::save_raci),
        )
        .route(
            "/orgs/{slug}/records/{kind}",
            get(records::list).post(records::create),
        )
        .route("/orgs/{slug}/records/{kind}/new", get(records::new))
        .route(
            "/orgs/{slug}/records/{kind}/{key}",
            get(records::show).post(records::update),
        )
        .route("/orgs/{slug}/documents/review", post(records::review))
        .route(
            "/orgs/{slug}/records/documents/{key}/lifecycle",
            post(records::lifecycle),
        )
        .route(
            "/orgs/{slug}/records/{kind}/{key}/delete",
            post(records::delete),
        )
        .route(
            "/orgs/{slug}/records/{kind}/{key}/evidence",
            // The form's other fields and the multipart framing come on top of the file.
            post(records::attach).layer(DefaultBodyLimit::max(max_upload + 64 * 1024)),
        )
        .merge(audits::routes(max_upload))
}

const CSS: &str = include_str!("../../static/app.css");

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

/// The templates, parsed once. They are part of the binary: nothing is read at run time.
fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, text) in TEMPLATES.iter().chain(audits::TEMPLATES) {
            env.add_template(name, text)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        // A stored time (RFC 3339 UTC) as people read it: "3 Dec 2026, 15:04 UTC".
        env.add_filter("when", |t: String| {
            t.parse::<jiff::Timestamp>()
                .map(|ts| ts.strftime("%-d %b %Y, %H:%M UTC").to_string())
                .unwrap_or(t)
        });
        env.add_filter("grade_label", |g: String| match g.as_str() {
            "major" => "Major".to_owned(),
            "minor" => "Minor".to_owned(),
            "observation" => "Observation".to_owned(),
            other => other.to_owned(),
        });
        env
    })
}

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("macros.html", include_str!("../../templates/macros.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("orgs.html", include_str!("../../templates/orgs.html")),
    (
        "dashboard.html",
        include_str!("../../templates/dashboard.html"),
    ),
    ("clause.html", include_str!("../../templates/clause.html")),
    ("finding.html", include_str!("../../templates/finding.html")),
    ("kb.html", include_str!("../../templates/kb.html")),
    ("pattern.html", include_str!("../../templates/pattern.html")),
    ("kinds.html", include_str!("../../templates/kinds.html")),
    ("import.html", include_str!("../../templates/import.html")),
    ("metrics.html", include_str!("../../templates/metrics.html")),
    ("raci.html", include_str!("../../templates/raci.html")),
    ("records.html", include_str!("../../templates/records.html")),
    (
        "register-table.html",
        include_str!("../../templates/register-table.html"),
    ),
    (
        "record-findings.html",
        include_str!("../../templates/record-findings.html"),
    ),
    ("record.html", include_str!("../../templates/record.html")),
    ("trail.html", include_str!("../../templates/trail.html")),
    ("my.html", include_str!("../../templates/my.html")),
    ("plan.html", include_str!("../../templates/plan.html")),
    (
        "nonconformities.html",
        include_str!("../../templates/nonconformities.html"),
    ),
    (
        "nonconformity.html",
        include_str!("../../templates/nonconformity.html"),
    ),
    (
        "nc-panel.html",
        include_str!("../../templates/nc-panel.html"),
    ),
    ("members.html", include_str!("../../templates/members.html")),
    ("error.html", include_str!("../../templates/error.html")),
];

/// Renders `template` with `context`. A template that fails to render is a bug: the tests render
/// every page, so it is logged and answered with a plain 500.
pub(crate) fn render(template: &str, context: impl Serialize) -> Response {
    let result = templates()
        .get_template(template)
        .and_then(|t| t.render(minijinja::Value::from(Serde(context))));
    match result {
        Ok(html) => {
            let mut response = Html(html).into_response();
            // Pages hold records; a shared cache must never keep them. And no other site may
            // frame them: the one-click approve, retire and delete buttons invite clickjacking.
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("frame-ancestors 'none'"),
            );
            response
        }
        Err(e) => {
            tracing::error!("template {template}: {e:#}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be drawn",
            )
                .into_response()
        }
    }
}

/// Who is signed in, for the page chrome.
#[derive(Serialize)]
pub(crate) struct Me {
    email: String,
    name: String,
    csrf: String,
}

/// The organisation a page is about, and what the signed-in person may do there.
#[derive(Serialize)]
pub(crate) struct OrgView {
    slug: String,
    name: String,
    role: Role,
    external: bool,
}

/// The parts every page inside an organisation shares.
#[derive(Serialize)]
pub(crate) struct Chrome {
    me: Me,
    org: Option<OrgView>,
    orgs: Vec<(String, String)>,
    /// Which menu entry the page belongs to.
    section: &'static str,
}

/// A signed-in browser. Without a live session the request is sent to the sign-in page, which
/// brings the person back here afterwards.
pub(crate) struct Browser {
    pub auth: Auth,
}

impl FromRequestParts<App> for Browser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Response> {
        match crate::auth::from_session(app, parts).await {
            Ok(Some(auth)) => Ok(Browser { auth }),
            Ok(None) => {
                let here = parts
                    .extensions
                    .get::<OriginalUri>()
                    .map(|u| u.0.to_string())
                    .unwrap_or_else(|| parts.uri.to_string());
                let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
                Err(Redirect::to(&format!("/login?next={next}")).into_response())
            }
            Err(e) => Err(Failure::from(e).into_response()),
        }
    }
}

impl Browser {
    /// Checks the CSRF token a form sent back.
    pub(crate) fn check_csrf(&self, sent: Option<&str>) -> Result<(), Failure> {
        if sent.is_some() && sent == self.auth.csrf() {
            Ok(())
        } else {
            Err(Failure(ApiError::Forbidden(
                "this form is out of date (or was not sent from iso20k): go back, reload the page and try again".to_owned(),
            )))
        }
    }

    pub(crate) async fn chrome(
        &self,
        app: &App,
        access: Option<&Access>,
        section: &'static str,
    ) -> Result<Chrome, Failure> {
        let memberships = app.store().memberships(self.auth.user.id).await?;
        let now = iso20k_store::now();
        Ok(Chrome {
            me: Me {
                email: self.auth.user.email.clone(),
                name: self.auth.user.name.clone(),
                csrf: self.auth.csrf().unwrap_or_default().to_owned(),
            },
            org: access.map(|a| OrgView {
                slug: a.org.slug.clone(),
                name: a.org.name.clone(),
                role: a.role,
                external: a.expires_at.is_some(),
            }),
            orgs: memberships
                .into_iter()
                .filter(|(_, m)| m.expires_at.as_ref().is_none_or(|t| *t > now))
                .map(|(org, _)| (org.slug, org.name))
                .collect(),
            section,
        })
    }
}

/// A failed page: the API's error, drawn as a page with the same status.
pub(crate) struct Failure(pub ApiError);

impl<E: Into<ApiError>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.into())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let said = self.0.to_string();
        let api = self.0.into_response();
        let status = api.status();
        let message = if status.is_server_error() {
            "Something went wrong on the server; it has been logged.".to_owned()
        } else {
            let mut chars = said.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        };
        let mut page = render(
            "error.html",
            serde_json::json!({
                "status": status.as_u16(),
                "reason": status.canonical_reason().unwrap_or("Error"),
                "message": message,
            }),
        );
        *page.status_mut() = status;
        if let Some(retry) = api.headers().get(header::RETRY_AFTER) {
            page.headers_mut()
                .insert(header::RETRY_AFTER, retry.clone());
        }
        page
    }
}

pub(crate) type PageResult = Result<Response, Failure>;
