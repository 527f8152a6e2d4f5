//! Field rules shared by the CRM records.

use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::platform::accounts::is_member;
use crate::platform::context::Ctx;
use crate::platform::db::Tx;

/// Trims; empty means absent; longer than `max` characters is refused.
pub fn optional_text(field: &str, value: Option<String>, max: usize) -> AppResult<Option<String>> {
    let Some(value) = value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(AppError::validation(field, format!("{field} must be at most {max} characters")));
    }
    Ok(Some(value))
}

pub fn optional_email(field: &str, value: Option<String>) -> AppResult<Option<String>> {
    match value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(email) => crate::platform::accounts::normalize_email(field, &email).map(Some),
    }
}

pub fn check_custom_fields(value: &serde_json::Value) -> AppResult<()> {
    if !value.is_object() {
        return Err(AppError::validation("custom_fields", "custom_fields must be a JSON object"));
    }
    if value.to_string().len() > 64 * 1024 {
        return Err(AppError::validation("custom_fields", "custom_fields must be at most 64 KiB"));
    }
    Ok(())
}

/// Whether `id` names a row of `table` (a trusted table name, never user
/// input) in the acting workspace.
pub async fn record_exists(tx: &mut Tx, ctx: &Ctx, table: &str, id: Uuid) -> AppResult<bool> {
    let found: Option<(Uuid,)> = tx
        .fetch_optional(
            crate::platform::db::Q::new(format!("SELECT id FROM {table} WHERE workspace_id = $1 AND id = $2"))
                .bind(ctx.workspace_id)
                .bind(id),
        )
        .await?;
    Ok(found.is_some())
}

/// The oldest record of `table` (trusted name) whose `column` equals
/// `value` in the acting workspace. Deliberately no `ORDER BY id LIMIT 1`:
/// SQLite would walk the primary key instead of the column's index, which
/// turns an import's dedup lookup into a full scan per row.
pub async fn oldest_id_where(tx: &mut Tx, ctx: &Ctx, table: &str, column: &str, value: &str) -> AppResult<Option<Uuid>> {
    let ids: Vec<(Uuid,)> = tx
        .fetch_all(
            crate::platform::db::Q::new(format!("SELECT id FROM {table} WHERE workspace_id = $1 AND {column} = $2"))
                .bind(ctx.workspace_id)
                .bind(value),
        )
        .await?;
    Ok(ids.into_iter().map(|(id,)| id).min())
}

/// A reference in the input (`field`, naming a row of `table`) must exist in
/// the acting workspace; absent is fine.
pub async fn check_reference(tx: &mut Tx, ctx: &Ctx, field: &str, table: &str, id: Option<Uuid>) -> AppResult<()> {
    if let Some(id) = id {
        if !record_exists(tx, ctx, table, id).await? {
            return Err(AppError::validation(field, format!("{field} does not name an existing record")));
        }
    }
    Ok(())
}

/// The owner of a new record: the one named, else the member creating it
/// by hand (in the browser or over REST with a session). Records made by
/// API keys, imports and public forms stay unassigned unless one is named.
pub fn owner_or_creator(ctx: &Ctx, named: Option<Uuid>) -> Option<Uuid> {
    named.or(if ctx.role.is_some() { ctx.user_id } else { None })
}

pub async fn check_owner(tx: &mut Tx, ctx: &Ctx, owner_id: Option<Uuid>) -> AppResult<()> {
    if let Some(owner_id) = owner_id {
        if !is_member(tx, ctx, owner_id).await? {
            return Err(AppError::validation("owner_id", "owner must be a member of this workspace"));
        }
    }
    Ok(())
}

/// Escapes LIKE wildcards so a search for "50%" means the text "50%".
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Resolves an `owner` filter (`me`, `unassigned` or a user id) into SQL.
pub fn owner_condition(q: &mut crate::platform::db::Q, ctx: &Ctx, column: &str, owner: Option<&str>) -> AppResult<()> {
    match owner.map(str::trim) {
        None | Some("") => {}
        Some("unassigned") => {
            q.push(&format!(" AND {column} IS NULL"));
        }
        Some("me") => {
            let me = ctx.user_id.ok_or_else(|| AppError::validation("owner", "owner=me needs a signed-in user, not an API key"))?;
            let p = q.arg(me);
            q.push(&format!(" AND {column} = {p}"));
        }
        Some(other) => {
            let owner =
                Uuid::parse_str(other).map_err(|_| AppError::validation("owner", "owner must be a user id, `me` or `unassigned`"))?;
            let p = q.arg(owner);
            q.push(&format!(" AND {column} = {p}"));
        }
    }
    Ok(())
}

/// Checks the text-search parameter and appends a case-insensitive match
/// over the given columns.
pub fn text_search(q: &mut crate::platform::db::Q, text: Option<&str>, columns: &[&str]) -> AppResult<()> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else { return Ok(()) };
    if text.chars().count() > 200 {
        return Err(AppError::validation("q", "search text must be at most 200 characters"));
    }
    let p = q.arg(like_pattern(text));
    let parts: Vec<String> = columns.iter().map(|c| format!("LOWER(COALESCE({c}, '')) LIKE {p} ESCAPE '\\'")).collect();
    q.push(&format!(" AND ({})", parts.join(" OR ")));
    Ok(())
}
