//! REST: /api/v1/flows/workflows/… (workflows, their versions, publishing,
//! manual runs) and /api/v1/flows/runs/… (runs, their traces, controls).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::types::*;
use super::{runs, templates, triggers, workflows};
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
    Endpoint::new(
        "get",
        "/flows/templates",
        Scoped(Read),
        "The template gallery: each template's trigger, typed inputs and steps.",
        || get(list_templates),
    )
    .tool("list_workflow_templates")
    .answers(200, json::<Vec<WorkflowTemplate>>),
    Endpoint::new(
        "post",
        "/flows/templates/instantiate",
        Scoped(Write),
        "Create a workflow and its trigger from a template and typed inputs.",
        || post(from_template),
    )
    .tool("create_workflow_from_template")
    .body(json::<FromTemplate>)
    .answers(201, json::<WorkflowDetail>),
    Endpoint::new("get", "/flows/triggers", Scoped(Read), "List external triggers, by workflow or event.", || get(list_triggers))
        .tool("list_workflow_triggers")
        .query(query_of::<TriggerFilter>)
        .answers(200, json::<Vec<ExternalTrigger>>),
    Endpoint::new(
        "post",
        "/flows/triggers",
        Scoped(Write),
        "Add an external trigger: a CRM event with filters, or a signed inbound webhook.",
        || post(create_trigger),
    )
    .tool("create_workflow_trigger")
    .body(json::<NewTrigger>)
    .answers(201, json::<ExternalTrigger>),
    Endpoint::new("patch", "/flows/triggers/{id}", Scoped(Write), "Turn a trigger off or on.", || patch(update_trigger))
        .tool("update_workflow_trigger")
        .body(json::<TriggerPatch>)
        .answers(200, json::<ExternalTrigger>),
    Endpoint::new("delete", "/flows/triggers/{id}", Scoped(Write), "Remove a trigger.", || delete(delete_trigger))
        .tool("delete_workflow_trigger")
        .answers(200, json::<ExternalTrigger>),
    Endpoint::new(
        "post",
        "/flows/workflows/{id}/signing-secret",
        Scoped(Write),
        "Read (or, with rotate, replace) the secret that signs a workflow's webhooks in and out.",
        || post(signing_secret),
    )
    .no_tool("a credential: it is read in the browser or over REST, never handed to an agent")
    .body(json::<SecretRequest>)
    .answers(200, json::<SigningSecret>),
    Endpoint::new(
        "post",
        "/flows/hooks/{id}",
        Caller::Public,
        "A webhook trigger: the signed JSON body (X-Corral-Signature) starts a run; Idempotency-Key makes a redelivery one run.",
        || post(receive_hook),
    )
    .answers(202, json::<serde_json::Value>),
    Endpoint::new("get", "/flows/runs", Scoped(Read), "List runs by workflow, status, trigger type and date range.", || get(list_runs))
        .tool("list_workflow_runs")
        .query(query_of::<RunFilter>)
        .answers(200, json::<Page<Run>>),
    Endpoint::new("get", "/flows/runs/{id}", Scoped(Read), "Read a run with its per-step trace.", || get(show_run))
        .tool("get_workflow_run")
        .answers(200, json::<RunDetail>),
    Endpoint::new(
        "get",
        "/flows/runs/{id}/stream",
        Scoped(Read),
        "A run's progress as server-sent events: a `run` event with the run and its trace at each change, `end` once it ended.",
        || get(stream_run),
    )
    .no_tool("a stream for browsers; agents read get_workflow_run")
    .answers_event_stream(),
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

/// Whether to replace the signing secret.
#[derive(Clone, Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretRequest {
    #[serde(default)]
    pub rotate: Option<bool>,
}

async fn list_templates(ctx: Ctx) -> AppResult<Json<Vec<WorkflowTemplate>>> {
    Ok(Json(templates::list(&ctx)?))
}

async fn from_template(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<FromTemplate>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let workflow = templates::create_workflow(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &workflow).await
}

async fn list_triggers(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(filter): ApiQuery<TriggerFilter>,
) -> AppResult<Json<Vec<ExternalTrigger>>> {
    let mut tx = state.db.begin_read().await?;
    let found = triggers::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn create_trigger(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewTrigger>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let trigger = triggers::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &trigger).await
}

async fn update_trigger(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<TriggerPatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let trigger = triggers::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &trigger).await
}

async fn delete_trigger(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let trigger = triggers::delete(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &trigger).await
}

async fn signing_secret(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<SecretRequest>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let secret = workflows::signing_secret(&mut tx, &ctx, id, body.value.rotate.unwrap_or(false)).await?;
    tx.respond(StatusCode::OK, &secret).await
}

/// Unauthenticated: the signature over the body is the caller's proof.
async fn receive_hook(
    State(state): State<AppState>,
    ApiPath(id): IdPath,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> AppResult<(StatusCode, Json<serde_json::Value>)> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let event_id = header("idempotency-key").or_else(|| header("x-corral-event-id"));
    let mut tx = state.db.begin().await?;
    let (run_id, created) = runs::receive_webhook(&mut tx, id, header("x-corral-signature"), event_id, &body).await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "run_id": run_id, "duplicate": !created }))))
}

/// Polls the run (a cheap read) and sends it when it changed; ends once
/// the run has ended, or after an hour.
async fn stream_run(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
) -> AppResult<axum::response::sse::Sse<impl futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>>> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    // Refused before the stream opens when the run is not the caller's.
    let mut tx = state.db.begin_read().await?;
    runs::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3600);
    let stream = futures::stream::unfold((state, ctx, String::new(), false), move |(state, ctx, last, ended)| async move {
        if ended || std::time::Instant::now() > deadline {
            return None;
        }
        loop {
            let read = async {
                let mut tx = state.db.begin_read().await?;
                let detail = runs::get(&mut tx, &ctx, id).await?;
                tx.commit().await?;
                AppResult::Ok(detail)
            };
            let Ok(detail) = read.await else { return None };
            let body = serde_json::to_string(&detail).unwrap_or_default();
            let finished = detail.run.status.is_finished();
            if body != last {
                let event = Event::default().event("run").data(body.clone());
                return Some((Ok(event), (state, ctx, body, false)));
            }
            if finished {
                return Some((Ok(Event::default().event("end").data("{}")), (state, ctx, body, true)));
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
