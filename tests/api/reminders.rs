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

async fn body_of(app: &TestApp, uri: &str) -> String {
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
    use crate::dav_client::{event, start, DavClient};
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let port = start(&app).await;
    let secret = eventide::auth::app_passwords::create(app.store(), eventide::domain::UserId(1), "Phone")
        .await
        .unwrap();
    let phone = DavClient::new(port, "amy", &secret);
    let calendar = app.store().calendars_of(eventide::domain::UserId(1)).await.unwrap()[0].id.0;
    let path = format!("/dav/calendars/amy/{calendar}/call.ics");
    let alarm = "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Call\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n";
    let put = phone
        .put(&path, &event("call@phone", "Call", "20260603T100000Z", "20260603T103000Z", alarm), &[])
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

crate::on_both_engines!(
    the_form_sets_reminders_and_exports_them_as_alarms,
    valarms_come_in_from_files_and_go_back_out_once,
    a_phones_alarm_shows_on_the_web_and_back,
);
