//! iCalendar over HTTP: export, per-event download, the private feed, import and round trips.

use rocket::http::{ContentType, Header, Status};

use crate::helpers::*;
use crate::recurrence::{berlin_user, save};

/// The smallest file with one event.
pub const ONE_EVENT: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:one@test\r\n\
    DTSTART:20260601T090000Z\r\nDTEND:20260601T100000Z\r\nSUMMARY:Imported\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

const HOSTILE: &str = "Plan; review, \"quotes\" \\ back\nslash — ünïcødé 😀 and a title that is long enough to be folded at least once";

async fn text(response: rocket::local::asynchronous::LocalResponse<'_>) -> String {
    assert_status(&response, Status::Ok);
    response.into_string().await.unwrap()
}

/// A calendar of series, an edited occurrence, a cancelled one, an all-day event and hostile text.
async fn fill(app: &TestApp) -> i64 {
    let series = [
        ("title", "Standup"),
        ("start", "2026-03-16T09:00"),
        ("end", "2026-03-16T09:30"),
        ("repeat", "weekly"),
        ("weekdays", "MO"),
        ("ends", "count"),
        ("count", "10"),
    ];
    let id: i64 = save(app, "/events", &series).await.trim_start_matches("/events/").parse().unwrap();
    let moved = [
        ("occurrence", "20260323T080000Z"),
        ("scope", "this"),
        ("title", "Moved"),
        ("start", "2026-03-24T11:00"),
        ("end", "2026-03-24T11:30"),
    ];
    save(app, &format!("/events/{id}"), &moved).await;
    save(app, &format!("/events/{id}/delete"), &[("occurrence", "20260330T070000Z"), ("scope", "this")])
        .await;
    let trip = [("title", "Trip"), ("start", "2026-07-01"), ("end", "2026-07-03"), ("all_day", "on")];
    save(app, "/events", &trip).await;
    let hostile = [
        ("title", &HOSTILE[..HOSTILE.len().min(200)]),
        ("description", HOSTILE),
        ("location", "a;b,c"),
        ("start", "2026-05-01T10:00"),
        ("end", "2026-05-01T11:00"),
    ];
    save(app, "/events", &hostile).await;
    id
}

/// The VEVENTs of a calendar without the properties that record when it was written.
fn vevents(calendar: &str) -> Vec<String> {
    let unfolded = calendar.replace("\r\n ", "");
    let mut events: Vec<String> = unfolded
        .split("BEGIN:VEVENT\r\n")
        .skip(1)
        .map(|e| {
            let body = e.split("END:VEVENT").next().unwrap_or("");
            body.lines()
                .filter(|l| !["DTSTAMP", "CREATED", "LAST-MODIFIED"].iter().any(|p| l.starts_with(p)))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    events.sort();
    events
}

pub fn multipart(fields: &[(&str, &str)], file: Option<&str>) -> (ContentType, String) {
    let boundary = "----eventide-test-boundary";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    if let Some(file) = file {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cal.ics\"\r\nContent-Type: text/calendar\r\n\r\n{file}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (ContentType::new("multipart", "form-data").with_params(("boundary", boundary)), body)
}

pub async fn import(browser: &impl Browse, fields: &[(&str, &str)], file: Option<&str>) -> (Status, String) {
    let token = browser.csrf_token().await;
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    let (content_type, body) = multipart(&all, file);
    let response = browser.send(browser.client().post("/import").header(content_type).body(body)).await;
    (response.status(), response.into_string().await.unwrap_or_default())
}

pub fn upload_of(preview: &str) -> String {
    let start = preview.find("name=\"upload\" value=\"").expect("an upload token") + 21;
    preview[start..start + 32].to_string()
}

async fn export_import_round_trip(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    berlin_user(&app, "amy").await;
    let series = fill(&app).await;
    let response = app.get("/export.ics").await;
    assert_eq!(
        response.content_type(),
        Some(ContentType::new("text", "calendar").with_params(("charset", "utf-8")))
    );
    let exported = text(response).await;
    assert!(
        exported.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") && exported.ends_with("END:VCALENDAR\r\n")
    );
    for line in exported.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
        assert!(!line.contains('\n') && !line.contains('\r'));
    }
    for part in [
        "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin",
        "DTSTART;TZID=Europe/Berlin:20260316T090000",
        "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10",
        "EXDATE;TZID=Europe/Berlin:20260330T090000",
        "RECURRENCE-ID;TZID=Europe/Berlin:20260323T090000",
        "DTSTART;VALUE=DATE:20260701\r\nDTEND;VALUE=DATE:20260704",
        "LOCATION:a\\;b\\,c",
    ] {
        assert!(exported.contains(part), "{part} in\n{exported}");
    }
    // Parsed back, the hostile text is intact.
    let eventide::ical::import::ReadFile { events, failures, .. } =
        eventide::ical::import::read(&exported, chrono_tz::Europe::Berlin).unwrap();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(events.len(), 4);
    assert!(events.iter().any(|e| e.draft.description == HOSTILE));

    // One event: the series with its edited occurrence.
    let one = text(app.get(&format!("/events/{series}.ics")).await).await;
    assert_eq!(one.matches("BEGIN:VEVENT").count(), 2);

    // Importing the export into another account creates the same events...
    let other = app.browser();
    assert_status(&other.register("bob", PASSWORD).await, Status::SeeOther);
    let fields = [("time_zone", "Europe/Berlin"), ("week_start", "1")];
    assert_status(&other.post_with_token("/account/preferences", &fields).await, Status::SeeOther);
    let (status, preview) = import(&other, &[], Some(&exported)).await;
    assert_eq!(status, Status::Ok);
    assert!(preview.contains("4 to create, 0 to update, 0 already up to date"), "{preview}");
    assert_eq!(
        text(other.get("/export.ics").await).await.matches("BEGIN:VEVENT").count(),
        0,
        "a preview writes nothing"
    );
    let (status, done) = import(&other, &[("upload", &upload_of(&preview))], None).await;
    assert_eq!(status, Status::Ok);
    assert!(done.contains("4 created"), "{done}");
    let again = text(other.get("/export.ics").await).await;
    assert_eq!(vevents(&again), vevents(&exported));
    // ...and importing it again changes nothing.
    let (_, preview) = import(&other, &[], Some(&again)).await;
    assert!(preview.contains("0 to create, 0 to update, 4 already up to date"), "{preview}");
    assert!(preview.contains("disabled"));
    // The imported series expands like the original.
    let month = text(other.get("/calendar/month/2026-03-01").await).await;
    // 16 March as it was, 23 March moved to the 24th, 30 March cancelled.
    assert!(month.contains("Moved") && month.matches("Standup").count() == 1, "{month}");
    assert!(!month.contains("at=20260330T070000Z") && !month.contains("at=20260323T080000Z"));
}

async fn import_reports_failures_and_keeps_the_rest(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    berlin_user(&app, "amy").await;
    let file = "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:ok-1\nDTSTART:20260601T080000Z\nDTEND:20260601T090000Z\nSUMMARY:Fine\nX-CUSTOM;X-P=1:whatever\nEND:VEVENT\nBEGIN:VEVENT\nUID:bad-1\nSUMMARY:No start\nEND:VEVENT\nBEGIN:VEVENT\nUID:bad-2\nDTSTART:20260601T080000Z\nRRULE:FREQ=MINUTELY\nSUMMARY:Every minute\nEND:VEVENT\nBEGIN:VEVENT\nUID:bad-3\nDTSTART;TZID=Nowhere/Land:20260601T080000\nSUMMARY:Lost\nEND:VEVENT\nEND:VCALENDAR\n";
    assert!(text(app.get("/import").await).await.contains("iCalendar file (.ics)"));
    let (status, preview) = import(&app, &[], Some(file)).await;
    assert_eq!(status, Status::Ok);
    for reason in [
        "No start</strong>: it has no start (DTSTART)",
        "Every minute</strong>: unsupported repeat rule",
        "Lost</strong>: unknown time zone Nowhere/Land",
    ] {
        assert!(preview.contains(reason), "{reason} in {preview}");
    }
    // A second preview replaces the first: one waiting upload per user.
    let (_, second) = import(&app, &[], Some(file)).await;
    let (status, stale) = import(&app, &[("upload", &upload_of(&preview))], None).await;
    assert!(status == Status::UnprocessableEntity && stale.contains("expired"), "{stale}");
    let (_, done) = import(&app, &[("upload", &upload_of(&second))], None).await;
    assert!(done.contains("1 created"), "{done}");
    assert!(text(app.get("/calendar/day/2026-06-01").await).await.contains("Fine"));
    // Not a calendar, no file, an expired upload, no token: clear errors, nothing written.
    let (status, page) = import(&app, &[], Some("hello")).await;
    assert!(status == Status::UnprocessableEntity && page.contains("not an iCalendar file"), "{page}");
    assert_eq!(import(&app, &[], None).await.0, Status::UnprocessableEntity);
    let (status, page) = import(&app, &[("upload", "0123456789abcdef0123456789abcdef")], None).await;
    assert!(status == Status::UnprocessableEntity && page.contains("expired"));
    let (content_type, body) = multipart(&[], Some(file));
    let forged = app.send(app.client().post("/import").header(content_type).body(body)).await;
    assert_status(&forged, Status::Forbidden);
}

async fn private_feed(engine: Engine) {
    let app = spawn(engine, Backend::Redis).await;
    berlin_user(&app, "amy").await;
    fill(&app).await;
    assert!(!text(app.get("/account").await).await.contains("webcal://"));
    assert_status(&app.post_with_token("/account/feed", &[]).await, Status::SeeOther);
    let account = text(app.get("/account").await).await;
    let start = account.find("webcal://").unwrap();
    let url = &account[start..account[start..].find('"').unwrap() + start];
    let path = url.split_once("/feeds/").map(|(_, t)| format!("/feeds/{t}")).unwrap();

    // No session needed: a fresh client (a calendar app) reads it.
    let reader = app.browser();
    let first = reader.get(&path).await;
    assert_status(&first, Status::Ok);
    let etag = first.headers().get_one("ETag").unwrap().to_string();
    let feed = first.into_string().await.unwrap();
    assert!(feed.contains("REFRESH-INTERVAL;VALUE=DURATION:PT60M") && feed.contains("X-PUBLISHED-TTL:PT60M"));
    let again = reader
        .send(reader.client().get(path.clone()).header(Header::new("If-None-Match", etag.clone())))
        .await;
    assert_status(&again, Status::NotModified);
    assert_eq!(again.headers().get_one("X-Cache"), Some("HIT"));
    // A change shows up at once (the cache is invalidated) with a new ETag.
    save(
        &app,
        "/events",
        &[("title", "New one"), ("start", "2026-08-01T10:00"), ("end", "2026-08-01T11:00")],
    )
    .await;
    let changed = reader
        .send(reader.client().get(path.clone()).header(Header::new("If-None-Match", etag.clone())))
        .await;
    assert_status(&changed, Status::Ok);
    assert!(changed.into_string().await.unwrap().contains("New one"));
    // Resetting the address kills the old one.
    assert_status(&app.post_with_token("/account/feed", &[]).await, Status::SeeOther);
    assert_status(&reader.get(&path).await, Status::NotFound);
    assert_status(
        &reader.get("/feeds/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics").await,
        Status::NotFound,
    );
    assert_status(&reader.get("/feeds/short.ics").await, Status::NotFound);
    // Exports need a session, and another user's event is a 404.
    assert_status(&reader.get("/export.ics").await, Status::SeeOther);
    assert_status(&reader.register("bob", PASSWORD).await, Status::SeeOther);
    assert_status(&reader.get("/events/1.ics").await, Status::NotFound);
}

crate::on_both_engines!(export_import_round_trip, import_reports_failures_and_keeps_the_rest, private_feed);
