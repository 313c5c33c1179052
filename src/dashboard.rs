//! `/`: today's events and the next 30 days, with the ways into the calendar.

use rocket::serde::json::json;
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::Value;

use crate::auth::guard::CurrentUser;
use crate::calendar::time;
use crate::clock::Clock;
use crate::error::AppError;
use crate::events;
use crate::store::{EventSummary, Store};
use crate::web::page::Page;

/// A busy calendar can hold hundreds of events a month; the dashboard lists the first ones
/// and points to the agenda for the rest.
const UPCOMING_SHOWN: usize = 50;

fn item(event: &EventSummary, zone: chrono_tz::Tz, today: chrono::NaiveDate) -> Value {
    let (first, last) = time::local_days(event, zone);
    let start = event.start_at.with_timezone(&zone);
    let day = if first == today { "Today".to_string() } else { first.format("%a %-d %b").to_string() };
    let when = match (event.all_day, first == last) {
        (true, true) => format!("{day}, all day"),
        (true, false) => format!("{day} – {}, all day", last.format("%a %-d %b")),
        (false, true) => {
            format!("{day}, {}–{}", start.format("%H:%M"), event.end_at.with_timezone(&zone).format("%H:%M"))
        }
        (false, false) => format!("{day} {} – {}", start.format("%H:%M"), last.format("%a %-d %b")),
    };
    json!({ "id": event.id.0, "title": event.title, "location": event.location, "when": when })
}

#[rocket::get("/")]
pub async fn home(
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    clock: &State<Clock>,
) -> Result<Template, AppError> {
    let zone = time::zone_of(&user.user);
    let today = time::today(zone, clock.now());
    let (today_events, upcoming) = events::upcoming(store, &user, today).await?;
    let context = json!({
        "today": today.format("%A, %-d %B %Y").to_string(),
        "today_date": today.format("%Y-%m-%d").to_string(),
        "time_zone": zone.name(),
        "today_events": today_events.iter().map(|e| item(e, zone, today)).collect::<Vec<_>>(),
        "upcoming": upcoming.iter().take(UPCOMING_SHOWN).map(|e| item(e, zone, today)).collect::<Vec<_>>(),
        "upcoming_more": upcoming.len().saturating_sub(UPCOMING_SHOWN),
    });
    let template = if page.htmx.fragment { "home_fragment.html" } else { "home.html" };
    Ok(page.render(template, context))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![home]
}
