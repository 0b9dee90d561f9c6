//! Bounds on the time and the processor a request may take.
//!
//! Every request runs under a deadline ([`Config::request_timeout`](crate::Config)). When it
//! passes, the handler's future is dropped: a transaction in progress rolls back (sqlx rolls
//! back a transaction dropped before commit), so a write either finished before the deadline or
//! left nothing, and the caller gets a 408 saying so.
//!
//! Dropping a future cannot stop a thread, so the work that runs on blocking threads (building
//! the model, scoring, rendering reports, hashing passwords) first takes one of a fixed number
//! of permits. Requests beyond that number wait for a permit, and a request whose deadline
//! passes while it waits is refused without its work ever starting. However many requests
//! arrive, at most that many threads compute at once, and each of them finishes work that a
//! bounded input allows.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::App;
use crate::error::{ApiError, ApiResult};

/// The middleware: answers 408 when the request has not finished within the deadline.
pub(crate) async fn limit(State(app): State<App>, request: Request, next: Next) -> Response {
    let limit = app.config().request_timeout;
    let page = !request.uri().path().starts_with("/api/");
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                seconds = limit.as_secs_f64(),
                "request stopped at its deadline"
            );
            let error = ApiError::TimedOut(format!(
                "the request took longer than the {} this server allows and was stopped; nothing it would have changed was saved",
                seconds(limit)
            ));
            if page {
                crate::web::Failure(error).into_response()
            } else {
                error.into_response()
            }
        }
    }
}

fn seconds(d: Duration) -> String {
    match d.as_secs() {
        1 => "1 second".to_owned(),
        0 => format!("{} ms", d.as_millis()),
        n => format!("{n} seconds"),
    }
}

/// Permits for work on blocking threads.
pub(crate) struct Workers {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Workers {
    pub(crate) fn new(n: usize) -> Workers {
        Workers {
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(n.max(1))),
        }
    }
}

impl App {
    /// Runs `f` on a blocking thread once a worker permit is free.
    pub(crate) async fn blocking<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = self
            .inner
            .workers
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(ApiError::internal)?;
        let result = tokio::task::spawn_blocking(move || {
            // Held until the work is done, even when the request has already been answered.
            let _permit = permit;
            f()
        })
        .await
        .map_err(ApiError::internal)?;
        Ok(result)
    }
}
