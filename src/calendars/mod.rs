//! A user's calendars: `/calendars` lists them, creates, renames, recolours, shows or hides
//! and deletes them, shares them (`sharing`) and opens them to anyone with a link
//! (`public_link`), and lists the calendars others shared with the user. Every change goes
//! through the write path, so each view that draws a calendar's events (in its colour, or not
//! at all once hidden) changes at once.

pub mod look;
pub mod public_link;
pub mod reminders;
pub mod sharing;

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{Either, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use crate::auth::csrf::CsrfForm;
use crate::auth::guard::CurrentUser;
use crate::domain::text::strip_controls;
use crate::domain::{Access, Calendar, CalendarDraft, CalendarId, LastCalendar, Share, UserId};
use crate::error::AppError;
use crate::ical::routes::FeedLinks;
use crate::store::Store;
use crate::web::page::{safe_next, Page, SwapMain};
use crate::web::public_url::PublicUrl;
use crate::writes::Writes;
use look::{CalendarLook, PALETTE};
use public_link::PublicLinks;
use reminders::{DefaultReminders, RemindersForm};
use sharing::{ShareErrors, ShareForm};

pub const NAME_MAX: usize = 100;
const COLOR_ERROR: &str = "Choose a colour, or type one as #RRGGBB.";

/// The calendar form, as typed.
#[derive(Debug, Clone, Default, FromForm, Serialize)]
pub struct CalendarForm {
    #[field(default = String::new())]
    pub name: String,
    #[field(default = String::new())]
    pub color: String,
}

/// What was wrong with each field.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CalendarErrors {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

impl CalendarForm {
    pub fn validate(&self) -> Result<CalendarDraft, CalendarErrors> {
        let name = strip_controls(&self.name, false).trim().to_string();
        let color = crate::domain::color::typed_hex(&self.color);
        let mut errors = CalendarErrors::default();
        if name.is_empty() {
            errors.name = Some("Give the calendar a name.".into());
        } else if name.chars().count() > NAME_MAX {
            errors.name = Some(format!("Use at most {NAME_MAX} characters."));
        }
        if color.is_none() {
            errors.color = Some(COLOR_ERROR.into());
        }
        match (&errors.name, color) {
            (None, Some(color)) => Ok(CalendarDraft { name, color }),
            _ => Err(errors),
        }
    }
}

/// One of the user's own calendars on the page, with its edit form (as typed, after a
/// refused change) and who it is shared with.
#[derive(Serialize)]
struct CalendarItem {
    #[serde(flatten)]
    look: CalendarLook,
    form: CalendarForm,
    errors: CalendarErrors,
    /// The calendar's own subscription feed, once made.
    feed: Option<FeedLinks>,
    /// Its public link, once made.
    public: Option<PublicLinks>,
    shares: Vec<Share>,
    share_form: ShareForm,
    share_errors: ShareErrors,
    /// What a new event in it starts with.
    reminders: DefaultReminders,
}

/// A calendar someone shared with the user: its colour is theirs to choose.
#[derive(Serialize)]
struct SharedItem {
    #[serde(flatten)]
    look: CalendarLook,
    form: CalendarForm,
    errors: CalendarErrors,
}

#[derive(Serialize)]
struct Palette {
    color: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
struct CalendarsPage {
    calendars: Vec<CalendarItem>,
    shared: Vec<SharedItem>,
    palette: Vec<Palette>,
    /// The new-calendar form.
    form: CalendarForm,
    errors: CalendarErrors,
    notice: Option<String>,
    error: Option<String>,
}

/// The form a refused change came from, to show again as typed.
pub(crate) enum Failed<'a> {
    New(&'a CalendarForm, CalendarErrors),
    Calendar(CalendarId, &'a CalendarForm, CalendarErrors),
    Share(CalendarId, &'a ShareForm, ShareErrors),
    Reminders(CalendarId, &'a RemindersForm, String),
}

/// The page: the user's calendars with their shares, then those shared with them.
fn calendars_page(
    calendars: Vec<Calendar>,
    shares: Vec<Share>,
    defaults: Vec<crate::store::calendars::CalendarReminders>,
    public_url: &PublicUrl,
    failed: Option<Failed<'_>>,
) -> CalendarsPage {
    let (own, shared): (Vec<Calendar>, Vec<Calendar>) =
        calendars.into_iter().partition(|c| c.access == Access::Own);
    let fresh = CalendarForm { name: String::new(), color: PALETTE[own.len() % PALETTE.len()].0.into() };
    let mut page = CalendarsPage {
        calendars: own
            .iter()
            .map(|c| CalendarItem {
                look: CalendarLook::from(c),
                form: CalendarForm { name: c.name.clone(), color: c.color.clone() },
                errors: CalendarErrors::default(),
                feed: c.feed_token.as_deref().map(|token| FeedLinks::new(token, public_url)),
                public: PublicLinks::of(c, public_url),
                shares: shares.iter().filter(|s| s.calendar_id == c.id).cloned().collect(),
                share_form: <ShareForm as Default>::default(),
                share_errors: ShareErrors::default(),
                reminders: DefaultReminders::stored(defaults.iter().find(|d| d.calendar_id == c.id)),
            })
            .collect(),
        shared: shared
            .iter()
            .map(|c| SharedItem {
                look: CalendarLook::from(c),
                form: CalendarForm { name: c.name.clone(), color: c.color.clone() },
                errors: CalendarErrors::default(),
            })
            .collect(),
        palette: PALETTE.iter().map(|(color, name)| Palette { color, name }).collect(),
        form: fresh,
        errors: CalendarErrors::default(),
        notice: None,
        error: None,
    };
    match failed {
        Some(Failed::New(form, errors)) => {
            page.form = form.clone();
            page.errors = errors;
        }
        Some(Failed::Calendar(id, form, errors)) => {
            if let Some(item) = page.calendars.iter_mut().find(|item| item.look.id == id.0) {
                item.form = form.clone();
                item.errors = errors;
            } else if let Some(item) = page.shared.iter_mut().find(|item| item.look.id == id.0) {
                item.form = form.clone();
                item.errors = errors;
            }
        }
        Some(Failed::Share(id, form, errors)) => {
            if let Some(item) = page.calendars.iter_mut().find(|item| item.look.id == id.0) {
                item.share_form = form.clone();
                item.share_errors = errors;
            }
        }
        Some(Failed::Reminders(id, form, error)) => {
            if let Some(item) = page.calendars.iter_mut().find(|item| item.look.id == id.0) {
                item.reminders = DefaultReminders::typed(form, error);
            }
        }
        None => {}
    }
    page
}

/// The page as the user sees it now, with the form that failed, if any.
async fn page_for(
    store: &Store,
    user: UserId,
    public_url: &PublicUrl,
    failed: Option<Failed<'_>>,
) -> Result<CalendarsPage, AppError> {
    let calendars = store.visible_calendars(user).await?;
    let shares = store.shares_by(user).await?;
    let defaults = store.default_reminders_of(user).await?;
    Ok(calendars_page(calendars, shares, defaults, public_url, failed))
}

/// The calendar, if it is the user's: another user's is a 404, as a missing one (one shared
/// with the user too: only its owner changes it).
async fn own_calendar(store: &Store, owner: UserId, id: CalendarId) -> Result<Calendar, AppError> {
    store.calendar_for(owner, id).await?.ok_or(AppError::NotFound)
}

/// A calendar the user can see, their own or one shared with them.
async fn seen_calendar(store: &Store, reader: UserId, id: CalendarId) -> Result<Calendar, AppError> {
    store.calendar_seen_by(reader, id).await?.ok_or(AppError::NotFound)
}

type Reply = Either<Flash<Redirect>, (Status, Template)>;

/// The page again, 422, with the form that failed as typed.
async fn refused(
    store: &Store,
    user: &CurrentUser,
    page: &Page,
    public_url: &PublicUrl,
    failed: Failed<'_>,
) -> Result<Reply, AppError> {
    let context = page_for(store, user.user.id, public_url, Some(failed)).await?;
    Ok(Either::Right(page.render_status(Status::UnprocessableEntity, "calendars.html", context)))
}

fn saved(message: &str) -> Reply {
    Either::Left(Flash::success(Redirect::to("/calendars"), message.to_string()))
}

#[rocket::get("/calendars")]
pub async fn list(
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    public_url: &State<PublicUrl>,
    flash: Option<FlashMessage<'_>>,
) -> Result<Template, AppError> {
    let mut context = page_for(store, user.user.id, public_url, None).await?;
    if let Some(flash) = flash {
        let message = Some(flash.message().to_string());
        if flash.kind() == "error" {
            context.error = message;
        } else {
            context.notice = message;
        }
    }
    Ok(page.render("calendars.html", context))
}

#[rocket::post("/calendars", data = "<form>")]
pub async fn create(
    form: CsrfForm<CalendarForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    public_url: &State<PublicUrl>,
    writes: Writes<'_>,
) -> Result<Reply, AppError> {
    match form.0.validate() {
        Ok(draft) => {
            writes.create_calendar(user.user.id, &draft).await?;
            Ok(saved(&format!("Calendar \u{201c}{}\u{201d} created.", draft.name)))
        }
        Err(errors) => refused(store, &user, &page, public_url, Failed::New(&form.0, errors)).await,
    }
}

#[rocket::post("/calendars/<id>", data = "<form>")]
pub async fn update(
    id: CalendarId,
    form: CsrfForm<CalendarForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    public_url: &State<PublicUrl>,
    writes: Writes<'_>,
) -> Result<Reply, AppError> {
    let calendar = seen_calendar(store, user.user.id, id).await?;
    if calendar.access != Access::Own {
        // Someone else's calendar: only its colour in the user's own views is theirs to set.
        return match crate::domain::color::typed_hex(&form.0.color) {
            Some(color) => {
                if !writes.set_share_color(user.user.id, id, &color).await? {
                    return Err(AppError::NotFound);
                }
                Ok(saved("Colour saved."))
            }
            None => {
                let errors = CalendarErrors { color: Some(COLOR_ERROR.into()), name: None };
                refused(store, &user, &page, public_url, Failed::Calendar(id, &form.0, errors)).await
            }
        };
    }
    match form.0.validate() {
        Ok(draft) => {
            if !writes.update_calendar(user.user.id, id, &draft).await? {
                return Err(AppError::NotFound);
            }
            Ok(saved("Calendar saved."))
        }
        Err(errors) => refused(store, &user, &page, public_url, Failed::Calendar(id, &form.0, errors)).await,
    }
}

#[derive(Debug, Default, FromForm)]
pub struct VisibilityForm {
    #[field(default = String::new())]
    shown: String,
    /// The view to go back to.
    #[field(default = String::new())]
    next: String,
}

/// The plain-link way to show or hide a calendar (JavaScript off): a page with the one
/// button that does it, since a link itself must not change anything.
#[rocket::get("/calendars/<id>/visibility?<shown>&<next>")]
pub async fn visibility_page(
    id: CalendarId,
    shown: Option<&str>,
    next: Option<&str>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
) -> Result<Template, AppError> {
    let calendar = seen_calendar(store, user.user.id, id).await?;
    let shown = shown.map_or(!calendar.shown, |s| s == "true");
    let context = serde_json::json!({
        "calendar": CalendarLook::from(&calendar),
        "shown": shown,
        "next": safe_next(next),
    });
    Ok(page.render("calendar_visibility.html", context))
}

#[rocket::post("/calendars/<id>/visibility", data = "<form>")]
pub async fn set_visibility(
    id: CalendarId,
    form: CsrfForm<VisibilityForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    writes: Writes<'_>,
) -> Result<SwapMain, AppError> {
    let shown = match form.0.shown.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::BadRequest("shown must be true or false")),
    };
    // Hiding a shared calendar hides it for the user alone.
    let done = match seen_calendar(store, user.user.id, id).await?.access {
        Access::Own => writes.set_calendar_shown(user.user.id, id, shown).await?,
        _ => writes.set_share_shown(user.user.id, id, shown).await?,
    };
    if !done {
        return Err(AppError::NotFound);
    }
    let to = if form.0.next.is_empty() { "/calendars".to_string() } else { safe_next(Some(&form.0.next)) };
    Ok(SwapMain { to, htmx: page.htmx })
}

#[derive(Debug, Default, FromForm)]
pub struct DeleteForm {
    #[field(default = String::new())]
    confirm: String,
}

#[rocket::post("/calendars/<id>/delete", data = "<form>")]
pub async fn delete(
    id: CalendarId,
    form: CsrfForm<DeleteForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    public_url: &State<PublicUrl>,
    writes: Writes<'_>,
) -> Result<Either<Reply, Template>, AppError> {
    let calendar = own_calendar(store, user.user.id, id).await?;
    if form.0.confirm != "yes" {
        let context = serde_json::json!({ "calendar": CalendarLook::from(&calendar) });
        return Ok(Either::Right(page.render("calendar_delete.html", context)));
    }
    let reply = match writes.delete_calendar(user.user.id, id).await? {
        Ok(Some(deleted)) => {
            saved(&format!("Calendar \u{201c}{}\u{201d} and its events deleted.", deleted.name))
        }
        Ok(None) => return Err(AppError::NotFound),
        Err(LastCalendar) => {
            let mut context = page_for(store, user.user.id, public_url, None).await?;
            context.error = Some("This is your only calendar: create another before deleting it.".into());
            Either::Right(page.render_status(Status::Conflict, "calendars.html", context))
        }
    };
    Ok(Either::Left(reply))
}

pub fn routes() -> Vec<rocket::Route> {
    let mut routes = rocket::routes![list, create, update, visibility_page, set_visibility, delete];
    routes.extend(sharing::routes());
    routes.extend(public_link::routes());
    routes.extend(reminders::routes());
    routes
}
