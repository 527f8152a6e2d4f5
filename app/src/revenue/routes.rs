//! REST: /api/v1/ledger-accounts, /journal-entries, /trial-balance,
//! /receivables/aging, /invoices and /payments.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;

use super::invoices;
use super::ledger::{self, LedgerQuery, ReverseEntry};
use super::types::*;
use crate::error::AppResult;
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{read, write, ApiJson, ApiQuery, IdPath, Idempotency};
use crate::platform::types::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ledger-accounts", get(list_accounts).post(create_account))
        .route("/ledger-accounts/{id}", get(show_account).patch(update_account))
        .route("/ledger-accounts/{id}/ledger", get(account_ledger))
        .route("/journal-entries", get(list_entries).post(create_entry))
        .route("/journal-entries/{id}", get(show_entry).delete(delete_entry))
        .route("/journal-entries/{id}/post", post(post_entry))
        .route("/journal-entries/{id}/reverse", post(reverse_entry))
        .route("/trial-balance", get(trial_balance))
        .route("/receivables/aging", get(aging))
        .route("/invoices", get(list_invoices).post(create_invoice))
        .route("/invoices/{id}", get(show_invoice).patch(update_invoice))
        .route("/invoices/{id}/send", post(send_invoice))
        .route("/invoices/{id}/void", post(void_invoice))
        .route("/payments", get(list_payments).post(create_payment))
        .route("/payments/{id}", get(show_payment))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AsOf {
    as_of: Option<NaiveDate>,
}

async fn list_accounts(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<LedgerAccount>>> {
    read(&state, move |tx| Box::pin(async move { ledger::list_accounts(tx, &ctx).await })).await
}

async fn show_account(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<LedgerAccount>> {
    read(&state, move |tx| Box::pin(async move { ledger::get_account(tx, &ctx, id).await })).await
}

async fn create_account(
    State(state): State<AppState>,
    ctx: Ctx,
    idem: Idempotency,
    body: ApiJson<NewLedgerAccount>,
) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { ledger::create_account(tx, &op_ctx, input).await })
    })
    .await
}

async fn update_account(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<LedgerAccountPatch>,
) -> AppResult<Response> {
    let (op_ctx, patch) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { ledger::update_account(tx, &op_ctx, id, patch).await })
    })
    .await
}

async fn account_ledger(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    ApiQuery(query): ApiQuery<LedgerQuery>,
) -> AppResult<Json<AccountLedger>> {
    read(&state, move |tx| Box::pin(async move { ledger::account_ledger(tx, &ctx, id, query).await })).await
}

async fn list_entries(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(filter): ApiQuery<JournalFilter>,
) -> AppResult<Json<Page<JournalEntry>>> {
    read(&state, move |tx| Box::pin(async move { ledger::list_entries(tx, &ctx, filter).await })).await
}

async fn show_entry(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<JournalEntry>> {
    read(&state, move |tx| Box::pin(async move { ledger::get_entry(tx, &ctx, id).await })).await
}

async fn create_entry(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewJournalEntry>) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { ledger::create_entry(tx, &op_ctx, input).await })
    })
    .await
}

async fn delete_entry(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency) -> AppResult<Response> {
    let op_ctx = ctx.clone();
    write(&state, &ctx, idem, "", StatusCode::OK, move |tx| Box::pin(async move { ledger::delete_draft(tx, &op_ctx, id).await })).await
}

async fn post_entry(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency) -> AppResult<Response> {
    let op_ctx = ctx.clone();
    write(&state, &ctx, idem, "", StatusCode::OK, move |tx| Box::pin(async move { ledger::post_entry(tx, &op_ctx, id).await })).await
}

/// The body is `{}` or names the reversal's `memo` and `entry_date`.
async fn reverse_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<ReverseEntry>,
) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { ledger::reverse_entry(tx, &op_ctx, id, input).await })
    })
    .await
}

async fn trial_balance(State(state): State<AppState>, ctx: Ctx, ApiQuery(query): ApiQuery<AsOf>) -> AppResult<Json<TrialBalance>> {
    read(&state, move |tx| Box::pin(async move { ledger::trial_balance(tx, &ctx, query.as_of).await })).await
}

async fn aging(State(state): State<AppState>, ctx: Ctx, ApiQuery(query): ApiQuery<AsOf>) -> AppResult<Json<ReceivablesAging>> {
    read(&state, move |tx| Box::pin(async move { ledger::receivables_aging(tx, &ctx, query.as_of).await })).await
}

async fn list_invoices(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(filter): ApiQuery<InvoiceFilter>,
) -> AppResult<Json<Page<Invoice>>> {
    read(&state, move |tx| Box::pin(async move { invoices::list(tx, &ctx, filter).await })).await
}

async fn show_invoice(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<Invoice>> {
    read(&state, move |tx| Box::pin(async move { invoices::get(tx, &ctx, id).await })).await
}

async fn create_invoice(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewInvoice>) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { invoices::create(tx, &op_ctx, input).await })
    })
    .await
}

async fn update_invoice(
    State(state): State<AppState>,
    ctx: Ctx,
    IdPath { 0: id }: IdPath,
    idem: Idempotency,
    body: ApiJson<InvoicePatch>,
) -> AppResult<Response> {
    let (op_ctx, patch) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::OK, move |tx| {
        Box::pin(async move { invoices::update(tx, &op_ctx, id, patch).await })
    })
    .await
}

async fn send_invoice(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency) -> AppResult<Response> {
    let op_ctx = ctx.clone();
    write(&state, &ctx, idem, "", StatusCode::OK, move |tx| Box::pin(async move { invoices::send(tx, &op_ctx, id).await })).await
}

async fn void_invoice(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath, idem: Idempotency) -> AppResult<Response> {
    let op_ctx = ctx.clone();
    write(&state, &ctx, idem, "", StatusCode::OK, move |tx| Box::pin(async move { invoices::void(tx, &op_ctx, id).await })).await
}

async fn list_payments(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(filter): ApiQuery<PaymentFilter>,
) -> AppResult<Json<Page<Payment>>> {
    read(&state, move |tx| Box::pin(async move { invoices::list_payments(tx, &ctx, filter).await })).await
}

async fn show_payment(State(state): State<AppState>, ctx: Ctx, IdPath { 0: id }: IdPath) -> AppResult<Json<Payment>> {
    read(&state, move |tx| Box::pin(async move { invoices::get_payment(tx, &ctx, id).await })).await
}

async fn create_payment(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewPayment>) -> AppResult<Response> {
    let (op_ctx, input) = (ctx.clone(), body.value);
    write(&state, &ctx, idem, &body.body_digest, StatusCode::CREATED, move |tx| {
        Box::pin(async move { invoices::record_payment(tx, &op_ctx, input).await })
    })
    .await
}
