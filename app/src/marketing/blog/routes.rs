//! REST: /api/v1/marketing/blog/….

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};

use super::types::*;
use super::{connectors, posts};
use crate::error::AppResult;
use crate::marketing::types::{ApprovalRequest, Rejection};
use crate::platform::context::{AppState, Ctx};
use crate::platform::http::{ApiJson, ApiPath, ApiQuery, ApiResult, IdPath, Idempotency};
use crate::platform::openapi::{self, json, query_of, Caller, Endpoint};
use crate::platform::types::{Page, Scope};

use Caller::Scoped;
use Scope::{MarketingRead as Read, MarketingWrite as Write};

pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint::new(
        "get",
        "/marketing/blog/connectors",
        Scoped(Read),
        "CMS connectors (WordPress, Ghost, Webflow, Sanity); secrets never returned.",
        || get(list_connectors),
    )
    .tool("list_blog_connectors")
    .answers(200, json::<Vec<BlogConnector>>),
    Endpoint::new("post", "/marketing/blog/connectors", Scoped(Write), "Connect a CMS with its (write-only) secret.", || {
        post(create_connector)
    })
    .tool("create_blog_connector")
    .body(json::<NewBlogConnector>)
    .answers(201, json::<BlogConnector>),
    Endpoint::new("get", "/marketing/blog/posts", Scoped(Read), "Blog posts by status and campaign.", || get(list_posts))
        .tool("list_blog_posts")
        .query(query_of::<BlogPostFilter>)
        .answers(200, json::<Page<BlogPost>>),
    Endpoint::new("post", "/marketing/blog/posts", Scoped(Write), "Write a blog draft in Markdown.", || post(create_post))
        .tool("create_blog_post")
        .body(json::<NewBlogPost>)
        .answers(201, json::<BlogPost>),
    Endpoint::new(
        "post",
        "/marketing/blog/render",
        Scoped(Read),
        "Render Markdown to the sanitised HTML a post would publish (the editor's preview).",
        || post(render),
    )
    .tool("render_markdown")
    .body(json::<RenderMarkdown>)
    .answers(200, json::<RenderedMarkdown>),
    Endpoint::new("get", "/marketing/blog/posts/{id}", Scoped(Read), "Read a blog post with its rendered HTML.", || get(show_post))
        .tool("get_blog_post")
        .answers(200, json::<BlogPost>),
    Endpoint::new("patch", "/marketing/blog/posts/{id}", Scoped(Write), "Edit a post: a new version; an approval is void.", || {
        patch(update_post)
    })
    .tool("update_blog_post")
    .body(json::<BlogPostPatch>)
    .answers(200, json::<BlogPost>),
    Endpoint::new(
        "get",
        "/marketing/blog/posts/{id}/review",
        Scoped(Read),
        "What an approver reviews, with the changes since approval and publish attempts.",
        || get(review),
    )
    .tool("review_blog_post")
    .answers(200, json::<BlogPostReview>),
    Endpoint::new("post", "/marketing/blog/posts/{id}/submit", Scoped(Write), "Put a post in the approvers' queue.", || post(submit))
        .tool("submit_blog_post")
        .answers(200, json::<ApprovalRequest>),
    Endpoint::new(
        "post",
        "/marketing/blog/posts/{id}/approve",
        Scoped(Write),
        "Approve a post (never its author); otherwise it is queued (202).",
        || post(approve),
    )
    .tool("approve_blog_post")
    .or_waits()
    .answers(200, json::<BlogOutcome>),
    Endpoint::new("post", "/marketing/blog/posts/{id}/reject", Scoped(Write), "Reject a post with a reason.", || post(reject))
        .tool("reject_blog_post")
        .body(json::<Rejection>)
        .answers(200, json::<BlogPost>),
    Endpoint::new(
        "post",
        "/marketing/blog/posts/{id}/publish",
        Scoped(Write),
        "Publish an approved post now or at publish_at (also a retry after a failure); without an approval it is queued for one (202).",
        || post(publish),
    )
    .tool("publish_blog_post")
    .body(json::<PublishBlogPost>)
    .or_waits()
    .answers(200, json::<BlogOutcome>),
    Endpoint::new("post", "/marketing/blog/posts/{id}/cancel", Scoped(Write), "Call off a scheduled publish and drop the post.", || {
        post(cancel)
    })
    .tool("cancel_blog_post")
    .answers(200, json::<BlogPost>),
];

pub fn router() -> Router<AppState> {
    openapi::router(ENDPOINTS)
}

async fn list_connectors(State(state): State<AppState>, ctx: Ctx) -> AppResult<Json<Vec<BlogConnector>>> {
    let mut tx = state.db.begin_read().await?;
    let found = connectors::list(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn create_connector(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewBlogConnector>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let created = connectors::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &created).await
}

async fn list_posts(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiQuery(filter): ApiQuery<BlogPostFilter>,
) -> AppResult<Json<Page<BlogPost>>> {
    let mut tx = state.db.begin_read().await?;
    let found = posts::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn create_post(State(state): State<AppState>, ctx: Ctx, idem: Idempotency, body: ApiJson<NewBlogPost>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let created = posts::create(&mut tx, &ctx, body.value).await?;
    tx.respond(StatusCode::CREATED, &created).await
}

async fn render(ctx: Ctx, body: ApiJson<RenderMarkdown>) -> AppResult<Json<RenderedMarkdown>> {
    ctx.require(Scope::MarketingRead)?;
    if body.value.markdown.len() > posts::MAX_BODY {
        return Err(crate::error::AppError::validation("markdown", format!("at most {} bytes", posts::MAX_BODY)));
    }
    Ok(Json(RenderedMarkdown { html: posts::render(&body.value.markdown) }))
}

async fn show_post(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<BlogPost>> {
    let mut tx = state.db.begin_read().await?;
    let found = posts::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn update_post(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<BlogPostPatch>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let updated = posts::update(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &updated).await
}

async fn review(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath) -> AppResult<Json<BlogPostReview>> {
    let mut tx = state.db.begin_read().await?;
    let found = posts::review(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(Json(found))
}

async fn submit(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let request = posts::submit(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &request).await
}

fn outcome_status(outcome: &BlogOutcome) -> StatusCode {
    if outcome.status == BlogPostStatus::PendingApproval {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    }
}

async fn approve(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let outcome = posts::approve(&mut tx, &ctx, id).await?;
    tx.respond(outcome_status(&outcome), &outcome).await
}

async fn reject(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency, body: ApiJson<Rejection>) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let rejected = posts::reject(&mut tx, &ctx, id, body.value).await?;
    tx.respond(StatusCode::OK, &rejected).await
}

async fn publish(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): IdPath,
    idem: Idempotency,
    body: ApiJson<PublishBlogPost>,
) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, &body.body_digest).await?;
    let outcome = posts::publish(&mut tx, &ctx, id, body.value).await?;
    tx.respond(outcome_status(&outcome), &outcome).await
}

async fn cancel(State(state): State<AppState>, ctx: Ctx, ApiPath(id): IdPath, idem: Idempotency) -> ApiResult {
    let mut tx = idem.begin(&state, &ctx, "").await?;
    let post = posts::cancel(&mut tx, &ctx, id).await?;
    tx.respond(StatusCode::OK, &post).await
}
