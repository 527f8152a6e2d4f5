//! Invoices and payments. Sending an invoice and recording a payment post
//! their journal entries in the same transaction as the business write, so
//! the books and the invoices never disagree.

use std::collections::BTreeMap;

use chrono::Days;
use serde_json::json;
use uuid::Uuid;

use super::ledger::{self, account_for_role, today, EntrySpec, Posting};
use super::types::*;
use crate::crm::deals::ops::check_currency;
use crate::error::{AppError, AppResult};
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope};
use crate::platform::validate::{check_reference, optional_text};
use crate::platform::validate::{computed_money, in_range, money, money_in_bounds, positive_money, MAX_QUANTITY_MILLI};
use crate::platform::validate::{custom_fields_or_empty, required_text};
use crate::platform::{audit, events};

const INVOICE_COLUMNS: &str =
    "workspace_id, id, number, status, company_id, contact_id, deal_id, lead_id, currency, issue_date, due_date, \
     subtotal_cents, tax_cents, total_cents, paid_cents, total_cents - paid_cents AS balance_cents, notes, sent_at, voided_at, \
     custom_fields, created_at, updated_at, source, last_agent_actor_id";
const LINE_COLUMNS: &str = "id, position, kind, description, quantity_milli, unit_amount_cents, tax_rate_bps, amount_cents, tax_cents";
const PAYMENT_COLUMNS: &str = "workspace_id, id, invoice_id, company_id, amount_cents, currency, provider, reference, paid_at, custom_fields, created_at, source, last_agent_actor_id";

pub const MAX_LINES: usize = 200;
pub const DEFAULT_PAYMENT_TERMS_DAYS: u64 = 30;

async fn find(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Option<Invoice>> {
    let invoice: Option<Invoice> = tx
        .fetch_optional(
            Q::new(format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id),
        )
        .await?;
    match invoice {
        Some(mut invoice) => {
            invoice.lines = tx
                .fetch_all(
                    Q::new(format!(
                        "SELECT {LINE_COLUMNS} FROM invoice_lines WHERE workspace_id = $1 AND invoice_id = $2 ORDER BY position"
                    ))
                    .bind(ctx.workspace_id)
                    .bind(id),
                )
                .await?;
            Ok(Some(invoice))
        }
        None => Ok(None),
    }
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Invoice> {
    ctx.require(Scope::RevenueRead)?;
    find(tx, ctx, id).await?.ok_or(AppError::NotFound("invoice"))
}

/// Newest first; lines are left out of lists (open the invoice for them).
pub async fn list(tx: &mut Tx, ctx: &Ctx, filter: InvoiceFilter) -> AppResult<Page<Invoice>> {
    ctx.require(Scope::RevenueRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE workspace_id = $1")).bind(ctx.workspace_id);
    if let Some(status) = filter.status {
        let p = q.arg(status.as_str());
        q.push(&format!(" AND status = {p}"));
    }
    for (column, value) in [("company_id", filter.company_id), ("contact_id", filter.contact_id), ("deal_id", filter.deal_id)] {
        if let Some(value) = value {
            let p = q.arg(value);
            q.push(&format!(" AND {column} = {p}"));
        }
    }
    page.apply(&mut q, "id");
    let rows: Vec<Invoice> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |i| i.id, |i| i))
}

/// Checked lines with their computed amounts, and the invoice's totals.
struct PricedLines {
    lines: Vec<InvoiceLine>,
    subtotal_cents: i64,
    tax_cents: i64,
    total_cents: i64,
}

fn price_lines(input: Vec<NewInvoiceLine>) -> AppResult<PricedLines> {
    if input.len() > MAX_LINES {
        return Err(AppError::validation("lines", format!("an invoice holds at most {MAX_LINES} lines")));
    }
    // Each line is bounded, so these sums (at most MAX_LINES of them) stay
    // far inside i128; the totals are then held to the money bound.
    let (mut subtotal, mut tax) = (0i128, 0i128);
    let mut lines = Vec::with_capacity(input.len());
    for (i, line) in input.into_iter().enumerate() {
        let field = |name: &str| format!("lines[{i}].{name}");
        let description = line_label(line.name.as_deref(), &line.description);
        let description = required_text(&field(if line.name.is_some() { "name" } else { "description" }), &description, 500)?;
        if line.quantity_milli <= 0 {
            return Err(AppError::validation(field("quantity"), "quantity must be more than zero"));
        }
        if line.quantity_milli > MAX_QUANTITY_MILLI {
            return Err(AppError::validation(
                field("quantity"),
                format!("quantity must be at most {}", MAX_QUANTITY_MILLI / QUANTITY_SCALE),
            ));
        }
        money(&field("unit_amount_cents"), line.unit_amount_cents)?;
        in_range(&field("tax_rate_bps"), line.tax_rate_bps, 0, 10_000)?;
        let (amount, line_tax) = line_amounts(line.quantity_milli, line.unit_amount_cents, line.tax_rate_bps);
        let amount = computed_money(&field("quantity"), amount)?;
        let line_tax = computed_money(&field("tax_rate_bps"), line_tax)?;
        subtotal += amount as i128;
        tax += line_tax as i128;
        lines.push(InvoiceLine {
            id: Uuid::now_v7(),
            position: i as i64,
            kind: line.kind,
            description,
            quantity_milli: line.quantity_milli,
            unit_amount_cents: line.unit_amount_cents,
            tax_rate_bps: line.tax_rate_bps,
            amount_cents: amount,
            tax_cents: line_tax,
        });
    }
    Ok(PricedLines {
        lines,
        subtotal_cents: computed_money("lines", subtotal)?,
        tax_cents: computed_money("lines", tax)?,
        total_cents: computed_money("lines", subtotal + tax)?,
    })
}

/// Whether every stored amount of an invoice is within the money bound.
pub fn invoice_in_bounds(invoice: &Invoice) -> bool {
    [invoice.subtotal_cents, invoice.tax_cents, invoice.total_cents, invoice.paid_cents].into_iter().all(money_in_bounds)
        && invoice
            .lines
            .iter()
            .all(|l| money_in_bounds(l.unit_amount_cents) && money_in_bounds(l.amount_cents) && money_in_bounds(l.tax_cents))
}

async fn insert_lines(tx: &mut Tx, ctx: &Ctx, invoice_id: Uuid, lines: &[InvoiceLine]) -> AppResult<()> {
    for line in lines {
        tx.execute(
            Q::new(format!("INSERT INTO invoice_lines (workspace_id, invoice_id, {LINE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"))
                .bind(ctx.workspace_id)
                .bind(invoice_id)
                .bind(line.id)
                .bind(line.position)
                .bind(line.kind.as_str())
                .bind(line.description.as_str())
                .bind(line.quantity_milli)
                .bind(line.unit_amount_cents)
                .bind(line.tax_rate_bps)
                .bind(line.amount_cents)
                .bind(line.tax_cents),
        )
        .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Found {
    id: Uuid,
}

async fn number_taken(tx: &mut Tx, ctx: &Ctx, number: &str) -> AppResult<bool> {
    let found: Option<Found> = tx
        .fetch_optional(Q::new("SELECT id FROM invoices WHERE workspace_id = $1 AND number = $2").bind(ctx.workspace_id).bind(number))
        .await?;
    Ok(found.map(|f| f.id).is_some())
}

/// The given number (unique in the workspace), or the next free
/// `INV-000001`-style one.
async fn invoice_number(tx: &mut Tx, ctx: &Ctx, requested: Option<String>) -> AppResult<String> {
    if let Some(number) = requested {
        let number = required_text("number", &number, 40)?;
        if number_taken(tx, ctx, &number).await? {
            return Err(AppError::Duplicate {
                code: "duplicate_invoice_number",
                field: "number".into(),
                message: format!("invoice number {number} is already used"),
            });
        }
        return Ok(number);
    }
    loop {
        let number = format!("INV-{:06}", ledger::next_number(tx, ctx.workspace_id, "invoice").await?);
        if !number_taken(tx, ctx, &number).await? {
            return Ok(number);
        }
    }
}

#[derive(sqlx::FromRow)]
struct DealCurrency {
    currency: String,
}

pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewInvoice) -> AppResult<Invoice> {
    ctx.require(Scope::RevenueWrite)?;
    check_reference(tx, ctx, "company_id", "companies", input.company_id).await?;
    check_reference(tx, ctx, "contact_id", "contacts", input.contact_id).await?;
    check_reference(tx, ctx, "deal_id", "deals", input.deal_id).await?;
    check_reference(tx, ctx, "lead_id", "leads", input.lead_id).await?;
    let currency = match (input.currency, input.deal_id) {
        (Some(currency), _) => check_currency(Some(currency))?,
        (None, Some(deal_id)) => {
            let deal: DealCurrency = tx
                .fetch_one(Q::new("SELECT currency FROM deals WHERE workspace_id = $1 AND id = $2").bind(ctx.workspace_id).bind(deal_id))
                .await?;
            deal.currency
        }
        (None, None) => check_currency(None)?,
    };
    let issue_date = input.issue_date.unwrap_or_else(today);
    let due_date = input.due_date.unwrap_or_else(|| issue_date + Days::new(DEFAULT_PAYMENT_TERMS_DAYS));
    if due_date < issue_date {
        return Err(AppError::validation("due_date", "due_date cannot be before issue_date"));
    }
    let notes = optional_text("notes", input.notes, 5000)?;
    let priced = price_lines(input.lines)?;
    let number = invoice_number(tx, ctx, input.number).await?;
    let at = now();
    let invoice = Invoice {
        id: Uuid::now_v7(),
        workspace_id: ctx.workspace_id,
        number,
        status: InvoiceStatus::Draft,
        company_id: input.company_id,
        contact_id: input.contact_id,
        deal_id: input.deal_id,
        lead_id: input.lead_id,
        currency,
        issue_date,
        due_date,
        subtotal_cents: priced.subtotal_cents,
        tax_cents: priced.tax_cents,
        total_cents: priced.total_cents,
        paid_cents: 0,
        balance_cents: priced.total_cents,
        notes,
        sent_at: None,
        voided_at: None,
        custom_fields: custom_fields_or_empty(input.custom_fields)?,
        source: ctx.record_source().into(),
        last_agent_actor_id: ctx.api_key_id,
        created_at: at,
        updated_at: at,
        lines: priced.lines,
    };
    tx.execute(
        Q::new(
            "INSERT INTO invoices (id, workspace_id, number, status, company_id, contact_id, deal_id, lead_id, currency, \
             issue_date, due_date, subtotal_cents, tax_cents, total_cents, paid_cents, notes, created_at, updated_at, custom_fields, \
             source, last_agent_actor_id) \
             VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15, $15, $16, $17, $18)",
        )
        .bind(invoice.id)
        .bind(ctx.workspace_id)
        .bind(invoice.number.as_str())
        .bind(invoice.company_id)
        .bind(invoice.contact_id)
        .bind(invoice.deal_id)
        .bind(invoice.lead_id)
        .bind(invoice.currency.as_str())
        .bind(invoice.issue_date)
        .bind(invoice.due_date)
        .bind(invoice.subtotal_cents)
        .bind(invoice.tax_cents)
        .bind(invoice.total_cents)
        .bind(invoice.notes.clone())
        .bind(at)
        .bind(invoice.custom_fields.clone())
        .bind(invoice.source.as_str())
        .bind(invoice.last_agent_actor_id),
    )
    .await?;
    insert_lines(tx, ctx, invoice.id, &invoice.lines).await?;
    audit::record(tx, ctx, "invoice.created", "invoice", Some(invoice.id), None::<&()>, Some(&invoice)).await?;
    Ok(invoice)
}

fn not_draft(invoice: &Invoice) -> AppError {
    AppError::Conflict {
        code: "invoice_not_draft",
        message: format!("invoice {} is {}; only drafts can be changed", invoice.number, invoice.status.as_str()),
    }
}

pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: InvoicePatch) -> AppResult<Invoice> {
    ctx.require(Scope::RevenueWrite)?;
    let before = find(tx, ctx, id).await?.ok_or(AppError::NotFound("invoice"))?;
    if before.status != InvoiceStatus::Draft {
        return Err(not_draft(&before));
    }
    let mut after = before.clone();
    // A key that changes the record becomes its last agent (audit::record stores it).
    after.last_agent_actor_id = ctx.api_key_id.or(before.last_agent_actor_id);
    if let Some(company_id) = patch.company_id {
        check_reference(tx, ctx, "company_id", "companies", company_id).await?;
        after.company_id = company_id;
    }
    if let Some(contact_id) = patch.contact_id {
        check_reference(tx, ctx, "contact_id", "contacts", contact_id).await?;
        after.contact_id = contact_id;
    }
    if let Some(deal_id) = patch.deal_id {
        check_reference(tx, ctx, "deal_id", "deals", deal_id).await?;
        after.deal_id = deal_id;
    }
    if let Some(currency) = patch.currency {
        after.currency = check_currency(Some(currency))?;
    }
    if let Some(issue_date) = patch.issue_date {
        after.issue_date = issue_date;
    }
    if let Some(due_date) = patch.due_date {
        after.due_date = due_date;
    }
    if after.due_date < after.issue_date {
        return Err(AppError::validation("due_date", "due_date cannot be before issue_date"));
    }
    if let Some(notes) = patch.notes {
        after.notes = optional_text("notes", notes, 5000)?;
    }
    let new_lines = match patch.lines {
        Some(lines) => {
            let priced = price_lines(lines)?;
            after.subtotal_cents = priced.subtotal_cents;
            after.tax_cents = priced.tax_cents;
            after.total_cents = priced.total_cents;
            after.balance_cents = priced.total_cents;
            after.lines = priced.lines;
            true
        }
        None => false,
    };
    after.updated_at = now();
    let changed = tx
        .execute(
            Q::new(
                "UPDATE invoices SET company_id = $3, contact_id = $4, deal_id = $5, currency = $6, issue_date = $7, due_date = $8, \
                 notes = $9, subtotal_cents = $10, tax_cents = $11, total_cents = $12, updated_at = $13 \
                 WHERE workspace_id = $1 AND id = $2 AND status = 'draft'",
            )
            .bind(ctx.workspace_id)
            .bind(id)
            .bind(after.company_id)
            .bind(after.contact_id)
            .bind(after.deal_id)
            .bind(after.currency.as_str())
            .bind(after.issue_date)
            .bind(after.due_date)
            .bind(after.notes.clone())
            .bind(after.subtotal_cents)
            .bind(after.tax_cents)
            .bind(after.total_cents)
            .bind(after.updated_at),
        )
        .await?;
    if changed == 0 {
        return Err(not_draft(&before));
    }
    if new_lines {
        tx.execute(Q::new("DELETE FROM invoice_lines WHERE workspace_id = $1 AND invoice_id = $2").bind(ctx.workspace_id).bind(id)).await?;
        insert_lines(tx, ctx, id, &after.lines).await?;
    }
    audit::record(tx, ctx, "invoice.updated", "invoice", Some(id), Some(&before), Some(&after)).await?;
    Ok(after)
}

/// Moves an invoice from draft to sent and books it: receivable debited
/// with the total, revenue (by line kind) and sales tax credited.
pub async fn send(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Invoice> {
    ctx.require(Scope::RevenueWrite)?;
    let before = find(tx, ctx, id).await?.ok_or(AppError::NotFound("invoice"))?;
    if before.status != InvoiceStatus::Draft {
        return Err(AppError::Conflict {
            code: "invoice_not_draft",
            message: format!("invoice {} is already {}", before.number, before.status.as_str()),
        });
    }
    if before.total_cents <= 0 {
        return Err(AppError::validation("lines", "an invoice needs lines with a total above zero before it is sent"));
    }
    // A draft saved before amounts were bounded may exceed them; it never
    // reaches the books (edit its lines, or void it).
    if !invoice_in_bounds(&before) {
        return Err(AppError::validation("lines", "the invoice's amounts are above the limit of 10^15 minor units; edit its lines"));
    }
    let at = now();
    // The status condition makes a concurrent second send a no-op here.
    let changed = tx
        .execute(
            Q::new("UPDATE invoices SET status = 'sent', sent_at = $3, updated_at = $3 WHERE workspace_id = $1 AND id = $2 AND status = 'draft'")
                .bind(ctx.workspace_id)
                .bind(id)
                .bind(at),
        )
        .await?;
    if changed == 0 {
        return Err(AppError::Conflict { code: "invoice_not_draft", message: format!("invoice {} was sent already", before.number) });
    }
    let receivable = account_for_role(tx, ctx, ledger::ROLE_RECEIVABLE).await?;
    let mut revenue_by_kind: BTreeMap<&str, i64> = BTreeMap::new();
    for line in &before.lines {
        *revenue_by_kind.entry(line.kind.as_str()).or_default() += line.amount_cents;
    }
    let mut lines = vec![Posting::debit(receivable.id, before.total_cents)];
    for (kind, amount) in revenue_by_kind {
        if amount > 0 {
            let role = if kind == "product" { ledger::ROLE_PRODUCT_REVENUE } else { ledger::ROLE_SERVICE_REVENUE };
            lines.push(Posting::credit(account_for_role(tx, ctx, role).await?.id, amount));
        }
    }
    if before.tax_cents > 0 {
        lines.push(Posting::credit(account_for_role(tx, ctx, ledger::ROLE_TAX_PAYABLE).await?.id, before.tax_cents));
    }
    let entry = ledger::write_entry(
        tx,
        ctx,
        EntrySpec {
            entry_date: before.issue_date,
            memo: format!("Invoice {}", before.number),
            currency: before.currency.clone(),
            source: EntrySource::Invoice,
            invoice_id: Some(id),
            payment_id: None,
            reverses_entry_id: None,
            lines,
            post: true,
            entry_number: None,
            custom_fields: serde_json::json!({}),
        },
    )
    .await?;
    let after = find(tx, ctx, id).await?.ok_or(AppError::NotFound("invoice"))?;
    audit::record(
        tx,
        ctx,
        "invoice.sent",
        "invoice",
        Some(id),
        Some(&json!({"status": before.status})),
        Some(&json!({"status": after.status, "journal_entry_id": entry.id})),
    )
    .await?;
    Ok(after)
}

#[derive(sqlx::FromRow)]
struct EntryId {
    id: Uuid,
}

/// A draft is simply voided; a sent invoice without payments has its
/// booking reversed. One with payments cannot be voided.
pub async fn void(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Invoice> {
    ctx.require(Scope::RevenueWrite)?;
    let before = find(tx, ctx, id).await?.ok_or(AppError::NotFound("invoice"))?;
    match before.status {
        InvoiceStatus::Void => {
            return Err(AppError::Conflict { code: "invoice_void", message: format!("invoice {} is already void", before.number) })
        }
        InvoiceStatus::PartiallyPaid | InvoiceStatus::Paid => {
            return Err(AppError::Conflict {
                code: "invoice_has_payments",
                message: format!("invoice {} has payments recorded; it cannot be voided", before.number),
            })
        }
        InvoiceStatus::Draft | InvoiceStatus::Sent => {}
    }
    let at = now();
    let changed = tx
        .execute(
            Q::new(
                "UPDATE invoices SET status = 'void', voided_at = $4, updated_at = $4 \
                 WHERE workspace_id = $1 AND id = $2 AND status = $3 AND paid_cents = 0",
            )
            .bind(ctx.workspace_id)
            .bind(id)
            .bind(before.status.as_str())
            .bind(at),
        )
        .await?;
    if changed == 0 {
        return Err(AppError::Conflict {
            code: "invoice_changed",
            message: format!("invoice {} changed meanwhile; try again", before.number),
        });
    }
    let mut reversal_id = None;
    if before.status == InvoiceStatus::Sent {
        let booking: EntryId = tx
            .fetch_one(
                Q::new(
                    "SELECT id FROM journal_entries WHERE workspace_id = $1 AND invoice_id = $2 AND source = 'invoice' AND status = 'posted'",
                )
                .bind(ctx.workspace_id)
                .bind(id),
            )
            .await?;
        let original = ledger::find_entry(tx, ctx, booking.id).await?.ok_or(AppError::NotFound("journal entry"))?;
        let reversal = ledger::reverse_posted(tx, ctx, &original, Some(format!("Void of invoice {}", before.number)), None).await?;
        reversal_id = Some(reversal.id);
    }
    let after = find(tx, ctx, id).await?.ok_or(AppError::NotFound("invoice"))?;
    audit::record(
        tx,
        ctx,
        "invoice.voided",
        "invoice",
        Some(id),
        Some(&json!({"status": before.status})),
        Some(&json!({"status": after.status, "journal_entry_id": reversal_id})),
    )
    .await?;
    Ok(after)
}

// ---------------------------------------------------------------- payments

async fn find_payment_by_reference(tx: &mut Tx, ctx: &Ctx, provider: &str, reference: &str) -> AppResult<Option<Payment>> {
    Ok(tx
        .fetch_optional(
            Q::new(format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE workspace_id = $1 AND provider = $2 AND reference = $3"))
                .bind(ctx.workspace_id)
                .bind(provider)
                .bind(reference),
        )
        .await?)
}

/// Records money received. Against an invoice it may not exceed the
/// balance (the rest belongs on the customer's account); without an
/// invoice it is held as the company's credit. Either way cash is debited
/// in the same transaction.
/// A line as the customer reads it: the seed's `name`, with the
/// `description` as detail after it.
fn line_label(name: Option<&str>, description: &str) -> String {
    match (name.map(str::trim).filter(|n| !n.is_empty()), description.trim()) {
        (Some(name), "") => name.to_string(),
        (Some(name), detail) => format!("{name} — {detail}"),
        (None, _) => description.to_string(),
    }
}

pub async fn record_payment(tx: &mut Tx, ctx: &Ctx, input: NewPayment) -> AppResult<Payment> {
    ctx.require(Scope::RevenueWrite)?;
    positive_money("amount_cents", input.amount_cents)?;
    let provider = required_text("provider", input.provider.as_deref().unwrap_or("manual"), 60)?;
    let reference = optional_text("reference", input.reference, 200)?;
    if let Some(reference) = &reference {
        if let Some(existing) = find_payment_by_reference(tx, ctx, &provider, reference).await? {
            return Err(AppError::Duplicate {
                code: "duplicate_payment",
                field: "reference".into(),
                message: format!("payment {reference} from {provider} is already recorded ({})", existing.id),
            });
        }
    }
    let paid_at = input.paid_at.unwrap_or_else(now);
    let cash = account_for_role(tx, ctx, ledger::ROLE_CASH).await?;
    let at = now();
    let mut payment = Payment {
        id: Uuid::now_v7(),
        workspace_id: ctx.workspace_id,
        invoice_id: input.invoice_id,
        company_id: input.company_id,
        amount_cents: input.amount_cents,
        currency: String::new(),
        provider,
        reference,
        paid_at,
        custom_fields: custom_fields_or_empty(input.custom_fields)?,
        source: ctx.record_source().into(),
        last_agent_actor_id: ctx.api_key_id,
        created_at: at,
    };
    let (credit_account, memo, invoice_before) = match input.invoice_id {
        Some(invoice_id) => {
            let invoice = find(tx, ctx, invoice_id)
                .await?
                .ok_or_else(|| AppError::validation("invoice_id", "invoice_id does not name an existing invoice"))?;
            match invoice.status {
                InvoiceStatus::Sent | InvoiceStatus::PartiallyPaid => {}
                InvoiceStatus::Draft => {
                    return Err(AppError::Conflict {
                        code: "invoice_not_sent",
                        message: format!("invoice {} is a draft; send it first", invoice.number),
                    })
                }
                status => {
                    return Err(AppError::Conflict {
                        code: "invoice_closed",
                        message: format!("invoice {} is {}; it takes no payments", invoice.number, status.as_str()),
                    })
                }
            }
            let currency = check_currency(Some(input.currency.unwrap_or_else(|| invoice.currency.clone())))?;
            if currency != invoice.currency {
                return Err(AppError::validation("currency", format!("invoice {} is in {}", invoice.number, invoice.currency)));
            }
            if let Some(company_id) = input.company_id {
                if Some(company_id) != invoice.company_id {
                    return Err(AppError::validation("company_id", "company_id is not the invoice's company"));
                }
            }
            if payment.amount_cents > invoice.balance_cents {
                return Err(AppError::validation(
                    "amount_cents",
                    format!(
                        "amount_cents {} exceeds invoice {}'s balance of {}; record the excess as a payment on the company's account",
                        payment.amount_cents, invoice.number, invoice.balance_cents
                    ),
                ));
            }
            // The balance condition holds under concurrency: PostgreSQL
            // re-checks it on the locked row, SQLite writes one at a time.
            let changed = tx
                .execute(
                    Q::new(
                        "UPDATE invoices SET paid_cents = paid_cents + $3, \
                         status = CASE WHEN paid_cents + $3 = total_cents THEN 'paid' ELSE 'partially_paid' END, updated_at = $4 \
                         WHERE workspace_id = $1 AND id = $2 AND status IN ('sent', 'partially_paid') AND paid_cents + $3 <= total_cents",
                    )
                    .bind(ctx.workspace_id)
                    .bind(invoice_id)
                    .bind(payment.amount_cents)
                    .bind(at),
                )
                .await?;
            if changed == 0 {
                return Err(AppError::Conflict {
                    code: "invoice_changed",
                    message: format!("invoice {} changed meanwhile (another payment?); check its balance and try again", invoice.number),
                });
            }
            payment.currency = currency;
            payment.company_id = invoice.company_id;
            let receivable = account_for_role(tx, ctx, ledger::ROLE_RECEIVABLE).await?;
            (receivable, format!("Payment for invoice {}", invoice.number), Some(invoice))
        }
        None => {
            let company_id = input
                .company_id
                .ok_or_else(|| AppError::validation("invoice_id", "name the invoice paid, or the company whose account is credited"))?;
            check_reference(tx, ctx, "company_id", "companies", Some(company_id)).await?;
            payment.currency = check_currency(input.currency)?;
            let credit = account_for_role(tx, ctx, ledger::ROLE_CUSTOMER_CREDIT).await?;
            (credit, "Payment held as customer credit".to_string(), None)
        }
    };
    tx.execute(
        Q::new(format!("INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"))
            .bind(ctx.workspace_id)
            .bind(payment.id)
            .bind(payment.invoice_id)
            .bind(payment.company_id)
            .bind(payment.amount_cents)
            .bind(payment.currency.as_str())
            .bind(payment.provider.as_str())
            .bind(payment.reference.clone())
            .bind(payment.paid_at)
            .bind(payment.custom_fields.clone())
            .bind(payment.created_at)
            .bind(payment.source.as_str())
            .bind(payment.last_agent_actor_id),
    )
    .await?;
    let entry = ledger::write_entry(
        tx,
        ctx,
        EntrySpec {
            entry_date: payment.paid_at.date_naive(),
            memo,
            currency: payment.currency.clone(),
            source: EntrySource::Payment,
            invoice_id: payment.invoice_id,
            payment_id: Some(payment.id),
            reverses_entry_id: None,
            lines: vec![Posting::debit(cash.id, payment.amount_cents), Posting::credit(credit_account.id, payment.amount_cents)],
            post: true,
            entry_number: None,
            custom_fields: serde_json::json!({}),
        },
    )
    .await?;
    audit::record(
        tx,
        ctx,
        "payment.recorded",
        "payment",
        Some(payment.id),
        None::<&()>,
        Some(&json!({"payment": payment, "journal_entry_id": entry.id})),
    )
    .await?;
    if let Some(before) = invoice_before {
        let after = find(tx, ctx, before.id).await?.ok_or(AppError::NotFound("invoice"))?;
        audit::record(
            tx,
            ctx,
            "invoice.payment_applied",
            "invoice",
            Some(before.id),
            Some(&json!({"status": before.status, "paid_cents": before.paid_cents})),
            Some(&json!({"status": after.status, "paid_cents": after.paid_cents, "payment_id": payment.id})),
        )
        .await?;
        if after.status == InvoiceStatus::Paid {
            let data = json!({ "invoice_id": after.id, "number": after.number, "company_id": after.company_id,
                               "contact_id": after.contact_id, "deal_id": after.deal_id, "lead_id": after.lead_id,
                               "total_cents": after.total_cents, "currency": after.currency, "payment_id": payment.id });
            events::emit(tx, ctx.workspace_id, "invoice.paid", Some(after.id), data, format!("invoice.paid:{}", after.id)).await?;
        }
    }
    Ok(payment)
}

pub async fn list_payments(tx: &mut Tx, ctx: &Ctx, filter: PaymentFilter) -> AppResult<Page<Payment>> {
    ctx.require(Scope::RevenueRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE workspace_id = $1")).bind(ctx.workspace_id);
    for (column, value) in [("invoice_id", filter.invoice_id), ("company_id", filter.company_id)] {
        if let Some(value) = value {
            let p = q.arg(value);
            q.push(&format!(" AND {column} = {p}"));
        }
    }
    page.apply(&mut q, "id");
    let rows: Vec<Payment> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |p| p.id, |p| p))
}

pub async fn get_payment(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Payment> {
    ctx.require(Scope::RevenueRead)?;
    tx.fetch_optional(
        Q::new(format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id),
    )
    .await?
    .ok_or(AppError::NotFound("payment"))
}
