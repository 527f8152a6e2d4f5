//! Deals: money in minor units with a currency, moving through the
//! workspace's stages; every stage move is audited with before and after.

use serde_json::json;
use uuid::Uuid;

use super::stages;
use super::types::*;
use crate::crm::fields::{check_owner, owner_condition, owner_or_creator, text_search};
use crate::error::{AppError, AppResult};
use crate::platform::context::Ctx;
use crate::platform::db::{now, wide, wide_sum, Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope};
use crate::platform::validate::money;
use crate::platform::validate::required_text;
use crate::platform::validate::{check_custom_fields, check_reference, custom_fields_or_empty};
use crate::platform::{audit, events};

const COLUMNS: &str = "workspace_id, id, name, company_id, contact_id, lead_id, stage_id, amount_cents, currency, \
                       expected_close_date, owner_id, custom_fields, closed_at, created_at, updated_at, source, last_agent_actor_id";

pub const DEFAULT_CURRENCY: &str = "USD";

pub fn check_currency(currency: Option<String>) -> AppResult<String> {
    let currency = currency.map(|c| c.trim().to_uppercase()).unwrap_or_else(|| DEFAULT_CURRENCY.into());
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(AppError::validation("currency", "currency must be a three-letter ISO 4217 code like USD"));
    }
    Ok(currency)
}

pub async fn find(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Option<Deal>> {
    Ok(tx
        .fetch_optional(Q::new(format!("SELECT {COLUMNS} FROM deals WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id))
        .await?)
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Deal> {
    ctx.require(Scope::CrmRead)?;
    find(tx, ctx, id).await?.ok_or(AppError::NotFound("deal"))
}

async fn stage_for(tx: &mut Tx, ctx: &Ctx, stage_id: Option<Uuid>) -> AppResult<DealStage> {
    match stage_id {
        Some(id) => stages::find(tx, ctx, id).await?.ok_or_else(|| AppError::validation("stage_id", "stage does not exist")),
        None => stages::list(tx, ctx)
            .await?
            .into_iter()
            .find(|s| s.kind == StageKind::Open)
            .ok_or_else(|| AppError::validation("stage_id", "the pipeline has no open stage; name one")),
    }
}

fn closed_at_for(stage: &DealStage, previous: Option<chrono::DateTime<chrono::Utc>>) -> Option<chrono::DateTime<chrono::Utc>> {
    match stage.kind {
        StageKind::Open => None,
        StageKind::Won | StageKind::Lost => previous.or_else(|| Some(now())),
    }
}

pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewDeal) -> AppResult<Deal> {
    ctx.require(Scope::CrmWrite)?;
    let custom_fields = custom_fields_or_empty(input.custom_fields)?;
    let name = required_text("name", &input.name, 200)?;
    let amount_cents = money("amount_cents", input.amount_cents.unwrap_or(0))?;
    let currency = check_currency(input.currency)?;
    let stage_id = stage_named(tx, ctx, input.stage_id, input.stage.as_deref(), input.stage_key.as_deref()).await?;
    let stage = stage_for(tx, ctx, stage_id).await?;
    check_reference(tx, ctx, "company_id", "companies", input.company_id).await?;
    check_reference(tx, ctx, "contact_id", "contacts", input.contact_id).await?;
    check_reference(tx, ctx, "lead_id", "leads", input.lead_id).await?;
    let owner_id = owner_or_creator(ctx, input.owner_id);
    check_owner(tx, ctx, owner_id).await?;
    let at = now();
    let deal = Deal {
        id: Uuid::now_v7(),
        workspace_id: ctx.workspace_id,
        name,
        company_id: input.company_id,
        contact_id: input.contact_id,
        lead_id: input.lead_id,
        stage_id: stage.id,
        amount_cents,
        currency,
        expected_close_date: input.expected_close_date,
        owner_id,
        custom_fields,
        closed_at: closed_at_for(&stage, None),
        source: ctx.record_source().into(),
        last_agent_actor_id: ctx.api_key_id,
        created_at: at,
        updated_at: at,
    };
    tx.execute(
        Q::new(format!(
            "INSERT INTO deals ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ))
        .bind(ctx.workspace_id)
        .bind(deal.id)
        .bind(deal.name.as_str())
        .bind(deal.company_id)
        .bind(deal.contact_id)
        .bind(deal.lead_id)
        .bind(deal.stage_id)
        .bind(deal.amount_cents)
        .bind(deal.currency.as_str())
        .bind(deal.expected_close_date)
        .bind(deal.owner_id)
        .bind(deal.custom_fields.clone())
        .bind(deal.closed_at)
        .bind(deal.created_at)
        .bind(deal.updated_at)
        .bind(deal.source.as_str())
        .bind(deal.last_agent_actor_id),
    )
    .await?;
    audit::record(tx, ctx, "deal.created", "deal", Some(deal.id), None::<&()>, Some(&deal)).await?;
    Ok(deal)
}

/// The stage a write names: by id, or by key under either of the seed's
/// spellings (`stage`, `stage_key`). Naming two different stages is refused.
pub async fn stage_named(
    tx: &mut Tx,
    ctx: &Ctx,
    stage_id: Option<Uuid>,
    stage: Option<&str>,
    stage_key: Option<&str>,
) -> AppResult<Option<Uuid>> {
    let by_key = match (stage, stage_key) {
        (Some(a), Some(b)) if a.trim() != b.trim() => {
            return Err(AppError::validation("stage_key", "stage and stage_key name different stages; give one"))
        }
        (_, Some(key)) => Some(stages::by_key(tx, ctx, "stage_key", key).await?.id),
        (Some(key), None) => Some(stages::by_key(tx, ctx, "stage", key).await?.id),
        (None, None) => None,
    };
    match (stage_id, by_key) {
        (Some(id), Some(keyed)) if id != keyed => {
            Err(AppError::validation("stage_key", "stage_id and the stage key name different stages; give one"))
        }
        (Some(id), _) => Ok(Some(id)),
        (None, keyed) => Ok(keyed),
    }
}

fn stage_snapshot(stage: &DealStage) -> serde_json::Value {
    json!({"stage_id": stage.id, "stage_key": stage.key, "stage_name": stage.name, "kind": stage.kind})
}

pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: DealPatch) -> AppResult<Deal> {
    ctx.require(Scope::CrmWrite)?;
    let before = find(tx, ctx, id).await?.ok_or(AppError::NotFound("deal"))?;
    let mut after = before.clone();
    if let Some(v) = patch.name {
        after.name = required_text("name", &v, 200)?;
    }
    if let Some(v) = patch.company_id {
        check_reference(tx, ctx, "company_id", "companies", v).await?;
        after.company_id = v;
    }
    if let Some(v) = patch.contact_id {
        check_reference(tx, ctx, "contact_id", "contacts", v).await?;
        after.contact_id = v;
    }
    if let Some(v) = patch.amount_cents {
        after.amount_cents = money("amount_cents", v)?;
    }
    if let Some(v) = patch.currency {
        after.currency = check_currency(Some(v))?;
    }
    if let Some(v) = patch.expected_close_date {
        after.expected_close_date = v;
    }
    if let Some(v) = patch.owner_id {
        check_owner(tx, ctx, v).await?;
        after.owner_id = v;
    }
    if let Some(v) = patch.custom_fields {
        check_custom_fields(&v)?;
        after.custom_fields = v;
    }
    let mut stage_move = None;
    let stage_id = stage_named(tx, ctx, patch.stage_id, patch.stage.as_deref(), patch.stage_key.as_deref()).await?;
    if let Some(stage_id) = stage_id.filter(|s| *s != before.stage_id) {
        let to = stage_for(tx, ctx, Some(stage_id)).await?;
        let from = stages::find(tx, ctx, before.stage_id).await?.ok_or_else(|| AppError::Internal("deal's stage vanished".into()))?;
        after.stage_id = to.id;
        after.closed_at = closed_at_for(&to, if from.kind == StageKind::Open { None } else { before.closed_at });
        stage_move = Some((from, to));
    }
    if after == before {
        return Ok(before);
    }
    // A key that changes the record becomes its last agent (audit::record stores it).
    after.last_agent_actor_id = ctx.api_key_id.or(before.last_agent_actor_id);
    after.updated_at = now();
    tx.execute(
        Q::new(
            "UPDATE deals SET name = $1, company_id = $2, contact_id = $3, stage_id = $4, amount_cents = $5, \
             currency = $6, expected_close_date = $7, owner_id = $8, custom_fields = $9, closed_at = $10, \
             updated_at = $11 WHERE workspace_id = $12 AND id = $13",
        )
        .bind(after.name.as_str())
        .bind(after.company_id)
        .bind(after.contact_id)
        .bind(after.stage_id)
        .bind(after.amount_cents)
        .bind(after.currency.as_str())
        .bind(after.expected_close_date)
        .bind(after.owner_id)
        .bind(after.custom_fields.clone())
        .bind(after.closed_at)
        .bind(after.updated_at)
        .bind(ctx.workspace_id)
        .bind(id),
    )
    .await?;
    audit::record(tx, ctx, "deal.updated", "deal", Some(id), Some(&before), Some(&after)).await?;
    if let Some((from, to)) = stage_move {
        audit::record(tx, ctx, "deal.stage_changed", "deal", Some(id), Some(&stage_snapshot(&from)), Some(&stage_snapshot(&to))).await?;
        let data = json!({ "deal_id": id, "from_stage_id": from.id, "to_stage_id": to.id, "stage_kind": to.kind,
                           "owner_id": after.owner_id, "amount_cents": after.amount_cents, "currency": after.currency });
        events::emit(tx, ctx.workspace_id, "deal.stage_changed", Some(id), data, events::fresh_key("deal.stage_changed")).await?;
    }
    Ok(after)
}

pub async fn list(tx: &mut Tx, ctx: &Ctx, filter: DealFilter) -> AppResult<Page<Deal>> {
    ctx.require(Scope::CrmRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("SELECT {COLUMNS} FROM deals WHERE workspace_id = $1")).bind(ctx.workspace_id);
    text_search(&mut q, filter.q.as_deref(), &["name"])?;
    owner_condition(&mut q, ctx, "owner_id", filter.owner.as_deref())?;
    if let Some(stage_id) = filter.stage_id {
        let p = q.arg(stage_id);
        q.push(&format!(" AND stage_id = {p}"));
    }
    if let Some(company_id) = filter.company_id {
        let p = q.arg(company_id);
        q.push(&format!(" AND company_id = {p}"));
    }
    page.apply(&mut q, "id");
    let rows: Vec<Deal> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |d| d.id, |d| d))
}

/// One column's cards, most recently updated first, from `offset` on, at
/// most `BOARD_CARDS_PER_STAGE` of them ("show more" on the board).
pub async fn stage_cards(tx: &mut Tx, ctx: &Ctx, stage_id: Uuid, owner: Option<&str>, offset: i64) -> AppResult<Vec<DealCard>> {
    ctx.require(Scope::CrmRead)?;
    if offset < 0 {
        return Err(AppError::validation("offset", "offset must not be negative"));
    }
    let mut q = Q::new(
        "SELECT d.id, d.name, d.stage_id, d.amount_cents, d.currency, c.name AS company_name, d.owner_id \
         FROM deals d LEFT JOIN companies c ON c.id = d.company_id \
         WHERE d.workspace_id = $1 AND d.stage_id = $2",
    )
    .bind(ctx.workspace_id)
    .bind(stage_id);
    owner_condition(&mut q, ctx, "d.owner_id", owner)?;
    let limit = q.arg(BOARD_CARDS_PER_STAGE);
    let offset = q.arg(offset);
    q.push(&format!(" ORDER BY d.updated_at DESC, d.id DESC LIMIT {limit} OFFSET {offset}"));
    Ok(tx.fetch_all(q).await?)
}

/// The pipeline board: every stage with its totals over all its deals and
/// its most recent cards.
pub async fn board(tx: &mut Tx, ctx: &Ctx, owner: Option<String>) -> AppResult<Vec<BoardColumn>> {
    ctx.require(Scope::CrmRead)?;
    let stages = stages::list(tx, ctx).await?;
    let totals = stage_totals(tx, ctx, owner.as_deref()).await?;
    let mut columns = Vec::with_capacity(stages.len());
    for stage in stages {
        let deals = stage_cards(tx, ctx, stage.id, owner.as_deref(), 0).await?;
        let mine: Vec<&(Uuid, String, i64, i64, i64)> = totals.iter().filter(|t| t.0 == stage.id).collect();
        columns.push(BoardColumn {
            count: mine.iter().map(|t| t.2).sum(),
            totals: mine.iter().map(|t| CurrencyTotal { currency: t.1.clone(), amount_cents: wide(t.3, t.4) }).collect(),
            deals,
            stage,
        });
    }
    Ok(columns)
}

/// Deals and amount per stage and currency (stage, currency, deals, amount
/// in two parts). For the whole workspace these are the dashboard's
/// `deal_stage` counters (migration 22), a few rows whatever the number of
/// deals; one owner's are summed over that owner's deals.
async fn stage_totals(tx: &mut Tx, ctx: &Ctx, owner: Option<&str>) -> AppResult<Vec<(Uuid, String, i64, i64, i64)>> {
    let q = if owner.map(str::trim).is_none_or(str::is_empty) {
        Q::new(
            "SELECT key_id, label, CAST(SUM(n) AS BIGINT), CAST(SUM(amount_hi) AS BIGINT), CAST(SUM(amount_lo) AS BIGINT) \
             FROM dashboard_counts WHERE workspace_id = $1 AND metric = 'deal_stage' \
             GROUP BY key_id, label HAVING SUM(n) <> 0 ORDER BY label",
        )
        .bind(ctx.workspace_id)
    } else {
        let mut q = Q::new(format!(
            "SELECT stage_id, currency, COUNT(*), {} FROM deals WHERE workspace_id = $1",
            wide_sum("amount_cents", "amount")
        ))
        .bind(ctx.workspace_id);
        owner_condition(&mut q, ctx, "owner_id", owner)?;
        q.push(" GROUP BY stage_id, currency ORDER BY currency");
        q
    };
    Ok(tx.fetch_all(q).await?)
}
