//! Server functions for accounts and settings: thin wrappers that resolve
//! the session and call the same operations as the REST API.

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

    use crate::error::AppError;
    use crate::platform::auth::ctx_from_session;
    use crate::platform::context::{AppState, Ctx};

    pub fn state() -> Result<AppState, ServerFnError> {
        use_context::<AppState>().ok_or_else(|| ServerFnError::new("application state missing"))
    }

    pub async fn session() -> Result<Session, ServerFnError> {
        leptos_axum::extract::<Session>().await.map_err(|e| ServerFnError::new(e.to_string()))
    }

    /// The signed-in member's context; a server function without one fails
    /// as "sign in".
    pub async fn member() -> Result<(AppState, Ctx), ServerFnError> {
        let state = state()?;
        let session = session().await?;
        let ctx = ctx_from_session(&state.db, &session).await?;
        Ok((state, ctx))
    }

    /// Runs an operation in a write transaction, committing only on success.
    pub async fn in_write<T>(
        state: &AppState,
        op: impl for<'t> FnOnce(&'t mut crate::platform::db::Tx) -> crate::platform::http::BoxFuture<'t, Result<T, AppError>>,
    ) -> Result<T, ServerFnError> {
        let mut tx = state.db.begin().await.map_err(|e| AppError::from(e).into_server_fn_error())?;
        match op(&mut tx).await {
            Ok(value) => {
                tx.commit().await.map_err(|e| AppError::from(e).into_server_fn_error())?;
                Ok(value)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e.into_server_fn_error())
            }
        }
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
    pub fn optional_id(value: Option<String>, what: &str) -> Result<Option<uuid::Uuid>, ServerFnError> {
        match blank_to_none(value) {
            Some(v) => uuid::Uuid::parse_str(v.trim()).map(Some).map_err(|_| ServerFnError::new(format!("choose a {what}"))),
            None => Ok(None),
        }
    }

    /// A date field (`YYYY-MM-DD`); blank is "none".
    pub fn optional_date(value: Option<String>, what: &str) -> Result<Option<chrono::NaiveDate>, ServerFnError> {
        match blank_to_none(value) {
            Some(v) => chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                .map(Some)
                .map_err(|_| ServerFnError::new(format!("{what} must be a date"))),
            None => Ok(None),
        }
    }

    /// A whole-number field; blank is "none".
    pub fn optional_number(value: Option<String>, what: &str) -> Result<Option<i64>, ServerFnError> {
        match blank_to_none(value) {
            Some(v) => v.trim().parse().map(Some).map_err(|_| ServerFnError::new(format!("{what} must be a whole number"))),
            None => Ok(None),
        }
    }

    pub async fn in_read<T>(
        state: &AppState,
        op: impl for<'t> FnOnce(&'t mut crate::platform::db::Tx) -> crate::platform::http::BoxFuture<'t, Result<T, AppError>>,
    ) -> Result<T, ServerFnError> {
        let mut tx = state.db.begin_read().await.map_err(|e| AppError::from(e).into_server_fn_error())?;
        let result = op(&mut tx).await;
        let _ = tx.commit().await;
        result.map_err(AppError::into_server_fn_error)
    }
}

/// The signed-in user, or `None` for a visitor.
#[server(prefix = "/sf", endpoint = "current_user")]
pub async fn current_user() -> Result<Option<t::CurrentUser>, ServerFnError> {
    use crate::platform::{accounts, auth::ctx_from_session};
    let state = ssr::state()?;
    let session = ssr::session().await?;
    let Ok(ctx) = ctx_from_session(&state.db, &session).await else { return Ok(None) };
    ssr::in_read(&state, move |tx| Box::pin(async move { accounts::current_user(tx, &ctx).await })).await.map(Some)
}

#[server(prefix = "/sf", endpoint = "sign_up")]
pub async fn sign_up(name: String, email: String, password: String, workspace_name: String) -> Result<(), ServerFnError> {
    use crate::platform::{accounts, routes::start_session};
    let state = ssr::state()?;
    let input = t::SignUp { name, email, password, workspace_name };
    let signed_in = ssr::in_write(&state, move |tx| Box::pin(async move { accounts::sign_up(tx, input).await })).await?;
    start_session(&ssr::session().await?, signed_in).await?;
    leptos_axum::redirect("/companies");
    Ok(())
}

#[server(prefix = "/sf", endpoint = "log_in")]
pub async fn log_in(email: String, password: String) -> Result<(), ServerFnError> {
    use crate::platform::{accounts, routes::start_session};
    let state = ssr::state()?;
    let input = t::LogIn { email, password };
    let signed_in = ssr::in_read(&state, move |tx| Box::pin(async move { accounts::log_in(tx, input).await })).await?;
    start_session(&ssr::session().await?, signed_in).await?;
    leptos_axum::redirect("/companies");
    Ok(())
}

#[server(prefix = "/sf", endpoint = "log_out")]
pub async fn log_out() -> Result<(), ServerFnError> {
    let session = ssr::session().await?;
    session.flush().await.map_err(|e| ServerFnError::new(e.to_string()))?;
    leptos_axum::redirect("/login");
    Ok(())
}

#[server(prefix = "/sf", endpoint = "accept_invitation")]
pub async fn accept_invitation(token: String, name: String, password: String) -> Result<(), ServerFnError> {
    use crate::platform::{accounts, routes::start_session};
    let state = ssr::state()?;
    let input = t::AcceptInvitation { token, name, password };
    let signed_in = ssr::in_write(&state, move |tx| Box::pin(async move { accounts::accept_invitation(tx, input).await })).await?;
    start_session(&ssr::session().await?, signed_in).await?;
    leptos_axum::redirect("/companies");
    Ok(())
}

#[server(prefix = "/sf", endpoint = "list_members")]
pub async fn list_members() -> Result<Vec<Member>, ServerFnError> {
    let (state, ctx) = ssr::member().await?;
    ssr::in_read(&state, move |tx| Box::pin(async move { crate::platform::accounts::list_members(tx, &ctx).await })).await
}

#[server(prefix = "/sf", endpoint = "list_invitations")]
pub async fn list_invitations() -> Result<Vec<Invitation>, ServerFnError> {
    let (state, ctx) = ssr::member().await?;
    ssr::in_read(&state, move |tx| Box::pin(async move { crate::platform::accounts::list_invitations(tx, &ctx).await })).await
}

#[server(prefix = "/sf", endpoint = "invite_member")]
pub async fn invite_member(email: String, role: String) -> Result<Invitation, ServerFnError> {
    let (state, ctx) = ssr::member().await?;
    let role = Role::parse(&role).ok_or_else(|| ServerFnError::new("choose a role"))?;
    let input = t::NewInvitation { email, role };
    ssr::in_write(&state, move |tx| Box::pin(async move { crate::platform::accounts::invite(tx, &ctx, input).await })).await
}

#[server(prefix = "/sf", endpoint = "list_api_keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKey>, ServerFnError> {
    let (state, ctx) = ssr::member().await?;
    ssr::in_read(&state, move |tx| Box::pin(async move { crate::platform::accounts::list_api_keys(tx, &ctx).await })).await
}

/// Each scope is its own checkbox, named after the scope with `_` for `:`.
#[server(prefix = "/sf", endpoint = "create_api_key")]
#[allow(clippy::too_many_arguments)]
pub async fn create_api_key(
    name: String,
    crm_read: Option<String>,
    crm_write: Option<String>,
    revenue_read: Option<String>,
    revenue_write: Option<String>,
    marketing_read: Option<String>,
    marketing_write: Option<String>,
    flows_read: Option<String>,
    flows_write: Option<String>,
) -> Result<CreatedApiKey, ServerFnError> {
    let (state, ctx) = ssr::member().await?;
    let scopes = [
        (crm_read, Scope::CrmRead),
        (crm_write, Scope::CrmWrite),
        (revenue_read, Scope::RevenueRead),
        (revenue_write, Scope::RevenueWrite),
        (marketing_read, Scope::MarketingRead),
        (marketing_write, Scope::MarketingWrite),
        (flows_read, Scope::FlowsRead),
        (flows_write, Scope::FlowsWrite),
    ]
    .into_iter()
    .filter_map(|(checked, scope)| checked.map(|_| scope))
    .collect();
    let input = t::NewApiKey { name, scopes };
    ssr::in_write(&state, move |tx| Box::pin(async move { crate::platform::accounts::create_api_key(tx, &ctx, input).await })).await
}

#[server(prefix = "/sf", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(id: Uuid) -> Result<ApiKey, ServerFnError> {
    let (state, ctx) = ssr::member().await?;
    ssr::in_write(&state, move |tx| Box::pin(async move { crate::platform::accounts::revoke_api_key(tx, &ctx, id).await })).await
}
