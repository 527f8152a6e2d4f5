use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

text_enum!(#[derive(Default)] CompanyStatus {
    #[default]
    Prospect => "prospect",
    Active => "active",
    Inactive => "inactive",
});

impl CompanyStatus {
    pub fn label(self) -> &'static str {
        match self {
            CompanyStatus::Prospect => "Prospect",
            CompanyStatus::Active => "Active",
            CompanyStatus::Inactive => "Inactive",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Company {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub domain: Option<String>,
    pub website: Option<String>,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: CompanyStatus,
    pub owner_id: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub industry: Option<String>,
    pub employee_count: Option<i64>,
    pub annual_revenue_cents: Option<i64>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    /// Free-form context about the account.
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
pub struct NewCompany {
    pub name: String,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub status: Option<CompanyStatus>,
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    pub industry: Option<String>,
    #[serde(default)]
    pub employee_count: Option<i64>,
    #[serde(default)]
    pub annual_revenue_cents: Option<i64>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub custom_fields: Option<serde_json::Value>,
    #[serde(default)]
    pub notes: Option<String>,
}

patch!(
    /// A partial update: an absent field is left alone; `null` clears a
    /// nullable field.
    CompanyPatch {
        name: required String,
        domain: optional String,
        website: optional String,
        status: required CompanyStatus,
        owner_id: optional Uuid,
        parent_id: optional Uuid,
        industry: optional String,
        employee_count: optional i64,
        annual_revenue_cents: optional i64,
        country: optional String,
        city: optional String,
        phone: optional String,
        description: optional String,
        notes: optional String,
        custom_fields: required serde_json::Value,
    }
);

/// List filters. `owner` is a user id, `me` or `unassigned`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CompanyFilter {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub status: Option<CompanyStatus>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub cursor: Option<String>,
}
