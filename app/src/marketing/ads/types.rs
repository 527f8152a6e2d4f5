//! Ad accounts, ad campaigns, their creatives, audiences and metrics as
//! the API and the pages see them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::marketing::types::{ApprovalRequest, Brand, ContentChange, CopySource};

text_enum!(
    /// The ad platforms Corral launches campaigns on.
    #[derive(Default)]
    Platform {
    #[default]
    Google => "google",
    Linkedin => "linkedin",
    Meta => "meta",
});

impl Platform {
    pub fn label(self) -> &'static str {
        match self {
            Platform::Google => "Google Ads",
            Platform::Linkedin => "LinkedIn",
            Platform::Meta => "Meta",
        }
    }
}

text_enum!(
    /// What a campaign optimises for.
    #[derive(Default)]
    AdObjective {
    #[default]
    Leads => "leads",
    Traffic => "traffic",
    Awareness => "awareness",
});

text_enum!(
    /// draft → pending_approval → approved | rejected → launching → active ⇄
    /// paused → completed | cancelled; `failed` when a launch gave up.
    AdCampaignStatus {
    Draft => "draft",
    PendingApproval => "pending_approval",
    Approved => "approved",
    Rejected => "rejected",
    Launching => "launching",
    Active => "active",
    Paused => "paused",
    Cancelled => "cancelled",
    Completed => "completed",
    Failed => "failed",
});

text_enum!(
    /// The button under an ad; each platform shows its own label.
    CallToAction {
    LearnMore => "learn_more",
    SignUp => "sign_up",
    RequestDemo => "request_demo",
    GetQuote => "get_quote",
    ContactUs => "contact_us",
    Download => "download",
    Register => "register",
    Subscribe => "subscribe",
    ApplyNow => "apply_now",
});

text_enum!(
    /// How the hand-off of a campaign's audience to its platform went.
    AudienceUploadStatus {
    Pending => "pending",
    Uploading => "uploading",
    Uploaded => "uploaded",
    Failed => "failed",
});

/// An ad account; its credentials are write-only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AdAccount {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub platform: Platform,
    pub name: String,
    /// Google customer id, LinkedIn sponsored account id, Meta ad account id.
    pub external_account_id: String,
    pub currency: String,
    pub api_base_url: Option<String>,
    /// Which credentials are stored (never their values).
    pub credentials_set: Vec<String>,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What each platform's API needs. `access_token` always; Google also a
/// `developer_token` (and `login_customer_id` under a manager account);
/// LinkedIn a `campaign_group_id` new campaigns go in.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AdCredentials {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub developer_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_customer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_group_id: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAdAccount {
    pub platform: Platform,
    pub name: String,
    pub external_account_id: String,
    /// ISO 4217; USD when absent.
    pub currency: Option<String>,
    /// The platform API's root, only to go through a proxy (or a test server).
    pub api_base_url: Option<String>,
    pub credentials: AdCredentials,
}

patch!(
    /// Changes to an ad account. New credentials replace the old ones whole.
    AdAccountPatch {
        name: required String,
        api_base_url: optional String,
        credentials: required AdCredentials,
    }
);

/// One creative variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AdCreative {
    pub headline: String,
    pub description: String,
    pub call_to_action: CallToAction,
    /// Where a click lands (https).
    pub final_url: String,
    #[serde(default)]
    pub image_url: Option<String>,
}

/// The platform audience of a launched campaign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AdAudience {
    pub platform: Platform,
    pub external_audience_id: Option<String>,
    pub status: AudienceUploadStatus,
    /// People in the approved snapshot with an email or phone to match on.
    pub member_count: i64,
    pub uploaded_count: i64,
    /// What the platform reported receiving (Meta) or matching, when it does.
    pub matched_count: Option<i64>,
    pub detail: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AdCampaign {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub campaign_id: Uuid,
    pub ad_account_id: Uuid,
    pub platform: Platform,
    pub name: String,
    pub objective: AdObjective,
    /// Minor units of `currency`.
    pub daily_budget_minor: i64,
    pub currency: String,
    /// The daily budget over an average month (30.4 days), as platforms bill it.
    pub monthly_budget_minor: i64,
    pub segment_id: Uuid,
    pub brand_id: Uuid,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub creatives: Vec<AdCreative>,
    pub status: AdCampaignStatus,
    /// Every change of what would run makes a new version.
    pub version: i64,
    pub author_user_id: Option<Uuid>,
    pub author_api_key_id: Option<Uuid>,
    pub approved_version: Option<i64>,
    pub approved_daily_budget_minor: Option<i64>,
    pub approved_by_user_id: Option<Uuid>,
    pub approved_by_api_key_id: Option<Uuid>,
    pub approved_at: Option<DateTime<Utc>>,
    /// People in the audience snapshot the approval froze.
    pub audience_count: Option<i64>,
    pub external_campaign_id: Option<String>,
    pub status_reason: Option<String>,
    pub launched_at: Option<DateTime<Utc>>,
    pub audience: Option<AdAudience>,
    pub source: String,
    pub last_agent_actor_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAdCampaign {
    /// The platform; with several accounts on it, name one in `ad_account_id`.
    pub platform: Option<Platform>,
    pub ad_account_id: Option<Uuid>,
    /// The marketing campaign it belongs to; a new one (channel ads) when absent.
    pub campaign_id: Option<Uuid>,
    pub name: Option<String>,
    pub objective: AdObjective,
    pub segment_id: Uuid,
    pub brand_id: Uuid,
    /// Minor units of the account's currency.
    pub daily_budget_minor: i64,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// Variants; generated from templates (or `copy_source: ai`) when absent.
    pub creatives: Option<Vec<AdCreative>>,
    pub copy_source: Option<CopySource>,
    /// Where the generated variants link to (the brand's site).
    pub final_url: Option<String>,
}

patch!(
    /// Changes to an ad campaign. Creatives, audience, schedule, objective or
    /// a budget over 150% of the approved one need a new approval.
    AdCampaignPatch {
        name: required String,
        objective: required AdObjective,
        daily_budget_minor: required i64,
        segment_id: required Uuid,
        brand_id: required Uuid,
        start_date: optional NaiveDate,
        end_date: optional NaiveDate,
        creatives: required Vec<AdCreative>,
    }
);

/// The seed's `launch_ad_campaign` arguments.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LaunchAdCampaign {
    /// Launch this ad campaign (approved); the other arguments are then not needed.
    pub ad_campaign_id: Option<Uuid>,
    pub platform: Option<Platform>,
    pub objective: Option<AdObjective>,
    pub segment_id: Option<Uuid>,
    pub brand_id: Option<Uuid>,
    /// In US dollars (the account's currency must be USD).
    pub daily_budget_usd: Option<f64>,
    pub ad_account_id: Option<Uuid>,
}

/// What a launch did: launching, or (without an approval) the request an
/// approver must decide.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AdLaunchOutcome {
    pub status: AdCampaignStatus,
    pub ad_campaign: AdCampaign,
    pub approval_request: Option<ApprovalRequest>,
    pub message: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AdCampaignFilter {
    pub status: Option<AdCampaignStatus>,
    pub platform: Option<Platform>,
    pub campaign_id: Option<Uuid>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Asks for creative variants.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GenerateCreatives {
    /// 1 to 5; 3 when absent.
    pub count: Option<i64>,
    /// `template` (default) or `ai` (the workspace's chat-completions endpoint).
    pub copy_source: Option<CopySource>,
    pub final_url: Option<String>,
    /// Replace the campaign's variants with these (a new version).
    #[serde(default)]
    pub replace: bool,
}

/// Variants generated for a campaign (and whether they replaced its own).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct GeneratedCreatives {
    pub creatives: Vec<AdCreative>,
    pub copy_source: CopySource,
    pub ad_campaign: Option<AdCampaign>,
}

/// The limits a platform sets on a creative's text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CreativeLimits {
    pub headline: usize,
    pub description: usize,
}

/// A variant as its platform would show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CreativePreview {
    pub platform: Platform,
    pub headline: String,
    pub description: String,
    /// The button's label on that platform ("Learn more", "Request demo").
    pub call_to_action_label: String,
    /// The host of the final URL, as shown under the ad.
    pub display_url: String,
    pub final_url: String,
    pub image_url: Option<String>,
    pub advertiser: String,
    pub limits: CreativeLimits,
}

/// What an approver reviews for an ad campaign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AdCampaignReview {
    pub ad_campaign: AdCampaign,
    pub account_name: String,
    pub brand: Brand,
    pub segment_name: String,
    /// Who the audience would hold now (or the frozen snapshot once approved).
    pub audience_size: i64,
    pub previews: Vec<CreativePreview>,
    pub changes_since_approval: Vec<ContentChange>,
    pub requests: Vec<ApprovalRequest>,
    pub can_decide: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AdMetricsDay {
    pub day: NaiveDate,
    pub spend_minor: i64,
    pub impressions: i64,
    pub clicks: i64,
    pub conversions: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AdMetrics {
    pub ad_campaign_id: Uuid,
    pub currency: String,
    pub days: Vec<AdMetricsDay>,
    pub spend_minor: i64,
    pub impressions: i64,
    pub clicks: i64,
    pub conversions: i64,
    pub last_synced_at: Option<DateTime<Utc>>,
}

/// One unit of work against a platform, as the campaign page lists them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema, sqlx::FromRow))]
pub struct AdJob {
    pub id: Uuid,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}
