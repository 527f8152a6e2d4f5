//! Pages: contacts with search and a quick-add form.

use crate::api_error::ApiError;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::server_fns::*;
use crate::components::{action_error, field_error, field_invalid, form_error, format_time, last_error, page_errors, use_record_id};
use crate::crm::companies::server_fns::company_choices;

#[component]
pub fn ContactsPage() -> impl IntoView {
    let query = use_query_map();
    let create = ServerAction::<CreateContact>::new();
    let create_error = last_error(create.value());
    let contacts = Resource::new(
        move || (query.read().get("q").filter(|v| !v.is_empty()), query.read().get("cursor"), create.version().get()),
        |(q, cursor, _)| list_contacts(q, cursor),
    );
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head"><h1>"Contacts"</h1></div>
            <section class="card">
                <h2>"Add a contact"</h2>
                <ActionForm action=create attr:class="row">
                    <label>"Contact name"<input name="name" required aria-invalid=move || field_invalid(create_error, "name")/>{field_error(create_error, "name")}</label>
                    <label>"Email"<input name="email" type="email" aria-invalid=move || field_invalid(create_error, "email")/>{field_error(create_error, "email")}</label>
                    <label>"Phone"<input name="phone" aria-invalid=move || field_invalid(create_error, "phone")/>{field_error(create_error, "phone")}</label>
                    <label>"Title"<input name="title"/></label>
                    <label>"Company"<input name="company_name"/></label>
                    <button type="submit">"Add contact"</button>
                </ActionForm>
                {form_error(create_error, &["name", "email", "phone"])}
            </section>
            <Form method="GET" action="" attr:class="filters">
                <input type="search" name="q" placeholder="Search name, email or company" aria-label="Search"
                    prop:value=move || query.read().get("q").unwrap_or_default()/>
                <button type="submit">"Search"</button>
            </Form>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    Ok::<_, ApiError>(match contacts.await? {
                        page if page.data.is_empty() => Either::Left(view! { <p class="empty">"No contacts match."</p> }),
                        page => Either::Right(view! {
                            <table class="grid" data-testid="contacts">
                                <thead><tr><th>"Name"</th><th>"Email"</th><th>"Title"</th><th>"Company"</th><th>"Created"</th></tr></thead>
                                <tbody>
                                    {page.data.into_iter().map(|c| view! {
                                        <tr>
                                            <td><a href=format!("/contacts/{}", c.id)>{c.name}</a></td>
                                            <td>{c.email.unwrap_or_default()}</td>
                                            <td>{c.title.unwrap_or_default()}</td>
                                            <td>{match c.company_id {
                                                Some(id) => leptos::either::Either::Left(view! { <a href=format!("/companies/{id}")>{c.company_name.unwrap_or_else(|| "company".into())}</a> }),
                                                None => leptos::either::Either::Right(c.company_name.unwrap_or_default()),
                                            }}</td>
                                            <td>{format_time(c.created_at)}</td>
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

/// A contact with the companies they belong to, and their role at each.
#[component]
pub fn ContactPage() -> impl IntoView {
    let id = use_record_id();
    let link = ServerAction::<LinkCompany>::new();
    let set_role = ServerAction::<SetCompanyRole>::new();
    let unlink = ServerAction::<UnlinkCompany>::new();
    let contact = Resource::new(
        move || (id(), link.version().get(), set_role.version().get(), unlink.version().get()),
        |(id, _, _, _)| async move {
            match id {
                Some(id) => get_contact(id).await,
                None => Err(ApiError::new("not_found", "contact not found")),
            }
        },
    );
    let companies = Resource::new(|| (), |_| company_choices());
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let (contact, memberships) = contact.await?;
                    let companies = companies.await.unwrap_or_default();
                    let contact_id = contact.id;
                    Ok::<_, ApiError>(view! {
                        <div class="page-head"><h1 data-testid="contact-name">{contact.name.clone()}</h1></div>
                        <dl class="facts">
                            <dt>"Email"</dt><dd>{contact.email.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Phone"</dt><dd>{contact.phone.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Title"</dt><dd>{contact.title.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt>"Created"</dt><dd>{format_time(contact.created_at)}</dd>
                        </dl>
                        <section class="card">
                            <h2>"Companies"</h2>
                            <table class="grid" data-testid="memberships">
                                <thead><tr><th>"Company"</th><th>"Role"</th><th></th></tr></thead>
                                <tbody>
                                    {memberships.into_iter().map(|m| {
                                        let company_id = m.company_id;
                                        let remove_label = format!("Remove {}", m.company_name);
                                        let role_label = format!("Role at {}", m.company_name);
                                        view! {
                                            <tr>
                                                <td><a href=format!("/companies/{company_id}")>{m.company_name.clone()}</a></td>
                                                <td>
                                                    <ActionForm action=set_role attr:class="inline">
                                                        <input type="hidden" name="contact_id" value=contact_id.to_string()/>
                                                        <input type="hidden" name="company_id" value=company_id.to_string()/>
                                                        <input name="role" aria-label=role_label value=m.role.clone().unwrap_or_default()/>
                                                        <button type="submit" class="secondary">"Save role"</button>
                                                    </ActionForm>
                                                </td>
                                                <td>
                                                    <ActionForm action=unlink attr:class="inline">
                                                        <input type="hidden" name="contact_id" value=contact_id.to_string()/>
                                                        <input type="hidden" name="company_id" value=company_id.to_string()/>
                                                        <button type="submit" class="danger" aria-label=remove_label>"Remove"</button>
                                                    </ActionForm>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <ActionForm action=link attr:class="row">
                                <input type="hidden" name="contact_id" value=contact_id.to_string()/>
                                <label>"Add to company"
                                    <select name="company_id">
                                        {companies.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                                    </select>
                                </label>
                                <label>"As"<input name="role" placeholder="Champion, buyer…"/></label>
                                <button type="submit">"Link company"</button>
                            </ActionForm>
                            {action_error(link.value())}
                            {action_error(set_role.value())}
                            {action_error(unlink.value())}
                        </section>
                        <crate::crm::activities::pages::ActivityPanel record="contact" id=contact_id/>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}
