//! DAV paths, parsed once at the boundary. Everything lives under `/dav/`: the web app owns
//! the rest of the path space (a reverse proxy sends `/dav/` and `/.well-known/caldav` here).
//!
//! ```text
//! /dav/                                   the context root (current-user-principal)
//! /dav/principals/{user}/                 a principal
//! /dav/calendars/{user}/                  a calendar home
//! /dav/calendars/{user}/{calendar}/       a calendar (its id, or the name MKCALENDAR gave)
//! /dav/calendars/{user}/{calendar}/{x}    an object, e.g. `{uid}.ics`
//! ```

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What stays unescaped in a path segment we write: RFC 3986's unreserved characters and the
/// `@` UIDs often hold.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'@');

/// The longest segment accepted (a UID of 255 bytes and its `.ics`).
const SEGMENT_MAX: usize = 300;

pub const ROOT: &str = "/dav/";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DavPath {
    /// `/`, `/dav/`: where a client starts looking for its principal.
    Root,
    /// `/.well-known/caldav` (RFC 6764): redirected to the context root.
    WellKnown,
    Principal {
        user: String,
    },
    Home {
        user: String,
    },
    Calendar {
        user: String,
        calendar: String,
    },
    Object {
        user: String,
        calendar: String,
        object: String,
    },
}

impl DavPath {
    /// `None`: not a path of this server (404). The query string is ignored.
    pub fn parse(raw: &str) -> Option<DavPath> {
        let path = raw.split(['?', '#']).next().unwrap_or_default();
        if path == "/" || path.is_empty() {
            return Some(DavPath::Root);
        }
        if path.trim_end_matches('/') == "/.well-known/caldav" {
            return Some(DavPath::WellKnown);
        }
        let rest = path.strip_prefix("/dav")?;
        let trailing_slash = rest.ends_with('/');
        let mut segments = Vec::new();
        for raw in rest.split('/').filter(|s| !s.is_empty()) {
            let decoded = percent_decode_str(raw).decode_utf8().ok()?;
            if decoded.len() > SEGMENT_MAX || decoded == "." || decoded == ".." || decoded.contains('/') {
                return None;
            }
            if decoded.chars().any(char::is_control) {
                return None;
            }
            segments.push(decoded.into_owned());
        }
        let mut segments = segments.into_iter();
        let (first, user, calendar, object, extra) =
            (segments.next(), segments.next(), segments.next(), segments.next(), segments.next());
        if extra.is_some() {
            return None;
        }
        Some(match (first.as_deref(), user, calendar, object) {
            (None, None, None, None) => DavPath::Root,
            (Some("principals"), Some(user), None, None) => DavPath::Principal { user },
            (Some("calendars"), Some(user), None, None) => DavPath::Home { user },
            (Some("calendars"), Some(user), Some(calendar), None) => DavPath::Calendar { user, calendar },
            // `/dav/calendars/u/c/x/` names no object: objects are not collections.
            (Some("calendars"), Some(user), Some(calendar), Some(object)) if !trailing_slash => {
                DavPath::Object { user, calendar, object }
            }
            _ => return None,
        })
    }

    /// The user the path belongs to, if it names one.
    pub fn user(&self) -> Option<&str> {
        match self {
            DavPath::Principal { user }
            | DavPath::Home { user }
            | DavPath::Calendar { user, .. }
            | DavPath::Object { user, .. } => Some(user),
            DavPath::Root | DavPath::WellKnown => None,
        }
    }
}

/// One path segment, percent-encoded as the hrefs we write have it.
pub fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

pub fn principal_href(user: &str) -> String {
    format!("/dav/principals/{}/", segment(user))
}

pub fn home_href(user: &str) -> String {
    format!("/dav/calendars/{}/", segment(user))
}

pub fn calendar_href(user: &str, calendar: &str) -> String {
    format!("/dav/calendars/{}/{}/", segment(user), segment(calendar))
}

pub fn object_href(user: &str, calendar: &str, object: &str) -> String {
    format!("/dav/calendars/{}/{}/{}", segment(user), segment(calendar), segment(object))
}

/// The path of an `href` a client sent in a report body: absolute URLs are reduced to their
/// path (any host: clients write the one they reached us by).
pub fn href_path(href: &str) -> &str {
    let href = href.trim();
    match href.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => href,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_round_trip() {
        assert_eq!(DavPath::parse("/"), Some(DavPath::Root));
        assert_eq!(DavPath::parse("/dav"), Some(DavPath::Root));
        assert_eq!(DavPath::parse("/.well-known/caldav/"), Some(DavPath::WellKnown));
        assert_eq!(DavPath::parse("/dav/principals/amy"), Some(DavPath::Principal { user: "amy".into() }));
        let object =
            DavPath::Object { user: "zoë".into(), calendar: "3".into(), object: "a b@x.ics".into() };
        let href = object_href("zoë", "3", "a b@x.ics");
        assert_eq!(href, "/dav/calendars/zo%C3%AB/3/a%20b@x.ics");
        assert_eq!(DavPath::parse(&href), Some(object));
        assert_eq!(
            DavPath::parse(&format!("http://h:1{href}?x=1").replace("http://h:1", "")),
            DavPath::parse(&href)
        );
        assert_eq!(href_path("https://cal.example.org:8443/dav/x/"), "/dav/x/");
        assert_eq!(
            DavPath::parse(&calendar_href("amy", "Work")),
            Some(DavPath::Calendar { user: "amy".into(), calendar: "Work".into() })
        );
    }

    #[test]
    fn odd_paths_name_nothing() {
        for path in [
            "/dav/calendars/amy/1/x.ics/",
            "/dav/calendars/amy/1/x/y",
            "/dav/calendars/amy/%2E%2E/",
            "/dav/calendars/amy/a%2Fb/",
            "/dav/calendars/amy/%FF/",
            "/dav/calendars/amy/%0A/",
            "/dav/other/amy/",
            "/calendars/amy/",
        ] {
            assert_eq!(DavPath::parse(path), None, "{path}");
        }
        assert_eq!(DavPath::parse(&format!("/dav/calendars/amy/{}/", "x".repeat(400))), None);
    }
}
