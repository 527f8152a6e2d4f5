//! Blog posts behind the approval gate: written in Markdown (rendered and
//! sanitised on the server), approved by someone who is not the author,
//! published now or at a time by a publish job to the post's CMS. The
//! approval freezes the title, slug, body, excerpt, tags, cover and the
//! connector; an edit makes a new version that needs a new approval.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::connectors;
use super::types::*;
use crate::error::{AppError, AppResult};
use crate::marketing::gate::{self, diff, digest};
use crate::marketing::types::{ApprovalQueueItem, ApprovalRequest, ApprovalStatus, ApprovalSubject, Rejection};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope};
use crate::platform::validate::required_text;

pub const MAX_BODY: usize = 200_000;
pub const MAX_TAGS: usize = 20;

/// Markdown as sanitised HTML: no scripts, event handlers, frames or
/// `javascript:` links survive; links get `rel="noopener noreferrer"`.
pub fn render(markdown: &str) -> String {
    let mut options = pulldown_cmark::Options::empty();
    options.insert(pulldown_cmark::Options::ENABLE_TABLES);
    options.insert(pulldown_cmark::Options::ENABLE_STRIKETHROUGH);
    options.insert(pulldown_cmark::Options::ENABLE_FOOTNOTES);
    let parser = pulldown_cmark::Parser::new_ext(markdown, options);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::Builder::default().url_schemes(["http", "https", "mailto"].into()).clean(&html).to_string()
}

/// `Ten Ways to Sell!` → `ten-ways-to-sell`.
pub fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(100).collect()
}

/// The first sentences of the body's text, up to 160 characters.
fn excerpt_of(html: &str) -> String {
    let text = ammonia::Builder::empty().clean(html).to_string();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= 160 {
        return text;
    }
    let cut: String = text.chars().take(159).collect();
    format!("{}…", cut.rsplit_once(' ').map(|(head, _)| head).unwrap_or(&cut))
}

fn check_slug(slug: &str) -> AppResult<String> {
    let slug = slug.trim().to_string();
    if slug.is_empty()
        || slug.len() > 100
        || !slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        || slug.starts_with('-')
    {
        return Err(AppError::validation("slug", "a slug is 1 to 100 lower-case letters, digits and dashes"));
    }
    Ok(slug)
}

fn check_tags(tags: &[String]) -> AppResult<Vec<String>> {
    if tags.len() > MAX_TAGS {
        return Err(AppError::validation("tags", format!("at most {MAX_TAGS} tags")));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, tag) in tags.iter().enumerate() {
        let tag = required_text(&format!("tags[{i}]"), tag, 60)?;
        if !out.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
            out.push(tag);
        }
    }
    Ok(out)
}

fn check_cover(url: Option<String>) -> AppResult<Option<String>> {
    match url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()) {
        Some(u) => match reqwest::Url::parse(&u) {
            Ok(parsed) if parsed.scheme() == "https" && parsed.host_str().is_some() => Ok(Some(u)),
            _ => Err(AppError::validation("cover_image_url", "must be an absolute https URL")),
        },
        None => Ok(None),
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PostRow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub connector_id: Option<Uuid>,
    pub title: String,
    pub slug: String,
    pub body_markdown: String,
    pub excerpt: String,
    pub tags: sqlx::types::Json<Vec<String>>,
    pub cover_image_url: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: BlogPostStatus,
    pub version: i64,
    pub author_user_id: Option<Uuid>,
    pub author_api_key_id: Option<Uuid>,
    pub approved_version: Option<i64>,
    pub approved_digest: Option<String>,
    pub approved_content: Option<sqlx::types::Json<Value>>,
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

const COLUMNS: &str = "id, workspace_id, campaign_id, connector_id, title, slug, body_markdown, excerpt, tags, cover_image_url, status, \
     version, author_user_id, author_api_key_id, approved_version, approved_digest, approved_content, approved_by_user_id, \
     approved_by_api_key_id, approved_at, publish_at, external_id, published_url, published_at, status_reason, source, \
     last_agent_actor_id, created_at, updated_at";

impl PostRow {
    pub fn to_post(&self) -> BlogPost {
        BlogPost {
            id: self.id,
            workspace_id: self.workspace_id,
            campaign_id: self.campaign_id,
            connector_id: self.connector_id,
            title: self.title.clone(),
            slug: self.slug.clone(),
            body_markdown: self.body_markdown.clone(),
            body_html: render(&self.body_markdown),
            excerpt: self.excerpt.clone(),
            tags: self.tags.0.clone(),
            cover_image_url: self.cover_image_url.clone(),
            status: self.status,
            version: self.version,
            author_user_id: self.author_user_id,
            author_api_key_id: self.author_api_key_id,
            approved_version: self.approved_version,
            approved_by_user_id: self.approved_by_user_id,
            approved_by_api_key_id: self.approved_by_api_key_id,
            approved_at: self.approved_at,
            publish_at: self.publish_at,
            external_id: self.external_id.clone(),
            published_url: self.published_url.clone(),
            published_at: self.published_at,
            status_reason: self.status_reason.clone(),
            source: self.source.clone(),
            last_agent_actor_id: self.last_agent_actor_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    fn subject(&self) -> gate::Subject {
        gate::Subject {
            kind: ApprovalSubject::BlogPost,
            id: self.id,
            version: self.version,
            author_user_id: self.author_user_id,
            author_api_key_id: self.author_api_key_id,
        }
    }

    /// What an approval covers: everything that is published, and where.
    pub fn terms(&self) -> Value {
        json!({
            "version": self.version,
            "title": self.title,
            "slug": self.slug,
            "body_html": render(&self.body_markdown),
            "excerpt": self.excerpt,
            "tags": self.tags.0,
            "cover_image_url": self.cover_image_url,
            "connector_id": self.connector_id,
        })
    }

    /// Whether this version's approval covers exactly what is there now.
    pub fn approval_holds(&self) -> bool {
        let (Some(content), Some(stored)) = (self.approved_content.as_ref(), self.approved_digest.as_deref()) else { return false };
        self.approved_version == Some(self.version) && digest(&content.0) == stored && digest(&content.0["terms"]) == digest(&self.terms())
    }
}

pub(super) async fn find_row(tx: &mut Tx, workspace_id: Uuid, id: Uuid) -> AppResult<Option<PostRow>> {
    Ok(tx
        .fetch_optional(Q::new(format!("SELECT {COLUMNS} FROM blog_posts WHERE workspace_id = $1 AND id = $2")).bind(workspace_id).bind(id))
        .await?)
}

async fn row(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<PostRow> {
    find_row(tx, ctx.workspace_id, id).await?.ok_or(AppError::NotFound("blog post"))
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<BlogPost> {
    ctx.require(Scope::MarketingRead)?;
    Ok(row(tx, ctx, id).await?.to_post())
}

pub async fn list(tx: &mut Tx, ctx: &Ctx, filter: BlogPostFilter) -> AppResult<Page<BlogPost>> {
    ctx.require(Scope::MarketingRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("SELECT {COLUMNS} FROM blog_posts WHERE workspace_id = $1")).bind(ctx.workspace_id);
    if let Some(status) = filter.status {
        let p = q.arg(status.as_str());
        q.push(&format!(" AND status = {p}"));
    }
    if let Some(campaign) = filter.campaign_id {
        let p = q.arg(campaign);
        q.push(&format!(" AND campaign_id = {p}"));
    }
    page.apply(&mut q, "id");
    let rows: Vec<PostRow> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |r| r.id, |r| r.to_post()))
}

async fn check_refs(tx: &mut Tx, ctx: &Ctx, connector_id: Option<Uuid>, campaign_id: Option<Uuid>) -> AppResult<()> {
    if let Some(id) = connector_id {
        connectors::find(tx, ctx.workspace_id, id).await?.ok_or_else(|| AppError::validation("connector_id", "no such CMS connector"))?;
    }
    if let Some(id) = campaign_id {
        crate::marketing::campaigns::get(tx, ctx, id).await.map_err(|_| AppError::validation("campaign_id", "no such campaign"))?;
    }
    Ok(())
}

fn slug_taken() -> AppError {
    AppError::Validation { field: Some("slug".into()), message: "another post has this slug".into() }
}

async fn slug_free(tx: &mut Tx, ctx: &Ctx, slug: &str, except: Option<Uuid>) -> AppResult<()> {
    let found: Option<(Uuid,)> = tx
        .fetch_optional(Q::new("SELECT id FROM blog_posts WHERE workspace_id = $1 AND slug = $2").bind(ctx.workspace_id).bind(slug))
        .await?;
    match found {
        Some((id,)) if Some(id) != except => Err(slug_taken()),
        _ => Ok(()),
    }
}

pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewBlogPost) -> AppResult<BlogPost> {
    ctx.require(Scope::MarketingWrite)?;
    let title = required_text("title", &input.title, 300)?;
    if input.body_markdown.trim().is_empty() {
        return Err(AppError::validation("body_markdown", "the post has no body"));
    }
    if input.body_markdown.len() > MAX_BODY {
        return Err(AppError::validation("body_markdown", format!("a post is at most {MAX_BODY} bytes")));
    }
    let slug = check_slug(&input.slug.unwrap_or_else(|| slugify(&title)))?;
    let excerpt = match input.excerpt.map(|e| e.trim().to_string()).filter(|e| !e.is_empty()) {
        Some(e) => required_text("excerpt", &e, 500)?,
        None => excerpt_of(&render(&input.body_markdown)),
    };
    let tags = check_tags(&input.tags.unwrap_or_default())?;
    let cover = check_cover(input.cover_image_url)?;
    check_refs(tx, ctx, input.connector_id, input.campaign_id).await?;
    slug_free(tx, ctx, &slug, None).await?;
    let id = Uuid::now_v7();
    let at = now();
    tx.execute(
        Q::new(
            "INSERT INTO blog_posts (id, workspace_id, campaign_id, connector_id, title, slug, body_markdown, excerpt, tags, cover_image_url, \
             status, version, author_user_id, author_api_key_id, source, last_agent_actor_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'draft', 1, $11, $12, $13, $14, $15, $15)",
        )
        .bind(id)
        .bind(ctx.workspace_id)
        .bind(input.campaign_id)
        .bind(input.connector_id)
        .bind(title)
        .bind(slug)
        .bind(input.body_markdown)
        .bind(excerpt)
        .bind(json!(tags))
        .bind(cover)
        .bind(ctx.user_id)
        .bind(ctx.api_key_id)
        .bind(ctx.record_source())
        .bind(ctx.api_key_id)
        .bind(at),
    )
    .await?;
    let post = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "blog_post.created", "blog_post", Some(id), None::<&()>, Some(&post)).await?;
    Ok(post)
}

async fn set_status(tx: &mut Tx, id: Uuid, status: BlogPostStatus, reason: Option<&str>) -> AppResult<()> {
    tx.execute(
        Q::new("UPDATE blog_posts SET status = $1, status_reason = $2, updated_at = $3 WHERE id = $4")
            .bind(status.as_str())
            .bind(reason)
            .bind(now())
            .bind(id),
    )
    .await?;
    Ok(())
}

async fn audit_status(
    tx: &mut Tx,
    ctx: &Ctx,
    verb: &str,
    id: Uuid,
    before: BlogPostStatus,
    after: BlogPostStatus,
    detail: Value,
) -> AppResult<()> {
    audit::record(
        tx,
        ctx,
        &format!("blog_post.{verb}"),
        "blog_post",
        Some(id),
        Some(&json!({ "status": before })),
        Some(&json!({ "status": after, "detail": detail })),
    )
    .await
}

/// Edits a post: a new version; an approval or a pending request is void
/// and a scheduled publish is called off.
pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: BlogPostPatch) -> AppResult<BlogPost> {
    ctx.require(Scope::MarketingWrite)?;
    let before = row(tx, ctx, id).await?;
    if matches!(before.status, BlogPostStatus::Publishing | BlogPostStatus::Cancelled) {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!("a post that is {} cannot be edited", before.status.as_str()),
        });
    }
    let title = match patch.title {
        Some(t) => required_text("title", &t, 300)?,
        None => before.title.clone(),
    };
    let slug = match patch.slug {
        Some(s) => check_slug(&s)?,
        None => before.slug.clone(),
    };
    let body = match patch.body_markdown {
        Some(b) if b.trim().is_empty() => return Err(AppError::validation("body_markdown", "the post has no body")),
        Some(b) if b.len() > MAX_BODY => return Err(AppError::validation("body_markdown", format!("a post is at most {MAX_BODY} bytes"))),
        Some(b) => b,
        None => before.body_markdown.clone(),
    };
    let excerpt = match patch.excerpt {
        Some(e) => required_text("excerpt", &e, 500)?,
        None => before.excerpt.clone(),
    };
    let tags = match patch.tags {
        Some(t) => check_tags(&t)?,
        None => before.tags.0.clone(),
    };
    let cover = match patch.cover_image_url {
        Some(c) => check_cover(c)?,
        None => before.cover_image_url.clone(),
    };
    let connector_id = patch.connector_id.unwrap_or(before.connector_id);
    let campaign_id = patch.campaign_id.unwrap_or(before.campaign_id);
    check_refs(tx, ctx, connector_id, campaign_id).await?;
    if slug != before.slug {
        slug_free(tx, ctx, &slug, Some(id)).await?;
    }
    let changed = title != before.title
        || slug != before.slug
        || body != before.body_markdown
        || excerpt != before.excerpt
        || tags != before.tags.0
        || cover != before.cover_image_url
        || connector_id != before.connector_id;
    let version = if changed { before.version + 1 } else { before.version };
    tx.execute(
        Q::new(
            "UPDATE blog_posts SET title = $1, slug = $2, body_markdown = $3, excerpt = $4, tags = $5, cover_image_url = $6, connector_id = $7, \
             campaign_id = $8, version = $9, updated_at = $10 WHERE id = $11",
        )
        .bind(title)
        .bind(slug)
        .bind(body)
        .bind(excerpt)
        .bind(json!(tags))
        .bind(cover)
        .bind(connector_id)
        .bind(campaign_id)
        .bind(version)
        .bind(now())
        .bind(id),
    )
    .await?;
    if changed && !matches!(before.status, BlogPostStatus::Draft) {
        let reason = match before.status {
            BlogPostStatus::Rejected => format!("edited after it was rejected (now version {version}): submit it again"),
            BlogPostStatus::Published => {
                format!("edited after it was published (now version {version}): the change needs an approval to go out")
            }
            _ => format!(
                "edited after {} (now version {version}): it needs a new approval",
                if before.status == BlogPostStatus::PendingApproval { "it was submitted" } else { "approval" }
            ),
        };
        gate::void_pending(tx, ApprovalSubject::BlogPost, id, &reason).await?;
        tx.execute(
            Q::new("UPDATE blog_publish_jobs SET status = 'cancelled', finished_at = $1 WHERE post_id = $2 AND status = 'queued'")
                .bind(now())
                .bind(id),
        )
        .await?;
        set_status(tx, id, BlogPostStatus::Draft, Some(&reason)).await?;
        if matches!(
            before.status,
            BlogPostStatus::Approved | BlogPostStatus::Scheduled | BlogPostStatus::Failed | BlogPostStatus::Published
        ) {
            audit_status(tx, ctx, "approval_voided", id, before.status, BlogPostStatus::Draft, json!({ "reason": reason })).await?;
        }
    }
    let after = get(tx, ctx, id).await?;
    audit::record(tx, ctx, "blog_post.updated", "blog_post", Some(id), Some(&before.to_post()), Some(&after)).await?;
    Ok(after)
}

pub async fn submit(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<ApprovalRequest> {
    gate::require_access(ctx)?;
    let r = row(tx, ctx, id).await?;
    if !matches!(r.status, BlogPostStatus::Draft | BlogPostStatus::Rejected | BlogPostStatus::PendingApproval) {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!("a post that is {} cannot be submitted for approval", r.status.as_str()),
        });
    }
    let request = gate::open(tx, ctx, &r.subject()).await?;
    if r.status != BlogPostStatus::PendingApproval {
        set_status(tx, id, BlogPostStatus::PendingApproval, None).await?;
        let changes = diff(r.approved_content.as_ref().map(|c| &c.0["terms"]), &r.terms());
        audit_status(
            tx,
            ctx,
            "submitted",
            id,
            r.status,
            BlogPostStatus::PendingApproval,
            json!({ "version": r.version, "changes_since_approval": changes }),
        )
        .await?;
    }
    Ok(request)
}

pub async fn approve(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<BlogOutcome> {
    gate::require_access(ctx)?;
    let r = row(tx, ctx, id).await?;
    if !matches!(r.status, BlogPostStatus::Draft | BlogPostStatus::PendingApproval) {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!("a post that is {} cannot be approved", r.status.as_str()),
        });
    }
    if let Err(why) = gate::may_decide(ctx, &r.subject()) {
        let request = submit(tx, ctx, id).await?;
        return Ok(BlogOutcome {
            status: BlogPostStatus::PendingApproval,
            post: get(tx, ctx, id).await?,
            approval_request: Some(request),
            message: format!("{why}. The post waits in the approvers' queue; nothing is published until an approver approves it."),
        });
    }
    if r.connector_id.is_none() {
        return Err(AppError::validation("connector_id", "choose the CMS the post is published to before approving it"));
    }
    let terms = r.terms();
    let changes = diff(r.approved_content.as_ref().map(|c| &c.0["terms"]), &terms);
    let content = json!({ "terms": terms });
    let stored = digest(&content);
    let at = now();
    tx.execute(
        Q::new(
            "UPDATE blog_posts SET status = 'approved', status_reason = NULL, approved_version = $1, approved_digest = $2, approved_content = $3, \
             approved_by_user_id = $4, approved_by_api_key_id = $5, approved_at = $6, updated_at = $6 WHERE id = $7",
        )
        .bind(r.version)
        .bind(stored.as_str())
        .bind(content)
        .bind(ctx.user_id)
        .bind(ctx.api_key_id)
        .bind(at)
        .bind(id),
    )
    .await?;
    let decided = gate::decide(tx, ctx, &r.subject(), ApprovalStatus::Approved, None).await?;
    audit_status(
        tx,
        ctx,
        "approved",
        id,
        r.status,
        BlogPostStatus::Approved,
        json!({ "version": r.version, "digest": stored, "changes_since_approval": changes }),
    )
    .await?;
    Ok(BlogOutcome {
        status: BlogPostStatus::Approved,
        post: get(tx, ctx, id).await?,
        approval_request: Some(decided),
        message: "approved: publish it now or at a time".into(),
    })
}

pub async fn reject(tx: &mut Tx, ctx: &Ctx, id: Uuid, input: Rejection) -> AppResult<BlogPost> {
    gate::require_access(ctx)?;
    let reason = required_text("reason", &input.reason, 2000)?;
    let r = row(tx, ctx, id).await?;
    gate::may_decide(ctx, &r.subject()).map_err(AppError::Forbidden)?;
    if !matches!(r.status, BlogPostStatus::Draft | BlogPostStatus::PendingApproval) {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!("a post that is {} cannot be rejected", r.status.as_str()),
        });
    }
    gate::decide(tx, ctx, &r.subject(), ApprovalStatus::Rejected, Some(&reason)).await?;
    set_status(tx, id, BlogPostStatus::Rejected, Some(&reason)).await?;
    audit_status(tx, ctx, "rejected", id, r.status, BlogPostStatus::Rejected, json!({ "reason": reason })).await?;
    get(tx, ctx, id).await
}

/// Publishes an approved post now or at `publish_at` (a publish job).
/// Without an approval for this version the post goes to the approvers'
/// queue instead and the answer carries the request.
pub async fn publish(tx: &mut Tx, ctx: &Ctx, id: Uuid, input: PublishBlogPost) -> AppResult<BlogOutcome> {
    ctx.require(Scope::MarketingWrite)?;
    let r = row(tx, ctx, id).await?;
    match r.status {
        BlogPostStatus::Publishing | BlogPostStatus::Scheduled => {
            return Ok(BlogOutcome {
                status: r.status,
                post: r.to_post(),
                approval_request: None,
                message: format!("already {}", r.status.as_str()),
            })
        }
        BlogPostStatus::Cancelled => return Err(AppError::Conflict { code: "invalid_state", message: "the post was cancelled".into() }),
        BlogPostStatus::Approved | BlogPostStatus::Failed | BlogPostStatus::Published if r.approval_holds() => {}
        BlogPostStatus::Published => {
            return Ok(BlogOutcome { status: r.status, post: r.to_post(), approval_request: None, message: "already published".into() })
        }
        _ => {
            let request = submit(tx, ctx, id).await?;
            return Ok(BlogOutcome {
                status: BlogPostStatus::PendingApproval,
                post: get(tx, ctx, id).await?,
                approval_request: Some(request),
                message:
                    "this version has no approval: it waits in the approvers' queue, and nothing is published until an approver approves it"
                        .into(),
            });
        }
    }
    if r.status == BlogPostStatus::Published {
        return Ok(BlogOutcome { status: r.status, post: r.to_post(), approval_request: None, message: "already published".into() });
    }
    let at = now();
    let due = match input.publish_at {
        Some(when) if when > at => when,
        _ => at,
    };
    let status = if due > at { BlogPostStatus::Scheduled } else { BlogPostStatus::Publishing };
    tx.execute(
        Q::new("UPDATE blog_posts SET status = $1, status_reason = NULL, publish_at = $2, updated_at = $3 WHERE id = $4")
            .bind(status.as_str())
            .bind(due)
            .bind(at)
            .bind(id),
    )
    .await?;
    super::jobs::enqueue(tx, ctx.workspace_id, id, due).await?;
    audit_status(tx, ctx, if due > at { "scheduled" } else { "publishing" }, id, r.status, status, json!({ "publish_at": due })).await?;
    Ok(BlogOutcome {
        status,
        post: get(tx, ctx, id).await?,
        approval_request: None,
        message: if due > at { format!("scheduled for {}", due.format("%Y-%m-%d %H:%M UTC")) } else { "publishing now".into() },
    })
}

/// Calls off a scheduled publish, or drops the post for good.
pub async fn cancel(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<BlogPost> {
    ctx.require(Scope::MarketingWrite)?;
    let r = row(tx, ctx, id).await?;
    if matches!(r.status, BlogPostStatus::Published | BlogPostStatus::Publishing | BlogPostStatus::Cancelled) {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!("a post that is {} cannot be cancelled", r.status.as_str()),
        });
    }
    tx.execute(
        Q::new("UPDATE blog_publish_jobs SET status = 'cancelled', finished_at = $1 WHERE post_id = $2 AND status = 'queued'")
            .bind(now())
            .bind(id),
    )
    .await?;
    gate::void_pending(tx, ApprovalSubject::BlogPost, id, "cancelled").await?;
    set_status(tx, id, BlogPostStatus::Cancelled, None).await?;
    audit_status(tx, ctx, "cancelled", id, r.status, BlogPostStatus::Cancelled, Value::Null).await?;
    get(tx, ctx, id).await
}

pub async fn review(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<BlogPostReview> {
    ctx.require(Scope::MarketingRead)?;
    let r = row(tx, ctx, id).await?;
    let connector = match r.connector_id {
        Some(c) => connectors::find(tx, ctx.workspace_id, c).await?.map(|c| c.to_connector()),
        None => None,
    };
    let changes = diff(r.approved_content.as_ref().map(|c| &c.0["terms"]), &r.terms());
    let can_decide = gate::may_decide(ctx, &r.subject()).is_ok()
        && matches!(r.status, BlogPostStatus::Draft | BlogPostStatus::PendingApproval)
        && gate::require_access(ctx).is_ok();
    Ok(BlogPostReview {
        post: r.to_post(),
        connector,
        changes_since_approval: changes,
        requests: gate::history(tx, ApprovalSubject::BlogPost, id).await?,
        can_decide,
        jobs: super::jobs::recent(tx, id).await?,
    })
}

pub async fn queue_item(tx: &mut Tx, ctx: &Ctx, request: ApprovalRequest) -> AppResult<ApprovalQueueItem> {
    let r = row(tx, ctx, request.subject_id).await?;
    let campaign_name = match r.campaign_id {
        Some(c) => tx
            .fetch_optional(Q::new("SELECT name FROM campaigns WHERE id = $1").bind(c))
            .await?
            .map(|(n,): (String,)| n)
            .unwrap_or_default(),
        None => String::new(),
    };
    let connector = match r.connector_id {
        Some(c) => connectors::find(tx, ctx.workspace_id, c).await?.map(|c| format!("{} ({})", c.name, c.kind.label())),
        None => None,
    };
    Ok(ApprovalQueueItem {
        subject_name: r.title.clone(),
        sequence_name: None,
        review_url: format!("/blog/{}", r.id),
        campaign_name,
        author: gate::author_name(tx, r.author_user_id, r.author_api_key_id).await?,
        audience_size: 0,
        first_send_at: r.publish_at,
        summary: format!("blog post to {}", connector.unwrap_or_else(|| "no CMS yet".into())),
        request,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_and_scripts_do_not_survive() {
        let html = render(
            "# Hi\n\nSome **bold** [link](https://a.test) <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
        );
        assert!(html.contains("<h1>Hi</h1>") && html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("href=\"https://a.test\""), "{html}");
        assert!(!html.contains("<script") && !html.contains("javascript:") && !html.contains("onerror"), "{html}");
    }

    #[test]
    fn slugs_and_excerpts() {
        assert_eq!(slugify("  Ten Ways to Sell!  "), "ten-ways-to-sell");
        assert!(check_slug("Bad Slug").is_err());
        let long = "word ".repeat(100);
        let excerpt = excerpt_of(&render(&long));
        assert!(excerpt.chars().count() <= 160 && excerpt.ends_with('…'), "{excerpt}");
    }
}
