//! Workflows and their versions. Every saved graph is a new, immutable
//! version; publishing one makes it the version new runs start on (the one
//! published before is archived, and its runs keep it); archiving a version
//! keeps its runs.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::types::*;
use super::{graph, triggers};
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope};
use crate::platform::validate::{in_range, optional_text, required_text};

#[derive(sqlx::FromRow)]
struct WorkflowRow {
    id: Uuid,
    workspace_id: Uuid,
    name: String,
    description: Option<String>,
    #[sqlx(try_from = "String")]
    status: WorkflowStatus,
    input_schema: sqlx::types::Json<Value>,
    #[sqlx(try_from = "String")]
    reenrollment: Reenrollment,
    concurrency_limit: i64,
    published_version: Option<i64>,
    latest_version: i64,
    template_slug: Option<String>,
    notify_url: Option<String>,
    source: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const WORKFLOW_COLUMNS: &str = "id, workspace_id, name, description, status, input_schema, reenrollment, concurrency_limit, \
     published_version, latest_version, template_slug, notify_url, source, created_at, updated_at";

impl From<WorkflowRow> for Workflow {
    fn from(r: WorkflowRow) -> Workflow {
        Workflow {
            id: r.id,
            workspace_id: r.workspace_id,
            name: r.name,
            description: r.description,
            status: r.status,
            input_schema: r.input_schema.0,
            reenrollment: r.reenrollment,
            concurrency_limit: r.concurrency_limit,
            notify_url: r.notify_url,
            published_version: r.published_version,
            latest_version: r.latest_version,
            template_slug: r.template_slug,
            source: r.source,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    workflow_id: Uuid,
    version: i64,
    #[sqlx(try_from = "String")]
    state: VersionState,
    graph: sqlx::types::Json<Graph>,
    created_at: DateTime<Utc>,
    published_at: Option<DateTime<Utc>>,
    archived_at: Option<DateTime<Utc>>,
}

impl From<VersionRow> for WorkflowVersion {
    fn from(r: VersionRow) -> WorkflowVersion {
        WorkflowVersion {
            workflow_id: r.workflow_id,
            version: r.version,
            state: r.state,
            graph: r.graph.0,
            created_at: r.created_at,
            published_at: r.published_at,
            archived_at: r.archived_at,
        }
    }
}

pub(super) async fn workflow_row(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Workflow> {
    let row: Option<WorkflowRow> = tx
        .fetch_optional(
            Q::new(format!("SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id),
        )
        .await?;
    row.map(Workflow::from).ok_or(AppError::NotFound("workflow"))
}

pub(super) async fn version_row(tx: &mut Tx, ctx: &Ctx, id: Uuid, version: i64) -> AppResult<WorkflowVersion> {
    let row: Option<VersionRow> = tx
        .fetch_optional(
            Q::new(
                "SELECT workflow_id, version, state, graph, created_at, published_at, archived_at FROM workflow_versions \
                 WHERE workspace_id = $1 AND workflow_id = $2 AND version = $3",
            )
            .bind(ctx.workspace_id)
            .bind(id)
            .bind(version),
        )
        .await?;
    row.map(WorkflowVersion::from).ok_or(AppError::NotFound("workflow version"))
}

async fn versions(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Vec<WorkflowVersion>> {
    let rows: Vec<VersionRow> = tx
        .fetch_all(
            Q::new(
                "SELECT workflow_id, version, state, graph, created_at, published_at, archived_at FROM workflow_versions \
                 WHERE workspace_id = $1 AND workflow_id = $2 ORDER BY version DESC",
            )
            .bind(ctx.workspace_id)
            .bind(id),
        )
        .await?;
    Ok(rows.into_iter().map(WorkflowVersion::from).collect())
}

async fn detail(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<WorkflowDetail> {
    let workflow = workflow_row(tx, ctx, id).await?;
    let versions = versions(tx, ctx, id).await?;
    let graph = versions.first().map(|v| v.graph.clone()).unwrap_or_default();
    let triggers = triggers::of_workflow(tx, ctx, id).await?;
    Ok(WorkflowDetail { workflow, graph, versions, triggers })
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<WorkflowDetail> {
    ctx.require(Scope::FlowsRead)?;
    detail(tx, ctx, id).await
}

pub async fn list(tx: &mut Tx, ctx: &Ctx, filter: WorkflowFilter) -> AppResult<Page<Workflow>> {
    ctx.require(Scope::FlowsRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE workspace_id = $1")).bind(ctx.workspace_id);
    if let Some(status) = filter.status {
        let p = q.arg(status.as_str());
        q.push(&format!(" AND status = {p}"));
    }
    page.apply(&mut q, "id");
    let rows: Vec<WorkflowRow> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |r| r.id, Workflow::from))
}

/// `whsec_` and 32 random bytes: signs webhooks in and out.
fn new_signing_secret() -> String {
    format!("whsec_{}", crate::platform::auth::random_token())
}

fn check_notify_url(url: Option<String>) -> AppResult<Option<String>> {
    let Some(url) = url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()) else { return Ok(None) };
    match reqwest::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && url.len() <= 2000 => Ok(Some(url)),
        _ => Err(AppError::validation("notify_url", "an http or https URL")),
    }
}

/// The secret that signs a workflow's webhooks (a credential: it needs
/// `flows:write` to read). Rotating makes a new one at once.
pub async fn signing_secret(tx: &mut Tx, ctx: &Ctx, id: Uuid, rotate: bool) -> AppResult<SigningSecret> {
    ctx.require(Scope::FlowsWrite)?;
    let workflow = workflow_row(tx, ctx, id).await?;
    let secret = stored_signing_secret(tx, id, rotate).await?;
    if rotate {
        audit::record(tx, ctx, "workflow.signing_secret_rotated", "workflow", Some(id), None::<&()>, None::<&()>).await?;
    }
    Ok(SigningSecret { workflow_id: workflow.id, secret })
}

/// A workflow's signing secret, made here when it has none (workflows older
/// than signing) or when `replace` asks for a new one.
pub(super) async fn stored_signing_secret(tx: &mut Tx, id: Uuid, replace: bool) -> AppResult<String> {
    let (current,): (Option<String>,) = tx.fetch_one(Q::new("SELECT signing_secret FROM workflows WHERE id = $1").bind(id)).await?;
    if let (Some(secret), false) = (current, replace) {
        return Ok(secret);
    }
    let secret = new_signing_secret();
    tx.execute(
        Q::new("UPDATE workflows SET signing_secret = $1, updated_at = $2 WHERE id = $3").bind(secret.as_str()).bind(now()).bind(id),
    )
    .await?;
    Ok(secret)
}

/// The JSON types an input property may declare.
const INPUT_TYPES: &[&str] = &["string", "number", "integer", "boolean", "object", "array"];

/// An input schema: an object schema whose `properties` each declare a
/// type, and whose `required` names are among them.
pub fn check_input_schema(schema: Option<Value>) -> AppResult<Value> {
    let schema = schema.unwrap_or_else(|| json!({"type": "object", "properties": {}}));
    let invalid = |message: String| Err(AppError::validation("input_schema", message));
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return invalid("the input schema is an object schema: {\"type\": \"object\", \"properties\": {…}}".into());
    }
    let empty = serde_json::Map::new();
    let properties = match schema.get("properties") {
        None => &empty,
        Some(Value::Object(p)) => p,
        Some(_) => return invalid("properties is an object of property schemas".into()),
    };
    for (name, property) in properties {
        match property.get("type").and_then(Value::as_str) {
            Some(kind) if INPUT_TYPES.contains(&kind) => {}
            _ => return invalid(format!("property {name:?} declares a type: one of {}", INPUT_TYPES.join(", "))),
        }
    }
    if let Some(required) = schema.get("required") {
        let names = required.as_array().filter(|names| names.iter().all(Value::is_string));
        let Some(names) = names else { return invalid("required is a list of property names".into()) };
        if let Some(missing) = names.iter().filter_map(Value::as_str).find(|n| !properties.contains_key(*n)) {
            return invalid(format!("required names {missing:?}, which is not a property"));
        }
    }
    Ok(schema)
}

/// A payload against a workflow's input schema: required names present,
/// declared types respected, no undeclared names when properties are listed.
pub fn check_payload(schema: &Value, payload: &Value) -> AppResult<()> {
    let Some(object) = payload.as_object() else {
        return Err(AppError::validation("payload", "the payload is a JSON object"));
    };
    let properties = schema.get("properties").and_then(Value::as_object);
    for name in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if object.get(name).is_none_or(Value::is_null) {
            return Err(AppError::validation(format!("payload.{name}"), format!("{name} is required")));
        }
    }
    if let Some(properties) = properties {
        for (name, value) in object {
            let Some(kind) = properties.get(name).and_then(|p| p.get("type")).and_then(Value::as_str) else {
                let known: Vec<&str> = properties.keys().map(String::as_str).collect();
                return Err(AppError::validation(
                    format!("payload.{name}"),
                    format!("{name} is not an input of this workflow ({})", known.join(", ")),
                ));
            };
            let fits = match kind {
                "string" => value.is_string(),
                "number" => value.is_number(),
                "integer" => value.is_i64() || value.is_u64(),
                "boolean" => value.is_boolean(),
                "object" => value.is_object(),
                "array" => value.is_array(),
                _ => true,
            };
            if !fits && !value.is_null() {
                return Err(AppError::validation(format!("payload.{name}"), format!("{name} must be a {kind}")));
            }
        }
    }
    Ok(())
}

/// The graph's problems as one validation error naming the first step.
fn check_graph(graph: &Graph, input_schema: &Value) -> AppResult<()> {
    let problems = graph::check(graph, input_schema);
    if problems.is_empty() {
        return Ok(());
    }
    let described: Vec<String> = problems
        .iter()
        .map(|p| match &p.step_id {
            Some(step) => format!("step {step:?}: {}", p.message),
            None => p.message.clone(),
        })
        .collect();
    let field = match &problems[0].step_id {
        Some(step) => format!("graph.steps.{step}"),
        None => "graph".to_string(),
    };
    Err(AppError::validation(field, described.join("; ")))
}

async fn insert_version(tx: &mut Tx, ctx: &Ctx, id: Uuid, version: i64, graph: &Graph, publish: bool) -> AppResult<()> {
    let at = now();
    tx.execute(
        Q::new(
            "INSERT INTO workflow_versions (workflow_id, version, workspace_id, state, graph, created_at, published_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(version)
        .bind(ctx.workspace_id)
        .bind(if publish { VersionState::Published } else { VersionState::Draft }.as_str())
        .bind(json!(graph))
        .bind(at)
        .bind(publish.then_some(at)),
    )
    .await?;
    Ok(())
}

pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewWorkflow) -> AppResult<WorkflowDetail> {
    create_with_template(tx, ctx, input, None).await
}

pub(super) async fn create_with_template(tx: &mut Tx, ctx: &Ctx, input: NewWorkflow, template: Option<&str>) -> AppResult<WorkflowDetail> {
    ctx.require(Scope::FlowsWrite)?;
    let name = required_text("name", &input.name, 200)?;
    let description = optional_text("description", input.description, 2000)?;
    let input_schema = check_input_schema(input.input_schema)?;
    check_graph(&input.graph, &input_schema)?;
    let concurrency_limit = in_range("concurrency_limit", input.concurrency_limit.unwrap_or(10), 1, 1000)?;
    let notify_url = check_notify_url(input.notify_url)?;
    let publish = input.publish.unwrap_or(false);
    let id = Uuid::now_v7();
    let at = now();
    tx.execute(
        Q::new(
            "INSERT INTO workflows (id, workspace_id, name, description, status, input_schema, reenrollment, concurrency_limit, \
             published_version, latest_version, template_slug, source, last_agent_actor_id, created_at, updated_at, \
             notify_url, signing_secret) \
             VALUES ($1, $2, $3, $4, 'active', $5, $6, $7, $8, 1, $9, $10, $11, $12, $12, $13, $14)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(name)
        .bind(description)
        .bind(input_schema)
        .bind(input.reenrollment.unwrap_or(Reenrollment::AfterFinish).as_str())
        .bind(concurrency_limit)
        .bind(publish.then_some(1i64))
        .bind(template)
        .bind(ctx.record_source())
        .bind(ctx.api_key_id)
        .bind(at)
        .bind(notify_url)
        .bind(new_signing_secret()),
    )
    .await?;
    insert_version(tx, ctx, id, 1, &input.graph, publish).await?;
    let created = detail(tx, ctx, id).await?;
    audit::record(tx, ctx, "workflow.created", "workflow", Some(id), None::<&()>, Some(&created)).await?;
    Ok(created)
}

/// Changes a workflow's settings; a new graph is a new draft version
/// (published with [`publish`]). Runs keep the version they started on.
pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: WorkflowPatch) -> AppResult<WorkflowDetail> {
    ctx.require(Scope::FlowsWrite)?;
    let before = detail(tx, ctx, id).await?;
    let w = &before.workflow;
    let name = match patch.name {
        Some(name) => required_text("name", &name, 200)?,
        None => w.name.clone(),
    };
    let description = match patch.description {
        Some(description) => optional_text("description", description, 2000)?,
        None => w.description.clone(),
    };
    let input_schema = match patch.input_schema {
        Some(schema) => check_input_schema(Some(schema))?,
        None => w.input_schema.clone(),
    };
    let notify_url = match patch.notify_url {
        Some(url) => check_notify_url(url)?,
        None => w.notify_url.clone(),
    };
    let concurrency_limit = in_range("concurrency_limit", patch.concurrency_limit.unwrap_or(w.concurrency_limit), 1, 1000)?;
    // A new input schema must still define every variable the graph uses.
    let graph_changed = patch.graph.as_ref().is_some_and(|g| *g != before.graph);
    check_graph(patch.graph.as_ref().unwrap_or(&before.graph), &input_schema)?;
    let latest = if graph_changed { w.latest_version + 1 } else { w.latest_version };
    if let Some(graph) = patch.graph.as_ref().filter(|_| graph_changed) {
        insert_version(tx, ctx, id, latest, graph, false).await?;
    }
    tx.execute(
        Q::new(
            "UPDATE workflows SET name = $1, description = $2, input_schema = $3, reenrollment = $4, concurrency_limit = $5, \
             status = $6, latest_version = $7, last_agent_actor_id = $8, updated_at = $9, notify_url = $12 \
             WHERE workspace_id = $10 AND id = $11",
        )
        .bind(name)
        .bind(description)
        .bind(input_schema)
        .bind(patch.reenrollment.unwrap_or(w.reenrollment).as_str())
        .bind(concurrency_limit)
        .bind(patch.status.unwrap_or(w.status).as_str())
        .bind(latest)
        .bind(ctx.api_key_id)
        .bind(now())
        .bind(ctx.workspace_id)
        .bind(id)
        .bind(notify_url),
    )
    .await?;
    let after = detail(tx, ctx, id).await?;
    audit::record(tx, ctx, "workflow.updated", "workflow", Some(id), Some(&before.workflow), Some(&after.workflow)).await?;
    Ok(after)
}

/// Publishes a version (the newest when none is named): new runs start on
/// it; the version published before is archived and its runs keep it.
pub async fn publish(tx: &mut Tx, ctx: &Ctx, id: Uuid, version: Option<i64>) -> AppResult<WorkflowDetail> {
    ctx.require(Scope::FlowsWrite)?;
    let workflow = workflow_row(tx, ctx, id).await?;
    let version = version.unwrap_or(workflow.latest_version);
    let target = version_row(tx, ctx, id, version).await?;
    if target.state == VersionState::Published {
        return detail(tx, ctx, id).await;
    }
    // A version is checked again: the input schema may have changed since.
    check_graph(&target.graph, &workflow.input_schema)?;
    let at = now();
    tx.execute(
        Q::new(
            "UPDATE workflow_versions SET state = 'archived', archived_at = $1 WHERE workspace_id = $2 AND workflow_id = $3 \
             AND state = 'published'",
        )
        .bind(at)
        .bind(ctx.workspace_id)
        .bind(id),
    )
    .await?;
    tx.execute(
        Q::new(
            "UPDATE workflow_versions SET state = 'published', published_at = $1, archived_at = NULL WHERE workspace_id = $2 \
             AND workflow_id = $3 AND version = $4",
        )
        .bind(at)
        .bind(ctx.workspace_id)
        .bind(id)
        .bind(version),
    )
    .await?;
    tx.execute(
        Q::new("UPDATE workflows SET published_version = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4")
            .bind(version)
            .bind(at)
            .bind(ctx.workspace_id)
            .bind(id),
    )
    .await?;
    audit::record(
        tx,
        ctx,
        "workflow.published",
        "workflow",
        Some(id),
        Some(&json!({ "published_version": workflow.published_version })),
        Some(&json!({ "published_version": version })),
    )
    .await?;
    detail(tx, ctx, id).await
}

/// Archives a version: no new run starts on it, its runs are kept. The
/// published version is archived by publishing another, or by archiving
/// the workflow.
pub async fn archive_version(tx: &mut Tx, ctx: &Ctx, id: Uuid, version: i64) -> AppResult<WorkflowDetail> {
    ctx.require(Scope::FlowsWrite)?;
    let target = version_row(tx, ctx, id, version).await?;
    match target.state {
        VersionState::Archived => return detail(tx, ctx, id).await,
        VersionState::Published => {
            return Err(AppError::Conflict {
                code: "invalid_state",
                message: "this version is the published one: publish another, or archive the workflow".into(),
            })
        }
        VersionState::Draft => {}
    }
    tx.execute(
        Q::new(
            "UPDATE workflow_versions SET state = 'archived', archived_at = $1 WHERE workspace_id = $2 AND workflow_id = $3 AND version = $4",
        )
        .bind(now())
        .bind(ctx.workspace_id)
        .bind(id)
        .bind(version),
    )
    .await?;
    audit::record(tx, ctx, "workflow.version_archived", "workflow", Some(id), None::<&()>, Some(&json!({ "version": version }))).await?;
    detail(tx, ctx, id).await
}
