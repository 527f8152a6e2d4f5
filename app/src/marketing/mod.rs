//! Marketing: brands and senders, campaigns, email sequences behind an
//! approval gate that freezes what was approved, the outbox that sends
//! them at most once, the suppression list and one-click unsubscribe,
//! tracking and rollups down to the ledger.

pub mod ads;
pub mod blog;
pub mod campaign_pages;
pub mod pages;
pub mod rollup_pages;
pub mod server_fns;
pub mod types;

#[cfg(feature = "ssr")]
pub mod attribution;
#[cfg(feature = "ssr")]
pub mod campaigns;
#[cfg(feature = "ssr")]
pub mod compliance;
#[cfg(feature = "ssr")]
pub mod copy;
#[cfg(feature = "ssr")]
pub mod gate;
#[cfg(feature = "ssr")]
pub mod outbox;
#[cfg(feature = "ssr")]
pub mod public;
#[cfg(feature = "ssr")]
pub mod rollups;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod senders;
#[cfg(feature = "ssr")]
pub mod sequences;

#[cfg(feature = "ssr")]
pub fn router() -> axum::Router<crate::platform::context::AppState> {
    routes::router().merge(ads::routes::router()).merge(blog::routes::router())
}

/// Starts the background work of this area: the outbox, the ad worker and
/// the blog publisher.
#[cfg(feature = "ssr")]
pub fn spawn_workers(db: crate::platform::db::Db, config: crate::platform::context::Config) -> Vec<tokio::task::JoinHandle<()>> {
    vec![
        outbox::spawn_worker(db.clone(), config.clone()),
        ads::jobs::spawn_worker(db.clone(), config.clone()),
        blog::jobs::spawn_worker(db, config),
    ]
}
