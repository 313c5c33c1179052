//! Sharing (issue 18): read, write and busy-only shares. A busy recipient never receives a
//! title, description or location, cached or not; a read recipient gets 403 on every write
//! and 404 on the owner's unshared calendars; ending a share takes effect on the next request;
//! a recipient's write shows for the owner at once.

use rocket::http::{Header, Status};

use crate::helpers::*;

pub(crate) const TITLE: &str = "TitleMarkQ7";
pub(crate) const DESCRIPTION: &str = "DescMarkZ3";
pub(crate) const LOCATION: &str = "LocMarkK9";
pub(crate) const MARKERS: [&str; 3] = [TITLE, DESCRIPTION, LOCATION];

/// Every view and fragment a reader can ask for around 3 June 2026.
const VIEWS: [&str; 7] = [
    "/",
    "/calendar/month/2026-06-01",
    "/calendar/week/2026-06-03",
    "/calendar/3day/2026-06-03",
    "/calendar/day/2026-06-03",
    "/calendar/agenda/2026-06-03",
    "/calendar/month/2026-06-15",
];

pub(crate) struct Household<'a> {
    pub app: &'a TestApp,
    pub amy: Browser<'a>,
    pub ben: Browser<'a>,
}

impl<'a> Household<'a> {
    /// Amy (who owns the calendars) and Ben, each logged in in their own browser, with the
    /// clock on 3 June 2026 so the dashboard shows that day.
    pub async fn new(app: &'a TestApp) -> Household<'a> {
        let morning: chrono::DateTime<chrono::Utc> = "2026-06-03T08:00:00Z".parse().unwrap();
        app.clock.advance(morning - app.clock.now());
        let (amy, ben) = (app.browser(), app.browser());
        assert_status(&amy.register("amy", PASSWORD).await, Status::SeeOther);
        assert_status(&ben.register("ben", PASSWORD).await, Status::SeeOther);
        Household { app, amy, ben }
    }

    pub async fn calendar(&self, user: i64, name: &str) -> i64 {
        let calendars = self.app.store().calendars_of(eventide::domain::UserId(user)).await.unwrap();
        calendars.iter().find(|c| c.name == name).map(|c| c.id.0).expect("the calendar")
    }

    /// Amy's event with a marker in every field, in calendar `calendar`; its id.
    pub async fn secret(&self, calendar: i64, start: &str) -> i64 {
        let calendar = calendar.to_string();
        let fields = [
            ("title", TITLE),
            ("description", DESCRIPTION),
            ("location", LOCATION),
            ("start", start),
            ("end", &start.replace("T10", "T11")),
            ("calendar_id", &calendar),
        ];
        let response = self.amy.post_with_token("/events", &fields).await;
        assert_status(&response, Status::SeeOther);
        let location = response.headers().get_one("Location").unwrap().to_string();
        location.trim_start_matches("/events/").parse().unwrap()
    }

    pub async fn share(&self, calendar: i64, with: &str, access: &str) -> Status {
        let uri = format!("/calendars/{calendar}/shares");
        self.amy.post_with_token(&uri, &[("username", with), ("access", access)]).await.status()
    }
}

pub(crate) async fn body(browser: &impl Browse, uri: &str, htmx: bool) -> (Status, Option<String>, String) {
    let request = browser.client().get(uri.to_string());
    let request = if htmx { request.header(Header::new("HX-Request", "true")) } else { request };
    let response = browser.send(request).await;
    let status = response.status();
    let cache = response.headers().get_one("X-Cache").map(str::to_string);
    (status, cache, response.into_string().await.unwrap_or_default())
}

/// Each view, as page and as fragment, twice (a miss, then a hit on Redis): none holds a marker.
async fn assert_no_details(browser: &impl Browse, when: &str) {
    for uri in VIEWS {
        for htmx in [false, true, false, true] {
            let (status, _, html) = body(browser, uri, htmx).await;
            assert_eq!(status, Status::Ok, "{when}: {uri}");
            for marker in MARKERS {
                assert!(!html.contains(marker), "{when}: {uri} (htmx {htmx}) shows {marker}");
            }
        }
    }
}

async fn busy_recipient_sees_times_never_details(engine: Engine) {
    let app = spawn(engine, Backend::Redis).await;
    let home = Household::new(&app).await;
    let personal = home.calendar(1, "Personal").await;
    let id = home.secret(personal, "2026-06-03T10:00").await;
    // Ben's views are cached before the share: the share itself must retire them.
    assert_no_details(&home.ben, "before the share").await;
    assert_eq!(home.share(personal, "ben", "busy").await, Status::SeeOther);

    assert_no_details(&home.ben, "busy share").await;
    let (_, _, day) = body(&home.ben, "/calendar/day/2026-06-03", false).await;
    assert!(day.contains("Busy"), "the time is shown as busy");
    let (_, cache, _) = body(&home.ben, "/calendar/day/2026-06-03", false).await;
    assert_eq!(cache.as_deref(), Some("HIT"), "busy views are cached too");
    // The admin pages, which list every user's events, do not exist for him.
    for uri in
        ["/admin".to_string(), "/admin/events".into(), format!("/admin/events/{id}"), "/admin/audit".into()]
    {
        let (status, _, html) = body(&home.ben, &uri, false).await;
        assert_eq!(status, Status::NotFound, "{uri}");
        assert!(MARKERS.iter().all(|m| !html.contains(m)), "{uri}");
    }
    for uri in [format!("/events/{id}"), format!("/events/{id}/edit"), format!("/events/{id}.ics")] {
        let (status, _, html) = body(&home.ben, &uri, false).await;
        assert_eq!(status, Status::NotFound, "{uri}");
        assert!(MARKERS.iter().all(|m| !html.contains(m)), "{uri}");
    }
    // Search finds nothing by a busy calendar's words; exports and the feed give times only.
    for marker in MARKERS {
        for _ in 0..2 {
            let (status, _, html) = body(&home.ben, &format!("/search?q={marker}"), false).await;
            assert_eq!(status, Status::Ok);
            assert!(
                html.contains("No events match") && !html.contains("class=\"search-hit\""),
                "{marker}: {html}"
            );
        }
    }
    let feed = home.ben.post_with_token("/account/feed", &[]).await;
    assert_status(&feed, Status::SeeOther);
    let account = home.ben.get("/account").await.into_string().await.unwrap();
    let token =
        account.split("/feeds/").nth(1).and_then(|rest| rest.split(".ics").next()).unwrap().to_string();
    for uri in [
        "/export.ics".to_string(),
        format!("/calendars/{personal}/export.ics"),
        format!("/feeds/{token}.ics"),
    ] {
        for _ in 0..2 {
            let response = home.ben.get(&uri).await;
            assert_status(&response, Status::Ok);
            let ics = response.into_string().await.unwrap();
            assert!(ics.contains("SUMMARY:Busy") && ics.contains("DTSTART"), "{uri}: {ics}");
            assert!(MARKERS.iter().all(|m| !ics.contains(m)), "{uri}: {ics}");
        }
    }
    // The new-event form shows when Amy is busy that day, and follows her changes at once.
    let form = home.ben.get("/events/new?date=2026-06-03").await.into_string().await.unwrap();
    assert!(form.contains("Who is busy") && form.contains("amy") && form.contains("10:00–11:00"), "{form}");
    assert!(MARKERS.iter().all(|m| !form.contains(m)), "{form}");
    let moved = [("title", TITLE), ("start", "2026-06-03T14:00"), ("end", "2026-06-03T15:30")];
    assert_status(&home.amy.post_with_token(&format!("/events/{id}"), &moved).await, Status::SeeOther);
    for _ in 0..2 {
        let (_, _, busy) = body(&home.ben, "/free-busy?start=2026-06-03T09:00", true).await;
        assert!(busy.contains("14:00–15:30") && !busy.contains("10:00–11:00"), "{busy}");
        assert!(MARKERS.iter().all(|m| !busy.contains(m)), "{busy}");
    }
    // Amy's own views, cached beside Ben's, still show everything.
    let (_, _, month) = body(&home.amy, "/calendar/month/2026-06-01", false).await;
    assert!(month.contains(TITLE));

    // More access shows more at once; ending the share takes even the times away.
    assert_eq!(home.share(personal, "ben", "read").await, Status::SeeOther);
    let (_, cache, day) = body(&home.ben, "/calendar/day/2026-06-03", false).await;
    assert_eq!(cache.as_deref(), Some("MISS"));
    assert!(day.contains(TITLE) && day.contains("amy"), "{day}");
    assert_eq!(home.share(personal, "ben", "busy").await, Status::SeeOther);
    assert_no_details(&home.ben, "busy again").await;
    let end = home.amy.post_with_token(&format!("/calendars/{personal}/shares/ben/delete"), &[]).await;
    assert_status(&end, Status::SeeOther);
    let (_, _, day) = body(&home.ben, "/calendar/day/2026-06-03", false).await;
    assert!(!day.contains("Busy"), "the share ended: nothing of Amy's is left");
}

async fn read_recipient_is_refused_every_write(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    let home = Household::new(&app).await;
    let personal = home.calendar(1, "Personal").await;
    assert_status(
        &home.amy.post_with_token("/calendars", &[("name", "Work"), ("color", "#0b8043")]).await,
        Status::SeeOther,
    );
    let work = home.calendar(1, "Work").await;
    let shared = home.secret(personal, "2026-06-03T10:00").await;
    let unshared = home.secret(work, "2026-06-04T10:00").await;
    assert_eq!(home.share(personal, "ben", "read").await, Status::SeeOther);

    let (status, _, page) = body(&home.ben, &format!("/events/{shared}"), false).await;
    assert_eq!(status, Status::Ok);
    assert!(page.contains(TITLE) && page.contains("Read only"), "{page}");
    assert!(!page.contains(&format!("/events/{shared}/edit")), "no edit link");
    let (status, _, _) = body(&home.ben, &format!("/events/{shared}/edit"), false).await;
    assert_eq!(status, Status::Forbidden);

    let times = [("start", "2026-06-05T10:00"), ("end", "2026-06-05T11:00")];
    let (personal_id, shared_uri) = (personal.to_string(), format!("/events/{shared}"));
    let writes: Vec<(String, Vec<(&str, &str)>)> = vec![
        (shared_uri.clone(), vec![("title", "Hijacked"), times[0], times[1]]),
        (format!("{shared_uri}/move"), times.to_vec()),
        (format!("{shared_uri}/delete"), vec![]),
        ("/events".into(), vec![("title", "Hijacked"), times[0], times[1], ("calendar_id", &personal_id)]),
    ];
    for (uri, fields) in &writes {
        let response = home.ben.post_with_token(uri, fields).await;
        assert_status(&response, Status::Forbidden);
    }
    let deleted = home.ben.send(
        home.ben
            .client()
            .delete(shared_uri.clone())
            .header(Header::new("X-CSRF-Token", home.ben.csrf_token().await)),
    );
    assert_status(&deleted.await, Status::Forbidden);

    // The owner's unshared calendar and its event do not exist for Ben.
    let (status, _, _) = body(&home.ben, &format!("/events/{unshared}"), false).await;
    assert_eq!(status, Status::NotFound);
    for uri in [
        format!("/events/{unshared}/delete"),
        format!("/calendars/{work}/visibility"),
        format!("/calendars/{work}/leave"),
        format!("/calendars/{work}/shares"),
        format!("/calendars/{personal}/shares"),
        format!("/calendars/{personal}/delete"),
        format!("/calendars/{personal}/shares/ben/delete"),
    ] {
        let response = home
            .ben
            .post_with_token(&uri, &[("shown", "false"), ("username", "ben"), ("access", "write")])
            .await;
        assert_status(&response, Status::NotFound);
    }
    let titles: Vec<String> = app
        .store()
        .all_events(eventide::domain::UserId(1))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.title)
        .collect();
    assert_eq!(titles, [TITLE, TITLE], "nothing was written");
    let (_, _, month) = body(&home.ben, "/calendar/month/2026-06-01", false).await;
    assert_eq!(month.matches(TITLE).count(), 1, "only the shared calendar's event: {month}");
    let (_, _, found) = body(&home.ben, &format!("/search?q={LOCATION}"), false).await;
    assert!(
        found.contains(&format!("/events/{shared}")) && !found.contains(&format!("/events/{unshared}")),
        "{found}"
    );
    let export = home.ben.get("/export.ics").await.into_string().await.unwrap();
    assert_eq!(export.matches(TITLE).count(), 1, "{export}");
    let (status, _, _) = body(&home.ben, &format!("/calendars/{work}/export.ics"), false).await;
    assert_eq!(status, Status::NotFound);
}

async fn a_writers_change_shows_for_everyone_at_once(engine: Engine) {
    let app = spawn(engine, Backend::Redis).await;
    let home = Household::new(&app).await;
    let carl = app.browser();
    assert_status(&carl.register("carl", PASSWORD).await, Status::SeeOther);
    let personal = home.calendar(1, "Personal").await;
    let id = home.secret(personal, "2026-06-03T10:00").await;
    assert_eq!(home.share(personal, "ben", "write").await, Status::SeeOther);
    assert_eq!(home.share(personal, "carl", "read").await, Status::SeeOther);
    let month = "/calendar/month/2026-06-01";
    for reader in [&home.amy, &carl] {
        body(reader, month, false).await;
        assert_eq!(body(reader, month, false).await.1.as_deref(), Some("HIT"));
    }

    let edit = home.ben.get(&format!("/events/{id}/edit")).await;
    assert_status(&edit, Status::Ok);
    let fields = [("title", "Renamed by Ben"), ("start", "2026-06-03T10:00"), ("end", "2026-06-03T11:00")];
    assert_status(&home.ben.post_with_token(&format!("/events/{id}"), &fields).await, Status::SeeOther);
    let personal_id = personal.to_string();
    let fields = [
        ("title", "Added by Ben"),
        ("start", "2026-06-10T10:00"),
        ("end", "2026-06-10T11:00"),
        ("calendar_id", personal_id.as_str()),
    ];
    assert_status(&home.ben.post_with_token("/events", &fields).await, Status::SeeOther);

    for reader in [&home.amy, &carl] {
        let (_, cache, html) = body(reader, month, false).await;
        assert_eq!(cache.as_deref(), Some("MISS"));
        assert!(html.contains("Renamed by Ben") && html.contains("Added by Ben"), "{html}");
    }
    let amys = app.store().all_events(eventide::domain::UserId(1)).await.unwrap();
    assert_eq!(amys.len(), 2, "Ben's new event is Amy's, in her calendar");
    assert!(app.store().all_events(eventide::domain::UserId(2)).await.unwrap().is_empty());
    let authors = change_authors(&app, personal).await;
    assert_eq!(authors, [Some(1), Some(2), Some(2)], "the log names who changed what");
}

/// Who made each logged change of the calendar, oldest first.
async fn change_authors(app: &TestApp, calendar: i64) -> Vec<Option<i64>> {
    let sql = "SELECT author_id FROM calendar_changes WHERE calendar_id = $1 ORDER BY seq";
    if app.db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&app.db.url).await.unwrap();
        sqlx::query_scalar(sql).bind(calendar).fetch_all(&pool).await.unwrap()
    } else {
        let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
        sqlx::query_scalar(sql).bind(calendar).fetch_all(&pool).await.unwrap()
    }
}

async fn recipients_recolour_hide_and_leave_for_themselves(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    let home = Household::new(&app).await;
    let personal = home.calendar(1, "Personal").await;
    home.secret(personal, "2026-06-03T10:00").await;

    // A share the form refuses keeps what was typed.
    for (who, access, error) in [
        ("nobody", "read", "Nobody here is called"),
        ("amy", "read", "already yours"),
        ("ben", "admin", "read, write or busy"),
    ] {
        let response = home
            .amy
            .post_with_token(
                &format!("/calendars/{personal}/shares"),
                &[("username", who), ("access", access)],
            )
            .await;
        assert_status(&response, Status::UnprocessableEntity);
        let page = response.into_string().await.unwrap();
        assert!(page.contains(error) && page.contains(&format!("value=\"{who}\"")), "{page}");
    }
    assert_eq!(home.share(personal, "BEN", "read").await, Status::SeeOther, "usernames match as at login");
    let page = home.amy.get("/calendars").await.into_string().await.unwrap();
    assert!(page.contains("share-who\">ben") && page.contains("can read"), "{page}");

    let page = home.ben.get("/calendars").await.into_string().await.unwrap();
    assert!(page.contains("Shared with you") && page.contains("from amy"), "{page}");
    let recolour = [("name", ""), ("color", "#8e24aa")];
    assert_status(
        &home.ben.post_with_token(&format!("/calendars/{personal}"), &recolour).await,
        Status::SeeOther,
    );
    let bad = [("name", ""), ("color", "purple")];
    let refused = home.ben.post_with_token(&format!("/calendars/{personal}"), &bad).await;
    assert_status(&refused, Status::UnprocessableEntity);
    assert!(refused.into_string().await.unwrap().contains("value=\"purple\""));
    let month = "/calendar/month/2026-06-01";
    assert!(home.ben.get(month).await.into_string().await.unwrap().contains("#8e24aa"));
    let amys = home.amy.get(month).await.into_string().await.unwrap();
    assert!(!amys.contains("#8e24aa") && amys.contains(TITLE), "Amy's colour is her own");

    let hide = [("shown", "false")];
    assert_status(
        &home.ben.post_with_token(&format!("/calendars/{personal}/visibility"), &hide).await,
        Status::SeeOther,
    );
    assert!(!home.ben.get(month).await.into_string().await.unwrap().contains(TITLE));
    assert!(home.amy.get(month).await.into_string().await.unwrap().contains(TITLE), "hidden for Ben alone");
    let show = [("shown", "true")];
    assert_status(
        &home.ben.post_with_token(&format!("/calendars/{personal}/visibility"), &show).await,
        Status::SeeOther,
    );
    assert!(home.ben.get(month).await.into_string().await.unwrap().contains(TITLE));

    assert_status(
        &home.ben.post_with_token(&format!("/calendars/{personal}/leave"), &[]).await,
        Status::SeeOther,
    );
    assert!(!home.ben.get(month).await.into_string().await.unwrap().contains(TITLE));
    assert_status(
        &home.ben.post_with_token(&format!("/calendars/{personal}/leave"), &[]).await,
        Status::NotFound,
    );
    assert!(app.store().shares_by(eventide::domain::UserId(1)).await.unwrap().is_empty());
    assert!(home.amy.get(month).await.into_string().await.unwrap().contains(TITLE), "Amy keeps it");
}

async fn closing_an_account_ends_its_shares(engine: Engine) {
    let app = spawn(engine, Backend::Redis).await;
    let home = Household::new(&app).await;
    crate::admin::create_admin(&app, "root", "admin-passphrase-1\n").await.unwrap();
    let admin = app.browser();
    assert_status(&admin.login("root", "admin-passphrase-1").await, Status::SeeOther);
    let personal = home.calendar(1, "Personal").await;
    home.secret(personal, "2026-06-03T10:00").await;
    assert_eq!(home.share(personal, "ben", "read").await, Status::SeeOther);
    let month = "/calendar/month/2026-06-01";
    body(&home.ben, month, false).await;
    assert!(body(&home.ben, month, false).await.2.contains(TITLE));

    // The owner's deactivation takes the calendar from Ben's cached views; reactivation
    // brings it back.
    let confirm = [("confirm", "yes")];
    assert_status(&admin.post_with_token("/admin/users/1/deactivate", &confirm).await, Status::SeeOther);
    let (_, cache, html) = body(&home.ben, month, false).await;
    assert_eq!(cache.as_deref(), Some("MISS"));
    assert!(!html.contains(TITLE));
    assert_status(&admin.post_with_token("/admin/users/1/reactivate", &confirm).await, Status::SeeOther);
    assert!(body(&home.ben, month, false).await.2.contains(TITLE));

    // The recipient's deactivation ends the share for good.
    assert_status(&admin.post_with_token("/admin/users/2/deactivate", &confirm).await, Status::SeeOther);
    assert!(app.store().shares_by(eventide::domain::UserId(1)).await.unwrap().is_empty());
    assert_status(&admin.post_with_token("/admin/users/2/reactivate", &confirm).await, Status::SeeOther);
    assert!(app.store().visible_calendars(eventide::domain::UserId(2)).await.unwrap().len() == 1);
}

/// Over CalDAV: a read share is in Ben's home with read-only privileges and refuses writes
/// with 403 `need-privileges`; a write share takes his PUT (Amy's event, logged as his); a
/// busy-only share and Amy's unshared calendar are nowhere; leaving by DELETE ends the share.
async fn caldav_serves_shares_with_their_privileges(engine: Engine) {
    use crate::dav_client::{event, hrefs, start, DavClient};
    let app = spawn(engine, Backend::Redis).await;
    let home = Household::new(&app).await;
    let port = start(&app).await;
    let secret = eventide::auth::app_passwords::create(app.store(), eventide::domain::UserId(2), "Phone")
        .await
        .unwrap();
    let ben = DavClient::new(port, "ben", &secret);
    let personal = home.calendar(1, "Personal").await;
    for (name, color) in [("Work", "#0b8043"), ("Diary", "#d50000"), ("Club", "#8e24aa")] {
        let made = home.amy.post_with_token("/calendars", &[("name", name), ("color", color)]).await;
        assert_status(&made, Status::SeeOther);
    }
    let (work, diary, club) =
        (home.calendar(1, "Work").await, home.calendar(1, "Diary").await, home.calendar(1, "Club").await);
    for calendar in [personal, work, diary, club] {
        home.secret(calendar, "2026-06-03T10:00").await;
    }
    assert_eq!(home.share(personal, "ben", "read").await, Status::SeeOther);
    assert_eq!(home.share(work, "ben", "write").await, Status::SeeOther);
    assert_eq!(home.share(diary, "ben", "busy").await, Status::SeeOther);

    let listing = ben
        .propfind("/dav/calendars/ben/", "1", "<d:displayname/><d:current-user-privilege-set/><d:owner/>")
        .await;
    assert_eq!(listing.status, 207, "{}", listing.body);
    let (read_path, write_path) =
        (format!("/dav/calendars/ben/shared-{personal}/"), format!("/dav/calendars/ben/shared-{work}/"));
    let listed = hrefs(&listing.body);
    assert!(listed.contains(&read_path) && listed.contains(&write_path), "{}", listing.body);
    assert!(listed.contains(&format!("/dav/calendars/ben/shared-{diary}/")), "busy-only too");
    for hidden in [club] {
        assert!(!listing.body.contains(&format!("shared-{hidden}/")), "{}", listing.body);
        let path = format!("/dav/calendars/ben/shared-{hidden}/");
        assert_eq!(ben.propfind(&path, "0", "<d:displayname/>").await.status, 404);
        assert_eq!(ben.send("REPORT", &path, &[], b"<x/>").await.status, 404);
    }
    assert!(listing.body.contains("Personal (amy)") && listing.body.contains("/dav/principals/amy/"));
    let read_only = ben.propfind(&read_path, "0", "<d:current-user-privilege-set/>").await;
    assert!(read_only.body.contains("<d:read/>") && !read_only.body.contains("<d:write-content/>"));
    let writable = ben.propfind(&write_path, "0", "<d:current-user-privilege-set/>").await;
    assert!(writable.body.contains("<d:write-content/>") && !writable.body.contains("<d:write-properties/>"));

    // Reading a read share gives its events whole.
    let objects = ben.propfind(&read_path, "1", "<d:getetag/>").await;
    let object = hrefs(&objects.body).into_iter().find(|h| h.ends_with(".ics")).expect("an object");
    let got = ben.send("GET", &object, &[], b"").await;
    assert_eq!(got.status, 200);
    assert!(got.body.contains(TITLE));

    // Writing to it is refused, and nothing changes.
    let put = ben
        .put(
            &format!("{read_path}new.ics"),
            &event("n@x", "Nope", "20260611T090000Z", "20260611T100000Z", ""),
            &[],
        )
        .await;
    assert_eq!(put.status, 403);
    assert!(put.body.contains("need-privileges"), "{}", put.body);
    assert_eq!(ben.send("DELETE", &object, &[], b"").await.status, 403);
    let rename = "<d:propertyupdate xmlns:d=\"DAV:\"><d:set><d:prop><d:displayname>Mine</d:displayname></d:prop></d:set></d:propertyupdate>";
    assert_eq!(ben.send("PROPPATCH", &read_path, &[], rename.as_bytes()).await.status, 403);
    assert_eq!(app.store().all_events(eventide::domain::UserId(1)).await.unwrap().len(), 4);

    // A write share takes a new event: Amy's, in her calendar, in her views at once.
    let month = "/calendar/month/2026-06-01";
    body(&home.amy, month, false).await;
    let made = ben
        .put(
            &format!("{write_path}ben.ics"),
            &event("ben@x", "From the phone of Ben", "20260612T090000Z", "20260612T100000Z", ""),
            &[],
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let (_, cache, html) = body(&home.amy, month, false).await;
    assert_eq!(cache.as_deref(), Some("MISS"));
    assert!(html.contains("From the phone of Ben"));
    assert_eq!(change_authors(&app, work).await.last(), Some(&Some(2)));

    // Deleting a shared calendar from the phone leaves it; Amy keeps it.
    assert_eq!(ben.send("DELETE", &read_path, &[], b"").await.status, 204);
    assert_eq!(ben.propfind(&read_path, "0", "<d:displayname/>").await.status, 404);
    assert_eq!(app.store().calendars_of(eventide::domain::UserId(1)).await.unwrap().len(), 4);
}

/// Markers a phone's own names can carry: the object's file name and its UID.
const NAME_MARK: &str = "NameMarkJ5";
const UID_MARK: &str = "UidMarkV8";

fn assert_no_marker(what: &str, text: &str) {
    for marker in MARKERS.iter().chain([&NAME_MARK, &UID_MARK]) {
        assert!(!text.contains(marker), "{what} shows {marker}: {text}");
    }
}

async fn caldav_busy_share_gives_times_under_names_that_tell_nothing(engine: Engine) {
    use crate::dav_client::{event, hrefs, start, DavClient};
    let app = spawn(engine, Backend::Redis).await;
    let home = Household::new(&app).await;
    let port = start(&app).await;
    let password =
        |user| eventide::auth::app_passwords::create(app.store(), eventide::domain::UserId(user), "Phone");
    let (amy, ben) = (
        DavClient::new(port, "amy", &password(1).await.unwrap()),
        DavClient::new(port, "ben", &password(2).await.unwrap()),
    );
    let diary = home.calendar(1, "Personal").await;
    let own = format!("/dav/calendars/amy/{diary}/");
    // One object from Amy's phone (its name and UID carry markers, and it repeats), one from the web.
    let extra = format!("DESCRIPTION:{DESCRIPTION}\r\nLOCATION:{LOCATION}\r\nRRULE:FREQ=DAILY;COUNT=3\r\n");
    let ics = event(&format!("{UID_MARK}@phone"), TITLE, "20260603T100000Z", "20260603T110000Z", &extra);
    assert_eq!(amy.put(&format!("{own}{NAME_MARK}.ics"), &ics, &[]).await.status, 201);
    home.secret(diary, "2026-06-05T10:00").await;
    assert_eq!(home.share(diary, "ben", "busy").await, Status::SeeOther);
    // Amy's own whole bodies are rendered (and kept by version) before Ben asks for his.
    let everything = r#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"/></c:comp-filter></c:filter></c:calendar-query>"#;
    assert!(amy.report(&own, everything).await.body.contains(TITLE));

    let path = format!("/dav/calendars/ben/shared-{diary}/");
    let privileges = ben.propfind(&path, "0", "<d:current-user-privilege-set/><d:displayname/>").await;
    assert!(
        privileges.body.contains("<d:read/>") && !privileges.body.contains("write"),
        "{}",
        privileges.body
    );
    let listing = ben.propfind(&path, "1", "<d:getetag/>").await;
    assert_eq!(listing.status, 207);
    assert_no_marker("the listing", &listing.body);
    let objects: Vec<String> = hrefs(&listing.body).into_iter().filter(|h| h.ends_with(".ics")).collect();
    assert_eq!(objects.len(), 2, "{}", listing.body);
    assert!(objects.iter().all(|h| h.contains("/busy-")), "{objects:?}");

    let ranged = everything.replace(
        r#"<c:comp-filter name="VEVENT"/>"#,
        r#"<c:comp-filter name="VEVENT"><c:time-range start="20260601T000000Z" end="20260610T000000Z"/></c:comp-filter>"#,
    );
    let expanded = ranged.replace(
        "<c:calendar-data/>",
        r#"<c:calendar-data><c:expand start="20260601T000000Z" end="20260610T000000Z"/></c:calendar-data>"#,
    );
    let multiget = format!(
        r#"<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><d:href>{}</d:href><d:href>{path}{NAME_MARK}.ics</d:href></c:calendar-multiget>"#,
        objects.join("</d:href><d:href>")
    );
    for (what, body) in [
        ("query", everything.to_string()),
        ("ranged query", ranged),
        ("expanded", expanded),
        ("multiget", multiget),
    ] {
        for _ in 0..2 {
            let answer = ben.report(&path, &body).await;
            assert_eq!(answer.status, 207, "{what}: {}", answer.body);
            // The multiget's own href by the object's real name comes back, as not found.
            let asked =
                format!("<d:href>{path}{NAME_MARK}.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status>");
            assert_eq!(answer.body.contains(&asked), what == "multiget", "{what}: {}", answer.body);
            assert_no_marker(what, &answer.body.replace(&asked, ""));
            assert!(
                answer.body.contains("SUMMARY:Busy") && answer.body.contains("DTSTART"),
                "{what}: {}",
                answer.body
            );
        }
    }
    let by_title = everything.replace(
        r#"<c:comp-filter name="VEVENT"/>"#,
        &format!(r#"<c:comp-filter name="VEVENT"><c:prop-filter name="SUMMARY"><c:text-match>{TITLE}</c:text-match></c:prop-filter></c:comp-filter>"#),
    );
    assert!(hrefs(&ben.report(&path, &by_title).await.body).is_empty(), "no match on hidden words");
    for object in &objects {
        let got = ben.send("GET", object, &[], b"").await;
        assert_eq!(got.status, 200);
        assert_no_marker("GET", &got.body);
        assert_eq!(ben.send("DELETE", object, &[], b"").await.status, 403);
    }
    let whole = ben.send("GET", &path, &[], b"").await;
    assert_eq!(whole.status, 200);
    assert_no_marker("the calendar's GET", &whole.body);
    // Its real name is no name here; a write is refused like any through a share without it.
    assert_eq!(ben.send("GET", &format!("{path}{NAME_MARK}.ics"), &[], b"").await.status, 404);
    let put = ben.put(&format!("{path}{NAME_MARK}.ics"), &ics, &[]).await;
    assert_eq!(put.status, 403, "{}", put.body);

    // A sync names changes and deletions by the same masked names.
    let first = ben.report(&path, r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#).await;
    assert_no_marker("the first sync", &first.body);
    let token = crate::dav_client::element(&first.body, "d:sync-token").unwrap().to_string();
    assert_eq!(amy.send("DELETE", &format!("{own}{NAME_MARK}.ics"), &[], b"").await.status, 204);
    let next = ben.sync(&path, &token).await;
    assert_eq!(next.status, 207, "{}", next.body);
    assert_no_marker("the next sync", &next.body);
    let gone = hrefs(&next.body);
    assert_eq!(gone.len(), 1, "{}", next.body);
    assert!(
        objects.contains(&gone[0]) && next.body.contains("404"),
        "the deleted object, by its masked name: {}",
        next.body
    );
}

crate::on_both_engines!(
    caldav_busy_share_gives_times_under_names_that_tell_nothing,
    caldav_serves_shares_with_their_privileges,
    busy_recipient_sees_times_never_details,
    read_recipient_is_refused_every_write,
    a_writers_change_shows_for_everyone_at_once,
    recipients_recolour_hide_and_leave_for_themselves,
    closing_an_account_ends_its_shares,
);
