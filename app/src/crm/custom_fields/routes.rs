//! REST: /api/v1/custom-fields

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};

use super::ops;
use super::types::*;
use crate::error::AppResult;
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiResult, IdPath, Idempotency};
use crate::platform::openapi::{self, json, Caller, Endpoint};
use crate::platform::types::Scope;

pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint::new("get", "/custom-fields", Caller::Scoped(Scope::CrmRead), "The workspace's declared lead fields.", || get(list))
        .tool("list_custom_fields")
        .answers(200, json::<Vec<CustomField>>),
    Endpoint::new("post", "/custom-fields", Caller::Scoped(Scope::CrmWrite), "Declare a lead field: its type, options, index.", || {
        post(create)
    })
    .tool("create_custom_field")
    .body(json::<NewCustomField>)
    .answers(201, json::<CustomField>),
    Endpoint::new("get", "/custom-fields/{id}", Caller::Scoped(Scope::CrmRead), "Read a declared field.", || get(show))
        .tool("get_custom_field")
        .answers(200, json::<CustomField>),
    Endpoint::new("patch", "/custom-fields/{id}", Caller::Scoped(Scope::CrmWrite), "Change a declared field.", || patch(update))
        .tool("update_custom_field")
        .body(json::<CustomFieldPatch>)
        .answers(200, json::<CustomField>),
    Endpoint::new("delete", "/custom-fields/{id}", Caller::Scoped(Scope::CrmWrite), "Forget a declaration; values stay.", || {
        delete(remove)
    })
    .tool("delete_custom_field")
    .answers(200, json::<CustomField>),
];

pub fn router() -> Router<AppState> {
    openapi::router(ENDPOINTS)
}

async fn list(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<CustomField>>> {
    let mut tx = state.db.begin_read().await?;
    let fields = ops::list(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(fields))
}

async fn show(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<CustomField>> {
    let mut tx = state.db.begin_read().await?;
    let field = ops::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(field))
}

async fn create(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewCustomField>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let field = ops::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &field).await
}

async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<CustomFieldPatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let field = ops::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &field).await
}

async fn remove(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let field = ops::delete(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &field).await
}
