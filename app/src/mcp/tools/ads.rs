//! Ad tools: the seed's `launch_ad_campaign` (with its argument names:
//! `platform`, `objective`, `segment_id`, `brand_id`, `daily_budget_usd`),
//! and the ad account and ad campaign reads and writes around it.

use serde_json::{json, Map, Value};

use super::{begin_write, finish_write, page_json, read_json, read_one, record_args, schema_with_ids, tool, write_new, write_one, Nothing};
use crate::marketing::ads::types::*;
use crate::marketing::ads::{accounts, campaigns, routes};
use crate::marketing::types::Rejection;
use crate::mcp::registry::{arguments, schema_of, Operation, ToolResult};
use crate::platform::context::{AppState, Ctx};

pub(super) static TOOLS: &[Operation] = &[
    tool!(write launch_ad_campaign, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<LaunchAdCampaign>(&[], true),
        "Launch an ad campaign on google, linkedin or meta with a daily budget (daily_budget_usd) and a target segment. Without an \
         approval nothing reaches the platform: the campaign is drafted (creatives from templates), put in the approvers' queue, and \
         the answer carries the approval request (status pending_approval). Once approved, the same call (or ad_campaign_id) launches it: \
         created paused, audience uploaded, then activated."),
    tool!(read list_ad_accounts, MarketingRead, schema_of::<Nothing>, "The connected ad accounts (credentials are never returned)."),
    tool!(read get_ad_account, MarketingRead, || schema_with_ids::<Nothing>(&[("ad_account_id", "The ad account.")], false), "Read one ad account."),
    tool!(write create_ad_account, MarketingWrite, idempotent: false, destructive: false, || schema_with_ids::<NewAdAccount>(&[], true),
        "Connect an ad account (google, linkedin, meta) with its write-only credentials."),
    tool!(write update_ad_account, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<AdAccountPatch>(&[("ad_account_id", "The ad account to change.")], true), "Rename an ad account or replace its credentials."),
    tool!(read list_ad_campaigns, MarketingRead, schema_of::<AdCampaignFilter>, "List ad campaigns by status, platform or campaign."),
    tool!(read get_ad_campaign, MarketingRead, || schema_with_ids::<Nothing>(&[("ad_campaign_id", "The ad campaign.")], false),
        "Read one ad campaign: budget (daily and monthly), creatives, status, approval and audience upload."),
    tool!(write create_ad_campaign, MarketingWrite, idempotent: false, destructive: false, || schema_with_ids::<NewAdCampaign>(&[], true),
        "Draft an ad campaign with creative variants (checked against the platform's limits). Nothing runs until it is approved and launched."),
    tool!(write update_ad_campaign, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<AdCampaignPatch>(&[("ad_campaign_id", "The ad campaign to edit.")], true),
        "Edit an ad campaign. Creatives, audience, schedule, objective or a budget over 150% of the approved one make a new version that needs a new approval."),
    tool!(write generate_ad_creatives, MarketingWrite, idempotent: false, destructive: false,
        || schema_with_ids::<GenerateCreatives>(&[("ad_campaign_id", "The ad campaign.")], false),
        "Generate creative variants from templates or the workspace's chat-completions endpoint (replace: true makes them the campaign's)."),
    tool!(read preview_ad_creatives, MarketingRead, || schema_with_ids::<Nothing>(&[("ad_campaign_id", "The ad campaign.")], false),
        "The creative variants as the platform would show them, with its length limits."),
    tool!(read review_ad_campaign, MarketingRead, || schema_with_ids::<Nothing>(&[("ad_campaign_id", "The ad campaign.")], false),
        "What an approver reviews: previews, budget, audience size and the changes since the last approval."),
    tool!(write submit_ad_campaign, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("ad_campaign_id", "The draft ad campaign.")], true), "Put an ad campaign in the approvers' queue."),
    tool!(write approve_ad_campaign, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("ad_campaign_id", "The ad campaign to approve.")], true),
        "Approve an ad campaign, freezing its creatives, budget, schedule and audience. Only keys granted marketing:approve may, never the \
         key that created it; otherwise it is queued for approval."),
    tool!(write reject_ad_campaign, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Rejection>(&[("ad_campaign_id", "The ad campaign to reject.")], true), "Reject an ad campaign with a reason."),
    tool!(write pause_ad_campaign, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("ad_campaign_id", "The ad campaign to pause.")], true), "Pause a running ad campaign (on the platform too)."),
    tool!(write resume_ad_campaign, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("ad_campaign_id", "The ad campaign to resume.")], true), "Resume a paused ad campaign whose approval still holds."),
    tool!(write cancel_ad_campaign, MarketingWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("ad_campaign_id", "The ad campaign to cancel.")], true), "Cancel an ad campaign for good (ended on the platform)."),
    tool!(write sync_ad_metrics, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("ad_campaign_id", "The ad campaign.")], true), "Sync the last week's spend, impressions, clicks and conversions now."),
    tool!(read get_ad_metrics, MarketingRead, || schema_with_ids::<Nothing>(&[("ad_campaign_id", "The ad campaign.")], false),
        "Daily spend, impressions, clicks and conversions of an ad campaign, with totals."),
    tool!(read list_ad_jobs, MarketingRead, || schema_with_ids::<Nothing>(&[("ad_campaign_id", "The ad campaign.")], false),
        "An ad campaign's recent work against its platform (launch, pause, budget, sync) and how it went."),
];

pub(super) async fn launch_ad_campaign(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<LaunchAdCampaign>(args, &[])?;
    let mut tx = begin_write(state, ctx, "launch_ad_campaign", args.idempotency_key.as_deref(), &args.request).await?;
    let outcome = campaigns::launch_described(&mut tx, ctx, args.input, None).await?;
    finish_write(
        tx,
        json!({ "status": outcome.status, "ad_campaign": outcome.ad_campaign, "approval_request": outcome.approval_request, "message": outcome.message }),
    )
    .await
}

pub(super) async fn list_ad_accounts(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let _: Nothing = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let found = accounts::list(&mut tx, ctx).await?;
    tx.commit().await?;
    Ok(read_json("ad_accounts", found))
}

pub(super) async fn list_ad_campaigns(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let filter: AdCampaignFilter = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = campaigns::list(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(page_json("ad_campaigns", page))
}

pub(super) async fn create_ad_campaign(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<NewAdCampaign>(args, &[])?;
    let drafted = routes::draft_for_new(state, ctx, &args.input).await?;
    let mut tx = begin_write(state, ctx, "create_ad_campaign", args.idempotency_key.as_deref(), &args.request).await?;
    let created = campaigns::create(&mut tx, ctx, args.input, drafted).await?;
    finish_write(tx, json!({ "ad_campaign": created })).await
}

pub(super) async fn generate_ad_creatives(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<GenerateCreatives>(args, &["ad_campaign_id"])?;
    let generated = routes::generate(state, ctx, args.ids[0], args.input).await?;
    Ok(read_json("generated", generated))
}

pub(super) async fn preview_ad_creatives(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["ad_campaign_id"])?;
    let mut tx = state.db.begin_read().await?;
    let review = campaigns::review(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("previews", review.previews))
}

read_one!(get_ad_account, "ad_account_id", "ad_account", accounts::get);
write_new!(create_ad_account, NewAdAccount, "ad_account", accounts::create);
write_one!(update_ad_account, AdAccountPatch, "ad_account_id", "ad_account", accounts::update);
read_one!(get_ad_campaign, "ad_campaign_id", "ad_campaign", campaigns::get);
write_one!(update_ad_campaign, AdCampaignPatch, "ad_campaign_id", "ad_campaign", campaigns::update);
read_one!(review_ad_campaign, "ad_campaign_id", "review", campaigns::review);
write_one!(submit_ad_campaign, Nothing, "ad_campaign_id", "approval_request", |tx, ctx, id, _: Nothing| campaigns::submit(tx, ctx, id));
write_one!(approve_ad_campaign, Nothing, "ad_campaign_id", "outcome", |tx, ctx, id, _: Nothing| campaigns::approve(tx, ctx, id));
write_one!(reject_ad_campaign, Rejection, "ad_campaign_id", "ad_campaign", campaigns::reject);
write_one!(pause_ad_campaign, Nothing, "ad_campaign_id", "ad_campaign", |tx, ctx, id, _: Nothing| campaigns::pause(tx, ctx, id));
write_one!(resume_ad_campaign, Nothing, "ad_campaign_id", "ad_campaign", |tx, ctx, id, _: Nothing| campaigns::resume(tx, ctx, id));
write_one!(cancel_ad_campaign, Nothing, "ad_campaign_id", "ad_campaign", |tx, ctx, id, _: Nothing| campaigns::cancel(tx, ctx, id));
write_one!(sync_ad_metrics, Nothing, "ad_campaign_id", "ad_campaign", |tx, ctx, id, _: Nothing| campaigns::sync_metrics(tx, ctx, id));
read_one!(get_ad_metrics, "ad_campaign_id", "metrics", campaigns::metrics);
read_one!(list_ad_jobs, "ad_campaign_id", "jobs", campaigns::jobs_of);
