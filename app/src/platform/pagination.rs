//! Cursor pagination, the same for every list.
//!
//! Ids are UUIDv7, which sort by creation time on both backends, so a list
//! ordered newest first can resume after the last id it returned. The
//! cursor is that id, base64url-encoded: opaque to clients, stable under
//! concurrent inserts (no skipped or repeated rows, unlike offsets).

use base64::Engine;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::platform::db::Q;
use crate::platform::types::Page;

pub const DEFAULT_LIMIT: i64 = 25;
pub const MAX_LIMIT: i64 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor(pub Uuid);

impl Cursor {
    pub fn encode(self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    pub fn decode(value: &str) -> AppResult<Cursor> {
        let invalid = || AppError::validation("cursor", "cursor is not one this API returned");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value).map_err(|_| invalid())?;
        Uuid::from_slice(&bytes).map(Cursor).map_err(|_| invalid())
    }
}

#[derive(Clone, Copy, Debug)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<Cursor>,
}

impl PageRequest {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> AppResult<PageRequest> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::validation("limit", format!("limit must be between 1 and {MAX_LIMIT}")));
        }
        let after = match cursor {
            Some(c) if !c.is_empty() => Some(Cursor::decode(c)?),
            _ => None,
        };
        Ok(PageRequest { limit, after })
    }

    /// Appends the cursor condition, the order and the limit (one extra row
    /// to learn whether another page exists). The query must already have a
    /// WHERE clause.
    pub fn apply(&self, q: &mut Q, id_column: &str) {
        if let Some(Cursor(after)) = self.after {
            let p = q.arg(after);
            q.push(&format!(" AND {id_column} < {p}"));
        }
        let p = q.arg(self.limit + 1);
        q.push(&format!(" ORDER BY {id_column} DESC LIMIT {p}"));
    }

    pub fn finish<R, T>(&self, mut rows: Vec<R>, id_of: impl Fn(&R) -> Uuid, convert: impl Fn(R) -> T) -> Page<T> {
        let has_more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if has_more { rows.last().map(|r| Cursor(id_of(r)).encode()) } else { None };
        Page { data: rows.into_iter().map(convert).collect(), next_cursor }
    }
}

/// A page of a short list held in memory (a workspace's stages or
/// accounts: tens of rows), for lists whose order is not by id. The cursor
/// is the position to go on from.
pub fn page_of<T>(items: Vec<T>, limit: Option<i64>, cursor: Option<&str>) -> AppResult<Page<T>> {
    let limit = crate::platform::validate::in_range("limit", limit.unwrap_or(MAX_LIMIT), 1, MAX_LIMIT)? as usize;
    let offset: usize = match cursor {
        Some(c) => c.parse().map_err(|_| AppError::validation("cursor", "cursor is not one this API returned"))?,
        None => 0,
    };
    let next_cursor = (items.len() > offset + limit).then(|| (offset + limit).to_string());
    Ok(Page { data: items.into_iter().skip(offset).take(limit).collect(), next_cursor })
}
