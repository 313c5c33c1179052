//! The iCalendar routes. Exports and the feed are cached per user like every fragment (a
//! write bumps the user's generation); the feed answers `If-None-Match` with 304.

use chrono_tz::Tz;
use rocket::data::{self, Data, FromData};
use rocket::form::{Form, FromForm};
use rocket::fs::TempFile;
use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{Flash, Redirect};
use rocket::State;
use rocket_dyn_templates::Template;
use serde_json::json;
use tokio::io::AsyncReadExt;

use super::export::{calendar, Calendar};
use super::import::{self, Outcome, Plan};
use super::limit::ImportLimits;
use super::{new_feed_token, FeedToken, Ics, IcsEventId, IfNoneMatch, FEED_REFRESH};
use crate::auth::csrf;
use crate::auth::guard::CurrentUser;
use crate::auth::routes::TokenOnly;
use crate::cache::{CacheKey, CacheScope, Fragment};
use crate::calendar::time;
use crate::calendars::look::CalendarLook;
use crate::clock::Clock;
use crate::error::AppError;
use crate::kv::Backends;
use crate::store::{CalendarId, Store, UserId};
use crate::web::page::Page;
use crate::web::public_url::PublicUrl;
use crate::writes::Writes;

/// Renders `owner`'s events (all, or one event with its edited occurrences) through the cache.
async fn cached_calendar(
    cache: &CacheScope<'_>,
    store: &Store,
    owner: UserId,
    which: &str,
    about: Calendar<'_>,
    clock: &Clock,
) -> Result<String, AppError> {
    let fragment = cache
        .fetch(&CacheKey::calendar(owner, which), || async {
            let events = match which.parse::<i64>() {
                Ok(id) => {
                    let event =
                        store.event_for(owner, crate::store::EventId(id)).await?.ok_or(AppError::NotFound)?;
                    let mut events = store.overrides_of(owner, event.id).await?;
                    events.insert(0, event);
                    events
                }
                Err(_) => store.all_events(owner).await?,
            };
            Ok(Fragment { title: about.name.to_string(), html: calendar(&events, &about, clock.now()) })
        })
        .await?;
    Ok(fragment.html)
}

#[rocket::get("/export.ics")]
pub async fn export_all(
    user: CurrentUser,
    store: &State<Store>,
    cache: CacheScope<'_>,
    clock: &State<Clock>,
    if_none_match: IfNoneMatch,
) -> Result<Ics, AppError> {
    let name = format!("Eventide: {}", user.user.username);
    let about = Calendar { name: &name, refresh: None };
    let body = cached_calendar(&cache, store, user.user.id, "all", about, clock).await?;
    Ok(Ics { body, filename: Some("eventide.ics".into()), if_none_match: if_none_match.0, max_age: None })
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
    let which = id.0 .0.to_string();
    let about = Calendar { name: "Eventide", refresh: None };
    let body = cached_calendar(&cache, store, user.user.id, &which, about, clock).await?;
    let filename = Some(format!("event-{which}.ics"));
    Ok(Ics { body, filename, if_none_match: if_none_match.0, max_age: None })
}

/// The subscription feed: no session, the unguessable token is the key; an unknown or reset
/// token, or a deactivated account, is a plain 404.
#[rocket::get("/feeds/<token>")]
pub async fn feed(
    token: FeedToken,
    store: &State<Store>,
    cache: CacheScope<'_>,
    clock: &State<Clock>,
    if_none_match: IfNoneMatch,
) -> Result<Ics, AppError> {
    let user = store.user_by_feed_token(&token.0).await?.ok_or(AppError::NotFound)?;
    let name = format!("Eventide: {}", user.username);
    let about = Calendar { name: &name, refresh: Some(FEED_REFRESH) };
    let body = cached_calendar(&cache, store, user.id, "feed", about, clock).await?;
    let max_age = Some(chrono::Duration::minutes(15));
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
    let message = if had_one {
        "Your feed has a new address; the old one no longer works."
    } else {
        "Your feed is ready."
    };
    Ok(Flash::success(Redirect::to("/account#feed"), message))
}

/// The feed's addresses for the account page: `https://...` and `webcal://...`.
pub async fn feed_links(
    store: &Store,
    user: UserId,
    public_url: &PublicUrl,
) -> Result<Option<(String, String)>, AppError> {
    let Some(token) = store.feed_token(user).await? else { return Ok(None) };
    let path = format!("/feeds/{token}.ics");
    Ok(Some((public_url.join(&path), public_url.webcal(&path))))
}

/// Multipart import form: the file to preview, or the token of a previewed file to import.
#[derive(FromForm)]
pub struct ImportForm<'r> {
    #[field(default = String::new())]
    csrf_token: String,
    /// A `Result`, not an `Option`: an `Option` would turn a file over the limit into "no
    /// file" (a 422), where the answer is 413.
    file: rocket::form::Result<'r, TempFile<'r>>,
    #[field(default = String::new())]
    upload: String,
    /// Where new events go; empty: the default calendar.
    #[field(default = String::new())]
    calendar_id: String,
}

/// A multipart form whose CSRF token (field or header) is checked before it is used.
pub struct CsrfMultipart<'r>(ImportForm<'r>);

#[rocket::async_trait]
impl<'r> FromData<'r> for CsrfMultipart<'r> {
    type Error = ();

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, ()> {
        let form = match <Form<ImportForm<'r>> as FromData<'r>>::from_data(request, data).await {
            data::Outcome::Success(form) => form.into_inner(),
            data::Outcome::Error((status, _)) => return data::Outcome::Error((status, ())),
            data::Outcome::Forward((data, status)) => return data::Outcome::Forward((data, status)),
        };
        let supplied = request.headers().get_one(csrf::HEADER).or(Some(form.csrf_token.as_str()));
        match csrf::check(request, supplied).await {
            Ok(()) => data::Outcome::Success(CsrfMultipart(form)),
            Err(status) => data::Outcome::Error((status, ())),
        }
    }
}

#[rocket::get("/import")]
pub async fn import_page(user: CurrentUser, page: Page, store: &State<Store>) -> Result<Template, AppError> {
    let calendars = calendar_choices(store, user.user.id).await?;
    let context =
        json!({ "events": [], "failures": [], "upload": "", "imported": false, "calendars": calendars });
    Ok(page.render("import.html", context))
}

/// The calendars an import can go to, for the form's choice.
async fn calendar_choices(store: &Store, owner: UserId) -> Result<Vec<CalendarLook>, AppError> {
    Ok(store.calendars_of(owner).await?.iter().map(CalendarLook::from).collect())
}

/// One waiting upload per user (a new preview replaces it), so previews cannot pile up in
/// the sessions store, which never evicts. The value is `{upload id}\n{file}`.
fn stash_key(user: UserId) -> String {
    format!("import:{}", user.0)
}

/// The previewed file, if `upload` names the one waiting.
async fn stashed_upload(backends: &Backends, user: UserId, upload: &str) -> Result<Option<String>, AppError> {
    let stashed = backends.sessions.get(&stash_key(user)).await?;
    let text = stashed.and_then(|bytes| String::from_utf8(bytes).ok());
    Ok(text
        .and_then(|t| t.split_once('\n').filter(|(id, _)| *id == upload).map(|(_, file)| file.to_string())))
}

/// An upload waits this long between its preview and its import.
const STASH_TTL: std::time::Duration = std::time::Duration::from_secs(30 * 60);

async fn read_upload(file: &TempFile<'_>) -> Result<String, String> {
    let mut bytes = Vec::new();
    let mut reader = file.open().await.map_err(|_| "The file could not be read.".to_string())?;
    reader.read_to_end(&mut bytes).await.map_err(|_| "The file could not be read.".to_string())?;
    String::from_utf8(bytes)
        .map_err(|_| "The file is not UTF-8 text, so it is not an iCalendar file.".to_string())
}

/// Reads and plans `text` against the user's events as they are now. The parsing and
/// planning run on the blocking pool: they grow with the file and must not hold an async
/// worker (every other request shares those).
async fn plan_for(
    store: &Store,
    user: &CurrentUser,
    text: String,
    zone: Tz,
    calendar: CalendarId,
) -> Result<Result<Plan, String>, AppError> {
    let existing = store.all_events(user.user.id).await?;
    let planned = tokio::task::spawn_blocking(move || {
        let (events, failures) =
            import::read(&text, zone).map_err(|e| format!("{}.", capitalise(&e.to_string())))?;
        Ok(import::plan(events, failures, &existing, zone, calendar))
    });
    planned.await.map_err(|e| AppError::Internal(format!("import planning stopped: {e}")))
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn plan_context(
    plan: &Plan,
    upload: &str,
    imported: bool,
    calendar: CalendarId,
    calendars: &[CalendarLook],
) -> serde_json::Value {
    json!({
        "calendar_id": calendar.0,
        "calendars": calendars,
        "events": plan.events,
        "failures": plan.failures,
        "upload": upload,
        "imported": imported,
        "creates": plan.count(Outcome::Create),
        "updates": plan.count(Outcome::Update),
        "unchanged": plan.count(Outcome::Unchanged),
        "changes": plan.count(Outcome::Create) + plan.count(Outcome::Update),
    })
}

/// The calendar an import names (the user's own: another user's is a 404), or the default.
async fn import_calendar(store: &Store, owner: UserId, typed: &str) -> Result<CalendarId, AppError> {
    match typed.trim() {
        "" => Ok(store.default_calendar(owner).await?.id),
        id => {
            let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
            let calendar = store.calendar_for(owner, CalendarId(id)).await?;
            calendar.map(|c| c.id).ok_or(AppError::NotFound)
        }
    }
}

/// With a file: the preview (nothing written). With `upload`: the import, in one transaction,
/// of the file previewed, checked again against the calendar as it is now.
#[rocket::post("/import", data = "<form>")]
pub async fn import_post(
    form: CsrfMultipart<'_>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    writes: Writes<'_>,
    backends: &State<Backends>,
    limits: &State<ImportLimits>,
) -> Result<(Status, Template), AppError> {
    let form = form.0;
    let zone = time::zone_of(&user.user);
    let calendar = import_calendar(store, user.user.id, &form.calendar_id).await?;
    let calendars = calendar_choices(store, user.user.id).await?;
    let refuse = |status: Status, message: &str| {
        let context = json!({ "error": message, "events": [], "failures": [], "upload": "", "imported": false,
                              "calendars": calendars, "calendar_id": calendar.0 });
        page.render_status(status, "import.html", context)
    };
    let error = |message: String| refuse(Status::UnprocessableEntity, &message);
    let Some(_slot) = limits.claim(user.user.id).await else {
        let message = "Another import of yours is still running. Try again when it has finished.";
        return Ok(refuse(Status::TooManyRequests, message));
    };
    if !form.upload.is_empty() {
        let Some(text) = stashed_upload(backends, user.user.id, &form.upload).await? else {
            return Ok(error("That preview has expired. Choose the file again.".into()));
        };
        let plan = match plan_for(store, &user, text, zone, calendar).await? {
            Ok(plan) => plan,
            Err(message) => return Ok(error(message)),
        };
        let context = plan_context(&plan, "", true, calendar, &calendars);
        writes.apply(user.user.id, plan.changes).await?;
        backends.sessions.delete(&stash_key(user.user.id)).await.ok();
        return Ok(page.render_status(Status::Ok, "import.html", context));
    }
    let file = match form.file {
        Ok(file) if file.len() > 0 => file,
        Err(errors) if errors.status() == Status::PayloadTooLarge => {
            let message =
                "The file is larger than this server imports at once. Split it, or export fewer events.";
            return Ok(refuse(Status::PayloadTooLarge, message));
        }
        _ => return Ok(error("Choose an .ics file to import.".into())),
    };
    let text = match read_upload(&file).await {
        Ok(text) => text,
        Err(message) => return Ok(error(message)),
    };
    let plan = match plan_for(store, &user, text.clone(), zone, calendar).await? {
        Ok(plan) => plan,
        Err(message) => return Ok(error(message)),
    };
    let upload = hex::encode(rand::random::<[u8; 16]>());
    let stashed = format!("{upload}\n{text}");
    backends.sessions.set(&stash_key(user.user.id), stashed.as_bytes(), STASH_TTL).await?;
    Ok(page.render_status(
        Status::Ok,
        "import.html",
        plan_context(&plan, &upload, false, calendar, &calendars),
    ))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![export_all, export_event, feed, reset_feed, import_page, import_post]
}
