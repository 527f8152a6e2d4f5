use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::platform::types::nullable;

/// A person. `company_id` is their primary company; `company_name` keeps
/// what was said when there is no company record yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Contact {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub company_id: Option<Uuid>,
    pub company_name: Option<String>,
    pub owner_id: Option<Uuid>,
    /// Free-form context about the relationship or source.
    pub notes: Option<String>,
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub custom_fields: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How the record was created: ui, api, mcp, import, form, flow or system.
    pub source: String,
    /// The API key that last wrote the record (agents and scripts).
    pub last_agent_actor_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub company_id: Option<Uuid>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    #[serde(default)]
    pub custom_fields: Option<serde_json::Value>,
    #[serde(default)]
    pub notes: Option<String>,
}

patch!(
    ContactPatch {
        name: required String,
        email: optional String,
        phone: optional String,
        title: optional String,
        company_id: optional Uuid,
        company_name: optional String,
        owner_id: optional Uuid,
        notes: optional String,
        custom_fields: required serde_json::Value,
    }
);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ContactFilter {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub company_id: Option<Uuid>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// A contact's link to a company, with their role there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Membership {
    pub contact_id: Uuid,
    pub company_id: Uuid,
    pub contact_name: String,
    pub company_name: String,
    pub role: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewMembership {
    pub company_id: Uuid,
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MembershipPatch {
    #[serde(deserialize_with = "nullable")]
    pub role: Option<Option<String>>,
}
