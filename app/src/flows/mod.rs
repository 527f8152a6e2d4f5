//! Flows: workflows of steps (agent calls, connector actions, waits,
//! branches) as a directed acyclic graph, saved as immutable versions that
//! are checked before they are saved.

pub mod types;

#[cfg(feature = "ssr")]
pub mod events;
#[cfg(feature = "ssr")]
pub mod graph;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod workflows;

#[cfg(feature = "ssr")]
pub fn router() -> axum::Router<crate::platform::context::AppState> {
    routes::router()
}
