//! Flow tools: workflows and their versions, the seed's `trigger_workflow`
//! (`{workflow_id, payload}`), and the run reads and controls.

use serde_json::{json, Map, Value};

use super::{begin_write, finish_write, page_json, read_json, read_one, record_args, schema_with_ids, tool, write_new, write_one, Nothing};
use crate::flows::routes::PublishVersion;
use crate::flows::types::*;
use crate::flows::{runs, templates, triggers, workflows};
use crate::mcp::registry::{arguments, schema_of, Operation, ToolResult};
use crate::platform::context::{AppState, Ctx};

pub(super) static TOOLS: &[Operation] = &[
    tool!(read list_workflows, FlowsRead, schema_of::<WorkflowFilter>, "List the workspace's workflows."),
    tool!(read get_workflow, FlowsRead, || schema_with_ids::<Nothing>(&[("workflow_id", "The workflow.")], false),
        "Read a workflow: its settings, its newest graph and its versions."),
    tool!(write create_workflow, FlowsWrite, idempotent: false, destructive: false, || schema_with_ids::<NewWorkflow>(&[], true),
        "Create a workflow from a graph of steps (agent_call, http_request, update_lead, add_tag, add_to_list, enrich_lead, create_task, \
         log_activity, add_to_sequence, send_email, send_webhook, get_lead, get_deal, wait, branch). The graph is checked: one entry, no cycles, every step reachable, \
         every {{variable}} defined upstream; problems name the step."),
    tool!(write update_workflow, FlowsWrite, idempotent: true, destructive: false,
        || schema_with_ids::<WorkflowPatch>(&[("workflow_id", "The workflow to change.")], true),
        "Change a workflow; a new graph is a new draft version (runs keep the version they started on)."),
    tool!(write publish_workflow, FlowsWrite, idempotent: true, destructive: false,
        || schema_with_ids::<PublishVersion>(&[("workflow_id", "The workflow.")], true),
        "Publish a version (the newest when none is named): new runs start on it; the one published before is archived."),
    tool!(write archive_workflow_version, FlowsWrite, idempotent: true, destructive: false,
        || schema_with_ids::<VersionInput>(&[("workflow_id", "The workflow.")], true),
        "Archive a draft version; its runs are kept."),
    tool!(write trigger_workflow, FlowsWrite, idempotent: false, destructive: false,
        || schema_with_ids::<TriggerInput>(&[("workflow_id", "The workflow to run (its published version).")], true),
        "Start a run of a workflow with a payload checked against its input schema, e.g. {workflow_id, payload: {lead_id}}."),
    tool!(read list_workflow_templates, FlowsRead, schema_of::<Nothing>,
        "The template gallery: lead-to-sequence, speed-to-lead, score-threshold-alert, stale-deal-nudge, invoice-paid-thank-you; \
         each with its trigger, typed inputs (inputs_schema) and steps."),
    tool!(write create_workflow_from_template, FlowsWrite, idempotent: false, destructive: false, || schema_with_ids::<FromTemplate>(&[], true),
        "Create a workflow and its trigger from a template, e.g. {template_slug: \"lead-to-sequence\", inputs: {segment_id, \
         enrichment_connector_id, sequence_id}}; a draft unless publish is true."),
    tool!(read list_workflow_triggers, FlowsRead, schema_of::<TriggerFilter>, "List external triggers, by workflow or event."),
    tool!(write create_workflow_trigger, FlowsWrite, idempotent: false, destructive: false, || schema_with_ids::<NewTrigger>(&[], true),
        "Add an external trigger to a workflow: an event (lead.created, lead.updated, lead.score_crossed, segment.entered, segment.left, \
         form.submitted, deal.stage_changed, invoice.paid, email.replied, email.unsubscribed) with filters, or a signed webhook."),
    tool!(write update_workflow_trigger, FlowsWrite, idempotent: true, destructive: false,
        || schema_with_ids::<TriggerPatch>(&[("trigger_id", "The trigger.")], true), "Turn a trigger off or on."),
    tool!(write delete_workflow_trigger, FlowsWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("trigger_id", "The trigger to remove.")], true), "Remove a trigger."),
    tool!(read list_workflow_runs, FlowsRead, schema_of::<RunFilter>, "List runs by workflow, status, trigger type or date range."),
    tool!(read get_workflow_run, FlowsRead, || schema_with_ids::<Nothing>(&[("run_id", "The run.")], false),
        "Read a run: its status, current step and the per-step trace (input, output, error, attempt, start and end)."),
    tool!(write pause_workflow_run, FlowsWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("run_id", "The run to pause.")], true), "Pause a run at its next step."),
    tool!(write resume_workflow_run, FlowsWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("run_id", "The run to resume.")], true), "Resume a paused run where it stood."),
    tool!(write cancel_workflow_run, FlowsWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("run_id", "The run to cancel.")], true), "Cancel a run: no further step runs."),
];

/// A version of a workflow.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct VersionInput {
    version: i64,
}

pub(super) async fn list_workflows(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let filter: WorkflowFilter = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = workflows::list(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(page_json("workflows", page))
}

read_one!(get_workflow, "workflow_id", "workflow", workflows::get);
write_new!(create_workflow, NewWorkflow, "workflow", workflows::create);
write_one!(update_workflow, WorkflowPatch, "workflow_id", "workflow", workflows::update);

write_one!(publish_workflow, PublishVersion, "workflow_id", "workflow", |tx, ctx, id, input: PublishVersion| workflows::publish(
    tx,
    ctx,
    id,
    input.version
));
write_one!(archive_workflow_version, VersionInput, "workflow_id", "workflow", |tx, ctx, id, input: VersionInput| {
    workflows::archive_version(tx, ctx, id, input.version)
});

write_one!(trigger_workflow, TriggerInput, "workflow_id", "run", runs::trigger);
read_one!(get_workflow_run, "run_id", "run", runs::get);

pub(super) async fn list_workflow_runs(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let filter: RunFilter = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = runs::list(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(page_json("runs", page))
}

write_one!(pause_workflow_run, Nothing, "run_id", "run", |tx, ctx, id, _: Nothing| runs::pause(tx, ctx, id));
write_one!(resume_workflow_run, Nothing, "run_id", "run", |tx, ctx, id, _: Nothing| runs::resume(tx, ctx, id));
write_one!(cancel_workflow_run, Nothing, "run_id", "run", |tx, ctx, id, _: Nothing| runs::cancel(tx, ctx, id));

pub(super) async fn list_workflow_templates(_: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let _: Nothing = arguments(args)?;
    Ok(read_json("templates", templates::list(ctx)?))
}

write_new!(create_workflow_from_template, FromTemplate, "workflow", templates::create_workflow);

pub(super) async fn list_workflow_triggers(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let filter: TriggerFilter = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let found = triggers::list(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(read_json("triggers", found))
}

write_new!(create_workflow_trigger, NewTrigger, "trigger", triggers::create);
write_one!(update_workflow_trigger, TriggerPatch, "trigger_id", "trigger", triggers::update);
write_one!(delete_workflow_trigger, Nothing, "trigger_id", "trigger", |tx, ctx, id, _: Nothing| triggers::delete(tx, ctx, id));
