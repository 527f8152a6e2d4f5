//! Email sequences and the approval gate.
//!
//! A sequence is previewed (a draft), submitted, and approved by someone
//! who may approve and is not its author. Approving freezes what would go
//! out — every step, the cadence, the sender's caps and window, the brand,
//! the segment's rules version and the recipient snapshot — as JSON and its
//! digest. Any later change makes a new version and voids the approval;
//! the outbox re-checks the digest before every batch, so nothing reaches a
//! recipient that an approver did not see.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::copy::{self, Recipient};
pub(super) use super::gate::diff;
use super::gate::{self, digest};
use super::senders::{brand_row, mailbox_sender, sender_row, smtp_sender_exists};
use super::types::*;
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope, Workspace};
use crate::platform::validate::{in_range, required_text};

#[derive(sqlx::FromRow)]
pub(super) struct SequenceRow {
    id: Uuid,
    workspace_id: Uuid,
    campaign_id: Uuid,
    name: String,
    objective: String,
    segment_id: Uuid,
    brand_id: Uuid,
    sender_id: Uuid,
    steps: sqlx::types::Json<Vec<SequenceStep>>,
    cadence_days: sqlx::types::Json<Vec<i64>>,
    #[sqlx(try_from = "String")]
    copy_source: CopySource,
    track_opens: bool,
    #[sqlx(try_from = "String")]
    status: SequenceStatus,
    version: i64,
    start_at: Option<DateTime<Utc>>,
    author_user_id: Option<Uuid>,
    author_api_key_id: Option<Uuid>,
    approved_version: Option<i64>,
    approved_digest: Option<String>,
    approved_content: Option<sqlx::types::Json<Value>>,
    approved_by_user_id: Option<Uuid>,
    approved_by_api_key_id: Option<Uuid>,
    approved_at: Option<DateTime<Utc>>,
    recipient_count: Option<i64>,
    status_reason: Option<String>,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    source: String,
    last_agent_actor_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

pub(super) const SEQUENCE_COLUMNS: &str = "id, workspace_id, campaign_id, name, objective, segment_id, brand_id, sender_id, steps, \
     cadence_days, copy_source, track_opens, status, version, start_at, author_user_id, author_api_key_id, approved_version, \
     approved_digest, approved_content, approved_by_user_id, approved_by_api_key_id, approved_at, recipient_count, status_reason, \
     started_at, completed_at, source, last_agent_actor_id, created_at, updated_at";

impl SequenceRow {
    pub(super) fn to_sequence(&self) -> EmailSequence {
        EmailSequence {
            id: self.id,
            workspace_id: self.workspace_id,
            campaign_id: self.campaign_id,
            name: self.name.clone(),
            objective: self.objective.clone(),
            segment_id: self.segment_id,
            brand_id: self.brand_id,
            sender_connector_id: self.sender_id,
            steps: self.steps.0.clone(),
            cadence_days: self.cadence_days.0.clone(),
            copy_source: self.copy_source,
            track_opens: self.track_opens,
            status: self.status,
            version: self.version,
            start_at: self.start_at,
            author_user_id: self.author_user_id,
            author_api_key_id: self.author_api_key_id,
            approved_version: self.approved_version,
            approved_by_user_id: self.approved_by_user_id,
            approved_by_api_key_id: self.approved_by_api_key_id,
            approved_at: self.approved_at,
            recipient_count: self.recipient_count,
            status_reason: self.status_reason.clone(),
            started_at: self.started_at,
            completed_at: self.completed_at,
            source: self.source.clone(),
            last_agent_actor_id: self.last_agent_actor_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub(super) fn approved_content(&self) -> Option<&Value> {
        self.approved_content.as_ref().map(|c| &c.0)
    }

    pub(super) fn approved_digest(&self) -> Option<&str> {
        self.approved_digest.as_deref()
    }

    pub(super) fn status(&self) -> SequenceStatus {
        self.status
    }

    pub(super) fn version(&self) -> i64 {
        self.version
    }

    pub(super) fn approved_version(&self) -> Option<i64> {
        self.approved_version
    }
}

pub(super) async fn find_row(tx: &mut Tx, workspace_id: Uuid, id: Uuid) -> AppResult<Option<SequenceRow>> {
    Ok(tx
        .fetch_optional(
            Q::new(format!("SELECT {SEQUENCE_COLUMNS} FROM email_sequences WHERE workspace_id = $1 AND id = $2"))
                .bind(workspace_id)
                .bind(id),
        )
        .await?)
}

async fn row(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<SequenceRow> {
    find_row(tx, ctx.workspace_id, id).await?.ok_or(AppError::NotFound("email sequence"))
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<EmailSequence> {
    ctx.require(Scope::MarketingRead)?;
    Ok(row(tx, ctx, id).await?.to_sequence())
}

pub async fn list(tx: &mut Tx, ctx: &Ctx, filter: SequenceFilter) -> AppResult<Page<EmailSequence>> {
    ctx.require(Scope::MarketingRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("SELECT {SEQUENCE_COLUMNS} FROM email_sequences WHERE workspace_id = $1")).bind(ctx.workspace_id);
    if let Some(campaign_id) = filter.campaign_id {
        let p = q.arg(campaign_id);
        q.push(&format!(" AND campaign_id = {p}"));
    }
    if let Some(status) = filter.status {
        let p = q.arg(status.as_str());
        q.push(&format!(" AND status = {p}"));
    }
    if let Some(segment_id) = filter.segment_id {
        let p = q.arg(segment_id);
        q.push(&format!(" AND segment_id = {p}"));
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
    let rows: Vec<SequenceRow> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |r| r.id, |r| r.to_sequence()))
}

/// Picks the sender of a new sequence: the one named, else the only SMTP
/// sender, else the built-in mailbox when there is no SMTP sender.
async fn choose_sender(tx: &mut Tx, ctx: &Ctx, asked: Option<Uuid>) -> AppResult<Sender> {
    let smtp_exists = smtp_sender_exists(tx, ctx.workspace_id).await?;
    let sender = match asked {
        Some(id) => sender_row(tx, ctx, id).await.map_err(|_| AppError::validation("sender_connector_id", "no such sender"))?,
        None if !smtp_exists => mailbox_sender(tx, ctx).await?,
        None => {
            let smtp: Vec<(Uuid,)> = tx
                .fetch_all(Q::new("SELECT id FROM email_senders WHERE workspace_id = $1 AND kind = 'smtp'").bind(ctx.workspace_id))
                .await?;
            match smtp.as_slice() {
                [(id,)] => sender_row(tx, ctx, *id).await?,
                _ => return Err(AppError::validation("sender_connector_id", "the workspace has several SMTP senders: choose one")),
            }
        }
    };
    if sender.kind == SenderKind::Mailbox && smtp_exists {
        return Err(AppError::validation(
            "sender_connector_id",
            "the built-in mailbox is for trying Corral out; it is not used once an SMTP sender exists",
        ));
    }
    Ok(sender)
}

/// Creates a sequence from a preview request and the drafted copy
/// ([`copy::draft`]), in a campaign (a new one when none is named).
pub async fn create_preview(
    tx: &mut Tx,
    ctx: &Ctx,
    input: PreviewEmailSequence,
    drafted: (CopySource, Vec<SequenceStep>),
) -> AppResult<SequencePreview> {
    ctx.require(Scope::MarketingWrite)?;
    let objective = required_text("objective", &input.objective, 500)?;
    let (copy_source, steps) = drafted;
    let steps = copy::check_steps(&steps)?;
    let cadence = input.cadence_days.unwrap_or_else(|| copy::default_cadence(steps.len()));
    copy::check_cadence(&cadence, steps.len())?;
    crate::audience::lists::lead_members_query(tx, ctx, input.segment_id, "segment_id", "1").await?;
    let brand = brand_row(tx, ctx, input.brand_id).await.map_err(|_| AppError::validation("brand_id", "no such brand"))?;
    let sender = choose_sender(tx, ctx, input.sender_connector_id).await?;
    let name = match input.name {
        Some(name) => required_text("name", &name, 200)?,
        None => format!("{} ({} emails)", truncate(&objective, 150), steps.len()),
    };
    let campaign_id = match input.campaign_id {
        Some(id) => {
            let campaign = super::campaigns::get(tx, ctx, id).await.map_err(|_| AppError::validation("campaign_id", "no such campaign"))?;
            if campaign.channel != Channel::Email {
                return Err(AppError::validation("campaign_id", "email sequences belong to an email campaign"));
            }
            id
        }
        None => {
            let campaign = NewCampaign {
                name: name.clone(),
                channel: Some(Channel::Email),
                segment_id: Some(input.segment_id),
                brand_id: Some(brand.id),
                owner_id: None,
            };
            super::campaigns::create(tx, ctx, campaign).await?.id
        }
    };
    let id = Uuid::now_v7();
    let at = now();
    tx.execute(
        Q::new(
            "INSERT INTO email_sequences (id, workspace_id, campaign_id, name, objective, segment_id, brand_id, sender_id, steps, \
             cadence_days, copy_source, track_opens, status, version, start_at, author_user_id, author_api_key_id, source, \
             last_agent_actor_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft', 1, $13, $14, $15, $16, $17, $18, $18)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(campaign_id)
        .bind(name)
        .bind(objective)
        .bind(input.segment_id)
        .bind(brand.id)
        .bind(sender.id)
        .bind(json!(steps))
        .bind(json!(cadence))
        .bind(copy_source.as_str())
        .bind(input.track_opens.unwrap_or(true))
        .bind(input.start_at)
        .bind(ctx.user_id)
        .bind(ctx.api_key_id)
        .bind(ctx.record_source())
        .bind(ctx.api_key_id)
        .bind(at),
    )
    .await?;
    let sequence = row(tx, ctx, id).await?;
    audit::record(tx, ctx, "email_sequence.previewed", "email_sequence", Some(id), None::<&()>, Some(&sequence.to_sequence())).await?;
    preview_of(tx, ctx, &sequence).await
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

pub async fn preview(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<SequencePreview> {
    ctx.require(Scope::MarketingRead)?;
    let sequence = row(tx, ctx, id).await?;
    preview_of(tx, ctx, &sequence).await
}

/// The members of the sequence's segment with what decides whether they
/// get it (email, suppression), as a subquery.
async fn audience_query(tx: &mut Tx, ctx: &Ctx, segment_id: Uuid) -> AppResult<Q> {
    crate::audience::lists::lead_members_query(
        tx,
        ctx,
        segment_id,
        "segment_id",
        "leads.id AS lead_id, leads.name AS name, LOWER(leads.email) AS email, leads.company_name AS company_name, \
         leads.title AS title, (SELECT s.reason FROM suppressions s WHERE s.workspace_id = leads.workspace_id \
         AND s.email = LOWER(leads.email)) AS suppression",
    )
    .await
}

/// Who would receive the sequence now: members with an email address that
/// is not suppressed, one per address.
pub(super) async fn current_recipients(tx: &mut Tx, ctx: &Ctx, segment_id: Uuid, limit: Option<i64>) -> AppResult<Vec<Recipient>> {
    let inner = audience_query(tx, ctx, segment_id).await?;
    let limit_sql = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
    let sql = format!(
        "SELECT lead_id, name, email, company_name, title FROM ({}) m \
         WHERE email IS NOT NULL AND email <> '' AND suppression IS NULL ORDER BY lead_id{limit_sql}",
        inner.sql()
    );
    let rows: Vec<Recipient> = tx.fetch_all(inner.with_sql(sql)).await?;
    let mut seen = std::collections::HashSet::new();
    Ok(rows.into_iter().filter(|r| seen.insert(r.email.clone())).collect())
}

/// How many would receive the sequence now ([`current_recipients`],
/// counted by the database rather than loaded).
async fn recipient_count(tx: &mut Tx, ctx: &Ctx, segment_id: Uuid) -> AppResult<i64> {
    let inner = audience_query(tx, ctx, segment_id).await?;
    let sql =
        format!("SELECT COUNT(DISTINCT email) FROM ({}) m WHERE email IS NOT NULL AND email <> '' AND suppression IS NULL", inner.sql());
    let (n,): (i64,) = tx.fetch_one(inner.with_sql(sql)).await?;
    Ok(n)
}

async fn exclusions(tx: &mut Tx, ctx: &Ctx, segment_id: Uuid) -> AppResult<Exclusions> {
    let inner = audience_query(tx, ctx, segment_id).await?;
    let sql = format!(
        "SELECT COUNT(*), \
         COALESCE(SUM(CASE WHEN email IS NULL OR email = '' THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN suppression = 'unsubscribed' THEN 1 ELSE 0 END), 0), \
         COALESCE(SUM(CASE WHEN suppression IS NOT NULL AND suppression <> 'unsubscribed' THEN 1 ELSE 0 END), 0) \
         FROM ({}) m",
        inner.sql()
    );
    let (segment_members, no_email, unsubscribed, suppressed): (i64, i64, i64, i64) = tx.fetch_one(inner.with_sql(sql)).await?;
    Ok(Exclusions { segment_members, no_email, unsubscribed, suppressed })
}

pub(super) fn render_steps(sequence: &SequenceRow, recipient: &Recipient) -> Vec<RenderedStep> {
    sequence
        .steps
        .0
        .iter()
        .enumerate()
        .map(|(i, step)| RenderedStep {
            step_index: i as i64,
            send_on_day: sequence.cadence_days.0.get(i).copied().unwrap_or_default(),
            subject: copy::render(&step.subject, recipient, false),
            html: copy::render(&step.body, recipient, true),
        })
        .collect()
}

async fn preview_of(tx: &mut Tx, ctx: &Ctx, sequence: &SequenceRow) -> AppResult<SequencePreview> {
    let exclusions = exclusions(tx, ctx, sequence.segment_id).await?;
    // Once approved, the frozen snapshot is who gets it; before, the live segment.
    let frozen =
        matches!(sequence.status, SequenceStatus::Approved | SequenceStatus::Sending | SequenceStatus::Paused | SequenceStatus::Completed);
    let (recipient_count, sample) = if frozen {
        let sample: Vec<Recipient> = tx
            .fetch_all(
                Q::new(
                    "SELECT r.lead_id, COALESCE(l.name, r.email) AS name, r.email, l.company_name, l.title FROM sequence_recipients r \
                     LEFT JOIN leads l ON l.id = r.lead_id WHERE r.sequence_id = $1 ORDER BY r.lead_id LIMIT 3",
                )
                .bind(sequence.id),
            )
            .await?;
        (sequence.recipient_count.unwrap_or_default(), sample)
    } else {
        (recipient_count(tx, ctx, sequence.segment_id).await?, current_recipients(tx, ctx, sequence.segment_id, Some(3)).await?)
    };
    let samples = sample
        .iter()
        .map(|r| SampleRecipient {
            lead_id: r.lead_id,
            name: r.name.clone(),
            email: r.email.clone().unwrap_or_default(),
            steps: render_steps(sequence, r),
        })
        .collect();
    let first_send_at = match sequence.status {
        SequenceStatus::Cancelled | SequenceStatus::Completed => None,
        _ => Some(sequence.started_at.or(sequence.start_at).unwrap_or_else(now)),
    };
    Ok(SequencePreview { preview_id: sequence.id, sequence: sequence.to_sequence(), recipient_count, exclusions, samples, first_send_at })
}

/// The part of a sender that an approval covers: where mail goes and how
/// fast and when (not its name or password).
pub(super) fn sender_terms(sender: &Sender) -> Value {
    json!({
        "id": sender.id, "kind": sender.kind, "host": sender.host, "port": sender.port, "security": sender.security,
        "username": sender.username, "per_minute_cap": sender.per_minute_cap, "per_day_cap": sender.per_day_cap,
        "window_start_hour": sender.window_start_hour, "window_end_hour": sender.window_end_hour,
        "window_days": sender.window_days, "time_zone": sender.time_zone,
    })
}

fn brand_terms(brand: &Brand) -> Value {
    json!({ "id": brand.id, "from_name": brand.from_name, "from_email": brand.from_email, "reply_to": brand.reply_to, "footer": brand.footer })
}

/// Everything that decides what a recipient gets, as JSON: what the
/// outbox re-checks before sending.
pub(super) async fn terms(tx: &mut Tx, ctx: &Ctx, sequence: &SequenceRow) -> AppResult<Value> {
    let sender = sender_row(tx, ctx, sequence.sender_id).await?;
    let brand = brand_row(tx, ctx, sequence.brand_id).await?;
    Ok(json!({
        "version": sequence.version,
        "steps": sequence.steps.0,
        "cadence_days": sequence.cadence_days.0,
        "track_opens": sequence.track_opens,
        "start_at": sequence.start_at,
        "sender": sender_terms(&sender),
        "brand": brand_terms(&brand),
    }))
}

impl SequenceRow {
    pub(super) fn subject(&self) -> gate::Subject {
        gate::Subject {
            kind: ApprovalSubject::EmailSequence,
            id: self.id,
            version: self.version,
            author_user_id: self.author_user_id,
            author_api_key_id: self.author_api_key_id,
        }
    }
}

fn may_decide(ctx: &Ctx, sequence: &SequenceRow) -> Result<(), String> {
    gate::may_decide(ctx, &sequence.subject())
}

async fn set_status(tx: &mut Tx, ctx: &Ctx, id: Uuid, status: SequenceStatus, reason: Option<&str>) -> AppResult<()> {
    tx.execute(
        Q::new("UPDATE email_sequences SET status = $1, status_reason = $2, updated_at = $3 WHERE workspace_id = $4 AND id = $5")
            .bind(status.as_str())
            .bind(reason)
            .bind(now())
            .bind(ctx.workspace_id)
            .bind(id),
    )
    .await?;
    Ok(())
}

/// Puts a draft (or rejected) sequence in the approvers' queue.
pub async fn submit(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<ApprovalRequest> {
    gate::require_access(ctx)?;
    let sequence = row(tx, ctx, id).await?;
    match sequence.status {
        SequenceStatus::Draft | SequenceStatus::Rejected => {}
        SequenceStatus::PendingApproval => {
            if let Some(request) = gate::pending(tx, ApprovalSubject::EmailSequence, id).await? {
                return Ok(request);
            }
        }
        other => {
            return Err(AppError::Conflict {
                code: "invalid_state",
                message: format!("a sequence that is {} cannot be submitted for approval", other.as_str()),
            })
        }
    }
    let request = gate::open(tx, ctx, &sequence.subject()).await?;
    set_status(tx, ctx, id, SequenceStatus::PendingApproval, None).await?;
    let current = terms(tx, ctx, &sequence).await?;
    let changes = diff(sequence.approved_content().map(|c| &c["terms"]), &current);
    audit::record(
        tx,
        ctx,
        "email_sequence.submitted",
        "email_sequence",
        Some(id),
        Some(&json!({ "status": sequence.status })),
        Some(&json!({ "status": "pending_approval", "version": sequence.version, "changes_since_approval": changes })),
    )
    .await?;
    Ok(request)
}

/// `approve_email_sequence`: approves when the caller may (see
/// [`may_decide`]); otherwise records an approval request for the
/// approvers' queue and says so.
pub async fn approve(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<ApprovalOutcome> {
    gate::require_access(ctx)?;
    let sequence = row(tx, ctx, id).await?;
    if !matches!(sequence.status, SequenceStatus::Draft | SequenceStatus::PendingApproval) {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!(
                "a sequence that is {} cannot be approved{}",
                sequence.status.as_str(),
                if sequence.status == SequenceStatus::Rejected { " until it is edited or submitted again" } else { "" }
            ),
        });
    }
    if let Err(why) = may_decide(ctx, &sequence) {
        let request = submit(tx, ctx, id).await?;
        let sequence = row(tx, ctx, id).await?.to_sequence();
        return Ok(ApprovalOutcome {
            status: SequenceStatus::PendingApproval,
            sequence,
            approval_request: Some(request),
            message: format!("{why}. The sequence waits in the approvers' queue; nothing is sent until an approver approves it."),
        });
    }
    let recipients = current_recipients(tx, ctx, sequence.segment_id, None).await?;
    if recipients.is_empty() {
        return Err(AppError::validation("segment_id", "no one in the segment can receive this sequence (no email, or suppressed)"));
    }
    tx.execute(Q::new("DELETE FROM sequence_recipients WHERE sequence_id = $1").bind(id)).await?;
    let mut ids: Vec<String> = Vec::with_capacity(recipients.len());
    for chunk in recipients.chunks(200) {
        let mut q = Q::new("INSERT INTO sequence_recipients (sequence_id, lead_id, workspace_id, email) VALUES ");
        for (i, r) in chunk.iter().enumerate() {
            let (s, l, w, e) = (q.arg(id), q.arg(r.lead_id), q.arg(ctx.workspace_id), q.arg(r.email.clone()));
            q.push(&format!("{}({s}, {l}, {w}, {e})", if i > 0 { ", " } else { "" }));
            ids.push(r.lead_id.to_string());
        }
        tx.execute(q).await?;
    }
    ids.sort();
    let (segment_name, segment_version) = crate::audience::lists::rules_version(tx, ctx, sequence.segment_id).await?;
    let current = terms(tx, ctx, &sequence).await?;
    let changes = diff(sequence.approved_content().map(|c| &c["terms"]), &current);
    let content = json!({
        "terms": current,
        "segment": { "name": segment_name, "version": segment_version },
        "recipients": { "count": recipients.len(), "ids_sha256": hex::encode(Sha256::digest(ids.join(",").as_bytes())) },
    });
    let digest = digest(&content);
    let at = now();
    tx.execute(
        Q::new(
            "UPDATE email_sequences SET status = 'approved', status_reason = NULL, approved_version = $1, approved_digest = $2, \
             approved_content = $3, approved_by_user_id = $4, approved_by_api_key_id = $5, approved_at = $6, recipient_count = $7, \
             updated_at = $6 WHERE workspace_id = $8 AND id = $9",
        )
        .bind(sequence.version)
        .bind(digest.as_str())
        .bind(content)
        .bind(ctx.user_id)
        .bind(ctx.api_key_id)
        .bind(at)
        .bind(recipients.len() as i64)
        .bind(ctx.workspace_id)
        .bind(id),
    )
    .await?;
    let decided = gate::decide(tx, ctx, &sequence.subject(), ApprovalStatus::Approved, None).await?;
    let after = row(tx, ctx, id).await?.to_sequence();
    audit::record(
        tx,
        ctx,
        "email_sequence.approved",
        "email_sequence",
        Some(id),
        Some(&json!({ "status": sequence.status, "approved_version": sequence.approved_version })),
        Some(&json!({ "status": "approved", "version": sequence.version, "digest": digest,
                      "recipient_count": recipients.len(), "changes_since_approval": changes })),
    )
    .await?;
    Ok(ApprovalOutcome {
        status: SequenceStatus::Approved,
        sequence: after,
        approval_request: Some(decided),
        message: "approved: the first emails go out at the start time (at once when none is set), within the sender's caps and window"
            .into(),
    })
}

/// Adds one lead to an approved or running sequence — what a flow's
/// `add_to_sequence` step does. The approval covered the segment's rules,
/// not only the people they selected then: a lead those same rules select
/// now (the rules unchanged since approval), with an address that is not
/// suppressed, receives the approved steps on the cadence from now. Any
/// other lead is refused; the approval's content is not touched.
pub async fn enroll(tx: &mut Tx, ctx: &Ctx, id: Uuid, lead_id: Uuid, day_length: std::time::Duration) -> AppResult<Enrollment> {
    ctx.require(Scope::MarketingWrite)?;
    let sequence = row(tx, ctx, id).await?;
    if !matches!(sequence.status, SequenceStatus::Approved | SequenceStatus::Sending | SequenceStatus::Completed) {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!("leads join an approved sequence; this one is {}", sequence.status.as_str()),
        });
    }
    if let Err(why) = super::outbox::approval_holds(tx, ctx, &sequence).await? {
        return Err(AppError::Conflict { code: "approval_void", message: format!("the sequence's approval no longer holds: {why}") });
    }
    let (_, rules_now) = crate::audience::lists::rules_version(tx, ctx, sequence.segment_id).await?;
    if sequence.approved_content().map(|c| &c["segment"]["version"]) != Some(&rules_now) {
        return Err(AppError::Conflict {
            code: "approval_void",
            message: "the segment's rules changed after approval: approve the sequence again before adding leads".into(),
        });
    }
    let inner = audience_query(tx, ctx, sequence.segment_id).await?;
    let mut q = inner.clone();
    let p = q.arg(lead_id);
    let q = q.with_sql(format!("SELECT email, suppression FROM ({}) m WHERE lead_id = {p}", inner.sql()));
    let found: Option<(Option<String>, Option<String>)> = tx.fetch_optional(q).await?;
    let email = match found {
        None => return Err(AppError::validation("lead_id", "the lead is not in the sequence's segment")),
        Some((None, _)) => return Err(AppError::validation("lead_id", "the lead has no email address")),
        Some((Some(email), _)) if email.is_empty() => return Err(AppError::validation("lead_id", "the lead has no email address")),
        Some((Some(email), Some(reason))) => {
            return Err(AppError::Conflict { code: "suppressed", message: format!("{email} is on the suppression list ({reason})") })
        }
        Some((Some(email), None)) => email,
    };
    let added = tx
        .execute(
            Q::new("INSERT INTO sequence_recipients (sequence_id, lead_id, workspace_id, email) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(lead_id)
                .bind(ctx.workspace_id)
                .bind(email.as_str()),
        )
        .await?;
    if added == 0 {
        return Ok(Enrollment { sequence_id: id, lead_id, enrolled: false, queued: 0 });
    }
    let mut queued = 0;
    // An approved sequence queues its recipients when it starts; a running
    // or finished one queues the newcomer's steps now.
    if sequence.status != SequenceStatus::Approved {
        let start = now();
        for (step, day) in sequence.cadence_days.0.iter().enumerate() {
            queued += tx
                .execute(
                    Q::new(
                        "INSERT INTO email_outbox (id, workspace_id, sequence_id, sequence_version, step_index, lead_id, sender_id, \
                         to_email, status, due_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(Uuid::now_v7())
                    .bind(ctx.workspace_id)
                    .bind(id)
                    .bind(sequence.version)
                    .bind(step as i64)
                    .bind(lead_id)
                    .bind(sequence.sender_id)
                    .bind(email.as_str())
                    .bind(step_due(start, *day, day_length))
                    .bind(start),
                )
                .await? as i64;
        }
        tx.execute(
            Q::new(
                "UPDATE email_sequences SET status = 'sending', completed_at = NULL, recipient_count = COALESCE(recipient_count, 0) + 1, \
                 updated_at = $1 WHERE id = $2",
            )
            .bind(start)
            .bind(id),
        )
        .await?;
    } else {
        tx.execute(
            Q::new("UPDATE email_sequences SET recipient_count = COALESCE(recipient_count, 0) + 1, updated_at = $1 WHERE id = $2")
                .bind(now())
                .bind(id),
        )
        .await?;
    }
    let enrollment = Enrollment { sequence_id: id, lead_id, enrolled: true, queued };
    audit::record(tx, ctx, "email_sequence.lead_enrolled", "email_sequence", Some(id), None::<&()>, Some(&enrollment)).await?;
    Ok(enrollment)
}

pub async fn reject(tx: &mut Tx, ctx: &Ctx, id: Uuid, input: Rejection) -> AppResult<EmailSequence> {
    gate::require_access(ctx)?;
    let reason = required_text("reason", &input.reason, 2000)?;
    let sequence = row(tx, ctx, id).await?;
    may_decide(ctx, &sequence).map_err(AppError::Forbidden)?;
    if !matches!(sequence.status, SequenceStatus::Draft | SequenceStatus::PendingApproval) {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!("a sequence that is {} cannot be rejected", sequence.status.as_str()),
        });
    }
    gate::decide(tx, ctx, &sequence.subject(), ApprovalStatus::Rejected, Some(&reason)).await?;
    set_status(tx, ctx, id, SequenceStatus::Rejected, Some(&reason)).await?;
    let current = terms(tx, ctx, &sequence).await?;
    let changes = diff(sequence.approved_content().map(|c| &c["terms"]), &current);
    audit::record(
        tx,
        ctx,
        "email_sequence.rejected",
        "email_sequence",
        Some(id),
        Some(&json!({ "status": sequence.status })),
        Some(&json!({ "status": "rejected", "version": sequence.version, "reason": reason, "changes_since_approval": changes })),
    )
    .await?;
    Ok(row(tx, ctx, id).await?.to_sequence())
}

/// Voids the approval of a sequence (an edit, or a change of its brand or
/// sender): back to draft with the reason; its pending requests are void.
pub(super) async fn void_approval(tx: &mut Tx, ctx: &Ctx, sequence: &SequenceRow, reason: &str) -> AppResult<()> {
    gate::void_pending(tx, ApprovalSubject::EmailSequence, sequence.id, reason).await?;
    set_status(tx, ctx, sequence.id, SequenceStatus::Draft, Some(reason)).await?;
    if matches!(sequence.status, SequenceStatus::Approved | SequenceStatus::Sending | SequenceStatus::Paused) {
        audit::record(
            tx,
            ctx,
            "email_sequence.approval_voided",
            "email_sequence",
            Some(sequence.id),
            Some(&json!({ "status": sequence.status, "approved_version": sequence.approved_version })),
            Some(&json!({ "status": "draft", "reason": reason })),
        )
        .await?;
    }
    Ok(())
}

/// Voids the approvals of the sequences using a changed brand or sender
/// (one that is sending stops: its queued messages wait for a new approval).
pub(super) async fn void_approvals_using(tx: &mut Tx, ctx: &Ctx, column: &str, id: Uuid, reason: &str) -> AppResult<()> {
    let rows: Vec<SequenceRow> = tx
        .fetch_all(
            Q::new(format!(
                "SELECT {SEQUENCE_COLUMNS} FROM email_sequences WHERE workspace_id = $1 AND {column} = $2 \
                 AND status IN ('pending_approval', 'approved', 'sending', 'paused')"
            ))
            .bind(ctx.workspace_id)
            .bind(id),
        )
        .await?;
    for sequence in rows {
        void_approval(tx, ctx, &sequence, reason).await?;
    }
    Ok(())
}

/// A new workspace time zone moves every send window: the approvals that
/// covered the old one are void (a [`WorkspaceHook`]).
///
/// [`WorkspaceHook`]: crate::platform::seeding::WorkspaceHook
pub fn workspace_changed<'t>(
    tx: &'t mut Tx,
    ctx: &'t Ctx,
    before: &'t Workspace,
    after: &'t Workspace,
) -> crate::platform::BoxFuture<'t, AppResult<()>> {
    Box::pin(async move {
        if before.time_zone != after.time_zone {
            void_approvals_using(tx, ctx, "workspace_id", ctx.workspace_id, "the workspace's time zone changed after approval").await?;
        }
        Ok(())
    })
}

/// Edits a sequence: a new version; a pending request or an approval is
/// void. A sequence that is sending is paused first.
pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: SequencePatch) -> AppResult<EmailSequence> {
    ctx.require(Scope::MarketingWrite)?;
    let before = row(tx, ctx, id).await?;
    match before.status {
        SequenceStatus::Sending => {
            return Err(AppError::Conflict { code: "invalid_state", message: "pause the sequence before editing it".into() })
        }
        SequenceStatus::Completed | SequenceStatus::Cancelled => {
            return Err(AppError::Conflict {
                code: "invalid_state",
                message: format!("a {} sequence cannot be edited", before.status.as_str()),
            })
        }
        _ => {}
    }
    let mut steps = before.steps.0.clone();
    let mut copy_source = before.copy_source;
    if let Some(new_steps) = patch.steps {
        steps = copy::check_steps(&new_steps)?;
        if steps != before.steps.0 {
            copy_source = CopySource::Edited;
        }
    }
    let cadence = patch.cadence_days.unwrap_or_else(|| before.cadence_days.0.clone());
    copy::check_cadence(&cadence, steps.len())?;
    let name = match patch.name {
        Some(name) => required_text("name", &name, 200)?,
        None => before.name.clone(),
    };
    let sender_id = match patch.sender_connector_id {
        Some(id) => choose_sender(tx, ctx, Some(id)).await?.id,
        None => before.sender_id,
    };
    let brand_id = match patch.brand_id {
        Some(id) => brand_row(tx, ctx, id).await.map_err(|_| AppError::validation("brand_id", "no such brand"))?.id,
        None => before.brand_id,
    };
    let segment_id = match patch.segment_id {
        Some(id) => {
            crate::audience::lists::lead_members_query(tx, ctx, id, "segment_id", "1").await?;
            id
        }
        None => before.segment_id,
    };
    let start_at = patch.start_at.unwrap_or(before.start_at);
    let track_opens = patch.track_opens.unwrap_or(before.track_opens);
    let version = before.version + 1;
    tx.execute(
        Q::new(
            "UPDATE email_sequences SET name = $1, steps = $2, cadence_days = $3, sender_id = $4, brand_id = $5, segment_id = $6, \
             start_at = $7, track_opens = $8, copy_source = $9, version = $10, updated_at = $11 WHERE workspace_id = $12 AND id = $13",
        )
        .bind(name)
        .bind(json!(steps))
        .bind(json!(cadence))
        .bind(sender_id)
        .bind(brand_id)
        .bind(segment_id)
        .bind(start_at)
        .bind(track_opens)
        .bind(copy_source.as_str())
        .bind(version)
        .bind(now())
        .bind(ctx.workspace_id)
        .bind(id),
    )
    .await?;
    if matches!(before.status, SequenceStatus::PendingApproval | SequenceStatus::Approved | SequenceStatus::Paused) {
        let reason = format!(
            "edited after {} (now version {version}): it needs a new approval",
            match before.status {
                SequenceStatus::PendingApproval => "it was submitted",
                _ => "approval",
            }
        );
        void_approval(tx, ctx, &before, &reason).await?;
    } else if before.status == SequenceStatus::Rejected {
        let reason = format!("edited after it was rejected (now version {version}): submit it again");
        set_status(tx, ctx, id, SequenceStatus::Draft, Some(&reason)).await?;
    }
    let after = row(tx, ctx, id).await?.to_sequence();
    audit::record(tx, ctx, "email_sequence.updated", "email_sequence", Some(id), Some(&before.to_sequence()), Some(&after)).await?;
    Ok(after)
}

/// Pause, resume or cancel a sequence that was released.
pub async fn pause(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<EmailSequence> {
    transition(tx, ctx, id, &[SequenceStatus::Sending, SequenceStatus::Approved], SequenceStatus::Paused, "paused").await
}

pub async fn resume(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<EmailSequence> {
    let sequence = row(tx, ctx, id).await?;
    let to = if sequence.started_at.is_some() { SequenceStatus::Sending } else { SequenceStatus::Approved };
    if sequence.approved_version != Some(sequence.version) {
        return Err(AppError::Conflict { code: "not_approved", message: "this version has no approval; submit it for approval".into() });
    }
    transition(tx, ctx, id, &[SequenceStatus::Paused], to, "resumed").await
}

pub async fn cancel(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<EmailSequence> {
    let sequence = transition(
        tx,
        ctx,
        id,
        &[
            SequenceStatus::Draft,
            SequenceStatus::PendingApproval,
            SequenceStatus::Approved,
            SequenceStatus::Rejected,
            SequenceStatus::Sending,
            SequenceStatus::Paused,
        ],
        SequenceStatus::Cancelled,
        "cancelled",
    )
    .await?;
    tx.execute(
        Q::new("UPDATE email_outbox SET status = 'cancelled', detail = 'sequence cancelled' WHERE sequence_id = $1 AND status = 'queued'")
            .bind(id),
    )
    .await?;
    gate::void_pending(tx, ApprovalSubject::EmailSequence, id, "cancelled").await?;
    Ok(sequence)
}

async fn transition(tx: &mut Tx, ctx: &Ctx, id: Uuid, from: &[SequenceStatus], to: SequenceStatus, verb: &str) -> AppResult<EmailSequence> {
    ctx.require(Scope::MarketingWrite)?;
    let before = row(tx, ctx, id).await?;
    if !from.contains(&before.status) {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!("a sequence that is {} cannot be {verb}", before.status.as_str()),
        });
    }
    set_status(tx, ctx, id, to, None).await?;
    if to == SequenceStatus::Cancelled {
        tx.execute(Q::new("UPDATE email_sequences SET completed_at = $1 WHERE id = $2").bind(now()).bind(id)).await?;
    }
    let after = row(tx, ctx, id).await?.to_sequence();
    audit::record(
        tx,
        ctx,
        &format!("email_sequence.{verb}"),
        "email_sequence",
        Some(id),
        Some(&json!({ "status": before.status })),
        Some(&json!({ "status": to })),
    )
    .await?;
    Ok(after)
}

/// One line of the approvers' queue for a sequence.
pub(super) async fn queue_item(tx: &mut Tx, ctx: &Ctx, request: ApprovalRequest) -> AppResult<ApprovalQueueItem> {
    let sequence = row(tx, ctx, request.subject_id).await?;
    let (campaign_name,): (String,) = tx.fetch_one(Q::new("SELECT name FROM campaigns WHERE id = $1").bind(sequence.campaign_id)).await?;
    let author = gate::author_name(tx, sequence.author_user_id, sequence.author_api_key_id).await?;
    let audience_size = recipient_count(tx, ctx, sequence.segment_id).await?;
    Ok(ApprovalQueueItem {
        subject_name: sequence.name.clone(),
        sequence_name: Some(sequence.name.clone()),
        review_url: format!("/approvals/{}", sequence.id),
        campaign_name,
        author,
        audience_size,
        first_send_at: Some(sequence.start_at.unwrap_or_else(now)),
        summary: format!("{} emails", sequence.steps.0.len()),
        request,
    })
}

/// The approvers' queue (every channel's; see [`gate::queue`]).
pub async fn approval_queue(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<ApprovalQueueItem>> {
    gate::queue(tx, ctx).await
}

/// What an approver sees: every step rendered for sample recipients, the
/// exclusions, the brand and sender, and the changes since the last
/// approved version.
pub async fn review(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<SequenceReview> {
    ctx.require(Scope::MarketingRead)?;
    let sequence = row(tx, ctx, id).await?;
    let preview = preview_of(tx, ctx, &sequence).await?;
    let brand = brand_row(tx, ctx, sequence.brand_id).await?;
    let sender = sender_row(tx, ctx, sequence.sender_id).await?;
    let (segment_name, _) = crate::audience::lists::rules_version(tx, ctx, sequence.segment_id).await?;
    let current = terms(tx, ctx, &sequence).await?;
    let changes_since_approval = diff(sequence.approved_content().map(|c| &c["terms"]), &current);
    let requests = gate::history(tx, ApprovalSubject::EmailSequence, id).await?;
    let can_decide = may_decide(ctx, &sequence).is_ok()
        && matches!(sequence.status, SequenceStatus::Draft | SequenceStatus::PendingApproval)
        && (ctx.require(Scope::MarketingWrite).is_ok() || ctx.require(Scope::MarketingApprove).is_ok());
    Ok(SequenceReview { preview, brand, sender, segment_name, changes_since_approval, requests, can_decide })
}

/// A step's day as a time, from the first send.
pub(super) fn step_due(start: DateTime<Utc>, day: i64, day_length: std::time::Duration) -> DateTime<Utc> {
    let offset = chrono::Duration::from_std(day_length * in_range("day", day, 0, 365).unwrap_or(0) as u32).unwrap_or_default();
    start + offset
}
