//! Redis stopped under a running app: sessions fail closed with a 503 that keeps the user's
//! form and cookie, login throttling falls back to in-process limits, and all recovers.

use std::time::{Duration, Instant};

use rocket::http::{Header, Status};

use crate::helpers::*;

async fn app_on_private_redis(redis: &PrivateRedis) -> TestApp {
    let mut options = Options::new(Engine::Sqlite, Backend::Redis);
    options.redis_url = redis.url();
    spawn_with(options).await
}

#[rocket::async_test]
async fn sessions_fail_closed_with_a_503_and_recover() {
    let mut redis = PrivateRedis::start().await;
    let app = app_on_private_redis(&redis).await;
    assert_status(&app.register("uma", PASSWORD).await, Status::SeeOther);
    let token = app.csrf_token().await;
    let session = app.session_cookie().unwrap();
    redis.stop();

    let started = Instant::now();
    let page = app.get("/account").await;
    assert!(started.elapsed() < Duration::from_secs(1), "bounded by the Redis timeout");
    assert_status(&page, Status::ServiceUnavailable);
    assert!(page.headers().get_one("Retry-After").is_some());
    assert!(page.headers().get("Set-Cookie").all(|c| !c.starts_with("eventide_session=")), "no logout");
    assert!(page.into_string().await.unwrap().contains("Nothing you typed was lost"));

    let request = app
        .client
        .post("/account/preferences")
        .header(rocket::http::ContentType::Form)
        .header(Header::new("HX-Request", "true"))
        .header(Header::new("X-CSRF-Token", token))
        .body("time_zone=Europe%2FBerlin&week_start=1");
    let fragment = app.send(request).await;
    assert_status(&fragment, Status::ServiceUnavailable);
    assert_eq!(fragment.headers().get_one("HX-Retarget"), Some("#alerts"), "the form stays in place");
    let body = fragment.into_string().await.unwrap();
    assert!(!body.contains("<html") && body.contains("role=\"alert\""));
    assert_eq!(app.session_cookie().as_deref(), Some(session.as_str()), "the browser keeps its session");

    redis.restart().await;
    // The private server keeps nothing on disk, so the session died with it: the user is
    // asked to log in again, and nothing fails.
    let page = app.get("/account").await;
    assert_status(&page, Status::SeeOther);
    assert_status(&app.login("uma", PASSWORD).await, Status::SeeOther);
    assert_status(&app.get("/account").await, Status::Ok);
}

#[rocket::async_test]
async fn login_throttle_falls_back_to_in_process_limits() {
    let mut redis = PrivateRedis::start().await;
    let app = app_on_private_redis(&redis).await;
    assert_status(&app.register("vic", PASSWORD).await, Status::SeeOther);
    let attacker = app.browser();
    attacker.csrf_token().await;
    assert_status(&app.browser().register("wes", PASSWORD).await, Status::SeeOther);
    redis.stop();
    for _ in 0..5 {
        assert_status(&attacker.login("vic", "wrong-password-1").await, Status::Unauthorized);
    }
    assert_status(&attacker.login("vic", PASSWORD).await, Status::TooManyRequests);
    // A correct password with the session store down cannot log in, but says so clearly.
    assert_status(&app.browser().login("wes", PASSWORD).await, Status::ServiceUnavailable);
}

fn x_cache(response: &rocket::local::asynchronous::LocalResponse<'_>) -> String {
    response.headers().get_one("X-Cache").unwrap_or("none").to_string()
}

/// The cache Redis stalls (its data kept) while a write happens: pages keep working from the
/// database with BYPASS, and when it comes back nothing from before the stall is served.
#[rocket::async_test]
async fn a_cache_outage_fails_open_and_serves_nothing_stale() {
    let cache_redis = PrivateRedis::start().await;
    let mut session_redis = PrivateRedis::start().await;
    let mut options =
        Options::new(Engine::Sqlite, Backend::Redis).with("session_redis_url", session_redis.url());
    options.redis_url = cache_redis.url();
    let app = spawn_with(options).await;
    assert_status(&app.register("zed", PASSWORD).await, Status::SeeOther);
    let fields = [("title", "Before"), ("start", "2026-06-01T09:00"), ("end", "2026-06-01T10:00")];
    assert_status(&app.post_with_token("/events", &fields).await, Status::SeeOther);
    let day = "/calendar/day/2026-06-01";
    assert_eq!(x_cache(&app.get(day).await), "MISS");
    assert_eq!(x_cache(&app.get(day).await), "HIT");

    cache_redis.pause();
    let started = Instant::now();
    let page = app.get(day).await;
    assert_status(&page, Status::Ok);
    assert_eq!(x_cache(&page), "BYPASS");
    assert!(started.elapsed() < Duration::from_millis(900), "a short timeout, not a hang");
    let fields = [("title", "After"), ("start", "2026-06-01T09:00"), ("end", "2026-06-01T10:00")];
    assert_status(&app.post_with_token("/events/1", &fields).await, Status::SeeOther);
    let page = app.get(day).await;
    assert_eq!(x_cache(&page), "BYPASS");
    assert!(page.into_string().await.unwrap().contains("After"));

    cache_redis.resume();
    // The breaker rests for a second after a failure, then tries Redis again by itself.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let page = app.get(day).await;
    assert_eq!(x_cache(&page), "MISS", "the entry from before the stall is retired");
    let body = page.into_string().await.unwrap();
    assert!(body.contains("After") && !body.contains("Before"));
    assert_eq!(x_cache(&app.get(day).await), "HIT");

    // The sessions' Redis is another matter: without it nobody can be recognised.
    session_redis.stop();
    assert_status(&app.get(day).await, Status::ServiceUnavailable);
}

#[rocket::async_test]
async fn a_killed_cache_redis_is_bypassed_then_used_again_after_restart() {
    let mut cache_redis = PrivateRedis::start().await;
    let session_redis = PrivateRedis::start().await;
    let mut options =
        Options::new(Engine::Sqlite, Backend::Redis).with("session_redis_url", session_redis.url());
    options.redis_url = cache_redis.url();
    let app = spawn_with(options).await;
    assert_status(&app.register("yan", PASSWORD).await, Status::SeeOther);
    let month = "/calendar/month/2026-06-01";
    assert_eq!(x_cache(&app.get(month).await), "MISS");
    cache_redis.stop();
    for _ in 0..3 {
        let page = app.get(month).await;
        assert_status(&page, Status::Ok);
        assert_eq!(x_cache(&page), "BYPASS");
    }
    cache_redis.restart().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(x_cache(&app.get(month).await), "MISS");
    assert_eq!(x_cache(&app.get(month).await), "HIT");
}

/// security.md 25: a command abandoned on timeout must never answer a later command.
#[rocket::async_test]
async fn a_timed_out_command_never_answers_another() {
    let redis = PrivateRedis::start().await;
    let mut options = Options::new(Engine::Sqlite, Backend::Redis);
    options.redis_url = redis.url();
    let app = spawn_with(options).await;
    let kv = app.backends().cache.clone();
    kv.set("a", b"value of a", Duration::from_secs(60)).await.unwrap();
    kv.set("b", b"value of b", Duration::from_secs(60)).await.unwrap();
    redis.pause();
    assert!(kv.get("a").await.is_err(), "times out while Redis is frozen");
    redis.resume();
    for _ in 0..3 {
        assert_eq!(kv.get("b").await.unwrap().as_deref(), Some(&b"value of b"[..]));
        assert_eq!(kv.get("a").await.unwrap().as_deref(), Some(&b"value of a"[..]));
    }
}
