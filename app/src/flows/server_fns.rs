//! Server functions for the flow pages: the same operations as the REST
//! API and MCP tools, called by the signed-in member. The editor's step
//! changes each load the newest graph, change one step and save it as a
//! new draft version (checked like any other).

use std::collections::HashMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::types::Action as StepAction;
use super::types::*;
use crate::api_error::ApiError;
use crate::platform::types::Page;

#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, member, optional_id};
#[cfg(feature = "ssr")]
use crate::platform::transaction::WriteTx;

/// The flows home: workflows with their triggers, and the gallery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowsHome {
    pub workflows: Vec<Workflow>,
    pub triggers: Vec<ExternalTrigger>,
    pub templates: Vec<WorkflowTemplate>,
}

#[server(prefix = "/sf", endpoint = "flows_overview")]
pub async fn flows_overview() -> Result<FlowsHome, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let workflows = super::workflows::list(&mut tx, &ctx, WorkflowFilter { limit: Some(100), ..Default::default() }).await?.data;
    let triggers = super::triggers::list(&mut tx, &ctx, TriggerFilter::default()).await?;
    tx.commit().await?;
    let templates = super::templates::list(&ctx)?;
    Ok(FlowsHome { workflows, triggers, templates })
}

/// A new workflow of one step (a task for the lead's owner), opened in the editor.
#[server(prefix = "/sf", endpoint = "create_blank_workflow")]
pub async fn create_blank_workflow(name: String) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let graph: Graph = serde_json::from_value(serde_json::json!({"entry": "task", "steps": [
        {"id": "task", "name": "Task for the owner", "action": {"type": "create_task", "title": "Follow up", "lead_id": "{{input.lead_id}}"}}]}))
    .map_err(|e| ApiError::new("internal_error", e.to_string()))?;
    let input = NewWorkflow {
        name,
        graph,
        input_schema: Some(serde_json::json!({"type": "object", "properties": {"lead_id": {"type": "string"}}, "required": ["lead_id"]})),
        ..Default::default()
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let created = super::workflows::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    leptos_axum::redirect(&format!("/flows/{}", created.workflow.id));
    Ok(())
}

/// A template's form, as typed (`form[inputs][threshold]`…).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TemplateForm {
    pub template_slug: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub inputs: HashMap<String, String>,
}

#[server(prefix = "/sf", endpoint = "create_workflow_from_template_form")]
pub async fn create_workflow_from_template_form(form: TemplateForm) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let template = super::templates::list(&ctx)?
        .into_iter()
        .find(|t| t.slug == form.template_slug)
        .ok_or_else(|| ApiError::field("template_slug", "no such template"))?;
    // Blank fields are absent; integer inputs are numbers.
    let mut inputs = serde_json::Map::new();
    for (name, text) in form.inputs {
        let text = text.trim().to_string();
        let Some(kind) = template.inputs_schema["properties"][&name]["type"].as_str() else { continue };
        if text.is_empty() {
            continue;
        }
        let value = match kind {
            "integer" => serde_json::json!(text
                .parse::<i64>()
                .map_err(|_| ApiError::field(format!("inputs.{name}"), format!("{name} is a whole number")))?),
            _ => serde_json::json!(text),
        };
        inputs.insert(name, value);
    }
    let input = FromTemplate { template_slug: form.template_slug, inputs, name: blank_to_none(form.name), publish: None };
    let mut tx = WriteTx::begin(&state.db).await?;
    let created = super::templates::create_workflow(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    leptos_axum::redirect(&format!("/flows/{}", created.workflow.id));
    Ok(())
}

/// One box of the editor's drawing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NodeBox {
    pub step_id: String,
    pub label: String,
    pub kind: String,
    pub x: i64,
    pub y: i64,
}

/// One arrow of the editor's drawing (a branch's arrows carry their label).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EdgeLine {
    pub from: String,
    pub to: String,
    pub label: Option<String>,
    pub points: (i64, i64, i64, i64),
}

/// The graph laid out in rows by depth from the entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphLayout {
    pub width: i64,
    pub height: i64,
    pub nodes: Vec<NodeBox>,
    pub edges: Vec<EdgeLine>,
}

pub const NODE_WIDTH: i64 = 180;
pub const NODE_HEIGHT: i64 = 52;

/// Rows by longest distance from the entry; boxes centred in their row.
pub fn layout(graph: &Graph) -> GraphLayout {
    use std::collections::BTreeMap;
    let successors = |step: &Step| -> Vec<(String, Option<String>)> {
        match &step.action {
            StepAction::Branch { rules, default } => {
                let mut out: Vec<(String, Option<String>)> =
                    rules.iter().map(|r| (r.next.clone(), Some(r.label.clone().unwrap_or_else(|| "when".into())))).collect();
                out.extend(default.clone().map(|d| (d, Some("otherwise".to_string()))));
                out
            }
            _ => step.next.clone().map(|n| (n, None)).into_iter().collect(),
        }
    };
    let mut depth: HashMap<String, i64> = HashMap::new();
    depth.insert(graph.entry.clone(), 0);
    // Longest-path depths by relaxation (graphs are small and acyclic).
    for _ in 0..graph.steps.len() {
        for step in &graph.steps {
            let Some(d) = depth.get(&step.id).copied() else { continue };
            for (next, _) in successors(step) {
                if depth.get(&next).is_none_or(|n| *n < d + 1) && d < graph.steps.len() as i64 {
                    depth.insert(next, d + 1);
                }
            }
        }
    }
    let mut rows: BTreeMap<i64, Vec<&Step>> = BTreeMap::new();
    for step in &graph.steps {
        rows.entry(depth.get(&step.id).copied().unwrap_or(0)).or_default().push(step);
    }
    let widest = rows.values().map(Vec::len).max().unwrap_or(1) as i64;
    let width = widest * (NODE_WIDTH + 40) + 40;
    let mut nodes = Vec::new();
    for (row, steps) in &rows {
        let span = steps.len() as i64 * (NODE_WIDTH + 40) - 40;
        let left = (width - span) / 2;
        for (i, step) in steps.iter().enumerate() {
            nodes.push(NodeBox {
                step_id: step.id.clone(),
                label: step.name.clone().unwrap_or_else(|| step.id.clone()),
                kind: step.action.kind().to_string(),
                x: left + i as i64 * (NODE_WIDTH + 40),
                y: 20 + row * (NODE_HEIGHT + 60),
            });
        }
    }
    let at = |id: &str| nodes.iter().find(|n| n.step_id == id).map(|n| (n.x, n.y));
    let mut edges = Vec::new();
    for step in &graph.steps {
        for (next, label) in successors(step) {
            if let (Some((x1, y1)), Some((x2, y2))) = (at(&step.id), at(&next)) {
                let points = (x1 + NODE_WIDTH / 2, y1 + NODE_HEIGHT, x2 + NODE_WIDTH / 2, y2);
                edges.push(EdgeLine { from: step.id.clone(), to: next, label, points });
            }
        }
    }
    let height = rows.keys().last().map(|r| 20 + (r + 1) * (NODE_HEIGHT + 60)).unwrap_or(100);
    GraphLayout { width, height, nodes, edges }
}

/// The editor's data: the workflow, its drawing, its recent runs and what
/// the trigger form chooses from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EditorView {
    pub detail: WorkflowDetail,
    pub layout: GraphLayout,
    pub runs: Vec<Run>,
    pub events: Vec<String>,
    /// Segments of leads: (id, name).
    pub segments: Vec<(Uuid, String)>,
}

#[server(prefix = "/sf", endpoint = "workflow_editor")]
pub async fn workflow_editor(id: Uuid) -> Result<EditorView, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let detail = super::workflows::get(&mut tx, &ctx, id).await?;
    let runs = super::runs::list(&mut tx, &ctx, RunFilter { workflow_id: Some(id), limit: Some(10), ..Default::default() }).await?.data;
    let lists = crate::audience::lists::list(&mut tx, &ctx, Some(100), None).await?.data;
    tx.commit().await?;
    let segments = lists.into_iter().filter(|l| l.kind == crate::audience::types::ListKind::Segment).map(|l| (l.id, l.name)).collect();
    let layout = layout(&detail.graph);
    let events = super::events::TRIGGER_EVENTS.iter().map(|e| e.to_string()).collect();
    Ok(EditorView { detail, layout, runs, events, segments })
}

/// The action a new step of `kind` starts with (edited afterwards).
pub fn default_action(kind: &str) -> serde_json::Value {
    use serde_json::json;
    match kind {
        "agent_call" => json!({"type": "agent_call", "prompt": "Summarise lead {{input.lead_id}} as JSON: {\"summary\": …}"}),
        "http_request" => {
            json!({"type": "http_request", "method": "POST", "url": "https://example.com/hook", "body": {"lead_id": "{{input.lead_id}}"}})
        }
        "update_lead" => json!({"type": "update_lead", "lead_id": "{{input.lead_id}}", "fields": {"status": "working"}}),
        "add_tag" => json!({"type": "add_tag", "lead_id": "{{input.lead_id}}", "tag": "flow"}),
        "add_to_list" => json!({"type": "add_to_list", "lead_id": "{{input.lead_id}}", "list_id": ""}),
        "enrich_lead" => json!({"type": "enrich_lead", "lead_id": "{{input.lead_id}}", "connector_id": ""}),
        "log_activity" => json!({"type": "log_activity", "lead_id": "{{input.lead_id}}", "kind": "note", "subject": "Noted by a flow"}),
        "add_to_sequence" => json!({"type": "add_to_sequence", "lead_id": "{{input.lead_id}}", "sequence_id": ""}),
        "send_webhook" => json!({"type": "send_webhook", "url": "https://example.com/hook", "body": {"lead_id": "{{input.lead_id}}"}}),
        "send_email" => {
            json!({"type": "send_email", "lead_id": "{{input.lead_id}}", "subject": "Hello", "html_body": "<p>Hello</p>", "connection_id": ""})
        }
        "get_lead" => json!({"type": "get_lead", "lead_id": "{{input.lead_id}}"}),
        "get_deal" => json!({"type": "get_deal", "deal_id": "{{input.deal_id}}"}),
        "wait" => json!({"type": "wait", "seconds": 3600}),
        "branch" => json!({"type": "branch", "rules": []}),
        _ => json!({"type": "create_task", "title": "Follow up", "lead_id": "{{input.lead_id}}"}),
    }
}

/// The step kinds the editor offers.
pub const STEP_KINDS: &[&str] = &[
    "create_task",
    "log_activity",
    "update_lead",
    "add_tag",
    "add_to_list",
    "enrich_lead",
    "add_to_sequence",
    "send_email",
    "send_webhook",
    "http_request",
    "agent_call",
    "get_lead",
    "get_deal",
    "wait",
    "branch",
];

#[cfg(feature = "ssr")]
async fn change_graph(id: Uuid, change: impl FnOnce(&mut Graph) -> Result<(), ApiError>) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let mut graph = super::workflows::get(&mut tx, &ctx, id).await?.graph;
    change(&mut graph)?;
    let patch = WorkflowPatch { graph: Some(graph), ..Default::default() };
    super::workflows::update(&mut tx, &ctx, id, patch).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(feature = "ssr")]
fn parse_action(text: &str) -> Result<StepAction, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::field("action", format!("the action is not valid: {e}")))
}

/// Adds a step after `after` (taking over where that step went next).
#[server(prefix = "/sf", endpoint = "flow_add_step")]
pub async fn flow_add_step(workflow_id: Uuid, step_id: String, kind: String, after: Option<String>) -> Result<(), ApiError> {
    let action = parse_action(&default_action(&kind).to_string())?;
    change_graph(workflow_id, move |graph| {
        let step_id = step_id.trim().to_string();
        let mut step = Step { id: step_id.clone(), name: None, action, next: None, max_attempts: None };
        match blank_to_none(after) {
            Some(after) => {
                let before = graph.steps.iter_mut().find(|s| s.id == after).ok_or_else(|| ApiError::field("after", "no such step"))?;
                if matches!(before.action, StepAction::Branch { .. }) {
                    return Err(ApiError::field("after", "connect a branch's rules by editing the branch"));
                }
                step.next = before.next.replace(step_id);
            }
            None => {
                step.next = Some(std::mem::replace(&mut graph.entry, step_id));
            }
        }
        graph.steps.push(step);
        Ok(())
    })
    .await
}

/// Saves one step's name, action and next step.
#[server(prefix = "/sf", endpoint = "flow_save_step")]
pub async fn flow_save_step(
    workflow_id: Uuid,
    step_id: String,
    name: Option<String>,
    action: String,
    next: Option<String>,
) -> Result<(), ApiError> {
    let action = parse_action(&action)?;
    change_graph(workflow_id, move |graph| {
        let step = graph.steps.iter_mut().find(|s| s.id == step_id).ok_or_else(|| ApiError::field("step_id", "no such step"))?;
        step.name = blank_to_none(name);
        step.next = if matches!(action, StepAction::Branch { .. }) { None } else { blank_to_none(next) };
        step.action = action;
        Ok(())
    })
    .await
}

/// Removes a step; what led to it goes where it went.
#[server(prefix = "/sf", endpoint = "flow_remove_step")]
pub async fn flow_remove_step(workflow_id: Uuid, step_id: String) -> Result<(), ApiError> {
    change_graph(workflow_id, move |graph| {
        let index = graph.steps.iter().position(|s| s.id == step_id).ok_or_else(|| ApiError::field("step_id", "no such step"))?;
        let removed = graph.steps.remove(index);
        if graph.steps.is_empty() {
            return Err(ApiError::field("step_id", "a workflow keeps at least one step"));
        }
        if graph.entry == step_id {
            graph.entry = removed
                .next
                .clone()
                .ok_or_else(|| ApiError::field("step_id", "the entry step leads nowhere: choose another entry first"))?;
        }
        for step in &mut graph.steps {
            if step.next.as_deref() == Some(step_id.as_str()) {
                step.next = removed.next.clone();
            }
            if let StepAction::Branch { rules, default } = &mut step.action {
                rules.retain(|r| r.next != step_id || removed.next.is_some());
                for rule in rules.iter_mut().filter(|r| r.next == step_id) {
                    rule.next = removed.next.clone().unwrap_or_default();
                }
                if default.as_deref() == Some(step_id.as_str()) {
                    *default = removed.next.clone();
                }
            }
        }
        Ok(())
    })
    .await
}

/// Publishes the newest version, or starts a run, or adds, toggles or removes a trigger.
#[server(prefix = "/sf", endpoint = "flow_publish")]
pub async fn flow_publish(workflow_id: Uuid) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    super::workflows::publish(&mut tx, &ctx, workflow_id, None).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/sf", endpoint = "flow_run_now")]
pub async fn flow_run_now(workflow_id: Uuid, payload: String) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let payload: serde_json::Value = if payload.trim().is_empty() {
        serde_json::json!({})
    } else {
        serde_json::from_str(&payload).map_err(|e| ApiError::field("payload", format!("the payload is not JSON: {e}")))?
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let run = super::runs::trigger(&mut tx, &ctx, workflow_id, TriggerInput { payload: Some(payload) }).await?;
    tx.commit().await?;
    leptos_axum::redirect(&format!("/flows/runs/{}", run.id));
    Ok(())
}

/// The trigger form, as typed.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TriggerForm {
    pub workflow_id: Uuid,
    pub kind: String,
    pub event: Option<String>,
    pub segment_id: Option<String>,
    pub threshold: Option<String>,
}

#[server(prefix = "/sf", endpoint = "flow_add_trigger")]
pub async fn flow_add_trigger(form: TriggerForm) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let kind = TriggerKind::parse(&form.kind).ok_or_else(|| ApiError::field("kind", "event or webhook"))?;
    let threshold = match blank_to_none(form.threshold) {
        Some(t) => Some(t.parse::<i64>().map_err(|_| ApiError::field("filters.threshold", "a whole number"))?),
        None => None,
    };
    let filters = TriggerFilters { segment_id: optional_id(form.segment_id, "filters.segment_id")?, threshold, ..Default::default() };
    let input = NewTrigger {
        workflow_id: form.workflow_id,
        kind: Some(kind),
        event: if kind == TriggerKind::Event { blank_to_none(form.event) } else { None },
        filters: (kind == TriggerKind::Event).then_some(filters),
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    super::triggers::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/sf", endpoint = "flow_change_trigger")]
pub async fn flow_change_trigger(id: Uuid, action: String) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    match action.as_str() {
        "delete" => drop(super::triggers::delete(&mut tx, &ctx, id).await?),
        "on" | "off" => drop(super::triggers::update(&mut tx, &ctx, id, TriggerPatch { active: Some(action == "on") }).await?),
        _ => return Err(ApiError::field("action", "on, off or delete")),
    }
    tx.commit().await?;
    Ok(())
}

/// Runs filtered as the runs page's query says.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunsQuery {
    pub workflow_id: Option<String>,
    pub status: Option<String>,
    pub trigger_type: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub cursor: Option<String>,
}

#[server(prefix = "/sf", endpoint = "flow_runs")]
pub async fn flow_runs(query: RunsQuery) -> Result<(Page<Run>, Vec<Workflow>), ApiError> {
    let (state, ctx) = member().await?;
    let day = |text: Option<String>, field: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
        match blank_to_none(text) {
            None => Ok(None),
            Some(t) => chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                .map(|d| Some(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()))
                .map_err(|_| ApiError::field(field, "a date (YYYY-MM-DD)")),
        }
    };
    let filter = RunFilter {
        workflow_id: optional_id(query.workflow_id, "workflow_id")?,
        status: blank_to_none(query.status).and_then(|s| RunStatus::parse(&s)),
        trigger_type: blank_to_none(query.trigger_type),
        created_from: day(query.from, "from")?,
        // "to" includes the whole day.
        created_to: day(query.to, "to")?.map(|d| d + chrono::Duration::days(1)),
        limit: Some(50),
        cursor: blank_to_none(query.cursor),
    };
    let mut tx = state.db.begin_read().await?;
    let page = super::runs::list(&mut tx, &ctx, filter).await?;
    let workflows = super::workflows::list(&mut tx, &ctx, WorkflowFilter { limit: Some(100), ..Default::default() }).await?.data;
    tx.commit().await?;
    Ok((page, workflows))
}

#[server(prefix = "/sf", endpoint = "flow_run")]
pub async fn flow_run(id: Uuid) -> Result<(RunDetail, Workflow), ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let run = super::runs::get(&mut tx, &ctx, id).await?;
    let workflow = super::workflows::get(&mut tx, &ctx, run.run.workflow_id).await?.workflow;
    tx.commit().await?;
    Ok((run, workflow))
}

#[server(prefix = "/sf", endpoint = "flow_run_control")]
pub async fn flow_run_control(id: Uuid, action: String) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    match action.as_str() {
        "pause" => super::runs::pause(&mut tx, &ctx, id).await?,
        "resume" => super::runs::resume(&mut tx, &ctx, id).await?,
        "cancel" => super::runs::cancel(&mut tx, &ctx, id).await?,
        _ => return Err(ApiError::field("action", "pause, resume or cancel")),
    };
    tx.commit().await?;
    Ok(())
}
