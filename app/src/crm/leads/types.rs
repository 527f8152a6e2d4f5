use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crm::companies::types::{non_null, nullable, Company};
use crate::crm::contacts::types::Contact;
use crate::crm::deals::types::Deal;

text_enum!(LeadSource {
    Manual => "manual",
    Website => "website",
    Referral => "referral",
    Campaign => "campaign",
    Import => "import",
    Api => "api",
    Mcp => "mcp",
    Other => "other",
});

text_enum!(LeadStatus {
    New => "new",
    Working => "working",
    Qualified => "qualified",
    Disqualified => "disqualified",
    Converted => "converted",
});

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Lead {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company_name: Option<String>,
    pub title: Option<String>,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub source: LeadSource,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: LeadStatus,
    pub score: i64,
    pub owner_id: Option<Uuid>,
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub custom_fields: serde_json::Value,
    /// Free labels for segmenting ("webinar-2026", "vip").
    #[cfg_attr(feature = "ssr", sqlx(json))]
    pub tags: Vec<String>,
    pub last_activity_at: Option<DateTime<Utc>>,
    pub converted_at: Option<DateTime<Utc>>,
    pub converted_contact_id: Option<Uuid>,
    pub converted_company_id: Option<Uuid>,
    pub converted_deal_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLead {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    /// `api` when created through the API, `manual` in the UI, when absent.
    #[serde(default)]
    pub source: Option<LeadSource>,
    #[serde(default)]
    pub status: Option<LeadStatus>,
    #[serde(default)]
    pub score: Option<i64>,
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    #[serde(default)]
    pub custom_fields: Option<serde_json::Value>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadPatch {
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub company_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub source: Option<LeadSource>,
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub status: Option<LeadStatus>,
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub score: Option<i64>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "non_null", skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
}

/// Lead list filters. Custom fields filter as `cf.<key>=<value>`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LeadFilter {
    pub q: Option<String>,
    pub status: Option<LeadStatus>,
    pub source: Option<LeadSource>,
    pub min_score: Option<i64>,
    pub max_score: Option<i64>,
    pub owner: Option<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub last_activity_after: Option<DateTime<Utc>>,
    pub last_activity_before: Option<DateTime<Utc>>,
    pub custom_fields: Vec<(String, String)>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// What to make of a lead. Without ids, the contact is found by the lead's
/// email or created, and the company found by name or created from the
/// lead's company name.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvertLead {
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    #[serde(default)]
    pub company_id: Option<Uuid>,
    #[serde(default)]
    pub deal: Option<ConvertDeal>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvertDeal {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub stage_id: Option<Uuid>,
    #[serde(default)]
    pub amount_cents: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub expected_close_date: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conversion {
    pub lead: Lead,
    pub contact: Contact,
    pub company: Option<Company>,
    pub deal: Option<Deal>,
}
