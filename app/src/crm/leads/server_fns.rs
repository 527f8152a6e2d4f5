//! Server functions for leads: the signed-in member calls the same
//! operations as the REST API.

// A server function takes one argument per input of the form that posts
// to it, so a long form means a long signature (here and in the client
// stub the macro writes, which no item attribute reaches).
#![allow(clippy::too_many_arguments)]

use crate::api_error::ApiError;
#[cfg(feature = "ssr")]
use crate::platform::transaction::WriteTx;
use leptos::prelude::*;
use uuid::Uuid;

use super::types::{Conversion, Lead, LeadSource, LeadStatus};
use crate::platform::types::Page;

#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, member, optional_id, split_list};

/// A lead-source picker's value: blank is "none".
#[cfg(feature = "ssr")]
pub(crate) fn optional_lead_source(value: Option<String>) -> Result<Option<LeadSource>, ApiError> {
    match blank_to_none(value) {
        None => Ok(None),
        Some(v) => LeadSource::parse(&v).map(Some).ok_or_else(|| ApiError::field("source", format!("{v:?} is not a lead source"))),
    }
}

#[server(prefix = "/sf", endpoint = "list_leads")]
pub async fn list_leads(
    q: Option<String>,
    status: Option<LeadStatus>,
    source: Option<LeadSource>,
    owner: Option<String>,
    cursor: Option<String>,
) -> Result<Page<Lead>, ApiError> {
    use crate::crm::leads::{ops, types::LeadFilter};
    let (state, ctx) = member().await?;
    let filter = LeadFilter { q, status, source, owner: blank_to_none(owner), cursor, ..Default::default() };
    let mut tx = state.db.begin_read().await?;
    let found = ops::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(found)
}

#[server(prefix = "/sf", endpoint = "get_lead")]
pub async fn get_lead(id: Uuid) -> Result<Lead, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let lead = crate::crm::leads::ops::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(lead)
}

#[server(prefix = "/sf", endpoint = "create_lead")]
pub async fn create_lead(
    name: String,
    email: Option<String>,
    company_name: Option<String>,
    source: Option<String>,
) -> Result<Lead, ApiError> {
    use crate::crm::leads::{ops, types::NewLead};
    let (state, ctx) = member().await?;
    let source = optional_lead_source(source)?;
    let input = NewLead { name, email: blank_to_none(email), company_name: blank_to_none(company_name), source, ..Default::default() };
    let mut tx = WriteTx::begin(&state.db).await?;
    let lead = ops::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(lead)
}

/// `create_deal` is the checkbox; `amount` is typed in major units.
#[server(prefix = "/sf", endpoint = "convert_lead")]
pub async fn convert_lead(
    id: Uuid,
    create_deal: Option<String>,
    stage_id: Option<Uuid>,
    amount: Option<String>,
    currency: Option<String>,
) -> Result<Conversion, ApiError> {
    use crate::crm::leads::{
        ops,
        types::{ConvertDeal, ConvertLead},
    };
    let (state, ctx) = member().await?;
    let deal = match create_deal {
        Some(_) => {
            let formats = crate::platform::server_fns::ssr::member_formats(&state, &ctx).await?;
            let amount_cents = formats.parse_money(amount.as_deref().unwrap_or("")).ok_or_else(|| {
                ApiError::field("amount", format!("amount must be a number like 9000 or {}", formats.amount_example(900_050)))
            })?;
            Some(ConvertDeal { stage_id, amount_cents: Some(amount_cents), currency: blank_to_none(currency), ..Default::default() })
        }
        None => None,
    };
    let input = ConvertLead { deal, ..Default::default() };
    let mut tx = WriteTx::begin(&state.db).await?;
    let conversion = ops::convert(&mut tx, &ctx, id, input).await?;
    tx.commit().await?;
    Ok(conversion)
}

#[server(prefix = "/sf", endpoint = "lead_timeline")]
pub async fn lead_timeline(id: Uuid) -> Result<Vec<crate::crm::activities::types::TimelineEntry>, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let lead_timeline = crate::crm::activities::ops::lead_timeline(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(lead_timeline)
}

#[server(prefix = "/sf", endpoint = "update_lead")]
pub async fn update_lead(
    id: Uuid,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    company_name: Option<String>,
    title: Option<String>,
    status: String,
    source: Option<String>,
    score: String,
    // Comma-separated; absent leaves the tags alone.
    tags: Option<String>,
    // A member's id, or blank for unassigned; absent leaves the owner alone.
    owner_id: Option<String>,
    // `custom[<key>]` inputs: the lead's custom fields as edited.
    custom: Option<std::collections::BTreeMap<String, String>>,
    new_field_key: Option<String>,
    new_field_value: Option<String>,
) -> Result<Lead, ApiError> {
    use crate::crm::leads::{ops, types::LeadPatch};
    let (state, ctx) = member().await?;
    let status = LeadStatus::parse(&status).ok_or_else(|| ApiError::field("status", "choose a status"))?;
    let source = optional_lead_source(source)?;
    let score: i64 = score.trim().parse().map_err(|_| ApiError::field("score", "score must be a whole number"))?;
    let tags = tags.map(|t| split_list(&t, &[',']));
    let patch = LeadPatch {
        name: Some(name),
        email: Some(blank_to_none(email)),
        phone: phone.map(|p| blank_to_none(Some(p))),
        company_name: Some(blank_to_none(company_name)),
        title: title.map(|t| blank_to_none(Some(t))),
        status: Some(status),
        source,
        score: Some(score),
        tags,
        owner_id: owner_id.map(|owner| optional_id(Some(owner), "owner_id")).transpose()?,
        ..Default::default()
    };
    let added = new_field_key.map(|k| (k, new_field_value.unwrap_or_default()));
    let edits_custom_fields = custom.is_some() || added.is_some();
    let custom = custom.unwrap_or_default();
    let mut tx = WriteTx::begin(&state.db).await?;
    let mut patch = patch;
    if edits_custom_fields {
        // Merged against the stored fields inside the transaction,
        // so a concurrent enrichment's keys are not dropped.
        let current = ops::get(&mut tx, &ctx, id).await?;
        let merged = crate::crm::leads::types::apply_custom_field_edits(&current.custom_fields, &custom, added)
            .map_err(|message| crate::error::AppError::validation("custom_fields", message))?;
        if merged != current.custom_fields {
            patch.custom_fields = Some(merged);
        }
    }
    let lead = ops::update(&mut tx, &ctx, id, patch).await?;
    tx.commit().await?;
    Ok(lead)
}

#[server(prefix = "/sf", endpoint = "delete_lead")]
pub async fn delete_lead(id: Uuid) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    crate::crm::leads::ops::delete(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    leptos_axum::redirect("/leads");
    Ok(())
}
