use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CompanyStatus {
    #[default]
    Prospect,
    Active,
    Inactive,
}

impl CompanyStatus {
    pub const ALL: [CompanyStatus; 3] = [CompanyStatus::Prospect, CompanyStatus::Active, CompanyStatus::Inactive];

    pub fn as_str(self) -> &'static str {
        match self {
            CompanyStatus::Prospect => "prospect",
            CompanyStatus::Active => "active",
            CompanyStatus::Inactive => "inactive",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CompanyStatus::Prospect => "Prospect",
            CompanyStatus::Active => "Active",
            CompanyStatus::Inactive => "Inactive",
        }
    }

    pub fn parse(value: &str) -> Option<CompanyStatus> {
        CompanyStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

impl TryFrom<String> for CompanyStatus {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        CompanyStatus::parse(&value).ok_or_else(|| format!("unknown company status {value:?}"))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Company {
    pub id: Uuid,
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
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub custom_fields: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
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
}

/// A partial update: an absent field is left alone; `null` clears a
/// nullable field.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyPatch {
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub domain: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub website: Option<Option<String>>,
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub status: Option<CompanyStatus>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub industry: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub employee_count: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub annual_revenue_cents: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub city: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<serde_json::Value>,
}

/// For fields that may be absent but not null: `null` is a type error.
pub fn non_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Tells "absent" (outer `None`, via `default`) from "null" (`Some(None)`).
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// List filters. `owner` is a user id, `me` or `unassigned`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
