//! CRM tools beyond the seed's: reading and changing single records,
//! memberships, tasks, activities, stages, the pipeline and the dashboard.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{begin_write, finish_write, page_json, read_json, read_one, record_args, schema_with_ids, tool, write_new, write_one, Nothing};
use crate::crm::activities::ops as activities;
use crate::crm::activities::types::{ActivityFilter, NewTask, TaskFilter, TaskPatch};
use crate::crm::companies::ops as companies;
use crate::crm::companies::types::CompanyPatch;
use crate::crm::contacts::ops as contacts;
use crate::crm::contacts::types::{ContactPatch, MembershipPatch};
use crate::crm::custom_fields::ops as custom_fields;
use crate::crm::custom_fields::types::{CustomFieldPatch, NewCustomField};
use crate::crm::deals::ops as deals;
use crate::crm::deals::stages;
use crate::crm::deals::types::{DealFilter, DealStagePatch, StageOrder};
use crate::crm::leads::ops as leads;
use crate::crm::leads::types::LeadPatch;
use crate::mcp::registry::{arguments, schema_of, Operation, ToolResult};
use crate::platform::context::{AppState, Ctx};

pub(super) static TOOLS: &[Operation] = &[
    tool!(read list_custom_fields, CrmRead, schema_of::<Nothing>,
        "The workspace's declared lead custom fields: key, label, type (text, number, date, boolean, choice), options, indexed."),
    tool!(read get_custom_field, CrmRead, || schema_with_ids::<Nothing>(&[("custom_field_id", "The declared field.")], false),
        "Read one declared custom field."),
    tool!(write create_custom_field, CrmWrite, idempotent: false, destructive: false, || schema_with_ids::<NewCustomField>(&[], true),
        "Declare a lead custom field with a type (and options for a choice); lead writes are then checked against it and segment \
         rules compare it by type. indexed: true builds a database index for fast segment counts and filters."),
    tool!(write update_custom_field, CrmWrite, idempotent: true, destructive: false,
        || schema_with_ids::<CustomFieldPatch>(&[("custom_field_id", "The declared field to change.")], true),
        "Change a declared field's label, type, options or index; a new type must fit the values leads hold."),
    tool!(write delete_custom_field, CrmWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("custom_field_id", "The declared field to forget.")], true),
        "Forget a declared field and its index; the values stay on the leads as free-form custom fields."),
    tool!(read get_lead, CrmRead, || schema_with_ids::<Nothing>(&[("lead_id", "The lead to read.")], false), "Read one lead."),
    tool!(write update_lead, CrmWrite, idempotent: true, destructive: false,
        || schema_with_ids::<LeadPatch>(&[("lead_id", "The lead to change.")], true),
        "Change a lead's fields; an absent field is left alone, null clears a nullable one."),
    tool!(write delete_lead, CrmWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("lead_id", "The lead to delete.")], true),
        "Delete a lead that has not been converted (it leaves every list and segment)."),
    tool!(read get_lead_timeline, CrmRead, || schema_with_ids::<Nothing>(&[("lead_id", "The lead.")], false),
        "A lead's activities, tasks and changes, newest first."),
    tool!(read get_contact, CrmRead, || schema_with_ids::<Nothing>(&[("contact_id", "The contact to read.")], false), "Read one contact."),
    tool!(write update_contact, CrmWrite, idempotent: true, destructive: false,
        || schema_with_ids::<ContactPatch>(&[("contact_id", "The contact to change.")], true),
        "Change a contact's fields; an absent field is left alone, null clears a nullable one."),
    tool!(read get_company, CrmRead, || schema_with_ids::<Nothing>(&[("company_id", "The company to read.")], false), "Read one company."),
    tool!(write update_company, CrmWrite, idempotent: true, destructive: false,
        || schema_with_ids::<CompanyPatch>(&[("company_id", "The company to change.")], true),
        "Change a company's fields; an absent field is left alone, null clears a nullable one."),
    tool!(read list_contact_companies, CrmRead, || schema_with_ids::<Nothing>(&[("contact_id", "The contact.")], false),
        "The companies a contact belongs to, with their role at each."),
    tool!(read list_company_contacts, CrmRead, || schema_with_ids::<Nothing>(&[("company_id", "The company.")], false),
        "The contacts of a company, with their roles."),
    tool!(write add_contact_to_company, CrmWrite, idempotent: false, destructive: false,
        || schema_with_ids::<RoleInput>(&[("contact_id", "The contact."), ("company_id", "The company it joins.")], true),
        "Make a contact a member of a company, with an optional role."),
    tool!(write update_contact_company, CrmWrite, idempotent: true, destructive: false,
        || schema_with_ids::<MembershipPatch>(&[("contact_id", "The contact."), ("company_id", "The company.")], true),
        "Change a contact's role at a company (null clears it)."),
    tool!(write remove_contact_from_company, CrmWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("contact_id", "The contact."), ("company_id", "The company it leaves.")], true),
        "End a contact's membership of a company."),
    tool!(read get_deal, CrmRead, || schema_with_ids::<Nothing>(&[("deal_id", "The deal to read.")], false), "Read one deal."),
    tool!(read list_deals, CrmRead, schema_of::<DealFilter>, "List deals by stage, company, owner or search text."),
    tool!(read get_pipeline, CrmRead, schema_of::<PipelineInput>,
        "The pipeline board: every stage with its deals, count and total per currency."),
    tool!(read get_deal_stage, CrmRead, || schema_with_ids::<Nothing>(&[("stage_id", "The stage to read.")], false), "Read one pipeline stage."),
    tool!(write update_pipeline_stage, CrmWrite, idempotent: true, destructive: false,
        || schema_with_ids::<DealStagePatch>(&[("stage_id", "The stage to change.")], true),
        "Rename a pipeline stage or change its kind, probability or color."),
    tool!(write reorder_pipeline_stages, CrmWrite, idempotent: true, destructive: false, schema_with_idempotency::<StageOrder>,
        "Put the pipeline's stages in a new order (every stage id, once)."),
    tool!(write delete_pipeline_stage, CrmWrite, idempotent: true, destructive: true,
        || schema_with_ids::<Nothing>(&[("stage_id", "The stage to delete.")], true),
        "Delete a pipeline stage that holds no deals."),
    tool!(read list_activities, CrmRead, schema_of::<ActivityFilter>, "List activities on a lead, contact, company or deal, newest first."),
    tool!(write create_task, CrmWrite, idempotent: false, destructive: false, schema_with_idempotency::<NewTask>,
        "Create a follow-up task, optionally due at a time, assigned and about a record."),
    tool!(write update_task, CrmWrite, idempotent: true, destructive: false,
        || schema_with_ids::<TaskPatch>(&[("task_id", "The task to change.")], true),
        "Change a task: title, due time, assignee, or mark it done."),
    tool!(read list_tasks, CrmRead, schema_of::<TaskFilter>, "List tasks by assignee (a user id, me or unassigned), status or lead."),
    tool!(read get_dashboard, CrmRead, schema_of::<Nothing>,
        "The workspace's figures: open pipeline, won this month, leads by status and source, tasks due."),
    tool!(read search_records, CrmRead, schema_of::<SearchInput>, "Search leads, contacts, companies and deals at once."),
];

/// A write's schema with only `idempotency_key` added.
fn schema_with_idempotency<T: JsonSchema>() -> Map<String, Value> {
    schema_with_ids::<T>(&[], true)
}

pub(super) async fn get_lead(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["lead_id"])?;
    let mut tx = state.db.begin_read().await?;
    let lead = leads::get(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("lead", lead))
}

pub(super) async fn update_lead(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<LeadPatch>(args, &["lead_id"])?;
    let mut tx = begin_write(state, ctx, "update_lead", args.idempotency_key.as_deref(), &args.request).await?;
    let lead = leads::update(&mut tx, ctx, args.ids[0], args.input).await?;
    finish_write(tx, json!({ "lead": lead })).await
}

pub(super) async fn delete_lead(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["lead_id"])?;
    let mut tx = begin_write(state, ctx, "delete_lead", args.idempotency_key.as_deref(), &args.request).await?;
    let lead = leads::delete(&mut tx, ctx, args.ids[0]).await?;
    finish_write(tx, json!({ "lead": lead })).await
}

pub(super) async fn get_lead_timeline(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["lead_id"])?;
    let mut tx = state.db.begin_read().await?;
    let timeline = activities::lead_timeline(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("timeline", timeline))
}

pub(super) async fn get_contact(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["contact_id"])?;
    let mut tx = state.db.begin_read().await?;
    let contact = contacts::get(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("contact", contact))
}

pub(super) async fn update_contact(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<ContactPatch>(args, &["contact_id"])?;
    let mut tx = begin_write(state, ctx, "update_contact", args.idempotency_key.as_deref(), &args.request).await?;
    let contact = contacts::update(&mut tx, ctx, args.ids[0], args.input).await?;
    finish_write(tx, json!({ "contact": contact })).await
}

pub(super) async fn get_company(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["company_id"])?;
    let mut tx = state.db.begin_read().await?;
    let company = companies::get(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("company", company))
}

pub(super) async fn update_company(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<CompanyPatch>(args, &["company_id"])?;
    let mut tx = begin_write(state, ctx, "update_company", args.idempotency_key.as_deref(), &args.request).await?;
    let company = companies::update(&mut tx, ctx, args.ids[0], args.input).await?;
    finish_write(tx, json!({ "company": company })).await
}

pub(super) async fn list_contact_companies(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["contact_id"])?;
    let mut tx = state.db.begin_read().await?;
    let memberships = contacts::memberships_of_contact(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("memberships", memberships))
}

pub(super) async fn list_company_contacts(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["company_id"])?;
    let mut tx = state.db.begin_read().await?;
    let memberships = contacts::memberships_of_company(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("memberships", memberships))
}

/// A contact's role at a company.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RoleInput {
    /// Their role there (Founder, Buyer, …).
    role: Option<String>,
}

pub(super) async fn add_contact_to_company(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<RoleInput>(args, &["contact_id", "company_id"])?;
    let mut tx = begin_write(state, ctx, "add_contact_to_company", args.idempotency_key.as_deref(), &args.request).await?;
    let membership = crate::crm::contacts::types::NewMembership { company_id: args.ids[1], role: args.input.role };
    let membership = contacts::add_membership(&mut tx, ctx, args.ids[0], membership).await?;
    finish_write(tx, json!({ "membership": membership })).await
}

pub(super) async fn update_contact_company(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<MembershipPatch>(args, &["contact_id", "company_id"])?;
    let mut tx = begin_write(state, ctx, "update_contact_company", args.idempotency_key.as_deref(), &args.request).await?;
    let membership = contacts::update_membership(&mut tx, ctx, args.ids[0], args.ids[1], args.input).await?;
    finish_write(tx, json!({ "membership": membership })).await
}

pub(super) async fn remove_contact_from_company(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["contact_id", "company_id"])?;
    let mut tx = begin_write(state, ctx, "remove_contact_from_company", args.idempotency_key.as_deref(), &args.request).await?;
    let membership = contacts::remove_membership(&mut tx, ctx, args.ids[0], args.ids[1]).await?;
    finish_write(tx, json!({ "membership": membership })).await
}

pub(super) async fn get_deal(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["deal_id"])?;
    let mut tx = state.db.begin_read().await?;
    let deal = deals::get(&mut tx, ctx, args.ids[0]).await?;
    let deal = super::crm::deal_json(&mut tx, ctx, &deal).await?;
    tx.commit().await?;
    Ok(read_json("deal", deal))
}

pub(super) async fn list_deals(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let filter: DealFilter = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = deals::list(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(page_json("deals", page))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PipelineInput {
    /// Only deals of this owner: a user id, `me` or `unassigned`.
    owner: Option<String>,
}

pub(super) async fn get_pipeline(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: PipelineInput = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let columns = deals::board(&mut tx, ctx, input.owner).await?;
    tx.commit().await?;
    Ok(read_json("columns", columns))
}

pub(super) async fn get_deal_stage(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["stage_id"])?;
    let mut tx = state.db.begin_read().await?;
    let stage = stages::get(&mut tx, ctx, args.ids[0]).await?;
    tx.commit().await?;
    Ok(read_json("stage", stage))
}

pub(super) async fn update_pipeline_stage(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<DealStagePatch>(args, &["stage_id"])?;
    let mut tx = begin_write(state, ctx, "update_pipeline_stage", args.idempotency_key.as_deref(), &args.request).await?;
    let stage = stages::update(&mut tx, ctx, args.ids[0], args.input).await?;
    finish_write(tx, json!({ "stage": stage })).await
}

pub(super) async fn reorder_pipeline_stages(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<StageOrder>(args, &[])?;
    let mut tx = begin_write(state, ctx, "reorder_pipeline_stages", args.idempotency_key.as_deref(), &args.request).await?;
    let stages = stages::reorder(&mut tx, ctx, args.input).await?;
    finish_write(tx, json!({ "stages": stages })).await
}

pub(super) async fn delete_pipeline_stage(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<Nothing>(args, &["stage_id"])?;
    let mut tx = begin_write(state, ctx, "delete_pipeline_stage", args.idempotency_key.as_deref(), &args.request).await?;
    let stage = stages::delete(&mut tx, ctx, args.ids[0]).await?;
    finish_write(tx, json!({ "stage": stage })).await
}

pub(super) async fn list_activities(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let filter: ActivityFilter = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = activities::list_activities(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(page_json("activities", page))
}

pub(super) async fn create_task(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<NewTask>(args, &[])?;
    let mut tx = begin_write(state, ctx, "create_task", args.idempotency_key.as_deref(), &args.request).await?;
    let task = activities::create_task(&mut tx, ctx, args.input).await?;
    finish_write(tx, json!({ "task": task })).await
}

pub(super) async fn update_task(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let args = record_args::<TaskPatch>(args, &["task_id"])?;
    let mut tx = begin_write(state, ctx, "update_task", args.idempotency_key.as_deref(), &args.request).await?;
    let task = activities::update_task(&mut tx, ctx, args.ids[0], args.input).await?;
    finish_write(tx, json!({ "task": task })).await
}

pub(super) async fn list_tasks(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let filter: TaskFilter = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = activities::list_tasks(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(page_json("tasks", page))
}

pub(super) async fn get_dashboard(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let _: Nothing = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let figures = crate::crm::dashboard::ssr::dashboard(&mut tx, ctx).await?;
    tx.commit().await?;
    Ok(read_json("dashboard", figures))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SearchInput {
    /// Matched against names, emails, companies and domains.
    query: String,
}

pub(super) async fn search_records(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: SearchInput = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let hits = crate::crm::search::ssr::search(&mut tx, ctx, &input.query).await.map_err(|e| e.renamed_field("q", "query"))?;
    tx.commit().await?;
    Ok(read_json("results", hits))
}

pub(super) async fn list_custom_fields(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let _: Nothing = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let fields = custom_fields::list(&mut tx, ctx).await?;
    tx.commit().await?;
    Ok(read_json("custom_fields", fields))
}

read_one!(get_custom_field, "custom_field_id", "custom_field", custom_fields::get);
write_new!(create_custom_field, NewCustomField, "custom_field", custom_fields::create);
write_one!(update_custom_field, CustomFieldPatch, "custom_field_id", "custom_field", custom_fields::update);
write_one!(delete_custom_field, Nothing, "custom_field_id", "custom_field", |tx, ctx, id, _: Nothing| custom_fields::delete(tx, ctx, id));
