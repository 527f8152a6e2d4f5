//! The approval gate every outbound channel passes: email sequences, ad
//! campaigns and blog posts. A subject is submitted at a version; someone
//! who may approve and is not its author approves or rejects it; approving
//! freezes the subject's terms as canonical JSON and their digest, which
//! the sender (outbox, ad launcher, publisher) re-checks before anything
//! leaves. An edit makes a new version and voids the approval.
//!
//! What is frozen and how a subject's state moves is the subject's own
//! business; who may decide, the requests, the queue, the digest and the
//! diff an approver reads live here, once.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::types::*;
use crate::error::{AppError, AppResult};
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::types::{Role, Scope};

/// A subject of the gate at one version, with who wrote it.
#[derive(Clone, Copy, Debug)]
pub struct Subject {
    pub kind: ApprovalSubject,
    pub id: Uuid,
    pub version: i64,
    pub author_user_id: Option<Uuid>,
    pub author_api_key_id: Option<Uuid>,
}

impl Subject {
    fn noun(&self) -> &'static str {
        match self.kind {
            ApprovalSubject::EmailSequence => "sequence",
            ApprovalSubject::AdCampaign => "ad campaign",
            ApprovalSubject::BlogPost => "blog post",
        }
    }
}

/// Who may decide on a subject: an approver, owner or admin who is not its
/// author; or an API key holding `marketing:approve` that did not create
/// it. `Err` says why not.
pub fn may_decide(ctx: &Ctx, subject: &Subject) -> Result<(), String> {
    let noun = subject.noun();
    match (ctx.role, ctx.api_key_id) {
        (Some(role), _) => {
            if !matches!(role, Role::Approver | Role::Owner | Role::Admin) {
                return Err(format!("only approvers, owners and admins approve {noun}s"));
            }
            if ctx.user_id.is_some() && ctx.user_id == subject.author_user_id {
                return Err(format!("the author of a {noun} cannot approve it; another approver must"));
            }
            Ok(())
        }
        (None, Some(key)) => {
            if !ctx.scopes.contains(&Scope::MarketingApprove) {
                return Err("this API key lacks the marketing:approve scope".into());
            }
            if Some(key) == subject.author_api_key_id {
                return Err(format!("the API key that created a {noun} cannot approve it"));
            }
            Ok(())
        }
        (None, None) => Err("approvals are made by people or by keys granted marketing:approve".into()),
    }
}

/// Submitting and deciding need `marketing:write` or `marketing:approve`.
pub fn require_access(ctx: &Ctx) -> AppResult<()> {
    match ctx.require(Scope::MarketingWrite) {
        Ok(()) => Ok(()),
        Err(e) => ctx.require(Scope::MarketingApprove).map_err(|_| e),
    }
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: Uuid,
    #[sqlx(try_from = "String")]
    subject_type: ApprovalSubject,
    subject_id: Uuid,
    subject_version: i64,
    #[sqlx(try_from = "String")]
    status: ApprovalStatus,
    requested_by_user_id: Option<Uuid>,
    requested_by_api_key_id: Option<Uuid>,
    decided_by_user_id: Option<Uuid>,
    decided_by_api_key_id: Option<Uuid>,
    reason: Option<String>,
    created_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
}

const REQUEST_COLUMNS: &str = "id, subject_type, subject_id, subject_version, status, requested_by_user_id, requested_by_api_key_id, \
     decided_by_user_id, decided_by_api_key_id, reason, created_at, decided_at";

impl From<RequestRow> for ApprovalRequest {
    fn from(r: RequestRow) -> ApprovalRequest {
        let is_sequence = r.subject_type == ApprovalSubject::EmailSequence;
        ApprovalRequest {
            id: r.id,
            subject_type: r.subject_type,
            subject_id: r.subject_id,
            subject_version: r.subject_version,
            sequence_id: is_sequence.then_some(r.subject_id),
            sequence_version: is_sequence.then_some(r.subject_version),
            status: r.status,
            requested_by_user_id: r.requested_by_user_id,
            requested_by_api_key_id: r.requested_by_api_key_id,
            decided_by_user_id: r.decided_by_user_id,
            decided_by_api_key_id: r.decided_by_api_key_id,
            reason: r.reason,
            created_at: r.created_at,
            decided_at: r.decided_at,
        }
    }
}

pub async fn request(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<ApprovalRequest> {
    let row: Option<RequestRow> = tx
        .fetch_optional(
            Q::new(format!("SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE workspace_id = $1 AND id = $2"))
                .bind(ctx.workspace_id)
                .bind(id),
        )
        .await?;
    row.map(ApprovalRequest::from).ok_or(AppError::NotFound("approval request"))
}

/// The open request of a subject, if any.
pub async fn pending(tx: &mut Tx, kind: ApprovalSubject, id: Uuid) -> AppResult<Option<ApprovalRequest>> {
    let row: Option<RequestRow> = tx
        .fetch_optional(
            Q::new(format!(
                "SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE subject_type = $1 AND subject_id = $2 AND status = 'pending' \
                 ORDER BY id DESC LIMIT 1"
            ))
            .bind(kind.as_str())
            .bind(id),
        )
        .await?;
    Ok(row.map(ApprovalRequest::from))
}

/// Every request of a subject, newest first.
pub async fn history(tx: &mut Tx, kind: ApprovalSubject, id: Uuid) -> AppResult<Vec<ApprovalRequest>> {
    let rows: Vec<RequestRow> = tx
        .fetch_all(
            Q::new(format!("SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE subject_type = $1 AND subject_id = $2 ORDER BY id DESC"))
                .bind(kind.as_str())
                .bind(id),
        )
        .await?;
    Ok(rows.into_iter().map(ApprovalRequest::from).collect())
}

/// Opens a request for the subject's current version (or answers the one
/// already open).
pub async fn open(tx: &mut Tx, ctx: &Ctx, subject: &Subject) -> AppResult<ApprovalRequest> {
    if let Some(open) = pending(tx, subject.kind, subject.id).await? {
        return Ok(open);
    }
    let id = Uuid::now_v7();
    tx.execute(
        Q::new(
            "INSERT INTO approval_requests (id, workspace_id, subject_type, subject_id, subject_version, status, requested_by_user_id, \
             requested_by_api_key_id, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(subject.kind.as_str())
        .bind(subject.id)
        .bind(subject.version)
        .bind(ctx.user_id)
        .bind(ctx.api_key_id)
        .bind(now()),
    )
    .await?;
    request(tx, ctx, id).await
}

/// Closes the open request with the decision (or records the decision as
/// a request made on the author's behalf when none was open).
pub async fn decide(tx: &mut Tx, ctx: &Ctx, subject: &Subject, status: ApprovalStatus, reason: Option<&str>) -> AppResult<ApprovalRequest> {
    let at = now();
    let request_id = match pending(tx, subject.kind, subject.id).await? {
        Some(request) => request.id,
        None => {
            let id = Uuid::now_v7();
            tx.execute(
                Q::new(
                    "INSERT INTO approval_requests (id, workspace_id, subject_type, subject_id, subject_version, status, \
                     requested_by_user_id, requested_by_api_key_id, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8)",
                )
                .bind(id)
                .bind(ctx.workspace_id)
                .bind(subject.kind.as_str())
                .bind(subject.id)
                .bind(subject.version)
                .bind(subject.author_user_id)
                .bind(subject.author_api_key_id)
                .bind(at),
            )
            .await?;
            id
        }
    };
    tx.execute(
        Q::new(
            "UPDATE approval_requests SET status = $1, reason = $2, decided_by_user_id = $3, decided_by_api_key_id = $4, \
             decided_at = $5 WHERE id = $6",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(ctx.user_id)
        .bind(ctx.api_key_id)
        .bind(at)
        .bind(request_id),
    )
    .await?;
    request(tx, ctx, request_id).await
}

/// Voids a subject's open request (an edit, a cancel).
pub async fn void_pending(tx: &mut Tx, kind: ApprovalSubject, id: Uuid, reason: &str) -> AppResult<()> {
    tx.execute(
        Q::new(
            "UPDATE approval_requests SET status = 'void', reason = $1, decided_at = $2 WHERE subject_type = $3 AND subject_id = $4 \
             AND status = 'pending'",
        )
        .bind(reason)
        .bind(now())
        .bind(kind.as_str())
        .bind(id),
    )
    .await?;
    Ok(())
}

/// The pending requests of a workspace, oldest first.
pub async fn pending_in_workspace(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<ApprovalRequest>> {
    let rows: Vec<RequestRow> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT {REQUEST_COLUMNS} FROM approval_requests WHERE workspace_id = $1 AND status = 'pending' ORDER BY id LIMIT 200"
            ))
            .bind(ctx.workspace_id),
        )
        .await?;
    Ok(rows.into_iter().map(ApprovalRequest::from).collect())
}

/// The approvers' queue across every channel: pending requests, oldest
/// first, each with what an approver needs to pick it up.
pub async fn queue(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<ApprovalQueueItem>> {
    ctx.require(Scope::MarketingRead)?;
    let mut items = Vec::new();
    for request in pending_in_workspace(tx, ctx).await? {
        let item = match request.subject_type {
            ApprovalSubject::EmailSequence => super::sequences::queue_item(tx, ctx, request).await?,
            ApprovalSubject::AdCampaign => super::ads::campaigns::queue_item(tx, ctx, request).await?,
            ApprovalSubject::BlogPost => super::blog::posts::queue_item(tx, ctx, request).await?,
        };
        items.push(item);
    }
    Ok(items)
}

/// A user's name or an API key's, for "requested by".
pub async fn author_name(tx: &mut Tx, user_id: Option<Uuid>, api_key_id: Option<Uuid>) -> AppResult<String> {
    if let Some(user) = user_id {
        let found: Option<(String,)> = tx.fetch_optional(Q::new("SELECT name FROM users WHERE id = $1").bind(user)).await?;
        return Ok(found.map(|(n,)| n).unwrap_or_else(|| "a former member".into()));
    }
    if let Some(key) = api_key_id {
        let found: Option<(String,)> = tx.fetch_optional(Q::new("SELECT name FROM api_keys WHERE id = $1").bind(key)).await?;
        return Ok(format!("API key {}", found.map(|(n,)| n).unwrap_or_default()));
    }
    Ok("Corral".into())
}

/// JSON with its object keys sorted at every level, so that equal values
/// hash equally whatever order a backend gives them back in.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

pub fn digest(value: &Value) -> String {
    hex::encode(Sha256::digest(canonical(value).as_bytes()))
}

/// Lists whose items an approver compares one by one (`steps[1].subject`,
/// `creatives[0].headline`) rather than as a whole.
const ITEMISED: &[&str] = &["steps", "creatives"];

/// Field-by-field differences between the approved terms and the current
/// ones (the `version` key aside).
pub fn diff(before: Option<&Value>, after: &Value) -> Vec<ContentChange> {
    let Some(before) = before else { return Vec::new() };
    let mut changes = Vec::new();
    fn walk(path: String, before: &Value, after: &Value, changes: &mut Vec<ContentChange>) {
        match (before, after) {
            (Value::Object(b), Value::Object(a)) => {
                let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
                keys.sort();
                keys.dedup();
                for key in keys {
                    let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    walk(child, b.get(key).unwrap_or(&Value::Null), a.get(key).unwrap_or(&Value::Null), changes);
                }
            }
            (Value::Array(b), Value::Array(a)) if ITEMISED.contains(&path.as_str()) => {
                for i in 0..b.len().max(a.len()) {
                    walk(format!("{path}[{i}]"), b.get(i).unwrap_or(&Value::Null), a.get(i).unwrap_or(&Value::Null), changes);
                }
            }
            (b, a) if b != a => changes.push(ContentChange { field: path, before: b.clone(), after: a.clone() }),
            _ => {}
        }
    }
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(map) = v.as_object_mut() {
            map.remove("version");
        }
        v
    };
    walk(String::new(), &strip(before), &strip(after), &mut changes);
    changes
}
