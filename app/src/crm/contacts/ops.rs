//! Contacts and their company memberships.

use uuid::Uuid;

use super::types::*;
use crate::crm::fields::{check_owner, owner_condition, owner_or_creator, text_search};
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{now, Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope};
use crate::platform::validate::required_text;
use crate::platform::validate::{check_custom_fields, custom_fields_or_empty, optional_email, optional_text, record_exists};

const COLUMNS: &str = "workspace_id, id, name, email, phone, title, company_id, company_name, owner_id, notes, custom_fields, created_at, updated_at, source, last_agent_actor_id";

pub async fn find(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Option<Contact>> {
    Ok(tx
        .fetch_optional(
            Q::new(format!("SELECT {COLUMNS} FROM contacts WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id),
        )
        .await?)
}

pub async fn find_by_email(tx: &mut Tx, ctx: &Ctx, email: &str) -> AppResult<Option<Contact>> {
    Ok(tx
        .fetch_optional(
            Q::new(format!("SELECT {COLUMNS} FROM contacts WHERE workspace_id = $1 AND email = $2")).bind(ctx.workspace_id).bind(email),
        )
        .await?)
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Contact> {
    ctx.require(Scope::CrmRead)?;
    find(tx, ctx, id).await?.ok_or(AppError::NotFound("contact"))
}

async fn check_company(tx: &mut Tx, ctx: &Ctx, field: &str, company_id: Option<Uuid>) -> AppResult<()> {
    if let Some(company_id) = company_id {
        if !record_exists(tx, ctx, "companies", company_id).await? {
            return Err(AppError::validation(field, "company does not exist"));
        }
    }
    Ok(())
}

async fn check_email_free(tx: &mut Tx, ctx: &Ctx, email: Option<&str>, except: Option<Uuid>) -> AppResult<()> {
    let Some(email) = email else { return Ok(()) };
    match find_by_email(tx, ctx, email).await? {
        Some(other) if Some(other.id) != except => Err(AppError::Duplicate {
            code: "duplicate_email",
            field: "email".into(),
            message: format!("contact {:?} ({}) already has the email {email}", other.name, other.id),
        }),
        _ => Ok(()),
    }
}

pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewContact) -> AppResult<Contact> {
    ctx.require(Scope::CrmWrite)?;
    let custom_fields = custom_fields_or_empty(input.custom_fields)?;
    let at = now();
    let contact = Contact {
        id: Uuid::now_v7(),
        workspace_id: ctx.workspace_id,
        name: required_text("name", &input.name, 200)?,
        email: optional_email("email", input.email)?,
        phone: optional_text("phone", input.phone, 50)?,
        title: optional_text("title", input.title, 200)?,
        company_id: input.company_id,
        company_name: optional_text("company_name", input.company_name, 200)?,
        owner_id: owner_or_creator(ctx, input.owner_id),
        notes: optional_text("notes", input.notes, 10_000)?,
        custom_fields,
        source: ctx.record_source().into(),
        last_agent_actor_id: ctx.api_key_id,
        created_at: at,
        updated_at: at,
    };
    check_owner(tx, ctx, contact.owner_id).await?;
    check_company(tx, ctx, "company_id", contact.company_id).await?;
    check_email_free(tx, ctx, contact.email.as_deref(), None).await?;
    tx.execute(
        Q::new(format!("INSERT INTO contacts ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"))
            .bind(ctx.workspace_id)
            .bind(contact.id)
            .bind(contact.name.as_str())
            .bind(contact.email.clone())
            .bind(contact.phone.clone())
            .bind(contact.title.clone())
            .bind(contact.company_id)
            .bind(contact.company_name.clone())
            .bind(contact.owner_id)
            .bind(contact.notes.clone())
            .bind(contact.custom_fields.clone())
            .bind(contact.created_at)
            .bind(contact.updated_at)
            .bind(contact.source.as_str())
            .bind(contact.last_agent_actor_id),
    )
    .await?;
    audit::record(tx, ctx, "contact.created", "contact", Some(contact.id), None::<&()>, Some(&contact)).await?;
    if let Some(company_id) = contact.company_id {
        link(tx, ctx, contact.id, company_id, None).await?;
    }
    Ok(contact)
}

pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: ContactPatch) -> AppResult<Contact> {
    ctx.require(Scope::CrmWrite)?;
    let before = find(tx, ctx, id).await?.ok_or(AppError::NotFound("contact"))?;
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
    if let Some(v) = patch.title {
        after.title = optional_text("title", v, 200)?;
    }
    if let Some(v) = patch.company_name {
        after.company_name = optional_text("company_name", v, 200)?;
    }
    if let Some(v) = patch.owner_id {
        check_owner(tx, ctx, v).await?;
        after.owner_id = v;
    }
    if let Some(v) = patch.company_id {
        check_company(tx, ctx, "company_id", v).await?;
        after.company_id = v;
    }
    if let Some(v) = patch.notes {
        after.notes = optional_text("notes", v, 10_000)?;
    }
    if let Some(v) = patch.custom_fields {
        check_custom_fields(&v)?;
        after.custom_fields = v;
    }
    if after == before {
        return Ok(before);
    }
    // A key that changes the record becomes its last agent (audit::record stores it).
    after.last_agent_actor_id = ctx.api_key_id.or(before.last_agent_actor_id);
    check_email_free(tx, ctx, after.email.as_deref(), Some(id)).await?;
    after.updated_at = now();
    tx.execute(
        Q::new(
            "UPDATE contacts SET name = $1, email = $2, phone = $3, title = $4, company_id = $5, company_name = $6, \
             owner_id = $7, custom_fields = $8, updated_at = $9, notes = $12 WHERE workspace_id = $10 AND id = $11",
        )
        .bind(after.name.as_str())
        .bind(after.email.clone())
        .bind(after.phone.clone())
        .bind(after.title.clone())
        .bind(after.company_id)
        .bind(after.company_name.clone())
        .bind(after.owner_id)
        .bind(after.custom_fields.clone())
        .bind(after.updated_at)
        .bind(ctx.workspace_id)
        .bind(id)
        .bind(after.notes.clone()),
    )
    .await?;
    audit::record(tx, ctx, "contact.updated", "contact", Some(id), Some(&before), Some(&after)).await?;
    if let Some(company_id) = after.company_id.filter(|c| Some(*c) != before.company_id) {
        if find_membership(tx, ctx, id, company_id).await?.is_none() {
            link(tx, ctx, id, company_id, None).await?;
        }
    }
    Ok(after)
}

pub async fn list(tx: &mut Tx, ctx: &Ctx, filter: ContactFilter) -> AppResult<Page<Contact>> {
    ctx.require(Scope::CrmRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("SELECT {COLUMNS} FROM contacts WHERE workspace_id = $1")).bind(ctx.workspace_id);
    text_search(&mut q, filter.q.as_deref(), &["name", "email", "company_name"])?;
    owner_condition(&mut q, ctx, "owner_id", filter.owner.as_deref())?;
    if let Some(company_id) = filter.company_id {
        let p = q.arg(company_id);
        q.push(&format!(" AND id IN (SELECT contact_id FROM contact_companies WHERE workspace_id = $1 AND company_id = {p})"));
    }
    page.apply(&mut q, "id");
    let rows: Vec<Contact> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |c| c.id, |c| c))
}

const MEMBERSHIP_SELECT: &str = "SELECT m.contact_id, m.company_id, ct.name AS contact_name, co.name AS company_name, \
     m.role, m.created_at FROM contact_companies m JOIN contacts ct ON ct.id = m.contact_id \
     JOIN companies co ON co.id = m.company_id WHERE m.workspace_id = $1";

async fn find_membership(tx: &mut Tx, ctx: &Ctx, contact_id: Uuid, company_id: Uuid) -> AppResult<Option<Membership>> {
    Ok(tx
        .fetch_optional(
            Q::new(format!("{MEMBERSHIP_SELECT} AND m.contact_id = $2 AND m.company_id = $3"))
                .bind(ctx.workspace_id)
                .bind(contact_id)
                .bind(company_id),
        )
        .await?)
}

async fn link(tx: &mut Tx, ctx: &Ctx, contact_id: Uuid, company_id: Uuid, role: Option<String>) -> AppResult<Membership> {
    tx.execute(
        Q::new(
            "INSERT INTO contact_companies (workspace_id, contact_id, company_id, role, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(ctx.workspace_id)
        .bind(contact_id)
        .bind(company_id)
        .bind(role)
        .bind(now()),
    )
    .await?;
    let membership =
        find_membership(tx, ctx, contact_id, company_id).await?.ok_or_else(|| AppError::Internal("membership vanished".into()))?;
    audit::record(tx, ctx, "contact_company.added", "contact", Some(contact_id), None::<&()>, Some(&membership)).await?;
    Ok(membership)
}

pub async fn add_membership(tx: &mut Tx, ctx: &Ctx, contact_id: Uuid, input: NewMembership) -> AppResult<Membership> {
    ctx.require(Scope::CrmWrite)?;
    find(tx, ctx, contact_id).await?.ok_or(AppError::NotFound("contact"))?;
    check_company(tx, ctx, "company_id", Some(input.company_id)).await?;
    if find_membership(tx, ctx, contact_id, input.company_id).await?.is_some() {
        return Err(AppError::Conflict { code: "already_member", message: "this contact is already linked to that company".into() });
    }
    let role = optional_text("role", input.role, 100)?;
    link(tx, ctx, contact_id, input.company_id, role).await
}

pub async fn update_membership(
    tx: &mut Tx,
    ctx: &Ctx,
    contact_id: Uuid,
    company_id: Uuid,
    patch: MembershipPatch,
) -> AppResult<Membership> {
    ctx.require(Scope::CrmWrite)?;
    let before = find_membership(tx, ctx, contact_id, company_id).await?.ok_or(AppError::NotFound("membership"))?;
    let role = match patch.role {
        Some(role) => optional_text("role", role, 100)?,
        None => before.role.clone(),
    };
    tx.execute(
        Q::new("UPDATE contact_companies SET role = $1 WHERE workspace_id = $2 AND contact_id = $3 AND company_id = $4")
            .bind(role.clone())
            .bind(ctx.workspace_id)
            .bind(contact_id)
            .bind(company_id),
    )
    .await?;
    let after = Membership { role, ..before.clone() };
    audit::record(tx, ctx, "contact_company.updated", "contact", Some(contact_id), Some(&before), Some(&after)).await?;
    Ok(after)
}

pub async fn remove_membership(tx: &mut Tx, ctx: &Ctx, contact_id: Uuid, company_id: Uuid) -> AppResult<Membership> {
    ctx.require(Scope::CrmWrite)?;
    let before = find_membership(tx, ctx, contact_id, company_id).await?.ok_or(AppError::NotFound("membership"))?;
    tx.execute(
        Q::new("DELETE FROM contact_companies WHERE workspace_id = $1 AND contact_id = $2 AND company_id = $3")
            .bind(ctx.workspace_id)
            .bind(contact_id)
            .bind(company_id),
    )
    .await?;
    // The primary company follows the memberships.
    tx.execute(
        Q::new("UPDATE contacts SET company_id = NULL, updated_at = $1 WHERE workspace_id = $2 AND id = $3 AND company_id = $4")
            .bind(now())
            .bind(ctx.workspace_id)
            .bind(contact_id)
            .bind(company_id),
    )
    .await?;
    audit::record(tx, ctx, "contact_company.removed", "contact", Some(contact_id), Some(&before), None::<&()>).await?;
    Ok(before)
}

pub async fn memberships_of_contact(tx: &mut Tx, ctx: &Ctx, contact_id: Uuid) -> AppResult<Vec<Membership>> {
    ctx.require(Scope::CrmRead)?;
    find(tx, ctx, contact_id).await?.ok_or(AppError::NotFound("contact"))?;
    Ok(tx
        .fetch_all(
            Q::new(format!("{MEMBERSHIP_SELECT} AND m.contact_id = $2 ORDER BY m.created_at")).bind(ctx.workspace_id).bind(contact_id),
        )
        .await?)
}

pub async fn memberships_of_company(tx: &mut Tx, ctx: &Ctx, company_id: Uuid) -> AppResult<Vec<Membership>> {
    ctx.require(Scope::CrmRead)?;
    if !record_exists(tx, ctx, "companies", company_id).await? {
        return Err(AppError::NotFound("company"));
    }
    Ok(tx
        .fetch_all(
            Q::new(format!("{MEMBERSHIP_SELECT} AND m.company_id = $2 ORDER BY m.created_at")).bind(ctx.workspace_id).bind(company_id),
        )
        .await?)
}
