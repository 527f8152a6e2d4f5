//! Campaign pages: the list (filtered by channel, status, segment and
//! creation date, a page at a time) and one campaign with its sequences,
//! their combined results and a form for the next sequence.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::pages::{RollupTable, SequenceForm, StatusBadge};
use super::server_fns::*;
use super::types::*;
use crate::api_error::ApiError;
use crate::components::{action_error, format_time, page_errors, use_record_id};

fn campaign_status_label(status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Draft => "Draft",
        CampaignStatus::Active => "Active",
        CampaignStatus::Paused => "Paused",
        CampaignStatus::Completed => "Completed",
        CampaignStatus::Archived => "Archived",
    }
}

#[component]
pub fn CampaignsPage() -> impl IntoView {
    let query = use_query_map();
    let create = ServerAction::<CreateCampaignForm>::new();
    let filters = move || {
        let q = query.read();
        CampaignQuery {
            channel: q.get("channel"),
            status: q.get("status"),
            segment_id: q.get("segment_id"),
            from: q.get("from"),
            to: q.get("to"),
            cursor: q.get("cursor"),
        }
    };
    let campaigns = Resource::new(filters, list_campaigns_view);
    let chosen = move |key: &'static str, value: &str| query.read().get(key).as_deref() == Some(value);
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head">
                <h1>"Campaigns"</h1>
                <nav class="actions">
                    <a href="/marketing">"Sequences"</a>
                    <a href="/marketing/rollups">"Rollups"</a>
                    <a href="/approvals">"Approvals"</a>
                </nav>
            </div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let CampaignsView { page, segments, brands } = campaigns.await?;
                    let segment_name = {
                        let segments = segments.clone();
                        move |id: Option<uuid::Uuid>| {
                            id.and_then(|id| segments.iter().find(|(s, _)| *s == id).map(|(_, n)| n.clone())).unwrap_or_else(|| "–".into())
                        }
                    };
                    let chosen_segment = query.read().get("segment_id");
                    let segment_options = segments.iter().map(|(id, name)| {
                        let id = id.to_string();
                        let selected = chosen_segment.as_deref() == Some(id.as_str());
                        view! { <option value=id.clone() selected=selected>{name.clone()}</option> }
                    }).collect_view();
                    let next = page.next_cursor.clone().map(|cursor| {
                        let mut q = query.read().clone();
                        q.replace("cursor", cursor);
                        format!("/marketing/campaigns{}", q.to_query_string())
                    });
                    Ok::<_, ApiError>(view! {
                        <Form method="GET" action="" attr:class="filters">
                            <select name="channel" aria-label="Filter by channel">
                                <option value="">"Any channel"</option>
                                {Channel::ALL.iter().map(|c| view! {
                                    <option value=c.as_str() selected=move || chosen("channel", c.as_str())>{c.as_str()}</option>
                                }).collect_view()}
                            </select>
                            <select name="status" aria-label="Filter by status">
                                <option value="">"Any status"</option>
                                {CampaignStatus::ALL.iter().map(|s| view! {
                                    <option value=s.as_str() selected=move || chosen("status", s.as_str())>{campaign_status_label(*s)}</option>
                                }).collect_view()}
                            </select>
                            <select name="segment_id" aria-label="Filter by segment">
                                <option value="">"Any segment"</option>
                                {segment_options}
                            </select>
                            <label>"Created from"<input type="date" name="from" value=move || query.read().get("from").unwrap_or_default()/></label>
                            <label>"to"<input type="date" name="to" value=move || query.read().get("to").unwrap_or_default()/></label>
                            <button type="submit">"Filter"</button>
                        </Form>
                        {if page.data.is_empty() {
                            Either::Left(view! { <p class="empty">"No campaigns match."</p> })
                        } else {
                            Either::Right(view! {
                                <table class="grid" data-testid="campaigns">
                                    <thead><tr><th>"Campaign"</th><th>"Channel"</th><th>"Status"</th><th>"Segment"</th><th class="num">"Sequences"</th><th>"Created"</th></tr></thead>
                                    <tbody>
                                        {page.data.into_iter().map(|c| view! {
                                            <tr>
                                                <td><a href=format!("/marketing/campaigns/{}", c.id)>{c.name.clone()}</a></td>
                                                <td>{c.channel.as_str()}</td>
                                                <td><span class=format!("badge status-{}", c.status.as_str())>{campaign_status_label(c.status)}</span></td>
                                                <td>{segment_name(c.segment_id)}</td>
                                                <td class="num">{c.sequence_count}</td>
                                                <td>{format_time(c.created_at)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            })
                        }}
                        {next.map(|href| view! { <p class="pager"><a class="button secondary" href=href>"Next page →"</a></p> })}
                        <details class="card">
                            <summary>"New campaign"</summary>
                            <ActionForm action=create>
                                <label>"Name"<input name="name" required placeholder="Q1 demo push"/></label>
                                <label>"Channel"
                                    <select name="channel">
                                        {Channel::ALL.iter().map(|c| view! { <option value=c.as_str()>{c.as_str()}</option> }).collect_view()}
                                    </select>
                                </label>
                                <label>"Segment"
                                    <select name="segment_id">
                                        <option value="">"None yet"</option>
                                        {segments.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                                    </select>
                                </label>
                                <label>"Brand"
                                    <select name="brand_id">
                                        <option value="">"None yet"</option>
                                        {brands.into_iter().map(|b| view! { <option value=b.id.to_string()>{b.name}</option> }).collect_view()}
                                    </select>
                                </label>
                                <button type="submit">"Create campaign"</button>
                            </ActionForm>
                            {action_error(create.value())}
                        </details>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

#[component]
pub fn CampaignPage() -> impl IntoView {
    let id = use_record_id();
    let set_status = ServerAction::<SetCampaignStatus>::new();
    let preview = ServerAction::<PreviewSequence>::new();
    let campaign = Resource::new(
        move || (id(), set_status.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => load_campaign(id).await,
                None => Err(ApiError::new("not_found", "no such campaign")),
            }
        },
    );
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let CampaignView { campaign, sequences, rollup, segments, brands, senders, owner_name } = campaign.await?;
                    let segment = campaign.segment_id.and_then(|id| segments.iter().find(|(s, _)| *s == id).map(|(_, n)| n.clone()));
                    let brand = campaign.brand_id.and_then(|id| brands.iter().find(|b| b.id == id).map(|b| b.name.clone()));
                    let campaign_id = campaign.id;
                    Ok::<_, ApiError>(view! {
                        <div class="page-head">
                            <h1>{campaign.name.clone()}</h1>
                            <span class=format!("badge status-{}", campaign.status.as_str()) data-testid="campaign-status">
                                {campaign_status_label(campaign.status)}
                            </span>
                        </div>
                        <p>{format!(
                            "{} campaign · segment {} · brand {} · owner {} · created {}",
                            campaign.channel.as_str(),
                            segment.unwrap_or_else(|| "none".into()),
                            brand.unwrap_or_else(|| "none".into()),
                            owner_name.unwrap_or_else(|| "none".into()),
                            format_time(campaign.created_at)
                        )}</p>
                        <ActionForm action=set_status attr:class="row">
                            <input type="hidden" name="id" value=campaign_id.to_string()/>
                            <label>"Status"
                                <select name="status">
                                    {CampaignStatus::ALL.iter().map(|s| view! {
                                        <option value=s.as_str() selected={*s == campaign.status}>{campaign_status_label(*s)}</option>
                                    }).collect_view()}
                                </select>
                            </label>
                            <button type="submit">"Set status"</button>
                        </ActionForm>
                        {action_error(set_status.value())}
                        <h2>"Sequences"</h2>
                        {if sequences.is_empty() {
                            Either::Left(view! { <p class="empty">"No sequences in this campaign yet."</p> })
                        } else {
                            Either::Right(view! {
                                <table class="grid" data-testid="campaign-sequences">
                                    <thead><tr><th>"Sequence"</th><th>"Status"</th><th class="num">"Emails"</th><th class="num">"Recipients"</th><th>"Created"</th></tr></thead>
                                    <tbody>
                                        {sequences.into_iter().map(|s| view! {
                                            <tr>
                                                <td><a href=format!("/marketing/sequences/{}", s.id)>{s.name.clone()}</a></td>
                                                <td><StatusBadge status=s.status/></td>
                                                <td class="num">{s.steps.len()}</td>
                                                <td class="num">{s.recipient_count.map(|n| n.to_string()).unwrap_or_else(|| "–".into())}</td>
                                                <td>{format_time(s.created_at)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            })
                        }}
                        {(campaign.channel == Channel::Email && !brands.is_empty()).then(|| view! {
                            <details class="card">
                                <summary>"New sequence in this campaign"</summary>
                                <SequenceForm preview segments brands senders campaign_id=Some(campaign_id)/>
                            </details>
                        })}
                        <h2>"Results"</h2>
                        <RollupTable rollup/>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}
