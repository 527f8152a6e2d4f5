//! Audience tools: segments and searches within them.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{begin_write, finish_write, request_id};
use crate::mcp::registry::{arguments, ToolResult};
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
