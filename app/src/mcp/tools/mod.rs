//! The tools, with the seed's names, input schemas and response shapes
//! (`{"lead": {...}, "request_id": "req_…"}`; lists `{"leads": [...],
//! "next_cursor": …, "request_id": …}`). Each reads its arguments
//! strictly, then calls the same operation as the REST handler.
//!
//! The registry entries are here; each domain's tools are in its file.

mod ads;
mod audience;
mod blog;
mod crm;
mod crm_records;
mod flows;
mod marketing;
mod platform;
mod revenue;
mod revenue_books;

use audience::*;
use crm::*;
use revenue::*;

use std::sync::LazyLock;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::registry::{arguments, schema_of, Access, Exit, Operation, ToolResult};
use crate::error::{current_request_id, AppError, AppResult};
use crate::platform::context::{AppState, Ctx};
use crate::platform::transaction::{Claimed, WriteTx};
use crate::platform::types::Scope;

/// Every tool: the seed's (below), then each domain's other operations.
pub static OPERATIONS: LazyLock<Vec<Operation>> = LazyLock::new(|| {
    let domains: [&[Operation]; 9] = [
        SEED_TOOLS,
        crm_records::TOOLS,
        audience::TOOLS,
        revenue_books::TOOLS,
        marketing::TOOLS,
        ads::TOOLS,
        blog::TOOLS,
        flows::TOOLS,
        platform::TOOLS,
    ];
    domains.into_iter().flat_map(|tools| tools.iter().cloned()).collect()
});

/// Declares an operation whose tool function has the tool's name.
macro_rules! tool {
    (read $name:ident, $scope:ident, $schema:expr, $description:expr) => {
        $crate::mcp::registry::Operation {
            name: stringify!($name),
            description: $description,
            scope: $crate::platform::types::Scope::$scope,
            access: $crate::mcp::registry::Access::Read,
            input_schema: $schema,
            call: |state, ctx, args| Box::pin($name(state, ctx, args)),
        }
    };
    (write $name:ident, $scope:ident, idempotent: $idempotent:expr, destructive: $destructive:expr, $schema:expr, $description:expr) => {
        $crate::mcp::registry::Operation {
            name: stringify!($name),
            description: $description,
            scope: $crate::platform::types::Scope::$scope,
            access: $crate::mcp::registry::Access::Write { idempotent: $idempotent, destructive: $destructive },
            input_schema: $schema,
            call: |state, ctx, args| Box::pin($name(state, ctx, args)),
        }
    };
}
pub(crate) use tool;

/// A read of one record named by an id argument.
macro_rules! read_one {
    ($name:ident, $id:literal, $key:literal, $op:expr) => {
        pub(super) async fn $name(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
            let args = record_args::<Nothing>(args, &[$id])?;
            let mut tx = state.db.begin_read().await?;
            let value = $op(&mut tx, ctx, args.ids[0]).await?;
            tx.commit().await?;
            Ok(read_json($key, value))
        }
    };
}

/// A write on one record named by an id argument, with input `$input`.
macro_rules! write_one {
    ($name:ident, $input:ty, $id:literal, $key:literal, $op:expr) => {
        pub(super) async fn $name(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
            let args = record_args::<$input>(args, &[$id])?;
            let mut tx = begin_write(state, ctx, stringify!($name), args.idempotency_key.as_deref(), &args.request).await?;
            let value = $op(&mut tx, ctx, args.ids[0], args.input).await?;
            finish_write(tx, json!({ $key: value })).await
        }
    };
}

/// A write with no record id.
macro_rules! write_new {
    ($name:ident, $input:ty, $key:literal, $op:expr) => {
        pub(super) async fn $name(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
            let args = record_args::<$input>(args, &[])?;
            let mut tx = begin_write(state, ctx, stringify!($name), args.idempotency_key.as_deref(), &args.request).await?;
            let value = $op(&mut tx, ctx, args.input).await?;
            finish_write(tx, json!({ $key: value })).await
        }
    };
}
pub(crate) use {read_one, write_new, write_one};

static SEED_TOOLS: &[Operation] = &[
    Operation {
        name: "create_lead",
        description: "Create a CRM lead before it is converted into a contact, company, or deal.",
        scope: Scope::CrmWrite,
        access: Access::Write { idempotent: false, destructive: false },
        input_schema: schema_of::<CreateLead>,
        call: |state, ctx, args| Box::pin(create_lead(state, ctx, args)),
    },
    Operation {
        name: "list_leads",
        description: "List leads by status, source, search text, or custom field.",
        scope: Scope::CrmRead,
        access: Access::Read,
        input_schema: schema_of::<ListLeads>,
        call: |state, ctx, args| Box::pin(list_leads(state, ctx, args)),
    },
    Operation {
        name: "search_contacts",
        description: "Search contacts by name, email, company, or free-text query.",
        scope: Scope::CrmRead,
        access: Access::Read,
        input_schema: schema_of::<SearchContacts>,
        call: |state, ctx, args| Box::pin(search_contacts(state, ctx, args)),
    },
    Operation {
        name: "search_companies",
        description: "Search company accounts by name, domain, or free-text query.",
        scope: Scope::CrmRead,
        access: Access::Read,
        input_schema: schema_of::<SearchCompanies>,
        call: |state, ctx, args| Box::pin(search_companies(state, ctx, args)),
    },
    Operation {
        name: "convert_lead",
        description: "Convert a lead into contact, company, and optionally deal records.",
        scope: Scope::CrmWrite,
        access: Access::Write { idempotent: false, destructive: false },
        input_schema: schema_of::<ConvertLeadInput>,
        call: |state, ctx, args| Box::pin(convert_lead(state, ctx, args)),
    },
    Operation {
        name: "list_deal_stages",
        description: "List the workspace's pipeline stages in order, optionally matching a search text.",
        scope: Scope::CrmRead,
        access: Access::Read,
        input_schema: schema_of::<ListDealStages>,
        call: |state, ctx, args| Box::pin(list_deal_stages(state, ctx, args)),
    },
    Operation {
        name: "create_deal",
        description: "Create a deal (an opportunity) in a pipeline stage.",
        scope: Scope::CrmWrite,
        access: Access::Write { idempotent: false, destructive: false },
        input_schema: schema_of::<CreateDealInput>,
        call: |state, ctx, args| Box::pin(create_deal(state, ctx, args)),
    },
    Operation {
        name: "update_deal",
        description: "Update a deal's stage, amount, currency or custom fields as the work moves through the pipeline.",
        scope: Scope::CrmWrite,
        access: Access::Write { idempotent: true, destructive: false },
        input_schema: schema_of::<UpdateDealInput>,
        call: |state, ctx, args| Box::pin(update_deal(state, ctx, args)),
    },
    Operation {
        name: "update_deal_stage",
        description: "Deprecated: use update_deal with stage_key. Moves a deal to one of the built-in stages; \
                      with dry_run it validates and returns the audit entry it would write, and writes nothing.",
        scope: Scope::CrmWrite,
        access: Access::Write { idempotent: true, destructive: false },
        input_schema: schema_of::<UpdateDealStageInput>,
        call: |state, ctx, args| Box::pin(update_deal_stage(state, ctx, args)),
    },
    Operation {
        name: "log_activity",
        description: "Log a call, email, meeting or note on a lead, contact, company or deal.",
        scope: Scope::CrmWrite,
        access: Access::Write { idempotent: false, destructive: false },
        input_schema: schema_of::<LogActivityInput>,
        call: |state, ctx, args| Box::pin(log_activity(state, ctx, args)),
    },
    Operation {
        name: "create_invoice",
        description: "Create an invoice with line items and issue it at once: it is sent, its receivable is booked to the ledger, \
                      and record_payment can settle it straight away.",
        scope: Scope::RevenueWrite,
        access: Access::Write { idempotent: false, destructive: false },
        input_schema: schema_of::<CreateInvoiceInput>,
        call: |state, ctx, args| Box::pin(create_invoice(state, ctx, args)),
    },
    Operation {
        name: "list_invoices",
        description: "List invoices by status, company, contact or deal.",
        scope: Scope::RevenueRead,
        access: Access::Read,
        input_schema: schema_of::<ListInvoicesInput>,
        call: |state, ctx, args| Box::pin(list_invoices(state, ctx, args)),
    },
    Operation {
        name: "record_payment",
        description: "Record a payment against an invoice (booked to cash and receivables at once).",
        scope: Scope::RevenueWrite,
        access: Access::Write { idempotent: false, destructive: false },
        input_schema: schema_of::<RecordPaymentInput>,
        call: |state, ctx, args| Box::pin(record_payment(state, ctx, args)),
    },
    Operation {
        name: "create_accounting_account",
        description: "Add an account to the chart of accounts.",
        scope: Scope::RevenueWrite,
        access: Access::Write { idempotent: false, destructive: false },
        input_schema: schema_of::<CreateAccountInput>,
        call: |state, ctx, args| Box::pin(create_accounting_account(state, ctx, args)),
    },
    Operation {
        name: "list_accounting_accounts",
        description: "List the chart of accounts, by type or matching a search text.",
        scope: Scope::RevenueRead,
        access: Access::Read,
        input_schema: schema_of::<ListAccountsInput>,
        call: |state, ctx, args| Box::pin(list_accounting_accounts(state, ctx, args)),
    },
    Operation {
        name: "create_journal_entry",
        description: "Write a journal entry whose debit and credit lines balance; posted at once unless status is draft.",
        scope: Scope::RevenueWrite,
        access: Access::Write { idempotent: false, destructive: false },
        input_schema: schema_of::<CreateJournalEntryInput>,
        call: |state, ctx, args| Box::pin(create_journal_entry(state, ctx, args)),
    },
    Operation {
        name: "list_journal_entries",
        description: "List journal entries by status or matching a search text.",
        scope: Scope::RevenueRead,
        access: Access::Read,
        input_schema: schema_of::<ListJournalEntriesInput>,
        call: |state, ctx, args| Box::pin(list_journal_entries(state, ctx, args)),
    },
    Operation {
        name: "create_contact",
        description: "Create a CRM contact in the current workspace.",
        scope: Scope::CrmWrite,
        access: Access::Write { idempotent: false, destructive: false },
        input_schema: schema_of::<CreateContactInput>,
        call: |state, ctx, args| Box::pin(create_contact(state, ctx, args)),
    },
    Operation {
        name: "create_company",
        description: "Create a company account in the current workspace.",
        scope: Scope::CrmWrite,
        access: Access::Write { idempotent: false, destructive: false },
        input_schema: schema_of::<CreateCompanyInput>,
        call: |state, ctx, args| Box::pin(create_company(state, ctx, args)),
    },
    Operation {
        name: "create_deal_stage",
        description: "Add a pipeline stage for the workspace (discovery, proposal_sent, legal_review, …).",
        scope: Scope::CrmWrite,
        access: Access::Write { idempotent: false, destructive: false },
        input_schema: schema_of::<CreateDealStageInput>,
        call: |state, ctx, args| Box::pin(create_deal_stage(state, ctx, args)),
    },
    Operation {
        name: "search_leads",
        description: "Search leads by name, email, company or title, within a segment (or static list) when one is named.",
        scope: Scope::CrmRead,
        access: Access::Read,
        input_schema: schema_of::<SearchLeadsInput>,
        call: |state, ctx, args| Box::pin(search_leads(state, ctx, args)),
    },
    Operation {
        name: "create_segment",
        description: "Create a rule-based segment of leads; its members follow the rules as leads change.",
        scope: Scope::CrmWrite,
        access: Access::Write { idempotent: false, destructive: false },
        input_schema: schema_of::<CreateSegmentInput>,
        call: |state, ctx, args| Box::pin(create_segment(state, ctx, args)),
    },
];

/// The request id of this call, for the response body.
pub(super) fn request_id() -> String {
    current_request_id().unwrap_or_else(|| format!("req_{}", Uuid::now_v7().simple()))
}

/// A write's transaction: under the call's `idempotency_key`, which shares
/// the REST header's store (same key, same request: the stored answer;
/// another request: refused).
pub(super) async fn begin_write(
    state: &AppState,
    ctx: &Ctx,
    tool: &str,
    key: Option<&str>,
    args: &Map<String, Value>,
) -> Result<WriteTx, Exit> {
    let Some(key) = key else { return Ok(WriteTx::begin(&state.db).await?) };
    let mut request = args.clone();
    request.remove("idempotency_key");
    match WriteTx::begin_idempotent(&state.db, ctx, key, &format!("mcp {tool}\n{}", Value::Object(request))).await? {
        Claimed::Fresh(tx) => Ok(tx),
        Claimed::Replay { body, .. } => Err(Exit::Replay(body)),
    }
}

/// A record as agents see it: its JSON with the seed's spelling of one
/// field added beside Corral's (`invoice_number` beside `number`, …).
pub(super) fn with_seed_field(record: &impl serde::Serialize, name: &str, value: impl serde::Serialize) -> AppResult<Value> {
    let mut json = serde_json::to_value(record).map_err(|e| AppError::Internal(e.to_string()))?;
    json[name] = serde_json::to_value(value).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(json)
}

/// Commits a write with its answer (kept for retries under the key).
pub(super) async fn finish_write(tx: WriteTx, mut body: Value) -> ToolResult {
    body["request_id"] = json!(request_id());
    tx.commit_with_response(200, &body).await?;
    Ok(body)
}

/// The arguments of a tool that acts on records named by id: the ids (in
/// the order asked), the rest read strictly as `T`, the idempotency key
/// and the whole request (what a retry under the key must repeat).
pub(super) struct RecordArgs<T> {
    pub ids: Vec<Uuid>,
    pub input: T,
    pub idempotency_key: Option<String>,
    pub request: Map<String, Value>,
}

/// An input with nothing besides the record ids.
#[derive(serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Nothing {}

pub(super) fn record_args<T: DeserializeOwned>(mut args: Map<String, Value>, id_fields: &[&str]) -> AppResult<RecordArgs<T>> {
    let request = args.clone();
    let idempotency_key = match args.remove("idempotency_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(key)) => Some(key),
        Some(_) => return Err(AppError::validation("idempotency_key", "idempotency_key must be a string")),
    };
    let mut ids = Vec::with_capacity(id_fields.len());
    for field in id_fields {
        let id = match args.remove(*field) {
            Some(Value::String(text)) => {
                Uuid::parse_str(&text).map_err(|_| AppError::validation(*field, format!("{field} must be a UUID")))?
            }
            Some(_) => return Err(AppError::validation(*field, format!("{field} must be a UUID string"))),
            None => return Err(AppError::validation(*field, format!("missing field `{field}`"))),
        };
        ids.push(id);
    }
    let input = arguments(args)?;
    Ok(RecordArgs { ids, input, idempotency_key, request })
}

/// The schema of `T` with the ids of the records the tool acts on added
/// as required UUID properties, and `idempotency_key` for writes.
pub(super) fn schema_with_ids<T: JsonSchema>(ids: &[(&str, &str)], write: bool) -> Map<String, Value> {
    let mut schema = schema_of::<T>();
    let mut properties = match schema.remove("properties") {
        Some(Value::Object(properties)) => properties,
        _ => Map::new(),
    };
    let mut required: Vec<Value> = Vec::new();
    let mut with_ids = Map::new();
    for (name, description) in ids {
        with_ids.insert(name.to_string(), json!({ "type": "string", "format": "uuid", "description": description }));
        required.push(json!(name));
    }
    with_ids.append(&mut properties);
    if write {
        with_ids.insert(
            "idempotency_key".into(),
            json!({ "type": ["string", "null"], "description": "A stable client-generated key that makes retries safe." }),
        );
    }
    if let Some(Value::Array(rest)) = schema.remove("required") {
        required.extend(rest);
    }
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(with_ids));
    if !required.is_empty() {
        schema.insert("required".into(), Value::Array(required));
    }
    schema.insert("additionalProperties".into(), Value::Bool(false));
    schema
}

/// A page of records as agents see it.
pub(super) fn page_json<T: serde::Serialize>(key: &str, page: crate::platform::types::Page<T>) -> Value {
    let mut body = Map::new();
    body.insert(key.into(), serde_json::to_value(page.data).unwrap_or(Value::Null));
    body.insert("next_cursor".into(), json!(page.next_cursor));
    body.insert("request_id".into(), json!(request_id()));
    Value::Object(body)
}

/// One record (or any answer) as agents see it: `{key: value, request_id}`.
pub(super) fn read_json(key: &str, value: impl serde::Serialize) -> Value {
    let mut body = Map::new();
    body.insert(key.into(), serde_json::to_value(value).unwrap_or(Value::Null));
    body.insert("request_id".into(), json!(request_id()));
    Value::Object(body)
}
