//! The skeleton: health, assets, headers, error pages, configuration errors.

use rocket::http::{Header, Status};

use crate::helpers::*;

async fn healthz_reports_the_engine(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    let response = app.get("/healthz").await;
    assert_status(&response, Status::Ok);
    let body: serde_json::Value = response.into_json().await.unwrap();
    let expected = match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["engine"], expected);
    assert_eq!(body["cache"]["backend"], "memory");
}

crate::on_both_engines!(healthz_reports_the_engine);

#[rocket::async_test]
async fn healthz_shows_redis_when_configured() {
    let app = spawn(Engine::Sqlite, Backend::Redis).await;
    let body: serde_json::Value = app.get("/healthz").await.into_json().await.unwrap();
    assert_eq!(body["cache"]["backend"], "redis");
    assert_eq!(body["cache"]["status"], "ok");
    assert_eq!(body["sessions"]["backend"], "redis");
}

#[rocket::async_test]
async fn healthz_stays_up_but_reports_a_dead_redis() {
    let mut redis = PrivateRedis::start().await;
    let mut options = Options::new(Engine::Sqlite, Backend::Redis);
    options.redis_url = redis.url();
    let app = spawn_with(options).await;
    redis.stop();
    let started = std::time::Instant::now();
    let response = app.get("/healthz").await;
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "bounded by the Redis timeout");
    assert_status(&response, Status::Ok);
    let body: serde_json::Value = response.into_json().await.unwrap();
    assert_eq!(body["cache"]["status"], "unavailable");
    redis.restart().await;
    let body: serde_json::Value = app.get("/healthz").await.into_json().await.unwrap();
    assert_eq!(body["cache"]["status"], "ok", "recovers by itself");
}

#[rocket::async_test]
async fn pages_link_hashed_assets_served_immutable() {
    let app = spawn(Engine::Sqlite, Backend::Memory).await;
    let page = app.get("/about").await.into_string().await.unwrap();
    let css = page.split('"').find(|s| s.starts_with("/assets/app.")).expect("a hashed css link").to_string();
    let js = page.split('"').find(|s| s.contains("/assets/vendor/htmx")).expect("htmx").to_string();

    let response = app.get(&css).await;
    assert_status(&response, Status::Ok);
    assert_eq!(response.headers().get_one("Cache-Control"), Some("public, max-age=31536000, immutable"));
    assert_eq!(response.content_type(), Some(rocket::http::ContentType::CSS));
    let response = app.get(&js).await;
    assert_eq!(response.content_type(), Some(rocket::http::ContentType::JavaScript));
    assert!(response.into_string().await.unwrap().contains("htmx"));

    assert_status(&app.get("/assets/app.css").await, Status::NotFound);
    assert_status(&app.get("/assets/app.000000000000.css").await, Status::NotFound);
    assert_status(&app.get("/assets/../Cargo.toml").await, Status::NotFound);
}

#[rocket::async_test]
async fn every_response_carries_the_security_headers() {
    let app = spawn(Engine::Sqlite, Backend::Memory).await;
    for uri in ["/about", "/healthz", "/does-not-exist", "/assets/app.css"] {
        let response = app.get(uri).await;
        let headers = response.headers();
        let csp = headers.get_one("Content-Security-Policy").unwrap_or_default();
        for directive in [
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(directive), "{uri}: CSP lacks {directive}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        assert_eq!(headers.get_one("X-Content-Type-Options"), Some("nosniff"), "{uri}");
        assert!(headers.get_one("Referrer-Policy").is_some(), "{uri}");
    }
    let page = app.get("/about").await;
    assert!(page.headers().get("Vary").any(|v| v.contains("HX-Request")));
    assert_eq!(page.headers().get_one("Cache-Control"), Some("no-store"));
}

#[rocket::async_test]
async fn htmx_is_configured_safely_in_the_layout() {
    let app = spawn(Engine::Sqlite, Backend::Memory).await;
    let page = app.get("/about").await.into_string().await.unwrap();
    let config =
        page.split("name=\"htmx-config\" content='").nth(1).and_then(|s| s.split('\'').next()).unwrap();
    let config: serde_json::Value = serde_json::from_str(config).unwrap();
    assert_eq!(config["allowEval"], false);
    assert_eq!(config["allowScriptTags"], false);
    assert_eq!(config["includeIndicatorStyles"], false);
    assert_eq!(config["historyCacheSize"], 0);
    assert_eq!(config["selfRequestsOnly"], true);
    assert!(page.contains("<main id=\"main\"") && page.contains("<nav aria-label=\"Main\">"));
    assert!(!page.contains("style="), "no inline styles under the CSP");
}

#[rocket::async_test]
async fn errors_render_as_page_or_fragment() {
    let app = spawn(Engine::Sqlite, Backend::Memory).await;
    let response = app.get("/no/such/page").await;
    assert_status(&response, Status::NotFound);
    let page = response.into_string().await.unwrap();
    assert!(page.starts_with("<!doctype html>") && page.contains("404"));

    let response = app.get_htmx("/no/such/page").await;
    assert_status(&response, Status::NotFound);
    assert_eq!(response.headers().get_one("HX-Retarget"), Some("#alerts"));
    let fragment = response.into_string().await.unwrap();
    assert!(!fragment.contains("<html") && fragment.contains("role=\"alert\""));

    let restore = app
        .client
        .get("/no/such/page")
        .header(Header::new("HX-Request", "true"))
        .header(Header::new("HX-History-Restore-Request", "true"))
        .dispatch()
        .await;
    assert!(restore.into_string().await.unwrap().starts_with("<!doctype html>"));
}

#[rocket::async_test]
async fn malformed_database_url_is_a_clear_error() {
    for url in ["mysql://localhost/x", "postgres://u@[::1/x", "nonsense"] {
        let figment = test_figment(url, "unused:");
        let Err(error) = eventide::build(figment) else { panic!("{url} accepted") };
        let error = error.to_string();
        assert!(error.contains("DATABASE_URL"), "{error}");
    }
}

#[rocket::async_test]
async fn unreachable_database_stops_the_launch() {
    let port = free_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/none");
    let figment = test_figment(&url, "unused:").merge(("databases.postgres.connect_timeout", 1));
    let rocket = eventide::build(figment).unwrap();
    let Err(error) = rocket.ignite().await else { panic!("launched without a database") };
    let line = eventide::describe_launch_error(&error);
    assert!(line.contains("startup failed") && !line.contains('\n'), "{line}");
}

#[rocket::async_test]
async fn release_profile_requires_a_secret_key() {
    let figment = test_figment("sqlite://unused.db", "unused:")
        .select(rocket::Config::RELEASE_PROFILE)
        .merge(("address", "0.0.0.0"))
        .merge(("secret_key", None::<String>));
    let Err(error) = eventide::build(figment) else { panic!("release without a secret") };
    let error = error.to_string();
    assert!(error.contains("SECRET_KEY"), "{error}");
}
