//! The events that start flows and that waiting runs listen for: checking
//! a trigger when a workflow is saved, and the dispatcher that turns each
//! domain event into runs (once per event and workflow) and wakes the runs
//! waiting for it.

use serde_json::{json, Value};
use uuid::Uuid;

use super::types::{Reenrollment, TriggerFilters};
use crate::error::AppResult;
use crate::platform::db::{now, Backend, Db, Tx, Q};

/// CRM and marketing events a trigger can listen for.
pub const TRIGGER_EVENTS: &[&str] = &[
    "lead.created",
    "lead.updated",
    "lead.score_crossed",
    "segment.entered",
    "segment.left",
    "form.submitted",
    "deal.stage_changed",
    "invoice.paid",
    "email.replied",
    "email.unsubscribed",
];

/// Events about a run's record that a `wait` step can wait for.
pub const WAITABLE_EVENTS: &[&str] =
    &["lead.updated", "lead.score_crossed", "email.replied", "email.unsubscribed", "form.submitted", "deal.stage_changed"];

/// The data an event carries: the input schema of the runs it starts.
pub fn payload_schema(event: &str) -> Value {
    let id = json!({"type": "string"});
    let (properties, required): (Value, &[&str]) = match event {
        "lead.created" => (
            json!({"lead_id": id, "email": {"type": "string"}, "owner_id": id, "score": {"type": "integer"}, "source": {"type": "string"}}),
            &["lead_id"],
        ),
        "lead.updated" => {
            (json!({"lead_id": id, "changed": {"type": "array"}, "owner_id": id, "score": {"type": "integer"}}), &["lead_id"])
        }
        "lead.score_crossed" => {
            (json!({"lead_id": id, "old_score": {"type": "integer"}, "new_score": {"type": "integer"}, "owner_id": id}), &["lead_id"])
        }
        "segment.entered" | "segment.left" => (json!({"lead_id": id, "segment_id": id}), &["lead_id"]),
        "form.submitted" => (json!({"lead_id": id, "form_id": id, "created": {"type": "boolean"}}), &["lead_id"]),
        "deal.stage_changed" => (
            json!({"deal_id": id, "from_stage_id": id, "to_stage_id": id, "stage_kind": {"type": "string"}, "owner_id": id,
                   "amount_cents": {"type": "integer"}, "currency": {"type": "string"}}),
            &["deal_id"],
        ),
        "invoice.paid" => (
            json!({"invoice_id": id, "number": {"type": "string"}, "company_id": id, "contact_id": id, "deal_id": id, "lead_id": id,
                   "total_cents": {"type": "integer"}, "currency": {"type": "string"}, "payment_id": id}),
            &["invoice_id"],
        ),
        "email.replied" | "email.unsubscribed" => {
            (json!({"lead_id": id, "email": {"type": "string"}, "sequence_id": id, "step_index": {"type": "integer"}}), &["lead_id"])
        }
        _ => (json!({}), &[]),
    };
    json!({"type": "object", "properties": properties, "required": required})
}

/// Whether an event's data passes a trigger's filters.
pub fn matches(filters: &TriggerFilters, data: &Value) -> bool {
    let TriggerFilters { segment_id, form_id, stage_id, threshold } = filters;
    let same = |filter: &Option<Uuid>, field: &str| filter.is_none_or(|id| data[field].as_str() == Some(id.to_string().as_str()));
    let crossed = threshold.is_none_or(|t| {
        let (old, new) = (data["old_score"].as_i64(), data["new_score"].as_i64());
        matches!((old, new), (Some(old), Some(new)) if old < t && new >= t)
    });
    same(segment_id, "segment_id") && same(form_id, "form_id") && same(stage_id, "to_stage_id") && crossed
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: Uuid,
    workspace_id: Uuid,
    event: String,
    subject_id: Option<String>,
    data: sqlx::types::Json<Value>,
}

#[derive(sqlx::FromRow)]
struct ListenerRow {
    trigger_id: Uuid,
    workflow_id: Uuid,
    published_version: i64,
    filters: sqlx::types::Json<TriggerFilters>,
    #[sqlx(try_from = "String")]
    reenrollment: Reenrollment,
}

/// One dispatch round: each pending event starts the matching workflows'
/// runs and wakes the runs waiting for it, in the transaction that marks
/// it dispatched — so an event starts a workflow once, even when two
/// processes dispatch. Answers how many events it dispatched.
pub async fn dispatch(db: &Db) -> AppResult<usize> {
    let mut tx = db.begin().await?;
    let lock = if tx.backend() == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let pending: Vec<EventRow> = tx
        .fetch_all(Q::new(format!(
            "SELECT id, workspace_id, event, subject_id, data FROM domain_events WHERE dispatched_at IS NULL \
             ORDER BY created_at, id LIMIT 200{lock}"
        )))
        .await?;
    if pending.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let at = now();
    for event in &pending {
        start_runs(&mut tx, event).await?;
        wake_waiting(&mut tx, event).await?;
        tx.execute(Q::new("UPDATE domain_events SET dispatched_at = $1 WHERE id = $2").bind(at).bind(event.id)).await?;
    }
    tx.commit().await?;
    Ok(pending.len())
}

async fn start_runs(tx: &mut Tx, event: &EventRow) -> AppResult<()> {
    let listeners: Vec<ListenerRow> = tx
        .fetch_all(
            Q::new(
                "SELECT t.id AS trigger_id, w.id AS workflow_id, w.published_version, t.filters, w.reenrollment \
                 FROM workflow_triggers t JOIN workflows w ON w.id = t.workflow_id WHERE t.workspace_id = $1 AND t.event = $2 \
                 AND t.active = TRUE AND w.status = 'active' AND w.published_version IS NOT NULL ORDER BY t.id",
            )
            .bind(event.workspace_id)
            .bind(event.event.as_str()),
        )
        .await?;
    for listener in listeners {
        if !matches(&listener.filters.0, &event.data.0) {
            continue;
        }
        if let Some(subject) = &event.subject_id {
            if !may_enroll(tx, listener.workflow_id, listener.reenrollment, subject).await? {
                continue;
            }
        }
        insert_run(
            tx,
            NewRun {
                workspace_id: event.workspace_id,
                workflow_id: listener.workflow_id,
                version: listener.published_version,
                trigger_type: &event.event,
                trigger_key: Some(format!("event:{}:{}", event.id, listener.trigger_id)),
                subject_id: event.subject_id.clone(),
                input: event.data.0.clone(),
                source: "system",
            },
        )
        .await?;
    }
    Ok(())
}

/// Re-enrollment: a record enters a workflow once ever, or again once its
/// last run there ended.
pub async fn may_enroll(tx: &mut Tx, workflow_id: Uuid, reenrollment: Reenrollment, subject: &str) -> AppResult<bool> {
    let unfinished = if reenrollment == Reenrollment::Once { "" } else { " AND finished_at IS NULL" };
    let enrolled: Option<(i64,)> = tx
        .fetch_optional(
            Q::new(format!("SELECT CAST(1 AS BIGINT) FROM workflow_runs WHERE workflow_id = $1 AND subject_id = $2{unfinished} LIMIT 1"))
                .bind(workflow_id)
                .bind(subject),
        )
        .await?;
    Ok(enrolled.is_none())
}

/// The runs of this event's record waiting for it go on at once, with the
/// event's data as their wait step's output.
async fn wake_waiting(tx: &mut Tx, event: &EventRow) -> AppResult<()> {
    let Some(subject) = &event.subject_id else { return Ok(()) };
    tx.execute(
        Q::new(
            "UPDATE workflow_runs SET woken_by = $1, next_at = $2, wait_event = NULL, updated_at = $2 WHERE workspace_id = $3 \
             AND wait_event = $4 AND subject_id = $5 AND status IN ('waiting', 'paused')",
        )
        .bind(json!({ "event": event.event, "data": event.data.0, "event_id": event.id }))
        .bind(now())
        .bind(event.workspace_id)
        .bind(event.event.as_str())
        .bind(subject.as_str()),
    )
    .await?;
    Ok(())
}

/// A run about to be queued.
pub struct NewRun<'a> {
    pub workspace_id: Uuid,
    pub workflow_id: Uuid,
    pub version: i64,
    pub trigger_type: &'a str,
    /// Unique per workflow: the same key twice is one run.
    pub trigger_key: Option<String>,
    pub subject_id: Option<String>,
    pub input: Value,
    pub source: &'a str,
}

/// Queues a run; `None` when a run with the same trigger key exists.
pub async fn insert_run(tx: &mut Tx, run: NewRun<'_>) -> AppResult<Option<Uuid>> {
    let id = Uuid::now_v7();
    let at = now();
    let inserted = tx
        .execute(
            Q::new(
                "INSERT INTO workflow_runs (id, workspace_id, workflow_id, version, status, trigger_type, trigger_key, subject_id, input, \
                 next_at, source, created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $9, $10, $9, $9) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(run.workspace_id)
            .bind(run.workflow_id)
            .bind(run.version)
            .bind(run.trigger_type)
            .bind(run.trigger_key)
            .bind(run.subject_id)
            .bind(run.input)
            .bind(at)
            .bind(run.source),
        )
        .await?;
    Ok((inserted == 1).then_some(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_trigger_fires_only_when_the_score_crosses_upwards() {
        let filters = TriggerFilters { threshold: Some(50), ..Default::default() };
        assert!(matches(&filters, &json!({"old_score": 49, "new_score": 50})));
        assert!(matches(&filters, &json!({"old_score": 10, "new_score": 90})));
        assert!(!matches(&filters, &json!({"old_score": 50, "new_score": 70})), "already over");
        assert!(!matches(&filters, &json!({"old_score": 70, "new_score": 40})), "downwards");
    }

    #[test]
    fn a_segment_trigger_fires_for_its_segment_only() {
        let segment = Uuid::now_v7();
        let filters = TriggerFilters { segment_id: Some(segment), ..Default::default() };
        assert!(matches(&filters, &json!({"lead_id": "x", "segment_id": segment.to_string()})));
        assert!(!matches(&filters, &json!({"lead_id": "x", "segment_id": Uuid::now_v7().to_string()})));
    }
}
