//! Flow types shared by the server, the REST API, MCP and the browser.
//!
//! A workflow's graph is a list of steps with one entry. Each step names
//! what it does (`action`, tagged by `type`) and where the run goes next:
//! `next` for most steps, the rules of a `branch` for branches. Text in a
//! step may hold variables: `{{input.lead_id}}` (the run's input),
//! `{{steps.enrich.output.company}}` (an upstream step's output).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

text_enum!(
    /// A workflow is active (its published version runs) or archived.
    WorkflowStatus {
    Active => "active",
    Archived => "archived",
});

text_enum!(
    /// How a version stands: the draft being edited, published (the one
    /// new runs use), or archived (kept with its runs).
    VersionState {
    Draft => "draft",
    Published => "published",
    Archived => "archived",
});

text_enum!(
    /// Whether a record may enter a workflow again.
    Reenrollment {
    /// Once per record, ever.
    Once => "once",
    /// Again once its previous run has ended.
    AfterFinish => "after_finish",
});

text_enum!(
    /// The comparisons a branch rule makes.
    ConditionOp {
    Eq => "eq",
    Neq => "neq",
    Gt => "gt",
    Lt => "lt",
    Contains => "contains",
    IsSet => "is_set",
});

text_enum!(
    /// What an external trigger listens for: a Corral event or a signed
    /// inbound webhook.
    TriggerKind {
    Event => "event",
    Webhook => "webhook",
});

/// The filters that narrow an event trigger.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TriggerFilters {
    /// segment.entered / segment.left: the segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_id: Option<Uuid>,
    /// form.submitted: the form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_id: Option<Uuid>,
    /// deal.stage_changed: the stage the deal moved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_id: Option<Uuid>,
    /// lead.score_crossed: the score crossed upwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<i64>,
}

/// An external trigger: a CRM, audience, revenue or email event (narrowed
/// by filters), or a signed inbound webhook, that starts runs of a
/// workflow's published version — once per event and trigger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ExternalTrigger {
    pub id: Uuid,
    pub workflow_id: Uuid,
    pub kind: TriggerKind,
    /// The event (`webhook.received` for webhooks).
    pub event: String,
    pub filters: TriggerFilters,
    pub active: bool,
    /// Webhooks: where to POST the signed JSON body (`X-Corral-Signature:
    /// t=…,v1=…` with the workflow's signing secret; `Idempotency-Key`
    /// makes a redelivery one run).
    pub webhook_path: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTrigger {
    pub workflow_id: Uuid,
    /// `event` when absent.
    #[serde(default)]
    pub kind: Option<TriggerKind>,
    /// For event triggers: lead.created, lead.updated, lead.score_crossed,
    /// segment.entered, segment.left, form.submitted, deal.stage_changed,
    /// invoice.paid, email.replied, email.unsubscribed.
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub filters: Option<TriggerFilters>,
}

patch!(
    /// Turns a trigger off or on.
    TriggerPatch {
        active: required bool,
    }
);

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TriggerFilter {
    pub workflow_id: Option<Uuid>,
    pub event: Option<String>,
}

/// One test of a branch rule: `var` (`input.score`,
/// `steps.enrich.output.industry`) compared with `value`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub var: String,
    pub op: ConditionOp,
    /// Absent for `is_set`.
    #[serde(default)]
    pub value: Option<Value>,
}

/// A branch's rule: when the condition holds, the run goes to `next`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BranchRule {
    /// Shown on the edge in the editor.
    #[serde(default)]
    pub label: Option<String>,
    pub when: Condition,
    pub next: String,
}

/// What a step does. Text fields may hold `{{…}}` variables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// A call to the workspace's chat-completions endpoint; the answer is
    /// parsed as JSON into the step's output.
    AgentCall {
        prompt: String,
    },
    /// An HTTP request with a templated body; the response's status and
    /// JSON body are the output. It carries an `Idempotency-Key` derived
    /// from the run and step.
    HttpRequest {
        method: String,
        url: String,
        #[serde(default)]
        headers: Map<String, Value>,
        #[serde(default)]
        body: Option<Value>,
    },
    /// Sets fields of a lead (status, score, owner, custom fields…).
    UpdateLead {
        lead_id: String,
        fields: Map<String, Value>,
    },
    AddTag {
        lead_id: String,
        tag: String,
    },
    AddToList {
        lead_id: String,
        list_id: String,
    },
    /// Enriches a lead through one of the workspace's enrichment connectors.
    EnrichLead {
        lead_id: String,
        connector_id: String,
    },
    CreateTask {
        title: String,
        #[serde(default)]
        lead_id: Option<String>,
        #[serde(default)]
        deal_id: Option<String>,
        /// A user id; the lead's (or deal's) owner when absent.
        #[serde(default)]
        assignee_id: Option<String>,
        #[serde(default)]
        due_in_hours: Option<i64>,
    },
    /// An activity on the lead's timeline (`kind`: note, call, email, meeting…).
    LogActivity {
        lead_id: String,
        kind: String,
        subject: String,
        #[serde(default)]
        body: Option<String>,
    },
    /// Queues one email to a lead through the outbox (caps, suppression
    /// list, footer), logged on its timeline.
    SendEmail {
        lead_id: String,
        subject: String,
        html_body: String,
        /// An email sender (SMTP connection or the built-in mailbox).
        connection_id: String,
    },
    /// Waits a duration, until a time, or until an event (with a timeout).
    Wait {
        #[serde(default)]
        seconds: Option<i64>,
        /// A time (RFC 3339) or a variable holding one.
        #[serde(default)]
        until: Option<String>,
        /// An event name (`email.replied`) about the run's lead.
        #[serde(default)]
        event: Option<String>,
        #[serde(default)]
        timeout_seconds: Option<i64>,
    },
    /// Enrolls the lead in an approved email sequence: only a lead in the
    /// segment the approval covered (its rules unchanged since), with an
    /// email and not suppressed; its steps go out on the cadence from now.
    AddToSequence {
        lead_id: String,
        sequence_id: String,
    },
    /// A signed POST (`X-Corral-Signature`, HMAC-SHA256 with the
    /// workflow's signing secret) with an idempotency key per run and step.
    SendWebhook {
        url: String,
        #[serde(default)]
        body: Option<Value>,
    },
    /// Reads a lead, with the number of activities logged on it since the
    /// run started (`activities_since_run_started`).
    GetLead {
        lead_id: String,
    },
    /// Reads a deal, with the days since it last changed (`days_since_update`).
    GetDeal {
        deal_id: String,
    },
    /// Goes to the first rule's `next` whose condition holds, or to
    /// `default` (the run ends when there is none). A rule's `value` may be
    /// a variable (`"{{input.to_stage_id}}"`).
    Branch {
        rules: Vec<BranchRule>,
        #[serde(default)]
        default: Option<String>,
    },
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::AgentCall { .. } => "agent_call",
            Action::HttpRequest { .. } => "http_request",
            Action::UpdateLead { .. } => "update_lead",
            Action::AddTag { .. } => "add_tag",
            Action::AddToList { .. } => "add_to_list",
            Action::EnrichLead { .. } => "enrich_lead",
            Action::CreateTask { .. } => "create_task",
            Action::LogActivity { .. } => "log_activity",
            Action::AddToSequence { .. } => "add_to_sequence",
            Action::SendWebhook { .. } => "send_webhook",
            Action::SendEmail { .. } => "send_email",
            Action::GetLead { .. } => "get_lead",
            Action::GetDeal { .. } => "get_deal",
            Action::Wait { .. } => "wait",
            Action::Branch { .. } => "branch",
        }
    }
}

/// One step of a workflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique in the graph: letters, digits, `_` and `-`.
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub action: Action,
    /// The step after this one (not for branches); the run ends without.
    #[serde(default)]
    pub next: Option<String>,
    /// Tries before the step fails the run (1 to 10; 3 when absent).
    #[serde(default)]
    pub max_attempts: Option<i64>,
}

/// A workflow's steps: a directed acyclic graph from `entry`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Graph {
    pub entry: String,
    pub steps: Vec<Step>,
}

/// A workflow: its settings and the version new runs use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Workflow {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub status: WorkflowStatus,
    /// A JSON Schema (an object's properties and required names) that a
    /// manual trigger's payload must satisfy.
    pub input_schema: Value,
    pub reenrollment: Reenrollment,
    /// Runs of this workflow at once; further runs queue.
    pub concurrency_limit: i64,
    /// Receives signed run lifecycle events (started, waiting, succeeded, failed).
    pub notify_url: Option<String>,
    /// The published version new runs start on (none before publishing).
    pub published_version: Option<i64>,
    /// The newest version (the draft when it is newer than the published one).
    pub latest_version: i64,
    pub template_slug: Option<String>,
    pub source: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One immutable version of a workflow's graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct WorkflowVersion {
    pub workflow_id: Uuid,
    pub version: i64,
    pub state: VersionState,
    pub graph: Graph,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub archived_at: Option<DateTime<Utc>>,
}

/// A workflow with its newest version's graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct WorkflowDetail {
    #[serde(flatten)]
    pub workflow: Workflow,
    pub graph: Graph,
    pub versions: Vec<WorkflowVersion>,
    pub triggers: Vec<ExternalTrigger>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWorkflow {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub graph: Graph,
    /// `{"type": "object", "properties": {…}, "required": […]}`; any object when absent.
    #[serde(default)]
    pub input_schema: Option<Value>,
    #[serde(default)]
    pub reenrollment: Option<Reenrollment>,
    /// 1 to 1,000; 10 when absent.
    #[serde(default)]
    pub concurrency_limit: Option<i64>,
    #[serde(default)]
    pub notify_url: Option<String>,
    /// Publish version 1 at once (runs can start); a draft when absent.
    #[serde(default)]
    pub publish: Option<bool>,
}

patch!(
    /// Changes to a workflow. A new `graph` makes a new draft version;
    /// running runs keep the version they started on.
    WorkflowPatch {
        name: required String,
        description: optional String,
        graph: required Graph,
        input_schema: required Value,
        reenrollment: required Reenrollment,
        concurrency_limit: required i64,
        notify_url: optional String,
        status: required WorkflowStatus,
    }
);

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkflowFilter {
    pub status: Option<WorkflowStatus>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// What saving a graph found wrong, naming the step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct GraphProblem {
    /// The step at fault (absent for problems of the whole graph).
    pub step_id: Option<String>,
    pub message: String,
}

text_enum!(
    /// Where a run stands.
    RunStatus {
    Queued => "queued",
    Running => "running",
    Waiting => "waiting",
    Paused => "paused",
    Succeeded => "succeeded",
    Failed => "failed",
    Cancelled => "cancelled",
});

impl RunStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled)
    }
}

text_enum!(
    /// How one attempt of a step ended (`waiting` while a wait runs).
    StepOutcome {
    Succeeded => "succeeded",
    Failed => "failed",
    Waiting => "waiting",
});

/// A run of a workflow, on the version it started on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Run {
    pub id: Uuid,
    pub workflow_id: Uuid,
    pub version: i64,
    pub status: RunStatus,
    /// `manual`, `webhook.received`, or the event that started it.
    pub trigger_type: String,
    /// The record the run is about (a lead, deal or invoice id), when it has one.
    pub subject_id: Option<String>,
    pub input: Value,
    /// The step the run is at (absent once it ended).
    pub current_step: Option<String>,
    /// When the run goes on (a wait's end, a retry's backoff).
    pub next_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One attempt of one step: what went in, what came out, how it ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct StepTrace {
    pub step_id: String,
    pub kind: String,
    pub attempt: i64,
    pub outcome: StepOutcome,
    pub input: Value,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A run with its per-step trace, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: Run,
    pub trace: Vec<StepTrace>,
}

/// A manual start: the payload is checked against the workflow's input schema.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TriggerInput {
    #[serde(default)]
    pub payload: Option<Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RunFilter {
    pub workflow_id: Option<Uuid>,
    pub status: Option<RunStatus>,
    pub trigger_type: Option<String>,
    /// Runs created at or after this time.
    pub created_from: Option<DateTime<Utc>>,
    /// Runs created before this time.
    pub created_to: Option<DateTime<Utc>>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A workflow's signing secret: it signs the webhooks its triggers
/// receive, its lifecycle events and its send_webhook steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct SigningSecret {
    pub workflow_id: Uuid,
    pub secret: String,
}

/// A gallery entry: a ready workflow with a trigger, made from typed inputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct WorkflowTemplate {
    pub slug: String,
    pub name: String,
    pub description: String,
    /// The event that starts it (`manual` for none).
    pub trigger: String,
    /// What `inputs` takes: a JSON Schema object with typed properties.
    pub inputs_schema: Value,
    /// The steps it makes, in order, as `id: kind`.
    pub steps: Vec<String>,
}

/// `create_workflow_from_template({template_slug, inputs})`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FromTemplate {
    pub template_slug: String,
    /// The template's inputs (see its `inputs_schema`).
    #[serde(default)]
    pub inputs: Map<String, Value>,
    /// The template's name when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Publish version 1 at once (its trigger starts runs); a draft when absent.
    #[serde(default)]
    pub publish: Option<bool>,
}
