pub mod pages;
pub mod server_fns;
pub mod types;

#[cfg(feature = "ssr")]
pub mod ops;
#[cfg(feature = "ssr")]
pub mod routes;
