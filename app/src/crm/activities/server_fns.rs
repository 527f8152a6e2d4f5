//! Server functions for activities on any record (lead, contact, company,
//! deal): the record pages list them and log new ones.

use leptos::prelude::*;
use uuid::Uuid;

use super::types::Activity;

#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, in_read, in_write, member};

/// Which record an activity panel belongs to.
#[cfg(feature = "ssr")]
fn subject(record: &str, id: Uuid) -> Result<[Option<Uuid>; 4], ServerFnError> {
    Ok(match record {
        "lead" => [Some(id), None, None, None],
        "contact" => [None, Some(id), None, None],
        "company" => [None, None, Some(id), None],
        "deal" => [None, None, None, Some(id)],
        other => return Err(ServerFnError::new(format!("unknown record kind {other:?}"))),
    })
}

/// The record's newest 100 activities.
#[server(prefix = "/sf", endpoint = "record_activities")]
pub async fn record_activities(record: String, id: Uuid) -> Result<Vec<Activity>, ServerFnError> {
    use super::{ops, types::ActivityFilter};
    let (state, ctx) = member().await?;
    let [lead_id, contact_id, company_id, deal_id] = subject(&record, id)?;
    let filter = ActivityFilter { lead_id, contact_id, company_id, deal_id, limit: Some(100), ..Default::default() };
    in_read(&state, move |tx| Box::pin(async move { ops::list_activities(tx, &ctx, filter).await })).await.map(|p| p.data)
}

#[server(prefix = "/sf", endpoint = "log_record_activity")]
pub async fn log_record_activity(
    record: String,
    record_id: Uuid,
    kind: String,
    subject_line: String,
    body: Option<String>,
) -> Result<(), ServerFnError> {
    use super::{
        ops,
        types::{ActivityKind, NewActivity},
    };
    let (state, ctx) = member().await?;
    let kind = ActivityKind::try_from(kind).map_err(ServerFnError::new)?;
    let [lead_id, contact_id, company_id, deal_id] = subject(&record, record_id)?;
    let input =
        NewActivity { kind, subject: subject_line, body: blank_to_none(body), lead_id, contact_id, company_id, deal_id, occurred_at: None };
    in_write(&state, move |tx| Box::pin(async move { ops::create_activity(tx, &ctx, input).await.map(|_| ()) })).await
}
