//! Server functions for contacts and their company memberships: the
//! signed-in member calls the same operations as the REST API.

use crate::api_error::ApiError;
#[cfg(feature = "ssr")]
use crate::platform::transaction::WriteTx;
use leptos::prelude::*;
use uuid::Uuid;

use super::types::{Contact, Membership};
use crate::platform::types::Page;

#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, member};

#[server(prefix = "/sf", endpoint = "list_contacts")]
pub async fn list_contacts(q: Option<String>, cursor: Option<String>) -> Result<Page<Contact>, ApiError> {
    use crate::crm::contacts::{ops, types::ContactFilter};
    let (state, ctx) = member().await?;
    let filter = ContactFilter { q, cursor, ..Default::default() };
    let mut tx = state.db.begin_read().await?;
    let found = ops::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(found)
}

#[server(prefix = "/sf", endpoint = "create_contact")]
pub async fn create_contact(
    name: String,
    email: Option<String>,
    phone: Option<String>,
    title: Option<String>,
    company_name: Option<String>,
) -> Result<Contact, ApiError> {
    use crate::crm::contacts::{ops, types::NewContact};
    let (state, ctx) = member().await?;
    let input = NewContact {
        name,
        email: blank_to_none(email),
        phone: blank_to_none(phone),
        title: blank_to_none(title),
        company_name: blank_to_none(company_name),
        ..Default::default()
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let contact = ops::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(contact)
}

#[server(prefix = "/sf", endpoint = "company_people")]
pub async fn company_people(company_id: Uuid) -> Result<Vec<Membership>, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let memberships = crate::crm::contacts::ops::memberships_of_company(&mut tx, &ctx, company_id).await?;
    tx.commit().await?;
    Ok(memberships)
}

#[server(prefix = "/sf", endpoint = "get_contact")]
pub async fn get_contact(id: Uuid) -> Result<(Contact, Vec<Membership>), ApiError> {
    use crate::crm::contacts::ops;
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let contact = ops::get(&mut tx, &ctx, id).await?;
    let memberships = ops::memberships_of_contact(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok((contact, memberships))
}

#[server(prefix = "/sf", endpoint = "link_company")]
pub async fn link_company(contact_id: Uuid, company_id: Uuid, role: Option<String>) -> Result<(), ApiError> {
    use crate::crm::contacts::{ops, types::NewMembership};
    let (state, ctx) = member().await?;
    let input = NewMembership { company_id, role: blank_to_none(role) };
    let mut tx = WriteTx::begin(&state.db).await?;
    ops::add_membership(&mut tx, &ctx, contact_id, input).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/sf", endpoint = "set_company_role")]
pub async fn set_company_role(contact_id: Uuid, company_id: Uuid, role: Option<String>) -> Result<(), ApiError> {
    use crate::crm::contacts::{ops, types::MembershipPatch};
    let (state, ctx) = member().await?;
    let patch = MembershipPatch { role: Some(blank_to_none(role)) };
    let mut tx = WriteTx::begin(&state.db).await?;
    ops::update_membership(&mut tx, &ctx, contact_id, company_id, patch).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/sf", endpoint = "unlink_company")]
pub async fn unlink_company(contact_id: Uuid, company_id: Uuid) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    crate::crm::contacts::ops::remove_membership(&mut tx, &ctx, contact_id, company_id).await?;
    tx.commit().await?;
    Ok(())
}
