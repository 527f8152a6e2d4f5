//! Audience records as the API and the pages see them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::rules::Rule;
use crate::platform::types::non_null;

text_enum!(ListKind {
    Static => "static",
    Segment => "segment",
});

text_enum!(ListEntity {
    Lead => "lead",
    Company => "company",
});

/// A static list or a rule-based segment. `member_count` is live: a
/// segment's is its rules evaluated now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct List {
    pub id: Uuid,
    pub name: String,
    pub kind: ListKind,
    pub entity: ListEntity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<Rule>,
    pub member_count: i64,
    pub refreshed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewList {
    pub name: String,
    /// `static` unless rules are given.
    #[serde(default)]
    pub kind: Option<ListKind>,
    /// Static lists hold leads (default) or companies; segments hold leads.
    #[serde(default)]
    pub entity: Option<ListEntity>,
    #[serde(default)]
    pub rules: Option<Rule>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ListPatch {
    #[serde(default, deserialize_with = "non_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub rules: Option<Rule>,
}

text_enum!(MembershipReason {
    Manual => "manual",
    Bulk => "bulk",
    Import => "import",
    Form => "form",
    SegmentSaved => "segment_saved",
    SegmentRefresh => "segment_refresh",
    LeadDeleted => "lead_deleted",
});

impl MembershipReason {
    /// Why members are being added to a static list by hand: one record
    /// is a manual addition; several, or a segment's members, a bulk one.
    pub fn for_addition(change: &MemberChange) -> MembershipReason {
        let distinct: std::collections::BTreeSet<_> = change.ids.iter().collect();
        if change.from_segment.is_some() || distinct.len() > 1 {
            MembershipReason::Bulk
        } else {
            MembershipReason::Manual
        }
    }
}

/// A member as a list shows it; the full record is one request away.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Member {
    pub id: Uuid,
    pub name: String,
    /// The lead's email, or the company's domain.
    pub email: Option<String>,
    /// The lead's company, or the company's industry.
    pub detail: Option<String>,
    pub score: Option<i64>,
    pub status: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MemberChange {
    /// Leads or companies, by id (at most 1,000 per request).
    #[serde(default)]
    pub ids: Vec<Uuid>,
    /// Adds every current member of this segment (bulk add).
    #[serde(default)]
    pub from_segment: Option<Uuid>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MemberChangeResult {
    pub added: i64,
    pub removed: i64,
    pub member_count: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SegmentPreview {
    pub count: i64,
    pub sample: Vec<Member>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub rules: Rule,
}

/// One membership change, in the order they happened: what flows consume.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AudienceEvent {
    pub seq: i64,
    pub list_id: Uuid,
    pub member_id: Uuid,
    /// `added` or `removed`.
    pub change: String,
    /// manual, bulk, segment_refresh, form, import, lead_deleted, …
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    pub list_id: Option<Uuid>,
    /// Events after this sequence number.
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EventPage {
    pub data: Vec<AudienceEvent>,
    /// Pass as `after` to continue; the last seen sequence number.
    pub next_after: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RefreshResult {
    pub entered: i64,
    pub left: i64,
    pub member_count: i64,
}

text_enum!(#[derive(Default)] ImportEntity {
    #[default]
    Lead => "lead",
    Company => "company",
    Contact => "contact",
});

text_enum!(ImportFormat {
    Csv => "csv",
    Json => "json",
});

text_enum!(DedupMode {
    Skip => "skip",
    Update => "update",
    Create => "create",
});

text_enum!(ImportStatus {
    Mapping => "mapping",
    Queued => "queued",
    Running => "running",
    Completed => "completed",
    Failed => "failed",
    Cancelled => "cancelled",
});

impl ImportStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, ImportStatus::Completed | ImportStatus::Failed | ImportStatus::Cancelled)
    }
}

/// A bulk import: uploaded, mapped, then run by a background job that
/// commits its progress with every batch of rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Import {
    pub id: Uuid,
    pub entity: ImportEntity,
    pub format: ImportFormat,
    pub dedup: DedupMode,
    pub status: ImportStatus,
    pub file_name: Option<String>,
    /// The columns found in the file (CSV header, or first JSON object's keys).
    pub columns: Vec<String>,
    /// Column → target field (`email`, `cf.plan`, `tags`; empty to ignore).
    pub mapping: std::collections::BTreeMap<String, String>,
    pub list_id: Option<Uuid>,
    pub bytes_total: i64,
    pub bytes_done: i64,
    pub rows_done: i64,
    pub rows_created: i64,
    pub rows_updated: i64,
    pub rows_skipped: i64,
    pub rows_failed: i64,
    pub error: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Import {
    /// Progress through the file, 0-100.
    pub fn percent(&self) -> i64 {
        if self.status == ImportStatus::Completed {
            return 100;
        }
        if self.bytes_total <= 0 {
            return 0;
        }
        (self.bytes_done * 100 / self.bytes_total).clamp(0, 100)
    }
}

/// The query string of `POST /imports` (the body is the file itself).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewImport {
    pub entity: ImportEntity,
    /// Guessed from the file name when absent (`.json`/`.ndjson` → json).
    #[serde(default)]
    pub format: Option<ImportFormat>,
    #[serde(default)]
    pub dedup: Option<DedupMode>,
    #[serde(default)]
    pub file_name: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StartImport {
    /// Defaults to the suggested mapping.
    #[serde(default)]
    pub mapping: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default)]
    pub dedup: Option<DedupMode>,
    /// A static list every imported record joins.
    #[serde(default)]
    pub list_id: Option<Uuid>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ImportRowError {
    pub line: i64,
    pub reason: String,
}

/// The fields an import can fill, per entity, besides `cf.<key>`.
pub fn import_targets(entity: ImportEntity) -> &'static [&'static str] {
    match entity {
        ImportEntity::Lead => {
            &["name", "first_name", "last_name", "email", "phone", "company_name", "title", "source", "status", "score", "tags"]
        }
        ImportEntity::Contact => &["name", "first_name", "last_name", "email", "phone", "title", "company_name"],
        ImportEntity::Company => &["name", "domain", "website", "industry", "employee_count", "country", "city", "phone", "description"],
    }
}

/// One input of a capture form; `name` is the lead field it fills
/// (`name`, `email`, `phone`, `company_name`, `title`) or `cf.<key>`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FormField {
    pub name: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub required: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CaptureForm {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub fields: Vec<FormField>,
    /// A static list the submitted lead joins, or a segment whose rules are
    /// checked for the lead at once (it joins if they select it).
    pub list_id: Option<Uuid>,
    /// The marketing campaign the form's leads are attributed to.
    pub campaign_id: Option<Uuid>,
    pub lead_source: crate::crm::leads::types::LeadSource,
    /// Added to every lead the form captures.
    pub tags: Vec<String>,
    pub allowed_origins: Vec<String>,
    /// Signs server-to-server submissions and the embed tokens.
    pub signing_secret: String,
    pub active: bool,
    pub submissions: i64,
    /// The public endpoint's path.
    pub endpoint: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCaptureForm {
    pub name: String,
    /// Made from the name when absent; unique across all workspaces.
    #[serde(default)]
    pub slug: Option<String>,
    pub fields: Vec<FormField>,
    #[serde(default)]
    pub list_id: Option<Uuid>,
    /// The campaign its leads are attributed to (else `utm_campaign`, if it names one).
    #[serde(default)]
    pub campaign_id: Option<Uuid>,
    /// `website` when absent.
    #[serde(default)]
    pub lead_source: Option<crate::crm::leads::types::LeadSource>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Pages allowed to post from a browser: `https://www.example.com`.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CaptureFormPatch {
    #[serde(default, deserialize_with = "non_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub fields: Option<Vec<FormField>>,
    #[serde(default, deserialize_with = "crate::platform::types::nullable")]
    pub list_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::platform::types::nullable")]
    pub campaign_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "non_null")]
    pub lead_source: Option<crate::crm::leads::types::LeadSource>,
    #[serde(default, deserialize_with = "non_null")]
    pub tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "non_null")]
    pub allowed_origins: Option<Vec<String>>,
    #[serde(default, deserialize_with = "non_null")]
    pub active: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EmbedSnippet {
    pub origin: String,
    pub html: String,
}

text_enum!(#[derive(Default)] ConnectorKind {
    #[default]
    Http => "http",
});

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct EnrichmentConnector {
    pub id: Uuid,
    pub name: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub kind: ConnectorKind,
    pub url: String,
    /// Sent as the `Authorization` header; never shown back.
    #[serde(skip_serializing, default)]
    pub auth_header: Option<String>,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewEnrichmentConnector {
    pub name: String,
    #[serde(default)]
    pub kind: Option<ConnectorKind>,
    pub url: String,
    #[serde(default)]
    pub auth_header: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EnrichmentConnectorPatch {
    #[serde(default, deserialize_with = "non_null")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "non_null")]
    pub url: Option<String>,
    /// `null` removes the credential.
    #[serde(default, deserialize_with = "crate::platform::types::nullable")]
    pub auth_header: Option<Option<String>>,
    #[serde(default, deserialize_with = "non_null")]
    pub enabled: Option<bool>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EnrichLead {
    pub connector_id: Uuid,
}
