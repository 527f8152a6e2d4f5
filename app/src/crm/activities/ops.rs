//! Activities, tasks, and the timeline that merges activities with the
//! audited changes of a record.

use uuid::Uuid;

use super::types::*;
use crate::crm::fields::{check_owner, owner_condition};
use crate::error::{AppError, AppResult};
use crate::platform::audit::{self, AuditFilter};
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope};
use crate::platform::validate::required_text;
use crate::platform::validate::{check_reference, optional_text};

const ACTIVITY_COLUMNS: &str = "workspace_id, id, kind, subject, body, occurred_at, lead_id, contact_id, company_id, deal_id, \
                                actor_user_id, created_at, source, last_agent_actor_id";
const TASK_COLUMNS: &str = "workspace_id, id, title, due_at, assignee_id, status, lead_id, contact_id, company_id, deal_id, \
                            completed_at, created_at, updated_at, source, last_agent_actor_id";

/// Each named record must exist in this workspace.
async fn check_targets(tx: &mut Tx, ctx: &Ctx, targets: [(&str, &str, Option<Uuid>); 4]) -> AppResult<()> {
    for (field, table, id) in targets {
        check_reference(tx, ctx, field, table, id).await?;
    }
    Ok(())
}

pub async fn create_activity(tx: &mut Tx, ctx: &Ctx, input: NewActivity) -> AppResult<Activity> {
    ctx.require(Scope::CrmWrite)?;
    if input.lead_id.is_none() && input.contact_id.is_none() && input.company_id.is_none() && input.deal_id.is_none() {
        return Err(AppError::validation("lead_id", "an activity needs a lead_id, contact_id, company_id or deal_id"));
    }
    check_targets(
        tx,
        ctx,
        [
            ("lead_id", "leads", input.lead_id),
            ("contact_id", "contacts", input.contact_id),
            ("company_id", "companies", input.company_id),
            ("deal_id", "deals", input.deal_id),
        ],
    )
    .await?;
    let at = now();
    let activity = Activity {
        id: Uuid::now_v7(),
        workspace_id: ctx.workspace_id,
        kind: input.kind,
        subject: required_text("subject", &input.subject, 200)?,
        body: optional_text("body", input.body, 20_000)?,
        occurred_at: input.occurred_at.unwrap_or(at),
        lead_id: input.lead_id,
        contact_id: input.contact_id,
        company_id: input.company_id,
        deal_id: input.deal_id,
        actor_user_id: ctx.user_id,
        source: ctx.record_source().into(),
        last_agent_actor_id: ctx.api_key_id,
        created_at: at,
    };
    tx.execute(
        Q::new(format!("INSERT INTO activities ({ACTIVITY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"))
            .bind(ctx.workspace_id)
            .bind(activity.id)
            .bind(activity.kind.as_str())
            .bind(activity.subject.as_str())
            .bind(activity.body.clone())
            .bind(activity.occurred_at)
            .bind(activity.lead_id)
            .bind(activity.contact_id)
            .bind(activity.company_id)
            .bind(activity.deal_id)
            .bind(activity.actor_user_id)
            .bind(activity.created_at)
            .bind(activity.source.as_str())
            .bind(activity.last_agent_actor_id),
    )
    .await?;
    if let Some(lead_id) = activity.lead_id {
        tx.execute(
            Q::new(
                // updated_at moves too: segments sweep leads by it.
                "UPDATE leads SET last_activity_at = $1, updated_at = $4 WHERE workspace_id = $2 AND id = $3 \
                 AND (last_activity_at IS NULL OR last_activity_at < $1)",
            )
            .bind(activity.occurred_at)
            .bind(ctx.workspace_id)
            .bind(lead_id)
            .bind(now()),
        )
        .await?;
    }
    audit::record(tx, ctx, "activity.created", "activity", Some(activity.id), None::<&()>, Some(&activity)).await?;
    Ok(activity)
}

pub async fn list_activities(tx: &mut Tx, ctx: &Ctx, filter: ActivityFilter) -> AppResult<Page<Activity>> {
    ctx.require(Scope::CrmRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("SELECT {ACTIVITY_COLUMNS} FROM activities WHERE workspace_id = $1")).bind(ctx.workspace_id);
    for (column, value) in
        [("lead_id", filter.lead_id), ("contact_id", filter.contact_id), ("company_id", filter.company_id), ("deal_id", filter.deal_id)]
    {
        if let Some(value) = value {
            let p = q.arg(value);
            q.push(&format!(" AND {column} = {p}"));
        }
    }
    if let Some(kind) = filter.kind {
        let p = q.arg(kind.as_str());
        q.push(&format!(" AND kind = {p}"));
    }
    page.apply(&mut q, "id");
    let rows: Vec<Activity> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |a| a.id, |a| a))
}

async fn find_task(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Option<Task>> {
    Ok(tx
        .fetch_optional(
            Q::new(format!("SELECT {TASK_COLUMNS} FROM tasks WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id),
        )
        .await?)
}

pub async fn create_task(tx: &mut Tx, ctx: &Ctx, input: NewTask) -> AppResult<Task> {
    ctx.require(Scope::CrmWrite)?;
    check_targets(
        tx,
        ctx,
        [
            ("lead_id", "leads", input.lead_id),
            ("contact_id", "contacts", input.contact_id),
            ("company_id", "companies", input.company_id),
            ("deal_id", "deals", input.deal_id),
        ],
    )
    .await?;
    if let Some(assignee) = input.assignee_id {
        check_owner(tx, ctx, Some(assignee))
            .await
            .map_err(|_| AppError::validation("assignee_id", "assignee must be a member of this workspace"))?;
    }
    let at = now();
    let task = Task {
        id: Uuid::now_v7(),
        workspace_id: ctx.workspace_id,
        title: required_text("title", &input.title, 200)?,
        due_at: input.due_at,
        assignee_id: input.assignee_id,
        status: TaskStatus::Open,
        lead_id: input.lead_id,
        contact_id: input.contact_id,
        company_id: input.company_id,
        deal_id: input.deal_id,
        completed_at: None,
        source: ctx.record_source().into(),
        last_agent_actor_id: ctx.api_key_id,
        created_at: at,
        updated_at: at,
    };
    tx.execute(
        Q::new(format!("INSERT INTO tasks ({TASK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"))
            .bind(ctx.workspace_id)
            .bind(task.id)
            .bind(task.title.as_str())
            .bind(task.due_at)
            .bind(task.assignee_id)
            .bind(task.status.as_str())
            .bind(task.lead_id)
            .bind(task.contact_id)
            .bind(task.company_id)
            .bind(task.deal_id)
            .bind(task.completed_at)
            .bind(task.created_at)
            .bind(task.updated_at)
            .bind(task.source.as_str())
            .bind(task.last_agent_actor_id),
    )
    .await?;
    audit::record(tx, ctx, "task.created", "task", Some(task.id), None::<&()>, Some(&task)).await?;
    Ok(task)
}

pub async fn update_task(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: TaskPatch) -> AppResult<Task> {
    ctx.require(Scope::CrmWrite)?;
    let before = find_task(tx, ctx, id).await?.ok_or(AppError::NotFound("task"))?;
    let mut after = before.clone();
    if let Some(title) = patch.title {
        after.title = required_text("title", &title, 200)?;
    }
    if let Some(due_at) = patch.due_at {
        after.due_at = due_at;
    }
    if let Some(assignee) = patch.assignee_id {
        check_owner(tx, ctx, assignee)
            .await
            .map_err(|_| AppError::validation("assignee_id", "assignee must be a member of this workspace"))?;
        after.assignee_id = assignee;
    }
    if let Some(status) = patch.status {
        after.status = status;
        after.completed_at = match status {
            TaskStatus::Done => before.completed_at.or_else(|| Some(now())),
            TaskStatus::Open => None,
        };
    }
    if after == before {
        return Ok(before);
    }
    // A key that changes the record becomes its last agent (audit::record stores it).
    after.last_agent_actor_id = ctx.api_key_id.or(before.last_agent_actor_id);
    after.updated_at = now();
    tx.execute(
        Q::new(
            "UPDATE tasks SET title = $1, due_at = $2, assignee_id = $3, status = $4, completed_at = $5, updated_at = $6 \
             WHERE workspace_id = $7 AND id = $8",
        )
        .bind(after.title.as_str())
        .bind(after.due_at)
        .bind(after.assignee_id)
        .bind(after.status.as_str())
        .bind(after.completed_at)
        .bind(after.updated_at)
        .bind(ctx.workspace_id)
        .bind(id),
    )
    .await?;
    audit::record(tx, ctx, "task.updated", "task", Some(id), Some(&before), Some(&after)).await?;
    Ok(after)
}

pub async fn list_tasks(tx: &mut Tx, ctx: &Ctx, filter: TaskFilter) -> AppResult<Page<Task>> {
    ctx.require(Scope::CrmRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("SELECT {TASK_COLUMNS} FROM tasks WHERE workspace_id = $1")).bind(ctx.workspace_id);
    owner_condition(&mut q, ctx, "assignee_id", filter.assignee.as_deref()).map_err(|e| match e {
        AppError::Validation { message, .. } => AppError::Validation { field: Some("assignee".into()), message },
        other => other,
    })?;
    if let Some(status) = filter.status {
        let p = q.arg(status.as_str());
        q.push(&format!(" AND status = {p}"));
    }
    if let Some(lead_id) = filter.lead_id {
        let p = q.arg(lead_id);
        q.push(&format!(" AND lead_id = {p}"));
    }
    page.apply(&mut q, "id");
    let rows: Vec<Task> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |t| t.id, |t| t))
}

/// A lead's story, newest first: its activities and every audited change to
/// it (creation, edits, status changes, conversion), up to 200 entries.
pub async fn lead_timeline(tx: &mut Tx, ctx: &Ctx, lead_id: Uuid) -> AppResult<Vec<TimelineEntry>> {
    let lead = crate::crm::leads::ops::get(tx, ctx, lead_id).await?;
    let activities = list_activities(tx, ctx, ActivityFilter { lead_id: Some(lead.id), limit: Some(100), ..Default::default() }).await?;
    let changes = audit::query(
        tx,
        ctx,
        AuditFilter { entity_type: Some("lead".into()), entity_id: Some(lead.id), limit: Some(100), ..Default::default() },
    )
    .await?;
    // After conversion the story continues on the deal: its stage moves.
    let deal_moves = match lead.converted_deal_id {
        Some(deal_id) => {
            audit::query(
                tx,
                ctx,
                AuditFilter {
                    entity_type: Some("deal".into()),
                    entity_id: Some(deal_id),
                    action: Some("deal.stage_changed".into()),
                    limit: Some(100),
                    ..Default::default()
                },
            )
            .await?
            .data
        }
        None => Vec::new(),
    };
    let mut entries: Vec<TimelineEntry> = activities
        .data
        .into_iter()
        .map(|a| TimelineEntry {
            at: a.occurred_at,
            entry_type: "activity".into(),
            kind: a.kind.as_str().into(),
            summary: a.subject.clone(),
            actor_user_id: a.actor_user_id,
            data: serde_json::to_value(&a).unwrap_or_default(),
        })
        .chain(changes.data.into_iter().chain(deal_moves).map(|e| {
            let summary = match e.action.as_str() {
                "lead.status_changed" => format!(
                    "Status changed from {} to {}",
                    e.before.as_ref().and_then(|b| b["status"].as_str()).unwrap_or("?"),
                    e.after.as_ref().and_then(|a| a["status"].as_str()).unwrap_or("?")
                ),
                "lead.created" => "Lead created".into(),
                "lead.converted" => "Converted".into(),
                "lead.updated" => "Details updated".into(),
                "deal.stage_changed" => format!(
                    "Deal moved from {} to {}",
                    e.before.as_ref().and_then(|b| b["stage_name"].as_str()).unwrap_or("?"),
                    e.after.as_ref().and_then(|a| a["stage_name"].as_str()).unwrap_or("?")
                ),
                other => other.to_string(),
            };
            TimelineEntry {
                at: e.created_at,
                entry_type: "change".into(),
                kind: e.action.clone(),
                summary,
                actor_user_id: e.actor_user_id,
                data: serde_json::json!({"before": e.before, "after": e.after}),
            }
        }))
        .collect();
    // Leads an import wrote in bulk are audited by one row per batch; the
    // lead names its import.
    if let Some(import) = imported_by(tx, ctx, lead.id).await? {
        entries.push(import);
    }
    entries.sort_by_key(|entry| std::cmp::Reverse(entry.at));
    Ok(entries)
}

/// The import that wrote a lead: its id, file name, who started it, and
/// when the lead was written.
type ImportOfLead = (Uuid, Option<String>, Option<Uuid>, chrono::DateTime<chrono::Utc>);

/// "Imported by import X" for a lead written by an import's bulk path.
async fn imported_by(tx: &mut Tx, ctx: &Ctx, lead_id: Uuid) -> AppResult<Option<TimelineEntry>> {
    let found: Option<ImportOfLead> = tx
        .fetch_optional(
            Q::new(
                "SELECT i.id, i.file_name, i.created_by, l.created_at FROM leads l JOIN imports i ON i.id = l.import_id \
                 WHERE l.workspace_id = $1 AND l.id = $2 AND i.workspace_id = $1",
            )
            .bind(ctx.workspace_id)
            .bind(lead_id),
        )
        .await?;
    Ok(found.map(|(import_id, file_name, created_by, at)| TimelineEntry {
        at,
        entry_type: "change".into(),
        kind: "lead.imported".into(),
        summary: match &file_name {
            Some(name) => format!("Imported by import {import_id} ({name})"),
            None => format!("Imported by import {import_id}"),
        },
        actor_user_id: created_by,
        data: serde_json::json!({ "import_id": import_id, "file_name": file_name }),
    }))
}
