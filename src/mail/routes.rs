//! The address reminders are mailed to: set on the account page (`POST /account/email`),
//! confirmed by the link mailed to it, stopped by the link in every reminder. The links carry
//! the address's token and need no session: they are opened from a mail, maybe on a phone.
//! Opening one shows a page with a button; only the button's POST changes anything, so a
//! mail scanner that follows links confirms or stops nothing.

use rocket::form::FromForm;
use rocket::http::Status;
use rocket::request::FromParam;
use rocket::response::{Flash, Redirect};
use rocket::{Either, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::Mail;
use crate::auth::account::{account_page_context, AccountExtras};
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::CurrentUser;
use crate::auth::routes::TokenOnly;
use crate::clock::Clock;
use crate::dav::DavPublicUrl;
use crate::domain::reminders::next_agenda;
use crate::domain::time::minutes_of_day as parse_time_of_day;
use crate::error::AppError;
use crate::store::mail::{AddressState, MailAddress};
use crate::store::Store;
use crate::web::page::Page;
use crate::web::public_url::PublicUrl;

/// RFC 5321's limit on a forward path.
const ADDRESS_MAX: usize = 254;
/// A new confirmation mail at most this often, so the form cannot be used to flood an inbox.
const CONFIRM_EVERY: chrono::Duration = chrono::Duration::minutes(1);

#[derive(FromForm)]
pub struct EmailForm {
    #[field(default = String::new())]
    email: String,
}

/// A link's token, checked for shape before any lookup.
pub struct LinkToken(String);

impl<'a> FromParam<'a> for LinkToken {
    type Error = ();

    fn from_param(param: &'a str) -> Result<Self, ()> {
        crate::ical::is_token(param).then(|| LinkToken(param.to_string())).ok_or(())
    }
}

/// What the link pages show.
#[derive(Serialize)]
struct LinkPage<'a> {
    /// `confirm` or `unsubscribe`.
    action: &'static str,
    /// Where the button posts.
    path: String,
    address: &'a str,
    state: AddressState,
    /// The button was pressed.
    done: bool,
}

fn link_page(page: &Page, action: &'static str, address: &MailAddress, done: bool) -> Template {
    let path = match action {
        "confirm" => format!("/account/email/confirm/{}", address.token),
        _ => format!("/mail/unsubscribe/{}", address.token),
    };
    page.render(
        "mail_link.html",
        LinkPage { action, path, address: &address.address, state: address.state, done },
    )
}

/// The address as typed, or why it cannot be one.
fn parse_address(typed: &str) -> Result<String, String> {
    let address = typed.trim();
    if address.len() > ADDRESS_MAX {
        return Err(format!("A mail address has at most {ADDRESS_MAX} characters."));
    }
    match address.parse::<lettre::Address>() {
        Ok(parsed) if parsed.domain().contains('.') || parsed.domain() == "localhost" => {
            Ok(address.to_string())
        }
        _ => Err(format!("\u{201c}{address}\u{201d} is not a mail address: it looks like name@example.org.")),
    }
}

#[allow(clippy::too_many_arguments, reason = "guards: a refusal re-renders the whole account page")]
#[rocket::post("/account/email", data = "<form>")]
pub async fn set_address(
    form: CsrfForm<EmailForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    mail: &State<Mail>,
    public_url: &State<PublicUrl>,
    dav: &State<DavPublicUrl>,
    clock: &State<Clock>,
) -> Result<Either<Flash<Redirect>, (Status, Template)>, AppError> {
    let typed = form.0.email;
    let now = clock.now();
    let current = store.mail_address_of(user.user.id).await?;
    if typed.trim().is_empty() {
        store.remove_mail_address(user.user.id, now).await?;
        return Ok(Either::Left(Flash::success(Redirect::to("/account#email"), "No more reminder mail.")));
    }
    let refusal = if !mail.enabled() {
        Err("Email is off on this server: reminders show in the app only.".to_string())
    } else {
        parse_address(&typed).and_then(|address| match &current {
            Some(c) if c.state == AddressState::Pending && now - c.changed_at < CONFIRM_EVERY => {
                Err("A confirmation was sent less than a minute ago: wait a moment before asking again."
                    .into())
            }
            _ => Ok(address),
        })
    };
    let address = match refusal {
        Ok(address) => address,
        Err(error) => {
            let extras =
                AccountExtras { email_value: Some(typed), email_error: Some(error), ..Default::default() };
            let context = account_page_context(store, &user, public_url, dav, mail, extras).await?;
            return Ok(Either::Right(page.render_status(
                Status::UnprocessableEntity,
                "account.html",
                context,
            )));
        }
    };
    if current.as_ref().is_some_and(|c| c.address == address && c.state == AddressState::Confirmed) {
        return Ok(Either::Left(Flash::success(
            Redirect::to("/account#email"),
            "That address is already confirmed.",
        )));
    }
    let token = crate::ical::new_feed_token();
    let confirm_key = format!("confirm.{}.{}", user.user.id.0, hex::encode(rand::random::<[u8; 8]>()));
    store.set_mail_address(user.user.id, &address, &token, &confirm_key, now).await?;
    let notice = format!("We sent a link to {address}: follow it to get your reminders there.");
    Ok(Either::Left(Flash::success(Redirect::to("/account#email"), notice)))
}

#[derive(FromForm)]
pub struct AgendaForm {
    /// `HH:MM` in the user's zone; empty: off.
    #[field(default = String::new())]
    agenda_time: String,
}

/// The daily agenda: a mail of the day's events at the time the user picks, in their zone.
#[allow(clippy::too_many_arguments, reason = "guards: a refusal re-renders the whole account page")]
#[rocket::post("/account/agenda", data = "<form>")]
pub async fn set_agenda(
    form: CsrfForm<AgendaForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    mail: &State<Mail>,
    public_url: &State<PublicUrl>,
    dav: &State<DavPublicUrl>,
    clock: &State<Clock>,
) -> Result<Either<Flash<Redirect>, (Status, Template)>, AppError> {
    let typed = form.0.agenda_time;
    let has_address = store.mail_address_of(user.user.id).await?.is_some();
    let chosen = match typed.trim() {
        "" => Ok(None),
        _ if !has_address => Err("Set a mail address first: the agenda is mailed there.".to_string()),
        time => parse_time_of_day(time)
            .map(Some)
            .ok_or_else(|| format!("\u{201c}{time}\u{201d} is not a time of day: write it as 07:30.")),
    };
    let minutes = match chosen {
        Ok(minutes) => minutes,
        Err(error) => {
            let extras =
                AccountExtras { agenda_value: Some(typed), agenda_error: Some(error), ..Default::default() };
            let context = account_page_context(store, &user, public_url, dav, mail, extras).await?;
            return Ok(Either::Right(page.render_status(
                Status::UnprocessableEntity,
                "account.html",
                context,
            )));
        }
    };
    let agenda = minutes.map(|m| (m, next_agenda(m, user.user.zone(), clock.now()).1));
    store.set_agenda(user.user.id, agenda).await?;
    let notice = match minutes {
        Some(_) => format!("Your day's events will be mailed at {} on days you have some.", typed.trim()),
        None => "No daily agenda.".to_string(),
    };
    Ok(Either::Left(Flash::success(Redirect::to("/account#email"), notice)))
}

#[rocket::get("/account/email/confirm/<token>")]
pub async fn confirm_page(token: LinkToken, page: Page, store: &State<Store>) -> Result<Template, AppError> {
    let address = store.mail_address_by_token(&token.0).await?.ok_or(AppError::NotFound)?;
    Ok(link_page(&page, "confirm", &address, false))
}

/// (The token's shape is checked after the CSRF token, so a forged POST is a 403 whatever
/// its path.)
#[rocket::post("/account/email/confirm/<token>", data = "<_form>")]
pub async fn confirm(
    token: &str,
    _form: CsrfForm<TokenOnly>,
    page: Page,
    store: &State<Store>,
    clock: &State<Clock>,
) -> Result<Template, AppError> {
    let token = LinkToken::from_param(token).map_err(|()| AppError::NotFound)?;
    let address = store.confirm_mail_address(&token.0, clock.now()).await?.ok_or(AppError::NotFound)?;
    Ok(link_page(&page, "confirm", &address, true))
}

#[rocket::get("/mail/unsubscribe/<token>")]
pub async fn unsubscribe_page(
    token: LinkToken,
    page: Page,
    store: &State<Store>,
) -> Result<Template, AppError> {
    let address = store.mail_address_by_token(&token.0).await?.ok_or(AppError::NotFound)?;
    Ok(link_page(&page, "unsubscribe", &address, false))
}

/// The button on the page, and RFC 8058's one-click unsubscribe, which a mail provider
/// POSTs from its own servers (`List-Unsubscribe=One-Click`): no session, no CSRF token;
/// the unguessable token in the path is the authority, as in the mail's link.
#[rocket::post("/mail/unsubscribe/<token>")]
pub async fn unsubscribe(
    token: LinkToken,
    page: Page,
    store: &State<Store>,
    clock: &State<Clock>,
) -> Result<Template, AppError> {
    let address = store.stop_mail_address(&token.0, clock.now()).await?.ok_or(AppError::NotFound)?;
    Ok(link_page(&page, "unsubscribe", &address, true))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![set_address, set_agenda, confirm_page, confirm, unsubscribe_page, unsubscribe]
}

#[cfg(test)]
mod tests {
    use super::{parse_address, parse_time_of_day};

    #[test]
    fn agenda_times_are_hours_and_minutes() {
        assert_eq!(parse_time_of_day(" 07:30 "), Some(450));
        assert_eq!(parse_time_of_day("00:00"), Some(0));
        assert_eq!(parse_time_of_day("23:59"), Some(1439));
        for bad in ["24:00", "7", "07:60", "seven", "07:30:00x"] {
            assert_eq!(parse_time_of_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn addresses_are_checked_before_anything_is_sent() {
        assert_eq!(parse_address("  amy@example.org ").as_deref(), Ok("amy@example.org"));
        assert!(parse_address("amy").is_err());
        assert!(parse_address("amy@example").is_err(), "no dot in the domain");
        assert!(parse_address("amy@example.org\r\nBcc: x@y.z").is_err());
        assert!(parse_address(&format!("{}@example.org", "a".repeat(250))).is_err());
    }
}
