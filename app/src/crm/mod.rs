//! CRM: companies, contacts, leads, deals.

pub mod activities;
pub mod companies;
pub mod contacts;
pub mod custom_fields;
pub mod dashboard;
pub mod deals;
pub mod leads;
pub mod search;

#[cfg(feature = "ssr")]
pub mod fields;
#[cfg(feature = "ssr")]
pub mod repair;

#[cfg(feature = "ssr")]
pub fn router() -> axum::Router<crate::platform::context::AppState> {
    axum::Router::new()
        .merge(companies::routes::router())
        .merge(contacts::routes::router())
        .merge(deals::routes::router())
        .merge(custom_fields::routes::router())
        .merge(leads::routes::router())
        .merge(activities::routes::router())
        .merge(search::ssr::routes::router())
        .merge(dashboard::ssr::router())
}
