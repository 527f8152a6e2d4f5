//! Server functions for the audience pages: the same operations as the
//! REST API, called by the signed-in member.

use crate::api_error::ApiError;
#[cfg(feature = "ssr")]
use crate::platform::transaction::WriteTx;
use leptos::prelude::*;
use uuid::Uuid;

use super::types::*;
use crate::platform::types::Page;

#[cfg(feature = "ssr")]
use crate::crm::leads::server_fns::optional_lead_source;
#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, member, optional_id, split_list};

#[server(prefix = "/sf", endpoint = "audience_lists")]
pub async fn audience_lists() -> Result<Vec<List>, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let found = super::lists::list(&mut tx, &ctx, Some(100), None).await.map(|p| p.data)?;
    tx.commit().await?;
    Ok(found)
}

#[server(prefix = "/sf", endpoint = "create_static_list")]
pub async fn create_static_list(name: String, entity: String) -> Result<List, ApiError> {
    let (state, ctx) = member().await?;
    let input = NewList { name, kind: Some(ListKind::Static), entity: ListEntity::parse(&entity), rules: None };
    let mut tx = WriteTx::begin(&state.db).await?;
    let static_list = super::lists::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(static_list)
}

#[server(prefix = "/sf", endpoint = "audience_list")]
pub async fn audience_list(id: Uuid) -> Result<List, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let list = super::lists::get(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(list)
}

#[server(prefix = "/sf", endpoint = "list_members_page")]
pub async fn list_members_page(id: Uuid, cursor: Option<String>) -> Result<Page<Member>, ApiError> {
    let (state, ctx) = member().await?;
    let cursor = blank_to_none(cursor);
    let mut tx = state.db.begin_read().await?;
    let members = super::lists::members(&mut tx, &ctx, id, Some(50), cursor.as_deref()).await?;
    tx.commit().await?;
    Ok(members)
}

/// The builder's live count: rules travel as JSON text.
#[server(prefix = "/sf", endpoint = "preview_segment")]
pub async fn preview_segment(rules: String) -> Result<SegmentPreview, ApiError> {
    let (state, ctx) = member().await?;
    let rules: super::rules::Rule =
        serde_json::from_str(&rules).map_err(|e| ApiError::field("rules", format!("the rules are not valid: {e}")))?;
    let mut tx = state.db.begin_read().await?;
    let preview = super::lists::preview(&mut tx, &ctx, &rules).await?;
    tx.commit().await?;
    Ok(preview)
}

/// Creates the segment (no id) or saves its name and rules.
#[server(prefix = "/sf", endpoint = "save_segment")]
pub async fn save_segment(id: Option<Uuid>, name: String, rules: String) -> Result<List, ApiError> {
    let (state, ctx) = member().await?;
    let rules: super::rules::Rule =
        serde_json::from_str(&rules).map_err(|e| ApiError::field("rules", format!("the rules are not valid: {e}")))?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let segment = match id {
        None => {
            super::lists::create(&mut tx, &ctx, NewList { name, kind: Some(ListKind::Segment), entity: None, rules: Some(rules) }).await?
        }
        Some(id) => super::lists::update(&mut tx, &ctx, id, ListPatch { name: Some(name), rules: Some(rules) }).await?,
    };
    tx.commit().await?;
    Ok(segment)
}

#[server(prefix = "/sf", endpoint = "delete_audience_list")]
pub async fn delete_audience_list(id: Uuid) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    super::lists::delete(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    leptos_axum::redirect("/audience");
    Ok(())
}

#[server(prefix = "/sf", endpoint = "add_from_segment")]
pub async fn add_from_segment(id: Uuid, segment_id: String) -> Result<MemberChangeResult, ApiError> {
    let (state, ctx) = member().await?;
    let segment = optional_id(Some(segment_id), "segment_id")?.ok_or_else(|| ApiError::field("segment_id", "choose a segment"))?;
    let change = MemberChange { ids: Vec::new(), from_segment: Some(segment) };
    let mut tx = WriteTx::begin(&state.db).await?;
    let members = super::lists::add_members(&mut tx, &ctx, id, change).await?;
    tx.commit().await?;
    Ok(members)
}

/// Adds the lead with this email (the quick way to add one person).
#[server(prefix = "/sf", endpoint = "add_lead_by_email")]
pub async fn add_lead_by_email(id: Uuid, email: String) -> Result<MemberChangeResult, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let email = crate::platform::validate::normalize_email("email", &email)?;
    let found = crate::crm::fields::oldest_id_where(&mut tx, &ctx, "leads", "email", &email).await?;
    let lead_id = found.ok_or_else(|| crate::error::AppError::validation("email", format!("no lead has the email {email}")))?;
    let members = super::lists::add_members(&mut tx, &ctx, id, MemberChange { ids: vec![lead_id], from_segment: None }).await?;
    tx.commit().await?;
    Ok(members)
}

#[server(prefix = "/sf", endpoint = "remove_list_member")]
pub async fn remove_list_member(id: Uuid, member_id: Uuid) -> Result<MemberChangeResult, ApiError> {
    let (state, ctx) = member().await?;
    let change = MemberChange { ids: vec![member_id], from_segment: None };
    let mut tx = WriteTx::begin(&state.db).await?;
    let members = super::lists::remove_members(&mut tx, &ctx, id, change).await?;
    tx.commit().await?;
    Ok(members)
}

#[server(prefix = "/sf", endpoint = "import_list")]
pub async fn import_list() -> Result<Vec<Import>, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let found = super::imports::list(&mut tx, &ctx, Some(50), None).await.map(|p| p.data)?;
    tx.commit().await?;
    Ok(found)
}

/// An import with its first bad rows.
#[server(prefix = "/sf", endpoint = "import_view")]
pub async fn import_view(id: Uuid) -> Result<(Import, Vec<ImportRowError>), ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let import = super::imports::get(&mut tx, &ctx, id).await?;
    let first_errors = super::imports::row_errors(&mut tx, &ctx, id, None, Some(100)).await?;
    tx.commit().await?;
    Ok((import, first_errors))
}

/// `targets[i]` is where column i goes ("" skips it).
#[server(prefix = "/sf", endpoint = "begin_import")]
pub async fn begin_import(id: Uuid, dedup: String, list_id: Option<String>, targets: Vec<String>) -> Result<Import, ApiError> {
    let (state, ctx) = member().await?;
    let list_id = optional_id(list_id, "list_id")?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let import = super::imports::get(&mut tx, &ctx, id).await?;
    let mapping = import.columns.iter().cloned().zip(targets.into_iter().chain(std::iter::repeat(String::new()))).collect();
    let input = StartImport { mapping: Some(mapping), dedup: DedupMode::parse(&dedup), list_id };
    let import = super::imports::start(&mut tx, &ctx, id, input).await?;
    tx.commit().await?;
    Ok(import)
}

#[server(prefix = "/sf", endpoint = "cancel_import")]
pub async fn cancel_import(id: Uuid) -> Result<Import, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let import = super::imports::cancel(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(import)
}

#[server(prefix = "/sf", endpoint = "capture_forms")]
pub async fn capture_forms() -> Result<Vec<CaptureForm>, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let found = super::forms::list(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(found)
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct CaptureFormForm {
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub list_id: Option<String>,
    #[serde(default)]
    pub lead_source: Option<String>,
    /// Comma-separated.
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub origins: String,
}

#[server(prefix = "/sf", endpoint = "create_capture_form")]
pub async fn create_capture_form(form: CaptureFormForm) -> Result<CaptureForm, ApiError> {
    let (state, ctx) = member().await?;
    let field = |name: &str, label: &str, required: bool| FormField { name: name.into(), label: Some(label.into()), required };
    let mut fields = vec![field("name", "Name", true), field("email", "Email", true)];
    for (flag, name, label) in [
        (&form.phone, "phone", "Phone"),
        (&form.company_name, "company_name", "Company"),
        (&form.title, "title", "Job title"),
        (&form.message, "cf.message", "Message"),
    ] {
        if flag.is_some() {
            fields.push(field(name, label, false));
        }
    }
    let input = NewCaptureForm {
        name: form.name,
        slug: None,
        fields,
        list_id: optional_id(form.list_id, "list_id")?,
        campaign_id: None,
        lead_source: optional_lead_source(form.lead_source)?,
        tags: split_list(&form.tags, &[',']),
        allowed_origins: split_list(&form.origins, &['\n', ',', ' ']),
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let created = super::forms::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    leptos_axum::redirect(&format!("/forms/{}", created.id));
    Ok(created)
}

#[server(prefix = "/sf", endpoint = "capture_form_view")]
pub async fn capture_form_view(id: Uuid, origin: Option<String>) -> Result<(CaptureForm, Option<EmbedSnippet>), ApiError> {
    let (state, ctx) = member().await?;
    let headers: axum::http::HeaderMap = leptos_axum::extract().await.map_err(|e| ApiError::new("internal_error", e.to_string()))?;
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost:3000").to_string();
    let base = format!("http://{host}");
    let mut tx = state.db.begin_read().await?;
    let form = super::forms::get(&mut tx, &ctx, id).await?;
    let origin = blank_to_none(origin).or_else(|| form.allowed_origins.first().cloned());
    let snippet = match origin {
        Some(origin) => Some(super::forms::embed(&mut tx, &ctx, id, &origin, &base).await?),
        None => None,
    };
    tx.commit().await?;
    Ok((form, snippet))
}

/// The settings a form's page edits; the fields themselves are set at
/// creation (or through the API).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct CaptureFormSettings {
    pub name: String,
    #[serde(default)]
    pub list_id: Option<String>,
    #[serde(default)]
    pub lead_source: Option<String>,
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub origins: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    pub active: Option<String>,
}

#[server(prefix = "/sf", endpoint = "update_capture_form")]
pub async fn update_capture_form(id: Uuid, form: CaptureFormSettings) -> Result<CaptureForm, ApiError> {
    let (state, ctx) = member().await?;
    let patch = CaptureFormPatch {
        name: Some(form.name),
        fields: None,
        list_id: Some(optional_id(form.list_id, "list_id")?),
        campaign_id: None,
        lead_source: optional_lead_source(form.lead_source)?,
        tags: Some(split_list(&form.tags, &[','])),
        allowed_origins: Some(split_list(&form.origins, &['\n', ',', ' '])),
        active: Some(form.active.is_some()),
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let capture_form = super::forms::update(&mut tx, &ctx, id, patch).await?;
    tx.commit().await?;
    Ok(capture_form)
}

#[server(prefix = "/sf", endpoint = "enrichment_connectors")]
pub async fn enrichment_connectors() -> Result<Vec<EnrichmentConnector>, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let found = super::enrichment::list(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(found)
}

#[server(prefix = "/sf", endpoint = "create_enrichment_connector")]
pub async fn create_enrichment_connector(name: String, url: String, auth_header: Option<String>) -> Result<EnrichmentConnector, ApiError> {
    let (state, ctx) = member().await?;
    let input = NewEnrichmentConnector { name, kind: None, url, auth_header: blank_to_none(auth_header) };
    let allow_private = state.config.enrichment_private_networks;
    let mut tx = WriteTx::begin(&state.db).await?;
    let enrichment_connector = super::enrichment::create(&mut tx, &ctx, input, allow_private).await?;
    tx.commit().await?;
    Ok(enrichment_connector)
}

#[server(prefix = "/sf", endpoint = "set_enrichment_connector_enabled")]
pub async fn set_enrichment_connector_enabled(id: Uuid, enabled: bool) -> Result<EnrichmentConnector, ApiError> {
    let (state, ctx) = member().await?;
    let patch = EnrichmentConnectorPatch { enabled: Some(enabled), ..Default::default() };
    let allow_private = state.config.enrichment_private_networks;
    let mut tx = WriteTx::begin(&state.db).await?;
    let connector = super::enrichment::update(&mut tx, &ctx, id, patch, allow_private).await?;
    tx.commit().await?;
    Ok(connector)
}

#[server(prefix = "/sf", endpoint = "delete_enrichment_connector")]
pub async fn delete_enrichment_connector(id: Uuid) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    super::enrichment::delete(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// The lead page's "Enrich" button.
#[server(prefix = "/sf", endpoint = "enrich_lead_now")]
pub async fn enrich_lead_now(lead_id: Uuid, connector_id: Uuid) -> Result<crate::crm::leads::types::Lead, ApiError> {
    let (state, ctx) = member().await?;
    let lead =
        super::enrichment::enrich_lead(&state.db, &ctx, lead_id, EnrichLead { connector_id }, state.config.enrichment_private_networks)
            .await?;
    Ok(lead)
}
