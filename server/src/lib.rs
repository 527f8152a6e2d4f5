//! Wiring: configuration, database, sessions, the REST API under /api/v1,
//! the Leptos pages and server functions, and request ids.

use std::net::SocketAddr;

use app::error::{AppError, REQUEST_ID};
use app::platform::context::{AppState, Config};
use app::platform::db::{Db, DEFAULT_DATABASE_URL};
use app::{shell, App};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_sessions::cookie::SameSite;
use tower_sessions::{ExpiredDeletion, Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};
use uuid::Uuid;

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
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let router = router(db.clone(), config).await?;
    let workers = if config.app.run_workers {
        let mut workers = app::audience::spawn_workers(db.clone(), config.app.clone());
        workers.push(app::platform::housekeeping::spawn(db.clone(), std::time::Duration::from_secs(600)));
        workers
    } else {
        Vec::new()
    };
    Ok((router, db, workers))
}

pub async fn router(db: Db, config: &ServerConfig) -> anyhow::Result<Router> {
    let leptos_options = config.leptos_options();
    let state = AppState { db: db.clone(), leptos_options: leptos_options.clone(), config: config.app.clone() };

    let api = Router::new()
        .merge(app::platform::routes::router())
        .merge(app::crm::router())
        .merge(app::revenue::router())
        .merge(app::audience::router())
        .fallback(api_not_found)
        .method_not_allowed_fallback(api_method_not_allowed)
        .layer(DefaultBodyLimit::max(config.app.max_body_bytes));

    let routes = generate_route_list(App);
    let router = Router::new()
        .nest("/api/v1", api)
        .leptos_routes(&state, routes, {
            let leptos_options = leptos_options.clone();
            move || shell(leptos_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state);

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
    Ok(router.layer(middleware::from_fn(request_id)))
}

/// Sessions live in the database, so they survive restarts and are shared
/// by every server process. The cookie is HttpOnly and SameSite=Lax, which
/// keeps other sites from riding it on writes.
fn with_sessions<S>(router: Router, store: S, config: &Config) -> Router
where
    S: SessionStore + ExpiredDeletion + Clone,
{
    tokio::spawn(
        store
            .clone()
            .continuously_delete_expired(tokio::time::Duration::from_secs(3600)),
    );
    let layer = SessionManagerLayer::new(store)
        .with_name("corral_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::days(14)));
    router.layer(layer)
}

/// Gives every request an id (or keeps a sane one the caller sent), puts it
/// on the response and makes it available to errors and audit rows.
async fn request_id(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .map(str::to_string)
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    let mut response = REQUEST_ID.scope(id.clone(), next.run(request)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

async fn api_not_found() -> Response {
    AppError::NotFound("API endpoint").into_response()
}

async fn api_method_not_allowed() -> Response {
    let mut response = AppError::BadRequest("this method is not allowed on this endpoint".into()).into_response();
    *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    response
}
