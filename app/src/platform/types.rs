//! Platform types shared by the server, the REST API and the browser.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

text_enum!(
    /// What a user may do in a workspace.
    Role {
    Owner => "owner",
    Admin => "admin",
    Member => "member",
    Approver => "approver",
});

impl Role {
    /// Owners and admins manage members, invitations and API keys.
    pub fn can_administer(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

text_enum!(
    /// What an API key may do. Sessions get the scopes their role allows.
    Scope {
    CrmRead => "crm:read",
    CrmWrite => "crm:write",
    RevenueRead => "revenue:read",
    RevenueWrite => "revenue:write",
    MarketingRead => "marketing:read",
    MarketingWrite => "marketing:write",
    /// Approve email sequences (and later ad launches). No key holds it
    /// unless an owner grants it explicitly; the key that created a
    /// sequence never approves it.
    MarketingApprove => "marketing:approve",
    FlowsRead => "flows:read",
    FlowsWrite => "flows:write",
});

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema, sqlx::FromRow))]
pub struct Workspace {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    /// An IANA time zone (`Europe/Paris`): send windows are read in it.
    pub time_zone: String,
    /// How numbers, money and dates are written (`en-US`, `de-DE`, …).
    pub locale: String,
    /// Finished flow runs older than this many days are deleted (kept
    /// forever when absent).
    pub flow_run_retention_days: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// What the workspace settings page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceSettings {
    pub workspace: Workspace,
    /// Every IANA time zone name, to choose from.
    pub time_zones: Vec<String>,
    /// Owners and admins change settings; others read them.
    pub can_change: bool,
}

patch!(
    /// Changes to a workspace's settings (owners and admins).
    WorkspacePatch {
        name: required String,
        time_zone: required String,
        locale: required String,
        flow_run_retention_days: optional i64,
    }
);

/// The signed-in user as the UI sees them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CurrentUser {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub workspace_id: Uuid,
    pub workspace_name: String,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Member {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Invitation {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// Only present in the response that creates the invitation.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub token: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the secret, enough to recognise it.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Returned once, when a key is created; only its hash is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct AuditEvent {
    pub id: Uuid,
    pub actor_user_id: Option<Uuid>,
    pub actor_api_key_id: Option<Uuid>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    /// How the write came in: ui, api, mcp or system (absent on rows
    /// written before this was kept).
    pub via: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// One page of a cursor-paginated list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    pub name: String,
    pub email: String,
    pub password: String,
    pub workspace_name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct LogIn {
    pub email: String,
    pub password: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    pub email: String,
    pub role: Role,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    pub token: String,
    pub name: String,
    pub password: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    pub name: String,
    pub scopes: Vec<Scope>,
}

// Partial updates (see the `patch!` macro): an absent field is left alone,
// `null` clears an optional field and is refused for a required one.

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
