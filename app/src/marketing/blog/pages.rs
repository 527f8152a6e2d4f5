//! Blog pages: the posts and CMS connectors, and the editor — Markdown on
//! the left, the sanitised HTML it would publish on the right, updated as
//! one types — with the gate's buttons, scheduling and publish attempts.

use leptos::either::Either;
use leptos::prelude::*;

use super::server_fns::*;
use super::types::*;
use crate::api_error::ApiError;
use crate::components::{action_error, format_time, page_errors, use_record_id};

fn status_label(status: BlogPostStatus) -> &'static str {
    match status {
        BlogPostStatus::Draft => "Draft",
        BlogPostStatus::PendingApproval => "Waiting for approval",
        BlogPostStatus::Approved => "Approved",
        BlogPostStatus::Rejected => "Rejected",
        BlogPostStatus::Scheduled => "Scheduled",
        BlogPostStatus::Publishing => "Publishing",
        BlogPostStatus::Published => "Published",
        BlogPostStatus::Failed => "Failed",
        BlogPostStatus::Cancelled => "Cancelled",
    }
}

#[component]
fn PostStatus(status: BlogPostStatus) -> impl IntoView {
    view! { <span class=format!("badge status-{}", status.as_str()) data-testid="post-status">{status_label(status)}</span> }
}

#[component]
pub fn BlogPage() -> impl IntoView {
    let connect = ServerAction::<ConnectCms>::new();
    let create = ServerAction::<StartBlogPost>::new();
    let overview = Resource::new(move || connect.version().get(), |_| load_blog());
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head"><h1>"Blog"</h1><nav class="actions"><a href="/approvals">"Approvals"</a></nav></div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let BlogOverview { posts, connectors } = overview.await?;
                    let options = connectors.clone();
                    Ok::<_, ApiError>(view! {
                        <ActionForm action=create attr:class="card inline-form" attr:data-testid="new-post">
                            <label>"Title"<input name="title" required/></label>
                            <label>"Publish to"<select name="connector_id">
                                <option value="">"Choose later"</option>
                                {options.iter().map(|c| view! { <option value=c.id.to_string()>{format!("{} ({})", c.name, c.kind.label())}</option> }).collect_view()}
                            </select></label>
                            <button type="submit">"New post"</button>
                        </ActionForm>
                        {action_error(create.value())}
                        {if posts.is_empty() {
                            Either::Left(view! { <p class="empty">"No posts yet."</p> })
                        } else {
                            Either::Right(view! {
                                <table class="grid" data-testid="posts">
                                    <thead><tr><th>"Title"</th><th>"Status"</th><th>"Published"</th><th>"Updated"</th></tr></thead>
                                    <tbody>{posts.into_iter().map(|p| view! {
                                        <tr>
                                            <td><a href=format!("/blog/{}", p.id)>{p.title.clone()}</a></td>
                                            <td><PostStatus status=p.status/></td>
                                            <td>{p.published_url.clone().map(|u| { let href = u.clone(); view! { <a href=href rel="noopener noreferrer" target="_blank">{u}</a> } })}</td>
                                            <td>{format_time(p.updated_at)}</td>
                                        </tr>
                                    }).collect_view()}</tbody>
                                </table>
                            })
                        }}
                        <h2>"CMS connectors"</h2>
                        <ul class="plain">{connectors.iter().map(|c| view! { <li>{format!("{} · {} · {}", c.name, c.kind.label(), c.base_url)}</li> }).collect_view()}</ul>
                        <details class="card">
                            <summary>"Connect a CMS"</summary>
                            <ActionForm action=connect attr:class="form-grid">
                                <label>"CMS"<select name="form[kind]">
                                    <option value="wordpress">"WordPress"</option><option value="ghost">"Ghost"</option>
                                    <option value="webflow">"Webflow"</option><option value="sanity">"Sanity"</option>
                                </select></label>
                                <label>"Name"<input name="form[name]" required/></label>
                                <label>"Site or API root"<input name="form[base_url]" type="url" placeholder="https://blog.example.com"/></label>
                                <label>"Username (WordPress)"<input name="form[username]"/></label>
                                <label>"Collection id (Webflow)"<input name="form[collection_id]"/></label>
                                <label>"Project id (Sanity)"<input name="form[project_id]"/></label>
                                <label>"Dataset (Sanity)"<input name="form[dataset]" placeholder="production"/></label>
                                <label>"Post address (Webflow, Sanity)"<input name="form[post_url_template]" placeholder="https://example.com/blog/{slug}"/></label>
                                <label>"Secret (application password, Admin API key or token)"<input name="form[secret]" type="password" required autocomplete="off"/></label>
                                <button type="submit">"Connect"</button>
                            </ActionForm>
                            {action_error(connect.value())}
                        </details>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

#[component]
pub fn BlogPostPage() -> impl IntoView {
    let save = ServerAction::<SaveBlogPost>::new();
    let act = ServerAction::<BlogPostAction>::new();
    let reject = ServerAction::<RejectBlogPost>::new();
    let id = use_record_id();
    let page = Resource::new(
        move || (id(), save.version().get() + act.version().get() + reject.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => load_blog_post(id).await,
                None => Err(ApiError::new("not_found", "no such post")),
            }
        },
    );
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let BlogPostView { review, connectors } = page.await?;
                    let post = review.post.clone();
                    let post_id = post.id;
                    let status = post.status;
                    let (markdown, set_markdown) = signal(post.body_markdown.clone());
                    let preview = Resource::new(move || markdown.get(), preview_markdown);
                    let initial_html = post.body_html.clone();
                    let button = move |action: &'static str, label: &'static str| view! {
                        <ActionForm action=act>
                            <input type="hidden" name="id" value=post_id.to_string()/>
                            <input type="hidden" name="action" value=action/>
                            <button type="submit">{label}</button>
                        </ActionForm>
                    };
                    let chosen = post.connector_id;
                    Ok::<_, ApiError>(view! {
                        <div class="page-head"><h1>{post.title.clone()}</h1><PostStatus status/></div>
                        {post.status_reason.clone().map(|r| view! { <p class="notice" data-testid="status-reason">{r}</p> })}
                        {post.published_url.clone().map(|u| { let href = u.clone(); view! { <p>"Published at "<a href=href rel="noopener noreferrer" target="_blank" data-testid="published-url">{u}</a></p> } })}
                        <div class="actions">
                            {matches!(status, BlogPostStatus::Draft | BlogPostStatus::Rejected).then(|| button("submit", "Request approval"))}
                            {review.can_decide.then(|| button("approve", "Approve"))}
                            {matches!(status, BlogPostStatus::Approved | BlogPostStatus::Failed).then(|| view! {
                                {button("publish", "Publish now")}
                                <ActionForm action=act attr:class="inline-form">
                                    <input type="hidden" name="id" value=post_id.to_string()/>
                                    <input type="hidden" name="action" value="publish"/>
                                    <label>"Publish at (UTC)"<input type="datetime-local" name="publish_at" required/></label>
                                    <button type="submit">"Schedule"</button>
                                </ActionForm>
                            })}
                            {(!matches!(status, BlogPostStatus::Published | BlogPostStatus::Publishing | BlogPostStatus::Cancelled)).then(|| button("cancel", "Cancel post"))}
                        </div>
                        {action_error(act.value())}
                        {move || act.value().get().and_then(Result::ok).map(|m| view! { <p class="notice" role="status">{m}</p> })}
                        {review.can_decide.then(|| view! {
                            <ActionForm action=reject attr:class="inline-form">
                                <input type="hidden" name="id" value=post_id.to_string()/>
                                <label>"Reason"<input name="reason" required/></label>
                                <button type="submit">"Reject"</button>
                            </ActionForm>
                        })}
                        {(!review.changes_since_approval.is_empty()).then(|| view! {
                            <h2>"Changed since the last approval"</h2>
                            <ul>{review.changes_since_approval.iter().map(|c| view! { <li><code>{c.field.clone()}</code></li> }).collect_view()}</ul>
                        })}
                        <div class="editor">
                            <ActionForm action=save attr:class="form-grid editor-form">
                                <input type="hidden" name="id" value=post_id.to_string()/>
                                <label>"Title"<input name="form[title]" value=post.title.clone() required/></label>
                                <label>"Slug"<input name="form[slug]" value=post.slug.clone() required pattern="[a-z0-9-]+"/></label>
                                <label>"Body (Markdown)"<textarea name="form[body_markdown]" rows="18" required
                                    on:input=move |ev| set_markdown.set(event_target_value(&ev))>{post.body_markdown.clone()}</textarea></label>
                                <label>"Excerpt"<textarea name="form[excerpt]" rows="2" required>{post.excerpt.clone()}</textarea></label>
                                <label>"Tags (comma-separated)"<input name="form[tags]" value=post.tags.join(", ")/></label>
                                <label>"Cover image URL"<input name="form[cover_image_url]" type="url" value=post.cover_image_url.clone().unwrap_or_default()/></label>
                                <label>"Publish to"<select name="form[connector_id]">
                                    <option value="">"Choose later"</option>
                                    {connectors.iter().map(|c| view! { <option value=c.id.to_string() selected=Some(c.id) == chosen>{format!("{} ({})", c.name, c.kind.label())}</option> }).collect_view()}
                                </select></label>
                                <button type="submit">"Save"</button>
                            </ActionForm>
                            <section class="card preview" aria-label="Preview">
                                <h2>"Preview"</h2>
                                <Transition fallback=|| ()>
                                    {move || {
                                        let fallback = initial_html.clone();
                                        Suspend::new(async move {
                                            let html = preview.await.unwrap_or(fallback);
                                            view! { <article class="post-body" data-testid="preview" inner_html=html></article> }
                                        })
                                    }}
                                </Transition>
                            </section>
                        </div>
                        {action_error(save.value())}
                        <h2>"Publish attempts"</h2>
                        <ul class="plain">{review.jobs.iter().map(|j| view! {
                            <li>{format!("{} · {} attempt(s) · due {}{}", j.status, j.attempts, format_time(j.due_at), j.last_error.clone().map(|e| format!(" · {e}")).unwrap_or_default())}</li>
                        }).collect_view()}</ul>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}
