//! The template gallery: ready workflows with their trigger, made from a
//! few typed inputs. Each is an ordinary workflow once created (a draft
//! unless `publish` is asked), edited and versioned like any other.

use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::events::payload_schema;
use super::types::*;
use super::{triggers, workflows};
use crate::error::{AppError, AppResult};
use crate::platform::context::Ctx;
use crate::platform::db::Tx;
use crate::platform::types::Scope;

struct Template {
    slug: &'static str,
    name: &'static str,
    description: &'static str,
    event: &'static str,
    inputs: fn() -> Value,
    build: fn(&Map<String, Value>) -> AppResult<Built>,
}

/// What a template makes from its inputs.
struct Built {
    graph: Value,
    filters: TriggerFilters,
}

const TEMPLATES: &[Template] = &[
    Template {
        slug: "lead-to-sequence",
        name: "Lead to sequence",
        description: "When a lead enters a segment, enrich it, then add it to an approved email sequence.",
        event: "segment.entered",
        inputs: || {
            inputs(&[
                ("segment_id", "string", "The segment whose newcomers start a run", true),
                ("enrichment_connector_id", "string", "The enrichment connector that fills the lead in", true),
                ("sequence_id", "string", "An approved email sequence on that segment", true),
            ])
        },
        build: |i| {
            Ok(Built {
                graph: json!({"entry": "enrich", "steps": [
                    {"id": "enrich", "name": "Enrich the lead", "next": "sequence",
                     "action": {"type": "enrich_lead", "lead_id": "{{input.lead_id}}", "connector_id": id(i, "enrichment_connector_id")?}},
                    {"id": "sequence", "name": "Add to the sequence",
                     "action": {"type": "add_to_sequence", "lead_id": "{{input.lead_id}}", "sequence_id": id(i, "sequence_id")?}},
                ]}),
                filters: TriggerFilters { segment_id: Some(uuid(i, "segment_id")?), ..Default::default() },
            })
        },
    },
    Template {
        slug: "speed-to-lead",
        name: "Speed to lead",
        description: "When a form is submitted, give the lead's owner a task; if no one has logged an activity on the lead \
                      within the hour, send a notification.",
        event: "form.submitted",
        inputs: || {
            inputs(&[
                ("form_id", "string", "The capture form", true),
                ("notify_url", "string", "Where the notification is posted (a Slack-style incoming webhook)", true),
                ("wait_minutes", "integer", "How long the owner has (60 when absent)", false),
            ])
        },
        build: |i| {
            let minutes = int(i, "wait_minutes", 60, 1, 7 * 24 * 60)?;
            Ok(Built {
                graph: json!({"entry": "task", "steps": [
                    {"id": "task", "name": "Task for the owner", "next": "wait",
                     "action": {"type": "create_task", "title": "Contact this new lead now", "lead_id": "{{input.lead_id}}", "due_in_hours": 1}},
                    {"id": "wait", "name": format!("Wait {minutes} minutes"), "next": "check",
                     "action": {"type": "wait", "seconds": minutes * 60}},
                    {"id": "check", "name": "Read the lead", "next": "decide",
                     "action": {"type": "get_lead", "lead_id": "{{input.lead_id}}"}},
                    {"id": "decide", "name": "Contacted?",
                     "action": {"type": "branch", "rules": [
                        {"label": "not contacted", "when": {"var": "steps.check.output.activities_since_run_started", "op": "eq", "value": 0}, "next": "notify"}]}},
                    {"id": "notify", "name": "Notify",
                     "action": {"type": "send_webhook", "url": url(i, "notify_url")?, "body": {
                        "text": format!("No one has contacted {{{{steps.check.output.name}}}} ({{{{steps.check.output.email}}}}) within {minutes} minutes of their form submission."),
                        "lead_id": "{{input.lead_id}}"}}},
                ]}),
                filters: TriggerFilters { form_id: Some(uuid(i, "form_id")?), ..Default::default() },
            })
        },
    },
    Template {
        slug: "score-threshold-alert",
        name: "Score threshold alert",
        description: "When a lead's score crosses a threshold, notify the team and give the owner a follow-up task.",
        event: "lead.score_crossed",
        inputs: || {
            inputs(&[
                ("threshold", "integer", "The score that makes a lead hot", true),
                ("notify_url", "string", "Where the alert is posted (a Slack-style incoming webhook)", true),
            ])
        },
        build: |i| {
            let threshold = int(i, "threshold", 0, -1_000_000, 1_000_000)?;
            Ok(Built {
                graph: json!({"entry": "notify", "steps": [
                    {"id": "notify", "name": "Alert", "next": "task",
                     "action": {"type": "send_webhook", "url": url(i, "notify_url")?, "body": {
                        "text": format!("A lead's score crossed {threshold}: now {{{{input.new_score}}}}."),
                        "lead_id": "{{input.lead_id}}", "score": "{{input.new_score}}"}}},
                    {"id": "task", "name": "Follow-up task",
                     "action": {"type": "create_task", "title": "Follow up: this lead's score crossed the threshold",
                                "lead_id": "{{input.lead_id}}", "due_in_hours": 4}},
                ]}),
                filters: TriggerFilters { threshold: Some(threshold), ..Default::default() },
            })
        },
    },
    Template {
        slug: "stale-deal-nudge",
        name: "Stale deal nudge",
        description: "When a deal moves to a stage, wait; if it is still there after that many days, give its owner a task.",
        event: "deal.stage_changed",
        inputs: || {
            inputs(&[
                ("stale_days", "integer", "Days in the stage before the nudge", true),
                ("stage_id", "string", "Only deals moved to this stage (any stage when absent)", false),
            ])
        },
        build: |i| {
            let days = int(i, "stale_days", 7, 1, 365)?;
            let stage_id = match i.get("stage_id") {
                None | Some(Value::Null) => None,
                Some(_) => Some(uuid(i, "stage_id")?),
            };
            Ok(Built {
                graph: json!({"entry": "wait", "steps": [
                    {"id": "wait", "name": format!("Wait {days} days"), "next": "check", "action": {"type": "wait", "seconds": days * 86_400}},
                    {"id": "check", "name": "Read the deal", "next": "decide", "action": {"type": "get_deal", "deal_id": "{{input.deal_id}}"}},
                    {"id": "decide", "name": "Still in the stage?",
                     "action": {"type": "branch", "rules": [
                        {"label": "still there", "when": {"var": "steps.check.output.stage_id", "op": "eq", "value": "{{input.to_stage_id}}"}, "next": "nudge"}]}},
                    {"id": "nudge", "name": "Nudge the owner",
                     "action": {"type": "create_task", "title": format!("Nudge: {{{{steps.check.output.name}}}} has not moved in {days} days"),
                                "deal_id": "{{input.deal_id}}", "due_in_hours": 24}},
                ]}),
                filters: TriggerFilters { stage_id, ..Default::default() },
            })
        },
    },
    Template {
        slug: "invoice-paid-thank-you",
        name: "Invoice paid thank-you",
        description: "When an invoice is paid in full, email the lead it was for a thank-you; without a lead, give the team a task.",
        event: "invoice.paid",
        inputs: || {
            inputs(&[
                ("connection_id", "string", "The email sender the thank-you goes out through", true),
                ("subject", "string", "The email's subject (\"Thank you for your payment\" when absent)", false),
            ])
        },
        build: |i| {
            let subject = i.get("subject").and_then(Value::as_str).unwrap_or("Thank you for your payment");
            Ok(Built {
                graph: json!({"entry": "decide", "steps": [
                    {"id": "decide", "name": "Has a lead?",
                     "action": {"type": "branch", "default": "task", "rules": [
                        {"label": "has a lead", "when": {"var": "input.lead_id", "op": "is_set"}, "next": "email"}]}},
                    {"id": "email", "name": "Thank-you email",
                     "action": {"type": "send_email", "lead_id": "{{input.lead_id}}", "subject": subject,
                                "html_body": "<p>Thank you: we received your payment for invoice {{input.number}}.</p>",
                                "connection_id": id(i, "connection_id")?}},
                    {"id": "task", "name": "Thank by hand",
                     "action": {"type": "create_task", "title": "Thank the customer for paying invoice {{input.number}}", "due_in_hours": 24}},
                ]}),
                filters: TriggerFilters::default(),
            })
        },
    },
];

fn inputs(fields: &[(&str, &str, &str, bool)]) -> Value {
    let properties: Map<String, Value> =
        fields.iter().map(|(name, kind, about, _)| (name.to_string(), json!({"type": kind, "description": about}))).collect();
    let required: Vec<&str> = fields.iter().filter(|f| f.3).map(|f| f.0).collect();
    json!({"type": "object", "properties": properties, "required": required})
}

fn uuid(inputs: &Map<String, Value>, name: &str) -> AppResult<Uuid> {
    inputs
        .get(name)
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s.trim()).ok())
        .ok_or_else(|| AppError::validation(format!("inputs.{name}"), format!("{name} is an id")))
}

fn id(inputs: &Map<String, Value>, name: &str) -> AppResult<String> {
    uuid(inputs, name).map(|u| u.to_string())
}

fn url(inputs: &Map<String, Value>, name: &str) -> AppResult<String> {
    match inputs.get(name).and_then(Value::as_str).map(str::trim) {
        Some(u) if (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= 2000 => Ok(u.to_string()),
        _ => Err(AppError::validation(format!("inputs.{name}"), format!("{name} is an http or https URL"))),
    }
}

fn int(inputs: &Map<String, Value>, name: &str, default: i64, min: i64, max: i64) -> AppResult<i64> {
    let value = inputs.get(name).and_then(Value::as_i64).unwrap_or(default);
    if !(min..=max).contains(&value) {
        return Err(AppError::validation(format!("inputs.{name}"), format!("{name} is from {min} to {max}")));
    }
    Ok(value)
}

fn describe(t: &Template) -> WorkflowTemplate {
    // The step list comes from building with placeholder inputs.
    let placeholder: Map<String, Value> = (t.inputs)()["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, p)| {
            let value = match (p["type"].as_str(), name.as_str()) {
                (Some("integer"), _) => json!(1),
                (_, n) if n.ends_with("url") => json!("https://example.com/hook"),
                _ => json!(Uuid::nil().to_string()),
            };
            (name.clone(), value)
        })
        .collect();
    let steps = (t.build)(&placeholder)
        .ok()
        .and_then(|b| serde_json::from_value::<Graph>(b.graph).ok())
        .map(|g| g.steps.iter().map(|s| format!("{}: {}", s.id, s.action.kind())).collect())
        .unwrap_or_default();
    WorkflowTemplate {
        slug: t.slug.into(),
        name: t.name.into(),
        description: t.description.into(),
        trigger: t.event.into(),
        inputs_schema: (t.inputs)(),
        steps,
    }
}

pub fn list(ctx: &Ctx) -> AppResult<Vec<WorkflowTemplate>> {
    ctx.require(Scope::FlowsRead)?;
    Ok(TEMPLATES.iter().map(describe).collect())
}

/// Makes a workflow and its trigger from a template and typed inputs.
pub async fn create_workflow(tx: &mut Tx, ctx: &Ctx, input: FromTemplate) -> AppResult<WorkflowDetail> {
    ctx.require(Scope::FlowsWrite)?;
    let Some(template) = TEMPLATES.iter().find(|t| t.slug == input.template_slug) else {
        let slugs: Vec<&str> = TEMPLATES.iter().map(|t| t.slug).collect();
        return Err(AppError::validation("template_slug", format!("no such template: one of {}", slugs.join(", "))));
    };
    let schema = (template.inputs)();
    super::workflows::check_payload(&schema, &Value::Object(input.inputs.clone())).map_err(|e| match e {
        AppError::Validation { field: Some(field), message } => {
            AppError::Validation { field: Some(field.replacen("payload.", "inputs.", 1)), message }
        }
        other => other,
    })?;
    let built = (template.build)(&input.inputs)?;
    let graph: Graph = serde_json::from_value(built.graph).map_err(|e| AppError::Internal(format!("template {}: {e}", template.slug)))?;
    let new = NewWorkflow {
        name: input.name.unwrap_or_else(|| template.name.to_string()),
        description: Some(template.description.to_string()),
        graph,
        input_schema: Some(payload_schema(template.event)),
        reenrollment: None,
        concurrency_limit: None,
        notify_url: None,
        publish: input.publish,
    };
    let created = workflows::create_with_template(tx, ctx, new, Some(template.slug)).await?;
    let trigger = NewTrigger {
        workflow_id: created.workflow.id,
        kind: Some(TriggerKind::Event),
        event: Some(template.event.to_string()),
        filters: Some(built.filters),
    };
    triggers::create(tx, ctx, trigger).await?;
    workflows::get(tx, ctx, created.workflow.id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_builds_a_graph_that_passes_the_checks() {
        for t in TEMPLATES {
            let described = describe(t);
            assert!(!described.steps.is_empty(), "{} builds with placeholder inputs", t.slug);
            let placeholder: Map<String, Value> = described.inputs_schema["properties"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(n, p)| {
                    let v = match (p["type"].as_str(), n.as_str()) {
                        (Some("integer"), _) => json!(3),
                        (_, n) if n.ends_with("url") => json!("https://example.com/hook"),
                        _ => json!(Uuid::now_v7().to_string()),
                    };
                    (n.clone(), v)
                })
                .collect();
            let graph: Graph = serde_json::from_value((t.build)(&placeholder).unwrap().graph).unwrap();
            let problems = super::super::graph::check(&graph, &payload_schema(t.event));
            assert!(problems.is_empty(), "{}: {problems:?}", t.slug);
        }
    }
}
