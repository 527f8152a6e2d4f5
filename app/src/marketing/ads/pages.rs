//! Ad pages.
