//! Pages: company list with search and status filter, new company form,
//! company detail with edit form.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};
use uuid::Uuid;

use super::server_fns::*;
use super::types::*;
use crate::components::{action_error, encode_query_value, format_time, ErrorBox};

fn status_options(selected: Option<CompanyStatus>) -> impl IntoView {
    CompanyStatus::ALL
        .into_iter()
        .map(|s| view! { <option value=s.as_str() selected={Some(s) == selected}>{s.label()}</option> })
        .collect_view()
}

#[component]
pub fn CompaniesPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let query = query.read();
        CompanyFilter {
            q: query.get("q").filter(|q| !q.is_empty()),
            status: query.get("status").and_then(|s| CompanyStatus::parse(&s)),
            owner: query.get("owner").filter(|o| !o.is_empty()),
            cursor: query.get("cursor").filter(|c| !c.is_empty()),
            parent_id: None,
            limit: None,
        }
    };
    let companies = Resource::new(filter, |f: CompanyFilter| list_companies(f.q, f.status, f.owner, f.cursor));
    view! {
        <div class="page-head">
            <h1>"Companies"</h1>
            <a class="button" href="/companies/new">"New company"</a>
        </div>
        <Form method="GET" action="" attr:class="filters">
            <input type="search" name="q" placeholder="Search name or domain" aria-label="Search"
                prop:value=move || query.read().get("q").unwrap_or_default()/>
            <select name="status" aria-label="Status">
                <option value="">"Any status"</option>
                {move || status_options(query.read().get("status").and_then(|s| CompanyStatus::parse(&s)))}
            </select>
            <select name="owner" aria-label="Owner">
                <option value="">"Any owner"</option>
                <option value="me" selected=move || query.read().get("owner").as_deref() == Some("me")>"Mine"</option>
                <option value="unassigned" selected=move || query.read().get("owner").as_deref() == Some("unassigned")>"Unassigned"</option>
            </select>
            <button type="submit">"Filter"</button>
        </Form>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match companies.await {
                    Ok(page) if page.data.is_empty() => Either::Left(Either::Left(view! {
                        <p class="empty">"No companies match. "<a href="/companies/new">"Add a company"</a></p>
                    })),
                    Ok(page) => {
                        let next = page.next_cursor.map(|cursor| {
                            let f = filter();
                            let mut href = format!("/companies?cursor={}", encode_query_value(&cursor));
                            if let Some(q) = f.q { href.push_str(&format!("&q={}", encode_query_value(&q))); }
                            if let Some(s) = f.status { href.push_str(&format!("&status={}", s.as_str())); }
                            if let Some(o) = f.owner { href.push_str(&format!("&owner={}", encode_query_value(&o))); }
                            view! { <a class="button secondary" href=href>"Next page →"</a> }
                        });
                        Either::Left(Either::Right(view! {
                            <table class="grid" data-testid="companies">
                                <thead><tr><th>"Name"</th><th>"Domain"</th><th>"Status"</th><th>"Created"</th></tr></thead>
                                <tbody>
                                    {page.data.into_iter().map(|c| view! {
                                        <tr>
                                            <td><a href=format!("/companies/{}", c.id)>{c.name}</a></td>
                                            <td>{c.domain.unwrap_or_default()}</td>
                                            <td><span class=format!("badge {}", c.status.as_str())>{c.status.label()}</span></td>
                                            <td>{format_time(c.created_at)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <p class="pager">{next}</p>
                        }))
                    }
                    Err(error) => Either::Right(view! { <ErrorBox error/> }),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn NewCompanyPage() -> impl IntoView {
    let create = ServerAction::<CreateCompany>::new();
    view! {
        <section class="card narrow">
            <h1>"New company"</h1>
            <ActionForm action=create>
                <label>"Name"<input name="name" required maxlength="200"/></label>
                <label>"Domain"<input name="domain" placeholder="acme.com"/></label>
                <label>"Website"<input name="website" type="url" placeholder="https://acme.com"/></label>
                <label>"Status"<select name="status">{status_options(Some(CompanyStatus::Prospect))}</select></label>
                <button type="submit">"Create company"</button>
            </ActionForm>
            {action_error(create.value())}
        </section>
    }
}

#[component]
pub fn CompanyPage() -> impl IntoView {
    let params = use_params_map();
    let update = ServerAction::<UpdateCompany>::new();
    let id = move || params.read().get("id").and_then(|id| Uuid::parse_str(&id).ok());
    let company = Resource::new(
        move || (id(), update.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_company(id).await,
                None => Err(ServerFnError::ServerError("company not found".into())),
            }
        },
    );
    let people = Resource::new(id, |id| async move {
        match id {
            Some(id) => crate::crm::server_fns::company_people(id).await,
            None => Ok(Vec::new()),
        }
    });
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let people = people.await.unwrap_or_default();
                match company.await {
                    Ok(c) => Either::Left(view! {
                        <div class="page-head">
                            <h1 data-testid="company-name">{c.name.clone()}</h1>
                            <span class=format!("badge {}", c.status.as_str())>{c.status.label()}</span>
                        </div>
                        <dl class="facts">
                            <dt>"Domain"</dt><dd>{c.domain.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Website"</dt><dd>{c.website.clone().map(|w| Either::Left(view! { <a href=w.clone() rel="noopener noreferrer">{w.clone()}</a> })).unwrap_or_else(|| Either::Right("—"))}</dd>
                            <dt>"Created"</dt><dd>{format_time(c.created_at)}</dd>
                            <dt>"Updated"</dt><dd>{format_time(c.updated_at)}</dd>
                        </dl>
                        <section class="card">
                            <h2>"Edit"</h2>
                            <ActionForm action=update>
                                <input type="hidden" name="id" value=c.id.to_string()/>
                                <label>"Name"<input name="name" required value=c.name.clone()/></label>
                                <label>"Domain"<input name="domain" value=c.domain.clone().unwrap_or_default()/></label>
                                <label>"Website"<input name="website" value=c.website.clone().unwrap_or_default()/></label>
                                <label>"Status"<select name="status">{status_options(Some(c.status))}</select></label>
                                <button type="submit">"Save"</button>
                            </ActionForm>
                            {action_error(update.value())}
                            {move || update.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="notice">"Saved."</p> })}
                        </section>
                        <section class="card">
                            <h2>"People"</h2>
                            {if people.is_empty() {
                                Either::Left(view! { <p class="muted">"No contacts linked yet."</p> })
                            } else {
                                Either::Right(view! {
                                    <table class="grid" data-testid="company-people">
                                        <thead><tr><th>"Name"</th><th>"Role"</th><th>"Since"</th></tr></thead>
                                        <tbody>
                                            {people.into_iter().map(|m| view! {
                                                <tr><td>{m.contact_name}</td><td>{m.role.unwrap_or_default()}</td><td>{format_time(m.created_at)}</td></tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                })
                            }}
                        </section>
                        <p><a href="/companies">"← All companies"</a></p>
                    }),
                    Err(error) => Either::Right(view! { <ErrorBox error/> }),
                }
            })}
        </Transition>
    }
}
