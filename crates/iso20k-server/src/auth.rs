//! Who is calling, and what they may do.
//!
//! A caller is a user, identified by a session cookie (set by `POST /api/v1/session`) or by an
//! API token (`Authorization: Bearer …`). Cookies and tokens are random 256-bit secrets; the
//! store keeps only their SHA-256, so a copy of the database opens no session. Passwords are
//! hashed with argon2id. Requests that change something under a session cookie must carry the
//! session's CSRF token in `X-CSRF-Token`; a token-authenticated script needs none, as no browser
//! sends a bearer token on its own.

use std::net::SocketAddr;

use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, header};
use base64::Engine as _;
use iso20k_bundle::records::Kind;
use iso20k_store::{Org, User};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::App;
use crate::error::{ApiError, ApiResult};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "iso20k_session";
/// The header that carries the CSRF token of a cookie session.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// What every API token starts with, so a leaked one is easy to recognise and search for.
pub const TOKEN_PREFIX: &str = "iso20k_";

/// A new random secret: 32 bytes, base64url.
pub fn secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A new API token.
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", secret())
}

/// What the store keeps of a secret: its SHA-256, hex.
pub fn digest(secret: &str) -> String {
    let hash = sha2::Sha256::digest(secret.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// An argon2id hash of `password`, with the crate's recommended parameters and a random salt.
/// Slow on purpose: call it off the async runtime.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

/// Whether `password` matches `hash`. Slow on purpose, like [`hash_password`].
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// Checks a new password against the rules.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!("must be at least {MIN_PASSWORD} characters"));
    }
    Ok(())
}

/// How the caller proved who they are.
#[derive(Clone, Debug)]
pub enum Via {
    /// A session cookie.
    Session {
        /// The SHA-256 of the cookie.
        id_hash: String,
        /// The session's CSRF token.
        csrf: String,
    },
    /// An API token.
    Token {
        /// The token's name.
        name: String,
    },
}

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Auth {
    /// The user.
    pub user: User,
    /// How they authenticated.
    pub via: Via,
}

impl Auth {
    /// The session's CSRF token; none for an API token.
    pub fn csrf(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf, .. } => Some(csrf),
            Via::Token { .. } => None,
        }
    }

    /// The name the audit trail records for this caller.
    pub fn actor(&self) -> String {
        match &self.via {
            Via::Session { .. } => self.user.email.clone(),
            Via::Token { name } => format!("{} (token {name})", self.user.email),
        }
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The value of the session cookie, if the request carries one.
pub fn session_cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(axum_extra::extract::cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

impl FromRequestParts<App> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> ApiResult<Auth> {
        let store = app.store();
        if let Some(token) = bearer(parts) {
            let found = store.token_by_hash(&digest(token)).await?;
            let Some(token) = found else {
                return Err(ApiError::Unauthenticated(
                    "the API token is unknown or expired",
                ));
            };
            let user = store
                .user(token.user_id)
                .await?
                .ok_or(ApiError::Unauthenticated(
                    "the API token's user no longer exists",
                ))?;
            return Ok(Auth {
                user,
                via: Via::Token { name: token.name },
            });
        }
        let Some(auth) = from_session(app, parts).await? else {
            return Err(ApiError::Unauthenticated(
                "log in with POST /api/v1/session, or send an API token as Authorization: Bearer TOKEN",
            ));
        };
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent != auth.csrf() {
                return Err(ApiError::Forbidden(
                    "missing or wrong CSRF token: send the csrf_token from POST /api/v1/session in the X-CSRF-Token header".to_owned(),
                ));
            }
        }
        Ok(auth)
    }
}

/// The caller of a session cookie, if the request carries a live one. Checking the CSRF token
/// is left to the caller: the API wants it in a header, the pages in the form.
pub(crate) async fn from_session(app: &App, parts: &Parts) -> ApiResult<Option<Auth>> {
    let Some(cookie) = session_cookie(parts) else {
        return Ok(None);
    };
    let id_hash = digest(&cookie);
    let store = app.store();
    let Some(session) = store.session(&id_hash).await? else {
        return Ok(None);
    };
    let Some(user) = store.user(session.user_id).await? else {
        return Ok(None);
    };
    Ok(Some(Auth {
        user,
        via: Via::Session {
            id_hash,
            csrf: session.csrf,
        },
    }))
}

/// The client's address, when the server knows it (not in in-process tests). Behind a proxy
/// it is the last `X-Forwarded-For` entry: earlier ones are whatever the client claimed.
pub fn client_ip(parts: &Parts, behind_proxy: bool) -> Option<String> {
    if behind_proxy {
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok());
        if let Some(ip) = forwarded {
            return Some(ip.to_string());
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// A role within one organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including who has access.
    Admin,
    /// Edits the organisation's records (not the internal auditor's).
    Manager,
    /// Records internal audits, their findings, the checklist and nonconformities; reads
    /// everything.
    Auditor,
    /// Reads everything.
    Viewer,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Manager, Role::Auditor, Role::Viewer];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Auditor => "auditor",
            Role::Viewer => "viewer",
        }
    }

    /// The role named `s`.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The kinds only the internal auditor (and admins) edit: an auditee must not be able to
/// rewrite the audit of their own work.
const AUDITOR_KINDS: [&str; 3] = ["audit-programme", "audits", "checklist"];
/// Kinds both auditors and managers edit: the auditor raises a nonconformity, the process owner
/// records its corrective actions.
const SHARED_KINDS: [&str; 1] = ["nonconformities"];

/// A caller's standing in one organisation.
#[derive(Clone, Debug)]
pub struct Access {
    /// The caller.
    pub auth: Auth,
    /// The organisation.
    pub org: Org,
    /// Their role in it.
    pub role: Role,
    /// When their access ends, for an external (time-limited) access, which is read-only.
    pub expires_at: Option<String>,
}

impl Access {
    /// Whether the caller may create, change and delete records of `kind`.
    pub fn can_write(&self, kind: &Kind) -> bool {
        if self.expires_at.is_some() {
            return false;
        }
        let auditor_kind = AUDITOR_KINDS.contains(&kind.name);
        let shared = SHARED_KINDS.contains(&kind.name);
        match self.role {
            Role::Admin => true,
            Role::Manager => !auditor_kind,
            Role::Auditor => auditor_kind || shared,
            Role::Viewer => false,
        }
    }

    /// Refuses unless the caller may write records of `kind`.
    pub fn require_write(&self, kind: &Kind) -> ApiResult<()> {
        if self.can_write(kind) {
            Ok(())
        } else {
            Err(self.refuse(&format!("change {}", kind.name)))
        }
    }

    /// Refuses unless the caller may attach and remove evidence: anyone who edits something.
    pub fn require_evidence(&self) -> ApiResult<()> {
        if self.expires_at.is_none() && self.role != Role::Viewer {
            Ok(())
        } else {
            Err(self.refuse("attach or remove evidence"))
        }
    }

    /// Refuses unless the caller administers the organisation.
    pub fn require_admin(&self) -> ApiResult<()> {
        if self.expires_at.is_none() && self.role == Role::Admin {
            Ok(())
        } else {
            Err(self.refuse("administer the organisation"))
        }
    }

    fn refuse(&self, what: &str) -> ApiError {
        let why = match &self.expires_at {
            Some(until) => format!("external access (read-only, until {until})"),
            None => format!("role {}", self.role.as_str()),
        };
        ApiError::Forbidden(format!(
            "your {why} in `{}` does not allow you to {what}",
            self.org.slug
        ))
    }
}

impl App {
    /// The caller's access to the organisation `slug`: 403 for an organisation that does not
    /// exist as for one they are not a member of, so slugs cannot be probed.
    pub async fn access(&self, auth: Auth, slug: &str) -> ApiResult<Access> {
        let refused =
            || ApiError::Forbidden(format!("you have no access to organisation `{slug}`"));
        let org = self.store().org(slug).await?.ok_or_else(refused)?;
        let membership = self
            .store()
            .membership(org.id, auth.user.id)
            .await?
            .ok_or_else(refused)?;
        if let Some(until) = &membership.expires_at
            && *until <= iso20k_store::now()
        {
            return Err(ApiError::Forbidden(format!(
                "your access to organisation `{slug}` expired at {until}"
            )));
        }
        let role = Role::parse(&membership.role).ok_or_else(refused)?;
        Ok(Access {
            auth,
            org,
            role,
            expires_at: membership.expires_at,
        })
    }
}
