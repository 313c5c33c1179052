//! `/calendar/{view}/{date}`: a full page, or for htmx the `#calendar` region only. Both come
//! from the same URL, so every pushed URL is also a bookmark that works without JavaScript.

use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{Either, State};
use rocket_dyn_templates::Metadata;
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use super::{lay_out, week_start_of, weekday_names, Day, Period, View, MONTH_CELL_EVENTS};
use crate::auth::guard::CurrentUser;
use crate::cache::{CacheKey, CacheScope, Fragment};
use crate::calendars::look::{looks, CalendarLook};
use crate::clock::Clock;
use crate::domain::time;
use crate::domain::EventSummary;
use crate::error::AppError;
use crate::store::Store;
use crate::web::page::Page;
use crate::web::templates::render_to_string;

fn url(view: View, date: chrono::NaiveDate) -> String {
    format!("/calendar/{}/{}", view.name(), date.format("%Y-%m-%d"))
}

#[rocket::get("/calendar")]
pub fn current_month(user: CurrentUser, clock: &State<Clock>) -> Redirect {
    let today = time::today(user.user.zone(), clock.now());
    Redirect::to(url(View::Month, today))
}

#[allow(clippy::too_many_arguments, reason = "guards: each is one thing the view needs")]
#[rocket::get("/calendar/<view>/<day>")]
pub async fn show(
    view: View,
    day: Day,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    clock: &State<Clock>,
    cache: CacheScope<'_>,
    templates: Metadata<'_>,
) -> Result<Either<RawHtml<String>, Template>, AppError> {
    let zone = user.user.zone();
    let today = time::today(zone, clock.now());
    let period = Period::new(view, day.0, week_start_of(user.user.week_start));
    let key = match view {
        View::Day => CacheKey::day(user.user.id, period.date, today),
        _ => CacheKey::range(user.user.id, view.name(), period.date, today),
    };
    let fragment = cache
        .fetch(&key, || async {
            let (from, until) = period.query_range(zone);
            let calendars = store.calendars_of(user.user.id).await?;
            let events = store.events_between(user.user.id, from, until).await?;
            let mut context = context(&period, &events, zone, today, user.user.week_start);
            if let Some(map) = context.as_object_mut() {
                map.insert("looks".into(), json!(looks(&calendars)));
                let sidebar: Vec<CalendarLook> = calendars.iter().map(CalendarLook::from).collect();
                map.insert("sidebar".into(), json!(sidebar));
            }
            let html = render_to_string(&templates, "calendar_fragment.html", &context)?;
            Ok(Fragment { title: period.title.clone(), html })
        })
        .await?;
    Ok(page.fragment_or_page(fragment, "calendar.html", true, json!({})))
}

fn context(
    period: &Period,
    events: &[EventSummary],
    zone: chrono_tz::Tz,
    today: chrono::NaiveDate,
    week_start: i16,
) -> Value {
    let limit = (period.view == View::Month).then_some(MONTH_CELL_EVENTS);
    let days = lay_out(period, events, zone, today, limit);
    let views: Vec<Value> = View::ALL
        .iter()
        .map(|v| json!({ "name": v.name(), "url": url(*v, period.date), "current": *v == period.view }))
        .collect();
    let weeks: Vec<&[super::DayView]> =
        if period.view == View::Month { days.chunks(7).collect() } else { Vec::new() };
    // The focused day of the month grid: the chosen date when it is in view, else the 1st.
    let active = if days.iter().any(|d| d.date == period.date.format("%Y-%m-%d").to_string()) {
        period.date
    } else {
        period.first
    };
    json!({
        "view": period.view.name(),
        "date": period.date.format("%Y-%m-%d").to_string(),
        "active_date": active.format("%Y-%m-%d").to_string(),
        "title": period.title,
        "prev_url": url(period.view, period.prev),
        "next_url": url(period.view, period.next),
        "today_url": url(period.view, today),
        "current_url": url(period.view, period.date),
        // Back to this view once created ('/' and ':' need no escaping in a query).
        "new_url": format!("/events/new?date={}&next={}", period.date.format("%Y-%m-%d"), url(period.view, period.date)),
        "views": views,
        "weekdays": weekday_names(week_start_of(week_start)),
        "weeks": weeks,
        "days": days,
        "hours": (0..24).collect::<Vec<u32>>(),
        "has_events": days.iter().any(|d| !d.events.is_empty()),
        "agenda_days": super::AGENDA_DAYS,
        "zone": zone.name(),
    })
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![current_month, show]
}
