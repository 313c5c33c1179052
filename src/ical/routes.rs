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
use serde::Serialize;
use tokio::io::AsyncReadExt;

use super::export::{calendar, Calendar};
use super::import::{self, Failure, FileCalendar, Outcome, Plan, PlannedEvent, ReadFile};
use super::limit::ImportLimits;
use super::{new_feed_token, FeedToken, Ics, IcsEventId, IfNoneMatch, FEED_REFRESH};
use crate::auth::csrf;
use crate::auth::guard::CurrentUser;
use crate::auth::routes::TokenOnly;
use crate::cache::{CacheKey, CacheScope, Fragment};
use crate::calendars::look::{tone, CalendarLook, PALETTE};
use crate::calendars::NAME_MAX;
use crate::clock::Clock;
use crate::domain::text::strip_controls;
use crate::domain::{CalendarDraft, CalendarId, EventId, UserId};
use crate::error::AppError;
use crate::kv::Backends;
use crate::store::Store;
use crate::web::page::Page;
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

/// Renders `owner`'s `events` through the cache.
async fn cached_calendar(
    cache: &CacheScope<'_>,
    store: &Store,
    owner: UserId,
    events: Exported,
    about: Calendar<'_>,
    clock: &Clock,
) -> Result<String, AppError> {
    let key = CacheKey::calendar(owner, &events.key(about.refresh.is_some()));
    let fragment = cache
        .fetch(&key, || async {
            let events = match events {
                Exported::Event(id) => {
                    let event = store.event_for(owner, id).await?.ok_or(AppError::NotFound)?;
                    let mut events = store.overrides_of(owner, event.id).await?;
                    events.insert(0, event);
                    events
                }
                Exported::Calendar(id) => store.calendar_events(owner, id).await?,
                Exported::All => store.all_events(owner).await?,
            };
            Ok(Fragment { title: about.name.to_string(), html: calendar(&events, &about, clock.now()) })
        })
        .await?;
    Ok(fragment.html)
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
    let about = Calendar { name: &name, color: None, refresh: None };
    let body = cached_calendar(&cache, store, user.user.id, Exported::All, about, clock).await?;
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
    let owned = store.calendar_for(user.user.id, id).await?.ok_or(AppError::NotFound)?;
    let about = Calendar { name: &owned.name, color: Some(&owned.color), refresh: None };
    let body = cached_calendar(&cache, store, user.user.id, Exported::Calendar(id), about, clock).await?;
    let filename = Some(format!("{}.ics", file_name(&owned.name)));
    Ok(Ics { body, filename, if_none_match: if_none_match.0, max_age: None })
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
    let about = Calendar { name: "Eventide", color: None, refresh: None };
    let body = cached_calendar(&cache, store, user.user.id, Exported::Event(id.0), about, clock).await?;
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
    let body = if let Some(user) = store.user_by_feed_token(&token.0).await? {
        let name = everything(&user.username);
        let about = Calendar { name: &name, color: None, refresh: Some(FEED_REFRESH) };
        cached_calendar(&cache, store, user.id, Exported::All, about, clock).await?
    } else {
        let one = store.calendar_by_feed_token(&token.0).await?.ok_or(AppError::NotFound)?;
        let about = Calendar { name: &one.name, color: Some(&one.color), refresh: Some(FEED_REFRESH) };
        cached_calendar(&cache, store, one.user_id, Exported::Calendar(one.id), about, clock).await?
    };
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

/// Where an import's new events go: one of the user's calendars, or a new calendar named and
/// coloured as the file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Existing(CalendarId),
    New,
}

impl Target {
    /// The form's value for it.
    fn value(self) -> String {
        match self {
            Target::Existing(id) => id.0.to_string(),
            Target::New => NEW_CALENDAR.into(),
        }
    }
}

const NEW_CALENDAR: &str = "new";

/// The calendar an import names (the user's own: another user's is a 404), a new one, or the
/// default.
async fn import_target(store: &Store, owner: UserId, typed: &str) -> Result<Target, AppError> {
    match typed.trim() {
        "" => Ok(Target::Existing(store.default_calendar(owner).await?.id)),
        NEW_CALENDAR => Ok(Target::New),
        id => {
            let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
            let calendar = store.calendar_for(owner, CalendarId(id)).await?;
            calendar.map(|c| Target::Existing(c.id)).ok_or(AppError::NotFound)
        }
    }
}

/// The calendar a "new calendar" import creates.
#[derive(Debug, Clone, Serialize)]
struct NewCalendar {
    name: String,
    color: String,
    tone: &'static str,
}

impl NewCalendar {
    /// Named after the file's calendar, or the file; in the file's colour, or the palette's
    /// next one.
    fn for_file(about: &FileCalendar, file_name: &str, calendars: &[CalendarLook]) -> NewCalendar {
        let name = about.name.clone().unwrap_or_else(|| {
            let name: String = strip_controls(file_name, false).trim().chars().take(NAME_MAX).collect();
            if name.is_empty() {
                "Imported".into()
            } else {
                name
            }
        });
        let color =
            about.color.clone().unwrap_or_else(|| PALETTE[calendars.len() % PALETTE.len()].0.to_string());
        NewCalendar { tone: tone(&color), name, color }
    }

    fn draft(&self) -> CalendarDraft {
        CalendarDraft { name: self.name.clone(), color: self.color.clone() }
    }
}

/// The import page: the form, a preview, or what an import did.
#[derive(Debug, Default, Serialize)]
struct ImportPage {
    calendars: Vec<CalendarLook>,
    /// The chosen target's form value: a calendar's id, `new`, or empty for the default.
    calendar_id: String,
    new_calendar: Option<NewCalendar>,
    events: Vec<PlannedEvent>,
    failures: Vec<Failure>,
    upload: String,
    imported: bool,
    creates: usize,
    updates: usize,
    unchanged: usize,
    changes: usize,
    error: Option<String>,
}

impl ImportPage {
    fn planned(mut self, plan: &Plan) -> ImportPage {
        self.events = plan.events.clone();
        self.failures = plan.failures.clone();
        self.creates = plan.count(Outcome::Create);
        self.updates = plan.count(Outcome::Update);
        self.unchanged = plan.count(Outcome::Unchanged);
        self.changes = self.creates + self.updates;
        self
    }
}

#[rocket::get("/import")]
pub async fn import_page(user: CurrentUser, page: Page, store: &State<Store>) -> Result<Template, AppError> {
    let calendars = calendar_choices(store, user.user.id).await?;
    Ok(page.render("import.html", ImportPage { calendars, ..ImportPage::default() }))
}

/// The calendars an import can go to, for the form's choice.
async fn calendar_choices(store: &Store, owner: UserId) -> Result<Vec<CalendarLook>, AppError> {
    Ok(store.calendars_of(owner).await?.iter().map(CalendarLook::from).collect())
}

/// One waiting upload per user (a new preview replaces it), so previews cannot pile up in
/// the sessions store, which never evicts.
fn stash_key(user: UserId) -> String {
    format!("import:{}", user.0)
}

/// A previewed file waiting for its import.
struct Stashed {
    file_name: String,
    text: String,
}

impl Stashed {
    /// `{upload id}\n{file name}\n{file}`: a file name has no line breaks (Rocket keeps only
    /// a safe stem of it).
    fn encode(&self, upload: &str) -> String {
        format!("{upload}\n{}\n{}", self.file_name.replace(['\r', '\n'], ""), self.text)
    }

    fn decode(stashed: &str, upload: &str) -> Option<Stashed> {
        let (id, rest) = stashed.split_once('\n')?;
        let (file_name, text) = rest.split_once('\n')?;
        (id == upload).then(|| Stashed { file_name: file_name.into(), text: text.into() })
    }
}

/// The previewed file, if `upload` names the one waiting.
async fn stashed_upload(
    backends: &Backends,
    user: UserId,
    upload: &str,
) -> Result<Option<Stashed>, AppError> {
    let stashed = backends.sessions.get(&stash_key(user)).await?;
    let text = stashed.and_then(|bytes| String::from_utf8(bytes).ok());
    Ok(text.and_then(|t| Stashed::decode(&t, upload)))
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

/// Parsing and planning grow with the file, so they run on the blocking pool, where they
/// cannot hold an async worker (every other request shares those).
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(format!("import planning stopped: {e}")))
}

async fn read_file(text: String, zone: Tz) -> Result<Result<ReadFile, String>, AppError> {
    blocking(move || import::read(&text, zone).map_err(|e| format!("{}.", capitalise(&e.to_string())))).await
}

/// Plans `file` against the user's events as they are now, new events into `calendar`.
async fn plan_for(
    store: &Store,
    owner: UserId,
    file: ReadFile,
    zone: Tz,
    calendar: CalendarId,
) -> Result<Plan, AppError> {
    let existing = store.all_events(owner).await?;
    blocking(move || import::plan(file.events, file.failures, &existing, zone, calendar)).await
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The calendar new events are planned into: the chosen one, or for a new calendar (which does
/// not exist until the import) the default, as a stand-in.
async fn planning_calendar(store: &Store, owner: UserId, target: Target) -> Result<CalendarId, AppError> {
    match target {
        Target::Existing(id) => Ok(id),
        Target::New => Ok(store.default_calendar(owner).await?.id),
    }
}

/// Imports the previewed file: into a new calendar only when it creates an event (one made
/// for nothing would be an empty calendar), undone again if the import then fails.
async fn import_stashed(
    store: &Store,
    writes: &Writes<'_>,
    owner: UserId,
    file: ReadFile,
    zone: Tz,
    target: Target,
    new_calendar: Option<&NewCalendar>,
) -> Result<Plan, AppError> {
    let stand_in = planning_calendar(store, owner, target).await?;
    let mut plan = plan_for(store, owner, file.clone(), zone, stand_in).await?;
    let Some(new_calendar) = new_calendar.filter(|_| plan.count(Outcome::Create) > 0) else {
        writes.apply(owner, std::mem::take(&mut plan.changes)).await?;
        return Ok(plan);
    };
    let created = writes.create_calendar(owner, &new_calendar.draft()).await?;
    let mut plan = plan_for(store, owner, file, zone, created).await?;
    if let Err(e) = writes.apply(owner, std::mem::take(&mut plan.changes)).await {
        writes.delete_calendar(owner, created).await.ok();
        return Err(e);
    }
    Ok(plan)
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
    let owner = user.user.id;
    let zone = user.user.zone();
    let target = import_target(store, owner, &form.calendar_id).await?;
    let calendars = calendar_choices(store, owner).await?;
    let fresh =
        || ImportPage { calendar_id: target.value(), calendars: calendars.clone(), ..ImportPage::default() };
    let refuse = |status: Status, message: &str| {
        page.render_status(status, "import.html", ImportPage { error: Some(message.into()), ..fresh() })
    };
    let error = |message: String| refuse(Status::UnprocessableEntity, &message);
    let Some(_slot) = limits.claim(owner).await else {
        let message = "Another import of yours is still running. Try again when it has finished.";
        return Ok(refuse(Status::TooManyRequests, message));
    };
    if !form.upload.is_empty() {
        let Some(stashed) = stashed_upload(backends, owner, &form.upload).await? else {
            return Ok(error("That preview has expired. Choose the file again.".into()));
        };
        let file = match read_file(stashed.text, zone).await? {
            Ok(file) => file,
            Err(message) => return Ok(error(message)),
        };
        let new_calendar = (target == Target::New)
            .then(|| NewCalendar::for_file(&file.about, &stashed.file_name, &calendars));
        let plan = import_stashed(store, &writes, owner, file, zone, target, new_calendar.as_ref()).await?;
        backends.sessions.delete(&stash_key(owner)).await.ok();
        let calendars = calendar_choices(store, owner).await?;
        let done = ImportPage { imported: true, new_calendar, calendars, ..fresh() }.planned(&plan);
        return Ok(page.render_status(Status::Ok, "import.html", done));
    }
    let upload = match form.file {
        Ok(file) if file.len() > 0 => file,
        Err(errors) if errors.status() == Status::PayloadTooLarge => {
            let message =
                "The file is larger than this server imports at once. Split it, or export fewer events.";
            return Ok(refuse(Status::PayloadTooLarge, message));
        }
        _ => return Ok(error("Choose an .ics file to import.".into())),
    };
    let text = match read_upload(&upload).await {
        Ok(text) => text,
        Err(message) => return Ok(error(message)),
    };
    let file = match read_file(text.clone(), zone).await? {
        Ok(file) => file,
        Err(message) => return Ok(error(message)),
    };
    let stashed = Stashed { file_name: upload.name().unwrap_or_default().to_string(), text };
    let new_calendar =
        (target == Target::New).then(|| NewCalendar::for_file(&file.about, &stashed.file_name, &calendars));
    let plan = plan_for(store, owner, file, zone, planning_calendar(store, owner, target).await?).await?;
    let upload = hex::encode(rand::random::<[u8; 16]>());
    backends.sessions.set(&stash_key(owner), stashed.encode(&upload).as_bytes(), STASH_TTL).await?;
    let preview = ImportPage { upload, new_calendar, ..fresh() }.planned(&plan);
    Ok(page.render_status(Status::Ok, "import.html", preview))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![
        export_all,
        export_calendar,
        export_event,
        feed,
        reset_feed,
        reset_calendar_feed,
        import_page,
        import_post
    ]
}
