//! Flow pages: the workflows, the template gallery, the editor (the graph
//! drawn as SVG by the server, a side panel to add, edit, connect and
//! remove steps, triggers, runs), the runs list and a run's live trace.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::server_fns::*;
use super::types::Action as StepAction;
use super::types::*;
use crate::api_error::ApiError;
use crate::components::{action_error, format_time, page_errors, use_record_id};

fn run_badge(status: RunStatus) -> impl IntoView {
    view! { <span class=format!("badge run-{}", status.as_str()) data-testid="run-status">{status.as_str()}</span> }
}

#[component]
pub fn FlowsPage() -> impl IntoView {
    let create = ServerAction::<CreateBlankWorkflow>::new();
    let data = Resource::new(|| (), |_| flows_overview());
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head">
                <h1>"Flows"</h1>
                <nav class="actions">
                    <a href="/flows/templates">"Template gallery"</a>
                    <a href="/flows/runs">"Runs"</a>
                </nav>
            </div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let FlowsHome { workflows, triggers, .. } = data.await?;
                    let trigger_text = move |id: uuid::Uuid| {
                        let names: Vec<String> = triggers.iter().filter(|t| t.workflow_id == id).map(|t| t.event.clone()).collect();
                        if names.is_empty() { "manual".to_string() } else { names.join(", ") }
                    };
                    Ok::<_, ApiError>(view! {
                        {if workflows.is_empty() {
                            Either::Left(view! { <p class="empty">"No workflows yet: start from a template, or from a blank one."</p> })
                        } else {
                            Either::Right(view! {
                                <table class="grid" data-testid="workflows">
                                    <thead><tr><th>"Workflow"</th><th>"Status"</th><th>"Triggers"</th><th class="num">"Published"</th><th class="num">"Newest"</th><th>"Changed"</th></tr></thead>
                                    <tbody>
                                        {workflows.into_iter().map(|w| view! {
                                            <tr>
                                                <td><a href=format!("/flows/{}", w.id)>{w.name.clone()}</a></td>
                                                <td>{w.status.as_str()}</td>
                                                <td>{trigger_text(w.id)}</td>
                                                <td class="num">{w.published_version.map(|v| format!("v{v}")).unwrap_or_else(|| "–".into())}</td>
                                                <td class="num">{format!("v{}", w.latest_version)}</td>
                                                <td>{format_time(w.updated_at)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            })
                        }}
                    })
                })}
            </Transition>
            <details class="card">
                <summary>"New blank workflow"</summary>
                <ActionForm action=create>
                    <label>"Name"<input name="name" required placeholder="Route new leads"/></label>
                    <button type="submit">"Create and edit"</button>
                </ActionForm>
                {action_error(create.value())}
            </details>
        </ErrorBoundary>
    }
}

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let create = ServerAction::<CreateWorkflowFromTemplateForm>::new();
    let data = Resource::new(|| (), |_| flows_overview());
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head">
                <h1>"Template gallery"</h1>
                <nav class="actions"><a href="/flows">"Workflows"</a></nav>
            </div>
            {action_error(create.value())}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let templates = data.await?.templates;
                    Ok::<_, ApiError>(view! {
                        <div class="gallery">
                            {templates.into_iter().map(|t| {
                                let properties = t.inputs_schema["properties"].as_object().cloned().unwrap_or_default();
                                let required: Vec<String> = t.inputs_schema["required"].as_array().into_iter().flatten()
                                    .filter_map(|v| v.as_str().map(str::to_string)).collect();
                                let (slug, testid, placeholder) = (t.slug.clone(), format!("template-{}", t.slug), t.name.clone());
                                view! {
                                    <section class="card template" data-testid=testid>
                                        <h2>{t.name.clone()}</h2>
                                        <p>{t.description.clone()}</p>
                                        <p class="muted">{format!("Starts on {} · steps: {}", t.trigger, t.steps.join(" → "))}</p>
                                        <ActionForm action=create>
                                            <input type="hidden" name="form[template_slug]" value=slug/>
                                            <label>"Name"<input name="form[name]" placeholder=placeholder/></label>
                                            {properties.into_iter().map(|(name, p)| {
                                                let about = p["description"].as_str().unwrap_or_default().to_string();
                                                let kind = if p["type"] == "integer" { "number" } else { "text" };
                                                let needed = required.contains(&name);
                                                view! {
                                                    <label>{about}<input name=format!("form[inputs][{name}]") type=kind required=needed/></label>
                                                }
                                            }).collect_view()}
                                            <button type="submit">"Use this template"</button>
                                        </ActionForm>
                                    </section>
                                }
                            }).collect_view()}
                        </div>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

/// The graph as SVG: a box per step, an arrow per edge, branch labels on
/// their arrows.
#[component]
fn GraphDrawing(layout: GraphLayout, entry: String) -> impl IntoView {
    let GraphLayout { width, height, nodes, edges } = layout;
    view! {
        <svg class="flow-graph" role="img" aria-label="The workflow's steps" width=width height=height viewBox=format!("0 0 {width} {height}")>
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" fill="#64748b"></path>
                </marker>
            </defs>
            {edges.into_iter().map(|e| {
                let (x1, y1, x2, y2) = e.points;
                let mid = (y1 + y2) / 2;
                let label = e.label.clone();
                view! {
                    <g class="edge" data-from=e.from.clone() data-to=e.to.clone()>
                        <path d=format!("M {x1} {y1} C {x1} {mid}, {x2} {mid}, {x2} {y2}") fill="none" stroke="#64748b" stroke-width="1.5" marker-end="url(#arrow)"></path>
                        {label.map(|l| view! { <text x=(x1 + x2) / 2 y=mid - 4 text-anchor="middle" class="edge-label">{l}</text> })}
                    </g>
                }
            }).collect_view()}
            {nodes.into_iter().map(|n| {
                let is_entry = n.step_id == entry;
                view! {
                    <g class="node" data-testid=format!("node-{}", n.step_id) transform=format!("translate({},{})", n.x, n.y)>
                        <rect width=NODE_WIDTH height=NODE_HEIGHT rx="8" class=if is_entry { "node-box entry" } else { "node-box" }></rect>
                        <text x=NODE_WIDTH / 2 y="22" text-anchor="middle" class="node-label">{n.label.clone()}</text>
                        <text x=NODE_WIDTH / 2 y="40" text-anchor="middle" class="node-kind">{n.kind.clone()}</text>
                    </g>
                }
            }).collect_view()}
        </svg>
    }
}

#[component]
pub fn WorkflowPage() -> impl IntoView {
    let id = use_record_id();
    let add = ServerAction::<FlowAddStep>::new();
    let save = ServerAction::<FlowSaveStep>::new();
    let remove = ServerAction::<FlowRemoveStep>::new();
    let publish = ServerAction::<FlowPublish>::new();
    let run = ServerAction::<FlowRunNow>::new();
    let trigger = ServerAction::<FlowAddTrigger>::new();
    let change_trigger = ServerAction::<FlowChangeTrigger>::new();
    let changes = move || {
        add.version().get()
            + save.version().get()
            + remove.version().get()
            + publish.version().get()
            + trigger.version().get()
            + change_trigger.version().get()
    };
    let data = Resource::new(
        move || (id(), changes()),
        |(id, _)| async move {
            match id {
                Some(id) => workflow_editor(id).await,
                None => Err(ApiError::not_found("workflow")),
            }
        },
    );
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let EditorView { detail, layout, runs, events, segments } = data.await?;
                    let w = detail.workflow.clone();
                    let wid = w.id;
                    let step_ids: Vec<String> = detail.graph.steps.iter().map(|s| s.id.clone()).collect();
                    let draft_pending = w.published_version != Some(w.latest_version);
                    Ok::<_, ApiError>(view! {
                        <div class="page-head">
                            <h1>{w.name.clone()}</h1>
                            <span class="badge" data-testid="versions">
                                {format!("newest v{} · published {}", w.latest_version, w.published_version.map(|v| format!("v{v}")).unwrap_or_else(|| "none".into()))}
                            </span>
                            <nav class="actions"><a href="/flows">"Workflows"</a><a href=format!("/flows/runs?workflow_id={}", w.id)>"Runs"</a></nav>
                        </div>
                        {w.description.clone().map(|d| view! { <p class="muted">{d}</p> })}
                        <div class="editor">
                            <div class="canvas">
                                <GraphDrawing layout=layout entry=detail.graph.entry.clone()/>
                                {draft_pending.then(|| view! {
                                    <ActionForm action=publish>
                                        <input type="hidden" name="workflow_id" value=wid.to_string()/>
                                        <button type="submit">{format!("Publish v{}", w.latest_version)}</button>
                                    </ActionForm>
                                })}
                                {action_error(publish.value())}
                                <h2>"Run now"</h2>
                                <ActionForm action=run>
                                    <input type="hidden" name="workflow_id" value=wid.to_string()/>
                                    <label>"Payload (JSON)"<textarea name="payload" rows="3" placeholder="{\"lead_id\": \"…\"}"></textarea></label>
                                    <button type="submit">"Start a run"</button>
                                </ActionForm>
                                {action_error(run.value())}
                                <h2>"Recent runs"</h2>
                                {if runs.is_empty() {
                                    Either::Left(view! { <p class="empty">"No runs yet."</p> })
                                } else {
                                    Either::Right(view! {
                                        <table class="grid">
                                            <thead><tr><th>"Run"</th><th>"Status"</th><th>"Trigger"</th><th>"Version"</th><th>"Started"</th></tr></thead>
                                            <tbody>
                                                {runs.into_iter().map(|r| view! {
                                                    <tr>
                                                        <td><a href=format!("/flows/runs/{}", r.id)>{r.id.to_string()[..8].to_string()}</a></td>
                                                        <td>{run_badge(r.status)}</td>
                                                        <td>{r.trigger_type.clone()}</td>
                                                        <td>{format!("v{}", r.version)}</td>
                                                        <td>{format_time(r.created_at)}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    })
                                }}
                            </div>
                            <aside class="side-panel" aria-label="Steps">
                                <h2>"Steps"</h2>
                                {action_error(save.value())}
                                {action_error(remove.value())}
                                {detail.graph.steps.clone().into_iter().map(|step| {
                                    let action = serde_json::to_string_pretty(&step.action).unwrap_or_default();
                                    let is_branch = matches!(step.action, StepAction::Branch { .. });
                                    let others: Vec<String> = step_ids.iter().filter(|s| **s != step.id).cloned().collect();
                                    let next = step.next.clone();
                                    let (wid_save, wid_remove) = (wid.to_string(), wid.to_string());
                                    let (sid_save, sid_remove) = (step.id.clone(), step.id.clone());
                                    let testid = format!("step-{}", step.id);
                                    let summary = format!("{} · {}", step.name.clone().unwrap_or_else(|| step.id.clone()), step.action.kind());
                                    let name = step.name.clone().unwrap_or_default();
                                    view! {
                                        <details class="card step-editor" data-testid=testid>
                                            <summary>{summary}</summary>
                                            <ActionForm action=save>
                                                <input type="hidden" name="workflow_id" value=wid_save/>
                                                <input type="hidden" name="step_id" value=sid_save/>
                                                <label>"Name"<input name="name" value=name/></label>
                                                <label>"Action (JSON; text may hold {{input.…}} and {{steps.ID.output.…}})"
                                                    <textarea name="action" rows="8">{action}</textarea>
                                                </label>
                                                {(!is_branch).then(|| view! {
                                                    <label>"Then"
                                                        <select name="next">
                                                            <option value="">"End the run"</option>
                                                            {others.into_iter().map(|o| {
                                                                let selected = next.as_deref() == Some(o.as_str());
                                                                view! { <option value=o.clone() selected=selected>{o.clone()}</option> }
                                                            }).collect_view()}
                                                        </select>
                                                    </label>
                                                })}
                                                <button type="submit">"Save step"</button>
                                            </ActionForm>
                                            <ActionForm action=remove>
                                                <input type="hidden" name="workflow_id" value=wid_remove/>
                                                <input type="hidden" name="step_id" value=sid_remove/>
                                                <button type="submit" class="secondary">"Remove step"</button>
                                            </ActionForm>
                                        </details>
                                    }
                                }).collect_view()}
                                <details class="card">
                                    <summary>"Add a step"</summary>
                                    <ActionForm action=add>
                                        <input type="hidden" name="workflow_id" value=wid.to_string()/>
                                        <label>"Step id"<input name="step_id" required pattern="[A-Za-z0-9_-]+" placeholder="notify"/></label>
                                        <label>"Kind"
                                            <select name="kind">
                                                {STEP_KINDS.iter().map(|k| view! { <option value=*k>{*k}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <label>"After"
                                            <select name="after">
                                                <option value="">"At the start"</option>
                                                {step_ids.iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <button type="submit">"Add step"</button>
                                    </ActionForm>
                                    {action_error(add.value())}
                                </details>
                                <h2>"Triggers"</h2>
                                {detail.triggers.clone().into_iter().map(|t| {
                                    let filters = serde_json::to_string(&t.filters).unwrap_or_default();
                                    let toggle = if t.active { "off" } else { "on" };
                                    let (id_toggle, id_delete) = (t.id.to_string(), t.id.to_string());
                                    view! {
                                        <div class="card trigger" data-testid="trigger">
                                            <p>
                                                <strong>{t.event.clone()}</strong>
                                                {(filters != "{}").then(|| format!(" {filters}"))}
                                                {(!t.active).then_some(" (off)")}
                                            </p>
                                            {t.webhook_path.clone().map(|p| view! { <p class="muted"><code>{format!("POST {p}")}</code></p> })}
                                            <ActionForm action=change_trigger attr:class="inline">
                                                <input type="hidden" name="id" value=id_toggle/>
                                                <input type="hidden" name="action" value=toggle/>
                                                <button type="submit" class="link">{format!("Turn {toggle}")}</button>
                                            </ActionForm>
                                            <ActionForm action=change_trigger attr:class="inline">
                                                <input type="hidden" name="id" value=id_delete/>
                                                <input type="hidden" name="action" value="delete"/>
                                                <button type="submit" class="link">"Remove"</button>
                                            </ActionForm>
                                        </div>
                                    }
                                }).collect_view()}
                                <details class="card">
                                    <summary>"Add a trigger"</summary>
                                    <ActionForm action=trigger>
                                        <input type="hidden" name="form[workflow_id]" value=wid.to_string()/>
                                        <label>"Kind"
                                            <select name="form[kind]">
                                                <option value="event">"An event"</option>
                                                <option value="webhook">"A signed webhook"</option>
                                            </select>
                                        </label>
                                        <label>"Event"
                                            <select name="form[event]">
                                                {events.into_iter().map(|e| view! { <option value=e.clone()>{e.clone()}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <label>"Segment (segment events)"
                                            <select name="form[segment_id]">
                                                <option value="">"Any"</option>
                                                {segments.into_iter().map(|(id, name)| view! { <option value=id.to_string()>{name}</option> }).collect_view()}
                                            </select>
                                        </label>
                                        <label>"Score threshold (lead.score_crossed)"<input name="form[threshold]" type="number"/></label>
                                        <button type="submit">"Add trigger"</button>
                                    </ActionForm>
                                    {action_error(trigger.value())}
                                </details>
                            </aside>
                        </div>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

#[component]
pub fn RunsPage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        let q = query.read();
        RunsQuery {
            workflow_id: q.get("workflow_id"),
            status: q.get("status"),
            trigger_type: q.get("trigger_type"),
            from: q.get("from"),
            to: q.get("to"),
            cursor: q.get("cursor"),
        }
    };
    let data = Resource::new(filters, flow_runs);
    let chosen = move |key: &'static str, value: &str| query.read().get(key).as_deref() == Some(value);
    view! {
        <ErrorBoundary fallback=page_errors>
            <div class="page-head">
                <h1>"Runs"</h1>
                <nav class="actions"><a href="/flows">"Workflows"</a></nav>
            </div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let (page, workflows) = data.await?;
                    let name_of = {
                        let workflows = workflows.clone();
                        move |id: uuid::Uuid| workflows.iter().find(|w| w.id == id).map(|w| w.name.clone()).unwrap_or_default()
                    };
                    let next = page.next_cursor.clone().map(|cursor| {
                        let mut q = query.read().clone();
                        q.replace("cursor", cursor);
                        format!("/flows/runs{}", q.to_query_string())
                    });
                    Ok::<_, ApiError>(view! {
                        <Form method="GET" action="" attr:class="filters">
                            <select name="workflow_id" aria-label="Filter by workflow">
                                <option value="">"Any workflow"</option>
                                {workflows.into_iter().map(|w| {
                                    let id = w.id.to_string();
                                    view! { <option value=id.clone() selected=move || chosen("workflow_id", &id)>{w.name}</option> }
                                }).collect_view()}
                            </select>
                            <select name="status" aria-label="Filter by status">
                                <option value="">"Any status"</option>
                                {RunStatus::ALL.iter().map(|s| view! {
                                    <option value=s.as_str() selected=move || chosen("status", s.as_str())>{s.as_str()}</option>
                                }).collect_view()}
                            </select>
                            <input name="trigger_type" placeholder="Trigger (manual, lead.created…)" aria-label="Filter by trigger"
                                value=move || query.read().get("trigger_type").unwrap_or_default()/>
                            <label>"From"<input type="date" name="from" value=move || query.read().get("from").unwrap_or_default()/></label>
                            <label>"to"<input type="date" name="to" value=move || query.read().get("to").unwrap_or_default()/></label>
                            <button type="submit">"Filter"</button>
                        </Form>
                        {if page.data.is_empty() {
                            Either::Left(view! { <p class="empty">"No runs match."</p> })
                        } else {
                            Either::Right(view! {
                                <table class="grid" data-testid="runs">
                                    <thead><tr><th>"Run"</th><th>"Workflow"</th><th>"Status"</th><th>"Trigger"</th><th>"Step"</th><th>"Created"</th></tr></thead>
                                    <tbody>
                                        {page.data.into_iter().map(|r| view! {
                                            <tr>
                                                <td><a href=format!("/flows/runs/{}", r.id)>{r.id.to_string()[..8].to_string()}</a></td>
                                                <td>{name_of(r.workflow_id)}</td>
                                                <td>{run_badge(r.status)}</td>
                                                <td>{r.trigger_type.clone()}</td>
                                                <td>{r.current_step.clone().unwrap_or_default()}</td>
                                                <td>{format_time(r.created_at)}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            })
                        }}
                        {next.map(|href| view! { <p class="pager"><a class="button secondary" href=href>"Next page →"</a></p> })}
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}

/// Refetches the run whenever the server's event stream says it changed
/// (in the browser; the stream ends when the run does).
fn follow_run(id: impl Fn() -> Option<uuid::Uuid> + Copy + Send + Sync + 'static, tick: RwSignal<u32>) {
    Effect::new(move |_| {
        let Some(_id) = id() else { return };
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::closure::Closure;
            use wasm_bindgen::JsCast;
            if let Ok(source) = web_sys::EventSource::new(&format!("/api/v1/flows/runs/{_id}/stream")) {
                let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| {
                    tick.update(|t| *t += 1);
                });
                source.add_event_listener_with_callback("run", on_message.as_ref().unchecked_ref()).ok();
                on_message.forget();
                let done = source.clone();
                let on_end = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| done.close());
                source.add_event_listener_with_callback("end", on_end.as_ref().unchecked_ref()).ok();
                on_end.forget();
                let source = StoredValue::new_local(source);
                on_cleanup(move || source.with_value(|s| s.close()));
            }
        }
        let _ = tick;
    });
}

#[component]
pub fn RunPage() -> impl IntoView {
    let id = use_record_id();
    let tick = RwSignal::new(0u32);
    let control = ServerAction::<FlowRunControl>::new();
    let data = Resource::new(
        move || (id(), tick.get(), control.version().get()),
        |(id, ..)| async move {
            match id {
                Some(id) => flow_run(id).await,
                None => Err(ApiError::not_found("run")),
            }
        },
    );
    follow_run(id, tick);
    view! {
        <ErrorBoundary fallback=page_errors>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let (detail, workflow) = data.await?;
                    let run = detail.run.clone();
                    let run_id = run.id.to_string();
                    let button = move |action: &'static str, label: &'static str| {
                        let run_id = run_id.clone();
                        view! {
                            <ActionForm action=control attr:class="inline">
                                <input type="hidden" name="id" value=run_id/>
                                <input type="hidden" name="action" value=action/>
                                <button type="submit">{label}</button>
                            </ActionForm>
                        }
                    };
                    let finished = run.status.is_finished();
                    Ok::<_, ApiError>(view! {
                        <div class="page-head">
                            <h1>{format!("Run of {}", workflow.name)}</h1>
                            {run_badge(run.status)}
                            <nav class="actions"><a href=format!("/flows/{}", workflow.id)>"Workflow"</a><a href="/flows/runs">"Runs"</a></nav>
                        </div>
                        <p class="muted">{format!("Version {} · {} · started {}", run.version, run.trigger_type,
                            run.started_at.map(format_time).unwrap_or_else(|| "not yet".into()))}
                            {run.next_at.filter(|_| !finished).map(|t| format!(" · goes on at {}", format_time(t)))}
                        </p>
                        {run.error.clone().map(|e| view! { <p class="notice" role="alert">{e}</p> })}
                        <div class="actions">
                            {(!finished && run.status != RunStatus::Paused).then(|| button("pause", "Pause"))}
                            {(run.status == RunStatus::Paused).then(|| button("resume", "Resume"))}
                            {(!finished).then(|| button("cancel", "Cancel run"))}
                        </div>
                        {action_error(control.value())}
                        <h2>"Trace"</h2>
                        <table class="grid" data-testid="trace">
                            <thead><tr><th>"Step"</th><th>"Kind"</th><th class="num">"Attempt"</th><th>"Outcome"</th><th>"Input"</th><th>"Output or error"</th><th>"Started"</th><th>"Ended"</th></tr></thead>
                            <tbody>
                                {detail.trace.into_iter().map(|t| view! {
                                    <tr data-testid="trace-row">
                                        <td>{t.step_id.clone()}</td>
                                        <td>{t.kind.clone()}</td>
                                        <td class="num">{t.attempt}</td>
                                        <td><span class=format!("badge step-{}", t.outcome.as_str())>{t.outcome.as_str()}</span></td>
                                        <td><code class="json">{t.input.to_string()}</code></td>
                                        <td><code class="json">{t.error.clone().unwrap_or_else(|| t.output.as_ref().map(|o| o.to_string()).unwrap_or_default())}</code></td>
                                        <td>{format_time(t.started_at)}</td>
                                        <td>{t.finished_at.map(format_time).unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <h2>"Input"</h2>
                        <pre class="json">{serde_json::to_string_pretty(&run.input).unwrap_or_default()}</pre>
                    })
                })}
            </Transition>
        </ErrorBoundary>
    }
}
