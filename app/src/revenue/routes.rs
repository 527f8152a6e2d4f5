//! REST: /api/v1/ledger-accounts, /journal-entries, /trial-balance,
//! /receivables/aging, /invoices and /payments.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;

use super::invoices;
use super::ledger::{self, LedgerQuery, ReverseEntry};
use super::types::*;
use crate::error::AppResult;
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiQuery, ApiResult, IdPath, Idempotency};
use crate::platform::types::Page;

/// The chart of accounts and the journal live under two prefixes: Corral's
/// own and the seed's (`/accounting/accounts`, `/accounting/journal-entries`).
const BOOKS: [(&str, &str); 2] = [("/ledger-accounts", "/journal-entries"), ("/accounting/accounts", "/accounting/journal-entries")];

pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for (accounts, entries) in BOOKS {
        router = router
            .route(accounts, get(list_accounts).post(create_account))
            .route(&format!("{accounts}/{{id}}"), get(show_account).patch(update_account))
            .route(&format!("{accounts}/{{id}}/ledger"), get(account_ledger))
            .route(entries, get(list_entries).post(create_entry))
            .route(&format!("{entries}/{{id}}"), get(show_entry).delete(delete_entry))
            .route(&format!("{entries}/{{id}}/post"), post(post_entry))
            .route(&format!("{entries}/{{id}}/reverse"), post(reverse_entry));
    }
    router
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
    let mut tx = state.db.begin_read().await?;
    let accounts = ledger::list_accounts(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(accounts))
}

async fn show_account(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<LedgerAccount>> {
    let mut tx = state.db.begin_read().await?;
    let account = ledger::get_account(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(account))
}

async fn create_account(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewLedgerAccount>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let account = ledger::create_account(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &account).await
}

async fn update_account(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<LedgerAccountPatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let account = ledger::update_account(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &account).await
}

async fn account_ledger(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    ApiQuery(query): ApiQuery<LedgerQuery>,
) -> AppResult<Json<AccountLedger>> {
    let mut tx = state.db.begin_read().await?;
    let account_ledger = ledger::account_ledger(&mut tx, &ctx, id, query).await?;
    tx.commit().await?;
    Ok(Json(account_ledger))
}

async fn list_entries(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(filter): ApiQuery<JournalFilter>,
) -> AppResult<Json<Page<JournalEntry>>> {
    let mut tx = state.db.begin_read().await?;
    let entries = ledger::list_entries(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(entries))
}

async fn show_entry(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<JournalEntry>> {
    let mut tx = state.db.begin_read().await?;
    let entry = ledger::get_entry(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(entry))
}

async fn create_entry(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewJournalEntry>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let entry = ledger::create_entry(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &entry).await
}

async fn delete_entry(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let draft = ledger::delete_draft(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &draft).await
}

async fn post_entry(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let entry = ledger::post_entry(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &entry).await
}

/// The body is `{}` or names the reversal's `memo` and `entry_date`.
async fn reverse_entry(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<ReverseEntry>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let entry = ledger::reverse_entry(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::CREATED, &entry).await
}

async fn trial_balance(State(state): State<AppState>, ctx: Ctx, ApiQuery(query): ApiQuery<AsOf>) -> AppResult<Json<TrialBalance>> {
    let mut tx = state.db.begin_read().await?;
    let trial_balance = ledger::trial_balance(&mut tx, &ctx, query.as_of).await?;
    tx.commit().await?;
    Ok(Json(trial_balance))
}

async fn aging(State(state): State<AppState>, ctx: Ctx, ApiQuery(query): ApiQuery<AsOf>) -> AppResult<Json<ReceivablesAging>> {
    let mut tx = state.db.begin_read().await?;
    let receivables_aging = ledger::receivables_aging(&mut tx, &ctx, query.as_of).await?;
    tx.commit().await?;
    Ok(Json(receivables_aging))
}

async fn list_invoices(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(filter): ApiQuery<InvoiceFilter>,
) -> AppResult<Json<Page<Invoice>>> {
    let mut tx = state.db.begin_read().await?;
    let found = invoices::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn show_invoice(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Invoice>> {
    let mut tx = state.db.begin_read().await?;
    let invoice = invoices::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(invoice))
}

async fn create_invoice(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewInvoice>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let invoice = invoices::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &invoice).await
}

async fn update_invoice(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<InvoicePatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let invoice = invoices::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &invoice).await
}

async fn send_invoice(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let invoice = invoices::send(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &invoice).await
}

async fn void_invoice(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let invoice = invoices::void(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &invoice).await
}

async fn list_payments(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(filter): ApiQuery<PaymentFilter>,
) -> AppResult<Json<Page<Payment>>> {
    let mut tx = state.db.begin_read().await?;
    let payments = invoices::list_payments(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(payments))
}

async fn show_payment(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Payment>> {
    let mut tx = state.db.begin_read().await?;
    let payment = invoices::get_payment(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(payment))
}

async fn create_payment(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewPayment>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let payment = invoices::record_payment(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &payment).await
}
