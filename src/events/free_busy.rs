//! Free/busy on the new-event form: when, on the chosen day, the people who share at least
//! their busy times with the user are busy. One range read of times only (whatever the share
//! gives), cached per user and day like every view; each owner's write retires it with the
//! rest of the reader's views.

use chrono::{Duration, NaiveDate};
use rocket::response::content::RawHtml;
use rocket::State;
use serde::Serialize;

use crate::auth::guard::CurrentUser;
use crate::cache::{CacheKey, CacheScope, Fragment};
use crate::clock::Clock;
use crate::domain::time::{self, local_days};
use crate::domain::{Access, Calendar, EventSummary, ReadScope};
use crate::error::AppError;
use crate::store::Store;
use crate::web::templates::{render_to_string, Fragments};

/// One busy time of one person.
#[derive(Serialize)]
struct Busy {
    who: String,
    when: String,
}

#[derive(Serialize)]
struct FreeBusy {
    day: String,
    busy: Vec<Busy>,
}

fn busy(event: &EventSummary, calendars: &[Calendar], zone: chrono_tz::Tz, day: NaiveDate) -> Busy {
    let who = calendars
        .iter()
        .find(|c| c.id == event.calendar_id)
        .and_then(|c| c.owner_name.clone())
        .unwrap_or_default();
    let (first, last) = local_days(event, zone);
    let when = if event.all_day || (first < day && last > day) {
        "all day".to_string()
    } else {
        let (start, end) = (event.start_at.with_timezone(&zone), event.end_at.with_timezone(&zone));
        let from = if first < day { "00:00".to_string() } else { start.format("%H:%M").to_string() };
        let until = if last > day { "24:00".to_string() } else { end.format("%H:%M").to_string() };
        format!("{from}–{until}")
    };
    Busy { who, when }
}

/// The day's busy times as HTML (empty when nobody shares with the user).
pub async fn busy_on(
    store: &Store,
    cache: &CacheScope<'_>,
    templates: &Fragments<'_>,
    user: &CurrentUser,
    day: NaiveDate,
) -> Result<String, AppError> {
    let fragment = cache
        .fetch(&CacheKey::free_busy(user.user.id, day), || async {
            let mut calendars = store.visible_calendars(user.user.id).await?;
            calendars.retain(|c| c.access != Access::Own);
            if calendars.is_empty() {
                return Ok(Fragment { title: String::new(), html: String::new() });
            }
            let zone = user.user.zone();
            let (from, until) =
                (time::start_of_day(zone, day), time::start_of_day(zone, day + Duration::days(1)));
            let events = store.events_between(&ReadScope::times_only(&calendars), from, until).await?;
            let context = FreeBusy {
                day: day.format("%A, %-d %B").to_string(),
                busy: events.iter().map(|e| busy(e, &calendars, zone, day)).collect(),
            };
            let html = render_to_string(templates, "free_busy.html", &context)?;
            Ok(Fragment { title: String::new(), html })
        })
        .await?;
    Ok(fragment.html)
}

/// The form asks again when its start changes (htmx sends the field as typed).
#[rocket::get("/free-busy?<start>")]
pub async fn free_busy(
    start: Option<&str>,
    user: CurrentUser,
    store: &State<Store>,
    clock: &State<Clock>,
    cache: CacheScope<'_>,
    templates: Fragments<'_>,
) -> Result<RawHtml<String>, AppError> {
    let zone = user.user.zone();
    let typed = start.and_then(|s| s.get(..10)).and_then(time::parse_date);
    let day = typed.unwrap_or_else(|| time::today(zone, clock.now()));
    Ok(RawHtml(busy_on(store, &cache, &templates, &user, day).await?))
}
