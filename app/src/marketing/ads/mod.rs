//! Ads: ad accounts on Google, LinkedIn and Meta, ad campaigns with
//! creative variants behind the marketing approval gate, the hashed
//! audience hand-off, the worker that talks to the platforms, and daily
//! spend.

pub mod pages;
pub mod server_fns;
pub mod types;

#[cfg(feature = "ssr")]
pub mod accounts;
#[cfg(feature = "ssr")]
pub mod audience;
#[cfg(feature = "ssr")]
pub mod campaigns;
#[cfg(feature = "ssr")]
pub mod creatives;
#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod platforms;
#[cfg(feature = "ssr")]
pub mod routes;
