//! The integration suite: one binary (one compile, one link), a module per
//! domain. Each test gets a fresh database on the backend chosen by
//! `CORRAL_TEST_BACKEND` and the real application on a random port.

mod common;

mod audience;
mod bounds;
mod companies;
mod crm;
mod platform;
mod revenue;
mod revenue_properties;
mod rules;
mod schema;
