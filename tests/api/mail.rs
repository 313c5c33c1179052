//! Reminders by email (issue 19), against a real SMTP server: aiosmtpd from the interop
//! virtualenv, on a port of its own, keeping every message it accepts. The clock is the
//! app's injectable one; a pass is the scheduler's (fire what is due, then send the mail).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use rocket::http::{ContentType, Status};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::caldav_interop::interop_python;
use crate::helpers::*;
use crate::reminders::{body_of, local, make, user_in, GRACE};

/// A real SMTP server, stopped and its mail removed when the test ends.
pub struct SmtpSink {
    port: u16,
    dir: PathBuf,
    child: Option<tokio::process::Child>,
}

/// One accepted message, as Python's email package read it.
#[derive(Debug, serde::Deserialize)]
pub struct Received {
    headers: std::collections::BTreeMap<String, Vec<String>>,
    text: Option<String>,
    html: Option<String>,
    attachments: Vec<Attachment>,
    envelope_to: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
pub struct Attachment {
    filename: Option<String>,
    content_type: String,
    content: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.first()).map_or("", String::as_str)
    }
    fn text(&self) -> &str {
        self.text.as_deref().unwrap_or_default()
    }
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let dir = std::env::temp_dir().join(unique("eventide_smtp"));
        let mut sink = SmtpSink { port: free_port(), dir, child: None };
        sink.resume().await;
        sink
    }

    /// `smtp://127.0.0.1:PORT`, whether it listens now or not.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts listening (again) on the same port, keeping what arrived.
    pub async fn resume(&mut self) {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/smtp_sink.py");
        let mut child = tokio::process::Command::new(interop_python())
            .arg(script)
            .arg(self.port.to_string())
            .arg(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the SMTP server starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await;
        assert!(
            matches!(ready, Ok(Ok(Some(ref line))) if line == "ready"),
            "aiosmtpd did not start: {ready:?}"
        );
        self.child = Some(child);
    }

    /// Stops listening: connections are refused until `resume`.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Every message accepted so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "json"));
        names.sort();
        names.iter().map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()).collect()
    }

    /// Waits (up to 30 s) until `count` messages have arrived; then all of them.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..300 {
            if self.received().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let received = self.received();
        assert_eq!(received.len(), count, "messages: {received:#?}");
        received
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An app that mails through `sink`, at a public address, whose own scheduler stays out of
/// the way (the tests run the passes).
async fn mail_app(engine: Engine, sink: &SmtpSink) -> TestApp {
    let options = Options::new(engine, Backend::Memory)
        .with("smtp_url", sink.url())
        .with("public_url", "https://cal.example.org")
        .with("reminder_interval_seconds", 3600);
    spawn_with(options).await
}

/// Sets the clock to `at` and runs a scheduler pass and a mail pass.
async fn pass_at(app: &TestApp, at: chrono::DateTime<chrono::Utc>) -> eventide::mail::Delivered {
    app.clock.advance(at - app.clock.now());
    eventide::reminders::tick(app.store(), at, GRACE).await.unwrap();
    let mail = app.client.rocket().state::<eventide::mail::Mail>().unwrap();
    eventide::mail::deliver(app.store(), mail.mailer().unwrap(), at, GRACE).await.unwrap()
}

/// The path of the first link in `text` that starts with `prefix`.
fn link_in(text: &str, prefix: &str) -> String {
    let at = text.find(prefix).unwrap_or_else(|| panic!("no {prefix} in {text}"));
    let link: String = text[at..].chars().take_while(|c| !c.is_whitespace() && *c != '>').collect();
    link.trim_start_matches("https://cal.example.org").to_string()
}

/// `amy` in `zone` with `address` confirmed through the mailed link; the sink holds the
/// confirmation.
async fn confirmed(app: &TestApp, sink: &SmtpSink, zone: &str, address: &str) {
    user_in(app, zone).await;
    assert_status(&app.post_with_token("/account/email", &[("email", address)]).await, Status::SeeOther);
    let now = app.clock.now();
    pass_at(app, now).await;
    let mails = sink.wait_for(1).await;
    let link = link_in(mails[0].text(), "https://cal.example.org/account/email/confirm/");
    assert_status(&app.browser().post_with_token(&link, &[]).await, Status::Ok);
}

async fn an_address_is_confirmed_then_reminders_are_mailed(engine: Engine) {
    let sink = SmtpSink::start().await;
    let app = mail_app(engine, &sink).await;
    user_in(&app, "Europe/Berlin").await;

    // Refused with the input kept and nothing stored.
    let bad = app.post_with_token("/account/email", &[("email", "amy at home")]).await;
    assert_eq!(bad.status(), Status::UnprocessableEntity);
    let page = bad.into_string().await.unwrap();
    assert!(
        page.contains(r#"id="email-address-error""#) && page.contains(r#"value="amy at home""#),
        "{page}"
    );
    assert!(app.store().mail_address_of(eventide::domain::UserId(1)).await.unwrap().is_none());

    assert_status(
        &app.post_with_token("/account/email", &[("email", "amy@example.org")]).await,
        Status::SeeOther,
    );
    assert!(body_of(&app, "/account").await.contains("We sent a link to <strong>amy@example.org</strong>"));
    pass_at(&app, app.clock.now()).await;
    let confirmation = &sink.wait_for(1).await[0];
    assert_eq!(confirmation.header("to"), "amy@example.org");
    assert!(confirmation.header("subject").starts_with("Confirm your address"));
    assert!(confirmation.html.as_deref().unwrap_or_default().contains("Confirm this address"));
    let link = link_in(confirmation.text(), "https://cal.example.org/account/email/confirm/");

    // Not confirmed yet: a reminder shows in the app only.
    let fields =
        [("title", "Early"), ("start", "2027-03-28T10:00"), ("end", "2027-03-28T11:00"), ("reminders", "10")];
    make(&app, &fields).await;
    pass_at(&app, local("Europe/Berlin", "2027-03-28T09:50")).await;
    assert_eq!(sink.received().len(), 1);

    // Opening the link (on another device, no session) asks; only the button confirms.
    let phone = app.browser();
    let asked = phone.get(&link).await.into_string().await.unwrap();
    assert!(asked.contains("Yes, confirm this address"), "{asked}");
    assert_status(&app.login("amy", PASSWORD).await, Status::SeeOther);
    assert!(body_of(&app, "/account").await.contains("We sent a link"), "a GET confirms nothing");
    let done = phone.post_with_token(&link, &[]).await.into_string().await.unwrap();
    assert!(done.contains("amy@example.org is confirmed"), "{done}");
    assert!(body_of(&app, "/account")
        .await
        .contains("Your reminders are mailed to <strong>amy@example.org</strong>"));

    // A reminder: text and HTML (escaped), the time in the user's zone, the link, the .ics,
    // a stable Message-ID and one-click unsubscribe.
    let fields = [
        ("title", "Dentist <b>&"),
        ("location", "Main St 1"),
        ("start", "2027-03-29T10:00"),
        ("end", "2027-03-29T11:00"),
        ("reminders", "10"),
    ];
    let id = make(&app, &fields).await;
    pass_at(&app, local("Europe/Berlin", "2027-03-29T09:49")).await;
    assert_eq!(sink.received().len(), 1, "not a minute early");
    pass_at(&app, local("Europe/Berlin", "2027-03-29T09:50")).await;
    let mails = sink.wait_for(2).await;
    let reminder = &mails[1];
    assert_eq!(reminder.envelope_to, ["amy@example.org"]);
    assert_eq!(reminder.header("subject"), "Reminder: Dentist <b>& · Mon 29 Mar, 10:00");
    assert!(reminder.header("from").contains("eventide@cal.example.org"));
    assert_eq!(reminder.header("message-id"), format!("<reminder.{id}.20270329T080000Z.10@cal.example.org>"));
    assert_eq!(reminder.header("auto-submitted"), "auto-generated");
    assert_eq!(reminder.header("list-unsubscribe-post"), "List-Unsubscribe=One-Click");
    let text = reminder.text();
    assert!(text.contains("Monday, 29 March 2027, 10:00–11:00 (Europe/Berlin)"), "{text}");
    assert!(text.contains("Where: Main St 1") && text.contains("10 minutes before"), "{text}");
    let open = format!("Open it: https://cal.example.org/events/{id}");
    assert!(text.lines().any(|line| line.trim_end() == open), "{text}");
    let html = reminder.html.as_deref().unwrap_or_default();
    assert!(html.contains("Dentist &lt;b&gt;&amp;") && !html.contains("<b>&"), "{html}");
    let ics = reminder.attachments.iter().find(|a| a.filename.as_deref() == Some("event.ics")).unwrap();
    assert_eq!(ics.content_type, "text/calendar");
    assert!(
        ics.content.contains("SUMMARY:Dentist <b>&") && ics.content.contains("TRIGGER:-PT10M"),
        "{}",
        ics.content
    );

    // One-click unsubscribe, as a mail provider POSTs it: no cookie, no CSRF token.
    assert_status(&app.login("amy", PASSWORD).await, Status::SeeOther);
    let unsubscribe =
        link_in(reminder.header("list-unsubscribe"), "https://cal.example.org/mail/unsubscribe/");
    let forged = format!("/mail/unsubscribe/{}", "A".repeat(43));
    assert_status(&app.client.post(forged).header(ContentType::Form).dispatch().await, Status::NotFound);
    let scanned = app.client.get(unsubscribe.clone()).dispatch().await.into_string().await.unwrap();
    assert!(scanned.contains("Stop sending Eventide reminders to"), "a GET only asks: {scanned}");
    assert!(body_of(&app, "/account").await.contains("Your reminders are mailed to"));
    let click = app
        .client
        .post(unsubscribe)
        .header(ContentType::Form)
        .body("List-Unsubscribe=One-Click")
        .dispatch()
        .await;
    assert_status(&click, Status::Ok);
    assert!(body_of(&app, "/account").await.contains("You unsubscribed <strong>amy@example.org</strong>"));
    let fields =
        [("title", "After"), ("start", "2027-03-30T10:00"), ("end", "2027-03-30T11:00"), ("reminders", "10")];
    make(&app, &fields).await;
    pass_at(&app, local("Europe/Berlin", "2027-03-30T09:50")).await;
    assert_eq!(sink.received().len(), 2, "no mail after unsubscribing; the tray still has it");
    assert!(app.store().notifications_of(eventide::domain::UserId(1), 10).await.unwrap().len() == 3);
}

async fn one_mail_at_the_right_instant_across_a_dst_change(engine: Engine) {
    for (zone, day) in [
        ("Europe/Berlin", "2027-03-28"),
        ("America/New_York", "2027-03-14"),
        ("Pacific/Auckland", "2027-04-04"),
    ] {
        let sink = SmtpSink::start().await;
        let app = mail_app(engine, &sink).await;
        confirmed(&app, &sink, zone, "amy@example.org").await;
        let (start, end) = (format!("{day}T10:00"), format!("{day}T11:00"));
        make(&app, &[("title", "Standup"), ("start", &start), ("end", &end), ("reminders", "10")]).await;
        let due = local(zone, &format!("{day}T09:50"));
        pass_at(&app, due - chrono::Duration::minutes(1)).await;
        assert_eq!(sink.received().len(), 1, "{zone}: only the confirmation before 09:50");
        pass_at(&app, due).await;
        pass_at(&app, due + chrono::Duration::minutes(5)).await;
        let mails = sink.wait_for(2).await;
        assert!(mails[1].text().contains(&format!(", 10:00–11:00 ({zone})")), "{zone}: {}", mails[1].text());
    }
}

async fn a_series_mails_each_occurrence_and_edits_reschedule(engine: Engine) {
    let sink = SmtpSink::start().await;
    let app = mail_app(engine, &sink).await;
    confirmed(&app, &sink, "Europe/Berlin", "amy@example.org").await;
    let fields = [
        ("title", "Swim"),
        ("start", "2027-03-27T09:00"),
        ("end", "2027-03-27T10:00"),
        ("repeat", "daily"),
        ("interval", "1"),
        ("ends", "count"),
        ("count", "3"),
        ("reminders", "10"),
    ];
    let swim = make(&app, &fields).await;
    let second = local("Europe/Berlin", "2027-03-28T09:00").format("%Y%m%dT%H%M%SZ").to_string();
    let cancel = [("scope", "this"), ("occurrence", second.as_str())];
    assert_status(&app.post_with_token(&format!("/events/{swim}/delete"), &cancel).await, Status::SeeOther);
    let moved = make(
        &app,
        &[
            ("title", "Moved"),
            ("start", "2027-03-27T12:00"),
            ("end", "2027-03-27T13:00"),
            ("reminders", "30"),
        ],
    )
    .await;
    let gone = make(
        &app,
        &[("title", "Gone"), ("start", "2027-03-27T12:00"), ("end", "2027-03-27T13:00"), ("reminders", "30")],
    )
    .await;
    let later =
        [("title", "Moved"), ("start", "2027-03-27T14:00"), ("end", "2027-03-27T15:00"), ("reminders", "30")];
    assert_status(&app.post_with_token(&format!("/events/{moved}"), &later).await, Status::SeeOther);
    assert_status(&app.post_with_token(&format!("/events/{gone}/delete"), &[]).await, Status::SeeOther);
    for at in
        ["2027-03-27T08:50", "2027-03-27T11:30", "2027-03-27T13:30", "2027-03-28T08:50", "2027-03-29T08:50"]
    {
        pass_at(&app, local("Europe/Berlin", at)).await;
    }
    pass_at(&app, local("Europe/Berlin", "2027-04-10T08:50")).await;
    let subjects: Vec<String> =
        sink.wait_for(4).await[1..].iter().map(|m| m.header("subject").to_string()).collect();
    assert_eq!(
        subjects,
        [
            "Reminder: Swim · Sat 27 Mar, 09:00",
            "Reminder: Moved · Sat 27 Mar, 14:00",
            "Reminder: Swim · Mon 29 Mar, 09:00"
        ]
    );
}

async fn smtp_down_then_up_every_mail_arrives_once(engine: Engine) {
    let mut sink = SmtpSink::start().await;
    let app = mail_app(engine, &sink).await;
    confirmed(&app, &sink, "UTC", "amy@example.org").await;
    for title in ["One", "Two"] {
        make(
            &app,
            &[
                ("title", title),
                ("start", "2027-05-01T10:00"),
                ("end", "2027-05-01T11:00"),
                ("reminders", "15"),
            ],
        )
        .await;
    }
    sink.stop().await;
    let down = pass_at(&app, local("UTC", "2027-05-01T09:45")).await;
    assert_eq!((down.sent, down.retrying), (0, 2));
    let outbox = app.store().outbox_summary(app.clock.now()).await.unwrap();
    assert_eq!(outbox.waiting, 2);
    assert!(outbox
        .troubles
        .iter()
        .all(|t| t.attempts == 1 && t.last_error.as_deref().is_some_and(|e| !e.is_empty())));
    // Not before the backoff: a minute after the first failure.
    let half_a_minute = local("UTC", "2027-05-01T09:45") + chrono::Duration::seconds(30);
    assert_eq!(pass_at(&app, half_a_minute).await.retrying, 0);
    sink.resume().await;
    let up = pass_at(&app, local("UTC", "2027-05-01T09:46")).await;
    assert_eq!(up.sent, 2);
    pass_at(&app, local("UTC", "2027-05-01T10:30")).await;
    let mails = sink.wait_for(3).await;
    let mut ids: Vec<&str> = mails[1..].iter().map(|m| m.header("message-id")).collect();
    ids.dedup();
    assert_eq!(ids.len(), 2, "each once: {ids:?}");
    assert_eq!(app.store().outbox_summary(app.clock.now()).await.unwrap().waiting, 0);
}

async fn after_downtime_recent_reminders_are_mailed_and_older_are_not(engine: Engine) {
    let sink = SmtpSink::start().await;
    let app = mail_app(engine, &sink).await;
    confirmed(&app, &sink, "UTC", "amy@example.org").await;
    for (title, start, end) in [
        ("Long ago", "2027-07-01T08:00", "2027-07-01T09:00"),
        ("Just now", "2027-07-01T10:30", "2027-07-01T11:00"),
    ] {
        make(&app, &[("title", title), ("start", start), ("end", end), ("reminders", "0")]).await;
    }
    // Down from 07:00 to 11:00: 08:00 is three hours late, 10:30 within the hour's grace.
    pass_at(&app, local("UTC", "2027-07-01T11:00")).await;
    pass_at(&app, local("UTC", "2027-07-01T12:00")).await;
    let mails = sink.wait_for(2).await;
    assert_eq!(mails[1].header("subject"), "Reminder: Just now · Thu 1 Jul, 10:30");
}

async fn a_refused_address_is_paused_and_the_user_told(engine: Engine) {
    let sink = SmtpSink::start().await;
    let app = mail_app(engine, &sink).await;
    user_in(&app, "UTC").await;
    // 451: tried again later, not paused.
    assert_status(
        &app.post_with_token("/account/email", &[("email", "busy@example.org")]).await,
        Status::SeeOther,
    );
    let busy = pass_at(&app, app.clock.now()).await;
    assert_eq!(busy.retrying, 1);
    let address = app.store().mail_address_of(eventide::domain::UserId(1)).await.unwrap().unwrap();
    assert_eq!(address.state, eventide::store::mail::AddressState::Pending);

    // 550: paused at once, with why, on the account page, the tray and the admin page.
    app.clock.advance(chrono::Duration::minutes(2));
    assert_status(
        &app.post_with_token("/account/email", &[("email", "refused@example.org")]).await,
        Status::SeeOther,
    );
    let refused = pass_at(&app, app.clock.now()).await;
    assert_eq!((refused.sent, refused.given_up), (0, 1));
    assert!(sink.received().is_empty());
    assert_status(&app.login("amy", PASSWORD).await, Status::SeeOther);
    let account = body_of(&app, "/account").await;
    assert!(account.contains("Reminder mail to <strong>refused@example.org</strong> is paused"), "{account}");
    assert!(account.contains("550"), "the server's answer is shown: {account}");
    assert!(body_of(&app, "/notifications").await.contains("is paused"));
    let summary = app.store().outbox_summary(app.clock.now()).await.unwrap();
    assert_eq!(summary.paused.len(), 1);
    assert_eq!(summary.waiting, 0, "the busy address's mail was given up when the address changed");

    // Setting it again (fixed) starts over.
    assert_status(
        &app.post_with_token("/account/email", &[("email", "amy@example.org")]).await,
        Status::SeeOther,
    );
    pass_at(&app, app.clock.now()).await;
    assert!(sink.wait_for(1).await[0].text().contains("/account/email/confirm/"));
}

async fn a_daily_agenda_mails_the_days_events_at_the_chosen_time(engine: Engine) {
    let sink = SmtpSink::start().await;
    let app = mail_app(engine, &sink).await;
    confirmed(&app, &sink, "Europe/Berlin", "amy@example.org").await;
    let refused = app.post_with_token("/account/agenda", &[("agenda_time", "7.30")]).await;
    assert_eq!(refused.status(), Status::UnprocessableEntity);
    let page = refused.into_string().await.unwrap();
    assert!(page.contains(r#"id="agenda-time-error""#) && page.contains(r#"value="7.30""#), "{page}");
    assert_status(
        &app.post_with_token("/account/agenda", &[("agenda_time", "07:00")]).await,
        Status::SeeOther,
    );
    assert!(body_of(&app, "/account").await.contains(r#"value="07:00""#));
    let standup = [
        ("title", "Standup"),
        ("location", "Room 1"),
        ("start", "2027-03-29T09:00"),
        ("end", "2027-03-29T09:30"),
    ];
    make(&app, &standup).await;
    make(
        &app,
        &[("title", "Holiday <b>"), ("start", "2027-03-29"), ("end", "2027-03-29"), ("all_day", "on")],
    )
    .await;
    let swim = [
        ("title", "Swim"),
        ("start", "2027-03-28T08:00"),
        ("end", "2027-03-28T09:00"),
        ("repeat", "daily"),
        ("interval", "1"),
        ("ends", "count"),
        ("count", "3"),
    ];
    make(&app, &swim).await;

    // Months later (the server was down): the agenda long due is skipped, not sent late.
    pass_at(&app, local("Europe/Berlin", "2027-03-29T06:00")).await;
    pass_at(&app, local("Europe/Berlin", "2027-03-29T06:59")).await;
    assert_eq!(sink.received().len(), 1, "only the confirmation so far");
    pass_at(&app, local("Europe/Berlin", "2027-03-29T07:00")).await;
    pass_at(&app, local("Europe/Berlin", "2027-03-29T07:30")).await;
    let mails = sink.wait_for(2).await;
    let agenda = &mails[1];
    assert_eq!(agenda.header("subject"), "Your day: Monday, 29 March 2027 (3 events)");
    assert_eq!(agenda.header("message-id"), "<agenda.1.20270329@cal.example.org>");
    assert!(agenda.header("list-unsubscribe").contains("/mail/unsubscribe/"));
    let text = agenda.text();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("  ")).collect();
    assert_eq!(
        lines,
        ["All day  Holiday <b>", "08:00–09:00  Swim", "09:00–09:30  Standup (Room 1)"],
        "{text}"
    );
    let html = agenda.html.as_deref().unwrap_or_default();
    assert!(html.contains("Holiday &lt;b&gt;") && html.contains("/calendar/day/2027-03-29"), "{html}");

    // A day with nothing planned sends nothing; the next with something does.
    pass_at(&app, local("Europe/Berlin", "2027-03-30T07:00")).await;
    pass_at(&app, local("Europe/Berlin", "2027-03-31T07:00")).await;
    let mails = sink.wait_for(3).await;
    assert_eq!(mails[2].header("subject"), "Your day: Tuesday, 30 March 2027 (1 event)");
    // Turned off: none after.
    assert_status(&app.login("amy", PASSWORD).await, Status::SeeOther);
    let fields = [("title", "Later"), ("start", "2027-04-01T10:00"), ("end", "2027-04-01T11:00")];
    make(&app, &fields).await;
    assert_status(&app.post_with_token("/account/agenda", &[("agenda_time", "")]).await, Status::SeeOther);
    pass_at(&app, local("Europe/Berlin", "2027-04-01T07:00")).await;
    assert_eq!(sink.received().len(), 3);
}

crate::on_both_engines!(
    a_daily_agenda_mails_the_days_events_at_the_chosen_time,
    an_address_is_confirmed_then_reminders_are_mailed,
    one_mail_at_the_right_instant_across_a_dst_change,
    a_series_mails_each_occurrence_and_edits_reschedule,
    smtp_down_then_up_every_mail_arrives_once,
    after_downtime_recent_reminders_are_mailed_and_older_are_not,
    a_refused_address_is_paused_and_the_user_told,
);

/// Two instances on one PostgreSQL database, each with its own scheduler running every
/// second, send each reminder exactly once (counted at the SMTP server).
#[rocket::async_test]
async fn two_instances_on_one_database_mail_each_reminder_once() {
    let sink = SmtpSink::start().await;
    let instance = |db: Option<String>| {
        let mut options = Options::new(Engine::Postgres, Backend::Memory)
            .with("smtp_url", sink.url())
            .with("public_url", "https://cal.example.org")
            .with("reminder_interval_seconds", 1)
            // (A CalDAV port in use would stop an instance, and its scheduler with it.)
            .with("dav_port", "off");
        if let Some(url) = db {
            options = options.with("database_url", url);
        }
        spawn_with(options)
    };
    let first = instance(None).await;
    let second = instance(Some(first.db.url.clone())).await;
    user_in(&first, "UTC").await;
    assert_status(
        &first.post_with_token("/account/email", &[("email", "amy@example.org")]).await,
        Status::SeeOther,
    );
    let confirmation = &sink.wait_for(1).await[0];
    let link = link_in(confirmation.text(), "https://cal.example.org/account/email/confirm/");
    assert_status(&second.browser().post_with_token(&link, &[]).await, Status::Ok);
    for n in 0..10 {
        let title = format!("Meeting {n}");
        let fields = [
            ("title", title.as_str()),
            ("start", "2027-06-01T10:00"),
            ("end", "2027-06-01T11:00"),
            ("reminders", "15"),
            ("reminders", "60"),
        ];
        make(&first, &fields).await;
    }
    let at = local("UTC", "2027-06-01T09:45");
    for app in [&first, &second] {
        app.clock.advance(at - app.clock.now());
    }
    let mails = sink.wait_for(21).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(sink.received().len(), 21, "and no more after a few more passes");
    let mut ids: Vec<&str> = mails[1..].iter().map(|m| m.header("message-id")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "ten events' two reminders, each once");
}
