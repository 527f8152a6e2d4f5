//! Bulk imports: the upload is streamed to disk, mapped, then run by a
//! background job. Each batch of rows commits in one transaction together
//! with the job's resume point (byte offset and line), so after a crash or
//! restart the job continues exactly after the last committed row: nothing
//! is imported twice and nothing is lost.

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
pub struct StoredUpload {
    pub path: PathBuf,
    pub bytes: u64,
    /// SHA-256 of the content, for Idempotency-Key fingerprints.
    pub digest: String,
}

impl StoredUpload {
    pub async fn discard(self) {
        let _ = tokio::fs::remove_file(&self.path).await;
    }
}

fn uploads_dir(config: &Config) -> PathBuf {
    config.data_dir.join("imports")
}

/// Streams a request body to a file in the data directory, chunk by chunk,
/// refusing it (and removing the partial file) past the size limit.
pub async fn store_upload<S, E>(config: &Config, mut body: S) -> AppResult<StoredUpload>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let dir = uploads_dir(config);
    tokio::fs::create_dir_all(&dir).await.map_err(|e| AppError::Internal(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(format!("{}.upload", Uuid::now_v7()));
    let mut file = tokio::fs::File::create(&path).await.map_err(|e| AppError::Internal(e.to_string()))?;
    let mut bytes: u64 = 0;
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    let result: AppResult<()> = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| AppError::BadRequest(format!("the upload was interrupted: {e}")))?;
            bytes += chunk.len() as u64;
            if bytes > config.max_import_bytes {
                return Err(AppError::PayloadTooLarge(config.max_import_bytes as usize));
            }
            sha2::Digest::update(&mut hasher, &chunk);
            file.write_all(&chunk).await.map_err(|e| AppError::Internal(e.to_string()))?;
        }
        file.flush().await.map_err(|e| AppError::Internal(e.to_string()))?;
        file.sync_all().await.map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(())
    }
    .await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e);
    }
    if bytes == 0 {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(AppError::validation("file", "the upload is empty"));
    }
    Ok(StoredUpload { path, bytes, digest: hex::encode(sha2::Digest::finalize(hasher)) })
}

fn normalize_header(column: &str) -> String {
    let mut out = String::new();
    for c in column.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').chars().take(64).collect()
}

/// Maps columns whose names match a field (or a common synonym) to it, and
/// every other column to a custom field of the same name.
pub fn suggest_mapping(entity: ImportEntity, columns: &[String]) -> BTreeMap<String, String> {
    let targets = import_targets(entity);
    let synonym = |key: &str| -> Option<&'static str> {
        Some(match key {
            "e_mail" | "email_address" | "mail" => "email",
            "company" | "organization" | "organisation" | "account" | "company_name" => {
                if entity == ImportEntity::Company {
                    "name"
                } else {
                    "company_name"
                }
            }
            "full_name" | "contact_name" | "lead_name" => "name",
            "firstname" | "given_name" => "first_name",
            "lastname" | "surname" | "family_name" => "last_name",
            "job_title" | "position" | "role" => "title",
            "telephone" | "phone_number" | "mobile" => "phone",
            "url" | "web" | "site" => "website",
            "employees" | "headcount" => "employee_count",
            "label" | "labels" | "tag" => "tags",
            _ => return None,
        })
    };
    let mut mapping = BTreeMap::new();
    let mut used: Vec<String> = Vec::new();
    for column in columns {
        let key = normalize_header(column);
        let target = if targets.contains(&key.as_str()) {
            key.clone()
        } else if let Some(t) = synonym(&key).filter(|t| targets.contains(t)) {
            t.to_string()
        } else if key.is_empty() {
            String::new()
        } else {
            format!("cf.{key}")
        };
        // One column per field: a second "Email" column becomes custom.
        let target = if !target.is_empty() && used.contains(&target) { format!("cf.{key}") } else { target };
        if !target.is_empty() {
            used.push(target.clone());
        }
        mapping.insert(column.clone(), target);
    }
    mapping
}

fn check_mapping(entity: ImportEntity, columns: &[String], mapping: &BTreeMap<String, String>) -> AppResult<()> {
    let targets = import_targets(entity);
    let mut used: Vec<&str> = Vec::new();
    for (column, target) in mapping {
        if !columns.contains(column) {
            return Err(AppError::validation(format!("mapping.{column}"), format!("the file has no column {column:?}")));
        }
        if target.is_empty() {
            continue;
        }
        let valid =
            targets.contains(&target.as_str()) || target.strip_prefix("cf.").is_some_and(crate::crm::leads::types::is_custom_field_key);
        if !valid {
            return Err(AppError::validation(
                format!("mapping.{column}"),
                format!("{target:?} is not a field; use one of {} or cf.<key>, or \"\" to skip", targets.join(", ")),
            ));
        }
        if used.contains(&target.as_str()) {
            return Err(AppError::validation(format!("mapping.{column}"), format!("two columns map to {target}")));
        }
        used.push(target);
    }
    if !used.contains(&"name") && !(used.contains(&"first_name") || used.contains(&"last_name")) {
        return Err(AppError::validation("mapping", "map a column to name (or first_name/last_name)"));
    }
    Ok(())
}

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
    let file_name = crate::crm::fields::optional_text("file_name", input.file_name, 255)?;
    let format = input.format.unwrap_or_else(|| guess_format(file_name.as_deref()));
    let path = upload.path.clone();
    let detected = tokio::task::spawn_blocking(move || import_source::detect_columns(format.as_str(), &path))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let (columns, data_offset, data_line) = detected.map_err(|reason| AppError::validation("file", reason))?;
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

// ---------------------------------------------------------------------------
// The job.

/// What one row became.
enum Outcome {
    Created(Uuid),
    Updated(Uuid),
    Skipped(Uuid),
}

struct RowValues {
    fields: Map<String, Value>,
    custom: Map<String, Value>,
    tags: Vec<String>,
}

fn row_values(entity: ImportEntity, mapping: &BTreeMap<String, String>, fields: Vec<(String, String)>) -> Result<RowValues, String> {
    let mut values = RowValues { fields: Map::new(), custom: Map::new(), tags: Vec::new() };
    let (mut first, mut last) = (None, None);
    for (column, text) in fields {
        let Some(target) = mapping.get(&column).filter(|t| !t.is_empty()) else { continue };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        if let Some(key) = target.strip_prefix("cf.") {
            values.custom.insert(key.to_string(), Value::String(text.to_string()));
            continue;
        }
        match target.as_str() {
            "first_name" => first = Some(text.to_string()),
            "last_name" => last = Some(text.to_string()),
            "tags" => values.tags.extend(text.split([';', ',']).map(str::trim).filter(|t| !t.is_empty()).map(str::to_string)),
            "score" | "employee_count" => {
                let n: i64 = text.parse().map_err(|_| format!("{column}: {text:?} is not a whole number"))?;
                values.fields.insert(target.clone(), json!(n));
            }
            "source" if LeadSource::parse(&text.to_lowercase()).is_none() => {
                let options: Vec<&str> = LeadSource::ALL.iter().map(|s| s.as_str()).collect();
                return Err(format!("{column}: source is one of {}", options.join(", ")));
            }
            "status" if LeadStatus::parse(&text.to_lowercase()).filter(|s| *s != LeadStatus::Converted).is_none() => {
                return Err(format!("{column}: status is one of new, working, qualified, disqualified"));
            }
            "source" | "status" => {
                values.fields.insert(target.clone(), json!(text.to_lowercase()));
            }
            _ => {
                values.fields.insert(target.clone(), json!(text));
            }
        }
    }
    if !values.fields.contains_key("name") {
        let joined = [first, last].into_iter().flatten().collect::<Vec<_>>().join(" ");
        if !joined.is_empty() {
            values.fields.insert("name".into(), json!(joined));
        }
    }
    if !values.fields.contains_key("name") {
        return Err("the name is empty".into());
    }
    let _ = entity;
    Ok(values)
}

fn from_fields<T: serde::de::DeserializeOwned>(fields: &Map<String, Value>) -> Result<T, String> {
    serde_json::from_value(Value::Object(fields.clone())).map_err(|e| e.to_string())
}

fn merged(existing: &Value, custom: &Map<String, Value>) -> Value {
    let mut out = existing.as_object().cloned().unwrap_or_default();
    for (k, v) in custom {
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

async fn find_by(tx: &mut Tx, ctx: &Ctx, table: &str, column: &str, value: &str) -> AppResult<Option<Uuid>> {
    crate::crm::fields::oldest_id_where(tx, ctx, table, column, value).await
}

fn dedup_key(values: &RowValues, field: &str) -> AppResult<Option<String>> {
    match values.fields.get(field).and_then(Value::as_str) {
        None => Ok(None),
        Some(text) if field == "email" => crate::platform::accounts::normalize_email("email", text).map(Some),
        Some(text) => Ok(Some(text.trim().to_lowercase())),
    }
}

async fn import_row(tx: &mut Tx, ctx: &Ctx, entity: ImportEntity, dedup: DedupMode, values: RowValues) -> AppResult<Outcome> {
    let bad = |reason: String| AppError::Validation { field: None, message: reason };
    match entity {
        ImportEntity::Lead => {
            let existing = match (dedup, dedup_key(&values, "email")?) {
                (DedupMode::Create, _) | (_, None) => None,
                (_, Some(email)) => find_by(tx, ctx, "leads", "email", &email).await?,
            };
            match (existing, dedup) {
                (Some(id), DedupMode::Skip) => Ok(Outcome::Skipped(id)),
                (Some(id), _) => {
                    let lead = leads::get(tx, ctx, id).await?;
                    let mut patch: LeadPatch = from_fields(&values.fields).map_err(bad)?;
                    if !values.custom.is_empty() {
                        patch.custom_fields = Some(merged(&lead.custom_fields, &values.custom));
                    }
                    if !values.tags.is_empty() {
                        patch.tags = Some(lead.tags.iter().cloned().chain(values.tags).collect());
                    }
                    leads::update(tx, ctx, id, patch).await.map(|l| Outcome::Updated(l.id))
                }
                (None, _) => {
                    let mut input: NewLead = from_fields(&values.fields).map_err(bad)?;
                    input.source = input.source.or(Some(LeadSource::Import));
                    input.custom_fields = (!values.custom.is_empty()).then(|| Value::Object(values.custom));
                    input.tags = (!values.tags.is_empty()).then_some(values.tags);
                    leads::create(tx, ctx, input).await.map(|l| Outcome::Created(l.id))
                }
            }
        }
        ImportEntity::Contact => {
            let existing = match (dedup, dedup_key(&values, "email")?) {
                (DedupMode::Create, _) | (_, None) => None,
                (_, Some(email)) => contacts::find_by_email(tx, ctx, &email).await?,
            };
            match (existing, dedup) {
                (Some(c), DedupMode::Skip) => Ok(Outcome::Skipped(c.id)),
                (Some(c), _) => {
                    let mut patch: ContactPatch = from_fields(&values.fields).map_err(bad)?;
                    if !values.custom.is_empty() {
                        patch.custom_fields = Some(merged(&c.custom_fields, &values.custom));
                    }
                    contacts::update(tx, ctx, c.id, patch).await.map(|c| Outcome::Updated(c.id))
                }
                (None, _) => {
                    let mut input: NewContact = from_fields(&values.fields).map_err(bad)?;
                    input.custom_fields = (!values.custom.is_empty()).then(|| Value::Object(values.custom));
                    contacts::create(tx, ctx, input).await.map(|c| Outcome::Created(c.id))
                }
            }
        }
        ImportEntity::Company => {
            let existing = match (dedup, dedup_key(&values, "domain")?) {
                (DedupMode::Create, _) | (_, None) => None,
                (_, Some(domain)) => find_by(tx, ctx, "companies", "domain", &domain).await?,
            };
            match (existing, dedup) {
                (Some(id), DedupMode::Skip) => Ok(Outcome::Skipped(id)),
                (Some(id), _) => {
                    let company = companies::get(tx, ctx, id).await?;
                    let mut patch: CompanyPatch = from_fields(&values.fields).map_err(bad)?;
                    if !values.custom.is_empty() {
                        patch.custom_fields = Some(merged(&company.custom_fields, &values.custom));
                    }
                    companies::update(tx, ctx, id, patch).await.map(|c| Outcome::Updated(c.id))
                }
                (None, _) => {
                    let mut input: NewCompany = from_fields(&values.fields).map_err(bad)?;
                    input.custom_fields = (!values.custom.is_empty()).then(|| Value::Object(values.custom));
                    companies::create(tx, ctx, input).await.map(|c| Outcome::Created(c.id))
                }
            }
        }
    }
}

fn reason_of(error: &AppError) -> String {
    match error {
        AppError::Database(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            "a record with these values already exists (a duplicate email or domain)".into()
        }
        other => other.public_message(),
    }
}

#[derive(Default)]
struct BatchTally {
    created: i64,
    updated: i64,
    skipped: i64,
    failed: Vec<(i64, String)>,
    ids: Vec<Uuid>,
}

/// Imports a batch in the caller's transaction. `careful` wraps each row
/// in a savepoint; the fast path skips that and asks for a careful retry
/// when a database error (not a validation error) could have left a row
/// half-written or, on PostgreSQL, aborted the transaction.
async fn import_batch(tx: &mut Tx, ctx: &Ctx, job: &ImportRow, records: &[Record], careful: bool) -> AppResult<Option<BatchTally>> {
    let mut tally = BatchTally::default();
    for record in records {
        let values = match &record.fields {
            Err(reason) => Err(reason.clone()),
            Ok(fields) => row_values(job.entity, &job.mapping.0, fields.clone()),
        };
        let values = match values {
            Ok(v) => v,
            Err(reason) => {
                tally.failed.push((record.line as i64, reason));
                continue;
            }
        };
        if careful {
            tx.execute(Q::new("SAVEPOINT import_row")).await?;
        }
        match import_row(tx, ctx, job.entity, job.dedup, values).await {
            Ok(outcome) => {
                if careful {
                    tx.execute(Q::new("RELEASE SAVEPOINT import_row")).await?;
                }
                match outcome {
                    Outcome::Created(id) => {
                        tally.created += 1;
                        tally.ids.push(id);
                    }
                    Outcome::Updated(id) => {
                        tally.updated += 1;
                        tally.ids.push(id);
                    }
                    Outcome::Skipped(id) => {
                        tally.skipped += 1;
                        tally.ids.push(id);
                    }
                }
            }
            Err(AppError::Database(e)) if !careful => {
                tracing::debug!(error = %e, "import batch falls back to savepoints");
                return Ok(None);
            }
            Err(e @ AppError::Database(_)) => {
                tx.execute(Q::new("ROLLBACK TO SAVEPOINT import_row")).await?;
                tx.execute(Q::new("RELEASE SAVEPOINT import_row")).await?;
                tally.failed.push((record.line as i64, reason_of(&e)));
            }
            Err(e) => {
                if careful {
                    tx.execute(Q::new("ROLLBACK TO SAVEPOINT import_row")).await?;
                    tx.execute(Q::new("RELEASE SAVEPOINT import_row")).await?;
                }
                tally.failed.push((record.line as i64, reason_of(&e)));
            }
        }
    }
    Ok(Some(tally))
}

/// The context a job acts in: the importer's workspace, with the CRM
/// rights checked when the import was started.
fn job_ctx(job: &ImportRow) -> Ctx {
    Ctx {
        workspace_id: job.workspace_id,
        user_id: job.created_by,
        api_key_id: job.api_key_id,
        role: None,
        scopes: vec![Scope::CrmRead, Scope::CrmWrite],
    }
}

/// Commits one batch: its rows, its errors, its list memberships and the
/// job's new resume point, all or nothing. Returns false when the job is no
/// longer ours (cancelled, or our lease lapsed and another worker took it):
/// then nothing of the batch is kept.
async fn commit_batch(db: &Db, config: &Config, worker: &str, job: &ImportRow, records: &[Record]) -> AppResult<bool> {
    let ctx = job_ctx(job);
    let last = records.last().expect("a batch has records");
    for careful in [false, true] {
        let mut tx = db.begin().await?;
        let Some(tally) = import_batch(&mut tx, &ctx, job, records, careful).await? else {
            tx.rollback().await?;
            continue;
        };
        let (stored,): (i64,) = tx.fetch_one(Q::new("SELECT COUNT(*) FROM import_errors WHERE import_id = $1").bind(job.id)).await?;
        for (line, reason) in tally.failed.iter().take((MAX_STORED_ERRORS - stored).max(0) as usize) {
            tx.execute(
                Q::new("INSERT INTO import_errors (import_id, line, reason) VALUES ($1, $2, $3) ON CONFLICT (import_id, line) DO NOTHING")
                    .bind(job.id)
                    .bind(*line)
                    .bind(reason.chars().take(500).collect::<String>()),
            )
            .await?;
        }
        if let Some(list_id) = job.list_id {
            let mut ids = tally.ids.clone();
            ids.sort();
            ids.dedup();
            let table = if job.entity == ImportEntity::Company { "companies" } else { "leads" };
            for chunk in ids.chunks(200) {
                let mut select = Q::new("").bind(ctx.workspace_id);
                let placeholders: Vec<String> = chunk.iter().map(|i| select.arg(*i)).collect();
                select.push(&format!("SELECT id FROM {table} WHERE workspace_id = $1 AND id IN ({})", placeholders.join(", ")));
                super::lists::insert_members_from(&mut tx, &ctx, list_id, select, super::types::MembershipReason::Import, now()).await?;
            }
        }
        let at = now();
        let claimed = tx
            .execute(
                Q::new(
                    "UPDATE imports SET bytes_done = $1, lines_done = $2, rows_done = rows_done + $3, \
                     rows_created = rows_created + $4, rows_updated = rows_updated + $5, rows_skipped = rows_skipped + $6, \
                     rows_failed = rows_failed + $7, lease_until = $8, updated_at = $9 \
                     WHERE id = $10 AND status = 'running' AND lease_owner = $11 AND bytes_done = $12",
                )
                .bind(last.end_offset as i64)
                .bind(last.end_line as i64)
                .bind(records.len() as i64)
                .bind(tally.created)
                .bind(tally.updated)
                .bind(tally.skipped)
                .bind(tally.failed.len() as i64)
                .bind(at + chrono::Duration::from_std(config.job_lease).unwrap_or_default())
                .bind(at)
                .bind(job.id)
                .bind(worker)
                .bind(job.bytes_done),
            )
            .await?;
        if claimed != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        return Ok(true);
    }
    Err(AppError::Internal("import batch failed in careful mode".into()))
}

async fn reload(db: &Db, id: Uuid) -> AppResult<ImportRow> {
    let mut tx = db.begin_read().await?;
    let row: ImportRow = tx.fetch_one(Q::new(format!("SELECT {COLUMNS} FROM imports WHERE id = $1")).bind(id)).await?;
    tx.commit().await?;
    Ok(row)
}

/// Takes the oldest runnable import whose lease is free: queued ones, and
/// running ones whose worker stopped renewing (crashed or restarted).
async fn claim(db: &Db, config: &Config, worker: &str) -> AppResult<Option<Uuid>> {
    let mut tx = db.begin().await?;
    let at = now();
    let candidate: Option<(Uuid,)> = tx
        .fetch_optional(
            Q::new(
                "SELECT id FROM imports WHERE status IN ('queued', 'running') \
                 AND (lease_until IS NULL OR lease_until < $1) ORDER BY id LIMIT 1",
            )
            .bind(at),
        )
        .await?;
    let Some((id,)) = candidate else {
        tx.rollback().await?;
        return Ok(None);
    };
    let claimed = tx
        .execute(
            Q::new(
                "UPDATE imports SET status = 'running', lease_owner = $1, lease_until = $2, \
                 started_at = COALESCE(started_at, $3), updated_at = $3 \
                 WHERE id = $4 AND status IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < $3)",
            )
            .bind(worker)
            .bind(at + chrono::Duration::from_std(config.job_lease).unwrap_or_default())
            .bind(at)
            .bind(id),
        )
        .await?;
    tx.commit().await?;
    Ok((claimed == 1).then_some(id))
}

async fn finish(db: &Db, worker: &str, job: &ImportRow, status: ImportStatus, error: Option<String>) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let at = now();
    let done = tx
        .execute(
            Q::new(
                "UPDATE imports SET status = $1, error = $2, finished_at = $3, updated_at = $3, lease_owner = NULL, \
                 lease_until = NULL WHERE id = $4 AND status = 'running' AND lease_owner = $5",
            )
            .bind(status.as_str())
            .bind(error)
            .bind(at)
            .bind(job.id)
            .bind(worker),
        )
        .await?;
    if done == 1 {
        let ctx = job_ctx(job);
        let after = reload_in(&mut tx, job.id).await?;
        audit::record(&mut tx, &ctx, &format!("import.{}", status.as_str()), "import", Some(job.id), None::<&()>, Some(&after.view()))
            .await?;
    }
    tx.commit().await?;
    if done == 1 {
        let _ = tokio::fs::remove_file(&job.file_path).await;
    }
    Ok(())
}

async fn reload_in(tx: &mut Tx, id: Uuid) -> AppResult<ImportRow> {
    Ok(tx.fetch_one(Q::new(format!("SELECT {COLUMNS} FROM imports WHERE id = $1")).bind(id)).await?)
}

/// Runs one claimed import to its end (or until it stops being ours).
pub async fn run(db: &Db, config: &Config, worker: &str, id: Uuid) -> AppResult<()> {
    let mut job = reload(db, id).await?;
    let path = PathBuf::from(&job.file_path);
    let (format, columns) = (job.format.as_str().to_string(), job.columns.0.clone());
    let (offset, line) = (job.bytes_done as u64, job.lines_done as u64);
    let opened = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || import_source::open(&format, &path, &columns, offset, line))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
    };
    let mut source: Box<dyn RecordSource> = match opened {
        Ok(source) => source,
        Err(e) => return finish(db, worker, &job, ImportStatus::Failed, Some(format!("the uploaded file is gone: {e}"))).await,
    };
    let batch_size = config.import_batch.max(1);
    loop {
        let (returned, batch) = tokio::task::spawn_blocking(move || {
            let mut batch = Vec::with_capacity(batch_size);
            let mut error = None;
            while batch.len() < batch_size {
                match source.next_record() {
                    Ok(Some(record)) => batch.push(record),
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            (source, error.map(Err).unwrap_or(Ok(batch)))
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
        source = returned;
        let batch = match batch {
            Ok(batch) => batch,
            Err(e) => return finish(db, worker, &job, ImportStatus::Failed, Some(format!("reading the file failed: {e}"))).await,
        };
        if batch.is_empty() {
            return finish(db, worker, &job, ImportStatus::Completed, None).await;
        }
        if !commit_batch(db, config, worker, &job, &batch).await? {
            tracing::info!(import = %id, "import is no longer ours; stopping");
            return Ok(());
        }
        job = reload(db, id).await?;
        if !config.import_pause.is_zero() {
            tokio::time::sleep(config.import_pause).await;
        }
    }
}

/// The background worker: claims runnable imports one at a time.
pub fn spawn_worker(db: Db, config: Config) -> tokio::task::JoinHandle<()> {
    let worker = format!("worker-{}", Uuid::now_v7());
    tokio::spawn(async move {
        loop {
            match claim(&db, &config, &worker).await {
                Ok(Some(id)) => {
                    if let Err(e) = run(&db, &config, &worker, id).await {
                        tracing::error!(import = %id, error = %e, "import job failed; it will be retried when its lease lapses");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                Ok(None) => tokio::time::sleep(Duration::from_millis(250)).await,
                Err(e) => {
                    tracing::warn!(error = %e, "import worker could not claim a job");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    })
}
