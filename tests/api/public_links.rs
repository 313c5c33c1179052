//! Public read-only links (issue 18): a calendar's page (month and agenda) and feed for anyone
//! with the address, without an account; whole or busy times only; cached apart; `noindex`;
//! a reset or closed link stops at once, as does the owner's deactivation.

use rocket::http::Status;

use crate::helpers::*;
use crate::sharing::{body, Household, DESCRIPTION, LOCATION, MARKERS, TITLE};

/// A marker in another calendar of the owner's, which no public link of theirs may show.
const OTHER: &str = "OtherCalMarkW2";

/// The link's token, as the owner's calendars page shows it.
async fn token_of(owner: &Browser<'_>) -> String {
    let page = owner.get("/calendars").await.into_string().await.unwrap();
    let after = page.split("/public/").nth(1).expect("a public link on the calendars page");
    after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

async fn publish(home: &Household<'_>, calendar: i64, access: &str) -> String {
    let uri = format!("/calendars/{calendar}/public-link");
    assert_status(&home.amy.post_with_token(&uri, &[("access", access)]).await, Status::SeeOther);
    token_of(&home.amy).await
}

/// Everything a visitor can ask of a link, each as page and fragment where it has both.
fn addresses(token: &str) -> Vec<(String, bool)> {
    let mut all = Vec::new();
    for path in
        ["".to_string(), "/month/2026-06-01".into(), "/agenda/2026-06-01".into(), "/month/2026-06-03".into()]
    {
        all.push((format!("/public/{token}{path}"), false));
        all.push((format!("/public/{token}{path}"), true));
    }
    all.push((format!("/public/{token}.ics"), false));
    all
}

/// Amy's Personal calendar with the marked event on 3 June, and a Work calendar with another.
async fn two_calendars(home: &Household<'_>) -> i64 {
    let personal = home.calendar(1, "Personal").await;
    home.secret(personal, "2026-06-03T10:00").await;
    assert_status(
        &home.amy.post_with_token("/calendars", &[("name", "Work"), ("color", "#0b8043")]).await,
        Status::SeeOther,
    );
    let work = home.calendar(1, "Work").await.to_string();
    let other = [
        ("title", OTHER),
        ("start", "2026-06-04T10:00"),
        ("end", "2026-06-04T11:00"),
        ("calendar_id", work.as_str()),
    ];
    assert_status(&home.amy.post_with_token("/events", &other).await, Status::SeeOther);
    personal
}

async fn a_public_link_opens_one_calendar_to_anyone(engine: Engine) {
    let app = spawn(engine, Backend::Redis).await;
    let home = Household::new(&app).await;
    let personal = two_calendars(&home).await;
    let token = publish(&home, personal, "read").await;
    let visitor = app.browser();

    for (uri, htmx) in addresses(&token) {
        for round in ["miss", "hit"] {
            let response = visitor.send(request(&visitor, &uri, htmx)).await;
            assert_status(&response, Status::Ok);
            let robots = response.headers().get_one("X-Robots-Tag").map(str::to_string);
            let cache = response.headers().get_one("X-Cache").map(str::to_string);
            let text = response.into_string().await.unwrap();
            assert_eq!(robots.as_deref(), Some("noindex, nofollow, noarchive"), "{uri}");
            assert!(text.contains(TITLE), "{uri} ({round}): {text}");
            assert!(!text.contains(OTHER), "{uri}: another calendar leaked");
            assert!(!text.contains("/events/"), "{uri}: nothing links into the app");
            if round == "hit" {
                assert_eq!(cache.as_deref(), Some("HIT"), "{uri}");
            }
            if !htmx && !uri.ends_with(".ics") {
                assert!(text.contains(r#"<meta name="robots" content="noindex"#), "{uri}");
            }
        }
    }
    let (_, _, agenda) = body(&visitor, &format!("/public/{token}/agenda/2026-06-01"), false).await;
    assert!(agenda.contains(LOCATION), "the agenda names the place");
    let feed = body(&visitor, &format!("/public/{token}.ics"), false).await.2;
    assert!(feed.contains(DESCRIPTION) && feed.contains("X-WR-CALNAME:Personal"), "{feed}");
    // Only the month and the agenda; a malformed token is no route at all.
    for uri in
        [format!("/public/{token}/week/2026-06-01"), "/public/short".into(), "/public/short.ics".into()]
    {
        assert_eq!(body(&visitor, &uri, false).await.0, Status::NotFound, "{uri}");
    }

    // The owner's change shows on the very next request.
    let renamed = [("title", "RenamedMarkP4"), ("start", "2026-06-03T10:00"), ("end", "2026-06-03T11:00")];
    let events = app.store().all_events(eventide::domain::UserId(1)).await.unwrap();
    let id = events.iter().find(|e| e.title == TITLE).map(|e| e.id.0).unwrap();
    assert_status(&home.amy.post_with_token(&format!("/events/{id}"), &renamed).await, Status::SeeOther);
    let (_, cache, month) = body(&visitor, &format!("/public/{token}"), false).await;
    assert_eq!(cache.as_deref(), Some("MISS"));
    assert!(month.contains("RenamedMarkP4") && !month.contains(TITLE));

    // A reset retires the old address, page and feed; closing the link retires the new one.
    let reset = publish(&home, personal, "read").await;
    assert_ne!(reset, token);
    for (uri, htmx) in addresses(&token) {
        assert_eq!(body(&visitor, &uri, htmx).await.0, Status::NotFound, "{uri} after the reset");
    }
    assert_eq!(body(&visitor, &format!("/public/{reset}"), false).await.0, Status::Ok);
    let close = format!("/calendars/{personal}/public-link/delete");
    assert_status(&home.amy.post_with_token(&close, &[]).await, Status::SeeOther);
    for (uri, htmx) in addresses(&reset) {
        assert_eq!(body(&visitor, &uri, htmx).await.0, Status::NotFound, "{uri} after closing");
    }
}

async fn a_busy_link_gives_times_only_and_never_a_cached_detail(engine: Engine) {
    let app = spawn(engine, Backend::Redis).await;
    let home = Household::new(&app).await;
    let personal = two_calendars(&home).await;
    // A whole link first, its pages cached; then the same calendar busy-only.
    let whole = publish(&home, personal, "read").await;
    for (uri, htmx) in addresses(&whole) {
        assert!(body(&home.ben, &uri, htmx).await.2.contains(TITLE));
    }
    let busy = publish(&home, personal, "busy").await;
    for (uri, htmx) in addresses(&busy) {
        for _ in 0..2 {
            let (status, _, text) = body(&home.ben, &uri, htmx).await;
            assert_eq!(status, Status::Ok, "{uri}");
            assert!(text.contains("Busy"), "{uri}: the time is shown: {text}");
            for marker in MARKERS.iter().chain([&OTHER]) {
                assert!(!text.contains(marker), "{uri} (htmx {htmx}) shows {marker}");
            }
        }
    }
    let feed = body(&home.ben, &format!("/public/{busy}.ics"), false).await.2;
    assert!(feed.contains("SUMMARY:Busy") && feed.contains("DTSTART"), "{feed}");
    let calendars = home.amy.get("/calendars").await.into_string().await.unwrap();
    assert!(calendars.contains("busy only"), "the owner sees what the link shows");

    // Only the owner opens or closes a calendar's link: not a recipient who may change it.
    assert_eq!(home.share(personal, "ben", "write").await, Status::SeeOther);
    for uri in
        [format!("/calendars/{personal}/public-link"), format!("/calendars/{personal}/public-link/delete")]
    {
        assert_status(&home.ben.post_with_token(&uri, &[("access", "read")]).await, Status::NotFound);
    }
    let hostile = format!("/calendars/{personal}/public-link");
    assert_status(&home.amy.post_with_token(&hostile, &[("access", "all")]).await, Status::BadRequest);
    assert_eq!(token_of(&home.amy).await, busy, "a refused form changes nothing");

    // The owner's deactivation closes the door; reactivation opens it again.
    crate::admin::create_admin(&app, "root", "admin-passphrase-1\n").await.unwrap();
    let admin = app.browser();
    assert_status(&admin.login("root", "admin-passphrase-1").await, Status::SeeOther);
    let confirm = [("confirm", "yes")];
    assert_status(&admin.post_with_token("/admin/users/1/deactivate", &confirm).await, Status::SeeOther);
    for (uri, htmx) in addresses(&busy) {
        assert_eq!(body(&home.ben, &uri, htmx).await.0, Status::NotFound, "{uri}");
    }
    assert_status(&admin.post_with_token("/admin/users/1/reactivate", &confirm).await, Status::SeeOther);
    assert_eq!(body(&home.ben, &format!("/public/{busy}"), false).await.0, Status::Ok);
}

fn request<'c>(
    browser: &'c Browser<'_>,
    uri: &str,
    htmx: bool,
) -> rocket::local::asynchronous::LocalRequest<'c> {
    let request = browser.client().get(uri.to_string());
    if htmx {
        request.header(rocket::http::Header::new("HX-Request", "true"))
    } else {
        request
    }
}

crate::on_both_engines!(
    a_public_link_opens_one_calendar_to_anyone,
    a_busy_link_gives_times_only_and_never_a_cached_detail
);
