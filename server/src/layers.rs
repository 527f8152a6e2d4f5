//! The layers every request passes through: its id, the one error shape
//! for whatever answers with an error before or around a handler (the
//! router's 404 and 405, body limits, panics, timeouts), and the time limit.

use std::time::Duration;

use app::error::{code_for_status, error_response, AppError, REQUEST_ID};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

/// Gives every request an id (or keeps a sane one the caller sent), puts it
/// on the response and makes it available to errors and audit rows.
pub async fn request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .map(str::to_string)
        .unwrap_or_else(|| format!("req_{}", Uuid::now_v7().simple()));
    // Also in the extensions, for work that leaves this task (MCP tools run
    // in a task of their own).
    request.extensions_mut().insert(app::error::RequestId(id.clone()));
    let mut response = REQUEST_ID.scope(id.clone(), next.run(request)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Server functions answer in Leptos' own error encoding, which the
/// browser half decodes; they are left as they are.
const SERVER_FN_PREFIX: &str = "/sf/";

/// Error bodies produced by the router or a layer are a short text at most.
const MAX_FOREIGN_ERROR_BODY: usize = 4096;

/// Puts every error response that is not already in the one JSON shape
/// into it: axum's own 404/405 and extractor rejections, a layer's empty
/// 413 or 500. A browser asking for a page (Accept: text/html) keeps the
/// HTML "page not found"; everyone else gets JSON.
pub async fn error_shape(request: Request, next: Next) -> Response {
    let wants_html = request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"));
    let is_server_fn = request.uri().path().starts_with(SERVER_FN_PREFIX);
    let is_head = request.method() == Method::HEAD;
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_server_fn {
        return response;
    }
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if content_type.starts_with("application/json") || (wants_html && content_type.starts_with("text/html")) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_FOREIGN_ERROR_BODY).await {
        Ok(bytes) if content_type.starts_with("text/plain") => String::from_utf8_lossy(&bytes).trim().to_string(),
        _ => String::new(),
    };
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_lowercase() } else { text };
    if status.is_server_error() {
        tracing::error!(%status, message, "request failed outside a handler");
    }
    let message = if status.is_server_error() { "internal server error".to_string() } else { message };
    let mut shaped = error_response(status, code_for_status(status), &message, None);
    // Keep what the layer said besides the body (Allow, WWW-Authenticate…).
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            shaped.headers_mut().insert(name.clone(), value.clone());
        }
    }
    if is_head {
        *shaped.body_mut() = Body::empty();
    }
    shaped
}

/// Requests that may legitimately take longer than the limit: an import
/// upload streams a file of up to `max_import_bytes` to disk before it
/// answers.
fn is_untimed(request: &Request) -> bool {
    request.method() == Method::POST && request.uri().path() == "/api/v1/imports"
}

/// Answers 503 in the one error shape when a handler has not produced its
/// response head within `limit`. (A streamed body, once started, is not
/// cut off.)
pub async fn time_limit(limit: Duration, request: Request, next: Next) -> Response {
    if is_untimed(&request) {
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => AppError::Timeout(limit.as_secs().max(1)).into_response(),
    }
}

/// What the panic-catching layer answers: the one shape, as a 500, with
/// the panic written to the log (never to the client).
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into());
    AppError::Internal(format!("handler panicked: {detail}")).into_response()
}

/// The status hyper's HTTP/1 parser answers with, for [`crate::listener`].
pub fn parser_error_message(status: StatusCode) -> &'static str {
    match status {
        StatusCode::URI_TOO_LONG => "the request URI is longer than the server accepts (64 KiB)",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "the request headers are larger than the server accepts",
        _ => "the request is not valid HTTP",
    }
}

/// A page load's signed-in member (their role, user and workspace formats)
/// is read once, before rendering, and put on the request: the page frame
/// writes numbers and times in those formats, and the navigation and the
/// page's data take the member from there instead of reading it again.
/// Only page loads pay for it.
pub async fn page_member(db: app::platform::db::Db, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let is_page = request.method() == Method::GET
        && !["/api/", "/sf/", "/mcp", "/pkg/", "/f/", "/t/", "/u/"].iter().any(|prefix| path.starts_with(prefix));
    if is_page {
        if let Some(session) = request.extensions().get::<tower_sessions::Session>().cloned() {
            if let Ok(member) = app::platform::auth::signed_in(&db, &session).await {
                request.extensions_mut().insert(member);
            }
        }
    }
    next.run(request).await
}
