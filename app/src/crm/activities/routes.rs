//! REST: /api/v1/activities, /api/v1/tasks, /api/v1/leads/{id}/timeline

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};

use super::ops;
use super::types::*;
use crate::error::AppResult;
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiQuery, ApiResult, IdPath, Idempotency};
use crate::platform::openapi::{self, json, query_of, Caller, Endpoint};
use crate::platform::types::Page;
use crate::platform::types::Scope;

pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint::new("get", "/activities", Caller::Scoped(Scope::CrmRead), "List activities.", || get(list_activities))
        .tool("list_activities")
        .query(query_of::<ActivityFilter>)
        .answers(200, json::<Page<Activity>>),
    Endpoint::new("post", "/activities", Caller::Scoped(Scope::CrmWrite), "Log a call, email, meeting or note.", || post(create_activity))
        .tool("log_activity")
        .body(json::<NewActivity>)
        .answers(201, json::<Activity>),
    Endpoint::new("get", "/tasks", Caller::Scoped(Scope::CrmRead), "List tasks.", || get(list_tasks))
        .tool("list_tasks")
        .query(query_of::<TaskFilter>)
        .answers(200, json::<Page<Task>>),
    Endpoint::new("post", "/tasks", Caller::Scoped(Scope::CrmWrite), "Create a task.", || post(create_task))
        .tool("create_task")
        .body(json::<NewTask>)
        .answers(201, json::<Task>),
    Endpoint::new("patch", "/tasks/{id}", Caller::Scoped(Scope::CrmWrite), "Change a task.", || patch(update_task))
        .tool("update_task")
        .body(json::<TaskPatch>)
        .answers(200, json::<Task>),
    Endpoint::new("get", "/leads/{id}/timeline", Caller::Scoped(Scope::CrmRead), "A lead's timeline.", || get(lead_timeline))
        .tool("get_lead_timeline")
        .answers(200, json::<Vec<TimelineEntry>>),
];

pub fn router() -> Router<AppState> {
    openapi::router(ENDPOINTS)
}

async fn list_activities(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(filter): ApiQuery<ActivityFilter>,
) -> AppResult<Json<Page<Activity>>> {
    let mut tx = state.db.begin_read().await?;
    let activities = ops::list_activities(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(activities))
}

async fn create_activity(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewActivity>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let activity = ops::create_activity(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &activity).await
}

async fn list_tasks(State(state): State<AppState>, ctx: Ctx, ApiQuery(filter): ApiQuery<TaskFilter>) -> AppResult<Json<Page<Task>>> {
    let mut tx = state.db.begin_read().await?;
    let tasks = ops::list_tasks(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(tasks))
}

async fn create_task(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewTask>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let task = ops::create_task(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &task).await
}

async fn update_task(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<TaskPatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let task = ops::update_task(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &task).await
}

async fn lead_timeline(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Vec<TimelineEntry>>> {
    let mut tx = state.db.begin_read().await?;
    let lead_timeline = ops::lead_timeline(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(lead_timeline))
}
