//! The CalDAV server, status by status: discovery, objects and their preconditions, reports,
//! calendars, isolation between users, authentication and hostile input. Each test runs the
//! app with its own database and a CalDAV server on a free port of its own.

use rocket::http::Status;

use crate::dav_client::{element, event, hrefs, start, DavClient};
use crate::helpers::*;

/// An app with amy registered, a CalDAV server, and a client with amy's app password.
pub(crate) async fn amy(engine: Engine) -> (TestApp, DavClient) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let port = start(&app).await;
    let secret = eventide::auth::app_passwords::create(app.store(), eventide::domain::UserId(1), "Phone")
        .await
        .unwrap();
    (app, DavClient::new(port, "amy", &secret))
}

/// amy's default calendar's path.
async fn personal(app: &TestApp) -> String {
    let calendars = app.store().calendars_of(eventide::domain::UserId(1)).await.unwrap();
    format!("/dav/calendars/amy/{}/", calendars[0].id.0)
}

async fn discovery_leads_from_the_root_to_the_calendars(engine: Engine) {
    let (app, dav) = amy(engine).await;
    let options = dav.send("OPTIONS", "/dav/", &[], b"").await;
    assert_eq!(options.status, 200);
    assert!(options.header("DAV").unwrap().contains("calendar-access"));
    let well_known = dav.send("PROPFIND", "/.well-known/caldav", &[], b"").await;
    assert_eq!((well_known.status, well_known.header("Location")), (301, Some("/dav/")));
    let web = app.get("/.well-known/caldav").await;
    assert_eq!(web.status(), Status::MovedPermanently);
    assert!(web.headers().get_one("Location").unwrap().ends_with(":8001/dav/"));

    for root in ["/", "/dav/"] {
        let reply = dav.propfind(root, "0", "<d:current-user-principal/>").await;
        assert_eq!(reply.status, 207, "{}", reply.body);
        assert!(
            reply.body.contains("<d:current-user-principal><d:href>/dav/principals/amy/</d:href>"),
            "{}",
            reply.body
        );
    }
    let principal = dav
        .propfind("/dav/principals/amy/", "0", "<c:calendar-home-set/><d:principal-URL/><d:displayname/>")
        .await;
    assert!(
        principal.body.contains("<c:calendar-home-set><d:href>/dav/calendars/amy/</d:href>"),
        "{}",
        principal.body
    );
    assert!(principal.body.contains("<d:displayname>amy</d:displayname>"));

    let home = dav
        .propfind(
            "/dav/calendars/amy/",
            "1",
            "<d:resourcetype/><d:displayname/><ic:calendar-color/><c:supported-calendar-component-set/><d:sync-token/><cs:getctag/><x:unknown xmlns:x=\"urn:x\"/>",
        )
        .await;
    assert_eq!(home.status, 207);
    let calendar = personal(&app).await;
    assert!(hrefs(&home.body).contains(&calendar), "{}", home.body);
    assert!(home.body.contains("<d:displayname>Personal</d:displayname>"));
    assert!(home.body.contains("<c:calendar/>") && home.body.contains("<c:comp name=\"VEVENT\"/>"));
    assert!(home.body.contains("<ic:calendar-color>#1A73E8FF</ic:calendar-color>"), "{}", home.body);
    assert!(home.body.contains("<x:unknown xmlns:x=\"urn:x\"/>") && home.body.contains("404 Not Found"));

    // A client may ask for everything; an empty body is allprop.
    let all = dav.send("PROPFIND", &calendar, &[("Depth", "0")], b"").await;
    assert_eq!(all.status, 207);
    assert!(element(&all.body, "d:sync-token").is_some(), "{}", all.body);
}

async fn objects_round_trip_with_strong_etags_and_preconditions(engine: Engine) {
    let (app, dav) = amy(engine).await;
    let calendar = personal(&app).await;
    let path = format!("{calendar}phone-made.ics");
    let ics = event("uid-1@phone", "Dentist", "20260610T090000Z", "20260610T100000Z", "LOCATION:Main St\r\n");

    let created = dav.put(&path, &ics, &[("If-None-Match", "*")]).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let etag = created.header("ETag").unwrap().to_string();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"));
    assert_eq!(dav.put(&path, &ics, &[("If-None-Match", "*")]).await.status, 412);

    let got = dav.send("GET", &path, &[], b"").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("ETag"), Some(etag.as_str()));
    assert!(got.body.contains("UID:uid-1@phone") && got.body.contains("SUMMARY:Dentist"), "{}", got.body);
    assert_eq!(dav.send("GET", &path, &[], b"").await.body, got.body, "the same bytes every time");

    // The web shows it at once, in the default calendar.
    let day = app.get("/calendar/day/2026-06-10").await.into_string().await.unwrap();
    assert!(day.contains("Dentist"), "visible on the web");

    let renamed = ics.replace("Dentist", "Dentist (moved)");
    assert_eq!(dav.put(&path, &renamed, &[("If-Match", "\"0-0\"")]).await.status, 412);
    let updated = dav.put(&path, &renamed, &[("If-Match", &etag)]).await;
    assert_eq!(updated.status, 204, "{}", updated.body);
    let new_etag = updated.header("ETag").unwrap().to_string();
    assert_ne!(new_etag, etag);
    let day = app.get("/calendar/day/2026-06-10").await.into_string().await.unwrap();
    assert!(day.contains("Dentist (moved)"), "the web sees the change on its next request");

    // One UID, one resource.
    let conflict = dav.put(&format!("{calendar}other-name.ics"), &ics, &[]).await;
    assert_eq!(conflict.status, 403);
    assert!(
        conflict.body.contains("<c:no-uid-conflict><d:href>") && conflict.body.contains("phone-made.ics"),
        "{}",
        conflict.body
    );
    let changed_uid = dav.put(&path, &ics.replace("uid-1@phone", "uid-2@phone"), &[]).await;
    assert_eq!(changed_uid.status, 403);
    assert!(changed_uid.body.contains("valid-calendar-object-resource"));

    // What cannot be stored is refused, with the reason, and nothing is written.
    let refusals = [
        ("not ical at all", "valid-calendar-data"),
        (
            "BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
            "supported-calendar-component",
        ),
        (
            &*event(
                "r@x",
                "Extra dates",
                "20260601T090000Z",
                "20260601T100000Z",
                "RDATE:20260605T090000Z\r\n",
            ),
            "RDATE",
        ),
        (
            &*format!(
                "{}{}",
                event("a@x", "A", "20260601T090000Z", "20260601T100000Z", ""),
                event("b@x", "B", "20260601T090000Z", "20260601T100000Z", "")
            )
            .replace("END:VCALENDAR\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n", ""),
            "one UID",
        ),
        ("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "no event"),
    ];
    for (body, reason) in refusals {
        let reply = dav.put(&format!("{calendar}refused.ics"), body, &[]).await;
        assert_eq!(reply.status, 403, "{reason}: {}", reply.body);
        assert!(reply.body.contains(reason), "{reason}: {}", reply.body);
    }
    assert_eq!(dav.send("GET", &format!("{calendar}refused.ics"), &[], b"").await.status, 404);
    assert_eq!(dav.put("/dav/calendars/amy/999/x.ics", &ics, &[]).await.status, 409, "no such calendar");
    let json =
        dav.send("PUT", &format!("{calendar}j.ics"), &[("Content-Type", "application/json")], b"{}").await;
    assert_eq!(json.status, 403);

    // What Eventide does not model (an alarm after the end, attendees, categories) is kept, not
    // dropped, and survives an edit on the web; an alarm before the start is a reminder.
    let alarm = "CATEGORIES:Health,Family\r\nATTENDEE;CN=\"Dr. Who\";ROLE=REQ-PARTICIPANT:mailto:dr@example.org\r\n\
                 X-PHONE-THING:1\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\n\
                 BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Done?\r\nTRIGGER;RELATED=END:PT5M\r\nEND:VALARM\r\n";
    let with_alarm = event("alarm@phone", "Checkup", "20260611T090000Z", "20260611T100000Z", alarm);
    let alarm_path = format!("{calendar}alarm.ics");
    assert_eq!(dav.put(&alarm_path, &with_alarm, &[]).await.status, 201);
    let kept = dav.send("GET", &alarm_path, &[], b"").await.body;
    for line in [
        "CATEGORIES:Health,Family",
        "ATTENDEE;CN=Dr. Who;ROLE=REQ-PARTICIPANT:mailto:dr@example.org",
        "X-PHONE-THING:1",
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Done?\r\nTRIGGER;RELATED=END:PT5M\r\nEND:VALARM",
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Checkup\r\nTRIGGER:-PT15M\r\nEND:VALARM",
    ] {
        assert!(kept.contains(line), "{line} in {kept}");
    }
    let alarm_id = app
        .store()
        .object_with_uid(eventide::domain::UserId(1), "alarm@phone")
        .await
        .unwrap()
        .unwrap()
        .1
        .id
        .0;
    // The form posts the reminders it shows ticked.
    let fields = [
        ("title", "Checkup (web)"),
        ("start", "2026-06-11T09:00"),
        ("end", "2026-06-11T10:00"),
        ("reminders", "15"),
    ];
    assert_status(&app.post_with_token(&format!("/events/{alarm_id}"), &fields).await, Status::SeeOther);
    let after = dav.send("GET", &alarm_path, &[], b"").await.body;
    assert!(after.contains("SUMMARY:Checkup (web)") && after.contains("TRIGGER:-PT15M"), "{after}");
    assert!(
        after.contains("TRIGGER;RELATED=END:PT5M") && after.matches("BEGIN:VALARM").count() == 2,
        "{after}"
    );
    let attachment = format!("ATTACH;ENCODING=BASE64;VALUE=BINARY:{}\r\n", "A".repeat(40_000));
    let too_much = dav
        .put(
            &format!("{calendar}big.ics"),
            &event("big@x", "Big", "20260611T090000Z", "20260611T100000Z", &attachment),
            &[],
        )
        .await;
    assert_eq!(too_much.status, 403);
    assert!(too_much.body.contains("KiB"), "{}", too_much.body);

    // A change on the web changes the ETag.
    let id = app
        .store()
        .object_with_uid(eventide::domain::UserId(1), "uid-1@phone")
        .await
        .unwrap()
        .unwrap()
        .1
        .id
        .0;
    let fields = [("title", "Dentist (web)"), ("start", "2026-06-10T11:00"), ("end", "2026-06-10T12:00")];
    assert_status(&app.post_with_token(&format!("/events/{id}"), &fields).await, Status::SeeOther);
    let after_web = dav.send("GET", &path, &[], b"").await;
    assert_ne!(after_web.header("ETag"), Some(new_etag.as_str()));
    assert!(after_web.body.contains("SUMMARY:Dentist (web)"));

    let etag = after_web.header("ETag").unwrap().to_string();
    assert_eq!(dav.send("DELETE", &path, &[("If-Match", "\"1-1\"")], b"").await.status, 412);
    assert_eq!(dav.send("DELETE", &path, &[("If-Match", &etag)], b"").await.status, 204);
    assert_eq!(dav.send("GET", &path, &[], b"").await.status, 404);
    assert_eq!(dav.send("DELETE", &path, &[], b"").await.status, 404);
    let day = app.get("/calendar/day/2026-06-10").await.into_string().await.unwrap();
    assert!(!day.contains("Dentist"), "gone from the web at once");
}

async fn reports_find_occurrences_and_sync_from_the_change_log(engine: Engine) {
    let (app, dav) = amy(engine).await;
    let calendar = personal(&app).await;
    let series = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:standup@x\r\nDTSTAMP:20260101T000000Z\r\n\
        DTSTART;TZID=Europe/Berlin:20260601T090000\r\nDTEND;TZID=Europe/Berlin:20260601T091500\r\nRRULE:FREQ=DAILY;COUNT=10\r\n\
        SUMMARY:Standup\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:standup@x\r\nDTSTAMP:20260101T000000Z\r\n\
        RECURRENCE-ID;TZID=Europe/Berlin:20260603T090000\r\nDTSTART;TZID=Europe/Berlin:20260603T100000\r\n\
        DTEND;TZID=Europe/Berlin:20260603T101500\r\nSUMMARY:Standup (late)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    assert_eq!(dav.put(&format!("{calendar}standup.ics"), series, &[]).await.status, 201);
    let one_off = event("lunch@x", "Lunch", "20260720T120000Z", "20260720T130000Z", "");
    assert_eq!(dav.put(&format!("{calendar}lunch.ics"), &one_off, &[]).await.status, 201);

    let query = |start: &str, end: &str, expand: bool| {
        let data = if expand {
            format!("<c:calendar-data><c:expand start=\"{start}\" end=\"{end}\"/></c:calendar-data>")
        } else {
            "<c:calendar-data/>".to_string()
        };
        format!(
            r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/>{data}</d:prop>
            <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="{start}" end="{end}"/>
            </c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#
        )
    };
    let june = dav.report(&calendar, &query("20260601T000000Z", "20260701T000000Z", false)).await;
    assert_eq!(june.status, 207, "{}", june.body);
    assert_eq!(hrefs(&june.body), [format!("{calendar}standup.ics")], "{}", june.body);
    assert!(
        june.body.contains("RRULE:FREQ=DAILY;COUNT=10")
            && june.body.contains("RECURRENCE-ID;TZID=Europe/Berlin:20260603T090000")
    );
    // Only the edited occurrence is in this hour; the series' own occurrence moved out of it.
    let moved = dav.report(&calendar, &query("20260603T080000Z", "20260603T083000Z", false)).await;
    assert_eq!(hrefs(&moved.body), [format!("{calendar}standup.ics")], "{}", moved.body);
    let after_end = dav.report(&calendar, &query("20260615T000000Z", "20260701T000000Z", false)).await;
    assert!(hrefs(&after_end.body).is_empty(), "COUNT=10 ends on the 10th: {}", after_end.body);
    let expanded = dav.report(&calendar, &query("20260602T000000Z", "20260604T000000Z", true)).await;
    assert_eq!(expanded.body.matches("BEGIN:VEVENT").count(), 2, "{}", expanded.body);
    assert!(
        expanded.body.contains("RECURRENCE-ID:20260602T070000Z")
            && expanded.body.contains("DTSTART:20260603T080000Z")
    );
    assert!(!expanded.body.contains("RRULE"));
    let by_text = |property: &str, text: &str| {
        format!(
            r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="{property}"><c:text-match>{text}</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#
        )
    };
    let late = dav.report(&calendar, &by_text("SUMMARY", "LATE")).await;
    assert_eq!(
        hrefs(&late.body),
        [format!("{calendar}standup.ics")],
        "an edited occurrence's title: {}",
        late.body
    );
    let by_uid = dav.report(&calendar, &by_text("UID", "lunch@x")).await;
    assert_eq!(hrefs(&by_uid.body), [format!("{calendar}lunch.ics")]);
    let refused = dav.report(&calendar, &by_text("CATEGORIES", "x")).await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("supported-filter"));

    let multiget = format!(
        r#"<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>
        <d:href>{calendar}lunch.ics</d:href><d:href>http://elsewhere{calendar}standup.ics</d:href><d:href>{calendar}nothing.ics</d:href></c:calendar-multiget>"#
    );
    let got = dav.report(&calendar, &multiget).await;
    assert_eq!(got.status, 207);
    assert!(got.body.contains("SUMMARY:Lunch") && got.body.contains("SUMMARY:Standup (late)"));
    assert!(
        got.body.contains(&format!("<d:href>{calendar}nothing.ics</d:href><d:status>HTTP/1.1 404 Not Found")),
        "{}",
        got.body
    );

    // Sync: initial, nothing new, a web change, a web deletion, bad tokens.
    let initial = dav.send("REPORT", &calendar, &[("Depth", "1")], br#"<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#).await;
    assert_eq!(initial.status, 207, "{}", initial.body);
    assert_eq!(hrefs(&initial.body).len(), 2);
    let token = element(&initial.body, "d:sync-token").unwrap().to_string();
    let quiet = dav.sync(&calendar, &token).await;
    assert!(hrefs(&quiet.body).is_empty(), "{}", quiet.body);
    assert_eq!(element(&quiet.body, "d:sync-token"), Some(token.as_str()));

    let fields = [("title", "Web event"), ("start", "2026-06-20T10:00"), ("end", "2026-06-20T11:00")];
    assert_status(&app.post_with_token("/events", &fields).await, Status::SeeOther);
    let lunch =
        app.store().object_with_uid(eventide::domain::UserId(1), "lunch@x").await.unwrap().unwrap().1.id.0;
    assert_status(&app.post_with_token(&format!("/events/{lunch}/delete"), &[]).await, Status::SeeOther);
    let changed = dav.sync(&calendar, &token).await;
    assert_eq!(changed.status, 207);
    let changed_hrefs = hrefs(&changed.body);
    assert_eq!(changed_hrefs.len(), 2, "{}", changed.body);
    assert!(
        changed
            .body
            .contains(&format!("<d:href>{calendar}lunch.ics</d:href><d:status>HTTP/1.1 404 Not Found")),
        "{}",
        changed.body
    );
    assert!(
        changed_hrefs.iter().any(|h| h.ends_with("%40eventide.ics") || h.ends_with("@eventide.ics")),
        "{changed_hrefs:?}"
    );
    let newer = element(&changed.body, "d:sync-token").unwrap().to_string();
    let with_data = format!(
        r#"<d:sync-collection xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/><c:calendar-data/></d:prop></d:sync-collection>"#
    );
    let bodies = dav.report(&calendar, &with_data).await;
    assert!(bodies.body.contains("SUMMARY:Web event") && hrefs(&bodies.body).len() == 2, "{}", bodies.body);
    assert_ne!(newer, token);

    let (prefix, seq) = newer.rsplit_once('/').unwrap();
    let future = format!("{prefix}/{}", seq.parse::<i64>().unwrap() + 100);
    for bad in ["https://eventide.invalid/ns/sync/999/1", "nonsense", &future] {
        let reply = dav.sync(&calendar, bad).await;
        assert_eq!(reply.status, 403, "{bad}");
        assert!(reply.body.contains("<d:valid-sync-token/>"), "{}", reply.body);
    }
    // A token older than the change log keeps is refused, never answered short.
    app.store().prune_changes(chrono::Utc::now() + chrono::Duration::days(1)).await.unwrap();
    assert_eq!(dav.sync(&calendar, &token).await.status, 403);
    assert_eq!(dav.sync(&calendar, &newer).await.status, 207, "the current token is still good");
}

async fn calendars_are_made_changed_and_deleted_from_a_client(engine: Engine) {
    let (app, dav) = amy(engine).await;
    let body = br#"<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:ic="http://apple.com/ns/ical/"><d:set><d:prop>
        <d:displayname>Rowing club</d:displayname><ic:calendar-color>#8E24AAFF</ic:calendar-color>
        <c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set>
        <c:calendar-timezone>BEGIN:VCALENDAR...</c:calendar-timezone></d:prop></d:set></c:mkcalendar>"#;
    let path = "/dav/calendars/amy/6E1C3F0A-rowing/";
    let made = dav.send("MKCALENDAR", path, &[], body).await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(dav.send("MKCALENDAR", path, &[], body).await.status, 403, "already there");
    let page = app.get("/calendars").await.into_string().await.unwrap();
    assert!(page.contains("Rowing club") && page.contains("#8e24aa"), "on the web at once");
    let put = dav
        .put(
            &format!("{path}race.ics"),
            &event("race@x", "Race", "20260801T080000Z", "20260801T120000Z", ""),
            &[],
        )
        .await;
    assert_eq!(put.status, 201);

    let rename = br#"<d:propertyupdate xmlns:d="DAV:" xmlns:ic="http://apple.com/ns/ical/"><d:set><d:prop><d:displayname>Rowing</d:displayname><ic:calendar-order>5</ic:calendar-order></d:prop></d:set></d:propertyupdate>"#;
    let renamed = dav.send("PROPPATCH", path, &[], rename).await;
    assert_eq!(renamed.status, 207);
    assert!(renamed.body.contains("200 OK") && !renamed.body.contains("403"), "{}", renamed.body);
    assert!(app.get("/calendars").await.into_string().await.unwrap().contains("Rowing<"));
    // All or nothing: one property Eventide cannot keep fails the others.
    let mixed = br#"<d:propertyupdate xmlns:d="DAV:" xmlns:x="urn:x"><d:set><d:prop><d:displayname>Other</d:displayname><x:note>n</x:note></d:prop></d:set></d:propertyupdate>"#;
    let refused = dav.send("PROPPATCH", path, &[], mixed).await;
    assert!(
        refused.body.contains("424 Failed Dependency") && refused.body.contains("403 Forbidden"),
        "{}",
        refused.body
    );
    let listed = dav.propfind(path, "0", "<d:displayname/>").await;
    assert!(listed.body.contains("<d:displayname>Rowing</d:displayname>"));

    assert_eq!(dav.send("DELETE", path, &[], b"").await.status, 204);
    assert!(!app.get("/calendars").await.into_string().await.unwrap().contains("Rowing"));
    assert_eq!(dav.propfind(path, "0", "<d:displayname/>").await.status, 404);
    let last = personal(&app).await;
    let refused = dav.send("DELETE", &last, &[], b"").await;
    assert_eq!(refused.status, 403, "never the last calendar");
}

async fn users_are_isolated_and_passwords_checked(engine: Engine) {
    let (app, amy) = amy(engine).await;
    let calendar = personal(&app).await;
    let path = format!("{calendar}private.ics");
    assert_eq!(
        amy.put(&path, &event("p@x", "Secret", "20260610T090000Z", "20260610T100000Z", ""), &[]).await.status,
        201
    );

    let bob_browser = app.browser();
    assert_status(&bob_browser.register("bob", PASSWORD).await, Status::SeeOther);
    let bob_secret =
        eventide::auth::app_passwords::create(app.store(), eventide::domain::UserId(2), "Laptop")
            .await
            .unwrap();
    let bob = DavClient::new(amy.port, "bob", &bob_secret);
    for (method, target) in [
        ("PROPFIND", "/dav/principals/amy/"),
        ("PROPFIND", "/dav/calendars/amy/"),
        ("PROPFIND", calendar.as_str()),
        ("GET", path.as_str()),
        ("DELETE", path.as_str()),
        ("REPORT", calendar.as_str()),
        ("PROPPATCH", calendar.as_str()),
        ("MKCALENDAR", "/dav/calendars/amy/new/"),
    ] {
        assert_eq!(bob.send(method, target, &[], b"").await.status, 404, "{method} {target}");
    }
    assert_eq!(
        bob.put(&path, &event("p@x", "Mine", "20260610T090000Z", "20260610T100000Z", ""), &[]).await.status,
        404
    );
    // Bob's own calendar, whose id amy's path might guess: his paths name him.
    let bob_calendars = app.store().calendars_of(eventide::domain::UserId(2)).await.unwrap();
    let guessed = format!("/dav/calendars/amy/{}/", bob_calendars[0].id.0);
    assert_eq!(amy.propfind(&guessed, "0", "<d:displayname/>").await.status, 404);
    assert_eq!(amy.send("GET", &path, &[], b"").await.status, 200, "amy still has it");

    let wrong = DavClient::new(amy.port, "amy", "aaaa-bbbb-cccc-dddd-eeee-ffff");
    let refused = wrong.propfind("/dav/", "0", "<d:current-user-principal/>").await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("WWW-Authenticate"), Some("Basic realm=\"Eventide\", charset=\"UTF-8\""));
    // Its body was never read, so the connection closes, and a client keeping connections
    // alive is told so (or it sends its next request down a closing one).
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let body = "<d:propfind xmlns:d=\"DAV:\"><d:prop><d:displayname/></d:prop></d:propfind>";
        let request = format!(
            "PROPFIND /dav/ HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", amy.port)).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        let head = String::from_utf8_lossy(&raw).to_ascii_lowercase();
        assert!(head.starts_with("http/1.1 401") && head.contains("connection: close"), "{head}");
    }
    let bobs_password_as_amy = DavClient::new(amy.port, "amy", &bob_secret);
    assert_eq!(bobs_password_as_amy.send("GET", &path, &[], b"").await.status, 401);
    let anonymous = DavClient { port: amy.port, auth: None };
    assert_eq!(anonymous.send("PROPFIND", "/dav/", &[], b"").await.status, 401);

    let id = app.store().app_passwords_of(eventide::domain::UserId(2)).await.unwrap()[0].id.0;
    assert_status(
        &bob_browser.post_with_token(&format!("/account/app-passwords/{id}/delete"), &[]).await,
        Status::SeeOther,
    );
    assert_eq!(bob.propfind("/dav/", "0", "<d:current-user-principal/>").await.status, 401, "revoked");

    // Failed passwords count against the address like failed web logins.
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(wrong.send("PROPFIND", "/dav/", &[], b"").await.status);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let throttled = wrong.send("PROPFIND", "/dav/", &[], b"").await;
    assert!(throttled.header("Retry-After").is_some());

    let listed = app.store().app_passwords_of(eventide::domain::UserId(1)).await.unwrap();
    assert!(listed[0].last_used_at.is_some(), "last use recorded");
}

async fn hostile_requests_get_clear_errors(engine: Engine) {
    let (app, dav) = amy(engine).await;
    let calendar = personal(&app).await;
    let huge = vec![b'a'; eventide::dav::BODY_MAX + 10];
    assert_eq!(dav.send("PROPFIND", &calendar, &[], &huge).await.status, 413);
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><d:propfind xmlns:d="DAV:"><d:prop>&b;</d:prop></d:propfind>"#;
    assert_eq!(dav.send("PROPFIND", &calendar, &[], bomb).await.status, 400);
    for broken in [&b"<d:propfind xmlns:d='DAV:'><d:prop>"[..], b"<<<", b"<x:propfind/>", &[0xff, 0xfe, 0x00]]
    {
        assert_eq!(dav.send("PROPFIND", &calendar, &[], broken).await.status, 400);
        assert_eq!(dav.send("REPORT", &calendar, &[], broken).await.status, 400);
    }
    assert_eq!(dav.send("REPORT", &calendar, &[], b"").await.status, 400);
    assert_eq!(dav.send("BREW", &calendar, &[], b"").await.status, 405);
    assert_eq!(dav.send("PROPFIND", "/dav/calendars/amy/%FF/", &[], b"").await.status, 404);
    let deep = format!("{}{}", "<d:a xmlns:d=\"DAV:\">".repeat(100), "</d:a>".repeat(100));
    assert_eq!(dav.send("PROPFIND", &calendar, &[], deep.as_bytes()).await.status, 400);
    let nested = "BEGIN:VCALENDAR\r\n".repeat(50);
    assert_eq!(dav.put(&format!("{calendar}deep.ics"), &nested, &[]).await.status, 403);
    assert_eq!(dav.propfind("/dav/", "0", "<d:current-user-principal/>").await.status, 207, "still serving");
}

crate::on_both_engines!(
    discovery_leads_from_the_root_to_the_calendars,
    objects_round_trip_with_strong_etags_and_preconditions,
    reports_find_occurrences_and_sync_from_the_change_log,
    calendars_are_made_changed_and_deleted_from_a_client,
    users_are_isolated_and_passwords_checked,
    hostile_requests_get_clear_errors
);
