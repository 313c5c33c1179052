//! GET, PUT and DELETE of objects, and MKCALENDAR, PROPPATCH and DELETE of calendars. Every
//! change goes through the one write path (`Writes`), so the web's views of the owner change
//! at the next request and the change is in the calendar's change log for the next sync.

use bytes::Bytes;
use hyper::StatusCode;

use super::error::{DavError, Precondition};
use super::objects::plan_put;
use super::path::{object_href, DavPath};
use super::request::{prop_changes, Prop, PropChanges};
use super::xml::{XmlOut, CALDAV};
use super::{finish, multistatus, response, Dav, DavRequest, DavResponse, ALLOW};
use crate::calendars::look::PALETTE;
use crate::calendars::NAME_MAX;
use crate::domain::text::strip_controls;
use crate::domain::{Access, Calendar, CalendarDraft, CalendarObject, Change, ObjectRef};
use crate::error::AppError;
use crate::ical::export;

const CALENDAR_TYPE: &str = "text/calendar; charset=utf-8";

/// The object at the request's path: its calendar, and the object if it exists.
async fn object_at(
    dav: &Dav,
    request: &DavRequest<'_>,
) -> Result<(Calendar, Option<CalendarObject>), DavError> {
    let DavPath::Object { calendar, object, .. } = &request.path else {
        return Err(DavError::MethodNotAllowed(ALLOW));
    };
    // A PUT into a calendar that does not exist has no parent collection (RFC 4918 9.7.1).
    let calendar = dav.calendar(&request.principal, calendar).await?.ok_or(DavError::Conflict(
        Precondition::ValidCalendarObjectResource("there is no such calendar".into()),
    ))?;
    let mut found = dav.objects_named(&calendar, &[object.as_str()]).await?;
    Ok((calendar, found.pop()))
}

/// `If-Match` and `If-None-Match` against the object's current ETag (RFC 9110 13.1).
fn check_preconditions(request: &DavRequest<'_>, current: Option<&ObjectRef>) -> Result<(), DavError> {
    let etag = current.map(ObjectRef::etag);
    let listed = |header: &str, etag: &str| {
        header.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == "*" || t == etag)
    };
    if let Some(header) = request.header("If-Match") {
        if !etag.as_deref().is_some_and(|etag| listed(header, etag)) {
            return Err(DavError::PreconditionFailed);
        }
    }
    if let Some(header) = request.header("If-None-Match") {
        if etag.as_deref().is_some_and(|etag| listed(header, etag)) {
            return Err(DavError::PreconditionFailed);
        }
    }
    Ok(())
}

pub async fn get(dav: &Dav, request: &DavRequest<'_>) -> Result<DavResponse, DavError> {
    let head_only = request.head.method == hyper::Method::HEAD;
    let (body, etag) = match &request.path {
        DavPath::Object { .. } => {
            let (_, object) = object_at(dav, request).await?;
            let object = object.ok_or(DavError::NotFound)?;
            (dav.bodies.body(&object).to_string(), Some(object.reference.etag()))
        }
        // The whole calendar, as its export: handy in a browser.
        DavPath::Calendar { calendar, .. } => {
            let calendar = dav.calendar(&request.principal, calendar).await?.ok_or(DavError::NotFound)?;
            let mut events = dav.store.calendar_events(calendar.user_id, calendar.id).await?;
            if !calendar.access.sees_details() {
                events = events.iter().map(crate::domain::Event::times_only).collect();
            }
            let about =
                export::Calendar { name: &calendar.name, color: Some(&calendar.color), refresh: None };
            (export::calendar(&events, &about, chrono::Utc::now()), None)
        }
        _ => {
            let text = "Eventide CalDAV server: add this address to a calendar app.\n".to_string();
            let builder = response(StatusCode::OK).header("Content-Type", "text/plain; charset=utf-8");
            return Ok(finish(builder, if head_only { Bytes::new() } else { Bytes::from(text) }));
        }
    };
    let mut builder = response(StatusCode::OK)
        .header("Content-Type", CALENDAR_TYPE)
        .header("Content-Length", body.len().to_string());
    if let Some(etag) = etag {
        builder = builder.header("ETag", etag);
    }
    Ok(finish(builder, if head_only { Bytes::new() } else { Bytes::from(body) }))
}

pub async fn put(dav: &Dav, request: &DavRequest<'_>) -> Result<DavResponse, DavError> {
    let (calendar, existing) = object_at(dav, request).await?;
    let DavPath::Object { object: name, .. } = &request.path else {
        return Err(DavError::MethodNotAllowed(ALLOW));
    };
    if request
        .header("Content-Type")
        .is_some_and(|t| !t.trim().to_ascii_lowercase().starts_with("text/calendar"))
    {
        return Err(DavError::Forbidden(Precondition::SupportedCalendarData));
    }
    super::writable(&calendar, &request.head.path, "d:write-content")?;
    check_preconditions(request, existing.as_ref().map(|o| &o.reference))?;
    let text = std::str::from_utf8(&request.body)
        .map_err(|_| DavError::Forbidden(Precondition::ValidCalendarData("the body is not UTF-8".into())))?
        .to_string();
    let (zone, calendar_id, owned_name, kept) =
        (request.principal.zone, calendar.id, name.clone(), existing.clone());
    // Parsing and planning are CPU work: off the async workers, like imports.
    let planned =
        tokio::task::spawn_blocking(move || plan_put(&text, zone, calendar_id, &owned_name, kept.as_ref()))
            .await
            .map_err(|e| DavError::App(AppError::Internal(format!("PUT planning failed: {e}"))))??;
    // A write through a share is the owner's event, made by the principal.
    let (author, owner) = (request.principal.user, calendar.user_id);
    if existing.is_none() {
        if let Some((other_calendar, other)) = dav.store.object_with_uid(owner, &planned.uid).await? {
            return Err(DavError::Forbidden(Precondition::NoUidConflict(
                uid_href(dav, request, other_calendar, &other).await?,
            )));
        }
    }
    if !planned.changes.is_empty() {
        if let Err(e) = dav.writes().apply_as(author, owner, planned.changes).await {
            // Two clients creating one UID at once: the unique index decides.
            if let AppError::Database(sqlx::Error::Database(db)) = &e {
                if db.is_unique_violation() {
                    return Err(DavError::Conflict(Precondition::NoUidConflict(request.head.path.clone())));
                }
            }
            return Err(e.into());
        }
    }
    let stored = dav.store.object_refs_by_uid(owner, calendar.id, &[planned.uid.as_str()]).await?;
    let status = if existing.is_some() { StatusCode::NO_CONTENT } else { StatusCode::CREATED };
    let mut builder = response(status);
    if let Some(reference) = stored.first() {
        builder = builder.header("ETag", reference.etag());
    }
    Ok(finish(builder, Bytes::new()))
}

/// Where the object holding a UID lives, as an href; the request's own path when it lives
/// in a calendar of the owner's the principal cannot see (its place is not theirs to learn).
async fn uid_href(
    dav: &Dav,
    request: &DavRequest<'_>,
    calendar: crate::domain::CalendarId,
    object: &ObjectRef,
) -> Result<String, DavError> {
    let calendars = dav.calendars(&request.principal).await?;
    Ok(match calendars.iter().find(|c| c.id == calendar) {
        Some(seen) => object_href(&request.principal.username, &seen.dav_segment(), &object.name),
        None => request.head.path.clone(),
    })
}

pub async fn delete(dav: &Dav, request: &DavRequest<'_>) -> Result<DavResponse, DavError> {
    match &request.path {
        DavPath::Object { .. } => {
            let (calendar, object) = object_at(dav, request).await?;
            let object = object.ok_or(DavError::NotFound)?;
            super::writable(&calendar, &request.head.path, "d:unbind")?;
            check_preconditions(request, Some(&object.reference))?;
            let change = vec![Change::Delete(object.reference.id)];
            let applied = dav.writes().apply_as(request.principal.user, calendar.user_id, change).await?;
            if applied.missed {
                return Err(DavError::NotFound);
            }
        }
        DavPath::Calendar { calendar, .. } => {
            let calendar = dav.calendar(&request.principal, calendar).await?.ok_or(DavError::NotFound)?;
            // Deleting a calendar someone shared removes it from the principal's home alone,
            // as leaving it on the web does.
            if calendar.access != Access::Own {
                if !dav.writes().leave_share(request.principal.user, calendar.id).await? {
                    return Err(DavError::NotFound);
                }
                return Ok(finish(response(StatusCode::NO_CONTENT), Bytes::new()));
            }
            match dav.writes().delete_calendar(request.principal.user, calendar.id).await? {
                Ok(Some(_)) => {}
                Ok(None) => return Err(DavError::NotFound),
                Err(_) => return Err(DavError::Forbidden(Precondition::LastCalendar)),
            }
        }
        _ => return Err(DavError::MethodNotAllowed(ALLOW)),
    }
    Ok(finish(response(StatusCode::NO_CONTENT), Bytes::new()))
}

/// A calendar's name, colour and place, as PROPPATCH or MKCALENDAR ask to change them.
#[derive(Default)]
struct CalendarLook {
    name: Option<String>,
    color: Option<String>,
    position: Option<i32>,
}

/// Each requested property with the status its change would get: 200, 403 (not settable
/// here) or 409 (a value Eventide cannot take).
fn read_changes(changes: &PropChanges, lenient: bool) -> (CalendarLook, Vec<(Prop, StatusCode)>) {
    let mut look = CalendarLook::default();
    let mut statuses = Vec::new();
    for (prop, element) in &changes.set {
        let status = match prop {
            Prop::DisplayName => {
                let name = strip_controls(&element.text, false).trim().to_string();
                if name.is_empty() || name.chars().count() > NAME_MAX {
                    StatusCode::CONFLICT
                } else {
                    look.name = Some(name);
                    StatusCode::OK
                }
            }
            Prop::CalendarColor => match crate::domain::color::from_css(&element.text) {
                Some(color) => {
                    look.color = Some(color);
                    StatusCode::OK
                }
                None => StatusCode::CONFLICT,
            },
            Prop::CalendarOrder => match element.text.trim().parse::<i32>() {
                Ok(position) => {
                    look.position = Some(position);
                    StatusCode::OK
                }
                Err(_) => StatusCode::CONFLICT,
            },
            Prop::SupportedComponents if lenient => {
                let comps: Vec<&str> =
                    element.children_named(CALDAV, "comp").filter_map(|c| c.attribute("name")).collect();
                if comps.iter().any(|c| c.eq_ignore_ascii_case("VEVENT")) {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                }
            }
            // A new calendar's zone and description (iOS and Thunderbird send them):
            // Eventide keeps neither; times come with their own zones.
            Prop::Unknown { ns, name }
                if lenient
                    && ns == CALDAV
                    && matches!(name.as_str(), "calendar-timezone" | "calendar-description") =>
            {
                StatusCode::OK
            }
            _ => StatusCode::FORBIDDEN,
        };
        statuses.push((prop.clone(), status));
    }
    for prop in &changes.remove {
        // Removing what does not exist succeeds (RFC 4918 9.2); what every calendar has
        // cannot be removed.
        let status = match prop {
            Prop::Unknown { .. } => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        };
        statuses.push((prop.clone(), status));
    }
    (look, statuses)
}

/// RFC 4918 9.2: all or nothing. If one property fails, the others answer 424.
fn propstat_response(href: &str, statuses: &[(Prop, StatusCode)]) -> Vec<u8> {
    let failed = statuses.iter().any(|(_, s)| *s != StatusCode::OK);
    let mut out = XmlOut::default();
    out.root("d:multistatus");
    out.start("d:response");
    out.text("d:href", href);
    for (prop, status) in statuses {
        let status =
            if failed && *status == StatusCode::OK { StatusCode::FAILED_DEPENDENCY } else { *status };
        out.start("d:propstat");
        out.start("d:prop");
        super::props::write_name(&mut out, prop);
        out.end("d:prop");
        out.text(
            "d:status",
            &format!("HTTP/1.1 {} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
        );
        out.end("d:propstat");
    }
    out.end("d:response");
    out.end("d:multistatus");
    out.finish()
}

pub async fn proppatch(dav: &Dav, request: &DavRequest<'_>) -> Result<DavResponse, DavError> {
    let root = request.xml()?.ok_or(DavError::BadRequest("a PROPPATCH needs a body"))?;
    if !root.is(super::xml::DAV, "propertyupdate") {
        return Err(DavError::BadRequest("expected a DAV:propertyupdate body"));
    }
    let changes = prop_changes(&root);
    let DavPath::Calendar { calendar, .. } = &request.path else {
        let statuses: Vec<(Prop, StatusCode)> = changes
            .set
            .iter()
            .map(|(p, _)| p.clone())
            .chain(changes.remove.iter().cloned())
            .map(|p| (p, StatusCode::FORBIDDEN))
            .collect();
        return Ok(multistatus(propstat_response(&request.head.path, &statuses)));
    };
    let calendar = dav.calendar(&request.principal, calendar).await?.ok_or(DavError::NotFound)?;
    // The owner names and places a shared calendar; its recipients recolour it on the web.
    if calendar.access != Access::Own {
        let href = request.head.path.clone();
        return Err(DavError::Forbidden(Precondition::NeedPrivileges {
            href,
            privilege: "d:write-properties",
        }));
    }
    let (look, statuses) = read_changes(&changes, false);
    if statuses.iter().all(|(_, s)| *s == StatusCode::OK) {
        let owner = request.principal.user;
        if look.name.is_some() || look.color.is_some() {
            let draft = CalendarDraft {
                name: look.name.unwrap_or_else(|| calendar.name.clone()),
                color: look.color.unwrap_or_else(|| calendar.color.clone()),
            };
            dav.writes().update_calendar(owner, calendar.id, &draft).await?;
        }
        if let Some(position) = look.position {
            dav.writes().set_calendar_position(owner, calendar.id, position).await?;
        }
    }
    Ok(multistatus(propstat_response(&request.head.path, &statuses)))
}

pub async fn mkcalendar(dav: &Dav, request: &DavRequest<'_>) -> Result<DavResponse, DavError> {
    let DavPath::Calendar { calendar: segment, .. } = &request.path else {
        return Err(DavError::Forbidden(Precondition::CalendarCollectionLocationOk));
    };
    let calendars = dav.calendars(&request.principal).await?;
    let taken = calendars.len();
    // `shared-…` names the calendars others share with the principal.
    if segment.starts_with("shared-") || super::find_calendar(calendars, segment).is_some() {
        return Err(DavError::Forbidden(Precondition::ResourceMustBeNull));
    }
    let changes = match request.xml()? {
        Some(root) if root.is(CALDAV, "mkcalendar") => prop_changes(&root),
        Some(_) => return Err(DavError::BadRequest("expected a CALDAV:mkcalendar body")),
        None => PropChanges::default(),
    };
    let (look, statuses) = read_changes(&changes, true);
    if statuses.iter().any(|(_, s)| *s != StatusCode::OK) {
        let body = propstat_response(&request.head.path, &statuses);
        let builder =
            response(StatusCode::FORBIDDEN).header("Content-Type", "application/xml; charset=utf-8");
        return Ok(finish(builder, Bytes::from(body)));
    }
    let draft = CalendarDraft {
        name: look.name.unwrap_or_else(|| "New calendar".into()),
        color: look.color.unwrap_or_else(|| PALETTE[taken % PALETTE.len()].0.to_string()),
    };
    let owner = request.principal.user;
    let id = dav.writes().create_calendar_at(owner, &draft, segment).await?;
    if let Some(position) = look.position {
        dav.writes().set_calendar_position(owner, id, position).await?;
    }
    Ok(finish(response(StatusCode::CREATED).header("Content-Length", "0"), Bytes::new()))
}
