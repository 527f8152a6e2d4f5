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
use super::{export, imports, lists};
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

async fn update_list(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency, body: ApiJson<ListPatch>) -> AppResult<Response> {
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

async fn list_members(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, ApiQuery(q): ApiQuery<PageQuery>) -> AppResult<Json<Page<Member>>> {
    read(&state, move |tx| Box::pin(async move { lists::members(tx, &ctx, id, q.limit, q.cursor.as_deref()).await })).await
}

async fn add_members(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency, body: ApiJson<MemberChange>) -> AppResult<Response> {
    let (op_ctx, change) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move {
            let distinct: std::collections::BTreeSet<_> = change.ids.iter().collect();
            let reason = if change.from_segment.is_some() || distinct.len() > 1 { "bulk" } else { "manual" };
            lists::add_members(tx, &op_ctx, id, change, reason).await
        })
    })
    .await
}

async fn remove_members(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency, body: ApiJson<MemberChange>) -> AppResult<Response> {
    let (op_ctx, change) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { lists::remove_members(tx, &op_ctx, id, change, "manual").await })
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
async fn upload_import(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, ApiQuery(input): ApiQuery<NewImport>, body: Body) -> AppResult<Response> {
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
                        input.entity = ImportEntity::parse(&text).ok_or_else(|| AppError::validation("entity", "entity is lead, contact or company"))?;
                    } else {
                        input.dedup = Some(DedupMode::parse(&text).ok_or_else(|| AppError::validation("dedup", "dedup is skip, update or create"))?);
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

async fn start_import(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency, body: ApiJson<StartImport>) -> AppResult<Response> {
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

async fn import_errors(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, ApiQuery(q): ApiQuery<ErrorQuery>) -> AppResult<Json<Vec<ImportRowError>>> {
    read(&state, move |tx| Box::pin(async move { imports::row_errors(tx, &ctx, id, q.after_line, q.limit).await })).await
}
