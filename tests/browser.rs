//! The app in a real headless Chromium (Debian's `chromium` and `chromium-driver`; `.ci/run`
//! installs them), one flow per test as a person would see it: accounts, creating from the
//! month view without a page load, navigation and history, live search, edit and delete,
//! form errors, keyboard only, an admin ending a session, and the same flows with JavaScript
//! switched off. Each test has its own server (SQLite file, Redis key prefix) and its own
//! browser on free ports; a failing flow leaves a screenshot and the page's HTML under
//! `target/tmp/browser-failures/` and names them in its message.

#[path = "browser/manipulate.rs"]
mod manipulate;
#[path = "common/redis_cleanup.rs"]
mod redis_cleanup;
#[path = "browser/ui.rs"]
mod ui;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Datelike;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const PASSWORD: &str = "glacier-tulip-87";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap()
}

/// chromedriver and the profile of the Chromium it started.
struct Driver(Child, std::path::PathBuf);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        // Chromium outlives a killed chromedriver when its session was not closed (a failed
        // flow): end every process started with this test's profile, then the profile.
        let _ = Command::new("pkill").arg("-f").arg(self.1.as_os_str()).status();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

const REDIS_URL: &str = "redis://127.0.0.1:6379/0";

/// A test's server: its address, and its SQLite directory and Redis keys, removed when the
/// test ends, passing or not.
struct Served {
    base: String,
    dir: std::path::PathBuf,
    prefix: String,
    /// The app's store, for what a test does as the server would (a scheduler pass).
    store: eventide::store::Store,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        redis_cleanup::delete_prefix(REDIS_URL, &self.prefix);
    }
}

/// The app on a real port, with its own SQLite file and its own Redis key prefix; with an
/// admin account `root` when asked.
async fn serve_with(admin: bool) -> Served {
    let label = hex::encode(rand::random::<[u8; 6]>());
    let dir = std::env::temp_dir().join(format!("eventide-browser-{label}"));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let prefix = format!("eventide_browser_{label}:");
    let figment = eventide::config::figment()
        .merge(("database_url", format!("sqlite://{}", dir.join("app.db").display())))
        .merge(("redis_url", REDIS_URL))
        .merge(("redis_prefix", &prefix))
        .merge(("log_file", ""))
        .merge(("port", port))
        .merge(("dav_port", "off"))
        .merge(("address", "127.0.0.1"));
    if admin {
        let stdin = format!("{PASSWORD}\n");
        eventide::create_admin(figment.clone(), "root", stdin.as_bytes()).await.unwrap();
    }
    let rocket = eventide::build(figment).unwrap().ignite().await.unwrap();
    let store = rocket.state::<eventide::store::Store>().cloned().unwrap();
    tokio::spawn(rocket.launch());
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Served { base, dir, prefix, store }
}

async fn serve() -> Served {
    serve_with(false).await
}

async fn browser(javascript: bool) -> (Client, Driver) {
    launch(Look { javascript, ..Look::default() }).await
}

/// How the browser is set up: script on or off, light or dark, desktop or a phone's width.
#[derive(Debug, Clone, Copy)]
struct Look {
    javascript: bool,
    dark: bool,
    /// A phone of this CSS width (mobile emulation: viewport, touch and a mobile user agent).
    phone: Option<u32>,
}

impl Default for Look {
    fn default() -> Self {
        Look { javascript: true, dark: false, phone: None }
    }
}

async fn launch(look: Look) -> (Client, Driver) {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is installed (apt-get install chromium chromium-driver)");
    let profile = std::env::temp_dir().join(format!("eventide-chromium-{port}"));
    let driver = Driver(child, profile.clone());
    let mut options = json!({
        "binary": "/usr/bin/chromium",
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,1000", format!("--user-data-dir={}", profile.display())],
    });
    if look.dark {
        options["args"].as_array_mut().unwrap().push(json!("--force-dark-mode"));
    }
    if let Some(width) = look.phone {
        options["mobileEmulation"] =
            json!({ "deviceMetrics": { "width": width, "height": 800, "pixelRatio": 2 } });
    }
    // Notifications allowed, as a user who said yes to the browser's question.
    options["prefs"] = json!({ "profile.default_content_setting_values.notifications": 1 });
    if !look.javascript {
        options["prefs"]["profile.managed_default_content_settings.javascript"] = json!(2);
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        match ClientBuilder::rustls().expect("tls").capabilities(capabilities.clone()).connect(&url).await {
            Ok(client) => return (client, driver),
            Err(e) if started.elapsed() > Duration::from_secs(15) => panic!("no browser session: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(10), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn script(client: &Client, source: &str) -> serde_json::Value {
    client.execute(source, vec![]).await.unwrap()
}

async fn register(client: &Client, base: &str, name: &str) {
    client.goto(&format!("{base}/register")).await.unwrap();
    client.find(Locator::Id("username")).await.unwrap().send_keys(name).await.unwrap();
    client.find(Locator::Id("password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    client.find(Locator::Id("password_confirm")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    client.find(Locator::Css("form[action='/register'] button")).await.unwrap().click().await.unwrap();
    eventually("the dashboard", || async { client.current_url().await.unwrap().path() == "/" }).await;
}

async fn create_event(client: &Client, base: &str, title: &str, start: &str, end: &str) {
    client.goto(&format!("{base}/events/new")).await.unwrap();
    client.find(Locator::Id("title")).await.unwrap().send_keys(title).await.unwrap();
    // Date-time inputs take keys in the browser's locale; set their values directly.
    client
        .execute(
            "document.getElementById('start').value = arguments[0]; document.getElementById('end').value = arguments[1];",
            vec![json!(start), json!(end)],
        )
        .await
        .unwrap();
    client.find(Locator::Css("#event-form button[type=submit]")).await.unwrap().click().await.unwrap();
    eventually("the event page", || async {
        client.current_url().await.unwrap().path().starts_with("/events/")
            && client.find(Locator::Id("event-title")).await.is_ok()
    })
    .await;
}

/// An element's text read in the page, so an htmx swap in between cannot leave a stale
/// element reference behind.
async fn text_of(client: &Client, id: &str) -> String {
    let value = client
        .execute(
            "var e = document.getElementById(arguments[0]); return e ? e.textContent.trim() : '';",
            vec![json!(id)],
        )
        .await
        .unwrap_or_default();
    value.as_str().unwrap_or_default().to_string()
}

async fn press(client: &Client, key: &str) {
    client.active_element().await.unwrap().send_keys(key).await.unwrap();
}

async fn active_date(client: &Client) -> String {
    script(client, "return document.activeElement.dataset.date || ''")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Runs one flow. If it fails, what the browser showed is kept (a screenshot and the page's
/// HTML under `target/tmp/browser-failures/`) and named in the failure.
async fn run<F, Fut>(name: &str, client: &Client, flow: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let outcome = tokio::spawn(flow(client.clone())).await;
    let Err(failure) = outcome else {
        // Quitting the session ends Chromium too; killing chromedriver alone would leave it running.
        let _ = client.clone().close().await;
        return;
    };
    let message = match failure.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the flow panicked".into()),
        Err(e) => e.to_string(),
    };
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-failures");
    std::fs::create_dir_all(&dir).unwrap();
    let (png, html) = (dir.join(format!("{name}.png")), dir.join(format!("{name}.html")));
    if let Ok(bytes) = client.screenshot().await {
        std::fs::write(&png, bytes).unwrap();
    }
    if let Ok(source) = client.source().await {
        std::fs::write(&html, source).unwrap();
    }
    let _ = client.clone().close().await;
    panic!("{name}: {message}\n  screenshot: {}\n  page: {}", png.display(), html.display());
}

/// A flow with a server and a browser of its own: `body(client, base_url)`.
async fn flow<F, Fut>(name: &str, javascript: bool, body: F)
where
    F: FnOnce(Client, String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let served = serve().await;
    let (client, _driver) = browser(javascript).await;
    let base = served.base.clone();
    run(name, &client, move |client| body(client, base)).await;
}

async fn path_of(client: &Client) -> String {
    client.current_url().await.map(|u| u.path().to_string()).unwrap_or_default()
}

async fn wait_for_path(client: &Client, path: &str) {
    eventually(path, || async { path_of(client).await == path }).await;
}

async fn exists(client: &Client, css: &str) -> bool {
    script(client, &format!("return !!document.querySelector({css:?})")).await == json!(true)
}

async fn count(client: &Client, css: &str) -> usize {
    let n = script(client, &format!("return document.querySelectorAll({css:?}).length")).await;
    n.as_u64().unwrap_or_default() as usize
}

/// A marker on `window`: it survives htmx swaps and is gone after a full page load.
async fn mark_page(client: &Client) {
    script(client, "window.eventideMarker = 'still here'").await;
}

async fn page_was_not_reloaded(client: &Client) -> bool {
    script(client, "return window.eventideMarker === 'still here'").await == json!(true)
}

async fn log_in(client: &Client, base: &str, name: &str) {
    client.goto(&format!("{base}/login")).await.unwrap();
    client.find(Locator::Id("username")).await.unwrap().send_keys(name).await.unwrap();
    client.find(Locator::Id("password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    client.find(Locator::Css("form[action='/login'] button")).await.unwrap().click().await.unwrap();
    eventually("the dashboard after login", || async { path_of(client).await == "/" }).await;
}

async fn set_times(client: &Client, start: &str, end: &str) {
    // Date-time inputs take keys in the browser's locale; set their values directly.
    let source = "document.getElementById('start').value = arguments[0]; \
                  document.getElementById('end').value = arguments[1];";
    client.execute(source, vec![json!(start), json!(end)]).await.unwrap();
}

async fn value_of(client: &Client, id: &str) -> String {
    let value = client
        .execute("var e = document.getElementById(arguments[0]); return e ? e.value : '';", vec![json!(id)])
        .await
        .unwrap_or_default();
    value.as_str().unwrap_or_default().to_string()
}

async fn cell_text(client: &Client, date: &str) -> String {
    let value = client
        .execute(
            "var c = document.querySelector('td[data-date=\"' + arguments[0] + '\"]'); return c ? c.textContent : '';",
            vec![json!(date)],
        )
        .await
        .unwrap_or_default();
    value.as_str().unwrap_or_default().to_string()
}

/// 1. Register, land on the dashboard, log out, log in again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_log_out_and_back_in() {
    flow("register_log_out_and_back_in", true, |client, base| async move {
        register(&client, &base, "ada").await;
        assert!(client.source().await.unwrap().contains("ada"), "the dashboard names the user");
        assert!(exists(&client, "form[action='/logout']").await);
        client.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
        wait_for_path(&client, "/login").await;
        client.goto(&format!("{base}/calendar")).await.unwrap();
        wait_for_path(&client, "/login").await;
        log_in(&client, &base, "ada").await;
        assert!(exists(&client, "form[action='/logout']").await);
    })
    .await;
}

/// 2. From the month view, the htmx form creates an event that appears in its cell, and the
/// page is never reloaded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_from_the_month_view_without_a_page_load() {
    flow("create_from_the_month_view_without_a_page_load", true, |client, base| async move {
        register(&client, &base, "bea").await;
        client.goto(&format!("{base}/calendar/month/2026-06-01")).await.unwrap();
        mark_page(&client).await;
        client.find(Locator::Id("cal-new")).await.unwrap().click().await.unwrap();
        eventually("the form", || async { exists(&client, "#event-form #title").await }).await;
        assert!(page_was_not_reloaded(&client).await, "the form came in as a fragment");
        client.find(Locator::Id("title")).await.unwrap().send_keys("Kayaking").await.unwrap();
        set_times(&client, "2026-06-17T15:00", "2026-06-17T17:00").await;
        client.find(Locator::Css("#event-form button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_for_path(&client, "/calendar/month/2026-06-01").await;
        eventually("the event in its cell", || async {
            cell_text(&client, "2026-06-17").await.contains("Kayaking")
        })
        .await;
        assert!(!cell_text(&client, "2026-06-16").await.contains("Kayaking"));
        assert!(page_was_not_reloaded(&client).await, "no full page load from month view to month view");
    })
    .await;
}

/// 3. Next, previous and the view switcher swap the grid and update the address bar; Back
/// brings the previous month back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn navigation_updates_the_address_and_back_restores() {
    flow("navigation_updates_the_address_and_back_restores", true, |client, base| async move {
        register(&client, &base, "cyd").await;
        client.goto(&format!("{base}/calendar/month/2026-06-01")).await.unwrap();
        mark_page(&client).await;
        client.find(Locator::Id("cal-next")).await.unwrap().click().await.unwrap();
        wait_for_path(&client, "/calendar/month/2026-07-01").await;
        eventually("July", || async { text_of(&client, "calendar-title").await == "July 2026" }).await;
        client.find(Locator::Id("cal-prev")).await.unwrap().click().await.unwrap();
        wait_for_path(&client, "/calendar/month/2026-06-01").await;
        client.find(Locator::Id("cal-prev")).await.unwrap().click().await.unwrap();
        wait_for_path(&client, "/calendar/month/2026-05-01").await;
        client.find(Locator::Id("view-week")).await.unwrap().click().await.unwrap();
        wait_for_path(&client, "/calendar/week/2026-05-01").await;
        eventually("the week grid", || async { exists(&client, "#calendar.view-week").await }).await;
        assert!(page_was_not_reloaded(&client).await, "every step was an htmx swap");

        client.back().await.unwrap();
        wait_for_path(&client, "/calendar/month/2026-05-01").await;
        eventually("May again", || async { text_of(&client, "calendar-title").await == "May 2026" }).await;
        client.back().await.unwrap();
        wait_for_path(&client, "/calendar/month/2026-06-01").await;
        eventually("June again", || async { text_of(&client, "calendar-title").await == "June 2026" }).await;
        assert!(exists(&client, ".month-grid").await);
    })
    .await;
}

/// 4. Live search narrows the results while typing; Enter is never pressed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_search_narrows_as_you_type() {
    flow("live_search_narrows_as_you_type", true, |client, base| async move {
        register(&client, &base, "dee").await;
        for title in ["Standup <b>daily</b>", "Stats review", "Dentist"] {
            create_event(&client, &base, title, "2026-06-10T09:00", "2026-06-10T09:30").await;
        }
        client.goto(&format!("{base}/search")).await.unwrap();
        mark_page(&client).await;
        let input = client.find(Locator::Id("q")).await.unwrap();
        input.send_keys("st").await.unwrap();
        eventually("two results", || async { count(&client, ".search-hit").await == 2 }).await;
        input.send_keys("and").await.unwrap();
        eventually("one result", || async { count(&client, ".search-hit").await == 1 }).await;
        let title =
            script(&client, "return document.querySelector('.search-hit .hit-title').textContent.trim()")
                .await;
        assert_eq!(title, json!("Standup <b>daily</b>"), "markup in a title stays text");
        assert!(exists(&client, ".search-hit mark").await, "the match is highlighted");
        assert!(client.current_url().await.unwrap().query().unwrap_or_default().contains("q=stand"));
        assert!(page_was_not_reloaded(&client).await);
    })
    .await;
}

/// 5. Edit an event, then delete it; the grid follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_then_delete() {
    flow("edit_then_delete", true, |client, base| async move {
        register(&client, &base, "eve").await;
        create_event(&client, &base, "Piano lesson", "2026-06-11T16:00", "2026-06-11T17:00").await;
        client.find(Locator::LinkText("Edit")).await.unwrap().click().await.unwrap();
        eventually("the edit form", || async { value_of(&client, "title").await == "Piano lesson" }).await;
        let title = client.find(Locator::Id("title")).await.unwrap();
        title.clear().await.unwrap();
        title.send_keys("Piano recital").await.unwrap();
        client.find(Locator::Css("#event-form button[type=submit]")).await.unwrap().click().await.unwrap();
        eventually("the new title", || async { text_of(&client, "event-title").await == "Piano recital" })
            .await;
        client.goto(&format!("{base}/calendar/month/2026-06-01")).await.unwrap();
        assert!(cell_text(&client, "2026-06-11").await.contains("Piano recital"));

        client
            .find(Locator::Css("td[data-date='2026-06-11'] .day-events a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        eventually("the event", || async { exists(&client, "button.danger").await }).await;
        // No confirmation: the toast offers to undo instead (see manipulate::delete_then_undo).
        client.find(Locator::Css("button.danger")).await.unwrap().click().await.unwrap();
        wait_for_path(&client, "/calendar/day/2026-06-11").await;
        eventually("the day without it", || async {
            !client.source().await.unwrap().contains("Piano recital")
        })
        .await;
        client.find(Locator::Id("view-month")).await.unwrap().click().await.unwrap();
        wait_for_path(&client, "/calendar/month/2026-06-11").await;
        eventually("the month grid", || async { exists(&client, ".month-grid").await }).await;
        assert!(!cell_text(&client, "2026-06-11").await.contains("Piano"));
    })
    .await;
}

/// 6. A form error shows its message by the field and keeps what was typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_errors_keep_the_typed_values() {
    flow("form_errors_keep_the_typed_values", true, |client, base| async move {
        register(&client, &base, "fay").await;
        client.goto(&format!("{base}/events/new")).await.unwrap();
        mark_page(&client).await;
        client.find(Locator::Id("title")).await.unwrap().send_keys("Backwards").await.unwrap();
        client.find(Locator::Id("location")).await.unwrap().send_keys("Hall 2").await.unwrap();
        set_times(&client, "2026-06-10T10:00", "2026-06-10T09:00").await;
        client.find(Locator::Css("#event-form button[type=submit]")).await.unwrap().click().await.unwrap();
        eventually("the error", || async { exists(&client, "#end-error").await }).await;
        assert!(text_of(&client, "end-error").await.contains("cannot end before it starts"));
        let described =
            script(&client, "return document.getElementById('end').getAttribute('aria-describedby')").await;
        assert_eq!(described, json!("end-error"), "the message belongs to its field");
        assert_eq!(value_of(&client, "title").await, "Backwards");
        assert_eq!(value_of(&client, "location").await, "Hall 2");
        assert_eq!(value_of(&client, "start").await, "2026-06-10T10:00");
        assert_eq!(value_of(&client, "end").await, "2026-06-10T09:00");
        assert!(page_was_not_reloaded(&client).await, "the form was re-rendered in place");
        assert_eq!(path_of(&client).await, "/events/new");
    })
    .await;
}

/// 8. Keyboard only: into the month grid with Tab, to a day with the arrows, C for a new
/// event there, and the event lands in that day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only_from_grid_to_new_event() {
    flow("keyboard_only_from_grid_to_new_event", true, |client, base| async move {
        register(&client, &base, "gus").await;
        client.goto(&format!("{base}/calendar/month/2026-06-01")).await.unwrap();
        let stops =
            count(&client, ".month-grid [tabindex=\"0\"], .month-grid a:not([tabindex=\"-1\"])").await;
        assert_eq!(stops, 1, "one tab stop in the grid");
        let mut presses = 0;
        while active_date(&client).await.is_empty() {
            client.find(Locator::Css("body")).await.unwrap().send_keys("\u{E004}").await.unwrap(); // Tab
            presses += 1;
            assert!(presses < 40, "Tab never reached the grid");
        }
        assert_eq!(active_date(&client).await, "2026-06-01");
        press(&client, "\u{E014}").await; // ArrowRight
        press(&client, "\u{E014}").await;
        press(&client, "\u{E015}").await; // ArrowDown
        assert_eq!(active_date(&client).await, "2026-06-10");
        press(&client, "\u{E011}").await; // Home: Monday of that week
        assert_eq!(active_date(&client).await, "2026-06-08");
        press(&client, "\u{E010}").await; // End: Sunday
        assert_eq!(active_date(&client).await, "2026-06-14");
        press(&client, "\u{E012}").await; // ArrowLeft
        press(&client, "c").await;
        wait_for_path(&client, "/events/new").await;
        eventually("the form on that day", || async {
            value_of(&client, "start").await == "2026-06-13T09:00"
        })
        .await;
        client.find(Locator::Id("title")).await.unwrap().send_keys("Market\u{E007}").await.unwrap(); // Enter
        wait_for_path(&client, "/calendar/month/2026-06-01").await;
        eventually("the event on the 13th", || async {
            cell_text(&client, "2026-06-13").await.contains("Market")
        })
        .await;
        // PageDown swaps in the next month, announces it and keeps focus in the calendar.
        script(&client, "document.querySelector('.month-grid td[tabindex=\"0\"]').focus()").await;
        press(&client, "\u{E00F}").await; // PageDown
        wait_for_path(&client, "/calendar/month/2026-07-01").await;
        eventually("the announcement", || async { text_of(&client, "calendar-status").await == "July 2026" })
            .await;
        eventually("focus in the calendar", || async {
            script(&client, "return !!document.activeElement.closest('#calendar')").await == json!(true)
        })
        .await;
    })
    .await;
}

/// 9. An admin deactivates a user; the user's open browser goes to the login page on its
/// next click.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivated_user_is_sent_to_login() {
    let served = serve_with(true).await;
    let base = served.base.clone();
    let (client, _driver) = browser(true).await;
    let (admin, _admin_driver) = browser(true).await;
    let admin_client = admin.clone();
    run("deactivated_user_is_sent_to_login", &client, |client| async move {
        register(&client, &base, "hal").await;
        client.goto(&format!("{base}/calendar/month/2026-06-01")).await.unwrap();

        log_in(&admin, &base, "root").await;
        admin.goto(&format!("{base}/admin/users")).await.unwrap();
        let deactivate = "//tr[contains(., 'hal')]//button[normalize-space()='Deactivate']";
        admin.find(Locator::XPath(deactivate)).await.unwrap().click().await.unwrap();
        eventually("the admin's confirmation", || async { admin.get_alert_text().await.is_ok() }).await;
        admin.accept_alert().await.unwrap();
        eventually("the user marked inactive", || async {
            admin
                .find(Locator::XPath("//tr[contains(., 'hal')]//button[normalize-space()='Reactivate']"))
                .await
                .is_ok()
        })
        .await;

        client.find(Locator::Id("cal-next")).await.unwrap().click().await.unwrap();
        wait_for_path(&client, "/login").await;
        assert!(exists(&client, "form[action='/login']").await);
    })
    .await;
    admin_client.close().await.unwrap();
}

/// Issue 9 in a browser: a weekly event fills its days; one occurrence is deleted, and an edit
/// of "this and following" renames the rest of the series only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeating_event_this_and_following() {
    flow("repeating_event_this_and_following", true, |client, base| async move {
        register(&client, &base, "ida").await;
        client.goto(&format!("{base}/events/new")).await.unwrap();
        client.find(Locator::Id("title")).await.unwrap().send_keys("Yoga").await.unwrap();
        set_times(&client, "2026-06-01T18:00", "2026-06-01T19:00").await;
        client.find(Locator::Id("repeat")).await.unwrap().select_by_value("weekly").await.unwrap();
        client.find(Locator::Css("#event-form button[type=submit]")).await.unwrap().click().await.unwrap();
        eventually("the series", || async {
            client.source().await.unwrap().contains("Every week on Monday")
        })
        .await;

        let month = format!("{base}/calendar/month/2026-06-01");
        client.goto(&month).await.unwrap();
        for day in ["2026-06-01", "2026-06-08", "2026-06-15", "2026-06-22", "2026-06-29"] {
            assert!(cell_text(&client, day).await.contains("Yoga"), "{day}");
        }
        assert!(!cell_text(&client, "2026-06-02").await.contains("Yoga"));

        // Delete one occurrence: the page asks which part.
        client
            .find(Locator::Css("td[data-date='2026-06-15'] .day-events a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        eventually("the occurrence", || async { exists(&client, "a.danger").await }).await;
        client.find(Locator::Css("a.danger")).await.unwrap().click().await.unwrap();
        eventually("the choice", || async { exists(&client, "#scope-this").await }).await;
        assert!(exists(&client, "#scope-this:checked").await, "this event is the default");
        client
            .find(Locator::Css("form[action$='/delete'] button.danger"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_path(&client, "/calendar/day/2026-06-15").await;
        client.goto(&month).await.unwrap();
        assert!(!cell_text(&client, "2026-06-15").await.contains("Yoga"));
        assert!(cell_text(&client, "2026-06-08").await.contains("Yoga"));

        // This and following, from 22 June.
        client
            .find(Locator::Css("td[data-date='2026-06-22'] .day-events a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        eventually("the occurrence", || async { exists(&client, "a.danger").await }).await;
        client.find(Locator::LinkText("Edit")).await.unwrap().click().await.unwrap();
        eventually("the form", || async { value_of(&client, "start").await == "2026-06-22T18:00" }).await;
        let title = client.find(Locator::Id("title")).await.unwrap();
        title.clear().await.unwrap();
        title.send_keys("Yoga (new room)").await.unwrap();
        client.find(Locator::Id("scope-following")).await.unwrap().click().await.unwrap();
        client.find(Locator::Css("#event-form button[type=submit]")).await.unwrap().click().await.unwrap();
        eventually("the new series", || async { text_of(&client, "event-title").await == "Yoga (new room)" })
            .await;
        client.goto(&month).await.unwrap();
        assert!(cell_text(&client, "2026-06-29").await.contains("Yoga (new room)"));
        assert!(cell_text(&client, "2026-06-22").await.contains("Yoga (new room)"));
        let earlier = cell_text(&client, "2026-06-08").await;
        assert!(earlier.contains("Yoga") && !earlier.contains("new room"), "{earlier}");
    })
    .await;
}

/// 7. Create, navigate and search with JavaScript off: full pages all the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_works_without_javascript() {
    flow("everything_works_without_javascript", false, without_javascript).await;
}

async fn without_javascript(client: Client, base: String) {
    register(&client, &base, "lou").await;
    let today = chrono::Utc::now().date_naive();
    client.goto(&format!("{base}/events/new")).await.unwrap();
    client.find(Locator::Id("title")).await.unwrap().send_keys("Piano").await.unwrap();
    // No script runs here: the inputs are typed as text would be by a browser without them.
    let start = client.find(Locator::Id("start")).await.unwrap();
    assert_eq!(
        start.prop("value").await.unwrap().unwrap_or_default(),
        format!("{}T09:00", today.format("%Y-%m-%d"))
    );
    client.find(Locator::Css("#event-form button[type=submit]")).await.unwrap().click().await.unwrap();
    eventually("the event page", || async { client.find(Locator::Id("event-title")).await.is_ok() }).await;

    client.goto(&format!("{base}/calendar/month/{}", today.format("%Y-%m-%d"))).await.unwrap();
    assert!(client.source().await.unwrap().contains("Piano"));
    client.find(Locator::Id("cal-next")).await.unwrap().click().await.unwrap();
    let next_month = (today.with_day(1).unwrap() + chrono::Months::new(1)).format("%Y-%m-%d").to_string();
    eventually("the next month page", || async {
        client.current_url().await.unwrap().path().ends_with(&next_month)
    })
    .await;
    client.find(Locator::Id("view-agenda")).await.unwrap().click().await.unwrap();
    eventually("the agenda", || async {
        client.current_url().await.unwrap().path().starts_with("/calendar/agenda/")
    })
    .await;

    client.goto(&format!("{base}/search")).await.unwrap();
    client.find(Locator::Id("q")).await.unwrap().send_keys("pia").await.unwrap();
    client.find(Locator::Css("form[role=search] button")).await.unwrap().click().await.unwrap();
    eventually("the results page", || async { client.find(Locator::Css(".search-hit mark")).await.is_ok() })
        .await;

    client.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    eventually("the login page", || async { client.current_url().await.unwrap().path() == "/login" }).await;
    client.goto(&format!("{base}/calendar")).await.unwrap();
    assert_eq!(client.current_url().await.unwrap().path(), "/login");
}

/// Issue 15: a calendar with a colour of its own; its event is drawn in that colour in the
/// month grid, with the calendar's name for screen readers; hiding the calendar from the list
/// beside the grid removes the event without a page load, and showing it brings it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calendar_in_its_colour_hidden_and_shown() {
    flow("a_calendar_in_its_colour_hidden_and_shown", true, |client, base| async move {
        register(&client, &base, "cleo").await;
        client.goto(&format!("{base}/calendars")).await.unwrap();
        client.find(Locator::Id("name-new")).await.unwrap().send_keys("Rowing club").await.unwrap();
        // A colour input takes no keys: pick the colour as the picker would.
        client.execute("document.getElementById('color-new').value = '#8e24aa'", vec![]).await.unwrap();
        client.find(Locator::Css("form[action='/calendars'] button")).await.unwrap().click().await.unwrap();
        eventually("the new calendar", || async { exists(&client, ".calendar-item:nth-child(2)").await })
            .await;

        client.goto(&format!("{base}/events/new?date=2026-06-10")).await.unwrap();
        client.find(Locator::Id("title")).await.unwrap().send_keys("Regatta").await.unwrap();
        let choose = "var s = document.getElementById('calendar_id'); \
                      s.value = [...s.options].find(o => o.text === 'Rowing club').value;";
        client.execute(choose, vec![]).await.unwrap();
        set_times(&client, "2026-06-10T08:00", "2026-06-10T12:00").await;
        client.find(Locator::Css("#event-form button[type=submit]")).await.unwrap().click().await.unwrap();
        eventually("the event page", || async { exists(&client, "#event-title").await }).await;

        client.goto(&format!("{base}/calendar/month/2026-06-01")).await.unwrap();
        mark_page(&client).await;
        let fill = "var c = document.querySelector('td[data-date=\"2026-06-10\"] .chip rect'); \
                    return c ? c.getAttribute('fill') : '';";
        assert_eq!(script(&client, fill).await, json!("#8e24aa"), "drawn in the calendar's colour");
        let painted = "var c = document.querySelector('td[data-date=\"2026-06-10\"] .chip'); \
                       return getComputedStyle(c).color;";
        assert_eq!(script(&client, painted).await, json!("rgb(255, 255, 255)"), "white text reads on grape");
        assert!(
            cell_text(&client, "2026-06-10").await.contains("Regatta (Rowing club)"),
            "named, not colour alone"
        );

        let toggle = "//nav[@class='calendar-toggles']//a[contains(., 'Rowing club')]";
        client.find(Locator::XPath(toggle)).await.unwrap().click().await.unwrap();
        eventually("the event hidden", || async {
            !cell_text(&client, "2026-06-10").await.contains("Regatta")
        })
        .await;
        assert!(page_was_not_reloaded(&client).await, "hidden without a page load");
        // The toggle says what it does next, in words (a link cannot be aria-pressed).
        let said = format!(
            "return document.evaluate(\"{toggle}\", document, null, 9, null).singleNodeValue.textContent"
        );
        assert!(script(&client, &said).await.as_str().unwrap().contains("(hidden; show)"));

        client.find(Locator::XPath(toggle)).await.unwrap().click().await.unwrap();
        eventually("the event back", || async { cell_text(&client, "2026-06-10").await.contains("Regatta") })
            .await;
        assert!(page_was_not_reloaded(&client).await);
    })
    .await;
}

/// Issue 18: two people in two browsers. Amy shares her calendar with Ben to write; Ben sees
/// her event in his month, in her name, and renames it; Amy's month shows his change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_shares_the_other_sees_and_edits() {
    let served = serve().await;
    let base = served.base.clone();
    let (amy, _amy_driver) = browser(true).await;
    let (ben, _ben_driver) = browser(true).await;
    let ben_client = ben.clone();
    run("one_shares_the_other_sees_and_edits", &amy, |amy| async move {
        register(&ben, &base, "ben").await;
        register(&amy, &base, "amy").await;
        create_event(&amy, &base, "Family dinner", "2026-06-12T19:00", "2026-06-12T21:00").await;

        amy.goto(&format!("{base}/calendars")).await.unwrap();
        amy.find(Locator::Css(".calendar-sharing summary")).await.unwrap().click().await.unwrap();
        amy.find(Locator::Css(".share-form input[name=username]"))
            .await
            .unwrap()
            .send_keys("ben")
            .await
            .unwrap();
        amy.find(Locator::Css(".share-form input[value=write]")).await.unwrap().click().await.unwrap();
        amy.find(Locator::Css(".share-form button[type=submit]")).await.unwrap().click().await.unwrap();
        eventually("the share listed", || async { exists(&amy, ".share-list .share-who").await }).await;

        ben.goto(&format!("{base}/calendar/month/2026-06-01")).await.unwrap();
        eventually("Amy's event in Ben's month", || async {
            cell_text(&ben, "2026-06-12").await.contains("Family dinner")
        })
        .await;
        assert!(cell_text(&ben, "2026-06-12").await.contains("amy"), "named as Amy's");
        ben.find(Locator::Css("td[data-date='2026-06-12'] .day-events a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        eventually("the event", || async { exists(&ben, "#event-title").await }).await;
        ben.find(Locator::LinkText("Edit")).await.unwrap().click().await.unwrap();
        eventually("the edit form", || async { value_of(&ben, "title").await == "Family dinner" }).await;
        let title = ben.find(Locator::Id("title")).await.unwrap();
        title.clear().await.unwrap();
        title.send_keys("Family dinner at Ben's").await.unwrap();
        ben.find(Locator::Css("#event-form button[type=submit]")).await.unwrap().click().await.unwrap();
        eventually("the new title", || async {
            text_of(&ben, "event-title").await == "Family dinner at Ben's"
        })
        .await;

        amy.goto(&format!("{base}/calendar/month/2026-06-01")).await.unwrap();
        eventually("Ben's change in Amy's month", || async {
            cell_text(&amy, "2026-06-12").await.contains("Family dinner at Ben's")
        })
        .await;
    })
    .await;
    ben_client.close().await.unwrap();
}

/// Issue 19: the user opts in on /notifications; a reminder falls due (a scheduler pass, as
/// the server's own would run it); the header's count and the tray show it, and the browser
/// shows it as a notification once (the script remembers the newest it showed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opt_in_and_a_reminder_arrives_in_the_app_and_the_browser() {
    let served = serve().await;
    let (client, _driver) = browser(true).await;
    let base = served.base.clone();
    let store = served.store.clone();
    run("reminder_arrives", &client, move |client| async move {
        register(&client, &base, "nina").await;
        // An hour and a half from now (UTC, the new account's zone), reminded an hour before.
        let start = chrono::Utc::now() + chrono::Duration::minutes(90);
        let end = start + chrono::Duration::minutes(30);
        let post = "var done = arguments[arguments.length - 1]; \
            var body = new URLSearchParams(arguments[0]); \
            body.append('csrf_token', document.querySelector('meta[name=csrf-token]').content); \
            fetch('/events', { method: 'POST', body: body, redirect: 'manual' }).then(function () { done(true); });";
        let fields = json!({ "title": "Call the bank", "start": start.format("%Y-%m-%dT%H:%M").to_string(),
                             "end": end.format("%Y-%m-%dT%H:%M").to_string(), "reminders": "60" });
        client.execute_async(post, vec![fields]).await.unwrap();

        client.goto(&format!("{base}/notifications")).await.unwrap();
        client.find(Locator::Id("browser-notifications")).await.unwrap().click().await.unwrap();
        eventually("the opt-in", || async {
            script(&client, "return localStorage.getItem('eventide-notified-after')").await == json!("0")
        })
        .await;
        let state = text_of(&client, "browser-notifications-state").await;
        assert!(state.contains("also show as notifications"), "{state}");

        let due = start - chrono::Duration::minutes(60);
        let tally = eventide::reminders::tick(&store, due, chrono::Duration::hours(1)).await.unwrap();
        assert_eq!(tally.notified, 1);
        client.goto(&format!("{base}/notifications")).await.unwrap();
        eventually("the browser notification", || async {
            script(&client, "return localStorage.getItem('eventide-notified-after')").await != json!("0")
        })
        .await;
        eventually("the header's count", || async { text_of(&client, "notification-count").await.contains('1') }).await;
        let tray = script(&client, "return document.querySelector('.notification-list').textContent").await;
        assert!(tray.as_str().unwrap_or_default().contains("Call the bank"), "{tray}");
    })
    .await;
}
