//! REST: /api/v1/marketing/ad-accounts and /api/v1/marketing/ads/….

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};

use super::types::*;
use super::{accounts, campaigns, creatives};
use crate::error::{AppError, AppResult};
use crate::marketing::types::{ApprovalRequest, CopySource, Rejection};
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiQuery, ApiResult, IdPath, Idempotency};
use crate::platform::openapi::{self, json, query_of, Caller, Endpoint};
use crate::platform::types::{Page, Scope};

use Caller::Scoped;
use Scope::{MarketingRead as Read, MarketingWrite as Write};

pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint::new(
        "get",
        "/marketing/ad-accounts",
        Scoped(Read),
        "Ad accounts on Google, LinkedIn and Meta (credentials never returned).",
        || get(list_accounts),
    )
    .tool("list_ad_accounts")
    .answers(200, json::<Vec<AdAccount>>),
    Endpoint::new("post", "/marketing/ad-accounts", Scoped(Write), "Connect an ad account with its (write-only) credentials.", || {
        post(create_account)
    })
    .tool("create_ad_account")
    .body(json::<NewAdAccount>)
    .answers(201, json::<AdAccount>),
    Endpoint::new("get", "/marketing/ad-accounts/{id}", Scoped(Read), "Read an ad account.", || get(show_account))
        .tool("get_ad_account")
        .answers(200, json::<AdAccount>),
    Endpoint::new("patch", "/marketing/ad-accounts/{id}", Scoped(Write), "Rename an ad account or replace its credentials.", || {
        patch(update_account)
    })
    .tool("update_ad_account")
    .body(json::<AdAccountPatch>)
    .answers(200, json::<AdAccount>),
    Endpoint::new("get", "/marketing/ads", Scoped(Read), "Ad campaigns by status, platform and campaign.", || get(list_campaigns))
        .tool("list_ad_campaigns")
        .query(query_of::<AdCampaignFilter>)
        .answers(200, json::<Page<AdCampaign>>),
    Endpoint::new(
        "post",
        "/marketing/ads",
        Scoped(Write),
        "Draft an ad campaign: platform, objective, daily budget, segment, brand, schedule and creative variants.",
        || post(create_campaign),
    )
    .tool("create_ad_campaign")
    .body(json::<NewAdCampaign>)
    .answers(201, json::<AdCampaign>),
    Endpoint::new(
        "post",
        "/marketing/ads/launch",
        Scoped(Write),
        "Launch an ad campaign (by id, or described by platform, objective, segment, brand and daily budget); without an approval \
         it is queued for one (202).",
        || post(launch_described),
    )
    .tool("launch_ad_campaign")
    .body(json::<LaunchAdCampaign>)
    .or_waits()
    .answers(200, json::<AdLaunchOutcome>),
    Endpoint::new("get", "/marketing/ads/{id}", Scoped(Read), "Read an ad campaign with its creatives and audience.", || {
        get(show_campaign)
    })
    .tool("get_ad_campaign")
    .answers(200, json::<AdCampaign>),
    Endpoint::new(
        "patch",
        "/marketing/ads/{id}",
        Scoped(Write),
        "Edit an ad campaign: creatives, audience, schedule or a budget over 150% of the approved one need a new approval.",
        || patch(update_campaign),
    )
    .tool("update_ad_campaign")
    .body(json::<AdCampaignPatch>)
    .answers(200, json::<AdCampaign>),
    Endpoint::new(
        "post",
        "/marketing/ads/{id}/creatives/generate",
        Scoped(Write),
        "Generate creative variants from templates or the chat-completions endpoint (optionally replacing the campaign's).",
        || post(generate_creatives),
    )
    .tool("generate_ad_creatives")
    .body(json::<GenerateCreatives>)
    .answers(200, json::<GeneratedCreatives>),
    Endpoint::new("get", "/marketing/ads/{id}/preview", Scoped(Read), "The creative variants as the platform would show them.", || {
        get(preview)
    })
    .tool("preview_ad_creatives")
    .answers(200, json::<Vec<CreativePreview>>),
    Endpoint::new("get", "/marketing/ads/{id}/review", Scoped(Read), "What an approver reviews, with the changes since approval.", || {
        get(review)
    })
    .tool("review_ad_campaign")
    .answers(200, json::<AdCampaignReview>),
    Endpoint::new("post", "/marketing/ads/{id}/submit", Scoped(Write), "Put an ad campaign in the approvers' queue.", || post(submit))
        .tool("submit_ad_campaign")
        .answers(200, json::<ApprovalRequest>),
    Endpoint::new(
        "post",
        "/marketing/ads/{id}/approve",
        Scoped(Write),
        "Approve an ad campaign (approvers and keys with marketing:approve, never its author); otherwise it is queued (202).",
        || post(approve),
    )
    .tool("approve_ad_campaign")
    .or_waits()
    .answers(200, json::<AdLaunchOutcome>),
    Endpoint::new("post", "/marketing/ads/{id}/reject", Scoped(Write), "Reject an ad campaign with a reason.", || post(reject))
        .tool("reject_ad_campaign")
        .body(json::<Rejection>)
        .answers(200, json::<AdCampaign>),
    Endpoint::new(
        "post",
        "/marketing/ads/{id}/launch",
        Scoped(Write),
        "Launch an approved ad campaign; without an approval it is queued (202).",
        || post(launch),
    )
    .no_tool("launch_ad_campaign takes the campaign's id")
    .or_waits()
    .answers(200, json::<AdLaunchOutcome>),
    Endpoint::new("post", "/marketing/ads/{id}/pause", Scoped(Write), "Pause a running ad campaign (on the platform too).", || post(pause))
        .tool("pause_ad_campaign")
        .answers(200, json::<AdCampaign>),
    Endpoint::new("post", "/marketing/ads/{id}/resume", Scoped(Write), "Resume a paused ad campaign whose approval still holds.", || {
        post(resume)
    })
    .tool("resume_ad_campaign")
    .answers(200, json::<AdCampaign>),
    Endpoint::new("post", "/marketing/ads/{id}/cancel", Scoped(Write), "Cancel an ad campaign for good (ended on the platform).", || {
        post(cancel)
    })
    .tool("cancel_ad_campaign")
    .answers(200, json::<AdCampaign>),
    Endpoint::new(
        "post",
        "/marketing/ads/{id}/sync",
        Scoped(Write),
        "Sync the last week's spend, impressions, clicks and conversions now.",
        || post(sync),
    )
    .tool("sync_ad_metrics")
    .answers(200, json::<AdCampaign>),
    Endpoint::new(
        "get",
        "/marketing/ads/{id}/metrics",
        Scoped(Read),
        "Daily spend, impressions, clicks and conversions, with totals.",
        || get(metrics),
    )
    .tool("get_ad_metrics")
    .answers(200, json::<AdMetrics>),
    Endpoint::new("get", "/marketing/ads/{id}/jobs", Scoped(Read), "The campaign's recent work against its platform.", || get(jobs))
        .tool("list_ad_jobs")
        .answers(200, json::<Vec<AdJob>>),
    Endpoint::new(
        "get",
        "/marketing/ads/{id}/audience.csv",
        Scoped(Read),
        "Export for ads: the audience normalised and SHA-256 hashed in the platform's upload format.",
        || get(export_audience),
    )
    .no_tool("a file of hashes; agents launch campaigns, which upload the audience")
    .answers_csv(),
];

pub fn router() -> Router<AppState> {
    openapi::router(ENDPOINTS)
}

async fn list_accounts(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<AdAccount>>> {
    let mut tx = state.db.begin_read().await?;
    let found = accounts::list(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn create_account(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewAdAccount>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let account = accounts::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &account).await
}

async fn show_account(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<AdAccount>> {
    let mut tx = state.db.begin_read().await?;
    let found = accounts::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn update_account(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<AdAccountPatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let account = accounts::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &account).await
}

async fn list_campaigns(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(filter): ApiQuery<AdCampaignFilter>,
) -> AppResult<Json<Page<AdCampaign>>> {
    let mut tx = state.db.begin_read().await?;
    let found = campaigns::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(found))
}

/// Variants a model writes for a new campaign, drafted before the write
/// (a model can take seconds; the database is not held meanwhile).
pub async fn draft_for_new(state: &AppState, ctx: &Ctx, input: &NewAdCampaign) -> AppResult<Option<Vec<AdCreative>>> {
    ctx.require(Scope::MarketingWrite)?;
    if input.creatives.is_some() || input.copy_source != Some(CopySource::Ai) {
        return Ok(None);
    }
    let mut tx = state.db.begin_read().await?;
    let (platform, brand) = campaigns::drafting_context(&mut tx, ctx, input).await?;
    tx.commit().await?;
    let url = input.final_url.as_deref().ok_or_else(|| AppError::validation("final_url", "give the landing page the variants link to"))?;
    let (_, drafted) = creatives::draft(
        &state.db,
        ctx,
        platform,
        input.objective,
        &brand,
        url,
        3,
        Some(CopySource::Ai),
        state.config.enrichment_private_networks,
    )
    .await?;
    Ok(Some(drafted))
}

async fn create_campaign(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewAdCampaign>) -> ApiResult {
    let input = body.value;
    let drafted = draft_for_new(&state, &ctx, &input).await?;
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let created = campaigns::create(&mut tx, &ctx, input, drafted).await?;
    tx.respond(StatusCode::CREATED, &created).await
}

fn launch_status(outcome: &AdLaunchOutcome) -> StatusCode {
    if outcome.status == AdCampaignStatus::PendingApproval {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    }
}

async fn launch_described(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<LaunchAdCampaign>) -> ApiResult {
    let input = body.value;
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let outcome = campaigns::launch_described(&mut tx, &ctx, input, None).await?;
    tx.respond(launch_status(&outcome), &outcome).await
}

async fn show_campaign(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<AdCampaign>> {
    let mut tx = state.db.begin_read().await?;
    let found = campaigns::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn update_campaign(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<AdCampaignPatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let updated = campaigns::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &updated).await
}

/// Drafts variants for a campaign (before any write), and with `replace`
/// makes them the campaign's own (a new version).
pub async fn generate(state: &AppState, ctx: &Ctx, id: uuid::Uuid, input: GenerateCreatives) -> AppResult<GeneratedCreatives> {
    ctx.require(Scope::MarketingWrite)?;
    let n = crate::platform::validate::in_range("count", input.count.unwrap_or(3), 1, creatives::MAX_CREATIVES as i64)? as usize;
    let mut tx = state.db.begin_read().await?;
    let campaign = campaigns::get(&mut tx, ctx, id).await?;
    let brand = crate::marketing::senders::brand_row(&mut tx, ctx, campaign.brand_id).await?;
    tx.commit().await?;
    let url = input
        .final_url
        .clone()
        .or_else(|| campaign.creatives.first().map(|c| c.final_url.clone()))
        .ok_or_else(|| AppError::validation("final_url", "give the landing page the variants link to"))?;
    let (source, drafted) = creatives::draft(
        &state.db,
        ctx,
        campaign.platform,
        campaign.objective,
        &brand,
        &url,
        n,
        input.copy_source,
        state.config.enrichment_private_networks,
    )
    .await?;
    let updated = if input.replace {
        let mut tx = state.db.begin().await?;
        let updated =
            campaigns::update(&mut tx, ctx, id, AdCampaignPatch { creatives: Some(drafted.clone()), ..AdCampaignPatch::default() }).await?;
        tx.commit().await?;
        Some(updated)
    } else {
        None
    };
    Ok(GeneratedCreatives { creatives: drafted, copy_source: source, ad_campaign: updated })
}

async fn generate_creatives(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    body: ApiJson<GenerateCreatives>,
) -> AppResult<Json<GeneratedCreatives>> {
    Ok(Json(generate(&state, &ctx, id, body.value).await?))
}

async fn preview(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Vec<CreativePreview>>> {
    let mut tx = state.db.begin_read().await?;
    let review = campaigns::review(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(review.previews))
}

async fn review(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<AdCampaignReview>> {
    let mut tx = state.db.begin_read().await?;
    let found = campaigns::review(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn submit(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let request = campaigns::submit(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &request).await
}

async fn approve(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let outcome = campaigns::approve(&mut tx, &ctx, id).await?;
    tx.respond(launch_status(&outcome), &outcome).await
}

async fn reject(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency, body: ApiJson<Rejection>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let rejected = campaigns::reject(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &rejected).await
}

async fn launch(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let outcome = campaigns::launch(&mut tx, &ctx, id).await?;
    tx.respond(launch_status(&outcome), &outcome).await
}

async fn pause(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let campaign = campaigns::pause(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &campaign).await
}

async fn resume(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let campaign = campaigns::resume(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &campaign).await
}

async fn cancel(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let campaign = campaigns::cancel(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &campaign).await
}

async fn sync(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let campaign = campaigns::sync_metrics(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &campaign).await
}

async fn metrics(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<AdMetrics>> {
    let mut tx = state.db.begin_read().await?;
    let found = campaigns::metrics(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn jobs(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<Vec<AdJob>>> {
    let mut tx = state.db.begin_read().await?;
    let found = campaigns::jobs_of(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn export_audience(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Response> {
    let mut tx = state.db.begin_read().await?;
    let (name, csv) = campaigns::export_audience(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        csv,
    )
        .into_response())
}
