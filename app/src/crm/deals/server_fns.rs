//! Server functions for the deal page and stage settings.

use crate::api_error::ApiError;
#[cfg(feature = "ssr")]
use crate::platform::transaction::WriteTx;
use leptos::prelude::*;
use uuid::Uuid;

use super::types::{BoardColumn, Deal, DealCard, DealStage};

#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, member};

#[server(prefix = "/sf", endpoint = "get_deal")]
pub async fn get_deal(id: Uuid) -> Result<Deal, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let deal = super::ops::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(deal)
}

/// The deal edit form, as typed: the amount in major units, pickers as ids
/// (blank for none).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct DealForm {
    pub name: String,
    pub stage_id: String,
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub expected_close_date: Option<String>,
    #[serde(default)]
    pub owner_id: Option<String>,
    #[serde(default)]
    pub company_id: Option<String>,
    #[serde(default)]
    pub contact_id: Option<String>,
}

/// Saves every field of the form; a stage change is audited with before
/// and after like a move on the board.
#[server(prefix = "/sf", endpoint = "update_deal")]
pub async fn update_deal(id: Uuid, form: DealForm) -> Result<Deal, ApiError> {
    use super::types::DealPatch;
    use crate::platform::server_fns::ssr::{optional_date, optional_id};
    let (state, ctx) = member().await?;
    let formats = crate::platform::server_fns::ssr::member_formats(&state, &ctx).await?;
    let amount_cents = formats
        .parse_money(form.amount.as_deref().unwrap_or(""))
        .ok_or_else(|| ApiError::field("amount", format!("amount must be a number like 9000 or {}", formats.amount_example(900_050))))?;
    let patch = DealPatch {
        name: Some(form.name),
        stage_id: Some(optional_id(Some(form.stage_id), "stage_id")?.ok_or_else(|| ApiError::field("stage_id", "choose a stage"))?),
        stage: None,
        stage_key: None,
        company_id: Some(optional_id(form.company_id, "company_id")?),
        contact_id: Some(optional_id(form.contact_id, "contact_id")?),
        amount_cents: Some(amount_cents),
        currency: blank_to_none(form.currency),
        expected_close_date: Some(optional_date(form.expected_close_date, "expected_close_date")?),
        owner_id: Some(optional_id(form.owner_id, "owner_id")?),
        custom_fields: None,
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let deal = super::ops::update(&mut tx, &ctx, id, patch).await?;
    tx.commit().await?;
    Ok(deal)
}

/// The newest 100 contacts, for pickers.
#[server(prefix = "/sf", endpoint = "contact_choices")]
pub async fn contact_choices() -> Result<Vec<(Uuid, String)>, ApiError> {
    use crate::crm::contacts::{ops, types::ContactFilter};
    let (state, ctx) = member().await?;
    let filter = ContactFilter { limit: Some(100), ..Default::default() };
    let mut tx = state.db.begin_read().await?;
    let page = ops::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(page.data.into_iter().map(|c| (c.id, c.name)).collect())
}

#[server(prefix = "/sf", endpoint = "update_stage")]
pub async fn update_stage(id: Uuid, name: String, probability: String, color: Option<String>) -> Result<(), ApiError> {
    use super::{stages, types::DealStagePatch};
    let (state, ctx) = member().await?;
    let probability: i64 = probability.trim().parse().map_err(|_| ApiError::field("probability", "probability must be a whole number"))?;
    let patch = DealStagePatch { name: Some(name), probability: Some(probability), color: blank_to_none(color), kind: None };
    let mut tx = WriteTx::begin(&state.db).await?;
    stages::update(&mut tx, &ctx, id, patch).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/sf", endpoint = "list_stages")]
pub async fn list_stages() -> Result<Vec<DealStage>, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let found = crate::crm::deals::stages::list(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(found)
}

#[server(prefix = "/sf", endpoint = "pipeline_board")]
pub async fn pipeline_board(owner: Option<String>) -> Result<Vec<BoardColumn>, ApiError> {
    let (state, ctx) = member().await?;
    let owner = blank_to_none(owner);
    let mut tx = state.db.begin_read().await?;
    let columns = crate::crm::deals::ops::board(&mut tx, &ctx, owner).await?;
    tx.commit().await?;
    Ok(columns)
}

/// More cards of one board column ("show more").
#[server(prefix = "/sf", endpoint = "more_stage_cards")]
pub async fn more_stage_cards(stage_id: Uuid, owner: Option<String>, offset: i64) -> Result<Vec<DealCard>, ApiError> {
    let (state, ctx) = member().await?;
    let owner = blank_to_none(owner);
    let mut tx = state.db.begin_read().await?;
    let cards = crate::crm::deals::ops::stage_cards(&mut tx, &ctx, stage_id, owner.as_deref(), offset).await?;
    tx.commit().await?;
    Ok(cards)
}

#[server(prefix = "/sf", endpoint = "move_deal")]
pub async fn move_deal(deal_id: Uuid, stage_id: Uuid) -> Result<Deal, ApiError> {
    use crate::crm::deals::{ops, types::DealPatch};
    let (state, ctx) = member().await?;
    let patch = DealPatch { stage_id: Some(stage_id), ..Default::default() };
    let mut tx = WriteTx::begin(&state.db).await?;
    let deal = ops::update(&mut tx, &ctx, deal_id, patch).await?;
    tx.commit().await?;
    Ok(deal)
}

#[server(prefix = "/sf", endpoint = "create_stage")]
pub async fn create_stage(key: String, name: String, kind: String, probability: String, color: Option<String>) -> Result<(), ApiError> {
    use crate::crm::deals::{
        stages,
        types::{NewDealStage, StageKind},
    };
    let (state, ctx) = member().await?;
    let kind = StageKind::try_from(kind).map_err(|message| ApiError::field("kind", message))?;
    let probability: i64 = probability.trim().parse().map_err(|_| ApiError::field("probability", "probability must be a whole number"))?;
    let input = NewDealStage {
        key,
        name,
        kind: Some(kind),
        probability: Some(probability),
        color: blank_to_none(color),
        position: None,
        custom_fields: None,
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    stages::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(())
}

/// Moves a stage one place earlier (`up`) or later.
#[server(prefix = "/sf", endpoint = "shift_stage")]
pub async fn shift_stage(id: Uuid, up: bool) -> Result<(), ApiError> {
    use crate::crm::deals::{stages, types::StageOrder};
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let mut ids: Vec<Uuid> = stages::list(&mut tx, &ctx).await?.into_iter().map(|s| s.id).collect();
    if let Some(i) = ids.iter().position(|s| *s == id) {
        let j = if up { i.checked_sub(1) } else { Some(i + 1).filter(|j| *j < ids.len()) };
        if let Some(j) = j {
            ids.swap(i, j);
            stages::reorder(&mut tx, &ctx, StageOrder { stage_ids: ids }).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/sf", endpoint = "delete_stage")]
pub async fn delete_stage(id: Uuid) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    crate::crm::deals::stages::delete(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/sf", endpoint = "create_deal")]
pub async fn create_deal(name: String, stage_id: Option<Uuid>, amount: Option<String>, currency: Option<String>) -> Result<(), ApiError> {
    use crate::crm::deals::{ops, types::NewDeal};
    let (state, ctx) = member().await?;
    let formats = crate::platform::server_fns::ssr::member_formats(&state, &ctx).await?;
    let amount_cents = formats
        .parse_money(amount.as_deref().unwrap_or(""))
        .ok_or_else(|| ApiError::field("amount", format!("amount must be a number like 9000 or {}", formats.amount_example(900_050))))?;
    let input = NewDeal { name, stage_id, amount_cents: Some(amount_cents), currency: blank_to_none(currency), ..Default::default() };
    let mut tx = WriteTx::begin(&state.db).await?;
    ops::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(())
}
