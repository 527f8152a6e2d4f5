//! Server functions for accounts and settings: thin wrappers that resolve
//! the session and call the same operations as the REST API.

// A server function takes one argument per input of the form that posts
// to it, so a long form means a long signature (here and in the client
// stub the macro writes, which no item attribute reaches).
#![allow(clippy::too_many_arguments)]

use crate::api_error::ApiError;
#[cfg(feature = "ssr")]
use crate::platform::transaction::WriteTx;
use leptos::prelude::*;
use uuid::Uuid;

use crate::platform::types as t;
use crate::platform::types::{ApiKey, CreatedApiKey, Invitation, Member};
#[cfg(feature = "ssr")]
use crate::platform::types::{Role, Scope};

#[cfg(feature = "ssr")]
pub mod ssr {
    use leptos::prelude::*;
    use tower_sessions::Session;

    use crate::api_error::ApiError;
    use crate::platform::auth::{ctx_from_session, SignedIn};
    use crate::platform::context::{AppState, Ctx};

    pub fn state() -> Result<AppState, ApiError> {
        use_context::<AppState>().ok_or_else(|| ApiError::new("internal_error", "application state missing"))
    }

    pub async fn session() -> Result<Session, ApiError> {
        leptos_axum::extract::<Session>().await.map_err(|e| ApiError::new("internal_error", e.to_string()))
    }

    /// The signed-in member's context; a server function without one fails
    /// as "sign in".
    pub async fn member() -> Result<(AppState, Ctx), ApiError> {
        let state = state()?;
        if let Some(member) = page_member() {
            return Ok((state, member.ctx));
        }
        let session = session().await?;
        let ctx = ctx_from_session(&state.db, &session).await?;
        Ok((state, ctx))
    }

    /// While a page is rendered on the server, its member as read once for
    /// the whole request (see `SignedIn`); `None` for a server function
    /// called from the browser, which reads its own.
    pub fn page_member() -> Option<SignedIn> {
        use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<SignedIn>().cloned())
    }

    /// How the member's workspace writes numbers: amounts typed into forms
    /// are read the way pages show them.
    pub async fn member_formats(state: &AppState, ctx: &Ctx) -> Result<crate::platform::formats::Formats, ApiError> {
        Ok(crate::platform::formats::ssr::of_workspace(&state.db, ctx.workspace_id).await?)
    }

    /// Form fields arrive as text; an empty or blank one means "none".
    pub fn blank_to_none(value: Option<String>) -> Option<String> {
        value.filter(|v| !v.trim().is_empty())
    }

    /// A text field holding a list (`vip, webinar`): trimmed, blanks dropped.
    pub fn split_list(text: &str, separators: &[char]) -> Vec<String> {
        text.split(separators).map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect()
    }

    /// A picker's value: blank is "none", anything else must be an id.
    pub fn optional_id(value: Option<String>, field: &str) -> Result<Option<uuid::Uuid>, ApiError> {
        match blank_to_none(value) {
            Some(v) => uuid::Uuid::parse_str(v.trim()).map(Some).map_err(|_| ApiError::field(field, format!("choose a {}", label(field)))),
            None => Ok(None),
        }
    }

    /// A date field (`YYYY-MM-DD`); blank is "none".
    pub fn optional_date(value: Option<String>, field: &str) -> Result<Option<chrono::NaiveDate>, ApiError> {
        match blank_to_none(value) {
            Some(v) => chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                .map(Some)
                .map_err(|_| ApiError::field(field, format!("{} must be a date", label(field)))),
            None => Ok(None),
        }
    }

    /// A whole-number field; blank is "none".
    pub fn optional_number(value: Option<String>, field: &str) -> Result<Option<i64>, ApiError> {
        match blank_to_none(value) {
            Some(v) => v.trim().parse().map(Some).map_err(|_| ApiError::field(field, format!("{} must be a whole number", label(field)))),
            None => Ok(None),
        }
    }

    /// How a form input is named in a message: `company_id` → "company".
    fn label(field: &str) -> String {
        field.trim_end_matches("_id").replace('_', " ")
    }
}

/// The signed-in user, or `None` for a visitor.
#[server(prefix = "/sf", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<t::CurrentUser>, ApiError> {
    if let Some(member) = ssr::page_member() {
        return Ok(Some(member.user));
    }
    let state = ssr::state()?;
    let session = ssr::session().await?;
    Ok(crate::platform::auth::signed_in(&state.db, &session).await.ok().map(|member| member.user))
}

/// The page frame's sidebar for the signed-in member; `None` when nobody
/// is signed in.
#[server(prefix = "/sf", endpoint = "navigation")]
pub async fn navigation() -> Result<Option<crate::platform::navigation::Navigation>, ApiError> {
    use crate::platform::auth::signed_in;
    let state = ssr::state()?;
    let member = match ssr::page_member() {
        Some(member) => member,
        None => match signed_in(&state.db, &ssr::session().await?).await {
            Ok(member) => member,
            Err(_) => return Ok(None),
        },
    };
    Ok(Some(crate::platform::navigation::ssr::navigation(&member)))
}

#[server(prefix = "/sf", endpoint = "onboarding")]
pub async fn onboarding() -> Result<crate::platform::sample_data::Onboarding, ApiError> {
    let (state, ctx) = ssr::member().await?;
    let mut tx = state.db.begin_read().await?;
    let onboarding = crate::platform::sample_data::ssr::onboarding(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(onboarding)
}

#[server(prefix = "/sf", endpoint = "load_sample_data")]
pub async fn load_sample_data() -> Result<crate::platform::sample_data::SampleDataSummary, ApiError> {
    let (state, ctx) = ssr::member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let summary = crate::platform::sample_data::ssr::load(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(summary)
}

#[server(prefix = "/sf", endpoint = "remove_sample_data")]
pub async fn remove_sample_data() -> Result<crate::platform::sample_data::SampleDataSummary, ApiError> {
    let (state, ctx) = ssr::member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let summary = crate::platform::sample_data::ssr::remove(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(summary)
}

#[server(prefix = "/sf", endpoint = "sign_up")]
pub async fn sign_up(name: String, email: String, password: String, workspace_name: String) -> Result<(), ApiError> {
    use crate::platform::{accounts, routes::start_session};
    let state = ssr::state()?;
    let input = t::SignUp { name, email, password, workspace_name };
    let mut tx = WriteTx::begin(&state.db).await?;
    let signed_in = accounts::sign_up(&mut tx, state.seeders, input).await?;
    tx.commit().await?;
    start_session(&ssr::session().await?, signed_in).await?;
    // The owner of a new workspace starts on the dashboard, which offers
    // the sample data and the first steps.
    leptos_axum::redirect(Role::Owner.home_path());
    Ok(())
}

#[server(prefix = "/sf", endpoint = "log_in")]
pub async fn log_in(email: String, password: String) -> Result<(), ApiError> {
    use crate::platform::{accounts, routes::start_session};
    let state = ssr::state()?;
    let input = t::LogIn { email, password };
    let mut tx = state.db.begin_read().await?;
    let signed_in = accounts::log_in(&mut tx, input).await?;
    let home = accounts::role_of(&mut tx, &signed_in).await?.home_path();
    tx.commit().await?;
    start_session(&ssr::session().await?, signed_in).await?;
    leptos_axum::redirect(home);
    Ok(())
}

#[server(prefix = "/sf", endpoint = "log_out")]
pub async fn log_out() -> Result<(), ApiError> {
    let session = ssr::session().await?;
    session.flush().await.map_err(|e| ApiError::new("internal_error", e.to_string()))?;
    leptos_axum::redirect("/login");
    Ok(())
}

#[server(prefix = "/sf", endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String, name: String, password: String) -> Result<(), ApiError> {
    use crate::platform::{accounts, routes::start_session};
    let state = ssr::state()?;
    let input = t::AcceptInvitation { token, name, password };
    let mut tx = WriteTx::begin(&state.db).await?;
    let signed_in = accounts::accept_invitation(&mut tx, input).await?;
    let home = accounts::role_of(&mut tx, &signed_in).await?.home_path();
    tx.commit().await?;
    start_session(&ssr::session().await?, signed_in).await?;
    leptos_axum::redirect(home);
    Ok(())
}

#[server(prefix = "/sf", endpoint = "list_members")]
pub async fn list_members() -> Result<Vec<Member>, ApiError> {
    let (state, ctx) = ssr::member().await?;
    let mut tx = state.db.begin_read().await?;
    let members = crate::platform::accounts::list_members(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(members)
}

#[server(prefix = "/sf", endpoint = "list_invitations")]
pub async fn list_invitations() -> Result<Vec<Invitation>, ApiError> {
    let (state, ctx) = ssr::member().await?;
    let mut tx = state.db.begin_read().await?;
    let invitations = crate::platform::accounts::list_invitations(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(invitations)
}

#[server(prefix = "/sf", endpoint = "invite_member")]
pub async fn invite_member(email: String, role: String) -> Result<Invitation, ApiError> {
    let (state, ctx) = ssr::member().await?;
    let role = Role::parse(&role).ok_or_else(|| ApiError::field("role", "choose a role"))?;
    let input = t::NewInvitation { email, role };
    let mut tx = WriteTx::begin(&state.db).await?;
    let invitation = crate::platform::accounts::invite(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(invitation)
}

#[server(prefix = "/sf", endpoint = "list_api_keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKey>, ApiError> {
    let (state, ctx) = ssr::member().await?;
    let mut tx = state.db.begin_read().await?;
    let api_keys = crate::platform::accounts::list_api_keys(&mut tx, &ctx).await?;
    tx.commit().await?;
    Ok(api_keys)
}

/// Each scope is its own checkbox, named after the scope with `_` for `:`.
#[server(prefix = "/sf", endpoint = "create_api_key")]
pub async fn create_api_key(
    name: String,
    crm_read: Option<String>,
    crm_write: Option<String>,
    revenue_read: Option<String>,
    revenue_write: Option<String>,
    marketing_read: Option<String>,
    marketing_write: Option<String>,
    marketing_approve: Option<String>,
    flows_read: Option<String>,
    flows_write: Option<String>,
) -> Result<CreatedApiKey, ApiError> {
    let (state, ctx) = ssr::member().await?;
    let scopes = [
        (crm_read, Scope::CrmRead),
        (crm_write, Scope::CrmWrite),
        (revenue_read, Scope::RevenueRead),
        (revenue_write, Scope::RevenueWrite),
        (marketing_read, Scope::MarketingRead),
        (marketing_write, Scope::MarketingWrite),
        (marketing_approve, Scope::MarketingApprove),
        (flows_read, Scope::FlowsRead),
        (flows_write, Scope::FlowsWrite),
    ]
    .into_iter()
    .filter_map(|(checked, scope)| checked.map(|_| scope))
    .collect();
    let input = t::NewApiKey { name, scopes };
    let mut tx = WriteTx::begin(&state.db).await?;
    let api_key = crate::platform::accounts::create_api_key(&mut tx, &ctx, input).await?;
    tx.commit().await?;
    Ok(api_key)
}

#[server(prefix = "/sf", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(id: Uuid) -> Result<ApiKey, ApiError> {
    let (state, ctx) = ssr::member().await?;
    let mut tx = WriteTx::begin(&state.db).await?;
    let api_key = crate::platform::accounts::revoke_api_key(&mut tx, &ctx, id).await?;
    tx.commit().await?;
    Ok(api_key)
}

/// The workspace's settings and the time zones it may choose from.
#[server(prefix = "/sf", endpoint = "load_workspace_settings")]
pub async fn load_workspace_settings() -> Result<t::WorkspaceSettings, ApiError> {
    let (state, ctx) = ssr::member().await?;
    let mut tx = state.db.begin_read().await?;
    let workspace = crate::platform::accounts::get_workspace(&mut tx, &ctx).await?;
    tx.commit().await?;
    let time_zones = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name().to_string()).collect();
    Ok(t::WorkspaceSettings { workspace, time_zones, can_change: ctx.require_admin().is_ok() })
}

#[server(prefix = "/sf", endpoint = "update_workspace_settings")]
pub async fn update_workspace_settings(
    name: String,
    time_zone: String,
    locale: String,
    flow_run_retention_days: Option<String>,
) -> Result<t::Workspace, ApiError> {
    let (state, ctx) = ssr::member().await?;
    let retention = match ssr::blank_to_none(flow_run_retention_days) {
        Some(days) => Some(days.trim().parse::<i64>().map_err(|_| ApiError::field("flow_run_retention_days", "a number of days"))?),
        None => None,
    };
    let patch =
        t::WorkspacePatch { name: Some(name), time_zone: Some(time_zone), locale: Some(locale), flow_run_retention_days: Some(retention) };
    let mut tx = WriteTx::begin(&state.db).await?;
    let workspace = crate::platform::accounts::update_workspace(&mut tx, &ctx, state.workspace_hooks, patch).await?;
    tx.commit().await?;
    Ok(workspace)
}
