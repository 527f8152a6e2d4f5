//! Company operations: the one implementation behind the REST API, the
//! server functions and (later) MCP tools.

use uuid::Uuid;

use super::types::*;
use crate::crm::fields::{check_owner, owner_condition, owner_or_creator, text_search};
use crate::error::{AppError, AppResult};
use crate::platform::audit;
use crate::platform::context::Ctx;
use crate::platform::db::{Tx, Q};
use crate::platform::pagination::PageRequest;
use crate::platform::types::{Page, Scope};
use crate::platform::validate::required_text;
use crate::platform::validate::{check_custom_fields, custom_fields_or_empty, optional_text as text_field};
use crate::platform::validate::{optional_in_range, optional_money, MAX_EMPLOYEE_COUNT};

pub const COLUMNS: &str = "workspace_id, id, name, domain, website, status, owner_id, parent_id, industry, \
                       employee_count, annual_revenue_cents, country, city, phone, description, \
                       notes, custom_fields, created_at, updated_at, source, last_agent_actor_id";

fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Domains are stored bare and lowercase (`acme.com`), so lookups and the
/// per-workspace uniqueness check see one spelling.
pub fn normalize_domain(value: Option<String>) -> AppResult<Option<String>> {
    let Some(raw) = trimmed(value) else { return Ok(None) };
    let mut domain = raw.to_lowercase();
    for scheme in ["https://", "http://"] {
        if let Some(rest) = domain.strip_prefix(scheme) {
            domain = rest.to_string();
        }
    }
    if let Some(rest) = domain.strip_prefix("www.") {
        domain = rest.to_string();
    }
    let domain = domain.trim_end_matches('/').to_string();
    let valid = domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !valid {
        return Err(AppError::validation("domain", format!("{raw:?} is not a domain name like acme.com")));
    }
    Ok(Some(domain))
}

pub fn normalize_website(value: Option<String>) -> AppResult<Option<String>> {
    let Some(raw) = trimmed(value) else { return Ok(None) };
    let lower = raw.to_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| AppError::validation("website", "website must start with http:// or https://"))?;
    if rest.is_empty() || rest.starts_with('/') || raw.len() > 2048 || raw.chars().any(char::is_whitespace) {
        return Err(AppError::validation("website", "website is not a valid URL"));
    }
    Ok(Some(raw))
}

/// A parent must exist in this workspace and must not make a cycle.
async fn check_parent(tx: &mut Tx, ctx: &Ctx, id: Option<Uuid>, parent_id: Option<Uuid>) -> AppResult<()> {
    let Some(mut cursor) = parent_id else { return Ok(()) };
    for _ in 0..64 {
        if Some(cursor) == id {
            return Err(AppError::validation("parent_id", "a company cannot be its own ancestor"));
        }
        let parent = find(tx, ctx, cursor).await?.ok_or_else(|| AppError::validation("parent_id", "parent company does not exist"))?;
        match parent.parent_id {
            Some(next) => cursor = next,
            None => return Ok(()),
        }
    }
    Err(AppError::validation("parent_id", "company hierarchy is too deep"))
}

async fn find(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Option<Company>> {
    Ok(tx
        .fetch_optional(
            Q::new(format!("SELECT {COLUMNS} FROM companies WHERE workspace_id = $1 AND id = $2")).bind(ctx.workspace_id).bind(id),
        )
        .await?)
}

pub async fn get(tx: &mut Tx, ctx: &Ctx, id: Uuid) -> AppResult<Company> {
    ctx.require(Scope::CrmRead)?;
    find(tx, ctx, id).await?.ok_or(AppError::NotFound("company"))
}

pub async fn create(tx: &mut Tx, ctx: &Ctx, input: NewCompany) -> AppResult<Company> {
    ctx.require(Scope::CrmWrite)?;
    let custom_fields = custom_fields_or_empty(input.custom_fields)?;
    let now = crate::platform::db::now();
    let company = Company {
        id: Uuid::now_v7(),
        workspace_id: ctx.workspace_id,
        name: required_text("name", &input.name, 200)?,
        domain: normalize_domain(input.domain)?,
        website: normalize_website(input.website)?,
        status: input.status.unwrap_or_default(),
        owner_id: owner_or_creator(ctx, input.owner_id),
        parent_id: input.parent_id,
        industry: text_field("industry", input.industry, 100)?,
        employee_count: optional_in_range("employee_count", input.employee_count, 0, MAX_EMPLOYEE_COUNT)?,
        annual_revenue_cents: optional_money("annual_revenue_cents", input.annual_revenue_cents)?,
        country: text_field("country", input.country, 100)?,
        city: text_field("city", input.city, 100)?,
        phone: text_field("phone", input.phone, 50)?,
        description: text_field("description", input.description, 5000)?,
        notes: text_field("notes", input.notes, 10_000)?,
        custom_fields,
        source: ctx.record_source().into(),
        last_agent_actor_id: ctx.api_key_id,
        created_at: now,
        updated_at: now,
    };
    check_owner(tx, ctx, company.owner_id).await?;
    check_parent(tx, ctx, Some(company.id), company.parent_id).await?;
    check_domain_free(tx, ctx, company.domain.as_deref(), None).await?;
    tx.execute(
        Q::new(format!(
            "INSERT INTO companies ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)"
        ))
        .bind(ctx.workspace_id)
        .bind(company.id)
        .bind(company.name.as_str())
        .bind(company.domain.clone())
        .bind(company.website.clone())
        .bind(company.status.as_str())
        .bind(company.owner_id)
        .bind(company.parent_id)
        .bind(company.industry.clone())
        .bind(company.employee_count)
        .bind(company.annual_revenue_cents)
        .bind(company.country.clone())
        .bind(company.city.clone())
        .bind(company.phone.clone())
        .bind(company.description.clone())
        .bind(company.notes.clone())
        .bind(company.custom_fields.clone())
        .bind(company.created_at)
        .bind(company.updated_at)
        .bind(company.source.as_str())
        .bind(company.last_agent_actor_id),
    )
    .await?;
    audit::record(tx, ctx, "company.created", "company", Some(company.id), None::<&()>, Some(&company)).await?;
    Ok(company)
}

/// A friendlier answer than the unique index's: which company has it.
async fn check_domain_free(tx: &mut Tx, ctx: &Ctx, domain: Option<&str>, except: Option<Uuid>) -> AppResult<()> {
    let Some(domain) = domain else { return Ok(()) };
    let existing: Option<Company> = tx
        .fetch_optional(
            Q::new(format!("SELECT {COLUMNS} FROM companies WHERE workspace_id = $1 AND domain = $2")).bind(ctx.workspace_id).bind(domain),
        )
        .await?;
    match existing {
        Some(other) if Some(other.id) != except => Err(AppError::Duplicate {
            code: "duplicate_domain",
            field: "domain".into(),
            message: format!("company {:?} ({}) already has the domain {domain}", other.name, other.id),
        }),
        _ => Ok(()),
    }
}

pub async fn update(tx: &mut Tx, ctx: &Ctx, id: Uuid, patch: CompanyPatch) -> AppResult<Company> {
    ctx.require(Scope::CrmWrite)?;
    let before = find(tx, ctx, id).await?.ok_or(AppError::NotFound("company"))?;
    let mut after = before.clone();
    if let Some(name) = patch.name {
        after.name = required_text("name", &name, 200)?;
    }
    if let Some(domain) = patch.domain {
        after.domain = normalize_domain(domain)?;
    }
    if let Some(website) = patch.website {
        after.website = normalize_website(website)?;
    }
    if let Some(status) = patch.status {
        after.status = status;
    }
    if let Some(owner_id) = patch.owner_id {
        check_owner(tx, ctx, owner_id).await?;
        after.owner_id = owner_id;
    }
    if let Some(parent_id) = patch.parent_id {
        check_parent(tx, ctx, Some(id), parent_id).await?;
        after.parent_id = parent_id;
    }
    if let Some(v) = patch.industry {
        after.industry = text_field("industry", v, 100)?;
    }
    if let Some(v) = patch.employee_count {
        after.employee_count = optional_in_range("employee_count", v, 0, MAX_EMPLOYEE_COUNT)?;
    }
    if let Some(v) = patch.annual_revenue_cents {
        after.annual_revenue_cents = optional_money("annual_revenue_cents", v)?;
    }
    if let Some(v) = patch.country {
        after.country = text_field("country", v, 100)?;
    }
    if let Some(v) = patch.city {
        after.city = text_field("city", v, 100)?;
    }
    if let Some(v) = patch.phone {
        after.phone = text_field("phone", v, 50)?;
    }
    if let Some(v) = patch.description {
        after.description = text_field("description", v, 5000)?;
    }
    if let Some(v) = patch.notes {
        after.notes = text_field("notes", v, 10_000)?;
    }
    if let Some(custom_fields) = patch.custom_fields {
        check_custom_fields(&custom_fields)?;
        after.custom_fields = custom_fields;
    }
    if after == before {
        return Ok(before);
    }
    // A key that changes the record becomes its last agent (audit::record stores it).
    after.last_agent_actor_id = ctx.api_key_id.or(before.last_agent_actor_id);
    check_domain_free(tx, ctx, after.domain.as_deref(), Some(id)).await?;
    after.updated_at = crate::platform::db::now();
    tx.execute(
        Q::new(
            "UPDATE companies SET name = $1, domain = $2, website = $3, status = $4, owner_id = $5, \
             parent_id = $6, custom_fields = $7, updated_at = $8, industry = $11, employee_count = $12, \
             annual_revenue_cents = $13, country = $14, city = $15, phone = $16, description = $17, notes = $18 \
             WHERE workspace_id = $9 AND id = $10",
        )
        .bind(after.name.as_str())
        .bind(after.domain.clone())
        .bind(after.website.clone())
        .bind(after.status.as_str())
        .bind(after.owner_id)
        .bind(after.parent_id)
        .bind(after.custom_fields.clone())
        .bind(after.updated_at)
        .bind(ctx.workspace_id)
        .bind(id)
        .bind(after.industry.clone())
        .bind(after.employee_count)
        .bind(after.annual_revenue_cents)
        .bind(after.country.clone())
        .bind(after.city.clone())
        .bind(after.phone.clone())
        .bind(after.description.clone())
        .bind(after.notes.clone()),
    )
    .await?;
    audit::record(tx, ctx, "company.updated", "company", Some(id), Some(&before), Some(&after)).await?;
    Ok(after)
}

pub async fn list(tx: &mut Tx, ctx: &Ctx, filter: CompanyFilter) -> AppResult<Page<Company>> {
    ctx.require(Scope::CrmRead)?;
    let page = PageRequest::parse(filter.limit, filter.cursor.as_deref())?;
    let mut q = Q::new(format!("SELECT {COLUMNS} FROM companies WHERE workspace_id = $1")).bind(ctx.workspace_id);
    text_search(&mut q, filter.q.as_deref(), &["name", "domain"])?;
    if let Some(status) = filter.status {
        let p = q.arg(status.as_str());
        q.push(&format!(" AND status = {p}"));
    }
    owner_condition(&mut q, ctx, "owner_id", filter.owner.as_deref())?;
    if let Some(parent_id) = filter.parent_id {
        let p = q.arg(parent_id);
        q.push(&format!(" AND parent_id = {p}"));
    }
    page.apply(&mut q, "id");
    let rows: Vec<Company> = tx.fetch_all(q).await?;
    Ok(page.finish(rows, |c| c.id, |c| c))
}
