//! Server functions for companies: the session's member calls the same
//! operations as the REST API.

use leptos::prelude::*;
use uuid::Uuid;

use super::types::*;
use crate::platform::types::Page;

#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{in_read, in_write, member};

/// Flat arguments: a struct argument whose fields are all absent would be
/// encoded as nothing at all and fail to decode.
#[server(prefix = "/sf", endpoint = "list_companies")]
pub async fn list_companies(
    q: Option<String>,
    status: Option<CompanyStatus>,
    owner: Option<String>,
    cursor: Option<String>,
) -> Result<Page<Company>, ServerFnError> {
    let (state, ctx) = member().await?;
    let filter = CompanyFilter { q, status, owner, cursor, parent_id: None, limit: None };
    in_read(&state, move |tx| Box::pin(async move { super::ops::list(tx, &ctx, filter).await })).await
}

#[server(prefix = "/sf", endpoint = "get_company")]
pub async fn get_company(id: Uuid) -> Result<Company, ServerFnError> {
    let (state, ctx) = member().await?;
    in_read(&state, move |tx| Box::pin(async move { super::ops::get(tx, &ctx, id).await })).await
}

#[cfg(feature = "ssr")]
fn blank_to_none(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

#[server(prefix = "/sf", endpoint = "create_company")]
pub async fn create_company(
    name: String,
    domain: Option<String>,
    website: Option<String>,
    status: Option<String>,
) -> Result<Company, ServerFnError> {
    let (state, ctx) = member().await?;
    let status = match blank_to_none(status) {
        Some(s) => Some(CompanyStatus::parse(&s).ok_or_else(|| ServerFnError::new("unknown status"))?),
        None => None,
    };
    let input = NewCompany {
        name,
        domain: blank_to_none(domain),
        website: blank_to_none(website),
        status,
        owner_id: ctx.user_id,
        ..Default::default()
    };
    let company = in_write(&state, move |tx| Box::pin(async move { super::ops::create(tx, &ctx, input).await })).await?;
    leptos_axum::redirect(&format!("/companies/{}", company.id));
    Ok(company)
}

/// The edit form always sends every field, so an empty text clears it.
#[server(prefix = "/sf", endpoint = "update_company")]
pub async fn update_company(
    id: Uuid,
    name: String,
    domain: Option<String>,
    website: Option<String>,
    status: String,
) -> Result<Company, ServerFnError> {
    let (state, ctx) = member().await?;
    let status = CompanyStatus::parse(&status).ok_or_else(|| ServerFnError::new("unknown status"))?;
    let patch = CompanyPatch {
        name: Some(name),
        domain: Some(blank_to_none(domain)),
        website: Some(blank_to_none(website)),
        status: Some(status),
        ..Default::default()
    };
    in_write(&state, move |tx| Box::pin(async move { super::ops::update(tx, &ctx, id, patch).await })).await
}
