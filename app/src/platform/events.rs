//! Domain events: what happened to a record, written in the transaction of
//! the change itself so that an event exists exactly when its change
//! committed. Flows read them to start runs and to wake waiting runs.
//!
//! Writing an event costs a row per change, so one is written only while
//! something listens: an active trigger for that event, or a run waiting
//! for it.

use serde_json::Value;
use uuid::Uuid;

use crate::error::AppResult;
use crate::platform::db::{now, Tx, Q};

/// Whether a published, active workflow of the workspace is triggered by
/// `event`, or a run waits for it.
pub async fn has_listeners(tx: &mut Tx, workspace_id: Uuid, event: &str) -> AppResult<bool> {
    let found: Option<(i64,)> = tx
        .fetch_optional(
            Q::new(
                "SELECT CAST(1 AS BIGINT) FROM workflow_triggers WHERE workspace_id = $1 AND event = $2 AND active = TRUE \
                 UNION ALL SELECT CAST(1 AS BIGINT) FROM workflow_runs WHERE workspace_id = $1 AND wait_event = $2 AND status IN ('waiting', 'paused') \
                 LIMIT 1",
            )
            .bind(workspace_id)
            .bind(event),
        )
        .await?;
    Ok(found.is_some())
}

/// Records `event` about `subject_id` (a lead, deal or invoice id) with its
/// data. `dedup_key` names the occurrence: the same key twice is one event
/// (a retried delivery, a sweep that found the same change again).
pub async fn emit(tx: &mut Tx, workspace_id: Uuid, event: &str, subject_id: Option<Uuid>, data: Value, dedup_key: String) -> AppResult<()> {
    if !has_listeners(tx, workspace_id, event).await? {
        return Ok(());
    }
    insert(tx, workspace_id, event, subject_id.map(|s| s.to_string()), data, dedup_key).await
}

/// Records an event for which the caller has checked there are listeners.
pub async fn insert(
    tx: &mut Tx,
    workspace_id: Uuid,
    event: &str,
    subject_id: Option<String>,
    data: Value,
    dedup_key: String,
) -> AppResult<()> {
    tx.execute(
        Q::new(
            "INSERT INTO domain_events (id, workspace_id, event, subject_id, data, dedup_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(workspace_id)
        .bind(event)
        .bind(subject_id)
        .bind(data)
        .bind(dedup_key)
        .bind(now()),
    )
    .await?;
    Ok(())
}

/// A key for an occurrence that has no natural id of its own.
pub fn fresh_key(event: &str) -> String {
    format!("{event}:{}", Uuid::now_v7())
}
