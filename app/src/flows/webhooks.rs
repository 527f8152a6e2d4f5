//! Signed webhooks out: a workflow's run lifecycle events (started,
//! waiting, succeeded, failed) to its `notify_url`, and `send_webhook`
//! steps. Each POST carries `X-Corral-Signature: t=…,v1=…` (HMAC-SHA256 of
//! `t.` and the body with the workflow's signing secret), `X-Corral-Event`
//! and an `Idempotency-Key`. Lifecycle events are queued in the
//! transaction of the change they report and retried with backoff.

use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::AppResult;
use crate::platform::context::Config;
use crate::platform::db::{now, Backend, Db, Tx, Q};
use crate::platform::signing::body_signature;

/// Deliveries tried this many times without a 2xx are given up.
const MAX_ATTEMPTS: i64 = 8;

/// Queues `run.{event}` for the workflow's notify URL, if it has one.
pub async fn enqueue_lifecycle(tx: &mut Tx, workflow_id: Uuid, run_id: Uuid, event: &str, data: Value) -> AppResult<()> {
    let found: Option<(Uuid, Option<String>)> =
        tx.fetch_optional(Q::new("SELECT workspace_id, notify_url FROM workflows WHERE id = $1").bind(workflow_id)).await?;
    let Some((workspace_id, Some(url))) = found else { return Ok(()) };
    let id = Uuid::now_v7();
    let at = now();
    let event = format!("run.{event}");
    let body = json!({ "id": id, "type": event, "created_at": at, "data": data });
    tx.execute(
        Q::new(
            "INSERT INTO webhook_deliveries (id, workspace_id, workflow_id, run_id, event, url, body, status, next_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8)",
        )
        .bind(id)
        .bind(workspace_id)
        .bind(workflow_id)
        .bind(run_id)
        .bind(event)
        .bind(url)
        .bind(body)
        .bind(at),
    )
    .await?;
    Ok(())
}

/// The workflow's signing secret, read without the write lock (each
/// delivery and send_webhook step needs it); a workflow older than signing
/// gets one on first use.
pub async fn secret_of(db: &Db, workflow_id: Uuid) -> AppResult<String> {
    let mut tx = db.begin_read().await?;
    let (secret,): (Option<String>,) = tx.fetch_one(Q::new("SELECT signing_secret FROM workflows WHERE id = $1").bind(workflow_id)).await?;
    tx.commit().await?;
    if let Some(secret) = secret {
        return Ok(secret);
    }
    let mut tx = db.begin().await?;
    let secret = super::workflows::stored_signing_secret(&mut tx, workflow_id, false).await?;
    tx.commit().await?;
    Ok(secret)
}

/// One signed POST; answers the status and the body (JSON when it parses).
pub async fn post_signed(
    config: &Config,
    url: &str,
    secret: &str,
    event: &str,
    idempotency_key: &str,
    body: &Value,
) -> Result<(u16, Value), String> {
    let client = crate::audience::enrichment::outbound_client(url, Duration::from_secs(30), config.enrichment_private_networks)
        .await
        .map_err(|e| e.to_string())?;
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let signature = body_signature(secret, chrono::Utc::now().timestamp(), &bytes);
    let response = client
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Corral-Signature", signature)
        .header("X-Corral-Event", event)
        .header("Idempotency-Key", idempotency_key)
        .body(bytes)
        .send()
        .await
        .map_err(|e| format!("the request failed: {e}"))?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    Ok((status, serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text))))
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: Uuid,
    workflow_id: Uuid,
    event: String,
    url: String,
    body: sqlx::types::Json<Value>,
    attempts: i64,
}

/// Sends the due deliveries (leased, so two processes do not both send);
/// answers how many it tried.
pub async fn deliver_due(db: &Db, config: &Config) -> AppResult<usize> {
    let mut tx = db.begin().await?;
    let at = now();
    let lock = if tx.backend() == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let due: Vec<DeliveryRow> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT id, workflow_id, event, url, body, attempts FROM webhook_deliveries WHERE status = 'pending' AND next_at <= $1 \
                 AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_at LIMIT 20{lock}"
            ))
            .bind(at),
        )
        .await?;
    for d in &due {
        tx.execute(
            Q::new("UPDATE webhook_deliveries SET lease_until = $1 WHERE id = $2").bind(at + chrono::Duration::seconds(60)).bind(d.id),
        )
        .await?;
    }
    tx.commit().await?;
    for d in &due {
        let secret = secret_of(db, d.workflow_id).await?;
        let result = post_signed(config, &d.url, &secret, &d.event, &d.id.to_string(), &d.body.0).await;
        let attempts = d.attempts + 1;
        let (status, error) = match result {
            Ok((code, _)) if (200..300).contains(&code) => ("delivered", None),
            Ok((code, body)) => ("pending", Some(format!("HTTP {code}: {}", body.to_string().chars().take(200).collect::<String>()))),
            Err(message) => ("pending", Some(message)),
        };
        let status = if status == "pending" && attempts >= MAX_ATTEMPTS { "failed" } else { status };
        let backoff = chrono::Duration::seconds(1i64 << attempts.clamp(0, 12));
        let mut tx = db.begin().await?;
        tx.execute(
            Q::new(
                "UPDATE webhook_deliveries SET status = $1, attempts = $2, last_error = $3, next_at = $4, lease_until = NULL, \
                 delivered_at = $5 WHERE id = $6",
            )
            .bind(status)
            .bind(attempts)
            .bind(error)
            .bind(now() + backoff)
            .bind((status == "delivered").then(now))
            .bind(d.id),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(due.len())
}
