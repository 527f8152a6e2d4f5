//! Fixed one-minute windows of calls per key: `FixedWindows` in this
//! process's memory (public form submissions per client), `SharedBudget`
//! counted in the database, so every server process on it spends one
//! budget (API keys' tool calls).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct FixedWindows {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl FixedWindows {
    pub fn new() -> FixedWindows {
        FixedWindows::default()
    }

    /// Counts a call for `key`; past `per_minute` calls in the current
    /// window, answers how long until the window ends.
    pub fn hit(&self, key: &str, per_minute: u32) -> Result<(), Duration> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > per_minute {
            Err(WINDOW.saturating_sub(now.duration_since(entry.0)))
        } else {
            Ok(())
        }
    }
}

/// A budget of calls per one-minute window shared by every server process
/// on the database. Each process claims calls from the database's count in
/// batches (a twentieth of the budget) and spends them locally, so most
/// calls cost no write; the database never grants more than the budget, so
/// the key's total across processes stays within it (a process may hold a
/// few unspent calls when the window ends, which only refuses early).
#[derive(Default)]
pub struct SharedBudget {
    /// bucket → (window start, calls claimed and not yet spent)
    claimed: Mutex<HashMap<String, (i64, i64)>>,
}

impl SharedBudget {
    pub fn new() -> SharedBudget {
        SharedBudget::default()
    }

    /// Counts a call for `bucket`; past `per_minute` calls in the clock's
    /// current minute, answers how long until it ends.
    pub async fn hit(&self, db: &crate::platform::db::Db, bucket: &str, per_minute: u32) -> crate::error::AppResult<Result<(), Duration>> {
        let now = chrono::Utc::now().timestamp();
        let window_start = now - now.rem_euclid(60);
        let wait = Duration::from_secs((window_start + 60 - now).max(1) as u64);
        if self.spend_claimed(bucket, window_start) {
            return Ok(Ok(()));
        }
        let batch = (i64::from(per_minute) / 20).max(1);
        let granted = claim(db, bucket, window_start, batch, i64::from(per_minute)).await?;
        if granted == 0 {
            return Ok(Err(wait));
        }
        let mut claimed = self.claimed.lock().unwrap_or_else(|e| e.into_inner());
        if claimed.len() > 100_000 {
            claimed.retain(|_, (start, _)| *start == window_start);
        }
        // One of the granted calls is this one.
        claimed.insert(bucket.to_string(), (window_start, granted - 1));
        Ok(Ok(()))
    }

    fn spend_claimed(&self, bucket: &str, window_start: i64) -> bool {
        let mut claimed = self.claimed.lock().unwrap_or_else(|e| e.into_inner());
        match claimed.get_mut(bucket) {
            Some((start, left)) if *start == window_start && *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        }
    }
}

/// Claims up to `batch` calls of `bucket`'s window from the database;
/// answers how many were granted (0 once the budget is spent).
async fn claim(db: &crate::platform::db::Db, bucket: &str, window_start: i64, batch: i64, budget: i64) -> crate::error::AppResult<i64> {
    use crate::platform::db::Q;
    let mut tx = db.begin().await?;
    let (calls,): (i64,) = tx
        .fetch_one(
            Q::new(
                "INSERT INTO rate_limit_windows (bucket, window_start, calls) VALUES ($1, $2, $3) \
                 ON CONFLICT (bucket, window_start) DO UPDATE SET calls = rate_limit_windows.calls + $3 RETURNING calls",
            )
            .bind(bucket)
            .bind(window_start)
            .bind(batch),
        )
        .await?;
    if calls == batch {
        // A bucket's first claim of a window clears the windows that ended.
        tx.execute(Q::new("DELETE FROM rate_limit_windows WHERE bucket = $1 AND window_start < $2").bind(bucket).bind(window_start))
            .await?;
    }
    tx.commit().await?;
    // What this claim added beyond the budget is not granted.
    Ok((budget - (calls - batch)).clamp(0, batch))
}
