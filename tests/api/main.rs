//! All integration tests in one binary (one link, one parallel run).

mod admin;
mod auth;
mod cache;
mod events;
mod foundation;
#[allow(dead_code, reason = "helpers are shared by test modules; not every one uses all")]
mod helpers;
mod outage;
mod search;
mod store;
