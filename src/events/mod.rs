//! Creating, reading, changing and deleting one's own events. Another user's event is a 404,
//! exactly as a missing one.

pub mod form;

use chrono::{Duration, NaiveDate};
use rocket::http::Status;
use rocket::{Either, State};
use rocket_dyn_templates::{Metadata, Template};
use serde_json::{json, Value};

use crate::auth::csrf::{CsrfForm, CsrfHeader};
use crate::auth::guard::CurrentUser;
use crate::cache::{Cache, CacheKey, CacheScope, Fragment};
use crate::calendar::time::{self, local_days};
use crate::clock::Clock;
use crate::error::AppError;
use crate::store::{Event, EventId, EventSummary, Store};
use crate::web::page::{Navigate, Page};
use crate::web::templates::render_to_string;
use form::{EventForm, FieldErrors};

type FormReply = Either<Navigate, (Status, Template)>;

fn form_context(form: &EventForm, errors: &FieldErrors, event: Option<&Event>, zone: &str) -> Value {
    json!({
        "form": form,
        "errors": errors,
        "event_id": event.map(|e| e.id.0),
        "action": event.map_or("/events".to_string(), |e| format!("/events/{}", e.id.0)),
        "zone": zone,
        "input_type": if form.all_day { "date" } else { "datetime-local" },
    })
}

fn render_form(page: &Page, status: Status, context: Value) -> (Status, Template) {
    let template = if page.htmx.fragment { "event_form_fragment.html" } else { "event_form.html" };
    page.render_status(status, template, context)
}

#[rocket::get("/events/new?<date>")]
pub fn new(user: CurrentUser, page: Page, date: Option<&str>, clock: &State<Clock>) -> (Status, Template) {
    let zone = time::zone_of(&user.user);
    let day = date.and_then(time::parse_date).unwrap_or_else(|| time::today(zone, clock.now()));
    let context = form_context(&EventForm::new_on(day), &FieldErrors::new(), None, zone.name());
    render_form(&page, Status::Ok, context)
}

#[rocket::post("/events", data = "<form>")]
pub async fn create(
    form: CsrfForm<EventForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    cache: &State<Cache>,
) -> Result<FormReply, AppError> {
    let zone = time::zone_of(&user.user);
    let draft = match form.0.validate(zone) {
        Ok(draft) => draft,
        Err(errors) => {
            let context = form_context(&form.0, &errors, None, zone.name());
            return Ok(Either::Right(render_form(&page, Status::UnprocessableEntity, context)));
        }
    };
    let id = store.create_event(user.user.id, &draft).await?;
    cache.invalidate_user(user.user.id).await;
    Ok(Either::Left(Navigate { to: format!("/events/{}", id.0), htmx: page.htmx }))
}

async fn owned(store: &Store, user: &CurrentUser, id: EventId) -> Result<Event, AppError> {
    store.event_for(user.user.id, id).await?.ok_or(AppError::NotFound)
}

fn describe_when(event: &Event, zone: chrono_tz::Tz) -> String {
    let (first, last) = local_days(event, zone);
    if event.all_day {
        if first == last {
            first.format("%A, %-d %B %Y (all day)").to_string()
        } else {
            format!("{} – {} (all day)", first.format("%-d %B %Y"), last.format("%-d %B %Y"))
        }
    } else {
        let (start, end) = (event.start_at.with_timezone(&zone), event.end_at.with_timezone(&zone));
        if first == last {
            format!("{}, {}–{}", start.format("%A, %-d %B %Y"), start.format("%H:%M"), end.format("%H:%M"))
        } else {
            format!("{} – {}", start.format("%-d %B %Y %H:%M"), end.format("%-d %B %Y %H:%M"))
        }
    }
}

/// The event's body is cached per user and id; the actions around it (with the CSRF token)
/// are rendered for each request.
#[rocket::get("/events/<id>")]
pub async fn show(
    id: EventId,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    cache: CacheScope<'_>,
    templates: Metadata<'_>,
) -> Result<Template, AppError> {
    let fragment = cache
        .fetch(&CacheKey::event(user.user.id, id.0), || async {
            let event = owned(store, &user, id).await?;
            let zone = time::zone_of(&user.user);
            let (first, _) = local_days(&event, zone);
            let context = json!({
                "event": event,
                "when": describe_when(&event, zone),
                "zone": zone.name(),
                "day_url": format!("/calendar/day/{}", first.format("%Y-%m-%d")),
            });
            let html = render_to_string(&templates, "event_body.html", &context)?;
            Ok(Fragment { title: event.title, html })
        })
        .await?;
    let context = json!({ "event_id": id.0, "title": fragment.title, "cached_fragment_html": fragment.html });
    let template = if page.htmx.fragment { "event_detail_fragment.html" } else { "event_detail.html" };
    Ok(page.render(template, context))
}

#[rocket::get("/events/<id>/edit")]
pub async fn edit(
    id: EventId,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
) -> Result<(Status, Template), AppError> {
    let event = owned(store, &user, id).await?;
    let zone = time::zone_of(&user.user);
    let context =
        form_context(&EventForm::from_event(&event, zone), &FieldErrors::new(), Some(&event), zone.name());
    Ok(render_form(&page, Status::Ok, context))
}

async fn update(
    id: EventId,
    form: EventForm,
    user: CurrentUser,
    page: Page,
    store: &Store,
    cache: &Cache,
) -> Result<FormReply, AppError> {
    let event = owned(store, &user, id).await?;
    let zone = time::zone_of(&user.user);
    let draft = match form.validate(zone) {
        Ok(draft) => draft,
        Err(errors) => {
            let context = form_context(&form, &errors, Some(&event), zone.name());
            return Ok(Either::Right(render_form(&page, Status::UnprocessableEntity, context)));
        }
    };
    if !store.update_event(user.user.id, id, &draft).await? {
        return Err(AppError::NotFound);
    }
    cache.invalidate_user(user.user.id).await;
    Ok(Either::Left(Navigate { to: format!("/events/{}", id.0), htmx: page.htmx }))
}

#[rocket::post("/events/<id>", data = "<form>")]
pub async fn update_post(
    id: EventId,
    form: CsrfForm<EventForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    cache: &State<Cache>,
) -> Result<FormReply, AppError> {
    update(id, form.0, user, page, store, cache).await
}

#[rocket::put("/events/<id>", data = "<form>")]
pub async fn update_put(
    id: EventId,
    form: CsrfForm<EventForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    cache: &State<Cache>,
) -> Result<FormReply, AppError> {
    update(id, form.0, user, page, store, cache).await
}

/// Deletes and returns the day view the event was on.
async fn delete(id: EventId, user: &CurrentUser, store: &Store, cache: &Cache) -> Result<String, AppError> {
    let event = store.delete_event(user.user.id, id).await?.ok_or(AppError::NotFound)?;
    cache.invalidate_user(user.user.id).await;
    let (first, _) = local_days(&event, time::zone_of(&user.user));
    Ok(format!("/calendar/day/{}", first.format("%Y-%m-%d")))
}

#[rocket::post("/events/<id>/delete", data = "<_form>")]
pub async fn delete_post(
    id: EventId,
    _form: CsrfForm<crate::auth::routes::TokenOnly>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    cache: &State<Cache>,
) -> Result<Navigate, AppError> {
    let to = delete(id, &user, store, cache).await?;
    Ok(Navigate { to, htmx: page.htmx })
}

#[rocket::delete("/events/<id>")]
pub async fn delete_htmx(
    id: EventId,
    _csrf: CsrfHeader,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    cache: &State<Cache>,
) -> Result<Navigate, AppError> {
    let to = delete(id, &user, store, cache).await?;
    Ok(Navigate { to, htmx: page.htmx })
}

/// The dashboard's lists: today, then the next 30 days.
pub async fn upcoming(
    store: &Store,
    user: &CurrentUser,
    today: NaiveDate,
) -> Result<(Vec<EventSummary>, Vec<EventSummary>), AppError> {
    let zone = time::zone_of(&user.user);
    let from = time::start_of_day(zone, today - Duration::days(1));
    let until = time::start_of_day(zone, today + Duration::days(32));
    let events = store.events_between(user.user.id, from, until).await?;
    let (mut today_events, mut later) = (Vec::new(), Vec::new());
    for event in events {
        let (first, last) = local_days(&event, zone);
        if first <= today && today <= last {
            today_events.push(event);
        } else if first > today && first <= today + Duration::days(30) {
            later.push(event);
        }
    }
    Ok((today_events, later))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![new, create, show, edit, update_post, update_put, delete_post, delete_htmx]
}
