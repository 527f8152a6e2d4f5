//! Blog server functions.
