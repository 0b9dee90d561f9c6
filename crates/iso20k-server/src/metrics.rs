//! What the server has done since it started, for Prometheus: `GET /metrics` in its text
//! format. Counters only grow; nothing here names an organisation or a person.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::App;

/// Upper bounds of the request-duration buckets, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Status classes counted apart: 2xx, 3xx, 4xx, 5xx.
const CLASSES: [&str; 4] = ["2xx", "3xx", "4xx", "5xx"];

#[derive(Default)]
pub(crate) struct Metrics {
    requests: [AtomicU64; 4],
    /// Requests per duration bucket (not cumulative here; summed when written), and above all.
    durations: [AtomicU64; BUCKETS.len() + 1],
    /// Total request time, in microseconds.
    duration_micros: AtomicU64,
    readiness_computed: AtomicU64,
    imports: AtomicU64,
}

impl Metrics {
    fn request(&self, status: u16, seconds: f64) {
        let class = match status {
            200..=299 => 0,
            300..=399 => 1,
            400..=499 => 2,
            _ => 3,
        };
        self.requests[class].fetch_add(1, Ordering::Relaxed);
        let bucket = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        self.durations[bucket].fetch_add(1, Ordering::Relaxed);
        self.duration_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// A readiness report was computed (not served from a cache).
    pub(crate) fn readiness_computed(&self) {
        self.readiness_computed.fetch_add(1, Ordering::Relaxed);
    }

    /// A ticket import finished.
    fn imported(&self) {
        self.imports.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    fn render(&self) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        out.push_str(
            "# HELP iso20k_http_requests_total HTTP requests answered, by status class.\n",
        );
        out.push_str("# TYPE iso20k_http_requests_total counter\n");
        for (class, n) in CLASSES.iter().zip(&self.requests) {
            let _ = writeln!(
                out,
                "iso20k_http_requests_total{{status=\"{class}\"}} {}",
                get(n)
            );
        }
        out.push_str("# HELP iso20k_http_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE iso20k_http_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(&self.durations) {
            cumulative += get(n);
            let _ = writeln!(
                out,
                "iso20k_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += get(&self.durations[BUCKETS.len()]);
        let _ = writeln!(
            out,
            "iso20k_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let _ = writeln!(
            out,
            "iso20k_http_request_duration_seconds_sum {}",
            get(&self.duration_micros) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "iso20k_http_request_duration_seconds_count {cumulative}"
        );
        out.push_str("# HELP iso20k_readiness_computed_total Readiness reports computed rather than served from cache.\n");
        out.push_str("# TYPE iso20k_readiness_computed_total counter\n");
        let _ = writeln!(
            out,
            "iso20k_readiness_computed_total {}",
            get(&self.readiness_computed)
        );
        out.push_str("# HELP iso20k_imports_total Ticket imports completed through the API or the browser.\n");
        out.push_str("# TYPE iso20k_imports_total counter\n");
        let _ = writeln!(out, "iso20k_imports_total {}", get(&self.imports));
        out
    }
}

/// The middleware that counts every request and how long it took.
pub(crate) async fn count(State(app): State<App>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // The path only: a query may carry a sign-in's `next` or a cursor nobody needs in a log.
    let path = request.uri().path().to_owned();
    let import = request.method() == axum::http::Method::POST && {
        let path = request.uri().path();
        path.ends_with("/imports/tickets") || path.ends_with("/tickets/import")
    };
    let response = next.run(request).await;
    let status = response.status();
    let seconds = started.elapsed().as_secs_f64();
    app.metrics().request(status.as_u16(), seconds);
    tracing::info!(
        target: "iso20k::request",
        method = %method,
        path = %path,
        status = status.as_u16(),
        ms = (seconds * 1000.0).round() as u64,
        "request"
    );
    if import && status.is_success() {
        app.metrics().imported();
    }
    response
}

/// `GET /metrics`.
pub(crate) async fn show(State(app): State<App>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        app.metrics().render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_exposition_counts_by_class_and_bucket() {
        let m = super::Metrics::default();
        m.request(200, 0.003);
        m.request(404, 0.2);
        m.request(500, 30.0);
        m.readiness_computed();
        let text = m.render();
        for line in [
            "iso20k_http_requests_total{status=\"2xx\"} 1",
            "iso20k_http_requests_total{status=\"4xx\"} 1",
            "iso20k_http_requests_total{status=\"5xx\"} 1",
            "iso20k_http_request_duration_seconds_bucket{le=\"0.005\"} 1",
            "iso20k_http_request_duration_seconds_bucket{le=\"0.25\"} 2",
            "iso20k_http_request_duration_seconds_bucket{le=\"+Inf\"} 3",
            "iso20k_http_request_duration_seconds_count 3",
            "iso20k_readiness_computed_total 1",
            "iso20k_imports_total 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
