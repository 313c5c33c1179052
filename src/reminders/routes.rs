//! The notification tray: `/notifications` lists what reminded the user (newest first) and
//! marks it read; the header's count comes from `/notifications/count`, fetched by htmx when a
//! page loads and every minute after, so no page waits on it.

use chrono::Utc;
use rocket::response::content::RawHtml;
use rocket::response::{Flash, Redirect};
use rocket::State;
use rocket_dyn_templates::Template;
use serde::Serialize;

use crate::auth::csrf::CsrfForm;
use crate::auth::guard::CurrentUser;
use crate::auth::routes::TokenOnly;
use crate::domain::reminders::describe;
use crate::error::AppError;
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
}

#[rocket::get("/notifications")]
pub async fn tray(user: CurrentUser, page: Page, store: &State<Store>) -> Result<Template, AppError> {
    let zone = user.user.zone();
    let items: Vec<TrayItem> = store
        .notifications_of(user.user.id, SHOWN)
        .await?
        .into_iter()
        .map(|n| TrayItem {
            href: n.event_id.map(|id| {
                format!("/events/{}?at={}", id.0, crate::domain::recurrence::compact(n.occurrence))
            }),
            when: n.occurrence.with_timezone(&zone).format("%A, %-d %B %Y, %H:%M").to_string(),
            reminder: describe(u32::try_from(n.minutes).unwrap_or(0)),
            unread: n.read_at.is_none(),
            title: n.title,
        })
        .collect();
    let unread = items.iter().filter(|i| i.unread).count();
    Ok(page.render("notifications.html", Tray { items, unread }))
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
    rocket::routes![tray, count, read]
}
