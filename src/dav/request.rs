//! Request bodies, parsed into what they ask for: properties by name, and the three reports.
//! Anything else is refused here, with the status and precondition RFC 4791 names.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use super::error::{DavError, Precondition};
use super::xml::{Element, APPLE_ICAL, CALDAV, CALENDARSERVER, DAV};
use crate::domain::time;

/// A property, as a client names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prop {
    ResourceType,
    DisplayName,
    GetEtag,
    GetContentType,
    GetCtag,
    SyncToken,
    CurrentUserPrincipal,
    PrincipalUrl,
    CalendarHomeSet,
    CalendarColor,
    CalendarOrder,
    SupportedComponents,
    SupportedReports,
    CurrentUserPrivileges,
    Owner,
    CalendarData(Option<TimeRange>),
    Unknown { ns: String, name: String },
}

impl Prop {
    pub fn from_element(element: &Element) -> Prop {
        match (element.ns.as_str(), element.name.as_str()) {
            (DAV, "resourcetype") => Prop::ResourceType,
            (DAV, "displayname") => Prop::DisplayName,
            (DAV, "getetag") => Prop::GetEtag,
            (DAV, "getcontenttype") => Prop::GetContentType,
            (DAV, "sync-token") => Prop::SyncToken,
            (DAV, "current-user-principal") => Prop::CurrentUserPrincipal,
            (DAV, "principal-URL") => Prop::PrincipalUrl,
            (DAV, "supported-report-set") => Prop::SupportedReports,
            (DAV, "current-user-privilege-set") => Prop::CurrentUserPrivileges,
            (DAV, "owner") => Prop::Owner,
            (CALENDARSERVER, "getctag") => Prop::GetCtag,
            (CALDAV, "calendar-home-set") => Prop::CalendarHomeSet,
            (CALDAV, "supported-calendar-component-set") => Prop::SupportedComponents,
            (CALDAV, "calendar-data") => {
                let expand = element.child(CALDAV, "expand").and_then(|e| time_range(e).ok());
                Prop::CalendarData(expand)
            }
            (APPLE_ICAL, "calendar-color") => Prop::CalendarColor,
            (APPLE_ICAL, "calendar-order") => Prop::CalendarOrder,
            (ns, name) => Prop::Unknown { ns: ns.to_string(), name: name.to_string() },
        }
    }

    /// The element's name in our responses (the prefixes `XmlOut::root` declares); `None`
    /// for a property of another namespace.
    pub fn qualified(&self) -> Option<&'static str> {
        Some(match self {
            Prop::ResourceType => "d:resourcetype",
            Prop::DisplayName => "d:displayname",
            Prop::GetEtag => "d:getetag",
            Prop::GetContentType => "d:getcontenttype",
            Prop::SyncToken => "d:sync-token",
            Prop::CurrentUserPrincipal => "d:current-user-principal",
            Prop::PrincipalUrl => "d:principal-URL",
            Prop::SupportedReports => "d:supported-report-set",
            Prop::CurrentUserPrivileges => "d:current-user-privilege-set",
            Prop::Owner => "d:owner",
            Prop::GetCtag => "cs:getctag",
            Prop::CalendarHomeSet => "c:calendar-home-set",
            Prop::SupportedComponents => "c:supported-calendar-component-set",
            Prop::CalendarData(_) => "c:calendar-data",
            Prop::CalendarColor => "ic:calendar-color",
            Prop::CalendarOrder => "ic:calendar-order",
            Prop::Unknown { .. } => return None,
        })
    }

    /// What `allprop` shows (RFC 4918 leaves out expensive or protected ones; we show the
    /// cheap ones clients look for).
    pub fn all() -> Vec<Prop> {
        vec![
            Prop::ResourceType,
            Prop::DisplayName,
            Prop::GetEtag,
            Prop::GetContentType,
            Prop::GetCtag,
            Prop::SyncToken,
            Prop::CalendarColor,
            Prop::CalendarOrder,
            Prop::SupportedComponents,
            Prop::CurrentUserPrincipal,
            Prop::Owner,
        ]
    }
}

/// `[from, until)` in UTC, from a `time-range` or `expand` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

fn utc_value(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let time = NaiveDateTime::parse_from_str(text.strip_suffix('Z')?, "%Y%m%dT%H%M%S").ok()?;
    Some(Utc.from_utc_datetime(&time))
}

/// RFC 4791 9.9: either end may be left out (open); both must be UTC date-times. Ranges are
/// kept within the years events can have, so no arithmetic on them can overflow.
fn time_range(element: &Element) -> Result<TimeRange, DavError> {
    let first = Utc.with_ymd_and_hms(*time::YEARS.start(), 1, 1, 0, 0, 0).single();
    let last = Utc.with_ymd_and_hms(*time::YEARS.end() + 1, 1, 1, 0, 0, 0).single();
    let (Some(min), Some(max)) = (first, last) else {
        return Err(DavError::Forbidden(Precondition::ValidFilter));
    };
    let bound = |name: &str, open: DateTime<Utc>| match element.attribute(name) {
        None => Ok(open),
        Some(value) => {
            utc_value(value).map(|t| t.clamp(min, max)).ok_or(DavError::Forbidden(Precondition::ValidFilter))
        }
    };
    let range = TimeRange { from: bound("start", min)?, until: bound("end", max)? };
    if range.from >= range.until {
        return Err(DavError::Forbidden(Precondition::ValidFilter));
    }
    Ok(range)
}

/// PROPFIND: which properties (an empty body is `allprop`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropFind {
    All,
    Names,
    Props(Vec<Prop>),
}

pub fn propfind(body: Option<&Element>) -> Result<PropFind, DavError> {
    let Some(root) = body else { return Ok(PropFind::All) };
    if !root.is(DAV, "propfind") {
        return Err(DavError::BadRequest("expected a DAV:propfind body"));
    }
    if root.child(DAV, "propname").is_some() {
        return Ok(PropFind::Names);
    }
    match root.child(DAV, "prop") {
        Some(prop) => Ok(PropFind::Props(props(prop))),
        None => Ok(PropFind::All),
    }
}

fn props(prop: &Element) -> Vec<Prop> {
    prop.children.iter().map(Prop::from_element).collect()
}

/// The three reports Eventide answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    Multiget { props: Vec<Prop>, hrefs: Vec<String> },
    Query { props: Vec<Prop>, filter: QueryFilter },
    Sync { props: Vec<Prop>, token: Option<String>, limit: Option<usize> },
}

/// A multiget asks for at most this many objects (clients send 10 to 100).
pub const MULTIGET_MAX: usize = 1000;

pub fn report(root: &Element) -> Result<Report, DavError> {
    let props = root.child(DAV, "prop").map(props).unwrap_or_else(|| vec![Prop::GetEtag]);
    match (root.ns.as_str(), root.name.as_str()) {
        (CALDAV, "calendar-multiget") => {
            let hrefs: Vec<String> =
                root.children_named(DAV, "href").map(|h| h.text.trim().to_string()).collect();
            if hrefs.len() > MULTIGET_MAX {
                return Err(DavError::Forbidden(Precondition::NumberOfMatches));
            }
            Ok(Report::Multiget { props, hrefs })
        }
        (CALDAV, "calendar-query") => {
            let filter = match root.child(CALDAV, "filter") {
                Some(filter) => query_filter(filter)?,
                None => QueryFilter::everything(),
            };
            Ok(Report::Query { props, filter })
        }
        (DAV, "sync-collection") => {
            let token =
                root.child(DAV, "sync-token").map(|t| t.text.trim().to_string()).filter(|t| !t.is_empty());
            let level = root.child(DAV, "sync-level").map(|l| l.text.trim().to_string());
            if level.as_deref().is_some_and(|l| l != "1") {
                // Calendars hold no collections: only level 1 means anything here.
                return Err(DavError::Forbidden(Precondition::SupportedReport));
            }
            let limit = match root.child(DAV, "limit").and_then(|l| l.child(DAV, "nresults")) {
                Some(n) => Some(
                    n.text.trim().parse::<usize>().map_err(|_| DavError::BadRequest("bad DAV:nresults"))?,
                ),
                None => None,
            };
            Ok(Report::Sync { props, token, limit })
        }
        _ => Err(DavError::Forbidden(Precondition::SupportedReport)),
    }
}

/// What a calendar-query asks for: VEVENTs (or, `events: false`, components Eventide does
/// not store, so nothing), with an occurrence in `range`, whose text properties match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryFilter {
    pub events: bool,
    pub range: Option<TimeRange>,
    pub matches: Vec<TextMatch>,
}

impl QueryFilter {
    fn everything() -> QueryFilter {
        QueryFilter { events: true, range: None, matches: Vec::new() }
    }
}

/// A `prop-filter` with a `text-match` (RFC 4791 9.7.5): a substring, case-insensitive
/// unless the collation is `i;octet`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    pub property: MatchedProperty,
    pub text: String,
    pub case_sensitive: bool,
    pub negate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedProperty {
    Uid,
    Summary,
    Description,
    Location,
}

/// `VCALENDAR > VEVENT [> time-range] [> prop-filter > text-match]*`. Other filters
/// (parameters, alarms, missing properties) are refused with `supported-filter` rather than
/// answered wrongly.
fn query_filter(filter: &Element) -> Result<QueryFilter, DavError> {
    let unsupported = || DavError::Forbidden(Precondition::SupportedFilter);
    let calendar = match filter.children.as_slice() {
        [only] if only.is(CALDAV, "comp-filter") && only.attribute("name") == Some("VCALENDAR") => only,
        _ => return Err(DavError::Forbidden(Precondition::ValidFilter)),
    };
    let component = match calendar.children.as_slice() {
        [] => return Ok(QueryFilter::everything()),
        [only] if only.is(CALDAV, "comp-filter") => only,
        _ => return Err(unsupported()),
    };
    let events = component.attribute("name").is_some_and(|n| n.eq_ignore_ascii_case("VEVENT"));
    let mut query = QueryFilter { events, range: None, matches: Vec::new() };
    for part in &component.children {
        match (part.ns.as_str(), part.name.as_str()) {
            (CALDAV, "is-not-defined") => query.events = !events,
            (CALDAV, "time-range") if query.range.is_none() => query.range = Some(time_range(part)?),
            (CALDAV, "prop-filter") => query.matches.push(text_match(part).ok_or_else(unsupported)?),
            _ => return Err(unsupported()),
        }
    }
    Ok(query)
}

fn text_match(prop_filter: &Element) -> Option<TextMatch> {
    let property = match prop_filter.attribute("name")?.to_ascii_uppercase().as_str() {
        "UID" => MatchedProperty::Uid,
        "SUMMARY" => MatchedProperty::Summary,
        "DESCRIPTION" => MatchedProperty::Description,
        "LOCATION" => MatchedProperty::Location,
        _ => return None,
    };
    let [matcher] = prop_filter.children.as_slice() else { return None };
    if !matcher.is(CALDAV, "text-match") {
        return None;
    }
    Some(TextMatch {
        property,
        text: matcher.text.clone(),
        case_sensitive: matcher.attribute("collation") == Some("i;octet"),
        negate: matcher.attribute("negate-condition") == Some("yes"),
    })
}

/// PROPPATCH and MKCALENDAR: the properties to set (by element, values inside) and remove.
#[derive(Debug, Clone, Default)]
pub struct PropChanges {
    pub set: Vec<(Prop, Element)>,
    pub remove: Vec<Prop>,
}

pub fn prop_changes(root: &Element) -> PropChanges {
    let mut changes = PropChanges::default();
    for action in &root.children {
        let Some(prop) = action.child(DAV, "prop") else { continue };
        for element in &prop.children {
            if action.is(DAV, "set") {
                changes.set.push((Prop::from_element(element), element.clone()));
            } else if action.is(DAV, "remove") {
                changes.remove.push(Prop::from_element(element));
            }
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::super::xml::parse;
    use super::*;

    #[test]
    fn a_month_query_reads_its_range() {
        let body = br#"<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
          <d:prop><d:getetag/><c:calendar-data><c:expand start="20260601T000000Z" end="20260701T000000Z"/></c:calendar-data></d:prop>
          <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">
            <c:time-range start="20260601T000000Z" end="20260701T000000Z"/></c:comp-filter></c:comp-filter></c:filter>
        </c:calendar-query>"#;
        let Report::Query { props, filter } = report(&parse(body).unwrap()).unwrap() else { panic!() };
        assert!(filter.events && filter.matches.is_empty());
        let range = filter.range.unwrap();
        assert_eq!(range.from.to_rfc3339(), "2026-06-01T00:00:00+00:00");
        assert_eq!(props[1], Prop::CalendarData(Some(range)));
    }

    #[test]
    fn unsupported_filters_and_reports_are_refused() {
        let categories = br#"<c:calendar-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:filter><c:comp-filter name="VCALENDAR">
            <c:comp-filter name="VEVENT"><c:prop-filter name="CATEGORIES"><c:text-match>x</c:text-match></c:prop-filter></c:comp-filter>
            </c:comp-filter></c:filter></c:calendar-query>"#;
        assert!(matches!(
            report(&parse(categories).unwrap()),
            Err(DavError::Forbidden(Precondition::SupportedFilter))
        ));
        let bad_range = br#"<c:calendar-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:filter><c:comp-filter name="VCALENDAR">
            <c:comp-filter name="VEVENT"><c:time-range start="2026-06-01"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>"#;
        assert!(matches!(
            report(&parse(bad_range).unwrap()),
            Err(DavError::Forbidden(Precondition::ValidFilter))
        ));
        let other = br#"<d:expand-property xmlns:d="DAV:"/>"#;
        assert!(matches!(
            report(&parse(other).unwrap()),
            Err(DavError::Forbidden(Precondition::SupportedReport))
        ));
    }

    #[test]
    fn a_sync_report_with_and_without_token() {
        let body = br#"<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#;
        assert_eq!(
            report(&parse(body).unwrap()).unwrap(),
            Report::Sync { props: vec![Prop::GetEtag], token: None, limit: None }
        );
    }
}
