//! REST: /api/v1/companies

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};

use super::ops;
use super::types::*;
use crate::error::AppResult;
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{read, write, ApiJson, ApiQuery, IdPath, Idempotency};
use crate::platform::types::Page;

pub fn router() -> Router<AppState> {
    Router::new().route("/companies", get(list).post(create)).route("/companies/{id}", get(show).patch(update))
}

async fn list(State(state): State<AppState>, ctx: Ctx, ApiQuery(filter): ApiQuery<CompanyFilter>) -> AppResult<Json<Page<Company>>> {
    read(&state, move |tx| Box::pin(async move { ops::list(tx, &ctx, filter).await })).await
}

async fn show(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<Company>> {
    read(&state, move |tx| Box::pin(async move { ops::get(tx, &ctx, id).await })).await
}

async fn create(State(state): State<AppState>, ctx: Ctx, idempotency: Idempotency, body: ApiJson<NewCompany>) -> AppResult<Response> {
    let op_ctx = ctx.clone();
    let input = body.value;
    write(&state, &ctx, idempotency, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { ops::create(tx, &op_ctx, input).await })
    })
    .await
}

async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idempotency: Idempotency,
    body: ApiJson<CompanyPatch>,
) -> AppResult<Response> {
    let op_ctx = ctx.clone();
    let patch = body.value;
    write(&state, &ctx, idempotency, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { ops::update(tx, &op_ctx, id, patch).await })
    })
    .await
}
