//! REST: /api/v1/flows/workflows/… (workflows, their versions, publishing).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::types::*;
use super::workflows;
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
