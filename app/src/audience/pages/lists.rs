//! Lists and segments: the audience overview, a static list's members, and
//! the page that opens a segment in the builder.

use crate::api_error::ApiError;
use leptos::either::Either;
use leptos::prelude::*;

use super::segments::SegmentBuilder;
use crate::audience::rules::{Match, Rule};
use crate::audience::server_fns::*;
use crate::audience::types::*;
use crate::components::{action_error, field_error, field_invalid, form_error, last_error, page_errors, use_record_id};
use crate::crm::custom_fields::server_fns::declared_custom_fields;

fn kind_label(list: &List) -> &'static str {
    match (list.kind, list.entity) {
        (ListKind::Segment, _) => "Segment",
        (ListKind::Static, ListEntity::Lead) => "List of leads",
        (ListKind::Static, ListEntity::Company) => "List of companies",
    }
}

#[component]
pub fn AudiencePage() -> impl IntoView {
    let create = ServerAction::<CreateStaticList>::new();
    let create_error = last_error(create.value());
    let lists = Resource::new(move || create.version().get(), |_| audience_lists());
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head">
                <h1>"Lists & segments"</h1>
                <p class="actions">
                    <a class="button" href="/segments/new">"New segment"</a>
                    <a class="button secondary" href="/imports">"Import"</a>
                    <a class="button secondary" href="/forms">"Capture forms"</a>
                    <a class="button secondary" href="/enrichment">"Enrichment"</a>
                </p>
            </div>
            <details class="card">
                <summary>"New static list"</summary>
                <ActionForm action=create>
                    <div class="row">
                        <label>"Name"<input name="name" required aria-invalid=move || field_invalid(create_error, "name")/>{field_error(create_error, "name")}</label>
                        <label>"Holds"
                            <select name="entity">
                                <option value="lead">"Leads"</option>
                                <option value="company">"Companies"</option>
                            </select>
                        </label>
                    </div>
                    <button type="submit">"Create list"</button>
                </ActionForm>
                {form_error(create_error, &["name"])}
            </details>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    Ok::<_, ApiError>(match lists.await? {
                        lists if lists.is_empty() => Either::Left(view! { <p class="empty">"No lists or segments yet."</p> }),
                        lists => Either::Right(view! {
                            <table class="grid" data-testid="lists">
                                <thead><tr><th>"Name"</th><th>"Kind"</th><th class="num">"Members"</th><th>"Export"</th></tr></thead>
                                <tbody>
                                    {lists.into_iter().map(|l| view! {
                                        <tr>
                                            <td><a href=format!("/lists/{}", l.id)>{l.name.clone()}</a></td>
                                            <td>{kind_label(&l)}</td>
                                            <td class="num">{l.member_count}</td>
                                            <td><a href=format!("/api/v1/lists/{}/export.csv", l.id) rel="external" download>"CSV"</a></td>
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

/// `/segments/new` and `/lists/{id}`: a segment opens in the builder, a
/// static list shows its members.
#[component]
pub fn SegmentNewPage() -> impl IntoView {
    let fields = Resource::new(|| (), |_| declared_custom_fields());
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    fields.await.map(|fields| view! {
                        <SegmentBuilder id=None name=String::new() rules=Rule::group(Match::All, vec![]) member_count=0 fields/>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

#[component]
pub fn ListPage() -> impl IntoView {
    let id = use_record_id();
    let list = Resource::new(id, |id| async move {
        match id {
            Some(id) => Ok((audience_list(id).await?, declared_custom_fields().await?)),
            None => Err(ApiError::new("not_found", "list not found")),
        }
    });
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    Ok::<_, ApiError>(match list.await? {
                        (list, fields) if list.kind == ListKind::Segment => Either::Left(view! {
                            <SegmentBuilder id=Some(list.id) name=list.name.clone() rules=list.rules.clone().unwrap_or_default() member_count=list.member_count fields/>
                        }),
                        (list, _) => Either::Right(view! { <StaticList list/> }),
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

#[component]
fn StaticList(list: List) -> impl IntoView {
    let id = list.id;
    let add_segment = ServerAction::<AddFromSegment>::new();
    let add_email = ServerAction::<AddLeadByEmail>::new();
    let remove = ServerAction::<RemoveListMember>::new();
    let delete = ServerAction::<DeleteAudienceList>::new();
    let members = Resource::new(
        move || (add_segment.version().get(), add_email.version().get(), remove.version().get()),
        move |_| list_members_page(id, None),
    );
    let lists = Resource::new(|| (), |_| audience_lists());
    let is_leads = list.entity == ListEntity::Lead;
    view! {
        <div class="page-head">
            <h1>{list.name.clone()}</h1>
            <div class="actions">
                <a class="button secondary" href=format!("/api/v1/lists/{id}/export.csv") rel="external" download>"Export CSV"</a>
                <ActionForm action=delete attr:class="inline">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <button type="submit" class="secondary">"Delete list"</button>
                </ActionForm>
            </div>
        </div>
        <p class="muted">{kind_label(&list)}</p>
        {is_leads.then(|| view! {
            <div class="card row">
                <ActionForm action=add_email>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <label>"Add lead by email"<input name="email" type="email" required/></label>
                    <button type="submit">"Add"</button>
                </ActionForm>
                <ActionForm action=add_segment>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <label>"Add everyone in a segment"
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                let segments: Vec<List> = lists.await.unwrap_or_default().into_iter().filter(|l| l.kind == ListKind::Segment).collect();
                                view! {
                                    <select name="segment_id">
                                        {segments.into_iter().map(|s| view! { <option value=s.id.to_string()>{format!("{} ({})", s.name, s.member_count)}</option> }).collect_view()}
                                    </select>
                                }
                            })}
                        </Transition>
                    </label>
                    <button type="submit">"Add all"</button>
                </ActionForm>
            </div>
        })}
        {action_error(add_email.value())}
        {action_error(add_segment.value())}
        {move || add_segment.value().get().and_then(|r| r.ok()).map(|r| view! { <p class="notice">{format!("Added {} members.", r.added)}</p> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                Ok::<_, ApiError>(match members.await? {
                    page if page.data.is_empty() => Either::Left(view! { <p class="empty">"No members yet."</p> }),
                    page => Either::Right(view! {
                        <table class="grid" data-testid="members">
                            <thead><tr><th>"Name"</th><th>{if is_leads { "Email" } else { "Domain" }}</th><th>{if is_leads { "Company" } else { "Industry" }}</th><th></th></tr></thead>
                            <tbody>
                                {page.data.into_iter().map(|m| view! {
                                    <tr>
                                        <td><a href=format!("/{}/{}", if is_leads { "leads" } else { "companies" }, m.id)>{m.name.clone()}</a></td>
                                        <td>{m.email.clone().unwrap_or_default()}</td>
                                        <td>{m.detail.clone().unwrap_or_default()}</td>
                                        <td class="actions">
                                            <ActionForm action=remove attr:class="inline">
                                                <input type="hidden" name="id" value=id.to_string()/>
                                                <input type="hidden" name="member_id" value=m.id.to_string()/>
                                                <button type="submit" class="secondary">"Remove"</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }),
                })
            })}
        </Transition>
    }
}
