//! Events and the calendar views: CRUD, validation, ownership, fragments, time zones.

use rocket::http::{ContentType, Header, Status};

use crate::helpers::*;

async fn user(app: &TestApp, name: &str) {
    assert_status(&app.register(name, PASSWORD).await, Status::SeeOther);
}

async fn set_zone(browser: &impl Browse, zone: &str, week_start: &str) {
    let fields = [("time_zone", zone), ("week_start", week_start)];
    assert_status(&browser.post_with_token("/account/preferences", &fields).await, Status::SeeOther);
}

/// Creates an event and returns its id.
async fn create(browser: &impl Browse, title: &str, start: &str, end: &str, all_day: bool) -> i64 {
    let mut fields = vec![("title", title), ("start", start), ("end", end), ("location", "Room 1")];
    if all_day {
        fields.push(("all_day", "on"));
    }
    let response = browser.post_with_token("/events", &fields).await;
    assert_status(&response, Status::SeeOther);
    let location = response.headers().get_one("Location").unwrap().to_string();
    location.trim_start_matches("/events/").parse().unwrap()
}

async fn body(browser: &impl Browse, uri: &str) -> String {
    let response = browser.get(uri).await;
    assert_status(&response, Status::Ok);
    response.into_string().await.unwrap()
}

async fn event_count(app: &TestApp) -> usize {
    let from = "1900-01-01T00:00:00Z".parse().unwrap();
    let until = "2200-01-01T00:00:00Z".parse().unwrap();
    let mut total = 0;
    for id in 1..=5 {
        total += app.events_of(id, from, until).await.len();
    }
    total
}

async fn crud_round_trip(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user(&app, "amy").await;
    let id = create(&app, "Dentist", "2026-06-01T09:00", "2026-06-01T09:30", false).await;
    let page = body(&app, &format!("/events/{id}")).await;
    assert!(page.contains("Dentist") && page.contains("09:00–09:30") && page.contains("Room 1"));

    let form = body(&app, &format!("/events/{id}/edit")).await;
    assert!(form.contains("value=\"2026-06-01T09:00\"") && form.contains("value=\"Dentist\""));

    let update = [("title", "Dentist (moved)"), ("start", "2026-06-02T10:00"), ("end", "2026-06-02T11:00")];
    let response = app.post_with_token(&format!("/events/{id}"), &update).await;
    assert_status(&response, Status::SeeOther);
    assert!(body(&app, &format!("/events/{id}")).await.contains("Dentist (moved)"));

    let token = app.csrf_token().await;
    let put = app
        .client
        .put(format!("/events/{id}"))
        .header(ContentType::Form)
        .header(Header::new("HX-Request", "true"))
        .header(Header::new("X-CSRF-Token", token.clone()))
        .body(encode_form(&[
            ("title", "Via htmx"),
            ("start", "2026-06-02"),
            ("end", "2026-06-03"),
            ("all_day", "on"),
        ]));
    let response = app.send(put).await;
    assert_status(&response, Status::NoContent);
    let location = |r: &rocket::local::asynchronous::LocalResponse<'_>| {
        let header = r.headers().get_one("HX-Location").unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(header).unwrap_or_default()
    };
    assert_eq!(
        location(&response),
        serde_json::json!({ "path": format!("/events/{id}"), "target": "#main", "swap": "innerHTML" })
    );
    let page = body(&app, &format!("/events/{id}")).await;
    assert!(page.contains("Via htmx") && page.contains("2 June 2026 – 3 June 2026 (all day)"), "{page}");

    let delete = app
        .client
        .delete(format!("/events/{id}"))
        .header(Header::new("HX-Request", "true"))
        .header(Header::new("X-CSRF-Token", token));
    let response = app.send(delete).await;
    assert_status(&response, Status::NoContent);
    assert_eq!(location(&response)["path"], "/calendar/day/2026-06-02");
    assert_status(&app.get(&format!("/events/{id}")).await, Status::NotFound);

    let second = create(&app, "Second", "2026-06-05T08:00", "2026-06-05T09:00", false).await;
    let response = app.post_with_token(&format!("/events/{second}/delete"), &[]).await;
    assert_status(&response, Status::SeeOther);
    assert_eq!(response.headers().get_one("Location"), Some("/calendar/day/2026-06-05"));
    assert_eq!(event_count(&app).await, 0);
}

async fn invalid_events_are_422_with_input_kept_and_nothing_written(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user(&app, "ben").await;
    set_zone(&app, "Europe/Berlin", "1").await;
    let long_title = "t".repeat(201);
    let long_location = "l".repeat(201);
    let long_description = "d".repeat(10_001);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("title", ""), ("start", "2026-06-01T09:00"), ("end", "2026-06-01T10:00")], "title-error"),
        (vec![("title", "   "), ("start", "2026-06-01T09:00"), ("end", "2026-06-01T10:00")], "title-error"),
        (
            vec![("title", &long_title), ("start", "2026-06-01T09:00"), ("end", "2026-06-01T10:00")],
            "title-error",
        ),
        (
            vec![
                ("title", "x"),
                ("location", &long_location),
                ("start", "2026-06-01T09:00"),
                ("end", "2026-06-01T10:00"),
            ],
            "location-error",
        ),
        (
            vec![
                ("title", "x"),
                ("description", &long_description),
                ("start", "2026-06-01T09:00"),
                ("end", "2026-06-01T10:00"),
            ],
            "description-error",
        ),
        (vec![("title", "x"), ("start", "2026-02-30T09:00"), ("end", "2026-06-01T10:00")], "start-error"),
        (vec![("title", "x"), ("start", "yesterday"), ("end", "2026-06-01T10:00")], "start-error"),
        (vec![("title", "x"), ("start", "2026-06-01T09:00"), ("end", "2026-06-01T25:00")], "end-error"),
        (vec![("title", "x"), ("start", "2026-06-01T10:00"), ("end", "2026-06-01T09:59")], "end-error"),
        (
            vec![("title", "x"), ("start", "2026-06-03"), ("end", "2026-06-02"), ("all_day", "on")],
            "end-error",
        ),
        (
            vec![("title", "x"), ("start", "2026-03-29T02:30"), ("end", "2026-03-29T04:00")],
            "does not exist in Europe/Berlin",
        ),
    ];
    for (fields, expected) in cases {
        let response = app.post_with_token("/events", &fields).await;
        assert_status(&response, Status::UnprocessableEntity);
        let page = response.into_string().await.unwrap();
        assert!(page.contains(expected), "{fields:?}: expected {expected}");
        let start = fields.iter().find(|(k, _)| *k == "start").unwrap().1;
        assert!(page.contains(&format!("value=\"{start}\"")), "typed start kept");
    }
    // The htmx form gets its own fragment back, swapped in place.
    let token = app.csrf_token().await;
    let request = app
        .client
        .post("/events")
        .header(ContentType::Form)
        .header(Header::new("HX-Request", "true"))
        .header(Header::new("X-CSRF-Token", token))
        .body(encode_form(&[("title", ""), ("start", "2026-06-01T09:00"), ("end", "2026-06-01T10:00")]));
    let response = app.send(request).await;
    assert_status(&response, Status::UnprocessableEntity);
    let fragment = response.into_string().await.unwrap();
    assert!(fragment.trim_start().starts_with("<section") && fragment.contains("id=\"event-form\""));
    assert_eq!(event_count(&app).await, 0);
}

async fn unicode_and_hostile_text_is_kept_and_inert(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user(&app, "cleo").await;
    let titles = [
        "Geburtstag 🎂 Zoë",
        "会议 · مؤتمر",
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "<a hx-get=\"/admin\">x</a>",
    ];
    let mut ids = Vec::new();
    for title in titles {
        ids.push(create(&app, title, "2026-07-01T09:00", "2026-07-01T10:00", false).await);
    }
    let pages = [
        body(&app, "/calendar/month/2026-07-01").await,
        body(&app, "/calendar/week/2026-07-01").await,
        body(&app, "/calendar/day/2026-07-01").await,
        body(&app, "/calendar/agenda/2026-07-01").await,
        body(&app, &format!("/events/{}", ids[2])).await,
        body(&app, &format!("/events/{}/edit", ids[3])).await,
        body(&app, &format!("/events/{}", ids[4])).await,
    ];
    for page in &pages {
        assert!(!page.contains("<script>alert"), "raw script tag");
        assert!(!page.contains("<img src=x"), "raw img tag");
        assert!(!page.contains("<a hx-get=\"/admin\">"), "raw htmx attribute");
    }
    assert!(pages[2].contains("Geburtstag 🎂 Zoë") && pages[2].contains("会议 · مؤتمر"));
    assert!(
        pages[4].contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;")
            || pages[4].contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
}

async fn other_users_events_are_404_on_every_route(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user(&app, "dora").await;
    let id = create(&app, "Private", "2026-08-01T09:00", "2026-08-01T10:00", false).await;
    let intruder = app.browser();
    intruder.register("eve", PASSWORD).await;
    let token = intruder.csrf_token().await;
    let fields = [
        ("csrf_token", token.as_str()),
        ("title", "Hacked"),
        ("start", "2026-08-01T09:00"),
        ("end", "2026-08-01T10:00"),
    ];
    assert_status(&intruder.get(&format!("/events/{id}")).await, Status::NotFound);
    assert_status(&intruder.get_htmx(&format!("/events/{id}")).await, Status::NotFound);
    assert_status(&intruder.get(&format!("/events/{id}/edit")).await, Status::NotFound);
    assert_status(&intruder.post_form(&format!("/events/{id}"), &fields).await, Status::NotFound);
    let put = app.client.put(format!("/events/{id}")).header(ContentType::Form).body(encode_form(&fields));
    assert_status(&intruder.send(put).await, Status::NotFound);
    assert_status(&intruder.post_form(&format!("/events/{id}/delete"), &fields[..1]).await, Status::NotFound);
    assert_status(&intruder.post_form(&format!("/events/{id}/move"), &fields).await, Status::NotFound);
    let delete =
        app.client.delete(format!("/events/{id}")).header(Header::new("X-CSRF-Token", token.clone()));
    assert_status(&intruder.send(delete).await, Status::NotFound);
    assert!(!body(&intruder, "/calendar/month/2026-08-01").await.contains("Private"));
    assert!(!body(&intruder, "/calendar/agenda/2026-08-01").await.contains("Private"));
    let page = body(&app, &format!("/events/{id}")).await;
    assert!(page.contains("Private") && !page.contains("Hacked"), "unchanged for its owner");
    // A missing event looks exactly the same.
    assert_status(&intruder.get("/events/999999").await, Status::NotFound);
}

async fn fragments_and_full_pages_share_urls(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user(&app, "fay").await;
    for view in ["month", "week", "day", "agenda"] {
        let uri = format!("/calendar/{view}/2026-11-25");
        let page = app.get(&uri).await;
        assert!(page.headers().get("Vary").any(|v| v.contains("HX-Request")), "{uri}");
        let page = page.into_string().await.unwrap();
        assert!(page.starts_with("<!doctype html>") && page.contains("id=\"calendar\""), "{uri}");
        let fragment = app.get_htmx(&uri).await;
        assert!(fragment.headers().get("Vary").any(|v| v.contains("HX-Request")));
        let fragment = fragment.into_string().await.unwrap();
        assert!(!fragment.contains("<html") && fragment.contains("id=\"calendar\""), "{uri}");
        assert!(fragment.contains("hx-swap-oob=\"true\""), "announces the new period");
        let restore = app
            .client
            .get(uri.clone())
            .header(Header::new("HX-Request", "true"))
            .header(Header::new("HX-History-Restore-Request", "true"));
        assert!(app.send(restore).await.into_string().await.unwrap().starts_with("<!doctype html>"));
    }
    let month = body(&app, "/calendar/month/2026-11-25").await;
    assert!(
        month.contains("hx-get=\"/calendar/month/2026-12-01\"") && month.contains("hx-push-url=\"true\"")
    );
    let redirect = app.get("/calendar").await;
    assert_status(&redirect, Status::SeeOther);
    assert!(redirect.headers().get_one("Location").unwrap().starts_with("/calendar/month/"));
    for bad in [
        "/calendar/year/2026-01-01",
        "/calendar/month/2026-13-01",
        "/calendar/month/20261-01-01",
        "/calendar/day/2027-02-29",
        "/events/abc",
        "/events/0",
        "/events/-1",
        "/events/99999999999999999999999",
    ] {
        assert_status(&app.get(bad).await, Status::NotFound);
    }
}

async fn month_grid_contents_around_month_ends_and_leap_days(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user(&app, "gus").await;
    create(&app, "New Year's Eve", "2026-01-31T20:00", "2026-01-31T23:00", false).await;
    create(&app, "Leap", "2028-02-29", "2028-02-29", true).await;
    create(&app, "Trip", "2026-11-28", "2026-12-02", true).await;
    for i in 0..5 {
        create(
            &app,
            &format!("Busy {i}"),
            &format!("2026-11-10T0{i}:00"),
            &format!("2026-11-10T0{i}:30"),
            false,
        )
        .await;
    }
    // February 2026 begins on a Sunday: with Monday weeks the grid opens on 26 January.
    let february = body(&app, "/calendar/month/2026-02-14").await;
    let cell = february.split("data-date=\"2026-01-31\"").nth(1).unwrap().split("</td>").next().unwrap();
    assert!(cell.contains("New Year&#x27;s Eve") || cell.contains("New Year's Eve"), "{cell}");
    assert!(february.contains("data-date=\"2026-01-26\""));
    let leap = body(&app, "/calendar/month/2028-02-01").await;
    assert!(leap
        .split("data-date=\"2028-02-29\"")
        .nth(1)
        .unwrap()
        .split("</td>")
        .next()
        .unwrap()
        .contains("Leap"));
    assert!(body(&app, "/calendar/day/2028-02-29").await.contains("Leap"));
    // A multi-day event is one bar per week row it spans, across the month end: Saturday and
    // Sunday, then Monday to Wednesday, with the arrows where it goes on.
    let november = body(&app, "/calendar/month/2026-11-01").await;
    let cell = |day: &str| {
        november
            .split(&format!("data-date=\"{day}\""))
            .nth(1)
            .unwrap()
            .split("</td>")
            .next()
            .unwrap()
            .to_string()
    };
    assert!(
        cell("2026-11-28").contains("days-2 filled continues-after") && cell("2026-11-28").contains("Trip")
    );
    assert!(
        cell("2026-11-30").contains("days-3 filled continues-before") && cell("2026-11-30").contains("Trip")
    );
    for day in ["2026-11-29", "2026-12-01", "2026-12-02"] {
        assert!(!cell(day).contains("Trip") && cell(day).contains("class=\"slot\""), "{day}: under the bar");
    }
    assert!(!november
        .split("data-date=\"2026-12-03\"")
        .nth(1)
        .unwrap()
        .split("</td>")
        .next()
        .unwrap()
        .contains("Trip"));
    let busy = november.split("data-date=\"2026-11-10\"").nth(1).unwrap().split("</td>").next().unwrap();
    assert_eq!(busy.matches("Busy").count(), 3);
    assert!(busy.contains("+2 more"));
    assert_eq!(body(&app, "/calendar/day/2026-11-10").await.matches("Busy").count(), 5);
    assert!(body(&app, "/calendar/agenda/2026-11-20").await.contains("Trip"));
}

async fn long_events_are_found_far_from_their_start(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user(&app, "hal").await;
    create(&app, "Sabbatical", "2026-09-01", "2026-12-31", true).await;
    create(&app, "Expedition", "2026-10-01T08:00", "2026-10-20T18:00", false).await;
    assert!(body(&app, "/calendar/day/2026-11-15").await.contains("Sabbatical"));
    let day = body(&app, "/calendar/day/2026-10-15").await;
    assert!(day.contains("Expedition") && day.contains("Sabbatical"));
    assert!(!body(&app, "/calendar/day/2027-01-01").await.contains("Sabbatical"));
}

async fn time_zones_and_dst(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user(&app, "ida").await;
    // Berlin: the night of 29 March 2026 has no 02:00-03:00; 01:30 to 03:30 is one real hour.
    set_zone(&app, "Europe/Berlin", "1").await;
    let id = create(&app, "Night shift", "2026-03-29T01:30", "2026-03-29T03:30", false).await;
    let event = app
        .store()
        .event_for(eventide::domain::UserId(1), eventide::domain::EventId(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((event.end_at - event.start_at).num_minutes(), 60);
    assert!(body(&app, "/calendar/day/2026-03-29").await.contains("01:30–03:30"));

    // New York: 01:30 on 1 November 2026 happens twice; the first (EDT) is meant.
    set_zone(&app, "America/New_York", "0").await;
    let id = create(&app, "Twice", "2026-11-01T01:30", "2026-11-01T02:00", false).await;
    let event = app
        .store()
        .event_for(eventide::domain::UserId(1), eventide::domain::EventId(id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.start_at.to_rfc3339(), "2026-11-01T05:30:00+00:00");
    // The Berlin event, seen from New York, is on the evening before.
    assert!(body(&app, "/calendar/day/2026-03-28").await.contains("Night shift"));

    // Auckland is ahead of UTC: an event at 08:00 local on 1 January is still 31 December in UTC.
    set_zone(&app, "Pacific/Auckland", "1").await;
    create(&app, "New Year swim", "2027-01-01T08:00", "2027-01-01T09:00", false).await;
    let day = body(&app, "/calendar/day/2027-01-01").await;
    assert!(day.contains("New Year swim") && day.contains("08:00–09:00"));
    assert!(!body(&app, "/calendar/day/2026-12-31").await.contains("New Year swim"));
    let response = app
        .post_with_token(
            "/events",
            &[("title", "Gap"), ("start", "2026-09-27T02:15"), ("end", "2026-09-27T04:00")],
        )
        .await;
    assert_status(&response, Status::UnprocessableEntity);
}

async fn week_start_and_today(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user(&app, "jon").await;
    set_zone(&app, "UTC", "0").await;
    let month = body(&app, "/calendar/month/2026-11-25").await;
    let header = month.split("<thead>").nth(1).unwrap();
    assert!(header.find(">Sun<").unwrap() < header.find(">Mon<").unwrap());
    assert!(month.contains("data-date=\"2026-11-01\""), "November 2026 starts on a Sunday");
    assert!(!month.contains("data-date=\"2026-10-31\""));
    let week = body(&app, "/calendar/week/2026-11-25").await;
    assert!(week.contains("/calendar/day/2026-11-22") && !week.contains("/calendar/day/2026-11-21\""));
    set_zone(&app, "UTC", "6").await;
    let week = body(&app, "/calendar/week/2026-11-25").await;
    assert!(week.contains("/calendar/day/2026-11-21"));

    let today = app.clock.now().format("%Y-%m-%d").to_string();
    let month = body(&app, &format!("/calendar/month/{today}")).await;
    let grid = month.split("month-grid").nth(1).unwrap().split("</table>").next().unwrap();
    let marked = grid.split(&format!("data-date=\"{today}\"")).nth(1).unwrap().split('>').next().unwrap();
    assert!(marked.contains("aria-current=\"date\""), "{marked}");
    assert_eq!(grid.matches("aria-current=\"date\"").count(), 1);
    assert_eq!(month.matches("tabindex=\"0\"").count(), 1, "one tab stop in the grid");
}

async fn dashboard_lists_today_and_the_next_30_days(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user(&app, "kai").await;
    let today = app.clock.now().date_naive();
    let fmt = |d: chrono::NaiveDate, t: &str| format!("{}T{t}", d.format("%Y-%m-%d"));
    create(&app, "Lunch today", &fmt(today, "12:00"), &fmt(today, "13:00"), false).await;
    let soon = today + chrono::Duration::days(10);
    create(&app, "Soon", &fmt(soon, "12:00"), &fmt(soon, "13:00"), false).await;
    let far = today + chrono::Duration::days(45);
    create(&app, "Far away", &fmt(far, "12:00"), &fmt(far, "13:00"), false).await;
    let page = body(&app, "/").await;
    let (today_part, later_part) = page.split_once("Next 30 days").unwrap();
    assert!(today_part.contains("Lunch today"));
    assert!(later_part.contains("Soon") && !page.contains("Far away"));
    assert!(page.contains("/events/new?date="));
}

/// A new event opened from a calendar view goes back there; only local paths are followed.
async fn created_from_the_calendar_returns_there(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user(&app, "amy").await;
    let month = body(&app, "/calendar/month/2026-06-01").await;
    assert!(month.contains("/events/new?date=2026-06-01&amp;next=/calendar/month/2026-06-01"), "{month}");
    let form = body(&app, "/events/new?date=2026-06-03&next=/calendar/month/2026-06-01").await;
    assert!(form.contains("name=\"next\" value=\"/calendar/month/2026-06-01\""));
    for (next, expected) in
        [("/calendar/month/2026-06-01", "/calendar/month/2026-06-01"), ("//evil.example/x", "/")]
    {
        let fields =
            [("title", "Lunch"), ("start", "2026-06-03T12:00"), ("end", "2026-06-03T13:00"), ("next", next)];
        let response = app.post_with_token("/events", &fields).await;
        assert_status(&response, Status::SeeOther);
        assert_eq!(response.headers().get_one("Location"), Some(expected));
    }
    assert_eq!(body(&app, "/calendar/month/2026-06-01").await.matches("Lunch").count(), 2);
}

crate::on_both_engines!(
    created_from_the_calendar_returns_there,
    crud_round_trip,
    invalid_events_are_422_with_input_kept_and_nothing_written,
    unicode_and_hostile_text_is_kept_and_inert,
    other_users_events_are_404_on_every_route,
    fragments_and_full_pages_share_urls,
    month_grid_contents_around_month_ends_and_leap_days,
    long_events_are_found_far_from_their_start,
    time_zones_and_dst,
    week_start_and_today,
    dashboard_lists_today_and_the_next_30_days,
);
