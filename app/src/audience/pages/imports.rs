//! Imports: upload, column mapping and progress.

use crate::api_error::ApiError;
use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::audience::server_fns::*;
use crate::audience::types::*;
use crate::components::{action_error, format_time, page_errors, use_record_id};

#[component]
pub fn ImportsPage() -> impl IntoView {
    let query = use_query_map();
    let imports = Resource::new(|| (), |_| import_list());
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head"><h1>"Imports"</h1></div>
            {move || query.read().get("error").map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <form class="card" method="post" action="/api/v1/imports/upload-form" enctype="multipart/form-data">
                <div class="row">
                    <label>"Import"
                        <select name="entity">
                            <option value="lead">"Leads"</option>
                            <option value="contact">"Contacts"</option>
                            <option value="company">"Companies"</option>
                        </select>
                    </label>
                    <label>"When the email (or domain) exists"
                        <select name="dedup">
                            <option value="skip">"Skip the row"</option>
                            <option value="update">"Update the record"</option>
                            <option value="create">"Create another record"</option>
                        </select>
                    </label>
                    <label>"File (CSV or JSON)"<input type="file" name="file" accept=".csv,.json,.ndjson,.jsonl,text/csv,application/json" required/></label>
                </div>
                <button type="submit">"Upload"</button>
            </form>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    Ok::<_, ApiError>(match imports.await? {
                        list if list.is_empty() => Either::Left(view! { <p class="empty">"No imports yet."</p> }),
                        list => Either::Right(view! {
                            <table class="grid">
                                <thead><tr><th>"File"</th><th>"Records"</th><th>"Status"</th><th>"Progress"</th><th>"Started"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|i| view! {
                                        <tr>
                                            <td><a href=format!("/imports/{}", i.id)>{i.file_name.clone().unwrap_or_else(|| "upload".into())}</a></td>
                                            <td>{i.entity.as_str()}</td>
                                            <td>{i.status.as_str()}</td>
                                            <td><progress max="100" value=i.percent()></progress></td>
                                            <td>{format_time(i.created_at)}</td>
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

#[component]
pub fn ImportPage() -> impl IntoView {
    let id = use_record_id();
    let tick = RwSignal::new(0u32);
    let start = ServerAction::<BeginImport>::new();
    let cancel = ServerAction::<CancelImport>::new();
    let data = Resource::new(
        move || (id(), tick.get(), start.version().get(), cancel.version().get()),
        |(id, ..)| async move {
            match id {
                Some(id) => import_view(id).await,
                None => Err(ApiError::new("not_found", "import not found")),
            }
        },
    );
    // Progress polls once a second while the job runs (in the browser only).
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || {
                let running = data
                    .get_untracked()
                    .and_then(|r| r.ok())
                    .is_some_and(|(i, _)| matches!(i.status, ImportStatus::Queued | ImportStatus::Running));
                if running {
                    tick.update(|t| *t += 1);
                }
            },
            std::time::Duration::from_millis(1000),
        );
        on_cleanup(move || {
            if let Ok(h) = handle {
                h.clear();
            }
        });
    });
    let lists = Resource::new(|| (), |_| audience_lists());
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let (import, errors) = data.await?;
                    let targets: Vec<&'static str> = import_targets(import.entity).to_vec();
                    let mapping_step = import.status == ImportStatus::Mapping;
                    let running = matches!(import.status, ImportStatus::Queued | ImportStatus::Running | ImportStatus::Mapping);
                    let id = import.id;
                    Ok::<_, ApiError>(view! {
                        <div class="page-head">
                            <h1>{format!("Import of {}s", import.entity.as_str())}</h1>
                            <span class="badge" data-testid="import-status">{import.status.as_str()}</span>
                        </div>
                        <p class="muted">{import.file_name.clone().unwrap_or_default()}{format!(" · {} bytes", import.bytes_total)}</p>
                        {mapping_step.then(|| {
                            let columns = import.columns.clone();
                            let mapping = import.mapping.clone();
                            let dedup = import.dedup;
                            view! {
                                <ActionForm action=start attr:class="card">
                                    <input type="hidden" name="id" value=id.to_string()/>
                                    <h2>"Map the columns"</h2>
                                    <table class="grid" data-testid="mapping">
                                        <thead><tr><th>"Column in the file"</th><th>"Goes to"</th></tr></thead>
                                        <tbody>
                                            {columns.into_iter().enumerate().map(|(i, column)| {
                                                let current = mapping.get(&column).cloned().unwrap_or_default();
                                                let custom = if current.starts_with("cf.") { current.clone() } else { format!("cf.{}", column.to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>()) };
                                                let targets = targets.clone();
                                                view! {
                                                    <tr>
                                                        <td>{column.clone()}</td>
                                                        <td>
                                                            <select name=format!("targets[{i}]") aria-label=format!("Map {column}")>
                                                                <option value="" selected=current.is_empty()>"Don't import"</option>
                                                                {targets.into_iter().map(|t| view! { <option value=t selected=current == t>{t}</option> }).collect_view()}
                                                                <option value=custom.clone() selected=current == custom>{format!("custom field {}", custom.trim_start_matches("cf."))}</option>
                                                            </select>
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                    <div class="row">
                                        <label>"When the email (or domain) exists"
                                            <select name="dedup">
                                                {DedupMode::ALL.iter().map(|d| view! { <option value=d.as_str() selected=*d == dedup>{d.as_str()}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <label>"Add everyone to a list"
                                            <Transition fallback=|| ()>
                                                {move || Suspend::new(async move {
                                                    let lists: Vec<List> = lists.await.unwrap_or_default().into_iter().filter(|l| l.kind == ListKind::Static).collect();
                                                    view! {
                                                        <select name="list_id">
                                                            <option value="">"No list"</option>
                                                            {lists.into_iter().map(|l| view! { <option value=l.id.to_string()>{l.name}</option> }).collect_view()}
                                                        </select>
                                                    }
                                                })}
                                            </Transition>
                                        </label>
                                    </div>
                                    <button type="submit">"Start import"</button>
                                </ActionForm>
                            }
                        })}
                        {action_error(start.value())}
                        {(!mapping_step).then(|| view! {
                            <div class="card">
                                <progress max="100" value=import.percent() data-testid="import-progress"></progress>
                                <span>{format!(" {}%", import.percent())}</span>
                                <dl class="facts" data-testid="import-counts">
                                    <dt>"Rows read"</dt><dd>{import.rows_done}</dd>
                                    <dt>"Created"</dt><dd data-testid="rows-created">{import.rows_created}</dd>
                                    <dt>"Updated"</dt><dd>{import.rows_updated}</dd>
                                    <dt>"Skipped (duplicates)"</dt><dd>{import.rows_skipped}</dd>
                                    <dt>"Failed"</dt><dd data-testid="rows-failed">{import.rows_failed}</dd>
                                </dl>
                                {import.error.clone().map(|e| view! { <p class="error">{e}</p> })}
                            </div>
                        })}
                        {running.then(|| view! {
                            <ActionForm action=cancel attr:class="inline">
                                <input type="hidden" name="id" value=id.to_string()/>
                                <button type="submit" class="secondary">"Cancel import"</button>
                            </ActionForm>
                        })}
                        {(!errors.is_empty()).then(|| view! {
                            <h2>"Rows that were not imported"</h2>
                            <table class="grid" data-testid="import-errors">
                                <thead><tr><th>"Line"</th><th>"Reason"</th></tr></thead>
                                <tbody>
                                    {errors.into_iter().map(|e| view! { <tr><td>{e.line}</td><td>{e.reason}</td></tr> }).collect_view()}
                                </tbody>
                            </table>
                        })}
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}
