//! The outbox: one row per message, sent by a worker in every server
//! process.
//!
//! At most once: a row is claimed (`sending`, with a lease) and that claim
//! committed before the message is handed to the sender; the outcome is
//! written after. A process that dies in between leaves the row `sending`;
//! when its lease runs out the row becomes `unknown` — counted and shown,
//! never sent again. On PostgreSQL, claims take `FOR UPDATE SKIP LOCKED`
//! and lock the sender's row, so processes share the work and the caps.
//!
//! Nothing is sent without an approval: rows only exist for sequences an
//! approver released, and before each batch the worker re-checks that the
//! approval still covers what would go out (the digest of the approved
//! content against the current steps, sender and brand).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{Datelike, Timelike, Utc};
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{json, Value};
use uuid::Uuid;

use super::compliance::{link_secret, link_token};
use super::copy::{self, Recipient};
use super::sequences::{self, SequenceRow};
use super::types::*;
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::{Config, Ctx};
use crate::platform::db::{now, Backend, Db, Tx, Q};
use crate::platform::types::Scope;
use crate::platform::validate::required_text;

/// Starts this process's outbox worker.
pub fn spawn_worker(db: Db, config: Config) -> tokio::task::JoinHandle<()> {
    let worker = format!("outbox-{}", Uuid::now_v7().simple());
    tokio::spawn(async move {
        loop {
            match round(&db, &config, &worker).await {
                Ok(handled) if handled > 0 => tokio::task::yield_now().await,
                Ok(_) => tokio::time::sleep(config.outbox_poll).await,
                Err(error) => {
                    tracing::warn!(%error, "outbox round failed; retrying");
                    tokio::time::sleep(config.outbox_poll).await;
                }
            }
        }
    })
}

/// One round: release due sequences, give up on dead claims, send what is
/// due, close finished sequences. Answers how many messages it handled.
pub async fn round(db: &Db, config: &Config, worker: &str) -> AppResult<usize> {
    start_due_sequences(db, config).await?;
    recover_expired_claims(db).await?;
    let claimed = claim(db, config, worker).await?;
    let handled = claimed.iter().map(|batch| batch.rows.len()).sum();
    for batch in claimed {
        send_batch(db, config, batch).await?;
    }
    complete_finished(db).await?;
    Ok(handled)
}

/// Whether the approval of a sequence still covers what would be sent.
pub(super) async fn approval_holds(tx: &mut Tx, ctx: &Ctx, sequence: &SequenceRow) -> AppResult<Result<(), String>> {
    let (Some(content), Some(approved_digest)) = (sequence.approved_content(), sequence.approved_digest()) else {
        return Ok(Err("it has no approval".into()));
    };
    if sequence.approved_version() != Some(sequence.version()) {
        return Ok(Err(format!(
            "version {} was approved, version {} is current",
            sequence.approved_version().unwrap_or(0),
            sequence.version()
        )));
    }
    if super::gate::digest(content) != approved_digest {
        return Ok(Err("the approved content does not match its digest".into()));
    }
    let current = sequences::terms(tx, ctx, sequence).await?;
    if super::gate::digest(&current) != super::gate::digest(&content["terms"]) {
        let changed: Vec<String> = sequences::diff(Some(&content["terms"]), &current).into_iter().map(|c| c.field).collect();
        return Ok(Err(format!("what would be sent changed after approval ({})", changed.join(", "))));
    }
    Ok(Ok(()))
}

/// Stops a sequence whose approval no longer holds (the same voiding as
/// an edit's: back to draft, pending requests void, an audit row).
async fn void(tx: &mut Tx, ctx: &Ctx, sequence: &SequenceRow, why: &str) -> AppResult<()> {
    sequences::void_approval(tx, ctx, sequence, &format!("sending stopped: {why}; it needs a new approval")).await
}

fn new_id_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "randomblob(16)",
        Backend::Postgres => "gen_random_uuid()",
    }
}

/// Approved sequences whose start time has come become `sending`: their
/// messages are written to the outbox, one per step and recipient, due on
/// the step's day (pairs already sent by an earlier version are left out).
async fn start_due_sequences(db: &Db, config: &Config) -> AppResult<()> {
    let mut tx = db.begin_read().await?;
    let due: Vec<(Uuid, Uuid)> = tx
        .fetch_all(
            Q::new(
                "SELECT id, workspace_id FROM email_sequences WHERE status = 'approved' AND (start_at IS NULL OR start_at <= $1) LIMIT 20",
            )
            .bind(now()),
        )
        .await?;
    tx.commit().await?;
    for (id, workspace_id) in due {
        let mut tx = db.begin().await?;
        let ctx = Ctx { scopes: Scope::ALL.to_vec(), ..Ctx::system(workspace_id) };
        let Some(sequence) = sequences::find_row(&mut tx, workspace_id, id).await? else { continue };
        if sequence.status() != SequenceStatus::Approved {
            continue;
        }
        if let Err(why) = approval_holds(&mut tx, &ctx, &sequence).await? {
            void(&mut tx, &ctx, &sequence, &why).await?;
            tx.commit().await?;
            continue;
        }
        let seq = sequence.to_sequence();
        let start = seq.started_at.unwrap_or_else(now);
        tx.execute(
            Q::new("UPDATE email_outbox SET status = 'cancelled', detail = $1 WHERE sequence_id = $2 AND sequence_version <> $3 AND status = 'queued'")
                .bind(format!("replaced by version {}", seq.version))
                .bind(id)
                .bind(seq.version),
        )
        .await?;
        let new_id = new_id_sql(tx.backend());
        for (step, day) in seq.cadence_days.iter().enumerate() {
            let due_at = sequences::step_due(start, *day, config.sequence_day);
            tx.execute(
                Q::new(format!(
                    "INSERT INTO email_outbox (id, workspace_id, sequence_id, sequence_version, step_index, lead_id, sender_id, to_email, \
                     status, due_at, created_at) \
                     SELECT {new_id}, r.workspace_id, r.sequence_id, $1, $2, r.lead_id, $3, r.email, 'queued', $4, $5 \
                     FROM sequence_recipients r WHERE r.sequence_id = $6 AND r.stopped_reason IS NULL \
                     AND NOT EXISTS (SELECT 1 FROM email_outbox o WHERE o.sequence_id = r.sequence_id AND o.step_index = $2 \
                     AND o.lead_id = r.lead_id AND o.status IN ('sending', 'sent', 'unknown')) \
                     ON CONFLICT DO NOTHING"
                ))
                .bind(seq.version)
                .bind(step as i64)
                .bind(seq.sender_connector_id)
                .bind(due_at)
                .bind(now())
                .bind(id),
            )
            .await?;
        }
        tx.execute(
            Q::new("UPDATE email_sequences SET status = 'sending', started_at = $1, updated_at = $2 WHERE id = $3 AND status = 'approved'")
                .bind(start)
                .bind(now())
                .bind(id),
        )
        .await?;
        tx.execute(
            Q::new("UPDATE campaigns SET status = 'active', updated_at = $1 WHERE id = $2 AND status = 'draft'")
                .bind(now())
                .bind(seq.campaign_id),
        )
        .await?;
        audit::record(
            &mut tx,
            &ctx,
            "email_sequence.started",
            "email_sequence",
            Some(id),
            None::<&()>,
            Some(&json!({ "version": seq.version })),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

async fn recover_expired_claims(db: &Db) -> AppResult<()> {
    let mut tx = db.begin().await?;
    tx.execute(
        Q::new(
            "UPDATE email_outbox SET status = 'unknown', lease_owner = NULL, \
             detail = 'the server stopped while handing this message to the sender; it is not sent again' \
             WHERE status = 'sending' AND lease_until < $1",
        )
        .bind(now()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn complete_finished(db: &Db) -> AppResult<()> {
    let mut tx = db.begin().await?;
    tx.execute(
        Q::new(
            "UPDATE email_sequences SET status = 'completed', completed_at = $1, updated_at = $1 WHERE status = 'sending' \
             AND NOT EXISTS (SELECT 1 FROM email_outbox o WHERE o.sequence_id = email_sequences.id AND o.status IN ('queued', 'sending'))",
        )
        .bind(now()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Clone, Debug, sqlx::FromRow)]
struct OutboxRow {
    id: Uuid,
    sequence_id: Option<Uuid>,
    sequence_version: Option<i64>,
    step_index: Option<i64>,
    lead_id: Option<Uuid>,
    to_email: String,
    subject: Option<String>,
    html_body: Option<String>,
}

/// Rows claimed for one sender.
struct Batch {
    workspace_id: Uuid,
    sender: Sender,
    rows: Vec<OutboxRow>,
}

/// Whether now is inside the sender's send window (its days and hours, in
/// the workspace's time zone).
pub fn in_window(sender: &Sender, at: chrono::DateTime<Utc>) -> bool {
    let tz: chrono_tz::Tz = sender.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let local = at.with_timezone(&tz);
    let day = local.weekday().number_from_monday() as i64;
    let hour = local.hour() as i64;
    sender.window_days.contains(&day) && hour >= sender.window_start_hour && hour < sender.window_end_hour
}

/// Minutes since the Unix epoch, and how far into its minute `at` is (0–1).
fn minute_of(at: chrono::DateTime<Utc>) -> (i64, f64) {
    (at.timestamp().div_euclid(60), at.timestamp_millis().rem_euclid(60_000) as f64 / 60_000.0)
}

/// Messages a sender was handed in the last minute and the last day. The
/// minute is a sliding window estimated from two per-minute counts (the
/// previous minute weighted by how much of it is still inside the window,
/// rounded up): caps hold across a minute's boundary without counting
/// the outbox.
async fn recent_sends(tx: &mut Tx, sender_id: Uuid, at: chrono::DateTime<Utc>) -> AppResult<(i64, i64)> {
    let (minute, into) = minute_of(at);
    let counts: Vec<(i64, i64)> = tx
        .fetch_all(
            Q::new("SELECT minute, sent FROM email_send_counts WHERE sender_id = $1 AND minute > $2")
                .bind(sender_id)
                .bind(minute - 24 * 60),
        )
        .await?;
    let sent_in = |m: i64| counts.iter().filter(|(c, _)| *c == m).map(|(_, n)| *n).sum::<i64>();
    let last_minute = sent_in(minute) + (sent_in(minute - 1) as f64 * (1.0 - into)).ceil() as i64;
    let last_day = counts.iter().map(|(_, n)| n).sum();
    Ok((last_minute, last_day))
}

/// Counts `n` messages handed to a sender now, and forgets counts older
/// than a day.
async fn count_sends(tx: &mut Tx, workspace_id: Uuid, sender_id: Uuid, at: chrono::DateTime<Utc>, n: i64) -> AppResult<()> {
    let (minute, _) = minute_of(at);
    tx.execute(
        Q::new(
            "INSERT INTO email_send_counts (workspace_id, sender_id, minute, sent) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sender_id, minute) DO UPDATE SET sent = email_send_counts.sent + excluded.sent",
        )
        .bind(workspace_id)
        .bind(sender_id)
        .bind(minute)
        .bind(n),
    )
    .await?;
    tx.execute(Q::new("DELETE FROM email_send_counts WHERE sender_id = $1 AND minute <= $2").bind(sender_id).bind(minute - 24 * 60))
        .await?;
    Ok(())
}

/// The suppression list and stopped recipients, checked at the last moment
/// for the rows about to be claimed (they also skip queued rows when they
/// change): those rows are skipped, the rest returned.
async fn skip_suppressed_and_stopped(tx: &mut Tx, workspace_id: Uuid, rows: Vec<OutboxRow>) -> AppResult<Vec<OutboxRow>> {
    if rows.is_empty() {
        return Ok(rows);
    }
    let mut q = Q::new("SELECT email FROM suppressions WHERE workspace_id = $1 AND email IN (").bind(workspace_id);
    let mut emails: Vec<&str> = rows.iter().map(|r| r.to_email.as_str()).collect();
    emails.sort_unstable();
    emails.dedup();
    for (i, email) in emails.into_iter().enumerate() {
        let p = q.arg(email.to_string());
        q.push(&format!("{}{p}", if i > 0 { ", " } else { "" }));
    }
    q.push(")");
    let suppressed: std::collections::HashSet<String> = tx.fetch_all::<(String,)>(q).await?.into_iter().map(|(e,)| e).collect();
    let mut pairs: Vec<(Uuid, Uuid)> = rows.iter().filter_map(|r| Some((r.sequence_id?, r.lead_id?))).collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut stopped = std::collections::HashSet::new();
    for chunk in pairs.chunks(200) {
        let mut q = Q::new("SELECT sequence_id, lead_id FROM sequence_recipients WHERE stopped_reason IS NOT NULL AND (");
        for (i, (sequence_id, lead_id)) in chunk.iter().enumerate() {
            let s = q.arg(*sequence_id);
            let l = q.arg(*lead_id);
            q.push(&format!("{}(sequence_id = {s} AND lead_id = {l})", if i > 0 { " OR " } else { "" }));
        }
        q.push(")");
        stopped.extend(tx.fetch_all::<(Uuid, Uuid)>(q).await?);
    }
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        let why = if suppressed.contains(&row.to_email) {
            Some("suppressed")
        } else if row.sequence_id.zip(row.lead_id).is_some_and(|pair| stopped.contains(&pair)) {
            Some("recipient stopped")
        } else {
            None
        };
        match why {
            Some(why) => {
                tx.execute(Q::new("UPDATE email_outbox SET status = 'skipped', detail = $1 WHERE id = $2").bind(why).bind(row.id)).await?;
            }
            None => kept.push(row),
        }
    }
    Ok(kept)
}

async fn claim(db: &Db, config: &Config, worker: &str) -> AppResult<Vec<Batch>> {
    let mut tx = db.begin().await?;
    let at = now();
    // Senders with due rows: each probes its own index range and stops at
    // the first hit, so a long queue is never scanned whole.
    let senders: Vec<(Uuid, Uuid)> = tx
        .fetch_all(
            Q::new(
                "SELECT e.id, e.workspace_id FROM email_senders e WHERE EXISTS (SELECT 1 FROM email_outbox o \
                 LEFT JOIN email_sequences s ON s.id = o.sequence_id WHERE o.sender_id = e.id AND o.status = 'queued' \
                 AND o.due_at <= $1 AND (o.sequence_id IS NULL OR s.status = 'sending')) LIMIT 20",
            )
            .bind(at),
        )
        .await?;
    let postgres = tx.backend() == Backend::Postgres;
    let mut batches = Vec::new();
    for (sender_id, workspace_id) in senders {
        let ctx = Ctx { scopes: Scope::ALL.to_vec(), ..Ctx::system(workspace_id) };
        if postgres {
            // One claimer per sender at a time, so caps hold across processes.
            tx.execute(Q::new("SELECT id FROM email_senders WHERE id = $1 FOR UPDATE").bind(sender_id)).await?;
        }
        let sender = super::senders::sender_row(&mut tx, &ctx, sender_id).await?;
        if !in_window(&sender, at) {
            continue;
        }
        let (last_minute, last_day) = recent_sends(&mut tx, sender_id, at).await?;
        let room = (sender.per_minute_cap - last_minute).min(sender.per_day_cap - last_day).min(config.outbox_batch as i64);
        if room <= 0 {
            continue;
        }
        let lock = if postgres { " FOR UPDATE OF o SKIP LOCKED" } else { "" };
        let rows: Vec<OutboxRow> = tx
            .fetch_all(
                Q::new(format!(
                    "SELECT o.id, o.sequence_id, o.sequence_version, o.step_index, o.lead_id, o.to_email, o.subject, \
                     o.html_body FROM email_outbox o LEFT JOIN email_sequences s ON s.id = o.sequence_id \
                     WHERE o.sender_id = $1 AND o.status = 'queued' AND o.due_at <= $2 AND (o.sequence_id IS NULL OR s.status = 'sending') \
                     ORDER BY o.due_at, o.id LIMIT $3{lock}"
                ))
                .bind(sender_id)
                .bind(at)
                .bind(room),
            )
            .await?;
        // Each sequence's approval is checked once per claim: the version it
        // holds for, or None when it no longer holds (then it is voided).
        let mut verdicts: HashMap<Uuid, Option<i64>> = HashMap::new();
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let Some(sequence_id) = row.sequence_id else {
                claimed.push(row);
                continue;
            };
            let approved_version = match verdicts.get(&sequence_id) {
                Some(version) => *version,
                None => {
                    let sequence =
                        sequences::find_row(&mut tx, workspace_id, sequence_id).await?.ok_or(AppError::NotFound("email sequence"))?;
                    let version = match approval_holds(&mut tx, &ctx, &sequence).await? {
                        Ok(()) => Some(sequence.version()),
                        Err(why) => {
                            void(&mut tx, &ctx, &sequence, &why).await?;
                            None
                        }
                    };
                    verdicts.insert(sequence_id, version);
                    version
                }
            };
            if approved_version.is_some() && row.sequence_version == approved_version {
                claimed.push(row);
            }
        }
        let claimed = skip_suppressed_and_stopped(&mut tx, workspace_id, claimed).await?;
        if claimed.is_empty() {
            continue;
        }
        count_sends(&mut tx, workspace_id, sender_id, at, claimed.len() as i64).await?;
        let lease_until = at + chrono::Duration::from_std(config.job_lease).unwrap_or_else(|_| chrono::Duration::seconds(30));
        for chunk in claimed.chunks(500) {
            let mut q = Q::new("UPDATE email_outbox SET status = 'sending', lease_owner = $1, lease_until = $2, sent_at = $3, attempts = attempts + 1 WHERE id IN (")
                .bind(worker)
                .bind(lease_until)
                .bind(at);
            for (i, row) in chunk.iter().enumerate() {
                let p = q.arg(row.id);
                q.push(&format!("{}{p}", if i > 0 { ", " } else { "" }));
            }
            q.push(")");
            tx.execute(q).await?;
        }
        batches.push(Batch { workspace_id, sender, rows: claimed });
    }
    tx.commit().await?;
    Ok(batches)
}

/// How a message leaves.
enum Transport {
    Smtp(Box<SmtpLink>),
    Mailbox,
}

/// One SMTP conversation for a batch. lettre writes a message's final
/// `.` as its own small packet: with Nagle's algorithm on, that packet
/// waits for the server's delayed ACK (~40 ms a message), so the socket
/// is opened here with TCP_NODELAY. Implicit TLS (port 465) goes through
/// lettre's own transport, which opens its sockets itself.
struct SmtpLink {
    sender: Sender,
    password: Option<String>,
    connection: Option<AsyncSmtpConnection>,
    implicit_tls: Option<AsyncSmtpTransport<Tokio1Executor>>,
}

impl SmtpLink {
    fn credentials(&self) -> Option<Credentials> {
        match (&self.sender.username, &self.password) {
            (Some(user), Some(password)) => Some(Credentials::new(user.clone(), password.clone())),
            _ => None,
        }
    }

    /// Opens the conversation (EHLO, STARTTLS, AUTH) before anything is
    /// handed over, so a failure here costs a retry, never an unknown fate.
    async fn open(&mut self) -> Result<(), String> {
        let host = self.sender.host.clone().unwrap_or_default();
        let port = self.sender.port.unwrap_or(587) as u16;
        let security = self.sender.security.unwrap_or_default();
        if security == SmtpSecurity::Tls {
            let tls = TlsParameters::new(host.clone()).map_err(|e| e.to_string())?;
            let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                .port(port)
                .tls(Tls::Wrapper(tls))
                .timeout(Some(Duration::from_secs(30)));
            if let Some(credentials) = self.credentials() {
                builder = builder.credentials(credentials);
            }
            let transport = builder.build();
            transport.test_connection().await.map_err(|e| e.to_string())?;
            self.implicit_tls = Some(transport);
            return Ok(());
        }
        let stream = tokio::time::timeout(Duration::from_secs(30), tokio::net::TcpStream::connect((host.as_str(), port)))
            .await
            .map_err(|_| "connecting timed out".to_string())?
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let hello = ClientId::default();
        let mut connection = AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello).await.map_err(|e| e.to_string())?;
        if security == SmtpSecurity::Starttls {
            let tls = TlsParameters::new(host).map_err(|e| e.to_string())?;
            connection.starttls(tls, &hello).await.map_err(|e| e.to_string())?;
        }
        if let Some(credentials) = self.credentials() {
            connection.auth(&[Mechanism::Plain, Mechanism::Login], &credentials).await.map_err(|e| e.to_string())?;
        }
        self.connection = Some(connection);
        Ok(())
    }

    async fn send(&mut self, message: Message) -> Result<(), lettre::transport::smtp::Error> {
        if let Some(transport) = &self.implicit_tls {
            return transport.send(message).await.map(|_| ());
        }
        let connection = self.connection.as_mut().expect("opened before sending");
        connection.send(message.envelope(), &message.formatted()).await.map(|_| ())
    }

    fn broken(&self) -> bool {
        self.implicit_tls.is_none() && self.connection.as_ref().is_none_or(|c| c.has_broken())
    }

    async fn close(&mut self) {
        if let Some(mut connection) = self.connection.take() {
            let _ = connection.quit().await;
        }
    }
}

async fn transport_for(db: &Db, workspace_id: Uuid, sender: &Sender) -> AppResult<Transport> {
    match sender.kind {
        SenderKind::Mailbox => Ok(Transport::Mailbox),
        SenderKind::Smtp => {
            let mut tx = db.begin_read().await?;
            let secrets = super::senders::sender_secrets(&mut tx, workspace_id, sender.id).await?;
            tx.commit().await?;
            Ok(Transport::Smtp(Box::new(SmtpLink {
                sender: sender.clone(),
                password: secrets.password,
                connection: None,
                implicit_tls: None,
            })))
        }
    }
}

#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

/// Everything a message is made from.
pub(super) struct Composed {
    pub from_name: String,
    pub from_email: String,
    pub reply_to: Option<String>,
    pub to: String,
    pub subject: String,
    /// The body without footer.
    pub html: String,
    pub footer: String,
    pub unsubscribe_url: String,
    pub open_pixel: Option<String>,
    pub message_id: String,
}

/// A plain-text rendering of the HTML body, for the text part.
fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    let spaced = html.replace("<br>", "\n").replace("<br/>", "\n").replace("</p>", "\n\n");
    for c in spaced.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").trim().to_string()
}

impl Composed {
    fn full_html(&self) -> String {
        let footer = copy::escape_html(&self.footer).replace('\n', "<br>");
        let pixel = self.open_pixel.as_ref().map(|p| format!("<img src=\"{p}\" width=\"1\" height=\"1\" alt=\"\">")).unwrap_or_default();
        format!(
            "<!DOCTYPE html><html><body>{}<hr><p style=\"font-size:12px;color:#555\">{footer}<br>\
             <a href=\"{}\">Unsubscribe</a></p>{pixel}</body></html>",
            self.html, self.unsubscribe_url
        )
    }

    pub fn build(&self) -> AppResult<Message> {
        let address = |field: &str, email: &str| {
            email.parse().map_err(|_| AppError::validation(field.to_string(), format!("{email:?} is not a deliverable address")))
        };
        let mut builder = Message::builder()
            .from(Mailbox::new(Some(self.from_name.clone()), address("from_email", &self.from_email)?))
            .to(Mailbox::new(None, address("to", &self.to)?))
            .subject(self.subject.clone())
            .message_id(Some(self.message_id.clone()))
            .header(ListUnsubscribe(format!("<{}>", self.unsubscribe_url)))
            .header(ListUnsubscribePost);
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(Mailbox::new(None, address("reply_to", reply_to)?));
        }
        let html = self.full_html();
        let text = format!("{}\n\n--\n{}\nUnsubscribe: {}", html_to_text(&self.html), self.footer, self.unsubscribe_url);
        builder.multipart(MultiPart::alternative_plain_html(text, html)).map_err(|e| AppError::Internal(e.to_string()))
    }
}

/// Rewrites `href="http…"` links to the signed click-tracking redirect.
fn track_links(html: &str, public_url: &str, secret: &str, outbox_id: Uuid) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find("href=\"http") {
        out.push_str(&rest[..at + 6]);
        let link = &rest[at + 6..];
        let end = link.find('"').unwrap_or(link.len());
        let url = &link[..end];
        let token = link_token(secret, "click", outbox_id, url);
        let encoded: String = form_urlencoded::byte_serialize(url.as_bytes()).collect();
        out.push_str(&format!("{public_url}/t/c/{token}?u={encoded}"));
        rest = &link[end..];
    }
    out.push_str(rest);
    out
}

fn message_domain(from_email: &str) -> &str {
    from_email.rsplit_once('@').map(|(_, d)| d).unwrap_or("corral.local")
}

/// The approved step for one recipient, with the links signed for this message.
fn compose_step(
    content: &Value,
    step: usize,
    row: &OutboxRow,
    recipient: &Recipient,
    public_url: &str,
    secret: &str,
) -> AppResult<Composed> {
    let terms = &content["terms"];
    let steps: Vec<SequenceStep> = serde_json::from_value(terms["steps"].clone()).map_err(|e| AppError::Internal(e.to_string()))?;
    let step = steps.get(step).ok_or_else(|| AppError::Internal("a message for a step the approval does not hold".into()))?;
    let brand = &terms["brand"];
    let html = track_links(&copy::render(&step.body, recipient, true), public_url, secret, row.id);
    let from_email = brand["from_email"].as_str().unwrap_or_default().to_string();
    Ok(Composed {
        from_name: brand["from_name"].as_str().unwrap_or_default().to_string(),
        reply_to: brand["reply_to"].as_str().map(str::to_string),
        to: row.to_email.clone(),
        subject: copy::render(&step.subject, recipient, false),
        html,
        footer: brand["footer"].as_str().unwrap_or_default().to_string(),
        unsubscribe_url: format!("{public_url}/u/{}", link_token(secret, "unsubscribe", row.id, "")),
        open_pixel: terms["track_opens"]
            .as_bool()
            .unwrap_or(false)
            .then(|| format!("{public_url}/t/o/{}.gif", link_token(secret, "open", row.id, ""))),
        message_id: format!("{}@{}", row.id.simple(), message_domain(&from_email)),
        from_email,
    })
}

enum Outcome {
    Sent(String),
    Failed(String),
    /// Refused for now by the server (4xx): not sent, try again later.
    Retry(String),
    /// Lost mid-conversation: it may or may not have been delivered.
    Unknown(String),
}

async fn deliver(db: &Db, transport: &mut Transport, workspace_id: Uuid, outbox_id: Option<Uuid>, composed: &Composed) -> Outcome {
    let message = match composed.build() {
        Ok(message) => message,
        Err(e) => return Outcome::Failed(e.public_message()),
    };
    match transport {
        Transport::Mailbox => {
            let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
            let stored = async {
                let mut tx = db.begin().await?;
                tx.execute(
                    Q::new(
                        "INSERT INTO mailbox_messages (id, workspace_id, outbox_id, to_email, from_header, subject, html_body, raw, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(Uuid::now_v7())
                    .bind(workspace_id)
                    .bind(outbox_id)
                    .bind(composed.to.as_str())
                    .bind(format!("{} <{}>", composed.from_name, composed.from_email))
                    .bind(composed.subject.as_str())
                    .bind(composed.full_html())
                    .bind(raw)
                    .bind(now()),
                )
                .await?;
                tx.commit().await?;
                Ok::<(), AppError>(())
            };
            match stored.await {
                Ok(()) => Outcome::Sent(composed.message_id.clone()),
                Err(e) => Outcome::Retry(e.public_message()),
            }
        }
        Transport::Smtp(smtp) => match smtp.send(message).await {
            Ok(()) => Outcome::Sent(composed.message_id.clone()),
            Err(e) if e.is_permanent() => Outcome::Failed(format!("the SMTP server refused it: {e}")),
            Err(e) if e.is_transient() => Outcome::Retry(format!("the SMTP server deferred it: {e}")),
            Err(e) => Outcome::Unknown(format!("the connection broke while sending: {e}")),
        },
    }
}

async fn load_recipients(db: &Db, rows: &[OutboxRow]) -> AppResult<HashMap<Uuid, Recipient>> {
    let ids: Vec<Uuid> = rows.iter().filter_map(|r| r.lead_id).collect();
    let mut found = HashMap::new();
    let mut tx = db.begin_read().await?;
    for chunk in ids.chunks(500) {
        let mut q = Q::new("SELECT id AS lead_id, name, email, company_name, title FROM leads WHERE id IN (");
        for (i, id) in chunk.iter().enumerate() {
            let p = q.arg(*id);
            q.push(&format!("{}{p}", if i > 0 { ", " } else { "" }));
        }
        q.push(")");
        let recipients: Vec<Recipient> = tx.fetch_all(q).await?;
        found.extend(recipients.into_iter().map(|r| (r.lead_id, r)));
    }
    tx.commit().await?;
    Ok(found)
}

async fn send_batch(db: &Db, config: &Config, batch: Batch) -> AppResult<()> {
    let mut transport = match transport_for(db, batch.workspace_id, &batch.sender).await {
        Ok(t) => t,
        Err(e) => return release(db, &batch.rows, &e.public_message()).await,
    };
    if let Transport::Smtp(smtp) = &mut transport {
        if let Err(e) = smtp.open().await {
            return release(db, &batch.rows, &format!("the SMTP server could not be reached: {e}")).await;
        }
    }
    let mut tx = db.begin_read().await?;
    let secret = match link_secret_read(&mut tx).await? {
        Some(secret) => secret,
        None => {
            let mut write = db.begin().await?;
            let secret = link_secret(&mut write).await?;
            write.commit().await?;
            secret
        }
    };
    let ctx = Ctx::system(batch.workspace_id);
    let mut contents: HashMap<Uuid, Value> = HashMap::new();
    for row in &batch.rows {
        if let Some(id) = row.sequence_id {
            if let std::collections::hash_map::Entry::Vacant(e) = contents.entry(id) {
                if let Some(sequence) = sequences::find_row(&mut tx, ctx.workspace_id, id).await? {
                    e.insert(sequence.approved_content().cloned().unwrap_or(Value::Null));
                }
            }
        }
    }
    let single_from = single_email_brand(&mut tx, batch.workspace_id).await?;
    tx.commit().await?;
    let recipients = load_recipients(db, &batch.rows).await?;
    let mut outcomes: Vec<(Uuid, Outcome)> = Vec::with_capacity(batch.rows.len());
    for (i, row) in batch.rows.iter().enumerate() {
        if let Transport::Smtp(smtp) = &mut transport {
            // A conversation that broke is opened again before the next
            // message; if it cannot be, the rest go back to the queue.
            if smtp.broken() {
                if let Err(e) = smtp.open().await {
                    record_outcomes(db, std::mem::take(&mut outcomes)).await?;
                    return release(db, &batch.rows[i..], &format!("the SMTP server could not be reached: {e}")).await;
                }
            }
        }
        let composed = match (row.sequence_id, row.step_index) {
            (Some(sequence_id), Some(step)) => {
                let recipient = row.lead_id.and_then(|id| recipients.get(&id)).cloned().unwrap_or(Recipient {
                    lead_id: row.lead_id.unwrap_or_default(),
                    email: Some(row.to_email.clone()),
                    ..Recipient::default()
                });
                let content = contents.get(&sequence_id).cloned().unwrap_or(Value::Null);
                compose_step(&content, step as usize, row, &recipient, &config.public_url, &secret)
            }
            _ => compose_single(row, single_from.as_ref(), &config.public_url, &secret),
        };
        let outcome = match composed {
            Ok(composed) => deliver(db, &mut transport, batch.workspace_id, Some(row.id), &composed).await,
            Err(e) => Outcome::Failed(e.public_message()),
        };
        outcomes.push((row.id, outcome));
        if outcomes.len() >= 25 {
            record_outcomes(db, std::mem::take(&mut outcomes)).await?;
        }
    }
    if let Transport::Smtp(smtp) = &mut transport {
        smtp.close().await;
    }
    record_outcomes(db, outcomes).await
}

async fn link_secret_read(tx: &mut Tx) -> AppResult<Option<String>> {
    let found: Option<(String,)> = tx.fetch_optional(Q::new("SELECT secret FROM server_secrets WHERE name = 'links'")).await?;
    Ok(found.map(|(secret,)| secret))
}

/// Who single emails are from: the workspace's first brand.
async fn single_email_brand(tx: &mut Tx, workspace_id: Uuid) -> AppResult<Option<(String, String, Option<String>, String)>> {
    Ok(tx
        .fetch_optional(
            Q::new("SELECT from_name, from_email, reply_to, footer FROM brands WHERE workspace_id = $1 ORDER BY id LIMIT 1")
                .bind(workspace_id),
        )
        .await?)
}

fn compose_single(
    row: &OutboxRow,
    brand: Option<&(String, String, Option<String>, String)>,
    public_url: &str,
    secret: &str,
) -> AppResult<Composed> {
    let (from_name, from_email, reply_to, footer) =
        brand.cloned().ok_or_else(|| AppError::validation("brand", "the workspace has no brand"))?;
    Ok(Composed {
        message_id: format!("{}@{}", row.id.simple(), message_domain(&from_email)),
        from_name,
        from_email,
        reply_to,
        to: row.to_email.clone(),
        subject: row.subject.clone().unwrap_or_default(),
        html: row.html_body.clone().unwrap_or_default(),
        footer,
        unsubscribe_url: format!("{public_url}/u/{}", link_token(secret, "unsubscribe", row.id, "")),
        open_pixel: None,
    })
}

/// Gives claimed rows back (nothing was handed to the sender).
async fn release(db: &Db, rows: &[OutboxRow], why: &str) -> AppResult<()> {
    tracing::warn!(why, messages = rows.len(), "outbox batch not sent; retrying later");
    let mut tx = db.begin().await?;
    for row in rows {
        tx.execute(
            Q::new(
                "UPDATE email_outbox SET status = 'queued', lease_owner = NULL, sent_at = NULL, detail = $1, due_at = $2 \
                 WHERE id = $3 AND status = 'sending'",
            )
            .bind(why)
            .bind(now() + chrono::Duration::seconds(30))
            .bind(row.id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn record_outcomes(db: &Db, outcomes: Vec<(Uuid, Outcome)>) -> AppResult<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for (id, outcome) in outcomes {
        let q = match outcome {
            Outcome::Sent(message_id) => {
                Q::new("UPDATE email_outbox SET status = 'sent', lease_owner = NULL, message_id = $1, detail = NULL WHERE id = $2")
                    .bind(message_id)
                    .bind(id)
            }
            Outcome::Failed(why) => {
                Q::new("UPDATE email_outbox SET status = 'failed', lease_owner = NULL, sent_at = NULL, detail = $1 WHERE id = $2")
                    .bind(why)
                    .bind(id)
            }
            Outcome::Unknown(why) => {
                Q::new("UPDATE email_outbox SET status = 'unknown', lease_owner = NULL, detail = $1 WHERE id = $2").bind(why).bind(id)
            }
            Outcome::Retry(why) => Q::new(
                "UPDATE email_outbox SET status = CASE WHEN attempts >= 5 THEN 'failed' ELSE 'queued' END, lease_owner = NULL, \
                 sent_at = NULL, detail = $1, due_at = $2 WHERE id = $3",
            )
            .bind(why)
            .bind(now() + chrono::Duration::seconds(60))
            .bind(id),
        };
        tx.execute(q).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Axiomatic's single outbound email: queued through the same outbox,
/// caps and suppression list, and logged on the lead's timeline.
pub async fn queue_single_email(tx: &mut Tx, ctx: &Ctx, input: OutboundEmail) -> AppResult<OutboxMessage> {
    ctx.require(Scope::MarketingWrite)?;
    let subject = required_text("subject", &input.subject, 200)?;
    let html_body = required_text("htmlBody", &input.html_body, 100_000)?;
    let found: Option<(Option<String>,)> = tx
        .fetch_optional(Q::new("SELECT email FROM leads WHERE workspace_id = $1 AND id = $2").bind(ctx.workspace_id).bind(input.lead_id))
        .await?;
    let to = match found {
        None => return Err(AppError::validation("leadId", "no such lead")),
        Some((None,)) => return Err(AppError::validation("leadId", "the lead has no email address")),
        Some((Some(email),)) => email.to_lowercase(),
    };
    let sender = super::senders::sender_row(tx, ctx, input.connection_id)
        .await
        .map_err(|_| AppError::validation("connectionId", "no such connection"))?;
    if sender.kind == SenderKind::Mailbox && super::senders::smtp_sender_exists(tx, ctx.workspace_id).await? {
        return Err(AppError::validation("connectionId", "the built-in mailbox is not used once an SMTP sender exists"));
    }
    if single_email_brand(tx, ctx.workspace_id).await?.is_none() {
        return Err(AppError::validation("connectionId", "create a brand first: it says who the email is from and carries the footer"));
    }
    let suppressed: Option<(String,)> = tx
        .fetch_optional(
            Q::new("SELECT reason FROM suppressions WHERE workspace_id = $1 AND email = $2").bind(ctx.workspace_id).bind(to.as_str()),
        )
        .await?;
    if let Some((reason,)) = suppressed {
        return Err(AppError::Conflict { code: "suppressed", message: format!("{to} is on the suppression list ({reason})") });
    }
    link_secret(tx).await?;
    let id = Uuid::now_v7();
    let at = now();
    tx.execute(
        Q::new(
            "INSERT INTO email_outbox (id, workspace_id, lead_id, sender_id, to_email, subject, html_body, status, due_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $8)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(input.lead_id)
        .bind(sender.id)
        .bind(to.as_str())
        .bind(subject.as_str())
        .bind(html_body.as_str())
        .bind(at),
    )
    .await?;
    let activity = crate::crm::activities::types::NewActivity {
        kind: crate::crm::activities::types::ActivityKind::Email,
        subject: subject.clone(),
        body: Some(html_to_text(&html_body).chars().take(5000).collect()),
        lead_id: Some(input.lead_id),
        ..Default::default()
    };
    let crm_ctx = Ctx { scopes: vec![Scope::CrmWrite], ..ctx.clone() };
    crate::crm::activities::ops::create_activity(tx, &crm_ctx, activity).await?;
    let message = outbox_message(tx, ctx, id).await?;
    audit::record(tx, ctx, "email.queued", "email_outbox", Some(id), None::<&()>, Some(&message)).await?;
    Ok(message)
}

#[derive(sqlx::FromRow)]
struct OutboxMessageRow {
    id: Uuid,
    sequence_id: Option<Uuid>,
    step_index: Option<i64>,
    lead_id: Option<Uuid>,
    sender_id: Uuid,
    to_email: String,
    #[sqlx(try_from = "String")]
    status: OutboxStatus,
    due_at: chrono::DateTime<Utc>,
    sent_at: Option<chrono::DateTime<Utc>>,
    detail: Option<String>,
}

const OUTBOX_COLUMNS: &str = "id, sequence_id, step_index, lead_id, sender_id, to_email, status, due_at, sent_at, detail";

impl From<OutboxMessageRow> for OutboxMessage {
    fn from(r: OutboxMessageRow) -> OutboxMessage {
        OutboxMessage {
            id: r.id,
            sequence_id: r.sequence_id,
            step_index: r.step_index,
            lead_id: r.lead_id,
            sender_connector_id: r.sender_id,
            to_email: r.to_email,
            status: r.status,
            due_at: r.due_at,
            sent_at: if r.status == OutboxStatus::Sent { r.sent_at } else { None },
            detail: r.detail,
        }
    }
}

pub async fn outbox_message(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<OutboxMessage> {
    ctx.require(Scope::MarketingRead)?;
    let row: Option<OutboxMessageRow> = tx
        .fetch_optional(
            Q::new(format!("SELECT {OUTBOX_COLUMNS} FROM email_outbox WHERE workspace_id = $1 AND id = $2"))
                .bind(ctx.workspace_id)
                .bind(id),
        )
        .await?;
    row.map(OutboxMessage::from).ok_or(AppError::NotFound("message"))
}

/// A sequence's messages (newest first), optionally of one status.
pub async fn list_messages(
    tx: &mut Tx,
    ctx: &Ctx,
    sequence_id: Uuid,
    status: Option<OutboxStatus>,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> AppResult<crate::platform::types::Page<OutboxMessage>> {
    ctx.require(Scope::MarketingRead)?;
    let page = crate::platform::pagination::PageRequest::parse(limit, cursor)?;
    let mut q = Q::new(format!("SELECT {OUTBOX_COLUMNS} FROM email_outbox WHERE workspace_id = $1 AND sequence_id = $2"))
        .bind(ctx.workspace_id)
        .bind(sequence_id);
    if let Some(status) = status {
        let p = q.arg(status.as_str());
        q.push(&format!(" AND status = {p}"));
    }
    page.apply(&mut q, "id");
    let rows: Vec<OutboxMessageRow> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |r| r.id, OutboxMessage::from))
}

#[derive(sqlx::FromRow)]
struct MailboxRow {
    id: Uuid,
    outbox_id: Option<Uuid>,
    to_email: String,
    from_header: String,
    subject: String,
    html_body: String,
    raw: Option<String>,
    created_at: chrono::DateTime<Utc>,
}

impl From<MailboxRow> for MailboxMessage {
    fn from(r: MailboxRow) -> MailboxMessage {
        MailboxMessage {
            id: r.id,
            outbox_id: r.outbox_id,
            to_email: r.to_email,
            from: r.from_header,
            subject: r.subject,
            html_body: r.html_body,
            raw: r.raw,
            created_at: r.created_at,
        }
    }
}

/// The built-in mailbox: what would have been delivered, newest first.
pub async fn mailbox(
    tx: &mut Tx,
    ctx: &Ctx,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> AppResult<crate::platform::types::Page<MailboxMessage>> {
    ctx.require(Scope::MarketingRead)?;
    let page = crate::platform::pagination::PageRequest::parse(limit, cursor)?;
    let mut q = Q::new(
        "SELECT id, outbox_id, to_email, from_header, subject, html_body, CAST(NULL AS TEXT) AS raw, created_at \
         FROM mailbox_messages WHERE workspace_id = $1",
    )
    .bind(ctx.workspace_id);
    page.apply(&mut q, "id");
    let rows: Vec<MailboxRow> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |r| r.id, MailboxMessage::from))
}

pub async fn mailbox_message(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<MailboxMessage> {
    ctx.require(Scope::MarketingRead)?;
    let row: Option<MailboxRow> = tx
        .fetch_optional(
            Q::new("SELECT id, outbox_id, to_email, from_header, subject, html_body, raw, created_at FROM mailbox_messages WHERE workspace_id = $1 AND id = $2")
                .bind(ctx.workspace_id)
                .bind(id),
        )
        .await?;
    row.map(MailboxMessage::from).ok_or(AppError::NotFound("mailbox message"))
}

/// A test send of a sequence's first step (or a short note) to chosen
/// addresses, straight through the sender: the author's own check, marked
/// "[Test]", never counted as a send.
pub async fn test_send(db: &Db, config: &Config, ctx: &Ctx, sender_id: Uuid, input: TestSend) -> AppResult<Value> {
    ctx.require(Scope::MarketingWrite)?;
    if input.to.is_empty() || input.to.len() > 10 {
        return Err(AppError::validation("to", "send a test to 1 to 10 addresses"));
    }
    let to: Vec<String> = input
        .to
        .iter()
        .enumerate()
        .map(|(i, e)| crate::platform::validate::normalize_email(&format!("to[{i}]"), e))
        .collect::<AppResult<_>>()?;
    let mut tx = db.begin().await?;
    let sender = super::senders::sender_row(&mut tx, ctx, sender_id).await?;
    let secret = link_secret(&mut tx).await?;
    let (subject, html, brand) = match input.sequence_id {
        Some(id) => {
            let sequence = sequences::find_row(&mut tx, ctx.workspace_id, id).await?.ok_or(AppError::NotFound("email sequence"))?;
            let seq = sequence.to_sequence();
            let sample = sequences::current_recipients(&mut tx, ctx, seq.segment_id, Some(1)).await?.into_iter().next().unwrap_or_default();
            let brand = super::senders::brand_row(&mut tx, ctx, seq.brand_id).await?;
            let step = &seq.steps[0];
            (copy::render(&step.subject, &sample, false), copy::render(&step.body, &sample, true), Some(brand))
        }
        None => ("Corral test message".to_string(), "<p>This is a test message from Corral.</p>".to_string(), None),
    };
    let brand = match brand {
        Some(b) => (b.from_name, b.from_email, b.reply_to, b.footer),
        None => single_email_brand(&mut tx, ctx.workspace_id)
            .await?
            .ok_or_else(|| AppError::validation("sequence_id", "create a brand first: it says who the email is from"))?,
    };
    audit::record(
        &mut tx,
        ctx,
        "sender.test_sent",
        "sender",
        Some(sender_id),
        None::<&()>,
        Some(&json!({ "to": to, "sequence_id": input.sequence_id })),
    )
    .await?;
    tx.commit().await?;
    let mut transport = transport_for(db, ctx.workspace_id, &sender).await?;
    if let Transport::Smtp(smtp) = &mut transport {
        smtp.open().await.map_err(|e| AppError::Upstream(format!("the SMTP server could not be reached: {e}")))?;
    }
    let mut results = Vec::new();
    for address in to {
        let id = Uuid::now_v7();
        let composed = Composed {
            from_name: brand.0.clone(),
            from_email: brand.1.clone(),
            reply_to: brand.2.clone(),
            to: address.clone(),
            subject: format!("[Test] {subject}"),
            html: html.clone(),
            footer: brand.3.clone(),
            unsubscribe_url: format!("{}/u/{}", config.public_url, link_token(&secret, "test", id, "")),
            open_pixel: None,
            message_id: format!("{}@{}", id.simple(), message_domain(&brand.1)),
        };
        let outcome = deliver(db, &mut transport, ctx.workspace_id, None, &composed).await;
        let (status, detail) = match outcome {
            Outcome::Sent(_) => ("sent", None),
            Outcome::Failed(d) | Outcome::Retry(d) | Outcome::Unknown(d) => ("failed", Some(d)),
        };
        results.push(json!({ "to": address, "status": status, "detail": detail }));
    }
    if let Transport::Smtp(smtp) = &mut transport {
        smtp.close().await;
    }
    Ok(json!({ "results": results }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(days: Vec<i64>, start: i64, end: i64, tz: &str) -> Sender {
        Sender {
            id: Uuid::nil(),
            workspace_id: Uuid::nil(),
            name: "s".into(),
            kind: SenderKind::Smtp,
            host: None,
            port: None,
            security: None,
            username: None,
            has_password: false,
            per_minute_cap: 1,
            per_day_cap: 1,
            window_start_hour: start,
            window_end_hour: end,
            window_days: days,
            time_zone: tz.into(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn the_send_window_is_read_in_the_workspaces_time_zone() {
        // Monday 2026-11-23 08:30 UTC is 09:30 in Paris and 03:30 in New York.
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-23T08:30:00Z").unwrap().with_timezone(&Utc);
        assert!(in_window(&sender(vec![1, 2, 3, 4, 5], 9, 17, "Europe/Paris"), at));
        assert!(!in_window(&sender(vec![1, 2, 3, 4, 5], 9, 17, "America/New_York"), at));
        assert!(!in_window(&sender(vec![2, 3], 0, 24, "UTC"), at), "not a sending day");
        // Sunday late evening in Los Angeles is already Monday in UTC.
        let sunday_la = chrono::DateTime::parse_from_rfc3339("2026-11-23T05:00:00Z").unwrap().with_timezone(&Utc);
        assert!(in_window(&sender(vec![7], 20, 24, "America/Los_Angeles"), sunday_la));
    }

    #[test]
    fn tracked_links_are_signed_for_their_own_url() {
        let html =
            track_links("<a href=\"https://acme.test/a?b=1\">x</a> <a href=\"mailto:x@y.z\">m</a>", "https://crm.test", "k", Uuid::nil());
        assert!(html.contains("https://crm.test/t/c/") && html.contains("u=https%3A%2F%2Facme.test%2Fa%3Fb%3D1"), "{html}");
        assert!(html.contains("href=\"mailto:x@y.z\""), "only web links are tracked: {html}");
    }
}
