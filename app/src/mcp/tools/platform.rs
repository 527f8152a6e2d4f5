//! Platform tools: the audit trail and the workspace's settings.

use serde_json::{Map, Value};

use super::{page_json, read_json, tool, Nothing};
use crate::mcp::registry::{arguments, schema_of, Operation, ToolResult};
use crate::platform::accounts;
use crate::platform::audit::{self, AuditFilter};
use crate::platform::context::{AppState, Ctx};

pub(super) static TOOLS: &[Operation] = &[
    tool!(read list_audit_events, CrmRead, schema_of::<AuditFilter>,
        "The audit trail, newest first: who (member or API key) changed what, when and through which door (ui, api, mcp)."),
    tool!(read get_workspace, CrmRead, schema_of::<Nothing>,
        "The workspace: its name and time zone (send windows are read in it)."),
];

pub(super) async fn get_workspace(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let _: Nothing = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let workspace = accounts::get_workspace(&mut tx, ctx).await?;
    tx.commit().await?;
    Ok(read_json("workspace", workspace))
}

pub(super) async fn list_audit_events(state: &AppState, ctx: &Ctx, args: Map<String, Value>) -> ToolResult {
    let filter: AuditFilter = arguments(args)?;
    let mut tx = state.db.begin_read().await?;
    let page = audit::list(&mut tx, ctx, filter).await?;
    tx.commit().await?;
    Ok(page_json("audit_events", page))
}
