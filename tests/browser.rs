//! The app in a real headless Chromium (Debian's `chromium` and `chromium-driver`; `.ci/run`
//! installs them): htmx navigation with history, the month grid's keyboard model and focus
//! (security.md 28-29), live search, delete with its confirmation, and the same flows with
//! JavaScript switched off.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const PASSWORD: &str = "glacier-tulip-87";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap()
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The app on a real port, with its own SQLite file and in-process backends.
async fn serve() -> (String, std::path::PathBuf) {
    let dir =
        std::env::temp_dir().join(format!("eventide-browser-{}", hex::encode(rand::random::<[u8; 6]>())));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let figment = eventide::config::figment()
        .merge(("database_url", format!("sqlite://{}", dir.join("app.db").display())))
        .merge(("log_file", ""))
        .merge(("port", port))
        .merge(("address", "127.0.0.1"));
    let rocket = eventide::build(figment).unwrap().ignite().await.unwrap();
    tokio::spawn(rocket.launch());
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (base, dir)
}

async fn browser(javascript: bool) -> (Client, Driver) {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is installed (apt-get install chromium chromium-driver)");
    let driver = Driver(child);
    let profile = std::env::temp_dir().join(format!("eventide-chromium-{port}"));
    let mut options = json!({
        "binary": "/usr/bin/chromium",
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1280,1000", format!("--user-data-dir={}", profile.display())],
    });
    if !javascript {
        options["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn htmx_navigation_keyboard_grid_search_and_delete() {
    let (base, dir) = serve().await;
    let (client, _driver) = browser(true).await;
    register(&client, &base, "kim").await;
    let today = chrono::Utc::now().date_naive();
    let day = |d: NaiveDate, t: &str| format!("{}T{t}", d.format("%Y-%m-%d"));
    create_event(&client, &base, "Standup <b>daily</b>", &day(today, "09:00"), &day(today, "09:15")).await;

    // The month grid: one tab stop, on today, marked as the current date.
    client.goto(&format!("{base}/calendar/month/{}", today.format("%Y-%m-%d"))).await.unwrap();
    let stops = script(&client, "return document.querySelectorAll('.month-grid [tabindex=\"0\"], .month-grid a:not([tabindex=\"-1\"])').length").await;
    assert_eq!(stops, json!(1), "one tab stop in the grid");
    let current = script(&client, "return document.querySelector('[aria-current=date]').dataset.date").await;
    assert_eq!(current, json!(today.format("%Y-%m-%d").to_string()));
    script(&client, "document.querySelector('.month-grid td[tabindex=\"0\"]').focus()").await;
    assert_eq!(active_date(&client).await, today.format("%Y-%m-%d").to_string());

    let start = NaiveDate::parse_from_str(&active_date(&client).await, "%Y-%m-%d").unwrap();
    press(&client, "\u{E012}").await; // ArrowLeft
    press(&client, "\u{E015}").await; // ArrowDown
    let moved = NaiveDate::parse_from_str(&active_date(&client).await, "%Y-%m-%d").unwrap();
    assert_eq!(moved, start - chrono::Duration::days(1) + chrono::Duration::days(7));
    press(&client, "\u{E011}").await; // Home: the first day of that week (Monday by default)
    let home = NaiveDate::parse_from_str(&active_date(&client).await, "%Y-%m-%d").unwrap();
    assert_eq!(home.weekday(), chrono::Weekday::Mon);
    press(&client, "\u{E010}").await; // End
    let end = NaiveDate::parse_from_str(&active_date(&client).await, "%Y-%m-%d").unwrap();
    assert_eq!(end.weekday(), chrono::Weekday::Sun);

    // PageDown: the next month arrives through htmx, the URL follows, the new period is
    // announced and focus stays in the calendar.
    let title_before = text_of(&client, "calendar-title").await;
    press(&client, "\u{E00F}").await; // PageDown
    eventually("the next month", || async {
        let title = text_of(&client, "calendar-title").await;
        !title.is_empty() && title != title_before
    })
    .await;
    let title_after = text_of(&client, "calendar-title").await;
    let next_month = (today.with_day(1).unwrap() + chrono::Months::new(1)).format("%Y-%m-%d").to_string();
    assert!(client.current_url().await.unwrap().path().ends_with(&next_month));
    eventually("the announcement", || async { text_of(&client, "calendar-status").await == title_after })
        .await;
    eventually("focus back in the calendar", || async {
        script(&client, "return !!document.activeElement.closest('#calendar')").await == json!(true)
    })
    .await;

    // Back returns to the previous month (a full page from the server: no history cache).
    client.back().await.unwrap();
    eventually("the previous month", || async {
        client.find(Locator::Id("calendar-title")).await.map(|_| ()).is_ok()
            && client.find(Locator::Id("calendar-title")).await.unwrap().text().await.unwrap_or_default()
                == title_before
    })
    .await;

    // Live search: results arrive while typing, the URL follows, markup stays text.
    client.goto(&format!("{base}/search")).await.unwrap();
    client.find(Locator::Id("q")).await.unwrap().send_keys("stand").await.unwrap();
    eventually("search results", || async {
        client.find(Locator::Css("#search-results mark")).await.is_ok()
    })
    .await;
    assert!(client.current_url().await.unwrap().query().unwrap_or_default().contains("q=stand"));
    let title =
        script(&client, "return document.querySelector('.search-hit .hit-title').textContent.trim()").await;
    assert_eq!(title, json!("Standup <b>daily</b>"));

    // Delete asks first, then goes to the day.
    client.find(Locator::Css(".search-hit .hit-title")).await.unwrap().click().await.unwrap();
    eventually("the event", || async { client.find(Locator::Css("button.danger")).await.is_ok() }).await;
    client.find(Locator::Css("button.danger")).await.unwrap().click().await.unwrap();
    eventually("the confirmation", || async { client.get_alert_text().await.is_ok() }).await;
    client.accept_alert().await.unwrap();
    eventually("the day view", || async {
        client.current_url().await.unwrap().path().starts_with("/calendar/day/")
    })
    .await;
    assert!(!client.source().await.unwrap().contains("Standup"));

    client.close().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_works_without_javascript() {
    let (base, dir) = serve().await;
    let (client, _driver) = browser(false).await;
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

    client.close().await.unwrap();
    let _ = std::fs::remove_dir_all(dir);
}
