//! Issue 17's proof over every page type: axe-core (npm, installed by bin/test under
//! target/a11y) run inside Chromium in light and dark mode with no serious or critical
//! violation; no page wider than a 360 or 390 px phone, nor a control there under 44 px;
//! and a screenshot of each page at desktop and phone width under `target/tmp/screens/`
//! for a reviewer.

use fantoccini::{Client, Locator};
use serde_json::json;

use super::{eventually, launch, log_in, run, script, serve_with, Look};

/// The week every page shows: fixed, so the screenshots compare from run to run.
const WEEK_OF: &str = "2026-12-07";

/// Every page type, by name (the screenshot's file name) and path.
fn pages() -> Vec<(&'static str, String)> {
    vec![
        ("login", "/login".into()),
        ("register", "/register".into()),
        ("dashboard", "/".into()),
        ("month", format!("/calendar/month/{WEEK_OF}")),
        ("week", format!("/calendar/week/{WEEK_OF}")),
        ("quick-create", "quick-create".into()),
        ("shortcuts", "shortcuts".into()),
        ("three-days", format!("/calendar/3day/{WEEK_OF}")),
        ("day", format!("/calendar/day/{WEEK_OF}")),
        ("agenda", format!("/calendar/agenda/{WEEK_OF}")),
        ("event", "/events/1".into()),
        ("event-form", format!("/events/new?date={WEEK_OF}")),
        ("form-with-errors", "form-with-errors".into()),
        ("event-delete", "/events/1/delete".into()),
        ("search", "/search?q=standup".into()),
        ("account", "/account".into()),
        ("calendars", "/calendars".into()),
        ("import", "/import".into()),
        ("admin", "/admin".into()),
        ("admin-users", "/admin/users".into()),
        ("admin-events", "/admin/events".into()),
        ("admin-event", "/admin/events/1".into()),
        ("admin-audit", "/admin/audit".into()),
        ("about", "/about".into()),
        ("notifications", "/notifications".into()),
        // A calendar's public link, as anyone with it opens it (created on the calendars page).
        ("public-month", "public:month".into()),
        ("public-agenda", "public:agenda".into()),
    ]
}

/// A week worth looking at: timed events that overlap, an all-day one, one over three days,
/// a repeating one, and a long title, created through the normal form route.
async fn fill_week(client: &Client) {
    let events = json!([
        { "title": "Team standup", "start": "2026-12-07T09:00", "end": "2026-12-07T09:30",
          "repeat": "daily", "ends": "count", "count": "5", "location": "Room 4" },
        { "title": "Design review with the whole product group", "start": "2026-12-08T10:00",
          "end": "2026-12-08T11:30", "description": "Bring the sketches." },
        { "title": "Dentist", "start": "2026-12-08T10:30", "end": "2026-12-08T11:00" },
        { "title": "Conference in Lyon", "start": "2026-12-09", "end": "2026-12-11", "all_day": "true" },
        { "title": "Night train", "start": "2026-12-10T22:00", "end": "2026-12-11T07:00" },
        { "title": "Grandma's birthday", "start": "2026-12-12", "end": "2026-12-12", "all_day": "true" },
    ]);
    let post = "var done = arguments[arguments.length - 1]; \
        var token = document.querySelector('meta[name=csrf-token]').content; \
        Promise.all(arguments[0].map(function (e) { \
          var body = new URLSearchParams(Object.assign({ csrf_token: token }, e)); \
          return fetch('/events', { method: 'POST', body: body, redirect: 'manual' }).then(function (r) { return r.type === 'opaqueredirect' || r.ok; }); \
        })).then(done);";
    // One at a time, so event 1 is the standup.
    for event in events.as_array().unwrap() {
        let created = client.execute_async(post, vec![json!([event])]).await.unwrap();
        assert_eq!(created, json!([true]), "created {event}");
    }
}

async fn open(client: &Client, base: &str, path: &str) {
    if path == "form-with-errors" {
        client.goto(&format!("{base}/events/new?date={WEEK_OF}")).await.unwrap();
        script(client, "document.getElementById('title').value = ''; document.getElementById('end').value = '2026-12-06T08:00';").await;
        script(client, "document.getElementById('title').removeAttribute('required');").await;
        client.find(Locator::Css("#event-form button[type=submit]")).await.unwrap().click().await.unwrap();
        eventually("the form's errors", || async { super::exists(client, ".field .error").await }).await;
    } else if path == "quick-create" {
        // The popover a slot opens, over the week (the script builds it from a template).
        client.goto(&format!("{base}/calendar/week/{WEEK_OF}")).await.unwrap();
        script(client, "document.querySelector('.tg-add').click()").await;
        eventually("the popover", || async { super::exists(client, ".quick-create").await }).await;
    } else if path == "shortcuts" {
        client.goto(&format!("{base}/calendar/month/{WEEK_OF}")).await.unwrap();
        client.find(Locator::Css("body")).await.unwrap().send_keys("?").await.unwrap();
        eventually("the shortcut list", || async { super::exists(client, "#shortcuts-help[open]").await })
            .await;
    } else if let Some(view) = path.strip_prefix("public:") {
        client.goto(&format!("{base}/calendars")).await.unwrap();
        script(client, "document.querySelector('.calendar-public form').submit()").await;
        eventually("the public link", || async {
            super::exists(client, ".calendar-public input[readonly]").await
        })
        .await;
        let link =
            script(client, "return new URL(document.querySelector('.calendar-public input').value).pathname")
                .await;
        let link = link.as_str().unwrap_or_default();
        client.goto(&format!("{base}{link}/{view}/{WEEK_OF}")).await.unwrap();
    } else {
        client.goto(&format!("{base}{path}")).await.unwrap();
    }
    // htmx and our script settle (the week view scrolls to the working hours).
    eventually("the page to load", || async {
        script(client, "return document.readyState").await == json!("complete")
    })
    .await;
}

/// axe-core's serious and critical findings on the current page, one line each.
async fn axe_findings(client: &Client, axe: &str) -> Vec<String> {
    // Injected through WebDriver, which the page's CSP does not govern.
    client.execute(axe, vec![]).await.unwrap();
    let check = "var done = arguments[arguments.length - 1]; \
        axe.run(document, { resultTypes: ['violations'] }).then(function (r) { \
          done(r.violations.filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; }) \
            .map(function (v) { return v.id + ' (' + v.impact + '): ' + v.help + ' at ' + \
              v.nodes.slice(0, 3).map(function (n) { return n.target.join(' '); }).join(', '); })); \
        }, function (e) { done(['axe failed: ' + e]); });";
    let found = client.execute_async(check, vec![]).await.unwrap();
    found.as_array().unwrap().iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect()
}

/// Month bars not as wide as the days they cover (the three-day conference must span three
/// cells, not be cut to its first one).
async fn unspanned_bars(client: &Client) -> Vec<String> {
    let check = "var out = []; \
        document.querySelectorAll('.day-events li[class*=days-]').forEach(function (li) { \
          var days = +/days-(\\d)/.exec(li.className)[1]; \
          var cell = li.closest('td').getBoundingClientRect().width; \
          var bar = li.querySelector('.chip').getBoundingClientRect().width; \
          if (bar < (days - 0.25) * cell) out.push(li.textContent.trim() + ': ' + Math.round(bar) + ' px over ' + days + ' days of ' + Math.round(cell)); \
        }); \
        if (!document.querySelector('.day-events li.days-3')) out.push('no three-day bar'); \
        return out;";
    let found = script(client, check).await;
    found.as_array().unwrap().iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect()
}

fn screens_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screens");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What the viewport shows (the top of the page, as a person first sees it).
async fn screenshot(client: &Client, name: &str) {
    let bytes = client.screenshot().await.unwrap();
    std::fs::write(screens_dir().join(format!("{name}.png")), bytes).unwrap();
}

fn axe_source() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/target/a11y/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(path).expect("axe-core is installed (bin/test installs it under target/a11y)")
}

async fn audit(dark: bool) {
    let served = serve_with(true).await;
    let (client, _driver) = launch(Look { dark, ..Look::default() }).await;
    let base = served.base.clone();
    let name = if dark { "axe_dark" } else { "axe_light" };
    run(name, &client, move |client| async move {
        let axe = axe_source();
        let mut findings = Vec::new();
        for (page, path) in pages() {
            if page == "dashboard" {
                log_in(&client, &base, "root").await;
                fill_week(&client).await;
            }
            open(&client, &base, &path).await;
            if page.ends_with("month") {
                findings
                    .extend(unspanned_bars(&client).await.into_iter().map(|bar| format!("{page}: {bar}")));
            }
            for finding in axe_findings(&client, &axe).await {
                findings.push(format!("{page}: {finding}"));
            }
            screenshot(&client, &format!("{page}-desktop{}", if dark { "-dark" } else { "" })).await;
        }
        assert!(findings.is_empty(), "axe found:\n{}", findings.join("\n"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_in_light_mode() {
    audit(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_in_dark_mode() {
    audit(true).await;
}

/// At a phone's width nothing scrolls sideways, and tap targets are at least 44 px tall.
async fn phone(width: u32) {
    let served = serve_with(true).await;
    let (client, _driver) = launch(Look { phone: Some(width), ..Look::default() }).await;
    let base = served.base.clone();
    run(&format!("phone_{width}"), &client, move |client| async move {
        let mut wide = Vec::new();
        for (page, path) in pages() {
            if page == "dashboard" {
                log_in(&client, &base, "root").await;
                fill_week(&client).await;
            }
            open(&client, &base, &path).await;
            let widths =
                script(&client, "return [document.documentElement.scrollWidth, window.innerWidth]").await;
            if widths[0].as_u64() > widths[1].as_u64() {
                wide.push(format!("{page}: scrollWidth {} > innerWidth {}", widths[0], widths[1]));
            }
            let small = script(&client, SMALL_TARGETS).await;
            for target in small.as_array().unwrap() {
                wide.push(format!("{page}: tap target under 44 px: {}", target.as_str().unwrap_or_default()));
            }
            screenshot(&client, &format!("{page}-phone-{width}")).await;
        }
        assert!(wide.is_empty(), "pages scroll sideways or have small tap targets:\n{}", wide.join("\n"));
    })
    .await;
}

/// Controls a thumb aims at (not links inside sentences, which WCAG exempts) that are
/// smaller than 44 × 44 CSS pixels, as "selector text (w×h)".
const SMALL_TARGETS: &str = "var wanted = '.site-header nav a, .site-header nav button, .calendar-nav a, \
    .view-switcher a, #cal-new, .day-pick, .tg-add, .mini-month a, .calendar-toggles a, .drawer summary, \
    button:not(.link), .button, .popover button, .popover a.button'; \
  return Array.prototype.filter.call(document.querySelectorAll(wanted), function (e) { \
    var r = e.getBoundingClientRect(); \
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden' && (r.width < 43.5 || r.height < 43.5); \
  }).map(function (e) { var r = e.getBoundingClientRect(); \
    return e.tagName.toLowerCase() + '.' + e.className + ' ' + JSON.stringify(e.textContent.trim().slice(0, 20)) + \
      ' (' + Math.round(r.width) + '×' + Math.round(r.height) + ')'; });";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_scrolls_sideways_at_360_px() {
    phone(360).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_scrolls_sideways_at_390_px() {
    phone(390).await;
}
