//! REST: /api/v1/companies

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
    Endpoint::new("get", "/companies", Caller::Scoped(Scope::CrmRead), "List companies.", || get(list))
        .tool("search_companies")
        .query(query_of::<CompanyFilter>)
        .answers(200, json::<Page<Company>>),
    Endpoint::new("post", "/companies", Caller::Scoped(Scope::CrmWrite), "Create a company.", || post(create))
        .tool("create_company")
        .body(json::<NewCompany>)
        .answers(201, json::<Company>),
    Endpoint::new("get", "/companies/{id}", Caller::Scoped(Scope::CrmRead), "Read a company.", || get(show))
        .tool("get_company")
        .answers(200, json::<Company>),
    Endpoint::new("patch", "/companies/{id}", Caller::Scoped(Scope::CrmWrite), "Change a company.", || patch(update))
        .tool("update_company")
        .body(json::<CompanyPatch>)
        .answers(200, json::<Company>),
];

pub fn router() -> Router<AppState> {
    openapi::router(ENDPOINTS)
}

async fn list(State(state): State<AppState>, ctx: Ctx, ApiQuery(filter): ApiQuery<CompanyFilter>) -> AppResult<Json<Page<Company>>> {
    let mut tx = state.db.begin_read().await?;
    let found = ops::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn show(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Company>> {
    let mut tx = state.db.begin_read().await?;
    let company = ops::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(company))
}

async fn create(State(state): State<AppState>, ctx: Ctx, idempotency: Idempotency, body: ApiJson<NewCompany>) -> ApiResult {
    let mut tx = idempotency.begin(&state, &ctx, &body.body_digest).await?;
    let company = ops::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &company).await
}

async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idempotency: Idempotency,
    body: ApiJson<CompanyPatch>,
) -> ApiResult {
    let mut tx = idempotency.begin(&state, &ctx, &body.body_digest).await?;
    let company = ops::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &company).await
}
