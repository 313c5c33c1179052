//! The CalDAV server (RFC 4791, with RFC 6578 sync and RFC 6764 discovery), in the same
//! binary on its own port (`dav_port`). Rocket 0.5 answers any method outside its nine with
//! 400 before a route sees it, so this is a small hyper service beside Rocket, sharing its
//! store, the one write path and the cache: a change made here shows on the web at the next
//! request, and a change made on the web shows in the next sync.
//!
//! A request goes: `server` (connection, body limit) → `Dav::respond` (path, auth, method) →
//! the method's module (`propfind`, `report`, `write`) → store reads or `Writes`.

pub mod auth;
pub mod bodies;
pub mod error;
pub mod limit;
pub mod masks;
pub mod objects;
pub mod path;
pub mod propfind;
pub mod props;
pub mod report;
pub mod request;
pub mod server;
pub mod stream;
pub mod write;
pub mod xml;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{HeaderMap, Method, Response, StatusCode};
use rocket::fairing::AdHoc;

use crate::auth::throttle::LoginThrottle;
use crate::cache::Cache;
use crate::config::AppConfig;
use crate::domain::{Calendar, CalendarId, CalendarObject};
use crate::store::Store;
use crate::writes::Writes;
use auth::Principal;
use error::DavError;
use path::DavPath;

/// What every method and property name says the server can do.
pub const ALLOW: &str = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCALENDAR";

/// Request bodies larger than this are refused (413): an event is a few KiB, a multiget of
/// 1,000 hrefs about 100 KiB.
pub const BODY_MAX: usize = 2 * 1024 * 1024;

/// A response body: whole, or streamed as it is written (listings of whole calendars).
/// A streamed body that fails midway (the database went away) ends in an error, so the
/// connection is cut and the client sees a failed request, never a short listing.
pub type DavBody = http_body_util::combinators::UnsyncBoxBody<Bytes, std::io::Error>;
pub type DavResponse = Response<DavBody>;

/// The CalDAV server's share of the app: the web's store, cache and login throttle.
#[derive(Clone)]
pub struct Dav {
    pub store: Store,
    pub cache: Cache,
    pub throttle: LoginThrottle,
    /// The header a reverse proxy puts the client's address in (Rocket's `ip_header`).
    pub ip_header: Option<String>,
    pub bodies: bodies::Bodies,
    pub heavy: limit::HeavyLimits,
    pub masks: masks::Masks,
    pub times: Option<crate::web::timing::RequestTimes>,
}

impl Dav {
    /// The server's parts, from a Rocket that has ignited. `ip_header`: Rocket's setting of
    /// that name (the header a reverse proxy puts the client's address in).
    pub fn from_rocket<P: rocket::Phase>(
        rocket: &rocket::Rocket<P>,
        ip_header: Option<String>,
    ) -> Option<Dav> {
        Some(Dav {
            store: rocket.state::<Store>()?.clone(),
            cache: rocket.state::<Cache>()?.clone(),
            throttle: rocket.state::<LoginThrottle>()?.clone(),
            ip_header,
            bodies: bodies::Bodies::default(),
            heavy: limit::HeavyLimits::default(),
            masks: masks::Masks::new(rocket.state::<crate::config::Secret>()?),
            times: rocket.state::<crate::web::timing::RequestTimes>().cloned(),
        })
    }

    pub fn writes(&self) -> Writes<'_> {
        Writes::new(&self.store, &self.cache)
    }

    fn client_address(&self, headers: &HeaderMap, peer: SocketAddr) -> Option<IpAddr> {
        match &self.ip_header {
            Some(name) => headers.get(name.as_str())?.to_str().ok()?.trim().parse().ok(),
            None => Some(peer.ip()),
        }
    }

    /// One request, from its head and (bounded) body to its response.
    pub async fn respond(&self, head: &RequestHead, body: server::Body<'_>) -> Result<DavResponse, DavError> {
        let path = DavPath::parse(&head.path).ok_or(DavError::NotFound)?;
        if head.method == Method::OPTIONS {
            return Ok(options());
        }
        if path == DavPath::WellKnown {
            return Ok(redirect(path::ROOT));
        }
        let address = self.client_address(&head.headers, head.peer);
        let principal = auth::authenticate(self, &head.headers, address).await?;
        // Another user's paths are as absent as paths that never existed.
        if path.user().is_some_and(|user| !principal.is(user)) {
            return Err(DavError::NotFound);
        }
        // Reports and listings can cover a whole calendar: a few at once per user.
        let heavy = matches!(head.method.as_str(), "REPORT" | "PROPFIND");
        let turn = match heavy {
            true => Some(Arc::new(self.heavy.claim(principal.user).await.ok_or(DavError::Busy)?)),
            false => None,
        };
        let body = body.read().await?;
        let request = DavRequest { head, path, principal, body, turn };
        match head.method.as_str() {
            "PROPFIND" => propfind::propfind(self, &request).await,
            "REPORT" => report::report(self, &request).await,
            "GET" | "HEAD" => write::get(self, &request).await,
            "PUT" => write::put(self, &request).await,
            "DELETE" => write::delete(self, &request).await,
            "MKCALENDAR" => write::mkcalendar(self, &request).await,
            "PROPPATCH" => write::proppatch(self, &request).await,
            _ => Err(DavError::MethodNotAllowed(ALLOW)),
        }
    }

    /// The calendars in the principal's home: their own, and those shared with them (a
    /// busy-only one's objects as times alone, under names that tell nothing: see `masks`).
    pub async fn calendars(&self, principal: &Principal) -> Result<Vec<Calendar>, DavError> {
        Ok(self.store.visible_calendars(principal.user).await?)
    }

    /// The calendar's objects with these names, as its reader may have them. A busy reader
    /// knows them by masked names, found among the calendar's references (one narrow row per
    /// object: a busy-only share costs a lookup over its calendar that others do not).
    pub async fn objects_named(
        &self,
        calendar: &Calendar,
        names: &[&str],
    ) -> Result<Vec<CalendarObject>, DavError> {
        if calendar.access.sees_details() {
            return Ok(self.store.objects_named(calendar.user_id, calendar.id, names).await?);
        }
        let references = self.store.calendar_objects(calendar.user_id, calendar.id).await?;
        let stored = self.masks.unmask(calendar, &references, names);
        let found = self.store.objects_named(calendar.user_id, calendar.id, &stored).await?;
        Ok(found.into_iter().map(|o| self.masks.object(calendar, o)).collect())
    }

    /// The principal's calendar at a path segment: the name MKCALENDAR gave it, or its id
    /// (`shared-{id}` for one shared with them).
    pub async fn calendar(&self, principal: &Principal, segment: &str) -> Result<Option<Calendar>, DavError> {
        Ok(find_calendar(self.calendars(principal).await?, segment))
    }
}

/// The calendar a path segment names: the one MKCALENDAR gave that name, else the one with
/// that id (and no name of its own).
pub fn find_calendar(calendars: Vec<Calendar>, segment: &str) -> Option<Calendar> {
    let by_id =
        |c: &Calendar| c.dav_name.is_none() && segment.parse::<i64>().is_ok_and(|id| CalendarId(id) == c.id);
    let at = calendars
        .iter()
        .position(|c| c.dav_name.as_deref() == Some(segment))
        .or_else(|| calendars.iter().position(by_id))?;
    calendars.into_iter().nth(at)
}

/// Refuses a change to a calendar the principal may only read (RFC 3744's `need-privileges`).
pub fn writable(calendar: &Calendar, href: &str, privilege: &'static str) -> Result<(), DavError> {
    if calendar.access.can_write() {
        Ok(())
    } else {
        Err(DavError::Forbidden(error::Precondition::NeedPrivileges { href: href.to_string(), privilege }))
    }
}

/// What a request is, once its body has been read and its user authenticated.
pub struct DavRequest<'a> {
    pub head: &'a RequestHead,
    pub path: DavPath,
    pub principal: Principal,
    pub body: Bytes,
    /// The user's turn for a heavy request; a streamed answer keeps it until it is written.
    pub turn: Option<Arc<tokio::sync::OwnedSemaphorePermit>>,
}

impl DavRequest<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as XML, or `None` when it is empty.
    pub fn xml(&self) -> Result<Option<xml::Element>, DavError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        Ok(Some(xml::parse(&self.body)?))
    }

    /// `Depth`: 0 or 1 (RFC 4918's default, infinity, is answered as 1: calendars hold no
    /// collections).
    pub fn depth_one(&self) -> bool {
        !matches!(self.header("Depth").map(str::trim), Some("0"))
    }
}

/// The parts of a request the handlers read.
pub struct RequestHead {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub peer: SocketAddr,
}

pub fn response(status: StatusCode) -> hyper::http::response::Builder {
    Response::builder().status(status).header("DAV", "1, 3, calendar-access")
}

pub fn finish(builder: hyper::http::response::Builder, body: Bytes) -> DavResponse {
    let whole = |body: Bytes| {
        use http_body_util::BodyExt;
        Full::new(body).map_err(|never| match never {}).boxed_unsync()
    };
    builder.body(whole(body)).unwrap_or_else(|_| Response::new(whole(Bytes::new())))
}

/// A 207 whose body is sent as `write` produces it (see `stream::Chunks`), so a listing of a
/// whole calendar never sits in memory at once.
pub fn streamed_multistatus<F, Fut>(write: F) -> DavResponse
where
    F: FnOnce(stream::Chunks) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (chunks, body) = stream::channel();
    tokio::spawn(write(chunks));
    let builder = response(StatusCode::MULTI_STATUS).header("Content-Type", "application/xml; charset=utf-8");
    builder.body(body).unwrap_or_else(|_| finish(response(StatusCode::INTERNAL_SERVER_ERROR), Bytes::new()))
}

pub fn multistatus(body: Vec<u8>) -> DavResponse {
    finish(
        response(StatusCode::MULTI_STATUS).header("Content-Type", "application/xml; charset=utf-8"),
        Bytes::from(body),
    )
}

fn options() -> DavResponse {
    finish(response(StatusCode::OK).header("Allow", ALLOW).header("Content-Length", "0"), Bytes::new())
}

fn redirect(to: &str) -> DavResponse {
    finish(response(StatusCode::MOVED_PERMANENTLY).header("Location", to), Bytes::new())
}

/// Where calendar apps reach the CalDAV server (`None`: it is off), for the web's pages.
#[derive(Debug, Clone)]
pub struct DavPublicUrl(pub Option<crate::web::public_url::PublicUrl>);

impl DavPublicUrl {
    /// The address to type into a calendar app: the context root.
    pub fn root(&self) -> Option<String> {
        self.0.as_ref().map(|url| url.join(path::ROOT))
    }
}

/// RFC 6764 on the web port: a calendar app given the web address finds the CalDAV server.
#[rocket::get("/.well-known/caldav")]
pub fn well_known(
    dav: &rocket::State<DavPublicUrl>,
) -> Result<rocket::response::Redirect, crate::error::AppError> {
    let root = dav.root().ok_or(crate::error::AppError::NotFound)?;
    Ok(rocket::response::Redirect::moved(root))
}

/// Starts the CalDAV server when Rocket lifts off (unless `dav_port` is off), on the web
/// server's address; it stops with Rocket's shutdown.
pub fn stage() -> AdHoc {
    AdHoc::on_liftoff("CalDAV server", |rocket| {
        Box::pin(async move {
            let Some(config) = rocket.state::<AppConfig>() else { return };
            let Some(port) = config.dav_port.port() else {
                log::info!("CalDAV server: off (dav_port = off)");
                return;
            };
            let ip_header = rocket.config().ip_header.as_ref().map(|h| h.to_string());
            let Some(dav) = Dav::from_rocket(rocket, ip_header) else {
                log::error!("CalDAV server: the store, cache or login throttle is missing; not started");
                return;
            };
            let address = SocketAddr::new(rocket.config().address, port);
            match tokio::net::TcpListener::bind(address).await {
                Ok(listener) => {
                    log::info!("CalDAV server on http://{address}{}", path::ROOT);
                    let shutdown = rocket.shutdown();
                    tokio::spawn(server::serve(dav, listener, shutdown));
                }
                Err(e) => {
                    // Calendar apps would fail in silence: stop, as a web port in use does.
                    log::error!("CalDAV server: cannot listen on {address}: {e}; stopping");
                    rocket.shutdown().notify();
                }
            }
        })
    })
}
