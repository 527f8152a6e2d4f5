//! Retention: finished runs older than their workspace's setting are
//! deleted with their traces and deliveries, dispatched events after a week,
//! settled webhook deliveries after 30 days; on SQLite the freed pages go
//! back to the file system (`auto_vacuum = INCREMENTAL`), so the database
//! does not grow without bound.

use chrono::Duration;

use crate::error::AppResult;
use crate::platform::db::{now, Backend, Db, Q};

/// How long dispatched domain events are kept (for tracing what started a run).
const EVENT_DAYS: i64 = 7;
/// How long delivered or abandoned webhook deliveries are kept.
const DELIVERY_DAYS: i64 = 30;

/// What one pass deleted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub runs: u64,
    pub events: u64,
    pub deliveries: u64,
}

pub async fn prune(db: &Db) -> AppResult<Pruned> {
    let mut tx = db.begin().await?;
    let at = now();
    let settings: Vec<(uuid::Uuid, i64)> =
        tx.fetch_all(Q::new("SELECT id, flow_run_retention_days FROM workspaces WHERE flow_run_retention_days IS NOT NULL")).await?;
    let mut pruned = Pruned::default();
    for (workspace_id, days) in settings {
        let cutoff = at - Duration::days(days);
        let old = "SELECT id FROM workflow_runs WHERE workspace_id = $1 AND finished_at < $2";
        for table in ["workflow_run_steps", "webhook_deliveries"] {
            tx.execute(Q::new(format!("DELETE FROM {table} WHERE run_id IN ({old})")).bind(workspace_id).bind(cutoff)).await?;
        }
        pruned.runs += tx.execute(Q::new(format!("DELETE FROM workflow_runs WHERE id IN ({old})")).bind(workspace_id).bind(cutoff)).await?;
    }
    pruned.events += tx.execute(Q::new("DELETE FROM domain_events WHERE dispatched_at < $1").bind(at - Duration::days(EVENT_DAYS))).await?;
    pruned.deliveries += tx
        .execute(
            Q::new("DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1").bind(at - Duration::days(DELIVERY_DAYS)),
        )
        .await?;
    tx.commit().await?;
    if db.backend() == Backend::Sqlite && pruned != Pruned::default() {
        db.reclaim_space().await?;
    }
    if pruned.runs > 0 {
        tracing::info!(runs = pruned.runs, events = pruned.events, deliveries = pruned.deliveries, "pruned finished flow runs");
    }
    Ok(pruned)
}
