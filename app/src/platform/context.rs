//! Server state and the acting principal of a request.

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::platform::db::Db;
use crate::platform::types::{Role, Scope};

#[derive(Clone, Debug)]
pub struct Config {
    /// Set the `Secure` attribute on the session cookie (behind HTTPS).
    pub secure_cookies: bool,
    /// The largest JSON request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Where uploads wait for their import job.
    pub data_dir: std::path::PathBuf,
    /// The largest import upload accepted, in bytes.
    pub max_import_bytes: u64,
    /// Records per import transaction (and per progress step).
    pub import_batch: usize,
    /// A pause between import batches, to leave the database some air
    /// for interactive users during a huge import (zero: none).
    pub import_pause: std::time::Duration,
    /// How long a job worker's claim lasts without renewal; a crashed
    /// worker's job is taken over after this.
    pub job_lease: std::time::Duration,
    /// Public form submissions allowed per IP address and form per minute.
    pub form_submissions_per_minute: u32,
    /// Run the background workers (imports, segment refresh) in this process.
    pub run_workers: bool,
    /// Let enrichment connectors call loopback and private addresses (for
    /// an enrichment service inside your own network); off by default.
    pub enrichment_private_networks: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for the
    /// public forms' per-IP rate limit); empty: the header is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a request may take to produce its response head before it
    /// is answered 503 (import uploads are exempt).
    pub request_timeout: std::time::Duration,
    /// Host names (or `host:port`) the MCP endpoint answers for; requests
    /// naming another `Host` are refused (DNS rebinding). Loopback by
    /// default: a public deployment lists its own name.
    pub mcp_allowed_hosts: Vec<String>,
    /// Tool calls one API key may make per minute (per server process).
    pub mcp_calls_per_minute: u32,
    /// The address recipients reach this server at, for the links in
    /// emails (one-click unsubscribe, click and open tracking).
    pub public_url: String,
    /// How long a "day" of a sequence's cadence is: a day, except in
    /// demos and tests that want to watch a sequence run.
    pub sequence_day: std::time::Duration,
    /// How often an idle outbox worker looks for due messages.
    pub outbox_poll: std::time::Duration,
    /// Messages one worker claims per round (per sender).
    pub outbox_batch: usize,
    /// How often an idle flow worker looks for due runs (a run's next step
    /// follows at once; this is the delay of a new run or an ended wait).
    pub flow_poll: std::time::Duration,
    /// How often each running ad campaign's daily metrics are synced.
    pub ads_sync: std::time::Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            max_body_bytes: 1024 * 1024,
            data_dir: std::path::PathBuf::from("data"),
            max_import_bytes: 10 * 1024 * 1024 * 1024,
            import_batch: 500,
            import_pause: std::time::Duration::ZERO,
            job_lease: std::time::Duration::from_secs(30),
            form_submissions_per_minute: 20,
            run_workers: true,
            enrichment_private_networks: false,
            trusted_proxies: Vec::new(),
            request_timeout: std::time::Duration::from_secs(60),
            mcp_allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            mcp_calls_per_minute: 600,
            public_url: "http://localhost:3000".into(),
            sequence_day: std::time::Duration::from_secs(86_400),
            outbox_poll: std::time::Duration::from_secs(1),
            outbox_batch: 100,
            flow_poll: std::time::Duration::from_millis(200),
            ads_sync: std::time::Duration::from_secs(3600),
        }
    }
}

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub leptos_options: LeptosOptions,
    pub config: Config,
    /// What each domain puts into a new workspace (wired by the server).
    pub seeders: &'static [crate::platform::seeding::Seeder],
    /// What each domain does when a workspace's settings change.
    pub workspace_hooks: &'static [crate::platform::seeding::WorkspaceHook],
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Who is acting, in which workspace, with what rights. Every domain
/// operation takes one, and every query it runs is scoped by
/// `workspace_id`.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub workspace_id: Uuid,
    pub user_id: Option<Uuid>,
    pub api_key_id: Option<Uuid>,
    /// The member's role; `None` when acting through an API key.
    pub role: Option<Role>,
    pub scopes: Vec<Scope>,
    /// The way the request came in, for defaults that depend on it (a
    /// lead's source) and for the audit trail.
    pub via: Via,
}

text_enum!(
    /// How an operation was called.
    Via {
        /// The web app (server functions, or REST with a session cookie).
        Ui => "ui",
        /// REST with an API key.
        Api => "api",
        /// An MCP tool call with an API key.
        Mcp => "mcp",
        /// Corral on its own: imports, forms, sweeps, maintenance.
        /// A CSV or JSON import.
        Import => "import",
        /// A public capture form submission.
        Form => "form",
        /// A workflow step.
        Flow => "flow",
        System => "system",
    }
);

impl Ctx {
    /// Corral acting on its own in a workspace (segment sweeps, public form
    /// submissions, housekeeping): CRM rights, no user or key.
    pub fn system(workspace_id: Uuid) -> Ctx {
        Ctx { workspace_id, user_id: None, api_key_id: None, role: None, scopes: vec![Scope::CrmRead, Scope::CrmWrite], via: Via::System }
    }

    /// Corral repairing a workspace on its operator's command (`corral
    /// repair-bounds`): every scope, no user or key.
    /// Corral acting for a public capture form of the workspace.
    pub fn form(workspace_id: Uuid) -> Ctx {
        Ctx { via: Via::Form, ..Ctx::system(workspace_id) }
    }

    /// The provenance a record created by this caller carries: how it
    /// came in, and the API key when one wrote it.
    pub fn record_source(&self) -> &'static str {
        self.via.as_str()
    }

    pub fn maintenance(workspace_id: Uuid) -> Ctx {
        Ctx { workspace_id, user_id: None, api_key_id: None, role: None, scopes: Scope::ALL.to_vec(), via: Via::System }
    }

    pub fn for_member(workspace_id: Uuid, user_id: Uuid, role: Role) -> Ctx {
        Ctx { workspace_id, user_id: Some(user_id), api_key_id: None, role: Some(role), scopes: scopes_for_role(role), via: Via::Ui }
    }

    /// The principal that idempotency keys are scoped to.
    pub fn actor_id(&self) -> Uuid {
        self.api_key_id.or(self.user_id).unwrap_or(self.workspace_id)
    }

    /// A write scope implies the read scope of its area: writing without
    /// reading back is not a useful grant.
    pub fn require(&self, scope: Scope) -> AppResult<()> {
        let implied_by = match scope {
            Scope::CrmRead => Some(Scope::CrmWrite),
            Scope::MarketingRead => Some(Scope::MarketingWrite),
            Scope::FlowsRead => Some(Scope::FlowsWrite),
            Scope::RevenueRead => Some(Scope::RevenueWrite),
            _ => None,
        };
        if self.scopes.contains(&scope) || implied_by.is_some_and(|w| self.scopes.contains(&w)) {
            return Ok(());
        }
        Err(AppError::Forbidden(match self.api_key_id {
            Some(_) => format!("this API key lacks the {} scope", scope.as_str()),
            None => format!("your role does not allow {}", scope.as_str()),
        }))
    }

    /// Managing members, invitations and API keys takes a signed-in owner or
    /// admin; an API key cannot mint other keys.
    pub fn require_admin(&self) -> AppResult<()> {
        match self.role {
            Some(role) if role.can_administer() => Ok(()),
            Some(_) => Err(AppError::Forbidden("only owners and admins can do this".into())),
            None => Err(AppError::Forbidden("this operation needs a signed-in owner or admin, not an API key".into())),
        }
    }
}

/// Approvers review and sign off; they read everything and write only to
/// marketing (where approvals live).
pub fn scopes_for_role(role: Role) -> Vec<Scope> {
    match role {
        Role::Owner | Role::Admin => Scope::ALL.to_vec(),
        Role::Member => Scope::ALL.iter().copied().filter(|s| *s != Scope::MarketingApprove).collect(),
        Role::Approver => {
            vec![Scope::CrmRead, Scope::RevenueRead, Scope::MarketingRead, Scope::MarketingWrite, Scope::MarketingApprove, Scope::FlowsRead]
        }
    }
}
