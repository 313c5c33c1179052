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
