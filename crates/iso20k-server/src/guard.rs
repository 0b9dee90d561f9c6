//! Control characters never get in: PostgreSQL's text cannot hold a NUL, and no record, key,
//! address or name has a use for the others. Every request's path, query and form fields are
//! checked here, before any handler, and JSON bodies by [`crate::extract::Body`]; what is
//! refused answers 422 naming the parameter or field.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Whether text holds a character no field accepts: the C0 controls but tab, line feed and
/// carriage return (which free text may hold), and DEL.
pub(crate) fn forbidden(text: &str) -> bool {
    text.chars()
        .any(|c| (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}')
}

/// Whether a path segment or query name or value, once decoded, holds any control character.
fn forbidden_in_address(text: &str) -> bool {
    text.chars().any(|c| c.is_control())
}

fn refuse(field: &str) -> Response {
    ApiError::field(
        field,
        "holds a control character (such as NUL), which no field accepts",
    )
    .into_response()
}

/// The middleware: refuses a request whose path, query or form body holds a control character.
pub(crate) async fn control_characters(request: Request, next: Next) -> Response {
    let uri = request.uri();
    for segment in uri.path().split('/') {
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        if forbidden_in_address(&decoded) {
            return refuse("path");
        }
    }
    if let Some(query) = uri.query() {
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            if forbidden_in_address(&name) || forbidden_in_address(&value) {
                return refuse(&name);
            }
        }
    }
    let form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return next.run(request).await;
    }
    // A form is small; reading it here leaves the handler's own limit to refuse a large one.
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, FORM_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::TooLarge("the form is larger than this server accepts".into())
                .into_response();
        }
    };
    for (name, value) in form_urlencoded::parse(&bytes) {
        if forbidden(&name) || forbidden(&value) {
            return refuse(&name);
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The most a form body may hold: far more than any record form sends.
const FORM_LIMIT: usize = 4 * 1024 * 1024;

#[cfg(test)]
mod tests {
    #[test]
    fn free_text_keeps_its_line_breaks_and_nothing_else_below_space() {
        assert!(!super::forbidden("two\nlines\tand\r\n"));
        for bad in ["a\0b", "bell\u{7}", "\u{1b}[31m", "del\u{7f}"] {
            assert!(super::forbidden(bad), "{bad:?}");
        }
    }
}
