//! Marketing records as the API and the pages see them: brands, senders,
//! campaigns, email sequences and their approvals, the suppression list,
//! the built-in mailbox and rollups.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

text_enum!(
    /// Where a campaign reaches people.
    Channel {
    Email => "email",
    Ads => "ads",
    Blog => "blog",
});

text_enum!(CampaignStatus {
    Draft => "draft",
    Active => "active",
    Paused => "paused",
    Completed => "completed",
    Archived => "archived",
});

text_enum!(
    /// The approval gate: draft → pending_approval → approved | rejected →
    /// sending → completed | paused | cancelled.
    SequenceStatus {
    Draft => "draft",
    PendingApproval => "pending_approval",
    Approved => "approved",
    Rejected => "rejected",
    Sending => "sending",
    Completed => "completed",
    Paused => "paused",
    Cancelled => "cancelled",
});

text_enum!(SenderKind {
    Smtp => "smtp",
    Mailbox => "mailbox",
});

text_enum!(
    /// How an SMTP connection is secured: STARTTLS on a plain port (587),
    /// TLS from the first byte (465), or none (a relay on a trusted network).
    #[derive(Default)]
    SmtpSecurity {
    #[default]
    Starttls => "starttls",
    Tls => "tls",
    None => "none",
});

text_enum!(SuppressionReason {
    Unsubscribed => "unsubscribed",
    HardBounce => "hard_bounce",
    Complaint => "complaint",
    Manual => "manual",
});

text_enum!(
    /// What an approval request is about: every outbound channel passes the same gate.
    ApprovalSubject {
    EmailSequence => "email_sequence",
    AdCampaign => "ad_campaign",
    BlogPost => "blog_post",
});

text_enum!(ApprovalStatus {
    Pending => "pending",
    Approved => "approved",
    Rejected => "rejected",
    Void => "void",
});

text_enum!(
    /// Where a sequence's copy came from.
    CopySource {
    Template => "template",
    Ai => "ai",
    Edited => "edited",
});

text_enum!(
    /// One message's fate. `unknown`: it was being handed to the sender
    /// when the server stopped; it is counted and shown, never resent.
    OutboxStatus {
    Queued => "queued",
    Sending => "sending",
    Sent => "sent",
    Failed => "failed",
    Unknown => "unknown",
    Skipped => "skipped",
    Cancelled => "cancelled",
});

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Brand {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub from_name: String,
    pub from_email: String,
    pub reply_to: Option<String>,
    /// Appended to every message: who sends it and their postal address.
    pub footer: String,
    pub source: String,
    pub last_agent_actor_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewBrand {
    pub name: String,
    pub from_name: String,
    pub from_email: String,
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Must hold the sender's postal address (CAN-SPAM): at least one line
    /// with a number in it.
    pub footer: String,
}

patch!(
    /// Changes to a brand. Sequences using it lose their approval.
    BrandPatch {
        name: required String,
        from_name: required String,
        from_email: required String,
        reply_to: optional String,
        footer: required String,
    }
);

/// A way mail leaves Corral. Secrets are write-only: a read tells only
/// whether one is set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Sender {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub kind: SenderKind,
    pub host: Option<String>,
    pub port: Option<i64>,
    pub security: Option<SmtpSecurity>,
    pub username: Option<String>,
    pub has_password: bool,
    pub per_minute_cap: i64,
    pub per_day_cap: i64,
    /// Sends happen from this hour (0–23) up to before `window_end_hour`
    /// (1–24), on `window_days` (1 = Monday … 7 = Sunday), in the
    /// workspace's time zone (`time_zone`, read-only here: it is set on the
    /// workspace).
    pub window_start_hour: i64,
    pub window_end_hour: i64,
    pub window_days: Vec<i64>,
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSender {
    pub name: String,
    pub host: String,
    pub port: i64,
    pub security: SmtpSecurity,
    #[serde(default)]
    pub username: Option<String>,
    /// Write-only.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub per_minute_cap: Option<i64>,
    #[serde(default)]
    pub per_day_cap: Option<i64>,
    #[serde(default)]
    pub window_start_hour: Option<i64>,
    #[serde(default)]
    pub window_end_hour: Option<i64>,
    #[serde(default)]
    pub window_days: Option<Vec<i64>>,
}

patch!(
    /// Changes to a sender. Sequences using it lose their approval when its
    /// caps or window change.
    SenderPatch {
        name: required String,
        host: required String,
        port: required i64,
        security: required SmtpSecurity,
        username: optional String,
        password: optional String,
        per_minute_cap: required i64,
        per_day_cap: required i64,
        window_start_hour: required i64,
        window_end_hour: required i64,
        window_days: required Vec<i64>,
    }
);

/// A new SMTP sender with the secret that signs its bounce webhook (shown
/// once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CreatedSender {
    #[serde(flatten)]
    pub sender: Sender,
    pub webhook_secret: String,
}

/// Axiomatic's outbound email connection (a sender, as its API names it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct OutboundConnection {
    pub id: Uuid,
    pub name: String,
    pub channel: String,
    #[serde(rename = "fromEmail")]
    pub from_email: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Campaign {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub channel: Channel,
    pub status: CampaignStatus,
    pub segment_id: Option<Uuid>,
    pub brand_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub sequence_count: i64,
    pub source: String,
    pub last_agent_actor_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    pub name: String,
    /// `email` when absent.
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub segment_id: Option<Uuid>,
    #[serde(default)]
    pub brand_id: Option<Uuid>,
    /// A member of the workspace; the creating member when absent.
    #[serde(default)]
    pub owner_id: Option<Uuid>,
}

patch!(CampaignPatch {
    name: required String,
    status: required CampaignStatus,
    segment_id: optional Uuid,
    brand_id: optional Uuid,
    owner_id: optional Uuid,
});

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CampaignFilter {
    pub channel: Option<Channel>,
    pub status: Option<CampaignStatus>,
    pub segment_id: Option<Uuid>,
    /// Campaigns created at or after this time.
    pub created_from: Option<DateTime<Utc>>,
    /// Campaigns created before this time.
    pub created_to: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One email of a sequence. Merge tags: `{{first_name}}`, `{{last_name}}`,
/// `{{name}}`, `{{email}}`, `{{company_name}}`, `{{title}}`, each with an
/// optional fallback (`{{first_name|there}}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SequenceStep {
    pub subject: String,
    /// HTML (paragraphs and links); the brand footer and unsubscribe link
    /// are added when sent.
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct EmailSequence {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub campaign_id: Uuid,
    pub name: String,
    pub objective: String,
    pub segment_id: Uuid,
    pub brand_id: Uuid,
    pub sender_connector_id: Uuid,
    pub steps: Vec<SequenceStep>,
    /// The day each step goes out, counted from the first send (`[0, 3, 7]`).
    pub cadence_days: Vec<i64>,
    pub copy_source: CopySource,
    pub track_opens: bool,
    pub status: SequenceStatus,
    pub version: i64,
    /// When the first step goes out once approved (at once when absent).
    pub start_at: Option<DateTime<Utc>>,
    pub author_user_id: Option<Uuid>,
    pub author_api_key_id: Option<Uuid>,
    pub approved_version: Option<i64>,
    pub approved_by_user_id: Option<Uuid>,
    pub approved_by_api_key_id: Option<Uuid>,
    pub approved_at: Option<DateTime<Utc>>,
    /// Frozen by the approval: who will receive it.
    pub recipient_count: Option<i64>,
    /// Why the sequence is where it is (a rejection's reason, a voided
    /// approval, a pause).
    pub status_reason: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub source: String,
    pub last_agent_actor_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The seed's `preview_email_sequence` arguments.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PreviewEmailSequence {
    /// The segment (or static list of leads) to send to.
    pub segment_id: Uuid,
    pub brand_id: Uuid,
    /// What the emails should achieve ("book a demo").
    pub objective: String,
    /// The sender; the built-in mailbox when absent and no SMTP sender exists.
    #[serde(default)]
    pub sender_connector_id: Option<Uuid>,
    /// 1 to 10; 3 when absent.
    #[serde(default)]
    pub num_emails: Option<i64>,
    /// The day each email goes out, from the first send; `[0, 3, 7, …]` when absent.
    #[serde(default)]
    pub cadence_days: Option<Vec<i64>>,
    /// The campaign it belongs to; a new email campaign when absent.
    #[serde(default)]
    pub campaign_id: Option<Uuid>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub start_at: Option<DateTime<Utc>>,
    /// Open tracking (a pixel); on when absent.
    #[serde(default)]
    pub track_opens: Option<bool>,
    /// `template` (built in) or `ai` (the workspace's chat-completions
    /// endpoint); `ai` when one is configured, else `template`.
    #[serde(default)]
    pub copy: Option<CopySource>,
}

patch!(
    /// Changes to a sequence. Any change makes a new version and voids an
    /// approval.
    SequencePatch {
        name: required String,
        steps: required Vec<SequenceStep>,
        cadence_days: required Vec<i64>,
        sender_connector_id: required Uuid,
        brand_id: required Uuid,
        segment_id: required Uuid,
        start_at: optional DateTime<Utc>,
        track_opens: required bool,
    }
);

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SequenceFilter {
    pub campaign_id: Option<Uuid>,
    pub status: Option<SequenceStatus>,
    pub segment_id: Option<Uuid>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Who a send would skip, and why.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Exclusions {
    pub segment_members: i64,
    pub no_email: i64,
    pub unsubscribed: i64,
    pub suppressed: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RenderedStep {
    pub step_index: i64,
    pub send_on_day: i64,
    pub subject: String,
    pub html: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SampleRecipient {
    pub lead_id: Uuid,
    pub name: String,
    pub email: String,
    pub steps: Vec<RenderedStep>,
}

/// A sequence as it would go out: its steps rendered for sample
/// recipients, who would get it and who would not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SequencePreview {
    /// The preview's id (the sequence's), for `approve_email_sequence`.
    pub preview_id: Uuid,
    pub sequence: EmailSequence,
    pub recipient_count: i64,
    pub exclusions: Exclusions,
    pub samples: Vec<SampleRecipient>,
    pub first_send_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ApprovalRequest {
    pub id: Uuid,
    pub subject_type: ApprovalSubject,
    pub subject_id: Uuid,
    /// The version of the subject the request covers.
    pub subject_version: i64,
    /// The subject's id and version when it is an email sequence.
    pub sequence_id: Option<Uuid>,
    pub sequence_version: Option<i64>,
    pub status: ApprovalStatus,
    pub requested_by_user_id: Option<Uuid>,
    pub requested_by_api_key_id: Option<Uuid>,
    pub decided_by_user_id: Option<Uuid>,
    pub decided_by_api_key_id: Option<Uuid>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// One line of the approvers' queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ApprovalQueueItem {
    pub request: ApprovalRequest,
    /// The sequence's, ad campaign's or post's name.
    pub subject_name: String,
    /// Set for email sequences.
    pub sequence_name: Option<String>,
    /// Where an approver reviews it.
    pub review_url: String,
    pub campaign_name: String,
    pub author: String,
    pub audience_size: i64,
    /// When it would first reach anyone (first send, ad start).
    pub first_send_at: Option<DateTime<Utc>>,
    /// One line about what is asked: "3 emails", "USD 100.00 a day on LinkedIn".
    pub summary: String,
}

/// What `approve_email_sequence` did: approved, or (for a caller who may
/// not approve) put the sequence in the approvers' queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ApprovalOutcome {
    /// `approved` or `pending_approval`.
    pub status: SequenceStatus,
    pub sequence: EmailSequence,
    pub approval_request: Option<ApprovalRequest>,
    pub message: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub reason: String,
}

/// One difference between what was last approved and what is there now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ContentChange {
    /// `steps[1].subject`, `sender`, `brand.footer`, `cadence_days`, …
    pub field: String,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// What an approver reviews.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SequenceReview {
    pub preview: SequencePreview,
    pub brand: Brand,
    pub sender: Sender,
    pub segment_name: String,
    /// Against the last approved version; empty when none was approved.
    pub changes_since_approval: Vec<ContentChange>,
    pub requests: Vec<ApprovalRequest>,
    /// Whether the caller may approve or reject it.
    pub can_decide: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Suppression {
    pub email: String,
    pub reason: SuppressionReason,
    pub source: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSuppression {
    pub email: String,
    /// `manual` when absent.
    #[serde(default)]
    pub reason: Option<SuppressionReason>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Axiomatic's single outbound email for a lead.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OutboundEmail {
    #[serde(rename = "leadId", alias = "lead_id")]
    pub lead_id: Uuid,
    #[serde(rename = "connectionId", alias = "connection_id")]
    pub connection_id: Uuid,
    /// Accepted for compatibility (`gmail`, `smtp`, …); the connection decides.
    #[serde(default)]
    pub channel: Option<String>,
    pub subject: String,
    #[serde(rename = "htmlBody", alias = "html_body")]
    pub html_body: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct OutboxMessage {
    pub id: Uuid,
    pub sequence_id: Option<Uuid>,
    pub step_index: Option<i64>,
    pub lead_id: Option<Uuid>,
    pub sender_connector_id: Uuid,
    pub to_email: String,
    pub status: OutboxStatus,
    pub due_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub detail: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MailboxMessage {
    pub id: Uuid,
    pub outbox_id: Option<Uuid>,
    pub to_email: String,
    pub from: String,
    pub subject: String,
    pub html_body: String,
    /// The whole message with its headers, as a recipient's server gets it
    /// (only when one message is read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A report from the mail provider (the signed bounce/complaint webhook).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EmailEventReport {
    /// `bounce`, `complaint` or `delivered`.
    #[serde(rename = "type")]
    pub kind: String,
    pub email: String,
    /// A hard (permanent) bounce suppresses the address; a soft one does not.
    #[serde(default)]
    pub hard: Option<bool>,
    #[serde(default)]
    pub message_id: Option<String>,
}

/// A reply to a sequence, marked by whoever saw it (or a mail integration).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplyMark {
    #[serde(default)]
    pub lead_id: Option<Uuid>,
    #[serde(default)]
    pub email: Option<String>,
    /// Only this sequence; every running sequence of the recipient when absent.
    #[serde(default)]
    pub sequence_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct StepCounts {
    pub queued: i64,
    pub sent: i64,
    pub delivered: i64,
    pub bounced: i64,
    pub opened: i64,
    pub clicked: i64,
    pub replied: i64,
    pub unsubscribed: i64,
    pub skipped: i64,
    pub failed: i64,
    /// Fate unknown after a crash (never resent).
    pub unknown: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct StepRollup {
    pub sequence_id: Uuid,
    pub step_index: i64,
    pub subject: String,
    #[serde(flatten)]
    pub counts: StepCounts,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MoneyTotal {
    pub currency: String,
    pub amount_cents: i64,
}

/// What recipients did after the first send, from the CRM and the ledger.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Conversions {
    pub leads_converted: i64,
    pub deals_won: i64,
    pub deals_won_amount: Vec<MoneyTotal>,
    pub invoices_paid: i64,
    pub cash_received: Vec<MoneyTotal>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Rollup {
    pub campaign_id: Option<Uuid>,
    pub sequence_id: Option<Uuid>,
    pub recipients: i64,
    pub totals: StepCounts,
    pub steps: Vec<StepRollup>,
    pub conversions: Conversions,
}

/// The workspace's OpenAI-compatible chat-completions endpoint for copy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ChatCompletionSettings {
    pub base_url: String,
    pub model: String,
    pub has_api_key: bool,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ChatCompletionSettingsInput {
    /// The API's base, e.g. `https://api.openai.com/v1` (`/chat/completions` is added).
    pub base_url: String,
    pub model: String,
    /// Write-only; kept when absent.
    #[serde(default)]
    pub api_key: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TestSend {
    /// Up to 10 addresses; the first step is rendered for a sample recipient.
    pub to: Vec<String>,
    /// The sequence whose first step to send; a short test message when absent.
    #[serde(default)]
    pub sequence_id: Option<Uuid>,
}

/// What adding a lead to a running sequence did (a flow's `add_to_sequence`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Enrollment {
    pub sequence_id: Uuid,
    pub lead_id: Uuid,
    /// False when the lead was a recipient already (nothing changed).
    pub enrolled: bool,
    /// Messages queued for the lead (one per step, from now on the cadence).
    pub queued: i64,
}

/// The range and scope of a rollup.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RollupQuery {
    /// The first day (UTC), 30 days before `to` when absent.
    pub from: Option<chrono::NaiveDate>,
    /// The last day (UTC), today when absent.
    pub to: Option<chrono::NaiveDate>,
    pub campaign_id: Option<Uuid>,
    pub channel: Option<Channel>,
}

/// What one campaign, one channel or everything did in a date range, from
/// Corral's own outbox, pipeline and ledger and the ad platforms' spend.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RollupLine {
    pub campaign_id: Option<Uuid>,
    /// The campaign's name, the channel's, or `All campaigns`.
    pub label: String,
    pub channel: Option<Channel>,
    pub sends: i64,
    pub deliveries: i64,
    pub replies: i64,
    /// Email link clicks and ad clicks.
    pub clicks: i64,
    pub impressions: i64,
    /// Leads attributed to the campaign that arrived in the range.
    pub leads: i64,
    /// Attributed leads converted in the range.
    pub conversions: i64,
    pub deals_won: i64,
    /// Distinct customers (contact, else company, else deal) of the deals won.
    pub customers_won: i64,
    /// Invoices issued in the range for attributed leads and their deals.
    pub revenue_booked: Vec<MoneyTotal>,
    /// Cash received in the range for those invoices: the cash account's
    /// postings of their payments (and reversals) in the ledger.
    pub cash_received: Vec<MoneyTotal>,
    /// Ad spend in the range, from the synced daily metrics.
    pub spend: Vec<MoneyTotal>,
    /// Spend per customer won, per currency (absent without customers).
    pub cac: Vec<MoneyTotal>,
    /// Cash received per unit of spend, in the same currency.
    pub return_on_spend: Vec<CurrencyRatio>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct CurrencyRatio {
    pub currency: String,
    pub ratio: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TrendDay {
    pub day: chrono::NaiveDate,
    pub leads: i64,
    pub sends: i64,
    pub spend_minor: i64,
    pub cash_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Rollups {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub totals: RollupLine,
    pub channels: Vec<RollupLine>,
    pub campaigns: Vec<RollupLine>,
    /// Per day: attributed leads, sends, spend and cash (in the workspace's
    /// most used currency, `trend_currency`).
    pub trend: Vec<TrendDay>,
    pub trend_currency: String,
}
