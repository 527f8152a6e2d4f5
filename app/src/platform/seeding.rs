//! What a new workspace starts with. Each domain seeds its own defaults
//! (the CRM its deal stages, revenue its chart of accounts) through a
//! [`Seeder`]; the server puts the list into [`AppState`], so platform
//! creates workspaces without importing the domains that fill them.
//!
//! [`AppState`]: crate::platform::context::AppState

use uuid::Uuid;

use crate::error::AppResult;
use crate::platform::context::Ctx;
use crate::platform::db::Tx;
use crate::platform::types::Workspace;
use crate::platform::BoxFuture;

/// Seeds one domain's defaults into a new workspace, in the transaction
/// that creates it.
pub type Seeder = for<'t> fn(&'t mut Tx, Uuid) -> BoxFuture<'t, AppResult<()>>;

/// Runs every seeder for a new workspace, in order.
pub async fn seed(tx: &mut Tx, seeders: &[Seeder], workspace_id: Uuid) -> AppResult<()> {
    for seeder in seeders {
        seeder(tx, workspace_id).await?;
    }
    Ok(())
}

/// Lets a domain react, in the same transaction, to a change of a
/// workspace's settings (marketing voids approvals whose send windows a new
/// time zone moves), without platform importing it.
pub type WorkspaceHook = for<'t> fn(&'t mut Tx, &'t Ctx, &'t Workspace, &'t Workspace) -> BoxFuture<'t, AppResult<()>>;
