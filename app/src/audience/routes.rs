//! REST: /api/v1/lists (static lists and segments), /segments/preview,
//! /audience-events and /imports.

use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::types::*;
use super::{enrichment, export, forms, imports, lists};
use crate::error::{AppError, AppResult};
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{read, write, ApiJson, ApiQuery, IdPath, Idempotency};
use crate::platform::types::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/lists", get(list_lists).post(create_list))
        .route("/lists/{id}", get(show_list).patch(update_list).delete(delete_list))
        .route("/lists/{id}/members", get(list_members).post(add_members))
        .route("/lists/{id}/members/remove", post(remove_members))
        .route("/lists/{id}/refresh", post(refresh_segment))
        .route("/lists/{id}/export.csv", get(export_list))
        .route("/segments/preview", post(preview_segment))
        .route("/audience-events", get(list_events))
        .route("/imports", get(list_imports).post(upload_import))
        .route("/imports/upload-form", post(upload_import_form))
        .route("/imports/{id}", get(show_import))
        .route("/imports/{id}/start", post(start_import))
        .route("/imports/{id}/cancel", post(cancel_import))
        .route("/imports/{id}/errors", get(import_errors))
        .route("/forms", get(list_forms).post(create_form))
        .route("/forms/{id}", get(show_form).patch(update_form).delete(delete_form))
        .route("/forms/{id}/embed", get(embed_form))
        .route("/public/forms/{slug}", post(public_submit).options(public_preflight))
        .route("/enrichment-connectors", get(list_connectors).post(create_connector))
        .route("/enrichment-connectors/{id}", get(show_connector).patch(update_connector).delete(delete_connector))
        .route("/leads/{id}/enrich", post(enrich_lead))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list_lists(State(state): State<AppState>, ctx: Ctx, ApiQuery(q): ApiQuery<PageQuery>) -> AppResult<Json<Page<List>>> {
    read(&state, move |tx| Box::pin(async move { lists::list(tx, &ctx, q.limit, q.cursor.as_deref()).await })).await
}

async fn show_list(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<List>> {
    read(&state, move |tx| Box::pin(async move { lists::get(tx, &ctx, id).await })).await
}

async fn create_list(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewList>) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { lists::create(tx, &op_ctx, input).await })
    })
    .await
}

async fn update_list(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<ListPatch>,
) -> AppResult<Response> {
    let (op_ctx, patch) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { lists::update(tx, &op_ctx, id, patch).await })
    })
    .await
}

async fn delete_list(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency) -> AppResult<Response> {
    let op_ctx = ctx.clone();
    write(&state, &ctx, idem, "", StatusCode::OK, move |tx| Box::pin(async move { lists::delete(tx, &op_ctx, id).await })).await
}

async fn list_members(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> AppResult<Json<Page<Member>>> {
    read(&state, move |tx| Box::pin(async move { lists::members(tx, &ctx, id, q.limit, q.cursor.as_deref()).await })).await
}

async fn add_members(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<MemberChange>,
) -> AppResult<Response> {
    let (op_ctx, change) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { lists::add_members(tx, &op_ctx, id, change).await })
    })
    .await
}

async fn remove_members(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<MemberChange>,
) -> AppResult<Response> {
    let (op_ctx, change) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { lists::remove_members(tx, &op_ctx, id, change).await })
    })
    .await
}

async fn refresh_segment(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency) -> AppResult<Response> {
    let op_ctx = ctx.clone();
    write(&state, &ctx, idem, "", StatusCode::OK, move |tx| Box::pin(async move { lists::refresh(tx, &op_ctx, id).await })).await
}

async fn export_list(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Response> {
    export::csv_response(state.db.clone(), ctx, id).await
}

async fn preview_segment(State(state): State<AppState>, ctx: Ctx, body: ApiJson<PreviewRequest>) -> AppResult<Json<SegmentPreview>> {
    let rules = body.value.rules;
    read(&state, move |tx| Box::pin(async move { lists::preview(tx, &ctx, &rules).await })).await
}

async fn list_events(State(state): State<AppState>, ctx: Ctx, ApiQuery(q): ApiQuery<EventQuery>) -> AppResult<Json<EventPage>> {
    read(&state, move |tx| Box::pin(async move { lists::events(tx, &ctx, q).await })).await
}

async fn list_imports(State(state): State<AppState>, ctx: Ctx, ApiQuery(q): ApiQuery<PageQuery>) -> AppResult<Json<Page<Import>>> {
    read(&state, move |tx| Box::pin(async move { imports::list(tx, &ctx, q.limit, q.cursor.as_deref()).await })).await
}

async fn show_import(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<Import>> {
    read(&state, move |tx| Box::pin(async move { imports::get(tx, &ctx, id).await })).await
}

/// The body is the file itself (CSV or JSON), streamed to disk; settings
/// travel in the query string. Answers with the detected columns and a
/// suggested mapping; `POST /imports/{id}/start` runs it.
async fn upload_import(
    State(state): State<AppState>,
    ctx: Ctx,
    idem: Idempotency,
    ApiQuery(input): ApiQuery<NewImport>,
    body: Body,
) -> AppResult<Response> {
    ctx.require(crate::platform::types::Scope::CrmWrite)?;
    let upload = imports::store_upload(&state.config, body.into_data_stream()).await?;
    let digest = upload.digest.clone();
    let path = upload.path.clone();
    let op_ctx = ctx.clone();
    let result = write(&state, &ctx, idem, &digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { imports::create(tx, &op_ctx, input, &upload).await })
    })
    .await;
    // A refused or replayed upload leaves no file behind.
    if !matches!(&result, Ok(r) if r.status() == StatusCode::CREATED && !r.headers().contains_key("idempotent-replayed")) {
        let _ = tokio::fs::remove_file(&path).await;
    }
    result
}

/// The browser's upload form (multipart, file last): the same as
/// `POST /imports`, answered with a redirect to the mapping page.
async fn upload_import_form(State(state): State<AppState>, ctx: Ctx, mut form: Multipart) -> Response {
    let result: AppResult<uuid::Uuid> = async {
        ctx.require(crate::platform::types::Scope::CrmWrite)?;
        let mut input = NewImport::default();
        while let Some(field) = form.next_field().await.map_err(|e| AppError::BadRequest(e.body_text()))? {
            let name = field.name().unwrap_or_default().to_string();
            match name.as_str() {
                "entity" | "dedup" => {
                    let text = field.text().await.map_err(|e| AppError::BadRequest(e.body_text()))?;
                    if name == "entity" {
                        input.entity = ImportEntity::parse(&text)
                            .ok_or_else(|| AppError::validation("entity", "entity is lead, contact or company"))?;
                    } else {
                        input.dedup =
                            Some(DedupMode::parse(&text).ok_or_else(|| AppError::validation("dedup", "dedup is skip, update or create"))?);
                    }
                }
                "file" => {
                    input.file_name = field.file_name().map(str::to_string).filter(|n| !n.is_empty());
                    let stream = futures::stream::unfold(field, |mut field| async move {
                        match field.chunk().await {
                            Ok(Some(chunk)) => Some((Ok::<_, String>(chunk), field)),
                            Ok(None) => None,
                            Err(e) => Some((Err(e.body_text()), field)),
                        }
                    });
                    let upload = imports::store_upload(&state.config, Box::pin(stream)).await?;
                    let mut tx = state.db.begin().await?;
                    let created = imports::create(&mut tx, &ctx, input.clone(), &upload).await;
                    match created {
                        Ok(import) => {
                            tx.commit().await?;
                            return Ok(import.id);
                        }
                        Err(e) => {
                            tx.rollback().await?;
                            upload.discard().await;
                            return Err(e);
                        }
                    }
                }
                _ => {}
            }
        }
        Err(AppError::validation("file", "choose a file to import"))
    }
    .await;
    match result {
        Ok(id) => Redirect::to(&format!("/imports/{id}")).into_response(),
        Err(e) => {
            let message: String = form_urlencoded::byte_serialize(e.public_message().as_bytes()).collect();
            (StatusCode::SEE_OTHER, [(header::LOCATION, format!("/imports?error={message}"))]).into_response()
        }
    }
}

async fn start_import(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<StartImport>,
) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { imports::start(tx, &op_ctx, id, input).await })
    })
    .await
}

async fn cancel_import(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency) -> AppResult<Response> {
    let op_ctx = ctx.clone();
    write(&state, &ctx, idem, "", StatusCode::OK, move |tx| Box::pin(async move { imports::cancel(tx, &op_ctx, id).await })).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ErrorQuery {
    after_line: Option<i64>,
    limit: Option<i64>,
}

async fn import_errors(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    ApiQuery(q): ApiQuery<ErrorQuery>,
) -> AppResult<Json<Vec<ImportRowError>>> {
    read(&state, move |tx| Box::pin(async move { imports::row_errors(tx, &ctx, id, q.after_line, q.limit).await })).await
}

async fn list_forms(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<CaptureForm>>> {
    read(&state, move |tx| Box::pin(async move { forms::list(tx, &ctx).await })).await
}

async fn show_form(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<CaptureForm>> {
    read(&state, move |tx| Box::pin(async move { forms::get(tx, &ctx, id).await })).await
}

async fn create_form(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewCaptureForm>) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { forms::create(tx, &op_ctx, input).await })
    })
    .await
}

async fn update_form(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<CaptureFormPatch>,
) -> AppResult<Response> {
    let (op_ctx, patch) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { forms::update(tx, &op_ctx, id, patch).await })
    })
    .await
}

async fn delete_form(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency) -> AppResult<Response> {
    let op_ctx = ctx.clone();
    write(&state, &ctx, idem, "", StatusCode::OK, move |tx| Box::pin(async move { forms::delete(tx, &op_ctx, id).await })).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmbedQuery {
    origin: String,
}

/// Where this server is reached, for the snippet's form action.
fn base_url(headers: &axum::http::HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost:3000");
    let scheme = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).filter(|p| *p == "https").unwrap_or("http");
    format!("{scheme}://{host}")
}

async fn embed_form(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    ApiQuery(q): ApiQuery<EmbedQuery>,
    headers: axum::http::HeaderMap,
) -> AppResult<Json<EmbedSnippet>> {
    let base = base_url(&headers);
    read(&state, move |tx| Box::pin(async move { forms::embed(tx, &ctx, id, &q.origin, &base).await })).await
}

const MAX_SUBMISSION_BYTES: usize = 64 * 1024;

fn cors(response: &mut Response, origin: Option<&str>, allowed: &[String]) {
    let headers = response.headers_mut();
    headers.insert(header::VARY, axum::http::HeaderValue::from_static("Origin"));
    if let Some(origin) = origin.filter(|o| allowed.iter().any(|a| a == &o.trim_end_matches('/').to_lowercase())) {
        if let Ok(value) = axum::http::HeaderValue::from_str(origin) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, axum::http::HeaderValue::from_static("POST"));
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, axum::http::HeaderValue::from_static("content-type, x-corral-signature"));
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, axum::http::HeaderValue::from_static("600"));
        }
    }
}

async fn allowed_origins(state: &AppState, slug: &str) -> Vec<String> {
    let Ok(mut tx) = state.db.begin_read().await else { return Vec::new() };
    let found = forms::public_form(&mut tx, slug).await.ok().flatten();
    let _ = tx.commit().await;
    found.map(|(_, origins)| origins).unwrap_or_default()
}

async fn public_preflight(
    State(state): State<AppState>,
    axum::extract::Path(slug): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_string);
    let allowed = allowed_origins(&state, &slug).await;
    let mut response = StatusCode::NO_CONTENT.into_response();
    cors(&mut response, origin.as_deref(), &allowed);
    response
}

/// Unauthenticated: JSON or form-encoded fields, checked by the form's
/// origin list and signature, rate-limited per IP and form.
async fn public_submit(
    State(state): State<AppState>,
    axum::extract::Path(slug): axum::extract::Path<String>,
    request: axum::extract::Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let header_text = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let origin = header_text("origin");
    let allowed = allowed_origins(&state, &slug).await;
    let result: AppResult<bool> = async {
        let body = axum::body::to_bytes(body, MAX_SUBMISSION_BYTES).await.map_err(|_| AppError::PayloadTooLarge(MAX_SUBMISSION_BYTES))?;
        let content_type = header_text("content-type").unwrap_or_default();
        let fields: serde_json::Map<String, serde_json::Value> = if content_type.starts_with("application/json") {
            match serde_json::from_slice(&body) {
                Ok(serde_json::Value::Object(map)) => map,
                Ok(_) => return Err(AppError::validation("body", "send a JSON object of fields")),
                Err(e) => return Err(AppError::MalformedJson(format!("request body is not valid JSON: {e}"))),
            }
        } else if content_type.starts_with("application/x-www-form-urlencoded")
            || content_type.is_empty()
            || content_type.starts_with("text/plain")
        {
            form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned()))).collect()
        } else {
            return Err(AppError::UnsupportedMediaType("send application/json or application/x-www-form-urlencoded".into()));
        };
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| {
                let forwarded_for = header_text("x-forwarded-for");
                crate::platform::http::client_ip(c.0.ip(), forwarded_for.as_deref(), &state.config.trusted_proxies).to_string()
            })
            .unwrap_or_else(|| "unknown".into());
        let submission = forms::Submission {
            slug: &slug,
            ip,
            origin: origin.clone(),
            signature: header_text("x-corral-signature"),
            body: &body,
            fields,
        };
        let mut tx = state.db.begin().await?;
        match forms::submit(&mut tx, submission, state.config.form_submissions_per_minute).await {
            Ok((_, created)) => {
                tx.commit().await?;
                Ok(created)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    }
    .await;
    let mut response = match result {
        // The same answer for new and known emails: a public form must not
        // tell strangers who is already a lead.
        Ok(_) => (StatusCode::ACCEPTED, Json(serde_json::json!({"status": "received"}))).into_response(),
        Err(e) => {
            let retry = matches!(e, AppError::TooManyRequests);
            let mut response = e.into_response();
            if retry {
                response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from_static("60"));
            }
            response
        }
    };
    cors(&mut response, origin.as_deref(), &allowed);
    response
}

async fn list_connectors(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<EnrichmentConnector>>> {
    read(&state, move |tx| Box::pin(async move { enrichment::list(tx, &ctx).await })).await
}

async fn show_connector(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<EnrichmentConnector>> {
    read(&state, move |tx| Box::pin(async move { enrichment::get(tx, &ctx, id).await })).await
}

async fn create_connector(
    State(state): State<AppState>,
    ctx: Ctx,
    idem: Idempotency,
    body: ApiJson<NewEnrichmentConnector>,
) -> AppResult<Response> {
    let (op_ctx, input, allow_private) = (ctx.clone(), body.value, state.config.enrichment_private_networks);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { enrichment::create(tx, &op_ctx, input, allow_private).await })
    })
    .await
}

async fn update_connector(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<EnrichmentConnectorPatch>,
) -> AppResult<Response> {
    let (op_ctx, patch, allow_private) = (ctx.clone(), body.value, state.config.enrichment_private_networks);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { enrichment::update(tx, &op_ctx, id, patch, allow_private).await })
    })
    .await
}

async fn delete_connector(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency) -> AppResult<Response> {
    let op_ctx = ctx.clone();
    write(&state, &ctx, idem, "", StatusCode::OK, move |tx| Box::pin(async move { enrichment::delete(tx, &op_ctx, id).await })).await
}

/// Not wrapped in `write`: the remote call must not hold a transaction
/// open. The merge itself is one audited transaction.
async fn enrich_lead(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    body: ApiJson<EnrichLead>,
) -> AppResult<Json<crate::crm::leads::types::Lead>> {
    enrichment::enrich_lead(&state.db, &ctx, id, body.value, state.config.enrichment_private_networks).await.map(Json)
}
