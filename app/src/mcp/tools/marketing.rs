//! Marketing tools: the seed's `preview_email_sequence` and
//! `approve_email_sequence` (with its argument names: `preview_id`,
//! `sender_connector_id`, …), and the campaign, sequence, sender, brand,
//! suppression and mailbox reads and writes.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{begin_write, finish_write, page_json, read_json, read_one, record_args, schema_with_ids, tool, write_new, write_one, Nothing};
use crate::marketing::routes::{MessageQuery, SuppressionQuery};
use crate::marketing::types::*;
use crate::marketing::{campaigns, compliance, outbox, senders, sequences};
use crate::mcp::registry::{arguments, schema_of, Operation, ToolResult};
use crate::platform::context::{AppState, Ctx};

pub(super) static TOOLS: &[Operation] = &[
    tool!(write preview_email_sequence, MarketingWrite, idempotent: false, destructive: false,
        || schema_with_ids::<PreviewEmailSequence>(&[], true),
        "Preview an email sequence for a segment: the emails' subjects and bodies rendered for sample recipients, the recipient count \
         and who is excluded. Nothing is sent until a human approves it (approve_email_sequence)."),
    tool!(write approve_email_sequence, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("preview_id", "The preview (sequence) to approve.")], true),
        "Approve a previewed sequence to release it. Only keys granted marketing:approve may, and never the key that created the \
         preview; otherwise the sequence is put in the approvers' queue and the answer says so (status pending_approval)."),
    tool!(write submit_email_sequence, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("sequence_id", "The draft sequence.")], true),
        "Put a sequence in the approvers' queue."),
    tool!(write reject_email_sequence, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Rejection>(&[("sequence_id", "The sequence to reject.")], true),
        "Reject a sequence with a reason (approvers only, never its author)."),
    tool!(read list_email_sequences, MarketingRead, schema_of::<SequenceFilter>, "List email sequences by campaign, status, segment or date range."),
    tool!(read get_email_sequence, MarketingRead, || schema_with_ids::<Nothing>(&[("sequence_id", "The sequence.")], false),
        "Read one email sequence: its steps, cadence, status and approval."),
    tool!(read get_email_sequence_preview, MarketingRead, || schema_with_ids::<Nothing>(&[("sequence_id", "The sequence.")], false),
        "A sequence rendered for sample recipients, with its recipient count and exclusions."),
    tool!(read review_email_sequence, MarketingRead, || schema_with_ids::<Nothing>(&[("sequence_id", "The sequence.")], false),
        "What an approver reviews: the rendered steps, exclusions, brand, sender and the changes since the last approval."),
    tool!(write update_email_sequence, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<SequencePatch>(&[("sequence_id", "The sequence to edit.")], true),
        "Edit a sequence's steps, cadence, sender, brand or segment: a new version, and any approval is void."),
    tool!(write pause_email_sequence, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("sequence_id", "The sequence to pause.")], true), "Pause a sequence that is sending."),
    tool!(write resume_email_sequence, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("sequence_id", "The sequence to resume.")], true), "Resume a paused sequence whose approval still holds."),
    tool!(write cancel_email_sequence, MarketingWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("sequence_id", "The sequence to cancel.")], true), "Cancel a sequence; its queued emails are dropped."),
    tool!(read list_email_sequence_messages, MarketingRead, || schema_with_ids::<MessageQuery>(&[("sequence_id", "The sequence.")], false),
        "A sequence's messages and their fate (queued, sent, skipped, failed, unknown)."),
    tool!(read get_email_sequence_rollup, MarketingRead, || schema_with_ids::<Nothing>(&[("sequence_id", "The sequence.")], false),
        "A sequence's sends, opens, clicks, replies, unsubscribes per step, and its conversions."),
    tool!(read list_approval_requests, MarketingRead, schema_of::<Nothing>, "The approvers' queue: sequences waiting for approval."),
    tool!(read list_campaigns, MarketingRead, schema_of::<CampaignFilter>, "List campaigns by channel (email, ads, blog), status, segment or date range."),
    tool!(read get_campaign, MarketingRead, || schema_with_ids::<Nothing>(&[("campaign_id", "The campaign.")], false), "Read one campaign."),
    tool!(write create_campaign, MarketingWrite, idempotent: false, destructive: false, || schema_with_ids::<NewCampaign>(&[], true),
        "Create a campaign tying a segment and a brand to what goes out."),
    tool!(write update_campaign, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<CampaignPatch>(&[("campaign_id", "The campaign to change.")], true), "Change a campaign."),
    tool!(read get_campaign_rollup, MarketingRead, || schema_with_ids::<Nothing>(&[("campaign_id", "The campaign.")], false),
        "A campaign's rollup: sends, replies, conversions, deals won and cash received."),
    tool!(read get_marketing_rollups, MarketingRead, schema_of::<RollupQuery>,
        "Rollups for a date range (from, to; the last 30 days by default), per campaign, per channel and in total: sends, replies, clicks, \
         leads, conversions, deals won, revenue booked, cash received (from the ledger), ad spend, CAC and return on spend."),
    tool!(read list_brands, MarketingRead, schema_of::<Nothing>, "List the brands messages can be sent as."),
    tool!(read get_brand, MarketingRead, || schema_with_ids::<Nothing>(&[("brand_id", "The brand.")], false), "Read one brand."),
    tool!(write create_brand, MarketingWrite, idempotent: false, destructive: false, || schema_with_ids::<NewBrand>(&[], true),
        "Create a brand: from name and address, reply-to, and a footer with the postal address."),
    tool!(write update_brand, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<BrandPatch>(&[("brand_id", "The brand to change.")], true), "Change a brand (sequences using it lose their approval)."),
    tool!(read list_email_senders, MarketingRead, schema_of::<Nothing>, "List the email senders (SMTP, and the built-in mailbox)."),
    tool!(read get_email_sender, MarketingRead, || schema_with_ids::<Nothing>(&[("sender_connector_id", "The sender.")], false),
        "Read one sender (its password is never returned)."),
    tool!(write create_email_sender, MarketingWrite, idempotent: false, destructive: false, || schema_with_ids::<NewSender>(&[], true),
        "Add an SMTP sender with its caps and send window."),
    tool!(write update_email_sender, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<SenderPatch>(&[("sender_connector_id", "The sender to change.")], true), "Change an SMTP sender."),
    tool!(write send_test_email, MarketingWrite, idempotent: false, destructive: false,
        || schema_with_ids::<TestSend>(&[("sender_connector_id", "The sender to test.")], false),
        "Send a test message (or a sequence's first step) through a sender to up to 10 addresses."),
    tool!(read get_chat_completion_settings, MarketingRead, schema_of::<Nothing>, "The chat-completions endpoint copy is drafted with."),
    tool!(write set_chat_completion_settings, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<ChatCompletionSettingsInput>(&[], true), "Set the workspace's OpenAI-compatible chat-completions endpoint."),
    tool!(read list_suppressions, MarketingRead, schema_of::<SuppressionQuery>, "The suppression list (unsubscribed, bounced, complained, manual)."),
    tool!(write add_suppression, MarketingWrite, idempotent: true, destructive: false, || schema_with_ids::<NewSuppression>(&[], true),
        "Suppress an email address: nothing is sent to it again and its sequences stop."),
    tool!(write remove_suppression, MarketingWrite, idempotent: true, destructive: true, || schema_with_ids::<EmailInput>(&[], true),
        "Lift a manual suppression (unsubscribes, bounces and complaints stay)."),
    tool!(write mark_email_reply, MarketingWrite, idempotent: true, destructive: false, || schema_with_ids::<ReplyMark>(&[], true),
        "Mark that a recipient replied: their sequences stop."),
    tool!(read list_mailbox_messages, MarketingRead, schema_of::<PageInput>, "The built-in mailbox's messages, newest first."),
    tool!(read get_mailbox_message, MarketingRead, || schema_with_ids::<Nothing>(&[("message_id", "The mailbox message.")], false),
        "One built-in mailbox message with its headers."),
    tool!(write send_outbound_email, MarketingWrite, idempotent: false, destructive: false, || schema_with_ids::<OutboundEmail>(&[], true),
        "Send one email to a lead through a connection (queued through the outbox; logged on the lead's timeline)."),
    tool!(read list_outbound_email_connections, MarketingRead, schema_of::<Nothing>, "The connections outbound email can go through."),
];

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PageInput {
    #[schemars(range(min = 1, max = 100))]
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EmailInput {
    email: String,
}

pub(super) async fn preview_email_sequence(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<PreviewEmailSequence>(args, &[])?;
    let drafted = crate::marketing::routes::draft_copy(state, ctx, &args.input).await?;
    let mut tx = begin_write(state, ctx, "preview_email_sequence", args.idempotency_key.as_deref(), &args.request).await?;
    let preview = sequences::create_preview(&mut tx, ctx, args.input, drafted).await?;
    finish_write(tx, json!({ "preview_id": preview.preview_id, "preview": preview })).await
}

pub(super) async fn approve_email_sequence(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["preview_id"])?;
    let mut tx = begin_write(state, ctx, "approve_email_sequence", args.idempotency_key.as_deref(), &args.request).await?;
    let outcome = sequences::approve(&mut tx, ctx, args.ids[0]).await?;
    finish_write(
        tx,
        json!({ "status": outcome.status, "sequence": outcome.sequence, "approval_request": outcome.approval_request, "message": outcome.message }),
    )
    .await
}

write_one!(submit_email_sequence, Nothing, "sequence_id", "approval_request", |tx, ctx, id, _: Nothing| sequences::submit(tx, ctx, id));
write_one!(reject_email_sequence, Rejection, "sequence_id", "sequence", sequences::reject);
write_one!(update_email_sequence, SequencePatch, "sequence_id", "sequence", sequences::update);
write_one!(pause_email_sequence, Nothing, "sequence_id", "sequence", |tx, ctx, id, _: Nothing| sequences::pause(tx, ctx, id));
write_one!(resume_email_sequence, Nothing, "sequence_id", "sequence", |tx, ctx, id, _: Nothing| sequences::resume(tx, ctx, id));
write_one!(cancel_email_sequence, Nothing, "sequence_id", "sequence", |tx, ctx, id, _: Nothing| sequences::cancel(tx, ctx, id));
read_one!(get_email_sequence, "sequence_id", "sequence", sequences::get);
read_one!(get_email_sequence_preview, "sequence_id", "preview", sequences::preview);
read_one!(review_email_sequence, "sequence_id", "review", sequences::review);
read_one!(get_email_sequence_rollup, "sequence_id", "rollup", |tx, ctx, id| campaigns::rollup(tx, ctx, None, Some(id)));
read_one!(get_campaign, "campaign_id", "campaign", campaigns::get);
read_one!(get_campaign_rollup, "campaign_id", "rollup", |tx, ctx, id| campaigns::rollup(tx, ctx, Some(id), None));
write_one!(update_campaign, CampaignPatch, "campaign_id", "campaign", campaigns::update);
write_new!(create_campaign, NewCampaign, "campaign", campaigns::create);
read_one!(get_brand, "brand_id", "brand", senders::get_brand);
write_new!(create_brand, NewBrand, "brand", senders::create_brand);
write_one!(update_brand, BrandPatch, "brand_id", "brand", senders::update_brand);
read_one!(get_email_sender, "sender_connector_id", "sender", senders::get_sender);
write_new!(create_email_sender, NewSender, "sender", senders::create_sender);
write_one!(update_email_sender, SenderPatch, "sender_connector_id", "sender", senders::update_sender);
write_new!(set_chat_completion_settings, ChatCompletionSettingsInput, "settings", senders::set_chat_settings);
write_new!(add_suppression, NewSuppression, "suppression", compliance::add_suppression);
write_new!(mark_email_reply, ReplyMark, "result", compliance::mark_reply);
write_new!(send_outbound_email, OutboundEmail, "message", outbox::queue_single_email);
read_one!(get_mailbox_message, "message_id", "message", outbox::mailbox_message);

pub(super) async fn remove_suppression(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<EmailInput>(args, &[])?;
    let mut tx = begin_write(state, ctx, "remove_suppression", args.idempotency_key.as_deref(), &args.request).await?;
    compliance::remove_suppression(&mut tx, ctx, &args.input.email).await?;
    finish_write(tx, json!({ "removed": args.input.email })).await
}

pub(super) async fn list_email_sequences(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let filter: SequenceFilter = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = sequences::list(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(page_json("sequences", page))
}

pub(super) async fn list_email_sequence_messages(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<MessageQuery>(args, &["sequence_id"])?;
    let mut tx = state.db.begin_read().await?;
    sequences::get(&mut tx, ctx, args.ids[0]).await?;
    let page = outbox::list_messages(&mut tx, ctx, args.ids[0], args.input.status, args.input.limit, args.input.cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(page_json("messages", page))
}

pub(super) async fn list_approval_requests(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let _: Nothing = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let queue = sequences::approval_queue(&mut tx, ctx).await?;
    tx.commit().await?;
    Ok(read_json("approval_requests", queue))
}

pub(super) async fn list_campaigns(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let filter: CampaignFilter = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = campaigns::list(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(page_json("campaigns", page))
}

pub(super) async fn get_marketing_rollups(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let query: RollupQuery = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let found = crate::marketing::rollups::rollups(&mut tx, ctx, query).await?;
    tx.commit().await?;
    Ok(read_json("rollups", found))
}

pub(super) async fn list_brands(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let _: Nothing = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let brands = senders::list_brands(&mut tx, ctx).await?;
    tx.commit().await?;
    Ok(read_json("brands", brands))
}

pub(super) async fn list_email_senders(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let _: Nothing = arguments(args)?;
    let mut tx = state.db.begin().await?;
    let found = senders::list_senders(&mut tx, ctx).await?;
    tx.commit().await?;
    Ok(read_json("senders", found))
}

pub(super) async fn list_outbound_email_connections(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let _: Nothing = arguments(args)?;
    let mut tx = state.db.begin().await?;
    let found = senders::outbound_connections(&mut tx, ctx).await?;
    tx.commit().await?;
    Ok(read_json("connections", found))
}

pub(super) async fn send_test_email(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<TestSend>(args, &["sender_connector_id"])?;
    let result = outbox::test_send(&state.db, &state.config, ctx, args.ids[0], args.input).await?;
    Ok(read_json("result", result))
}

pub(super) async fn get_chat_completion_settings(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let _: Nothing = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let settings = senders::chat_settings(&mut tx, ctx).await?;
    tx.commit().await?;
    Ok(read_json("settings", settings))
}

pub(super) async fn list_suppressions(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let q: SuppressionQuery = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = compliance::list_suppressions(&mut tx, ctx, q.limit, q.cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(page_json("suppressions", page))
}

pub(super) async fn list_mailbox_messages(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let q: PageInput = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = outbox::mailbox(&mut tx, ctx, q.limit, q.cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(page_json("messages", page))
}
