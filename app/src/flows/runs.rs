//! Runs and the engine that executes them.
//!
//! A run sits on one step at a time. A worker in every server process
//! leases due runs (PostgreSQL: `FOR UPDATE SKIP LOCKED`), executes the
//! current step and, in one transaction, journals the attempt and moves
//! the run on — so a finished step is never lost and never run again.
//! Corral's own actions (update a lead, tag it, create a task…) write in
//! that same transaction: they happen exactly once. Calls to the outside
//! (HTTP requests, the chat-completions endpoint, enrichment) happen
//! before it: a process killed in between leaves the lease to run out and
//! the step runs again, so HTTP requests carry an `Idempotency-Key` made of
//! the run and the step for the far side to dedupe.

use std::time::Duration;

use futures::StreamExt;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::events::{insert_run, may_enroll, NewRun};
use super::graph::variables_in_text;
use super::types::*;
use super::workflows::{self, check_payload};
use crate::crm::activities::types::{ActivityKind, NewActivity, NewTask};
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::{Config, Ctx, Via};
use crate::platform::db::{now, Backend, Db, Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope};

const DEFAULT_MAX_ATTEMPTS: i64 = 3;

/// Steps one process executes at once.
const STEPS_AT_ONCE: usize = 16;

/// How often each process prunes runs past their workspace's retention.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

#[derive(sqlx::FromRow)]
struct RunRow {
    id: Uuid,
    workspace_id: Uuid,
    workflow_id: Uuid,
    version: i64,
    #[sqlx(try_from = "String")]
    status: RunStatus,
    trigger_type: String,
    subject_id: Option<String>,
    woken_by: Option<sqlx::types::Json<Value>>,
    input: sqlx::types::Json<Value>,
    current_step: Option<String>,
    next_at: Option<DateTime<Utc>>,
    error: Option<String>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

const RUN_COLUMNS: &str =
    "id, workspace_id, workflow_id, version, status, trigger_type, subject_id, woken_by, input, current_step, next_at, error, \
     created_at, started_at, finished_at";

impl From<RunRow> for Run {
    fn from(r: RunRow) -> Run {
        Run {
            id: r.id,
            workflow_id: r.workflow_id,
            version: r.version,
            status: r.status,
            trigger_type: r.trigger_type,
            subject_id: r.subject_id,
            input: r.input.0,
            current_step: r.current_step,
            next_at: r.next_at,
            error: r.error,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct TraceRow {
    step_id: String,
    kind: String,
    attempt: i64,
    #[sqlx(try_from = "String")]
    outcome: StepOutcome,
    input: sqlx::types::Json<Value>,
    output: Option<sqlx::types::Json<Value>>,
    error: Option<String>,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

impl From<TraceRow> for StepTrace {
    fn from(r: TraceRow) -> StepTrace {
        StepTrace {
            step_id: r.step_id,
            kind: r.kind,
            attempt: r.attempt,
            outcome: r.outcome,
            input: r.input.0,
            output: r.output.map(|o| o.0),
            error: r.error,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

async fn run_row(tx: &mut Tx, workspace_id: Uuid, id: Uuid) -> AppResult<RunRow> {
    tx.fetch_optional(
        Q::new(format!("SELECT {RUN_COLUMNS} FROM workflow_runs WHERE workspace_id = $1 AND id = $2")).bind(workspace_id).bind(id),
    )
    .await?
    .ok_or(AppError::NotFound("workflow run"))
}

async fn trace(tx: &mut Tx, workspace_id: Uuid, id: Uuid) -> AppResult<Vec<StepTrace>> {
    let rows: Vec<TraceRow> = tx
        .fetch_all(
            Q::new(
                "SELECT step_id, kind, attempt, outcome, input, output, error, started_at, finished_at FROM workflow_run_steps \
                 WHERE workspace_id = $1 AND run_id = $2 ORDER BY started_at, attempt",
            )
            .bind(workspace_id)
            .bind(id),
        )
        .await?;
    Ok(rows.into_iter().map(StepTrace::from).collect())
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<RunDetail> {
    ctx.require(Scope::FlowsRead)?;
    let run = Run::from(run_row(tx, ctx.workspace_id, id).await?);
    let trace = trace(tx, ctx.workspace_id, id).await?;
    Ok(RunDetail { run, trace })
}

pub async fn list(tx: &mut Tx, ctx: &Ctx, filter: RunFilter) -> AppResult<Page<Run>> {
    ctx.require(Scope::FlowsRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("SELECT {RUN_COLUMNS} FROM workflow_runs WHERE workspace_id = $1")).bind(ctx.workspace_id);
    if let Some(workflow_id) = filter.workflow_id {
        let p = q.arg(workflow_id);
        q.push(&format!(" AND workflow_id = {p}"));
    }
    if let Some(status) = filter.status {
        let p = q.arg(status.as_str());
        q.push(&format!(" AND status = {p}"));
    }
    if let Some(trigger_type) = filter.trigger_type {
        let p = q.arg(trigger_type);
        q.push(&format!(" AND trigger_type = {p}"));
    }
    if let Some(from) = filter.created_from {
        let p = q.arg(from);
        q.push(&format!(" AND created_at >= {p}"));
    }
    if let Some(to) = filter.created_to {
        let p = q.arg(to);
        q.push(&format!(" AND created_at < {p}"));
    }
    page.apply(&mut q, "id");
    let rows: Vec<RunRow> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |r| r.id, Run::from))
}

/// Starts a run of a workflow's published version with a payload checked
/// against its input schema.
pub async fn trigger(tx: &mut Tx, ctx: &Ctx, workflow_id: Uuid, input: TriggerInput) -> AppResult<Run> {
    ctx.require(Scope::FlowsWrite)?;
    let workflow = workflows::workflow_row(tx, ctx, workflow_id).await?;
    if workflow.status == WorkflowStatus::Archived {
        return Err(AppError::Conflict { code: "invalid_state", message: "this workflow is archived".into() });
    }
    let Some(version) = workflow.published_version else {
        return Err(AppError::Conflict { code: "invalid_state", message: "publish a version of this workflow before running it".into() });
    };
    let payload = input.payload.unwrap_or_else(|| json!({}));
    check_payload(&workflow.input_schema, &payload)?;
    let new_run = NewRun {
        workspace_id: ctx.workspace_id,
        workflow_id,
        version,
        trigger_type: "manual",
        trigger_key: None,
        subject_id: subject_of(&payload),
        input: payload,
        source: ctx.record_source(),
    };
    let id = insert_run(tx, new_run).await?.ok_or_else(|| AppError::Internal("a run without a trigger key was a duplicate".into()))?;
    let run = Run::from(run_row(tx, ctx.workspace_id, id).await?);
    audit::record(tx, ctx, "workflow_run.triggered", "workflow_run", Some(id), None::<&()>, Some(&run)).await?;
    Ok(run)
}

/// The record a run's input is about: its lead, deal or invoice.
pub fn subject_of(input: &Value) -> Option<String> {
    ["lead_id", "deal_id", "invoice_id"].iter().find_map(|k| input[*k].as_str().map(str::to_string))
}

/// A signed POST to a webhook trigger: its JSON body (checked against the
/// workflow's input schema) starts a run once per `Idempotency-Key` (or
/// `X-Corral-Event-Id`). Answers the run's id and whether it is new.
pub async fn receive_webhook(
    tx: &mut Tx,
    trigger_id: Uuid,
    signature: Option<&str>,
    event_id: Option<&str>,
    body: &[u8],
) -> AppResult<(Uuid, bool)> {
    type Found = (Uuid, Uuid, Option<String>, String, bool, String, Option<i64>, String);
    let found: Option<Found> = tx
        .fetch_optional(
            Q::new(
                "SELECT w.workspace_id, w.id, w.signing_secret, t.kind, t.active, w.status, w.published_version, w.reenrollment \
                 FROM workflow_triggers t JOIN workflows w ON w.id = t.workflow_id WHERE t.id = $1",
            )
            .bind(trigger_id),
        )
        .await?;
    let Some((workspace_id, workflow_id, Some(secret), kind, active, status, published, reenrollment)) = found else {
        return Err(AppError::NotFound("trigger"));
    };
    if kind != TriggerKind::Webhook.as_str() {
        return Err(AppError::NotFound("trigger"));
    }
    let Some(signature) = signature else {
        return Err(AppError::Unauthenticated("sign the body: X-Corral-Signature: t=<unix time>,v1=<hex HMAC-SHA256>".into()));
    };
    crate::platform::signing::verify_body_signature(&secret, signature, body, "this workflow's signing secret")?;
    let (Some(version), true, "active") = (published, active, status.as_str()) else {
        return Err(AppError::Conflict { code: "invalid_state", message: "this trigger or its workflow is off, or not published".into() });
    };
    let payload: Value = serde_json::from_slice(body).map_err(|e| AppError::validation("body", format!("the body is not JSON: {e}")))?;
    let ctx = system_ctx(workspace_id);
    let schema = workflows::workflow_row(tx, &ctx, workflow_id).await?.input_schema;
    check_payload(&schema, &payload)?;
    let subject_id = subject_of(&payload);
    let trigger_key = event_id.map(|id| format!("webhook:{trigger_id}:{}", id.trim())).filter(|k| k.len() <= 300);
    if let Some(key) = &trigger_key {
        let seen: Option<(Uuid,)> = tx
            .fetch_optional(
                Q::new("SELECT id FROM workflow_runs WHERE workflow_id = $1 AND trigger_key = $2").bind(workflow_id).bind(key.as_str()),
            )
            .await?;
        if let Some((id,)) = seen {
            return Ok((id, false));
        }
    }
    if let Some(subject) = &subject_id {
        if !may_enroll(tx, workflow_id, Reenrollment::parse(&reenrollment).unwrap_or(Reenrollment::AfterFinish), subject).await? {
            return Err(AppError::Conflict { code: "already_enrolled", message: format!("{subject} is already in this workflow") });
        }
    }
    let new_run = NewRun {
        workspace_id,
        workflow_id,
        version,
        trigger_type: super::triggers::WEBHOOK_EVENT,
        trigger_key,
        subject_id,
        input: payload,
        source: "webhook",
    };
    let id = insert_run(tx, new_run)
        .await?
        .ok_or_else(|| AppError::Conflict { code: "duplicate", message: "this event started a run already".into() })?;
    Ok((id, true))
}

/// Pauses a run that has not ended: it stays on its step until resumed.
pub async fn pause(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Run> {
    control(tx, ctx, id, "pause").await
}

pub async fn resume(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Run> {
    control(tx, ctx, id, "resume").await
}

/// Cancels a run: no further step runs.
pub async fn cancel(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Run> {
    control(tx, ctx, id, "cancel").await
}

async fn control(tx: &mut Tx, ctx: &Ctx, id: Uuid, action: &str) -> AppResult<Run> {
    ctx.require(Scope::FlowsWrite)?;
    let before = Run::from(run_row(tx, ctx.workspace_id, id).await?);
    let conflict = |message: String| AppError::Conflict { code: "invalid_state", message };
    let at = now();
    let (status, finished_at) = match (action, before.status) {
        (_, status) if status.is_finished() => return Err(conflict(format!("the run has ended ({})", status.as_str()))),
        ("pause", RunStatus::Paused) => return Ok(before),
        ("resume", status) if status != RunStatus::Paused => return Ok(before),
        ("pause", _) => (RunStatus::Paused, None),
        // A resumed run picks up where it stood: a wait keeps its end.
        ("resume", _) => (if before.started_at.is_some() { RunStatus::Running } else { RunStatus::Queued }, None),
        _ => (RunStatus::Cancelled, Some(at)),
    };
    // A pause or cancel takes effect at the next step: a step already
    // executing finishes and is journaled, then the run stops.
    tx.execute(
        Q::new("UPDATE workflow_runs SET status = $1, finished_at = $2, updated_at = $3 WHERE workspace_id = $4 AND id = $5")
            .bind(status.as_str())
            .bind(finished_at)
            .bind(at)
            .bind(ctx.workspace_id)
            .bind(id),
    )
    .await?;
    let after = Run::from(run_row(tx, ctx.workspace_id, id).await?);
    audit::record(tx, ctx, &format!("workflow_run.{}", status.as_str()), "workflow_run", Some(id), Some(&before), Some(&after)).await?;
    Ok(after)
}

/// Starts this process's flow worker.
pub fn spawn_worker(db: Db, config: Config) -> tokio::task::JoinHandle<()> {
    let worker = format!("flows-{}", Uuid::now_v7().simple());
    tokio::spawn(async move {
        let mut pruned_at: Option<std::time::Instant> = None;
        loop {
            if pruned_at.is_none_or(|t| t.elapsed() > PRUNE_EVERY) {
                pruned_at = Some(std::time::Instant::now());
                if let Err(error) = super::retention::prune(&db).await {
                    tracing::warn!(%error, "pruning old flow runs failed; trying again later");
                }
            }
            match round(&db, &config, &worker).await {
                Ok(handled) if handled > 0 => tokio::task::yield_now().await,
                Ok(_) => tokio::time::sleep(config.flow_poll).await,
                Err(error) => {
                    tracing::warn!(%error, "flow round failed; retrying");
                    tokio::time::sleep(config.flow_poll).await;
                }
            }
        }
    })
}

/// One round: lease the due runs and execute one step of each. Answers how
/// many steps it executed.
pub async fn round(db: &Db, config: &Config, worker: &str) -> AppResult<usize> {
    let dispatched = super::events::dispatch(db).await?;
    let delivered = super::webhooks::deliver_due(db, config).await?;
    let claimed = claim(db, config, worker).await?;
    // Steps of different runs overlap (most wait on the network); each is
    // journaled in its own transaction.
    let outcomes: Vec<(Uuid, AppResult<()>)> = futures::stream::iter(claimed.iter().copied())
        .map(|(workspace_id, run_id)| async move { (run_id, execute_step(db, config, worker, workspace_id, run_id).await) })
        .buffer_unordered(STEPS_AT_ONCE)
        .collect()
        .await;
    for (run_id, outcome) in outcomes {
        if let Err(error) = outcome {
            tracing::warn!(%error, %run_id, "a flow step could not be journaled; its lease will run out and it runs again");
        }
    }
    Ok(dispatched + delivered + claimed.len())
}

/// Leases up to 50 due runs: runs already under way first, then queued
/// runs of workflows under their concurrency limit (a workflow at its limit
/// neither starts more nor holds up the others' runs).
async fn claim(db: &Db, config: &Config, worker: &str) -> AppResult<Vec<(Uuid, Uuid)>> {
    const BATCH: usize = 50;
    let mut tx = db.begin().await?;
    let at = now();
    let lock = if tx.backend() == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let due = "next_at <= $1 AND (lease_until IS NULL OR lease_until < $1)";
    let mut claimed: Vec<(Uuid, Uuid)> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT workspace_id, id FROM workflow_runs WHERE status IN ('running', 'waiting') AND {due} ORDER BY next_at, id LIMIT {BATCH}{lock}"
            ))
            .bind(at),
        )
        .await?;
    let mut started = Vec::new();
    if claimed.len() < BATCH {
        // Running runs per workflow, and each workflow's limit. Waiting runs
        // do not count: a long wait does not hold a slot.
        let load: Vec<(Uuid, i64, i64)> = tx
            .fetch_all(Q::new(
                "SELECT w.id, w.concurrency_limit, COUNT(r.id) FROM workflows w JOIN workflow_runs r ON r.workflow_id = w.id \
                 AND r.status = 'running' GROUP BY w.id, w.concurrency_limit",
            ))
            .await?;
        let mut running: std::collections::HashMap<Uuid, (i64, i64)> = load.into_iter().map(|(id, limit, n)| (id, (limit, n))).collect();
        let mut q = Q::new("").bind(at);
        let full: Vec<String> = running.iter().filter(|(_, (limit, n))| n >= limit).map(|(id, _)| q.arg(*id)).collect();
        let not_full = if full.is_empty() { String::new() } else { format!(" AND workflow_id NOT IN ({})", full.join(", ")) };
        let queued: Vec<(Uuid, Uuid, Uuid, i64)> = tx
            .fetch_all(q.with_sql(format!(
                "SELECT r.workspace_id, r.id, r.workflow_id, w.concurrency_limit FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id \
                 WHERE r.status = 'queued' AND r.next_at <= $1 AND (r.lease_until IS NULL OR r.lease_until < $1){not_full} \
                 ORDER BY r.next_at, r.id LIMIT {}{}",
                BATCH - claimed.len(),
                // Lock the runs only: another process still reads the workflows.
                if lock.is_empty() { "" } else { " FOR UPDATE OF r SKIP LOCKED" }
            )))
            .await?;
        for (workspace_id, id, workflow_id, limit) in queued {
            let slot = running.entry(workflow_id).or_insert((limit, 0));
            if slot.1 >= slot.0 {
                continue;
            }
            slot.1 += 1;
            started.push((id, workflow_id));
            claimed.push((workspace_id, id));
        }
    }
    let lease_until = at + chrono::Duration::from_std(config.job_lease).unwrap_or_else(|_| chrono::Duration::seconds(30));
    for (_, id) in &claimed {
        tx.execute(
            Q::new(
                "UPDATE workflow_runs SET lease_owner = $1, lease_until = $2, status = CASE WHEN status = 'queued' THEN 'running' ELSE status END, \
                 started_at = COALESCE(started_at, $3), updated_at = $3 WHERE id = $4",
            )
            .bind(worker)
            .bind(lease_until)
            .bind(at)
            .bind(*id),
        )
        .await?;
    }
    for (id, workflow_id) in started {
        super::webhooks::enqueue_lifecycle(&mut tx, workflow_id, id, "started", json!({ "run_id": id, "workflow_id": workflow_id }))
            .await?;
    }
    tx.commit().await?;
    Ok(claimed)
}

/// What a step's variables are read from.
fn context(run: &RunRow, outputs: &[StepTrace]) -> Value {
    let mut steps = Map::new();
    for t in outputs.iter().filter(|t| t.outcome == StepOutcome::Succeeded) {
        steps.insert(t.step_id.clone(), json!({ "output": t.output }));
    }
    json!({
        "input": run.input.0,
        "trigger": { "type": run.trigger_type, "data": run.input.0 },
        "steps": steps,
        "run": { "id": run.id },
        "workflow": { "id": run.workflow_id },
    })
}

/// The value at a dotted path (`steps.enrich.output.score`), `Null` when absent.
pub fn lookup<'v>(context: &'v Value, path: &str) -> &'v Value {
    static NULL: Value = Value::Null;
    let mut at = context;
    for part in path.split('.') {
        at = match at {
            Value::Object(map) => map.get(part).unwrap_or(&NULL),
            Value::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)).unwrap_or(&NULL),
            _ => &NULL,
        };
    }
    at
}

/// Fills a step's `{{variables}}`: a string that is one variable becomes
/// that value (a number stays a number); variables inside text become text.
pub fn render(value: &Value, context: &Value) -> Value {
    match value {
        Value::String(text) => {
            let trimmed = text.trim();
            if trimmed.starts_with("{{") && trimmed.ends_with("}}") && trimmed.matches("{{").count() == 1 {
                return lookup(context, trimmed[2..trimmed.len() - 2].trim()).clone();
            }
            let mut names = Vec::new();
            if variables_in_text(text, &mut names).is_err() || names.is_empty() {
                return value.clone();
            }
            let mut out = String::with_capacity(text.len());
            let mut rest = text.as_str();
            while let Some(start) = rest.find("{{") {
                out.push_str(&rest[..start]);
                let after = &rest[start + 2..];
                let end = after.find("}}").unwrap_or(after.len());
                match lookup(context, after[..end].trim()) {
                    Value::String(s) => out.push_str(s),
                    Value::Null => {}
                    other => out.push_str(&other.to_string()),
                }
                rest = after.get(end + 2..).unwrap_or("");
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| render(v, context)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), render(v, context))).collect()),
        other => other.clone(),
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Whether a branch condition holds over the run's data.
pub fn holds(condition: &Condition, context: &Value) -> bool {
    let actual = lookup(context, &condition.var);
    let expected = condition.value.as_ref().unwrap_or(&Value::Null);
    let same = || actual == expected || matches!((number(actual), number(expected)), (Some(a), Some(b)) if a == b);
    match condition.op {
        ConditionOp::IsSet => !actual.is_null() && actual.as_str() != Some(""),
        ConditionOp::Eq => same(),
        ConditionOp::Neq => !same(),
        ConditionOp::Gt | ConditionOp::Lt => {
            let ordering = match (number(actual), number(expected)) {
                (Some(a), Some(b)) => a.partial_cmp(&b),
                _ => match (actual.as_str(), expected.as_str()) {
                    (Some(a), Some(b)) => Some(a.cmp(b)),
                    _ => None,
                },
            };
            ordering == Some(if condition.op == ConditionOp::Gt { std::cmp::Ordering::Greater } else { std::cmp::Ordering::Less })
        }
        ConditionOp::Contains => match (actual, expected) {
            (Value::Array(items), wanted) => items.iter().any(|i| i == wanted),
            (Value::String(text), Value::String(part)) => text.contains(part.as_str()),
            _ => false,
        },
    }
}

/// What executing a step came to.
enum Outcome {
    /// Done: its output, and the step after it.
    Done {
        output: Value,
        next: Option<String>,
    },
    /// A wait that has begun: the run goes on at `until`.
    Wait {
        until: DateTime<Utc>,
    },
    Failed(String),
}

fn text_id(value: &Value, field: &str) -> Result<Uuid, String> {
    value.as_str().and_then(|s| Uuid::parse_str(s.trim()).ok()).ok_or_else(|| format!("{field} is not an id: {value}"))
}

/// The steps run as the system in the run's workspace, with every scope:
/// what a flow may do was decided when it was published.
fn system_ctx(workspace_id: Uuid) -> Ctx {
    Ctx { scopes: Scope::ALL.to_vec(), via: Via::Flow, ..Ctx::system(workspace_id) }
}

async fn execute_step(db: &Db, config: &Config, worker: &str, workspace_id: Uuid, run_id: Uuid) -> AppResult<()> {
    let ctx = system_ctx(workspace_id);
    let mut tx = db.begin_read().await?;
    let run = run_row(&mut tx, workspace_id, run_id).await?;
    let version = workflows::version_row(&mut tx, &ctx, run.workflow_id, run.version).await?;
    let done = trace(&mut tx, workspace_id, run_id).await?;
    tx.commit().await?;
    let graph = version.graph;
    let step_id = run.current_step.clone().unwrap_or_else(|| graph.entry.clone());
    let Some(step) = graph.steps.iter().find(|s| s.id == step_id).cloned() else {
        let missing = Outcome::Failed(format!("step {step_id:?} is not in version {}", run.version));
        return finish(db, config, worker, &run, None, &step_id, Value::Null, Planned::Outcome(missing)).await;
    };
    let context = context(&run, &done);
    let rendered = render(&serde_json::to_value(&step.action).unwrap_or(Value::Null), &context);
    let then = |outcome: Outcome| match outcome {
        Outcome::Done { output, .. } => Outcome::Done { output, next: step.next.clone() },
        other => other,
    };
    let planned = match &step.action {
        Action::Branch { rules, default } => {
            // Rules are compared with their values rendered (a value may be a variable).
            let rules: Vec<BranchRule> = serde_json::from_value(rendered["rules"].clone()).unwrap_or_else(|_| rules.clone());
            let taken = rules.iter().find(|r| holds(&r.when, &context));
            let next = taken.map(|r| r.next.clone()).or_else(|| default.clone());
            Planned::Outcome(Outcome::Done { output: json!({ "next": next, "rule": taken.and_then(|r| r.label.clone()) }), next })
        }
        Action::Wait { event, .. } => {
            Planned::Outcome(match done.iter().find(|t| t.step_id == step.id && t.outcome == StepOutcome::Waiting) {
                // The wait began on an earlier visit and is now due.
                Some(began) => {
                    let woken = run.woken_by.as_ref().map(|w| w.0.clone());
                    then(Outcome::Done {
                        output: json!({ "waited_from": began.started_at, "event": event,
                                        "timed_out": event.is_some() && woken.is_none(), "received": woken.map(|w| w["data"].clone()) }),
                        next: None,
                    })
                }
                None => match wait_until(&step.action, &rendered) {
                    Ok(until) => Outcome::Wait { until },
                    Err(message) => Outcome::Failed(message),
                },
            })
        }
        Action::HttpRequest { .. } => Planned::Outcome(then(http_request(config, &run, &step, &rendered).await)),
        Action::AgentCall { .. } => Planned::Outcome(then(agent_call(db, config, workspace_id, &rendered).await)),
        Action::EnrichLead { .. } => Planned::Outcome(then(enrich(db, config, &ctx, &rendered).await)),
        Action::SendWebhook { .. } => Planned::Outcome(then(send_webhook(db, config, &run, &step, &rendered).await)),
        // Corral's own actions run inside the journal's transaction.
        _ => Planned::OwnAction,
    };
    finish(db, config, worker, &run, Some(&step), &step.id, rendered, planned).await
}

/// A signed POST with the workflow's secret and a key per run and step.
async fn send_webhook(db: &Db, config: &Config, run: &RunRow, step: &Step, input: &Value) -> Outcome {
    let secret = match super::webhooks::secret_of(db, run.workflow_id).await {
        Ok(secret) => secret,
        Err(error) => return Outcome::Failed(error.to_string()),
    };
    let url = input["url"].as_str().unwrap_or_default();
    let body = json!({ "workflow_id": run.workflow_id, "run_id": run.id, "step_id": step.id, "data": input["body"] });
    match super::webhooks::post_signed(config, url, &secret, "step.webhook", &format!("{}:{}", run.id, step.id), &body).await {
        Ok((status, body)) if (200..300).contains(&status) => {
            Outcome::Done { output: json!({ "status": status, "body": body }), next: None }
        }
        Ok((status, body)) => Outcome::Failed(format!("HTTP {status}: {}", body.to_string().chars().take(300).collect::<String>())),
        Err(message) => Outcome::Failed(message),
    }
}

/// When a wait that begins now ends.
fn wait_until(action: &Action, rendered: &Value) -> Result<DateTime<Utc>, String> {
    let Action::Wait { seconds, until, timeout_seconds, .. } = action else { return Err("not a wait".into()) };
    let at = now();
    match (seconds, until, timeout_seconds) {
        (Some(s), _, _) => Ok(at + chrono::Duration::seconds(*s)),
        (_, Some(_), _) => rendered
            .get("until")
            .and_then(Value::as_str)
            .and_then(|u| DateTime::parse_from_rfc3339(u).ok())
            .map(|u| u.with_timezone(&Utc))
            .ok_or_else(|| format!("until is not an RFC 3339 time: {}", rendered["until"])),
        // Events reach waiting runs with the event triggers; until then a
        // wait for an event lasts its timeout.
        (_, _, Some(t)) => Ok(at + chrono::Duration::seconds(*t)),
        _ => Err("the wait has nothing to wait for".to_string()),
    }
}

async fn enrich(db: &Db, config: &Config, ctx: &Ctx, input: &Value) -> Outcome {
    let (lead, connector_id) = match (text_id(&input["lead_id"], "lead_id"), text_id(&input["connector_id"], "connector_id")) {
        (Ok(lead), Ok(connector)) => (lead, connector),
        (Err(e), _) | (_, Err(e)) => return Outcome::Failed(e),
    };
    let input = crate::audience::types::EnrichLead { connector_id };
    match crate::audience::enrichment::enrich_lead(db, ctx, lead, input, config.enrichment_private_networks).await {
        Ok(lead) => Outcome::Done { output: json!(lead), next: None },
        Err(error) => Outcome::Failed(error.to_string()),
    }
}

/// What is left to do for a step when its journal is written: record an
/// outcome reached already, or perform one of Corral's own actions there.
enum Planned {
    Outcome(Outcome),
    OwnAction,
}

/// Performs one of Corral's own actions in the journal's transaction.
async fn own_action(tx: &mut Tx, ctx: &Ctx, config: &Config, run: &RunRow, step: &Step, input: &Value) -> Result<Value, String> {
    let fail = |e: AppError| e.to_string();
    match &step.action {
        Action::SendEmail { .. } => {
            let email = crate::marketing::types::OutboundEmail {
                lead_id: text_id(&input["lead_id"], "lead_id")?,
                connection_id: text_id(&input["connection_id"], "connection_id")?,
                subject: input["subject"].as_str().unwrap_or_default().to_string(),
                html_body: input["html_body"].as_str().unwrap_or_default().to_string(),
                channel: None,
            };
            crate::marketing::outbox::queue_single_email(tx, ctx, email).await.map(|m| json!(m)).map_err(fail)
        }
        Action::AddToSequence { .. } => {
            let lead = text_id(&input["lead_id"], "lead_id")?;
            let sequence = text_id(&input["sequence_id"], "sequence_id")?;
            crate::marketing::sequences::enroll(tx, ctx, sequence, lead, config.sequence_day).await.map(|e| json!(e)).map_err(fail)
        }
        Action::GetLead { .. } => {
            let lead_id = text_id(&input["lead_id"], "lead_id")?;
            let lead = crate::crm::leads::ops::get(tx, ctx, lead_id).await.map_err(fail)?;
            let since = run.started_at.unwrap_or(run.created_at);
            let (activities,): (i64,) = tx
                .fetch_one(
                    Q::new("SELECT COUNT(*) FROM activities WHERE workspace_id = $1 AND lead_id = $2 AND created_at >= $3")
                        .bind(ctx.workspace_id)
                        .bind(lead_id)
                        .bind(since),
                )
                .await
                .map_err(|e| e.to_string())?;
            let mut output = json!(lead);
            output["activities_since_run_started"] = json!(activities);
            Ok(output)
        }
        Action::GetDeal { .. } => {
            let deal_id = text_id(&input["deal_id"], "deal_id")?;
            let deal = crate::crm::deals::ops::get(tx, ctx, deal_id).await.map_err(fail)?;
            let mut output = json!(deal);
            output["days_since_update"] = json!((now() - deal.updated_at).num_days());
            Ok(output)
        }
        Action::UpdateLead { .. } => {
            let lead = text_id(&input["lead_id"], "lead_id")?;
            let patch: crate::crm::leads::types::LeadPatch =
                serde_json::from_value(input["fields"].clone()).map_err(|e| format!("fields: {e}"))?;
            crate::crm::leads::ops::update(tx, ctx, lead, patch).await.map(|l| json!(l)).map_err(fail)
        }
        Action::AddTag { .. } => {
            let lead_id = text_id(&input["lead_id"], "lead_id")?;
            let tag = input["tag"].as_str().map(str::trim).filter(|t| !t.is_empty()).ok_or("tag is empty")?.to_string();
            let lead = crate::crm::leads::ops::get(tx, ctx, lead_id).await.map_err(fail)?;
            if lead.tags.contains(&tag) {
                return Ok(json!({ "lead_id": lead_id, "tags": lead.tags, "added": false }));
            }
            let mut tags = lead.tags.clone();
            tags.push(tag);
            let patch = crate::crm::leads::types::LeadPatch { tags: Some(tags), ..Default::default() };
            let lead = crate::crm::leads::ops::update(tx, ctx, lead_id, patch).await.map_err(fail)?;
            Ok(json!({ "lead_id": lead_id, "tags": lead.tags, "added": true }))
        }
        Action::AddToList { .. } => {
            let lead = text_id(&input["lead_id"], "lead_id")?;
            let list = text_id(&input["list_id"], "list_id")?;
            let change = crate::audience::types::MemberChange { ids: vec![lead], from_segment: None };
            crate::audience::lists::add_members(tx, ctx, list, change).await.map(|r| json!(r)).map_err(fail)
        }
        Action::CreateTask { .. } => {
            let lead_id = match &input["lead_id"] {
                Value::Null => None,
                value => Some(text_id(value, "lead_id")?),
            };
            let mut assignee_id = match &input["assignee_id"] {
                Value::Null => None,
                value => Some(text_id(value, "assignee_id")?),
            };
            if assignee_id.is_none() {
                if let Some(lead_id) = lead_id {
                    assignee_id = crate::crm::leads::ops::get(tx, ctx, lead_id).await.map_err(fail)?.owner_id;
                }
            }
            let deal_id = match &input["deal_id"] {
                Value::Null => None,
                value => Some(text_id(value, "deal_id")?),
            };
            if assignee_id.is_none() {
                if let Some(deal_id) = deal_id {
                    assignee_id = crate::crm::deals::ops::get(tx, ctx, deal_id).await.map_err(fail)?.owner_id;
                }
            }
            let due_at = input["due_in_hours"].as_i64().map(|h| now() + chrono::Duration::hours(h));
            let title = input["title"].as_str().unwrap_or_default().to_string();
            let task = NewTask { title, due_at, assignee_id, lead_id, deal_id, ..Default::default() };
            crate::crm::activities::ops::create_task(tx, ctx, task).await.map(|t| json!(t)).map_err(fail)
        }
        Action::LogActivity { .. } => {
            let lead_id = text_id(&input["lead_id"], "lead_id")?;
            let kind = input["kind"]
                .as_str()
                .and_then(ActivityKind::parse)
                .ok_or_else(|| format!("kind {} is not an activity kind", input["kind"]))?;
            let activity = NewActivity {
                kind,
                subject: input["subject"].as_str().unwrap_or_default().to_string(),
                body: input["body"].as_str().map(str::to_string),
                lead_id: Some(lead_id),
                ..Default::default()
            };
            crate::crm::activities::ops::create_activity(tx, ctx, activity).await.map(|a| json!(a)).map_err(fail)
        }
        other => Err(format!("{} is not one of Corral's own actions", other.kind())),
    }
}

async fn http_request(config: &Config, run: &RunRow, step: &Step, input: &Value) -> Outcome {
    let url = input["url"].as_str().unwrap_or_default().to_string();
    let client = match crate::audience::enrichment::outbound_client(&url, Duration::from_secs(30), config.enrichment_private_networks).await
    {
        Ok(client) => client,
        Err(error) => return Outcome::Failed(error.to_string()),
    };
    let method = reqwest::Method::from_bytes(input["method"].as_str().unwrap_or("POST").as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut request = client.request(method, &url).header("Idempotency-Key", format!("{}:{}", run.id, step.id));
    for (name, value) in input["headers"].as_object().into_iter().flatten() {
        let value = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        request = request.header(name.as_str(), value);
    }
    if let Some(body) = input.get("body").filter(|b| !b.is_null()) {
        request = request.json(body);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            let body = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
            if (200..300).contains(&status) {
                Outcome::Done { output: json!({ "status": status, "body": body }), next: step.next.clone() }
            } else {
                Outcome::Failed(format!("HTTP {status}: {}", body.to_string().chars().take(300).collect::<String>()))
            }
        }
        Err(error) => Outcome::Failed(format!("the request failed: {error}")),
    }
}

/// A prompt to the workspace's chat-completions endpoint; the answer must
/// be a JSON object, which becomes the step's output.
async fn agent_call(db: &Db, config: &Config, workspace_id: Uuid, input: &Value) -> Outcome {
    let endpoint = async {
        let mut tx = db.begin_read().await?;
        let endpoint = crate::marketing::senders::chat_endpoint(&mut tx, workspace_id).await?;
        tx.commit().await?;
        AppResult::Ok(endpoint)
    };
    let Ok(Some((base_url, model, api_key))) = endpoint.await else {
        return Outcome::Failed("no chat-completions endpoint is configured (PUT /api/v1/marketing/chat-completions)".into());
    };
    let url = format!("{base_url}/chat/completions");
    let client = match crate::audience::enrichment::outbound_client(&url, Duration::from_secs(60), config.enrichment_private_networks).await
    {
        Ok(client) => client,
        Err(error) => return Outcome::Failed(error.to_string()),
    };
    let body = json!({
        "model": model,
        "messages": [
            {"role": "system", "content": "Answer with one JSON object only."},
            {"role": "user", "content": input["prompt"]},
        ],
        "response_format": {"type": "json_object"},
    });
    let mut request = client.post(&url).json(&body);
    if let Some(key) = api_key {
        request = request.bearer_auth(key);
    }
    let answer = match request.send().await {
        Ok(response) if response.status().is_success() => response.json::<Value>().await.map_err(|e| e.to_string()),
        Ok(response) => Err(format!("the endpoint answered HTTP {}", response.status().as_u16())),
        Err(error) => Err(format!("the request failed: {error}")),
    };
    let content =
        answer.and_then(|a| a["choices"][0]["message"]["content"].as_str().map(str::to_string).ok_or("no message content".into()));
    match content.and_then(|c| serde_json::from_str::<Value>(&c).map_err(|e| format!("the answer is not JSON: {e}"))) {
        Ok(output) if output.is_object() => Outcome::Done { output, next: None },
        Ok(other) => Outcome::Failed(format!("the answer is not a JSON object: {other}")),
        Err(message) => Outcome::Failed(message),
    }
}

/// Journals a step's attempt and moves the run on, in one transaction —
/// only while this worker still holds the run's lease. A run paused
/// meanwhile keeps the step's result and stays paused; a cancelled one
/// journals nothing more.
#[allow(clippy::too_many_arguments)]
async fn finish(
    db: &Db,
    config: &Config,
    worker: &str,
    run: &RunRow,
    step: Option<&Step>,
    step_id: &str,
    input: Value,
    planned: Planned,
) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let at = now();
    let lock = if tx.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
    let held: Option<(String,)> = tx
        .fetch_optional(
            Q::new(format!("SELECT status FROM workflow_runs WHERE id = $1 AND lease_owner = $2{lock}")).bind(run.id).bind(worker),
        )
        .await?;
    let status_now = held.as_ref().and_then(|(s,)| RunStatus::parse(s));
    if matches!(status_now, None | Some(RunStatus::Cancelled)) {
        // Taken over (the lease ran out) or cancelled: nothing is journaled.
        tx.execute(
            Q::new("UPDATE workflow_runs SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2")
                .bind(run.id)
                .bind(worker),
        )
        .await?;
        tx.commit().await?;
        return Ok(());
    }
    let outcome = match (planned, step) {
        (Planned::Outcome(outcome), _) => outcome,
        (Planned::OwnAction, Some(step)) => {
            let ctx = system_ctx(run.workspace_id);
            match own_action(&mut tx, &ctx, config, run, step, &input).await {
                Ok(output) => Outcome::Done { output, next: step.next.clone() },
                Err(message) => {
                    // The failed action's writes are undone; the attempt is
                    // journaled in a new transaction.
                    tx.rollback().await?;
                    tx = db.begin().await?;
                    tx.fetch_optional::<(String,)>(Q::new(format!("SELECT status FROM workflow_runs WHERE id = $1{lock}")).bind(run.id))
                        .await?;
                    Outcome::Failed(message)
                }
            }
        }
        (Planned::OwnAction, None) => Outcome::Failed(format!("step {step_id:?} is missing")),
    };
    // This attempt's number, and the step's failures before it.
    let (attempt, failed_before): (i64, i64) = tx
        .fetch_one(
            Q::new(
                "SELECT COALESCE(MAX(attempt), 0) + 1, COALESCE(SUM(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END), 0) \
                 FROM workflow_run_steps WHERE run_id = $1 AND step_id = $2",
            )
            .bind(run.id)
            .bind(step_id),
        )
        .await?;
    let (trace_outcome, output, error) = match &outcome {
        Outcome::Done { output, .. } => (StepOutcome::Succeeded, Some(output.clone()), None),
        Outcome::Wait { until } => (StepOutcome::Waiting, Some(json!({ "until": until })), None),
        Outcome::Failed(message) => (StepOutcome::Failed, None, Some(message.clone())),
    };
    tx.execute(
        Q::new(
            "INSERT INTO workflow_run_steps (run_id, step_id, attempt, workspace_id, kind, outcome, input, output, error, started_at, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(run.id)
        .bind(step_id)
        .bind(attempt)
        .bind(run.workspace_id)
        .bind(step.map(|s| s.action.kind()).unwrap_or(""))
        .bind(trace_outcome.as_str())
        .bind(input.clone())
        .bind(output)
        .bind(error)
        .bind(at)
        .bind((trace_outcome != StepOutcome::Waiting).then_some(at)),
    )
    .await?;
    let failures = failed_before + i64::from(trace_outcome == StepOutcome::Failed);
    let max_attempts = step.and_then(|s| s.max_attempts).unwrap_or(DEFAULT_MAX_ATTEMPTS);
    let (status, current, next_at, finished, run_error) = match outcome {
        Outcome::Done { next: Some(next), .. } => (RunStatus::Running, Some(next), Some(at), None, None),
        Outcome::Done { next: None, .. } => (RunStatus::Succeeded, None, None, Some(at), None),
        Outcome::Wait { until } => (RunStatus::Waiting, Some(step_id.to_string()), Some(until), None, None),
        Outcome::Failed(message) if failures < max_attempts => {
            // Backoff: 1 s, 2 s, 4 s … up to 5 minutes.
            let backoff = chrono::Duration::seconds(1i64 << (failures - 1).clamp(0, 8)).min(chrono::Duration::minutes(5));
            (RunStatus::Running, Some(step_id.to_string()), Some(at + backoff), None, Some(message))
        }
        Outcome::Failed(message) => {
            (RunStatus::Failed, Some(step_id.to_string()), None, Some(at), Some(format!("step {step_id:?}: {message}")))
        }
    };
    // A run paused meanwhile stays paused (unless it just ended).
    let status = if status_now == Some(RunStatus::Paused) && !status.is_finished() { RunStatus::Paused } else { status };
    // A wait for an event listens for it on the run's record.
    let wait_event = match (trace_outcome, step.map(|s| &s.action)) {
        (StepOutcome::Waiting, Some(Action::Wait { event: Some(event), .. })) => Some(event.clone()),
        _ => None,
    };
    let lifecycle = match status {
        RunStatus::Waiting => Some("waiting"),
        RunStatus::Succeeded => Some("succeeded"),
        RunStatus::Failed => Some("failed"),
        _ => None,
    };
    if let Some(event) = lifecycle {
        let data = json!({ "run_id": run.id, "workflow_id": run.workflow_id, "step_id": step_id, "status": status,
                           "error": run_error, "next_at": next_at });
        super::webhooks::enqueue_lifecycle(&mut tx, run.workflow_id, run.id, event, data).await?;
    }
    tx.execute(
        Q::new(
            "UPDATE workflow_runs SET status = $1, current_step = $2, next_at = $3, finished_at = $4, error = $5, lease_owner = NULL, \
             lease_until = NULL, updated_at = $6, wait_event = $8, woken_by = NULL WHERE id = $7",
        )
        .bind(status.as_str())
        .bind(current)
        .bind(next_at)
        .bind(finished)
        .bind(run_error)
        .bind(at)
        .bind(run.id)
        .bind(wait_event),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Value {
        json!({"input": {"lead_id": "L-1", "score": 72, "tags": ["vip"]}, "steps": {"enrich": {"output": {"industry": "Retail", "size": "50"}}}})
    }

    #[test]
    fn a_lone_variable_keeps_its_type_and_text_variables_become_text() {
        let rendered = render(
            &json!({"score": "{{input.score}}", "text": "Lead {{input.lead_id}} scores {{input.score}}{{input.missing}}"}),
            &context(),
        );
        assert_eq!(rendered, json!({"score": 72, "text": "Lead L-1 scores 72"}));
        assert_eq!(render(&json!("{{ steps.enrich.output.industry }}"), &context()), json!("Retail"));
    }

    #[test]
    fn conditions_compare_numbers_text_lists_and_presence() {
        let cond = |var: &str, op: ConditionOp, value: Value| Condition { var: var.into(), op, value: Some(value) };
        let c = context();
        assert!(holds(&cond("input.score", ConditionOp::Gt, json!(50)), &c));
        assert!(holds(&cond("steps.enrich.output.size", ConditionOp::Eq, json!(50)), &c), "a numeric string equals its number");
        assert!(!holds(&cond("input.score", ConditionOp::Lt, json!("abc")), &c));
        assert!(holds(&cond("input.tags", ConditionOp::Contains, json!("vip")), &c));
        assert!(holds(&cond("steps.enrich.output.industry", ConditionOp::Contains, json!("Ret")), &c));
        assert!(holds(&cond("input.lead_id", ConditionOp::Neq, json!("L-2")), &c));
        assert!(holds(&Condition { var: "input.lead_id".into(), op: ConditionOp::IsSet, value: None }, &c));
        assert!(!holds(&Condition { var: "input.nothing".into(), op: ConditionOp::IsSet, value: None }, &c));
    }
}
