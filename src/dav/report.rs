//! REPORT on a calendar: `calendar-multiget` (objects by href), `calendar-query` (objects
//! with an occurrence in a time range, optionally expanded) and `sync-collection` (what
//! changed since a token, from the calendar's change log).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::auth::Principal;
use super::error::{DavError, Precondition};
use super::objects;
use super::path::{href_path, object_href, DavPath};
use super::props::{status_response, sync_token, token_seq, Resource, Responder};
use super::request::{report as parse, Prop, Report, TextMatch, TimeRange};
use super::xml::XmlOut;
use super::{multistatus, streamed_multistatus, Dav, DavRequest, DavResponse};
use crate::domain::{Calendar, CalendarObject, ChangeKind, EventId, ObjectRef};
use rocket::futures::StreamExt;

const NOT_FOUND: &str = "HTTP/1.1 404 Not Found";

pub async fn report(dav: &Dav, request: &DavRequest<'_>) -> Result<DavResponse, DavError> {
    let DavPath::Calendar { calendar, .. } = &request.path else {
        return Err(DavError::Forbidden(Precondition::SupportedReport));
    };
    // A calendar the principal cannot see is absent, whatever the body asks.
    let calendar = dav.calendar(&request.principal, calendar).await?.ok_or(DavError::NotFound)?;
    let root = request.xml()?.ok_or(DavError::BadRequest("a REPORT needs a body"))?;
    let report = parse(&root)?;
    // Whole-calendar answers stream: a first sync, and a query with no time range.
    match &report {
        Report::Sync { props, token: None, limit: None } => {
            let token = sync_token(&calendar, calendar.change_seq);
            return Ok(list_all(dav, request, calendar, props.clone(), Vec::new(), Some(token)));
        }
        Report::Query { props, filter } if filter.events && filter.range.is_none() => {
            return Ok(list_all(dav, request, calendar, props.clone(), filter.matches.clone(), None));
        }
        _ => {}
    }
    let (props, body) = match &report {
        Report::Multiget { props, .. } | Report::Query { props, .. } | Report::Sync { props, .. } => {
            (props.as_slice(), wants_body(props))
        }
    };
    let answer = Answer {
        dav,
        principal: &request.principal,
        responder: Responder::new(&request.principal.username),
        calendar: &calendar,
        props,
        body,
    };
    let mut out = XmlOut::default();
    out.root("d:multistatus");
    match &report {
        Report::Multiget { hrefs, .. } => answer.multiget(hrefs, &mut out).await?,
        // (Without a range it was streamed above.)
        Report::Query { filter, .. } => {
            if let (true, Some(range)) = (filter.events, filter.range) {
                answer.query(range, &filter.matches, &mut out).await?;
            }
        }
        Report::Sync { token, limit, .. } => answer.sync(token.as_deref(), *limit, &mut out).await?,
    }
    out.end("d:multistatus");
    Ok(multistatus(out.finish()))
}

/// What a report's answer is about: whose, which calendar, which properties, and whether
/// (and how: whole or expanded) bodies are asked for.
struct Answer<'a> {
    dav: &'a Dav,
    principal: &'a Principal,
    responder: Responder<'a>,
    calendar: &'a Calendar,
    props: &'a [Prop],
    body: Option<Option<TimeRange>>,
}

fn wants_body(props: &[Prop]) -> Option<Option<TimeRange>> {
    props.iter().find_map(|p| match p {
        Prop::CalendarData(expand) => Some(*expand),
        _ => None,
    })
}

/// One object's response (its rows complete), its body rendered (or taken from the bodies
/// of known versions) only when asked for.
fn object_response(
    dav: &Dav,
    responder: &Responder<'_>,
    calendar: &Calendar,
    object: &CalendarObject,
    props: &[Prop],
    out: &mut XmlOut,
) {
    let body: Option<Arc<str>> = match wants_body(props) {
        None => None,
        Some(None) => Some(dav.bodies.body(object)),
        Some(Some(range)) => Some(objects::expanded_body(object, range).into()),
    };
    let resource = Resource::Object { calendar, reference: &object.reference, body: body.as_deref() };
    responder.response(out, &resource, props, false);
}

/// Every object of the calendar (those whose texts match), then the sync token if one is
/// given, streamed as the rows arrive. Names and ETags come from one narrow row per object;
/// full rows are read only when bodies or texts are needed.
fn list_all(
    dav: &Dav,
    request: &DavRequest<'_>,
    calendar: Calendar,
    props: Vec<Prop>,
    matches: Vec<TextMatch>,
    token: Option<String>,
) -> DavResponse {
    let (dav, principal, turn) = (dav.clone(), request.principal.clone(), request.turn.clone());
    streamed_multistatus(move |mut chunks| async move {
        let _turn = turn;
        let responder = Responder::new(&principal.username);
        chunks.out.root("d:multistatus");
        if wants_body(&props).is_none() && matches.is_empty() {
            let mut references = dav.store.calendar_objects_stream(calendar.user_id, calendar.id);
            while let Some(row) = references.next().await {
                let reference = match row {
                    Ok(reference) => dav.masks.reference(&calendar, reference),
                    Err(e) => return chunks.fail(e.to_string()).await,
                };
                let resource = Resource::Object { calendar: &calendar, reference: &reference, body: None };
                responder.response(&mut chunks.out, &resource, &props, false);
                if !chunks.flush_if_full().await {
                    return;
                }
            }
        } else {
            let mut objects = match dav.store.all_objects_stream(calendar.user_id, calendar.id).await {
                Ok(objects) => objects,
                Err(e) => return chunks.fail(e.to_string()).await,
            };
            while let Some(row) = objects.next().await {
                let object = match row {
                    Ok(object) => dav.masks.object(&calendar, object),
                    Err(e) => return chunks.fail(e.to_string()).await,
                };
                if objects::text_matches(&object, &matches) {
                    object_response(&dav, &responder, &calendar, &object, &props, &mut chunks.out);
                    if !chunks.flush_if_full().await {
                        return;
                    }
                }
            }
        }
        if let Some(token) = token {
            chunks.out.text("d:sync-token", &token);
        }
        chunks.out.end("d:multistatus");
        chunks.finish().await;
    })
}

impl Answer<'_> {
    fn object(&self, object: &CalendarObject, out: &mut XmlOut) {
        object_response(self.dav, &self.responder, self.calendar, object, self.props, out);
    }

    /// An object whose body, if asked for, is `body` (none: not asked for).
    fn reference(&self, reference: &ObjectRef, body: Option<&str>, out: &mut XmlOut) {
        let resource = Resource::Object { calendar: self.calendar, reference, body };
        self.responder.response(out, &resource, self.props, false);
    }

    async fn multiget(&self, hrefs: &[String], out: &mut XmlOut) -> Result<(), DavError> {
        let (dav, calendar, principal) = (self.dav, self.calendar, self.principal);
        let segment = calendar.dav_segment();
        // Only objects of this calendar (and of this user) can be found; other hrefs are 404s.
        let names: Vec<Option<String>> = hrefs
            .iter()
            .map(|href| match DavPath::parse(href_path(href)) {
                Some(DavPath::Object { user, calendar, object })
                    if principal.is(&user) && calendar == segment =>
                {
                    Some(object)
                }
                _ => None,
            })
            .collect();
        let wanted: Vec<&str> = names.iter().flatten().map(String::as_str).collect();
        let found = dav.objects_named(calendar, &wanted).await?;
        let by_name: HashMap<&str, &CalendarObject> =
            found.iter().map(|o| (o.reference.name.as_str(), o)).collect();
        for (href, name) in hrefs.iter().zip(&names) {
            match name.as_deref().and_then(|n| by_name.get(n)) {
                Some(object) => self.object(object, out),
                None => status_response(out, href, NOT_FOUND),
            }
        }
        Ok(())
    }

    async fn query(&self, range: TimeRange, matches: &[TextMatch], out: &mut XmlOut) -> Result<(), DavError> {
        let (dav, calendar, owner, body) = (self.dav, self.calendar, self.calendar.user_id, self.body);
        // The range is matched on times alone; texts are read only for what matched, and only
        // when a filter, an expansion or a body not rendered before needs them.
        let times = dav.store.objects_overlapping(owner, calendar.id, range.from, range.until).await?;
        let matched: Vec<CalendarObject> = times
            .into_iter()
            .filter(|o| objects::overlaps(o, range))
            .map(|o| dav.masks.object(calendar, o))
            .collect();
        let needs_rows = !matches.is_empty() || matches!(body, Some(Some(_)));
        let unread: Vec<EventId> = matched
            .iter()
            .filter(|o| needs_rows || (body.is_some() && dav.bodies.get(&o.reference).is_none()))
            .map(|o| o.reference.id)
            .collect();
        let read = dav.store.objects_by_id(owner, calendar.id, &unread).await?;
        let mut complete: HashMap<EventId, CalendarObject> =
            read.into_iter().map(|o| (o.reference.id, dav.masks.object(calendar, o))).collect();
        for object in matched {
            match complete.remove(&object.reference.id) {
                Some(full) if objects::text_matches(&full, matches) => self.object(&full, out),
                Some(_) => {}
                // Not read: no filter on texts, and its body (if asked for) is a known version.
                None if !needs_rows => {
                    let cached = body.and_then(|_| dav.bodies.get(&object.reference));
                    self.reference(&object.reference, cached.as_deref(), out);
                }
                // Deleted between the two reads.
                None => {}
            }
        }
        Ok(())
    }

    /// RFC 6578. No token: every object and the current token. A token: the objects changed
    /// since (the last change of each counts), deletions as 404s. A token this calendar never
    /// gave, or one older than the change log keeps, is refused with `valid-sync-token`: the
    /// client then syncs afresh, never silently short of changes.
    async fn sync(
        &self,
        token: Option<&str>,
        limit: Option<usize>,
        out: &mut XmlOut,
    ) -> Result<(), DavError> {
        let (dav, calendar, owner) = (self.dav, self.calendar, self.calendar.user_id);
        let invalid = || DavError::Forbidden(Precondition::ValidSyncToken);
        let now = calendar.change_seq;
        let Some(token) = token else {
            // (Without a limit a first sync is streamed by `list_all`.)
            let count = if self.body.is_some() {
                let objects = dav.store.all_objects(owner, calendar.id).await?;
                within(limit, objects.len())?;
                let count = objects.len();
                for object in objects {
                    self.object(&dav.masks.object(calendar, object), out);
                }
                count
            } else {
                let references = dav.store.calendar_objects(owner, calendar.id).await?;
                within(limit, references.len())?;
                let count = references.len();
                for reference in references {
                    self.reference(&dav.masks.reference(calendar, reference), None, out);
                }
                count
            };
            log::debug!("CalDAV initial sync of calendar {}: {count} objects", calendar.id.0);
            out.text("d:sync-token", &sync_token(calendar, now));
            return Ok(());
        };
        let since = token_seq(calendar, token).filter(|seq| *seq <= now).ok_or_else(invalid)?;
        let changes: Vec<_> =
            dav.store.changes_since(calendar.id, since).await?.into_iter().filter(|c| c.seq <= now).collect();
        // Change numbers are dense: a gap means pruned rows (or unlogged bulk loads).
        let expected = usize::try_from(now - since).map_err(|_| invalid())?;
        if changes.len() != expected || changes.first().is_some_and(|c| c.seq != since + 1) {
            return Err(invalid());
        }
        let mut last: HashMap<&str, ChangeKind> = HashMap::new();
        let mut deleted_names: Vec<String> = Vec::new();
        for change in &changes {
            last.insert(&change.uid, change.kind);
            if change.kind == ChangeKind::Deleted {
                deleted_names.extend(dav.masks.deleted_name(calendar, change));
            }
        }
        let present: Vec<&str> =
            last.iter().filter(|(_, kind)| **kind != ChangeKind::Deleted).map(|(uid, _)| *uid).collect();
        let present = if self.body.is_some() {
            let objects = dav.store.objects_by_uid(owner, calendar.id, &present).await?;
            Found::Objects(objects.into_iter().map(|o| dav.masks.object(calendar, o)).collect())
        } else {
            let references = dav.store.object_refs_by_uid(owner, calendar.id, &present).await?;
            Found::References(references.into_iter().map(|r| dav.masks.reference(calendar, r)).collect())
        };
        let current: HashSet<&str> = present.references().map(|r| r.name.as_str()).collect();
        let gone: HashSet<&str> =
            deleted_names.iter().map(String::as_str).filter(|name| !current.contains(name)).collect();
        within(limit, current.len() + gone.len())?;
        match &present {
            Found::Objects(objects) => {
                for object in objects {
                    self.object(object, out);
                }
            }
            Found::References(references) => {
                for reference in references {
                    self.reference(reference, None, out);
                }
            }
        }
        let segment = calendar.dav_segment();
        for name in gone {
            status_response(out, &object_href(&self.principal.username, &segment, name), NOT_FOUND);
        }
        out.text("d:sync-token", &sync_token(calendar, now));
        Ok(())
    }
}

enum Found {
    Objects(Vec<CalendarObject>),
    References(Vec<ObjectRef>),
}

impl Found {
    fn references(&self) -> Box<dyn Iterator<Item = &ObjectRef> + '_> {
        match self {
            Found::Objects(objects) => Box::new(objects.iter().map(|o| &o.reference)),
            Found::References(references) => Box::new(references.iter()),
        }
    }
}

/// A client's `DAV:limit` is honoured by refusing more (RFC 5323's precondition); Eventide
/// does not page a sync.
fn within(limit: Option<usize>, count: usize) -> Result<(), DavError> {
    match limit {
        Some(limit) if count > limit => Err(DavError::Forbidden(Precondition::NumberOfMatches)),
        _ => Ok(()),
    }
}
