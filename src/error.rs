//! The one error type handlers return. The user sees a friendly page or fragment chosen by
//! status; the cause goes to the log.

use rocket::http::{Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket_dyn_templates::{context, Template};

use crate::kv::KvError;
use crate::logging::path_for_log;
use crate::web::htmx::Htmx;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Unavailable(#[from] KvError),
    #[error("not found")]
    NotFound,
    /// The user may see this but not change it (a calendar shared with them read-only).
    #[error("read-only")]
    ReadOnly,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> Status {
        match self {
            // The database out of reach (restarting, failing over, the pool exhausted) is a
            // moment's unavailability, not a bug: a clear 503 with Retry-After.
            AppError::Database(e) if database_unreachable(e) => Status::ServiceUnavailable,
            AppError::Database(_) | AppError::Internal(_) => Status::InternalServerError,
            AppError::Unavailable(_) => Status::ServiceUnavailable,
            AppError::NotFound => Status::NotFound,
            AppError::ReadOnly => Status::Forbidden,
            AppError::BadRequest(_) => Status::BadRequest,
        }
    }
}

/// Whether a database error means "not reachable right now" rather than a failed query: no
/// connection (refused, reset, timed out, closed), or PostgreSQL shutting down or starting
/// up (SQLSTATE class 08, 57P01-57P03).
pub fn database_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(e) => e.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status();
        if status.code >= 500 {
            log::error!("{} {}: {self}", request.method(), path_for_log(request.uri()));
        } else {
            log::debug!("{} {}: {self}", request.method(), path_for_log(request.uri()));
        }
        ErrorPage(status).respond_to(request)
    }
}

/// A status rendered for people: a full page, or for htmx a notice swapped into the page's
/// alert region, so an error never replaces the form the user was typing into.
pub struct ErrorPage(pub Status);

impl ErrorPage {
    fn message(&self) -> &'static str {
        match self.0.code {
            400 => "The request could not be understood. Check the address and try again.",
            401 => "You need to sign in to see this.",
            403 => "That was refused: either this is shared with you to read only, or the form was stale (reload the page and try again).",
            404 => "There is nothing here. It may have been deleted, or the address is mistyped.",
            413 => "That was more data than Eventide accepts in one request.",
            422 => "Some of the input was not valid.",
            429 => "Too many attempts. Please wait a little and try again.",
            503 => "Eventide is briefly unavailable. Nothing you typed was lost: try again in a moment.",
            _ => "Something went wrong on our side. It has been logged; please try again.",
        }
    }
}

impl<'r> Responder<'r, 'static> for ErrorPage {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let fragment = Htmx::from_request(request).fragment;
        let template = Template::render(
            if fragment { "error_fragment.html" } else { "error.html" },
            context! {
                code: self.0.code,
                reason: self.0.reason().unwrap_or("Error"),
                message: self.message(),
            },
        );
        let mut response = Response::build_from(template.respond_to(request)?);
        response.status(self.0);
        if fragment {
            response.header(Header::new("HX-Retarget", "#alerts"));
            response.header(Header::new("HX-Reswap", "innerHTML"));
        }
        if self.0 == Status::ServiceUnavailable {
            response.header(Header::new("Retry-After", "5"));
        }
        response.ok()
    }
}

/// Rocket answers 422 when a path segment does not parse (`/events/abc`,
/// `/calendar/month/2026-13-01`); for a page address that simply names nothing: 404.
#[rocket::catch(default)]
pub fn catch_all(status: Status, request: &Request<'_>) -> ErrorPage {
    let page_request = matches!(request.method(), rocket::http::Method::Get | rocket::http::Method::Head);
    if status == Status::UnprocessableEntity && page_request {
        return ErrorPage(Status::NotFound);
    }
    ErrorPage(status)
}
