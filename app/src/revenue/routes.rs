//! REST: /api/v1/ledger-accounts, /journal-entries, /trial-balance,
//! /receivables/aging, /invoices and /payments.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use std::sync::LazyLock;

use chrono::NaiveDate;

use super::invoices;
use super::ledger::{self, LedgerQuery, ReverseEntry};
use super::types::*;
use crate::error::AppResult;
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiQuery, ApiResult, IdPath, Idempotency};
use crate::platform::openapi::{self, json, query_of, Caller, Endpoint};
use crate::platform::types::Page;
use crate::platform::types::Scope;

/// The chart of accounts and the journal, under one prefix pair.
macro_rules! books {
    ($accounts:literal, $entries:literal) => {
        [
            Endpoint::new("get", $accounts, Caller::Scoped(Scope::RevenueRead), "The chart of accounts.", || get(list_accounts))
                .tool("list_accounting_accounts")
                .answers(200, json::<Vec<LedgerAccount>>),
            Endpoint::new(
                "post",
                $accounts,
                Caller::Scoped(Scope::RevenueWrite),
                "Add an account (`type` is the seed's `account_type`).",
                || post(create_account),
            )
            .tool("create_accounting_account")
            .body(json::<NewLedgerAccount>)
            .answers(201, json::<LedgerAccount>),
            Endpoint::new("get", concat!($accounts, "/{id}"), Caller::Scoped(Scope::RevenueRead), "Read an account.", || get(show_account))
                .tool("get_accounting_account")
                .answers(200, json::<LedgerAccount>),
            Endpoint::new(
                "patch",
                concat!($accounts, "/{id}"),
                Caller::Scoped(Scope::RevenueWrite),
                "Rename or archive an account.",
                || patch(update_account),
            )
            .tool("update_accounting_account")
            .body(json::<LedgerAccountPatch>)
            .answers(200, json::<LedgerAccount>),
            Endpoint::new(
                "get",
                concat!($accounts, "/{id}/ledger"),
                Caller::Scoped(Scope::RevenueRead),
                "An account's lines with the running balance.",
                || get(account_ledger),
            )
            .tool("get_account_ledger")
            .query(query_of::<LedgerQuery>)
            .answers(200, json::<AccountLedger>),
            Endpoint::new("get", $entries, Caller::Scoped(Scope::RevenueRead), "Journal entries.", || get(list_entries))
                .tool("list_journal_entries")
                .query(query_of::<JournalFilter>)
                .answers(200, json::<Page<JournalEntry>>),
            Endpoint::new(
                "post",
                $entries,
                Caller::Scoped(Scope::RevenueWrite),
                "Write a balanced entry (`status: posted` or `post: true` posts it).",
                || post(create_entry),
            )
            .tool("create_journal_entry")
            .body(json::<NewJournalEntry>)
            .answers(201, json::<JournalEntry>),
            Endpoint::new("get", concat!($entries, "/{id}"), Caller::Scoped(Scope::RevenueRead), "Read an entry.", || get(show_entry))
                .tool("get_journal_entry")
                .answers(200, json::<JournalEntry>),
            Endpoint::new("delete", concat!($entries, "/{id}"), Caller::Scoped(Scope::RevenueWrite), "Delete a draft entry.", || {
                delete(delete_entry)
            })
            .tool("delete_journal_entry")
            .answers(200, json::<JournalEntry>),
            Endpoint::new("post", concat!($entries, "/{id}/post"), Caller::Scoped(Scope::RevenueWrite), "Post a draft entry.", || {
                post(post_entry)
            })
            .tool("post_journal_entry")
            .answers(200, json::<JournalEntry>),
            Endpoint::new(
                "post",
                concat!($entries, "/{id}/reverse"),
                Caller::Scoped(Scope::RevenueWrite),
                "Reverse a posted entry.",
                || post(reverse_entry),
            )
            .tool("reverse_journal_entry")
            .body(json::<ReverseEntry>)
            .answers(201, json::<JournalEntry>),
        ]
    };
}

/// The chart of accounts and the journal live under two prefixes: Corral's
/// own and the seed's (`/accounting/accounts`, `/accounting/journal-entries`).
static BOOKS: [[Endpoint; 11]; 2] =
    [books!("/ledger-accounts", "/journal-entries"), books!("/accounting/accounts", "/accounting/journal-entries")];

static REPORTS_INVOICES_PAYMENTS: &[Endpoint] = &[
    Endpoint::new("get", "/trial-balance", Caller::Scoped(Scope::RevenueRead), "Every account's totals as of a date.", || {
        get(trial_balance)
    })
    .tool("get_trial_balance")
    .query(query_of::<AsOf>)
    .answers(200, json::<TrialBalance>),
    Endpoint::new("get", "/receivables/aging", Caller::Scoped(Scope::RevenueRead), "Open invoices by age.", || get(aging))
        .tool("get_receivables_aging")
        .query(query_of::<AsOf>)
        .answers(200, json::<ReceivablesAging>),
    Endpoint::new("get", "/invoices", Caller::Scoped(Scope::RevenueRead), "List invoices.", || get(list_invoices))
        .tool("list_invoices")
        .query(query_of::<InvoiceFilter>)
        .answers(200, json::<Page<Invoice>>),
    Endpoint::new(
        "post",
        "/invoices",
        Caller::Scoped(Scope::RevenueWrite),
        "Create a draft invoice (`invoice_number`, `line_items` with `name` accepted).",
        || post(create_invoice),
    )
    .no_tool("drafts are for people; agents use create_invoice, which creates and issues in one step as the seed defines it")
    .body(json::<NewInvoice>)
    .answers(201, json::<Invoice>),
    Endpoint::new("get", "/invoices/{id}", Caller::Scoped(Scope::RevenueRead), "Read an invoice.", || get(show_invoice))
        .tool("get_invoice")
        .answers(200, json::<Invoice>),
    Endpoint::new("patch", "/invoices/{id}", Caller::Scoped(Scope::RevenueWrite), "Change a draft invoice.", || patch(update_invoice))
        .tool("update_invoice")
        .body(json::<InvoicePatch>)
        .answers(200, json::<Invoice>),
    Endpoint::new("post", "/invoices/{id}/send", Caller::Scoped(Scope::RevenueWrite), "Issue a draft invoice.", || post(send_invoice))
        .tool("send_invoice")
        .answers(200, json::<Invoice>),
    Endpoint::new("post", "/invoices/{id}/void", Caller::Scoped(Scope::RevenueWrite), "Void an unpaid invoice.", || post(void_invoice))
        .tool("void_invoice")
        .answers(200, json::<Invoice>),
    Endpoint::new("get", "/payments", Caller::Scoped(Scope::RevenueRead), "List payments.", || get(list_payments))
        .tool("list_payments")
        .query(query_of::<PaymentFilter>)
        .answers(200, json::<Page<Payment>>),
    Endpoint::new("post", "/payments", Caller::Scoped(Scope::RevenueWrite), "Record a payment.", || post(create_payment))
        .tool("record_payment")
        .body(json::<NewPayment>)
        .answers(201, json::<Payment>),
    Endpoint::new("get", "/payments/{id}", Caller::Scoped(Scope::RevenueRead), "Read a payment.", || get(show_payment))
        .tool("get_payment")
        .answers(200, json::<Payment>),
];

pub static ENDPOINTS: LazyLock<Vec<Endpoint>> = LazyLock::new(|| [&BOOKS[0][..], &BOOKS[1], REPORTS_INVOICES_PAYMENTS].concat());

pub fn router() -> Router<AppState> {
    openapi::router(&ENDPOINTS)
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
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
