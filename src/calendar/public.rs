//! A calendar's public link, as anyone with it sees it: its month and agenda (`/public/{token}`,
//! then `/public/{token}/{view}/{date}`) and its feed (`/public/{token}.ics`). No session: the
//! unguessable token is the key, looked up on every request so a reset or closed link stops
//! at once; what it renders is cached under the owner's generation, apart for whole and
//! busy-only links. Nothing of the owner but this calendar reaches the page, and nothing on
//! it links into the app: its events have no page a visitor could open.

use chrono::NaiveDate;
use rocket::http::Header;
use rocket::request::{FromParam, Request};
use rocket::response::content::RawHtml;
use rocket::response::{self, Responder};
use rocket::{Either, State};
use rocket_dyn_templates::Template;
use serde::Serialize;
use serde_json::json;

use super::layout::{self, ListedDay, MonthCell};
use super::{week_start_of, weekday_names, Day, Period, View, AGENDA_DAYS};
use crate::cache::{CacheKey, CacheScope, Fragment};
use crate::calendars::look::{CalendarLook, Chips};
use crate::clock::Clock;
use crate::domain::{time, Event, PublicCalendar, ReadScope};
use crate::error::AppError;
use crate::ical::export;
use crate::ical::{FeedToken, Ics, IfNoneMatch, FEED_REFRESH};
use crate::logging::Unlogged;
use crate::store::Store;
use crate::web::page::Page;
use crate::web::templates::{render_to_string, Fragments};

/// The views a public link offers: the month and the list of coming days.
const VIEWS: [View; 2] = [View::Month, View::Agenda];

/// The token in `/public/{token}` (no `.ics`: that is the feed's).
pub struct PublicToken(String);

impl<'a> FromParam<'a> for PublicToken {
    type Error = Unlogged;

    fn from_param(param: &'a str) -> Result<Self, Self::Error> {
        if crate::ical::is_token(param) {
            Ok(PublicToken(param.to_string()))
        } else {
            Err(Unlogged)
        }
    }
}

/// Asks search engines to leave the response out of their index, as the address itself is
/// the only key to it.
pub struct NoIndex<R>(R);

impl<'r, R: Responder<'r, 'static>> Responder<'r, 'static> for NoIndex<R> {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = self.0.respond_to(request)?;
        response.set_header(Header::new("X-Robots-Tag", "noindex, nofollow, noarchive"));
        Ok(response)
    }
}

type Shown = NoIndex<Either<RawHtml<String>, Template>>;

/// What the public page draws: the month (with a phone's chosen day) or the agenda.
#[derive(Serialize)]
struct PublicContext {
    view: &'static str,
    date: String,
    title: String,
    calendar: CalendarLook,
    busy: bool,
    /// `/public/{token}`: every link of the page stays under it.
    base: String,
    prev_url: String,
    next_url: String,
    today_url: String,
    views: Vec<PublicViewLink>,
    weekdays: Vec<&'static str>,
    weeks: Vec<Vec<MonthCell>>,
    chosen: Option<ListedDay>,
    days: Vec<ListedDay>,
    has_events: bool,
    agenda_days: i64,
    zone: &'static str,
}

#[derive(Serialize)]
struct PublicViewLink {
    name: &'static str,
    label: &'static str,
    url: String,
    current: bool,
}

fn context(
    base: String,
    public: &PublicCalendar,
    period: &Period,
    events: &[crate::domain::EventSummary],
    today: NaiveDate,
) -> PublicContext {
    let zone = public.zone();
    let url = |view: View, date: NaiveDate| format!("{base}/{}/{}", view.name(), date.format("%Y-%m-%d"));
    let look = CalendarLook::from(&public.calendar);
    let month = period.view == View::Month;
    let chips = Chips::new(std::slice::from_ref(&public.calendar)).unlinked();
    let days = if month { Vec::new() } else { layout::list(period, events, zone, today, &chips) };
    PublicContext {
        view: period.view.name(),
        date: period.date.format("%Y-%m-%d").to_string(),
        title: period.title.clone(),
        busy: !public.access().sees_details(),
        prev_url: url(period.view, period.prev),
        next_url: url(period.view, period.next),
        today_url: url(period.view, today),
        views: VIEWS
            .iter()
            .map(|v| PublicViewLink {
                name: v.name(),
                label: v.label(),
                url: url(*v, period.date),
                current: *v == period.view,
            })
            .collect(),
        weekdays: weekday_names(week_start_of(public.week_start)),
        weeks: if month { layout::month(period, events, zone, today, &chips) } else { Vec::new() },
        chosen: month.then(|| layout::one_day(period, events, zone, today, &chips)),
        has_events: days.iter().any(|d| !d.events.is_empty()),
        days,
        agenda_days: AGENDA_DAYS,
        zone: zone.name(),
        calendar: look,
        base,
    }
}

/// The calendar behind a token, or 404 (unknown, reset or closed link, or an inactive owner).
async fn opened(store: &Store, token: &str) -> Result<PublicCalendar, AppError> {
    store.calendar_by_public_token(token).await?.ok_or(AppError::NotFound)
}

#[allow(clippy::too_many_arguments, reason = "guards: each is one thing the view needs")]
async fn render(
    token: PublicToken,
    view: View,
    date: Option<NaiveDate>,
    page: Page,
    store: &Store,
    clock: &Clock,
    cache: CacheScope<'_>,
    templates: Fragments<'_>,
) -> Result<Shown, AppError> {
    if !VIEWS.contains(&view) {
        return Err(AppError::NotFound);
    }
    let public = opened(store, &token.0).await?;
    let zone = public.zone();
    let today = time::today(zone, clock.now());
    let period = Period::new(view, date.unwrap_or(today), week_start_of(public.week_start));
    let access = public.access();
    let which = format!("{}:{}:{}", view.name(), period.date.format("%Y-%m-%d"), today.format("%Y-%m-%d"));
    let key = CacheKey::public(public.calendar.user_id, public.calendar.id, access, &which);
    let fragment = cache
        .fetch(&key, || async {
            let (from, until) = period.query_range(zone);
            let events = store.events_between(&ReadScope::one(&public.calendar, access), from, until).await?;
            let context = context(format!("/public/{}", token.0), &public, &period, &events, today);
            let html = render_to_string(&templates, "public_fragment.html", &context)?;
            Ok(Fragment { title: format!("{} · {}", public.calendar.name, period.title), html })
        })
        .await?;
    Ok(NoIndex(page.fragment_or_page(fragment, "public.html", true, json!({}))))
}

/// The link itself opens this month.
#[rocket::get("/public/<token>", rank = 2)]
pub async fn this_month(
    token: PublicToken,
    page: Page,
    store: &State<Store>,
    clock: &State<Clock>,
    cache: CacheScope<'_>,
    templates: Fragments<'_>,
) -> Result<Shown, AppError> {
    render(token, View::Month, None, page, store, clock, cache, templates).await
}

#[allow(clippy::too_many_arguments, reason = "guards: each is one thing the view needs")]
#[rocket::get("/public/<token>/<view>/<day>")]
pub async fn show(
    token: PublicToken,
    view: View,
    day: Day,
    page: Page,
    store: &State<Store>,
    clock: &State<Clock>,
    cache: CacheScope<'_>,
    templates: Fragments<'_>,
) -> Result<Shown, AppError> {
    render(token, view, Some(day.0), page, store, clock, cache, templates).await
}

/// The calendar as a subscription feed: every event, or busy times alone.
#[rocket::get("/public/<token>", rank = 1)]
pub async fn feed(
    token: FeedToken,
    store: &State<Store>,
    cache: CacheScope<'_>,
    clock: &State<Clock>,
    if_none_match: IfNoneMatch,
) -> Result<NoIndex<Ics>, AppError> {
    let public = opened(store, &token.0).await?;
    let access = public.access();
    let calendar = &public.calendar;
    let key = CacheKey::public(calendar.user_id, calendar.id, access, "ics");
    let feed = cache
        .fetch(&key, || async {
            let mut events = store.calendar_events(calendar.user_id, calendar.id).await?;
            if !access.sees_details() {
                events = events.iter().map(Event::times_only).collect();
            }
            let about = export::Calendar {
                name: &calendar.name,
                color: Some(&calendar.color),
                refresh: Some(FEED_REFRESH),
            };
            Ok(Fragment {
                title: calendar.name.clone(),
                html: export::calendar(&events, &about, clock.now()),
            })
        })
        .await?;
    let max_age = Some(chrono::Duration::minutes(15));
    Ok(NoIndex(Ics { body: feed.html, filename: None, if_none_match: if_none_match.0, max_age }))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![this_month, show, feed]
}
