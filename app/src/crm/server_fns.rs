//! Server functions for leads, contacts and the pipeline: the signed-in
//! member calls the same operations as the REST API.

use leptos::prelude::*;
use uuid::Uuid;

use crate::crm::contacts::types::Contact;
use crate::crm::deals::types::{BoardColumn, Deal, DealStage};
use crate::crm::leads::types::{Conversion, Lead, LeadSource, LeadStatus};
use crate::platform::types::Page;

#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, in_read, in_write, member, optional_id, split_list};

/// A lead-source picker's value: blank is "none".
#[cfg(feature = "ssr")]
pub(crate) fn optional_lead_source(value: Option<String>) -> Result<Option<LeadSource>, ServerFnError> {
    match blank_to_none(value) {
        None => Ok(None),
        Some(v) => LeadSource::parse(&v).map(Some).ok_or_else(|| ServerFnError::new(format!("{v:?} is not a lead source"))),
    }
}

#[server(prefix = "/sf", endpoint = "list_leads")]
pub async fn list_leads(
    q: Option<String>,
    status: Option<LeadStatus>,
    source: Option<LeadSource>,
    owner: Option<String>,
    cursor: Option<String>,
) -> Result<Page<Lead>, ServerFnError> {
    use crate::crm::leads::{ops, types::LeadFilter};
    let (state, ctx) = member().await?;
    let filter = LeadFilter { q, status, source, owner: blank_to_none(owner), cursor, ..Default::default() };
    in_read(&state, move |tx| Box::pin(async move { ops::list(tx, &ctx, filter).await })).await
}

#[server(prefix = "/sf", endpoint = "get_lead")]
pub async fn get_lead(id: Uuid) -> Result<Lead, ServerFnError> {
    let (state, ctx) = member().await?;
    in_read(&state, move |tx| Box::pin(async move { crate::crm::leads::ops::get(tx, &ctx, id).await })).await
}

#[server(prefix = "/sf", endpoint = "create_lead")]
pub async fn create_lead(
    name: String,
    email: Option<String>,
    company_name: Option<String>,
    source: Option<String>,
) -> Result<Lead, ServerFnError> {
    use crate::crm::leads::{ops, types::NewLead};
    let (state, ctx) = member().await?;
    let source = optional_lead_source(source)?;
    let input = NewLead { name, email: blank_to_none(email), company_name: blank_to_none(company_name), source, ..Default::default() };
    in_write(&state, move |tx| Box::pin(async move { ops::create(tx, &ctx, input).await })).await
}

/// `create_deal` is the checkbox; `amount` is typed in major units.
#[server(prefix = "/sf", endpoint = "convert_lead")]
pub async fn convert_lead(
    id: Uuid,
    create_deal: Option<String>,
    stage_id: Option<Uuid>,
    amount: Option<String>,
    currency: Option<String>,
) -> Result<Conversion, ServerFnError> {
    use crate::crm::deals::types::parse_money;
    use crate::crm::leads::{
        ops,
        types::{ConvertDeal, ConvertLead},
    };
    let (state, ctx) = member().await?;
    let deal = match create_deal {
        Some(_) => {
            let amount_cents = parse_money(amount.as_deref().unwrap_or(""))
                .ok_or_else(|| ServerFnError::new("amount must be a number like 9000 or 9,000.50"))?;
            Some(ConvertDeal { stage_id, amount_cents: Some(amount_cents), currency: blank_to_none(currency), ..Default::default() })
        }
        None => None,
    };
    let input = ConvertLead { deal, ..Default::default() };
    in_write(&state, move |tx| Box::pin(async move { ops::convert(tx, &ctx, id, input).await })).await
}

#[server(prefix = "/sf", endpoint = "list_stages")]
pub async fn list_stages() -> Result<Vec<DealStage>, ServerFnError> {
    let (state, ctx) = member().await?;
    in_read(&state, move |tx| Box::pin(async move { crate::crm::deals::stages::list(tx, &ctx).await })).await
}

#[server(prefix = "/sf", endpoint = "pipeline_board")]
pub async fn pipeline_board(owner: Option<String>) -> Result<Vec<BoardColumn>, ServerFnError> {
    let (state, ctx) = member().await?;
    let owner = blank_to_none(owner);
    in_read(&state, move |tx| Box::pin(async move { crate::crm::deals::ops::board(tx, &ctx, owner).await })).await
}

#[server(prefix = "/sf", endpoint = "move_deal")]
pub async fn move_deal(deal_id: Uuid, stage_id: Uuid) -> Result<Deal, ServerFnError> {
    use crate::crm::deals::{ops, types::DealPatch};
    let (state, ctx) = member().await?;
    let patch = DealPatch { stage_id: Some(stage_id), ..Default::default() };
    in_write(&state, move |tx| Box::pin(async move { ops::update(tx, &ctx, deal_id, patch).await })).await
}

#[server(prefix = "/sf", endpoint = "list_contacts")]
pub async fn list_contacts(q: Option<String>, cursor: Option<String>) -> Result<Page<Contact>, ServerFnError> {
    use crate::crm::contacts::{ops, types::ContactFilter};
    let (state, ctx) = member().await?;
    let filter = ContactFilter { q, cursor, ..Default::default() };
    in_read(&state, move |tx| Box::pin(async move { ops::list(tx, &ctx, filter).await })).await
}

#[server(prefix = "/sf", endpoint = "create_contact")]
pub async fn create_contact(
    name: String,
    email: Option<String>,
    phone: Option<String>,
    title: Option<String>,
    company_name: Option<String>,
) -> Result<Contact, ServerFnError> {
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
    in_write(&state, move |tx| Box::pin(async move { ops::create(tx, &ctx, input).await })).await
}

#[server(prefix = "/sf", endpoint = "lead_timeline")]
pub async fn lead_timeline(id: Uuid) -> Result<Vec<crate::crm::activities::types::TimelineEntry>, ServerFnError> {
    let (state, ctx) = member().await?;
    in_read(&state, move |tx| Box::pin(async move { crate::crm::activities::ops::lead_timeline(tx, &ctx, id).await })).await
}

#[server(prefix = "/sf", endpoint = "company_people")]
pub async fn company_people(company_id: Uuid) -> Result<Vec<crate::crm::contacts::types::Membership>, ServerFnError> {
    let (state, ctx) = member().await?;
    in_read(&state, move |tx| Box::pin(async move { crate::crm::contacts::ops::memberships_of_company(tx, &ctx, company_id).await })).await
}

#[server(prefix = "/sf", endpoint = "update_lead")]
#[allow(clippy::too_many_arguments)]
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
) -> Result<Lead, ServerFnError> {
    use crate::crm::leads::{ops, types::LeadPatch};
    let (state, ctx) = member().await?;
    let status = LeadStatus::parse(&status).ok_or_else(|| ServerFnError::new("choose a status"))?;
    let source = optional_lead_source(source)?;
    let score: i64 = score.trim().parse().map_err(|_| ServerFnError::new("score must be a whole number"))?;
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
        owner_id: owner_id.map(|owner| optional_id(Some(owner), "owner")).transpose()?,
        ..Default::default()
    };
    let added = new_field_key.map(|k| (k, new_field_value.unwrap_or_default()));
    let edits_custom_fields = custom.is_some() || added.is_some();
    let custom = custom.unwrap_or_default();
    in_write(&state, move |tx| {
        Box::pin(async move {
            let mut patch = patch;
            if edits_custom_fields {
                // Merged against the stored fields inside the transaction,
                // so a concurrent enrichment's keys are not dropped.
                let current = ops::get(tx, &ctx, id).await?;
                let merged = crate::crm::leads::types::apply_custom_field_edits(&current.custom_fields, &custom, added)
                    .map_err(|message| crate::error::AppError::validation("custom_fields", message))?;
                if merged != current.custom_fields {
                    patch.custom_fields = Some(merged);
                }
            }
            ops::update(tx, &ctx, id, patch).await
        })
    })
    .await
}

#[server(prefix = "/sf", endpoint = "delete_lead")]
pub async fn delete_lead(id: Uuid) -> Result<(), ServerFnError> {
    let (state, ctx) = member().await?;
    in_write(&state, move |tx| Box::pin(async move { crate::crm::leads::ops::delete(tx, &ctx, id).await.map(|_| ()) })).await?;
    leptos_axum::redirect("/leads");
    Ok(())
}

#[server(prefix = "/sf", endpoint = "list_tasks")]
pub async fn list_tasks(show_done: bool) -> Result<Page<crate::crm::activities::types::Task>, ServerFnError> {
    use crate::crm::activities::{
        ops,
        types::{TaskFilter, TaskStatus},
    };
    let (state, ctx) = member().await?;
    let filter = TaskFilter { status: (!show_done).then_some(TaskStatus::Open), limit: Some(100), ..Default::default() };
    in_read(&state, move |tx| Box::pin(async move { ops::list_tasks(tx, &ctx, filter).await })).await
}

/// `due_date` is a calendar date; the task falls due at 09:00 UTC that day.
/// `assignee_id` is blank for "me", `unassigned`, or a member's id.
#[server(prefix = "/sf", endpoint = "create_task")]
pub async fn create_task(title: String, due_date: Option<String>, assignee_id: Option<String>) -> Result<(), ServerFnError> {
    use crate::crm::activities::{ops, types::NewTask};
    use crate::platform::server_fns::ssr::optional_date;
    let (state, ctx) = member().await?;
    let due_at = optional_date(due_date, "due date")?.map(|date| date.and_hms_opt(9, 0, 0).unwrap().and_utc());
    let assignee_id = match assignee_id.as_deref().map(str::trim) {
        Some("unassigned") => None,
        None | Some("") => ctx.user_id,
        Some(_) => optional_id(assignee_id, "assignee")?,
    };
    let input = NewTask { title, due_at, assignee_id, ..Default::default() };
    in_write(&state, move |tx| Box::pin(async move { ops::create_task(tx, &ctx, input).await.map(|_| ()) })).await
}

#[server(prefix = "/sf", endpoint = "complete_task")]
pub async fn complete_task(id: Uuid) -> Result<(), ServerFnError> {
    use crate::crm::activities::{
        ops,
        types::{TaskPatch, TaskStatus},
    };
    let (state, ctx) = member().await?;
    let patch = TaskPatch { status: Some(TaskStatus::Done), ..Default::default() };
    in_write(&state, move |tx| Box::pin(async move { ops::update_task(tx, &ctx, id, patch).await.map(|_| ()) })).await
}

#[server(prefix = "/sf", endpoint = "create_stage")]
pub async fn create_stage(
    key: String,
    name: String,
    kind: String,
    probability: String,
    color: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::crm::deals::{
        stages,
        types::{NewDealStage, StageKind},
    };
    let (state, ctx) = member().await?;
    let kind = StageKind::try_from(kind).map_err(ServerFnError::new)?;
    let probability: i64 = probability.trim().parse().map_err(|_| ServerFnError::new("probability must be a whole number"))?;
    let input = NewDealStage { key, name, kind, probability, color: blank_to_none(color), position: None };
    in_write(&state, move |tx| Box::pin(async move { stages::create(tx, &ctx, input).await.map(|_| ()) })).await
}

/// Moves a stage one place earlier (`up`) or later.
#[server(prefix = "/sf", endpoint = "shift_stage")]
pub async fn shift_stage(id: Uuid, up: bool) -> Result<(), ServerFnError> {
    use crate::crm::deals::{stages, types::StageOrder};
    let (state, ctx) = member().await?;
    in_write(&state, move |tx| {
        Box::pin(async move {
            let mut ids: Vec<Uuid> = stages::list(tx, &ctx).await?.into_iter().map(|s| s.id).collect();
            if let Some(i) = ids.iter().position(|s| *s == id) {
                let j = if up { i.checked_sub(1) } else { Some(i + 1).filter(|j| *j < ids.len()) };
                if let Some(j) = j {
                    ids.swap(i, j);
                    stages::reorder(tx, &ctx, StageOrder { stage_ids: ids }).await?;
                }
            }
            Ok(())
        })
    })
    .await
}

#[server(prefix = "/sf", endpoint = "delete_stage")]
pub async fn delete_stage(id: Uuid) -> Result<(), ServerFnError> {
    let (state, ctx) = member().await?;
    in_write(&state, move |tx| Box::pin(async move { crate::crm::deals::stages::delete(tx, &ctx, id).await.map(|_| ()) })).await
}

#[server(prefix = "/sf", endpoint = "create_deal")]
pub async fn create_deal(
    name: String,
    stage_id: Option<Uuid>,
    amount: Option<String>,
    currency: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::crm::deals::{
        ops,
        types::{parse_money, NewDeal},
    };
    let (state, ctx) = member().await?;
    let amount_cents =
        parse_money(amount.as_deref().unwrap_or("")).ok_or_else(|| ServerFnError::new("amount must be a number like 9000 or 9,000.50"))?;
    let input = NewDeal { name, stage_id, amount_cents: Some(amount_cents), currency: blank_to_none(currency), ..Default::default() };
    in_write(&state, move |tx| Box::pin(async move { ops::create(tx, &ctx, input).await.map(|_| ()) })).await
}

#[server(prefix = "/sf", endpoint = "get_contact")]
pub async fn get_contact(id: Uuid) -> Result<(Contact, Vec<crate::crm::contacts::types::Membership>), ServerFnError> {
    use crate::crm::contacts::ops;
    let (state, ctx) = member().await?;
    in_read(&state, move |tx| {
        Box::pin(async move {
            let contact = ops::get(tx, &ctx, id).await?;
            let memberships = ops::memberships_of_contact(tx, &ctx, id).await?;
            Ok((contact, memberships))
        })
    })
    .await
}

/// The newest 100 companies, for pickers.
#[server(prefix = "/sf", endpoint = "company_choices")]
pub async fn company_choices() -> Result<Vec<(Uuid, String)>, ServerFnError> {
    use crate::crm::companies::{ops, types::CompanyFilter};
    let (state, ctx) = member().await?;
    let filter = CompanyFilter { limit: Some(100), ..Default::default() };
    in_read(&state, move |tx| Box::pin(async move { ops::list(tx, &ctx, filter).await }))
        .await
        .map(|page| page.data.into_iter().map(|c| (c.id, c.name)).collect())
}

#[server(prefix = "/sf", endpoint = "link_company")]
pub async fn link_company(contact_id: Uuid, company_id: Uuid, role: Option<String>) -> Result<(), ServerFnError> {
    use crate::crm::contacts::{ops, types::NewMembership};
    let (state, ctx) = member().await?;
    let input = NewMembership { company_id, role: blank_to_none(role) };
    in_write(&state, move |tx| Box::pin(async move { ops::add_membership(tx, &ctx, contact_id, input).await.map(|_| ()) })).await
}

#[server(prefix = "/sf", endpoint = "set_company_role")]
pub async fn set_company_role(contact_id: Uuid, company_id: Uuid, role: Option<String>) -> Result<(), ServerFnError> {
    use crate::crm::contacts::{ops, types::MembershipPatch};
    let (state, ctx) = member().await?;
    let patch = MembershipPatch { role: Some(blank_to_none(role)) };
    in_write(&state, move |tx| Box::pin(async move { ops::update_membership(tx, &ctx, contact_id, company_id, patch).await.map(|_| ()) }))
        .await
}

#[server(prefix = "/sf", endpoint = "unlink_company")]
pub async fn unlink_company(contact_id: Uuid, company_id: Uuid) -> Result<(), ServerFnError> {
    let (state, ctx) = member().await?;
    in_write(&state, move |tx| {
        Box::pin(async move { crate::crm::contacts::ops::remove_membership(tx, &ctx, contact_id, company_id).await.map(|_| ()) })
    })
    .await
}
