//! `corral repair-bounds [--dry-run]`: brings every workspace's stored
//! numbers within the bounds of `app::platform::validate`, for databases
//! that took values before those bounds existed. Each workspace is
//! repaired in one transaction by the domains' own repair operations
//! (correcting entries for the books, audited edits for CRM records); a
//! dry run reports the same repairs and rolls them back.

use app::platform::context::Ctx;
use app::platform::db::{Db, Q};
use app::platform::validate::BoundsRepair;
use uuid::Uuid;

pub async fn repair_bounds(db: &Db, dry_run: bool) -> anyhow::Result<Vec<(Uuid, BoundsRepair)>> {
    let workspaces: Vec<(Uuid,)> = {
        let mut tx = db.begin_read().await?;
        let rows = tx.fetch_all(Q::new("SELECT id FROM workspaces ORDER BY id")).await?;
        tx.commit().await?;
        rows
    };
    let mut done = Vec::new();
    for (workspace_id,) in workspaces {
        let ctx = Ctx::maintenance(workspace_id);
        let mut tx = db.begin().await?;
        let mut repairs = app::crm::repair::repair_out_of_bounds(&mut tx, &ctx).await?;
        repairs.extend(app::revenue::repair::repair_out_of_bounds(&mut tx, &ctx).await?);
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        done.extend(repairs.into_iter().map(|r| (workspace_id, r)));
    }
    Ok(done)
}
