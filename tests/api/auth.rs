//! Accounts, sessions, CSRF and throttling (`../shared/security.md` 1-12 and 16-18).

use std::time::{Duration, Instant};

use rocket::http::{Header, Method, Status};
use sha2::{Digest, Sha256};

use crate::helpers::*;

fn session_key(id: &str) -> String {
    format!("session:{}", hex::encode(Sha256::digest(id.as_bytes())))
}

async fn logged_in(app: &TestApp, name: &str) {
    let response = app.register(name, PASSWORD).await;
    assert_status(&response, Status::SeeOther);
}

fn location(response: &rocket::local::asynchronous::LocalResponse<'_>) -> String {
    response.headers().get_one("Location").unwrap_or_default().to_string()
}

// --- registration and login ---------------------------------------------------------------

async fn registration_logs_the_user_in(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    let response = app.register("alice", PASSWORD).await;
    assert_status(&response, Status::SeeOther);
    assert_eq!(location(&response), "/");
    let home = app.get("/").await;
    assert_status(&home, Status::Ok);
    let home = home.into_string().await.unwrap();
    assert!(home.contains("Today ·") && home.contains(">alice</a>"));
}

async fn invalid_registration_is_422_with_errors_and_input_kept(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    let long = "x".repeat(33);
    for (username, password, confirm, field) in [
        ("ab", PASSWORD, PASSWORD, "username-error"),
        (long.as_str(), PASSWORD, PASSWORD, "username-error"),
        ("bad name!", PASSWORD, PASSWORD, "username-error"),
        ("carol", "short", "short", "password-error"),
        ("carol", "password123", "password123", "password-error"),
        ("carol", &"p".repeat(129), &"p".repeat(129), "password-error"),
        ("carol", PASSWORD, "glacier-tulip-88", "password_confirm-error"),
    ] {
        let fields = [("username", username), ("password", password), ("password_confirm", confirm)];
        let response = app.post_with_token("/register", &fields).await;
        assert_status(&response, Status::UnprocessableEntity);
        let body = response.into_string().await.unwrap();
        assert!(body.contains(field), "{username}/{password}: no {field}");
        assert!(body.contains(&format!("value=\"{username}\"")), "username kept: {body}");
        assert!(!body.contains(&format!("value=\"{password}\"")), "password never echoed");
    }
    assert_eq!(app.store().count_users().await.unwrap(), 0, "nothing written");
}

async fn unicode_usernames_are_unique_case_insensitively(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    assert_status(&app.register("Zoë.Ünal", PASSWORD).await, Status::SeeOther);
    let other = app.browser();
    let response = other.register("zoë.ünal", PASSWORD).await;
    assert_status(&response, Status::UnprocessableEntity);
    assert!(response.into_string().await.unwrap().contains("taken"));
    assert_status(&other.register("名前_1", PASSWORD).await, Status::SeeOther);
}

async fn two_registrations_of_one_name_race_to_one_winner(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    let (a, b) = (app.browser(), app.browser());
    let (ta, tb) = (a.csrf_token().await, b.csrf_token().await);
    let fields = |token: &str| {
        encode_form(&[
            ("csrf_token", token),
            ("username", "racer"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ])
    };
    let request = |browser: &Browser<'_>, token: &str| {
        let request =
            app.client.post("/register").header(rocket::http::ContentType::Form).body(fields(token));
        let cookie = browser.cookies.get("eventide_csrf").unwrap();
        request.cookie(rocket::http::Cookie::new("eventide_csrf", cookie))
    };
    let (ra, rb) = tokio::join!(request(&a, &ta).dispatch(), request(&b, &tb).dispatch());
    let mut statuses = [ra.status().code, rb.status().code];
    statuses.sort();
    assert_eq!(statuses, [303, 422]);
}

async fn failed_login_is_401_and_the_same_for_unknown_users(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    logged_in(&app, "dave").await;
    let attacker = app.browser();
    let token = attacker.csrf_token().await;
    let attempt = |username: &'static str| {
        let token = token.clone();
        let attacker = &attacker;
        async move {
            let started = Instant::now();
            let response = attacker
                .post_form(
                    "/login",
                    &[("csrf_token", &token), ("username", username), ("password", "wrong-password-1")],
                )
                .await;
            let elapsed = started.elapsed();
            let status = response.status();
            let mut headers: Vec<String> = response
                .headers()
                .iter()
                .filter(|h| h.name() != "Date")
                .map(|h| format!("{}: {}", h.name(), h.value()))
                .collect();
            headers.sort();
            let body = response.into_string().await.unwrap().replace(username, "NAME");
            (status, headers, body, elapsed)
        }
    };
    let (known_status, known_headers, known_body, _) = attempt("dave").await;
    let (unknown_status, unknown_headers, unknown_body, _) = attempt("nobody").await;
    assert_eq!(known_status, Status::Unauthorized);
    assert_eq!(known_status, unknown_status);
    assert_eq!(known_headers, unknown_headers);
    assert_eq!(known_body, unknown_body);
    assert!(known_body.contains("Unknown username or wrong password."));

    // Both paths run a full argon2 verification; compare the faster of three of each.
    let mut known = Duration::MAX;
    let mut unknown = Duration::MAX;
    for _ in 0..3 {
        known = known.min(attempt("dave").await.3);
        unknown = unknown.min(attempt("nobody").await.3);
    }
    let ratio = known.as_secs_f64() / unknown.as_secs_f64();
    assert!((0.33..3.0).contains(&ratio), "known {known:?} vs unknown {unknown:?}");
}

async fn passwords_are_stored_as_argon2id(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    logged_in(&app, "erin").await;
    let erin = app.store().user_by_username("erin").await.unwrap().unwrap();
    assert!(erin.password_hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", erin.password_hash);
}

async fn login_honours_only_local_next(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    logged_in(&app, "frank").await;
    for (next, expected) in [
        ("/account", "/account"),
        ("/calendar/month/2026-11-01?x=1", "/calendar/month/2026-11-01?x=1"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ] {
        let browser = app.browser();
        let response = browser
            .post_with_token("/login", &[("username", "frank"), ("password", PASSWORD), ("next", next)])
            .await;
        assert_status(&response, Status::SeeOther);
        assert_eq!(location(&response), expected, "next={next:?}");
    }
}

async fn pages_needing_a_user_redirect_to_login(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    let response = app.get("/account").await;
    assert_status(&response, Status::SeeOther);
    assert_eq!(location(&response), "/login?next=%2Faccount");
    let response = app.get_htmx("/account").await;
    assert_eq!(response.headers().get_one("HX-Redirect"), Some("/login?next=%2Faccount"));
    let response = app.get("/").await;
    assert_eq!(location(&response), "/login");
}

// --- sessions (security.md 1-9) -----------------------------------------------------------

async fn session_ids_are_random_and_stored_hashed(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    logged_in(&app, "gina").await;
    let id = app.session_cookie().unwrap();
    assert_eq!(id.len(), 43, "256 bits, base64url");
    assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let other = app.browser();
    other.login("gina", PASSWORD).await;
    assert_ne!(other.session_cookie().unwrap(), id);

    let sessions = &app.backends().sessions;
    assert!(sessions.get(&session_key(&id)).await.unwrap().is_some(), "stored under the hash");
    assert!(sessions.get(&format!("session:{id}")).await.unwrap().is_none());
    assert!(sessions.get(&id).await.unwrap().is_none());
    app.get("/account").await;
    assert!(captured_logs().iter().all(|line| !line.contains(&id)), "a raw session id reached the log");
}

async fn login_rotates_the_session_id(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    logged_in(&app, "hana").await;
    let before = app.session_cookie().unwrap();
    assert_status(&app.login("hana", PASSWORD).await, Status::SeeOther);
    let after = app.session_cookie().unwrap();
    assert_ne!(before, after);
    assert!(app.backends().sessions.get(&session_key(&before)).await.unwrap().is_none());
    let replay = app.browser();
    replay.cookies.set("eventide_session", &before);
    assert_status(&replay.get("/account").await, Status::SeeOther);
}

async fn a_session_id_the_server_never_issued_is_not_adopted(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    logged_in(&app, "ivan").await;
    let planted = "A".repeat(43);
    let victim = app.browser();
    victim.cookies.set("eventide_session", &planted);
    assert_status(&victim.get("/account").await, Status::SeeOther);
    victim.cookies.set("eventide_session", &planted);
    assert_status(&victim.login("ivan", PASSWORD).await, Status::SeeOther);
    let issued = victim.session_cookie().unwrap();
    assert_ne!(issued, planted);
    let sessions = &app.backends().sessions;
    assert!(sessions.get(&session_key(&planted)).await.unwrap().is_none());
    assert!(sessions.get(&planted).await.unwrap().is_none());
    for malformed in ["", "x", "../../etc", &"é".repeat(43), &"A".repeat(44)] {
        let browser = app.browser();
        browser.cookies.set("eventide_session", malformed);
        assert_status(&browser.get("/account").await, Status::SeeOther);
    }
}

async fn logout_ends_the_session_server_side(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    logged_in(&app, "jane").await;
    let id = app.session_cookie().unwrap();
    let response = app.post_with_token("/logout", &[]).await;
    assert_status(&response, Status::SeeOther);
    assert_eq!(location(&response), "/login");
    assert!(app.session_cookie().is_none(), "cookie removed");
    assert!(app.backends().sessions.get(&session_key(&id)).await.unwrap().is_none(), "record gone");

    let replay = app.browser();
    replay.cookies.set("eventide_session", &id);
    let page = replay.get("/account").await;
    assert_status(&page, Status::SeeOther);
    assert!(location(&page).starts_with("/login"));
    replay.cookies.set("eventide_session", &id);
    let fragment = replay.get_htmx("/account").await;
    assert!(fragment.headers().get_one("HX-Redirect").unwrap_or_default().starts_with("/login"));
}

async fn idle_and_absolute_timeouts_are_enforced_server_side(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    logged_in(&app, "kim").await;
    app.clock.advance(chrono::Duration::minutes(119));
    assert_status(&app.get("/account").await, Status::Ok);
    app.clock.advance(chrono::Duration::minutes(121));
    assert_status(&app.get("/account").await, Status::SeeOther);

    let steady = app.browser();
    steady.login("kim", PASSWORD).await;
    // Active every hour: the idle limit never bites, the absolute one (168 h) does.
    for _ in 0..167 {
        app.clock.advance(chrono::Duration::hours(1));
        assert_status(&steady.get("/account").await, Status::Ok);
    }
    app.clock.advance(chrono::Duration::minutes(61));
    assert_status(&steady.get("/account").await, Status::SeeOther);
}

async fn password_change_ends_other_sessions_and_rotates_this_one(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    logged_in(&app, "lena").await;
    let laptop = app.browser();
    laptop.login("lena", PASSWORD).await;
    let before = app.session_cookie().unwrap();

    let wrong = [
        ("current_password", "not-it-at-all"),
        ("new_password", "new-glacier-99"),
        ("new_password_confirm", "new-glacier-99"),
    ];
    let response = app.post_with_token("/account/password", &wrong).await;
    assert_status(&response, Status::UnprocessableEntity);
    assert!(response.into_string().await.unwrap().contains("current_password-error"));

    let fields = [
        ("current_password", PASSWORD),
        ("new_password", "new-glacier-99"),
        ("new_password_confirm", "new-glacier-99"),
    ];
    assert_status(&app.post_with_token("/account/password", &fields).await, Status::SeeOther);
    let after = app.session_cookie().unwrap();
    assert_ne!(before, after, "rotated");
    assert_status(&app.get("/account").await, Status::Ok);
    assert_status(&laptop.get("/account").await, Status::SeeOther);
    let old = app.browser();
    old.cookies.set("eventide_session", &before);
    assert_status(&old.get("/account").await, Status::SeeOther);
    assert_status(&app.browser().login("lena", "new-glacier-99").await, Status::SeeOther);
    assert_status(&app.browser().login("lena", PASSWORD).await, Status::Unauthorized);
}

async fn session_cookie_flags(backend: Backend) {
    for secure in [false, true] {
        let app = spawn_with(Options::new(Engine::Sqlite, backend).with("secure_cookies", secure)).await;
        let response = app.register("mona", PASSWORD).await;
        let name = if secure { "__Host-eventide_session" } else { "eventide_session" };
        let cookie = response
            .headers()
            .get("Set-Cookie")
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} set"))
            .to_string();
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        assert!(cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(cookie.contains("Path=/"), "{cookie}");
        assert!(!cookie.contains("Expires") && !cookie.contains("Max-Age"), "a session cookie: {cookie}");
        assert_eq!(cookie.contains("Secure"), secure, "{cookie}");
    }
}

async fn private_pages_are_not_stored(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    logged_in(&app, "nina").await;
    for uri in ["/", "/account"] {
        let response = app.get(uri).await;
        assert_status(&response, Status::Ok);
        assert_eq!(response.headers().get_one("Cache-Control"), Some("no-store"), "{uri}");
    }
}

// --- CSRF (security.md 10-12) -------------------------------------------------------------

/// Every state-changing route in the app, found from the router so a new one cannot slip
/// through untested.
fn unsafe_routes(app: &TestApp) -> Vec<(Method, String)> {
    app.client
        .rocket()
        .routes()
        .filter(|route| matches!(route.method, Method::Post | Method::Put | Method::Patch | Method::Delete))
        .map(|route| {
            let path = route.uri.path().to_string().replace("<action>", "deactivate");
            let path = path
                .split('/')
                .map(|seg| if seg.starts_with('<') { "1" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            (route.method, path)
        })
        .collect()
}

async fn every_state_change_needs_a_valid_token(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    logged_in(&app, "olga").await;
    // An admin, so that the admin routes reach their token check too.
    assert!(app.store().set_admin("olga", true).await.unwrap());
    assert_status(&app.login("olga", PASSWORD).await, Status::SeeOther);
    let token = app.csrf_token().await;
    let routes = unsafe_routes(&app);
    assert!(routes.iter().any(|(_, p)| p == "/logout") && routes.len() >= 5, "{routes:?}");
    // RFC 8058's one-click unsubscribe comes from a mail provider's server, with no cookie
    // and no CSRF token: the unguessable token in its path is the authority (tests/api/mail.rs).
    let one_click = |path: &str| path.starts_with("/mail/unsubscribe/");
    for (method, path) in routes.into_iter().filter(|(_, path)| !one_click(path)) {
        for supplied in [None, Some("forged-token"), Some(&token[..token.len() - 1])] {
            let mut request = app.client.req(method, path.clone()).header(rocket::http::ContentType::Form);
            let mut body = "username=x&password=y&title=t".to_string();
            if let Some(value) = supplied {
                body.push_str(&format!("&csrf_token={value}"));
                request = request.header(Header::new("X-CSRF-Token", value.to_string()));
            }
            for htmx in [false, true] {
                let mut request = request.clone().body(body.clone());
                if htmx {
                    request = request.header(Header::new("HX-Request", "true"));
                }
                let response = app.send(request).await;
                assert_eq!(response.status(), Status::Forbidden, "{method} {path} with {supplied:?}");
            }
        }
    }
    assert_status(&app.get("/account").await, Status::Ok);
    assert_eq!(app.store().count_users().await.unwrap(), 1);
}

async fn htmx_sends_the_token_in_a_header(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    logged_in(&app, "pia").await;
    let page = app.get("/account").await.into_string().await.unwrap();
    let token = meta_csrf(&page).unwrap();
    assert!(page.contains(&format!("hx-headers='{{\"X-CSRF-Token\": \"{token}\"}}'")));
    let request = app
        .client
        .post("/logout")
        .header(Header::new("HX-Request", "true"))
        .header(Header::new("X-CSRF-Token", token));
    let response = app.send(request).await;
    assert_status(&response, Status::NoContent);
    assert_eq!(response.headers().get_one("HX-Redirect"), Some("/login"));
    assert_status(&app.get("/account").await, Status::SeeOther);
}

async fn the_csrf_token_changes_at_login(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    logged_in(&app, "quinn").await;
    app.post_with_token("/logout", &[]).await;
    let before = app.csrf_token().await;
    app.login("quinn", PASSWORD).await;
    let after = meta_csrf(&app.get("/account").await.into_string().await.unwrap()).unwrap();
    assert_ne!(before, after);
    let stale = app.post_form("/logout", &[("csrf_token", &before)]).await;
    assert_status(&stale, Status::Forbidden);
}

async fn no_get_changes_state(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    logged_in(&app, "rosa").await;
    for uri in ["/logout", "/account/password", "/account/preferences", "/register", "/login"] {
        app.get(uri).await;
    }
    assert_status(&app.get("/account").await, Status::Ok);
}

// --- throttling (security.md 18) ----------------------------------------------------------

async fn logins_are_throttled_per_account(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    logged_in(&app, "sam").await;
    let attacker = app.browser();
    for _ in 0..5 {
        assert_status(&attacker.login("sam", "wrong-password-1").await, Status::Unauthorized);
    }
    let response = attacker.login("sam", PASSWORD).await;
    assert_status(&response, Status::TooManyRequests);
    let retry: u64 = response.headers().get_one("Retry-After").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry));
    assert!(response.into_string().await.unwrap().contains("Too many login attempts"));
}

async fn logins_are_throttled_per_address(backend: Backend) {
    let app = spawn_with(Options::new(Engine::Sqlite, backend).with("login_attempts_per_address", 3)).await;
    let from = |ip: &str| -> std::net::SocketAddr { format!("{ip}:5000").parse().unwrap() };
    let browser = app.browser();
    let token = browser.csrf_token().await;
    let attempt = |name: &str, ip: &str| {
        let body =
            encode_form(&[("csrf_token", &token), ("username", name), ("password", "wrong-password-1")]);
        app.client.post("/login").header(rocket::http::ContentType::Form).remote(from(ip)).body(body)
    };
    for name in ["u1", "u2", "u3"] {
        assert_status(&browser.send(attempt(name, "203.0.113.7")).await, Status::Unauthorized);
    }
    assert_status(&browser.send(attempt("u4", "203.0.113.7")).await, Status::TooManyRequests);
    assert_status(&browser.send(attempt("u4", "198.51.100.1")).await, Status::Unauthorized);
}

async fn registrations_are_throttled_per_address(backend: Backend) {
    let app = spawn_with(Options::new(Engine::Sqlite, backend).with("login_attempts_per_address", 2)).await;
    for name in ["reg_one", "reg_two"] {
        assert_status(&app.browser().register(name, PASSWORD).await, Status::SeeOther);
    }
    let third = app.browser();
    let response = third.register("reg_three", PASSWORD).await;
    assert_status(&response, Status::TooManyRequests);
    assert!(response.headers().get_one("Retry-After").is_some());
    assert_eq!(app.store().count_users().await.unwrap(), 2);
}

crate::on_both_backends!(
    registrations_are_throttled_per_address,
    registration_logs_the_user_in,
    invalid_registration_is_422_with_errors_and_input_kept,
    unicode_usernames_are_unique_case_insensitively,
    failed_login_is_401_and_the_same_for_unknown_users,
    login_honours_only_local_next,
    pages_needing_a_user_redirect_to_login,
    session_ids_are_random_and_stored_hashed,
    login_rotates_the_session_id,
    a_session_id_the_server_never_issued_is_not_adopted,
    logout_ends_the_session_server_side,
    idle_and_absolute_timeouts_are_enforced_server_side,
    password_change_ends_other_sessions_and_rotates_this_one,
    session_cookie_flags,
    private_pages_are_not_stored,
    every_state_change_needs_a_valid_token,
    htmx_sends_the_token_in_a_header,
    the_csrf_token_changes_at_login,
    no_get_changes_state,
    logins_are_throttled_per_account,
    logins_are_throttled_per_address,
);

mod engines {
    use super::*;
    crate::on_both_engines!(
        two_registrations_of_one_name_race_to_one_winner,
        passwords_are_stored_as_argon2id
    );
}

async fn preferences_are_validated_and_saved(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    logged_in(&app, "xena").await;
    let bad = [("time_zone", "Mars/Olympus"), ("week_start", "3")];
    let response = app.post_with_token("/account/preferences", &bad).await;
    assert_status(&response, Status::UnprocessableEntity);
    let body = response.into_string().await.unwrap();
    assert!(body.contains("time_zone-error") && body.contains("week_start-error"));
    assert!(body.contains("Mars/Olympus"), "the typed value is shown back: {body}");

    let good = [("time_zone", "Pacific/Auckland"), ("week_start", "0")];
    let saved = app.post_with_token("/account/preferences", &good).await;
    assert_status(&saved, Status::SeeOther);
    let page = app.get("/account").await.into_string().await.unwrap();
    assert!(page.contains("Preferences saved."));
    assert!(page.contains("<option value=\"Pacific/Auckland\" selected>"));
    assert!(page.contains("<option value=\"0\" selected>Sunday"));
    assert!(app.get("/").await.into_string().await.unwrap().contains("Pacific/Auckland"));
}

async fn oversized_bodies_are_refused_with_413(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    let huge = "a".repeat(70 * 1024);
    let response = app.post_with_token("/login", &[("username", &huge), ("password", "x")]).await;
    assert_status(&response, Status::PayloadTooLarge);
}

mod more_engines {
    use super::*;
    crate::on_both_engines!(preferences_are_validated_and_saved, oversized_bodies_are_refused_with_413);
}
