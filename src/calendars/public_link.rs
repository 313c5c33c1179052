//! A calendar's public read-only link: a page (month and agenda) and an `.ics` feed that
//! anyone with the address may open, without an account. Its owner creates it (whole, or
//! busy times only), resets it (the old address stops working at once) or closes it. The
//! pages themselves are in `calendar::public`.

use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::State;
use serde::Serialize;

use super::own_calendar;
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::CurrentUser;
use crate::auth::routes::TokenOnly;
use crate::domain::{Access, Calendar, CalendarId};
use crate::error::AppError;
use crate::ical::new_feed_token;
use crate::store::Store;
use crate::web::public_url::PublicUrl;
use crate::writes::Writes;

#[derive(Debug, Default, FromForm)]
pub struct PublicLinkForm {
    /// `read` (the default: titles, places and descriptions) or `busy` (times only).
    #[field(default = String::new())]
    access: String,
}

/// A public link's addresses, for its owner's calendars page.
#[derive(Debug, Clone, Serialize)]
pub struct PublicLinks {
    pub page: String,
    pub feed: String,
    pub webcal: String,
    pub busy: bool,
}

impl PublicLinks {
    pub fn of(calendar: &Calendar, public_url: &PublicUrl) -> Option<PublicLinks> {
        let token = calendar.public_token.as_deref()?;
        let feed = format!("/public/{token}.ics");
        Some(PublicLinks {
            page: public_url.join(&format!("/public/{token}")),
            feed: public_url.join(&feed),
            webcal: public_url.webcal(&feed),
            busy: calendar.public_busy,
        })
    }
}

/// Creates the link, or gives it a new address (and, if asked, the other level of detail).
#[rocket::post("/calendars/<id>/public-link", data = "<form>")]
pub async fn publish(
    id: CalendarId,
    form: CsrfForm<PublicLinkForm>,
    user: CurrentUser,
    store: &State<Store>,
    writes: Writes<'_>,
) -> Result<Flash<Redirect>, AppError> {
    let busy = match form.0.access.as_str() {
        "" | "read" => false,
        "busy" => true,
        _ => return Err(AppError::BadRequest("access must be read or busy")),
    };
    let calendar = own_calendar(store, user.user.id, id).await?;
    if !writes.set_public_link(user.user.id, id, Some((&new_feed_token(), busy))).await? {
        return Err(AppError::NotFound);
    }
    let shows = if busy { Access::Busy } else { Access::Read };
    let message = match (calendar.public_token.is_some(), shows) {
        (true, _) => "The public link has a new address; the old one no longer works.",
        (false, Access::Busy) => "The public link is ready: it shows when you are busy, never what.",
        (false, _) => "The public link is ready: anyone with it can read this calendar.",
    };
    Ok(Flash::success(Redirect::to(format!("/calendars#calendar-{}", id.0)), message))
}

#[rocket::post("/calendars/<id>/public-link/delete", data = "<_form>")]
pub async fn unpublish(
    id: CalendarId,
    _form: CsrfForm<TokenOnly>,
    user: CurrentUser,
    store: &State<Store>,
    writes: Writes<'_>,
) -> Result<Flash<Redirect>, AppError> {
    own_calendar(store, user.user.id, id).await?;
    if !writes.set_public_link(user.user.id, id, None).await? {
        return Err(AppError::NotFound);
    }
    let message = "The public link is closed: its address no longer opens anything.";
    Ok(Flash::success(Redirect::to(format!("/calendars#calendar-{}", id.0)), message))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![publish, unpublish]
}
