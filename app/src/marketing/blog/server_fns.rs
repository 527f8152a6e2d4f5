//! Server functions for the blog pages.

use crate::api_error::ApiError;
#[cfg(feature = "ssr")]
use crate::platform::transaction::WriteTx;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::types::*;

#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, member};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlogOverview {
    pub posts: Vec<BlogPost>,
    pub connectors: Vec<BlogConnector>,
}

#[server(prefix = "/sf", endpoint = "load_blog")]
pub async fn load_blog() -> Result<BlogOverview, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let posts = super::posts::list(&mut tx, &ctx, BlogPostFilter { limit: Some(100), ..Default::default() }).await?.data;
    let connectors = super::connectors::list(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(BlogOverview { posts, connectors })
}

/// The connector form, as typed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BlogConnectorForm {
    pub kind: String,
    pub name: String,
    pub base_url: Option<String>,
    pub username: Option<String>,
    pub collection_id: Option<String>,
    pub project_id: Option<String>,
    pub dataset: Option<String>,
    pub post_url_template: Option<String>,
    pub secret: String,
}

#[server(prefix = "/sf", endpoint = "connect_cms")]
pub async fn connect_cms(form: BlogConnectorForm) -> Result<BlogConnector, ApiError> {
    let (state, ctx) = member().await?;
    let kind = CmsKind::parse(&form.kind).ok_or_else(|| ApiError::field("kind", "choose wordpress, ghost, webflow or sanity"))?;
    let input = NewBlogConnector {
        kind,
        name: form.name,
        base_url: blank_to_none(form.base_url),
        settings: CmsSettings {
            username: blank_to_none(form.username),
            collection_id: blank_to_none(form.collection_id),
            project_id: blank_to_none(form.project_id),
            dataset: blank_to_none(form.dataset),
            document_type: None,
            post_url_template: blank_to_none(form.post_url_template),
        },
        secret: form.secret,
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let connector = super::connectors::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(connector)
}

#[server(prefix = "/sf", endpoint = "start_blog_post")]
pub async fn start_blog_post(title: String, connector_id: Option<String>) -> Result<BlogPost, ApiError> {
    let (state, ctx) = member().await?;
    let connector_id = match blank_to_none(connector_id) {
        Some(id) => Some(id.parse::<Uuid>().map_err(|_| ApiError::field("connector_id", "no such connector"))?),
        None => None,
    };
    let input = NewBlogPost { body_markdown: format!("# {title}\n\nWrite here."), title, connector_id, ..NewBlogPost::default() };
    let mut tx = WriteTx::begin(&state.db).await?;
    let post = super::posts::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    leptos_axum::redirect(&format!("/blog/{}", post.id));
    Ok(post)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlogPostView {
    pub review: BlogPostReview,
    pub connectors: Vec<BlogConnector>,
}

#[server(prefix = "/sf", endpoint = "load_blog_post")]
pub async fn load_blog_post(id: Uuid) -> Result<BlogPostView, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let review = super::posts::review(&mut tx, &ctx, id).await?;
    let connectors = super::connectors::list(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(BlogPostView { review, connectors })
}

/// The editor's form, as typed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BlogPostForm {
    pub title: String,
    pub slug: String,
    pub body_markdown: String,
    pub excerpt: String,
    /// Comma-separated.
    pub tags: String,
    pub cover_image_url: Option<String>,
    pub connector_id: Option<String>,
}

#[server(prefix = "/sf", endpoint = "save_blog_post")]
pub async fn save_blog_post(id: Uuid, form: BlogPostForm) -> Result<BlogPost, ApiError> {
    let (state, ctx) = member().await?;
    let connector_id = match blank_to_none(form.connector_id) {
        Some(c) => Some(c.parse::<Uuid>().map_err(|_| ApiError::field("connector_id", "no such connector"))?),
        None => None,
    };
    let patch = BlogPostPatch {
        title: Some(form.title),
        slug: Some(form.slug),
        body_markdown: Some(form.body_markdown),
        excerpt: Some(form.excerpt),
        tags: Some(form.tags.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()),
        cover_image_url: Some(blank_to_none(form.cover_image_url)),
        connector_id: Some(connector_id),
        campaign_id: None,
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let post = super::posts::update(&mut tx, &ctx, id, patch).await?;
    tx.commit().await?;
    Ok(post)
}

/// The gate's buttons: submit, approve, publish (now or at a time), cancel.
#[server(prefix = "/sf", endpoint = "blog_post_action")]
pub async fn blog_post_action(id: Uuid, action: String, publish_at: Option<String>) -> Result<String, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let message = match action.as_str() {
        "submit" => super::posts::submit(&mut tx, &ctx, id).await.map(|_| "Submitted for approval.".to_string())?,
        "approve" => super::posts::approve(&mut tx, &ctx, id).await.map(|o| o.message)?,
        "publish" => {
            // The form asks for the time in UTC.
            let publish_at = match blank_to_none(publish_at) {
                Some(t) => Some(
                    chrono::DateTime::parse_from_rfc3339(&t)
                        .map(|d| d.with_timezone(&chrono::Utc))
                        .or_else(|_| chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M").map(|d| d.and_utc()))
                        .map_err(|_| ApiError::field("publish_at", "a date and time like 2026-12-01T09:00"))?,
                ),
                None => None,
            };
            super::posts::publish(&mut tx, &ctx, id, PublishBlogPost { publish_at }).await.map(|o| o.message)?
        }
        "cancel" => super::posts::cancel(&mut tx, &ctx, id).await.map(|_| "Cancelled.".to_string())?,
        other => return Err(ApiError::field("action", format!("unknown action {other:?}"))),
    };
    tx.commit().await?;
    Ok(message)
}

#[server(prefix = "/sf", endpoint = "reject_blog_post")]
pub async fn reject_blog_post(id: Uuid, reason: String) -> Result<BlogPost, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let post = super::posts::reject(&mut tx, &ctx, id, crate::marketing::types::Rejection { reason }).await?;
    tx.commit().await?;
    Ok(post)
}

/// The editor's live preview: the HTML the post would publish.
#[server(prefix = "/sf", endpoint = "preview_markdown")]
pub async fn preview_markdown(markdown: String) -> Result<String, ApiError> {
    let (_, ctx) = member().await?;
    ctx.require(crate::platform::types::Scope::MarketingRead)?;
    if markdown.len() > super::posts::MAX_BODY {
        return Err(ApiError::field("markdown", "the post is too long"));
    }
    Ok(super::posts::render(&markdown))
}
