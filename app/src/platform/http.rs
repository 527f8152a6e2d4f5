//! REST conventions, implemented once: strict JSON bodies, strict query
//! strings, typed path ids, and idempotent writes.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::platform::context::{AppState, Ctx};
use crate::platform::transaction::{Claimed, WriteTx};

/// A JSON body that must match its schema exactly: unknown fields, wrong
/// types and missing fields are 422 naming the field; broken JSON is 400.
pub struct ApiJson<T> {
    pub value: T,
    /// SHA-256 of the raw body, for idempotency fingerprints.
    pub body_digest: String,
}

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
    crate::platform::context::AppState: axum::extract::FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_json =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next()).is_some_and(|mime| {
                let mime = mime.trim();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(AppError::UnsupportedMediaType("send the body as JSON with Content-Type: application/json".into()));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                // The limit the router was built with, for the message.
                let state = <crate::platform::context::AppState as axum::extract::FromRef<S>>::from_ref(state);
                AppError::PayloadTooLarge(state.config.max_body_bytes)
            } else {
                AppError::BadRequest(rejection.body_text())
            }
        })?;
        let value = parse_strict_json(&bytes)?;
        Ok(ApiJson { value, body_digest: hex::encode(Sha256::digest(&bytes)) })
    }
}

pub fn parse_strict_json<T: DeserializeOwned>(bytes: &[u8]) -> AppResult<T> {
    // PostgreSQL stores neither a NUL in text nor `\u0000` in JSONB, so
    // such input is refused here, for every backend, naming the field.
    if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
            if let Some(field) = field_holding_nul(&value, String::new()) {
                let field = if field.is_empty() { None } else { Some(field) };
                return Err(AppError::Validation { field, message: "text must not contain NUL characters".into() });
            }
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    if result.is_ok() {
        // Trailing garbage after the document is malformed JSON too.
        de.end().map_err(|e| AppError::MalformedJson(format!("request body is not valid JSON: {e}")))?;
    }
    result.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        use serde_json::error::Category;
        match inner.classify() {
            Category::Syntax | Category::Eof | Category::Io => AppError::MalformedJson(format!("request body is not valid JSON: {inner}")),
            Category::Data => {
                let message = strip_position(&inner.to_string());
                let field = field_from_message(&message, &path);
                AppError::Validation { field, message }
            }
        }
    })
}

/// The path (`lines[0].name`) of the first string or key holding a NUL.
fn field_holding_nul(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) if text.contains('\0') => Some(path),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| field_holding_nul(item, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let here = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            if key.contains('\0') {
                return Some(path.clone());
            }
            field_holding_nul(item, here)
        }),
        _ => None,
    }
}

/// Refuses a NUL in a query parameter (PostgreSQL cannot compare text with one).
pub fn refuse_nul_in_query(query: &str) -> AppResult<()> {
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name.contains('\0') || value.contains('\0') {
            return Err(AppError::validation(name.replace('\0', ""), "text must not contain NUL characters"));
        }
    }
    Ok(())
}

/// serde_json appends " at line 1 column 27"; clients need the field, not
/// the column.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Names the offending field: serde reports unknown and missing fields in
/// the message, other type errors by their path.
fn field_from_message(message: &str, path: &str) -> Option<String> {
    for marker in ["unknown field `", "missing field `"] {
        if let Some(start) = message.find(marker) {
            let rest = &message[start + marker.len()..];
            if let Some(end) = rest.find('`') {
                let name = &rest[..end];
                // Unknown fields are already at the end of the path;
                // missing ones are reported at their parent.
                return Some(if path.is_empty() || path == "." {
                    name.to_string()
                } else if path == name || path.ends_with(&format!(".{name}")) {
                    path.to_string()
                } else {
                    format!("{path}.{name}")
                });
            }
        }
    }
    if path.is_empty() || path == "." {
        None
    } else {
        Some(path.to_string())
    }
}

/// A query string that must match its schema exactly.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let query = parts.uri.query().unwrap_or("");
        refuse_nul_in_query(query)?;
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de).map(ApiQuery).map_err(|err| {
            let path = err.path().to_string();
            let message = err.into_inner().to_string();
            let field = field_from_message(&message, &path);
            AppError::Validation { field, message: format!("invalid query string: {message}") }
        })
    }
}

/// A path parameter; a malformed id is a 400, not a routing miss.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| AppError::BadRequest(format!("invalid path parameter: {}", e.body_text())))
    }
}

/// The `Idempotency-Key` header of a write, with what identifies the
/// request it came with.
pub struct Idempotency {
    pub key: Option<String>,
    method_and_path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Idempotency {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let key = match parts.headers.get("idempotency-key") {
            None => None,
            Some(value) => {
                let key = value.to_str().ok().map(str::trim).unwrap_or("");
                if key.is_empty() || key.len() > 255 {
                    return Err(AppError::BadRequest("Idempotency-Key must be 1 to 255 visible ASCII characters".into()));
                }
                Some(key.to_string())
            }
        };
        Ok(Idempotency { key, method_and_path: format!("{} {}", parts.method, parts.uri.path()) })
    }
}

/// What ends a REST handler early: an error, or the stored answer to a
/// retried idempotent request (see [`Idempotency::begin`]).
pub enum Exit {
    Error(AppError),
    Replay(Response),
}

/// The result of a REST handler: `?` works on operations, the database and
/// idempotency replays alike.
pub type ApiResult<T = Response> = Result<T, Exit>;

impl From<AppError> for Exit {
    fn from(error: AppError) -> Exit {
        Exit::Error(error)
    }
}

impl From<sqlx::Error> for Exit {
    fn from(error: sqlx::Error) -> Exit {
        Exit::Error(error.into())
    }
}

impl IntoResponse for Exit {
    fn into_response(self) -> Response {
        match self {
            Exit::Error(error) => error.into_response(),
            Exit::Replay(response) => response,
        }
    }
}

impl Idempotency {
    /// Begins a write: with an `Idempotency-Key`, claims it (or exits with
    /// the stored answer of the same request made before). `body_digest`
    /// is [`ApiJson::body_digest`], or `""` for a write without a body.
    pub async fn begin(self, state: &AppState, ctx: &Ctx, body_digest: &str) -> ApiResult<WriteTx> {
        let Some(key) = self.key else { return Ok(WriteTx::begin(&state.db).await?) };
        let request = format!("{}\n{}", self.method_and_path, body_digest);
        match WriteTx::begin_idempotent(&state.db, ctx, &key, &request).await? {
            Claimed::Fresh(tx) => Ok(tx),
            Claimed::Replay { status, body } => {
                let status = StatusCode::from_u16(status).map_err(|e| AppError::Internal(e.to_string()))?;
                let mut response = (status, axum::Json(body)).into_response();
                response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
                Err(Exit::Replay(response))
            }
        }
    }
}

impl WriteTx {
    /// Finishes a REST write: commits, storing the answer for retries, and
    /// answers `status` with `value` as JSON.
    pub async fn respond<T: Serialize>(self, status: StatusCode, value: &T) -> ApiResult {
        let body = serde_json::to_value(value).map_err(|e| AppError::Internal(e.to_string()))?;
        self.commit_with_response(status.as_u16(), &body).await?;
        Ok((status, axum::Json(body)).into_response())
    }
}

/// The id path parameter of a resource.
pub type IdPath = ApiPath<Uuid>;

/// The client's address for rate limits: the socket peer, unless the peer
/// is one of `trusted_proxies`, in which case the right-most
/// `X-Forwarded-For` entry that is not itself a trusted proxy (entries
/// further left are whatever the client chose to send).
pub fn client_ip(peer: std::net::IpAddr, forwarded_for: Option<&str>, trusted_proxies: &[std::net::IpAddr]) -> std::net::IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let Some(chain) = forwarded_for else { return peer };
    let mut client = peer;
    for hop in chain.rsplit(',').map(str::trim) {
        match hop.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusted_proxies.contains(&ip) {
                    break;
                }
            }
            // A garbled entry ends the trustworthy part of the chain.
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod client_ip_tests {
    use super::client_ip;
    use std::net::IpAddr;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy = ip("10.0.0.2");
        let trusted = [proxy, ip("10.0.0.3")];
        assert_eq!(
            client_ip(ip("203.0.113.9"), Some("1.2.3.4"), &trusted),
            ip("203.0.113.9"),
            "an untrusted peer cannot claim another address"
        );
        assert_eq!(client_ip(proxy, Some("198.51.100.7"), &trusted), ip("198.51.100.7"));
        assert_eq!(client_ip(proxy, Some("6.6.6.6, 198.51.100.7"), &trusted), ip("198.51.100.7"), "what the client prepended is ignored");
        assert_eq!(client_ip(proxy, Some("198.51.100.7, 10.0.0.3"), &trusted), ip("198.51.100.7"), "chained trusted proxies are skipped");
        assert_eq!(client_ip(proxy, Some("garbage"), &trusted), proxy);
        assert_eq!(client_ip(proxy, None, &trusted), proxy);
        assert_eq!(client_ip(proxy, Some("198.51.100.7"), &[]), proxy, "no trusted proxies: the header is ignored");
    }
}
