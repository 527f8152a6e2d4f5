//! Blog posts and CMS connectors as the API and the pages see them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::marketing::types::{ApprovalRequest, ContentChange};

text_enum!(
    /// The CMSs a post can be published to.
    #[derive(Default)]
    CmsKind {
    #[default]
    Wordpress => "wordpress",
    Ghost => "ghost",
    Webflow => "webflow",
    Sanity => "sanity",
});

impl CmsKind {
    pub fn label(self) -> &'static str {
        match self {
            CmsKind::Wordpress => "WordPress",
            CmsKind::Ghost => "Ghost",
            CmsKind::Webflow => "Webflow",
            CmsKind::Sanity => "Sanity",
        }
    }
}

text_enum!(
    /// draft → pending_approval → approved | rejected → scheduled →
    /// publishing → published | failed (retry) ; cancelled.
    BlogPostStatus {
    Draft => "draft",
    PendingApproval => "pending_approval",
    Approved => "approved",
    Rejected => "rejected",
    Scheduled => "scheduled",
    Publishing => "publishing",
    Published => "published",
    Failed => "failed",
    Cancelled => "cancelled",
});

/// What a connector needs besides its secret. WordPress: `username` (the
/// application password's user). Webflow: `collection_id`. Sanity:
/// `project_id`, `dataset`, `document_type` (`post` when absent). Webflow
/// and Sanity: `post_url_template` (`https://example.com/blog/{slug}`), as
/// their APIs do not say where a post is shown.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CmsSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_url_template: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct BlogConnector {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub kind: CmsKind,
    pub name: String,
    pub base_url: String,
    pub settings: CmsSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewBlogConnector {
    pub kind: CmsKind,
    pub name: String,
    /// WordPress and Ghost: the site (`https://blog.example.com`); Webflow
    /// and Sanity: their API root when not the public one.
    pub base_url: Option<String>,
    #[serde(default)]
    pub settings: CmsSettings,
    /// Write-only: a WordPress application password, a Ghost Admin API key
    /// (`id:secret`), a Webflow or Sanity API token.
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct BlogPost {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub connector_id: Option<Uuid>,
    pub title: String,
    pub slug: String,
    pub body_markdown: String,
    /// The Markdown rendered and sanitised: what is published.
    pub body_html: String,
    pub excerpt: String,
    pub tags: Vec<String>,
    pub cover_image_url: Option<String>,
    pub status: BlogPostStatus,
    pub version: i64,
    pub author_user_id: Option<Uuid>,
    pub author_api_key_id: Option<Uuid>,
    pub approved_version: Option<i64>,
    pub approved_by_user_id: Option<Uuid>,
    pub approved_by_api_key_id: Option<Uuid>,
    pub approved_at: Option<DateTime<Utc>>,
    pub publish_at: Option<DateTime<Utc>>,
    pub external_id: Option<String>,
    pub published_url: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub status_reason: Option<String>,
    pub source: String,
    pub last_agent_actor_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewBlogPost {
    pub title: String,
    /// From the title when absent.
    pub slug: Option<String>,
    pub body_markdown: String,
    /// The first sentences of the body when absent.
    pub excerpt: Option<String>,
    pub tags: Option<Vec<String>>,
    pub cover_image_url: Option<String>,
    pub connector_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
}

patch!(
    /// Changes to a post; any change of what would be published makes a new
    /// version that needs a new approval.
    BlogPostPatch {
        title: required String,
        slug: required String,
        body_markdown: required String,
        excerpt: required String,
        tags: required Vec<String>,
        cover_image_url: optional String,
        connector_id: optional Uuid,
        campaign_id: optional Uuid,
    }
);

/// When to publish: now when absent.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PublishBlogPost {
    pub publish_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BlogPostFilter {
    pub status: Option<BlogPostStatus>,
    pub campaign_id: Option<Uuid>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RenderMarkdown {
    pub markdown: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RenderedMarkdown {
    pub html: String,
}

/// What an approval or a publish request did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct BlogOutcome {
    pub status: BlogPostStatus,
    pub post: BlogPost,
    pub approval_request: Option<ApprovalRequest>,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct BlogPostReview {
    pub post: BlogPost,
    pub connector: Option<BlogConnector>,
    pub changes_since_approval: Vec<ContentChange>,
    pub requests: Vec<ApprovalRequest>,
    pub can_decide: bool,
    /// The latest publish attempts, newest first.
    pub jobs: Vec<PublishJob>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema, sqlx::FromRow))]
pub struct PublishJob {
    pub id: Uuid,
    pub status: String,
    pub attempts: i64,
    pub due_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}
