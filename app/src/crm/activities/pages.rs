//! The task list: open tasks (or all), quick add, mark done.

use leptos::either::EitherOf3;
use leptos::prelude::*;

use super::types::TaskStatus;
use crate::components::{action_error, format_time, ErrorBox};
use crate::crm::server_fns::{list_tasks, CompleteTask, CreateTask};

#[component]
pub fn TasksPage() -> impl IntoView {
    let create = ServerAction::<CreateTask>::new();
    let complete = ServerAction::<CompleteTask>::new();
    let show_done = RwSignal::new(false);
    let tasks = Resource::new(
        move || (show_done.get(), create.version().get(), complete.version().get()),
        |(show_done, _, _)| list_tasks(show_done),
    );
    view! {
        <div class="page-head"><h1>"Tasks"</h1></div>
        <section class="card">
            <ActionForm action=create attr:class="row">
                <label>"Task"<input name="title" required/></label>
                <label>"Due"<input name="due_date" type="date"/></label>
                <button type="submit">"Add task"</button>
            </ActionForm>
            {action_error(create.value())}
        </section>
        <label class="check"><input type="checkbox" on:change=move |ev| show_done.set(event_target_checked(&ev))/>"Show done tasks"</label>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tasks.await {
                    Ok(page) if page.data.is_empty() => EitherOf3::A(view! { <p class="empty">"Nothing to do."</p> }),
                    Ok(page) => EitherOf3::B(view! {
                        <table class="grid" data-testid="tasks">
                            <thead><tr><th>"Task"</th><th>"Due"</th><th>"Status"</th><th></th></tr></thead>
                            <tbody>
                                {page.data.into_iter().map(|t| view! {
                                    <tr>
                                        <td>{t.title.clone()}</td>
                                        <td>{t.due_at.map(format_time).unwrap_or_default()}</td>
                                        <td>{t.status.as_str()}</td>
                                        <td>{(t.status == TaskStatus::Open).then(|| view! {
                                            <ActionForm action=complete attr:class="inline">
                                                <input type="hidden" name="id" value=t.id.to_string()/>
                                                <button type="submit" class="secondary">"Done"</button>
                                            </ActionForm>
                                        })}</td>
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
