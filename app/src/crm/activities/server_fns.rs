//! Server functions for activities on any record (lead, contact, company,
//! deal): the record pages list them and log new ones.

use crate::api_error::ApiError;
#[cfg(feature = "ssr")]
use crate::platform::transaction::WriteTx;
use leptos::prelude::*;
use uuid::Uuid;

use crate::platform::types::Page;

use super::types::Activity;

#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, member, optional_id};

/// Which record an activity panel belongs to.
#[cfg(feature = "ssr")]
fn subject(record: &str, id: Uuid) -> Result<[Option<Uuid>; 4], ApiError> {
    Ok(match record {
        "lead" => [Some(id), None, None, None],
        "contact" => [None, Some(id), None, None],
        "company" => [None, None, Some(id), None],
        "deal" => [None, None, None, Some(id)],
        other => return Err(ApiError::field("record_kind", format!("unknown record kind {other:?}"))),
    })
}

/// The record's newest 100 activities.
#[server(prefix = "/sf", endpoint = "record_activities")]
pub async fn record_activities(record: String, id: Uuid) -> Result<Vec<Activity>, ApiError> {
    use super::{ops, types::ActivityFilter};
    let (state, ctx) = member().await?;
    let [lead_id, contact_id, company_id, deal_id] = subject(&record, id)?;
    let filter = ActivityFilter { lead_id, contact_id, company_id, deal_id, limit: Some(100), ..Default::default() };
    let mut tx = state.db.begin_read().await?;
    let activities = ops::list_activities(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(activities.data)
}

#[server(prefix = "/sf", endpoint = "log_record_activity")]
pub async fn log_record_activity(
    record: String,
    record_id: Uuid,
    kind: String,
    subject_line: String,
    body: Option<String>,
) -> Result<(), ApiError> {
    use super::{
        ops,
        types::{ActivityKind, NewActivity},
    };
    let (state, ctx) = member().await?;
    let kind = ActivityKind::try_from(kind).map_err(|message| ApiError::field("kind", message))?;
    let [lead_id, contact_id, company_id, deal_id] = subject(&record, record_id)?;
    let input =
        NewActivity { kind, subject: subject_line, body: blank_to_none(body), lead_id, contact_id, company_id, deal_id, occurred_at: None };
    let mut tx = WriteTx::begin(&state.db).await?;
    ops::create_activity(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/sf", endpoint = "list_tasks")]
pub async fn list_tasks(show_done: bool) -> Result<Page<crate::crm::activities::types::Task>, ApiError> {
    use crate::crm::activities::{
        ops,
        types::{TaskFilter, TaskStatus},
    };
    let (state, ctx) = member().await?;
    let filter = TaskFilter { status: (!show_done).then_some(TaskStatus::Open), limit: Some(100), ..Default::default() };
    let mut tx = state.db.begin_read().await?;
    let tasks = ops::list_tasks(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(tasks)
}

/// `due_date` is a calendar date; the task falls due at 09:00 UTC that day.
/// `assignee_id` is blank for "me", `unassigned`, or a member's id.
#[server(prefix = "/sf", endpoint = "create_task")]
pub async fn create_task(title: String, due_date: Option<String>, assignee_id: Option<String>) -> Result<(), ApiError> {
    use crate::crm::activities::{ops, types::NewTask};
    use crate::platform::server_fns::ssr::optional_date;
    let (state, ctx) = member().await?;
    let due_at = optional_date(due_date, "due_date")?.map(|date| date.and_hms_opt(9, 0, 0).unwrap().and_utc());
    let assignee_id = match assignee_id.as_deref().map(str::trim) {
        Some("unassigned") => None,
        None | Some("") => ctx.user_id,
        Some(_) => optional_id(assignee_id, "assignee_id")?,
    };
    let input = NewTask { title, due_at, assignee_id, ..Default::default() };
    let mut tx = WriteTx::begin(&state.db).await?;
    ops::create_task(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(())
}

#[server(prefix = "/sf", endpoint = "complete_task")]
pub async fn complete_task(id: Uuid) -> Result<(), ApiError> {
    use crate::crm::activities::{
        ops,
        types::{TaskPatch, TaskStatus},
    };
    let (state, ctx) = member().await?;
    let patch = TaskPatch { status: Some(TaskStatus::Done), ..Default::default() };
    let mut tx = WriteTx::begin(&state.db).await?;
    ops::update_task(&mut tx, &ctx, id, patch).await?;
    tx.commit().await?;
    Ok(())
}
