//! CRM: companies, contacts, leads, deals.

pub mod companies;

#[cfg(feature = "ssr")]
pub fn router() -> axum::Router<crate::platform::context::AppState> {
    axum::Router::new().merge(companies::routes::router())
}
