//! The properties of each kind of resource, and `DAV:response` elements that report them:
//! the ones a resource has under 200, the ones it lacks under 404 (RFC 4918 9.1).

use super::path::{calendar_href, home_href, object_href, principal_href, segment};
use super::request::Prop;
use super::xml::XmlOut;
use crate::domain::{Access, Calendar, CalendarId, ObjectRef};

/// What a response describes.
pub enum Resource<'a> {
    /// `/dav/`: where discovery starts.
    Root,
    Principal,
    Home,
    Calendar(&'a Calendar),
    /// An object, with its body when a report asked for `calendar-data`.
    Object {
        calendar: &'a Calendar,
        reference: &'a ObjectRef,
        body: Option<&'a str>,
    },
}

/// A calendar's sync token (RFC 6578: a URI) for its change number `seq`.
pub fn sync_token(calendar: &Calendar, seq: i64) -> String {
    format!("https://eventide.invalid/ns/sync/{}/{seq}", calendar.id.0)
}

/// The change number a token names, if it is one of this calendar's tokens.
pub fn token_seq(calendar: &Calendar, token: &str) -> Option<i64> {
    let rest = token.trim().strip_prefix("https://eventide.invalid/ns/sync/")?;
    let (id, seq) = rest.split_once('/')?;
    (id.parse::<i64>().ok()? == calendar.id.0).then_some(())?;
    seq.parse::<i64>().ok().filter(|seq| *seq >= 0)
}

pub struct Responder<'a> {
    /// The authenticated user's name (hrefs of their principal and home).
    pub user: &'a str,
    /// The href of the calendar whose objects are listed, encoded once for all of them.
    calendar_href: std::sync::OnceLock<(CalendarId, String)>,
}

impl<'a> Responder<'a> {
    pub fn new(user: &'a str) -> Responder<'a> {
        Responder { user, calendar_href: std::sync::OnceLock::new() }
    }

    pub fn href(&self, resource: &Resource<'_>) -> String {
        match resource {
            Resource::Root => super::path::ROOT.to_string(),
            Resource::Principal => principal_href(self.user),
            Resource::Home => home_href(self.user),
            Resource::Calendar(calendar) => calendar_href(self.user, &calendar.dav_segment()),
            Resource::Object { calendar, reference, .. } => {
                let (id, prefix) = self
                    .calendar_href
                    .get_or_init(|| (calendar.id, calendar_href(self.user, &calendar.dav_segment())));
                if *id == calendar.id {
                    let mut href = prefix.clone();
                    href.push_str(&segment(&reference.name));
                    href
                } else {
                    object_href(self.user, &calendar.dav_segment(), &reference.name)
                }
            }
        }
    }

    fn has(&self, resource: &Resource<'_>, prop: &Prop) -> bool {
        use Resource as R;
        match prop {
            Prop::ResourceType | Prop::CurrentUserPrincipal => true,
            Prop::DisplayName => matches!(resource, R::Principal | R::Home | R::Calendar(_)),
            Prop::GetEtag | Prop::GetContentType => matches!(resource, R::Object { .. }),
            Prop::CalendarData(_) => matches!(resource, R::Object { body: Some(_), .. }),
            Prop::GetCtag
            | Prop::SyncToken
            | Prop::CalendarColor
            | Prop::CalendarOrder
            | Prop::SupportedComponents
            | Prop::SupportedReports => matches!(resource, R::Calendar(_)),
            Prop::PrincipalUrl => matches!(resource, R::Principal),
            Prop::CalendarHomeSet => matches!(resource, R::Root | R::Principal),
            Prop::CurrentUserPrivileges | Prop::Owner => {
                matches!(resource, R::Home | R::Calendar(_) | R::Object { .. })
            }
            Prop::Unknown { .. } => false,
        }
    }

    /// Writes `prop`'s value; only for a property the resource has.
    fn value(&self, out: &mut XmlOut, resource: &Resource<'_>, prop: &Prop) {
        let Some(name) = prop.qualified() else { return };
        match (prop, resource) {
            (Prop::ResourceType, resource) => {
                out.start(name);
                match resource {
                    Resource::Root | Resource::Home => out.empty("d:collection"),
                    Resource::Principal => {
                        out.empty("d:collection");
                        out.empty("d:principal");
                    }
                    Resource::Calendar(_) => {
                        out.empty("d:collection");
                        out.empty("c:calendar");
                    }
                    Resource::Object { .. } => {}
                }
                out.end(name);
            }
            (Prop::DisplayName, Resource::Calendar(calendar)) => match &calendar.owner_name {
                Some(owner) => out.text(name, &format!("{} ({owner})", calendar.name)),
                None => out.text(name, &calendar.name),
            },
            (Prop::DisplayName, Resource::Home) => out.text(name, "Calendars"),
            (Prop::DisplayName, _) => out.text(name, self.user),
            (Prop::GetEtag, Resource::Object { reference, .. }) => out.text(name, &reference.etag()),
            (Prop::GetContentType, _) => out.text(name, "text/calendar; charset=utf-8; component=vevent"),
            (Prop::CalendarData(_), Resource::Object { body: Some(body), .. }) => out.text(name, body),
            (Prop::GetCtag | Prop::SyncToken, Resource::Calendar(calendar)) => {
                out.text(name, &sync_token(calendar, calendar.change_seq))
            }
            (Prop::CalendarColor, Resource::Calendar(calendar)) => {
                out.text(name, &format!("{}FF", calendar.color.to_ascii_uppercase()))
            }
            (Prop::CalendarOrder, Resource::Calendar(calendar)) => {
                out.text(name, &calendar.position.to_string())
            }
            (Prop::SupportedComponents, _) => {
                out.start(name);
                out.empty_with("c:comp", &[("name", "VEVENT")]);
                out.end(name);
            }
            (Prop::SupportedReports, _) => {
                out.start(name);
                for report in ["c:calendar-multiget", "c:calendar-query", "d:sync-collection"] {
                    out.start("d:supported-report");
                    out.start("d:report");
                    out.empty(report);
                    out.end("d:report");
                    out.end("d:supported-report");
                }
                out.end(name);
            }
            (Prop::CurrentUserPrivileges, resource) => {
                out.start(name);
                for privilege in privileges(resource) {
                    out.start("d:privilege");
                    out.empty(privilege);
                    out.end("d:privilege");
                }
                out.end(name);
            }
            (Prop::Owner, Resource::Calendar(calendar) | Resource::Object { calendar, .. })
                if calendar.owner_name.is_some() =>
            {
                out.start(name);
                out.text("d:href", &principal_href(calendar.owner_name.as_deref().unwrap_or(self.user)));
                out.end(name);
            }
            (Prop::CurrentUserPrincipal | Prop::PrincipalUrl | Prop::Owner, _) => {
                out.start(name);
                out.text("d:href", &principal_href(self.user));
                out.end(name);
            }
            (Prop::CalendarHomeSet, _) => {
                out.start(name);
                out.text("d:href", &home_href(self.user));
                out.end(name);
            }
            _ => {}
        }
    }

    /// The properties `resource` has, for `propname`.
    pub fn names(&self, resource: &Resource<'_>) -> Vec<Prop> {
        let mut all = Prop::all();
        all.extend([
            Prop::PrincipalUrl,
            Prop::CalendarHomeSet,
            Prop::SupportedReports,
            Prop::CurrentUserPrivileges,
        ]);
        all.into_iter().filter(|p| self.has(resource, p)).collect()
    }

    /// One `DAV:response` for `resource` with the `props` asked for; `names_only` for
    /// `propname`.
    pub fn response(&self, out: &mut XmlOut, resource: &Resource<'_>, props: &[Prop], names_only: bool) {
        out.start("d:response");
        out.text("d:href", &self.href(resource));
        let (found, missing): (Vec<&Prop>, Vec<&Prop>) = props.iter().partition(|p| self.has(resource, p));
        if !found.is_empty() {
            out.start("d:propstat");
            out.start("d:prop");
            for prop in found {
                match prop.qualified() {
                    Some(name) if names_only => out.empty(name),
                    Some(_) => self.value(out, resource, prop),
                    None => {}
                }
            }
            out.end("d:prop");
            out.text("d:status", "HTTP/1.1 200 OK");
            out.end("d:propstat");
        }
        if !missing.is_empty() {
            out.start("d:propstat");
            out.start("d:prop");
            for prop in missing {
                write_name(out, prop);
            }
            out.end("d:prop");
            out.text("d:status", "HTTP/1.1 404 Not Found");
            out.end("d:propstat");
        }
        out.end("d:response");
    }
}

/// What the principal may do with a resource (RFC 3744 5.4): everything with their own; with
/// a calendar shared with them, read it, and change its events only with write access (the
/// owner alone renames it).
fn privileges(resource: &Resource<'_>) -> &'static [&'static str] {
    const ALL: &[&str] = &[
        "d:read",
        "d:write",
        "d:write-properties",
        "d:write-content",
        "d:bind",
        "d:unbind",
        "d:read-current-user-privilege-set",
    ];
    const CONTENT: &[&str] =
        &["d:read", "d:write-content", "d:bind", "d:unbind", "d:read-current-user-privilege-set"];
    const READ: &[&str] = &["d:read", "d:read-current-user-privilege-set"];
    let access = match resource {
        Resource::Calendar(calendar) | Resource::Object { calendar, .. } => calendar.access,
        _ => Access::Own,
    };
    match access {
        Access::Own => ALL,
        Access::Write => CONTENT,
        Access::Read | Access::Busy => READ,
    }
}

/// A property's name as an empty element, whatever its namespace.
pub fn write_name(out: &mut XmlOut, prop: &Prop) {
    match (prop.qualified(), prop) {
        (Some(name), _) => out.empty(name),
        (None, Prop::Unknown { ns, name }) => out.foreign_empty(ns, name),
        (None, _) => {}
    }
}

/// A `DAV:response` with only a status: a member that is gone (sync) or was not found
/// (multiget).
pub fn status_response(out: &mut XmlOut, href: &str, status: &str) {
    out.start("d:response");
    out.text("d:href", href);
    out.text("d:status", status);
    out.end("d:response");
}
