//! Wiring: configuration, database, sessions, the REST API under /api/v1,
//! the Leptos pages and server functions, and the layers around them.

pub mod demo;
pub mod layers;
pub mod listener;
pub mod repair;

use std::net::SocketAddr;

use app::error::AppError;
use app::platform::context::{AppState, Config};
use app::platform::db::{Db, DEFAULT_DATABASE_URL};
use app::platform::seeding::{Seeder, WorkspaceHook};
use app::{shell, App};
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::Router;
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{ExpiredDeletion, Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// What a new workspace starts with: each domain's defaults, in order.
pub const WORKSPACE_SEEDERS: &[Seeder] = &[app::crm::deals::stages::seed_workspace, app::revenue::ledger::seed_workspace];

/// Each domain's reaction to a change of a workspace's settings.
pub const WORKSPACE_HOOKS: &[WorkspaceHook] = &[app::marketing::sequences::workspace_changed];

/// Everything the server reads from its environment.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub database_url: String,
    pub site_addr: SocketAddr,
    pub site_root: String,
    pub app: Config,
}

impl ServerConfig {
    pub fn from_env() -> anyhow::Result<ServerConfig> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let flag = |name: &str| var(name).is_some_and(|v| v == "1" || v == "true");
        Ok(ServerConfig {
            database_url: var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
            site_addr: var("LEPTOS_SITE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into()).parse()?,
            site_root: var("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            app: Config {
                secure_cookies: flag("CORRAL_SECURE_COOKIES"),
                data_dir: var("CORRAL_DATA_DIR").unwrap_or_else(|| "data".into()).into(),
                enrichment_private_networks: flag("CORRAL_ENRICHMENT_PRIVATE_NETWORKS"),
                trusted_proxies: match var("CORRAL_TRUSTED_PROXIES") {
                    Some(list) => list
                        .split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(|p| p.parse().map_err(|_| anyhow::anyhow!("CORRAL_TRUSTED_PROXIES: {p:?} is not an IP address")))
                        .collect::<anyhow::Result<Vec<_>>>()?,
                    None => Vec::new(),
                },
                request_timeout: match var("CORRAL_REQUEST_TIMEOUT_SECS") {
                    Some(secs) => std::time::Duration::from_secs(
                        secs.parse()
                            .map_err(|_| anyhow::anyhow!("CORRAL_REQUEST_TIMEOUT_SECS: {secs:?} is not a whole number of seconds"))?,
                    ),
                    None => Config::default().request_timeout,
                },
                mcp_allowed_hosts: match var("CORRAL_MCP_ALLOWED_HOSTS") {
                    Some(hosts) => hosts.split(',').map(|h| h.trim().to_string()).filter(|h| !h.is_empty()).collect(),
                    None => Config::default().mcp_allowed_hosts,
                },
                mcp_calls_per_minute: match var("CORRAL_MCP_CALLS_PER_MINUTE") {
                    Some(n) => n.parse().map_err(|_| anyhow::anyhow!("CORRAL_MCP_CALLS_PER_MINUTE: {n:?} is not a whole number"))?,
                    None => Config::default().mcp_calls_per_minute,
                },
                public_url: var("CORRAL_PUBLIC_URL")
                    .map(|u| u.trim_end_matches('/').to_string())
                    .unwrap_or_else(|| format!("http://{}", var("LEPTOS_SITE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into()))),
                sequence_day: match var("CORRAL_SEQUENCE_DAY_SECONDS") {
                    Some(secs) => std::time::Duration::try_from_secs_f64(
                        secs.parse().map_err(|_| anyhow::anyhow!("CORRAL_SEQUENCE_DAY_SECONDS: {secs:?} is not a number of seconds"))?,
                    )?,
                    None => Config::default().sequence_day,
                },
                outbox_batch: match var("CORRAL_OUTBOX_BATCH") {
                    Some(n) => n.parse().map_err(|_| anyhow::anyhow!("CORRAL_OUTBOX_BATCH: {n:?} is not a whole number"))?,
                    None => Config::default().outbox_batch,
                },
                ads_sync: match var("CORRAL_ADS_SYNC_SECS") {
                    Some(n) => std::time::Duration::from_secs(
                        n.parse().map_err(|_| anyhow::anyhow!("CORRAL_ADS_SYNC_SECS: {n:?} is not a whole number of seconds"))?,
                    ),
                    None => Config::default().ads_sync,
                },
                flow_poll: match var("CORRAL_FLOW_POLL_MS") {
                    Some(n) => std::time::Duration::from_millis(
                        n.parse().map_err(|_| anyhow::anyhow!("CORRAL_FLOW_POLL_MS: {n:?} is not a whole number of milliseconds"))?,
                    ),
                    None => Config::default().flow_poll,
                },
                job_lease: match var("CORRAL_JOB_LEASE_SECS") {
                    Some(n) => std::time::Duration::from_secs(
                        n.parse().map_err(|_| anyhow::anyhow!("CORRAL_JOB_LEASE_SECS: {n:?} is not a whole number of seconds"))?,
                    ),
                    None => Config::default().job_lease,
                },
                ..Config::default()
            },
        })
    }

    pub fn leptos_options(&self) -> LeptosOptions {
        LeptosOptions::builder()
            .output_name("corral")
            .site_root(self.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(self.site_addr)
            .env(leptos::config::Env::PROD)
            .build()
    }
}

/// Connects, migrates, and builds the whole application router; the
/// background workers start with it.
pub async fn build(config: &ServerConfig) -> anyhow::Result<(Router, Db)> {
    let (router, db, _workers) = build_parts(config).await?;
    Ok((router, db))
}

/// [`build`], also handing back the background workers, for callers that
/// stop them (tests simulating a crash).
pub async fn build_parts(config: &ServerConfig) -> anyhow::Result<(Router, Db, Vec<tokio::task::JoinHandle<()>>)> {
    build_parts_with(config, Router::new()).await
}

/// [`build_parts`] with extra API routes (see [`router_with`]).
pub async fn build_parts_with(
    config: &ServerConfig,
    extra_api: Router<AppState>,
) -> anyhow::Result<(Router, Db, Vec<tokio::task::JoinHandle<()>>)> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let router = router_with(db.clone(), config, extra_api).await?;
    let workers = if config.app.run_workers {
        let mut workers = app::audience::spawn_workers(db.clone(), config.app.clone());
        workers.extend(app::marketing::spawn_workers(db.clone(), config.app.clone()));
        workers.extend(app::flows::spawn_workers(db.clone(), config.app.clone()));
        workers.push(app::platform::housekeeping::spawn(db.clone(), std::time::Duration::from_secs(600)));
        workers.push(app::crm::dashboard::ssr::spawn_count_folder(db.clone(), std::time::Duration::from_secs(30)));
        workers
    } else {
        Vec::new()
    };
    Ok((router, db, workers))
}

pub async fn router(db: Db, config: &ServerConfig) -> anyhow::Result<Router> {
    router_with(db, config, Router::new()).await
}

/// [`router`] with `extra_api` routes merged under /api/v1, inside every
/// layer: for tests that need a route misbehaving (a panic) on purpose.
pub async fn router_with(db: Db, config: &ServerConfig, extra_api: Router<AppState>) -> anyhow::Result<Router> {
    let leptos_options = config.leptos_options();
    let state = AppState {
        db: db.clone(),
        leptos_options: leptos_options.clone(),
        config: config.app.clone(),
        seeders: WORKSPACE_SEEDERS,
        workspace_hooks: WORKSPACE_HOOKS,
    };

    let api = Router::new()
        .merge(app::platform::routes::router())
        .merge(app::crm::router())
        .merge(app::revenue::router())
        .merge(app::audience::router())
        .merge(app::marketing::router())
        .merge(app::flows::router())
        .merge(extra_api)
        .fallback(api_not_found)
        .method_not_allowed_fallback(api_method_not_allowed)
        .layer(DefaultBodyLimit::max(config.app.max_body_bytes));

    let routes = generate_route_list(App);
    let router = Router::new()
        .nest("/api/v1", api)
        .merge(app::marketing::public::router())
        .merge(app::mcp::server::router(state.clone(), config.app.mcp_allowed_hosts.clone(), CancellationToken::new()))
        .leptos_routes(&state, routes, {
            let leptos_options = leptos_options.clone();
            move || shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state);
    // Inside the session layer (added below), so the session is known.
    let router = router.layer(middleware::from_fn({
        let db = db.clone();
        move |request, next| layers::page_member(db.clone(), request, next)
    }));

    let router = match &db {
        Db::Sqlite(pool) => {
            let store = SqliteStore::new(pool.clone());
            store.migrate().await?;
            with_sessions(router, store, &config.app)
        }
        Db::Postgres(pool) => {
            let store = PostgresStore::new(pool.clone());
            store.migrate().await?;
            with_sessions(router, store, &config.app)
        }
    };
    let timeout = config.app.request_timeout;
    // Outermost first: the request id is set before anything can fail, and
    // every error below it is put into the one shape on its way out.
    Ok(router
        .layer(middleware::from_fn(move |request, next| layers::time_limit(timeout, request, next)))
        .layer(CatchPanicLayer::custom(layers::panic_response))
        .layer(middleware::from_fn(layers::error_shape))
        .layer(middleware::from_fn(layers::request_id)))
}

/// Sessions live in the database, so they survive restarts and are shared
/// by every server process. The cookie is HttpOnly and SameSite=Lax, which
/// keeps other sites from riding it on writes.
fn with_sessions<S>(router: Router, store: S, config: &Config) -> Router
where
    S: SessionStore + ExpiredDeletion + Clone,
{
    tokio::spawn(store.clone().continuously_delete_expired(tokio::time::Duration::from_secs(3600)));
    let layer = SessionManagerLayer::new(store)
        .with_name("corral_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::days(14)));
    router.layer(layer)
}

async fn api_not_found() -> Response {
    AppError::NotFound("API endpoint").into_response()
}

async fn api_method_not_allowed() -> Response {
    app::error::error_response(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this method is not allowed on this endpoint",
        None,
    )
}
