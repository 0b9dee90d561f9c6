//! The one place where errors become HTTP responses.
//!
//! Every error the API returns is JSON: `{"error": "…"}`, plus `fields` naming what is wrong
//! with an input (422) and `current_version` for an update against a stale version (409).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use iso20k_bundle::records::FieldError;
use iso20k_store::StoreError;
use schemars::JsonSchema;
use serde::Serialize;

/// An error the API answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid session or token (401).
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but not allowed: another organisation, a role without the right, an
    /// expired external access, a missing CSRF token (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such record, evidence file or token (404).
    #[error("{0}")]
    NotFound(String),
    /// The key is taken, or the version sent is not the current one (409).
    #[error("{message}")]
    Conflict {
        /// What conflicts.
        message: String,
        /// For a stale update: the version the record is at now.
        current_version: Option<i64>,
    },
    /// The body is too large (413).
    #[error("{0}")]
    TooLarge(String),
    /// The input is not what the operation takes, field by field (422).
    #[error("{message}")]
    Invalid {
        /// In a sentence.
        message: String,
        /// Field by field.
        fields: Vec<FieldError>,
    },
    /// The request ran past the server's deadline and was stopped (408).
    #[error("{0}")]
    TimedOut(String),
    /// Too many failed logins (429).
    #[error("too many failed logins; try again in {retry_after} seconds")]
    TooManyRequests {
        /// Seconds until the next attempt is allowed.
        retry_after: u64,
    },
    /// Something failed that the caller can do nothing about (500); logged, not shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// An input problem with one field.
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError::Invalid {
            message: if field.is_empty() {
                message.clone()
            } else {
                format!("{field}: {message}")
            },
            fields: vec![FieldError {
                field: field.to_owned(),
                message,
            }],
        }
    }

    /// Input problems with several fields.
    pub fn fields(fields: Vec<FieldError>) -> ApiError {
        let message = fields
            .iter()
            .map(|f| {
                if f.field.is_empty() {
                    f.message.clone()
                } else {
                    format!("{}: {}", f.field, f.message)
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        ApiError::Invalid { message, fields }
    }

    /// Something unexpected, kept for the log.
    pub fn internal(e: impl Into<anyhow::Error>) -> ApiError {
        ApiError::Internal(e.into())
    }

    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("not found".to_owned()),
            StoreError::Conflict(message) => ApiError::Conflict {
                message,
                current_version: None,
            },
            StoreError::Stale { current } => ApiError::Conflict {
                message: format!(
                    "the record changed since you read it: it is now at version {current}; read it again and reapply your change"
                ),
                current_version: Some(current),
            },
            StoreError::Invalid(message) => ApiError::field("", message),
            other => ApiError::internal(other),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorBody {
    /// What went wrong, in a sentence.
    pub error: String,
    /// For invalid input: what is wrong, field by field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldError>>,
    /// For a stale update: the version the record is at now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let ApiError::Internal(e) = &self {
            tracing::error!("{e:#}");
        }
        let body = ErrorBody {
            error: self.to_string(),
            fields: match &self {
                ApiError::Invalid { fields, .. } => Some(fields.clone()),
                _ => None,
            },
            current_version: match &self {
                ApiError::Conflict {
                    current_version, ..
                } => *current_version,
                _ => None,
            },
        };
        let mut response = (status, Json(body)).into_response();
        match self {
            ApiError::TooManyRequests { retry_after } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            ApiError::Unauthenticated(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"iso20k\""),
                );
            }
            _ => {}
        }
        response
    }
}

/// The API's result type.
pub type ApiResult<T> = Result<T, ApiError>;
