//! Pages: company list with search and status filter, new company form,
//! company detail with edit form.

use crate::api_error::ApiError;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

use super::server_fns::*;
use super::types::*;
use crate::components::{encode_query_value, field_error, field_invalid, form_error, format_time, last_error, page_errors, use_record_id};

fn status_options(selected: Option<CompanyStatus>) -> impl IntoView {
    CompanyStatus::ALL
        .iter()
        .copied()
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
        <ErrorBoundary fallback=page_errors>
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
                    Ok::<_, ApiError>(match companies.await? {
                        page if page.data.is_empty() => Either::Left(view! {
                            <p class="empty">"No companies match. "<a href="/companies/new">"Add a company"</a></p>
                        }),
                        page => {
                            let next = page.next_cursor.map(|cursor| {
                                let f = filter();
                                let mut href = format!("/companies?cursor={}", encode_query_value(&cursor));
                                if let Some(q) = f.q { href.push_str(&format!("&q={}", encode_query_value(&q))); }
                                if let Some(s) = f.status { href.push_str(&format!("&status={}", s.as_str())); }
                                if let Some(o) = f.owner { href.push_str(&format!("&owner={}", encode_query_value(&o))); }
                                view! { <a class="button secondary" href=href>"Next page →"</a> }
                            });
                            Either::Right(view! {
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
                            })
                        }
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

/// The company form's fields; `company` pre-fills them for editing.
/// Names are `form[...]` because the server functions take a `CompanyForm`.
fn company_fields(
    company: Option<&Company>,
    members: Vec<crate::platform::types::Member>,
    parents: Vec<(Uuid, String)>,
    error: Signal<Option<ApiError>>,
) -> impl IntoView {
    let text = |f: fn(&Company) -> Option<String>| company.and_then(f).unwrap_or_default();
    let id = company.map(|c| c.id);
    let owner_id = company.and_then(|c| c.owner_id);
    let parent_id = company.and_then(|c| c.parent_id);
    let revenue = company
        .and_then(|c| c.annual_revenue_cents)
        .map(|cents| crate::platform::formats::Formats::current().decimal(&format!("{}.{:02}", cents / 100, cents % 100)))
        .unwrap_or_default();
    view! {
        <label>"Name"<input name="form[name]" required maxlength="200" value=company.map(|c| c.name.clone()).unwrap_or_default() aria-invalid=move || field_invalid(error, "name")/>{field_error(error, "name")}</label>
        <div class="row">
            <label>"Domain"<input name="form[domain]" placeholder="acme.com" value=text(|c| c.domain.clone()) aria-invalid=move || field_invalid(error, "domain")/>{field_error(error, "domain")}</label>
            <label>"Website"<input name="form[website]" type="url" placeholder="https://acme.com" value=text(|c| c.website.clone()) aria-invalid=move || field_invalid(error, "website")/>{field_error(error, "website")}</label>
            <label>"Status"<select name="form[status]">{status_options(Some(company.map(|c| c.status).unwrap_or_default()))}</select></label>
        </div>
        <div class="row">
            <label>"Owner"
                <select name="form[owner_id]">
                    {company.is_some().then(|| view! { <option value="">"Unassigned"</option> })}
                    {company.is_none().then(|| view! { <option value="">"Me"</option> })}
                    {members.into_iter().map(|m| view! { <option value=m.user_id.to_string() selected={Some(m.user_id) == owner_id}>{m.name}</option> }).collect_view()}
                </select>
            </label>
            <label>"Parent company"
                <select name="form[parent_id]">
                    <option value="">"None"</option>
                    {parents.into_iter().filter(|(p, _)| Some(*p) != id).map(|(p, name)| view! { <option value=p.to_string() selected={Some(p) == parent_id}>{name}</option> }).collect_view()}
                </select>
            </label>
        </div>
        <div class="row">
            <label>"Industry"<input name="form[industry]" value=text(|c| c.industry.clone())/></label>
            <label>"Employees"<input name="form[employee_count]" type="number" min="0" value=text(|c| c.employee_count.map(|n| n.to_string())) aria-invalid=move || field_invalid(error, "employee_count")/>{field_error(error, "employee_count")}</label>
            <label>"Annual revenue"<input name="form[annual_revenue]" inputmode="decimal" placeholder="1,200,000" value=revenue aria-invalid=move || field_invalid(error, "annual_revenue")/>{field_error(error, "annual_revenue")}</label>
        </div>
        <div class="row">
            <label>"Country"<input name="form[country]" value=text(|c| c.country.clone())/></label>
            <label>"City"<input name="form[city]" value=text(|c| c.city.clone())/></label>
            <label>"Phone"<input name="form[phone]" type="tel" value=text(|c| c.phone.clone()) aria-invalid=move || field_invalid(error, "phone")/>{field_error(error, "phone")}</label>
        </div>
        <label>"Description"<textarea name="form[description]" rows="3">{text(|c| c.description.clone())}</textarea></label>
    }
}

/// Members and companies for the form's pickers.
async fn company_form_choices() -> Result<(Vec<crate::platform::types::Member>, Vec<(Uuid, String)>), ApiError> {
    Ok((crate::platform::server_fns::list_members().await?, crate::crm::companies::server_fns::company_choices().await?))
}

#[component]
pub fn NewCompanyPage() -> impl IntoView {
    let create = ServerAction::<CreateCompany>::new();
    let create_error = last_error(create.value());
    let choices = Resource::new(|| (), |_| company_form_choices());
    view! {
        <ErrorBoundary fallback=page_errors>
            <section class="card narrow">
                <h1>"New company"</h1>
                <Transition fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let (members, parents) = choices.await.unwrap_or_default();
                        view! {
                            <ActionForm action=create>
                                {company_fields(None, members, parents, create_error)}
                                <button type="submit">"Create company"</button>
                            </ActionForm>
                        }
                    })}
                </Transition>
                {form_error(create_error, &["name", "domain", "website", "employee_count", "annual_revenue", "phone"])}
            </section>
        </ErrorBoundary>
    }
}

#[component]
pub fn CompanyPage() -> impl IntoView {
    let id = use_record_id();
    let update = ServerAction::<UpdateCompany>::new();
    let update_error = last_error(update.value());
    let company = Resource::new(
        move || (id(), update.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_company(id).await,
                None => Err(ApiError::new("not_found", "company not found")),
            }
        },
    );
    let related = Resource::new(id, |id| async move {
        match id {
            Some(id) => Ok((crate::crm::contacts::server_fns::company_people(id).await?, subsidiaries(id).await?)),
            None => Ok::<_, ApiError>((Vec::new(), Vec::new())),
        }
    });
    let choices = Resource::new(|| (), |_| company_form_choices());
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let (people, subsidiaries) = related.await.unwrap_or_default();
                    let (members, parents) = choices.await.unwrap_or_default();
                    company.await.map(|c| {
                            let parent = c.parent_id.map(|p| (p, parents.iter().find(|(id, _)| *id == p).map(|(_, n)| n.clone()).unwrap_or_else(|| "Parent company".into())));
                            let owner = c.owner_id.and_then(|o| members.iter().find(|m| m.user_id == o).map(|m| m.name.clone())).unwrap_or_else(|| "Unassigned".into());
                            let or_dash = |v: Option<String>| v.unwrap_or_else(|| "—".into());
                            let company_id = c.id;
                            let fields = company_fields(Some(&c), members, parents, update_error);
                            view! {
                            <div class="page-head">
                                <h1 data-testid="company-name">{c.name.clone()}</h1>
                                <span class=format!("badge {}", c.status.as_str())>{c.status.label()}</span>
                            </div>
                            <dl class="facts" data-testid="company-facts">
                                <dt>"Domain"</dt><dd>{or_dash(c.domain.clone())}</dd>
                                <dt>"Website"</dt><dd>{c.website.clone().map(|w| Either::Left(view! { <a href=w.clone() rel="noopener noreferrer">{w.clone()}</a> })).unwrap_or_else(|| Either::Right("—"))}</dd>
                                <dt>"Owner"</dt><dd>{owner}</dd>
                                <dt>"Parent"</dt><dd>{parent.map(|(p, name)| Either::Left(view! { <a href=format!("/companies/{p}")>{name}</a> })).unwrap_or_else(|| Either::Right("—"))}</dd>
                                <dt>"Industry"</dt><dd>{or_dash(c.industry.clone())}</dd>
                                <dt>"Employees"</dt><dd>{or_dash(c.employee_count.map(|n| n.to_string()))}</dd>
                                <dt>"Annual revenue"</dt><dd>{or_dash(c.annual_revenue_cents.map(|cents| crate::crm::deals::types::format_money(cents, "")))}</dd>
                                <dt>"Location"</dt><dd>{or_dash(match (c.city.clone(), c.country.clone()) {
                                    (Some(city), Some(country)) => Some(format!("{city}, {country}")),
                                    (city, country) => city.or(country),
                                })}</dd>
                                <dt>"Phone"</dt><dd>{or_dash(c.phone.clone())}</dd>
                                <dt>"Created"</dt><dd>{format_time(c.created_at)}</dd>
                            </dl>
                            {c.description.clone().map(|d| view! { <p class="description">{d}</p> })}
                            {(!subsidiaries.is_empty()).then(|| view! {
                                <section class="card">
                                    <h2>"Subsidiaries"</h2>
                                    <ul data-testid="subsidiaries">
                                        {subsidiaries.into_iter().map(|s| view! { <li><a href=format!("/companies/{}", s.id)>{s.name}</a></li> }).collect_view()}
                                    </ul>
                                </section>
                            })}
                            <details class="card">
                                <summary>"Edit company"</summary>
                                <ActionForm action=update>
                                    <input type="hidden" name="id" value=c.id.to_string()/>
                                    {fields}
                                    <button type="submit">"Save"</button>
                                </ActionForm>
                                {form_error(update_error, &["name", "domain", "website", "employee_count", "annual_revenue", "phone"])}
                                {move || update.value().get().and_then(|r| r.ok()).map(|_| view! { <p class="notice">"Saved."</p> })}
                            </details>
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
                                                    <tr><td><a href=format!("/contacts/{}", m.contact_id)>{m.contact_name}</a></td><td>{m.role.unwrap_or_default()}</td><td>{format_time(m.created_at)}</td></tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    })
                                }}
                            </section>
                            <crate::crm::activities::pages::ActivityPanel record="company" id=company_id/>
                            <p><a href="/companies">"← All companies"</a></p>
                        }})
                })}
            </Transition>
        </ErrorBoundary>
    }
}
