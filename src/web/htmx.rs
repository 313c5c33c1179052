//! What htmx tells us about a request.

use rocket::request::{FromRequest, Outcome, Request};

/// `fragment` is true when htmx asked for a partial update. A history-restore request (the
/// browser's back button after the page left htmx's cache) needs the full page.
#[derive(Debug, Clone, Copy)]
pub struct Htmx {
    pub fragment: bool,
}

impl Htmx {
    pub fn from_request(request: &Request<'_>) -> Htmx {
        let is = |name: &str| request.headers().get_one(name) == Some("true");
        Htmx { fragment: is("HX-Request") && !is("HX-History-Restore-Request") }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Htmx {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(Htmx::from_request(request))
    }
}
