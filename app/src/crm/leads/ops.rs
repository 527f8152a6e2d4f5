//! Leads: capture, qualify, and convert into a contact, a company and
//! optionally a deal, all in one transaction.

use serde_json::json;
use uuid::Uuid;

use super::types::*;
use crate::crm::companies::{
    ops as companies,
    types::{Company, NewCompany},
};
use crate::crm::contacts::{
    ops as contacts,
    types::{ContactPatch, NewContact, NewMembership},
};
use crate::crm::custom_fields::types::DeclaredFields;
use crate::crm::deals::{ops as deals, types::NewDeal};
use crate::crm::fields::{check_owner, owner_condition, owner_or_creator};
use crate::error::{AppError, AppResult};
use crate::platform::context::{Ctx, Via};
use crate::platform::db::{now, Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope};
use crate::platform::validate::required_text;
use crate::platform::validate::{check_custom_fields, custom_fields_or_empty, optional_email, optional_text};
use crate::platform::{audit, events};

pub const COLUMNS: &str = "workspace_id, id, name, email, phone, company_name, title, source, status, score, owner_id, \
                       custom_fields, tags, last_activity_at, converted_at, converted_contact_id, \
                       converted_company_id, converted_deal_id, campaign_id, attribution, created_at, updated_at, last_agent_actor_id";

/// What a new lead is written with (attribution comes later, from its channel).
const INSERT_COLUMNS: &str = "workspace_id, id, name, email, phone, company_name, title, source, status, score, owner_id, \
                       custom_fields, tags, last_activity_at, converted_at, converted_contact_id, \
                       converted_company_id, converted_deal_id, created_at, updated_at, last_agent_actor_id";

pub const MAX_SCORE: i64 = 1000;

fn check_score(score: i64) -> AppResult<i64> {
    if !(0..=MAX_SCORE).contains(&score) {
        return Err(AppError::validation("score", format!("score must be between 0 and {MAX_SCORE}")));
    }
    Ok(score)
}

pub const MAX_TAGS: usize = 50;

/// Trimmed, 1-50 characters each, at most 50, duplicates dropped (first
/// spelling wins) so a tag filter matches once.
pub fn check_tags(tags: Vec<String>) -> AppResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_string();
        if tag.is_empty() || tag.chars().count() > 50 {
            return Err(AppError::validation("tags", "each tag must be 1 to 50 characters"));
        }
        if !out.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
            out.push(tag);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(AppError::validation("tags", format!("a lead has at most {MAX_TAGS} tags")));
    }
    Ok(out)
}

fn refuse_converted_status(status: Option<LeadStatus>) -> AppResult<()> {
    if status == Some(LeadStatus::Converted) {
        return Err(AppError::validation("status", "a lead becomes converted only through POST /leads/{id}/convert"));
    }
    Ok(())
}

pub async fn find(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Option<Lead>> {
    Ok(tx
        .fetch_optional(Q::new(format!("SELECT {COLUMNS} FROM leads WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id))
        .await?)
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Lead> {
    ctx.require(Scope::CrmRead)?;
    find(tx, ctx, id).await?.ok_or(AppError::NotFound("lead"))
}

async fn insert(tx: &mut Tx, ctx: &Ctx, lead: &Lead) -> AppResult<()> {
    tx.execute(
        Q::new(format!(
            "INSERT INTO leads ({INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
        ))
        .bind(ctx.workspace_id)
        .bind(lead.id)
        .bind(lead.name.as_str())
        .bind(lead.email.clone())
        .bind(lead.phone.clone())
        .bind(lead.company_name.clone())
        .bind(lead.title.clone())
        .bind(lead.source.as_str())
        .bind(lead.status.as_str())
        .bind(lead.score)
        .bind(lead.owner_id)
        .bind(lead.custom_fields.clone())
        .bind(serde_json::json!(lead.tags))
        .bind(lead.last_activity_at)
        .bind(lead.converted_at)
        .bind(lead.converted_contact_id)
        .bind(lead.converted_company_id)
        .bind(lead.converted_deal_id)
        .bind(lead.created_at)
        .bind(lead.updated_at)
        .bind(lead.last_agent_actor_id),
    )
    .await?;
    Ok(())
}

async fn save(tx: &mut Tx, ctx: &Ctx, lead: &Lead) -> AppResult<()> {
    tx.execute(
        Q::new(
            "UPDATE leads SET name = $1, email = $2, phone = $3, company_name = $4, title = $5, source = $6, \
             status = $7, score = $8, owner_id = $9, custom_fields = $10, last_activity_at = $11, \
             converted_at = $12, converted_contact_id = $13, converted_company_id = $14, converted_deal_id = $15, \
             updated_at = $16, tags = $17 WHERE workspace_id = $18 AND id = $19",
        )
        .bind(lead.name.as_str())
        .bind(lead.email.clone())
        .bind(lead.phone.clone())
        .bind(lead.company_name.clone())
        .bind(lead.title.clone())
        .bind(lead.source.as_str())
        .bind(lead.status.as_str())
        .bind(lead.score)
        .bind(lead.owner_id)
        .bind(lead.custom_fields.clone())
        .bind(lead.last_activity_at)
        .bind(lead.converted_at)
        .bind(lead.converted_contact_id)
        .bind(lead.converted_company_id)
        .bind(lead.converted_deal_id)
        .bind(lead.updated_at)
        .bind(serde_json::json!(lead.tags))
        .bind(ctx.workspace_id)
        .bind(lead.id),
    )
    .await?;
    Ok(())
}

pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewLead) -> AppResult<Lead> {
    ctx.require(Scope::CrmWrite)?;
    let owner_id = owner_or_creator(ctx, input.owner_id);
    check_owner(tx, ctx, owner_id).await?;
    let fields = crate::crm::custom_fields::ops::declared(tx, ctx).await?;
    let lead = new_lead(ctx, input, owner_id, now(), &fields)?;
    insert(tx, ctx, &lead).await?;
    audit::record(tx, ctx, "lead.created", "lead", Some(lead.id), None::<&()>, Some(&lead)).await?;
    events::emit(tx, ctx.workspace_id, "lead.created", Some(lead.id), created_event(&lead), events::fresh_key("lead.created")).await?;
    Ok(lead)
}

/// A new lead checked and filled in, not yet written: every rule a created
/// lead obeys except the owner's membership, which the caller checks (once
/// per owner when many are written together).
pub fn new_lead(
    ctx: &Ctx,
    input: NewLead,
    owner_id: Option<Uuid>,
    at: chrono::DateTime<chrono::Utc>,
    fields: &DeclaredFields,
) -> AppResult<Lead> {
    refuse_converted_status(input.status)?;
    let mut custom_fields = custom_fields_or_empty(input.custom_fields)?;
    crate::crm::custom_fields::ops::conform(fields, &mut custom_fields)?;
    let default_source = match ctx.via {
        Via::Mcp => LeadSource::Mcp,
        Via::Api => LeadSource::Api,
        Via::Import => LeadSource::Import,
        Via::Form => LeadSource::Website,
        Via::Ui | Via::System | Via::Flow => LeadSource::Manual,
    };
    Ok(Lead {
        id: Uuid::now_v7(),
        workspace_id: ctx.workspace_id,
        name: required_text("name", &input.name, 200)?,
        email: optional_email("email", input.email)?,
        phone: optional_text("phone", input.phone, 50)?,
        company_name: optional_text("company_name", input.company_name, 200)?,
        title: optional_text("title", input.title, 200)?,
        source: input.source.unwrap_or(default_source),
        status: input.status.unwrap_or(LeadStatus::New),
        score: check_score(input.score.unwrap_or(0))?,
        owner_id,
        custom_fields,
        tags: check_tags(input.tags.unwrap_or_default())?,
        last_activity_at: None,
        converted_at: None,
        converted_contact_id: None,
        converted_company_id: None,
        converted_deal_id: None,
        campaign_id: None,
        attribution: None,
        last_agent_actor_id: ctx.api_key_id,
        created_at: at,
        updated_at: at,
    })
}

/// The `lead.created` event's data.
fn created_event(lead: &Lead) -> serde_json::Value {
    json!({ "lead_id": lead.id, "email": lead.email, "owner_id": lead.owner_id, "score": lead.score, "source": lead.source })
}

/// Rows per multi-row INSERT: 21 arguments each stays under SQLite's
/// 32,766 and PostgreSQL's 65,535 bound parameters.
const ROWS_PER_INSERT: usize = 1000;

/// Writes leads made by [`new_lead`] many rows per statement, with the
/// `lead.created` events flows listen for. The caller audits them (an
/// import writes one audit row per batch naming every id) and the leads
/// name the import that brought them (`import_id`), so a lead's timeline
/// still says where it came from.
pub async fn insert_many(tx: &mut Tx, ctx: &Ctx, leads: &[Lead], import_id: Option<Uuid>) -> AppResult<()> {
    ctx.require(Scope::CrmWrite)?;
    for chunk in leads.chunks(ROWS_PER_INSERT) {
        let mut q = Q::new(format!("INSERT INTO leads ({INSERT_COLUMNS}, import_id) VALUES "));
        for (i, lead) in chunk.iter().enumerate() {
            let values = [
                q.arg(ctx.workspace_id),
                q.arg(lead.id),
                q.arg(lead.name.as_str()),
                q.arg(lead.email.clone()),
                q.arg(lead.phone.clone()),
                q.arg(lead.company_name.clone()),
                q.arg(lead.title.clone()),
                q.arg(lead.source.as_str()),
                q.arg(lead.status.as_str()),
                q.arg(lead.score),
                q.arg(lead.owner_id),
                q.arg(lead.custom_fields.clone()),
                q.arg(serde_json::json!(lead.tags)),
                q.arg(lead.last_activity_at),
                q.arg(lead.converted_at),
                q.arg(lead.converted_contact_id),
                q.arg(lead.converted_company_id),
                q.arg(lead.converted_deal_id),
                q.arg(lead.created_at),
                q.arg(lead.updated_at),
                q.arg(lead.last_agent_actor_id),
                q.arg(import_id),
            ];
            q.push(if i == 0 { "(" } else { ", (" });
            q.push(&values.join(", "));
            q.push(")");
        }
        tx.execute(q).await?;
    }
    if events::has_listeners(tx, ctx.workspace_id, "lead.created").await? {
        for lead in leads {
            let key = events::fresh_key("lead.created");
            events::insert(tx, ctx.workspace_id, "lead.created", Some(lead.id.to_string()), created_event(lead), key).await?;
        }
    }
    Ok(())
}

pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: LeadPatch) -> AppResult<Lead> {
    ctx.require(Scope::CrmWrite)?;
    refuse_converted_status(patch.status)?;
    let before = find(tx, ctx, id).await?.ok_or(AppError::NotFound("lead"))?;
    let mut after = before.clone();
    if let Some(v) = patch.name {
        after.name = required_text("name", &v, 200)?;
    }
    if let Some(v) = patch.email {
        after.email = optional_email("email", v)?;
    }
    if let Some(v) = patch.phone {
        after.phone = optional_text("phone", v, 50)?;
    }
    if let Some(v) = patch.company_name {
        after.company_name = optional_text("company_name", v, 200)?;
    }
    if let Some(v) = patch.title {
        after.title = optional_text("title", v, 200)?;
    }
    if let Some(v) = patch.source {
        after.source = v;
    }
    if let Some(v) = patch.status {
        if before.status == LeadStatus::Converted {
            return Err(AppError::Conflict { code: "already_converted", message: "a converted lead keeps its status".into() });
        }
        after.status = v;
    }
    if let Some(v) = patch.score {
        after.score = check_score(v)?;
    }
    if let Some(v) = patch.owner_id {
        check_owner(tx, ctx, v).await?;
        after.owner_id = v;
    }
    if let Some(mut v) = patch.custom_fields {
        check_custom_fields(&v)?;
        let fields = crate::crm::custom_fields::ops::declared(tx, ctx).await?;
        crate::crm::custom_fields::ops::conform(&fields, &mut v)?;
        after.custom_fields = v;
    }
    if let Some(v) = patch.tags {
        after.tags = check_tags(v)?;
    }
    if after == before {
        return Ok(before);
    }
    // A key that changes the record becomes its last agent (audit::record stores it).
    after.last_agent_actor_id = ctx.api_key_id.or(before.last_agent_actor_id);
    after.updated_at = now();
    save(tx, ctx, &after).await?;
    audit::record(tx, ctx, "lead.updated", "lead", Some(id), Some(&before), Some(&after)).await?;
    if after.status != before.status {
        audit::record(
            tx,
            ctx,
            "lead.status_changed",
            "lead",
            Some(id),
            Some(&json!({"status": before.status})),
            Some(&json!({"status": after.status})),
        )
        .await?;
    }
    emit_update_events(tx, ctx, &before, &after).await?;
    Ok(after)
}

/// `lead.updated` with the fields that changed, and `lead.score_crossed`
/// when the score moved (each trigger's threshold is compared on dispatch).
async fn emit_update_events(tx: &mut Tx, ctx: &Ctx, before: &Lead, after: &Lead) -> AppResult<()> {
    let (was, is) = (json!(before), json!(after));
    let changed: Vec<&String> = is
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, v)| !matches!(k.as_str(), "updated_at" | "last_agent_actor_id") && was.get(k.as_str()) != Some(v))
        .map(|(k, _)| k)
        .collect();
    let data = json!({ "lead_id": after.id, "changed": changed, "owner_id": after.owner_id, "score": after.score });
    events::emit(tx, ctx.workspace_id, "lead.updated", Some(after.id), data, events::fresh_key("lead.updated")).await?;
    if after.score != before.score {
        let data = json!({ "lead_id": after.id, "old_score": before.score, "new_score": after.score, "owner_id": after.owner_id });
        events::emit(tx, ctx.workspace_id, "lead.score_crossed", Some(after.id), data, events::fresh_key("lead.score_crossed")).await?;
    }
    Ok(())
}

/// Converted leads stay: their deal and contact point back at them.
pub async fn delete(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Lead> {
    ctx.require(Scope::CrmWrite)?;
    let lead = find(tx, ctx, id).await?.ok_or(AppError::NotFound("lead"))?;
    if lead.status == LeadStatus::Converted {
        return Err(AppError::Conflict { code: "already_converted", message: "a converted lead cannot be deleted".into() });
    }
    crate::audience::lists::forget_member(tx, ctx, id, crate::audience::types::MembershipReason::LeadDeleted).await?;
    tx.execute(Q::new("DELETE FROM leads WHERE workspace_id = $1 AND id = $2").bind(ctx.workspace_id).bind(id)).await?;
    audit::record(tx, ctx, "lead.deleted", "lead", Some(id), Some(&lead), None::<&()>).await?;
    Ok(lead)
}

fn check_custom_key(key: &str) -> AppResult<()> {
    if !super::types::is_custom_field_key(key) {
        return Err(AppError::validation(format!("cf.{key}"), "custom field keys are 1-64 characters of a-z, 0-9, _ or -"));
    }
    Ok(())
}

pub async fn list(tx: &mut Tx, ctx: &Ctx, filter: LeadFilter) -> AppResult<Page<Lead>> {
    ctx.require(Scope::CrmRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("SELECT {COLUMNS} FROM leads WHERE workspace_id = $1")).bind(ctx.workspace_id);
    crate::platform::db::lead_text_search(&mut q, tx.backend(), filter.q.as_deref(), "leads")?;
    owner_condition(&mut q, ctx, "owner_id", filter.owner.as_deref())?;
    if let Some(status) = filter.status {
        let p = q.arg(status.as_str());
        q.push(&format!(" AND status = {p}"));
    }
    if let Some(source) = filter.source {
        let p = q.arg(source.as_str());
        q.push(&format!(" AND source = {p}"));
    }
    let ranges: [(&str, &str, Option<crate::platform::db::Arg>); 6] = [
        ("score", ">=", filter.min_score.map(Into::into)),
        ("score", "<=", filter.max_score.map(Into::into)),
        ("created_at", ">=", filter.created_after.map(Into::into)),
        ("created_at", "<", filter.created_before.map(Into::into)),
        ("last_activity_at", ">=", filter.last_activity_after.map(Into::into)),
        ("last_activity_at", "<", filter.last_activity_before.map(Into::into)),
    ];
    for (column, op, value) in ranges {
        if let Some(value) = value {
            let p = q.arg(value);
            q.push(&format!(" AND {column} {op} {p}"));
        }
    }
    // Declared fields compare by their type ("42" = 42 for a number, any
    // case for a choice); undeclared ones by their text form: "gold",
    // "42", "true".
    let fields =
        if filter.custom_fields.is_empty() { DeclaredFields::default() } else { crate::crm::custom_fields::ops::declared(tx, ctx).await? };
    for (key, value) in &filter.custom_fields {
        check_custom_key(key)?;
        if let Some(declared) = fields.get(key) {
            crate::audience::rules::push_declared_equals(&mut q, tx.backend(), declared, value, &fields)?;
            continue;
        }
        let v = q.arg(value.as_str());
        let field = tx.backend().json_key("custom_fields", key);
        q.push(&format!(" AND {} = {v}", field.text));
    }
    page.apply(&mut q, "id");
    let rows: Vec<Lead> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |l| l.id, |l| l))
}

async fn company_by_name(tx: &mut Tx, ctx: &Ctx, name: &str) -> AppResult<Option<Company>> {
    let found: Option<(Uuid,)> = tx
        .fetch_optional(
            Q::new("SELECT id FROM companies WHERE workspace_id = $1 AND LOWER(name) = $2 ORDER BY id LIMIT 1")
                .bind(ctx.workspace_id)
                .bind(name.trim().to_lowercase()),
        )
        .await?;
    match found {
        Some((id,)) => Ok(Some(companies::get(tx, ctx, id).await?)),
        None => Ok(None),
    }
}

/// One transaction: the contact, the company, their link, the deal and the
/// lead's new status all happen, or none does. Every piece is audited.
pub async fn convert(tx: &mut Tx, ctx: &Ctx, id: Uuid, input: ConvertLead) -> AppResult<Conversion> {
    ctx.require(Scope::CrmWrite)?;
    let before = find(tx, ctx, id).await?.ok_or(AppError::NotFound("lead"))?;
    if before.status == LeadStatus::Converted {
        return Err(AppError::Conflict { code: "already_converted", message: "this lead was already converted".into() });
    }

    let company = match input.company_id {
        Some(company_id) => {
            Some(companies::get(tx, ctx, company_id).await.map_err(|_| AppError::validation("company_id", "company does not exist"))?)
        }
        None => match before.company_name.as_deref() {
            Some(name) => match company_by_name(tx, ctx, name).await? {
                Some(existing) => Some(existing),
                None => Some(
                    companies::create(tx, ctx, NewCompany { name: name.to_string(), owner_id: before.owner_id, ..Default::default() })
                        .await?,
                ),
            },
            None => None,
        },
    };

    let existing_contact = match input.contact_id {
        Some(contact_id) => {
            Some(contacts::find(tx, ctx, contact_id).await?.ok_or_else(|| AppError::validation("contact_id", "contact does not exist"))?)
        }
        None => match before.email.as_deref() {
            Some(email) => contacts::find_by_email(tx, ctx, email).await?,
            None => None,
        },
    };
    let contact = match existing_contact {
        Some(contact) => {
            if let Some(company) = &company {
                let linked = contacts::memberships_of_contact(tx, ctx, contact.id).await?.iter().any(|m| m.company_id == company.id);
                if !linked {
                    contacts::add_membership(tx, ctx, contact.id, NewMembership { company_id: company.id, role: before.title.clone() })
                        .await?;
                }
                if contact.company_id.is_none() {
                    contacts::update(tx, ctx, contact.id, ContactPatch { company_id: Some(Some(company.id)), ..Default::default() }).await?
                } else {
                    contact
                }
            } else {
                contact
            }
        }
        None => {
            contacts::create(
                tx,
                ctx,
                NewContact {
                    name: before.name.clone(),
                    email: before.email.clone(),
                    phone: before.phone.clone(),
                    title: before.title.clone(),
                    company_id: company.as_ref().map(|c| c.id),
                    company_name: before.company_name.clone(),
                    owner_id: before.owner_id,
                    notes: None,
                    custom_fields: None,
                },
            )
            .await?
        }
    };

    let deal_spec = input.deal_spec().map_err(|(field, message)| AppError::validation(field, message))?;
    // Errors name the deal object's fields when it was given as one.
    let deal_field = |e: AppError| if input.deal.is_some() { e.nested_in("deal") } else { e };
    let deal = match deal_spec {
        Some(spec) => Some(
            deals::create(
                tx,
                ctx,
                NewDeal {
                    name: spec
                        .name
                        .unwrap_or_else(|| format!("{} deal", company.as_ref().map(|c| c.name.as_str()).unwrap_or(before.name.as_str()))),
                    stage_id: spec.stage_id,
                    stage: None,
                    stage_key: spec.stage_key,
                    company_id: company.as_ref().map(|c| c.id),
                    contact_id: Some(contact.id),
                    lead_id: Some(before.id),
                    amount_cents: spec.amount_cents,
                    currency: spec.currency,
                    expected_close_date: spec.expected_close_date,
                    owner_id: before.owner_id,
                    custom_fields: None,
                },
            )
            .await
            .map_err(deal_field)?,
        ),
        None => None,
    };

    let at = now();
    let lead = Lead {
        status: LeadStatus::Converted,
        converted_at: Some(at),
        converted_contact_id: Some(contact.id),
        converted_company_id: company.as_ref().map(|c| c.id),
        converted_deal_id: deal.as_ref().map(|d| d.id),
        updated_at: at,
        ..before.clone()
    };
    save(tx, ctx, &lead).await?;
    let mut after = serde_json::to_value(&lead).map_err(|e| AppError::Internal(e.to_string()))?;
    if let Some(reason) = optional_text("conversion_reason", input.conversion_reason, 1000)? {
        after["conversion_reason"] = json!(reason);
    }
    audit::record(tx, ctx, "lead.converted", "lead", Some(id), Some(&before), Some(&after)).await?;
    Ok(Conversion { lead, contact, company, deal })
}
