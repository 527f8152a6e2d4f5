//! REST: /api/v1/activities, /api/v1/tasks, /api/v1/leads/{id}/timeline

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
    Router::new()
        .route("/activities", get(list_activities).post(create_activity))
        .route("/tasks", get(list_tasks).post(create_task))
        .route("/tasks/{id}", axum::routing::patch(update_task))
        .route("/leads/{id}/timeline", get(lead_timeline))
}

async fn list_activities(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(filter): ApiQuery<ActivityFilter>,
) -> AppResult<Json<Page<Activity>>> {
    read(&state, move |tx| Box::pin(async move { ops::list_activities(tx, &ctx, filter).await })).await
}

async fn create_activity(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewActivity>) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { ops::create_activity(tx, &op_ctx, input).await })
    })
    .await
}

async fn list_tasks(State(state): State<AppState>, ctx: Ctx, ApiQuery(filter): ApiQuery<TaskFilter>) -> AppResult<Json<Page<Task>>> {
    read(&state, move |tx| Box::pin(async move { ops::list_tasks(tx, &ctx, filter).await })).await
}

async fn create_task(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewTask>) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { ops::create_task(tx, &op_ctx, input).await })
    })
    .await
}

async fn update_task(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<TaskPatch>,
) -> AppResult<Response> {
    let (op_ctx, patch) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { ops::update_task(tx, &op_ctx, id, patch).await })
    })
    .await
}

async fn lead_timeline(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<Vec<TimelineEntry>>> {
    read(&state, move |tx| Box::pin(async move { ops::lead_timeline(tx, &ctx, id).await })).await
}
