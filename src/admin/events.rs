//! Events across users: a read-only list and detail, and deletion.

use rocket::request::FlashMessage;
use rocket::response::Flash;
use rocket::serde::json::json;
use rocket::{Either, State};
use rocket_dyn_templates::Template;

use super::{audit, confirm_page, notice, pages, Confirmation};
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::AdminUser;
use crate::calendars::look::CalendarLook;
use crate::domain::{Change, EventId};
use crate::error::AppError;
use crate::store::Store;
use crate::web::page::{Navigate, Page};
use crate::writes::Writes;

#[rocket::get("/admin/events?<q>&<p>")]
pub async fn list(
    _admin: AdminUser,
    page: Page,
    store: &State<Store>,
    q: Option<&str>,
    p: Option<i64>,
    flash: Option<FlashMessage<'_>>,
) -> Result<Template, AppError> {
    let (filter, number) = (q.unwrap_or_default().trim(), p.unwrap_or(1).max(1));
    let (events, total) = store.admin_events(filter, number).await?;
    Ok(page.render(
        "admin_events.html",
        json!({ "events": events, "q": filter, "page": number, "pages": pages(total).max(1), "total": total, "notice": notice(flash) }),
    ))
}

#[rocket::get("/admin/events/<id>")]
pub async fn show(
    _admin: AdminUser,
    page: Page,
    store: &State<Store>,
    id: EventId,
) -> Result<Template, AppError> {
    let event = store.event_by_id(id).await?.ok_or(AppError::NotFound)?;
    let owner = store.user_by_id(event.user_id).await?.map(|u| u.username).unwrap_or_default();
    let calendar =
        store.calendar_for(event.user_id, event.calendar_id).await?.map(|c| CalendarLook::from(&c));
    Ok(page.render("admin_event.html", json!({ "event": event, "owner": owner, "calendar": calendar })))
}

#[rocket::post("/admin/events/<id>/delete", data = "<form>")]
pub async fn delete(
    id: EventId,
    form: CsrfForm<Confirmation>,
    admin: AdminUser,
    page: Page,
    store: &State<Store>,
    writes: Writes<'_>,
) -> Result<Either<Flash<Navigate>, Template>, AppError> {
    let event = store.event_by_id(id).await?.ok_or(AppError::NotFound)?;
    if !form.0.given() {
        let question = format!("Delete the event \u{201c}{}\u{201d}? Its owner loses it.", event.title);
        return Ok(Either::Right(confirm_page(
            &page,
            &question,
            &format!("/admin/events/{}/delete", id.0),
            None,
        )));
    }
    if !writes.apply_as(admin.0.user.id, event.user_id, vec![Change::Delete(id)]).await?.missed {
        audit(store, &admin, "delete event", &format!("event #{} of user #{}", id.0, event.user_id.0))
            .await?;
    }
    let to = Navigate { to: "/admin/events".into(), htmx: page.htmx };
    Ok(Either::Left(Flash::success(to, "The event was deleted.")))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![list, show, delete]
}
