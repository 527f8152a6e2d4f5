//! External triggers: the rows that make an event (narrowed by filters) or
//! a signed inbound webhook start runs of a workflow.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::events::{payload_schema, TRIGGER_EVENTS};
use super::types::*;
use super::workflows;
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::types::Scope;

/// What a webhook trigger listens for.
pub const WEBHOOK_EVENT: &str = "webhook.received";

#[derive(sqlx::FromRow)]
pub(super) struct TriggerRow {
    pub id: Uuid,
    pub workflow_id: Uuid,
    #[sqlx(try_from = "String")]
    pub kind: TriggerKind,
    pub event: String,
    pub filters: sqlx::types::Json<TriggerFilters>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(super) const TRIGGER_COLUMNS: &str = "id, workflow_id, kind, event, filters, active, created_at, updated_at";

impl From<TriggerRow> for ExternalTrigger {
    fn from(r: TriggerRow) -> ExternalTrigger {
        ExternalTrigger {
            id: r.id,
            workflow_id: r.workflow_id,
            kind: r.kind,
            webhook_path: (r.kind == TriggerKind::Webhook).then(|| format!("/api/v1/flows/hooks/{}", r.id)),
            event: r.event,
            filters: r.filters.0,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub(super) async fn of_workflow(tx: &mut Tx, ctx: &Ctx, workflow_id: Uuid) -> AppResult<Vec<ExternalTrigger>> {
    let rows: Vec<TriggerRow> = tx
        .fetch_all(
            Q::new(format!("SELECT {TRIGGER_COLUMNS} FROM workflow_triggers WHERE workspace_id = $1 AND workflow_id = $2 ORDER BY id"))
                .bind(ctx.workspace_id)
                .bind(workflow_id),
        )
        .await?;
    Ok(rows.into_iter().map(ExternalTrigger::from).collect())
}

async fn row(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<ExternalTrigger> {
    let row: Option<TriggerRow> = tx
        .fetch_optional(
            Q::new(format!("SELECT {TRIGGER_COLUMNS} FROM workflow_triggers WHERE workspace_id = $1 AND id = $2"))
                .bind(ctx.workspace_id)
                .bind(id),
        )
        .await?;
    row.map(ExternalTrigger::from).ok_or(AppError::NotFound("trigger"))
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<ExternalTrigger> {
    ctx.require(Scope::FlowsRead)?;
    row(tx, ctx, id).await
}

/// The workspace's triggers (at most 500: a workspace has few), by workflow
/// and event.
pub async fn list(tx: &mut Tx, ctx: &Ctx, filter: TriggerFilter) -> AppResult<Vec<ExternalTrigger>> {
    ctx.require(Scope::FlowsRead)?;
    let mut q = Q::new(format!("SELECT {TRIGGER_COLUMNS} FROM workflow_triggers WHERE workspace_id = $1")).bind(ctx.workspace_id);
    if let Some(workflow_id) = filter.workflow_id {
        let p = q.arg(workflow_id);
        q.push(&format!(" AND workflow_id = {p}"));
    }
    if let Some(event) = filter.event {
        let p = q.arg(event);
        q.push(&format!(" AND event = {p}"));
    }
    q.push(" ORDER BY id LIMIT 500");
    let rows: Vec<TriggerRow> = tx.fetch_all(q).await?;
    Ok(rows.into_iter().map(ExternalTrigger::from).collect())
}

/// Adds a trigger. An event's data becomes the runs' input, so each input
/// the workflow requires must be one the event carries.
pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewTrigger) -> AppResult<ExternalTrigger> {
    ctx.require(Scope::FlowsWrite)?;
    let workflow =
        workflows::workflow_row(tx, ctx, input.workflow_id).await.map_err(|_| AppError::validation("workflow_id", "no such workflow"))?;
    let kind = input.kind.unwrap_or(TriggerKind::Event);
    let filters = input.filters.unwrap_or_default();
    let event = match kind {
        TriggerKind::Webhook => {
            if input.event.is_some() || filters != TriggerFilters::default() {
                return Err(AppError::validation("event", "a webhook trigger takes no event or filters: the POST is the event"));
            }
            WEBHOOK_EVENT.to_string()
        }
        TriggerKind::Event => {
            let event = input.event.ok_or_else(|| AppError::validation("event", "name the event"))?;
            check_filters(tx, ctx, &event, &filters).await?;
            let carried = payload_schema(&event);
            for name in workflow.input_schema["required"].as_array().into_iter().flatten().filter_map(|n| n.as_str()) {
                if carried["properties"].get(name).is_none() {
                    return Err(AppError::validation(
                        "event",
                        format!("the workflow requires input {name:?}, which {event} does not carry"),
                    ));
                }
            }
            event
        }
    };
    let id = Uuid::now_v7();
    let at = now();
    tx.execute(
        Q::new(
            "INSERT INTO workflow_triggers (id, workspace_id, workflow_id, kind, event, filters, active, source, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8, $8)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(workflow.id)
        .bind(kind.as_str())
        .bind(event)
        .bind(json!(filters))
        .bind(ctx.record_source())
        .bind(at),
    )
    .await?;
    let created = row(tx, ctx, id).await?;
    audit::record(tx, ctx, "workflow_trigger.created", "workflow_trigger", Some(id), None::<&()>, Some(&created)).await?;
    Ok(created)
}

pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: TriggerPatch) -> AppResult<ExternalTrigger> {
    ctx.require(Scope::FlowsWrite)?;
    let before = row(tx, ctx, id).await?;
    let Some(active) = patch.active.filter(|a| *a != before.active) else { return Ok(before) };
    tx.execute(
        Q::new("UPDATE workflow_triggers SET active = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4")
            .bind(active)
            .bind(now())
            .bind(ctx.workspace_id)
            .bind(id),
    )
    .await?;
    let after = row(tx, ctx, id).await?;
    audit::record(tx, ctx, "workflow_trigger.updated", "workflow_trigger", Some(id), Some(&before), Some(&after)).await?;
    Ok(after)
}

pub async fn delete(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<ExternalTrigger> {
    ctx.require(Scope::FlowsWrite)?;
    let before = row(tx, ctx, id).await?;
    tx.execute(Q::new("DELETE FROM workflow_triggers WHERE workspace_id = $1 AND id = $2").bind(ctx.workspace_id).bind(id)).await?;
    audit::record(tx, ctx, "workflow_trigger.deleted", "workflow_trigger", Some(id), Some(&before), None::<&()>).await?;
    Ok(before)
}

/// The event is one Corral emits, and its filters fit the event and name
/// records of the workspace.
async fn check_filters(tx: &mut Tx, ctx: &Ctx, event: &str, filters: &TriggerFilters) -> AppResult<()> {
    if !TRIGGER_EVENTS.contains(&event) {
        return Err(AppError::validation("event", format!("{event:?} is not an event: one of {}", TRIGGER_EVENTS.join(", "))));
    }
    let fits = |field: &str, set: bool, events: &[&str]| -> AppResult<()> {
        if set && !events.contains(&event) {
            return Err(AppError::validation(format!("filters.{field}"), format!("{field} applies to {} only", events.join(" and "))));
        }
        Ok(())
    };
    fits("segment_id", filters.segment_id.is_some(), &["segment.entered", "segment.left"])?;
    fits("form_id", filters.form_id.is_some(), &["form.submitted"])?;
    fits("stage_id", filters.stage_id.is_some(), &["deal.stage_changed"])?;
    fits("threshold", filters.threshold.is_some(), &["lead.score_crossed"])?;
    if event == "lead.score_crossed" && filters.threshold.is_none() {
        return Err(AppError::validation("filters.threshold", "lead.score_crossed needs the threshold the score crosses"));
    }
    for (field, table, id, extra) in [
        ("segment_id", "lists", filters.segment_id, " AND kind = 'segment'"),
        ("form_id", "capture_forms", filters.form_id, ""),
        ("stage_id", "deal_stages", filters.stage_id, ""),
    ] {
        let Some(id) = id else { continue };
        let found: Option<(i64,)> = tx
            .fetch_optional(
                Q::new(format!("SELECT CAST(1 AS BIGINT) FROM {table} WHERE workspace_id = $1 AND id = $2{extra}"))
                    .bind(ctx.workspace_id)
                    .bind(id),
            )
            .await?;
        if found.is_none() {
            return Err(AppError::validation(format!("filters.{field}"), format!("no such {}", field.trim_end_matches("_id"))));
        }
    }
    Ok(())
}
