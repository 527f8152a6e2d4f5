//! Fixed one-minute windows of calls per key: `FixedWindows` in this
//! process's memory (public form submissions per client), `shared_hit` in
//! the database, so every server process on it counts against one budget
//! (API keys' tool calls).

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

/// Counts a call for `bucket` in the database's current one-minute window
/// (aligned to the clock, so every process agrees on it); past
/// `per_minute` calls, answers how long until the window ends.
pub async fn shared_hit(db: &crate::platform::db::Db, bucket: &str, per_minute: u32) -> crate::error::AppResult<Result<(), Duration>> {
    use crate::platform::db::Q;
    let now = chrono::Utc::now().timestamp();
    let window_start = now - now.rem_euclid(60);
    let mut tx = db.begin().await?;
    let (calls,): (i64,) = tx
        .fetch_one(
            Q::new(
                "INSERT INTO rate_limit_windows (bucket, window_start, calls) VALUES ($1, $2, 1) \
                 ON CONFLICT (bucket, window_start) DO UPDATE SET calls = rate_limit_windows.calls + 1 RETURNING calls",
            )
            .bind(bucket)
            .bind(window_start),
        )
        .await?;
    if calls == 1 {
        // A bucket's first call of a window clears the windows that ended.
        tx.execute(Q::new("DELETE FROM rate_limit_windows WHERE bucket = $1 AND window_start < $2").bind(bucket).bind(window_start))
            .await?;
    }
    tx.commit().await?;
    Ok(match calls > i64::from(per_minute) {
        true => Err(Duration::from_secs((window_start + 60 - now).max(1) as u64)),
        false => Ok(()),
    })
}
