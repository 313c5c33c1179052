//! The iCalendar downloads and feeds (imports are in `upload`), with the calendars shared
//! with the user (busy-only ones as times alone). Exports and feeds are cached per user like
//! every fragment (a write bumps the generation of the owner and of every reader); they
//! answer `If-None-Match` with 304.

use chrono::Duration;
use rocket::response::{Flash, Redirect};
use rocket::State;
use serde::Serialize;

use super::export::{calendar, Calendar};
use super::{new_feed_token, FeedToken, Ics, IcsEventId, IfNoneMatch, FEED_REFRESH};
use crate::auth::csrf;
use crate::auth::guard::CurrentUser;
use crate::auth::routes::TokenOnly;
use crate::cache::{CacheKey, CacheScope, Fragment};
use crate::clock::Clock;
use crate::domain::{Access, CalendarId, Event, EventId, Sources, UserId};
use crate::error::AppError;
use crate::store::Store;
use crate::web::public_url::PublicUrl;
use crate::writes::Writes;

/// What an export holds: all of a user's events, one calendar's, or one event with its
/// edited occurrences.
#[derive(Clone, Copy)]
enum Exported {
    All,
    Calendar(CalendarId),
    Event(EventId),
}

impl Exported {
    /// Its part of the cache key (the user's generation in the key does the rest).
    fn key(self, feed: bool) -> String {
        let prefix = if feed { "feed" } else { "file" };
        match self {
            Exported::All => format!("{prefix}-all"),
            Exported::Calendar(id) => format!("{prefix}-calendar-{}", id.0),
            Exported::Event(id) => format!("{prefix}-event-{}", id.0),
        }
    }
}

/// Renders what `reader` may export of `events` through the cache, named `name` (one
/// calendar is named and coloured as the reader sees it, read on a miss, so a hit costs no
/// query). Calendars shared with the reader are in it; a busy-only one gives times alone.
/// The fragment's title is the name the file went out under.
async fn cached_calendar(
    cache: &CacheScope<'_>,
    store: &Store,
    reader: UserId,
    events: Exported,
    name: &str,
    refresh: Option<Duration>,
    clock: &Clock,
) -> Result<Fragment, AppError> {
    let key = CacheKey::calendar(reader, &events.key(refresh.is_some()));
    cache
        .fetch(&key, || async {
            let (events, one) = match events {
                Exported::Event(id) => (exported_event(store, reader, id).await?, None),
                Exported::Calendar(id) => {
                    let one = store.calendar_seen_by(reader, id).await?.ok_or(AppError::NotFound)?;
                    let events = store.calendar_events(one.user_id, id).await?;
                    (as_seen(events, &[&one]), Some(one))
                }
                Exported::All => {
                    let calendars = store.visible_calendars(reader).await?;
                    let shared: Vec<&crate::domain::Calendar> =
                        calendars.iter().filter(|c| c.access != Access::Own).collect();
                    let mut events = store.all_events(reader).await?;
                    events.extend(as_seen(
                        store.events_of(&Sources::of(shared.iter().copied())).await?,
                        &shared,
                    ));
                    (events, None)
                }
            };
            let about = match &one {
                Some(one) => Calendar { name: &one.name, color: Some(&one.color), refresh },
                None => Calendar { name, color: None, refresh },
            };
            Ok(Fragment { title: about.name.to_string(), html: calendar(&events, &about, clock.now()) })
        })
        .await
}

/// One event with its edited occurrences, if the reader may read it in full (a busy-only
/// reader may not: 404, as for a missing one).
async fn exported_event(store: &Store, reader: UserId, id: EventId) -> Result<Vec<Event>, AppError> {
    let (event, access) = store.event_seen_by(reader, id).await?.ok_or(AppError::NotFound)?;
    if !access.sees_details() {
        return Err(AppError::NotFound);
    }
    let mut events = store.overrides_of(event.user_id, event.id).await?;
    events.insert(0, event);
    Ok(events)
}

/// The events as their reader may have them: whole, or times only from a busy-only calendar.
fn as_seen(events: Vec<Event>, calendars: &[&crate::domain::Calendar]) -> Vec<Event> {
    events
        .into_iter()
        .map(|event| {
            let busy = calendars.iter().any(|c| c.id == event.calendar_id && !c.access.sees_details());
            if busy {
                event.times_only()
            } else {
                event
            }
        })
        .collect()
}

fn everything(username: &str) -> String {
    format!("Eventide: {username}")
}

#[rocket::get("/export.ics")]
pub async fn export_all(
    user: CurrentUser,
    store: &State<Store>,
    cache: CacheScope<'_>,
    clock: &State<Clock>,
    if_none_match: IfNoneMatch,
) -> Result<Ics, AppError> {
    let name = everything(&user.user.username);
    let body = cached_calendar(&cache, store, user.user.id, Exported::All, &name, None, clock).await?.html;
    Ok(Ics { body, filename: Some("eventide.ics".into()), if_none_match: if_none_match.0, max_age: None })
}

/// One calendar, named and coloured, as a file.
#[rocket::get("/calendars/<id>/export.ics")]
pub async fn export_calendar(
    id: CalendarId,
    user: CurrentUser,
    store: &State<Store>,
    cache: CacheScope<'_>,
    clock: &State<Clock>,
    if_none_match: IfNoneMatch,
) -> Result<Ics, AppError> {
    let file = cached_calendar(&cache, store, user.user.id, Exported::Calendar(id), "", None, clock).await?;
    let filename = Some(format!("{}.ics", file_name(&file.title)));
    Ok(Ics { body: file.html, filename, if_none_match: if_none_match.0, max_age: None })
}

/// A calendar's name as a download's file name: ASCII letters, digits and dashes only, since
/// the name goes into a header.
fn file_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out: String = out.trim_end_matches('-').chars().take(60).collect();
    if out.is_empty() {
        "calendar".into()
    } else {
        out
    }
}

#[rocket::get("/events/<id>", rank = 5)]
pub async fn export_event(
    id: IcsEventId,
    user: CurrentUser,
    store: &State<Store>,
    cache: CacheScope<'_>,
    clock: &State<Clock>,
    if_none_match: IfNoneMatch,
) -> Result<Ics, AppError> {
    let event = Exported::Event(id.0);
    let body = cached_calendar(&cache, store, user.user.id, event, "Eventide", None, clock).await?.html;
    let filename = Some(format!("event-{}.ics", id.0 .0));
    Ok(Ics { body, filename, if_none_match: if_none_match.0, max_age: None })
}

/// The subscription feeds: no session, the unguessable token is the key. A user's token
/// opens all their calendars, a calendar's token that calendar; an unknown or reset token,
/// or a deactivated account, is a plain 404.
#[rocket::get("/feeds/<token>")]
pub async fn feed(
    token: FeedToken,
    store: &State<Store>,
    cache: CacheScope<'_>,
    clock: &State<Clock>,
    if_none_match: IfNoneMatch,
) -> Result<Ics, AppError> {
    let refresh = Some(FEED_REFRESH);
    let feed = if let Some(user) = store.user_by_feed_token(&token.0).await? {
        let name = everything(&user.username);
        cached_calendar(&cache, store, user.id, Exported::All, &name, refresh, clock).await?
    } else {
        let one = store.calendar_by_feed_token(&token.0).await?.ok_or(AppError::NotFound)?;
        cached_calendar(&cache, store, one.user_id, Exported::Calendar(one.id), "", refresh, clock).await?
    };
    let body = feed.html;
    let max_age = Some(Duration::minutes(15));
    Ok(Ics { body, filename: None, if_none_match: if_none_match.0, max_age })
}

/// Creates the feed URL, or replaces it (the old one stops working at once).
#[rocket::post("/account/feed", data = "<_form>")]
pub async fn reset_feed(
    _form: csrf::CsrfForm<TokenOnly>,
    user: CurrentUser,
    store: &State<Store>,
) -> Result<Flash<Redirect>, AppError> {
    let had_one = store.feed_token(user.user.id).await?.is_some();
    store.set_feed_token(user.user.id, &new_feed_token()).await?;
    Ok(Flash::success(Redirect::to("/account#feed"), feed_message(had_one)))
}

fn feed_message(had_one: bool) -> &'static str {
    if had_one {
        "The feed has a new address; the old one no longer works."
    } else {
        "The feed is ready."
    }
}

/// Creates the calendar's own feed URL, or replaces it.
#[rocket::post("/calendars/<id>/feed", data = "<_form>")]
pub async fn reset_calendar_feed(
    id: CalendarId,
    _form: csrf::CsrfForm<TokenOnly>,
    user: CurrentUser,
    store: &State<Store>,
    writes: Writes<'_>,
) -> Result<Flash<Redirect>, AppError> {
    let owned = store.calendar_for(user.user.id, id).await?.ok_or(AppError::NotFound)?;
    if !writes.set_calendar_feed_token(user.user.id, id, &new_feed_token()).await? {
        return Err(AppError::NotFound);
    }
    let to = format!("/calendars#calendar-{}", id.0);
    Ok(Flash::success(Redirect::to(to), feed_message(owned.feed_token.is_some())))
}

/// A feed's addresses: `https://...` and `webcal://...`.
#[derive(Debug, Clone, Serialize)]
pub struct FeedLinks {
    pub url: String,
    pub webcal: String,
}

impl FeedLinks {
    pub fn new(token: &str, public_url: &PublicUrl) -> FeedLinks {
        let path = format!("/feeds/{token}.ics");
        FeedLinks { url: public_url.join(&path), webcal: public_url.webcal(&path) }
    }
}

/// The user's own feed, for the account page.
pub async fn feed_links(
    store: &Store,
    user: UserId,
    public_url: &PublicUrl,
) -> Result<Option<FeedLinks>, AppError> {
    Ok(store.feed_token(user).await?.map(|token| FeedLinks::new(&token, public_url)))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![
        export_all,
        export_calendar,
        export_event,
        feed,
        reset_feed,
        reset_calendar_feed,
        super::upload::import_page,
        super::upload::import_post
    ]
}
