//! Imports (`/import`): a file is previewed (parsed and planned, nothing written), kept for a
//! while, and imported on confirmation into a calendar of the user's or a new one.

use chrono_tz::Tz;
use rocket::data::{self, Data, FromData};
use rocket::form::{Form, FromForm};
use rocket::fs::TempFile;
use rocket::http::Status;
use rocket::request::Request;
use rocket::State;
use rocket_dyn_templates::Template;
use serde::Serialize;
use tokio::io::AsyncReadExt;

use super::import::{self, Failure, FileCalendar, Outcome, Plan, PlannedEvent, ReadFile};
use super::limit::ImportLimits;
use crate::auth::csrf;
use crate::auth::guard::CurrentUser;
use crate::calendars::look::{tone, CalendarLook, PALETTE};
use crate::calendars::NAME_MAX;
use crate::domain::text::strip_controls;
use crate::domain::{CalendarDraft, CalendarId, Event, UserId};
use crate::error::AppError;
use crate::kv::Backends;
use crate::store::Store;
use crate::web::page::Page;
use crate::writes::Writes;

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
    /// The calendar an import names (the user's own, from `calendars`: another user's is a
    /// 404), a new one, or the default.
    fn named(calendars: &[crate::domain::Calendar], typed: &str) -> Result<Target, AppError> {
        match typed.trim() {
            "" => default_of(calendars).map(Target::Existing),
            NEW_CALENDAR => Ok(Target::New),
            id => {
                let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
                calendars
                    .iter()
                    .find(|c| c.id.0 == id)
                    .map(|c| Target::Existing(c.id))
                    .ok_or(AppError::NotFound)
            }
        }
    }

    /// The calendar new events are planned into: the chosen one, or for a new calendar (which
    /// does not exist until the import) the default, as a stand-in.
    fn planned_into(self, calendars: &[crate::domain::Calendar]) -> Result<CalendarId, AppError> {
        match self {
            Target::Existing(id) => Ok(id),
            Target::New => default_of(calendars),
        }
    }

    /// The form's value for it.
    fn value(self) -> String {
        match self {
            Target::Existing(id) => id.0.to_string(),
            Target::New => NEW_CALENDAR.into(),
        }
    }
}

const NEW_CALENDAR: &str = "new";

/// Every user has a default calendar (the store keeps one, and never deletes the last).
fn default_of(calendars: &[crate::domain::Calendar]) -> Result<CalendarId, AppError> {
    let default = calendars.iter().find(|c| c.is_default).map(|c| c.id);
    default.ok_or_else(|| AppError::Internal("a user without a default calendar".into()))
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

/// Plans `file` against `existing` (the user's events as they are now), new events into
/// `calendar`.
async fn plan_for(
    existing: Vec<Event>,
    file: ReadFile,
    zone: Tz,
    calendar: CalendarId,
) -> Result<Plan, AppError> {
    blocking(move || import::plan(file.events, file.failures, &existing, zone, calendar)).await
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

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Imports the previewed file: into a new calendar only when it creates an event (one made
/// for nothing would be an empty calendar), undone again if the import then fails.
async fn import_stashed(
    store: &Store,
    writes: &Writes<'_>,
    owner: UserId,
    file: ReadFile,
    zone: Tz,
    stand_in: CalendarId,
    new_calendar: Option<&NewCalendar>,
) -> Result<Plan, AppError> {
    let existing = store.all_events(owner).await?;
    let mut plan = plan_for(existing.clone(), file.clone(), zone, stand_in).await?;
    let Some(new_calendar) = new_calendar.filter(|_| plan.count(Outcome::Create) > 0) else {
        writes.apply(owner, std::mem::take(&mut plan.changes)).await?;
        return Ok(plan);
    };
    let created = writes.create_calendar(owner, &new_calendar.draft()).await?;
    let mut plan = plan_for(existing, file, zone, created).await?;
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
    let owned = store.calendars_of(owner).await?;
    let target = Target::named(&owned, &form.calendar_id)?;
    let stand_in = target.planned_into(&owned)?;
    let calendars: Vec<CalendarLook> = owned.iter().map(CalendarLook::from).collect();
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
        let plan = import_stashed(store, &writes, owner, file, zone, stand_in, new_calendar.as_ref()).await?;
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
    let plan = plan_for(store.all_events(owner).await?, file, zone, stand_in).await?;
    let upload = hex::encode(rand::random::<[u8; 16]>());
    backends.sessions.set(&stash_key(owner), stashed.encode(&upload).as_bytes(), STASH_TTL).await?;
    let preview = ImportPage { upload, new_calendar, ..fresh() }.planned(&plan);
    Ok(page.render_status(Status::Ok, "import.html", preview))
}
