//! All integration tests in one binary (one link, one parallel run).

mod admin;
mod app_passwords;
mod auth;
mod backup;
mod cache;
mod caldav;
mod caldav_interop;
mod calendars;
mod dav_client;
mod events;
mod faults;
mod foundation;
#[allow(dead_code, reason = "helpers are shared by test modules; not every one uses all")]
mod helpers;
mod ical;
mod invalidation;
mod lifecycle;
mod mail;
mod migrate_db;
mod outage;
mod probe;
mod process;
mod public_links;
mod recurrence;
#[path = "../common/redis_cleanup.rs"]
mod redis_cleanup;
mod reminders;
mod scale;
mod search;
mod sharing;
mod store;
