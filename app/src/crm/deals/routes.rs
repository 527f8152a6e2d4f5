//! REST: /api/v1/deal-stages and /api/v1/deals

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::types::*;
use super::{ops, stages};
use crate::error::AppResult;
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{read, write, ApiJson, ApiQuery, IdPath, Idempotency};
use crate::platform::types::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/deal-stages", get(list_stages).post(create_stage))
        .route("/deal-stages/reorder", post(reorder_stages))
        .route("/deal-stages/{id}", get(show_stage).patch(update_stage).delete(delete_stage))
        .route("/deals", get(list).post(create))
        .route("/deals/{id}", get(show).patch(update))
        .route("/pipeline", get(pipeline))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineQuery {
    owner: Option<String>,
}

async fn pipeline(State(state): State<AppState>, ctx: Ctx, ApiQuery(query): ApiQuery<PipelineQuery>) -> AppResult<Json<Vec<BoardColumn>>> {
    read(&state, move |tx| Box::pin(async move { ops::board(tx, &ctx, query.owner).await })).await
}

async fn list_stages(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<DealStage>>> {
    read(&state, move |tx| Box::pin(async move { stages::list(tx, &ctx).await })).await
}

async fn show_stage(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<DealStage>> {
    read(&state, move |tx| Box::pin(async move { stages::get(tx, &ctx, id).await })).await
}

async fn create_stage(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewDealStage>) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { stages::create(tx, &op_ctx, input).await })
    })
    .await
}

async fn update_stage(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<DealStagePatch>,
) -> AppResult<Response> {
    let (op_ctx, patch) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { stages::update(tx, &op_ctx, id, patch).await })
    })
    .await
}

async fn delete_stage(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency) -> AppResult<Response> {
    let op_ctx = ctx.clone();
    write(&state, &ctx, idem, "", StatusCode::OK, move |tx| Box::pin(async move { stages::delete(tx, &op_ctx, id).await })).await
}

async fn reorder_stages(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<StageOrder>) -> AppResult<Response> {
    let (op_ctx, order) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { stages::reorder(tx, &op_ctx, order).await })
    })
    .await
}

async fn list(State(state): State<AppState>, ctx: Ctx, ApiQuery(filter): ApiQuery<DealFilter>) -> AppResult<Json<Page<Deal>>> {
    read(&state, move |tx| Box::pin(async move { ops::list(tx, &ctx, filter).await })).await
}

async fn show(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<Deal>> {
    read(&state, move |tx| Box::pin(async move { ops::get(tx, &ctx, id).await })).await
}

async fn create(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewDeal>) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { ops::create(tx, &op_ctx, input).await })
    })
    .await
}

async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<DealPatch>,
) -> AppResult<Response> {
    let (op_ctx, patch) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { ops::update(tx, &op_ctx, id, patch).await })
    })
    .await
}
