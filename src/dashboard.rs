//! `/`: today's events and the next 30 days, with the ways into the calendar.

use chrono::NaiveDate;
use rocket::response::content::RawHtml;
use rocket::serde::json::json;
use rocket::{Either, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use crate::auth::guard::CurrentUser;
use crate::cache::{CacheKey, CacheScope, Fragment};
use crate::calendar::layout::{self, EventView};
use crate::calendars::look::Chips;
use crate::clock::Clock;
use crate::domain::time;
use crate::domain::time::text::{iso_date, long_date};
use crate::domain::EventSummary;
use crate::error::AppError;
use crate::events;
use crate::store::Store;
use crate::web::page::Page;
use crate::web::templates::{render_to_string, Fragments};

/// A busy calendar can hold hundreds of events a month; the dashboard lists the first ones
/// and points to the agenda for the rest.
const UPCOMING_SHOWN: usize = 50;

/// An event on the dashboard: when it is, in words, and its chip.
#[derive(Serialize)]
struct Item {
    when: String,
    #[serde(flatten)]
    event: EventView,
}

fn item(event: &EventSummary, zone: chrono_tz::Tz, today: NaiveDate, chips: &Chips) -> Item {
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
    Item { when, event: layout::listed(event, zone, chips) }
}

#[derive(Serialize)]
struct Dashboard {
    today: String,
    today_date: String,
    time_zone: &'static str,
    today_events: Vec<Item>,
    upcoming: Vec<Item>,
    upcoming_more: usize,
}

#[rocket::get("/")]
pub async fn home(
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    clock: &State<Clock>,
    cache: CacheScope<'_>,
    templates: Fragments<'_>,
) -> Result<Either<RawHtml<String>, Template>, AppError> {
    let zone = user.user.zone();
    let today = time::today(zone, clock.now());
    let fragment = cache
        .fetch(&CacheKey::upcoming(user.user.id, today), || async {
            let context = dashboard(store, &user, zone, today).await?;
            let html = render_to_string(&templates, "home_fragment.html", &context)?;
            Ok(Fragment { title: "Dashboard".into(), html })
        })
        .await?;
    Ok(page.fragment_or_page(fragment, "home.html", false, json!({})))
}

async fn dashboard(
    store: &Store,
    user: &CurrentUser,
    zone: chrono_tz::Tz,
    today: NaiveDate,
) -> Result<Dashboard, AppError> {
    let calendars = store.visible_calendars(user.user.id).await?;
    let chips = Chips::new(&calendars);
    let (today_events, upcoming) = events::upcoming(store, user, &calendars, today).await?;
    Ok(Dashboard {
        today: long_date(today),
        today_date: iso_date(today),
        time_zone: zone.name(),
        today_events: today_events.iter().map(|e| item(e, zone, today, &chips)).collect(),
        upcoming: upcoming.iter().take(UPCOMING_SHOWN).map(|e| item(e, zone, today, &chips)).collect(),
        upcoming_more: upcoming.len().saturating_sub(UPCOMING_SHOWN),
    })
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![home]
}
