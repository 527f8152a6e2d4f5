//! Pages: contacts with search and a quick-add form.

use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::components::{action_error, format_time, ErrorBox};
use crate::crm::server_fns::*;

#[component]
pub fn ContactsPage() -> impl IntoView {
    let query = use_query_map();
    let create = ServerAction::<CreateContact>::new();
    let contacts = Resource::new(
        move || (query.read().get("q").filter(|v| !v.is_empty()), query.read().get("cursor"), create.version().get()),
        |(q, cursor, _)| list_contacts(q, cursor),
    );
    view! {
        <div class="page-head"><h1>"Contacts"</h1></div>
        <section class="card">
            <h2>"Add a contact"</h2>
            <ActionForm action=create attr:class="row">
                <label>"Contact name"<input name="name" required/></label>
                <label>"Email"<input name="email" type="email"/></label>
                <label>"Phone"<input name="phone"/></label>
                <label>"Title"<input name="title"/></label>
                <label>"Company"<input name="company_name"/></label>
                <button type="submit">"Add contact"</button>
            </ActionForm>
            {action_error(create.value())}
        </section>
        <Form method="GET" action="" attr:class="filters">
            <input type="search" name="q" placeholder="Search name, email or company" aria-label="Search"
                prop:value=move || query.read().get("q").unwrap_or_default()/>
            <button type="submit">"Search"</button>
        </Form>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match contacts.await {
                    Ok(page) if page.data.is_empty() => EitherOf3::A(view! { <p class="empty">"No contacts match."</p> }),
                    Ok(page) => EitherOf3::B(view! {
                        <table class="grid" data-testid="contacts">
                            <thead><tr><th>"Name"</th><th>"Email"</th><th>"Title"</th><th>"Company"</th><th>"Created"</th></tr></thead>
                            <tbody>
                                {page.data.into_iter().map(|c| view! {
                                    <tr>
                                        <td>{c.name}</td>
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
                    Err(error) => EitherOf3::C(view! { <ErrorBox error/> }),
                }
            })}
        </Transition>
    }
}
