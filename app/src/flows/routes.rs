//! REST: /api/v1/flows/workflows/… (workflows, their versions, publishing,
//! manual runs) and /api/v1/flows/runs/… (runs, their traces, controls).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::types::*;
use super::{runs, workflows};
use crate::error::AppResult;
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiQuery, ApiResult, IdPath, Idempotency};
use crate::platform::openapi::{self, json, query_of, Caller, Endpoint};
use crate::platform::types::{Page, Scope};

use Caller::Scoped;
use Scope::{FlowsRead as Read, FlowsWrite as Write};

pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint::new("get", "/flows/workflows", Scoped(Read), "List workflows.", || get(list))
        .tool("list_workflows")
        .query(query_of::<WorkflowFilter>)
        .answers(200, json::<Page<Workflow>>),
    Endpoint::new(
        "post",
        "/flows/workflows",
        Scoped(Write),
        "Create a workflow; its graph is checked (no cycles, one entry, every step reachable, every variable defined upstream).",
        || post(create),
    )
    .tool("create_workflow")
    .body(json::<NewWorkflow>)
    .answers(201, json::<WorkflowDetail>),
    Endpoint::new("get", "/flows/workflows/{id}", Scoped(Read), "Read a workflow with its newest graph and its versions.", || get(show))
        .tool("get_workflow")
        .answers(200, json::<WorkflowDetail>),
    Endpoint::new("patch", "/flows/workflows/{id}", Scoped(Write), "Change a workflow; a new graph is a new draft version.", || {
        patch(update)
    })
    .tool("update_workflow")
    .body(json::<WorkflowPatch>)
    .answers(200, json::<WorkflowDetail>),
    Endpoint::new(
        "post",
        "/flows/workflows/{id}/publish",
        Scoped(Write),
        "Publish a version (the newest when none is named): new runs start on it.",
        || post(publish),
    )
    .tool("publish_workflow")
    .body(json::<PublishVersion>)
    .answers(200, json::<WorkflowDetail>),
    Endpoint::new(
        "post",
        "/flows/workflows/{id}/versions/{version}/archive",
        Scoped(Write),
        "Archive a draft version; its runs are kept.",
        || post(archive_version),
    )
    .tool("archive_workflow_version")
    .answers(200, json::<WorkflowDetail>),
    Endpoint::new(
        "post",
        "/flows/workflows/{id}/runs",
        Scoped(Write),
        "Start a run of the published version; the payload is checked against the input schema.",
        || post(trigger),
    )
    .tool("trigger_workflow")
    .body(json::<TriggerInput>)
    .answers(201, json::<Run>),
    Endpoint::new("get", "/flows/runs", Scoped(Read), "List runs by workflow, status, trigger type and date range.", || get(list_runs))
        .tool("list_workflow_runs")
        .query(query_of::<RunFilter>)
        .answers(200, json::<Page<Run>>),
    Endpoint::new("get", "/flows/runs/{id}", Scoped(Read), "Read a run with its per-step trace.", || get(show_run))
        .tool("get_workflow_run")
        .answers(200, json::<RunDetail>),
    Endpoint::new("post", "/flows/runs/{id}/pause", Scoped(Write), "Pause a run at its next step.", || post(pause_run))
        .tool("pause_workflow_run")
        .answers(200, json::<Run>),
    Endpoint::new("post", "/flows/runs/{id}/resume", Scoped(Write), "Resume a paused run where it stood.", || post(resume_run))
        .tool("resume_workflow_run")
        .answers(200, json::<Run>),
    Endpoint::new("post", "/flows/runs/{id}/cancel", Scoped(Write), "Cancel a run: no further step runs.", || post(cancel_run))
        .tool("cancel_workflow_run")
        .answers(200, json::<Run>),
];

pub fn router() -> Router<AppState> {
    openapi::router(ENDPOINTS)
}

/// Which version to publish.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishVersion {
    /// The newest version when absent.
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Deserialize)]
struct VersionPath {
    id: uuid::Uuid,
    version: i64,
}

async fn list(State(state): State<AppState>, ctx: Ctx, ApiQuery(filter): ApiQuery<WorkflowFilter>) -> AppResult<Json<Page<Workflow>>> {
    let mut tx = state.db.begin_read().await?;
    let page = workflows::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(page))
}

async fn create(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewWorkflow>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let workflow = workflows::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &workflow).await
}

async fn show(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<WorkflowDetail>> {
    let mut tx = state.db.begin_read().await?;
    let workflow = workflows::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(workflow))
}

async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<WorkflowPatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let workflow = workflows::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &workflow).await
}

async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<PublishVersion>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let workflow = workflows::publish(&mut tx, &ctx, id, body.value.version).await?;
    tx.respond(StatusCode::OK, &workflow).await
}

async fn archive_version(State(state): State<AppState>, ctx: Ctx, ApiPath(path): ApiPath<VersionPath>, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let workflow = workflows::archive_version(&mut tx, &ctx, path.id, path.version).await?;
    tx.respond(StatusCode::OK, &workflow).await
}

async fn trigger(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<TriggerInput>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let run = runs::trigger(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::CREATED, &run).await
}

async fn list_runs(State(state): State<AppState>, ctx: Ctx, ApiQuery(filter): ApiQuery<RunFilter>) -> AppResult<Json<Page<Run>>> {
    let mut tx = state.db.begin_read().await?;
    let page = runs::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(page))
}

async fn show_run(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<RunDetail>> {
    let mut tx = state.db.begin_read().await?;
    let run = runs::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(run))
}

async fn pause_run(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let run = runs::pause(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &run).await
}

async fn resume_run(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let run = runs::resume(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &run).await
}

async fn cancel_run(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let run = runs::cancel(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &run).await
}
