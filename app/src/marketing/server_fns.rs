//! Marketing server functions.
