//! `eventide migrate-db --to postgres://…` (issue 20): a SQLite database with 10,000 events,
//! series, shares, reminders, mail, app passwords, feed tokens, the audit log and the change
//! log moves to PostgreSQL whole, and Eventide serves the same from there.

use rocket::http::Status;

use crate::backup::populate;
use crate::helpers::*;

/// Instants to the microsecond (PostgreSQL's precision; SQLite keeps what chrono had).
fn to_microseconds(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => {
            if let Ok(instant) = chrono::DateTime::parse_from_rfc3339(text) {
                use chrono::{SecondsFormat, Timelike};
                let instant = instant.with_timezone(&chrono::Utc);
                let cut = instant.with_nanosecond(instant.nanosecond() / 1000 * 1000).unwrap_or(instant);
                *text = cut.to_rfc3339_opts(SecondsFormat::AutoSi, true);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(to_microseconds),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(to_microseconds),
        _ => {}
    }
}

/// Every user's events, calendars and notifications as the store reads them, engine aside.
async fn everything(store: &eventide::store::Store) -> serde_json::Value {
    let mut all = Vec::new();
    for id in 1..=4 {
        let user = eventide::domain::UserId(id);
        let mut events = store.all_events(user).await.unwrap();
        events.sort_by_key(|e| e.id.0);
        all.push(serde_json::json!({
            "events": events,
            "calendars": store.visible_calendars(user).await.unwrap(),
            "notifications": store.notifications_of(user, 100).await.unwrap(),
            "mail": store.mail_address_of(user).await.unwrap(),
        }));
    }
    let mut all = serde_json::Value::Array(all);
    to_microseconds(&mut all);
    all
}

#[rocket::async_test]
async fn a_sqlite_database_moves_to_postgres_whole() {
    // (Mail on, so that an address can be set; nothing listens there, which the outbox records.)
    let app =
        spawn_with(Options::new(Engine::Sqlite, Backend::Memory).with("smtp_url", "smtp://127.0.0.1:9"))
            .await;
    let figment = || test_figment(&app.db.url, &app.prefix).merge(("dav_port", "off"));
    populate(&app).await;
    // The rest of what a database holds: a mail address, a feed token, an admin's audit trail.
    assert_status(
        &app.post_with_token("/account/email", &[("email", "amy@example.org")]).await,
        Status::SeeOther,
    );
    assert_status(&app.post_with_token("/account/feed", &[]).await, Status::SeeOther);
    crate::admin::create_admin(&app, "root", &format!("{PASSWORD}\n")).await.unwrap();
    let root = app.browser();
    assert_status(&root.login("root", PASSWORD).await, Status::SeeOther);
    let confirm = [("confirm", "yes")];
    assert_status(&root.post_with_token("/admin/cache/flush", &confirm).await, Status::SeeOther);
    let account = app.get("/account").await.into_string().await.unwrap();
    let feed = account.split("/feeds/").nth(1).and_then(|rest| rest.split('"').next()).unwrap().to_string();

    let target = TestDb::new(Engine::Postgres).await;
    let report = eventide::migrate_db(figment(), &target.url).await.unwrap();
    let events = report.iter().find(|l| l.starts_with("events ")).unwrap();
    assert!(events.contains(" 10001 rows"), "{report:#?}");
    assert!(report.last().unwrap().starts_with("copied and verified"), "{report:#?}");
    let again = eventide::migrate_db(figment(), &target.url).await.unwrap_err();
    assert!(again.contains("not empty"), "{again}");

    // Eventide on PostgreSQL: the same users, events, calendars, shares, reminders and mail.
    let moved =
        spawn_with(Options::new(Engine::Postgres, Backend::Memory).with("database_url", target.url.clone()))
            .await;
    let (before, after) = (everything(app.store()).await, everything(moved.store()).await);
    assert!(before == after, "the data differs after the move");
    assert_status(&moved.login("amy", PASSWORD).await, Status::SeeOther);
    assert!(moved.get("/notifications").await.into_string().await.unwrap().contains("Dentist"));
    assert_status(&moved.get(&format!("/feeds/{feed}")).await, Status::Ok);
    let audit = moved.browser();
    assert_status(&audit.login("root", PASSWORD).await, Status::SeeOther);
    assert!(audit.get("/admin/audit").await.into_string().await.unwrap().contains("flush cache"));
    // New rows get new ids: the sequences moved on past the copied ones.
    let fields = [("title", "After the move"), ("start", "2027-07-01T10:00"), ("end", "2027-07-01T11:00")];
    let made = moved.post_with_token("/events", &fields).await;
    assert_status(&made, Status::SeeOther);
    let id: i64 = made.headers().get_one("Location").unwrap().trim_start_matches("/events/").parse().unwrap();
    assert!(id > 10_001, "{id}");
}
