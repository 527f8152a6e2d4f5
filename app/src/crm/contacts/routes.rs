//! REST: /api/v1/contacts, their companies, and the contacts of a company.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use uuid::Uuid;

use super::ops;
use super::types::*;
use crate::error::AppResult;
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{read, write, ApiJson, ApiPath, ApiQuery, IdPath, Idempotency};
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
    read(&state, move |tx| Box::pin(async move { ops::list(tx, &ctx, filter).await })).await
}

async fn show(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<Contact>> {
    read(&state, move |tx| Box::pin(async move { ops::get(tx, &ctx, id).await })).await
}

async fn create(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewContact>) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { ops::create(tx, &op_ctx, input).await })
    })
    .await
}

async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<ContactPatch>,
) -> AppResult<Response> {
    let (op_ctx, patch) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { ops::update(tx, &op_ctx, id, patch).await })
    })
    .await
}

async fn companies_of_contact(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<Vec<Membership>>> {
    read(&state, move |tx| Box::pin(async move { ops::memberships_of_contact(tx, &ctx, id).await })).await
}

async fn contacts_of_company(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<Vec<Membership>>> {
    read(&state, move |tx| Box::pin(async move { ops::memberships_of_company(tx, &ctx, id).await })).await
}

async fn add_company(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<NewMembership>,
) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { ops::add_membership(tx, &op_ctx, id, input).await })
    })
    .await
}

async fn update_company_role(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((id, company_id)): ApiPath<(Uuid, Uuid)>,
    idem: Idempotency,
    body: ApiJson<MembershipPatch>,
) -> AppResult<Response> {
    let (op_ctx, patch) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { ops::update_membership(tx, &op_ctx, id, company_id, patch).await })
    })
    .await
}

async fn remove_company(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath((id, company_id)): ApiPath<(Uuid, Uuid)>,
    idem: Idempotency,
) -> AppResult<Response> {
    let op_ctx = ctx.clone();
    write(&state, &ctx, idem, "", StatusCode::OK, move |tx| {
        Box::pin(async move { ops::remove_membership(tx, &op_ctx, id, company_id).await })
    })
    .await
}
