//! CRM tools: leads, contacts, companies, stages, deals, activities.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{begin_write, finish_write, request_id, with_seed_field};
use crate::crm::activities::types::{ActivityKind, NewActivity};
use crate::crm::companies::types::CompanyFilter;
use crate::crm::companies::types::NewCompany;
use crate::crm::contacts::types::ContactFilter;
use crate::crm::contacts::types::NewContact;
use crate::crm::deals::stages;
use crate::crm::deals::types::{Deal, DealPatch, NewDeal, NewDealStage, StageKind};
use crate::crm::leads::types::{ConvertLead, LeadFilter, LeadSource, LeadStatus, NewLead};
use crate::error::{AppError, AppResult};
use crate::mcp::registry::{arguments, ToolResult};
use crate::platform::audit::{self, AuditFilter};
use crate::platform::context::{AppState, Ctx};
use crate::platform::db::Tx;
use crate::platform::transaction::WriteTx;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateLead {
    /// The person or opportunity's name.
    name: String,
    #[schemars(email)]
    email: Option<String>,
    phone: Option<String>,
    /// The company's name before a company record exists.
    company_name: Option<String>,
    title: Option<String>,
    /// Where the lead came from; `mcp` when not given.
    source: Option<LeadSource>,
    #[schemars(range(min = 0))]
    score: Option<i64>,
    /// User-defined queryable JSON fields.
    custom_fields: Option<Map<String, Value>>,
    /// A stable client-generated key that makes retries safe.
    idempotency_key: Option<String>,
}

pub(super) async fn create_lead(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: CreateLead = arguments(args.clone())?;
    let mut tx = begin_write(state, ctx, "create_lead", input.idempotency_key.as_deref(), &args).await?;
    let new_lead = NewLead {
        name: input.name,
        email: input.email,
        phone: input.phone,
        company_name: input.company_name,
        title: input.title,
        source: input.source,
        score: input.score,
        custom_fields: input.custom_fields.map(Value::Object),
        ..Default::default()
    };
    let lead = crate::crm::leads::ops::create(&mut tx, ctx, new_lead).await?;
    finish_write(tx, json!({ "lead": lead })).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ListLeads {
    /// Free text matched against name, email and company.
    query: Option<String>,
    status: Option<LeadStatus>,
    source: Option<LeadSource>,
    /// With `custom_field_value`: only leads whose custom field has it.
    custom_field_key: Option<String>,
    custom_field_value: Option<String>,
    #[schemars(range(min = 1, max = 100))]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub(super) async fn list_leads(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: ListLeads = arguments(args)?;
    let custom_fields = match (input.custom_field_key, input.custom_field_value) {
        (Some(key), Some(value)) => vec![(key, value)],
        (Some(_), None) => return Err(AppError::validation("custom_field_value", "give custom_field_value with custom_field_key").into()),
        _ => Vec::new(),
    };
    let filter = LeadFilter {
        q: input.query,
        status: input.status,
        source: input.source,
        custom_fields,
        limit: input.limit,
        cursor: input.cursor,
        ..Default::default()
    };
    let mut tx = state.db.begin_read().await?;
    let page = crate::crm::leads::ops::list(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(json!({ "leads": page.data, "next_cursor": page.next_cursor, "request_id": request_id() }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SearchContacts {
    /// Free text matched against name, email and company.
    query: Option<String>,
    /// Only contacts linked to this company.
    company_id: Option<Uuid>,
    #[schemars(range(min = 1, max = 100))]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub(super) async fn search_contacts(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: SearchContacts = arguments(args)?;
    let filter =
        ContactFilter { q: input.query, company_id: input.company_id, limit: input.limit, cursor: input.cursor, ..Default::default() };
    let mut tx = state.db.begin_read().await?;
    let page = crate::crm::contacts::ops::list(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(json!({ "contacts": page.data, "next_cursor": page.next_cursor, "request_id": request_id() }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SearchCompanies {
    /// Free text matched against name and domain.
    query: Option<String>,
    #[schemars(range(min = 1, max = 100))]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub(super) async fn search_companies(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: SearchCompanies = arguments(args)?;
    let filter = CompanyFilter { q: input.query, limit: input.limit, cursor: input.cursor, ..Default::default() };
    let mut tx = state.db.begin_read().await?;
    let page = crate::crm::companies::ops::list(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(json!({ "companies": page.data, "next_cursor": page.next_cursor, "request_id": request_id() }))
}

/// A deal as agents see it: its stage's key (`stage`) beside `stage_id`.
pub(super) async fn deal_json(tx: &mut Tx, ctx: &Ctx, deal: &Deal) -> AppResult<Value> {
    let stage = stages::get(tx, ctx, deal.stage_id).await?;
    with_seed_field(deal, "stage", stage.key)
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ConvertLeadInput {
    lead_id: Uuid,
    /// Link an existing company instead of making one from the lead.
    company_id: Option<Uuid>,
    /// Link an existing contact instead of making one from the lead.
    contact_id: Option<Uuid>,
    /// Also open a deal for the converted lead.
    create_deal: Option<bool>,
    deal_name: Option<String>,
    /// The deal's stage key (the first open stage when absent).
    stage_key: Option<String>,
    #[schemars(range(min = 0))]
    amount_cents: Option<i64>,
    currency: Option<String>,
    /// Why the lead was converted; kept in the audit trail.
    conversion_reason: Option<String>,
}

pub(super) async fn convert_lead(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: ConvertLeadInput = arguments(args)?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let conversion = ConvertLead {
        contact_id: input.contact_id,
        company_id: input.company_id,
        deal: None,
        conversion_reason: input.conversion_reason,
        create_deal: input.create_deal,
        deal_name: input.deal_name,
        stage_key: input.stage_key,
        amount_cents: input.amount_cents,
        currency: input.currency,
    };
    let converted = crate::crm::leads::ops::convert(&mut tx, ctx, input.lead_id, conversion).await?;
    let deal = match &converted.deal {
        Some(deal) => deal_json(&mut tx, ctx, deal).await?,
        None => Value::Null,
    };
    let body = json!({
        "lead": converted.lead,
        "contact": converted.contact,
        "company": converted.company,
        "deal": deal,
    });
    finish_write(tx, body).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ListDealStages {
    /// Matched against the stage's key and name.
    query: Option<String>,
    #[schemars(range(min = 1, max = 100))]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub(super) async fn list_deal_stages(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: ListDealStages = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = stages::search(&mut tx, ctx, input.query.as_deref(), input.limit, input.cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(json!({ "stages": page.data, "next_cursor": page.next_cursor, "request_id": request_id() }))
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateDealInput {
    /// Short deal name visible in the CRM pipeline.
    name: String,
    company_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    /// A stage key (same as stage_key).
    stage: Option<String>,
    /// The stage's key; the first open stage when absent.
    stage_key: Option<String>,
    /// The deal's value in the currency's minor unit.
    #[schemars(range(min = 0))]
    amount_cents: Option<i64>,
    /// ISO currency code, USD when absent.
    currency: Option<String>,
    custom_fields: Option<Map<String, Value>>,
    idempotency_key: Option<String>,
}

pub(super) async fn create_deal(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: CreateDealInput = arguments(args.clone())?;
    let mut tx = begin_write(state, ctx, "create_deal", input.idempotency_key.as_deref(), &args).await?;
    let new_deal = NewDeal {
        name: input.name,
        stage: input.stage,
        stage_key: input.stage_key,
        company_id: input.company_id,
        contact_id: input.contact_id,
        amount_cents: input.amount_cents,
        currency: input.currency,
        custom_fields: input.custom_fields.map(Value::Object),
        ..Default::default()
    };
    let deal = crate::crm::deals::ops::create(&mut tx, ctx, new_deal).await?;
    let deal = deal_json(&mut tx, ctx, &deal).await?;
    finish_write(tx, json!({ "deal": deal })).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateDealInput {
    deal_id: Uuid,
    /// A stage key (same as stage_key).
    stage: Option<String>,
    stage_key: Option<String>,
    #[schemars(range(min = 0))]
    amount_cents: Option<i64>,
    currency: Option<String>,
    /// Replaces the deal's custom fields.
    custom_fields: Option<Map<String, Value>>,
    idempotency_key: Option<String>,
}

pub(super) async fn update_deal(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: UpdateDealInput = arguments(args.clone())?;
    let mut tx = begin_write(state, ctx, "update_deal", input.idempotency_key.as_deref(), &args).await?;
    let patch = DealPatch {
        stage: input.stage,
        stage_key: input.stage_key,
        amount_cents: input.amount_cents,
        currency: input.currency,
        custom_fields: input.custom_fields.map(Value::Object),
        ..Default::default()
    };
    let deal = crate::crm::deals::ops::update(&mut tx, ctx, input.deal_id, patch).await?;
    let deal = deal_json(&mut tx, ctx, &deal).await?;
    finish_write(tx, json!({ "deal": deal })).await
}

/// The built-in stages `update_deal_stage` knows (its schema's enum).
#[derive(Deserialize, JsonSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum BuiltInStage {
    New,
    Qualified,
    Proposal,
    Won,
    Lost,
}

impl BuiltInStage {
    fn key(self) -> &'static str {
        match self {
            BuiltInStage::New => "new",
            BuiltInStage::Qualified => "qualified",
            BuiltInStage::Proposal => "proposal",
            BuiltInStage::Won => "won",
            BuiltInStage::Lost => "lost",
        }
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateDealStageInput {
    deal_id: Uuid,
    /// Target pipeline stage.
    stage: BuiltInStage,
    /// Validate and show the audit entry the change would write, writing nothing.
    #[serde(default)]
    dry_run: bool,
    idempotency_key: Option<String>,
}

pub(super) async fn update_deal_stage(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: UpdateDealStageInput = arguments(args.clone())?;
    let key = if input.dry_run { None } else { input.idempotency_key.as_deref() };
    let mut tx = begin_write(state, ctx, "update_deal_stage", key, &args).await?;
    let stage_id = stages::by_key(&mut tx, ctx, "stage", input.stage.key()).await?.id;
    let patch = DealPatch { stage_id: Some(stage_id), ..Default::default() };
    let deal = crate::crm::deals::ops::update(&mut tx, ctx, input.deal_id, patch).await?;
    let deal = deal_json(&mut tx, ctx, &deal).await?;
    if input.dry_run {
        // The real operation ran, so the checks are exactly the write's; its
        // audit row is read back and the transaction is dropped unwritten.
        let filter = AuditFilter { entity_type: Some("deal".into()), entity_id: Some(input.deal_id), limit: Some(1), ..Default::default() };
        let audit = audit::query(&mut tx, ctx, filter).await?.data.into_iter().next();
        drop(tx);
        return Ok(json!({ "dry_run": true, "deal": deal, "audit": audit, "request_id": request_id() }));
    }
    finish_write(tx, json!({ "deal": deal })).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LogActivityInput {
    kind: ActivityKind,
    /// A one-line summary.
    subject: String,
    body: Option<String>,
    /// When it happened (RFC 3339); now when absent.
    occurred_at: Option<chrono::DateTime<chrono::Utc>>,
    lead_id: Option<Uuid>,
    contact_id: Option<Uuid>,
    company_id: Option<Uuid>,
    deal_id: Option<Uuid>,
    idempotency_key: Option<String>,
}

pub(super) async fn log_activity(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: LogActivityInput = arguments(args.clone())?;
    let mut tx = begin_write(state, ctx, "log_activity", input.idempotency_key.as_deref(), &args).await?;
    let activity = NewActivity {
        kind: input.kind,
        subject: input.subject,
        body: input.body,
        occurred_at: input.occurred_at,
        lead_id: input.lead_id,
        contact_id: input.contact_id,
        company_id: input.company_id,
        deal_id: input.deal_id,
    };
    let activity = crate::crm::activities::ops::create_activity(&mut tx, ctx, activity).await?;
    finish_write(tx, json!({ "activity": activity })).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateContactInput {
    /// Full display name for the contact.
    name: String,
    /// Email address used for matching, follow-up, and deduplication.
    #[schemars(email)]
    email: Option<String>,
    phone: Option<String>,
    /// An existing company to link the contact to.
    company_id: Option<Uuid>,
    /// The company's name when there is no company record yet.
    company_name: Option<String>,
    /// Free-form context about the relationship or source.
    notes: Option<String>,
    idempotency_key: Option<String>,
}

pub(super) async fn create_contact(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: CreateContactInput = arguments(args.clone())?;
    let mut tx = begin_write(state, ctx, "create_contact", input.idempotency_key.as_deref(), &args).await?;
    let contact = NewContact {
        name: input.name,
        email: input.email,
        phone: input.phone,
        company_id: input.company_id,
        company_name: input.company_name,
        notes: input.notes,
        ..Default::default()
    };
    let contact = crate::crm::contacts::ops::create(&mut tx, ctx, contact).await?;
    finish_write(tx, json!({ "contact": contact })).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateCompanyInput {
    /// Company or account display name.
    name: String,
    /// Primary company domain, such as acme.com.
    domain: Option<String>,
    /// Canonical website URL.
    website: Option<String>,
    /// Free-form account context.
    notes: Option<String>,
    idempotency_key: Option<String>,
}

pub(super) async fn create_company(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: CreateCompanyInput = arguments(args.clone())?;
    let mut tx = begin_write(state, ctx, "create_company", input.idempotency_key.as_deref(), &args).await?;
    let company = NewCompany { name: input.name, domain: input.domain, website: input.website, notes: input.notes, ..Default::default() };
    let company = crate::crm::companies::ops::create(&mut tx, ctx, company).await?;
    finish_write(tx, json!({ "company": company })).await
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateDealStageInput {
    /// The stage's key (lowercase letters, digits, `_`), unique in the workspace.
    key: String,
    name: String,
    /// Where it goes in the pipeline (0 first); last when absent.
    #[schemars(range(min = 0))]
    position: Option<i64>,
    /// open (the default), won or lost.
    kind: Option<StageKind>,
    /// The chance of winning a deal in this stage, in percent.
    #[schemars(range(min = 0, max = 100))]
    probability: Option<i64>,
    /// A CSS hex color (#a78bfa).
    color: Option<String>,
    custom_fields: Option<Map<String, Value>>,
    idempotency_key: Option<String>,
}

pub(super) async fn create_deal_stage(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let input: CreateDealStageInput = arguments(args.clone())?;
    let mut tx = begin_write(state, ctx, "create_deal_stage", input.idempotency_key.as_deref(), &args).await?;
    let stage = NewDealStage {
        key: input.key,
        name: input.name,
        kind: input.kind,
        probability: input.probability,
        color: input.color,
        position: input.position,
        custom_fields: input.custom_fields.map(Value::Object),
    };
    let stage = stages::create(&mut tx, ctx, stage).await?;
    finish_write(tx, json!({ "stage": stage })).await
}
