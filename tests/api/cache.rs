//! The cache layer (issue 5; security.md 19-25): hits and misses, invalidation, the
//! stale-store race, stampedes, isolation, TTLs, outages, and what a hit costs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use eventide::cache::{Cache, CacheKey, Fragment, Outcome};
use eventide::domain::{Reach, UserId};
use rocket::http::{Header, Status};
use rocket_db_pools::deadpool_redis::redis as redis_client;

use crate::helpers::*;

fn x_cache(response: &rocket::local::asynchronous::LocalResponse<'_>) -> String {
    response.headers().get_one("X-Cache").unwrap_or("none").to_string()
}

async fn create(app: &TestApp, title: &str, start: &str, end: &str) {
    let fields = [("title", title), ("start", start), ("end", end)];
    assert_status(&app.post_with_token("/events", &fields).await, Status::SeeOther);
}

async fn check_miss_then_hit(app: &TestApp, uri: &str) {
    let first = app.get(uri).await;
    assert_status(&first, Status::Ok);
    assert_eq!(x_cache(&first), "MISS", "{uri}");
    let second = app.get(uri).await;
    assert_eq!(x_cache(&second), "HIT", "{uri}");
    let fragment = app.get_htmx(uri).await;
    assert_eq!(x_cache(&fragment), "HIT", "{uri}: page and fragment share the entry");
}

async fn miss_then_hit_and_writes_show_at_once(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    assert_status(&app.register("ann", PASSWORD).await, Status::SeeOther);
    // A day of this test's own: every test's first user is "user 1", and the log is the whole
    // process's, so only the date tells this test's log lines from another's.
    let day = chrono::NaiveDate::from_ymd_opt(2150, 1, 1).unwrap()
        + chrono::Duration::days(i64::from(rand::random::<u16>() % 18_000));
    let day = day.format("%Y-%m-%d").to_string();
    create(&app, "Standup", &format!("{day}T09:00"), &format!("{day}T09:15")).await;
    for view in ["month", "day", "week", "agenda"] {
        let uri = format!("/calendar/{view}/{day}");
        check_miss_then_hit(&app, &uri).await;
    }
    check_miss_then_hit(&app, "/").await;
    // A write is visible on the very next read.
    create(&app, "Retro", &format!("{day}T16:00"), &format!("{day}T17:00")).await;
    let page = app.get(&format!("/calendar/day/{day}")).await;
    assert_eq!(x_cache(&page), "MISS");
    assert!(page.into_string().await.unwrap().contains("Retro"));
    let logs = captured_logs();
    let hit = format!("Cache hit for events on {day} for user 1");
    assert_eq!(
        logs.iter().filter(|l| l.contains(&hit)).count(),
        2,
        "one DEBUG line per hit (page, fragment)"
    );
    let miss = format!("Cache miss for month view of {day} for user 1");
    assert_eq!(logs.iter().filter(|l| l.contains(&miss)).count(), 1, "one DEBUG line per miss");
    // Pages without a cache layer carry no X-Cache.
    assert_eq!(x_cache(&app.get("/account").await), "none");
}

async fn cached_pages_carry_no_per_request_data(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    assert_status(&app.register("bea", PASSWORD).await, Status::SeeOther);
    create(&app, "Lunch", "2026-06-02T12:00", "2026-06-02T13:00").await;
    let first = app.get("/events/1").await.into_string().await.unwrap();
    // Another browser of the same user has another CSRF token; the cached body must not
    // carry the first one's.
    let other = app.browser();
    other.login("bea", PASSWORD).await;
    let response = other.get("/events/1").await;
    assert_eq!(x_cache(&response), "HIT");
    let second = response.into_string().await.unwrap();
    let (first_token, second_token) = (meta_csrf(&first).unwrap(), meta_csrf(&second).unwrap());
    assert_ne!(first_token, second_token);
    assert!(!second.contains(&first_token));
    assert_eq!(second.matches(&second_token).count(), 4, "meta tag, hx-headers, logout and delete forms");
}

async fn another_users_cached_event_is_404(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    assert_status(&app.register("cat", PASSWORD).await, Status::SeeOther);
    create(&app, "Secret", "2026-06-03T12:00", "2026-06-03T13:00").await;
    assert_status(&app.get("/events/1").await, Status::Ok);
    assert_eq!(x_cache(&app.get("/events/1").await), "HIT");
    let intruder = app.browser();
    intruder.register("dan", PASSWORD).await;
    assert_status(&intruder.get("/events/1").await, Status::NotFound);
    assert_status(&intruder.get_htmx("/events/1").await, Status::NotFound);
    assert!(!intruder.get("/calendar/day/2026-06-03").await.into_string().await.unwrap().contains("Secret"));
}

async fn a_hit_costs_no_sql_and_at_most_two_round_trips(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    assert_status(&app.register("eli", PASSWORD).await, Status::SeeOther);
    create(&app, "Standup", "2026-06-01T09:00", "2026-06-01T09:15").await;
    let store = app.store();
    let backends = app.backends();
    let round_trips = || backends.cache.round_trips() + backends.sessions.round_trips();
    for uri in ["/calendar/month/2026-06-01", "/calendar/day/2026-06-01", "/events/1", "/"] {
        assert_status(&app.get(uri).await, Status::Ok);
        let (queries, trips) = (store.queries(), round_trips());
        let hit = app.get(uri).await;
        assert_eq!(x_cache(&hit), "HIT");
        assert_eq!(store.queries() - queries, 0, "{uri}: SQL on a hit");
        if backend == Backend::Redis {
            let used = round_trips() - trips;
            assert!((1..=2).contains(&used), "{uri}: {used} round trips");
        }
    }
}

/// A write of one event retires the views of its months and the views that are not of dates;
/// a month it cannot show stays cached (the full proof is in `invalidation.rs`).
async fn a_write_keeps_other_months_cached(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    assert_status(&app.register("kim", PASSWORD).await, Status::SeeOther);
    let views = ["/calendar/month/2026-06-01", "/calendar/month/2026-09-01", "/calendar/day/2026-09-30", "/"];
    for uri in views {
        check_miss_then_hit(&app, uri).await;
    }
    create(&app, "Lunch", "2026-06-18T12:00", "2026-06-18T13:00").await;
    let outcomes: Vec<String> =
        rocket::futures::future::join_all(views.map(|uri| app.get(uri))).await.iter().map(x_cache).collect();
    assert_eq!(outcomes, ["MISS", "HIT", "HIT", "MISS"]);
    assert!(app.get("/calendar/month/2026-06-01").await.into_string().await.unwrap().contains("Lunch"));
}

async fn switched_off_the_cache_bypasses(backend: Backend) {
    let app = spawn_with(Options::new(Engine::Sqlite, backend).with("cache_enabled", false)).await;
    assert_status(&app.register("fin", PASSWORD).await, Status::SeeOther);
    assert_eq!(x_cache(&app.get("/calendar/month/2026-06-01").await), "BYPASS");
    assert_eq!(x_cache(&app.get("/calendar/month/2026-06-01").await), "BYPASS");
}

crate::on_both_backends!(
    miss_then_hit_and_writes_show_at_once,
    cached_pages_carry_no_per_request_data,
    another_users_cached_event_is_404,
    a_hit_costs_no_sql_and_at_most_two_round_trips,
    a_write_keeps_other_months_cached,
    switched_off_the_cache_bypasses,
);

fn fragment(text: &str) -> Fragment {
    Fragment { title: text.into(), html: text.into() }
}

async fn cache_over(app: &TestApp) -> Cache {
    Cache::new(Some(app.backends().cache.clone()), Duration::from_secs(300))
}

/// security.md 21, driven step by step: a read misses and loads the old row; a write
/// commits and invalidates; only then does the read store its old value. The next read
/// must not see it: for a view of dates and a write of events in its month, and for any
/// view and a write that reaches everything.
async fn a_late_store_of_an_old_value_is_never_served(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    let cache = Arc::new(cache_over(&app).await);
    let june = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
    let mut in_june = Reach::nothing();
    let noon = june.and_hms_opt(12, 0, 0).unwrap().and_utc();
    in_june.add(noon, Some(noon + chrono::Duration::hours(1)));
    let cases = [
        (CacheKey::event(UserId(7), 1, None), Reach::everything()),
        (CacheKey::day(UserId(7), june, june), in_june),
    ];
    for (key, reach) in cases {
        let (loaded_tx, loaded_rx) = tokio::sync::oneshot::channel::<()>();
        let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
        let reader = {
            let (cache, key) = (cache.clone(), key.clone());
            tokio::spawn(async move {
                cache
                    .fetch(&key, || async move {
                        let old = fragment("old row");
                        let _ = loaded_tx.send(());
                        let _ = go_rx.await;
                        Ok(old)
                    })
                    .await
                    .unwrap()
            })
        };
        loaded_rx.await.unwrap();
        cache.invalidate(&[UserId(7)], &reach).await;
        go_tx.send(()).unwrap();
        let (value, outcome) = reader.await.unwrap();
        assert_eq!((value.html.as_str(), outcome), ("old row", Outcome::Miss));
        let (value, outcome) = cache.fetch(&key, || async { Ok(fragment("new row")) }).await.unwrap();
        assert_eq!((value.html.as_str(), outcome), ("new row", Outcome::Miss), "{key:?}");
        let (value, outcome) = cache.fetch(&key, || async { Ok(fragment("unused")) }).await.unwrap();
        assert_eq!((value.html.as_str(), outcome), ("new row", Outcome::Hit));
    }
}

async fn a_hundred_concurrent_misses_cost_one_load(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    let cache = Arc::new(cache_over(&app).await);
    let loads = Arc::new(AtomicUsize::new(0));
    let key = CacheKey::range(
        UserId(9),
        "month",
        chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        (
            chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            chrono::NaiveDate::from_ymd_opt(2026, 7, 12).unwrap(),
        ),
        chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
    );
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (cache, key, loads) = (cache.clone(), key.clone(), loads.clone());
            tokio::spawn(async move {
                cache
                    .fetch(&key, || async move {
                        loads.fetch_add(1, Ordering::SeqCst);
                        // A slow query: every other request arrives while it runs.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Ok(fragment("month"))
                    })
                    .await
                    .unwrap()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().0.html, "month");
    }
    assert_eq!(loads.load(Ordering::SeqCst), 1);
}

mod races {
    use super::*;
    crate::on_both_backends!(
        a_late_store_of_an_old_value_is_never_served,
        a_hundred_concurrent_misses_cost_one_load
    );
}

mod http_stampede {
    use super::*;

    #[rocket::async_test]
    async fn a_hundred_concurrent_requests_cost_one_query() {
        let app = spawn(Engine::Sqlite, Backend::Redis).await;
        assert_status(&app.register("gil", PASSWORD).await, Status::SeeOther);
        let cookie = app.session_cookie().unwrap();
        // What one miss of a month view costs (its calendars and its events), measured on
        // another month: a hundred concurrent misses must cost no more than that.
        let before = app.store().queries();
        assert_status(&app.get("/calendar/month/2026-01-01").await, Status::Ok);
        let one_miss = app.store().queries() - before;
        assert!(one_miss >= 1);
        let before = app.store().queries();
        let requests = (0..100).map(|_| {
            app.client
                .get("/calendar/month/2026-06-01")
                .cookie(rocket::http::Cookie::new("eventide_session", cookie.clone()))
                .dispatch()
        });
        let responses = futures_join(requests).await;
        assert!(responses.iter().all(|r| r.status() == Status::Ok));
        assert_eq!(app.store().queries() - before, one_miss);
    }

    async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
        let mut pinned: Vec<_> = futures.map(Box::pin).collect();
        let mut outputs = Vec::new();
        // Poll them all concurrently within this task.
        let mut pending: Vec<usize> = (0..pinned.len()).collect();
        let mut results: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
        std::future::poll_fn(|cx| {
            pending.retain(|&i| match pinned[i].as_mut().poll(cx) {
                std::task::Poll::Ready(out) => {
                    results[i] = Some(out);
                    false
                }
                std::task::Poll::Pending => true,
            });
            if pending.is_empty() {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await;
        outputs.extend(results.into_iter().flatten());
        outputs
    }
}

pub async fn keys(conn: &mut redis_client::aio::MultiplexedConnection, pattern: &str) -> Vec<String> {
    redis_client::cmd("KEYS").arg(pattern).query_async(conn).await.unwrap()
}

pub async fn redis_connection(url: &str) -> redis_client::aio::MultiplexedConnection {
    redis_client::Client::open(url).unwrap().get_multiplexed_tokio_connection().await.unwrap()
}

#[rocket::async_test]
async fn every_entry_has_a_bounded_ttl_and_key() {
    let app = spawn(Engine::Sqlite, Backend::Redis).await;
    assert_status(&app.register("hal", PASSWORD).await, Status::SeeOther);
    create(&app, "Standup", "2026-06-01T09:00", "2026-06-01T09:15").await;
    for uri in ["/calendar/month/2026-06-01", "/calendar/day/2026-06-01", "/events/1", "/"] {
        app.get(uri).await;
    }
    let mut conn = redis_connection(REDIS_URL).await;
    let keys: Vec<String> =
        redis_client::cmd("KEYS").arg(format!("{}cache:*", app.prefix)).query_async(&mut conn).await.unwrap();
    let entries: Vec<&String> =
        keys.iter().filter(|k| !k.contains("cache:gen:") && !k.ends_with("cache:epoch")).collect();
    assert_eq!(entries.len(), 4, "{keys:?}");
    for key in entries {
        let ttl: i64 = redis_client::cmd("PTTL").arg(key).query_async(&mut conn).await.unwrap();
        assert!((270_000..=330_000).contains(&ttl), "{key}: {ttl} ms");
        assert!(key.len() < 120, "{key}");
        assert!(key.contains(":1:"), "scoped to its owner: {key}");
    }
    let long = CacheKey::search(UserId(1), &"x".repeat(10_000), 3);
    assert!(format!("{long:?}").len() < 400);
}

#[rocket::async_test]
async fn metrics_are_for_admins_or_the_token() {
    let app = spawn_with(
        Options::new(Engine::Sqlite, Backend::Memory).with("metrics_token", "scrape-me-0123456789"),
    )
    .await;
    assert_status(&app.get("/metrics").await, Status::Forbidden);
    assert_status(&app.register("ivy", PASSWORD).await, Status::SeeOther);
    app.get("/calendar/month/2026-06-01").await;
    assert_status(&app.get("/metrics").await, Status::NotFound);
    let scrape = |token: &str| {
        app.client.get("/metrics").header(Header::new("Authorization", format!("Bearer {token}")))
    };
    let scraper = app.browser();
    assert_status(&scraper.send(scrape("wrong")).await, Status::Forbidden);
    let response = scraper.send(scrape("scrape-me-0123456789")).await;
    assert_status(&response, Status::Ok);
    let text = response.into_string().await.unwrap();
    assert!(text.contains("eventide_cache_requests_total{pattern=\"range\",outcome=\"miss\"} 1"), "{text}");
    assert!(text.contains("eventide_sql_queries_total"));
    // Latency histograms per route family, labelled with the instance.
    let calendar = text
        .lines()
        .find(|l| {
            l.starts_with("eventide_request_duration_seconds_count{") && l.contains("family=\"calendar\"")
        })
        .unwrap_or_else(|| panic!("no calendar histogram in {text}"));
    assert!(calendar.contains("instance=\"") && calendar.ends_with(" 1"), "{calendar}");
    assert!(text.contains("family=\"auth\",le=\"+Inf\"}"), "{text}");
}

/// Two instances on one database and one Redis (as behind a balancer): the same miss on both
/// at once is loaded by one of them; the other waits for its value (a short Redis lease).
#[rocket::async_test]
async fn concurrent_misses_across_instances_cost_one_load() {
    const SECRET: &str = "cache-test-secret-shared-by-both-instances-0123";
    let first = spawn_with(Options::new(Engine::Postgres, Backend::Redis).with("secret_key", SECRET)).await;
    let second = spawn_with(
        Options::new(Engine::Postgres, Backend::Redis)
            .with("secret_key", SECRET)
            .with("database_url", first.db.url.clone())
            .with("redis_prefix", first.prefix.clone()),
    )
    .await;
    assert_status(&first.register("zoe", PASSWORD).await, Status::SeeOther);
    // Enough in each month that a load takes a while, as a real one does.
    for day in 1..=28 {
        for (month, hour) in [("04", 9), ("05", 9), ("04", 14), ("05", 14)] {
            let (start, end) =
                (format!("2027-{month}-{day:02}T{hour}:00"), format!("2027-{month}-{day:02}T{hour}:45"));
            create(&first, "Planning", &start, &end).await;
        }
    }
    let there = second.browser();
    there.cookies.set("eventide_session", &first.jar().get("eventide_session").unwrap());
    let total = || first.store().queries() + second.store().queries();

    // What one load costs, and what a hit costs, on one instance.
    let before = total();
    assert_status(&first.get_htmx("/calendar/month/2027-04-01").await, Status::Ok);
    let one_load = total() - before;
    let before = total();
    assert_status(&first.get_htmx("/calendar/month/2027-04-01").await, Status::Ok);
    let hit = total() - before;
    assert!(one_load > hit, "a load reads the database");

    // Ten requests on each instance at once, all missing: one load in all.
    let before = total();
    let uri = "/calendar/month/2027-05-01";
    let (here, away) = (&first, &there);
    let requests = (0..20).map(|n| async move {
        let response = if n % 2 == 0 { here.get_htmx(uri).await } else { away.get_htmx(uri).await };
        response.into_string().await.unwrap_or_default()
    });
    let answers = rocket::futures::future::join_all(requests).await;
    assert!(
        answers[0].contains("Planning") && answers.iter().all(|a| *a == answers[0]),
        "all answer the same"
    );
    assert_eq!(total() - before, one_load + 19 * hit, "one instance loaded; the other waited for its value");
}
