//! Server functions for the marketing pages: the same operations as the
//! REST API and MCP tools, called by the signed-in member.

use crate::api_error::ApiError;
#[cfg(feature = "ssr")]
use crate::platform::transaction::WriteTx;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::types::*;
use crate::platform::types::Page;

#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, member, optional_id};

/// What the marketing home shows and its forms choose from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarketingOverview {
    pub sequences: Vec<EmailSequence>,
    pub campaigns: Vec<Campaign>,
    pub brands: Vec<Brand>,
    pub senders: Vec<Sender>,
    /// Lists and segments of leads: (id, name).
    pub segments: Vec<(Uuid, String)>,
    pub pending_approvals: usize,
}

#[server(prefix = "/sf", endpoint = "load_marketing")]
pub async fn load_marketing() -> Result<MarketingOverview, ApiError> {
    let (state, ctx) = member().await?;
    // The sender list makes the built-in mailbox on first use: a write.
    let mut tx = WriteTx::begin(&state.db).await?;
    let sequences = super::sequences::list(&mut tx, &ctx, SequenceFilter { limit: Some(100), ..Default::default() }).await?.data;
    let campaigns = super::campaigns::list(&mut tx, &ctx, CampaignFilter { limit: Some(100), ..Default::default() }).await?.data;
    let brands = super::senders::list_brands(&mut tx, &ctx).await?;
    let senders = super::senders::list_senders(&mut tx, &ctx).await?;
    let lists = crate::audience::lists::list(&mut tx, &ctx, Some(100), None).await?.data;
    let pending_approvals = super::sequences::approval_queue(&mut tx, &ctx).await?.len();
    tx.commit().await?;
    let segments = lists.into_iter().filter(|l| l.entity == crate::audience::types::ListEntity::Lead).map(|l| (l.id, l.name)).collect();
    Ok(MarketingOverview { sequences, campaigns, brands, senders, segments, pending_approvals })
}

#[server(prefix = "/sf", endpoint = "create_brand")]
pub async fn create_brand(
    name: String,
    from_name: String,
    from_email: String,
    reply_to: Option<String>,
    footer: String,
) -> Result<Brand, ApiError> {
    let (state, ctx) = member().await?;
    let input = NewBrand { name, from_name, from_email, reply_to: blank_to_none(reply_to), footer };
    let mut tx = WriteTx::begin(&state.db).await?;
    let brand = super::senders::create_brand(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(brand)
}

/// The SMTP sender form, as typed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SmtpSenderForm {
    pub name: String,
    pub host: String,
    pub port: String,
    pub security: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub per_minute_cap: String,
    pub per_day_cap: String,
    pub window_start_hour: String,
    pub window_end_hour: String,
    /// `1, 2, 3, 4, 5` (1 = Monday … 7 = Sunday).
    pub window_days: String,
}

#[server(prefix = "/sf", endpoint = "create_smtp_sender")]
pub async fn create_smtp_sender(form: SmtpSenderForm) -> Result<CreatedSender, ApiError> {
    let SmtpSenderForm {
        name,
        host,
        port,
        security,
        username,
        password,
        per_minute_cap,
        per_day_cap,
        window_start_hour,
        window_end_hour,
        window_days,
    } = form;
    let (state, ctx) = member().await?;
    let number =
        |field: &str, text: &str| text.trim().parse::<i64>().map_err(|_| ApiError::field(field, format!("{field} is a whole number")));
    let input = NewSender {
        name,
        host,
        port: number("port", &port)?,
        security: SmtpSecurity::parse(&security).ok_or_else(|| ApiError::field("security", "choose how the connection is secured"))?,
        username: blank_to_none(username),
        password: blank_to_none(password),
        per_minute_cap: Some(number("per_minute_cap", &per_minute_cap)?),
        per_day_cap: Some(number("per_day_cap", &per_day_cap)?),
        window_start_hour: Some(number("window_start_hour", &window_start_hour)?),
        window_end_hour: Some(number("window_end_hour", &window_end_hour)?),
        window_days: Some(
            crate::platform::server_fns::ssr::split_list(&window_days, &[',', ' '])
                .iter()
                .map(|d| d.parse::<i64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| ApiError::field("window_days", "days as numbers from 1 (Monday) to 7 (Sunday), e.g. 1, 2, 3, 4, 5"))?,
        ),
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let sender = super::senders::create_sender(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(sender)
}

#[server(prefix = "/sf", endpoint = "preview_sequence")]
pub async fn preview_sequence(
    segment_id: String,
    brand_id: String,
    objective: String,
    num_emails: String,
    cadence_days: Option<String>,
    sender_connector_id: Option<String>,
    campaign_id: Option<String>,
) -> Result<SequencePreview, ApiError> {
    let (state, ctx) = member().await?;
    let cadence = match blank_to_none(cadence_days) {
        Some(text) => Some(
            text.split(',')
                .map(|d| d.trim().parse::<i64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| ApiError::field("cadence_days", "days as whole numbers separated by commas, e.g. 0, 3, 7"))?,
        ),
        None => None,
    };
    let input = PreviewEmailSequence {
        segment_id: optional_id(Some(segment_id), "segment_id")?.ok_or_else(|| ApiError::field("segment_id", "choose a segment"))?,
        brand_id: optional_id(Some(brand_id), "brand_id")?.ok_or_else(|| ApiError::field("brand_id", "choose a brand"))?,
        objective,
        sender_connector_id: optional_id(sender_connector_id, "sender_connector_id")?,
        num_emails: Some(num_emails.trim().parse().map_err(|_| ApiError::field("num_emails", "a number of emails from 1 to 10"))?),
        cadence_days: cadence,
        campaign_id: optional_id(campaign_id, "campaign_id")?,
        ..Default::default()
    };
    let drafted = super::routes::draft_copy(&state, &ctx, &input).await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let preview = super::sequences::create_preview(&mut tx, &ctx, input, drafted).await?;
    tx.commit().await?;
    leptos_axum::redirect(&format!("/marketing/sequences/{}", preview.preview_id));
    Ok(preview)
}

/// A sequence with what its page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequenceView {
    pub review: SequenceReview,
    pub rollup: Rollup,
}

#[server(prefix = "/sf", endpoint = "load_sequence")]
pub async fn load_sequence(id: Uuid) -> Result<SequenceView, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let review = super::sequences::review(&mut tx, &ctx, id).await?;
    let rollup = super::campaigns::rollup(&mut tx, &ctx, None, Some(id)).await?;
    tx.commit().await?;
    Ok(SequenceView { review, rollup })
}

/// Saves one step's subject and body (the rest stay): a new version.
#[server(prefix = "/sf", endpoint = "save_sequence_step")]
pub async fn save_sequence_step(id: Uuid, index: usize, subject: String, body: String) -> Result<EmailSequence, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let mut steps = super::sequences::get(&mut tx, &ctx, id).await?.steps;
    let step = steps.get_mut(index).ok_or_else(|| ApiError::field("index", "no such step"))?;
    *step = SequenceStep { subject, body };
    let sequence = super::sequences::update(&mut tx, &ctx, id, SequencePatch { steps: Some(steps), ..Default::default() }).await?;
    tx.commit().await?;
    Ok(sequence)
}

/// The gate's buttons: submit, approve, pause, resume, cancel.
#[server(prefix = "/sf", endpoint = "sequence_action")]
pub async fn sequence_action(id: Uuid, action: String) -> Result<String, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let message = match action.as_str() {
        "submit" => super::sequences::submit(&mut tx, &ctx, id).await.map(|_| "Submitted for approval.".to_string())?,
        "approve" => super::sequences::approve(&mut tx, &ctx, id).await.map(|o| o.message)?,
        "pause" => super::sequences::pause(&mut tx, &ctx, id).await.map(|_| "Paused.".to_string())?,
        "resume" => super::sequences::resume(&mut tx, &ctx, id).await.map(|_| "Resumed.".to_string())?,
        "cancel" => super::sequences::cancel(&mut tx, &ctx, id).await.map(|_| "Cancelled.".to_string())?,
        other => return Err(ApiError::field("action", format!("unknown action {other:?}"))),
    };
    tx.commit().await?;
    Ok(message)
}

#[server(prefix = "/sf", endpoint = "reject_sequence")]
pub async fn reject_sequence(id: Uuid, reason: String) -> Result<EmailSequence, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let sequence = super::sequences::reject(&mut tx, &ctx, id, Rejection { reason }).await?;
    tx.commit().await?;
    Ok(sequence)
}

#[server(prefix = "/sf", endpoint = "approval_queue")]
pub async fn approval_queue() -> Result<Vec<ApprovalQueueItem>, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let queue = super::sequences::approval_queue(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(queue)
}

#[server(prefix = "/sf", endpoint = "list_mailbox")]
pub async fn list_mailbox(cursor: Option<String>) -> Result<Page<MailboxMessage>, ApiError> {
    let (state, ctx) = member().await?;
    let cursor = blank_to_none(cursor);
    let mut tx = state.db.begin_read().await?;
    let page = super::outbox::mailbox(&mut tx, &ctx, Some(50), cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(page)
}

#[server(prefix = "/sf", endpoint = "read_mailbox_message")]
pub async fn read_mailbox_message(id: Uuid) -> Result<MailboxMessage, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let message = super::outbox::mailbox_message(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(message)
}

/// The campaign list's filters, as the page's query string holds them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignQuery {
    pub channel: Option<String>,
    pub status: Option<String>,
    pub segment_id: Option<String>,
    /// `YYYY-MM-DD`: created on or after that day (UTC).
    pub from: Option<String>,
    /// `YYYY-MM-DD`: created on or before that day (UTC).
    pub to: Option<String>,
    pub cursor: Option<String>,
}

/// A page of campaigns and what the filter and "new campaign" forms offer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignsView {
    pub page: Page<Campaign>,
    pub segments: Vec<(Uuid, String)>,
    pub brands: Vec<Brand>,
}

#[cfg(feature = "ssr")]
async fn lead_segments(tx: &mut crate::platform::db::Tx, ctx: &crate::platform::context::Ctx) -> Result<Vec<(Uuid, String)>, ApiError> {
    let lists = crate::audience::lists::list(tx, ctx, Some(100), None).await?.data;
    Ok(lists.into_iter().filter(|l| l.entity == crate::audience::types::ListEntity::Lead).map(|l| (l.id, l.name)).collect())
}

#[server(prefix = "/sf", endpoint = "list_campaigns_view")]
pub async fn list_campaigns_view(query: CampaignQuery) -> Result<CampaignsView, ApiError> {
    use crate::platform::server_fns::ssr::optional_date;
    let (state, ctx) = member().await?;
    let day_start = |date: chrono::NaiveDate| date.and_time(chrono::NaiveTime::MIN).and_utc();
    let filter = CampaignFilter {
        channel: match blank_to_none(query.channel) {
            Some(c) => Some(Channel::parse(&c).ok_or_else(|| ApiError::field("channel", "choose a channel"))?),
            None => None,
        },
        status: match blank_to_none(query.status) {
            Some(s) => Some(CampaignStatus::parse(&s).ok_or_else(|| ApiError::field("status", "choose a status"))?),
            None => None,
        },
        segment_id: optional_id(query.segment_id, "segment_id")?,
        created_from: optional_date(query.from, "from")?.map(day_start),
        created_to: optional_date(query.to, "to")?.and_then(|d| d.succ_opt()).map(day_start),
        limit: Some(50),
        cursor: blank_to_none(query.cursor),
    };
    let mut tx = state.db.begin_read().await?;
    let page = super::campaigns::list(&mut tx, &ctx, filter).await?;
    let segments = lead_segments(&mut tx, &ctx).await?;
    let brands = super::senders::list_brands(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(CampaignsView { page, segments, brands })
}

#[server(prefix = "/sf", endpoint = "create_campaign_form")]
pub async fn create_campaign_form(
    name: String,
    channel: String,
    segment_id: Option<String>,
    brand_id: Option<String>,
) -> Result<Campaign, ApiError> {
    let (state, ctx) = member().await?;
    let input = NewCampaign {
        name,
        channel: Some(Channel::parse(&channel).ok_or_else(|| ApiError::field("channel", "choose a channel"))?),
        segment_id: optional_id(segment_id, "segment_id")?,
        brand_id: optional_id(brand_id, "brand_id")?,
        owner_id: None,
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let campaign = super::campaigns::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    leptos_axum::redirect(&format!("/marketing/campaigns/{}", campaign.id));
    Ok(campaign)
}

/// A campaign with its sequences, their results, and what its "new
/// sequence" form chooses from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignView {
    pub campaign: Campaign,
    pub sequences: Vec<EmailSequence>,
    pub rollup: Rollup,
    pub segments: Vec<(Uuid, String)>,
    pub brands: Vec<Brand>,
    pub senders: Vec<Sender>,
    pub owner_name: Option<String>,
}

#[server(prefix = "/sf", endpoint = "load_campaign")]
pub async fn load_campaign(id: Uuid) -> Result<CampaignView, ApiError> {
    let (state, ctx) = member().await?;
    // The sender list makes the built-in mailbox on first use: a write.
    let mut tx = WriteTx::begin(&state.db).await?;
    let campaign = super::campaigns::get(&mut tx, &ctx, id).await?;
    let filter = SequenceFilter { campaign_id: Some(id), limit: Some(100), ..Default::default() };
    let sequences = super::sequences::list(&mut tx, &ctx, filter).await?.data;
    let rollup = super::campaigns::rollup(&mut tx, &ctx, Some(id), None).await?;
    let segments = lead_segments(&mut tx, &ctx).await?;
    let brands = super::senders::list_brands(&mut tx, &ctx).await?;
    let senders = super::senders::list_senders(&mut tx, &ctx).await?;
    let members = crate::platform::accounts::list_members(&mut tx, &ctx).await?;
    tx.commit().await?;
    let owner_name = members.into_iter().find(|m| Some(m.user_id) == campaign.owner_id).map(|m| m.name);
    Ok(CampaignView { campaign, sequences, rollup, segments, brands, senders, owner_name })
}

#[server(prefix = "/sf", endpoint = "set_campaign_status")]
pub async fn set_campaign_status(id: Uuid, status: String) -> Result<Campaign, ApiError> {
    let (state, ctx) = member().await?;
    let status = CampaignStatus::parse(&status).ok_or_else(|| ApiError::field("status", "choose a status"))?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let campaign = super::campaigns::update(&mut tx, &ctx, id, CampaignPatch { status: Some(status), ..Default::default() }).await?;
    tx.commit().await?;
    Ok(campaign)
}

#[server(prefix = "/sf", endpoint = "load_rollups")]
pub async fn load_rollups(from: Option<String>, to: Option<String>) -> Result<Rollups, ApiError> {
    let (state, ctx) = member().await?;
    let day = |field: &str, text: Option<String>| -> Result<Option<chrono::NaiveDate>, ApiError> {
        match blank_to_none(text) {
            Some(t) => {
                chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d").map(Some).map_err(|_| ApiError::field(field, "a date like 2026-11-01"))
            }
            None => Ok(None),
        }
    };
    let query = RollupQuery { from: day("from", from)?, to: day("to", to)?, ..RollupQuery::default() };
    let mut tx = state.db.begin_read().await?;
    let found = super::rollups::rollups(&mut tx, &ctx, query).await?;
    tx.commit().await?;
    Ok(found)
}
