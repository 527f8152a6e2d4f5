//! Blog pages.
