//! `eventide backup PATH` (issue 20): an online, consistent copy of a SQLite database, taken
//! while the app serves and writes, and restored by starting Eventide on it.

use std::collections::BTreeMap;

use rocket::http::Status;
use sqlx::{Row, TypeInfo, ValueRef};

use crate::helpers::*;

/// Every table's rows, each value as text, sorted: what "identical" means here.
pub async fn table_rows(url: &str) -> BTreeMap<String, Vec<Vec<String>>> {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut tables = BTreeMap::new();
    for name in names {
        let rows = sqlx::query(&format!("SELECT * FROM \"{name}\"")).fetch_all(&pool).await.unwrap();
        let mut values: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        let raw = row.try_get_raw(i).unwrap();
                        if raw.is_null() {
                            return "NULL".to_string();
                        }
                        match raw.type_info().name() {
                            "INTEGER" => row.get::<i64, _>(i).to_string(),
                            "REAL" => row.get::<f64, _>(i).to_string(),
                            "BLOB" => hex::encode(row.get::<Vec<u8>, _>(i)),
                            _ => row.get::<String, _>(i),
                        }
                    })
                    .collect()
            })
            .collect();
        values.sort();
        tables.insert(name, values);
    }
    pool.close().await;
    tables
}

/// 10,000 events with series over two seeded users' calendars, then `amy` (user 3) with a
/// calendar shared with seed1, a reminder that fired ("Dentist") and an app password.
pub async fn populate(app: &TestApp) {
    let figment = || test_figment(&app.db.url, &app.prefix).merge(("dav_port", "off"));
    let plan = eventide::seed::SeedPlan {
        users: 2,
        events: 4_990,
        series: 10,
        calendars: 2,
        prefix: "seed".into(),
        password: "eventide-seed".into(),
    };
    eventide::seed(figment(), &plan).await.unwrap();
    // A share, a reminder that fired, an app password.
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let calendar = app.store().default_calendar(eventide::domain::UserId(3)).await.unwrap().id.0;
    let share = [("username", "seed1"), ("access", "read")];
    assert_status(
        &app.post_with_token(&format!("/calendars/{calendar}/shares"), &share).await,
        Status::SeeOther,
    );
    let fields = [
        ("title", "Dentist"),
        ("start", "2027-06-03T10:00"),
        ("end", "2027-06-03T11:00"),
        ("reminders", "10"),
    ];
    assert_status(&app.post_with_token("/events", &fields).await, Status::SeeOther);
    let due =
        chrono::DateTime::parse_from_rfc3339("2027-06-03T09:50:00Z").unwrap().with_timezone(&chrono::Utc);
    eventide::reminders::tick(app.store(), due, chrono::Duration::hours(1)).await.unwrap();
    eventide::create_app_password(figment(), "amy", "Phone").await.unwrap();
}

#[rocket::async_test]
async fn a_backup_taken_while_serving_restores_everything() {
    let app = spawn(Engine::Sqlite, Backend::Memory).await;
    let figment = || test_figment(&app.db.url, &app.prefix).merge(("dav_port", "off"));
    populate(&app).await;

    // Online: a backup while someone keeps writing is whole and sound.
    let dir = std::env::temp_dir().join(unique("eventide_backup"));
    std::fs::create_dir_all(&dir).unwrap();
    let busy = dir.join("busy.db");
    let writer = async {
        let browser = app.browser();
        assert_status(&browser.login("amy", PASSWORD).await, Status::SeeOther);
        for n in 0..20 {
            let title = format!("While backing up {n}");
            let fields =
                [("title", title.as_str()), ("start", "2027-06-04T10:00"), ("end", "2027-06-04T11:00")];
            assert_status(&browser.post_with_token("/events", &fields).await, Status::SeeOther);
        }
    };
    let (done, ()) = tokio::join!(eventide::backup(figment(), &busy), writer);
    done.unwrap();
    let copy = sqlx::SqlitePool::connect(&format!("sqlite://{}", busy.display())).await.unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&copy).await.unwrap();
    assert_eq!(check, "ok");
    copy.close().await;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&busy).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "only its owner reads a copy of the passwords");
    }
    // Never over an existing file.
    assert!(eventide::backup(figment(), &busy).await.unwrap_err().contains("exists"));

    // Identical: every row of every table, when nobody writes.
    let still = dir.join("still.db");
    eventide::backup(figment(), &still).await.unwrap();
    let url = format!("sqlite://{}", still.display());
    let (live, copied) = (table_rows(&app.db.url).await, table_rows(&url).await);
    assert_eq!(copied["events"].len(), 10_000 + 1 + 20);
    assert!(!copied["calendar_shares"].is_empty() && !copied["notifications"].is_empty());
    assert!(live == copied, "the copy differs from the database");

    // Restored: Eventide started on the copy serves it all.
    let restored = spawn_with(Options::new(Engine::Sqlite, Backend::Memory).with("database_url", url)).await;
    assert_status(&restored.login("amy", PASSWORD).await, Status::SeeOther);
    let tray = restored.get("/notifications").await.into_string().await.unwrap();
    assert!(tray.contains("Dentist"), "{tray}");
    let seed = restored.browser();
    assert_status(&seed.login("seed1", "eventide-seed").await, Status::SeeOther);
    let calendars = seed.get("/calendars").await.into_string().await.unwrap();
    assert!(calendars.contains("amy"), "the share came along: {calendars}");
    let _ = std::fs::remove_dir_all(&dir);
}
