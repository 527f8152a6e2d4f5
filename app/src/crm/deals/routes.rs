//! REST: /api/v1/deal-stages and /api/v1/deals

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::types::*;
use super::{ops, stages};
use crate::error::AppResult;
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiQuery, ApiResult, IdPath, Idempotency};
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
    let mut tx = state.db.begin_read().await?;
    let columns = ops::board(&mut tx, &ctx, query.owner).await?;
    tx.commit().await?;
    Ok(Json(columns))
}

async fn list_stages(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<DealStage>>> {
    let mut tx = state.db.begin_read().await?;
    let found = stages::list(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn show_stage(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<DealStage>> {
    let mut tx = state.db.begin_read().await?;
    let stage = stages::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(stage))
}

async fn create_stage(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewDealStage>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let stage = stages::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &stage).await
}

async fn update_stage(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<DealStagePatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let stage = stages::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &stage).await
}

async fn delete_stage(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let stage = stages::delete(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &stage).await
}

async fn reorder_stages(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<StageOrder>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let deal = stages::reorder(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::OK, &deal).await
}

async fn list(State(state): State<AppState>, ctx: Ctx, ApiQuery(filter): ApiQuery<DealFilter>) -> AppResult<Json<Page<Deal>>> {
    let mut tx = state.db.begin_read().await?;
    let found = ops::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn show(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Deal>> {
    let mut tx = state.db.begin_read().await?;
    let deal = ops::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(deal))
}

async fn create(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewDeal>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let deal = ops::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &deal).await
}

async fn update(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency, body: ApiJson<DealPatch>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let deal = ops::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &deal).await
}
