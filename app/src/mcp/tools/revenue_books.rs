//! Revenue tools beyond the seed's: single invoices and payments, drafts,
//! sending and voiding, the journal's life cycle and the books' reports.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::revenue::{account_json, invoice_json};
use super::{begin_write, finish_write, page_json, read_json, record_args, schema_with_ids, tool, Nothing};
use crate::mcp::registry::{arguments, schema_of, Operation, ToolResult};
use crate::platform::context::{AppState, Ctx};
use crate::revenue::invoices;
use crate::revenue::ledger::{self, LedgerQuery, ReverseEntry};
use crate::revenue::types::{InvoicePatch, LedgerAccountPatch, PaymentFilter};

pub(super) static TOOLS: &[Operation] = &[
    tool!(read get_invoice, RevenueRead, || schema_with_ids::<Nothing>(&[("invoice_id", "The invoice to read.")], false),
        "Read one invoice with its lines, totals and amount due."),
    tool!(write update_invoice, RevenueWrite, idempotent: true, destructive: false,
        || schema_with_ids::<InvoicePatch>(&[("invoice_id", "The draft invoice to change.")], true),
        "Change a draft invoice; `lines`, when given, replaces all of them."),
    tool!(write send_invoice, RevenueWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("invoice_id", "The draft invoice to issue.")], true),
        "Issue a draft invoice: it is numbered, sent and its receivable is booked to the ledger."),
    tool!(write void_invoice, RevenueWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("invoice_id", "The invoice to void.")], true),
        "Void an unpaid invoice; an issued one's receivable is reversed in the ledger."),
    tool!(read list_payments, RevenueRead, schema_of::<PaymentFilter>, "List payments by invoice or company."),
    tool!(read get_payment, RevenueRead, || schema_with_ids::<Nothing>(&[("payment_id", "The payment to read.")], false),
        "Read one payment."),
    tool!(read get_accounting_account, RevenueRead, || schema_with_ids::<Nothing>(&[("account_id", "The account to read.")], false),
        "Read one account of the chart of accounts."),
    tool!(write update_accounting_account, RevenueWrite, idempotent: true, destructive: false,
        || schema_with_ids::<LedgerAccountPatch>(&[("account_id", "The account to change.")], true),
        "Rename an account or archive it."),
    tool!(read get_account_ledger, RevenueRead, || schema_with_ids::<LedgerQuery>(&[("account_id", "The account.")], false),
        "An account's posted lines with the running balance."),
    tool!(read get_journal_entry, RevenueRead, || schema_with_ids::<Nothing>(&[("entry_id", "The journal entry to read.")], false),
        "Read one journal entry with its lines."),
    tool!(write post_journal_entry, RevenueWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("entry_id", "The draft entry to post.")], true),
        "Post a balanced draft journal entry to the ledger."),
    tool!(write delete_journal_entry, RevenueWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("entry_id", "The draft entry to delete.")], true),
        "Delete a draft journal entry (posted entries are reversed, never deleted)."),
    tool!(write reverse_journal_entry, RevenueWrite, idempotent: false, destructive: false,
        || schema_with_ids::<ReverseEntry>(&[("entry_id", "The posted entry to reverse.")], true),
        "Post the mirror image of a posted entry, cancelling its effect on every balance."),
    tool!(read get_trial_balance, RevenueRead, schema_of::<AsOfInput>, "Every account's debit and credit totals as of a date, per currency."),
    tool!(read get_receivables_aging, RevenueRead, schema_of::<AsOfInput>,
        "Open invoices by how long they are overdue (current, 1–30, 31–60, 61–90, over 90 days)."),
];

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AsOfInput {
    /// The day the report is for (YYYY-MM-DD); today when absent.
    as_of: Option<NaiveDate>,
}

pub(super) async fn get_invoice(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["invoice_id"])?;
    let mut tx = state.db.begin_read().await?;
    let invoice = invoices::get(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("invoice", invoice_json(&invoice)?))
}

pub(super) async fn update_invoice(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<InvoicePatch>(args, &["invoice_id"])?;
    let mut tx = begin_write(state, ctx, "update_invoice", args.idempotency_key.as_deref(), &args.request).await?;
    let invoice = invoices::update(&mut tx, ctx, args.ids[0], args.input).await?;
    finish_write(tx, json!({ "invoice": invoice_json(&invoice)? })).await
}

pub(super) async fn send_invoice(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["invoice_id"])?;
    let mut tx = begin_write(state, ctx, "send_invoice", args.idempotency_key.as_deref(), &args.request).await?;
    let invoice = invoices::send(&mut tx, ctx, args.ids[0]).await?;
    finish_write(tx, json!({ "invoice": invoice_json(&invoice)? })).await
}

pub(super) async fn void_invoice(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["invoice_id"])?;
    let mut tx = begin_write(state, ctx, "void_invoice", args.idempotency_key.as_deref(), &args.request).await?;
    let invoice = invoices::void(&mut tx, ctx, args.ids[0]).await?;
    finish_write(tx, json!({ "invoice": invoice_json(&invoice)? })).await
}

pub(super) async fn list_payments(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let filter: PaymentFilter = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = invoices::list_payments(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(page_json("payments", page))
}

pub(super) async fn get_payment(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["payment_id"])?;
    let mut tx = state.db.begin_read().await?;
    let payment = invoices::get_payment(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("payment", payment))
}

pub(super) async fn get_accounting_account(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["account_id"])?;
    let mut tx = state.db.begin_read().await?;
    let account = ledger::get_account(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("account", account_json(&account)?))
}

pub(super) async fn update_accounting_account(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<LedgerAccountPatch>(args, &["account_id"])?;
    let mut tx = begin_write(state, ctx, "update_accounting_account", args.idempotency_key.as_deref(), &args.request).await?;
    let account = ledger::update_account(&mut tx, ctx, args.ids[0], args.input).await?;
    finish_write(tx, json!({ "account": account_json(&account)? })).await
}

pub(super) async fn get_account_ledger(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<LedgerQuery>(args, &["account_id"])?;
    let mut tx = state.db.begin_read().await?;
    let ledger = ledger::account_ledger(&mut tx, ctx, args.ids[0], args.input).await?;
    tx.commit().await?;
    Ok(read_json("ledger", ledger))
}

pub(super) async fn get_journal_entry(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["entry_id"])?;
    let mut tx = state.db.begin_read().await?;
    let entry = ledger::get_entry(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("journal_entry", entry))
}

pub(super) async fn post_journal_entry(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["entry_id"])?;
    let mut tx = begin_write(state, ctx, "post_journal_entry", args.idempotency_key.as_deref(), &args.request).await?;
    let entry = ledger::post_entry(&mut tx, ctx, args.ids[0]).await?;
    finish_write(tx, json!({ "journal_entry": entry })).await
}

pub(super) async fn delete_journal_entry(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["entry_id"])?;
    let mut tx = begin_write(state, ctx, "delete_journal_entry", args.idempotency_key.as_deref(), &args.request).await?;
    let entry = ledger::delete_draft(&mut tx, ctx, args.ids[0]).await?;
    finish_write(tx, json!({ "journal_entry": entry })).await
}

pub(super) async fn reverse_journal_entry(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<ReverseEntry>(args, &["entry_id"])?;
    let mut tx = begin_write(state, ctx, "reverse_journal_entry", args.idempotency_key.as_deref(), &args.request).await?;
    let entry = ledger::reverse_entry(&mut tx, ctx, args.ids[0], args.input).await?;
    finish_write(tx, json!({ "journal_entry": entry })).await
}

pub(super) async fn get_trial_balance(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: AsOfInput = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let trial_balance = ledger::trial_balance(&mut tx, ctx, input.as_of).await?;
    tx.commit().await?;
    Ok(read_json("trial_balance", trial_balance))
}

pub(super) async fn get_receivables_aging(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: AsOfInput = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let aging = ledger::receivables_aging(&mut tx, ctx, input.as_of).await?;
    tx.commit().await?;
    Ok(read_json("aging", aging))
}
