//! Audience: static lists and rule-based segments, streamed bulk imports,
//! CSV export, capture forms with public submissions, and enrichment.

pub mod pages;
pub mod rules;
pub mod server_fns;
pub mod types;

#[cfg(feature = "ssr")]
pub mod enrichment;
#[cfg(feature = "ssr")]
pub mod export;
#[cfg(feature = "ssr")]
pub mod forms;
#[cfg(feature = "ssr")]
pub mod import_source;
#[cfg(feature = "ssr")]
pub mod imports;
#[cfg(feature = "ssr")]
pub mod lists;
#[cfg(feature = "ssr")]
pub mod routes;

#[cfg(feature = "ssr")]
pub fn router() -> axum::Router<crate::platform::context::AppState> {
    routes::router()
}

/// Starts the background work of this area: the import worker and the
/// periodic segment refresh.
#[cfg(feature = "ssr")]
pub fn spawn_workers(db: crate::platform::db::Db, config: crate::platform::context::Config) -> Vec<tokio::task::JoinHandle<()>> {
    vec![imports::spawn_worker(db.clone(), config), lists::spawn_segment_refresher(db, std::time::Duration::from_secs(60))]
}
