//! Audience pages, a file per feature: lists and segments (with the
//! segment builder and its live count), imports (upload, mapping,
//! progress), capture forms, enrichment connectors.

mod enrichment;
mod forms;
mod imports;
mod lists;
mod segments;

pub use enrichment::EnrichmentPage;
pub use forms::{FormPage, FormsPage};
pub use imports::{ImportPage, ImportsPage};
pub use lists::{AudiencePage, ListPage, SegmentNewPage};
