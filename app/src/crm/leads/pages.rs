//! Pages: the lead list with filters and a quick-add form, and the lead
//! page with its conversion form.

use crate::api_error::ApiError;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::server_fns::*;
use super::types::{custom_field_text, is_custom_field_key, LeadSource, LeadStatus};
use crate::components::{action_error, field_error, field_invalid, form_error, format_time, last_error, page_errors, use_record_id};
use crate::crm::deals::server_fns::list_stages;
use crate::crm::deals::types::StageKind;

#[component]
pub fn LeadsPage() -> impl IntoView {
    let query = use_query_map();
    let create = ServerAction::<CreateLead>::new();
    let create_error = last_error(create.value());
    let members = Resource::new(|| (), |_| crate::platform::server_fns::list_members());
    let leads = Resource::new(
        move || {
            let q = query.read();
            (
                q.get("q").filter(|v| !v.is_empty()),
                q.get("status").and_then(|s| LeadStatus::parse(&s)),
                q.get("source").and_then(|s| LeadSource::parse(&s)),
                q.get("owner").filter(|v| !v.is_empty()),
                q.get("cursor").filter(|v| !v.is_empty()),
                create.version().get(),
            )
        },
        |(q, status, source, owner, cursor, _)| list_leads(q, status, source, owner, cursor),
    );
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head"><h1>"Leads"</h1></div>
            <section class="card">
                <h2>"Add a lead"</h2>
                <ActionForm action=create attr:class="row">
                    <label>"Lead name"<input name="name" required aria-invalid=move || field_invalid(create_error, "name")/>{field_error(create_error, "name")}</label>
                    <label>"Email"<input name="email" type="email" aria-invalid=move || field_invalid(create_error, "email")/>{field_error(create_error, "email")}</label>
                    <label>"Company"<input name="company_name"/></label>
                    <label>"Source"
                        <select name="source" aria-invalid=move || field_invalid(create_error, "source")>
                            {LeadSource::ALL.iter().map(|s| view! { <option value=s.as_str() selected={*s == LeadSource::Manual}>{s.as_str()}</option> }).collect_view()}
                        </select>{field_error(create_error, "source")}
                    </label>
                    <button type="submit">"Add lead"</button>
                </ActionForm>
                {form_error(create_error, &["name", "email", "source"])}
            </section>
            <Form method="GET" action="" attr:class="filters">
                <input type="search" name="q" placeholder="Search name, email or company" aria-label="Search"
                    prop:value=move || query.read().get("q").unwrap_or_default()/>
                <select name="status" aria-label="Status">
                    <option value="">"Any status"</option>
                    {LeadStatus::ALL.iter().map(|s| view! { <option value=s.as_str() selected=move || query.read().get("status").as_deref() == Some(s.as_str())>{s.as_str()}</option> }).collect_view()}
                </select>
                <select name="source" aria-label="Source">
                    <option value="">"Any source"</option>
                    {LeadSource::ALL.iter().map(|s| view! { <option value=s.as_str() selected=move || query.read().get("source").as_deref() == Some(s.as_str())>{s.as_str()}</option> }).collect_view()}
                </select>
                <select name="owner" aria-label="Owner">
                    <option value="">"Any owner"</option>
                    <option value="me" selected=move || query.read().get("owner").as_deref() == Some("me")>"Mine"</option>
                    <option value="unassigned" selected=move || query.read().get("owner").as_deref() == Some("unassigned")>"Unassigned"</option>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            members.await.unwrap_or_default().into_iter().map(|m| {
                                let id = m.user_id.to_string();
                                let selected = query.read_untracked().get("owner").as_deref() == Some(id.as_str());
                                view! { <option value=id selected=selected>{m.name}</option> }
                            }).collect_view()
                        })}
                    </Transition>
                </select>
                <button type="submit">"Filter"</button>
            </Form>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    Ok::<_, ApiError>(match leads.await? {
                        page if page.data.is_empty() => Either::Left(view! { <p class="empty">"No leads match."</p> }),
                        page => Either::Right(view! {
                            <table class="grid" data-testid="leads">
                                <thead><tr><th>"Name"</th><th>"Email"</th><th>"Company"</th><th>"Source"</th><th>"Status"</th><th>"Score"</th><th>"Created"</th></tr></thead>
                                <tbody>
                                    {page.data.into_iter().map(|l| view! {
                                        <tr>
                                            <td><a href=format!("/leads/{}", l.id)>{l.name}</a></td>
                                            <td>{l.email.unwrap_or_default()}</td>
                                            <td>{l.company_name.unwrap_or_default()}</td>
                                            <td>{l.source.as_str()}</td>
                                            <td><span class=format!("badge {}", l.status.as_str())>{l.status.as_str()}</span></td>
                                            <td>{l.score}</td>
                                            <td>{format_time(l.created_at)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {page.next_cursor.map(|c| view! { <p class="pager"><a class="button secondary" href=format!("/leads?cursor={c}")>"Next page →"</a></p> })}
                        }),
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

#[component]
pub fn LeadPage() -> impl IntoView {
    let id = use_record_id();
    let convert = ServerAction::<ConvertLead>::new();
    let update = ServerAction::<UpdateLead>::new();
    let delete = ServerAction::<DeleteLead>::new();
    let enrich = ServerAction::<crate::audience::server_fns::EnrichLeadNow>::new();
    let lead = Resource::new(
        move || (id(), convert.version().get(), update.version().get(), enrich.version().get()),
        |(id, _, _, _)| async move {
            match id {
                Some(id) => get_lead(id).await,
                None => Err(ApiError::new("not_found", "lead not found")),
            }
        },
    );
    let stages = Resource::new(|| (), |_| list_stages());
    let members = Resource::new(|| (), |_| crate::platform::server_fns::list_members());
    let connectors = Resource::new(|| (), |_| crate::audience::server_fns::enrichment_connectors());
    let log = ServerAction::<crate::crm::activities::server_fns::LogRecordActivity>::new();
    let timeline = Resource::new(
        move || (id(), convert.version().get(), log.version().get(), update.version().get(), enrich.version().get()),
        |(id, _, _, _, _)| async move {
            match id {
                Some(id) => lead_timeline(id).await,
                None => Ok(Vec::new()),
            }
        },
    );
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let lead = lead.await?;
                    let stages = stages.await.unwrap_or_default();
                    let members = members.await.unwrap_or_default();
                    let connectors: Vec<_> = connectors.await.unwrap_or_default().into_iter().filter(|c| c.enabled).collect();
                    let owner_name = lead.owner_id.map(|o| members.iter().find(|m| m.user_id == o).map(|m| m.name.clone()).unwrap_or_else(|| "a former member".into()));
                    let custom_fields: Vec<(String, String)> = lead.custom_fields.as_object().map(|fields| {
                        fields.iter().map(|(k, v)| (k.clone(), custom_field_text(v))).collect()
                    }).unwrap_or_default();
                    // Keys outside the safe alphabet stay read-only here (the
                    // form encoding could not carry them back intact).
                    let editable_fields: Vec<(String, String)> = custom_fields
                        .iter()
                        .filter(|(k, _)| is_custom_field_key(k))
                        .cloned()
                        .collect();
                    let converted = lead.status == LeadStatus::Converted;
                    Ok::<_, ApiError>(view! {
                        <div class="page-head">
                            <h1 data-testid="lead-name">{lead.name.clone()}</h1>
                            <span class=format!("badge {}", lead.status.as_str()) data-testid="lead-status">{lead.status.as_str()}</span>
                        </div>
                        <dl class="facts" data-testid="lead-facts">
                            <dt>"Email"</dt><dd>{lead.email.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Phone"</dt><dd>{lead.phone.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Company"</dt><dd>{lead.company_name.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Title"</dt><dd>{lead.title.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Source"</dt><dd>{lead.source.as_str()}</dd>
                            <dt>"Score"</dt><dd>{lead.score}</dd>
                            <dt>"Owner"</dt><dd>{owner_name.unwrap_or_else(|| "unassigned".into())}</dd>
                            <dt>"Tags"</dt>
                            <dd data-testid="lead-tags">
                                {if lead.tags.is_empty() { Either::Left("—") } else {
                                    Either::Right(lead.tags.iter().map(|t| view! { <span class="badge tag">{t.clone()}</span>" " }).collect_view())
                                }}
                            </dd>
                            {custom_fields.into_iter().map(|(k, v)| view! { <dt class="custom">{k}</dt><dd>{v}</dd> }).collect_view()}
                            <dt>"Last activity"</dt><dd>{lead.last_activity_at.map(format_time).unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Created"</dt><dd>{format_time(lead.created_at)}</dd>
                        </dl>
                        {(!connectors.is_empty()).then(|| view! {
                            <section class="card" data-testid="enrich">
                                <h2>"Enrich"</h2>
                                <p class="muted">"Looks the lead up with a connector; empty fields fill in, tags add, the rest lands in custom fields."</p>
                                <ActionForm action=enrich attr:class="row">
                                    <input type="hidden" name="lead_id" value=lead.id.to_string()/>
                                    <select name="connector_id" aria-label="Connector">
                                        {connectors.iter().map(|c| view! { <option value=c.id.to_string()>{c.name.clone()}</option> }).collect_view()}
                                    </select>
                                    <button type="submit">"Enrich"</button>
                                </ActionForm>
                                {action_error(enrich.value())}
                            </section>
                        })}
                        {if converted {
                            Either::Left(view! {
                                <section class="card notice">
                                    <p>"Converted " {lead.converted_at.map(format_time).unwrap_or_default()} "."</p>
                                    {lead.converted_company_id.map(|c| view! { <p><a href=format!("/companies/{c}")>"Open the company"</a></p> })}
                                    {lead.converted_deal_id.map(|_| view! { <p><a href="/pipeline">"Open the pipeline"</a></p> })}
                                </section>
                            })
                        } else {
                            Either::Right(view! {
                                <section class="card">
                                    <h2>"Edit"</h2>
                                    <ActionForm action=update attr:class="row">
                                        <input type="hidden" name="id" value=lead.id.to_string()/>
                                        <label>"Name"<input name="name" required value=lead.name.clone()/></label>
                                        <label>"Email"<input name="email" type="email" value=lead.email.clone().unwrap_or_default()/></label>
                                        <label>"Phone"<input name="phone" type="tel" value=lead.phone.clone().unwrap_or_default()/></label>
                                        <label>"Company name"<input name="company_name" value=lead.company_name.clone().unwrap_or_default()/></label>
                                        <label>"Title"<input name="title" value=lead.title.clone().unwrap_or_default()/></label>
                                        <label>"Source"
                                            <select name="source">
                                                {LeadSource::ALL.iter().map(|s| view! { <option value=s.as_str() selected={*s == lead.source}>{s.as_str()}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <label>"Owner"
                                            <select name="owner_id">
                                                <option value="">"Unassigned"</option>
                                                {members.iter().map(|m| view! { <option value=m.user_id.to_string() selected={Some(m.user_id) == lead.owner_id}>{m.name.clone()}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <label>"Tags"<input name="tags" placeholder="vip, webinar" value=lead.tags.join(", ")/></label>
                                        <fieldset class="custom-fields" data-testid="custom-field-editor">
                                            <legend>"Custom fields (blank removes)"</legend>
                                            {editable_fields.into_iter().map(|(k, v)| view! {
                                                <label>{k.clone()}<input name=format!("custom[{k}]") value=v/></label>
                                            }).collect_view()}
                                            <label>"New field"<input name="new_field_key" placeholder="plan"/></label>
                                            <label>"Value"<input name="new_field_value" placeholder="enterprise"/></label>
                                        </fieldset>
                                        <label>"Status"
                                            <select name="status">
                                                {LeadStatus::ALL.iter().filter(|s| **s != LeadStatus::Converted).map(|s| view! {
                                                    <option value=s.as_str() selected={*s == lead.status}>{s.as_str()}</option>
                                                }).collect_view()}
                                            </select>
                                        </label>
                                        <label>"Score"<input name="score" type="number" min="0" max="1000" value=lead.score.to_string()/></label>
                                        <button type="submit">"Save"</button>
                                    </ActionForm>
                                    {action_error(update.value())}
                                    <ActionForm action=delete attr:class="inline">
                                        <input type="hidden" name="id" value=lead.id.to_string()/>
                                        <button type="submit" class="danger">"Delete lead"</button>
                                    </ActionForm>
                                    {action_error(delete.value())}
                                </section>
                                <section class="card">
                                    <h2>"Convert"</h2>
                                    <p class="muted">"Creates or links a contact and a company, and optionally opens a deal."</p>
                                    <ActionForm action=convert>
                                        <input type="hidden" name="id" value=lead.id.to_string()/>
                                        <label class="check"><input type="checkbox" name="create_deal" value="on" checked/>"Create a deal"</label>
                                        <label>"Stage"
                                            <select name="stage_id">
                                                {stages.into_iter().filter(|s| s.kind == StageKind::Open).map(|s| view! { <option value=s.id.to_string()>{s.name}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <label>"Amount"<input name="amount" inputmode="decimal" placeholder="9,000.00"/></label>
                                        <label>"Currency"<input name="currency" value="USD" maxlength="3"/></label>
                                        <button type="submit">"Convert lead"</button>
                                    </ActionForm>
                                    {action_error(convert.value())}
                                </section>
                            })
                        }}
                    })
                })}
            </Transition>
            <section class="card">
                <h2>"Log an activity"</h2>
                <ActionForm action=log attr:class="row">
                    <input type="hidden" name="record" value="lead"/>
                    <input type="hidden" name="record_id" prop:value=move || id().map(|i| i.to_string()).unwrap_or_default()/>
                    <label>"Kind"
                        <select name="kind">
                            <option value="call">"Call"</option>
                            <option value="email">"Email"</option>
                            <option value="meeting">"Meeting"</option>
                            <option value="note" selected>"Note"</option>
                        </select>
                    </label>
                    <label>"Subject"<input name="subject_line" required/></label>
                    <label>"Details"<input name="body"/></label>
                    <button type="submit">"Log"</button>
                </ActionForm>
                {action_error(log.value())}
            </section>
            <section class="card">
                <h2>"Timeline"</h2>
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        timeline.await.map(|entries| view! {
                                <ol class="timeline" data-testid="timeline">
                                    {entries.into_iter().map(|e| view! {
                                        <li class=e.entry_type.clone()>
                                            <span class="muted">{format_time(e.at)}</span>" "
                                            <span class="badge">{e.kind.clone()}</span>" "
                                            {e.summary.clone()}
                                        </li>
                                    }).collect_view()}
                                </ol>
                            })
                    })}
                </Transition>
            </section>
        </ErrorBoundary>
    }
}
