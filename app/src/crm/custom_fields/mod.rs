//! Declared custom fields of leads: a type that writes are checked against
//! and segment rules compare by, and an optional index per field.

pub mod pages;
pub mod server_fns;
pub mod types;

#[cfg(feature = "ssr")]
pub mod ops;
#[cfg(feature = "ssr")]
pub mod routes;
