//! Calendars (issue 15): several per user, shown or hidden, each event in one; another
//! user's calendar is a 404 everywhere; the change log is exact.

use rocket::http::Status;

use crate::helpers::*;

async fn calendar_ids(app: &TestApp) -> Vec<(i64, String)> {
    let calendars = app.store().calendars_of(eventide::domain::UserId(1)).await.unwrap();
    calendars.into_iter().map(|c| (c.id.0, c.name)).collect()
}

async fn create_calendar(browser: &impl Browse, name: &str, color: &str) -> Status {
    browser.post_with_token("/calendars", &[("name", name), ("color", color)]).await.status()
}

async fn calendars_crud_with_errors_kept(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    assert_eq!(calendar_ids(&app).await.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(), ["Personal"]);

    assert_eq!(create_calendar(&app, "Work", "#0B8043").await, Status::SeeOther);
    let page = app.get("/calendars").await.into_string().await.unwrap();
    assert!(page.contains("Work") && page.contains("value=\"#0b8043\""), "stored lower-case");

    for (name, color, field) in [("", "#0b8043", "Give the calendar a name"), ("Club", "red", "#RRGGBB")] {
        let response = app.post_with_token("/calendars", &[("name", name), ("color", color)]).await;
        assert_status(&response, Status::UnprocessableEntity);
        let page = response.into_string().await.unwrap();
        assert!(page.contains(field), "{page}");
        assert!(page.contains(&format!("value=\"{color}\"")), "the typed colour is kept");
    }
    let long = "x".repeat(101);
    assert_eq!(create_calendar(&app, &long, "#000000").await, Status::UnprocessableEntity);
    assert_eq!(calendar_ids(&app).await.len(), 2, "nothing was written");

    let work = calendar_ids(&app).await[1].0;
    let renamed =
        app.post_with_token(&format!("/calendars/{work}"), &[("name", "Office"), ("color", "#d50000")]).await;
    assert_status(&renamed, Status::SeeOther);
    let refused =
        app.post_with_token(&format!("/calendars/{work}"), &[("name", " "), ("color", "#d50000")]).await;
    assert_status(&refused, Status::UnprocessableEntity);
    assert_eq!(calendar_ids(&app).await[1].1, "Office");
}

async fn deleting_a_calendar_takes_its_events_but_never_the_last(engine: Engine) {
    let app = spawn(engine, Backend::Redis).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    assert_eq!(create_calendar(&app, "Club", "#8e24aa").await, Status::SeeOther);
    let (personal, club) = (calendar_ids(&app).await[0].0, calendar_ids(&app).await[1].0);
    let club_id = club.to_string();
    let fields = [
        ("title", "Rowing"),
        ("start", "2026-06-03T18:00"),
        ("end", "2026-06-03T19:00"),
        ("calendar_id", &club_id),
    ];
    assert_status(&app.post_with_token("/events", &fields).await, Status::SeeOther);
    let month = app.get("/calendar/month/2026-06-01").await.into_string().await.unwrap();
    assert!(month.contains("Rowing"));

    // Without confirmation: a page that asks.
    let ask = app.post_with_token(&format!("/calendars/{club}/delete"), &[]).await;
    assert_status(&ask, Status::Ok);
    assert!(ask.into_string().await.unwrap().contains("every event in it"));
    let done = app.post_with_token(&format!("/calendars/{club}/delete"), &[("confirm", "yes")]).await;
    assert_status(&done, Status::SeeOther);
    assert!(app.store().all_events(eventide::domain::UserId(1)).await.unwrap().is_empty());
    let month = app.get("/calendar/month/2026-06-01").await;
    assert_eq!(month.headers().get_one("X-Cache"), Some("MISS"), "its cached views were retired");
    assert!(!month.into_string().await.unwrap().contains("Rowing"));

    let last = app.post_with_token(&format!("/calendars/{personal}/delete"), &[("confirm", "yes")]).await;
    assert_status(&last, Status::Conflict);
    assert_eq!(calendar_ids(&app).await.len(), 1);
}

async fn another_users_calendar_is_404_everywhere(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let amys = calendar_ids(&app).await[0].0;
    let bob = app.browser();
    assert_status(&bob.register("bob", PASSWORD).await, Status::SeeOther);
    let id = amys.to_string();
    for (uri, fields) in [
        (format!("/calendars/{amys}"), vec![("name", "Mine"), ("color", "#000000")]),
        (format!("/calendars/{amys}/visibility"), vec![("shown", "false")]),
        (format!("/calendars/{amys}/delete"), vec![("confirm", "yes")]),
        (format!("/calendars/{amys}/feed"), vec![]),
        (
            "/events".to_string(),
            vec![
                ("title", "x"),
                ("start", "2026-06-01T09:00"),
                ("end", "2026-06-01T10:00"),
                ("calendar_id", &id),
            ],
        ),
    ] {
        assert_status(&bob.post_with_token(&uri, &fields).await, Status::NotFound);
    }
    assert_status(&bob.get(&format!("/calendars/{amys}/visibility?shown=false")).await, Status::NotFound);
    assert_status(&bob.get(&format!("/calendars/{amys}/export.ics")).await, Status::NotFound);
    let (status, _) = crate::ical::import(&bob, &[("calendar_id", &id)], Some(crate::ical::ONE_EVENT)).await;
    assert_eq!(status, Status::NotFound);
    assert_eq!(calendar_ids(&app).await, [(amys, "Personal".to_string())]);
    assert!(app.store().all_events(eventide::domain::UserId(1)).await.unwrap().is_empty());
    assert!(app.store().calendars_of(eventide::domain::UserId(1)).await.unwrap()[0].feed_token.is_none());
}

/// The `/feeds/….ics` address on the calendars page for calendar `id`.
fn feed_path(page: &str, id: i64) -> String {
    let input = format!("id=\"feed-url-{id}\" type=\"text\" readonly value=\"");
    let start = page.find(&input).map(|i| i + input.len()).expect("a feed address");
    let url = &page[start..start + page[start..].find('"').unwrap()];
    url[url.find("/feeds/").unwrap()..].to_string()
}

async fn calendar_exports_and_feeds_hold_one_calendar(engine: Engine) {
    let app = spawn(engine, Backend::Redis).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    assert_eq!(create_calendar(&app, "Rowing club", "#8e24aa").await, Status::SeeOther);
    let (personal, club) = (calendar_ids(&app).await[0].0, calendar_ids(&app).await[1].0);
    for (title, calendar) in [("Dentist", personal), ("Regatta", club)] {
        let calendar = calendar.to_string();
        let fields = [
            ("title", title),
            ("start", "2026-06-03T18:00"),
            ("end", "2026-06-03T19:00"),
            ("calendar_id", &calendar),
        ];
        assert_status(&app.post_with_token("/events", &fields).await, Status::SeeOther);
    }
    let response = app.get(&format!("/calendars/{club}/export.ics")).await;
    assert_status(&response, Status::Ok);
    let disposition = response.headers().get_one("Content-Disposition").unwrap().to_string();
    assert_eq!(disposition, "attachment; filename=\"rowing-club.ics\"");
    let file = response.into_string().await.unwrap();
    for line in ["NAME:Rowing club", "X-WR-CALNAME:Rowing club", "X-APPLE-CALENDAR-COLOR:#8E24AA", "COLOR:"] {
        assert!(file.contains(line), "{line} in\n{file}");
    }
    assert!(file.contains("SUMMARY:Regatta") && !file.contains("Dentist"), "{file}");
    let all = app.get("/export.ics").await.into_string().await.unwrap();
    assert!(all.contains("Regatta") && all.contains("Dentist") && !all.contains("X-APPLE-CALENDAR-COLOR"));

    // The calendar's own feed: made, read without a session, reset.
    assert_status(&app.post_with_token(&format!("/calendars/{club}/feed"), &[]).await, Status::SeeOther);
    let page = app.get("/calendars").await.into_string().await.unwrap();
    let feed = feed_path(&page, club);
    let anonymous = app.browser();
    let body = anonymous.get(&feed).await.into_string().await.unwrap();
    assert!(
        body.contains("Regatta") && !body.contains("Dentist") && body.contains("REFRESH-INTERVAL"),
        "{body}"
    );
    assert!(body.contains("X-WR-CALNAME:Rowing club"));
    // A rename reaches the feed (the write path retired the cached one).
    let renamed = [("name", "Regatta team"), ("color", "#8e24aa")];
    assert_status(&app.post_with_token(&format!("/calendars/{club}"), &renamed).await, Status::SeeOther);
    let body = anonymous.get(&feed).await.into_string().await.unwrap();
    assert!(body.contains("X-WR-CALNAME:Regatta team"), "{body}");
    assert_status(&app.post_with_token(&format!("/calendars/{club}/feed"), &[]).await, Status::SeeOther);
    assert_status(&anonymous.get(&feed).await, Status::NotFound);
    let page = app.get("/calendars").await.into_string().await.unwrap();
    assert_ne!(feed_path(&page, club), feed);
    assert!(!page.contains(&format!("id=\"feed-url-{personal}\"")), "no feed until asked for");

    // The account's feed still holds every calendar.
    assert_status(&app.post_with_token("/account/feed", &[]).await, Status::SeeOther);
    let account = app.get("/account").await.into_string().await.unwrap();
    let start = account.find("/feeds/").unwrap();
    let whole = &account[start..start + account[start..].find('"').unwrap()];
    let body = anonymous.get(whole).await.into_string().await.unwrap();
    assert!(body.contains("Regatta") && body.contains("Dentist"));
}

const TEAM_FILE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//macOS 14//EN\r\n\
X-WR-CALNAME:Team\\, offsite\r\nX-APPLE-CALENDAR-COLOR:#FF2968FF\r\nBEGIN:VEVENT\r\n\
UID:team-1@example.com\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20260610T090000Z\r\n\
DTEND:20260610T100000Z\r\nSUMMARY:Kick-off\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

async fn importing_into_a_new_calendar_takes_the_files_name_and_colour(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let (status, preview) = crate::ical::import(&app, &[("calendar_id", "new")], Some(TEAM_FILE)).await;
    assert_eq!(status, Status::Ok, "{preview}");
    assert!(preview.contains("a new calendar") && preview.contains("Team, offsite"), "{preview}");
    assert_eq!(calendar_ids(&app).await.len(), 1, "a preview creates nothing");
    let upload = crate::ical::upload_of(&preview);
    let fields = [("upload", upload.as_str()), ("calendar_id", "new")];
    let (status, done) = crate::ical::import(&app, &fields, None).await;
    assert_eq!(status, Status::Ok, "{done}");
    let calendars = app.store().calendars_of(eventide::domain::UserId(1)).await.unwrap();
    let team = calendars.iter().find(|c| c.name == "Team, offsite").expect("the new calendar");
    assert_eq!(team.color, "#ff2968");
    let events = app.store().all_events(eventide::domain::UserId(1)).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].calendar_id, team.id);

    // The same file again: nothing new to create, so no second calendar.
    let (_, preview) = crate::ical::import(&app, &[("calendar_id", "new")], Some(TEAM_FILE)).await;
    let upload = crate::ical::upload_of(&preview);
    let (status, _) =
        crate::ical::import(&app, &[("upload", upload.as_str()), ("calendar_id", "new")], None).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(calendar_ids(&app).await.len(), 2);

    // A calendar's export, imported into a new calendar, comes back with its name and colour.
    let exported =
        app.get(&format!("/calendars/{}/export.ics", team.id.0)).await.into_string().await.unwrap();
    let file = exported.replace("team-1@example.com", "team-2@example.com");
    let (_, preview) = crate::ical::import(&app, &[("calendar_id", "new")], Some(&file)).await;
    let upload = crate::ical::upload_of(&preview);
    crate::ical::import(&app, &[("upload", upload.as_str()), ("calendar_id", "new")], None).await;
    let calendars = app.store().calendars_of(eventide::domain::UserId(1)).await.unwrap();
    assert_eq!(calendars.iter().filter(|c| c.name == "Team, offsite" && c.color == "#ff2968").count(), 2);
}

async fn hiding_a_calendar_changes_the_month_at_once(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    assert_eq!(create_calendar(&app, "Work", "#0b8043").await, Status::SeeOther);
    let work = calendar_ids(&app).await[1].0.to_string();
    let event = [
        ("title", "Standup"),
        ("start", "2026-06-03T09:00"),
        ("end", "2026-06-03T09:15"),
        ("calendar_id", &work),
    ];
    assert_status(&app.post_with_token("/events", &event).await, Status::SeeOther);
    let home = [("title", "Dentist"), ("start", "2026-06-04T09:00"), ("end", "2026-06-04T10:00")];
    assert_status(&app.post_with_token("/events", &home).await, Status::SeeOther);
    let month = "/calendar/month/2026-06-01";
    assert!(app.get(month).await.into_string().await.unwrap().contains("Standup"));
    assert_eq!(app.get(month).await.headers().get_one("X-Cache"), Some("HIT"));

    let hide = [("shown", "false"), ("next", month)];
    assert_status(
        &app.post_with_token(&format!("/calendars/{work}/visibility"), &hide).await,
        Status::SeeOther,
    );
    let page = app.get(month).await.into_string().await.unwrap();
    assert!(!page.contains("Standup") && page.contains("Dentist"), "hidden at once, the rest kept");
    let search = app.get("/search?q=standup").await.into_string().await.unwrap();
    assert!(!search.contains("Standup"), "left out of search too");

    let show = [("shown", "true"), ("next", month)];
    assert_status(
        &app.post_with_token(&format!("/calendars/{work}/visibility"), &show).await,
        Status::SeeOther,
    );
    assert!(app.get(month).await.into_string().await.unwrap().contains("Standup"));
    assert_status(
        &app.post_with_token(&format!("/calendars/{work}/visibility"), &[("shown", "maybe")]).await,
        Status::BadRequest,
    );
}

async fn moving_a_series_moves_every_occurrence_and_edit(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    crate::recurrence::berlin_user(&app, "amy").await;
    assert_eq!(create_calendar(&app, "Work", "#0b8043").await, Status::SeeOther);
    let (personal, work) = (calendar_ids(&app).await[0].0, calendar_ids(&app).await[1].0);
    let series = [
        ("title", "Standup"),
        ("start", "2026-06-01T09:00"),
        ("end", "2026-06-01T09:15"),
        ("repeat", "weekly"),
        ("weekdays", "MO"),
    ];
    let id = crate::recurrence::save(&app, "/events", &series).await;
    let moved = [
        ("occurrence", "20260608T070000Z"),
        ("scope", "this"),
        ("title", "Standup (late)"),
        ("start", "2026-06-08T10:00"),
        ("end", "2026-06-08T10:15"),
    ];
    crate::recurrence::save(&app, &id, &moved).await;
    let work_id = work.to_string();
    let mut all = series.to_vec();
    all.extend([("scope", "all"), ("occurrence", "20260601T070000Z"), ("calendar_id", work_id.as_str())]);
    crate::recurrence::save(&app, &id, &all).await;
    let events = app.store().all_events(eventide::domain::UserId(1)).await.unwrap();
    assert_eq!(events.len(), 2, "the series and its edited occurrence");
    assert!(events.iter().all(|e| e.calendar_id.0 == work), "{events:?}");
    let log = app.store().changes_since(eventide::domain::CalendarId(personal), 0).await.unwrap();
    assert_eq!(log.last().map(|c| c.kind), Some(eventide::domain::ChangeKind::Deleted));
    let log = app.store().changes_since(eventide::domain::CalendarId(work), 0).await.unwrap();
    assert_eq!(log.iter().map(|c| c.kind).collect::<Vec<_>>(), [eventide::domain::ChangeKind::Created]);
    // Hiding Work hides every occurrence, the edited one included.
    let hide = [("shown", "false")];
    assert_status(
        &app.post_with_token(&format!("/calendars/{work}/visibility"), &hide).await,
        Status::SeeOther,
    );
    let month = app.get("/calendar/month/2026-06-01").await.into_string().await.unwrap();
    assert!(!month.contains("Standup"), "{month}");
}

/// The change log is what sync tokens will be read from: one row per change, sequences
/// strictly increasing, also with eight writers at once.
async fn the_change_log_is_exact_under_concurrent_writers(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let owner = eventide::domain::UserId(1);
    let calendar = app.store().default_calendar(owner).await.unwrap().id;
    let draft = |n: usize| {
        let start: chrono::DateTime<chrono::Utc> = "2026-06-01T09:00:00Z".parse().unwrap();
        let start = start + chrono::Duration::hours(n as i64);
        eventide::domain::EventDraft {
            title: format!("Event {n}"),
            description: String::new(),
            location: String::new(),
            all_day: false,
            start_at: start,
            end_at: start + chrono::Duration::minutes(30),
            tzid: "UTC".into(),
            recurrence: None,
            extra: None,
            reminders: eventide::domain::Reminders::none(),
        }
    };
    // Eight writers on tasks of their own, so their transactions really overlap. (No cache
    // is involved: each settles its commit itself.)
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let store = app.store().clone();
            tokio::spawn(async move {
                for n in 0..5 {
                    let new = eventide::domain::NewEvent {
                        calendar,
                        draft: draft(writer * 10 + n),
                        uid: format!("w{writer}-{n}@test"),
                        exdates: String::new(),
                        series: None,
                        dav_name: None,
                    };
                    store
                        .apply(owner, owner, vec![eventide::domain::Change::Insert(new)])
                        .await
                        .unwrap()
                        .settle();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let log = app.store().changes_since(calendar, 0).await.unwrap();
    assert_eq!(log.len(), 40, "one row per change");
    let seqs: Vec<i64> = log.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (1..=40).collect::<Vec<i64>>(), "strictly increasing, no gaps");
    let mut uids: Vec<&str> = log.iter().map(|c| c.uid.as_str()).collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 40);
    assert_eq!(app.store().calendar_for(owner, calendar).await.unwrap().unwrap().change_seq, 40);
    assert_eq!(app.store().changes_since(calendar, 38).await.unwrap().len(), 2);
    // Pruned by age only: nothing is younger than a day ago, everything than a day ahead.
    let now = chrono::Utc::now();
    assert_eq!(app.store().prune_changes(now - chrono::Duration::days(1)).await.unwrap(), 0);
    assert_eq!(app.store().prune_changes(now + chrono::Duration::days(1)).await.unwrap(), 40);
    assert!(app.store().changes_since(calendar, 0).await.unwrap().is_empty());
}

/// Events made before calendars existed land in a default calendar per user, nothing lost.
async fn old_data_migrates_into_default_calendars(engine: Engine) {
    let db = TestDb::new(engine).await;
    let pool = match engine {
        Engine::Sqlite => {
            let options: sqlx::sqlite::SqliteConnectOptions = db.url.parse().unwrap();
            let pool = sqlx::SqlitePool::connect_with(options.create_if_missing(true)).await.unwrap();
            eventide::store::Pool::Sqlite(pool)
        }
        Engine::Postgres => eventide::store::Pool::Postgres(sqlx::PgPool::connect(&db.url).await.unwrap()),
    };
    // The schema as it was (every migration before calendars), seeded the old way.
    let old = eventide::store::Store::new(pool.clone());
    old.migrate_to(5).await.unwrap();
    let now = if engine == Engine::Sqlite { "'2026-01-01T00:00:00Z'" } else { "now()" };
    let statements = [
        format!("INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('ann', 'ann', 'x', {now})"),
        format!("INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('ben', 'ben', 'x', {now})"),
        format!("INSERT INTO events (user_id, title, start_at, end_at, created_at, updated_at, uid) VALUES (1, 'Ann 1', {now}, {now}, {now}, {now}, 'a1')"),
        format!("INSERT INTO events (user_id, title, start_at, end_at, created_at, updated_at, uid) VALUES (1, 'Ann 2', {now}, {now}, {now}, {now}, 'a2')"),
        format!("INSERT INTO events (user_id, title, start_at, end_at, created_at, updated_at, uid) VALUES (2, 'Ben 1', {now}, {now}, {now}, {now}, 'b1')"),
    ];
    for sql in &statements {
        match &pool {
            eventide::store::Pool::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
            eventide::store::Pool::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        }
        .unwrap();
    }
    let store = eventide::store::Store::new(pool);
    store.migrate().await.unwrap();
    for (user, titles) in [(1, vec!["Ann 1", "Ann 2"]), (2, vec!["Ben 1"])] {
        let owner = eventide::domain::UserId(user);
        let calendars = store.calendars_of(owner).await.unwrap();
        assert_eq!(calendars.len(), 1);
        assert!(calendars[0].is_default && calendars[0].shown);
        let events = store.all_events(owner).await.unwrap();
        assert_eq!(events.iter().map(|e| e.title.as_str()).collect::<Vec<_>>(), titles);
        assert!(events.iter().all(|e| e.calendar_id == calendars[0].id));
    }
}

crate::on_both_engines!(
    moving_a_series_moves_every_occurrence_and_edit,
    the_change_log_is_exact_under_concurrent_writers,
    old_data_migrates_into_default_calendars,
    calendars_crud_with_errors_kept,
    deleting_a_calendar_takes_its_events_but_never_the_last,
    another_users_calendar_is_404_everywhere,
    calendar_exports_and_feeds_hold_one_calendar,
    importing_into_a_new_calendar_takes_the_files_name_and_colour,
);
crate::on_both_backends!(hiding_a_calendar_changes_the_month_at_once);
