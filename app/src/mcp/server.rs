//! `/mcp`: the registry served over MCP Streamable HTTP by rmcp, with no
//! session kept in memory (every request stands alone, so any number of
//! server processes can share one database), in the stateless 2026
//! protocol and for clients that still begin with the `initialize`
//! handshake.
//!
//! Authentication comes first, as for REST: the bearer API key becomes a
//! [`Ctx`] in the request's extensions before rmcp sees the request; the
//! tool handler reads it from the `http::request::Parts` rmcp passes on.

use std::sync::{Arc, LazyLock};

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult, PaginatedRequestParams, ServerCapabilities,
    ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::registry::{self, Access, Exit};
use crate::error::{current_request_id, error_value, AppError, RequestId, REQUEST_ID};
use crate::platform::auth::ctx_from_api_key;
use crate::platform::context::{AppState, Ctx, Via};
use crate::platform::rate_limit;

/// The MCP server of one request: the application state, nothing else.
#[derive(Clone)]
pub struct CorralMcp {
    state: AppState,
}

impl ServerHandler for CorralMcp {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("corral", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(
            "Corral is a lead-to-cash CRM. Each tool acts in the workspace of the API key you authenticate with; \
             writes take an optional idempotency_key that makes retries safe."
                .into(),
        );
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let tools = registry::operations()
            .iter()
            .map(|op| {
                let annotations = match op.access {
                    Access::Read => ToolAnnotations::new().read_only(true),
                    Access::Write { idempotent, destructive } => {
                        ToolAnnotations::new().read_only(false).idempotent(idempotent).destructive(destructive)
                    }
                };
                Tool::new(op.name, op.description, Arc::new((op.input_schema)())).with_annotations(annotations)
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(&self, request: CallToolRequestParams, context: RequestContext<RoleServer>) -> Result<CallToolResponse, McpError> {
        let Some(operation) = registry::find(&request.name) else {
            return Err(McpError::invalid_params(format!("there is no tool named {:?}", request.name), None));
        };
        // What the HTTP layers found out about the request: its key and id.
        let http = context.extensions.get::<axum::http::request::Parts>().map(|parts| &parts.extensions);
        let ctx = http
            .and_then(|extensions| extensions.get::<Ctx>())
            .cloned()
            .ok_or_else(|| McpError::internal_error("the request reached the tools without its API key", None))?;
        let request_id = http
            .and_then(|extensions| extensions.get::<RequestId>())
            .map(|id| id.0.clone())
            .unwrap_or_else(|| format!("req_{}", uuid::Uuid::now_v7().simple()));
        // The request's id, for the answer and the audit rows the call writes.
        let result = REQUEST_ID
            .scope(request_id, async {
                let bucket = format!("mcp:{}", ctx.api_key_id.map(|id| id.to_string()).unwrap_or_default());
                match CALLS.hit(&self.state.db, &bucket, self.state.config.mcp_calls_per_minute).await {
                    Ok(Ok(())) => {}
                    Ok(Err(wait)) => return rate_limited(wait),
                    Err(error) => return tool_error(error),
                }
                let outcome = match ctx.require(operation.scope) {
                    Ok(()) => (operation.call)(&self.state, &ctx, request.arguments.unwrap_or_default()).await,
                    Err(error) => Err(Exit::Error(error)),
                };
                match outcome {
                    Ok(value) | Err(Exit::Replay(value)) => CallToolResult::structured(value),
                    Err(Exit::Error(error)) => tool_error(error),
                }
            })
            .await;
        Ok(result.into())
    }
}

/// Tool calls per API key, per minute, across server processes.
static CALLS: LazyLock<rate_limit::SharedBudget> = LazyLock::new(rate_limit::SharedBudget::new);

/// A key over its call budget: the error shape with `retry_after` (seconds).
fn rate_limited(wait: std::time::Duration) -> CallToolResult {
    let retry_after = wait.as_secs().max(1);
    let message = format!("this API key made too many tool calls this minute; retry in {retry_after} seconds");
    let mut body = error_value("rate_limited", &message, None, current_request_id().as_deref());
    body["error"]["retry_after"] = json!(retry_after);
    CallToolResult::structured_error(body)
}

/// An operation's error as a tool error: the REST error shape, with
/// `isError: true`, so an agent reads the code, the message and the field.
fn tool_error(error: AppError) -> CallToolResult {
    if error.status().is_server_error() {
        tracing::error!(error = %error, "tool call failed");
    }
    CallToolResult::structured_error(error_value(error.code(), &error.public_message(), error.field(), current_request_id().as_deref()))
}

/// `/mcp`, authenticated by API key, stateless.
pub fn router(state: AppState, allowed_hosts: Vec<String>, shutdown: CancellationToken) -> axum::Router<AppState> {
    let mut config = StreamableHttpServerConfig::default();
    config.legacy_session_mode = false;
    config.json_response = true;
    config.sse_keep_alive = None;
    config.cancellation_token = shutdown;
    config.allowed_hosts = allowed_hosts;
    // Browsers send Origin; a page on another site must not drive an
    // agent's key through a user's browser.
    config = config.enforce_origin_validation();
    config.allowed_origins = vec!["http://localhost:*".into(), "http://127.0.0.1:*".into()];
    let service_state = state.clone();
    let service = StreamableHttpService::new(
        move || Ok(CorralMcp { state: service_state.clone() }),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    axum::Router::new().nest_service("/mcp", service).layer(axum::middleware::from_fn_with_state(state, authenticate))
}

/// The bearer API key of every MCP request; none or a bad one is a 401
/// with `WWW-Authenticate: Bearer`, before any MCP message is read.
async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let secret = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|secret| secret.trim().to_string());
    let Some(secret) = secret else {
        return AppError::Unauthenticated("send your Corral API key as `Authorization: Bearer <key>`".into()).into_response();
    };
    match ctx_from_api_key(&state.db, &secret).await {
        Ok(mut ctx) => {
            ctx.via = Via::Mcp;
            request.extensions_mut().insert(ctx);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}
