//! Brands (who a message is from, and its footer) and senders (how it
//! leaves: an SMTP server, or the built-in mailbox), and the workspace's
//! chat-completions endpoint for copy.

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde_json::json;
use uuid::Uuid;

use super::types::*;
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::types::Scope;
use crate::platform::validate::{in_range, normalize_email, optional_email, optional_text, required_text};

pub const DEFAULT_PER_MINUTE_CAP: i64 = 60;
pub const DEFAULT_PER_DAY_CAP: i64 = 10_000;
pub const MAILBOX_NAME: &str = "Built-in mailbox (local, nothing leaves this server)";

#[derive(sqlx::FromRow)]
struct BrandRow {
    id: Uuid,
    workspace_id: Uuid,
    name: String,
    from_name: String,
    from_email: String,
    reply_to: Option<String>,
    footer: String,
    source: String,
    last_agent_actor_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const BRAND_COLUMNS: &str =
    "id, workspace_id, name, from_name, from_email, reply_to, footer, source, last_agent_actor_id, created_at, updated_at";

impl From<BrandRow> for Brand {
    fn from(r: BrandRow) -> Brand {
        Brand {
            id: r.id,
            workspace_id: r.workspace_id,
            name: r.name,
            from_name: r.from_name,
            from_email: r.from_email,
            reply_to: r.reply_to,
            footer: r.footer,
            source: r.source,
            last_agent_actor_id: r.last_agent_actor_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub async fn get_brand(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Brand> {
    ctx.require(Scope::MarketingRead)?;
    brand_row(tx, ctx, id).await
}

pub(super) async fn brand_row(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Brand> {
    let row: Option<BrandRow> = tx
        .fetch_optional(
            Q::new(format!("SELECT {BRAND_COLUMNS} FROM brands WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id),
        )
        .await?;
    row.map(Brand::from).ok_or(AppError::NotFound("brand"))
}

pub async fn list_brands(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<Brand>> {
    ctx.require(Scope::MarketingRead)?;
    let rows: Vec<BrandRow> = tx
        .fetch_all(Q::new(format!("SELECT {BRAND_COLUMNS} FROM brands WHERE workspace_id = $1 ORDER BY name")).bind(ctx.workspace_id))
        .await?;
    Ok(rows.into_iter().map(Brand::from).collect())
}

/// The footer goes out with every message; anti-spam law (CAN-SPAM) asks
/// for the sender's postal address in it, which has a number somewhere.
fn check_footer(footer: &str) -> AppResult<String> {
    let footer = required_text("footer", footer, 2000)?;
    if !footer.chars().any(|c| c.is_ascii_digit()) {
        return Err(AppError::validation("footer", "the footer must hold the sender's postal address (street, number, city)"));
    }
    Ok(footer)
}

async fn check_brand_name_free(tx: &mut Tx, ctx: &Ctx, name: &str, except: Option<Uuid>) -> AppResult<()> {
    let taken: Option<(Uuid,)> =
        tx.fetch_optional(Q::new("SELECT id FROM brands WHERE workspace_id = $1 AND name = $2").bind(ctx.workspace_id).bind(name)).await?;
    if taken.is_some_and(|(id,)| Some(id) != except) {
        return Err(AppError::Duplicate {
            code: "name_taken",
            field: "name".into(),
            message: format!("a brand named {name:?} already exists"),
        });
    }
    Ok(())
}

pub async fn create_brand(tx: &mut Tx, ctx: &Ctx, input: NewBrand) -> AppResult<Brand> {
    ctx.require(Scope::MarketingWrite)?;
    let name = required_text("name", &input.name, 200)?;
    let from_name = required_text("from_name", &input.from_name, 200)?;
    let from_email = normalize_email("from_email", &input.from_email)?;
    let reply_to = optional_email("reply_to", input.reply_to)?;
    let footer = check_footer(&input.footer)?;
    check_brand_name_free(tx, ctx, &name, None).await?;
    let id = Uuid::now_v7();
    let at = now();
    tx.execute(
        Q::new(
            "INSERT INTO brands (id, workspace_id, name, from_name, from_email, reply_to, footer, source, last_agent_actor_id, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(name)
        .bind(from_name)
        .bind(from_email)
        .bind(reply_to)
        .bind(footer)
        .bind(ctx.record_source())
        .bind(ctx.api_key_id)
        .bind(at),
    )
    .await?;
    let brand = brand_row(tx, ctx, id).await?;
    audit::record(tx, ctx, "brand.created", "brand", Some(id), None::<&()>, Some(&brand)).await?;
    Ok(brand)
}

pub async fn update_brand(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: BrandPatch) -> AppResult<Brand> {
    ctx.require(Scope::MarketingWrite)?;
    let before = brand_row(tx, ctx, id).await?;
    let mut after = before.clone();
    if let Some(name) = patch.name {
        after.name = required_text("name", &name, 200)?;
        check_brand_name_free(tx, ctx, &after.name, Some(id)).await?;
    }
    if let Some(from_name) = patch.from_name {
        after.from_name = required_text("from_name", &from_name, 200)?;
    }
    if let Some(from_email) = patch.from_email {
        after.from_email = normalize_email("from_email", &from_email)?;
    }
    if let Some(reply_to) = patch.reply_to {
        after.reply_to = optional_email("reply_to", reply_to)?;
    }
    if let Some(footer) = patch.footer {
        after.footer = check_footer(&footer)?;
    }
    after.updated_at = now();
    tx.execute(
        Q::new(
            "UPDATE brands SET name = $1, from_name = $2, from_email = $3, reply_to = $4, footer = $5, updated_at = $6 \
             WHERE workspace_id = $7 AND id = $8",
        )
        .bind(after.name.as_str())
        .bind(after.from_name.as_str())
        .bind(after.from_email.as_str())
        .bind(after.reply_to.clone())
        .bind(after.footer.as_str())
        .bind(after.updated_at)
        .bind(ctx.workspace_id)
        .bind(id),
    )
    .await?;
    audit::record(tx, ctx, "brand.updated", "brand", Some(id), Some(&before), Some(&after)).await?;
    if (&before.from_name, &before.from_email, &before.reply_to, &before.footer)
        != (&after.from_name, &after.from_email, &after.reply_to, &after.footer)
    {
        super::sequences::void_approvals_using(tx, ctx, "brand_id", id, "the brand changed after approval").await?;
    }
    Ok(after)
}

#[derive(sqlx::FromRow)]
struct SenderRow {
    id: Uuid,
    workspace_id: Uuid,
    name: String,
    #[sqlx(try_from = "String")]
    kind: SenderKind,
    host: Option<String>,
    port: Option<i64>,
    security: Option<String>,
    username: Option<String>,
    has_password: bool,
    per_minute_cap: i64,
    per_day_cap: i64,
    window_start_hour: i64,
    window_end_hour: i64,
    window_days: sqlx::types::Json<Vec<i64>>,
    time_zone: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const SENDER_COLUMNS: &str = "id, workspace_id, name, kind, host, port, security, username, \
     (CASE WHEN password IS NULL THEN FALSE ELSE TRUE END) AS has_password, per_minute_cap, per_day_cap, \
     window_start_hour, window_end_hour, window_days, \
     (SELECT w.time_zone FROM workspaces w WHERE w.id = email_senders.workspace_id) AS time_zone, created_at, updated_at";

impl From<SenderRow> for Sender {
    fn from(r: SenderRow) -> Sender {
        Sender {
            id: r.id,
            workspace_id: r.workspace_id,
            name: r.name,
            kind: r.kind,
            host: r.host,
            port: r.port,
            security: r.security.as_deref().and_then(SmtpSecurity::parse),
            username: r.username,
            has_password: r.has_password,
            per_minute_cap: r.per_minute_cap,
            per_day_cap: r.per_day_cap,
            window_start_hour: r.window_start_hour,
            window_end_hour: r.window_end_hour,
            window_days: r.window_days.0,
            time_zone: r.time_zone,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub(super) async fn sender_row(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Sender> {
    let row: Option<SenderRow> = tx
        .fetch_optional(
            Q::new(format!("SELECT {SENDER_COLUMNS} FROM email_senders WHERE workspace_id = $1 AND id = $2"))
                .bind(ctx.workspace_id)
                .bind(id),
        )
        .await?;
    row.map(Sender::from).ok_or(AppError::NotFound("sender"))
}

pub async fn get_sender(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Sender> {
    ctx.require(Scope::MarketingRead)?;
    sender_row(tx, ctx, id).await
}

/// The workspace's senders, the built-in mailbox first (created on first
/// use, so every workspace has one).
pub async fn list_senders(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<Sender>> {
    ctx.require(Scope::MarketingRead)?;
    mailbox_sender(tx, ctx).await?;
    let rows: Vec<SenderRow> = tx
        .fetch_all(
            Q::new(format!("SELECT {SENDER_COLUMNS} FROM email_senders WHERE workspace_id = $1 ORDER BY kind DESC, name"))
                .bind(ctx.workspace_id),
        )
        .await?;
    Ok(rows.into_iter().map(Sender::from).collect())
}

/// Axiomatic's "outbound email connections": the senders, by its names.
pub async fn outbound_connections(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<OutboundConnection>> {
    let senders = list_senders(tx, ctx).await?;
    let smtp_exists = senders.iter().any(|s| s.kind == SenderKind::Smtp);
    Ok(senders
        .into_iter()
        .filter(|s| s.kind == SenderKind::Smtp || !smtp_exists)
        .map(|s| OutboundConnection { id: s.id, name: s.name, channel: s.kind.as_str().into(), from_email: s.username })
        .collect())
}

/// The built-in mailbox sender of the workspace (made when first needed).
pub(super) async fn mailbox_sender(tx: &mut Tx, ctx: &Ctx) -> AppResult<Sender> {
    let existing: Option<(Uuid,)> = tx
        .fetch_optional(Q::new("SELECT id FROM email_senders WHERE workspace_id = $1 AND kind = 'mailbox'").bind(ctx.workspace_id))
        .await?;
    let id = match existing {
        Some((id,)) => id,
        None => {
            let id = Uuid::now_v7();
            let at = now();
            tx.execute(
                Q::new(
                    "INSERT INTO email_senders (id, workspace_id, name, kind, per_minute_cap, per_day_cap, window_start_hour, \
                     window_end_hour, window_days, webhook_secret, source, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'mailbox', $4, $5, 0, 24, $6, $7, 'system', $8, $8) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(ctx.workspace_id)
                .bind(MAILBOX_NAME)
                .bind(600_i64)
                .bind(100_000_i64)
                .bind(json!([1, 2, 3, 4, 5, 6, 7]))
                .bind(new_secret())
                .bind(at),
            )
            .await?;
            let (id,): (Uuid,) = tx
                .fetch_one(Q::new("SELECT id FROM email_senders WHERE workspace_id = $1 AND kind = 'mailbox'").bind(ctx.workspace_id))
                .await?;
            id
        }
    };
    sender_row(tx, ctx, id).await
}

/// Whether the workspace has an SMTP sender (then the mailbox is never used).
pub(super) async fn smtp_sender_exists(tx: &mut Tx, workspace_id: Uuid) -> AppResult<bool> {
    let found: Option<(Uuid,)> = tx
        .fetch_optional(Q::new("SELECT id FROM email_senders WHERE workspace_id = $1 AND kind = 'smtp' LIMIT 1").bind(workspace_id))
        .await?;
    Ok(found.is_some())
}

pub(super) fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

struct SenderSettings {
    name: String,
    host: String,
    port: i64,
    security: SmtpSecurity,
    username: Option<String>,
    per_minute_cap: i64,
    per_day_cap: i64,
    window_start_hour: i64,
    window_end_hour: i64,
    window_days: Vec<i64>,
}

fn check_settings(s: SenderSettings) -> AppResult<SenderSettings> {
    let host = required_text("host", &s.host, 253)?;
    if host.contains(['/', ' ', '@']) {
        return Err(AppError::validation("host", "host is a host name or IP address"));
    }
    if s.window_start_hour >= s.window_end_hour {
        return Err(AppError::validation("window_end_hour", "the send window must end after it starts"));
    }
    let mut days = s.window_days.clone();
    days.sort_unstable();
    days.dedup();
    if days.is_empty() || days.iter().any(|d| !(1..=7).contains(d)) {
        return Err(AppError::validation("window_days", "window_days are weekdays 1 (Monday) to 7 (Sunday), at least one"));
    }
    Ok(SenderSettings {
        name: required_text("name", &s.name, 200)?,
        host,
        port: in_range("port", s.port, 1, 65535)?,
        username: optional_text("username", s.username, 320)?,
        per_minute_cap: in_range("per_minute_cap", s.per_minute_cap, 1, 100_000)?,
        per_day_cap: in_range("per_day_cap", s.per_day_cap, 1, 10_000_000)?,
        window_start_hour: in_range("window_start_hour", s.window_start_hour, 0, 23)?,
        window_end_hour: in_range("window_end_hour", s.window_end_hour, 1, 24)?,
        window_days: days,
        ..s
    })
}

pub async fn create_sender(tx: &mut Tx, ctx: &Ctx, input: NewSender) -> AppResult<CreatedSender> {
    ctx.require(Scope::MarketingWrite)?;
    let settings = check_settings(SenderSettings {
        name: input.name,
        host: input.host,
        port: input.port,
        security: input.security,
        username: input.username,
        per_minute_cap: input.per_minute_cap.unwrap_or(DEFAULT_PER_MINUTE_CAP),
        per_day_cap: input.per_day_cap.unwrap_or(DEFAULT_PER_DAY_CAP),
        window_start_hour: input.window_start_hour.unwrap_or(0),
        window_end_hour: input.window_end_hour.unwrap_or(24),
        window_days: input.window_days.unwrap_or_else(|| vec![1, 2, 3, 4, 5, 6, 7]),
    })?;
    let password = optional_text("password", input.password, 1000)?;
    let id = Uuid::now_v7();
    let at = now();
    let webhook_secret = new_secret();
    tx.execute(
        Q::new(
            "INSERT INTO email_senders (id, workspace_id, name, kind, host, port, security, username, password, per_minute_cap, \
             per_day_cap, window_start_hour, window_end_hour, window_days, webhook_secret, source, last_agent_actor_id, \
             created_at, updated_at) VALUES ($1, $2, $3, 'smtp', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(settings.name)
        .bind(settings.host)
        .bind(settings.port)
        .bind(settings.security.as_str())
        .bind(settings.username)
        .bind(password)
        .bind(settings.per_minute_cap)
        .bind(settings.per_day_cap)
        .bind(settings.window_start_hour)
        .bind(settings.window_end_hour)
        .bind(json!(settings.window_days))
        .bind(webhook_secret.as_str())
        .bind(ctx.record_source())
        .bind(ctx.api_key_id)
        .bind(at),
    )
    .await?;
    let sender = sender_row(tx, ctx, id).await?;
    audit::record(tx, ctx, "sender.created", "sender", Some(id), None::<&()>, Some(&sender)).await?;
    Ok(CreatedSender { sender, webhook_secret })
}

pub async fn update_sender(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: SenderPatch) -> AppResult<Sender> {
    ctx.require(Scope::MarketingWrite)?;
    let before = sender_row(tx, ctx, id).await?;
    if before.kind == SenderKind::Mailbox {
        return Err(AppError::validation("id", "the built-in mailbox has no settings to change"));
    }
    let settings = check_settings(SenderSettings {
        name: patch.name.unwrap_or(before.name.clone()),
        host: patch.host.or(before.host.clone()).unwrap_or_default(),
        port: patch.port.or(before.port).unwrap_or_default(),
        security: patch.security.or(before.security).unwrap_or(SmtpSecurity::Starttls),
        username: patch.username.unwrap_or(before.username.clone()),
        per_minute_cap: patch.per_minute_cap.unwrap_or(before.per_minute_cap),
        per_day_cap: patch.per_day_cap.unwrap_or(before.per_day_cap),
        window_start_hour: patch.window_start_hour.unwrap_or(before.window_start_hour),
        window_end_hour: patch.window_end_hour.unwrap_or(before.window_end_hour),
        window_days: patch.window_days.unwrap_or(before.window_days.clone()),
    })?;
    let mut q = Q::new(
        "UPDATE email_senders SET name = $1, host = $2, port = $3, security = $4, username = $5, per_minute_cap = $6, \
         per_day_cap = $7, window_start_hour = $8, window_end_hour = $9, window_days = $10, updated_at = $11",
    )
    .bind(settings.name)
    .bind(settings.host)
    .bind(settings.port)
    .bind(settings.security.as_str())
    .bind(settings.username)
    .bind(settings.per_minute_cap)
    .bind(settings.per_day_cap)
    .bind(settings.window_start_hour)
    .bind(settings.window_end_hour)
    .bind(json!(settings.window_days))
    .bind(now());
    if let Some(password) = patch.password {
        let p = q.arg(optional_text("password", password, 1000)?);
        q.push(&format!(", password = {p}"));
    }
    let w = q.arg(ctx.workspace_id);
    let i = q.arg(id);
    q.push(&format!(" WHERE workspace_id = {w} AND id = {i}"));
    tx.execute(q).await?;
    let after = sender_row(tx, ctx, id).await?;
    audit::record(tx, ctx, "sender.updated", "sender", Some(id), Some(&before), Some(&after)).await?;
    if super::sequences::sender_terms(&before) != super::sequences::sender_terms(&after) {
        super::sequences::void_approvals_using(tx, ctx, "sender_id", id, "the sender changed after approval").await?;
    }
    Ok(after)
}

/// What the outbox needs to deliver through a sender, secrets included
/// (never leaves the server).
pub(super) struct SenderSecrets {
    pub password: Option<String>,
}

pub(super) async fn sender_secrets(tx: &mut Tx, workspace_id: Uuid, id: Uuid) -> AppResult<SenderSecrets> {
    let (password,): (Option<String>,) =
        tx.fetch_one(Q::new("SELECT password FROM email_senders WHERE workspace_id = $1 AND id = $2").bind(workspace_id).bind(id)).await?;
    Ok(SenderSecrets { password })
}

pub async fn chat_settings(tx: &mut Tx, ctx: &Ctx) -> AppResult<Option<ChatCompletionSettings>> {
    ctx.require(Scope::MarketingRead)?;
    let row: Option<(String, String, bool, DateTime<Utc>)> = tx
        .fetch_optional(
            Q::new(
                "SELECT base_url, model, (CASE WHEN api_key IS NULL THEN FALSE ELSE TRUE END), updated_at \
                 FROM chat_completion_settings WHERE workspace_id = $1",
            )
            .bind(ctx.workspace_id),
        )
        .await?;
    Ok(row.map(|(base_url, model, has_api_key, updated_at)| ChatCompletionSettings { base_url, model, has_api_key, updated_at }))
}

pub async fn set_chat_settings(tx: &mut Tx, ctx: &Ctx, input: ChatCompletionSettingsInput) -> AppResult<ChatCompletionSettings> {
    ctx.require(Scope::MarketingWrite)?;
    let base_url = required_text("base_url", &input.base_url, 500)?;
    let parsed = reqwest::Url::parse(&base_url).map_err(|_| AppError::validation("base_url", "base_url must be an http(s) URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(AppError::validation("base_url", "base_url must be an http(s) URL"));
    }
    let model = required_text("model", &input.model, 200)?;
    let api_key = optional_text("api_key", input.api_key, 1000)?;
    let before = chat_settings(tx, ctx).await?;
    let at = now();
    tx.execute(
        Q::new(
            "INSERT INTO chat_completion_settings (workspace_id, base_url, model, api_key, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (workspace_id) DO UPDATE SET base_url = $2, model = $3, \
             api_key = COALESCE($4, chat_completion_settings.api_key), updated_at = $5",
        )
        .bind(ctx.workspace_id)
        .bind(base_url.trim_end_matches('/'))
        .bind(model)
        .bind(api_key)
        .bind(at),
    )
    .await?;
    let after = chat_settings(tx, ctx).await?.ok_or_else(|| AppError::Internal("chat settings vanished".into()))?;
    audit::record(tx, ctx, "chat_settings.updated", "chat_settings", None, before.as_ref(), Some(&after)).await?;
    Ok(after)
}

/// The endpoint with its key, for the copy writer.
pub(crate) async fn chat_endpoint(tx: &mut Tx, workspace_id: Uuid) -> AppResult<Option<(String, String, Option<String>)>> {
    Ok(tx
        .fetch_optional(Q::new("SELECT base_url, model, api_key FROM chat_completion_settings WHERE workspace_id = $1").bind(workspace_id))
        .await?)
}
