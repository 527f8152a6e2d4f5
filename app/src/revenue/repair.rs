//! Bringing a workspace's books within the money bounds when they hold
//! amounts stored before the bounds existed. Posted entries are never
//! edited: each out-of-bounds booking is cancelled by a correcting
//! (reversing) entry, and the documents behind it are voided, so the
//! balances come back within bounds and the history shows what happened.

use serde_json::json;
use uuid::Uuid;

use super::invoices;
use super::ledger::{self, find_entry};
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::types::Scope;
use crate::platform::validate::{sql_outside, BoundsRepair, MAX_MONEY_MINOR};

/// `{column}` outside the money bound, as SQL.
fn out_of_bounds(column: &str) -> String {
    sql_outside(column, MAX_MONEY_MINOR)
}

/// Posted entries of `source` tied to `column = id` that no entry reverses yet.
async fn unreversed_bookings(tx: &mut Tx, ctx: &Ctx, source: &str, column: &str, id: Uuid) -> AppResult<Vec<(Uuid,)>> {
    Ok(tx
        .fetch_all(
            Q::new(format!(
                "SELECT e.id FROM journal_entries e WHERE e.workspace_id = $1 AND e.{column} = $2 AND e.source = $3 \
                 AND e.status = 'posted' AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses_entry_id = e.id)"
            ))
            .bind(ctx.workspace_id)
            .bind(id)
            .bind(source),
        )
        .await?)
}

/// Reverses one posted entry with a correcting entry; returns its id.
async fn correct(tx: &mut Tx, ctx: &Ctx, entry_id: Uuid, memo: String) -> AppResult<Uuid> {
    let original = find_entry(tx, ctx, entry_id).await?.ok_or(AppError::NotFound("journal entry"))?;
    let reversal = ledger::reverse_posted(tx, ctx, &original, Some(memo), None).await?;
    audit::record(tx, ctx, "journal_entry.reversed", "journal_entry", Some(entry_id), Some(&original), Some(&reversal)).await?;
    Ok(reversal.id)
}

/// Cancels a payment's booking with a correcting entry (the payment stays
/// on record; its booking's reversal shows it no longer counts).
async fn reverse_payment(tx: &mut Tx, ctx: &Ctx, payment_id: Uuid, why: &str) -> AppResult<Option<Uuid>> {
    let mut reversal = None;
    for (entry_id,) in unreversed_bookings(tx, ctx, "payment", "payment_id", payment_id).await? {
        reversal = Some(correct(tx, ctx, entry_id, format!("Bounds repair: {why}")).await?);
    }
    if let Some(reversal_id) = reversal {
        audit::record(
            tx,
            ctx,
            "payment.reversed",
            "payment",
            Some(payment_id),
            None::<&()>,
            Some(&json!({"reason": why, "journal_entry_id": reversal_id})),
        )
        .await?;
    }
    Ok(reversal)
}

/// Repairs every out-of-bounds revenue row of the workspace; returns what
/// it did. Running it again finds nothing more to do.
pub async fn repair_out_of_bounds(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<BoundsRepair>> {
    ctx.require(Scope::RevenueWrite)?;
    let mut repairs = Vec::new();

    // Invoices: their payments' bookings are reversed, then the invoice is
    // voided, which reverses its own booking.
    let invoice_ids: Vec<(Uuid,)> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT i.id FROM invoices i WHERE i.workspace_id = $1 AND i.status <> 'void' AND ({} OR {} OR {} OR {} \
                 OR EXISTS (SELECT 1 FROM invoice_lines l WHERE l.invoice_id = i.id AND ({} OR {} OR {}))) ORDER BY i.id",
                out_of_bounds("i.subtotal_cents"),
                out_of_bounds("i.tax_cents"),
                out_of_bounds("i.total_cents"),
                out_of_bounds("i.paid_cents"),
                out_of_bounds("l.unit_amount_cents"),
                out_of_bounds("l.amount_cents"),
                out_of_bounds("l.tax_cents"),
            ))
            .bind(ctx.workspace_id),
        )
        .await?;
    for (invoice_id,) in invoice_ids {
        let invoice = invoices::get(tx, ctx, invoice_id).await?;
        if invoice.paid_cents != 0 {
            let payments: Vec<(Uuid,)> = tx
                .fetch_all(
                    Q::new("SELECT id FROM payments WHERE workspace_id = $1 AND invoice_id = $2 ORDER BY id")
                        .bind(ctx.workspace_id)
                        .bind(invoice_id),
                )
                .await?;
            for (payment_id,) in payments {
                reverse_payment(tx, ctx, payment_id, &format!("payment of out-of-bounds invoice {}", invoice.number)).await?;
            }
            tx.execute(
                Q::new("UPDATE invoices SET paid_cents = 0, status = 'sent', updated_at = $3 WHERE workspace_id = $1 AND id = $2")
                    .bind(ctx.workspace_id)
                    .bind(invoice_id)
                    .bind(now()),
            )
            .await?;
            audit::record(
                tx,
                ctx,
                "invoice.payments_reversed",
                "invoice",
                Some(invoice_id),
                Some(&json!({"status": invoice.status, "paid_cents": invoice.paid_cents})),
                Some(&json!({"status": "sent", "paid_cents": 0})),
            )
            .await?;
        }
        invoices::void(tx, ctx, invoice_id).await?;
        repairs.push(BoundsRepair::new(
            "invoice",
            invoice_id,
            format!("voided invoice {} (amounts out of bounds); its bookings reversed", invoice.number),
        ));
    }

    // Payments held as customer credit (or left over above).
    let payment_ids: Vec<(Uuid, i64)> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT id, amount_cents FROM payments WHERE workspace_id = $1 AND {} ORDER BY id",
                out_of_bounds("amount_cents")
            ))
            .bind(ctx.workspace_id),
        )
        .await?;
    for (payment_id, amount) in payment_ids {
        if let Some(reversal_id) =
            reverse_payment(tx, ctx, payment_id, &format!("payment of {amount} minor units is out of bounds")).await?
        {
            repairs.push(BoundsRepair::new("payment", payment_id, format!("booking reversed by entry {reversal_id}")));
        }
    }

    // Manual entries with a line out of bounds.
    let entry_ids: Vec<(Uuid, i64)> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT DISTINCT e.id, e.number FROM journal_entries e JOIN journal_lines l ON l.entry_id = e.id \
                 WHERE e.workspace_id = $1 AND e.source = 'manual' AND e.status = 'posted' AND ({} OR {}) \
                 AND NOT EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses_entry_id = e.id) ORDER BY e.number",
                out_of_bounds("l.debit_cents"),
                out_of_bounds("l.credit_cents"),
            ))
            .bind(ctx.workspace_id),
        )
        .await?;
    for (entry_id, number) in entry_ids {
        let reversal_id = correct(tx, ctx, entry_id, format!("Bounds repair: entry {number} holds an amount out of bounds")).await?;
        repairs.push(BoundsRepair::new("journal_entry", entry_id, format!("entry {number} reversed by entry {reversal_id}")));
    }
    Ok(repairs)
}
