//! Streamed response bodies: a producer task writes XML into `Chunks`, which hands the body
//! to hyper in pieces of about 32 KiB through a short channel. The producer waits while the
//! client reads, so a listing of 10,000 objects holds a few pieces in memory, never the whole.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use tokio::sync::mpsc;

use super::xml::XmlOut;
use super::DavBody;

const CHUNK: usize = 32 * 1024;
/// A producer holds a database connection while it streams: a client that stops reading for
/// this long loses its answer, so slow readers cannot hold the pool.
const STALL: std::time::Duration = std::time::Duration::from_secs(30);
/// Pieces in flight between the producer and the connection.
const IN_FLIGHT: usize = 4;

/// The producer's end: an XML writer whose output leaves in pieces.
pub struct Chunks {
    pub out: XmlOut,
    sender: mpsc::Sender<Result<Bytes, std::io::Error>>,
    /// Set when the producer gave up on a stalled client: the body then ends in an error
    /// (the connection is cut), not as a complete answer.
    abandoned: Arc<AtomicBool>,
}

impl Chunks {
    /// Sends what has been written once it is a piece's worth. `false`: the client has gone,
    /// so the producer can stop.
    pub async fn flush_if_full(&mut self) -> bool {
        if self.out.len() < CHUNK {
            return true;
        }
        self.send().await
    }

    async fn send(&mut self) -> bool {
        let piece = self.out.take();
        match tokio::time::timeout(STALL, self.sender.send(Ok(Bytes::from(piece)))).await {
            Ok(sent) => sent.is_ok(),
            Err(_) => {
                log::warn!(
                    "CalDAV: a client stopped reading a listing for {} s; its answer ends",
                    STALL.as_secs()
                );
                self.abandoned.store(true, Ordering::Relaxed);
                false
            }
        }
    }

    /// Sends the rest; the body ends when `Chunks` is dropped.
    pub async fn finish(mut self) {
        let _ = self.send().await;
    }

    /// Ends the body with an error: the connection is cut rather than the listing cut short.
    pub async fn fail(self, error: String) {
        log::error!("CalDAV: a streamed listing failed midway: {error}");
        let _ = self.sender.send(Err(std::io::Error::other(error))).await;
    }
}

pub fn channel() -> (Chunks, DavBody) {
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(IN_FLIGHT);
    let abandoned = Arc::new(AtomicBool::new(false));
    let state = (receiver, abandoned.clone(), false);
    let pieces = rocket::futures::stream::unfold(state, |(mut receiver, abandoned, ended)| async move {
        if ended {
            return None;
        }
        match receiver.recv().await {
            Some(piece) => Some((piece.map(Frame::data), (receiver, abandoned, false))),
            None if abandoned.load(Ordering::Relaxed) => {
                let cut = std::io::Error::other("the listing was abandoned");
                Some((Err(cut), (receiver, abandoned, true)))
            }
            None => None,
        }
    });
    (Chunks { out: XmlOut::default(), sender, abandoned }, StreamBody::new(pieces).boxed_unsync())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pieces_arrive_in_order_and_an_abandoned_listing_ends_in_an_error() {
        let (mut chunks, body) = channel();
        let producer = tokio::spawn(async move {
            chunks.out.root("d:multistatus");
            for n in 0..5000 {
                chunks.out.text("d:href", &format!("/dav/calendars/amy/1/{n}.ics"));
                assert!(chunks.flush_if_full().await);
            }
            chunks.out.end("d:multistatus");
            chunks.finish().await;
        });
        let whole = body.collect().await.expect("a complete body").to_bytes();
        producer.await.expect("the producer ends");
        let text = String::from_utf8(whole.to_vec()).expect("UTF-8");
        assert!(
            text.contains("/1/0.ics</d:href>")
                && text.contains("/1/4999.ics</d:href>")
                && text.ends_with("</d:multistatus>")
        );
        assert!(super::super::xml::parse(text.as_bytes()).is_ok());

        let (chunks, body) = channel();
        chunks.abandoned.store(true, Ordering::Relaxed);
        drop(chunks);
        assert!(body.collect().await.is_err(), "a cut, never a complete-looking answer");
    }
}
