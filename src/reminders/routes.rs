//! The notification tray: `/notifications` lists what reminded the user (newest first) and
//! marks it read; the header's count comes from `/notifications/count`, fetched by htmx when a
//! page loads and every minute after, so no page waits on it.

use chrono::Utc;
use rocket::response::content::RawHtml;
use rocket::response::{Flash, Redirect};
use rocket::State;
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::{event_path, when};
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::CurrentUser;
use crate::auth::routes::TokenOnly;
use crate::domain::reminders::describe_for;
use crate::error::AppError;
use crate::store::mail::{AddressState, MailAddress};
use crate::store::Store;
use crate::web::page::Page;

/// The most the tray lists.
const SHOWN: i64 = 50;

#[derive(Serialize)]
struct TrayItem {
    title: String,
    /// Where it leads: the occurrence it reminded of (nothing once the event is gone).
    href: Option<String>,
    when: String,
    reminder: String,
    unread: bool,
}

#[derive(Serialize)]
struct Tray {
    items: Vec<TrayItem>,
    unread: usize,
    /// The newest one's id: turning on browser notifications shows only what comes after.
    latest: i64,
    /// The user's mail address, when the mail server refused it: they are told here too.
    paused_mail: Option<MailAddress>,
}

/// A notification as the browser shows it (the script polls for these once the user opted in).
#[derive(Serialize)]
pub struct BrowserNotification {
    id: i64,
    title: String,
    body: String,
    href: String,
}

#[rocket::get("/notifications")]
pub async fn tray(user: CurrentUser, page: Page, store: &State<Store>) -> Result<Template, AppError> {
    let zone = user.user.zone();
    let notifications = store.notifications_of(user.user.id, SHOWN).await?;
    let latest = notifications.first().map_or(0, |n| n.id);
    let items: Vec<TrayItem> = notifications
        .into_iter()
        .map(|n| TrayItem {
            href: event_path(&n),
            when: when(&n, zone, "%A, %-d %B %Y", ", %H:%M"),
            reminder: describe_for(u32::try_from(n.minutes).unwrap_or(0), n.all_day),
            unread: n.read_at.is_none(),
            title: n.title,
        })
        .collect();
    let unread = items.iter().filter(|i| i.unread).count();
    let paused_mail =
        store.mail_address_of(user.user.id).await?.filter(|address| address.state == AddressState::Paused);
    Ok(page.render("notifications.html", Tray { items, unread, latest, paused_mail }))
}

/// What the browser has not shown yet: unread notifications after `after` (an id).
#[rocket::get("/notifications/unread.json?<after>")]
pub async fn unread(
    after: Option<i64>,
    user: CurrentUser,
    store: &State<Store>,
) -> Result<rocket::serde::json::Json<Vec<BrowserNotification>>, AppError> {
    let zone = user.user.zone();
    let fresh = store.unread_notifications_after(user.user.id, after.unwrap_or(0)).await?;
    Ok(rocket::serde::json::Json(
        fresh
            .into_iter()
            .map(|n| BrowserNotification {
                id: n.id,
                body: format!(
                    "{} · {}",
                    when(&n, zone, "%a %-d %b", ", %H:%M"),
                    describe_for(u32::try_from(n.minutes).unwrap_or(0), n.all_day)
                ),
                href: event_path(&n).unwrap_or_else(|| "/notifications".to_string()),
                title: n.title,
            })
            .collect(),
    ))
}

/// The header's unread count: a badge, or nothing.
#[rocket::get("/notifications/count")]
pub async fn count(user: CurrentUser, store: &State<Store>) -> Result<RawHtml<String>, AppError> {
    let unread = store.unread_notifications(user.user.id).await?;
    Ok(RawHtml(match unread {
        0 => String::new(),
        n => format!(" <span class=\"badge\">{n}<span class=\"visually-hidden\"> unread</span></span>"),
    }))
}

#[rocket::post("/notifications/read", data = "<_form>")]
pub async fn read(
    _form: CsrfForm<TokenOnly>,
    user: CurrentUser,
    store: &State<Store>,
) -> Result<Flash<Redirect>, AppError> {
    store.mark_notifications_read(user.user.id, Utc::now()).await?;
    Ok(Flash::success(Redirect::to("/notifications"), "All caught up."))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![tray, count, read, unread]
}
