//! Issue 17's flows, driven with real pointer and key input through WebDriver: pick a slot
//! and create in place, drag to move, drag the lower edge to resize (a repeating event,
//! "this event" only), undo a move and a delete, every shortcut, and the keyboard path; then
//! the same jobs with JavaScript off, through plain forms.

use std::time::Duration;

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::{Client, Locator};
use serde_json::json;

use super::{
    eventually, exists, flow, mark_page, page_was_not_reloaded, path_of, press, register, script, value_of,
    wait_for_path,
};

const WEEK: &str = "/calendar/week/2026-06-08";

/// A point of the page, in viewport pixels.
type Point = (f64, f64);

async fn point(client: &Client, source: &str) -> Point {
    let value = script(client, source).await;
    let xy = value.as_array().unwrap_or_else(|| panic!("no point from {source}: {value}"));
    (xy[0].as_f64().unwrap(), xy[1].as_f64().unwrap())
}

/// The middle of quarter-hour `quarter` in the column of `date`.
async fn slot(client: &Client, date: &str, quarter: u32) -> Point {
    point(
        client,
        &format!(
            "var c = document.querySelector('.tg-col[data-date=\"{date}\"]').getBoundingClientRect(); \
             var q = c.height / 96; return [c.left + c.width / 2, c.top + q * ({quarter} + 0.5)];"
        ),
    )
    .await
}

/// An event's chip: its middle (to move it) or just above its lower edge (to resize it).
async fn event_point(client: &Client, title: &str, date: &str, lower_edge: bool) -> Point {
    let y = if lower_edge { "r.bottom - 2" } else { "r.top + Math.min(8, r.height / 2)" };
    point(
        client,
        &format!(
            "var e = Array.prototype.find.call(document.querySelectorAll('.tg-col[data-date=\"{date}\"] .tg-event'), \
               function (e) {{ return e.textContent.indexOf({title:?}) >= 0; }}); \
             var r = e.getBoundingClientRect(); return [r.left + r.width / 2, {y}];"
        ),
    )
    .await
}

/// Presses at `from`, moves in steps to `to` and lets go: what a hand does.
async fn drag(client: &Client, from: Point, to: Point) {
    let step = |(x, y): Point| PointerAction::MoveTo {
        duration: Some(Duration::from_millis(80)),
        x: x.round(),
        y: y.round(),
    };
    let middle = ((from.0 + to.0) / 2.0, (from.1 + to.1) / 2.0);
    let actions = MouseActions::new("mouse".into())
        .then(PointerAction::MoveTo { duration: None, x: from.0.round(), y: from.1.round() })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(step(middle))
        .then(step(to))
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    client.perform_actions(actions).await.unwrap();
    client.release_actions().await.unwrap();
}

/// The classes of the event titled `title` in the column of `date` ("" when it is not there).
async fn placed(client: &Client, title: &str, date: &str) -> String {
    let value = script(
        client,
        &format!(
            "var e = Array.prototype.find.call(document.querySelectorAll('.tg-col[data-date=\"{date}\"] .tg-event'), \
               function (e) {{ return e.textContent.indexOf({title:?}) >= 0; }}); return e ? e.className : '';"
        ),
    )
    .await;
    value.as_str().unwrap_or_default().to_string()
}

async fn is_placed(client: &Client, title: &str, date: &str, classes: &[&str]) -> bool {
    let found = placed(client, title, date).await;
    !found.is_empty() && classes.iter().all(|c| found.split(' ').any(|k| k == *c))
}

/// Creates events through the normal form route, as the page's own fetch would.
async fn post_events(client: &Client, events: serde_json::Value) {
    let post = "var done = arguments[arguments.length - 1]; \
        var token = document.querySelector('meta[name=csrf-token]').content; \
        var body = new URLSearchParams(Object.assign({ csrf_token: token }, arguments[0])); \
        fetch('/events', { method: 'POST', body: body, redirect: 'manual' }) \
          .then(function (r) { done(r.type === 'opaqueredirect' || r.ok); });";
    for event in events.as_array().unwrap() {
        assert_eq!(client.execute_async(post, vec![event.clone()]).await.unwrap(), json!(true), "{event}");
    }
}

async fn click(client: &Client, css: &str) {
    client.find(Locator::Css(css)).await.unwrap().click().await.unwrap();
}

async fn toast_undo(client: &Client) {
    eventually("the toast's Undo", || async { exists(client, "#toasts button.undo").await }).await;
    click(client, "#toasts button.undo").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pick_a_slot_drag_resize_and_undo() {
    flow("pick_a_slot_drag_resize_and_undo", true, |client, base| async move {
        register(&client, &base, "fay").await;
        client.goto(&format!("{base}{WEEK}")).await.unwrap();
        eventually("the time grid", || async { exists(&client, ".tg-col").await }).await;
        mark_page(&client).await;

        // Over 10:00 to 11:15 on Tuesday: the popover has the times; the event lands there.
        let (from, to) = (slot(&client, "2026-06-09", 40).await, slot(&client, "2026-06-09", 45).await);
        drag(&client, from, to).await;
        eventually("the quick-create popover", || async { exists(&client, ".quick-create #qc-title").await }).await;
        assert!(script(&client, "return document.querySelector('.qc-when').textContent").await.as_str().unwrap().contains("10:00–11:30"));
        assert_eq!(script(&client, "return document.activeElement.id").await, json!("qc-title"));
        let more = script(&client, "return document.querySelector('.qc-more').getAttribute('href')").await;
        assert!(more.as_str().unwrap().contains("start=2026-06-09T10%3A00&end=2026-06-09T11%3A30"), "{more}");
        press(&client, "Swim\u{E007}").await; // Enter
        eventually("Swim in place", || async { is_placed(&client, "Swim", "2026-06-09", &["at-40", "len-6"]).await }).await;
        assert!(!exists(&client, ".quick-create").await, "the popover closed");
        assert!(page_was_not_reloaded(&client).await);

        // Dragged a day right and an hour down; then undone.
        let chip = event_point(&client, "Swim", "2026-06-09", false).await;
        let day = slot(&client, "2026-06-10", 0).await.0 - slot(&client, "2026-06-09", 0).await.0;
        let hour = slot(&client, "2026-06-09", 4).await.1 - slot(&client, "2026-06-09", 0).await.1;
        drag(&client, chip, (chip.0 + day, chip.1 + hour)).await;
        eventually("Swim a day later", || async { is_placed(&client, "Swim", "2026-06-10", &["at-44", "len-6"]).await }).await;
        assert_eq!(path_of(&client).await, WEEK, "a drag is not a visit");
        toast_undo(&client).await;
        eventually("Swim back", || async { is_placed(&client, "Swim", "2026-06-09", &["at-40", "len-6"]).await }).await;
        assert!(placed(&client, "Swim", "2026-06-10").await.is_empty());

        // The lower edge, half an hour down.
        let edge = event_point(&client, "Swim", "2026-06-09", true).await;
        drag(&client, edge, (edge.0, edge.1 + hour / 2.0)).await;
        eventually("Swim longer", || async { is_placed(&client, "Swim", "2026-06-09", &["at-40", "len-8"]).await }).await;

        // A repeating event: one occurrence moved half an hour, "this event" only.
        post_events(&client, json!([{ "title": "Standup", "start": "2026-06-08T09:00", "end": "2026-06-08T09:30",
            "repeat": "daily", "ends": "count", "count": "5" }])).await;
        client.goto(&format!("{base}{WEEK}")).await.unwrap();
        eventually("the standups", || async { is_placed(&client, "Standup", "2026-06-10", &["at-36"]).await }).await;
        mark_page(&client).await;
        let standup = event_point(&client, "Standup", "2026-06-10", false).await;
        drag(&client, standup, (standup.0, standup.1 + hour / 2.0)).await;
        eventually("the question", || async { exists(&client, ".scope-choice [data-scope=this]").await }).await;
        click(&client, ".scope-choice [data-scope=this]").await;
        eventually("that standup later", || async { is_placed(&client, "Standup", "2026-06-10", &["at-38"]).await }).await;
        for date in ["2026-06-08", "2026-06-09", "2026-06-11", "2026-06-12"] {
            assert!(is_placed(&client, "Standup", date, &["at-36"]).await, "{date} untouched");
        }

        // The keyboard path: Shift+Down moves the focused event 15 minutes, Shift+Alt+Down
        // lengthens it by 15.
        script(&client, "Array.prototype.find.call(document.querySelectorAll('.tg-event'), function (e) { return e.textContent.indexOf('Swim') >= 0; }).querySelector('.chip').focus()").await;
        press(&client, "\u{E008}\u{E015}\u{E008}").await; // Shift down, ArrowDown, Shift up
        eventually("Swim 15 minutes later", || async { is_placed(&client, "Swim", "2026-06-09", &["at-41", "len-8"]).await }).await;
        // (The grid is swapped in after the move; focus returns to the event as it settles.)
        eventually("focus to stay on the moved event", || async {
            let focused = script(&client, "return document.activeElement.closest('.tg-event') ? document.activeElement.textContent : ''").await;
            focused.as_str().is_some_and(|text| text.contains("Swim"))
        })
        .await;
        press(&client, "\u{E008}\u{E00A}\u{E015}\u{E00A}\u{E008}").await; // Shift, Alt, ArrowDown
        eventually("Swim 15 minutes longer", || async { is_placed(&client, "Swim", "2026-06-09", &["at-41", "len-9"]).await }).await;
        assert!(page_was_not_reloaded(&client).await);
    })
    .await;
}

/// Deleting from the event page needs no confirmation: the toast offers to undo it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_then_undo() {
    flow("delete_then_undo", true, |client, base| async move {
        register(&client, &base, "gil").await;
        post_events(
            &client,
            json!([{ "title": "Haircut", "start": "2026-06-09T10:00", "end": "2026-06-09T10:30" }]),
        )
        .await;
        client.goto(&format!("{base}{WEEK}")).await.unwrap();
        eventually("Haircut", || async { is_placed(&client, "Haircut", "2026-06-09", &["at-40"]).await })
            .await;
        click(&client, ".tg-event .chip").await;
        eventually("the event page", || async { exists(&client, "button.danger").await }).await;
        click(&client, "button.danger").await;
        wait_for_path(&client, "/calendar/day/2026-06-09").await;
        eventually("the day without it", || async { !client.source().await.unwrap().contains("Haircut") })
            .await;
        toast_undo(&client).await;
        eventually("Haircut back", || async {
            is_placed(&client, "Haircut", "2026-06-09", &["at-40"]).await
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shortcut() {
    flow("every_shortcut", true, |client, base| async move {
        register(&client, &base, "hal").await;
        client.goto(&format!("{base}/calendar/month/2026-06-01")).await.unwrap();
        eventually("the month", || async { exists(&client, ".month-grid").await }).await;
        let body = || async { client.find(Locator::Css("body")).await.unwrap() };
        for (key, path) in [
            ("w", "/calendar/week/2026-06-01"),
            ("n", "/calendar/week/2026-06-08"),
            ("p", "/calendar/week/2026-06-01"),
            ("d", "/calendar/day/2026-06-01"),
            ("a", "/calendar/agenda/2026-06-01"),
            ("m", "/calendar/month/2026-06-01"),
        ] {
            body().await.send_keys(key).await.unwrap();
            wait_for_path(&client, path).await;
            eventually("the swap to settle", || async { exists(&client, "#calendar-title").await }).await;
        }
        body().await.send_keys("t").await.unwrap();
        eventually("today", || async {
            let path = path_of(&client).await;
            path.starts_with("/calendar/month/") && path != "/calendar/month/2026-06-01"
        })
        .await;
        // "?" lists them; Esc closes the list.
        body().await.send_keys("?").await.unwrap();
        eventually("the list", || async {
            script(&client, "return document.getElementById('shortcuts-help').open").await == json!(true)
        })
        .await;
        press(&client, "\u{E00C}").await; // Escape
        eventually("the list closed", || async {
            script(&client, "return document.getElementById('shortcuts-help').open").await == json!(false)
        })
        .await;
        body().await.send_keys("c").await.unwrap();
        wait_for_path(&client, "/events/new").await;
        // Never inside a text field: "n" and "/" are typed into the title.
        eventually("the form", || async { exists(&client, "#title").await }).await;
        client.find(Locator::Id("title")).await.unwrap().send_keys("n/a").await.unwrap();
        assert_eq!(value_of(&client, "title").await, "n/a");
        assert_eq!(path_of(&client).await, "/events/new");
        script(&client, "document.activeElement.blur()").await;
        body().await.send_keys("/").await.unwrap();
        wait_for_path(&client, "/search").await;
        eventually("the search box", || async { exists(&client, "#q").await }).await;
        script(&client, "document.activeElement.blur()").await;
        body().await.send_keys("/").await.unwrap();
        eventually("focus in the search box", || async {
            script(&client, "return document.activeElement.id").await == json!("q")
        })
        .await;
        // Esc closes the quick-create popover and gives focus back to where it came from.
        client.goto(&format!("{base}{WEEK}")).await.unwrap();
        eventually("the grid", || async { exists(&client, ".tg-add").await }).await;
        click(&client, ".tg-add").await;
        eventually("the popover", || async { exists(&client, ".quick-create").await }).await;
        press(&client, "\u{E00C}").await;
        eventually("the popover closed", || async { !exists(&client, ".quick-create").await }).await;
        assert_eq!(
            script(&client, "return document.activeElement.classList.contains('tg-add')").await,
            json!(true)
        );
    })
    .await;
}

/// Without JavaScript every one of those jobs has its form: the "+" of a day, the form
/// prefilled from a slot's link, the edit form to move, the delete page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_manipulation_has_forms_without_javascript() {
    flow("direct_manipulation_has_forms_without_javascript", false, |client, base| async move {
        register(&client, &base, "ivy").await;
        client.goto(&format!("{base}{WEEK}")).await.unwrap();
        assert!(!script(&client, "return !!document.querySelector('.shortcuts-button:not([hidden])')")
            .await
            .as_bool()
            .unwrap());
        click(&client, ".tg-day:nth-child(3) .tg-add").await;
        eventually("the form", || async { path_of(&client).await == "/events/new" }).await;
        assert_eq!(value_of(&client, "start").await, "2026-06-09T09:00");
        client
            .goto(&format!(
                "{base}/events/new?start=2026-06-09T10:00&end=2026-06-09T11:30&title=Swim&next={WEEK}"
            ))
            .await
            .unwrap();
        assert_eq!(value_of(&client, "title").await, "Swim");
        assert_eq!(value_of(&client, "end").await, "2026-06-09T11:30");
        click(&client, "#event-form button[type=submit]").await;
        wait_for_path(&client, WEEK).await;
        assert!(is_placed(&client, "Swim", "2026-06-09", &["at-40", "len-6"]).await);
        // Moved with the edit form.
        click(&client, ".tg-event .chip").await;
        click(&client, "a.button[href$='/edit']").await;
        super::set_times(&client, "2026-06-10T12:00", "2026-06-10T13:30").await;
        click(&client, "#event-form button[type=submit]").await;
        eventually("the event page", || async { exists(&client, "#event-title").await }).await;
        client.goto(&format!("{base}{WEEK}")).await.unwrap();
        assert!(is_placed(&client, "Swim", "2026-06-10", &["at-48", "len-6"]).await);
        // Deleted with the form.
        click(&client, ".tg-event .chip").await;
        click(&client, "button.danger").await;
        wait_for_path(&client, "/calendar/day/2026-06-10").await;
        assert!(!client.source().await.unwrap().contains("Swim"));
    })
    .await;
}
