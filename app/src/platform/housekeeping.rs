//! Periodic clean-up that keeps tables and the data directory from growing
//! without bound: idempotency keys past their replay window, and uploads
//! nobody started importing.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::AppResult;
use crate::platform::db::{now, Db, Q};

/// How long a write's `Idempotency-Key` replays its first response: a
/// client retrying later than this is treated as a new request.
pub const IDEMPOTENCY_WINDOW: chrono::Duration = chrono::Duration::hours(24);

/// How long an uploaded file waits for its column mapping before the
/// import is cancelled and the file removed.
pub const UNSTARTED_IMPORT_TTL: chrono::Duration = chrono::Duration::days(7);

/// Deletes idempotency keys created before `cutoff`; returns how many.
pub async fn expire_idempotency_keys(db: &Db, cutoff: DateTime<Utc>) -> AppResult<u64> {
    let mut tx = db.begin().await?;
    let deleted = tx.execute(Q::new("DELETE FROM idempotency_keys WHERE created_at < $1").bind(cutoff)).await?;
    tx.commit().await?;
    Ok(deleted)
}

/// Deletes call-count windows that ended before `cutoff` (a bucket that
/// calls again clears its own; this catches the ones that never do).
pub async fn expire_rate_limit_windows(db: &Db, cutoff: DateTime<Utc>) -> AppResult<u64> {
    let mut tx = db.begin().await?;
    let deleted = tx.execute(Q::new("DELETE FROM rate_limit_windows WHERE window_start < $1").bind(cutoff.timestamp())).await?;
    tx.commit().await?;
    Ok(deleted)
}

/// One round of every clean-up, as of `at`.
pub async fn sweep(db: &Db, at: DateTime<Utc>) -> AppResult<()> {
    expire_idempotency_keys(db, at - IDEMPOTENCY_WINDOW).await?;
    expire_rate_limit_windows(db, at - chrono::Duration::minutes(2)).await?;
    crate::audience::imports::expire_unstarted(db, at - UNSTARTED_IMPORT_TTL).await?;
    Ok(())
}

pub fn spawn(db: Db, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(error) = sweep(&db, now()).await {
                tracing::warn!(%error, "housekeeping sweep failed; retrying next round");
            }
            tokio::time::sleep(every).await;
        }
    })
}
