//! The segment builder: the rule tree lives in one signal; every edit
//! re-renders the tree and re-counts on the server.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::audience::rules::{field_kind, ops_of, FieldKind, Match, Op, Rule, LEAD_FIELDS, MAX_DEPTH};
use crate::audience::server_fns::*;
use crate::components::action_error;
use crate::crm::custom_fields::types::{CustomFieldType, DeclaredFields};
use crate::crm::leads::types::{LeadSource, LeadStatus};

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
fn typed_value(field: &str, op: Op, text: &str, fields: &DeclaredFields) -> Value {
    let text = text.trim();
    if matches!(op, Op::In | Op::NotIn) {
        return Value::Array(text.split(',').map(|s| Value::String(s.trim().to_string())).filter(|v| v != "").collect());
    }
    let kind = field_kind(field, fields);
    if kind == Some(FieldKind::Boolean) && (text == "true" || text == "false") {
        return Value::Bool(text == "true");
    }
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

/// The values a field picks from: a lead source or status, a declared
/// choice's options, true or false.
fn choices(field: &str, fields: &DeclaredFields) -> Option<Vec<String>> {
    if let Some(declared) = fields.of_rule_field(field) {
        return match declared.field_type {
            CustomFieldType::Choice => Some(declared.options.clone()),
            CustomFieldType::Boolean => Some(vec!["true".into(), "false".into()]),
            _ => None,
        };
    }
    match field {
        "source" => Some(LeadSource::ALL.iter().map(|s| s.as_str().to_string()).collect()),
        "status" => Some(LeadStatus::ALL.iter().map(|s| s.as_str().to_string()).collect()),
        _ => None,
    }
}

fn condition_view(root: RwSignal<Rule>, path: Vec<usize>, rule: Rule, declared: StoredValue<DeclaredFields>) -> AnyView {
    let fields = declared.get_value();
    let field = rule.field.clone().unwrap_or_else(|| "score".into());
    let is_declared = fields.of_rule_field(&field).is_some();
    let is_custom = field.starts_with("cf.") && !is_declared;
    let kind = field_kind(&field, &fields).unwrap_or(FieldKind::Text);
    let ops = ops_of(&field, &fields);
    let ops = if ops.is_empty() { kind.ops() } else { ops };
    let op = rule.op.filter(|o| ops.contains(o)).unwrap_or(ops[0]);
    let value = value_text(&rule.value);
    let (p1, p2, p3, p4, p5) = (path.clone(), path.clone(), path.clone(), path.clone(), path.clone());
    let field_for_value = field.clone();
    let value_input = if !op.takes_value() {
        ().into_any()
    } else if let (Some(options), false) = (choices(&field, &fields), matches!(op, Op::In | Op::NotIn)) {
        let current = value.clone();
        let field_for_choice = field.clone();
        view! {
            <select aria-label="Value" on:change=move |ev| {
                let text = event_target_value(&ev);
                let field = field_for_choice.clone();
                edit(root, p4.clone(), move |r| r.value = Some(typed_value(&field, op, &text, &declared.get_value())));
            }>
                <option value="" selected=current.is_empty()>"—"</option>
                {options.into_iter().map(|o| { let selected = current == o; view! { <option value=o.clone() selected=selected>{o.clone()}</option> } }).collect_view()}
            </select>
        }
        .into_any()
    } else {
        let input_type = if kind == FieldKind::Date && !matches!(op, Op::WithinLastDays | Op::MoreThanDaysAgo) { "date" } else { "text" };
        view! {
            <input aria-label="Value" type=input_type value=value.clone() on:change=move |ev| {
                let text = event_target_value(&ev);
                let field = field_for_value.clone();
                edit(root, p4.clone(), move |r| r.value = Some(typed_value(&field, op, &text, &declared.get_value())));
            }/>
        }
        .into_any()
    };
    let field_select = field.clone();
    view! {
        <div class="rule-row" data-testid="rule">
            <select aria-label="Field" on:change=move |ev| {
                let f = event_target_value(&ev);
                let fields = declared.get_value();
                edit(root, p1.clone(), move |r| {
                    let ops = ops_of(&f, &fields);
                    r.op = ops.first().copied().or(Some(Op::Eq));
                    r.value = None;
                    r.field = Some(f);
                });
            }>
                {LEAD_FIELDS.iter().map(|(name, label, _)| view! { <option value=*name selected=field_select == *name>{*label}</option> }).collect_view()}
                {fields.0.iter().map(|f| {
                    let value = format!("cf.{}", f.key);
                    let selected = field_select == value;
                    view! { <option value=value selected=selected>{f.label.clone()}</option> }
                }).collect_view()}
                <option value="cf.field" selected=is_custom>"Other custom field…"</option>
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
                {ops.iter().map(|o| view! { <option value=o.as_str() selected=*o == op>{o.label()}</option> }).collect_view()}
            </select>
            {value_input}
            <button type="button" class="secondary" aria-label="Remove condition" on:click=move |_| remove_at(root, p3.clone())>"×"</button>
        </div>
    }
    .into_any()
}

fn group_view(root: RwSignal<Rule>, path: Vec<usize>, rule: Rule, declared: StoredValue<DeclaredFields>) -> AnyView {
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
                group_view(root, child_path, child, declared)
            } else {
                condition_view(root, child_path, child, declared)
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
pub(super) fn SegmentBuilder(id: Option<Uuid>, name: String, rules: Rule, member_count: i64, fields: DeclaredFields) -> impl IntoView {
    let root = RwSignal::new(rules);
    let declared = StoredValue::new(fields);
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
            {move || group_view(root, Vec::new(), root.get(), declared)}
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
                        Err(e) => Either::Right(view! { <p class="error" role="alert">{format!("Fix the rules: {}", e.message)}</p> }),
                    }
                })}
            </Transition>
        </div>
    }
}
