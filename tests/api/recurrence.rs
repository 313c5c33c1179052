//! Repeating events over HTTP: every view, every edit and delete scope, ownership.

use chrono::{DateTime, Utc};
use rocket::http::Status;

use crate::helpers::*;

async fn body(browser: &impl Browse, uri: &str) -> String {
    let response = browser.get(uri).await;
    assert_status(&response, Status::Ok);
    response.into_string().await.unwrap()
}

pub async fn berlin_user(app: &TestApp, name: &str) {
    assert_status(&app.register(name, PASSWORD).await, Status::SeeOther);
    let fields = [("time_zone", "Europe/Berlin"), ("week_start", "1")];
    assert_status(&app.post_with_token("/account/preferences", &fields).await, Status::SeeOther);
}

/// Posts an event form and returns where it went.
pub async fn save(app: &TestApp, uri: &str, fields: &[(&str, &str)]) -> String {
    let response = app.post_with_token(uri, fields).await;
    assert_status(&response, Status::SeeOther);
    response.headers().get_one("Location").unwrap().to_string()
}

fn id_of(location: &str) -> i64 {
    location.trim_start_matches("/events/").parse().unwrap()
}

/// (local start, title) of user 1's occurrences between two dates, in Berlin time.
async fn agenda(app: &TestApp, from: &str, until: &str) -> Vec<(String, String)> {
    let from: DateTime<Utc> = format!("{from}T00:00:00Z").parse().unwrap();
    let until: DateTime<Utc> = format!("{until}T00:00:00Z").parse().unwrap();
    let events = app.events_of(1, from, until).await;
    events
        .into_iter()
        .map(|e| {
            (e.start_at.with_timezone(&chrono_tz::Europe::Berlin).format("%m-%d %H:%M").to_string(), e.title)
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

async fn every_scope(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    berlin_user(&app, "amy").await;
    let weekly = [("repeat", "weekly"), ("weekdays", "MO"), ("ends", "never"), ("interval", "1")];
    let mut fields = vec![("title", "Standup"), ("start", "2026-03-16T09:00"), ("end", "2026-03-16T09:30")];
    fields.extend_from_slice(&weekly);
    let first = id_of(&save(&app, "/events", &fields).await);

    // Every view shows the occurrences, at 09:00 on both sides of the DST change.
    let month = body(&app, "/calendar/month/2026-03-01").await;
    assert!(month.contains(&format!("/events/{first}?at=20260316T080000Z")), "{month}");
    assert!(month.contains(&format!("/events/{first}?at=20260330T070000Z")));
    let week = body(&app, "/calendar/week/2026-03-30").await;
    assert!(week.contains("09:00–09:30") && week.contains("Standup"));
    let occurrence = body(&app, &format!("/events/{first}?at=20260330T070000Z")).await;
    assert!(
        occurrence.contains("Monday, 30 March 2026, 09:00–09:30")
            && occurrence.contains("Every week on Monday")
    );
    assert!(occurrence.contains(&format!("/events/{first}/delete?at=20260330T070000Z\">Delete…")));
    // The series' own page (cached the second time) also asks which part to delete.
    for _ in 0..2 {
        assert!(body(&app, &format!("/events/{first}"))
            .await
            .contains(&format!("/events/{first}/delete\">Delete…")));
    }
    let choice = body(&app, &format!("/events/{first}/delete?at=20260330T070000Z")).await;
    assert!(choice.contains("This and following events") && choice.contains("value=\"20260330T070000Z\""));
    for bad in ["20260331T070000Z", "garbage", "20260330T070000"] {
        assert_status(&app.get(&format!("/events/{first}?at={bad}")).await, Status::NotFound);
    }
    let form = body(&app, &format!("/events/{first}/edit?at=20260323T080000Z")).await;
    assert!(form.contains("value=\"2026-03-23T09:00\"") && form.contains("name=\"scope\""));

    // The month is cached now; every change below must show in it at once.
    let cached = app.get("/calendar/month/2026-03-01").await;
    assert_eq!(cached.headers().get_one("X-Cache"), Some("HIT"));

    // This event: one occurrence moves and is renamed; the others stay.
    let this = [
        ("occurrence", "20260323T080000Z"),
        ("scope", "this"),
        ("title", "Standup (moved)"),
        ("start", "2026-03-24T11:00"),
        ("end", "2026-03-24T11:30"),
    ];
    let edited = id_of(&save(&app, &format!("/events/{first}"), &this).await);
    assert_ne!(edited, first);
    assert_eq!(
        agenda(&app, "2026-03-16", "2026-04-01").await,
        pairs(&[("03-16 09:00", "Standup"), ("03-24 11:00", "Standup (moved)"), ("03-30 09:00", "Standup")])
    );
    let month = app.get("/calendar/month/2026-03-01").await;
    assert_eq!(month.headers().get_one("X-Cache"), Some("MISS"));
    let month = month.into_string().await.unwrap();
    assert!(month.contains("Standup (moved)") && !month.contains("at=20260323T080000Z"));
    let occurrence = body(&app, &format!("/events/{first}?at=20260330T070000Z")).await;
    assert!(occurrence.contains("Standup"));
    // The original URL of the edited occurrence shows it as edited; a form still open from
    // before the edit changes the edited occurrence, never the series.
    let original = body(&app, &format!("/events/{first}?at=20260323T080000Z")).await;
    assert!(original.contains("Standup (moved)") && original.contains("changed on its own"));
    let stale = [
        ("occurrence", "20260323T080000Z"),
        ("scope", "this"),
        ("title", "Standup (moved)"),
        ("start", "2026-03-24T11:00"),
        ("end", "2026-03-24T11:30"),
    ];
    assert_eq!(save(&app, &format!("/events/{first}"), &stale).await, format!("/events/{edited}"));
    assert_eq!(agenda(&app, "2026-03-16", "2026-04-01").await.len(), 3);

    // This and following: from 6 April the series is at 10:00 and renamed.
    let mut following = vec![
        ("occurrence", "20260406T070000Z"),
        ("scope", "following"),
        ("title", "Standup v2"),
        ("start", "2026-04-06T10:00"),
        ("end", "2026-04-06T10:30"),
    ];
    following.extend_from_slice(&weekly);
    let second = id_of(&save(&app, &format!("/events/{first}"), &following).await);
    assert_eq!(
        agenda(&app, "2026-03-30", "2026-04-14").await,
        pairs(&[("03-30 09:00", "Standup"), ("04-06 10:00", "Standup v2"), ("04-13 10:00", "Standup v2")])
    );
    // Search finds the series (once) and the edited occurrence.
    let found = body(&app, "/search?q=standup").await;
    assert!(
        found.contains(&format!("/events/{second}\"")) && found.contains(&format!("/events/{edited}\"")),
        "{found}"
    );
    let april = body(&app, "/calendar/month/2026-04-01").await;
    assert!(april.contains("Standup v2") && april.contains(&format!("/events/{second}?at=20260413T080000Z")));

    // All events of the first series: renamed, one hour later; the edited occurrence stays.
    let mut all = vec![
        ("occurrence", "20260330T070000Z"),
        ("scope", "all"),
        ("title", "Sync"),
        ("start", "2026-03-30T10:00"),
        ("end", "2026-03-30T10:30"),
    ];
    // As the form shows it: the series now ends on 5 April.
    all.extend_from_slice(&[
        ("repeat", "weekly"),
        ("weekdays", "MO"),
        ("ends", "until"),
        ("until", "2026-04-05"),
    ]);
    save(&app, &format!("/events/{first}"), &all).await;
    assert_eq!(
        agenda(&app, "2026-03-16", "2026-04-07").await,
        pairs(&[
            ("03-16 10:00", "Sync"),
            ("03-24 11:00", "Standup (moved)"),
            ("03-30 10:00", "Sync"),
            ("04-06 10:00", "Standup v2")
        ])
    );

    // Deleting this occurrence, then this and following of the second series.
    let delete = [("occurrence", "20260316T090000Z"), ("scope", "this")];
    save(&app, &format!("/events/{first}/delete"), &delete).await;
    let delete = [("occurrence", "20260413T080000Z"), ("scope", "following")];
    save(&app, &format!("/events/{second}/delete"), &delete).await;
    assert_eq!(
        agenda(&app, "2026-03-16", "2026-05-01").await,
        pairs(&[("03-24 11:00", "Standup (moved)"), ("03-30 10:00", "Sync"), ("04-06 10:00", "Standup v2")])
    );
    // The deleted occurrence is gone from its URL too.
    assert_status(&app.get(&format!("/events/{first}?at=20260316T090000Z")).await, Status::NotFound);

    // Another user sees none of it.
    let other = app.browser();
    assert_status(&other.register("bob", PASSWORD).await, Status::SeeOther);
    assert_status(&other.get(&format!("/events/{first}?at=20260330T080000Z")).await, Status::NotFound);
    assert_status(&other.get(&format!("/events/{edited}")).await, Status::NotFound);
    let delete = [("occurrence", "20260330T080000Z"), ("scope", "all")];
    assert_status(
        &other.post_with_token(&format!("/events/{first}/delete"), &delete).await,
        Status::NotFound,
    );

    // All: the series and its edited occurrence go.
    save(&app, &format!("/events/{first}/delete"), &[("occurrence", "20260330T080000Z"), ("scope", "all")])
        .await;
    assert_eq!(agenda(&app, "2026-03-16", "2026-05-01").await, pairs(&[("04-06 10:00", "Standup v2")]));
    assert_status(&app.get(&format!("/events/{edited}")).await, Status::NotFound);
}

async fn bad_repeat_choices_keep_the_form(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    berlin_user(&app, "amy").await;
    let fields = [
        ("title", "Yoga"),
        ("start", "2026-06-01T18:00"),
        ("end", "2026-06-01T19:00"),
        ("repeat", "weekly"),
        ("interval", "0"),
        ("ends", "count"),
        ("count", "many"),
    ];
    let response = app.post_with_token("/events", &fields).await;
    assert_status(&response, Status::UnprocessableEntity);
    let page = response.into_string().await.unwrap();
    assert!(page.contains("Enter a whole number from 1 to 99") && page.contains("value=\"Yoga\""));
    assert!(page.contains("value=\"many\"") && page.contains("<option value=\"weekly\" selected"));
    assert_eq!(agenda(&app, "2026-01-01", "2027-01-01").await.len(), 0);
}

/// An endless daily series from 1970 costs no more than its visible days.
async fn endless_series_stay_bounded(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    berlin_user(&app, "amy").await;
    let fields =
        [("title", "Pills"), ("start", "1970-01-01T08:00"), ("end", "1970-01-01T08:05"), ("repeat", "daily")];
    save(&app, "/events", &fields).await;
    let started = std::time::Instant::now();
    let month = body(&app, "/calendar/month/2026-06-01").await;
    let grid = month.split("</table>").next().unwrap_or_default();
    assert_eq!(grid.matches("Pills").count(), 42, "six weeks of the grid");
    let home = body(&app, "/").await;
    assert!(home.contains("Pills"));
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

/// `eventide seed --series` writes series that the range read expands.
async fn seeded_series_expand(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    let plan = eventide::seed::SeedPlan {
        users: 1,
        events: 10,
        series: 6,
        calendars: 3,
        prefix: "rs".into(),
        password: "eventide-seed".into(),
    };
    let cache = app.client.rocket().state::<eventide::cache::Cache>().unwrap();
    let writes = eventide::writes::Writes::new(app.store(), cache);
    let report = eventide::seed::run(app.store(), &writes, &plan).await.unwrap();
    assert!(report[0].ends_with("10 events, 6 repeating"), "{report:?}");
    let from: DateTime<Utc> = "2026-06-01T00:00:00Z".parse().unwrap();
    let until: DateTime<Utc> = "2026-07-01T00:00:00Z".parse().unwrap();
    let events = app.events_of(1, from, until).await;
    let occurrences = events.iter().filter(|e| e.occurrence.is_some()).count();
    // Daily 30, Mon/Wed/Fri 13, every other Tuesday 2, last Friday 1, the 15th 1 (yearly: maybe).
    assert!((47..=48).contains(&occurrences), "{occurrences}");
    assert_eq!(app.store().calendars_of(eventide::domain::UserId(1)).await.unwrap().len(), 3);
}

/// A move or a delete as the calendar's script sends it (htmx headers): 204, where to go, and
/// the undo token it offers.
async fn htmx_post(app: &TestApp, uri: &str, fields: &[(&str, &str)]) -> (Status, Option<String>) {
    let token = app.csrf_token().await;
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    let request = app
        .client
        .post(uri.to_string())
        .header(rocket::http::ContentType::Form)
        .header(rocket::http::Header::new("HX-Request", "true"))
        .body(encode_form(&all));
    let response = app.send(request).await;
    let offer = response.headers().get_one("HX-Trigger").map(|trigger| {
        let trigger: serde_json::Value = serde_json::from_str(trigger).unwrap();
        trigger["eventide:undo"]["token"].as_str().unwrap().to_string()
    });
    (response.status(), offer)
}

async fn undo(browser: &impl Browse, token: &str) -> Status {
    let csrf = browser.csrf_token().await;
    let request = browser
        .client()
        .post(format!("/undo/{token}"))
        .header(rocket::http::Header::new("X-CSRF-Token", csrf));
    browser.send(request).await.status()
}

/// The iCalendar export without its timestamps (a row that comes back is created anew):
/// what the user has, to the property.
async fn exported(app: &TestApp) -> Vec<String> {
    let ics = body(app, "/export.ics").await;
    let mut lines: Vec<String> = ics
        .lines()
        .filter(|l| !["DTSTAMP", "LAST-MODIFIED", "CREATED"].iter().any(|stamp| l.starts_with(stamp)))
        .map(String::from)
        .collect();
    lines.sort();
    lines
}

/// Moves of every scope and deletes are undone exactly (series, exceptions, UIDs), once, by
/// their user only; a bad time is a 422 that changes nothing.
async fn moves_and_deletes_undo_exactly(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    berlin_user(&app, "una").await;
    let single = id_of(
        &save(
            &app,
            "/events",
            &[("title", "Swim"), ("start", "2026-06-09T10:00"), ("end", "2026-06-09T11:00")],
        )
        .await,
    );
    let fields = [
        ("title", "Pills"),
        ("start", "2026-06-08T08:00"),
        ("end", "2026-06-08T08:15"),
        ("repeat", "daily"),
        ("ends", "count"),
        ("count", "5"),
    ];
    let series = id_of(&save(&app, "/events", &fields).await);
    // An edited occurrence, so the series has more than one row.
    let edit = [
        ("title", "Pills (late)"),
        ("start", "2026-06-11T09:00"),
        ("end", "2026-06-11T09:15"),
        ("scope", "this"),
        ("occurrence", "20260611T060000Z"),
    ];
    save(&app, &format!("/events/{series}"), &edit).await;
    let before = exported(&app).await;
    let week = agenda(&app, "2026-06-08", "2026-06-15").await;

    // The single event, an hour later and a day on.
    let moved = [("start", "2026-06-10T11:00"), ("end", "2026-06-10T12:00")];
    let (status, token) = htmx_post(&app, &format!("/events/{single}/move"), &moved).await;
    assert_eq!(status, Status::NoContent);
    assert!(agenda(&app, "2026-06-10", "2026-06-11").await.contains(&("06-10 11:00".into(), "Swim".into())));
    let token = token.expect("an undo offer");
    let stranger = app.browser();
    stranger.register("vic", PASSWORD).await;
    assert_eq!(undo(&stranger, &token).await, Status::NotFound, "another user's token is nothing to them");
    assert_eq!(undo(&app, &token).await, Status::NoContent);
    assert_eq!(undo(&app, &token).await, Status::NotFound, "once only");
    assert_eq!(exported(&app).await, before);

    // A bad time: 422, nothing written, no offer.
    let backwards = [("start", "2026-06-10T11:00"), ("end", "2026-06-10T10:00")];
    let (status, token) = htmx_post(&app, &format!("/events/{single}/move"), &backwards).await;
    assert_eq!((status, token), (Status::UnprocessableEntity, None));
    assert_eq!(exported(&app).await, before);

    // Every scope of a move of the series' third occurrence, and every scope of a delete.
    for scope in ["this", "following", "all"] {
        let fields = [
            ("start", "2026-06-10T08:30"),
            ("end", "2026-06-10T08:45"),
            ("scope", scope),
            ("occurrence", "20260610T060000Z"),
        ];
        let (status, token) = htmx_post(&app, &format!("/events/{series}/move"), &fields).await;
        assert_eq!(status, Status::NoContent, "{scope}");
        assert_ne!(agenda(&app, "2026-06-08", "2026-06-15").await, week, "{scope} moved something");
        assert_eq!(undo(&app, &token.unwrap()).await, Status::NoContent);
        assert_eq!(exported(&app).await, before, "move {scope} undone");
        assert_eq!(agenda(&app, "2026-06-08", "2026-06-15").await, week);

        let choice = [("scope", scope), ("occurrence", "20260610T060000Z")];
        let (status, token) = htmx_post(&app, &format!("/events/{series}/delete"), &choice).await;
        assert_eq!(status, Status::NoContent, "{scope}");
        assert!(
            agenda(&app, "2026-06-08", "2026-06-15").await.len() < week.len(),
            "{scope} deleted something"
        );
        assert_eq!(undo(&app, &token.unwrap()).await, Status::NoContent);
        assert_eq!(exported(&app).await, before, "delete {scope} undone");
    }
    // Without htmx (JavaScript off) a move is a form post like any other: a redirect.
    let plain = app.post_with_token(&format!("/events/{single}/move"), &moved).await;
    assert_status(&plain, Status::SeeOther);
    assert!(plain.headers().get_one("HX-Trigger").is_none());
}

crate::on_both_engines!(
    moves_and_deletes_undo_exactly,
    seeded_series_expand,
    every_scope,
    bad_repeat_choices_keep_the_form,
    endless_series_stay_bounded
);
