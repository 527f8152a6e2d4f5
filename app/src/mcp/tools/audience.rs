//! Audience tools: lists, segments and searches within them, imports,
//! capture forms and enrichment.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{begin_write, finish_write, request_id};
use super::{page_json, read_json, record_args, schema_with_ids, tool, Nothing};
use crate::audience::types::{
    CaptureFormPatch, EnrichLead, EnrichmentConnectorPatch, EventQuery, ListPatch, MemberChange, NewCaptureForm, NewEnrichmentConnector,
    NewList, PreviewRequest, StartImport,
};
use crate::audience::{enrichment, forms, imports, lists};
use crate::mcp::registry::{arguments, ToolResult};
use crate::mcp::registry::{schema_of, Operation};
use crate::platform::context::{AppState, Ctx};

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SearchLeadsInput {
    /// Free text matched against name, email, company and title.
    query: Option<String>,
    /// Only members of this segment or static list of leads.
    segment_id: Option<Uuid>,
    #[schemars(range(min = 1, max = 100))]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub(super) async fn search_leads(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: SearchLeadsInput = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page =
        crate::audience::lists::search_leads(&mut tx, ctx, input.segment_id, input.query.as_deref(), input.limit, input.cursor.as_deref())
            .await?;
    tx.commit().await?;
    Ok(json!({ "leads": page.data, "next_cursor": page.next_cursor, "request_id": request_id() }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateSegmentInput {
    name: String,
    /// The segment's rule tree: a group `{"match": "all"|"any", "rules": [...]}`
    /// of conditions `{"field": "score", "op": "gte", "value": 50}` (the
    /// segment builder's fields and operators).
    rules: Map<String, Value>,
    idempotency_key: Option<String>,
}

pub(super) async fn create_segment(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: CreateSegmentInput = arguments(args.clone())?;
    let rules: crate::audience::rules::Rule = arguments(input.rules).map_err(|e| e.nested_in("rules"))?;
    let mut tx = begin_write(state, ctx, "create_segment", input.idempotency_key.as_deref(), &args).await?;
    let segment = crate::audience::types::NewList {
        name: input.name,
        kind: Some(crate::audience::types::ListKind::Segment),
        entity: Some(crate::audience::types::ListEntity::Lead),
        rules: Some(rules),
    };
    let segment = crate::audience::lists::create(&mut tx, ctx, segment).await?;
    finish_write(tx, json!({ "segment": segment })).await
}

pub(super) static TOOLS: &[Operation] = &[
    tool!(read list_lists, CrmRead, schema_of::<PageInput>, "List the workspace's static lists and segments with their member counts."),
    tool!(read get_list, CrmRead, || schema_with_ids::<Nothing>(&[("list_id", "The list or segment.")], false), "Read one list or segment."),
    tool!(write create_list, CrmWrite, idempotent: false, destructive: false, || schema_with_ids::<NewList>(&[], true),
        "Create a static list of leads or companies, or a segment when rules are given."),
    tool!(write update_list, CrmWrite, idempotent: true, destructive: false,
        || schema_with_ids::<ListPatch>(&[("list_id", "The list or segment to change.")], true),
        "Rename a list, or change a segment's rules (its members follow at once)."),
    tool!(write delete_list, CrmWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("list_id", "The list or segment to delete.")], true),
        "Delete a list or segment (its members stay in the CRM)."),
    tool!(read list_list_members, CrmRead, || schema_with_ids::<PageInput>(&[("list_id", "The list or segment.")], false),
        "The members of a list or segment."),
    tool!(write add_list_members, CrmWrite, idempotent: true, destructive: false,
        || schema_with_ids::<MemberChange>(&[("list_id", "The static list.")], true),
        "Add leads or companies to a static list by id, or every member of a segment."),
    tool!(write remove_list_members, CrmWrite, idempotent: true, destructive: true,
        || schema_with_ids::<MemberChange>(&[("list_id", "The static list.")], true),
        "Remove leads or companies from a static list."),
    tool!(write refresh_segment, CrmWrite, idempotent: true, destructive: false,
        || schema_with_ids::<Nothing>(&[("list_id", "The segment.")], true),
        "Recompute a segment's members from its rules now."),
    tool!(read preview_segment, CrmRead, schema_of::<PreviewRequest>, "Count and sample the leads a segment's rules would hold, saving nothing."),
    tool!(read list_audience_events, CrmRead, schema_of::<EventQuery>,
        "Membership changes of lists and segments, in the order they happened (after a sequence number)."),
    tool!(read list_imports, CrmRead, schema_of::<PageInput>, "List CSV and JSON imports with their status and counts."),
    tool!(read get_import, CrmRead, || schema_with_ids::<Nothing>(&[("import_id", "The import.")], false),
        "Read one import: status, progress, counts and the suggested mapping."),
    tool!(read list_import_errors, CrmRead, || schema_with_ids::<ImportErrorsInput>(&[("import_id", "The import.")], false),
        "The rows an import refused, with the reason for each."),
    tool!(write start_import, CrmWrite, idempotent: true, destructive: false,
        || schema_with_ids::<StartImport>(&[("import_id", "An uploaded import.")], true),
        "Start an uploaded import with a column mapping (the suggested one when absent)."),
    tool!(write cancel_import, CrmWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("import_id", "The import to stop.")], true),
        "Stop an import; the rows already written stay."),
    tool!(read list_forms, CrmRead, schema_of::<Nothing>, "List the workspace's lead capture forms."),
    tool!(read get_form, CrmRead, || schema_with_ids::<Nothing>(&[("form_id", "The form.")], false), "Read one capture form."),
    tool!(write create_form, CrmWrite, idempotent: false, destructive: false, || schema_with_ids::<NewCaptureForm>(&[], true),
        "Create a lead capture form: its fields, the list new leads join, allowed origins."),
    tool!(write update_form, CrmWrite, idempotent: true, destructive: false,
        || schema_with_ids::<CaptureFormPatch>(&[("form_id", "The form to change.")], true), "Change a capture form."),
    tool!(write delete_form, CrmWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("form_id", "The form to delete.")], true),
        "Delete a capture form (its leads stay)."),
    tool!(read list_enrichment_connectors, CrmRead, schema_of::<Nothing>, "List the enrichment connectors leads can be enriched through."),
    tool!(read get_enrichment_connector, CrmRead, || schema_with_ids::<Nothing>(&[("connector_id", "The connector to read.")], false),
        "Read one enrichment connector."),
    tool!(write create_enrichment_connector, CrmWrite, idempotent: false, destructive: false,
        || schema_with_ids::<NewEnrichmentConnector>(&[], true), "Add an enrichment connector (an HTTP endpoint that answers with lead fields)."),
    tool!(write update_enrichment_connector, CrmWrite, idempotent: true, destructive: false,
        || schema_with_ids::<EnrichmentConnectorPatch>(&[("connector_id", "The connector to change.")], true),
        "Change an enrichment connector."),
    tool!(write delete_enrichment_connector, CrmWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("connector_id", "The connector to delete.")], true), "Delete an enrichment connector."),
    tool!(write enrich_lead, CrmWrite, idempotent: true, destructive: false,
        || schema_with_ids::<EnrichLead>(&[("lead_id", "The lead to enrich.")], false),
        "Enrich a lead through a connector now: its answer fills the lead's empty fields."),
];

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PageInput {
    #[schemars(range(min = 1, max = 100))]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ImportErrorsInput {
    /// Only rows after this line of the file.
    after_line: Option<i64>,
    #[schemars(range(min = 1, max = 1000))]
    limit: Option<i64>,
}

pub(super) async fn list_lists(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: PageInput = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = lists::list(&mut tx, ctx, input.limit, input.cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(page_json("lists", page))
}

pub(super) async fn get_list(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["list_id"])?;
    let mut tx = state.db.begin_read().await?;
    let list = lists::get(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("list", list))
}

pub(super) async fn create_list(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<NewList>(args, &[])?;
    let mut tx = begin_write(state, ctx, "create_list", args.idempotency_key.as_deref(), &args.request).await?;
    let list = lists::create(&mut tx, ctx, args.input).await?;
    finish_write(tx, json!({ "list": list })).await
}

pub(super) async fn update_list(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<ListPatch>(args, &["list_id"])?;
    let mut tx = begin_write(state, ctx, "update_list", args.idempotency_key.as_deref(), &args.request).await?;
    let list = lists::update(&mut tx, ctx, args.ids[0], args.input).await?;
    finish_write(tx, json!({ "list": list })).await
}

pub(super) async fn delete_list(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["list_id"])?;
    let mut tx = begin_write(state, ctx, "delete_list", args.idempotency_key.as_deref(), &args.request).await?;
    let list = lists::delete(&mut tx, ctx, args.ids[0]).await?;
    finish_write(tx, json!({ "list": list })).await
}

pub(super) async fn list_list_members(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<PageInput>(args, &["list_id"])?;
    let mut tx = state.db.begin_read().await?;
    let page = lists::members(&mut tx, ctx, args.ids[0], args.input.limit, args.input.cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(page_json("members", page))
}

pub(super) async fn add_list_members(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<MemberChange>(args, &["list_id"])?;
    let mut tx = begin_write(state, ctx, "add_list_members", args.idempotency_key.as_deref(), &args.request).await?;
    let result = lists::add_members(&mut tx, ctx, args.ids[0], args.input).await?;
    finish_write(tx, json!({ "result": result })).await
}

pub(super) async fn remove_list_members(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<MemberChange>(args, &["list_id"])?;
    let mut tx = begin_write(state, ctx, "remove_list_members", args.idempotency_key.as_deref(), &args.request).await?;
    let result = lists::remove_members(&mut tx, ctx, args.ids[0], args.input).await?;
    finish_write(tx, json!({ "result": result })).await
}

pub(super) async fn refresh_segment(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["list_id"])?;
    let mut tx = begin_write(state, ctx, "refresh_segment", args.idempotency_key.as_deref(), &args.request).await?;
    let result = lists::refresh(&mut tx, ctx, args.ids[0]).await?;
    finish_write(tx, json!({ "result": result })).await
}

pub(super) async fn preview_segment(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: PreviewRequest = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let preview = lists::preview(&mut tx, ctx, &input.rules).await?;
    tx.commit().await?;
    Ok(read_json("preview", preview))
}

pub(super) async fn list_audience_events(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let query: EventQuery = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = lists::events(&mut tx, ctx, query).await?;
    tx.commit().await?;
    Ok(read_json("events", page))
}

pub(super) async fn list_imports(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: PageInput = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = imports::list(&mut tx, ctx, input.limit, input.cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(page_json("imports", page))
}

pub(super) async fn get_import(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["import_id"])?;
    let mut tx = state.db.begin_read().await?;
    let import = imports::get(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("import", import))
}

pub(super) async fn list_import_errors(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<ImportErrorsInput>(args, &["import_id"])?;
    let mut tx = state.db.begin_read().await?;
    let errors = imports::row_errors(&mut tx, ctx, args.ids[0], args.input.after_line, args.input.limit).await?;
    tx.commit().await?;
    Ok(read_json("errors", errors))
}

pub(super) async fn start_import(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<StartImport>(args, &["import_id"])?;
    let mut tx = begin_write(state, ctx, "start_import", args.idempotency_key.as_deref(), &args.request).await?;
    let import = imports::start(&mut tx, ctx, args.ids[0], args.input).await?;
    finish_write(tx, json!({ "import": import })).await
}

pub(super) async fn cancel_import(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["import_id"])?;
    let mut tx = begin_write(state, ctx, "cancel_import", args.idempotency_key.as_deref(), &args.request).await?;
    let import = imports::cancel(&mut tx, ctx, args.ids[0]).await?;
    finish_write(tx, json!({ "import": import })).await
}

pub(super) async fn list_forms(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let _: Nothing = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let found = forms::list(&mut tx, ctx).await?;
    tx.commit().await?;
    Ok(read_json("forms", found))
}

pub(super) async fn get_form(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["form_id"])?;
    let mut tx = state.db.begin_read().await?;
    let form = forms::get(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("form", form))
}

pub(super) async fn create_form(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<NewCaptureForm>(args, &[])?;
    let mut tx = begin_write(state, ctx, "create_form", args.idempotency_key.as_deref(), &args.request).await?;
    let form = forms::create(&mut tx, ctx, args.input).await?;
    finish_write(tx, json!({ "form": form })).await
}

pub(super) async fn update_form(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<CaptureFormPatch>(args, &["form_id"])?;
    let mut tx = begin_write(state, ctx, "update_form", args.idempotency_key.as_deref(), &args.request).await?;
    let form = forms::update(&mut tx, ctx, args.ids[0], args.input).await?;
    finish_write(tx, json!({ "form": form })).await
}

pub(super) async fn delete_form(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["form_id"])?;
    let mut tx = begin_write(state, ctx, "delete_form", args.idempotency_key.as_deref(), &args.request).await?;
    let form = forms::delete(&mut tx, ctx, args.ids[0]).await?;
    finish_write(tx, json!({ "form": form })).await
}

pub(super) async fn list_enrichment_connectors(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let _: Nothing = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let found = enrichment::list(&mut tx, ctx).await?;
    tx.commit().await?;
    Ok(read_json("connectors", found))
}

pub(super) async fn get_enrichment_connector(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["connector_id"])?;
    let mut tx = state.db.begin_read().await?;
    let connector = enrichment::get(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("connector", connector))
}

pub(super) async fn create_enrichment_connector(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<NewEnrichmentConnector>(args, &[])?;
    let mut tx = begin_write(state, ctx, "create_enrichment_connector", args.idempotency_key.as_deref(), &args.request).await?;
    let connector = enrichment::create(&mut tx, ctx, args.input, state.config.enrichment_private_networks).await?;
    finish_write(tx, json!({ "connector": connector })).await
}

pub(super) async fn update_enrichment_connector(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<EnrichmentConnectorPatch>(args, &["connector_id"])?;
    let mut tx = begin_write(state, ctx, "update_enrichment_connector", args.idempotency_key.as_deref(), &args.request).await?;
    let connector = enrichment::update(&mut tx, ctx, args.ids[0], args.input, state.config.enrichment_private_networks).await?;
    finish_write(tx, json!({ "connector": connector })).await
}

pub(super) async fn delete_enrichment_connector(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["connector_id"])?;
    let mut tx = begin_write(state, ctx, "delete_enrichment_connector", args.idempotency_key.as_deref(), &args.request).await?;
    let connector = enrichment::delete(&mut tx, ctx, args.ids[0]).await?;
    finish_write(tx, json!({ "connector": connector })).await
}

/// Enrichment calls the connector outside any transaction (it may take
/// seconds), so it has no idempotency key: a repeat asks the connector
/// again and fills only what is still empty.
pub(super) async fn enrich_lead(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<EnrichLead>(args, &["lead_id"])?;
    let lead = enrichment::enrich_lead(&state.db, ctx, args.ids[0], args.input, state.config.enrichment_private_networks).await?;
    Ok(read_json("lead", lead))
}
