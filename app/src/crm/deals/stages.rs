//! Deal stages: each workspace starts with a default pipeline and shapes
//! its own.

use uuid::Uuid;

use super::types::*;
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::types::Page;
use crate::platform::types::Scope;
use crate::platform::validate::optional_text;
use crate::platform::validate::required_text;

const COLUMNS: &str = "workspace_id, id, stage_key, name, position, kind, probability, color, custom_fields, created_at, updated_at, source, last_agent_actor_id";

/// key, name, kind, probability, color
const DEFAULT_STAGES: [(&str, &str, StageKind, i64, &str); 6] = [
    ("new", "New", StageKind::Open, 10, "#94a3b8"),
    ("qualified", "Qualified", StageKind::Open, 25, "#60a5fa"),
    ("proposal", "Proposal", StageKind::Open, 50, "#a78bfa"),
    ("negotiation", "Negotiation", StageKind::Open, 75, "#f59e0b"),
    ("won", "Closed won", StageKind::Won, 100, "#10b981"),
    ("lost", "Closed lost", StageKind::Lost, 0, "#ef4444"),
];

/// The [`Seeder`](crate::platform::seeding::Seeder) of the CRM: a new
/// workspace's pipeline stages.
pub fn seed_workspace(tx: &mut Tx, workspace_id: Uuid) -> crate::platform::BoxFuture<'_, AppResult<()>> {
    Box::pin(create_defaults(tx, workspace_id))
}

pub async fn create_defaults(tx: &mut Tx, workspace_id: Uuid) -> AppResult<()> {
    let at = now();
    for (position, (key, name, kind, probability, color)) in DEFAULT_STAGES.into_iter().enumerate() {
        tx.execute(
            Q::new(format!("INSERT INTO deal_stages ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"))
                .bind(workspace_id)
                .bind(Uuid::now_v7())
                .bind(key)
                .bind(name)
                .bind(position as i64)
                .bind(kind.as_str())
                .bind(probability)
                .bind(color)
                .bind(serde_json::json!({}))
                .bind(at)
                .bind(at)
                .bind("system")
                .bind(None::<Uuid>),
        )
        .await?;
    }
    Ok(())
}

pub async fn list(tx: &mut Tx, ctx: &Ctx) -> AppResult<Vec<DealStage>> {
    ctx.require(Scope::CrmRead)?;
    Ok(tx
        .fetch_all(
            Q::new(format!("SELECT {COLUMNS} FROM deal_stages WHERE workspace_id = $1 ORDER BY position, id")).bind(ctx.workspace_id),
        )
        .await?)
}

pub async fn find(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Option<DealStage>> {
    Ok(tx
        .fetch_optional(
            Q::new(format!("SELECT {COLUMNS} FROM deal_stages WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id),
        )
        .await?)
}

/// Stages whose key or name contains `query` (any case), in pipeline
/// order, a page at a time.
pub async fn search(tx: &mut Tx, ctx: &Ctx, query: Option<&str>, limit: Option<i64>, cursor: Option<&str>) -> AppResult<Page<DealStage>> {
    let needle = query.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
    let matching = list(tx, ctx)
        .await?
        .into_iter()
        .filter(|s| needle.as_ref().is_none_or(|n| s.key.to_lowercase().contains(n) || s.name.to_lowercase().contains(n)))
        .collect();
    crate::platform::pagination::page_of(matching, limit, cursor)
}

/// The stage a request names by its key (`proposal`), for callers that
/// speak keys rather than ids; an unknown key is a 422 on `field`.
pub async fn by_key(tx: &mut Tx, ctx: &Ctx, field: &str, key: &str) -> AppResult<DealStage> {
    let stage: Option<DealStage> = tx
        .fetch_optional(
            Q::new(format!("SELECT {COLUMNS} FROM deal_stages WHERE workspace_id = $1 AND stage_key = $2"))
                .bind(ctx.workspace_id)
                .bind(key.trim()),
        )
        .await?;
    stage.ok_or_else(|| AppError::validation(field, format!("there is no stage with the key {key:?} (list_deal_stages names them)")))
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<DealStage> {
    ctx.require(Scope::CrmRead)?;
    find(tx, ctx, id).await?.ok_or(AppError::NotFound("deal stage"))
}

fn check_key(key: &str) -> AppResult<String> {
    let key = key.trim().to_lowercase();
    let valid =
        !key.is_empty() && key.len() <= 50 && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !valid {
        return Err(AppError::validation("key", "key must be 1-50 characters of a-z, 0-9, _ or -"));
    }
    Ok(key)
}

fn check_probability(probability: i64) -> AppResult<i64> {
    if !(0..=100).contains(&probability) {
        return Err(AppError::validation("probability", "probability must be between 0 and 100"));
    }
    Ok(probability)
}

fn check_color(color: Option<String>) -> AppResult<String> {
    let color = optional_text("color", color, 7)?.unwrap_or_else(|| "#94a3b8".into());
    let valid = color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit());
    if !valid {
        return Err(AppError::validation("color", "color must look like #1a2b3c"));
    }
    Ok(color.to_lowercase())
}

async fn renumber(tx: &mut Tx, ctx: &Ctx, ordered: &[Uuid]) -> AppResult<()> {
    let at = now();
    for (position, id) in ordered.iter().enumerate() {
        tx.execute(
            Q::new("UPDATE deal_stages SET position = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4")
                .bind(position as i64)
                .bind(at)
                .bind(ctx.workspace_id)
                .bind(*id),
        )
        .await?;
    }
    Ok(())
}

pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewDealStage) -> AppResult<DealStage> {
    ctx.require(Scope::CrmWrite)?;
    let key = check_key(&input.key)?;
    let existing = list(tx, ctx).await?;
    if existing.iter().any(|s| s.key == key) {
        return Err(AppError::Duplicate {
            code: "duplicate_key",
            field: "key".into(),
            message: format!("a stage with key {key:?} exists"),
        });
    }
    let at = now();
    let position = input.position.unwrap_or(existing.len() as i64).clamp(0, existing.len() as i64);
    let kind = input.kind.unwrap_or(StageKind::Open);
    let stage = DealStage {
        id: Uuid::now_v7(),
        workspace_id: ctx.workspace_id,
        key,
        name: required_text("name", &input.name, 100)?,
        position,
        kind,
        probability: check_probability(input.probability.unwrap_or(match kind {
            StageKind::Won => 100,
            StageKind::Lost => 0,
            StageKind::Open => 50,
        }))?,
        color: check_color(input.color)?,
        custom_fields: crate::platform::validate::custom_fields_or_empty(input.custom_fields)?,
        source: ctx.record_source().into(),
        last_agent_actor_id: ctx.api_key_id,
        created_at: at,
        updated_at: at,
    };
    tx.execute(
        Q::new(format!("INSERT INTO deal_stages ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"))
            .bind(ctx.workspace_id)
            .bind(stage.id)
            .bind(stage.key.as_str())
            .bind(stage.name.as_str())
            .bind(stage.position)
            .bind(stage.kind.as_str())
            .bind(stage.probability)
            .bind(stage.color.as_str())
            .bind(stage.custom_fields.clone())
            .bind(stage.created_at)
            .bind(stage.updated_at)
            .bind(stage.source.as_str())
            .bind(stage.last_agent_actor_id),
    )
    .await?;
    let mut order: Vec<Uuid> = existing.iter().map(|s| s.id).collect();
    order.insert(position as usize, stage.id);
    renumber(tx, ctx, &order).await?;
    audit::record(tx, ctx, "deal_stage.created", "deal_stage", Some(stage.id), None::<&()>, Some(&stage)).await?;
    Ok(stage)
}

pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: DealStagePatch) -> AppResult<DealStage> {
    ctx.require(Scope::CrmWrite)?;
    let before = find(tx, ctx, id).await?.ok_or(AppError::NotFound("deal stage"))?;
    let mut after = before.clone();
    if let Some(name) = patch.name {
        after.name = required_text("name", &name, 100)?;
    }
    if let Some(kind) = patch.kind {
        after.kind = kind;
    }
    if let Some(probability) = patch.probability {
        after.probability = check_probability(probability)?;
    }
    if let Some(color) = patch.color {
        after.color = check_color(Some(color))?;
    }
    if after == before {
        return Ok(before);
    }
    // A key that changes the record becomes its last agent (audit::record stores it).
    after.last_agent_actor_id = ctx.api_key_id.or(before.last_agent_actor_id);
    after.updated_at = now();
    tx.execute(
        Q::new(
            "UPDATE deal_stages SET name = $1, kind = $2, probability = $3, color = $4, updated_at = $5 \
             WHERE workspace_id = $6 AND id = $7",
        )
        .bind(after.name.as_str())
        .bind(after.kind.as_str())
        .bind(after.probability)
        .bind(after.color.as_str())
        .bind(after.updated_at)
        .bind(ctx.workspace_id)
        .bind(id),
    )
    .await?;
    audit::record(tx, ctx, "deal_stage.updated", "deal_stage", Some(id), Some(&before), Some(&after)).await?;
    Ok(after)
}

/// Sets the whole order at once: the list must name every stage once.
pub async fn reorder(tx: &mut Tx, ctx: &Ctx, order: StageOrder) -> AppResult<Vec<DealStage>> {
    ctx.require(Scope::CrmWrite)?;
    let before = list(tx, ctx).await?;
    let mut wanted = order.stage_ids.clone();
    wanted.sort();
    wanted.dedup();
    let mut have: Vec<Uuid> = before.iter().map(|s| s.id).collect();
    have.sort();
    if wanted.len() != order.stage_ids.len() || wanted != have {
        return Err(AppError::validation("stage_ids", "stage_ids must list every stage of the workspace exactly once"));
    }
    renumber(tx, ctx, &order.stage_ids).await?;
    let after = list(tx, ctx).await?;
    let keys = |stages: &[DealStage]| stages.iter().map(|s| s.key.clone()).collect::<Vec<_>>();
    audit::record(tx, ctx, "deal_stage.reordered", "deal_stage", None, Some(&keys(&before)), Some(&keys(&after))).await?;
    Ok(after)
}

/// A stage that still holds deals cannot go; move them first.
pub async fn delete(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<DealStage> {
    ctx.require(Scope::CrmWrite)?;
    let stage = find(tx, ctx, id).await?.ok_or(AppError::NotFound("deal stage"))?;
    let (deals,): (i64,) = tx
        .fetch_one(Q::new("SELECT COUNT(*) FROM deals WHERE workspace_id = $1 AND stage_id = $2").bind(ctx.workspace_id).bind(id))
        .await?;
    if deals > 0 {
        return Err(AppError::Conflict {
            code: "stage_in_use",
            message: format!("{deals} deal(s) are in this stage; move them to another stage first"),
        });
    }
    let remaining = list(tx, ctx).await?;
    if remaining.len() <= 1 {
        return Err(AppError::Conflict { code: "last_stage", message: "a pipeline needs at least one stage".into() });
    }
    tx.execute(Q::new("DELETE FROM deal_stages WHERE workspace_id = $1 AND id = $2").bind(ctx.workspace_id).bind(id)).await?;
    let order: Vec<Uuid> = remaining.iter().map(|s| s.id).filter(|s| *s != id).collect();
    renumber(tx, ctx, &order).await?;
    audit::record(tx, ctx, "deal_stage.deleted", "deal_stage", Some(id), Some(&stage), None::<&()>).await?;
    Ok(stage)
}
