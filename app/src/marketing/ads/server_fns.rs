//! Ad server functions.
