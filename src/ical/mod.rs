//! iCalendar: downloads (`/export.ics`, `/events/{id}.ics`), the private subscription feed
//! (`/feeds/{token}.ics`, no session: the token is the key) and imports (`/import`).

pub mod alarms;
pub mod export;
pub mod import;
pub mod limit;
pub mod parse;
pub mod routes;
pub mod upload;
pub mod write;
pub mod zones;

use chrono::Duration;
use rocket::http::{ContentType, Header, Status};
use rocket::request::{self, FromParam, FromRequest, Request};
use rocket::response::{self, Responder, Response};
use sha2::{Digest, Sha256};

use crate::domain::EventId;
use crate::logging::Unlogged;

/// The iCalendar routes, and the limits on concurrent imports they share.
pub fn stage() -> rocket::fairing::AdHoc {
    rocket::fairing::AdHoc::on_ignite("iCalendar", |rocket| async {
        rocket.manage(limit::ImportLimits::default()).mount("/", routes::routes())
    })
}

/// How often subscribed clients are asked to check the feed.
pub const FEED_REFRESH: Duration = Duration::hours(1);

/// `12.ics` in `/events/12.ics`.
pub struct IcsEventId(pub EventId);

impl<'a> FromParam<'a> for IcsEventId {
    type Error = Unlogged;

    fn from_param(param: &'a str) -> Result<Self, Self::Error> {
        let id = param.strip_suffix(".ics").ok_or(Unlogged)?;
        EventId::from_param(id).map(IcsEventId)
    }
}

/// The token in `/feeds/{token}.ics`: 43 base64url characters (256 random bits).
pub struct FeedToken(pub String);

impl<'a> FromParam<'a> for FeedToken {
    type Error = Unlogged;

    fn from_param(param: &'a str) -> Result<Self, Self::Error> {
        let token = param.strip_suffix(".ics").ok_or(Unlogged)?;
        if is_token(token) {
            Ok(FeedToken(token.to_string()))
        } else {
            Err(Unlogged)
        }
    }
}

/// Whether `text` could be a token `new_feed_token` made (checked before any lookup).
pub fn is_token(text: &str) -> bool {
    text.len() == 43 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn new_feed_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The `If-None-Match` header of a request, if any.
pub struct IfNoneMatch(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IfNoneMatch {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        request::Outcome::Success(IfNoneMatch(request.headers().get_one("If-None-Match").map(str::to_string)))
    }
}

/// An iCalendar body with its validator: 304 when the client already has it.
pub struct Ics {
    pub body: String,
    pub filename: Option<String>,
    pub if_none_match: Option<String>,
    pub max_age: Option<Duration>,
}

impl Ics {
    fn etag(&self) -> String {
        format!("\"{}\"", hex::encode(&Sha256::digest(self.body.as_bytes())[..16]))
    }
}

impl<'r> Responder<'r, 'static> for Ics {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let etag = self.etag();
        let matches = self
            .if_none_match
            .as_deref()
            .is_some_and(|header| header.split(',').any(|tag| tag.trim().trim_start_matches("W/") == etag));
        let cache_control = match self.max_age {
            Some(age) => format!("private, max-age={}", age.num_seconds()),
            None => "private, no-cache".to_string(),
        };
        let mut response = Response::build();
        response.header(Header::new("ETag", etag)).header(Header::new("Cache-Control", cache_control));
        if matches {
            return response.status(Status::NotModified).ok();
        }
        if let Some(name) = self.filename {
            response.header(Header::new("Content-Disposition", format!("attachment; filename=\"{name}\"")));
        }
        let calendar = ContentType::new("text", "calendar").with_params(("charset", "utf-8"));
        response.header(calendar).sized_body(self.body.len(), std::io::Cursor::new(self.body)).ok()
    }
}
