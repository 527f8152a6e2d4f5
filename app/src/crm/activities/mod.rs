pub mod pages;
pub mod types;

#[cfg(feature = "ssr")]
pub mod ops;
#[cfg(feature = "ssr")]
pub mod routes;
