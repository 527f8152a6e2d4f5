//! Server functions for the deal page and stage settings.

use leptos::prelude::*;
use uuid::Uuid;

use super::types::Deal;

#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, in_read, in_write, member};

#[server(prefix = "/sf", endpoint = "get_deal")]
pub async fn get_deal(id: Uuid) -> Result<Deal, ServerFnError> {
    let (state, ctx) = member().await?;
    in_read(&state, move |tx| Box::pin(async move { super::ops::get(tx, &ctx, id).await })).await
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
pub async fn update_deal(id: Uuid, form: DealForm) -> Result<Deal, ServerFnError> {
    use super::types::{parse_money, DealPatch};
    use crate::platform::server_fns::ssr::{optional_date, optional_id};
    let (state, ctx) = member().await?;
    let amount_cents = parse_money(form.amount.as_deref().unwrap_or(""))
        .ok_or_else(|| ServerFnError::new("amount must be a number like 9000 or 9,000.50"))?;
    let patch = DealPatch {
        name: Some(form.name),
        stage_id: Some(optional_id(Some(form.stage_id), "stage")?.ok_or_else(|| ServerFnError::new("choose a stage"))?),
        company_id: Some(optional_id(form.company_id, "company")?),
        contact_id: Some(optional_id(form.contact_id, "contact")?),
        amount_cents: Some(amount_cents),
        currency: blank_to_none(form.currency),
        expected_close_date: Some(optional_date(form.expected_close_date, "expected close date")?),
        owner_id: Some(optional_id(form.owner_id, "owner")?),
        custom_fields: None,
    };
    in_write(&state, move |tx| Box::pin(async move { super::ops::update(tx, &ctx, id, patch).await })).await
}

/// The newest 100 contacts, for pickers.
#[server(prefix = "/sf", endpoint = "contact_choices")]
pub async fn contact_choices() -> Result<Vec<(Uuid, String)>, ServerFnError> {
    use crate::crm::contacts::{ops, types::ContactFilter};
    let (state, ctx) = member().await?;
    let filter = ContactFilter { limit: Some(100), ..Default::default() };
    in_read(&state, move |tx| Box::pin(async move { ops::list(tx, &ctx, filter).await }))
        .await
        .map(|page| page.data.into_iter().map(|c| (c.id, c.name)).collect())
}

#[server(prefix = "/sf", endpoint = "update_stage")]
pub async fn update_stage(id: Uuid, name: String, probability: String, color: Option<String>) -> Result<(), ServerFnError> {
    use super::{stages, types::DealStagePatch};
    let (state, ctx) = member().await?;
    let probability: i64 = probability.trim().parse().map_err(|_| ServerFnError::new("probability must be a whole number"))?;
    let patch = DealStagePatch { name: Some(name), probability: Some(probability), color: blank_to_none(color), kind: None };
    in_write(&state, move |tx| Box::pin(async move { stages::update(tx, &ctx, id, patch).await.map(|_| ()) })).await
}
