//! The ad worker: platform work queued in the transaction of the change
//! that asked for it (launch, pause, resume, cancel, budget, metric sync),
//! leased by one process at a time (PostgreSQL: `FOR UPDATE SKIP LOCKED`),
//! run in order per campaign, retried with backoff.
//!
//! A launch saves each step's result as soon as the platform answers
//! (campaign created, audience uploaded), so a retry after a crash carries
//! on from there instead of creating a second campaign.

use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};
use uuid::Uuid;

use super::campaigns::{creatives_of, find_row, AdCampaignRow};
use super::platforms::{self, AdPlatform, CampaignSpec, ExternalCampaign, PlatformStatus};
use super::types::*;
use super::{accounts, audience};
use crate::error::{AppError, AppResult};
use crate::platform::context::{Config, Ctx};
use crate::platform::db::{now, Backend, Db, Tx, Q};

/// Attempts before a job gives up (backoff 2 s, 4 s, 8 s, 16 s).
pub const MAX_ATTEMPTS: i64 = 5;

text_enum!(JobKind {
    Launch => "launch",
    SetStatus => "set_status",
    SetBudget => "set_budget",
    SyncMetrics => "sync_metrics",
});

pub async fn enqueue(tx: &mut Tx, workspace_id: Uuid, ad_campaign_id: Uuid, kind: JobKind, payload: Value) -> AppResult<()> {
    tx.execute(
        Q::new(
            "INSERT INTO ad_jobs (id, workspace_id, ad_campaign_id, kind, payload, status, attempts, due_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(workspace_id)
        .bind(ad_campaign_id)
        .bind(kind.as_str())
        .bind(payload)
        .bind(now()),
    )
    .await?;
    Ok(())
}

pub async fn recent(tx: &mut Tx, ad_campaign_id: Uuid) -> AppResult<Vec<AdJob>> {
    Ok(tx
        .fetch_all(
            Q::new(
                "SELECT id, kind, status, attempts, last_error, created_at, finished_at FROM ad_jobs WHERE ad_campaign_id = $1 \
                 ORDER BY id DESC LIMIT 20",
            )
            .bind(ad_campaign_id),
        )
        .await?)
}

#[derive(Clone, Debug, sqlx::FromRow)]
struct Job {
    id: Uuid,
    workspace_id: Uuid,
    ad_campaign_id: Uuid,
    #[sqlx(try_from = "String")]
    kind: JobKind,
    payload: sqlx::types::Json<Value>,
    attempts: i64,
}

/// Leases the next due job whose campaign has no earlier unfinished job.
async fn claim(db: &Db, config: &Config, worker: &str) -> AppResult<Option<Job>> {
    // An idle worker looks in a read transaction first: SQLite's write
    // lock is taken only when there is work to lease.
    let mut probe = db.begin_read().await?;
    let due: Option<(Uuid,)> = probe
        .fetch_optional(
            Q::new(
                "SELECT id FROM ad_jobs WHERE (status = 'queued' AND due_at <= $1) OR (status = 'running' AND lease_until < $1) LIMIT 1",
            )
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
    let found: Option<Job> = tx
        .fetch_optional(
            Q::new(format!(
                "SELECT id, workspace_id, ad_campaign_id, kind, payload, attempts FROM ad_jobs j \
                 WHERE ((status = 'queued' AND due_at <= $1) OR (status = 'running' AND lease_until < $1)) \
                 AND NOT EXISTS (SELECT 1 FROM ad_jobs e WHERE e.ad_campaign_id = j.ad_campaign_id AND e.id < j.id \
                                 AND e.status IN ('queued', 'running')) \
                 ORDER BY due_at, id LIMIT 1{lock}"
            ))
            .bind(at),
        )
        .await?;
    let Some(job) = found else {
        tx.commit().await?;
        return Ok(None);
    };
    let until = at + chrono::Duration::from_std(config.job_lease).unwrap_or_default();
    tx.execute(
        Q::new("UPDATE ad_jobs SET status = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1 WHERE id = $3")
            .bind(worker)
            .bind(until)
            .bind(job.id),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(Job { attempts: job.attempts + 1, ..job }))
}

/// Opens a write transaction only while the job's lease is still ours.
async fn holding(db: &Db, job: &Job, worker: &str) -> AppResult<Tx> {
    let mut tx = db.begin().await?;
    let held: Option<(Uuid,)> = tx
        .fetch_optional(
            Q::new("SELECT id FROM ad_jobs WHERE id = $1 AND lease_owner = $2 AND status = 'running'").bind(job.id).bind(worker),
        )
        .await?;
    if held.is_none() {
        return Err(AppError::Conflict { code: "lease_lost", message: "another worker took this ad job".into() });
    }
    Ok(tx)
}

async fn campaign(db: &Db, job: &Job) -> AppResult<AdCampaignRow> {
    let mut tx = db.begin_read().await?;
    let found = find_row(&mut tx, job.workspace_id, job.ad_campaign_id).await?.ok_or(AppError::NotFound("ad campaign"))?;
    tx.commit().await?;
    Ok(found)
}

fn external(r: &AdCampaignRow) -> Option<ExternalCampaign> {
    r.external_campaign_id.clone().map(|campaign_id| ExternalCampaign { campaign_id, budget_id: r.external_budget_id.clone() })
}

async fn run(db: &Db, config: &Config, job: &Job, worker: &str) -> AppResult<()> {
    let r = campaign(db, job).await?;
    let connection = accounts::connection(db, config, job.workspace_id, r.ad_account_id).await?;
    let adapter = platforms::adapter(connection);
    match job.kind {
        JobKind::Launch => launch(db, &*adapter, job, worker, r).await,
        JobKind::SetStatus => {
            let Some(on_platform) = external(&r) else { return Ok(()) };
            let status = match job.payload.0["status"].as_str() {
                Some("active") => PlatformStatus::Active,
                Some("paused") => PlatformStatus::Paused,
                _ => PlatformStatus::Ended,
            };
            adapter.set_status(&on_platform, status).await
        }
        JobKind::SetBudget => {
            let Some(on_platform) = external(&r) else { return Ok(()) };
            // The budget now, not the one asked for when the job was queued.
            adapter.set_budget(&on_platform, r.daily_budget_minor, &r.currency).await
        }
        JobKind::SyncMetrics => {
            let Some(on_platform) = external(&r) else { return Ok(()) };
            let days = job.payload.0["days"].as_i64().unwrap_or(7).clamp(1, 90);
            let to = Utc::now().date_naive();
            let from = to - chrono::Duration::days(days - 1);
            let metrics = adapter.daily_metrics(&on_platform, from, to).await?;
            let mut tx = holding(db, job, worker).await?;
            let at = now();
            for m in metrics {
                tx.execute(
                    Q::new(
                        "INSERT INTO ad_metrics_daily (ad_campaign_id, workspace_id, day, spend_minor, impressions, clicks, conversions, synced_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (ad_campaign_id, day) DO UPDATE SET spend_minor = excluded.spend_minor, \
                         impressions = excluded.impressions, clicks = excluded.clicks, conversions = excluded.conversions, synced_at = excluded.synced_at",
                    )
                    .bind(r.id)
                    .bind(r.workspace_id)
                    .bind(m.day)
                    .bind(m.spend_minor)
                    .bind(m.impressions)
                    .bind(m.clicks)
                    .bind(m.conversions)
                    .bind(at),
                )
                .await?;
            }
            tx.commit().await?;
            Ok(())
        }
    }
}

/// Create paused (once), upload the frozen audience (once per approved
/// version), then activate — unless the campaign was paused or cancelled
/// meanwhile.
async fn launch(db: &Db, adapter: &dyn AdPlatform, job: &Job, worker: &str, r: AdCampaignRow) -> AppResult<()> {
    let on_platform = match external(&r) {
        Some(existing) => {
            // A relaunch after an edit: the approved budget may differ.
            adapter.set_budget(&existing, r.daily_budget_minor, &r.currency).await?;
            existing
        }
        None => {
            let mut tx = db.begin_read().await?;
            let spec = CampaignSpec {
                name: r.name.clone(),
                objective: r.objective,
                daily_budget_minor: r.daily_budget_minor,
                currency: r.currency.clone(),
                start_date: r.start_date,
                end_date: r.end_date,
                creatives: creatives_of(&mut tx, r.id).await?,
            };
            tx.commit().await?;
            let created = adapter.create_paused_campaign(&spec).await?;
            let mut tx = holding(db, job, worker).await?;
            tx.execute(
                Q::new("UPDATE ad_campaigns SET external_campaign_id = $1, external_budget_id = $2, updated_at = $3 WHERE id = $4")
                    .bind(created.campaign_id.as_str())
                    .bind(created.budget_id.as_deref())
                    .bind(now())
                    .bind(r.id),
            )
            .await?;
            tx.commit().await?;
            created
        }
    };
    let uploaded_version: Option<(String, Option<String>)> = {
        let mut tx = db.begin_read().await?;
        let found = tx.fetch_optional(Q::new("SELECT status, detail FROM ad_audiences WHERE ad_campaign_id = $1").bind(r.id)).await?;
        tx.commit().await?;
        found
    };
    let version_tag = format!("version {}", r.approved_version.unwrap_or(r.version));
    let done =
        uploaded_version.as_ref().is_some_and(|(status, detail)| status == "uploaded" && detail.as_deref() == Some(version_tag.as_str()));
    if !done {
        let (members, existing): (Vec<audience::Member>, Option<String>) = {
            let mut tx = db.begin_read().await?;
            let members = audience::frozen_members(&mut tx, r.id).await?;
            let existing: Option<(Option<String>,)> =
                tx.fetch_optional(Q::new("SELECT external_audience_id FROM ad_audiences WHERE ad_campaign_id = $1").bind(r.id)).await?;
            tx.commit().await?;
            (members, existing.and_then(|(e,)| e))
        };
        record_audience(db, job, worker, &r, AudienceUploadStatus::Uploading, existing.as_deref(), members.len() as i64, 0, None, None)
            .await?;
        let name = format!("Corral · {}", r.name);
        match adapter.upload_audience(&on_platform, &name, existing.as_deref(), &members).await {
            Ok(uploaded) => {
                record_audience(
                    db,
                    job,
                    worker,
                    &r,
                    AudienceUploadStatus::Uploaded,
                    Some(&uploaded.audience_id),
                    members.len() as i64,
                    uploaded.sent,
                    uploaded.received,
                    Some(&version_tag),
                )
                .await?;
            }
            Err(error) => {
                let detail = error.public_message();
                record_audience(
                    db,
                    job,
                    worker,
                    &r,
                    AudienceUploadStatus::Failed,
                    existing.as_deref(),
                    members.len() as i64,
                    0,
                    None,
                    Some(&detail),
                )
                .await?;
                return Err(error);
            }
        }
    }
    let now_status = campaign(db, job).await?.status;
    let target = match now_status {
        AdCampaignStatus::Launching => PlatformStatus::Active,
        AdCampaignStatus::Cancelled => PlatformStatus::Ended,
        _ => PlatformStatus::Paused,
    };
    if target != PlatformStatus::Paused {
        adapter.set_status(&on_platform, target).await?;
    }
    let mut tx = holding(db, job, worker).await?;
    let at = now();
    tx.execute(
        Q::new(
            "UPDATE ad_campaigns SET status = CASE WHEN status = 'launching' THEN 'active' ELSE status END, status_reason = NULL, \
             launched_at = COALESCE(launched_at, $1), updated_at = $1 WHERE id = $2",
        )
        .bind(at)
        .bind(r.id),
    )
    .await?;
    let ctx = Ctx::system(r.workspace_id);
    crate::platform::audit::record(
        &mut tx,
        &ctx,
        "ad_campaign.activated",
        "ad_campaign",
        Some(r.id),
        Some(&json!({ "status": "launching" })),
        Some(&json!({ "status": if now_status == AdCampaignStatus::Launching { "active" } else { now_status.as_str() },
                      "external_campaign_id": on_platform.campaign_id })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn record_audience(
    db: &Db,
    job: &Job,
    worker: &str,
    r: &AdCampaignRow,
    status: AudienceUploadStatus,
    external: Option<&str>,
    members: i64,
    uploaded: i64,
    matched: Option<i64>,
    detail: Option<&str>,
) -> AppResult<()> {
    let mut tx = holding(db, job, worker).await?;
    tx.execute(
        Q::new(
            "INSERT INTO ad_audiences (ad_campaign_id, workspace_id, platform, external_audience_id, status, member_count, uploaded_count, \
             matched_count, detail, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (ad_campaign_id) DO UPDATE \
             SET external_audience_id = COALESCE(excluded.external_audience_id, ad_audiences.external_audience_id), status = excluded.status, \
             member_count = excluded.member_count, uploaded_count = excluded.uploaded_count, matched_count = excluded.matched_count, \
             detail = excluded.detail, updated_at = excluded.updated_at",
        )
        .bind(r.id)
        .bind(r.workspace_id)
        .bind(r.platform.as_str())
        .bind(external)
        .bind(status.as_str())
        .bind(members)
        .bind(uploaded)
        .bind(matched)
        .bind(detail)
        .bind(now()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn finish(db: &Db, job: &Job, worker: &str, outcome: AppResult<()>) -> AppResult<()> {
    let mut tx = match holding(db, job, worker).await {
        Ok(tx) => tx,
        Err(_) => return Ok(()),
    };
    let at = now();
    match outcome {
        Ok(()) => {
            tx.execute(
                Q::new("UPDATE ad_jobs SET status = 'done', finished_at = $1, lease_owner = NULL, last_error = NULL WHERE id = $2")
                    .bind(at)
                    .bind(job.id),
            )
            .await?;
        }
        Err(error) => {
            let message = error.public_message();
            if job.attempts < MAX_ATTEMPTS {
                let due = at + chrono::Duration::seconds(1 << job.attempts.min(10));
                tx.execute(
                    Q::new("UPDATE ad_jobs SET status = 'queued', due_at = $1, lease_owner = NULL, lease_until = NULL, last_error = $2 WHERE id = $3")
                        .bind(due)
                        .bind(message.as_str())
                        .bind(job.id),
                )
                .await?;
                tx.execute(
                    Q::new("UPDATE ad_campaigns SET status_reason = $1, updated_at = $2 WHERE id = $3")
                        .bind(format!("{} (attempt {} of {MAX_ATTEMPTS}; retrying)", message, job.attempts))
                        .bind(at)
                        .bind(job.ad_campaign_id),
                )
                .await?;
            } else {
                tx.execute(
                    Q::new("UPDATE ad_jobs SET status = 'failed', finished_at = $1, lease_owner = NULL, last_error = $2 WHERE id = $3")
                        .bind(at)
                        .bind(message.as_str())
                        .bind(job.id),
                )
                .await?;
                let reason = format!("{} gave up after {MAX_ATTEMPTS} attempts: {message}", job.kind.as_str().replace('_', " "));
                let failed_status = if job.kind == JobKind::Launch {
                    ", status = CASE WHEN status = 'launching' THEN 'failed' ELSE status END"
                } else {
                    ""
                };
                tx.execute(
                    Q::new(format!("UPDATE ad_campaigns SET status_reason = $1, updated_at = $2{failed_status} WHERE id = $3"))
                        .bind(reason)
                        .bind(at)
                        .bind(job.ad_campaign_id),
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Queues a metrics sync for every campaign on a platform that has none
/// queued and was not synced within `every`.
async fn schedule_syncs(db: &Db, every: Duration) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let since = now() - chrono::Duration::from_std(every).unwrap_or_default();
    let due: Vec<(Uuid, Uuid)> = tx
        .fetch_all(
            Q::new(
                "SELECT c.workspace_id, c.id FROM ad_campaigns c WHERE c.external_campaign_id IS NOT NULL AND c.status IN ('active', 'paused') \
                 AND NOT EXISTS (SELECT 1 FROM ad_jobs j WHERE j.ad_campaign_id = c.id AND j.kind = 'sync_metrics' \
                                 AND (j.status IN ('queued', 'running') OR j.created_at > $1)) LIMIT 500",
            )
            .bind(since),
        )
        .await?;
    for (workspace_id, id) in due {
        enqueue(&mut tx, workspace_id, id, JobKind::SyncMetrics, json!({ "days": 7 })).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Starts this process's ad worker.
pub fn spawn_worker(db: Db, config: Config) -> tokio::task::JoinHandle<()> {
    let worker = format!("ads-{}", Uuid::now_v7().simple());
    tokio::spawn(async move {
        let mut scheduled_at: Option<std::time::Instant> = None;
        loop {
            if scheduled_at.is_none_or(|t| t.elapsed() > config.ads_sync.min(Duration::from_secs(60))) {
                scheduled_at = Some(std::time::Instant::now());
                if let Err(error) = schedule_syncs(&db, config.ads_sync).await {
                    tracing::warn!(%error, "scheduling ad metric syncs failed; trying again later");
                }
            }
            match claim(&db, &config, &worker).await {
                Ok(Some(job)) => {
                    let outcome = run(&db, &config, &job, &worker).await;
                    if let Err(error) = &outcome {
                        tracing::warn!(%error, job = %job.id, kind = job.kind.as_str(), "ad job failed");
                    }
                    if let Err(error) = finish(&db, &job, &worker, outcome).await {
                        tracing::warn!(%error, "recording an ad job's outcome failed");
                    }
                }
                Ok(None) => tokio::time::sleep(config.outbox_poll).await,
                Err(error) => {
                    tracing::warn!(%error, "claiming an ad job failed; retrying");
                    tokio::time::sleep(config.outbox_poll).await;
                }
            }
        }
    })
}
