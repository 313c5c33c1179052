//! `/calendar/{view}/{date}`: a full page, or for htmx the `#calendar` region only. Both come
//! from the same URL, so every pushed URL is also a bookmark that works without JavaScript.

use rocket::response::content::RawHtml;
use rocket::response::Redirect;
use rocket::{Either, State};
use rocket_dyn_templates::Template;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::layout::{self, ListedDay, MonthCell, TimeGrid};
use super::{week_start_of, weekday_names, Day, Period, View};
use crate::auth::guard::CurrentUser;
use crate::cache::{CacheKey, CacheScope, Fragment};
use crate::calendars::look::{CalendarLook, Chips};
use crate::clock::Clock;
use crate::domain::time;
use crate::domain::time::text::iso_date;
use crate::domain::{Calendar, CalendarId, EventSummary, ReadScope};
use crate::error::AppError;
use crate::store::Store;
use crate::web::markup::Markup;
use crate::web::page::Page;
use crate::web::templates::{render_to_string, Fragments};

fn url(view: View, date: chrono::NaiveDate) -> String {
    format!("/calendar/{}/{}", view.name(), iso_date(date))
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
    templates: Fragments<'_>,
) -> Result<Either<RawHtml<String>, Template>, AppError> {
    let zone = user.user.zone();
    let today = time::today(zone, clock.now());
    let period = Period::new(view, day.0, week_start_of(user.user.week_start));
    let key = match view {
        View::Day => CacheKey::day(user.user.id, period.date, today),
        _ => CacheKey::range(user.user.id, view.name(), period.date, (period.first, period.last), today),
    };
    let fragment = cache
        .fetch(&key, || async {
            let (from, until) = period.query_range(zone);
            let calendars = store.visible_calendars(user.user.id).await?;
            let events = store.events_between(&ReadScope::shown(&calendars), from, until).await?;
            let context = context(&period, &events, &calendars, zone, today, user.user.week_start);
            let html = render_to_string(&templates, "calendar_fragment.html", &context)?;
            Ok(Fragment { title: period.title.clone(), html })
        })
        .await?;
    Ok(page.fragment_or_page(fragment, "calendar.html", true, json!({})))
}

/// What the calendar template draws; only the part of the view at hand is filled.
#[derive(Serialize)]
struct CalendarContext {
    view: &'static str,
    time_grid: bool,
    date: String,
    /// The focused day of the month grid: the chosen date when it is in view, else the 1st.
    active_date: String,
    title: String,
    prev_url: String,
    next_url: String,
    today_url: String,
    current_url: String,
    new_url: String,
    views: Vec<ViewLink>,
    weekdays: Vec<&'static str>,
    weeks: Vec<Vec<MonthCell>>,
    /// Under a phone's month grid: the chosen day's events.
    chosen: Option<ListedDay>,
    grid: Option<TimeGrid>,
    days: Vec<ListedDay>,
    has_events: bool,
    agenda_days: i64,
    zone: &'static str,
    sidebar: Vec<CalendarLook>,
    mini_title: String,
    /// Table rows made by `layout::mini_month`, from dates alone.
    mini_rows: Markup,
}

#[derive(Serialize)]
struct ViewLink {
    name: &'static str,
    label: &'static str,
    url: String,
    current: bool,
}

fn context(
    period: &Period,
    events: &[EventSummary],
    calendars: &[Calendar],
    zone: chrono_tz::Tz,
    today: NaiveDate,
    week_start: i16,
) -> CalendarContext {
    let view = period.view;
    let views = View::ALL
        .iter()
        .map(|v| ViewLink {
            name: v.name(),
            label: v.label(),
            url: url(*v, period.date),
            current: *v == view,
        })
        .collect();
    let in_view = period.first <= period.date && period.date <= period.last;
    let chips = Chips::new(calendars);
    let days =
        if view == View::Agenda { layout::list(period, events, zone, today, &chips) } else { Vec::new() };
    let (mini_title, mini_rows) = layout::mini_month(period.date, view, week_start_of(week_start), today);
    CalendarContext {
        view: view.name(),
        time_grid: view.is_time_grid(),
        date: iso_date(period.date),
        active_date: iso_date(if in_view { period.date } else { period.first }),
        title: period.title.clone(),
        prev_url: url(view, period.prev),
        next_url: url(view, period.next),
        today_url: url(view, today),
        current_url: url(view, period.date),
        // Back to this view once created ('/' and ':' need no escaping in a query).
        new_url: format!("/events/new?date={}&next={}", iso_date(period.date), url(view, period.date)),
        views,
        weekdays: weekday_names(week_start_of(week_start)),
        weeks: if view == View::Month {
            layout::month(period, events, zone, today, &chips)
        } else {
            Vec::new()
        },
        chosen: (view == View::Month).then(|| layout::one_day(period, events, zone, today, &chips)),
        grid: view.is_time_grid().then(|| {
            let movable: Vec<CalendarId> =
                calendars.iter().filter(|c| c.access.can_write()).map(|c| c.id).collect();
            layout::time_grid(period, events, zone, today, &movable, &chips)
        }),
        has_events: days.iter().any(|d| !d.events.is_empty()),
        days,
        agenda_days: super::AGENDA_DAYS,
        zone: zone.name(),
        sidebar: calendars.iter().map(CalendarLook::from).collect(),
        mini_title,
        mini_rows,
    }
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![current_month, show]
}
