//! Field rules shared by the CRM records.

use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::platform::accounts::is_member;
use crate::platform::context::Ctx;
use crate::platform::db::Tx;
// Text search is SQL shared by every module; it lives with the other SQL
// helpers and is named here too for the CRM.
pub use crate::platform::db::{like_pattern, text_search};

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
