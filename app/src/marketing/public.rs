//! The links in sent emails, answered without a session: one-click
//! unsubscribe (RFC 8058: a POST with no cookie and no redirect answers
//! 200) and its confirmation page for people, the open pixel and the
//! signed click redirect.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::compliance;
use super::copy::escape_html;
use crate::platform::context::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/u/{token}", get(unsubscribe_page).post(unsubscribe))
        .route("/t/o/{token}", get(open_pixel))
        .route("/t/c/{token}", get(click))
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}\
         button{{font:inherit;padding:.5rem 1rem}}</style></head><body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

fn invalid_link() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "Link not recognised",
        "<p>This unsubscribe link is not valid. If you keep receiving emails, reply to one and ask to be removed.</p>",
    )
}

async fn unsubscribe_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let target = async {
        let mut tx = state.db.begin_read().await?;
        let target = compliance::unsubscribe_target(&mut tx, &token).await?;
        tx.commit().await?;
        Ok::<_, crate::error::AppError>(target)
    }
    .await;
    match target {
        Ok(Some(email)) => page(
            StatusCode::OK,
            "Unsubscribe",
            &format!(
                "<p>Stop all emails to <strong>{}</strong>?</p><form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>",
                escape_html(&email)
            ),
        ),
        Ok(None) => invalid_link(),
        Err(e) => e.into_response(),
    }
}

/// The one-click POST (a mail client's, or the page's button).
async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let done = async {
        let mut tx = state.db.begin().await?;
        let email = compliance::unsubscribe(&mut tx, &token).await?;
        tx.commit().await?;
        Ok::<_, crate::error::AppError>(email)
    }
    .await;
    match done {
        Ok(Some(email)) => page(
            StatusCode::OK,
            "You are unsubscribed",
            &format!("<p><strong>{}</strong> will not receive these emails again.</p>", escape_html(&email)),
        ),
        Ok(None) => invalid_link(),
        Err(e) => e.into_response(),
    }
}

/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

async fn open_pixel(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let token = token.trim_end_matches(".gif").to_string();
    let recorded = async {
        let mut tx = state.db.begin().await?;
        compliance::record_open(&mut tx, &token).await?;
        tx.commit().await?;
        Ok::<_, crate::error::AppError>(())
    }
    .await;
    if let Err(error) = recorded {
        tracing::warn!(%error, "an open could not be recorded");
    }
    ([(header::CONTENT_TYPE, "image/gif"), (header::CACHE_CONTROL, "no-store")], PIXEL).into_response()
}

#[derive(Deserialize)]
struct ClickQuery {
    u: String,
}

async fn click(State(state): State<AppState>, Path(token): Path<String>, Query(q): Query<ClickQuery>) -> Response {
    let target = async {
        let mut tx = state.db.begin().await?;
        let target = compliance::record_click(&mut tx, &token, &q.u).await?;
        tx.commit().await?;
        Ok::<_, crate::error::AppError>(target)
    }
    .await;
    match target {
        Ok(Some(url)) => (StatusCode::FOUND, [(header::LOCATION, url)]).into_response(),
        Ok(None) => page(StatusCode::NOT_FOUND, "Link not recognised", "<p>This link is not valid.</p>"),
        Err(e) => e.into_response(),
    }
}
