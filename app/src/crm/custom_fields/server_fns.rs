//! Server functions for the custom-field settings and the segment builder.

use leptos::prelude::*;
use uuid::Uuid;

use super::types::*;
use crate::api_error::ApiError;
#[cfg(feature = "ssr")]
use crate::platform::server_fns::ssr::{blank_to_none, member, split_list};
#[cfg(feature = "ssr")]
use crate::platform::transaction::WriteTx;

#[server(prefix = "/sf", endpoint = "declared_custom_fields")]
pub async fn declared_custom_fields() -> Result<DeclaredFields, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = state.db.begin_read().await?;
    let fields = super::ops::list(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(DeclaredFields(fields))
}

/// The settings form of a field: options one per line or comma-separated,
/// `indexed` a checkbox (present when ticked).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct CustomFieldForm {
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub options: String,
    #[serde(default)]
    pub indexed: Option<String>,
}

#[server(prefix = "/sf", endpoint = "declare_custom_field")]
pub async fn declare_custom_field(key: String, field_type: String, form: CustomFieldForm) -> Result<CustomField, ApiError> {
    let (state, ctx) = member().await?;
    let field_type = CustomFieldType::try_from(field_type).map_err(|message| ApiError::field("type", message))?;
    let input = NewCustomField {
        key,
        label: blank_to_none(Some(form.label)),
        field_type: Some(field_type),
        options: (field_type == CustomFieldType::Choice).then(|| split_list(&form.options, &['\n', ','])),
        indexed: Some(form.indexed.is_some()),
    };
    let mut tx = WriteTx::begin(&state.db).await?;
    let field = super::ops::create(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(field)
}

#[server(prefix = "/sf", endpoint = "change_custom_field")]
pub async fn change_custom_field(id: Uuid, form: CustomFieldForm) -> Result<CustomField, ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let current = super::ops::get(&mut tx, &ctx, id).await?;
    let patch = CustomFieldPatch {
        label: Some(form.label),
        field_type: None,
        options: (current.field_type == CustomFieldType::Choice).then(|| split_list(&form.options, &['\n', ','])),
        indexed: Some(form.indexed.is_some()),
    };
    let field = super::ops::update(&mut tx, &ctx, id, patch).await?;
    tx.commit().await?;
    Ok(field)
}

#[server(prefix = "/sf", endpoint = "forget_custom_field")]
pub async fn forget_custom_field(id: Uuid) -> Result<(), ApiError> {
    let (state, ctx) = member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    super::ops::delete(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(())
}
