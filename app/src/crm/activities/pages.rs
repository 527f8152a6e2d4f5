//! The task list: open tasks (or all), quick add, mark done.

use leptos::either::Either;
use leptos::prelude::*;

use crate::api_error::ApiError;

use super::types::TaskStatus;
use crate::components::{action_error, format_time, page_errors};
use uuid::Uuid;

use super::server_fns::{list_tasks, CompleteTask, CreateTask};
use super::server_fns::{record_activities, LogRecordActivity};
use crate::platform::server_fns::list_members;

#[component]
pub fn TasksPage() -> impl IntoView {
    let create = ServerAction::<CreateTask>::new();
    let complete = ServerAction::<CompleteTask>::new();
    let show_done = RwSignal::new(false);
    let tasks = Resource::new(
        move || (show_done.get(), create.version().get(), complete.version().get()),
        |(show_done, _, _)| list_tasks(show_done),
    );
    let members = Resource::new(|| (), |_| list_members());
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head"><h1>"Tasks"</h1></div>
            <section class="card">
                <ActionForm action=create attr:class="row">
                    <label>"Task"<input name="title" required/></label>
                    <label>"Due"<input name="due_date" type="date"/></label>
                    <label>"Assignee"
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                let members = members.await.unwrap_or_default();
                                view! {
                                    <select name="assignee_id">
                                        <option value="">"Me"</option>
                                        {members.into_iter().map(|m| view! { <option value=m.user_id.to_string()>{m.name}</option> }).collect_view()}
                                        <option value="unassigned">"Nobody"</option>
                                    </select>
                                }
                            })}
                        </Transition>
                    </label>
                    <button type="submit">"Add task"</button>
                </ActionForm>
                {action_error(create.value())}
            </section>
            <label class="check"><input type="checkbox" on:change=move |ev| show_done.set(event_target_checked(&ev))/>"Show done tasks"</label>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let names: std::collections::HashMap<Uuid, String> =
                        members.await.unwrap_or_default().into_iter().map(|m| (m.user_id, m.name)).collect();
                    Ok::<_, ApiError>(match tasks.await? {
                        page if page.data.is_empty() => Either::Left(view! { <p class="empty">"Nothing to do."</p> }),
                        page => Either::Right(view! {
                            <table class="grid" data-testid="tasks">
                                <thead><tr><th>"Task"</th><th>"Due"</th><th>"Assignee"</th><th>"Status"</th><th></th></tr></thead>
                                <tbody>
                                    {page.data.into_iter().map(|t| view! {
                                        <tr>
                                            <td>{t.title.clone()}</td>
                                            <td>{t.due_at.map(format_time).unwrap_or_default()}</td>
                                            <td>{t.assignee_id.and_then(|id| names.get(&id).cloned()).unwrap_or_else(|| "—".into())}</td>
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
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

/// A record's activities, newest first, with a form to log another.
/// `record` is lead, contact, company or deal.
#[component]
pub fn ActivityPanel(record: &'static str, id: Uuid) -> impl IntoView {
    let log = ServerAction::<LogRecordActivity>::new();
    let activities = Resource::new(move || log.version().get(), move |_| record_activities(record.to_string(), id));
    view! {
        <section class="card" data-testid="activities">
            <h2>"Activity"</h2>
            <ActionForm action=log attr:class="row">
                <input type="hidden" name="record" value=record/>
                <input type="hidden" name="record_id" value=id.to_string()/>
                <label>"Kind"
                    <select name="kind">
                        <option value="call">"Call"</option>
                        <option value="email">"Email"</option>
                        <option value="meeting">"Meeting"</option>
                        <option value="note">"Note"</option>
                    </select>
                </label>
                <label>"Subject"<input name="subject_line" required/></label>
                <label>"Details"<input name="body"/></label>
                <button type="submit">"Log activity"</button>
            </ActionForm>
            {action_error(log.value())}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    Ok::<_, ApiError>(match activities.await? {
                        list if list.is_empty() => Either::Left(view! { <p class="muted">"Nothing logged yet."</p> }),
                        list => Either::Right(view! {
                            <ol class="timeline">
                                {list.into_iter().map(|a| view! {
                                    <li>
                                        <span class="badge">{a.kind.as_str()}</span>" "
                                        <strong>{a.subject}</strong>
                                        {a.body.map(|b| view! { <span class="muted">" — "{b}</span> })}
                                        <time class="muted">" "{format_time(a.occurred_at)}</time>
                                    </li>
                                }).collect_view()}
                            </ol>
                        }),
                    })
                })}
            </Transition>
        </section>
    }
}
