//! REST: /api/v1/auth, /me, /members, /invitations, /api-keys, /audit-events

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use tower_sessions::Session;

use crate::error::{AppError, AppResult};
use crate::platform::accounts::{self, SignedIn};
use crate::platform::audit::{self, AuditFilter};
use crate::platform::auth::{SESSION_USER_ID, SESSION_WORKSPACE_ID};
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiQuery, ApiResult, IdPath, Idempotency};
use crate::platform::openapi::{self, json, query_of, Caller, Endpoint};
use crate::platform::types::*;

pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint::new("post", "/auth/signup", Caller::Public, "Create a workspace and its owner, and sign in.", || post(sign_up))
        .body(json::<SignUp>)
        .answers(201, json::<CurrentUser>),
    Endpoint::new("post", "/auth/login", Caller::Public, "Sign in (a session cookie).", || post(log_in))
        .body(json::<LogIn>)
        .answers(200, json::<CurrentUser>),
    Endpoint::new("post", "/auth/logout", Caller::Public, "Sign out.", || post(log_out)).answers_nothing(204),
    Endpoint::new("post", "/invitations/accept", Caller::Public, "Join a workspace with an invitation, and sign in.", || {
        post(accept_invitation)
    })
    .body(json::<AcceptInvitation>)
    .answers(200, json::<CurrentUser>),
    Endpoint::new("get", "/me", Caller::Session, "The signed-in user and workspace.", || get(me)).answers(200, json::<CurrentUser>),
    Endpoint::new("get", "/workspace", Caller::Scoped(Scope::CrmRead), "The workspace: its name and time zone.", || get(workspace))
        .tool("get_workspace")
        .answers(200, json::<Workspace>),
    Endpoint::new("patch", "/workspace", Caller::Session, "Rename the workspace or change its time zone (owners and admins).", || {
        patch(update_workspace)
    })
    .body(json::<WorkspacePatch>)
    .answers(200, json::<Workspace>),
    Endpoint::new(
        "get",
        "/workspace/onboarding",
        Caller::Session,
        "The first steps of the workspace and whether sample data is in it.",
        || get(onboarding),
    )
    .answers(200, json::<crate::platform::sample_data::Onboarding>),
    Endpoint::new("post", "/workspace/sample-data", Caller::Session, "Load the sample data (owners and admins; once).", || {
        post(load_sample_data)
    })
    .answers(201, json::<crate::platform::sample_data::SampleDataSummary>),
    Endpoint::new(
        "delete",
        "/workspace/sample-data",
        Caller::Session,
        "Remove every sample record, leaving the workspace's own data.",
        || axum::routing::delete(remove_sample_data),
    )
    .answers(200, json::<crate::platform::sample_data::SampleDataSummary>),
    Endpoint::new("get", "/members", Caller::Member, "The workspace's members and roles.", || get(members))
        .answers(200, json::<Vec<crate::platform::types::Member>>),
    Endpoint::new("get", "/invitations", Caller::Session, "Open invitations.", || get(invitations)).answers(200, json::<Vec<Invitation>>),
    Endpoint::new("post", "/invitations", Caller::Session, "Invite someone by email, with a role.", || post(invite))
        .body(json::<NewInvitation>)
        .answers(201, json::<Invitation>),
    Endpoint::new("get", "/api-keys", Caller::Session, "The workspace's API keys (never their secrets).", || get(api_keys))
        .answers(200, json::<Vec<ApiKey>>),
    Endpoint::new("post", "/api-keys", Caller::Session, "Create an API key with scopes; the secret is shown once.", || {
        post(create_api_key)
    })
    .body(json::<NewApiKey>)
    .answers(201, json::<CreatedApiKey>),
    Endpoint::new("post", "/api-keys/{id}/revoke", Caller::Session, "Revoke an API key at once.", || post(revoke_api_key))
        .answers(200, json::<ApiKey>),
    Endpoint::new("get", "/audit-events", Caller::Member, "The audit trail, newest first.", || get(audit_events))
        .tool("list_audit_events")
        .query(query_of::<AuditFilter>)
        .answers(200, json::<Page<AuditEvent>>),
    Endpoint::new("get", "/openapi.json", Caller::Public, "This document.", || get(openapi_document))
        .answers(200, json::<serde_json::Value>),
];

pub fn router() -> Router<AppState> {
    openapi::router(ENDPOINTS)
}

async fn openapi_document() -> Json<serde_json::Value> {
    Json(openapi::document())
}

/// Starts a session for a signed-in user. The session id is replaced, so a
/// session id planted before log-in (fixation) is worthless after it.
pub async fn start_session(session: &Session, signed_in: SignedIn) -> AppResult<()> {
    let store_error = |e: tower_sessions::session::Error| AppError::Internal(format!("session store: {e}"));
    session.cycle_id().await.map_err(store_error)?;
    session.insert(SESSION_USER_ID, signed_in.user_id).await.map_err(store_error)?;
    session.insert(SESSION_WORKSPACE_ID, signed_in.workspace_id).await.map_err(store_error)?;
    Ok(())
}

async fn signed_in_response(state: &AppState, session: &Session, signed_in: SignedIn, status: StatusCode) -> AppResult<Response> {
    start_session(session, signed_in).await?;
    let ctx = crate::platform::auth::ctx_from_session(&state.db, session).await?;
    let mut tx = state.db.begin_read().await?;
    let user = accounts::current_user(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok((status, Json(user)).into_response())
}

async fn sign_up(State(state): State<AppState>, session: Session, body: ApiJson<SignUp>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let signed_in = accounts::sign_up(&mut tx, state.seeders, body.value).await?;
    tx.commit().await?;
    signed_in_response(&state, &session, signed_in, StatusCode::CREATED).await
}

async fn log_in(State(state): State<AppState>, session: Session, body: ApiJson<LogIn>) -> AppResult<Response> {
    let mut tx = state.db.begin_read().await?;
    let signed_in = accounts::log_in(&mut tx, body.value).await;
    tx.commit().await?;
    signed_in_response(&state, &session, signed_in?, StatusCode::OK).await
}

async fn log_out(session: Session) -> AppResult<StatusCode> {
    session.flush().await.map_err(|e| AppError::Internal(format!("session store: {e}")))?;
    Ok(StatusCode::NO_CONTENT)
}

async fn accept_invitation(State(state): State<AppState>, session: Session, body: ApiJson<AcceptInvitation>) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let signed_in = accounts::accept_invitation(&mut tx, body.value).await?;
    tx.commit().await?;
    signed_in_response(&state, &session, signed_in, StatusCode::OK).await
}

async fn me(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<CurrentUser>> {
    let mut tx = state.db.begin_read().await?;
    let current_user = accounts::current_user(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(current_user))
}

async fn workspace(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Workspace>> {
    let mut tx = state.db.begin_read().await?;
    let workspace = accounts::get_workspace(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(workspace))
}

async fn update_workspace(State(state): State<AppState>, ctx: Ctx, body: ApiJson<WorkspacePatch>) -> AppResult<Json<Workspace>> {
    let mut tx = state.db.begin().await?;
    let workspace = accounts::update_workspace(&mut tx, &ctx, state.workspace_hooks, body.value).await?;
    tx.commit().await?;
    Ok(Json(workspace))
}

async fn onboarding(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<crate::platform::sample_data::Onboarding>> {
    let mut tx = state.db.begin_read().await?;
    let onboarding = crate::platform::sample_data::ssr::onboarding(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(onboarding))
}

async fn load_sample_data(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let summary = crate::platform::sample_data::ssr::load(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(summary)).into_response())
}

async fn remove_sample_data(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<crate::platform::sample_data::SampleDataSummary>> {
    let mut tx = state.db.begin().await?;
    let summary = crate::platform::sample_data::ssr::remove(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(summary))
}

async fn members(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<Member>>> {
    let mut tx = state.db.begin_read().await?;
    let members = accounts::list_members(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(members))
}

async fn invitations(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<Invitation>>> {
    let mut tx = state.db.begin_read().await?;
    let invitations = accounts::list_invitations(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(invitations))
}

async fn invite(State(state): State<AppState>, ctx: Ctx, idempotency: Idempotency, body: ApiJson<NewInvitation>) -> ApiResult {
    let mut tx = idempotency.begin(&state, &ctx, &body.body_digest).await?;
    let invitation = accounts::invite(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &invitation).await
}

async fn api_keys(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<ApiKey>>> {
    let mut tx = state.db.begin_read().await?;
    let api_keys = accounts::list_api_keys(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(api_keys))
}

async fn create_api_key(State(state): State<AppState>, ctx: Ctx, idempotency: Idempotency, body: ApiJson<NewApiKey>) -> ApiResult {
    // A replayed response would hand the secret out a second time.
    if idempotency.key.is_some() {
        return Err(AppError::BadRequest("Idempotency-Key is not accepted here: a key's secret is shown only once".into()).into());
    }
    let mut tx = idempotency.begin(&state, &ctx, &body.body_digest).await?;
    let api_key = accounts::create_api_key(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &api_key).await
}

async fn revoke_api_key(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idempotency: Idempotency) -> ApiResult {
    let mut tx = idempotency.begin(&state, &ctx, "").await?;
    let api_key = accounts::revoke_api_key(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &api_key).await
}

async fn audit_events(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(filter): ApiQuery<AuditFilter>,
) -> AppResult<Json<Page<AuditEvent>>> {
    let mut tx = state.db.begin_read().await?;
    let found = audit::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(found))
}
