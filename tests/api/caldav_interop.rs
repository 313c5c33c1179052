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

async fn a_phone_syncs_with_python_caldav(engine: Engine) {
    let python = interop_python();
    let app = spawn(engine, Backend::Memory).await;
    assert_status(&app.register("amy", PASSWORD).await, Status::SeeOther);
    let secret = eventide::auth::app_passwords::create(app.store(), eventide::domain::UserId(1), "Phone")
        .await
        .unwrap();
    let port = crate::dav_client::start(&app).await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/caldav_flows.py");
    let mut child = tokio::process::Command::new(python)
        .arg(script)
        .args([&format!("http://127.0.0.1:{port}/"), "amy", &secret])
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
        match request {
            "WEB-EDIT" => {
                let id = web_object_id(&app, argument).await;
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
                let id = web_object_id(&app, argument).await;
                assert_status(
                    &app.post_with_token(&format!("/events/{id}/delete"), &[]).await,
                    Status::SeeOther,
                );
            }
            "WEB-CHECK" => {
                let month = app.get("/calendar/month/2026-06-01").await.into_string().await.unwrap();
                assert!(month.contains(argument), "the web shows {argument:?} at once");
            }
            "DONE" => {
                done = true;
                continue;
            }
            other => panic!("unexpected line from the interop script: {other}"),
        }
        stdin.write_all(b"done\n").await.unwrap();
        stdin.flush().await.unwrap();
    }
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && done, "the interop flows failed:\n{stderr}");
    let calendars = app.store().calendars_of(eventide::domain::UserId(1)).await.unwrap();
    assert_eq!(calendars.len(), 1, "the client deleted the calendar it made");
}

crate::on_both_engines!(a_phone_syncs_with_python_caldav);
