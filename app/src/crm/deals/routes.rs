//! REST: /api/v1/deal-stages and /api/v1/deals

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};

use super::types::*;
use super::{ops, stages};
use crate::error::AppResult;
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiQuery, ApiResult, IdPath, Idempotency};
use crate::platform::openapi::{self, json, query_of, Caller, Endpoint};
use crate::platform::types::Page;
use crate::platform::types::Scope;

pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint::new("get", "/deal-stages", Caller::Scoped(Scope::CrmRead), "The pipeline's stages in order.", || get(list_stages))
        .tool("list_deal_stages")
        .answers(200, json::<Vec<DealStage>>),
    Endpoint::new("post", "/deal-stages", Caller::Scoped(Scope::CrmWrite), "Add a pipeline stage.", || post(create_stage))
        .tool("create_deal_stage")
        .body(json::<NewDealStage>)
        .answers(201, json::<DealStage>),
    Endpoint::new("post", "/deal-stages/reorder", Caller::Scoped(Scope::CrmWrite), "Put the stages in a new order.", || {
        post(reorder_stages)
    })
    .tool("reorder_pipeline_stages")
    .body(json::<StageOrder>)
    .answers(200, json::<Vec<DealStage>>),
    Endpoint::new("get", "/deal-stages/{id}", Caller::Scoped(Scope::CrmRead), "Read a stage.", || get(show_stage))
        .tool("get_deal_stage")
        .answers(200, json::<DealStage>),
    Endpoint::new("patch", "/deal-stages/{id}", Caller::Scoped(Scope::CrmWrite), "Change a stage.", || patch(update_stage))
        .tool("update_pipeline_stage")
        .body(json::<DealStagePatch>)
        .answers(200, json::<DealStage>),
    Endpoint::new("delete", "/deal-stages/{id}", Caller::Scoped(Scope::CrmWrite), "Delete a stage that holds no deals.", || {
        delete(delete_stage)
    })
    .tool("delete_pipeline_stage")
    .answers(200, json::<DealStage>),
    Endpoint::new("get", "/deals", Caller::Scoped(Scope::CrmRead), "List deals.", || get(list))
        .tool("list_deals")
        .query(query_of::<DealFilter>)
        .answers(200, json::<Page<Deal>>),
    Endpoint::new("post", "/deals", Caller::Scoped(Scope::CrmWrite), "Create a deal.", || post(create))
        .tool("create_deal")
        .body(json::<NewDeal>)
        .answers(201, json::<Deal>),
    Endpoint::new("get", "/deals/{id}", Caller::Scoped(Scope::CrmRead), "Read a deal.", || get(show))
        .tool("get_deal")
        .answers(200, json::<Deal>),
    Endpoint::new("patch", "/deals/{id}", Caller::Scoped(Scope::CrmWrite), "Change a deal (its stage by id or key).", || patch(update))
        .tool("update_deal")
        .body(json::<DealPatch>)
        .answers(200, json::<Deal>),
    Endpoint::new("get", "/pipeline", Caller::Scoped(Scope::CrmRead), "The pipeline board.", || get(pipeline))
        .tool("get_pipeline")
        .query(query_of::<PipelineQuery>)
        .answers(200, json::<Vec<BoardColumn>>),
];

pub fn router() -> Router<AppState> {
    openapi::router(ENDPOINTS)
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
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
