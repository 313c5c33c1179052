//! Stopping gracefully (issue 20): on SIGTERM the real binary reports not ready at once
//! (`/readyz` 503, `/healthz` still 200), keeps serving for the drain, lets a request in
//! flight finish, stops accepting and exits 0.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::process::ServerProcess;

#[test]
fn sigterm_drains_finishes_in_flight_requests_and_exits_cleanly() {
    let drain = Duration::from_secs(2);
    let mut server = ServerProcess::start_with(&[
        ("EVENTIDE_SHUTDOWN_DRAIN_SECONDS", "2"),
        ("EVENTIDE_SHUTDOWN_GRACE_SECONDS", "5"),
    ]);
    assert_eq!(server.request("GET", "/readyz", &[], b"").status, 200);

    // A request in flight: its head and half its body are sent before the signal.
    let body = b"username=nobody&password=wrong-password";
    let mut in_flight = TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    in_flight.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    in_flight.write_all(head.as_bytes()).unwrap();
    in_flight.write_all(&body[..10]).unwrap();
    std::thread::sleep(Duration::from_millis(200));

    let signalled = Instant::now();
    server.terminate();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.request("GET", "/readyz", &[], b"").status, 503, "not ready at once");
    assert_eq!(server.request("GET", "/healthz", &[], b"").status, 200, "but alive, and serving");

    // The drain ends; the request in flight still gets its whole answer.
    std::thread::sleep(drain);
    in_flight.write_all(&body[10..]).unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
    assert!(!answer.starts_with("HTTP/1.1 5"), "{answer}");

    let status = server.wait_for_exit(Duration::from_secs(15)).expect("it exits");
    assert!(status.success(), "{status:?}");
    assert!(signalled.elapsed() >= drain, "not before the drain");
    assert!(server.try_request("GET", "/healthz", &[], b"").is_none(), "nothing listens any more");
}
