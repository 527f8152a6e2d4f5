//! Audience pages: lists and segments (with the segment builder and its
//! live count), imports (upload, mapping, progress), capture forms.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde_json::{json, Value};
use uuid::Uuid;

use super::rules::{field_kind, FieldKind, Match, Op, Rule, LEAD_FIELDS, MAX_DEPTH};
use super::server_fns::*;
use super::types::*;
use crate::components::{action_error, error_text, format_time, ErrorBox};
use crate::crm::leads::types::{LeadSource, LeadStatus};

fn kind_label(list: &List) -> &'static str {
    match (list.kind, list.entity) {
        (ListKind::Segment, _) => "Segment",
        (ListKind::Static, ListEntity::Lead) => "List of leads",
        (ListKind::Static, ListEntity::Company) => "List of companies",
    }
}

#[component]
pub fn AudiencePage() -> impl IntoView {
    let create = ServerAction::<CreateStaticList>::new();
    let lists = Resource::new(move || create.version().get(), |_| audience_lists());
    view! {
        <div class="page-head">
            <h1>"Lists & segments"</h1>
            <p class="actions">
                <a class="button" href="/segments/new">"New segment"</a>
                <a class="button secondary" href="/imports">"Import"</a>
                <a class="button secondary" href="/forms">"Capture forms"</a>
                <a class="button secondary" href="/enrichment">"Enrichment"</a>
            </p>
        </div>
        <details class="card">
            <summary>"New static list"</summary>
            <ActionForm action=create>
                <div class="row">
                    <label>"Name"<input name="name" required/></label>
                    <label>"Holds"
                        <select name="entity">
                            <option value="lead">"Leads"</option>
                            <option value="company">"Companies"</option>
                        </select>
                    </label>
                </div>
                <button type="submit">"Create list"</button>
            </ActionForm>
            {action_error(create.value())}
        </details>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match lists.await {
                    Ok(lists) if lists.is_empty() => EitherOf3::A(view! { <p class="empty">"No lists or segments yet."</p> }),
                    Ok(lists) => EitherOf3::B(view! {
                        <table class="grid" data-testid="lists">
                            <thead><tr><th>"Name"</th><th>"Kind"</th><th class="num">"Members"</th><th>"Export"</th></tr></thead>
                            <tbody>
                                {lists.into_iter().map(|l| view! {
                                    <tr>
                                        <td><a href=format!("/lists/{}", l.id)>{l.name.clone()}</a></td>
                                        <td>{kind_label(&l)}</td>
                                        <td class="num">{l.member_count}</td>
                                        <td><a href=format!("/api/v1/lists/{}/export.csv", l.id) rel="external" download>"CSV"</a></td>
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

/// `/segments/new` and `/lists/{id}`: a segment opens in the builder, a
/// static list shows its members.
#[component]
pub fn SegmentNewPage() -> impl IntoView {
    view! { <SegmentBuilder id=None name=String::new() rules=Rule::group(Match::All, vec![]) member_count=0/> }
}

#[component]
pub fn ListPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|id| Uuid::parse_str(&id).ok());
    let list = Resource::new(id, |id| async move {
        match id {
            Some(id) => audience_list(id).await,
            None => Err(ServerFnError::ServerError("list not found".into())),
        }
    });
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) if list.kind == ListKind::Segment => EitherOf3::A(view! {
                        <SegmentBuilder id=Some(list.id) name=list.name.clone() rules=list.rules.clone().unwrap_or_default() member_count=list.member_count/>
                    }),
                    Ok(list) => EitherOf3::B(view! { <StaticList list/> }),
                    Err(error) => EitherOf3::C(view! { <ErrorBox error/> }),
                }
            })}
        </Transition>
    }
}

#[component]
fn StaticList(list: List) -> impl IntoView {
    let id = list.id;
    let add_segment = ServerAction::<AddFromSegment>::new();
    let add_email = ServerAction::<AddLeadByEmail>::new();
    let remove = ServerAction::<RemoveListMember>::new();
    let delete = ServerAction::<DeleteAudienceList>::new();
    let members = Resource::new(
        move || (add_segment.version().get(), add_email.version().get(), remove.version().get()),
        move |_| list_members_page(id, None),
    );
    let lists = Resource::new(|| (), |_| audience_lists());
    let is_leads = list.entity == ListEntity::Lead;
    view! {
        <div class="page-head">
            <h1>{list.name.clone()}</h1>
            <p class="actions">
                <a class="button secondary" href=format!("/api/v1/lists/{id}/export.csv") rel="external" download>"Export CSV"</a>
                <ActionForm action=delete attr:class="inline">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <button type="submit" class="secondary">"Delete list"</button>
                </ActionForm>
            </p>
        </div>
        <p class="muted">{kind_label(&list)}</p>
        {is_leads.then(|| view! {
            <div class="card row">
                <ActionForm action=add_email>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <label>"Add lead by email"<input name="email" type="email" required/></label>
                    <button type="submit">"Add"</button>
                </ActionForm>
                <ActionForm action=add_segment>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <label>"Add everyone in a segment"
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                let segments: Vec<List> = lists.await.unwrap_or_default().into_iter().filter(|l| l.kind == ListKind::Segment).collect();
                                view! {
                                    <select name="segment_id">
                                        {segments.into_iter().map(|s| view! { <option value=s.id.to_string()>{format!("{} ({})", s.name, s.member_count)}</option> }).collect_view()}
                                    </select>
                                }
                            })}
                        </Transition>
                    </label>
                    <button type="submit">"Add all"</button>
                </ActionForm>
            </div>
        })}
        {action_error(add_email.value())}
        {action_error(add_segment.value())}
        {move || add_segment.value().get().and_then(|r| r.ok()).map(|r| view! { <p class="notice">{format!("Added {} members.", r.added)}</p> })}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match members.await {
                    Ok(page) if page.data.is_empty() => EitherOf3::A(view! { <p class="empty">"No members yet."</p> }),
                    Ok(page) => EitherOf3::B(view! {
                        <table class="grid" data-testid="members">
                            <thead><tr><th>"Name"</th><th>{if is_leads { "Email" } else { "Domain" }}</th><th>{if is_leads { "Company" } else { "Industry" }}</th><th></th></tr></thead>
                            <tbody>
                                {page.data.into_iter().map(|m| view! {
                                    <tr>
                                        <td><a href=format!("/{}/{}", if is_leads { "leads" } else { "companies" }, m.id)>{m.name.clone()}</a></td>
                                        <td>{m.email.clone().unwrap_or_default()}</td>
                                        <td>{m.detail.clone().unwrap_or_default()}</td>
                                        <td class="actions">
                                            <ActionForm action=remove attr:class="inline">
                                                <input type="hidden" name="id" value=id.to_string()/>
                                                <input type="hidden" name="member_id" value=m.id.to_string()/>
                                                <button type="submit" class="secondary">"Remove"</button>
                                            </ActionForm>
                                        </td>
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

// ---------------------------------------------------------------------------
// The segment builder: the rule tree lives in one signal; every edit
// re-renders the tree and re-counts on the server.

fn at_path<'a>(rule: &'a mut Rule, path: &[usize]) -> Option<&'a mut Rule> {
    match path.split_first() {
        None => Some(rule),
        Some((i, rest)) => rule.rules.as_mut()?.get_mut(*i).and_then(|child| at_path(child, rest)),
    }
}

fn edit(root: RwSignal<Rule>, path: Vec<usize>, change: impl FnOnce(&mut Rule) + 'static) {
    root.update(|r| {
        if let Some(target) = at_path(r, &path) {
            change(target);
        }
    });
}

fn remove_at(root: RwSignal<Rule>, path: Vec<usize>) {
    if let Some((last, parent)) = path.split_last() {
        let (last, parent) = (*last, parent.to_vec());
        edit(root, parent, move |group| {
            if let Some(rules) = group.rules.as_mut() {
                if last < rules.len() {
                    rules.remove(last);
                }
            }
        });
    }
}

/// Text typed into a value box, as the JSON the rule wants.
fn typed_value(field: &str, op: Op, text: &str) -> Value {
    let text = text.trim();
    if matches!(op, Op::In | Op::NotIn) {
        return Value::Array(text.split(',').map(|s| Value::String(s.trim().to_string())).filter(|v| v != "").collect());
    }
    let kind = field_kind(field);
    if matches!(op, Op::WithinLastDays | Op::MoreThanDaysAgo) || kind == Some(FieldKind::Number) || kind == Some(FieldKind::Custom) {
        if let Ok(n) = text.parse::<i64>() {
            return json!(n);
        }
        if let Ok(n) = text.parse::<f64>() {
            return json!(n);
        }
    }
    if kind == Some(FieldKind::Custom) && (text == "true" || text == "false") {
        return Value::Bool(text == "true");
    }
    Value::String(text.to_string())
}

fn value_text(value: &Option<Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => {
            items.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect::<Vec<_>>().join(", ")
        }
        Some(other) => other.to_string(),
    }
}

fn choices(field: &str) -> Option<Vec<&'static str>> {
    match field {
        "source" => Some(LeadSource::ALL.iter().map(|s| s.as_str()).collect()),
        "status" => Some(LeadStatus::ALL.iter().map(|s| s.as_str()).collect()),
        _ => None,
    }
}

fn condition_view(root: RwSignal<Rule>, path: Vec<usize>, rule: Rule) -> AnyView {
    let field = rule.field.clone().unwrap_or_else(|| "score".into());
    let is_custom = field.starts_with("cf.");
    let kind = field_kind(&field).unwrap_or(FieldKind::Text);
    let op = rule.op.filter(|o| kind.ops().contains(o)).unwrap_or(kind.ops()[0]);
    let value = value_text(&rule.value);
    let (p1, p2, p3, p4, p5) = (path.clone(), path.clone(), path.clone(), path.clone(), path.clone());
    let field_for_value = field.clone();
    let value_input = if !op.takes_value() {
        ().into_any()
    } else if let (Some(options), false) = (choices(&field), matches!(op, Op::In | Op::NotIn)) {
        let current = value.clone();
        view! {
            <select aria-label="Value" on:change=move |ev| {
                let v = event_target_value(&ev);
                edit(root, p4.clone(), move |r| r.value = Some(Value::String(v)));
            }>
                <option value="" selected=current.is_empty()>"—"</option>
                {options.into_iter().map(|o| view! { <option value=o selected=current == o>{o}</option> }).collect_view()}
            </select>
        }
        .into_any()
    } else {
        let input_type = if kind == FieldKind::Date && !matches!(op, Op::WithinLastDays | Op::MoreThanDaysAgo) { "date" } else { "text" };
        view! {
            <input aria-label="Value" type=input_type value=value.clone() on:change=move |ev| {
                let text = event_target_value(&ev);
                let field = field_for_value.clone();
                edit(root, p4.clone(), move |r| r.value = Some(typed_value(&field, op, &text)));
            }/>
        }
        .into_any()
    };
    let field_select = field.clone();
    view! {
        <div class="rule-row" data-testid="rule">
            <select aria-label="Field" on:change=move |ev| {
                let f = event_target_value(&ev);
                edit(root, p1.clone(), move |r| {
                    let kind = field_kind(&f).unwrap_or(FieldKind::Text);
                    r.op = Some(kind.ops()[0]);
                    r.value = None;
                    r.field = Some(f);
                });
            }>
                {LEAD_FIELDS.iter().map(|(name, label, _)| view! { <option value=*name selected=field_select == *name>{*label}</option> }).collect_view()}
                <option value="cf.field" selected=is_custom>"Custom field…"</option>
            </select>
            {is_custom.then(|| view! {
                <input aria-label="Custom field key" class="narrow" value=field.trim_start_matches("cf.").to_string() on:change=move |ev| {
                    let key = event_target_value(&ev);
                    edit(root, p5.clone(), move |r| r.field = Some(format!("cf.{}", key.trim())));
                }/>
            })}
            <select aria-label="Operator" on:change=move |ev| {
                let o = Op::parse(&event_target_value(&ev));
                edit(root, p2.clone(), move |r| {
                    if r.op.is_some_and(|old| old.takes_value() != o.is_some_and(|n| n.takes_value())) {
                        r.value = None;
                    }
                    r.op = o;
                });
            }>
                {kind.ops().iter().map(|o| view! { <option value=o.as_str() selected=*o == op>{o.label()}</option> }).collect_view()}
            </select>
            {value_input}
            <button type="button" class="secondary" aria-label="Remove condition" on:click=move |_| remove_at(root, p3.clone())>"×"</button>
        </div>
    }
    .into_any()
}

fn group_view(root: RwSignal<Rule>, path: Vec<usize>, rule: Rule) -> AnyView {
    let depth = path.len() + 1;
    let match_ = rule.match_.unwrap_or(Match::All);
    let children: Vec<AnyView> = rule
        .rules
        .clone()
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, child)| {
            let mut child_path = path.clone();
            child_path.push(i);
            if child.is_group() {
                group_view(root, child_path, child)
            } else {
                condition_view(root, child_path, child)
            }
        })
        .collect();
    let (p1, p2, p3, p4) = (path.clone(), path.clone(), path.clone(), path.clone());
    let nested = !path.is_empty();
    view! {
        <fieldset class="rule-group" data-testid="rule-group">
            <legend>
                <select aria-label="Match" on:change=move |ev| {
                    let m = Match::parse(&event_target_value(&ev));
                    edit(root, p1.clone(), move |r| r.match_ = m);
                }>
                    <option value="all" selected=match_ == Match::All>"All of these"</option>
                    <option value="any" selected=match_ == Match::Any>"Any of these"</option>
                </select>
            </legend>
            {children}
            <p class="actions">
                <button type="button" class="secondary" on:click=move |_| {
                    edit(root, p2.clone(), |r| r.rules.get_or_insert_with(Vec::new).push(Rule::condition("score", Op::Gte, Some(json!(0)))));
                }>"+ Condition"</button>
                {(depth < MAX_DEPTH).then(|| view! {
                    <button type="button" class="secondary" on:click=move |_| {
                        edit(root, p3.clone(), |r| r.rules.get_or_insert_with(Vec::new).push(Rule::group(Match::Any, vec![Rule::condition("score", Op::Gte, Some(json!(0)))])));
                    }>"+ Group"</button>
                })}
                {nested.then(|| view! {
                    <button type="button" class="secondary" on:click=move |_| remove_at(root, p4.clone())>"Remove group"</button>
                })}
            </p>
        </fieldset>
    }
    .into_any()
}

#[component]
fn SegmentBuilder(id: Option<Uuid>, name: String, rules: Rule, member_count: i64) -> impl IntoView {
    let root = RwSignal::new(rules);
    let name = RwSignal::new(name);
    let preview = Resource::new(move || serde_json::to_string(&root.get()).unwrap_or_default(), preview_segment);
    let save = ServerAction::<SaveSegment>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(list)) = save.value().get() {
            if id.is_none() {
                navigate(&format!("/lists/{}", list.id), Default::default());
            }
        }
    });
    view! {
        <div class="page-head">
            <h1>{if id.is_some() { "Segment" } else { "New segment" }}</h1>
            {id.map(|id| view! { <a class="button secondary" href=format!("/api/v1/lists/{id}/export.csv") rel="external" download>"Export CSV"</a> })}
        </div>
        <div class="card">
            <label>"Name"<input aria-label="Segment name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) required/></label>
            <p class="muted">"Leads that match:"</p>
            {move || group_view(root, Vec::new(), root.get())}
            <p class="actions">
                <button type="button" on:click=move |_| {
                    save.dispatch(SaveSegment { id, name: name.get_untracked(), rules: serde_json::to_string(&root.get_untracked()).unwrap_or_default() });
                }>"Save segment"</button>
                {move || save.value().get().and_then(|r| r.ok()).map(|l| view! { <span class="notice">{format!("Saved: {} members.", l.member_count)}</span> })}
            </p>
            {action_error(save.value())}
        </div>
        <div class="card" data-testid="segment-preview">
            <Transition fallback=move || view! { <p>{format!("{member_count} leads")}</p> }>
                {move || Suspend::new(async move {
                    match preview.await {
                        Ok(p) => Either::Left(view! {
                            <p class="big-number"><span data-testid="segment-count">{p.count}</span>{if p.count == 1 { " lead matches" } else { " leads match" }}</p>
                            <ul class="sample" data-testid="segment-sample">
                                {p.sample.into_iter().map(|m| view! {
                                    <li><a href=format!("/leads/{}", m.id)>{m.name}</a>{m.email.map(|e| format!(" · {e}"))}{m.score.map(|s| format!(" · score {s}"))}</li>
                                }).collect_view()}
                            </ul>
                        }),
                        Err(e) => Either::Right(view! { <p class="error" role="alert">{format!("Fix the rules: {}", error_text(&e))}</p> }),
                    }
                })}
            </Transition>
        </div>
    }
}

// ---------------------------------------------------------------------------
// Imports.

#[component]
pub fn ImportsPage() -> impl IntoView {
    let query = use_query_map();
    let imports = Resource::new(|| (), |_| import_list());
    view! {
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
                match imports.await {
                    Ok(list) if list.is_empty() => EitherOf3::A(view! { <p class="empty">"No imports yet."</p> }),
                    Ok(list) => EitherOf3::B(view! {
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
                    Err(error) => EitherOf3::C(view! { <ErrorBox error/> }),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|id| Uuid::parse_str(&id).ok());
    let tick = RwSignal::new(0u32);
    let start = ServerAction::<BeginImport>::new();
    let cancel = ServerAction::<CancelImport>::new();
    let data = Resource::new(
        move || (id(), tick.get(), start.version().get(), cancel.version().get()),
        |(id, ..)| async move {
            match id {
                Some(id) => import_view(id).await,
                None => Err(ServerFnError::ServerError("import not found".into())),
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
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (import, errors) = match data.await {
                    Ok(v) => v,
                    Err(error) => return Either::Right(view! { <ErrorBox error/> }),
                };
                let targets: Vec<&'static str> = import_targets(import.entity).to_vec();
                let mapping_step = import.status == ImportStatus::Mapping;
                let running = matches!(import.status, ImportStatus::Queued | ImportStatus::Running | ImportStatus::Mapping);
                let id = import.id;
                Either::Left(view! {
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
    }
}

// ---------------------------------------------------------------------------
// Capture forms.

#[component]
pub fn FormsPage() -> impl IntoView {
    let create = ServerAction::<CreateCaptureForm>::new();
    let forms = Resource::new(move || create.version().get(), |_| capture_forms());
    let lists = Resource::new(|| (), |_| audience_lists());
    view! {
        <div class="page-head"><h1>"Capture forms"</h1></div>
        <details class="card">
            <summary>"New form"</summary>
            <ActionForm action=create>
                <label>"Name"<input name="form[name]" required/></label>
                <fieldset>
                    <legend>"Fields (name and email always)"</legend>
                    <label class="check"><input type="checkbox" name="form[phone]" value="on"/>"Phone"</label>
                    <label class="check"><input type="checkbox" name="form[company_name]" value="on" checked/>"Company"</label>
                    <label class="check"><input type="checkbox" name="form[title]" value="on"/>"Job title"</label>
                    <label class="check"><input type="checkbox" name="form[message]" value="on"/>"Message"</label>
                </fieldset>
                <label>"Submissions join"
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let lists = lists.await.unwrap_or_default();
                            view! { <FormTargetSelect lists selected=None/> }
                        })}
                    </Transition>
                </label>
                <label>"Lead source"<LeadSourceSelect selected=LeadSource::Website/></label>
                <label>"Tag captured leads with (comma-separated)"<input name="form[tags]" placeholder="webinar, spring-2027"/></label>
                <label>"Websites allowed to post it (one origin per line)"<textarea name="form[origins]" placeholder="https://www.example.com"></textarea></label>
                <button type="submit">"Create form"</button>
            </ActionForm>
            {action_error(create.value())}
        </details>
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match forms.await {
                    Ok(forms) if forms.is_empty() => EitherOf3::A(view! { <p class="empty">"No forms yet."</p> }),
                    Ok(forms) => EitherOf3::B(view! {
                        <table class="grid">
                            <thead><tr><th>"Form"</th><th>"Endpoint"</th><th class="num">"Submissions"</th><th>"Active"</th></tr></thead>
                            <tbody>
                                {forms.into_iter().map(|f| view! {
                                    <tr>
                                        <td><a href=format!("/forms/{}", f.id)>{f.name.clone()}</a></td>
                                        <td><code>{f.endpoint.clone()}</code></td>
                                        <td class="num">{f.submissions}</td>
                                        <td>{if f.active { "yes" } else { "no" }}</td>
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

/// Where a form's submissions go: a static list of leads (they join it)
/// or a segment (they join when its rules select them).
#[component]
fn FormTargetSelect(lists: Vec<List>, selected: Option<Uuid>) -> impl IntoView {
    let lists: Vec<List> = lists.into_iter().filter(|l| l.entity == ListEntity::Lead).collect();
    view! {
        <select name="form[list_id]" aria-label="Submissions join">
            <option value="">"No list"</option>
            {lists.into_iter().map(|l| {
                let label = match l.kind {
                    ListKind::Static => format!("{} (list)", l.name),
                    ListKind::Segment => format!("{} (segment, if its rules match)", l.name),
                };
                view! { <option value=l.id.to_string() selected={Some(l.id) == selected}>{label}</option> }
            }).collect_view()}
        </select>
    }
}

#[component]
fn LeadSourceSelect(selected: LeadSource) -> impl IntoView {
    view! {
        <select name="form[lead_source]" aria-label="Lead source">
            {LeadSource::ALL.iter().map(|s| view! { <option value=s.as_str() selected={*s == selected}>{s.as_str()}</option> }).collect_view()}
        </select>
    }
}

#[component]
fn FormSettings(form: CaptureForm, lists: Vec<List>, update: ServerAction<UpdateCaptureForm>) -> impl IntoView {
    view! {
        <details class="card" data-testid="form-settings">
            <summary>"Settings"</summary>
            <ActionForm action=update>
                <input type="hidden" name="id" value=form.id.to_string()/>
                <label>"Name"<input name="form[name]" value=form.name.clone() required/></label>
                <label>"Submissions join"<FormTargetSelect lists selected=form.list_id/></label>
                <label>"Lead source"<LeadSourceSelect selected=form.lead_source/></label>
                <label>"Tag captured leads with (comma-separated)"<input name="form[tags]" value=form.tags.join(", ")/></label>
                <label>"Websites allowed to post it (one origin per line)"<textarea name="form[origins]">{form.allowed_origins.join("\n")}</textarea></label>
                <label class="check"><input type="checkbox" name="form[active]" value="on" checked=form.active/>"Accepting submissions"</label>
                <button type="submit">"Save"</button>
            </ActionForm>
            {action_error(update.value())}
        </details>
    }
}

#[component]
pub fn FormPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let update = ServerAction::<UpdateCaptureForm>::new();
    let lists = Resource::new(|| (), |_| audience_lists());
    let data = Resource::new(
        move || (params.read().get("id").and_then(|id| Uuid::parse_str(&id).ok()), query.read().get("origin"), update.version().get()),
        |(id, origin, _)| async move {
            match id {
                Some(id) => capture_form_view(id, origin).await,
                None => Err(ServerFnError::ServerError("form not found".into())),
            }
        },
    );
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((form, snippet)) => Either::Left({
                        let lists = lists.await.unwrap_or_default();
                        let target = form.list_id.map(|id| {
                            lists.iter().find(|l| l.id == id).map(|l| view! { <a href=format!("/lists/{}", l.id)>{l.name.clone()}</a> }.into_any()).unwrap_or_else(|| "—".into_any())
                        }).unwrap_or_else(|| "no list".into_any());
                        view! {
                        <div class="page-head"><h1>{form.name.clone()}</h1>{(!form.active).then(|| view! { <span class="badge">"paused"</span> })}</div>
                        <dl class="facts">
                            <dt>"Public endpoint"</dt><dd><code>{format!("POST {}", form.endpoint)}</code></dd>
                            <dt>"Submissions join"</dt><dd>{target}</dd>
                            <dt>"Tags"</dt><dd>{if form.tags.is_empty() { "—".to_string() } else { form.tags.join(", ") }}</dd>
                            <dt>"Lead source"</dt><dd>{form.lead_source.as_str()}</dd>
                            <dt>"Allowed origins"</dt><dd>{form.allowed_origins.join(", ")}</dd>
                            <dt>"Submissions"</dt><dd>{form.submissions}</dd>
                            <dt>"Signing secret"</dt><dd><code>{form.signing_secret.clone()}</code></dd>
                        </dl>
                        <p class="muted">"Servers may post without an origin by signing the raw body: X-Corral-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with the secret>."</p>
                        <form method="get" class="filters">
                            <select name="origin" aria-label="Snippet for">
                                {form.allowed_origins.iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                            </select>
                            <button type="submit">"Show snippet"</button>
                        </form>
                        {match snippet {
                            Some(s) => Either::Left(view! {
                                <h2>{format!("Embed on {}", s.origin)}</h2>
                                <pre class="snippet" data-testid="embed-snippet">{s.html}</pre>
                            }),
                            None => Either::Right(view! { <p class="empty">"Add an allowed origin to get an embed snippet."</p> }),
                        }}
                        <FormSettings form=form.clone() lists update/>
                    }}),
                    Err(error) => Either::Right(view! { <ErrorBox error/> }),
                }
            })}
        </Transition>
    }
}

// Enrichment connectors.

#[component]
pub fn EnrichmentPage() -> impl IntoView {
    let create = ServerAction::<CreateEnrichmentConnector>::new();
    let toggle = ServerAction::<SetEnrichmentConnectorEnabled>::new();
    let delete = ServerAction::<DeleteEnrichmentConnector>::new();
    let connectors =
        Resource::new(move || (create.version().get(), toggle.version().get(), delete.version().get()), |_| enrichment_connectors());
    view! {
        <div class="page-head"><h1>"Enrichment"</h1></div>
        <p class="muted">
            "A connector posts a lead as JSON ({\"lead\": {…}}) to its URL and merges the JSON object it answers with "
            "(or its \"fields\"): empty standard fields fill in, tags add, other keys land in custom fields. "
            "Enrich a lead from its page."
        </p>
        <details class="card">
            <summary>"New HTTP connector"</summary>
            <ActionForm action=create>
                <label>"Name"<input name="name" required/></label>
                <label>"URL"<input name="url" type="url" required placeholder="https://enrich.example.com/lookup"/></label>
                <label>"Authorization header (optional, never shown again)"<input name="auth_header" type="password" autocomplete="off" placeholder="Bearer …"/></label>
                <button type="submit">"Add connector"</button>
            </ActionForm>
            {action_error(create.value())}
        </details>
        {action_error(toggle.value())}
        {action_error(delete.value())}
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match connectors.await {
                    Ok(list) if list.is_empty() => EitherOf3::A(view! { <p class="empty">"No connectors yet."</p> }),
                    Ok(list) => EitherOf3::B(view! {
                        <table class="grid" data-testid="connectors">
                            <thead><tr><th>"Connector"</th><th>"URL"</th><th>"State"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|c| view! {
                                    <tr>
                                        <td>{c.name.clone()}</td>
                                        <td><code>{c.url.clone()}</code></td>
                                        <td>{if c.enabled { "enabled" } else { "disabled" }}</td>
                                        <td class="actions">
                                            <ActionForm action=toggle attr:class="inline">
                                                <input type="hidden" name="id" value=c.id.to_string()/>
                                                <input type="hidden" name="enabled" value=(!c.enabled).to_string()/>
                                                <button type="submit" class="secondary">{if c.enabled { "Disable" } else { "Enable" }}</button>
                                            </ActionForm>
                                            <ActionForm action=delete attr:class="inline">
                                                <input type="hidden" name="id" value=c.id.to_string()/>
                                                <button type="submit" class="danger">"Delete"</button>
                                            </ActionForm>
                                        </td>
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
