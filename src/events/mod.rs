//! Creating, reading, changing and deleting events: one's own, and those of calendars shared
//! with one (changed only with write access: read access answers 403). Any other user's
//! event, and one of a calendar shared busy-only, is a 404, exactly as a missing one.

pub mod form;
pub mod free_busy;
pub mod repeat;
pub mod series;
pub mod undo;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::{Either, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use crate::auth::csrf::{CsrfForm, CsrfHeader};
use crate::auth::guard::CurrentUser;
use crate::cache::{CacheKey, CacheScope, Fragment};
use crate::calendars::look::CalendarLook;
use crate::clock::Clock;
use crate::domain::new_uid;
use crate::domain::recurrence::describe::describe;
use crate::domain::recurrence::{compact, parse_compact};
use crate::domain::reminders::reminder_choices;
use crate::domain::time::{self, local_days};
use crate::domain::{
    Access, Calendar, Change, Event, EventDraft, EventId, EventSummary, NewEvent, ReadScope, UserId,
};
use crate::error::AppError;
use crate::kv::Kv;
use crate::store::Store;
use crate::web::page::{safe_next, Page, SwapMain};
use crate::web::templates::{render_to_string, Fragments};
use crate::writes::Writes;
use form::{EventForm, FieldErrors};
use series::Scope;
use undo::Undoing;

type FormReply = Either<Undoable, (Status, Template)>;

/// A change's landing page, and for htmx and the calendar's script an "Undo" offer
/// (`HX-Trigger: {"eventide:undo": {token, message}}`) the page shows in a toast.
pub struct Undoable {
    swap: SwapMain,
    offer: Option<(String, &'static str)>,
}

impl Undoable {
    fn plain(swap: SwapMain) -> Undoable {
        Undoable { swap, offer: None }
    }
}

impl<'r> rocket::response::Responder<'r, 'static> for Undoable {
    fn respond_to(self, request: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        let fragment = self.swap.htmx.fragment;
        let mut response = self.swap.respond_to(request)?;
        if let (true, Some((token, message))) = (fragment, self.offer) {
            let trigger = json!({ "eventide:undo": { "token": token, "message": message } });
            response.set_header(rocket::http::Header::new("HX-Trigger", trigger.to_string()));
        }
        Ok(response)
    }
}

fn form_context(
    form: &EventForm,
    errors: &FieldErrors,
    target: Option<&Target>,
    zone: chrono_tz::Tz,
    calendars: &[Calendar],
) -> Value {
    let first_day = time::parse_date(form.start.get(..10).unwrap_or(""))
        .unwrap_or_else(|| time::today(zone, chrono::Utc::now()));
    json!({
        "form": form,
        "errors": errors,
        "event_id": target.map(|t| t.event.id.0),
        "action": target.map_or("/events".to_string(), |t| format!("/events/{}", t.event.id.0)),
        "cancel": target.map_or_else(|| if form.next.is_empty() { "/calendar".to_string() } else { form.next.clone() }, Target::href),
        "zone": zone.name(),
        "input_type": if form.all_day { "date" } else { "datetime-local" },
        "weekdays": repeat::weekday_choices(),
        "repeat_choices": [["none", "Does not repeat"], ["daily", "Daily"], ["weekly", "Weekly"],
                           ["monthly", "Monthly"], ["yearly", "Yearly"]],
        "end_choices": [["never", "Never"], ["count", "After a number of times"], ["until", "On a date"]],
        "scope_choices": [["this", "This event"], ["following", "This and following events"], ["all", "All events"]],
        "monthly_choices": repeat::monthly_choices(first_day),
        "reminder_choices": form.reminder_choices(false),
        "all_day_reminder_choices": form.reminder_choices(true),
        "reminder_day_choices": [["1", "the day before"], ["2", "2 days before"], ["3", "3 days before"], ["7", "a week before"]],
        "asks_scope": target.is_some_and(|t| t.at.is_some() && t.event.series_id.is_none()),
        "is_edited_occurrence": target.is_some_and(|t| t.event.series_id.is_some()),
        "calendars": calendars,
        "calendar_id": if form.calendar_id.is_empty() {
            calendars.iter().find(|c| c.is_default).map(|c| c.id.0.to_string()).unwrap_or_default()
        } else {
            form.calendar_id.clone()
        },
    })
}

fn render_form(page: &Page, status: Status, context: Value) -> (Status, Template) {
    let template = if page.htmx.fragment { "event_form_fragment.html" } else { "event_form.html" };
    page.render_status(status, template, context)
}

/// What a new event's form can be opened with: a day (`date`), or the times a slot of the
/// calendar was picked at and what the quick-create popover had (`start`, `end`, `title`,
/// `calendar_id`); `next`: where to go once the event is created (the view it came from).
#[derive(Debug, Default, rocket::FromForm)]
pub struct Prefill<'r> {
    date: Option<&'r str>,
    start: Option<&'r str>,
    end: Option<&'r str>,
    title: Option<&'r str>,
    calendar_id: Option<&'r str>,
    next: Option<&'r str>,
}

#[rocket::get("/events/new?<prefill..>")]
pub async fn new(
    user: CurrentUser,
    page: Page,
    prefill: Prefill<'_>,
    clock: &State<Clock>,
    store: &State<Store>,
    cache: CacheScope<'_>,
    templates: Fragments<'_>,
) -> Result<(Status, Template), AppError> {
    let zone = user.user.zone();
    let day = prefill.date.and_then(time::parse_date).unwrap_or_else(|| time::today(zone, clock.now()));
    let mut form = EventForm::new_on(day);
    // Times are taken as typed: the form shows them and validates them on save.
    let minute = |t: &&str| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").is_ok();
    if let (Some(start), Some(end)) = (prefill.start.filter(minute), prefill.end.filter(minute)) {
        (form.start, form.end) = (start.to_string(), end.to_string());
    }
    form.title = prefill.title.unwrap_or_default().chars().take(form::TITLE_MAX).collect();
    form.calendar_id = prefill.calendar_id.unwrap_or_default().chars().take(20).collect();
    form.next = prefill.next.map(|n| safe_next(Some(n))).unwrap_or_default();
    let calendars = writable(store.visible_calendars(user.user.id).await?, None);
    // The calendar's default reminders start ticked (one's own calendar: they remind its owner).
    let chosen = form.calendar_id.parse::<i64>().ok();
    let target = calendars.iter().find(|c| chosen.map_or(c.is_default, |id| c.id.0 == id));
    let mut all_day_defaults = Vec::new();
    if let Some(calendar) = target.filter(|c| c.user_id == user.user.id) {
        let defaults = store.default_reminders_of(user.user.id).await?;
        if let Some(d) = defaults.into_iter().find(|d| d.calendar_id == calendar.id) {
            form.reminders = d.default_reminders.minutes().iter().map(u32::to_string).collect();
            all_day_defaults = d.default_all_day_reminders.minutes().iter().map(u32::to_string).collect();
        }
    }
    let mut context = form_context(&form, &FieldErrors::new(), None, zone, &calendars);
    context["all_day_reminder_choices"] = json!(reminder_choices(&all_day_defaults, true));
    let busy_day = time::parse_date(form.start.get(..10).unwrap_or_default()).unwrap_or(day);
    context["free_busy_html"] = free_busy::busy_on(store, &cache, &templates, &user, busy_day).await?.into();
    Ok(render_form(&page, Status::Ok, context))
}

/// The calendars an event can be put in: the reader's own and those shared with them to
/// write; for an existing event, only its owner's (an event never changes hands).
fn writable(calendars: Vec<Calendar>, owner: Option<UserId>) -> Vec<Calendar> {
    calendars
        .into_iter()
        .filter(|c| c.access.can_write() && owner.is_none_or(|owner| c.user_id == owner))
        .collect()
}

/// The calendar a form names, or `None` when it names none. One the user cannot see is a
/// 404, as a missing one; one they may only read (or that belongs to someone other than the
/// event's owner) is a 403.
fn named_calendar(
    calendars: &[Calendar],
    form: &EventForm,
    owner: Option<UserId>,
) -> Result<Option<Calendar>, AppError> {
    let typed = form.calendar_id.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    let id = typed.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let calendar = calendars.iter().find(|c| c.id.0 == id).ok_or(AppError::NotFound)?;
    if !calendar.access.can_write() || owner.is_some_and(|owner| calendar.user_id != owner) {
        return Err(AppError::ReadOnly);
    }
    Ok(Some(calendar.clone()))
}

#[rocket::post("/events", data = "<form>")]
pub async fn create(
    form: CsrfForm<EventForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    writes: Writes<'_>,
) -> Result<FormReply, AppError> {
    let zone = user.user.zone();
    let calendars = store.visible_calendars(user.user.id).await?;
    let named = named_calendar(&calendars, &form.0, None)?;
    let mut draft = match form.0.validate(zone) {
        Ok(draft) => draft,
        Err(errors) => {
            let context = form_context(&form.0, &errors, None, zone, &writable(calendars, None));
            return Ok(Either::Right(render_form(&page, Status::UnprocessableEntity, context)));
        }
    };
    let (calendar, owner) = match named {
        Some(calendar) => (calendar.id, calendar.user_id),
        None => (store.default_calendar(user.user.id).await?.id, user.user.id),
    };
    if form.0.calendar_reminders && draft.reminders.is_empty() && owner == user.user.id {
        let defaults =
            store.default_reminders_of(owner).await?.into_iter().find(|d| d.calendar_id == calendar);
        if let Some(d) = defaults {
            draft.reminders = if draft.all_day { d.default_all_day_reminders } else { d.default_reminders };
        }
    }
    let new =
        NewEvent { calendar, draft, uid: new_uid(), exdates: String::new(), series: None, dav_name: None };
    let applied = writes.apply_as(user.user.id, owner, vec![Change::Insert(new)]).await?;
    let id = applied.inserted.first().copied().ok_or(AppError::NotFound)?;
    let to = if form.0.next.is_empty() { format!("/events/{}", id.0) } else { safe_next(Some(&form.0.next)) };
    Ok(Either::Left(Undoable::plain(SwapMain { to, htmx: page.htmx })))
}

/// What a URL names: an event, or one occurrence of a series (`at`); for an edited
/// occurrence, also the series it belongs to.
pub struct Target {
    pub event: Event,
    /// The series row, for an occurrence or an edited occurrence.
    pub series: Option<Event>,
    pub at: Option<DateTime<Utc>>,
    /// The series' edited occurrences, when finding the target already read them.
    overrides: Option<Vec<Event>>,
    /// Whose event it is, and what the reader may do with it.
    pub owner: UserId,
    pub access: Access,
}

impl Target {
    /// The event as it happens: an occurrence carries its own start and end.
    fn shown(&self) -> Event {
        let mut shown = self.event.clone();
        if let (Some(at), None) = (self.at, self.event.series_id) {
            shown.end_at = at + (self.event.end_at - self.event.start_at);
            shown.start_at = at;
        }
        shown
    }

    fn href(&self) -> String {
        match (self.at, self.event.series_id) {
            (Some(at), None) => format!("/events/{}?at={}", self.event.id.0, compact(at)),
            _ => format!("/events/{}", self.event.id.0),
        }
    }

    /// Refuses a change the reader may not make (a calendar shared with them to read).
    fn writable(&self) -> Result<(), AppError> {
        if self.access.can_write() {
            Ok(())
        } else {
            Err(AppError::ReadOnly)
        }
    }

    fn repeats(&self) -> bool {
        self.series.is_some() || self.event.rrule.is_some()
    }

    /// The edited occurrences of the series this target belongs to (or is), read at most
    /// once per request.
    async fn overrides(&self, store: &Store) -> Result<Vec<Event>, AppError> {
        match &self.overrides {
            Some(known) => Ok(known.clone()),
            None => {
                Ok(store.overrides_of(self.owner, self.series.as_ref().unwrap_or(&self.event).id).await?)
            }
        }
    }
}

/// The event (or occurrence) `id` and `at` name, if the user can see it and it exists:
/// another user's event (unless shared with the user, and not busy-only), an unknown or
/// malformed `at`, or a cancelled occurrence are all 404.
async fn target(
    store: &Store,
    user: &CurrentUser,
    id: EventId,
    at: Option<&str>,
) -> Result<Target, AppError> {
    let (event, access) = store.event_seen_by(user.user.id, id).await?.ok_or(AppError::NotFound)?;
    if !access.sees_details() {
        return Err(AppError::NotFound);
    }
    let owner = event.user_id;
    if let Some(series_id) = event.series_id {
        if at.is_some() {
            return Err(AppError::NotFound);
        }
        let series = store.event_for(owner, series_id).await?.ok_or(AppError::NotFound)?;
        let at = event.recurrence_id;
        return Ok(Target { event, series: Some(series), at, overrides: None, owner, access });
    }
    let Some(at) = at else {
        return Ok(Target { event, series: None, at: None, overrides: None, owner, access });
    };
    let at = parse_compact(at).ok_or(AppError::NotFound)?;
    if !event.series().is_some_and(|series| series.is_occurrence(at)) {
        return Err(AppError::NotFound);
    }
    // An occurrence edited on its own is shown (and changed) as it is now, even from its
    // original URL (a bookmark, a page open in another tab).
    let overrides = store.overrides_of(owner, id).await?;
    let edited = overrides.iter().find(|o| o.recurrence_id == Some(at)).cloned();
    let overrides = Some(overrides);
    match edited {
        Some(edited) => {
            Ok(Target { event: edited, series: Some(event), at: Some(at), overrides, owner, access })
        }
        None => Ok(Target { series: Some(event.clone()), event, at: Some(at), overrides, owner, access }),
    }
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

fn day_url(event: &Event, zone: chrono_tz::Tz) -> String {
    format!("/calendar/day/{}", local_days(event, zone).0.format("%Y-%m-%d"))
}

/// The event's body is cached per user, id and occurrence; the actions around it (with the
/// CSRF token) are rendered for each request.
#[rocket::get("/events/<id>?<at>")]
pub async fn show(
    id: EventId,
    at: Option<&str>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    cache: CacheScope<'_>,
    templates: Fragments<'_>,
) -> Result<Either<RawHtml<String>, Template>, AppError> {
    let fragment = cache
        .fetch(&CacheKey::event(user.user.id, id.0, at), || async {
            let target = target(store, &user, id, at).await?;
            let zone = user.user.zone();
            let shown = target.shown();
            let rule = target.series.as_ref().unwrap_or(&target.event).rule();
            let calendar = store.calendar_seen_by(user.user.id, shown.calendar_id).await?;
            let context = json!({
                "calendar": calendar.as_ref().map(CalendarLook::from),
                "read_only": !target.access.can_write(),
                "event": shown,
                "when": describe_when(&shown, zone),
                "zone": zone.name(),
                "day_url": day_url(&shown, zone),
                "repeats": rule.map(|r| describe(&r, target.event.zone())),
                "edited_occurrence": target.event.series_id.is_some(),
                "series_url": target.series.as_ref().map(|s| format!("/events/{}", s.id.0)),
                "reminders": shown.reminders.minutes().iter().map(|m| crate::domain::reminders::describe_for(*m, shown.all_day)).collect::<Vec<_>>(),
            });
            let html = render_to_string(&templates, "event_body.html", &context)?;
            Ok(Fragment { title: shown.title, html })
        })
        .await?;
    // A hit costs no SQL, so whether the event repeats (which decides between the one-click
    // delete and the "which part?" page) is read from the cached body, which says so.
    let context = EventDetail {
        event_id: id.0,
        title: &fragment.title,
        cached_fragment_html: &fragment.html,
        query: at.map(|a| format!("?at={a}")).unwrap_or_default(),
        repeats: at.is_some() || fragment.html.contains("class=\"repeats\""),
        read_only: fragment.html.contains("class=\"read-only\""),
        csrf_token: &page.csrf_token,
    };
    if page.htmx.fragment {
        // Our own engine, straight from the typed context: a hit is mostly this render.
        let html = render_to_string(&templates, "event_detail_fragment.html", &context)?;
        return Ok(Either::Left(RawHtml(html)));
    }
    Ok(Either::Right(page.render("event_detail.html", context)))
}

/// The event page around its cached body: the actions, with this request's CSRF token.
#[derive(serde::Serialize)]
struct EventDetail<'a> {
    event_id: i64,
    title: &'a str,
    cached_fragment_html: &'a str,
    query: String,
    repeats: bool,
    read_only: bool,
    csrf_token: &'a str,
}

#[rocket::get("/events/<id>/edit?<at>")]
pub async fn edit(
    id: EventId,
    at: Option<&str>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
) -> Result<(Status, Template), AppError> {
    let target = target(store, &user, id, at).await?;
    target.writable()?;
    let zone = user.user.zone();
    let occurrence = target.at.filter(|_| target.event.series_id.is_none());
    let form = EventForm::from_event(&target.event, zone, occurrence);
    let calendars = writable(store.visible_calendars(user.user.id).await?, Some(target.owner));
    let context = form_context(&form, &FieldErrors::new(), Some(&target), zone, &calendars);
    Ok(render_form(&page, Status::Ok, context))
}

/// Saves `form` over the event; with `undo`, the change can be undone for a minute.
async fn update(
    id: EventId,
    form: EventForm,
    user: CurrentUser,
    page: Page,
    store: &Store,
    writes: &Writes<'_>,
    undo: Option<&Kv>,
) -> Result<FormReply, AppError> {
    let occurrence = Some(form.occurrence.as_str()).filter(|o| !o.is_empty());
    let target = target(store, &user, id, occurrence).await?;
    target.writable()?;
    let zone = user.user.zone();
    let calendars = store.visible_calendars(user.user.id).await?;
    let named = named_calendar(&calendars, &form, Some(target.owner))?.map(|c| c.id);
    let draft = match form.validate(zone) {
        Ok(draft) => draft,
        Err(errors) => {
            let calendars = writable(calendars, Some(target.owner));
            let context = form_context(&form, &errors, Some(&target), zone, &calendars);
            return Ok(Either::Right(render_form(&page, Status::UnprocessableEntity, context)));
        }
    };
    let (mut changes, to) = match (&target.series, target.at) {
        // An edited occurrence stays one occurrence: it cannot start a series of its own.
        (Some(_), _) if target.event.series_id.is_some() => {
            // The edited occurrence's own row, whichever URL the form came from.
            let edited = target.event.id;
            let single = EventDraft { recurrence: None, ..draft };
            (
                vec![Change::Update { id: edited, draft: single, exdates: String::new() }],
                Landing::Event(edited),
            )
        }
        (Some(master), Some(at)) => {
            let scope = Scope::parse(&form.scope).unwrap_or(Scope::This);
            let overrides = target.overrides(store).await?;
            let day = day_url(&Event { start_at: draft.start_at, ..master.clone() }, zone);
            let landing = match scope {
                Scope::Following | Scope::This => Landing::FirstInserted { otherwise: day },
                Scope::All => Landing::Day(day),
            };
            (series::edit(master, &overrides, at, scope, &draft), landing)
        }
        _ if target.event.rrule.is_some() => {
            let overrides = target.overrides(store).await?;
            let master = &target.event;
            (series::edit(master, &overrides, master.start_at, Scope::All, &draft), Landing::Event(id))
        }
        _ => {
            let exdates = target.event.exdates.clone();
            (vec![Change::Update { id, draft, exdates }], Landing::Event(id))
        }
    };
    // A new calendar takes the whole object: the series with every occurrence and edit.
    let object = target.series.as_ref().unwrap_or(&target.event);
    if let Some(calendar) = named.filter(|c| *c != object.calendar_id) {
        changes.push(Change::Move { id: object.id, calendar });
    }
    let by = undo::By { author: user.user.id, owner: target.owner };
    let (applied, token) = match undo {
        Some(kv) => undo::apply_undoably(store, writes, kv, by, changes).await?,
        None => (writes.apply_as(by.author, by.owner, changes).await?, None),
    };
    let to = match to {
        Landing::Event(id) => format!("/events/{}", id.0),
        Landing::Day(url) => url,
        Landing::FirstInserted { otherwise } => match applied.inserted.first() {
            Some(inserted) => format!("/events/{}", inserted.0),
            None => otherwise,
        },
    };
    let offer = token.map(|token| (token, "Event moved"));
    Ok(Either::Left(Undoable { swap: SwapMain { to, htmx: page.htmx }, offer }))
}

/// Where a saved change sends the browser.
enum Landing {
    Event(EventId),
    Day(String),
    /// The series or edited occurrence the change inserted ("this", "this and following"),
    /// or else a day.
    FirstInserted {
        otherwise: String,
    },
}

#[rocket::post("/events/<id>", data = "<form>")]
pub async fn update_post(
    id: EventId,
    form: CsrfForm<EventForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    writes: Writes<'_>,
) -> Result<FormReply, AppError> {
    update(id, form.0, user, page, store, &writes, None).await
}

#[rocket::put("/events/<id>", data = "<form>")]
pub async fn update_put(
    id: EventId,
    form: CsrfForm<EventForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    writes: Writes<'_>,
) -> Result<FormReply, AppError> {
    update(id, form.0, user, page, store, &writes, None).await
}

/// A drag on the calendar: new times for an event or one occurrence (`scope` as in the form,
/// "this" by default), in the user's zone as the form takes them.
#[derive(Debug, Default, rocket::FromForm)]
pub struct MoveForm {
    #[field(default = String::new())]
    start: String,
    #[field(default = String::new())]
    end: String,
    #[field(default = String::new())]
    scope: String,
    #[field(default = String::new())]
    occurrence: String,
}

/// Moves or resizes an event: the event's own form with new times, saved as the form is (the
/// same validation, 422 with the form on a bad time), and undoable.
#[rocket::post("/events/<id>/move", data = "<form>")]
pub async fn move_event(
    id: EventId,
    form: CsrfForm<MoveForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    undoing: Undoing<'_>,
) -> Result<FormReply, AppError> {
    let moved = form.0;
    let occurrence = Some(moved.occurrence.as_str()).filter(|o| !o.is_empty());
    let target = target(store, &user, id, occurrence).await?;
    let at = target.at.filter(|_| target.event.series_id.is_none());
    let mut changed = EventForm::from_event(&target.event, user.user.zone(), at);
    (changed.start, changed.end) = (moved.start, moved.end);
    if !moved.scope.is_empty() {
        changed.scope = moved.scope;
    }
    update(id, changed, user, page, store, &undoing.writes, Some(undoing.kv)).await
}

/// Undoes a move or a delete made in the last minute (the token its response offered).
#[rocket::post("/undo/<token>")]
pub async fn undo_change(
    token: &str,
    _csrf: CsrfHeader,
    user: CurrentUser,
    store: &State<Store>,
    undoing: Undoing<'_>,
) -> Result<Status, AppError> {
    undo::undo(store, &undoing.writes, undoing.kv, user.user.id, token).await?;
    Ok(Status::NoContent)
}

/// Asks which part of a repeating event to delete (and, without JavaScript, confirms any
/// delete).
#[rocket::get("/events/<id>/delete?<at>")]
pub async fn delete_page(
    id: EventId,
    at: Option<&str>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
) -> Result<Template, AppError> {
    let target = target(store, &user, id, at).await?;
    target.writable()?;
    let zone = user.user.zone();
    let shown = target.shown();
    let context = json!({
        "event_id": id.0,
        "title": shown.title,
        "when": describe_when(&shown, zone),
        "occurrence": target.at.filter(|_| target.event.series_id.is_none()).map(compact).unwrap_or_default(),
        "repeats": target.repeats(),
        "edited_occurrence": target.event.series_id.is_some(),
        "back": target.href(),
    });
    Ok(page.render("event_delete.html", context))
}

#[derive(Debug, Default, rocket::FromForm)]
pub struct DeleteForm {
    #[field(default = String::new())]
    scope: String,
    #[field(default = String::new())]
    occurrence: String,
}

/// Deletes and returns the day view the event (or occurrence) was on, and the token that
/// undoes the delete (if the key-value store kept it).
async fn delete(
    id: EventId,
    choice: &DeleteForm,
    user: &CurrentUser,
    store: &Store,
    writes: &Writes<'_>,
    kv: &Kv,
) -> Result<(String, Option<String>), AppError> {
    let occurrence = Some(choice.occurrence.as_str()).filter(|o| !o.is_empty());
    let target = target(store, user, id, occurrence).await?;
    target.writable()?;
    let by = undo::By { author: user.user.id, owner: target.owner };
    let back = day_url(&target.shown(), user.user.zone());
    match (&target.series, target.at) {
        (Some(master), Some(at)) => {
            // An edited occurrence's delete button removes that occurrence only.
            let scope = if target.event.series_id.is_some() {
                Scope::This
            } else {
                Scope::parse(&choice.scope).unwrap_or(Scope::This)
            };
            let overrides = target.overrides(store).await?;
            let changes = series::delete(master, &overrides, at, scope);
            let (_, token) = undo::apply_undoably(store, writes, kv, by, changes).await?;
            Ok((back, token))
        }
        _ => {
            let (applied, token) =
                undo::apply_undoably(store, writes, kv, by, vec![Change::Delete(id)]).await?;
            if applied.missed {
                return Err(AppError::NotFound);
            }
            Ok((back, token))
        }
    }
}

#[rocket::post("/events/<id>/delete", data = "<form>")]
pub async fn delete_post(
    id: EventId,
    form: CsrfForm<DeleteForm>,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    undoing: Undoing<'_>,
) -> Result<Undoable, AppError> {
    let (to, token) = delete(id, &form.0, &user, store, &undoing.writes, undoing.kv).await?;
    let offer = token.map(|token| (token, "Event deleted"));
    Ok(Undoable { swap: SwapMain { to, htmx: page.htmx }, offer })
}

/// `?scope=&occurrence=` as in the form.
#[rocket::delete("/events/<id>?<choice..>")]
pub async fn delete_htmx(
    id: EventId,
    choice: DeleteForm,
    _csrf: CsrfHeader,
    user: CurrentUser,
    page: Page,
    store: &State<Store>,
    undoing: Undoing<'_>,
) -> Result<Undoable, AppError> {
    let (to, token) = delete(id, &choice, &user, store, &undoing.writes, undoing.kv).await?;
    let offer = token.map(|token| (token, "Event deleted"));
    Ok(Undoable { swap: SwapMain { to, htmx: page.htmx }, offer })
}

/// The dashboard's lists: today, then the next 30 days.
pub async fn upcoming(
    store: &Store,
    user: &CurrentUser,
    calendars: &[Calendar],
    today: NaiveDate,
) -> Result<(Vec<EventSummary>, Vec<EventSummary>), AppError> {
    let zone = user.user.zone();
    let from = time::start_of_day(zone, today - Duration::days(1));
    let until = time::start_of_day(zone, today + Duration::days(32));
    let events = store.events_between(&ReadScope::shown(calendars), from, until).await?;
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
    rocket::routes![
        new,
        create,
        show,
        edit,
        update_post,
        update_put,
        move_event,
        undo_change,
        delete_page,
        delete_post,
        delete_htmx,
        free_busy::free_busy
    ]
}
