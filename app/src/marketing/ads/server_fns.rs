//! Server functions for the ad pages: the same operations as the REST API
//! and the MCP tools, called by the signed-in member.

use crate::api_error::ApiError;
#[cfg(feature = "ssr")]
use crate::platform::transaction::WriteTx;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::types::*;
use crate::marketing::types::Brand;

#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, member};

/// What the ads page shows and its forms choose from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdsOverview {
    pub accounts: Vec<AdAccount>,
    pub campaigns: Vec<AdCampaign>,
    pub brands: Vec<Brand>,
    /// Segments and lists of leads: (id, name).
    pub segments: Vec<(Uuid, String)>,
}

#[server(prefix = "/sf", endpoint = "load_ads")]
pub async fn load_ads() -> Result<AdsOverview, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let accounts = super::accounts::list(&mut tx, &ctx).await?;
    let campaigns = super::campaigns::list(&mut tx, &ctx, AdCampaignFilter { limit: Some(100), ..Default::default() }).await?.data;
    let brands = crate::marketing::senders::list_brands(&mut tx, &ctx).await?;
    let lists = crate::audience::lists::list(&mut tx, &ctx, Some(100), None).await?.data;
    tx.commit().await?;
    let segments = lists.into_iter().filter(|l| l.entity == crate::audience::types::ListEntity::Lead).map(|l| (l.id, l.name)).collect();
    Ok(AdsOverview { accounts, campaigns, brands, segments })
}

/// The account form, as typed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdAccountForm {
    pub platform: String,
    pub name: String,
    pub external_account_id: String,
    pub currency: Option<String>,
    pub access_token: String,
    pub developer_token: Option<String>,
    pub campaign_group_id: Option<String>,
    pub api_base_url: Option<String>,
}

#[server(prefix = "/sf", endpoint = "connect_ad_account")]
pub async fn connect_ad_account(form: AdAccountForm) -> Result<AdAccount, ApiError> {
    let (state, ctx) = member().await?;
    let platform = Platform::parse(&form.platform).ok_or_else(|| ApiError::field("platform", "choose google, linkedin or meta"))?;
    let input = NewAdAccount {
        platform,
        name: form.name,
        external_account_id: form.external_account_id,
        currency: blank_to_none(form.currency),
        api_base_url: blank_to_none(form.api_base_url),
        credentials: AdCredentials {
            access_token: form.access_token,
            developer_token: blank_to_none(form.developer_token),
            login_customer_id: None,
            campaign_group_id: blank_to_none(form.campaign_group_id),
        },
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let account = super::accounts::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(account)
}

/// The new ad campaign form, as typed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewAdCampaignForm {
    pub ad_account_id: Uuid,
    pub name: Option<String>,
    pub objective: String,
    pub segment_id: Uuid,
    pub brand_id: Uuid,
    /// In major units as typed ("100" or "100.50").
    pub daily_budget: String,
    pub final_url: String,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
}

#[server(prefix = "/sf", endpoint = "create_ad_campaign")]
pub async fn create_ad_campaign(form: NewAdCampaignForm) -> Result<AdCampaign, ApiError> {
    let (state, ctx) = member().await?;
    let objective =
        AdObjective::parse(&form.objective).ok_or_else(|| ApiError::field("objective", "choose leads, traffic or awareness"))?;
    let formats = crate::platform::server_fns::ssr::member_formats(&state, &ctx).await?;
    let budget = formats
        .parse_money(&form.daily_budget)
        .ok_or_else(|| ApiError::field("daily_budget", format!("type an amount like 100 or {}", formats.amount_example(10_050))))?;
    let date = |field: &str, text: Option<String>| -> Result<Option<chrono::NaiveDate>, ApiError> {
        match blank_to_none(text) {
            Some(t) => {
                chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d").map(Some).map_err(|_| ApiError::field(field, "a date like 2026-12-01"))
            }
            None => Ok(None),
        }
    };
    let input = NewAdCampaign {
        ad_account_id: Some(form.ad_account_id),
        name: blank_to_none(form.name),
        objective,
        segment_id: form.segment_id,
        brand_id: form.brand_id,
        daily_budget_minor: budget,
        start_date: date("start_date", form.start_date)?,
        end_date: date("end_date", form.end_date)?,
        final_url: Some(form.final_url),
        ..NewAdCampaign::default()
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let created = super::campaigns::create(&mut tx, &ctx, input, None).await?;
    tx.commit().await?;
    leptos_axum::redirect(&format!("/ads/{}", created.id));
    Ok(created)
}

/// An ad campaign's page: what an approver reviews, its spend and its
/// recent platform work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdCampaignView {
    pub review: AdCampaignReview,
    pub metrics: AdMetrics,
    pub jobs: Vec<AdJob>,
}

#[server(prefix = "/sf", endpoint = "load_ad_campaign")]
pub async fn load_ad_campaign(id: Uuid) -> Result<AdCampaignView, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let review = super::campaigns::review(&mut tx, &ctx, id).await?;
    let metrics = super::campaigns::metrics(&mut tx, &ctx, id).await?;
    let jobs = super::campaigns::jobs_of(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(AdCampaignView { review, metrics, jobs })
}

/// The page's buttons: submit, approve, launch, pause, resume, cancel, sync.
#[server(prefix = "/sf", endpoint = "ad_campaign_action")]
pub async fn ad_campaign_action(id: Uuid, action: String) -> Result<String, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    use super::campaigns as ops;
    let message = match action.as_str() {
        "submit" => ops::submit(&mut tx, &ctx, id).await.map(|_| "Submitted for approval.".to_string())?,
        "approve" => ops::approve(&mut tx, &ctx, id).await.map(|o| o.message)?,
        "launch" => ops::launch(&mut tx, &ctx, id).await.map(|o| o.message)?,
        "pause" => ops::pause(&mut tx, &ctx, id).await.map(|_| "Paused.".to_string())?,
        "resume" => ops::resume(&mut tx, &ctx, id).await.map(|_| "Resumed.".to_string())?,
        "cancel" => ops::cancel(&mut tx, &ctx, id).await.map(|_| "Cancelled.".to_string())?,
        "sync" => ops::sync_metrics(&mut tx, &ctx, id).await.map(|_| "Syncing the last week's metrics.".to_string())?,
        other => return Err(ApiError::field("action", format!("unknown action {other:?}"))),
    };
    tx.commit().await?;
    Ok(message)
}

#[server(prefix = "/sf", endpoint = "reject_ad_campaign")]
pub async fn reject_ad_campaign(id: Uuid, reason: String) -> Result<AdCampaign, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let rejected = super::campaigns::reject(&mut tx, &ctx, id, crate::marketing::types::Rejection { reason }).await?;
    tx.commit().await?;
    Ok(rejected)
}

/// Edits one creative variant (a new version: the approval is void).
#[server(prefix = "/sf", endpoint = "save_ad_creative")]
pub async fn save_ad_creative(id: Uuid, index: usize, headline: String, description: String) -> Result<AdCampaign, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let mut creatives = super::campaigns::get(&mut tx, &ctx, id).await?.creatives;
    let creative = creatives.get_mut(index).ok_or_else(|| ApiError::field("index", "no such variant"))?;
    creative.headline = headline;
    creative.description = description;
    let patch = AdCampaignPatch { creatives: Some(creatives), ..AdCampaignPatch::default() };
    let updated = super::campaigns::update(&mut tx, &ctx, id, patch).await?;
    tx.commit().await?;
    Ok(updated)
}
