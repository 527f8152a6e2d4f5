//! The one error type of every domain operation, and its one JSON shape:
//!
//! ```json
//! {"error": {"code": "validation_failed", "message": "…", "field": "name", "request_id": "…"}}
//! ```

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

tokio::task_local! {
    /// Set by the request-id middleware for the duration of one request, so
    /// errors and audit rows can name the request without threading it
    /// through every signature.
    pub static REQUEST_ID: String;
}

/// The request's id in the request's extensions (see [`REQUEST_ID`]).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    Validation { field: Option<String>, message: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    MalformedJson(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many requests")]
    TooManyRequests,
    /// The server did not answer within its request time limit.
    #[error("the request took longer than the server's limit of {0} seconds")]
    Timeout(u64),
    /// A connector's remote service failed or answered nonsense.
    #[error("{0}")]
    Upstream(String),
    /// A unique constraint refused the write: another record of the
    /// workspace already has this value of `field`.
    #[error("{message}")]
    Duplicate { code: &'static str, field: String, message: String },
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Validation { field: Some(field.into()), message: message.into() }
    }

    /// Names a field of a nested object: a validation error on
    /// `amount_cents` raised for a request's `deal` object becomes one on
    /// `deal.amount_cents`, the path the client sent.
    pub fn nested_in(self, parent: &str) -> AppError {
        match self {
            AppError::Validation { field: Some(field), message } => {
                AppError::Validation { field: Some(format!("{parent}.{field}")), message }
            }
            other => other,
        }
    }

    /// Names a field by the spelling the caller used: a tool whose input
    /// says `query` reports an operation's error on `q` as one on `query`.
    pub fn renamed_field(self, from: &str, to: &str) -> AppError {
        match self {
            AppError::Validation { field: Some(field), message } if field == from => {
                AppError::Validation { field: Some(to.to_string()), message }
            }
            other => other,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest(_) | AppError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } | AppError::Duplicate { .. } => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Upstream(_) => StatusCode::BAD_GATEWAY,
            AppError::Database(sqlx::Error::Database(e)) if e.is_unique_violation() => StatusCode::CONFLICT,
            AppError::Database(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Database(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation { .. } => "validation_failed",
            AppError::BadRequest(_) => "bad_request",
            AppError::MalformedJson(_) => "malformed_json",
            AppError::Unauthenticated(_) => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict { code, .. } => code,
            AppError::Duplicate { code, .. } => code,
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::TooManyRequests => "rate_limited",
            AppError::Timeout(_) => "timeout",
            AppError::Upstream(_) => "upstream_failed",
            AppError::Database(sqlx::Error::Database(e)) if e.is_unique_violation() => "conflict",
            AppError::Database(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => "invalid_reference",
            AppError::Database(_) | AppError::Internal(_) => "internal_error",
        }
    }

    /// The message shown to clients: internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Database(sqlx::Error::Database(e)) if e.is_unique_violation() => "a record with these values already exists".into(),
            AppError::Database(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => "a referenced record does not exist".into(),
            AppError::Database(_) | AppError::Internal(_) => "internal server error".into(),
            other => other.to_string(),
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Validation { field, .. } => field.as_deref(),
            AppError::Duplicate { field, .. } => Some(field),
            _ => None,
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    request_id: Option<&'a str>,
}

/// The one error shape as JSON bytes. Every error the server sends goes
/// through here: operation errors, rejections raised before a handler
/// runs, and the responses the HTTP layer itself writes.
pub fn error_json(code: &str, message: &str, field: Option<&str>, request_id: Option<&str>) -> Vec<u8> {
    let body = ErrorBody { error: ErrorDetail { code, message, field, request_id } };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The one error shape as a JSON value, for an error carried inside
/// another protocol's answer (an MCP tool error).
pub fn error_value(code: &str, message: &str, field: Option<&str>, request_id: Option<&str>) -> serde_json::Value {
    let body = ErrorBody { error: ErrorDetail { code, message, field, request_id } };
    serde_json::to_value(&body).unwrap_or_default()
}

/// The error code for a status produced outside Corral's own code (the
/// router, a layer, the HTTP parser).
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::URI_TOO_LONG => "uri_too_long",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_client_error() => "bad_request",
        _ => "internal_error",
    }
}

/// A response in the one error shape, with the current request's id.
pub fn error_response(status: StatusCode, code: &str, message: &str, field: Option<&str>) -> Response {
    let request_id = current_request_id();
    let body = error_json(code, message, field, request_id.as_deref());
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = error_response(status, self.code(), &self.public_message(), self.field());
        if let AppError::Unauthenticated(_) = self {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<sqlx::Error> for AppError {
    /// A unique violation names the field whose value is taken, on both
    /// backends, so a client can show it next to the input.
    fn from(error: sqlx::Error) -> AppError {
        if let sqlx::Error::Database(db) = &error {
            if db.is_unique_violation() {
                if let Some((table, field)) = unique_violation_column(db.as_ref()) {
                    let message = format!("a {} with this {} already exists", singular(&table), field.replace('_', " "));
                    return AppError::Duplicate { code: "conflict", field, message };
                }
            }
        }
        AppError::Database(error)
    }
}

/// The table and the (last non-workspace) column of a unique violation:
/// SQLite says `UNIQUE constraint failed: companies.workspace_id,
/// companies.domain`; PostgreSQL names the table and details
/// `Key (workspace_id, domain)=(…) already exists.`
fn unique_violation_column(error: &dyn sqlx::error::DatabaseError) -> Option<(String, String)> {
    let (table, columns): (String, Vec<String>) = if let Some(pg) = error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        let detail = pg.detail()?;
        let inside = detail.strip_prefix("Key (")?.split(")=(").next()?;
        (pg.table()?.to_string(), inside.split(',').map(|c| c.trim().to_string()).collect())
    } else {
        let list = error.message().strip_prefix("UNIQUE constraint failed: ")?;
        let qualified: Vec<(&str, &str)> = list.split(',').filter_map(|c| c.trim().split_once('.')).collect();
        (qualified.first()?.0.to_string(), qualified.iter().map(|(_, column)| column.to_string()).collect())
    };
    let column = columns.into_iter().rev().find(|c| c != "workspace_id")?;
    // An expression index (`lower(email)`) names the column inside it.
    let column = column.rsplit('(').next().unwrap_or(&column).trim_end_matches(')').to_string();
    Some((table, column))
}

/// `ledger_accounts` → "ledger account", `journal_entries` → "journal entry".
fn singular(table: &str) -> String {
    let words = table.replace('_', " ");
    if let Some(stem) = words.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = words.strip_suffix('s') {
        stem.to_string()
    } else {
        words
    }
}

#[cfg(test)]
mod tests {
    use super::singular;

    #[test]
    fn tables_read_as_singular_nouns() {
        assert_eq!(singular("companies"), "company");
        assert_eq!(singular("ledger_accounts"), "ledger account");
        assert_eq!(singular("journal_entries"), "journal entry");
        assert_eq!(singular("lists"), "list");
    }
}
