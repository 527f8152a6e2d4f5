//! The job: claims an import with a lease, imports its rows in batches,
//! each committed with the resume point, and finishes it.

use std::collections::HashMap;

use super::*;

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
        Some(text) if field == "email" => crate::platform::validate::normalize_email("email", text).map(Some),
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
                (Some(id), _) => update_lead(tx, ctx, id, values).await,
                (None, _) => leads::create(tx, ctx, new_lead_input(values)?).await.map(|l| Outcome::Created(l.id)),
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
                    input.custom_fields = (!values.custom.is_empty()).then_some(Value::Object(values.custom));
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
                    input.custom_fields = (!values.custom.is_empty()).then_some(Value::Object(values.custom));
                    companies::create(tx, ctx, input).await.map(|c| Outcome::Created(c.id))
                }
            }
        }
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

/// A row's new lead as `POST /leads` would take it, sourced `import`
/// unless the row names a source.
fn new_lead_input(values: RowValues) -> AppResult<NewLead> {
    let mut input: NewLead = from_fields(&values.fields).map_err(|reason| AppError::Validation { field: None, message: reason })?;
    input.source = input.source.or(Some(LeadSource::Import));
    input.custom_fields = (!values.custom.is_empty()).then_some(Value::Object(values.custom));
    input.tags = (!values.tags.is_empty()).then_some(values.tags);
    Ok(input)
}

/// The lead an update row merges into: its fields set, custom fields
/// merged key by key, tags added.
async fn update_lead(tx: &mut Tx, ctx: &Ctx, id: Uuid, values: RowValues) -> AppResult<Outcome> {
    let lead = leads::get(tx, ctx, id).await?;
    let mut patch: LeadPatch = from_fields(&values.fields).map_err(|reason| AppError::Validation { field: None, message: reason })?;
    if !values.custom.is_empty() {
        patch.custom_fields = Some(merged(&lead.custom_fields, &values.custom));
    }
    if !values.tags.is_empty() {
        patch.tags = Some(lead.tags.iter().cloned().chain(values.tags).collect());
    }
    leads::update(tx, ctx, id, patch).await.map(|l| Outcome::Updated(l.id))
}

/// The oldest lead of each email among `emails`, in one query per thousand.
async fn leads_by_email(tx: &mut Tx, ctx: &Ctx, emails: &[&str]) -> AppResult<HashMap<String, Uuid>> {
    let mut found: HashMap<String, Uuid> = HashMap::new();
    for chunk in emails.chunks(1000) {
        let mut q = Q::new("").bind(ctx.workspace_id);
        let placeholders: Vec<String> = chunk.iter().map(|e| q.arg(*e)).collect();
        q.push(&format!("SELECT email, id FROM leads WHERE workspace_id = $1 AND email IN ({})", placeholders.join(", ")));
        let rows: Vec<(String, Uuid)> = tx.fetch_all(q).await?;
        for (email, id) in rows {
            found.entry(email).and_modify(|oldest| *oldest = (*oldest).min(id)).or_insert(id);
        }
    }
    Ok(found)
}

/// What the rows of a batch became: each checked in memory, the batch's
/// emails looked up in one query, new leads written many per statement
/// (`leads::insert_many`) and audited by one row naming every id. Updates
/// (dedup=update) go through `leads::update` one by one, since they merge;
/// the leads created so far are written first so an update sees them.
/// `None` asks for the careful row-by-row retry, as in [`import_batch`].
async fn import_lead_batch(tx: &mut Tx, ctx: &Ctx, job: &ImportRow, records: &[Record]) -> AppResult<Option<BatchTally>> {
    let mut tally = BatchTally::default();
    let mut rows: Vec<(u64, RowValues)> = Vec::with_capacity(records.len());
    for record in records {
        match record.fields.clone().and_then(|fields| row_values(job.entity, &job.mapping.0, fields)) {
            Ok(values) => rows.push((record.line, values)),
            Err(reason) => tally.failed.push((record.line as i64, reason)),
        }
    }
    let mut keys: Vec<Option<String>> = Vec::with_capacity(rows.len());
    let mut kept: Vec<(u64, RowValues)> = Vec::with_capacity(rows.len());
    for (line, values) in rows {
        let key = if job.dedup == DedupMode::Create { Ok(None) } else { dedup_key(&values, "email") };
        match key {
            Ok(key) => {
                keys.push(key);
                kept.push((line, values));
            }
            Err(e) => tally.failed.push((line as i64, e.public_message())),
        }
    }
    let emails: Vec<&str> = keys.iter().flatten().map(String::as_str).collect();
    let mut known = if emails.is_empty() { HashMap::new() } else { leads_by_email(tx, ctx, &emails).await? };
    let at = now();
    let fields = crate::crm::custom_fields::ops::declared(tx, ctx).await?;
    let mut pending: Vec<crate::crm::leads::types::Lead> = Vec::new();
    let mut written: Vec<Uuid> = Vec::new();
    for ((line, values), key) in kept.into_iter().zip(keys) {
        let found = key.as_ref().and_then(|k| known.get(k)).copied();
        match (found, job.dedup) {
            (Some(id), DedupMode::Skip) => {
                tally.skipped += 1;
                tally.ids.push(id);
            }
            (Some(id), _) => {
                if let Err(e) = leads::insert_many(tx, ctx, &std::mem::take(&mut pending), Some(job.id)).await {
                    tracing::warn!(error = %e, "import batch falls back to row by row");
                    return Ok(None);
                }
                match update_lead(tx, ctx, id, values).await {
                    Ok(_) => {
                        tally.updated += 1;
                        tally.ids.push(id);
                    }
                    Err(AppError::Database(_) | AppError::Duplicate { .. }) => return Ok(None),
                    Err(e) => tally.failed.push((line as i64, e.public_message())),
                }
            }
            (None, _) => match new_lead_input(values).and_then(|input| leads::new_lead(ctx, input, None, at, &fields)) {
                Ok(lead) => {
                    if let Some(key) = key {
                        known.insert(key, lead.id);
                    }
                    tally.created += 1;
                    tally.ids.push(lead.id);
                    written.push(lead.id);
                    pending.push(lead);
                }
                Err(e) => tally.failed.push((line as i64, e.public_message())),
            },
        }
    }
    if let Err(e) = leads::insert_many(tx, ctx, &pending, Some(job.id)).await {
        tracing::warn!(error = %e, "import batch falls back to row by row");
        return Ok(None);
    }
    if !written.is_empty() {
        let summary = json!({ "import_id": job.id, "count": written.len(), "lead_ids": written });
        audit::record(tx, ctx, "import.leads_created", "import", Some(job.id), None::<&()>, Some(&summary)).await?;
    }
    tally.failed.sort_by_key(|(line, _)| *line);
    Ok(Some(tally))
}

/// Imports a batch in the caller's transaction. `careful` wraps each row
/// in a savepoint; the fast path skips that and asks for a careful retry
/// when a database error (not a validation error) could have left a row
/// half-written or, on PostgreSQL, aborted the transaction.
async fn import_batch(tx: &mut Tx, ctx: &Ctx, job: &ImportRow, records: &[Record], careful: bool) -> AppResult<Option<BatchTally>> {
    if job.entity == ImportEntity::Lead && !careful {
        return import_lead_batch(tx, ctx, job, records).await;
    }
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
            // A database error may have aborted the transaction (PostgreSQL)
            // or left a row half-written: redo the batch row by row.
            Err(e @ (AppError::Database(_) | AppError::Duplicate { .. })) if !careful => {
                tracing::debug!(error = %e, "import batch falls back to savepoints");
                return Ok(None);
            }
            Err(e @ (AppError::Database(_) | AppError::Duplicate { .. })) => {
                tx.execute(Q::new("ROLLBACK TO SAVEPOINT import_row")).await?;
                tx.execute(Q::new("RELEASE SAVEPOINT import_row")).await?;
                tally.failed.push((record.line as i64, e.public_message()));
            }
            Err(e) => {
                if careful {
                    tx.execute(Q::new("ROLLBACK TO SAVEPOINT import_row")).await?;
                    tx.execute(Q::new("RELEASE SAVEPOINT import_row")).await?;
                }
                tally.failed.push((record.line as i64, e.public_message()));
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
        via: crate::platform::context::Via::Import,
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
                crate::audience::lists::insert_members_from(
                    &mut tx,
                    &ctx,
                    list_id,
                    select,
                    crate::audience::types::MembershipReason::Import,
                    now(),
                )
                .await?;
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
