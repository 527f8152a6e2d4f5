//! The audit trail: one row for every write, written in the same
//! transaction as the write itself so neither exists without the other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{current_request_id, AppError, AppResult};
use crate::platform::context::Ctx;
use crate::platform::db::{Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{AuditEvent, Page, Scope};

pub async fn record<B: Serialize, A: Serialize>(
    tx: &mut Tx,
    ctx: &Ctx,
    action: &str,
    entity_type: &str,
    entity_id: Option<Uuid>,
    before: Option<&B>,
    after: Option<&A>,
) -> AppResult<()> {
    let to_json = |v| serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
    tx.execute(
        Q::new(
            "INSERT INTO audit_events (id, workspace_id, actor_user_id, actor_api_key_id, action, \
             entity_type, entity_id, before_data, after_data, request_id, created_at, via) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(Uuid::now_v7())
        .bind(ctx.workspace_id)
        .bind(ctx.user_id)
        .bind(ctx.api_key_id)
        .bind(action)
        .bind(entity_type)
        .bind(entity_id)
        .bind(before.map(to_json))
        .bind(after.map(|a| serde_json::to_value(a).unwrap_or(serde_json::Value::Null)))
        .bind(current_request_id())
        .bind(crate::platform::db::now())
        .bind(ctx.via.as_str()),
    )
    .await?;
    if let (Some(key), Some(id), Some(table)) = (ctx.api_key_id, entity_id, table_with_agent_field(entity_type)) {
        // Every audited write of a CRM record by a key names the key on the
        // record (the seed's `last_agent_actor_id`); creates bind it already.
        tx.execute(
            Q::new(format!("UPDATE {table} SET last_agent_actor_id = $1 WHERE workspace_id = $2 AND id = $3"))
                .bind(key)
                .bind(ctx.workspace_id)
                .bind(id),
        )
        .await?;
    }
    Ok(())
}

/// The table of an audited entity that carries `last_agent_actor_id`.
/// Journal entries are not here: posted ones are immutable, so an entry
/// names its key when it is written and when it is posted (`ledger`).
fn table_with_agent_field(entity_type: &str) -> Option<&'static str> {
    Some(match entity_type {
        "lead" => "leads",
        "contact" => "contacts",
        "company" => "companies",
        "deal" => "deals",
        "deal_stage" => "deal_stages",
        "activity" => "activities",
        "task" => "tasks",
        "invoice" => "invoices",
        "payment" => "payments",
        "ledger_account" => "ledger_accounts",
        _ => return None,
    })
}

#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<Uuid>,
    pub action: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: Uuid,
    actor_user_id: Option<Uuid>,
    actor_api_key_id: Option<Uuid>,
    action: String,
    entity_type: String,
    entity_id: Option<Uuid>,
    before_data: Option<sqlx::types::Json<serde_json::Value>>,
    after_data: Option<sqlx::types::Json<serde_json::Value>>,
    request_id: Option<String>,
    via: Option<String>,
    created_at: DateTime<Utc>,
}

/// The audit trail, for whoever may read it: it shows every domain's
/// writes, so owners and admins among members, and API keys with any read
/// scope (a write scope implies its read scope).
pub async fn list(tx: &mut Tx, ctx: &Ctx, filter: AuditFilter) -> AppResult<Page<AuditEvent>> {
    if ctx.role.is_some() {
        ctx.require_admin()?;
    } else if !Scope::ALL.iter().any(|s| s.as_str().ends_with(":read") && ctx.require(*s).is_ok()) {
        return Err(AppError::Forbidden("this API key has no read scope".into()));
    }
    query(tx, ctx, filter).await
}

/// The trail without a permission check, for operations that show a
/// record's own history after checking their own scope (timelines).
pub(crate) async fn query(tx: &mut Tx, ctx: &Ctx, filter: AuditFilter) -> AppResult<Page<AuditEvent>> {
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(
        "SELECT id, actor_user_id, actor_api_key_id, action, entity_type, entity_id, before_data, \
         after_data, request_id, via, created_at FROM audit_events WHERE workspace_id = $1",
    )
    .bind(ctx.workspace_id);
    if let Some(entity_type) = filter.entity_type {
        let p = q.arg(entity_type);
        q.push(&format!(" AND entity_type = {p}"));
    }
    if let Some(entity_id) = filter.entity_id {
        let p = q.arg(entity_id);
        q.push(&format!(" AND entity_id = {p}"));
    }
    if let Some(action) = filter.action {
        let p = q.arg(action);
        q.push(&format!(" AND action = {p}"));
    }
    page.apply(&mut q, "id");
    let rows: Vec<AuditRow> = tx.fetch_all(q).await?;
    Ok(page.finish(
        rows,
        |r| r.id,
        |r| AuditEvent {
            id: r.id,
            actor_user_id: r.actor_user_id,
            actor_api_key_id: r.actor_api_key_id,
            action: r.action,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            before: r.before_data.map(|j| j.0),
            after: r.after_data.map(|j| j.0),
            request_id: r.request_id,
            via: r.via,
            created_at: r.created_at,
        },
    ))
}
