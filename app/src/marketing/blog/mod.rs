//! Blog: posts in Markdown behind the marketing approval gate, and publish
//! jobs to CMS connectors (WordPress, Ghost, Webflow, Sanity).

pub mod pages;
pub mod server_fns;
pub mod types;

#[cfg(feature = "ssr")]
pub mod cms;
#[cfg(feature = "ssr")]
pub mod connectors;
#[cfg(feature = "ssr")]
pub mod jobs;
#[cfg(feature = "ssr")]
pub mod posts;
#[cfg(feature = "ssr")]
pub mod routes;
