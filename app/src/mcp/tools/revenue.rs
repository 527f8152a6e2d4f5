//! Revenue tools: invoices, payments, the chart of accounts, journal entries.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{begin_write, finish_write, request_id, with_seed_field};
use crate::error::{AppError, AppResult};
use crate::mcp::registry::{arguments, ToolResult};
use crate::platform::context::{AppState, Ctx};
use crate::revenue::types::{
    AccountType, EntryStatus, Invoice, InvoiceFilter, InvoiceStatus, JournalFilter, LedgerAccount, LineKind, NewInvoice, NewInvoiceLine,
    NewJournalEntry, NewJournalLine, NewLedgerAccount, NewPayment, QUANTITY_SCALE,
};
use crate::revenue::{invoices, ledger};

/// An invoice as agents see it: the seed's `invoice_number` beside `number`.
pub(super) fn invoice_json(invoice: &Invoice) -> AppResult<Value> {
    with_seed_field(invoice, "invoice_number", &invoice.number)
}

/// An account as agents see it: the seed's `type` beside `account_type`.
pub(super) fn account_json(account: &LedgerAccount) -> AppResult<Value> {
    with_seed_field(account, "type", account.account_type.as_str())
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LineItemInput {
    kind: LineKind,
    /// What is sold, as the customer reads it.
    name: String,
    /// More detail under the name.
    description: Option<String>,
    /// How many, up to three decimals; 1 when absent.
    #[schemars(range(min = 0.001))]
    quantity: Option<f64>,
    /// The price of one, in the currency's minor unit.
    #[schemars(range(min = 0))]
    unit_amount_cents: i64,
    /// Tax in basis points (2000 = 20 %).
    #[schemars(range(min = 0, max = 10000))]
    tax_rate_bps: Option<i64>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateInvoiceInput {
    /// The invoice's number, unique in the workspace.
    invoice_number: String,
    company_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    deal_id: Option<Uuid>,
    /// ISO currency code, USD when absent.
    currency: Option<String>,
    /// When payment is due (its date counts).
    due_date: Option<chrono::DateTime<chrono::Utc>>,
    line_items: Vec<LineItemInput>,
    custom_fields: Option<Map<String, Value>>,
    idempotency_key: Option<String>,
}

pub(super) async fn create_invoice(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: CreateInvoiceInput = arguments(args.clone())?;
    let mut lines = Vec::with_capacity(input.line_items.len());
    for (i, item) in input.line_items.into_iter().enumerate() {
        let quantity = item.quantity.unwrap_or(1.0);
        let quantity_milli = (quantity * QUANTITY_SCALE as f64).round();
        if !quantity.is_finite() || (quantity_milli / QUANTITY_SCALE as f64 - quantity).abs() > 1e-9 || quantity_milli > i64::MAX as f64 {
            return Err(AppError::validation(format!("line_items[{i}].quantity"), "quantity takes at most three decimals").into());
        }
        lines.push(NewInvoiceLine {
            kind: item.kind,
            name: Some(item.name),
            description: item.description.unwrap_or_default(),
            quantity_milli: quantity_milli as i64,
            unit_amount_cents: item.unit_amount_cents,
            tax_rate_bps: item.tax_rate_bps.unwrap_or(0),
        });
    }
    let mut tx = begin_write(state, ctx, "create_invoice", input.idempotency_key.as_deref(), &args).await?;
    let new_invoice = NewInvoice {
        number: Some(input.invoice_number),
        company_id: input.company_id,
        contact_id: input.contact_id,
        deal_id: input.deal_id,
        currency: input.currency,
        due_date: input.due_date.map(|at| at.date_naive()),
        lines,
        custom_fields: input.custom_fields.map(Value::Object),
        ..Default::default()
    };
    let draft = invoices::create(&mut tx, ctx, new_invoice).await.map_err(line_items_named)?;
    let invoice = invoices::send(&mut tx, ctx, draft.id).await?;
    finish_write(tx, json!({ "invoice": invoice_json(&invoice)? })).await
}

/// The operation names invoice lines `lines[i]`; the tool's input calls
/// them `line_items[i]`.
fn line_items_named(error: AppError) -> AppError {
    match error {
        AppError::Validation { field: Some(field), message } if field.starts_with("lines") => {
            AppError::Validation { field: Some(field.replacen("lines", "line_items", 1)), message }
        }
        other => other,
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ListInvoicesInput {
    status: Option<InvoiceStatus>,
    company_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    deal_id: Option<Uuid>,
    #[schemars(range(min = 1, max = 100))]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub(super) async fn list_invoices(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: ListInvoicesInput = arguments(args)?;
    let filter = InvoiceFilter {
        status: input.status,
        company_id: input.company_id,
        contact_id: input.contact_id,
        deal_id: input.deal_id,
        limit: input.limit,
        cursor: input.cursor,
    };
    let mut tx = state.db.begin_read().await?;
    let page = invoices::list(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    let invoices: Vec<Value> = page.data.iter().map(invoice_json).collect::<AppResult<_>>()?;
    Ok(json!({ "invoices": invoices, "next_cursor": page.next_cursor, "request_id": request_id() }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RecordPaymentInput {
    /// The invoice paid.
    invoice_id: Option<Uuid>,
    /// In the currency's minor unit.
    #[schemars(range(min = 1))]
    amount_cents: i64,
    /// The invoice's currency when absent.
    currency: Option<String>,
    /// Now when absent.
    paid_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who moved the money (stripe, bank, …); manual when absent.
    provider: Option<String>,
    /// The provider's id for the payment; the same one twice is refused.
    provider_reference_id: Option<String>,
    custom_fields: Option<Map<String, Value>>,
    idempotency_key: Option<String>,
}

pub(super) async fn record_payment(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: RecordPaymentInput = arguments(args.clone())?;
    let mut tx = begin_write(state, ctx, "record_payment", input.idempotency_key.as_deref(), &args).await?;
    let payment = NewPayment {
        invoice_id: input.invoice_id,
        company_id: None,
        amount_cents: input.amount_cents,
        currency: input.currency,
        provider: input.provider,
        reference: input.provider_reference_id,
        paid_at: input.paid_at,
        custom_fields: input.custom_fields.map(Value::Object),
    };
    let payment = invoices::record_payment(&mut tx, ctx, payment).await.map_err(|e| match e {
        AppError::Duplicate { code, field, message } if field == "reference" => {
            AppError::Duplicate { code, field: "provider_reference_id".into(), message }
        }
        other => other,
    })?;
    let payment = with_seed_field(&payment, "provider_reference_id", &payment.reference)?;
    finish_write(tx, json!({ "payment": payment })).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateAccountInput {
    /// The account's code in the chart (4000).
    code: String,
    name: String,
    #[serde(rename = "type")]
    account_type: AccountType,
    description: Option<String>,
    custom_fields: Option<Map<String, Value>>,
    idempotency_key: Option<String>,
}

pub(super) async fn create_accounting_account(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: CreateAccountInput = arguments(args.clone())?;
    let mut tx = begin_write(state, ctx, "create_accounting_account", input.idempotency_key.as_deref(), &args).await?;
    let account = NewLedgerAccount {
        code: input.code,
        name: input.name,
        account_type: input.account_type,
        description: input.description,
        custom_fields: input.custom_fields.map(Value::Object),
    };
    let account = ledger::create_account(&mut tx, ctx, account).await?;
    finish_write(tx, json!({ "account": account_json(&account)? })).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ListAccountsInput {
    #[serde(rename = "type")]
    account_type: Option<AccountType>,
    /// Matched against the code and name.
    query: Option<String>,
    #[schemars(range(min = 1, max = 100))]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub(super) async fn list_accounting_accounts(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: ListAccountsInput = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page =
        ledger::search_accounts(&mut tx, ctx, input.account_type, input.query.as_deref(), input.limit, input.cursor.as_deref()).await?;
    tx.commit().await?;
    let accounts: Vec<Value> = page.data.iter().map(account_json).collect::<AppResult<_>>()?;
    Ok(json!({ "accounts": accounts, "next_cursor": page.next_cursor, "request_id": request_id() }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct JournalLineInput {
    /// The account, by id (or give account_code).
    account_id: Option<Uuid>,
    /// The account, by its code in the chart.
    account_code: Option<String>,
    #[schemars(range(min = 1))]
    debit_cents: Option<i64>,
    #[schemars(range(min = 1))]
    credit_cents: Option<i64>,
    memo: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateJournalEntryInput {
    /// The client's own number for the entry (JE-1001), unique in the workspace.
    entry_number: Option<String>,
    /// posted (the default) or draft.
    status: Option<EntryStatus>,
    /// What the entry is for; "Manual entry" when absent.
    memo: Option<String>,
    lines: Vec<JournalLineInput>,
    custom_fields: Option<Map<String, Value>>,
    idempotency_key: Option<String>,
}

pub(super) async fn create_journal_entry(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: CreateJournalEntryInput = arguments(args.clone())?;
    let mut tx = begin_write(state, ctx, "create_journal_entry", input.idempotency_key.as_deref(), &args).await?;
    let entry = NewJournalEntry {
        entry_date: None,
        memo: input.memo.filter(|m| !m.trim().is_empty()).unwrap_or_else(|| "Manual entry".into()),
        currency: None,
        lines: input
            .lines
            .into_iter()
            .map(|line| NewJournalLine {
                account_id: line.account_id,
                account_code: line.account_code,
                debit_cents: line.debit_cents,
                credit_cents: line.credit_cents,
                memo: line.memo,
            })
            .collect(),
        // Agents' entries are posted unless they ask for a draft (the seed's default).
        post: false,
        status: Some(input.status.unwrap_or(EntryStatus::Posted)),
        entry_number: input.entry_number,
        custom_fields: input.custom_fields.map(Value::Object),
    };
    let entry = ledger::create_entry(&mut tx, ctx, entry).await?;
    finish_write(tx, json!({ "journal_entry": entry })).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ListJournalEntriesInput {
    status: Option<EntryStatus>,
    /// Matched against the memo and the entry number.
    query: Option<String>,
    #[schemars(range(min = 1, max = 100))]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub(super) async fn list_journal_entries(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: ListJournalEntriesInput = arguments(args)?;
    let filter = JournalFilter { q: input.query, status: input.status, limit: input.limit, cursor: input.cursor, ..Default::default() };
    let mut tx = state.db.begin_read().await?;
    let page = ledger::list_entries(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(json!({ "journal_entries": page.data, "next_cursor": page.next_cursor, "request_id": request_id() }))
}
