//! Streamed response bodies: a producer task writes XML into `Chunks`, which hands the body
//! to hyper in pieces of about 32 KiB through a short channel. The producer waits while the
//! client reads, so a listing of 10,000 objects holds a few pieces in memory, never the whole.

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use tokio::sync::mpsc;

use super::xml::XmlOut;
use super::DavBody;

const CHUNK: usize = 32 * 1024;
/// Pieces in flight between the producer and the connection.
const IN_FLIGHT: usize = 4;

/// The producer's end: an XML writer whose output leaves in pieces.
pub struct Chunks {
    pub out: XmlOut,
    sender: mpsc::Sender<Result<Bytes, std::io::Error>>,
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
        self.sender.send(Ok(Bytes::from(piece))).await.is_ok()
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
    let pieces = rocket::futures::stream::unfold(receiver, |mut receiver| async move {
        let piece = receiver.recv().await?;
        Some((piece.map(Frame::data), receiver))
    });
    (Chunks { out: XmlOut::default(), sender }, StreamBody::new(pieces).boxed_unsync())
}
