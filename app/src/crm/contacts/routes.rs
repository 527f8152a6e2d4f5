//! REST: /api/v1/contacts, their companies, and the contacts of a company.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use uuid::Uuid;

use super::ops;
use super::types::*;
use crate::error::AppResult;
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiQuery, ApiResult, IdPath, Idempotency};
use crate::platform::openapi::{self, json, query_of, Caller, Endpoint};
use crate::platform::types::Page;
use crate::platform::types::Scope;

pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint::new("get", "/contacts", Caller::Scoped(Scope::CrmRead), "List contacts.", || get(list))
        .tool("search_contacts")
        .query(query_of::<ContactFilter>)
        .answers(200, json::<Page<Contact>>),
    Endpoint::new("post", "/contacts", Caller::Scoped(Scope::CrmWrite), "Create a contact.", || post(create))
        .tool("create_contact")
        .body(json::<NewContact>)
        .answers(201, json::<Contact>),
    Endpoint::new("get", "/contacts/{id}", Caller::Scoped(Scope::CrmRead), "Read a contact.", || get(show))
        .tool("get_contact")
        .answers(200, json::<Contact>),
    Endpoint::new("patch", "/contacts/{id}", Caller::Scoped(Scope::CrmWrite), "Change a contact.", || patch(update))
        .tool("update_contact")
        .body(json::<ContactPatch>)
        .answers(200, json::<Contact>),
    Endpoint::new("get", "/contacts/{id}/companies", Caller::Scoped(Scope::CrmRead), "A contact's companies.", || {
        get(companies_of_contact)
    })
    .tool("list_contact_companies")
    .answers(200, json::<Vec<Membership>>),
    Endpoint::new("post", "/contacts/{id}/companies", Caller::Scoped(Scope::CrmWrite), "Add a contact to a company.", || post(add_company))
        .tool("add_contact_to_company")
        .body(json::<NewMembership>)
        .answers(201, json::<Membership>),
    Endpoint::new(
        "patch",
        "/contacts/{id}/companies/{company_id}",
        Caller::Scoped(Scope::CrmWrite),
        "Change a contact's role at a company.",
        || patch(update_company_role),
    )
    .tool("update_contact_company")
    .body(json::<MembershipPatch>)
    .answers(200, json::<Membership>),
    Endpoint::new(
        "delete",
        "/contacts/{id}/companies/{company_id}",
        Caller::Scoped(Scope::CrmWrite),
        "Remove a contact from a company.",
        || delete(remove_company),
    )
    .tool("remove_contact_from_company")
    .answers(200, json::<Membership>),
    Endpoint::new("get", "/companies/{id}/contacts", Caller::Scoped(Scope::CrmRead), "A company's contacts.", || get(contacts_of_company))
        .tool("list_company_contacts")
        .answers(200, json::<Vec<Membership>>),
];

pub fn router() -> Router<AppState> {
    openapi::router(ENDPOINTS)
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
