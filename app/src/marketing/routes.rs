//! REST: /api/v1/marketing/… (brands, senders, campaigns, sequences and
//! their approvals, suppressions, replies, the mailbox), Axiomatic's
//! /crm/outbound-email, and the senders' signed bounce webhook.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;

use super::types::*;
use super::{campaigns, compliance, copy, outbox, senders, sequences};
use crate::error::{AppError, AppResult};
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiQuery, ApiResult, IdPath, Idempotency};
use crate::platform::openapi::{self, json, query_of, Caller, Endpoint};
use crate::platform::types::{Page, Scope};

use Caller::Scoped;
use Scope::{MarketingRead as Read, MarketingWrite as Write};

pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint::new("get", "/marketing/brands", Scoped(Read), "Brands: who messages are from, and their footer.", || get(list_brands))
        .tool("list_brands")
        .answers(200, json::<Vec<Brand>>),
    Endpoint::new("post", "/marketing/brands", Scoped(Write), "Create a brand.", || post(create_brand))
        .tool("create_brand")
        .body(json::<NewBrand>)
        .answers(201, json::<Brand>),
    Endpoint::new("get", "/marketing/brands/{id}", Scoped(Read), "Read a brand.", || get(show_brand))
        .tool("get_brand")
        .answers(200, json::<Brand>),
    Endpoint::new("patch", "/marketing/brands/{id}", Scoped(Write), "Change a brand (sequences using it lose their approval).", || {
        patch(update_brand)
    })
    .tool("update_brand")
    .body(json::<BrandPatch>)
    .answers(200, json::<Brand>),
    Endpoint::new(
        "get",
        "/marketing/senders",
        Scoped(Read),
        "Email senders (SMTP, and the built-in mailbox); secrets are never returned.",
        || get(list_senders),
    )
    .tool("list_email_senders")
    .answers(200, json::<Vec<Sender>>),
    Endpoint::new("post", "/marketing/senders", Scoped(Write), "Add an SMTP sender; its webhook secret is shown once.", || {
        post(create_sender)
    })
    .tool("create_email_sender")
    .body(json::<NewSender>)
    .answers(201, json::<CreatedSender>),
    Endpoint::new("get", "/marketing/senders/{id}", Scoped(Read), "Read a sender.", || get(show_sender))
        .tool("get_email_sender")
        .answers(200, json::<Sender>),
    Endpoint::new(
        "patch",
        "/marketing/senders/{id}",
        Scoped(Write),
        "Change a sender (a change of caps or window voids approvals).",
        || patch(update_sender),
    )
    .tool("update_email_sender")
    .body(json::<SenderPatch>)
    .answers(200, json::<Sender>),
    Endpoint::new(
        "post",
        "/marketing/senders/{id}/test",
        Scoped(Write),
        "Send a test message through a sender to chosen addresses.",
        || post(test_sender),
    )
    .tool("send_test_email")
    .body(json::<TestSend>)
    .answers(200, json::<serde_json::Value>),
    Endpoint::new("get", "/marketing/chat-completions", Scoped(Read), "The chat-completions endpoint copy is drafted with.", || {
        get(show_chat_settings)
    })
    .tool("get_chat_completion_settings")
    .answers(200, json::<Option<ChatCompletionSettings>>),
    Endpoint::new("put", "/marketing/chat-completions", Scoped(Write), "Set the OpenAI-compatible chat-completions endpoint.", || {
        put(set_chat_settings)
    })
    .tool("set_chat_completion_settings")
    .body(json::<ChatCompletionSettingsInput>)
    .answers(200, json::<ChatCompletionSettings>),
    Endpoint::new("get", "/marketing/campaigns", Scoped(Read), "Campaigns by channel, status, segment and date range.", || {
        get(list_campaigns)
    })
    .tool("list_campaigns")
    .query(query_of::<CampaignFilter>)
    .answers(200, json::<Page<Campaign>>),
    Endpoint::new("post", "/marketing/campaigns", Scoped(Write), "Create a campaign.", || post(create_campaign))
        .tool("create_campaign")
        .body(json::<NewCampaign>)
        .answers(201, json::<Campaign>),
    Endpoint::new("get", "/marketing/campaigns/{id}", Scoped(Read), "Read a campaign.", || get(show_campaign))
        .tool("get_campaign")
        .answers(200, json::<Campaign>),
    Endpoint::new("patch", "/marketing/campaigns/{id}", Scoped(Write), "Change a campaign.", || patch(update_campaign))
        .tool("update_campaign")
        .body(json::<CampaignPatch>)
        .answers(200, json::<Campaign>),
    Endpoint::new("get", "/marketing/campaigns/{id}/rollup", Scoped(Read), "Sends, replies, conversions and cash of a campaign.", || {
        get(campaign_rollup)
    })
    .tool("get_campaign_rollup")
    .answers(200, json::<Rollup>),
    Endpoint::new(
        "get",
        "/marketing/rollups",
        Scoped(Read),
        "Per campaign, per channel and in total for a date range: sends, deliveries, replies, clicks, leads, conversions, deals \
         won, revenue booked, cash received (from the ledger), ad spend, CAC and return on spend.",
        || get(rollups),
    )
    .tool("get_marketing_rollups")
    .query(query_of::<RollupQuery>)
    .answers(200, json::<Rollups>),
    Endpoint::new(
        "post",
        "/marketing/sequences/preview",
        Scoped(Write),
        "Preview an email sequence for a segment (nothing is sent).",
        || post(preview_sequence),
    )
    .tool("preview_email_sequence")
    .body(json::<PreviewEmailSequence>)
    .answers(201, json::<SequencePreview>),
    Endpoint::new("get", "/marketing/sequences", Scoped(Read), "Email sequences by campaign, status, segment and date range.", || {
        get(list_sequences)
    })
    .tool("list_email_sequences")
    .query(query_of::<SequenceFilter>)
    .answers(200, json::<Page<EmailSequence>>),
    Endpoint::new("get", "/marketing/sequences/{id}", Scoped(Read), "Read an email sequence.", || get(show_sequence))
        .tool("get_email_sequence")
        .answers(200, json::<EmailSequence>),
    Endpoint::new("patch", "/marketing/sequences/{id}", Scoped(Write), "Edit a sequence: a new version; an approval is void.", || {
        patch(update_sequence)
    })
    .tool("update_email_sequence")
    .body(json::<SequencePatch>)
    .answers(200, json::<EmailSequence>),
    Endpoint::new(
        "get",
        "/marketing/sequences/{id}/preview",
        Scoped(Read),
        "A sequence rendered for sample recipients, with exclusions.",
        || get(show_preview),
    )
    .tool("get_email_sequence_preview")
    .answers(200, json::<SequencePreview>),
    Endpoint::new(
        "get",
        "/marketing/sequences/{id}/review",
        Scoped(Read),
        "What an approver reviews, with the changes since approval.",
        || get(show_review),
    )
    .tool("review_email_sequence")
    .answers(200, json::<SequenceReview>),
    Endpoint::new("post", "/marketing/sequences/{id}/submit", Scoped(Write), "Put a sequence in the approvers' queue.", || {
        post(submit_sequence)
    })
    .tool("submit_email_sequence")
    .answers(200, json::<ApprovalRequest>),
    Endpoint::new(
        "post",
        "/marketing/sequences/{id}/approve",
        Scoped(Write),
        "Approve a sequence (approvers and keys with marketing:approve, never its author); otherwise it is queued for approval (202).",
        || post(approve_sequence),
    )
    .tool("approve_email_sequence")
    .or_waits()
    .answers(200, json::<ApprovalOutcome>),
    Endpoint::new("post", "/marketing/sequences/{id}/reject", Scoped(Write), "Reject a sequence with a reason.", || post(reject_sequence))
        .tool("reject_email_sequence")
        .body(json::<Rejection>)
        .answers(200, json::<EmailSequence>),
    Endpoint::new("post", "/marketing/sequences/{id}/pause", Scoped(Write), "Pause a sequence that is sending.", || post(pause_sequence))
        .tool("pause_email_sequence")
        .answers(200, json::<EmailSequence>),
    Endpoint::new(
        "post",
        "/marketing/sequences/{id}/resume",
        Scoped(Write),
        "Resume a paused sequence (its approval must still hold).",
        || post(resume_sequence),
    )
    .tool("resume_email_sequence")
    .answers(200, json::<EmailSequence>),
    Endpoint::new("post", "/marketing/sequences/{id}/cancel", Scoped(Write), "Cancel a sequence; its queued messages are dropped.", || {
        post(cancel_sequence)
    })
    .tool("cancel_email_sequence")
    .answers(200, json::<EmailSequence>),
    Endpoint::new("get", "/marketing/sequences/{id}/messages", Scoped(Read), "A sequence's outbox rows and their fate.", || {
        get(list_messages)
    })
    .tool("list_email_sequence_messages")
    .query(query_of::<MessageQuery>)
    .answers(200, json::<Page<OutboxMessage>>),
    Endpoint::new("get", "/marketing/sequences/{id}/rollup", Scoped(Read), "A sequence's counts per step and its conversions.", || {
        get(sequence_rollup)
    })
    .tool("get_email_sequence_rollup")
    .answers(200, json::<Rollup>),
    Endpoint::new("get", "/marketing/approvals", Scoped(Read), "The approvers' queue: pending approval requests.", || get(approval_queue))
        .tool("list_approval_requests")
        .answers(200, json::<Vec<ApprovalQueueItem>>),
    Endpoint::new("get", "/marketing/suppressions", Scoped(Read), "The suppression list, by address.", || get(list_suppressions))
        .tool("list_suppressions")
        .query(query_of::<SuppressionQuery>)
        .answers(200, json::<Page<Suppression>>),
    Endpoint::new("post", "/marketing/suppressions", Scoped(Write), "Suppress an address (stops its sequences).", || post(add_suppression))
        .tool("add_suppression")
        .body(json::<NewSuppression>)
        .answers(201, json::<Suppression>),
    Endpoint::new("delete", "/marketing/suppressions/{email}", Scoped(Write), "Lift a manual suppression.", || delete(remove_suppression))
        .tool("remove_suppression")
        .answers_nothing(204),
    Endpoint::new("post", "/marketing/replies", Scoped(Write), "Mark a reply: the recipient's sequences stop.", || post(mark_reply))
        .tool("mark_email_reply")
        .body(json::<ReplyMark>)
        .answers(200, json::<serde_json::Value>),
    Endpoint::new("get", "/marketing/mailbox", Scoped(Read), "The built-in mailbox's messages, newest first.", || get(list_mailbox))
        .tool("list_mailbox_messages")
        .query(query_of::<PageQuery>)
        .answers(200, json::<Page<MailboxMessage>>),
    Endpoint::new("get", "/marketing/mailbox/{id}", Scoped(Read), "One mailbox message with its headers.", || get(show_mailbox_message))
        .tool("get_mailbox_message")
        .answers(200, json::<MailboxMessage>),
    Endpoint::new("post", "/crm/outbound-email", Scoped(Write), "Send one email to a lead through a connection (on its timeline).", || {
        post(outbound_email)
    })
    .tool("send_outbound_email")
    .body(json::<OutboundEmail>)
    .answers(202, json::<OutboxMessage>),
    Endpoint::new("get", "/crm/outbound-email-connections", Scoped(Read), "The connections outbound email can go through.", || {
        get(outbound_connections)
    })
    .tool("list_outbound_email_connections")
    .answers(200, json::<Vec<OutboundConnection>>),
    Endpoint::new(
        "post",
        "/public/email-events/{sender_id}",
        Caller::Public,
        "A sender's bounce/complaint/delivery report, signed: X-Corral-Signature: sha256=<HMAC of the body with the webhook secret>.",
        || post(provider_event),
    )
    .body(json::<EmailEventReport>)
    .answers_nothing(204),
];

pub fn router() -> Router<AppState> {
    openapi::router(ENDPOINTS)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageQuery {
    pub status: Option<OutboxStatus>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionQuery {
    pub limit: Option<i64>,
    /// The last address of the previous page.
    pub cursor: Option<String>,
}

async fn rollups(State(state): State<AppState>, ctx: Ctx, ApiQuery(query): ApiQuery<RollupQuery>) -> AppResult<Json<Rollups>> {
    let mut tx = state.db.begin_read().await?;
    let found = super::rollups::rollups(&mut tx, &ctx, query).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn list_brands(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<Brand>>> {
    let mut tx = state.db.begin_read().await?;
    let found = senders::list_brands(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn create_brand(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewBrand>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let brand = senders::create_brand(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &brand).await
}

async fn show_brand(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Brand>> {
    let mut tx = state.db.begin_read().await?;
    let brand = senders::get_brand(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(brand))
}

async fn update_brand(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<BrandPatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let brand = senders::update_brand(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &brand).await
}

async fn list_senders(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<Sender>>> {
    // Reading the list makes the built-in mailbox on first use: a write.
    let mut tx = state.db.begin().await?;
    let found = senders::list_senders(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn create_sender(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewSender>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let sender = senders::create_sender(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &sender).await
}

async fn show_sender(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Sender>> {
    let mut tx = state.db.begin_read().await?;
    let sender = senders::get_sender(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(sender))
}

async fn update_sender(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<SenderPatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let sender = senders::update_sender(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &sender).await
}

async fn test_sender(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    body: ApiJson<TestSend>,
) -> AppResult<Json<serde_json::Value>> {
    Ok(Json(outbox::test_send(&state.db, &state.config, &ctx, id, body.value).await?))
}

async fn show_chat_settings(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Option<ChatCompletionSettings>>> {
    let mut tx = state.db.begin_read().await?;
    let settings = senders::chat_settings(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(settings))
}

async fn set_chat_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    idem: Idempotency,
    body: ApiJson<ChatCompletionSettingsInput>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let settings = senders::set_chat_settings(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::OK, &settings).await
}

async fn list_campaigns(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(filter): ApiQuery<CampaignFilter>,
) -> AppResult<Json<Page<Campaign>>> {
    let mut tx = state.db.begin_read().await?;
    let found = campaigns::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn create_campaign(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewCampaign>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let campaign = campaigns::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &campaign).await
}

async fn show_campaign(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Campaign>> {
    let mut tx = state.db.begin_read().await?;
    let campaign = campaigns::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(campaign))
}

async fn update_campaign(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<CampaignPatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let campaign = campaigns::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &campaign).await
}

async fn campaign_rollup(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Rollup>> {
    let mut tx = state.db.begin_read().await?;
    let rollup = campaigns::rollup(&mut tx, &ctx, Some(id), None).await?;
    tx.commit().await?;
    Ok(Json(rollup))
}

async fn preview_sequence(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<PreviewEmailSequence>) -> ApiResult {
    let input = body.value;
    let drafted = draft_copy(&state, &ctx, &input).await?;
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let preview = sequences::create_preview(&mut tx, &ctx, input, drafted).await?;
    tx.respond(StatusCode::CREATED, &preview).await
}

/// The copy of a new sequence, drafted before the write (a model can take
/// seconds; the database is not held meanwhile).
pub async fn draft_copy(state: &AppState, ctx: &Ctx, input: &PreviewEmailSequence) -> AppResult<(CopySource, Vec<SequenceStep>)> {
    ctx.require(Scope::MarketingWrite)?;
    let n = crate::platform::validate::in_range("num_emails", input.num_emails.unwrap_or(3), 1, copy::MAX_STEPS)? as usize;
    copy::draft(&state.db, ctx, &input.objective, n, input.copy, state.config.enrichment_private_networks).await
}

async fn list_sequences(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(filter): ApiQuery<SequenceFilter>,
) -> AppResult<Json<Page<EmailSequence>>> {
    let mut tx = state.db.begin_read().await?;
    let found = sequences::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn show_sequence(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<EmailSequence>> {
    let mut tx = state.db.begin_read().await?;
    let sequence = sequences::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(sequence))
}

async fn update_sequence(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<SequencePatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let sequence = sequences::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &sequence).await
}

async fn show_preview(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<SequencePreview>> {
    let mut tx = state.db.begin_read().await?;
    let preview = sequences::preview(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(preview))
}

async fn show_review(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<SequenceReview>> {
    let mut tx = state.db.begin_read().await?;
    let review = sequences::review(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(review))
}

async fn submit_sequence(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let request = sequences::submit(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &request).await
}

async fn approve_sequence(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let outcome = sequences::approve(&mut tx, &ctx, id).await?;
    let status = if outcome.status == SequenceStatus::Approved { StatusCode::OK } else { StatusCode::ACCEPTED };
    tx.respond(status, &outcome).await
}

async fn reject_sequence(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<Rejection>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let sequence = sequences::reject(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &sequence).await
}

async fn pause_sequence(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let sequence = sequences::pause(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &sequence).await
}

async fn resume_sequence(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let sequence = sequences::resume(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &sequence).await
}

async fn cancel_sequence(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let sequence = sequences::cancel(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &sequence).await
}

async fn list_messages(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    ApiQuery(q): ApiQuery<MessageQuery>,
) -> AppResult<Json<Page<OutboxMessage>>> {
    let mut tx = state.db.begin_read().await?;
    sequences::get(&mut tx, &ctx, id).await?;
    let found = outbox::list_messages(&mut tx, &ctx, id, q.status, q.limit, q.cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn sequence_rollup(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Rollup>> {
    let mut tx = state.db.begin_read().await?;
    let rollup = campaigns::rollup(&mut tx, &ctx, None, Some(id)).await?;
    tx.commit().await?;
    Ok(Json(rollup))
}

async fn approval_queue(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<ApprovalQueueItem>>> {
    let mut tx = state.db.begin_read().await?;
    let queue = sequences::approval_queue(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(queue))
}

async fn list_suppressions(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(q): ApiQuery<SuppressionQuery>,
) -> AppResult<Json<Page<Suppression>>> {
    let mut tx = state.db.begin_read().await?;
    let found = compliance::list_suppressions(&mut tx, &ctx, q.limit, q.cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn add_suppression(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewSuppression>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let suppression = compliance::add_suppression(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &suppression).await
}

async fn remove_suppression(State(state): State<AppState>, ctx: Ctx, ApiPath(email): ApiPath<String>) -> AppResult<StatusCode> {
    let mut tx = crate::platform::transaction::WriteTx::begin(&state.db).await?;
    compliance::remove_suppression(&mut tx, &ctx, &email).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn mark_reply(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<ReplyMark>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let result = compliance::mark_reply(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::OK, &result).await
}

async fn list_mailbox(State(state): State<AppState>, ctx: Ctx, ApiQuery(q): ApiQuery<PageQuery>) -> AppResult<Json<Page<MailboxMessage>>> {
    let mut tx = state.db.begin_read().await?;
    let found = outbox::mailbox(&mut tx, &ctx, q.limit, q.cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn show_mailbox_message(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<MailboxMessage>> {
    let mut tx = state.db.begin_read().await?;
    let message = outbox::mailbox_message(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(message))
}

async fn outbound_email(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<OutboundEmail>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let message = outbox::queue_single_email(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::ACCEPTED, &message).await
}

async fn outbound_connections(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<OutboundConnection>>> {
    let mut tx = state.db.begin().await?;
    let found = senders::outbound_connections(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn provider_event(
    State(state): State<AppState>,
    axum::extract::Path(sender_id): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result: AppResult<()> = async {
        let sender_id = Uuid::parse_str(&sender_id).map_err(|_| AppError::NotFound("sender"))?;
        let signature = headers.get("x-corral-signature").and_then(|v| v.to_str().ok());
        let mut tx = state.db.begin().await?;
        compliance::provider_event(&mut tx, sender_id, signature, &body).await?;
        tx.commit().await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}
