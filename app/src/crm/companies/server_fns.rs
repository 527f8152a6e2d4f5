//! Server functions for companies: the session's member calls the same
//! operations as the REST API.

use crate::api_error::ApiError;
#[cfg(feature = "ssr")]
use crate::platform::transaction::WriteTx;
use leptos::prelude::*;
use uuid::Uuid;

use super::types::*;
use crate::platform::types::Page;

#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, member};

/// Flat arguments: a struct argument whose fields are all absent would be
/// encoded as nothing at all and fail to decode.
#[server(prefix = "/sf", endpoint = "list_companies")]
pub async fn list_companies(
    q: Option<String>,
    status: Option<CompanyStatus>,
    owner: Option<String>,
    cursor: Option<String>,
) -> Result<Page<Company>, ApiError> {
    let (state, ctx) = member().await?;
    let filter = CompanyFilter { q, status, owner, cursor, parent_id: None, limit: None };
    let mut tx = state.db.begin_read().await?;
    let found = super::ops::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(found)
}

#[server(prefix = "/sf", endpoint = "get_company")]
pub async fn get_company(id: Uuid) -> Result<Company, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let company = super::ops::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(company)
}

/// The company form's fields, shared by "new" and "edit": text as typed,
/// checked and converted on the server.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct CompanyForm {
    pub name: String,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub owner_id: Option<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub industry: Option<String>,
    #[serde(default)]
    pub employee_count: Option<String>,
    /// Major units as typed ("1,200,000").
    #[serde(default)]
    pub annual_revenue: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[cfg(feature = "ssr")]
impl CompanyForm {
    /// Every field set: on edit an emptied field clears the value.
    fn into_patch(self, formats: &crate::platform::formats::Formats) -> Result<CompanyPatch, ApiError> {
        use crate::platform::server_fns::ssr::{optional_id, optional_number};
        let status = match blank_to_none(self.status) {
            Some(s) => Some(CompanyStatus::parse(&s).ok_or_else(|| ApiError::field("status", "unknown status"))?),
            None => None,
        };
        let annual_revenue_cents = match blank_to_none(self.annual_revenue) {
            Some(text) => Some(formats.parse_money(&text).ok_or_else(|| {
                ApiError::field("annual_revenue", format!("annual revenue must be an amount like {}", formats.amount_example(120_000_000)))
            })?),
            None => None,
        };
        Ok(CompanyPatch {
            name: Some(self.name),
            domain: Some(blank_to_none(self.domain)),
            website: Some(blank_to_none(self.website)),
            status,
            owner_id: Some(optional_id(self.owner_id, "owner_id")?),
            parent_id: Some(optional_id(self.parent_id, "parent_id")?),
            industry: Some(blank_to_none(self.industry)),
            employee_count: Some(optional_number(self.employee_count, "employee_count")?),
            annual_revenue_cents: Some(annual_revenue_cents),
            country: Some(blank_to_none(self.country)),
            city: Some(blank_to_none(self.city)),
            phone: Some(blank_to_none(self.phone)),
            description: Some(blank_to_none(self.description)),
            ..Default::default()
        })
    }
}

#[server(prefix = "/sf", endpoint = "create_company")]
pub async fn create_company(form: CompanyForm) -> Result<Company, ApiError> {
    let (state, ctx) = member().await?;
    let patch = form.into_patch(&crate::platform::server_fns::ssr::member_formats(&state, &ctx).await?)?;
    let input = NewCompany {
        name: patch.name.unwrap_or_default(),
        domain: patch.domain.flatten(),
        website: patch.website.flatten(),
        status: patch.status,
        // Unless someone is picked, the ops make whoever adds it the owner.
        owner_id: patch.owner_id.flatten(),
        parent_id: patch.parent_id.flatten(),
        industry: patch.industry.flatten(),
        employee_count: patch.employee_count.flatten(),
        annual_revenue_cents: patch.annual_revenue_cents.flatten(),
        country: patch.country.flatten(),
        city: patch.city.flatten(),
        phone: patch.phone.flatten(),
        description: patch.description.flatten(),
        notes: None,
        custom_fields: None,
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let company = super::ops::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    leptos_axum::redirect(&format!("/companies/{}", company.id));
    Ok(company)
}

/// The edit form always sends every field, so an empty text clears it.
#[server(prefix = "/sf", endpoint = "update_company")]
pub async fn update_company(id: Uuid, form: CompanyForm) -> Result<Company, ApiError> {
    let (state, ctx) = member().await?;
    let patch = form.into_patch(&crate::platform::server_fns::ssr::member_formats(&state, &ctx).await?)?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let company = super::ops::update(&mut tx, &ctx, id, patch).await?;
    tx.commit().await?;
    Ok(company)
}

/// The other companies of the workspace (newest 100), as parent choices.
#[server(prefix = "/sf", endpoint = "subsidiaries")]
pub async fn subsidiaries(id: Uuid) -> Result<Vec<Company>, ApiError> {
    let (state, ctx) = member().await?;
    let filter = CompanyFilter { parent_id: Some(id), limit: Some(100), ..Default::default() };
    let mut tx = state.db.begin_read().await?;
    let companies = super::ops::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(companies.data)
}

/// The newest 100 companies, for pickers.
#[server(prefix = "/sf", endpoint = "company_choices")]
pub async fn company_choices() -> Result<Vec<(Uuid, String)>, ApiError> {
    use crate::crm::companies::{ops, types::CompanyFilter};
    let (state, ctx) = member().await?;
    let filter = CompanyFilter { limit: Some(100), ..Default::default() };
    let mut tx = state.db.begin_read().await?;
    let page = ops::list(&mut tx, &ctx, filter).await?;
    tx.commit().await?;
    Ok(page.data.into_iter().map(|c| (c.id, c.name)).collect())
}
