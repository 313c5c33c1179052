//! A CalDAV server of the test's own (the app's, on a free port) and a plain HTTP/1.1 client
//! for the Rust tests of every status and precondition. Interop with a real client is
//! `caldav_interop.rs`.

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::TestApp;

/// Starts the CalDAV server over the app's store and cache on a free port.
pub async fn start(app: &TestApp) -> u16 {
    let dav = eventide::dav::Dav::from_rocket(app.client.rocket(), None).expect("the app's parts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(eventide::dav::server::serve(dav, listener, std::future::pending()));
    port
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub struct DavClient {
    pub port: u16,
    pub auth: Option<(String, String)>,
}

impl DavClient {
    pub fn new(port: u16, user: &str, password: &str) -> DavClient {
        DavClient { port, auth: Some((user.to_string(), password.to_string())) }
    }

    pub async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n", self.port);
        if let Some((user, password)) = &self.auth {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            head.push_str(&format!("Authorization: Basic {token}\r\n"));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        stream.write_all(head.as_bytes()).await.unwrap();
        // A refused body may close the connection before all of it is written.
        let _ = stream.write_all(body).await;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        let chunked =
            headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
        let body = if chunked { dechunk(body) } else { body.to_string() };
        Reply { status, headers, body }
    }

    pub async fn propfind(&self, path: &str, depth: &str, props: &str) -> Reply {
        let body = format!(
            r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cs="http://calendarserver.org/ns/" xmlns:ic="http://apple.com/ns/ical/"><d:prop>{props}</d:prop></d:propfind>"#
        );
        self.send("PROPFIND", path, &[("Depth", depth), ("Content-Type", "application/xml")], body.as_bytes())
            .await
    }

    pub async fn report(&self, path: &str, body: &str) -> Reply {
        self.send("REPORT", path, &[("Depth", "1"), ("Content-Type", "application/xml")], body.as_bytes())
            .await
    }

    pub async fn put(&self, path: &str, ics: &str, headers: &[(&str, &str)]) -> Reply {
        let mut all = vec![("Content-Type", "text/calendar; charset=utf-8")];
        all.extend_from_slice(headers);
        self.send("PUT", path, &all, ics.as_bytes()).await
    }

    pub async fn sync(&self, path: &str, token: &str) -> Reply {
        let body = format!(
            r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
        );
        self.report(path, &body).await
    }
}

/// A chunked body's data (streamed listings arrive so).
fn dechunk(mut raw: &str) -> String {
    let mut body = String::new();
    while let Some((size, rest)) = raw.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        let (Some(data), Some(next)) = (rest.get(..size), rest.get(size..)) else { break };
        if size == 0 {
            break;
        }
        body.push_str(data);
        raw = next.trim_start_matches("\r\n");
    }
    body
}

/// The text of the first `<prefix:name>` element in `xml` (tests read our own output, whose
/// prefixes are fixed).
pub fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))?;
    Some(&xml[start..start + end])
}

/// Every `<d:href>` in `xml`.
pub fn hrefs(xml: &str) -> Vec<String> {
    xml.split("<d:href>").skip(1).filter_map(|s| s.split("</d:href>").next()).map(str::to_string).collect()
}

pub fn event(uid: &str, summary: &str, start: &str, end: &str, extra: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n\
         DTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:{summary}\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}
