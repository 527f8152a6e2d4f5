//! REST: /api/v1/contacts, their companies, and the contacts of a company.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use uuid::Uuid;

use super::ops;
use super::types::*;
use crate::error::AppResult;
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiQuery, ApiResult, IdPath, Idempotency};
use crate::platform::types::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/contacts", get(list).post(create))
        .route("/contacts/{id}", get(show).patch(update))
        .route("/contacts/{id}/companies", get(companies_of_contact).post(add_company))
        .route("/contacts/{id}/companies/{company_id}", axum::routing::patch(update_company_role).delete(remove_company))
        .route("/companies/{id}/contacts", get(contacts_of_company))
}

async fn list(State(state): State<AppState>, ctx: Ctx, ApiQuery(filter): ApiQuery<ContactFilter>) -> AppResult<Json<Page<Contact>>> {
    let mut tx = state.db.begin_read().await?;
    let found = ops::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn show(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Contact>> {
    let mut tx = state.db.begin_read().await?;
    let contact = ops::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(contact))
}

async fn create(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewContact>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let contact = ops::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &contact).await
}

async fn update(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency, body: ApiJson<ContactPatch>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let contact = ops::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &contact).await
}

async fn companies_of_contact(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Vec<Membership>>> {
    let mut tx = state.db.begin_read().await?;
    let memberships = ops::memberships_of_contact(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(memberships))
}

async fn contacts_of_company(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Vec<Membership>>> {
    let mut tx = state.db.begin_read().await?;
    let memberships = ops::memberships_of_company(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(memberships))
}

async fn add_company(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<NewMembership>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let membership = ops::add_membership(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::CREATED, &membership).await
}

async fn update_company_role(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((id, company_id)): ApiPath<(Uuid, Uuid)>,
    idem: Idempotency,
    body: ApiJson<MembershipPatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let membership = ops::update_membership(&mut tx, &ctx, id, company_id, body.value).await?;
    tx.respond(StatusCode::OK, &membership).await
}

async fn remove_company(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((id, company_id)): ApiPath<(Uuid, Uuid)>,
    idem: Idempotency,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let membership = ops::remove_membership(&mut tx, &ctx, id, company_id).await?;
    tx.respond(StatusCode::OK, &membership).await
}
