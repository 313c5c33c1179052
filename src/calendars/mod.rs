//! A user's calendars: `/calendars` lists them, creates, renames, recolours, shows or hides
//! and deletes them. Every change goes through the write path, so each view that draws a
//! calendar's events (in its colour, or not at all once hidden) changes at once.

pub mod look;

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
use crate::domain::{Calendar, CalendarDraft, CalendarId, LastCalendar, UserId};
use crate::error::AppError;
use crate::ical::routes::FeedLinks;
use crate::store::Store;
use crate::web::page::{safe_next, Page, SwapMain};
use crate::web::public_url::PublicUrl;
use crate::writes::Writes;
use look::{CalendarLook, PALETTE};

pub const NAME_MAX: usize = 100;

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
            errors.color = Some("Choose a colour, or type one as #RRGGBB.".into());
        }
        match (&errors.name, color) {
            (None, Some(color)) => Ok(CalendarDraft { name, color }),
            _ => Err(errors),
        }
    }
}

/// One calendar on the page, with its edit form (as typed, after a refused change).
#[derive(Serialize)]
struct CalendarItem {
    #[serde(flatten)]
    look: CalendarLook,
    form: CalendarForm,
    errors: CalendarErrors,
    /// The calendar's own subscription feed, once made.
    feed: Option<FeedLinks>,
}

#[derive(Serialize)]
struct Palette {
    color: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
struct CalendarsPage {
    calendars: Vec<CalendarItem>,
    palette: Vec<Palette>,
    /// The new-calendar form.
    form: CalendarForm,
    errors: CalendarErrors,
    notice: Option<String>,
    error: Option<String>,
}

/// The page, with the form that failed (the new one, or calendar `failed`'s) as typed.
fn calendars_page(
    calendars: &[Calendar],
    public_url: &PublicUrl,
    failed: Option<(Option<CalendarId>, &CalendarForm, CalendarErrors)>,
) -> CalendarsPage {
    let fresh =
        CalendarForm { name: String::new(), color: PALETTE[calendars.len() % PALETTE.len()].0.into() };
    let mut page = CalendarsPage {
        calendars: calendars
            .iter()
            .map(|c| CalendarItem {
                look: CalendarLook::from(c),
                form: CalendarForm { name: c.name.clone(), color: c.color.clone() },
                errors: CalendarErrors::default(),
                feed: c.feed_token.as_deref().map(|token| FeedLinks::new(token, public_url)),
            })
            .collect(),
        palette: PALETTE.iter().map(|(color, name)| Palette { color, name }).collect(),
        form: fresh,
        errors: CalendarErrors::default(),
        notice: None,
        error: None,
    };
    match failed {
        Some((None, form, errors)) => {
            page.form = form.clone();
            page.errors = errors;
        }
        Some((Some(id), form, errors)) => {
            if let Some(item) = page.calendars.iter_mut().find(|item| item.look.id == id.0) {
                item.form = form.clone();
                item.errors = errors;
            }
        }
        None => {}
    }
    page
}

/// The calendar, if it is the user's: another user's is a 404, as a missing one.
async fn own_calendar(store: &Store, owner: UserId, id: CalendarId) -> Result<Calendar, AppError> {
    store.calendar_for(owner, id).await?.ok_or(AppError::NotFound)
}

type Reply = Either<Flash<Redirect>, (Status, Template)>;

/// The page again, 422, with the form that failed (the new one, or a calendar's) as typed.
async fn refused(
    store: &Store,
    user: &CurrentUser,
    page: &Page,
    public_url: &PublicUrl,
    failed: (Option<CalendarId>, &CalendarForm, CalendarErrors),
) -> Result<Reply, AppError> {
    let calendars = store.calendars_of(user.user.id).await?;
    let context = calendars_page(&calendars, public_url, Some(failed));
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
    let calendars = store.calendars_of(user.user.id).await?;
    let mut context = calendars_page(&calendars, public_url, None);
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
        Err(errors) => refused(store, &user, &page, public_url, (None, &form.0, errors)).await,
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
    own_calendar(store, user.user.id, id).await?;
    match form.0.validate() {
        Ok(draft) => {
            if !writes.update_calendar(user.user.id, id, &draft).await? {
                return Err(AppError::NotFound);
            }
            Ok(saved("Calendar saved."))
        }
        Err(errors) => refused(store, &user, &page, public_url, (Some(id), &form.0, errors)).await,
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
    let calendar = own_calendar(store, user.user.id, id).await?;
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
    writes: Writes<'_>,
) -> Result<SwapMain, AppError> {
    let shown = match form.0.shown.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(AppError::BadRequest("shown must be true or false")),
    };
    if !writes.set_calendar_shown(user.user.id, id, shown).await? {
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
            let calendars = store.calendars_of(user.user.id).await?;
            let mut context = calendars_page(&calendars, public_url, None);
            context.error = Some("This is your only calendar: create another before deleting it.".into());
            Either::Right(page.render_status(Status::Conflict, "calendars.html", context))
        }
    };
    Ok(Either::Left(reply))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![list, create, update, visibility_page, set_visibility, delete]
}
