//! Request extractors whose failures are API errors: a bad body or query answers 422 naming the
//! field, in the same JSON as every other error, never axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// A JSON body.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Body<T>> {
        let bytes = raw(req, state).await?;
        // Read as a value first, so a control character is refused naming where it sits.
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            let message = e.to_string();
            let message = match message.rfind(" at line ") {
                Some(i) => message[..i].to_owned(),
                None => message,
            };
            ApiError::field("", message)
        })?;
        if let Some(field) = control_character(&value, String::new()) {
            return Err(ApiError::field(
                &field,
                "holds a control character (such as NUL), which no field accepts",
            ));
        }
        serde_path_to_error::deserialize(value)
            .map(Body)
            .map_err(|e| {
                let field = e.path().to_string();
                let message = e.into_inner().to_string();
                let message = match message.rfind(" at line ") {
                    Some(i) => message[..i].to_owned(),
                    None => message,
                };
                ApiError::field(if field == "." { "" } else { &field }, message)
            })
    }
}

/// Where in a JSON value a string (or key) holds a character no field accepts, as a path
/// (`record.attendees[2]`).
fn control_character(value: &serde_json::Value, at: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) if crate::guard::forbidden(s) => Some(at),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| control_character(v, format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            if crate::guard::forbidden(k) {
                Some(here)
            } else {
                control_character(v, here)
            }
        }),
        _ => None,
    }
}

/// The raw body, with a body over the route's limit answered by 413.
pub async fn raw<S: Send + Sync>(req: Request, state: &S) -> ApiResult<Bytes> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge("the request body is larger than this server accepts".to_owned())
        } else {
            ApiError::field("", format!("cannot read the request body: {e}"))
        }
    })
}

/// Query parameters.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Query<T>> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let field = e.path().to_string();
                ApiError::field(
                    if field == "." { "" } else { &field },
                    e.into_inner().to_string(),
                )
            })
    }
}

/// Path parameters.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Path<T>> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e| ApiError::field("", e.body_text()))
    }
}
