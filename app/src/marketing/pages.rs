//! Marketing pages.
