//! Flow tools: workflows and their versions.

use serde_json::{json, Map, Value};

use super::{begin_write, finish_write, page_json, read_json, read_one, record_args, schema_with_ids, tool, write_new, write_one, Nothing};
use crate::flows::routes::PublishVersion;
use crate::flows::types::*;
use crate::flows::workflows;
use crate::mcp::registry::{arguments, schema_of, Operation, ToolResult};
use crate::platform::context::{AppState, Ctx};

pub(super) static TOOLS: &[Operation] = &[
    tool!(read list_workflows, FlowsRead, schema_of::<WorkflowFilter>, "List the workspace's workflows."),
    tool!(read get_workflow, FlowsRead, || schema_with_ids::<Nothing>(&[("workflow_id", "The workflow.")], false),
        "Read a workflow: its settings, its newest graph and its versions."),
    tool!(write create_workflow, FlowsWrite, idempotent: false, destructive: false, || schema_with_ids::<NewWorkflow>(&[], true),
        "Create a workflow from a graph of steps (agent_call, http_request, webhook, update_lead, add_tag, add_to_list, enrich_lead, \
         create_task, log_activity, add_to_sequence, wait, branch). The graph is checked: one entry, no cycles, every step reachable, \
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

pub(super) async fn publish_workflow(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<PublishVersion>(args, &["workflow_id"])?;
    let mut tx = begin_write(state, ctx, "publish_workflow", args.idempotency_key.as_deref(), &args.request).await?;
    let workflow = workflows::publish(&mut tx, ctx, args.ids[0], args.input.version).await?;
    finish_write(tx, json!({ "workflow": workflow })).await
}

pub(super) async fn archive_workflow_version(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<VersionInput>(args, &["workflow_id"])?;
    let mut tx = begin_write(state, ctx, "archive_workflow_version", args.idempotency_key.as_deref(), &args.request).await?;
    let workflow = workflows::archive_version(&mut tx, ctx, args.ids[0], args.input.version).await?;
    finish_write(tx, json!({ "workflow": workflow })).await
}
