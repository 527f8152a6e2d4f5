//! Publish jobs: queued in the transaction that asked for the publish, due
//! now or at the scheduled time, leased by one process (PostgreSQL: `FOR
//! UPDATE SKIP LOCKED`), and retried with backoff. The approval's digest is
//! checked again right before the CMS is called.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::posts::find_row;
use super::types::*;
use super::{cms, connectors};
use crate::error::{AppError, AppResult};
use crate::platform::context::{Config, Ctx};
use crate::platform::db::{now, Backend, Db, Tx, Q};

/// Attempts before a publish gives up (backoff 2 s, 4 s, 8 s, 16 s); the
/// post is then `failed` and can be published again.
pub const MAX_ATTEMPTS: i64 = 5;

pub async fn enqueue(tx: &mut Tx, workspace_id: Uuid, post_id: Uuid, due: DateTime<Utc>) -> AppResult<()> {
    tx.execute(
        Q::new("UPDATE blog_publish_jobs SET status = 'cancelled', finished_at = $1 WHERE post_id = $2 AND status = 'queued'")
            .bind(now())
            .bind(post_id),
    )
    .await?;
    tx.execute(
        Q::new("INSERT INTO blog_publish_jobs (id, workspace_id, post_id, status, attempts, due_at, created_at) VALUES ($1, $2, $3, 'queued', 0, $4, $5)")
            .bind(Uuid::now_v7())
            .bind(workspace_id)
            .bind(post_id)
            .bind(due)
            .bind(now()),
    )
    .await?;
    Ok(())
}

pub async fn recent(tx: &mut Tx, post_id: Uuid) -> AppResult<Vec<PublishJob>> {
    Ok(tx
        .fetch_all(
            Q::new("SELECT id, status, attempts, due_at, last_error, created_at, finished_at FROM blog_publish_jobs WHERE post_id = $1 ORDER BY id DESC LIMIT 10")
                .bind(post_id),
        )
        .await?)
}

async fn claim(db: &Db, config: &Config, worker: &str) -> AppResult<Option<(Uuid, Uuid, Uuid, i64)>> {
    // An idle worker looks in a read transaction first: SQLite's write
    // lock is taken only when there is work to lease.
    let mut probe = db.begin_read().await?;
    let due: Option<(Uuid,)> = probe
        .fetch_optional(
            Q::new("SELECT id FROM blog_publish_jobs WHERE (status = 'queued' AND due_at <= $1) OR (status = 'running' AND lease_until < $1) LIMIT 1")
                .bind(now()),
        )
        .await?;
    probe.commit().await?;
    if due.is_none() {
        return Ok(None);
    }
    let mut tx = db.begin().await?;
    let at = now();
    let lock = if tx.backend() == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let found: Option<(Uuid, Uuid, Uuid, i64)> = tx
        .fetch_optional(
            Q::new(format!(
                "SELECT id, workspace_id, post_id, attempts FROM blog_publish_jobs WHERE (status = 'queued' AND due_at <= $1) \
                 OR (status = 'running' AND lease_until < $1) ORDER BY due_at, id LIMIT 1{lock}"
            ))
            .bind(at),
        )
        .await?;
    if let Some((id, ..)) = found {
        let until = at + chrono::Duration::from_std(config.job_lease).unwrap_or_default();
        tx.execute(
            Q::new("UPDATE blog_publish_jobs SET status = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1 WHERE id = $3")
                .bind(worker)
                .bind(until)
                .bind(id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(found.map(|(id, w, p, attempts)| (id, w, p, attempts + 1)))
}

/// Publishes the post if its approval still covers it.
async fn run(db: &Db, config: &Config, workspace_id: Uuid, post_id: Uuid) -> AppResult<Option<cms::Published>> {
    let mut tx = db.begin_read().await?;
    let post = find_row(&mut tx, workspace_id, post_id).await?.ok_or(AppError::NotFound("blog post"))?;
    if !matches!(post.status, BlogPostStatus::Scheduled | BlogPostStatus::Publishing) {
        tx.commit().await?;
        return Ok(None);
    }
    if !post.approval_holds() {
        return Err(AppError::Conflict { code: "not_approved", message: "the post changed after approval; nothing was published".into() });
    }
    let connector_id = post.connector_id.ok_or_else(|| AppError::validation("connector_id", "the post has no CMS connector"))?;
    let connector = connectors::find(&mut tx, workspace_id, connector_id).await?.ok_or(AppError::NotFound("blog connector"))?;
    tx.commit().await?;
    let published =
        cms::publish(&connector.to_connector(), &connector.secret(), &post.to_post(), config.enrichment_private_networks).await?;
    Ok(Some(published))
}

async fn finish(db: &Db, job: (Uuid, Uuid, Uuid, i64), worker: &str, outcome: AppResult<Option<cms::Published>>) -> AppResult<()> {
    let (id, workspace_id, post_id, attempts) = job;
    let mut tx = db.begin().await?;
    let held: Option<(Uuid,)> = tx
        .fetch_optional(
            Q::new("SELECT id FROM blog_publish_jobs WHERE id = $1 AND lease_owner = $2 AND status = 'running'").bind(id).bind(worker),
        )
        .await?;
    if held.is_none() {
        return Ok(());
    }
    let at = now();
    let ctx = Ctx::system(workspace_id);
    match outcome {
        Ok(published) => {
            tx.execute(
                Q::new(
                    "UPDATE blog_publish_jobs SET status = 'done', finished_at = $1, lease_owner = NULL, last_error = NULL WHERE id = $2",
                )
                .bind(at)
                .bind(id),
            )
            .await?;
            if let Some(p) = published {
                tx.execute(
                    Q::new(
                        "UPDATE blog_posts SET status = 'published', status_reason = NULL, external_id = $1, published_url = $2, published_at = $3, \
                         updated_at = $3 WHERE id = $4",
                    )
                    .bind(p.external_id.as_str())
                    .bind(p.url.as_str())
                    .bind(at)
                    .bind(post_id),
                )
                .await?;
                crate::platform::audit::record(
                    &mut tx,
                    &ctx,
                    "blog_post.published",
                    "blog_post",
                    Some(post_id),
                    None::<&()>,
                    Some(&serde_json::json!({ "external_id": p.external_id, "url": p.url })),
                )
                .await?;
            }
        }
        Err(error) => {
            let message = error.public_message();
            let gave_up = attempts >= MAX_ATTEMPTS || matches!(error, AppError::Conflict { .. } | AppError::Validation { .. });
            if gave_up {
                tx.execute(
                    Q::new("UPDATE blog_publish_jobs SET status = 'failed', finished_at = $1, lease_owner = NULL, last_error = $2 WHERE id = $3")
                        .bind(at)
                        .bind(message.as_str())
                        .bind(id),
                )
                .await?;
                tx.execute(
                    Q::new("UPDATE blog_posts SET status = 'failed', status_reason = $1, updated_at = $2 WHERE id = $3 AND status IN ('scheduled', 'publishing')")
                        .bind(format!("publishing failed after {attempts} attempt(s): {message}"))
                        .bind(at)
                        .bind(post_id),
                )
                .await?;
            } else {
                let due = at + chrono::Duration::seconds(1 << attempts.min(10));
                tx.execute(
                    Q::new("UPDATE blog_publish_jobs SET status = 'queued', due_at = $1, lease_owner = NULL, lease_until = NULL, last_error = $2 WHERE id = $3")
                        .bind(due)
                        .bind(message.as_str())
                        .bind(id),
                )
                .await?;
                tx.execute(
                    Q::new("UPDATE blog_posts SET status = 'publishing', status_reason = $1, updated_at = $2 WHERE id = $3 AND status IN ('scheduled', 'publishing')")
                        .bind(format!("{message} (attempt {attempts} of {MAX_ATTEMPTS}; retrying)"))
                        .bind(at)
                        .bind(post_id),
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

pub fn spawn_worker(db: Db, config: Config) -> tokio::task::JoinHandle<()> {
    let worker = format!("blog-{}", Uuid::now_v7().simple());
    tokio::spawn(async move {
        loop {
            match claim(&db, &config, &worker).await {
                Ok(Some(job)) => {
                    // A scheduled post shows as publishing while its job runs.
                    if let Ok(mut tx) = db.begin().await {
                        let _ = tx
                            .execute(
                                Q::new("UPDATE blog_posts SET status = 'publishing' WHERE id = $1 AND status = 'scheduled'").bind(job.2),
                            )
                            .await;
                        let _ = tx.commit().await;
                    }
                    let outcome = run(&db, &config, job.1, job.2).await;
                    if let Err(error) = &outcome {
                        tracing::warn!(%error, post = %job.2, "publishing a blog post failed");
                    }
                    if let Err(error) = finish(&db, job, &worker, outcome).await {
                        tracing::warn!(%error, "recording a publish job's outcome failed");
                    }
                }
                Ok(None) => tokio::time::sleep(config.outbox_poll).await,
                Err(error) => {
                    tracing::warn!(%error, "claiming a publish job failed; retrying");
                    tokio::time::sleep(config.outbox_poll).await;
                }
            }
        }
    })
}
