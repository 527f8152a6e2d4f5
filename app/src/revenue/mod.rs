//! Revenue: invoices with line items, payments, the chart of accounts and
//! a double-entry journal with its ledger views.

pub mod pages;
pub mod server_fns;
pub mod types;

#[cfg(feature = "ssr")]
pub mod invoices;
#[cfg(feature = "ssr")]
pub mod ledger;
#[cfg(feature = "ssr")]
pub mod repair;
#[cfg(feature = "ssr")]
pub mod routes;

#[cfg(feature = "ssr")]
pub fn router() -> axum::Router<crate::platform::context::AppState> {
    routes::router()
}
