//! Invalidation by reach (issue 21): a write of events retires only the views of the months
//! its events were and are in, and the views that are not of dates; the other months stay
//! cached. No view is ever served stale: after every write below, each view read through the
//! cache must equal the same view read from a second instance on the same database and
//! sessions with its cache switched off.

use rocket::http::Status;

use crate::helpers::*;

const SECRET: &str = "reach-test-secret-shared-by-both-instances-0123";

fn x_cache(response: &rocket::local::asynchronous::LocalResponse<'_>) -> String {
    response.headers().get_one("X-Cache").unwrap_or("none").to_string()
}

/// Posts a form that must succeed, and returns where it led.
async fn save(browser: &impl Browse, uri: &str, fields: &[(&str, &str)]) -> String {
    let response = browser.post_with_token(uri, fields).await;
    assert_status(&response, Status::SeeOther);
    response.headers().get_one("Location").unwrap_or_default().to_string()
}

/// An event's fields, repeating every Monday until `ends` says.
fn mondays<'a>(mut fields: Vec<(&'a str, &'a str)>, ends: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    fields.extend([("repeat", "weekly"), ("weekdays", "MO"), ("interval", "1")]);
    fields.extend_from_slice(ends);
    fields
}

fn id_in(location: &str) -> String {
    location.trim_start_matches("/events/").to_string()
}

/// Every view the writes below could change, and many they cannot.
fn views() -> Vec<String> {
    let mut views: Vec<String> =
        ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
            .iter()
            .chain(&["2026-12", "2027-01", "2027-02", "2027-03"])
            .map(|month| format!("/calendar/month/{month}-01"))
            .collect();
    for day in ["2026-06-10", "2026-06-29", "2026-07-06", "2026-08-12", "2026-09-03", "2026-10-14"]
        .iter()
        .chain(&["2026-11-30", "2026-12-01", "2027-01-31", "2027-02-01"])
    {
        views.push(format!("/calendar/day/{day}"));
        views.push(format!("/calendar/week/{day}"));
    }
    views.push("/calendar/agenda/2026-06-25".into());
    views.push("/".into());
    views.push("/search?q=swim".into());
    views
}

/// One user seen through both instances.
struct Reader<'a> {
    name: &'static str,
    cached: Browser<'a>,
    plain: Browser<'a>,
}

/// Reads every view both ways and requires the same answer; returns how many were hits.
async fn compare(readers: &[Reader<'_>], step: &str) -> usize {
    let mut hits = 0;
    for reader in readers {
        for uri in views() {
            let cached = reader.cached.get_htmx(&uri).await;
            assert_status(&cached, Status::Ok);
            let outcome = x_cache(&cached);
            hits += usize::from(outcome == "HIT");
            let cached = cached.into_string().await.unwrap_or_default();
            let plain = reader.plain.get_htmx(&uri).await;
            assert_eq!(x_cache(&plain), "BYPASS");
            let plain = plain.into_string().await.unwrap_or_default();
            assert!(
                cached == plain,
                "{} read {uri} stale ({outcome}) after {step}:\n{cached}\n---\n{plain}",
                reader.name
            );
        }
    }
    hits
}

#[rocket::async_test]
async fn no_view_is_ever_stale_and_other_months_stay_cached_sqlite() {
    no_view_is_ever_stale_and_other_months_stay_cached(Engine::Sqlite).await;
}

#[rocket::async_test]
async fn no_view_is_ever_stale_and_other_months_stay_cached_postgres() {
    no_view_is_ever_stale_and_other_months_stay_cached(Engine::Postgres).await;
}

async fn no_view_is_ever_stale_and_other_months_stay_cached(engine: Engine) {
    let cached = spawn_with(Options::new(engine, Backend::Redis).with("secret_key", SECRET)).await;
    let plain = spawn_with(
        Options::new(engine, Backend::Redis)
            .with("secret_key", SECRET)
            .with("database_url", cached.db.url.clone())
            .with("redis_prefix", cached.prefix.clone())
            .with("cache_enabled", false),
    )
    .await;
    plain.clock.advance(cached.clock.now() - plain.clock.now());

    // Ann in Auckland owns the calendar; Bob in Honolulu, a day behind, may write to it.
    let ann = cached.browser();
    assert_status(&ann.register("ann", PASSWORD).await, Status::SeeOther);
    let zone = [("time_zone", "Pacific/Auckland"), ("week_start", "1")];
    assert_status(&ann.post_with_token("/account/preferences", &zone).await, Status::SeeOther);
    let bob = cached.browser();
    assert_status(&bob.register("bob", PASSWORD).await, Status::SeeOther);
    let zone = [("time_zone", "Pacific/Honolulu"), ("week_start", "0")];
    assert_status(&bob.post_with_token("/account/preferences", &zone).await, Status::SeeOther);
    let share = [("username", "bob"), ("access", "write")];
    save(&ann, "/calendars/1/shares", &share).await;
    let readers: Vec<Reader<'_>> = [("ann", ann), ("bob", bob)]
        .into_iter()
        .map(|(name, cached_browser)| {
            let plain_browser = plain.browser();
            plain_browser
                .cookies
                .set("eventide_session", &cached_browser.session_cookie().unwrap_or_default());
            Reader { name, cached: cached_browser, plain: plain_browser }
        })
        .collect();
    let (ann, bob) = (&readers[0].cached, &readers[1].cached);
    compare(&readers, "nothing").await;
    assert_eq!(compare(&readers, "nothing again").await, 2 * views().len(), "all cached");

    let event = |title: &'static str, start: &'static str, end: &'static str| {
        vec![("title", title), ("start", start), ("end", end)]
    };
    let dentist =
        id_in(&save(ann, "/events", &event("Dentist", "2026-06-10T09:00", "2026-06-10T10:00")).await);
    // Of the 68 reads (34 views, two readers), those of other months stay cached.
    let kept = compare(&readers, "a new event in June").await;
    assert!(kept >= 45, "the views of other months stayed cached: {kept}");

    save(ann, &format!("/events/{dentist}"), &event("Dentist", "2026-09-03T09:00", "2026-09-03T10:00")).await;
    assert!(compare(&readers, "the event moved from June to September").await >= 35);

    let mut holiday = event("Holiday", "2027-01-31", "2027-01-31");
    holiday.push(("all_day", "on"));
    save(ann, "/events", &holiday).await;
    assert!(compare(&readers, "an all-day event on the last of January").await >= 45);

    // Mondays 07:00 in Auckland, five times: 29 June to 27 July (Sunday evenings in UTC).
    let swim =
        mondays(event("Swim", "2026-06-29T07:00", "2026-06-29T08:00"), &[("ends", "count"), ("count", "5")]);
    let series = id_in(&save(ann, "/events", &swim).await);
    assert!(compare(&readers, "a series of five").await >= 40);

    // One occurrence leaves the series' months altogether.
    let moved = [
        ("occurrence", "20260705T190000Z"),
        ("scope", "this"),
        ("title", "Swim (pool closed)"),
        ("start", "2026-10-14T07:00"),
        ("end", "2026-10-14T08:00"),
    ];
    save(ann, &format!("/events/{series}"), &moved).await;
    assert!(compare(&readers, "an occurrence moved to October").await >= 30);

    // Deleting the series takes the moved occurrence from October too.
    let all = [("occurrence", "20260628T190000Z"), ("scope", "all")];
    save(ann, &format!("/events/{series}/delete"), &all).await;
    assert!(compare(&readers, "the series deleted").await >= 30);

    // 08:00 on 1 December in Auckland is still 30 November in Honolulu.
    save(ann, "/events", &event("Call", "2026-12-01T08:00", "2026-12-01T08:30")).await;
    assert!(compare(&readers, "an event on a month's edge").await >= 45);

    // Bob writes to Ann's calendar: both of them see it at once.
    let mut review = event("Review", "2026-08-12T10:00", "2026-08-12T11:00");
    review.push(("calendar_id", "1"));
    save(bob, "/events", &review).await;
    assert!(compare(&readers, "a recipient's event in the owner's calendar").await >= 50);

    // A series without end may show in any month: nothing of a date stays.
    let yoga = mondays(event("Yoga", "2026-11-02T18:00", "2026-11-02T19:00"), &[("ends", "never")]);
    let yoga = id_in(&save(ann, "/events", &yoga).await);
    assert_eq!(compare(&readers, "an endless series").await, 0);

    // One of its occurrences moves a day: only the views of November change.
    let moved = [
        ("occurrence", "20261109T050000Z"),
        ("scope", "this"),
        ("title", "Yoga (moved)"),
        ("start", "2026-11-10T18:00"),
        ("end", "2026-11-10T19:00"),
    ];
    save(ann, &format!("/events/{yoga}"), &moved).await;
    assert!(compare(&readers, "an occurrence of the endless series moved").await >= 40);

    save(ann, &format!("/events/{dentist}/delete"), &[]).await;
    assert!(compare(&readers, "the event deleted").await >= 50);

    // Not a write of events: the colour shows in every view.
    save(ann, "/calendars/1", &[("name", "Home"), ("color", "#aa3300")]).await;
    assert_eq!(compare(&readers, "the calendar recoloured").await, 0);
}

/// An edited occurrence deleted on its own (as a CalDAV client may: the series then has that
/// occurrence again) reaches where it was and the occurrence it stood in for, and no more,
/// even in a series without end.
#[rocket::async_test]
async fn an_edited_occurrence_reaches_the_occurrence_it_replaced() {
    let app = spawn(Engine::Sqlite, Backend::Memory).await;
    assert_status(&app.register("cyd", PASSWORD).await, Status::SeeOther);
    let weekly = mondays(
        vec![("title", "Run"), ("start", "2026-03-02T07:00"), ("end", "2026-03-02T08:00")],
        &[("ends", "never")],
    );
    let series = id_in(&save(&app, "/events", &weekly).await);
    let moved = [
        ("occurrence", "20260309T070000Z"),
        ("scope", "this"),
        ("title", "Run (moved)"),
        ("start", "2026-05-20T07:00"),
        ("end", "2026-05-20T08:00"),
    ];
    let edited: i64 = id_in(&save(&app, &format!("/events/{series}"), &moved).await).parse().unwrap();
    let owner = eventide::domain::UserId(1);
    let committed = app
        .store()
        .apply(owner, owner, vec![eventide::domain::Change::Delete(eventide::domain::EventId(edited))])
        .await
        .unwrap();
    let months: Vec<String> = committed
        .reach()
        .months(24)
        .unwrap_or_default()
        .iter()
        .map(|m| m.format("%Y-%m").to_string())
        .collect();
    assert_eq!(months, ["2026-03", "2026-05"]);
    committed.settle();
}
