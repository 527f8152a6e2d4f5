//! Bulk imports: the upload is streamed to disk, mapped, then run by a
//! background job. Each batch of rows commits in one transaction together
//! with the job's resume point (byte offset and line), so after a crash or
//! restart the job continues exactly after the last committed row: nothing
//! is imported twice and nothing is lost.
//!
//! A file per stage: [`upload`] streams the file to disk, [`mapping`]
//! matches its columns to fields, [`worker`] runs the job.

mod mapping;
mod upload;
mod worker;

use mapping::check_mapping;
pub use mapping::suggest_mapping;
pub use upload::{store_upload, StoredUpload};
pub use worker::{run, spawn_worker};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use serde_json::{json, Map, Value};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use super::import_source::{self, Record, RecordSource};
use super::types::*;
use crate::crm::companies::{
    ops as companies,
    types::{CompanyPatch, NewCompany},
};
use crate::crm::contacts::{
    ops as contacts,
    types::{ContactPatch, NewContact},
};
use crate::crm::leads::{
    ops as leads,
    types::{LeadPatch, LeadSource, LeadStatus, NewLead},
};
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::{Config, Ctx};
use crate::platform::db::{now, Db, Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope};

/// Errors kept per import; the count goes on past it.
pub const MAX_STORED_ERRORS: i64 = 10_000;

#[derive(sqlx::FromRow)]
struct ImportRow {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Option<Uuid>,
    api_key_id: Option<Uuid>,
    #[sqlx(try_from = "String")]
    entity: ImportEntity,
    #[sqlx(try_from = "String")]
    format: ImportFormat,
    #[sqlx(try_from = "String")]
    dedup: DedupMode,
    #[sqlx(try_from = "String")]
    status: ImportStatus,
    file_name: Option<String>,
    file_path: String,
    bytes_total: i64,
    columns: sqlx::types::Json<Vec<String>>,
    mapping: sqlx::types::Json<BTreeMap<String, String>>,
    list_id: Option<Uuid>,
    bytes_done: i64,
    lines_done: i64,
    rows_done: i64,
    rows_created: i64,
    rows_updated: i64,
    rows_skipped: i64,
    rows_failed: i64,
    error: Option<String>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, workspace_id, created_by, api_key_id, entity, format, dedup, status, file_name, file_path, \
                       bytes_total, columns, mapping, list_id, bytes_done, lines_done, rows_done, rows_created, \
                       rows_updated, rows_skipped, rows_failed, error, started_at, finished_at, created_at, updated_at";

impl ImportRow {
    fn view(&self) -> Import {
        Import {
            id: self.id,
            entity: self.entity,
            format: self.format,
            dedup: self.dedup,
            status: self.status,
            file_name: self.file_name.clone(),
            columns: self.columns.0.clone(),
            mapping: self.mapping.0.clone(),
            list_id: self.list_id,
            bytes_total: self.bytes_total,
            bytes_done: self.bytes_done,
            rows_done: self.rows_done,
            rows_created: self.rows_created,
            rows_updated: self.rows_updated,
            rows_skipped: self.rows_skipped,
            rows_failed: self.rows_failed,
            error: self.error.clone(),
            started_at: self.started_at,
            finished_at: self.finished_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

async fn find_row(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<ImportRow> {
    tx.fetch_optional(Q::new(format!("SELECT {COLUMNS} FROM imports WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id))
        .await?
        .ok_or(AppError::NotFound("import"))
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Import> {
    ctx.require(Scope::CrmRead)?;
    Ok(find_row(tx, ctx, id).await?.view())
}

pub async fn list(tx: &mut Tx, ctx: &Ctx, limit: Option<i64>, cursor: Option<&str>) -> AppResult<Page<Import>> {
    ctx.require(Scope::CrmRead)?;
    let page = PageRequest::parse(limit, cursor)?;
    let mut q = Q::new(format!("SELECT {COLUMNS} FROM imports WHERE workspace_id = $1")).bind(ctx.workspace_id);
    page.apply(&mut q, "id");
    let rows: Vec<ImportRow> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |r| r.id, |r| r.view()))
}

/// Bad rows in line order, paginated by line.
pub async fn row_errors(tx: &mut Tx, ctx: &Ctx, id: Uuid, after_line: Option<i64>, limit: Option<i64>) -> AppResult<Vec<ImportRowError>> {
    ctx.require(Scope::CrmRead)?;
    find_row(tx, ctx, id).await?;
    let limit = limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::validation("limit", "limit must be between 1 and 1000"));
    }
    Ok(tx
        .fetch_all(
            Q::new("SELECT line, reason FROM import_errors WHERE import_id = $1 AND line > $2 ORDER BY line LIMIT $3")
                .bind(id)
                .bind(after_line.unwrap_or(0))
                .bind(limit),
        )
        .await?)
}

/// An upload on disk, not yet an import.
fn guess_format(file_name: Option<&str>) -> ImportFormat {
    match file_name.map(|n| n.to_lowercase()) {
        Some(n) if n.ends_with(".json") || n.ends_with(".ndjson") || n.ends_with(".jsonl") => ImportFormat::Json,
        _ => ImportFormat::Csv,
    }
}

/// Registers an upload: finds its columns and suggests a mapping. The
/// import waits in `mapping` until it is started.
pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewImport, upload: &StoredUpload) -> AppResult<Import> {
    ctx.require(Scope::CrmWrite)?;
    let file_name = crate::platform::validate::optional_text("file_name", input.file_name, 255)?;
    let format = input.format.unwrap_or_else(|| guess_format(file_name.as_deref()));
    let path = upload.path.clone();
    let detected = tokio::task::spawn_blocking(move || import_source::detect_columns(format.as_str(), &path))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let (columns, data_offset, data_line) = detected.map_err(|reason| AppError::validation("file", reason))?;
    // Column names are stored and audited as JSON, which PostgreSQL cannot
    // hold with a NUL in it; such a file is not a CSV anyone meant.
    if columns.iter().any(|column| column.contains('\0')) {
        return Err(AppError::validation("file", "the file's header row contains a NUL character"));
    }
    let mapping = suggest_mapping(input.entity, &columns);
    let at = now();
    let id = Uuid::now_v7();
    tx.execute(
        Q::new(
            "INSERT INTO imports (id, workspace_id, created_by, api_key_id, entity, format, dedup, status, file_name, \
             file_path, bytes_total, columns, mapping, bytes_done, lines_done, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'mapping', $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(ctx.user_id)
        .bind(ctx.api_key_id)
        .bind(input.entity.as_str())
        .bind(format.as_str())
        .bind(input.dedup.unwrap_or(DedupMode::Skip).as_str())
        .bind(file_name)
        .bind(upload.path.to_string_lossy().to_string())
        .bind(upload.bytes as i64)
        .bind(json!(columns))
        .bind(json!(mapping))
        .bind(data_offset as i64)
        .bind(data_line as i64)
        .bind(at)
        .bind(at),
    )
    .await?;
    let import = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "import.created", "import", Some(id), None::<&()>, Some(&import)).await?;
    Ok(import)
}

pub async fn start(tx: &mut Tx, ctx: &Ctx, id: Uuid, input: StartImport) -> AppResult<Import> {
    ctx.require(Scope::CrmWrite)?;
    let row = find_row(tx, ctx, id).await?;
    if row.status != ImportStatus::Mapping {
        return Err(AppError::Conflict { code: "already_started", message: format!("this import is already {}", row.status.as_str()) });
    }
    let mapping = input.mapping.unwrap_or_else(|| row.mapping.0.clone());
    check_mapping(row.entity, &row.columns.0, &mapping)?;
    if let Some(list_id) = input.list_id {
        let list =
            super::lists::get(tx, ctx, list_id).await.map_err(|_| AppError::validation("list_id", "list_id does not name a list"))?;
        let fits = list.kind == ListKind::Static
            && ((list.entity == ListEntity::Lead && row.entity == ImportEntity::Lead)
                || (list.entity == ListEntity::Company && row.entity == ImportEntity::Company));
        if !fits {
            return Err(AppError::validation("list_id", "imported records can join a static list of the same kind"));
        }
    }
    tx.execute(
        Q::new("UPDATE imports SET status = 'queued', mapping = $1, dedup = $2, list_id = $3, updated_at = $4 WHERE id = $5")
            .bind(json!(mapping))
            .bind(input.dedup.unwrap_or(row.dedup).as_str())
            .bind(input.list_id)
            .bind(now())
            .bind(id),
    )
    .await?;
    let import = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "import.started", "import", Some(id), Some(&row.view()), Some(&import)).await?;
    Ok(import)
}

/// Stops an import; rows already committed stay.
pub async fn cancel(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Import> {
    ctx.require(Scope::CrmWrite)?;
    let row = find_row(tx, ctx, id).await?;
    if row.status.is_finished() {
        return Err(AppError::Conflict { code: "already_finished", message: format!("this import is already {}", row.status.as_str()) });
    }
    tx.execute(
        Q::new("UPDATE imports SET status = 'cancelled', finished_at = $1, updated_at = $1, lease_owner = NULL WHERE id = $2")
            .bind(now())
            .bind(id),
    )
    .await?;
    let import = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "import.cancelled", "import", Some(id), Some(&row.view()), Some(&import)).await?;
    let _ = tokio::fs::remove_file(&row.file_path).await;
    Ok(import)
}

/// Cancels imports still waiting for their mapping since before `cutoff`
/// and removes their files (after the commit: a file is never gone while
/// its import could still start). Returns how many expired.
pub async fn expire_unstarted(db: &Db, cutoff: DateTime<Utc>) -> AppResult<u64> {
    let mut tx = db.begin_read().await?;
    let stale: Vec<ImportRow> = tx
        .fetch_all(
            Q::new(format!("SELECT {COLUMNS} FROM imports WHERE status = 'mapping' AND created_at < $1 ORDER BY id LIMIT 100"))
                .bind(cutoff),
        )
        .await?;
    tx.commit().await?;
    let mut expired = 0;
    for row in stale {
        let mut tx = db.begin().await?;
        let at = now();
        let changed = tx
            .execute(
                Q::new(
                    "UPDATE imports SET status = 'cancelled', error = $1, finished_at = $2, updated_at = $2 \
                     WHERE id = $3 AND status = 'mapping'",
                )
                .bind("expired: the columns were not mapped within 7 days")
                .bind(at)
                .bind(row.id),
            )
            .await?;
        if changed == 0 {
            // Started (or cancelled) in the meantime.
            continue;
        }
        audit::record(&mut tx, &Ctx::system(row.workspace_id), "import.expired", "import", Some(row.id), Some(&row.view()), None::<&()>)
            .await?;
        tx.commit().await?;
        let _ = tokio::fs::remove_file(&row.file_path).await;
        expired += 1;
    }
    Ok(expired)
}
