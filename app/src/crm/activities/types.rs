use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::platform::types::{non_null, nullable};

text_enum!(#[derive(Default)] ActivityKind {
    Call => "call",
    Email => "email",
    Meeting => "meeting",
    #[default]
    Note => "note",
});

/// Something that happened with a lead, contact, company or deal. Notes
/// are activities of kind `note`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Activity {
    pub id: Uuid,
    pub workspace_id: Uuid,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub kind: ActivityKind,
    pub subject: String,
    pub body: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub lead_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub deal_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// How the record was created: ui, api, mcp, import, form, flow or system.
    pub source: String,
    /// The API key that last wrote the record (agents and scripts).
    pub last_agent_actor_id: Option<Uuid>,
}

/// The records an activity or task is about: at least one for activities.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewActivity {
    pub kind: ActivityKind,
    pub subject: String,
    #[serde(default)]
    pub body: Option<String>,
    /// Now when absent.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub lead_id: Option<Uuid>,
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    #[serde(default)]
    pub company_id: Option<Uuid>,
    #[serde(default)]
    pub deal_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ActivityFilter {
    #[serde(default)]
    pub lead_id: Option<Uuid>,
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    #[serde(default)]
    pub company_id: Option<Uuid>,
    #[serde(default)]
    pub deal_id: Option<Uuid>,
    #[serde(default)]
    pub kind: Option<ActivityKind>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub cursor: Option<String>,
}

text_enum!(TaskStatus {
    Open => "open",
    Done => "done",
});

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Task {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub title: String,
    pub due_at: Option<DateTime<Utc>>,
    pub assignee_id: Option<Uuid>,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub status: TaskStatus,
    pub lead_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    pub deal_id: Option<Uuid>,
    pub completed_at: Option<DateTime<Utc>>,
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
pub struct NewTask {
    pub title: String,
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub assignee_id: Option<Uuid>,
    #[serde(default)]
    pub lead_id: Option<Uuid>,
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    #[serde(default)]
    pub company_id: Option<Uuid>,
    #[serde(default)]
    pub deal_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    #[serde(default, deserialize_with = "non_null")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub due_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "nullable")]
    pub assignee_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "non_null")]
    pub status: Option<TaskStatus>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskFilter {
    /// A user id, `me` or `unassigned`.
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub status: Option<TaskStatus>,
    #[serde(default)]
    pub lead_id: Option<Uuid>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// One entry of a record's timeline: an activity, or an audited change
/// (creation, status change, conversion, …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// `activity` or `change`.
    pub entry_type: String,
    /// The activity kind, or the audit action.
    pub kind: String,
    pub summary: String,
    pub actor_user_id: Option<Uuid>,
    pub data: serde_json::Value,
}
