//! Bringing CRM records within the number bounds when they hold values
//! stored before the bounds existed. These records are editable, so the
//! value itself is corrected: an amount no one could have meant becomes
//! zero (a deal) or unknown (a company's revenue or head count), and the
//! audit row keeps what it was.

use serde_json::json;
use uuid::Uuid;

use crate::error::AppResult;
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::types::Scope;
use crate::platform::validate::{money_in_bounds, sql_outside, BoundsRepair, MAX_EMPLOYEE_COUNT, MAX_MONEY_MINOR};

/// Repairs every out-of-bounds CRM value of the workspace; returns what it
/// did. Running it again finds nothing more to do.
pub async fn repair_out_of_bounds(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<BoundsRepair>> {
    ctx.require(Scope::CrmWrite)?;
    let mut repairs = Vec::new();
    let deals: Vec<(Uuid, i64)> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT id, amount_cents FROM deals WHERE workspace_id = $1 AND {} ORDER BY id",
                sql_outside("amount_cents", MAX_MONEY_MINOR)
            ))
            .bind(ctx.workspace_id),
        )
        .await?;
    for (id, amount) in deals {
        tx.execute(
            Q::new("UPDATE deals SET amount_cents = 0, updated_at = $3 WHERE workspace_id = $1 AND id = $2")
                .bind(ctx.workspace_id)
                .bind(id)
                .bind(now()),
        )
        .await?;
        audit::record(
            tx,
            ctx,
            "deal.bounds_repaired",
            "deal",
            Some(id),
            Some(&json!({"amount_cents": amount})),
            Some(&json!({"amount_cents": 0})),
        )
        .await?;
        repairs.push(BoundsRepair::new("deal", id, format!("amount_cents {amount} is out of bounds; set to 0")));
    }
    let companies: Vec<(Uuid, Option<i64>, Option<i64>)> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT id, annual_revenue_cents, employee_count FROM companies WHERE workspace_id = $1 AND ({} OR {}) ORDER BY id",
                sql_outside("annual_revenue_cents", MAX_MONEY_MINOR),
                sql_outside("employee_count", MAX_EMPLOYEE_COUNT)
            ))
            .bind(ctx.workspace_id),
        )
        .await?;
    for (id, revenue, employees) in companies {
        // Only the value out of bounds becomes unknown; the other is kept.
        let after = (revenue.filter(|&v| money_in_bounds(v)), employees.filter(|v| (0..=MAX_EMPLOYEE_COUNT).contains(v)));
        tx.execute(
            Q::new(
                "UPDATE companies SET annual_revenue_cents = $3, employee_count = $4, updated_at = $5 WHERE workspace_id = $1 AND id = $2",
            )
            .bind(ctx.workspace_id)
            .bind(id)
            .bind(after.0)
            .bind(after.1)
            .bind(now()),
        )
        .await?;
        audit::record(
            tx,
            ctx,
            "company.bounds_repaired",
            "company",
            Some(id),
            Some(&json!({"annual_revenue_cents": revenue, "employee_count": employees})),
            Some(&json!({"annual_revenue_cents": after.0, "employee_count": after.1})),
        )
        .await?;
        repairs.push(BoundsRepair::new("company", id, "out-of-bounds annual_revenue_cents or employee_count set to unknown"));
    }
    Ok(repairs)
}
