//! The iso20k team server: an organisation's SMS records in a database, edited through a JSON
//! API by a team with roles, with evidence files, an audit trail of every change and the same
//! readiness report as `iso20k check`.
//!
//! The server keeps no state of its own: sessions, login failures, the readiness cache and
//! evidence live in the store, so several servers can share one database behind a load
//! balancer. What it holds in memory (the last model built, recent reports) is a cache checked
//! against the organisation's revision on every use.

#![forbid(unsafe_code)]

mod api;
mod audits;
pub mod auth;
mod calendar;
mod deadline;
pub mod digest;
mod error;
mod extract;
mod guard;
pub mod load;
mod metrics;
pub mod nc;
mod openapi;
mod readiness;
mod refs;
pub mod sso;
mod trail;
mod web;
mod work;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use iso20k_store::Store;

pub use api::check_slug;
pub use error::{ApiError, ApiResult, ErrorBody};
pub use openapi::document as openapi_document;

/// How the server behaves; the defaults suit a team on one machine.
#[derive(Clone, Debug)]
pub struct Config {
    /// Mark the session cookie `Secure`. `None`: only when the request arrived over HTTPS, as
    /// told by a proxy's `X-Forwarded-Proto: https`.
    pub secure_cookies: Option<bool>,
    /// How long a session lasts, in hours.
    pub session_hours: i64,
    /// The largest evidence file accepted, in bytes.
    pub max_upload: usize,
    /// Failed logins allowed per account within [`Config::login_window_minutes`].
    pub login_attempts_per_account: i64,
    /// Failed logins allowed per client address within the window.
    pub login_attempts_per_address: i64,
    /// The window failed logins are counted over, in minutes.
    pub login_window_minutes: i64,
    /// Recompute an organisation's readiness in the background after its records change, so
    /// the next reader finds it ready.
    pub refresh_in_background: bool,
    /// A proxy of ours is in front: take the client's address from the last `X-Forwarded-For`
    /// entry (the one the proxy added) rather than the connection, which is the proxy's.
    /// Without it every failed login behind a proxy would count against one address.
    pub behind_proxy: bool,
    /// How long a request may take before it is stopped and answered 408.
    pub request_timeout: std::time::Duration,
    /// How many requests may compute at once on blocking threads (building the model,
    /// scoring, reports, password hashing); the rest wait for a turn within their deadline.
    pub workers: usize,
    /// Single sign-on with an OpenID provider; `None`: passwords only.
    pub sso: Option<sso::SsoConfig>,
    /// Refuse password sign-in except for the [`Config::break_glass`] accounts.
    pub sso_only: bool,
    /// The e-mails (lower-case) of the local administrators who may still sign in with a
    /// password under [`Config::sso_only`], for when the provider is down.
    pub break_glass: Vec<String>,
    /// The most records of one kind a register page reads to search, filter or sort them;
    /// past it the page says how many were left out.
    pub register_cap: usize,
    /// The server's address as browsers reach it (`https://iso20k.example.com`), for the links
    /// of calendar feeds and e-mails and the single sign-on redirect; `None`: from each
    /// request's Host header.
    pub public_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: None,
            session_hours: 12,
            max_upload: 25 * 1024 * 1024,
            login_attempts_per_account: 5,
            login_attempts_per_address: 20,
            login_window_minutes: 15,
            refresh_in_background: true,
            behind_proxy: false,
            request_timeout: std::time::Duration::from_secs(60),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            sso: None,
            sso_only: false,
            break_glass: Vec::new(),
            register_cap: 50_000,
            public_url: None,
        }
    }
}

/// The server's shared handle: the store, the configuration and the caches.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    config: Config,
    readiness: readiness::Cache,
    metrics: metrics::Metrics,
    workers: deadline::Workers,
    sso: Option<sso::Sso>,
    /// Whether daily digests are being sent (`digest::schedule` runs), for My work to say.
    mailing: std::sync::atomic::AtomicBool,
}

impl App {
    /// A server over `store`.
    pub fn new(store: Arc<dyn Store>, config: Config) -> App {
        App {
            inner: Arc::new(Inner {
                store,
                readiness: readiness::Cache::default(),
                metrics: metrics::Metrics::default(),
                workers: deadline::Workers::new(config.workers),
                sso: config.sso.clone().map(sso::Sso::new),
                mailing: std::sync::atomic::AtomicBool::new(false),
                config,
            }),
        }
    }

    /// Whether this server sends the daily digest e-mails.
    pub(crate) fn mailing(&self) -> bool {
        self.inner
            .mailing
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn set_mailing(&self) {
        self.inner
            .mailing
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// What the server has done since it started.
    pub(crate) fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    /// Single sign-on, when configured.
    pub(crate) fn sso(&self) -> Option<&sso::Sso> {
        self.inner.sso.as_ref()
    }

    /// Checks the single sign-on set-up, when there is one: the provider answers discovery,
    /// and every organisation the role mapping names exists. The problems found, in words.
    pub async fn check_sso(&self) -> Vec<String> {
        let Some(sso) = self.sso() else {
            return Vec::new();
        };
        let mut problems = Vec::new();
        if let Err(e) = sso.check().await {
            problems.push(e);
        }
        let mut slugs: Vec<&str> = sso.config().roles.iter().map(|r| r.org.as_str()).collect();
        slugs.sort_unstable();
        slugs.dedup();
        for slug in slugs {
            match self.store().org(slug).await {
                Ok(Some(_)) => {}
                Ok(None) => problems.push(format!(
                    "the role mapping names organisation `{slug}`, which does not exist"
                )),
                Err(e) => problems.push(format!("cannot read organisation `{slug}`: {e}")),
            }
        }
        problems
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The HTTP routes.
    pub fn router(&self) -> Router {
        api::router(self.clone())
    }
}

/// Serves `app` on `listener` until Ctrl-C or SIGTERM.
pub async fn serve(app: App, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    serve_until(app, listener, shutdown()).await
}

/// Serves `app` on `listener` until `stop` completes. It then takes no new connection and
/// returns once the requests in flight have been answered; the request deadline bounds how
/// long that can take, and a write either commits before its answer or not at all.
pub async fn serve_until(
    app: App,
    listener: tokio::net::TcpListener,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = app.router();
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop)
    .await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
