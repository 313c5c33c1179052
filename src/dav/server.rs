//! Connections: HTTP/1.1 over hyper, each on a task of its own, with a timeout on reading a
//! request head (a client trickling bytes cannot hold a connection) and a bounded body read
//! only once the request is authenticated.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};

use super::error::DavError;
use super::{Dav, DavResponse, RequestHead, BODY_MAX};
use crate::logging::path_for_log_str;

const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Accepts connections until `shutdown` resolves.
pub async fn serve(
    dav: Dav,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, typically: wait instead of spinning.
                    log::warn!("CalDAV server: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        let _ = stream.set_nodelay(true);
        let dav = dav.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let dav = dav.clone();
                async move { Ok::<_, Infallible>(handle(&dav, request, peer).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = connection.await {
                log::debug!("CalDAV connection from {peer} ended: {e}");
            }
        });
    }
}

async fn handle(dav: &Dav, request: Request<Incoming>, peer: SocketAddr) -> DavResponse {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let head = RequestHead {
        method: parts.method,
        path: parts.uri.path().to_string(),
        headers: parts.headers,
        peer,
    };
    let response = match dav.respond(&head, Body(body, &head)).await {
        Ok(response) => response,
        Err(e) => closing_if_unread(e.into_response(), &head),
    };
    if let Some(times) = &dav.times {
        times.observe("caldav", started.elapsed());
    }
    log::debug!(
        "CalDAV {} {} {} in {} µs",
        head.method,
        path_for_log_str(&head.path),
        response.status().as_u16(),
        started.elapsed().as_micros()
    );
    response
}

/// An error can be answered before the request's body was read (a 401 comes before any
/// body is), and hyper then closes the connection rather than read what is left. Saying so
/// keeps a client from sending its next request down a connection about to close (python's
/// clients did, and saw "Remote end closed connection without response").
fn closing_if_unread(mut response: DavResponse, head: &RequestHead) -> DavResponse {
    let declared = head.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    let has_body = declared.is_some_and(|length| length > 0) || head.headers.contains_key(TRANSFER_ENCODING);
    if has_body {
        response.headers_mut().insert(CONNECTION, hyper::header::HeaderValue::from_static("close"));
    }
    response
}

/// A request's body, not yet read: read only after authentication, at most `BODY_MAX`.
pub struct Body<'h>(Incoming, &'h RequestHead);

impl Body<'_> {
    pub async fn read(self) -> Result<Bytes, DavError> {
        let declared = self.1.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > BODY_MAX as u64) {
            return Err(DavError::TooLarge);
        }
        match Limited::new(self.0, BODY_MAX).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => {
                Err(DavError::TooLarge)
            }
            Err(_) => Err(DavError::BadRequest("the request body could not be read")),
        }
    }
}
