//! Reminders on events (issue 19, first slice): set in the form (the `reminders` field,
//! repeated), shown on the event, kept through edits and moves, written as VALARMs on export
//! and over CalDAV, and read from VALARMs on import and from a phone's PUT.

use rocket::http::Status;

use crate::helpers::*;
use crate::ical::{import, upload_of};

async fn event_with<'a>(
    app: &'a TestApp,
    reminders: &[&str],
) -> rocket::local::asynchronous::LocalResponse<'a> {
    let mut fields = vec![("title", "Dentist"), ("start", "2026-06-03T10:00"), ("end", "2026-06-03T11:00")];
    fields.extend(reminders.iter().map(|r| ("reminders", *r)));
    app.post_with_token("/events", &fields).await
}

pub(crate) async fn body_of(app: &TestApp, uri: &str) -> String {
    app.get(uri).await.into_string().await.unwrap_or_default()
}

async fn the_form_sets_reminders_and_exports_them_as_alarms(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let made = event_with(&app, &["1440", "10", ""]).await;
    assert_status(&made, Status::SeeOther);
    let id: i64 = made.headers().get_one("Location").unwrap().trim_start_matches("/events/").parse().unwrap();

    let page = body_of(&app, &format!("/events/{id}")).await;
    assert!(page.contains("10 minutes before, 1 day before"), "{page}");
    let form = body_of(&app, &format!("/events/{id}/edit")).await;
    assert!(form.contains(r#"name="reminders" value="10" checked"#), "{form}");
    assert!(form.contains(r#"name="reminders" value="1440" checked"#));
    assert!(form.contains(r#"name="reminders" value="60">"#), "unticked choices are offered");

    let ics = body_of(&app, &format!("/events/{id}.ics")).await;
    assert_eq!(ics.matches("BEGIN:VALARM").count(), 2, "{ics}");
    assert!(ics.contains("TRIGGER:-PT10M") && ics.contains("TRIGGER:-P1D"), "{ics}");

    // A move keeps them; an edit without them removes them.
    let moved = [("start", "2026-06-04T10:00"), ("end", "2026-06-04T11:00")];
    assert_status(&app.post_with_token(&format!("/events/{id}/move"), &moved).await, Status::SeeOther);
    assert!(body_of(&app, &format!("/events/{id}")).await.contains("10 minutes before"));
    let edit = [("title", "Dentist"), ("start", "2026-06-04T10:00"), ("end", "2026-06-04T11:00")];
    assert_status(&app.post_with_token(&format!("/events/{id}"), &edit).await, Status::SeeOther);
    assert!(!body_of(&app, &format!("/events/{id}.ics")).await.contains("VALARM"));

    // Refused: a clear error on the field, the rest of the form as typed, nothing stored.
    for bad in [&["-5"][..], &["soon"], &["1", "2", "3", "4", "5", "6"], &["50000"]] {
        let refused = event_with(&app, bad).await;
        assert_eq!(refused.status(), Status::UnprocessableEntity, "{bad:?}");
        let html = refused.into_string().await.unwrap();
        assert!(html.contains(r#"id="reminders-error""#) && html.contains(r#"value="Dentist""#), "{bad:?}");
    }
    assert_eq!(app.store().all_events(eventide::domain::UserId(1)).await.unwrap().len(), 1);
}

async fn valarms_come_in_from_files_and_go_back_out_once(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let file = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//phone//EN\r\nBEGIN:VEVENT\r\nUID:alarm@phone\r\n\
        DTSTAMP:20260101T000000Z\r\nDTSTART:20260603T100000Z\r\nDTEND:20260603T110000Z\r\nSUMMARY:Flight\r\n\
        BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Flight\r\nTRIGGER:-PT2H\r\nEND:VALARM\r\n\
        BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Landed?\r\nTRIGGER;RELATED=END:PT5M\r\nEND:VALARM\r\n\
        END:VEVENT\r\nEND:VCALENDAR\r\n";
    let (status, preview) = import(&app, &[], Some(file)).await;
    assert_eq!(status, Status::Ok);
    let (status, _) = import(&app, &[("upload", &upload_of(&preview))], None).await;
    assert_eq!(status, Status::Ok);
    let event = &app.store().all_events(eventide::domain::UserId(1)).await.unwrap()[0];
    assert_eq!(event.reminders.minutes(), [120]);
    assert!(body_of(&app, &format!("/events/{}", event.id.0)).await.contains("2 hours before"));

    // Out again: the reminder as a VALARM of ours, the alarm after the end as it came, each once.
    let exported = body_of(&app, "/export.ics").await;
    assert_eq!(exported.matches("BEGIN:VALARM").count(), 2, "{exported}");
    assert_eq!(exported.matches("TRIGGER:-PT2H").count(), 1);
    assert!(exported.contains("TRIGGER;RELATED=END:PT5M"));
    // And in again: nothing to change.
    let (_, again) = import(&app, &[], Some(&exported)).await;
    assert!(again.contains("0 to create, 0 to update, 1 already up to date"), "{again}");
}

async fn a_phones_alarm_shows_on_the_web_and_back(engine: Engine) {
    let (app, phone) = crate::caldav::amy(engine).await;
    let calendar = app.store().calendars_of(eventide::domain::UserId(1)).await.unwrap()[0].id.0;
    let path = format!("/dav/calendars/amy/{calendar}/call.ics");
    let alarm = "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Call\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n";
    let put = phone
        .put(
            &path,
            &crate::dav_client::event("call@phone", "Call", "20260603T100000Z", "20260603T103000Z", alarm),
            &[],
        )
        .await;
    assert_eq!(put.status, 201, "{}", put.body);
    let id = app.store().all_events(eventide::domain::UserId(1)).await.unwrap()[0].id.0;
    assert!(body_of(&app, &format!("/events/{id}")).await.contains("15 minutes before"));

    let edit = [
        ("title", "Call"),
        ("start", "2026-06-03T10:00"),
        ("end", "2026-06-03T10:30"),
        ("reminders", "15"),
        ("reminders", "60"),
    ];
    assert_status(&app.post_with_token(&format!("/events/{id}"), &edit).await, Status::SeeOther);
    let got = phone.send("GET", &path, &[], b"").await;
    assert!(got.body.contains("TRIGGER:-PT15M") && got.body.contains("TRIGGER:-PT1H"), "{}", got.body);
    assert_eq!(got.body.matches("BEGIN:VALARM").count(), 2, "{}", got.body);
}

/// The grace window the scheduler is run with here (the setting's default).
pub(crate) const GRACE: chrono::Duration = chrono::Duration::hours(1);

/// A user in `zone`, logged in on `app`'s own browser.
pub(crate) async fn user_in(app: &TestApp, zone: &str) {
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let fields = [("time_zone", zone), ("week_start", "1")];
    assert_status(&app.post_with_token("/account/preferences", &fields).await, Status::SeeOther);
}

/// An event made on the web (local times, the user's zone); its id.
pub(crate) async fn make(app: &TestApp, fields: &[(&str, &str)]) -> i64 {
    let made = app.post_with_token("/events", fields).await;
    assert_status(&made, Status::SeeOther);
    made.headers().get_one("Location").unwrap().trim_start_matches("/events/").parse().unwrap()
}

/// Sets the clock to `at` and runs one scheduler pass; the titles notified so far, oldest first.
async fn pass_at(app: &TestApp, at: chrono::DateTime<chrono::Utc>) -> Vec<String> {
    app.clock.advance(at - app.clock.now());
    eventide::reminders::tick(app.store(), at, GRACE).await.unwrap();
    let mut all = app.store().notifications_of(eventide::domain::UserId(1), 100).await.unwrap();
    all.reverse();
    all.into_iter().map(|n| n.title).collect()
}

pub(crate) fn local(zone: &str, at: &str) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    let zone: chrono_tz::Tz = zone.parse().unwrap();
    let naive = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M").unwrap();
    zone.from_local_datetime(&naive).single().unwrap().with_timezone(&chrono::Utc)
}

async fn a_reminder_goes_out_once_at_its_time_across_a_dst_change(engine: Engine) {
    // Each on the day its zone changes its clocks (Auckland's ends, the others' begin).
    for (zone, day) in [
        ("Europe/Berlin", "2027-03-28"),
        ("America/New_York", "2027-03-14"),
        ("Pacific/Auckland", "2027-04-04"),
    ] {
        let app = spawn(engine, Backend::Memory).await;
        user_in(&app, zone).await;
        let (start, end) = (format!("{day}T10:00"), format!("{day}T11:00"));
        make(&app, &[("title", "Standup"), ("start", &start), ("end", &end), ("reminders", "10")]).await;
        let due = local(zone, &format!("{day}T09:50"));
        assert!(pass_at(&app, due - chrono::Duration::minutes(1)).await.is_empty(), "{zone}: not yet");
        assert_eq!(pass_at(&app, due).await, ["Standup"], "{zone}: at 09:50 local");
        assert_eq!(pass_at(&app, due + chrono::Duration::minutes(5)).await, ["Standup"], "{zone}: once");
        // Months went by on the clock: the session has expired.
        assert_status(&app.login("amy", PASSWORD).await, Status::SeeOther);
        let tray = body_of(&app, "/notifications").await;
        assert!(tray.contains("Standup") && tray.contains("10 minutes before"), "{tray}");
        assert!(body_of(&app, "/notifications/count").await.contains(">1<"));
        assert_status(&app.post_with_token("/notifications/read", &[]).await, Status::SeeOther);
        assert_eq!(body_of(&app, "/notifications/count").await, "");
    }
}

async fn a_series_reminds_for_each_occurrence_but_a_cancelled_one(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user_in(&app, "Europe/Berlin").await;
    let fields = [
        ("title", "Swim"),
        ("start", "2027-03-27T09:00"),
        ("end", "2027-03-27T10:00"),
        ("repeat", "daily"),
        ("interval", "1"),
        ("ends", "count"),
        ("count", "3"),
        ("reminders", "10"),
    ];
    let id = make(&app, &fields).await;
    // The second (the day the clocks change) is cancelled.
    let second = local("Europe/Berlin", "2027-03-28T09:00").format("%Y%m%dT%H%M%SZ").to_string();
    let cancel = [("scope", "this"), ("occurrence", second.as_str())];
    assert_status(&app.post_with_token(&format!("/events/{id}/delete"), &cancel).await, Status::SeeOther);
    let mut seen = Vec::new();
    for day in ["2027-03-27", "2027-03-28", "2027-03-29"] {
        seen = pass_at(&app, local("Europe/Berlin", &format!("{day}T08:50"))).await;
    }
    assert_eq!(seen, ["Swim", "Swim"], "the first and the third");
    assert!(pass_at(&app, local("Europe/Berlin", "2027-04-10T08:50")).await.len() == 2, "and no more");
}

async fn edits_and_deletes_reschedule(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user_in(&app, "UTC").await;
    let moved = make(
        &app,
        &[
            ("title", "Moved"),
            ("start", "2027-05-01T10:00"),
            ("end", "2027-05-01T11:00"),
            ("reminders", "30"),
        ],
    )
    .await;
    let gone = make(
        &app,
        &[("title", "Gone"), ("start", "2027-05-01T10:00"), ("end", "2027-05-01T11:00"), ("reminders", "30")],
    )
    .await;
    let later =
        [("title", "Moved"), ("start", "2027-05-01T11:00"), ("end", "2027-05-01T12:00"), ("reminders", "30")];
    assert_status(&app.post_with_token(&format!("/events/{moved}"), &later).await, Status::SeeOther);
    assert_status(&app.post_with_token(&format!("/events/{gone}/delete"), &[]).await, Status::SeeOther);
    assert!(pass_at(&app, local("UTC", "2027-05-01T09:30")).await.is_empty(), "neither at the old time");
    assert_eq!(pass_at(&app, local("UTC", "2027-05-01T10:30")).await, ["Moved"]);
}

async fn an_all_day_event_reminds_from_the_owners_midnight(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user_in(&app, "Europe/Berlin").await;
    // 900 minutes before midnight: 09:00 the day before, in the owner's zone.
    let fields = [
        ("title", "Holiday"),
        ("start", "2027-05-10"),
        ("end", "2027-05-10"),
        ("all_day", "on"),
        ("reminders", "900"),
    ];
    let id = make(&app, &fields).await;
    assert!(body_of(&app, &format!("/events/{id}")).await.contains("the day before at 09:00"));
    let form = body_of(&app, &format!("/events/{id}/edit")).await;
    let all_day_list = form.split(r#"data-reminders="all-day""#).nth(1).unwrap_or_default();
    assert!(all_day_list.contains(r#"value="900" checked> the day before at 09:00"#), "{form}");
    assert!(pass_at(&app, local("Europe/Berlin", "2027-05-09T08:59")).await.is_empty());
    assert_eq!(pass_at(&app, local("Europe/Berlin", "2027-05-09T09:00")).await, ["Holiday"]);
    assert_status(&app.login("amy", PASSWORD).await, Status::SeeOther);
    let tray = body_of(&app, "/notifications").await;
    assert!(tray.contains("Monday, 10 May 2027 ·") && tray.contains("the day before at 09:00"), "{tray}");

    // Moved to Auckland, the next one reminds at 09:00 there (ten hours before Berlin's).
    assert_status(&app.login("amy", PASSWORD).await, Status::SeeOther);
    let fields = [
        ("title", "Holiday 2"),
        ("start", "2027-06-10"),
        ("end", "2027-06-10"),
        ("all_day", "on"),
        ("reminders", "900"),
    ];
    make(&app, &fields).await;
    let prefs = [("time_zone", "Pacific/Auckland"), ("week_start", "1")];
    assert_status(&app.post_with_token("/account/preferences", &prefs).await, Status::SeeOther);
    assert_eq!(pass_at(&app, local("Pacific/Auckland", "2027-06-09T08:59")).await.len(), 1);
    assert_eq!(pass_at(&app, local("Pacific/Auckland", "2027-06-09T09:00")).await.len(), 2);
}

async fn concurrent_passes_send_each_reminder_once(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user_in(&app, "UTC").await;
    for n in 0..12 {
        let title = format!("Meeting {n}");
        make(
            &app,
            &[
                ("title", &title),
                ("start", "2027-06-01T10:00"),
                ("end", "2027-06-01T11:00"),
                ("reminders", "15"),
                ("reminders", "60"),
            ],
        )
        .await;
    }
    let at = local("UTC", "2027-06-01T09:45");
    app.clock.advance(at - app.clock.now());
    let store = app.store();
    // As two instances on one database would: passes at once, each over its own connections.
    let passes =
        rocket::futures::future::join_all((0..4).map(|_| eventide::reminders::tick(store, at, GRACE))).await;
    // (The app's own scheduler may take a share too: the count that matters is the table's.)
    let sent: usize = passes.into_iter().map(|p| p.unwrap().notified).sum();
    let made = store.notifications_of(eventide::domain::UserId(1), 100).await.unwrap();
    assert_eq!(made.len(), 24, "each of 12 events' two reminders, once");
    assert!(sent <= 24);
}

async fn after_downtime_recent_ones_go_out_and_older_are_missed(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user_in(&app, "UTC").await;
    make(
        &app,
        &[
            ("title", "Long ago"),
            ("start", "2027-07-01T08:00"),
            ("end", "2027-07-01T09:00"),
            ("reminders", "0"),
        ],
    )
    .await;
    make(
        &app,
        &[
            ("title", "Just now"),
            ("start", "2027-07-01T10:30"),
            ("end", "2027-07-01T11:00"),
            ("reminders", "0"),
        ],
    )
    .await;
    // Down from 07:00 to 11:00: 08:00 is three hours late, 10:30 within the hour's grace.
    let back = local("UTC", "2027-07-01T11:00");
    app.clock.advance(back - app.clock.now());
    assert_eq!(pass_at(&app, back).await, ["Just now"]);
    let far = local("UTC", "2030-01-01T00:00");
    let left = app.store().claim_due_reminders(far, far, 10).await.unwrap();
    assert!(left.is_empty(), "the missed one is done with, not waiting to go out late");
}

async fn a_calendars_default_reminders_start_new_events(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user_in(&app, "UTC").await;
    let calendar = app.store().default_calendar(eventide::domain::UserId(1)).await.unwrap().id.0;
    let path = format!("/calendars/{calendar}/reminders");
    let defaults = [("reminders", "10"), ("reminders", "60"), ("all_day_reminders", "900")];
    assert_status(&app.post_with_token(&path, &defaults).await, Status::SeeOther);
    let page = body_of(&app, "/calendars").await;
    assert!(page.contains(r#"name="reminders" value="10" checked"#), "{page}");
    assert!(page.contains(r#"name="all_day_reminders" value="900" checked"#), "{page}");

    // The new-event form starts with them ticked, the all-day list with its own.
    let form = body_of(&app, "/events/new?date=2027-05-01").await;
    let (timed, all_day) = form.split_once(r#"data-reminders="all-day""#).unwrap();
    assert!(timed.contains(r#"value="10" checked"#) && timed.contains(r#"value="60" checked"#), "{form}");
    assert!(all_day.contains(r#"value="900" checked"#) && !all_day.contains(r#"value="10" checked"#));

    // The quick-create popover (no reminder boxes) gets them; the full form sends what is ticked.
    let quick = [
        ("title", "Quick"),
        ("start", "2027-05-01T10:00"),
        ("end", "2027-05-01T11:00"),
        ("calendar_reminders", "true"),
    ];
    let id = make(&app, &quick).await;
    assert!(body_of(&app, &format!("/events/{id}")).await.contains("10 minutes before, 1 hour before"));
    let unticked =
        make(&app, &[("title", "Plain"), ("start", "2027-05-01T10:00"), ("end", "2027-05-01T11:00")]).await;
    assert!(!body_of(&app, &format!("/events/{unticked}")).await.contains("before"));

    // Refused: the page again with the error and the boxes as typed; nothing stored.
    let refused = app.post_with_token(&path, &[("reminders", "-5"), ("reminders", "30")]).await;
    assert_eq!(refused.status(), Status::UnprocessableEntity);
    let html = refused.into_string().await.unwrap();
    assert!(
        html.contains(&format!(r#"id="reminders-error-{calendar}""#))
            && html.contains(r#"value="30" checked"#)
    );
    assert!(body_of(&app, "/events/new").await.contains(r#"value="60" checked"#), "the old defaults stand");

    // Only the owner sets them.
    let other = app.browser();
    assert_status(&other.register("zed", PASSWORD).await, Status::SeeOther);
    assert_status(&other.post_with_token(&path, &defaults).await, Status::NotFound);
}

async fn an_all_day_reminder_at_a_time_of_ones_own(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    user_in(&app, "Europe/Berlin").await;
    let day = [("title", "Trip"), ("start", "2027-05-10"), ("end", "2027-05-10"), ("all_day", "on")];
    let bad = [&day[..], &[("reminder_days", "1"), ("reminder_time", "half past seven")]].concat();
    let refused = app.post_with_token("/events", &bad).await;
    assert_eq!(refused.status(), Status::UnprocessableEntity);
    let html = refused.into_string().await.unwrap();
    assert!(
        html.contains(r#"id="reminders-error""#) && html.contains(r#"value="half past seven""#),
        "{html}"
    );
    let own =
        [&day[..], &[("reminder_days", "2"), ("reminder_time", "07:30"), ("reminders", "900")]].concat();
    let id = make(&app, &own).await;
    let page = body_of(&app, &format!("/events/{id}")).await;
    assert!(page.contains("the day before at 09:00, 2 days before at 07:30"), "{page}");
    assert!(pass_at(&app, local("Europe/Berlin", "2027-05-08T07:29")).await.is_empty());
    assert_eq!(pass_at(&app, local("Europe/Berlin", "2027-05-08T07:30")).await, ["Trip"]);
    // A timed event ignores it (its list is the one sent).
    assert_status(&app.login("amy", PASSWORD).await, Status::SeeOther);
    let timed = [
        ("title", "Call"),
        ("start", "2027-06-01T10:00"),
        ("end", "2027-06-01T11:00"),
        ("reminder_days", "1"),
        ("reminder_time", "07:30"),
    ];
    let call = make(&app, &timed).await;
    assert!(!body_of(&app, &format!("/events/{call}")).await.contains("before"));
}

crate::on_both_engines!(
    an_all_day_reminder_at_a_time_of_ones_own,
    a_calendars_default_reminders_start_new_events,
    a_reminder_goes_out_once_at_its_time_across_a_dst_change,
    a_series_reminds_for_each_occurrence_but_a_cancelled_one,
    edits_and_deletes_reschedule,
    an_all_day_event_reminds_from_the_owners_midnight,
    concurrent_passes_send_each_reminder_once,
    after_downtime_recent_ones_go_out_and_older_are_missed,
    the_form_sets_reminders_and_exports_them_as_alarms,
    valarms_come_in_from_files_and_go_back_out_once,
    a_phones_alarm_shows_on_the_web_and_back,
);
