//! Interop: python-caldav, a CalDAV client nobody here wrote, performs what a phone does
//! (discover, list, create a calendar, put events of every kind, query a month, multiget,
//! sync before and after web changes, delete) against the real server on a real port; this
//! side performs the web edits it asks for through the web routes.

use std::process::Stdio;

use rocket::http::Status;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::helpers::*;

/// The interop virtualenv `bin/test` makes (`target/interop-venv`, python-caldav pinned).
pub fn interop_python() -> std::path::PathBuf {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/interop-venv/bin/python");
    assert!(python.exists(), "{python:?} is missing: run bin/test, which makes the interop virtualenv");
    python
}

async fn web_object_id(app: &TestApp, uid: &str) -> i64 {
    let found = app.store().object_with_uid(eventide::domain::UserId(1), uid).await.unwrap();
    found.unwrap_or_else(|| panic!("no object {uid}")).1.id.0
}

/// Runs `script` (under tests/interop) with `args`; each line it prints is a request this side
/// performs with `answer` before telling it "done", until it prints DONE and exits cleanly.
async fn converse<F, Fut>(script: &str, args: &[&str], mut answer: F)
where
    F: FnMut(String, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop").join(script);
    let mut child = tokio::process::Command::new(interop_python())
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut done = false;
    while let Ok(Some(line)) = lines.next_line().await {
        let (request, argument) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        if request == "DONE" {
            done = true;
            continue;
        }
        answer(request.to_string(), argument.to_string()).await;
        stdin.write_all(b"done\n").await.unwrap();
        stdin.flush().await.unwrap();
    }
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && done, "the interop flows failed:\n{stderr}");
}

async fn a_phone_syncs_with_python_caldav(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let secret = eventide::auth::app_passwords::create(app.store(), eventide::domain::UserId(1), "Phone")
        .await
        .unwrap();
    let port = crate::dav_client::start(&app).await;
    let url = format!("http://127.0.0.1:{port}/");
    converse("caldav_flows.py", &[&url, "amy", &secret], |request, argument| {
        let app = &app;
        async move {
            match request.as_str() {
                "WEB-EDIT" => {
                    let id = web_object_id(app, &argument).await;
                    let fields = [
                        ("title", "Edited on the web"),
                        ("start", "2026-06-05T12:00"),
                        ("end", "2026-06-05T13:00"),
                    ];
                    assert_status(
                        &app.post_with_token(&format!("/events/{id}"), &fields).await,
                        Status::SeeOther,
                    );
                }
                "WEB-DELETE" => {
                    let id = web_object_id(app, &argument).await;
                    assert_status(
                        &app.post_with_token(&format!("/events/{id}/delete"), &[]).await,
                        Status::SeeOther,
                    );
                }
                "WEB-CHECK" => {
                    let month = app.get("/calendar/month/2026-06-01").await.into_string().await.unwrap();
                    assert!(month.contains(&argument), "the web shows {argument:?} at once");
                }
                other => panic!("unexpected line from the interop script: {other}"),
            }
        }
    })
    .await;
    let calendars = app.store().calendars_of(eventide::domain::UserId(1)).await.unwrap();
    assert_eq!(calendars.len(), 1, "the client deleted the calendar it made");
}

/// Ben's phone with Amy's three calendars shared to read, to write and busy-only.
async fn shared_calendars_on_a_phone_with_python_caldav(engine: Engine) {
    use crate::sharing::{Household, TITLE};
    let app = spawn(engine, Backend::Redis).await;
    let home = Household::new(&app).await;
    for (name, color) in [("Work", "#0b8043"), ("Diary", "#d50000")] {
        let made = home.amy.post_with_token("/calendars", &[("name", name), ("color", color)]).await;
        assert_status(&made, Status::SeeOther);
    }
    let mut diary_event = 0;
    for (name, access) in [("Personal", "read"), ("Work", "write"), ("Diary", "busy")] {
        let calendar = home.calendar(1, name).await;
        if name != "Work" {
            diary_event = home.secret(calendar, "2026-06-03T10:00").await;
        }
        assert_eq!(home.share(calendar, "ben", access).await, Status::SeeOther);
    }
    let secret = eventide::auth::app_passwords::create(app.store(), eventide::domain::UserId(2), "Phone")
        .await
        .unwrap();
    let port = crate::dav_client::start(&app).await;
    let url = format!("http://127.0.0.1:{port}/");
    converse("caldav_shares.py", &[&url, "ben", &secret, TITLE], |request, argument| {
        let home = &home;
        async move {
            match request.as_str() {
                "WEB-CHECK" => {
                    let month = home.amy.get("/calendar/month/2026-06-01").await.into_string().await.unwrap();
                    assert!(month.contains(&argument), "Amy sees {argument:?} at once");
                }
                "WEB-DELETE-BUSY" => {
                    let uri = format!("/events/{diary_event}/delete");
                    assert_status(&home.amy.post_with_token(&uri, &[]).await, Status::SeeOther);
                }
                other => panic!("unexpected line from the interop script: {other}"),
            }
        }
    })
    .await;
}

crate::on_both_engines!(a_phone_syncs_with_python_caldav, shared_calendars_on_a_phone_with_python_caldav);
