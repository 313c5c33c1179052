//! Regression tests for the findings of the black-box probe (issue 14): one request, however
//! hostile, must never take the server down, stall it, or leak a secret.

use rocket::http::{Header, Status};

use crate::helpers::*;
use crate::ical::{import, multipart};
use crate::process::ServerProcess;

/// Finding 1: 100,000 nested components (under the 1 MiB cap) overflowed the worker's stack
/// and aborted the process. Sent to the real binary, which must still serve afterwards.
#[test]
fn deeply_nested_import_is_refused_and_the_server_survives() {
    let mut server = ServerProcess::start();
    server.register("amy", PASSWORD);
    let token = server.csrf_token();
    let file = format!("BEGIN:VCALENDAR\r\n{}", "BEGIN:X\r\n".repeat(100_000));
    let (content_type, body) = multipart(&[("csrf_token", &token)], Some(&file));
    let content_type = content_type.to_string();
    let reply = server.request("POST", "/import", &[("Content-Type", &content_type)], body.as_bytes());
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains("nested more than 8 levels deep"), "{}", reply.body);
    assert!(server.is_running(), "the server process exited");
    assert_eq!(server.request("GET", "/healthz", &[], b"").status, 200);
}

fn daily_with_exdates(count: usize) -> String {
    let exdates: Vec<String> = (0..count)
        .map(|i| {
            let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Duration::days(i as i64);
            day.format("%Y%m%dT090000Z").to_string()
        })
        .collect();
    format!(
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:many@x\r\nSUMMARY:Daily\r\nDTSTART:20260101T090000Z\r\n\
         DTEND:20260101T093000Z\r\nRRULE:FREQ=DAILY\r\nEXDATE:{}\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:plain@x\r\nSUMMARY:Plain\r\nDTSTART:20260301T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        exdates.join(",")
    )
}

/// Finding 2: EXDATEs are capped per event (the cap itself imports), the rest of the file
/// still imports, and a user's second import waits for the first.
async fn exdates_are_capped_and_imports_run_one_at_a_time(engine: Engine) {
    let app = spawn(engine, Backend::Redis).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let (status, preview) = import(&app, &[], Some(&daily_with_exdates(50_000))).await;
    assert_eq!(status, Status::Ok);
    assert!(preview.contains("more than 1000 cancelled dates (EXDATE)"), "{preview}");
    assert!(preview.contains("Plain"));

    let (status, preview) = import(&app, &[], Some(&daily_with_exdates(1000))).await;
    assert_eq!(status, Status::Ok);
    assert!(!preview.contains("cancelled dates"), "{preview}");

    let limits = app.client.rocket().state::<eventide::ical::limit::ImportLimits>().unwrap();
    let running = limits.claim(eventide::domain::UserId(1)).await.expect("no import is running");
    let (status, page) = import(&app, &[], Some(&daily_with_exdates(3))).await;
    assert_eq!(status, Status::TooManyRequests);
    assert!(page.contains("Another import of yours is still running"), "{page}");
    drop(running);
    assert_eq!(import(&app, &[], Some(&daily_with_exdates(3))).await.0, Status::Ok);
}

/// Finding 3: an all-day end in 9999 made the exclusive end land in year 10000 (a 500 from
/// the database's CHECK). Dates are kept to the years 1900-2200 everywhere, with the input kept.
async fn form_dates_outside_the_window_are_422_with_the_input_kept(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let cases = [
        ([("all_day", "on"), ("start", "2026-12-05"), ("end", "9999-12-31")], "end", "9999-12-31"),
        (
            [("all_day", ""), ("start", "1899-12-31T10:00"), ("end", "2026-01-01T10:00")],
            "start",
            "1899-12-31T10:00",
        ),
    ];
    for (fields, field, typed) in cases {
        let mut all = vec![("title", "Far away")];
        all.extend(fields.iter().filter(|(_, v)| !v.is_empty()));
        let response = app.post_with_token("/events", &all).await;
        assert_status(&response, Status::UnprocessableEntity);
        let page = response.into_string().await.unwrap();
        assert!(page.contains("between the years 1900 and 2200"), "{field}: {page}");
        assert!(page.contains(&format!("value=\"{typed}\"")), "the typed {field} is kept");
        assert!(page.contains("value=\"Far away\""));
    }
    let until = [
        ("title", "Weekly"),
        ("start", "2026-12-07T10:00"),
        ("end", "2026-12-07T11:00"),
        ("repeat", "weekly"),
        ("weekdays", "MO"),
        ("ends", "until"),
        ("until", "9999-12-31"),
    ];
    assert_status(&app.post_with_token("/events", &until).await, Status::UnprocessableEntity);
    let events = app.store().all_events(eventide::domain::UserId(1)).await.unwrap();
    assert!(events.is_empty(), "nothing was written");
    assert_status(&app.get("/calendar/month/9999-12-01").await, Status::NotFound);
}

async fn feed_link_of(app: &TestApp) -> String {
    let account = app
        .send(app.client.get("/account").header(Header::new("Host", "evil.com")))
        .await
        .into_string()
        .await
        .unwrap();
    assert!(!account.contains("evil.com"), "a link was built from the Host header");
    let start = account.find("webcal://").expect("a feed link");
    account[start..account[start..].find('"').unwrap() + start].to_string()
}

/// Finding 4: absolute links come from `public_url`, never from the `Host` header.
async fn absolute_links_come_from_the_public_url(engine: Engine) {
    let options = Options::new(engine, Backend::Memory).with("public_url", "https://cal.example.org/");
    let app = spawn_with(options).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    assert_status(&app.post_with_token("/account/feed", &[]).await, Status::SeeOther);
    let link = feed_link_of(&app).await;
    assert!(link.starts_with("webcal://cal.example.org/feeds/"), "{link}");

    // Without the setting: the address and port the server listens on.
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    assert_status(&app.post_with_token("/account/feed", &[]).await, Status::SeeOther);
    assert!(feed_link_of(&app).await.starts_with("webcal://127.0.0.1:8000/feeds/"));
}

/// Finding 5: a feed token (a bearer secret) reached the log when its guard forwarded, and
/// paths of any length were logged whole.
async fn feed_tokens_never_reach_the_log(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    // Logged in, so that guards past the session run on every path.
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let secret = format!("{}Zq", hex::encode(rand::random::<[u8; 20]>()).to_uppercase().replace('0', "x"));
    let long = "y".repeat(5000);
    for path in [
        format!("/feeds/{secret}"),
        format!("/feeds/{secret}.ics"),
        format!("/feeds/{}.ics", &secret[..43.min(secret.len())]),
        format!("/events/{secret}?q={secret}"),
        format!("/{long}"),
        format!("/events/{long}"),
        format!("/calendar/month/{long}"),
    ] {
        let status = app.get(&path).await.status();
        assert!(status == Status::NotFound || status == Status::SeeOther, "{path}: {status}");
    }
    let logs = captured_logs();
    let leaked: Vec<&String> = logs.iter().filter(|line| line.contains(&secret[..30])).collect();
    assert!(leaked.is_empty(), "a token was logged: {leaked:?}");
    assert!(logs.iter().all(|line| !line.contains(&long[..200])), "a long path was logged whole");
}

/// Finding 6: `аdmin` (Cyrillic а), `ａｄｍｉｎ` (full-width) and `ᴀdmin` registered beside
/// `admin` and looked the same in the admin list.
async fn look_alike_usernames_are_refused(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("admin", PASSWORD).await, Status::SeeOther);
    assert_status(&app.register("bob", PASSWORD).await, Status::SeeOther);
    for name in ["аdmin", "ａｄｍｉｎ", "ᴀdmin", "ADMIN", "b0b", "ad\u{202E}min", "pаypal"] {
        let browser = app.browser();
        let response = browser.register(name, PASSWORD).await;
        assert_status(&response, Status::UnprocessableEntity);
        let page = response.into_string().await.unwrap();
        let refusals = ["looks too much like one that is", "everyday letters", "one alphabet"];
        assert!(refusals.iter().any(|r| page.contains(r)), "{name}: {page}");
    }
    assert_eq!(app.store().count_users().await.unwrap(), 2);
    // The full-width spelling is the same name, so it logs into the same account.
    let typed_wide = app.browser();
    assert_status(&typed_wide.login("ａｄｍｉｎ", PASSWORD).await, Status::SeeOther);
    assert!(typed_wide.get("/").await.into_string().await.unwrap().contains("admin"));
    assert_status(&app.browser().register("Ωμέγα", PASSWORD).await, Status::SeeOther);
}

/// Rows from before skeletons were stored get theirs at launch, and are then protected too.
async fn old_usernames_get_their_skeletons(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    let sql = "INSERT INTO users (username, username_key, password_hash, created_at) \
               VALUES ($1, $2, 'x', '2026-01-01T00:00:00Z')";
    for name in ["carol", "caro1"] {
        match engine {
            Engine::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&app.db.url).await.unwrap();
                sqlx::query(sql).bind(name).bind(name).execute(&pool).await.unwrap();
            }
            Engine::Postgres => {
                let pool = sqlx::PgPool::connect(&app.db.url).await.unwrap();
                let sql = sql.replace("'2026-01-01T00:00:00Z'", "now()");
                sqlx::query(&sql).bind(name).bind(name).execute(&pool).await.unwrap();
            }
        }
    }
    app.store().fill_username_skeletons().await.unwrap();
    let response = app.register("caroI", PASSWORD).await;
    assert_status(&response, Status::UnprocessableEntity);
    assert!(app.store().user_by_username("caro1").await.unwrap().is_some(), "an old look-alike stays");
}

fn from(ip: &str) -> std::net::SocketAddr {
    format!("{ip}:5000").parse().unwrap()
}

async fn login_from(browser: &impl Browse, name: &str, password: &str, ip: &str) -> Status {
    let token = browser.csrf_token().await;
    let body = encode_form(&[("csrf_token", &token), ("username", name), ("password", password)]);
    let request = browser.client().post("/login").header(rocket::http::ContentType::Form);
    browser.send(request.remote(from(ip)).body(body)).await.status()
}

/// Finding 7: only failures count; a stranger cannot lock the owner out; the current-password
/// check is throttled; an admin can unlock an account.
async fn only_failures_count_and_owners_stay_reachable(backend: Backend) {
    let options = Options::new(Engine::Sqlite, backend).with("login_attempts_per_address", 3);
    let app = spawn_with(options).await;
    assert_status(&app.register("root", PASSWORD).await, Status::SeeOther);
    crate::admin::create_admin(&app, "root", "").await.unwrap();
    // The CLI refreshes sessions in Redis; on the in-process backend a new login sees it.
    assert_status(&app.login("root", PASSWORD).await, Status::SeeOther);
    assert_status(&app.browser().register("ola", PASSWORD).await, Status::SeeOther);

    // Five right logins from one address do not use up its limit of three.
    for _ in 0..5 {
        assert_eq!(login_from(&app.browser(), "ola", PASSWORD, "198.51.100.7").await, Status::SeeOther);
    }
    assert_eq!(
        login_from(&app.browser(), "ola", "wrong-password-1", "198.51.100.7").await,
        Status::Unauthorized
    );

    // A stranger guessing from other addresses locks the account for strangers only.
    for i in 0..5 {
        let ip = format!("203.0.113.{i}");
        assert_eq!(login_from(&app.browser(), "ola", "wrong-password-1", &ip).await, Status::Unauthorized);
    }
    assert_eq!(login_from(&app.browser(), "ola", PASSWORD, "203.0.113.9").await, Status::TooManyRequests);
    assert_eq!(login_from(&app.browser(), "ola", PASSWORD, "198.51.100.7").await, Status::SeeOther);

    // From a new address the owner waits, unless an admin unlocks the account.
    assert_eq!(login_from(&app.browser(), "ola", PASSWORD, "192.0.2.1").await, Status::TooManyRequests);
    let ola = app.store().user_by_username("ola").await.unwrap().unwrap().id.0;
    let unlock = app.post_with_token(&format!("/admin/users/{ola}/unlock"), &[("confirm", "yes")]).await;
    assert_status(&unlock, Status::SeeOther);
    assert_eq!(login_from(&app.browser(), "ola", PASSWORD, "192.0.2.2").await, Status::SeeOther);
}

async fn change_password<'a>(
    app: &'a TestApp,
    current: &str,
) -> rocket::local::asynchronous::LocalResponse<'a> {
    let fields = [
        ("current_password", current),
        ("new_password", "another-long-pass-9"),
        ("new_password_confirm", "another-long-pass-9"),
    ];
    app.post_with_token("/account/password", &fields).await
}

/// Finding 7: a hijacked session could guess `current_password` without limit.
async fn password_change_guesses_are_throttled(backend: Backend) {
    let app = spawn(Engine::Sqlite, backend).await;
    assert_status(&app.register("pat", PASSWORD).await, Status::SeeOther);
    for _ in 0..5 {
        assert_status(&change_password(&app, "wrong-password-1").await, Status::UnprocessableEntity);
    }
    let refused = change_password(&app, PASSWORD).await;
    assert_status(&refused, Status::TooManyRequests);
    assert!(refused.headers().get_one("Retry-After").is_some());
    assert!(refused.into_string().await.unwrap().contains("Too many wrong current passwords"));
}

/// Finding 8: one user's session beside another user's CSRF cookie and token was accepted.
async fn csrf_tokens_are_bound_to_the_session(engine: Engine) {
    let app = spawn(engine, Backend::Redis).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let other = app.browser();
    assert_status(&other.register("bob", PASSWORD).await, Status::SeeOther);
    let (bob_cookie, bob_token) = (other.jar().get("eventide_csrf").unwrap(), other.csrf_token().await);
    app.jar().set("eventide_csrf", &bob_cookie);
    let fields = [
        ("csrf_token", bob_token.as_str()),
        ("title", "Forged"),
        ("start", "2026-06-01T09:00"),
        ("end", "2026-06-01T10:00"),
    ];
    assert_status(&app.post_form("/events", &fields).await, Status::Forbidden);
    assert!(app.store().all_events(eventide::domain::UserId(1)).await.unwrap().is_empty());
    // The same cookie with amy's own token (for her session) works.
    let fields = [("title", "Mine"), ("start", "2026-06-01T09:00"), ("end", "2026-06-01T10:00")];
    assert_status(&app.post_with_token("/events", &fields).await, Status::SeeOther);
}

/// Finding 8: state changes from a foreign `Origin` are refused.
async fn foreign_origins_are_refused(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let token = app.csrf_token().await;
    for (origin, expected) in [
        ("https://evil.example", Status::Forbidden),
        ("null", Status::Forbidden),
        ("http://127.0.0.1:8000.evil.example", Status::Forbidden),
        ("http://127.0.0.1:8000", Status::SeeOther),
    ] {
        let fields = [
            ("csrf_token", token.as_str()),
            ("title", origin),
            ("start", "2026-06-01T09:00"),
            ("end", "2026-06-01T10:00"),
        ];
        let request =
            app.client.post("/events").header(rocket::http::ContentType::Form).body(encode_form(&fields));
        assert_status(&app.send(request.header(Header::new("Origin", origin))).await, expected);
    }
    let events = app.store().all_events(eventide::domain::UserId(1)).await.unwrap();
    let titles: Vec<&str> = events.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles, ["http://127.0.0.1:8000"]);
}

/// Finding 8: control characters and bidi overrides are stripped from text on input.
async fn control_characters_are_stripped_on_input(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let fields = [
        ("title", "Pay\u{202E}fdp.exe\u{0}"),
        ("location", "Room\u{7}\u{2066} 4"),
        ("description", "line one\r\nline\u{1b} two"),
        ("start", "2026-06-01T09:00"),
        ("end", "2026-06-01T10:00"),
    ];
    assert_status(&app.post_with_token("/events", &fields).await, Status::SeeOther);
    let event = app.store().all_events(eventide::domain::UserId(1)).await.unwrap().remove(0);
    assert_eq!((event.title.as_str(), event.location.as_str()), ("Payfdp.exe", "Room 4"));
    assert_eq!(event.description, "line one\nline two");
}

/// Finding 8: an upload over the file limit is 413, not 422.
async fn oversized_uploads_are_413(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let file = format!("BEGIN:VCALENDAR\r\nX-PAD:{}\r\nEND:VCALENDAR\r\n", "x".repeat(1536 * 1024));
    assert_eq!(import(&app, &[], Some(&file)).await.0, Status::PayloadTooLarge);
}

crate::on_both_backends!(
    only_failures_count_and_owners_stay_reachable,
    password_change_guesses_are_throttled
);

crate::on_both_engines!(
    exdates_are_capped_and_imports_run_one_at_a_time,
    form_dates_outside_the_window_are_422_with_the_input_kept,
    absolute_links_come_from_the_public_url,
    feed_tokens_never_reach_the_log,
    look_alike_usernames_are_refused,
    old_usernames_get_their_skeletons,
    csrf_tokens_are_bound_to_the_session,
    foreign_origins_are_refused,
    control_characters_are_stripped_on_input,
    oversized_uploads_are_413,
);
