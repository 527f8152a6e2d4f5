//! Capture forms: the list, and one form's settings and embed code.

use crate::api_error::ApiError;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use crate::audience::server_fns::*;
use crate::audience::types::*;
use crate::components::{action_error, page_errors, use_record_id};
use crate::crm::leads::types::LeadSource;

#[component]
pub fn FormsPage() -> impl IntoView {
    let create = ServerAction::<CreateCaptureForm>::new();
    let forms = Resource::new(move || create.version().get(), |_| capture_forms());
    let lists = Resource::new(|| (), |_| audience_lists());
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head"><h1>"Capture forms"</h1></div>
            <details class="card">
                <summary>"New form"</summary>
                <ActionForm action=create>
                    <label>"Name"<input name="form[name]" required/></label>
                    <fieldset>
                        <legend>"Fields (name and email always)"</legend>
                        <label class="check"><input type="checkbox" name="form[phone]" value="on"/>"Phone"</label>
                        <label class="check"><input type="checkbox" name="form[company_name]" value="on" checked/>"Company"</label>
                        <label class="check"><input type="checkbox" name="form[title]" value="on"/>"Job title"</label>
                        <label class="check"><input type="checkbox" name="form[message]" value="on"/>"Message"</label>
                    </fieldset>
                    <label>"Submissions join"
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                let lists = lists.await.unwrap_or_default();
                                view! { <FormTargetSelect lists selected=None/> }
                            })}
                        </Transition>
                    </label>
                    <label>"Lead source"<LeadSourceSelect selected=LeadSource::Website/></label>
                    <label>"Tag captured leads with (comma-separated)"<input name="form[tags]" placeholder="webinar, spring-2027"/></label>
                    <label>"Websites allowed to post it (one origin per line)"<textarea name="form[origins]" placeholder="https://www.example.com"></textarea></label>
                    <button type="submit">"Create form"</button>
                </ActionForm>
                {action_error(create.value())}
            </details>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    Ok::<_, ApiError>(match forms.await? {
                        forms if forms.is_empty() => Either::Left(view! { <p class="empty">"No forms yet."</p> }),
                        forms => Either::Right(view! {
                            <table class="grid">
                                <thead><tr><th>"Form"</th><th>"Endpoint"</th><th class="num">"Submissions"</th><th>"Active"</th></tr></thead>
                                <tbody>
                                    {forms.into_iter().map(|f| view! {
                                        <tr>
                                            <td><a href=format!("/forms/{}", f.id)>{f.name.clone()}</a></td>
                                            <td><code>{f.endpoint.clone()}</code></td>
                                            <td class="num">{f.submissions}</td>
                                            <td>{if f.active { "yes" } else { "no" }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }),
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

/// Where a form's submissions go: a static list of leads (they join it)
/// or a segment (they join when its rules select them).
#[component]
fn FormTargetSelect(lists: Vec<List>, selected: Option<Uuid>) -> impl IntoView {
    let lists: Vec<List> = lists.into_iter().filter(|l| l.entity == ListEntity::Lead).collect();
    view! {
        <select name="form[list_id]" aria-label="Submissions join">
            <option value="">"No list"</option>
            {lists.into_iter().map(|l| {
                let label = match l.kind {
                    ListKind::Static => format!("{} (list)", l.name),
                    ListKind::Segment => format!("{} (segment, if its rules match)", l.name),
                };
                view! { <option value=l.id.to_string() selected={Some(l.id) == selected}>{label}</option> }
            }).collect_view()}
        </select>
    }
}

#[component]
fn LeadSourceSelect(selected: LeadSource) -> impl IntoView {
    view! {
        <select name="form[lead_source]" aria-label="Lead source">
            {LeadSource::ALL.iter().map(|s| view! { <option value=s.as_str() selected={*s == selected}>{s.as_str()}</option> }).collect_view()}
        </select>
    }
}

#[component]
fn FormSettings(form: CaptureForm, lists: Vec<List>, update: ServerAction<UpdateCaptureForm>) -> impl IntoView {
    view! {
        <details class="card" data-testid="form-settings">
            <summary>"Settings"</summary>
            <ActionForm action=update>
                <input type="hidden" name="id" value=form.id.to_string()/>
                <label>"Name"<input name="form[name]" value=form.name.clone() required/></label>
                <label>"Submissions join"<FormTargetSelect lists selected=form.list_id/></label>
                <label>"Lead source"<LeadSourceSelect selected=form.lead_source/></label>
                <label>"Tag captured leads with (comma-separated)"<input name="form[tags]" value=form.tags.join(", ")/></label>
                <label>"Websites allowed to post it (one origin per line)"<textarea name="form[origins]">{form.allowed_origins.join("\n")}</textarea></label>
                <label class="check"><input type="checkbox" name="form[active]" value="on" checked=form.active/>"Accepting submissions"</label>
                <button type="submit">"Save"</button>
            </ActionForm>
            {action_error(update.value())}
        </details>
    }
}

#[component]
pub fn FormPage() -> impl IntoView {
    let id = use_record_id();
    let query = use_query_map();
    let update = ServerAction::<UpdateCaptureForm>::new();
    let lists = Resource::new(|| (), |_| audience_lists());
    let data = Resource::new(
        move || (id(), query.read().get("origin"), update.version().get()),
        |(id, origin, _)| async move {
            match id {
                Some(id) => capture_form_view(id, origin).await,
                None => Err(ApiError::new("not_found", "form not found")),
            }
        },
    );
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let (form, snippet) = data.await?;
                            let lists = lists.await.unwrap_or_default();
                            let target = form.list_id.map(|id| {
                                lists.iter().find(|l| l.id == id).map(|l| view! { <a href=format!("/lists/{}", l.id)>{l.name.clone()}</a> }.into_any()).unwrap_or_else(|| "—".into_any())
                            }).unwrap_or_else(|| "no list".into_any());
                    Ok::<_, ApiError>(view! {
                            <div class="page-head"><h1>{form.name.clone()}</h1>{(!form.active).then(|| view! { <span class="badge">"paused"</span> })}</div>
                            <dl class="facts">
                                <dt>"Public endpoint"</dt><dd><code>{format!("POST {}", form.endpoint)}</code></dd>
                                <dt>"Submissions join"</dt><dd>{target}</dd>
                                <dt>"Tags"</dt><dd>{if form.tags.is_empty() { "—".to_string() } else { form.tags.join(", ") }}</dd>
                                <dt>"Lead source"</dt><dd>{form.lead_source.as_str()}</dd>
                                <dt>"Allowed origins"</dt><dd>{form.allowed_origins.join(", ")}</dd>
                                <dt>"Submissions"</dt><dd>{form.submissions}</dd>
                                <dt>"Signing secret"</dt><dd><code>{form.signing_secret.clone()}</code></dd>
                            </dl>
                            <p class="muted">"Servers may post without an origin by signing the raw body: X-Corral-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with the secret>."</p>
                            <form method="get" class="filters">
                                <select name="origin" aria-label="Snippet for">
                                    {form.allowed_origins.iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                                </select>
                                <button type="submit">"Show snippet"</button>
                            </form>
                            {match snippet {
                                Some(s) => Either::Left(view! {
                                    <h2>{format!("Embed on {}", s.origin)}</h2>
                                    <pre class="snippet" data-testid="embed-snippet">{s.html}</pre>
                                }),
                                None => Either::Right(view! { <p class="empty">"Add an allowed origin to get an embed snippet."</p> }),
                            }}
                            <FormSettings form=form.clone() lists update/>
                        })
                })}
            </Transition>
        </ErrorBoundary>
    }
}
