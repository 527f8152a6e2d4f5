//! Platform tools: the audit trail.

use serde_json::{Map, Value};

use super::{page_json, tool};
use crate::mcp::registry::{arguments, schema_of, Operation, ToolResult};
use crate::platform::audit::{self, AuditFilter};
use crate::platform::context::{AppState, Ctx};

pub(super) static TOOLS: &[Operation] = &[tool!(read list_audit_events, CrmRead, schema_of::<AuditFilter>,
    "The audit trail, newest first: who (member or API key) changed what, when and through which door (ui, api, mcp).")];

pub(super) async fn list_audit_events(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let filter: AuditFilter = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = audit::list(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(page_json("audit_events", page))
}
