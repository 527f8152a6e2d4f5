//! Fixed one-minute windows of calls per key (a client IP and form, an API
//! key), kept in this process's memory.

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
