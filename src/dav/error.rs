//! Every refusal of the DAV server, with its status and, where an RFC names one, the
//! precondition element the client reads (RFC 4918 16, RFC 4791 1.3, RFC 6578 3.2).

use std::time::Duration;

use bytes::Bytes;
use hyper::{Response, StatusCode};

use super::xml::XmlOut;
use crate::error::AppError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    ValidSyncToken,
    /// The UID is already used by the object at this href.
    NoUidConflict(String),
    ValidCalendarData(String),
    ValidCalendarObjectResource(String),
    SupportedCalendarComponent,
    SupportedCalendarData,
    SupportedFilter,
    ValidFilter,
    SupportedReport,
    NumberOfMatches,
    ResourceMustBeNull,
    CalendarCollectionLocationOk,
    /// The last calendar of an account cannot go.
    LastCalendar,
    /// RFC 3744 7.1.1: a calendar shared with the user to read only.
    NeedPrivileges {
        href: String,
        privilege: &'static str,
    },
}

impl Precondition {
    fn write(&self, out: &mut XmlOut) {
        match self {
            Precondition::ValidSyncToken => out.empty("d:valid-sync-token"),
            Precondition::NoUidConflict(href) => {
                out.start("c:no-uid-conflict");
                out.text("d:href", href);
                out.end("c:no-uid-conflict");
            }
            Precondition::ValidCalendarData(_) => out.empty("c:valid-calendar-data"),
            Precondition::ValidCalendarObjectResource(_) => out.empty("c:valid-calendar-object-resource"),
            Precondition::SupportedCalendarComponent => out.empty("c:supported-calendar-component"),
            Precondition::SupportedCalendarData => out.empty("c:supported-calendar-data"),
            Precondition::SupportedFilter => out.empty("c:supported-filter"),
            Precondition::ValidFilter => out.empty("c:valid-filter"),
            Precondition::SupportedReport => out.empty("d:supported-report"),
            Precondition::NumberOfMatches => out.empty("d:number-of-matches-within-limits"),
            Precondition::ResourceMustBeNull => out.empty("d:resource-must-be-null"),
            Precondition::CalendarCollectionLocationOk => out.empty("c:calendar-collection-location-ok"),
            Precondition::LastCalendar => out.empty("d:cannot-modify-protected-property"),
            Precondition::NeedPrivileges { href, privilege } => {
                out.start("d:need-privileges");
                out.start("d:resource");
                out.text("d:href", href);
                out.start("d:privilege");
                out.empty(privilege);
                out.end("d:privilege");
                out.end("d:resource");
                out.end("d:need-privileges");
            }
        }
    }

    /// Why, for people reading a client's error log.
    fn description(&self) -> Option<&str> {
        match self {
            Precondition::ValidCalendarData(why) | Precondition::ValidCalendarObjectResource(why) => {
                Some(why)
            }
            Precondition::LastCalendar => Some("an account keeps at least one calendar"),
            Precondition::NeedPrivileges { .. } => Some("this calendar was shared with you to read only"),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DavError {
    #[error("authentication required")]
    Unauthorized,
    #[error("too many failed logins")]
    Throttled(Duration),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed(&'static str),
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("bad XML: {0}")]
    BadXml(String),
    #[error("forbidden: {0:?}")]
    Forbidden(Precondition),
    #[error("conflict: {0:?}")]
    Conflict(Precondition),
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("request body too large")]
    TooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("too many requests of this account at once; try again shortly")]
    Busy,
    #[error("{0}")]
    App(#[from] AppError),
}

impl From<sqlx::Error> for DavError {
    fn from(error: sqlx::Error) -> Self {
        DavError::App(AppError::Database(error))
    }
}

impl From<super::xml::XmlError> for DavError {
    fn from(error: super::xml::XmlError) -> Self {
        DavError::BadXml(error.to_string())
    }
}

impl DavError {
    pub fn status(&self) -> StatusCode {
        match self {
            DavError::Unauthorized => StatusCode::UNAUTHORIZED,
            DavError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            DavError::NotFound => StatusCode::NOT_FOUND,
            DavError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            DavError::BadRequest(_) | DavError::BadXml(_) => StatusCode::BAD_REQUEST,
            DavError::Forbidden(_) => StatusCode::FORBIDDEN,
            DavError::Conflict(_) => StatusCode::CONFLICT,
            DavError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            DavError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            DavError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            DavError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            DavError::App(e) => {
                StatusCode::from_u16(e.status().code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    pub fn into_response(self) -> super::DavResponse {
        let status = self.status();
        let mut builder = Response::builder().status(status);
        builder = match &self {
            DavError::Unauthorized => {
                builder.header("WWW-Authenticate", "Basic realm=\"Eventide\", charset=\"UTF-8\"")
            }
            DavError::Throttled(wait) => builder.header("Retry-After", wait.as_secs().max(1).to_string()),
            DavError::MethodNotAllowed(allow) => builder.header("Allow", *allow),
            DavError::Busy => builder.header("Retry-After", "5"),
            _ => builder,
        };
        let body = match &self {
            DavError::Forbidden(precondition) | DavError::Conflict(precondition) => {
                let mut out = XmlOut::default();
                out.root("d:error");
                precondition.write(&mut out);
                if let Some(why) = precondition.description() {
                    out.text("d:responsedescription", why);
                }
                out.end("d:error");
                builder = builder.header("Content-Type", "application/xml; charset=utf-8");
                Bytes::from(out.finish())
            }
            DavError::App(e) if status.is_server_error() => {
                builder = builder.header("Content-Type", "text/plain; charset=utf-8");
                log::error!("CalDAV: {e}");
                Bytes::from_static(b"The server could not complete the request; try again shortly.\n")
            }
            other => {
                builder = builder.header("Content-Type", "text/plain; charset=utf-8");
                Bytes::from(format!("{other}\n"))
            }
        };
        super::finish(builder, body)
    }
}
