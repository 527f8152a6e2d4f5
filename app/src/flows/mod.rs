//! Flows: workflows of steps (agent calls, connector actions, waits,
//! branches) as a directed acyclic graph, saved as immutable versions that
//! are checked before they are saved, and runs that a durable engine moves
//! step by step with a per-step trace.

pub mod pages;
pub mod server_fns;
pub mod types;

#[cfg(feature = "ssr")]
pub mod events;
#[cfg(feature = "ssr")]
pub mod graph;
#[cfg(feature = "ssr")]
pub mod retention;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod runs;
#[cfg(feature = "ssr")]
pub mod templates;
#[cfg(feature = "ssr")]
pub mod triggers;
#[cfg(feature = "ssr")]
pub mod webhooks;
#[cfg(feature = "ssr")]
pub mod workflows;

#[cfg(feature = "ssr")]
pub fn router() -> axum::Router<crate::platform::context::AppState> {
    routes::router()
}

/// Starts the background work of this area: the flow worker.
#[cfg(feature = "ssr")]
pub fn spawn_workers(db: crate::platform::db::Db, config: crate::platform::context::Config) -> Vec<tokio::task::JoinHandle<()>> {
    vec![runs::spawn_worker(db, config)]
}
