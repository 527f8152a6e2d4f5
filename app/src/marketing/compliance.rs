//! What keeps sending lawful and welcome: the workspace's suppression list
//! (checked before every message, never lifted by an import), signed
//! one-click unsubscribe links (RFC 8058), open and click tracking, the
//! signed bounce/complaint webhook, and reply marks — each of which stops
//! the recipient's sequences.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

use super::types::*;
use crate::error::{AppError, AppResult};
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::types::{Page, Scope};
use crate::platform::validate::{normalize_email, optional_text};
use crate::platform::{audit, events};

/// The secret links are signed with, the same in every server process
/// (made on first use and kept in the database).
pub(super) async fn link_secret(tx: &mut Tx) -> AppResult<String> {
    tx.execute(
        Q::new("INSERT INTO server_secrets (name, secret, created_at) VALUES ('links', $1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(super::senders::new_secret())
            .bind(now()),
    )
    .await?;
    let (secret,): (String,) = tx.fetch_one(Q::new("SELECT secret FROM server_secrets WHERE name = 'links'")).await?;
    Ok(secret)
}

fn mac(secret: &str, purpose: &str, message: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(purpose.as_bytes());
    mac.update(b"\n");
    mac.update(message.as_bytes());
    mac
}

/// `{outbox id}.{signature}`: names one message, for one purpose.
pub fn link_token(secret: &str, purpose: &str, outbox_id: Uuid, extra: &str) -> String {
    let signature = mac(secret, purpose, &format!("{}|{extra}", outbox_id.simple())).finalize().into_bytes();
    format!("{}.{}", outbox_id.simple(), hex::encode(&signature[..16]))
}

fn verify_token(secret: &str, purpose: &str, token: &str, extra: &str) -> Option<Uuid> {
    let (id, signature) = token.split_once('.')?;
    let id = Uuid::parse_str(id).ok()?;
    let signature = hex::decode(signature).ok()?;
    mac(secret, purpose, &format!("{}|{extra}", id.simple())).verify_truncated_left(&signature).ok()?;
    Some(id)
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: Uuid,
    workspace_id: Uuid,
    sequence_id: Option<Uuid>,
    step_index: Option<i64>,
    lead_id: Option<Uuid>,
    to_email: String,
}

async fn message(tx: &mut Tx, id: Uuid) -> AppResult<Option<MessageRow>> {
    Ok(tx
        .fetch_optional(
            Q::new("SELECT id, workspace_id, sequence_id, step_index, lead_id, to_email FROM email_outbox WHERE id = $1").bind(id),
        )
        .await?)
}

async fn record_event(tx: &mut Tx, m: &MessageRow, kind: &str, detail: Option<&str>) -> AppResult<()> {
    tx.execute(
        Q::new(
            "INSERT INTO email_events (id, workspace_id, outbox_id, sequence_id, step_index, lead_id, kind, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(Uuid::now_v7())
        .bind(m.workspace_id)
        .bind(m.id)
        .bind(m.sequence_id)
        .bind(m.step_index)
        .bind(m.lead_id)
        .bind(kind)
        .bind(detail)
        .bind(now()),
    )
    .await?;
    if let (true, Some(lead_id), Some(sequence_id)) = (kind == "replied", m.lead_id, m.sequence_id) {
        super::attribution::from_reply(tx, m.workspace_id, lead_id, sequence_id).await?;
    }
    if matches!(kind, "replied" | "unsubscribed") {
        let event = format!("email.{kind}");
        let data = json!({ "lead_id": m.lead_id, "email": m.to_email, "sequence_id": m.sequence_id, "step_index": m.step_index });
        events::emit(tx, m.workspace_id, &event, m.lead_id, data, format!("{event}:{}", m.id)).await?;
    }
    Ok(())
}

/// Adds an address to the suppression list (keeping the first reason) and
/// stops every running sequence for it.
async fn suppress(tx: &mut Tx, ctx: &Ctx, email: &str, reason: SuppressionReason, source: &str, note: Option<String>) -> AppResult<bool> {
    let added = tx
        .execute(
            Q::new(
                "INSERT INTO suppressions (workspace_id, email, reason, source, note, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (workspace_id, email) DO NOTHING",
            )
            .bind(ctx.workspace_id)
            .bind(email)
            .bind(reason.as_str())
            .bind(source)
            .bind(note.clone())
            .bind(now()),
        )
        .await?;
    stop_recipient(tx, ctx.workspace_id, email, None, reason.as_str()).await?;
    if added == 1 {
        audit::record(
            tx,
            ctx,
            "suppression.added",
            "suppression",
            None,
            None::<&()>,
            Some(&json!({ "email": email, "reason": reason, "source": source, "note": note })),
        )
        .await?;
    }
    Ok(added == 1)
}

/// Stops the queued messages of an address (in one sequence, or all).
async fn stop_recipient(tx: &mut Tx, workspace_id: Uuid, email: &str, sequence_id: Option<Uuid>, reason: &str) -> AppResult<u64> {
    let mut q =
        Q::new("UPDATE email_outbox SET status = 'skipped', detail = $1 WHERE workspace_id = $2 AND to_email = $3 AND status = 'queued'")
            .bind(reason)
            .bind(workspace_id)
            .bind(email);
    let mut r =
        Q::new("UPDATE sequence_recipients SET stopped_reason = $1 WHERE workspace_id = $2 AND email = $3 AND stopped_reason IS NULL")
            .bind(reason)
            .bind(workspace_id)
            .bind(email);
    if let Some(sequence_id) = sequence_id {
        let p = q.arg(sequence_id);
        q.push(&format!(" AND sequence_id = {p}"));
        let p = r.arg(sequence_id);
        r.push(&format!(" AND sequence_id = {p}"));
    }
    tx.execute(r).await?;
    Ok(tx.execute(q).await?)
}

/// The one-click unsubscribe (RFC 8058) and the confirmation page's
/// button: suppresses the address at once. Answers the address, or `None`
/// for a token that is not one of ours.
pub async fn unsubscribe(tx: &mut Tx, token: &str) -> AppResult<Option<String>> {
    let secret = link_secret(tx).await?;
    let Some(id) = verify_token(&secret, "unsubscribe", token, "") else { return Ok(None) };
    let Some(m) = message(tx, id).await? else { return Ok(None) };
    let ctx = Ctx { via: crate::platform::context::Via::System, ..Ctx::system(m.workspace_id) };
    if suppress(tx, &ctx, &m.to_email, SuppressionReason::Unsubscribed, "one-click unsubscribe", None).await? {
        record_event(tx, &m, "unsubscribed", None).await?;
    }
    Ok(Some(m.to_email))
}

/// Whether a token is a valid unsubscribe link (for the confirmation page).
pub async fn unsubscribe_target(tx: &mut Tx, token: &str) -> AppResult<Option<String>> {
    let secret = link_secret(tx).await?;
    let Some(id) = verify_token(&secret, "unsubscribe", token, "") else { return Ok(None) };
    Ok(message(tx, id).await?.map(|m| m.to_email))
}

/// An open (the tracking pixel was fetched).
pub async fn record_open(tx: &mut Tx, token: &str) -> AppResult<()> {
    let secret = link_secret(tx).await?;
    if let Some(m) = match verify_token(&secret, "open", token, "") {
        Some(id) => message(tx, id).await?,
        None => None,
    } {
        record_event(tx, &m, "opened", None).await?;
    }
    Ok(())
}

/// A click on a tracked link: the URL it leads to when the signature
/// holds (it covers the URL, so the redirect cannot be pointed elsewhere).
pub async fn record_click(tx: &mut Tx, token: &str, url: &str) -> AppResult<Option<String>> {
    let secret = link_secret(tx).await?;
    let Some(id) = verify_token(&secret, "click", token, url) else { return Ok(None) };
    if let Some(m) = message(tx, id).await? {
        record_event(tx, &m, "clicked", Some(url)).await?;
    }
    Ok(Some(url.to_string()))
}

/// The bounce/complaint webhook of a sender, signed with its secret:
/// `X-Corral-Signature: sha256=<hex HMAC-SHA256 of the body>`.
pub async fn provider_event(tx: &mut Tx, sender_id: Uuid, signature: Option<&str>, body: &[u8]) -> AppResult<()> {
    let found: Option<(Uuid, String)> =
        tx.fetch_optional(Q::new("SELECT workspace_id, webhook_secret FROM email_senders WHERE id = $1").bind(sender_id)).await?;
    let Some((workspace_id, secret)) = found else { return Err(AppError::NotFound("sender")) };
    let signature = signature.and_then(|s| s.strip_prefix("sha256=")).and_then(|s| hex::decode(s.trim()).ok());
    let valid = signature.is_some_and(|s| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(body);
        mac.verify_slice(&s).is_ok()
    });
    if !valid {
        return Err(AppError::Unauthenticated(
            "the X-Corral-Signature header does not sign this body with the sender's webhook secret".into(),
        ));
    }
    let report: EmailEventReport = crate::platform::http::parse_strict_json(body)?;
    let email = normalize_email("email", &report.email)?;
    let ctx = Ctx::system(workspace_id);
    let mut q = Q::new(
        "SELECT id, workspace_id, sequence_id, step_index, lead_id, to_email FROM email_outbox \
         WHERE workspace_id = $1 AND sender_id = $2 AND to_email = $3 AND status IN ('sent', 'unknown')",
    )
    .bind(workspace_id)
    .bind(sender_id)
    .bind(email.as_str());
    if let Some(message_id) = &report.message_id {
        let p = q.arg(message_id.trim_matches(['<', '>']).to_string());
        q.push(&format!(" AND message_id = {p}"));
    }
    q.push(" ORDER BY id DESC LIMIT 1");
    let message: Option<MessageRow> = tx.fetch_optional(q).await?;
    let (kind, suppression) = match (report.kind.as_str(), report.hard.unwrap_or(true)) {
        ("bounce", true) => ("bounced", Some(SuppressionReason::HardBounce)),
        ("bounce", false) => ("bounced", None),
        ("complaint", _) => ("complained", Some(SuppressionReason::Complaint)),
        ("delivered", _) => ("delivered", None),
        (other, _) => return Err(AppError::validation("type", format!("unknown event type {other:?}; bounce, complaint or delivered"))),
    };
    if let Some(m) = &message {
        record_event(tx, m, kind, None).await?;
    }
    if let Some(reason) = suppression {
        suppress(tx, &ctx, &email, reason, "provider webhook", None).await?;
    }
    Ok(())
}

/// Marks a reply: the recipient's sequences stop (or the one named).
pub async fn mark_reply(tx: &mut Tx, ctx: &Ctx, input: ReplyMark) -> AppResult<serde_json::Value> {
    ctx.require(Scope::MarketingWrite)?;
    let email = match (input.lead_id, input.email) {
        (_, Some(email)) => normalize_email("email", &email)?,
        (Some(lead_id), None) => {
            let found: Option<(Option<String>,)> = tx
                .fetch_optional(Q::new("SELECT email FROM leads WHERE workspace_id = $1 AND id = $2").bind(ctx.workspace_id).bind(lead_id))
                .await?;
            match found {
                Some((Some(email),)) => email.to_lowercase(),
                Some((None,)) => return Err(AppError::validation("lead_id", "the lead has no email address")),
                None => return Err(AppError::validation("lead_id", "no such lead")),
            }
        }
        (None, None) => return Err(AppError::validation("email", "give the email or the lead_id of who replied")),
    };
    let mut q = Q::new(
        "SELECT id, workspace_id, sequence_id, step_index, lead_id, to_email FROM email_outbox \
         WHERE workspace_id = $1 AND to_email = $2 AND sequence_id IS NOT NULL AND status = 'sent'",
    )
    .bind(ctx.workspace_id)
    .bind(email.as_str());
    if let Some(sequence_id) = input.sequence_id {
        let p = q.arg(sequence_id);
        q.push(&format!(" AND sequence_id = {p}"));
    }
    q.push(" ORDER BY id DESC");
    let sent: Vec<MessageRow> = tx.fetch_all(q).await?;
    let mut marked = std::collections::HashSet::new();
    for m in &sent {
        if marked.insert(m.sequence_id) {
            record_event(tx, m, "replied", None).await?;
        }
    }
    let stopped = stop_recipient(tx, ctx.workspace_id, &email, input.sequence_id, "replied").await?;
    let result = json!({ "email": email, "sequences": marked.len(), "messages_stopped": stopped });
    audit::record(tx, ctx, "email.reply_marked", "suppression", None, None::<&()>, Some(&result)).await?;
    Ok(result)
}

#[derive(sqlx::FromRow)]
struct SuppressionRow {
    email: String,
    #[sqlx(try_from = "String")]
    reason: SuppressionReason,
    source: String,
    note: Option<String>,
    created_at: DateTime<Utc>,
}

/// The suppression list in address order; the cursor is the last address.
pub async fn list_suppressions(tx: &mut Tx, ctx: &Ctx, limit: Option<i64>, cursor: Option<&str>) -> AppResult<Page<Suppression>> {
    ctx.require(Scope::MarketingRead)?;
    let limit = crate::platform::validate::in_range("limit", limit.unwrap_or(50), 1, 100)?;
    let mut q = Q::new("SELECT email, reason, source, note, created_at FROM suppressions WHERE workspace_id = $1").bind(ctx.workspace_id);
    if let Some(after) = cursor.filter(|c| !c.is_empty()) {
        let p = q.arg(after.to_string());
        q.push(&format!(" AND email > {p}"));
    }
    let p = q.arg(limit + 1);
    q.push(&format!(" ORDER BY email LIMIT {p}"));
    let mut rows: Vec<SuppressionRow> = tx.fetch_all(q).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|r| r.email.clone()) } else { None };
    Ok(Page {
        data: rows
            .into_iter()
            .map(|r| Suppression { email: r.email, reason: r.reason, source: r.source, note: r.note, created_at: r.created_at })
            .collect(),
        next_cursor,
    })
}

pub async fn add_suppression(tx: &mut Tx, ctx: &Ctx, input: NewSuppression) -> AppResult<Suppression> {
    ctx.require(Scope::MarketingWrite)?;
    let email = normalize_email("email", &input.email)?;
    let note = optional_text("note", input.note, 1000)?;
    let source = format!("added by {}", ctx.via.as_str());
    suppress(tx, ctx, &email, input.reason.unwrap_or(SuppressionReason::Manual), &source, note).await?;
    let row: SuppressionRow = tx
        .fetch_one(
            Q::new("SELECT email, reason, source, note, created_at FROM suppressions WHERE workspace_id = $1 AND email = $2")
                .bind(ctx.workspace_id)
                .bind(email),
        )
        .await?;
    Ok(Suppression { email: row.email, reason: row.reason, source: row.source, note: row.note, created_at: row.created_at })
}

/// Lifts a manual suppression. Unsubscribes, bounces and complaints are
/// the recipient's (or their server's) decision and stay.
pub async fn remove_suppression(tx: &mut Tx, ctx: &Ctx, email: &str) -> AppResult<()> {
    ctx.require(Scope::MarketingWrite)?;
    let email = normalize_email("email", email)?;
    let found: Option<(String,)> = tx
        .fetch_optional(
            Q::new("SELECT reason FROM suppressions WHERE workspace_id = $1 AND email = $2").bind(ctx.workspace_id).bind(email.as_str()),
        )
        .await?;
    match found.as_ref().map(|(r,)| r.as_str()) {
        None => Err(AppError::NotFound("suppression")),
        Some("manual") => {
            tx.execute(
                Q::new("DELETE FROM suppressions WHERE workspace_id = $1 AND email = $2").bind(ctx.workspace_id).bind(email.as_str()),
            )
            .await?;
            audit::record(tx, ctx, "suppression.removed", "suppression", None, Some(&json!({ "email": email })), None::<&()>).await?;
            Ok(())
        }
        Some(reason) => Err(AppError::Conflict {
            code: "suppression_kept",
            message: format!("{email} is suppressed because of {reason}; only manual suppressions can be lifted"),
        }),
    }
}
