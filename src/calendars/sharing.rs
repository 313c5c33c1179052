//! Sharing a calendar with another user of the instance (`read`, `write` or `busy`: times
//! only), ending a share, and leaving one. A share changes what its recipient's views show on
//! their very next request: every write here goes through the write path, which retires the
//! cached views of the owner and of the recipient.

use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::State;
use serde::Serialize;

use super::{own_calendar, refused, saved, seen_calendar, Failed, Reply};
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::CurrentUser;
use crate::auth::routes::TokenOnly;
use crate::domain::{Access, CalendarId, UserId};
use crate::error::AppError;
use crate::store::Store;
use crate::web::page::Page;
use crate::web::public_url::PublicUrl;
use crate::writes::Writes;

/// The share form, as typed.
#[derive(Debug, Clone, Default, FromForm, Serialize)]
pub struct ShareForm {
    #[field(default = String::new())]
    pub username: String,
    #[field(default = String::new())]
    pub access: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ShareErrors {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
}

/// Who to share with, parsed: an active user other than the owner.
struct Recipient {
    id: UserId,
    name: String,
    access: Access,
}

impl ShareForm {
    /// The recipient, or what was wrong with the form (an unknown user is an error of its field).
    async fn validate(
        &self,
        store: &Store,
        owner: UserId,
    ) -> Result<Result<Recipient, ShareErrors>, AppError> {
        let typed = self.username.trim();
        let access = Access::parse_shared(self.access.trim());
        let mut errors = ShareErrors::default();
        if access.is_none() {
            errors.access = Some("Choose read, write or busy only.".into());
        }
        let user = if typed.is_empty() {
            errors.username = Some("Type the username of the person to share with.".into());
            None
        } else {
            match store.user_by_username(typed).await? {
                Some(user) if user.id == owner => {
                    errors.username = Some("This calendar is already yours.".into());
                    None
                }
                Some(user) if user.is_active => Some(user),
                _ => {
                    errors.username = Some(format!("Nobody here is called \u{201c}{typed}\u{201d}."));
                    None
                }
            }
        };
        match (user, access) {
            (Some(user), Some(access)) => Ok(Ok(Recipient { id: user.id, name: user.username, access })),
            _ => Ok(Err(errors)),
        }
    }
}

#[rocket::post("/calendars/<id>/shares", data = "<form>")]
pub async fn share(
    id: CalendarId,
    form: CsrfForm<ShareForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    public_url: &State<PublicUrl>,
    writes: Writes<'_>,
) -> Result<Reply, AppError> {
    let calendar = own_calendar(store, user.user.id, id).await?;
    let recipient = match form.0.validate(store, user.user.id).await? {
        Ok(recipient) => recipient,
        Err(errors) => {
            return refused(store, &user, &page, public_url, Failed::Share(id, &form.0, errors)).await
        }
    };
    writes.share_calendar(user.user.id, id, recipient.id, recipient.access).await?;
    let what = match recipient.access {
        Access::Busy => "when you are busy (times only)",
        Access::Write => "to read and change",
        _ => "to read",
    };
    Ok(saved(&format!("\u{201c}{}\u{201d} is shared with {} {what}.", calendar.name, recipient.name)))
}

#[rocket::post("/calendars/<id>/shares/<username>/delete", data = "<_form>")]
pub async fn end(
    id: CalendarId,
    username: &str,
    _form: CsrfForm<TokenOnly>,
    user: CurrentUser,
    store: &State<Store>,
    writes: Writes<'_>,
) -> Result<Flash<Redirect>, AppError> {
    let calendar = own_calendar(store, user.user.id, id).await?;
    let recipient = store.user_by_username(username).await?.ok_or(AppError::NotFound)?;
    if !writes.end_share(user.user.id, id, recipient.id).await? {
        return Err(AppError::NotFound);
    }
    let message = format!("{} no longer sees \u{201c}{}\u{201d}.", recipient.username, calendar.name);
    Ok(Flash::success(Redirect::to("/calendars"), message))
}

/// The recipient gives back a calendar shared with them; the owner keeps it.
#[rocket::post("/calendars/<id>/leave", data = "<_form>")]
pub async fn leave(
    id: CalendarId,
    _form: CsrfForm<TokenOnly>,
    user: CurrentUser,
    store: &State<Store>,
    writes: Writes<'_>,
) -> Result<Flash<Redirect>, AppError> {
    let calendar = seen_calendar(store, user.user.id, id).await?;
    if calendar.access == Access::Own || !writes.leave_share(user.user.id, id).await? {
        return Err(AppError::NotFound);
    }
    let message = format!("You left \u{201c}{}\u{201d}.", calendar.name);
    Ok(Flash::success(Redirect::to("/calendars"), message))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![share, end, leave]
}
