//! The integration suite: one binary (one compile, one link), a module per
//! domain. Each test gets a fresh database on the backend chosen by
//! `CORRAL_TEST_BACKEND` and the real application on a random port.

// Table-driven cases are tuples of what a request sends and what it must
// get back; naming each tuple type would only move the columns elsewhere.
#![allow(clippy::type_complexity)]

mod common;

mod ads;
mod audience;
mod blog;
mod bounds;
mod companies;
mod crm;
mod custom_fields;
mod errors;
mod flow_triggers;
mod flows;
mod marketing;
mod mcp;
mod onboarding;
mod platform;
mod revenue;
mod revenue_properties;
mod rollups;
mod rules;
mod scale;
mod schema;
mod seed_contract;
