//! Blog tools: drafts in Markdown, the approval gate, publishing to a CMS.

use serde_json::{json, Map, Value};

use super::{begin_write, finish_write, page_json, read_json, read_one, record_args, schema_with_ids, tool, write_new, write_one, Nothing};
use crate::marketing::blog::types::*;
use crate::marketing::blog::{connectors, posts};
use crate::marketing::types::Rejection;
use crate::mcp::registry::{arguments, schema_of, Operation, ToolResult};
use crate::platform::context::{AppState, Ctx};

pub(super) static TOOLS: &[Operation] = &[
    tool!(read list_blog_connectors, MarketingRead, schema_of::<Nothing>, "The CMS connectors posts can be published to."),
    tool!(write create_blog_connector, MarketingWrite, idempotent: false, destructive: false, || schema_with_ids::<NewBlogConnector>(&[], true),
        "Connect a CMS: wordpress (site, username, application password), ghost (site, Admin API key), webflow (collection id, token) or sanity (project, dataset, token)."),
    tool!(read list_blog_posts, MarketingRead, schema_of::<BlogPostFilter>, "List blog posts by status or campaign."),
    tool!(read get_blog_post, MarketingRead, || schema_with_ids::<Nothing>(&[("post_id", "The post.")], false), "Read a blog post with its rendered HTML."),
    tool!(write create_blog_post, MarketingWrite, idempotent: false, destructive: false, || schema_with_ids::<NewBlogPost>(&[], true),
        "Write a blog draft: title, Markdown body, excerpt, tags, cover image, the CMS it goes to. Nothing is published until it is approved."),
    tool!(write update_blog_post, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<BlogPostPatch>(&[("post_id", "The post to edit.")], true), "Edit a post: a new version; any approval is void."),
    tool!(read render_markdown, MarketingRead, schema_of::<RenderMarkdown>, "Render Markdown to the sanitised HTML a post would publish."),
    tool!(read review_blog_post, MarketingRead, || schema_with_ids::<Nothing>(&[("post_id", "The post.")], false),
        "What an approver reviews: the post, its CMS, the changes since the last approval and the publish attempts."),
    tool!(write submit_blog_post, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("post_id", "The draft post.")], true), "Put a post in the approvers' queue."),
    tool!(write approve_blog_post, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("post_id", "The post to approve.")], true),
        "Approve a post (keys granted marketing:approve, never the key that wrote it); otherwise it is queued for approval."),
    tool!(write reject_blog_post, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Rejection>(&[("post_id", "The post to reject.")], true), "Reject a post with a reason."),
    tool!(write publish_blog_post, MarketingWrite, idempotent: true, destructive: false,
        || schema_with_ids::<PublishBlogPost>(&[("post_id", "The approved post.")], true),
        "Publish an approved post to its CMS now or at publish_at (also retries a failed publish). Without an approval it is queued for one."),
    tool!(write cancel_blog_post, MarketingWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("post_id", "The post.")], true), "Call off a scheduled publish and drop the post."),
];

pub(super) async fn list_blog_connectors(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let _: Nothing = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let found = connectors::list(&mut tx, ctx).await?;
    tx.commit().await?;
    Ok(read_json("connectors", found))
}

pub(super) async fn list_blog_posts(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let filter: BlogPostFilter = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = posts::list(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(page_json("posts", page))
}

pub(super) async fn render_markdown(_state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: RenderMarkdown = arguments(args)?;
    ctx.require(crate::platform::types::Scope::MarketingRead)?;
    Ok(read_json("rendered", RenderedMarkdown { html: posts::render(&input.markdown) }))
}

pub(super) async fn publish_blog_post(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<PublishBlogPost>(args, &["post_id"])?;
    let mut tx = begin_write(state, ctx, "publish_blog_post", args.idempotency_key.as_deref(), &args.request).await?;
    let outcome = posts::publish(&mut tx, ctx, args.ids[0], args.input).await?;
    finish_write(
        tx,
        json!({ "status": outcome.status, "post": outcome.post, "approval_request": outcome.approval_request, "message": outcome.message }),
    )
    .await
}

write_new!(create_blog_connector, NewBlogConnector, "connector", connectors::create);
read_one!(get_blog_post, "post_id", "post", posts::get);
write_new!(create_blog_post, NewBlogPost, "post", posts::create);
write_one!(update_blog_post, BlogPostPatch, "post_id", "post", posts::update);
read_one!(review_blog_post, "post_id", "review", posts::review);
write_one!(submit_blog_post, Nothing, "post_id", "approval_request", |tx, ctx, id, _: Nothing| posts::submit(tx, ctx, id));
write_one!(approve_blog_post, Nothing, "post_id", "outcome", |tx, ctx, id, _: Nothing| posts::approve(tx, ctx, id));
write_one!(reject_blog_post, Rejection, "post_id", "post", posts::reject);
write_one!(cancel_blog_post, Nothing, "post_id", "post", |tx, ctx, id, _: Nothing| posts::cancel(tx, ctx, id));
