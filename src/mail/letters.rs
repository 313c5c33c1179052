//! What a mail says: rendered when it is sent, from what the database holds then, so an edit
//! between the reminder firing and the send shows, and a mail for something gone is not sent.
//! Each is text and HTML (Tera's autoescape on the `.html` one) from `templates/mail/`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MessageBuilder, MultiPart};
use lettre::Message;
use rocket_dyn_templates::tera::{Context, Tera};
use rust_embed::RustEmbed;
use serde::Serialize;

use super::Mailer;
use crate::calendar::{layout, week_start_of, Period, View};
use crate::calendars::look::Chips;
use crate::domain::reminders::describe_for;
use crate::domain::time::text::{iso_date, long_date};
use crate::domain::ReadScope;
use crate::error::AppError;
use crate::ical::export;
use crate::reminders::event_path;
use crate::store::mail::{AddressState, MailAddress, MailKind, OutgoingMail};
use crate::store::{Notification, Store};

#[derive(RustEmbed)]
#[folder = "templates/mail/"]
struct MailTemplates;

/// The mail templates: `x.txt` and `x.html` for each kind.
pub struct Letters(Tera);

impl Letters {
    pub fn load() -> Result<Letters, String> {
        let mut sources = Vec::new();
        for file in MailTemplates::iter() {
            let (Some(name), Some(content)) = (file.strip_suffix(".tera"), MailTemplates::get(&file)) else {
                continue;
            };
            let source = String::from_utf8(content.data.into_owned()).map_err(|e| e.to_string())?;
            sources.push((name.to_string(), source));
        }
        let mut tera = Tera::default();
        tera.add_raw_templates(sources).map_err(|e| e.to_string())?;
        tera.set_escape_fn(crate::web::templates::escape_html);
        Ok(Letters(tera))
    }

    /// The text and the HTML of `kind` about `context`.
    fn render(&self, kind: &str, context: &impl Serialize) -> Result<(String, String), AppError> {
        let context = Context::from_serialize(context).map_err(|e| AppError::Internal(e.to_string()))?;
        let render = |name: String| {
            self.0
                .render(&name, &context)
                .map_err(|e| AppError::Internal(format!("mail template {name}: {e}")))
        };
        Ok((render(format!("{kind}.txt"))?, render(format!("{kind}.html"))?))
    }
}

#[derive(Serialize)]
struct ReminderLetter<'a> {
    title: &'a str,
    when: String,
    reminder: String,
    location: &'a str,
    link: String,
    unsubscribe: String,
    account: String,
    address: &'a str,
}

#[derive(Serialize)]
struct ConfirmLetter<'a> {
    username: &'a str,
    address: &'a str,
    link: String,
}

/// The mail for `mail`, or why it must not go out any more.
pub async fn compose(
    store: &Store,
    mailer: &Mailer,
    mail: &OutgoingMail,
    now: DateTime<Utc>,
) -> Result<Result<Message, &'static str>, AppError> {
    let address = store.mail_address_of(mail.user_id).await?.filter(|a| a.address == mail.recipient);
    let Some(address) = address else {
        return Ok(Err("the address changed or was removed"));
    };
    match mail.kind {
        MailKind::Confirm => confirm(store, mailer, mail, &address).await,
        MailKind::Reminder => reminder(store, mailer, mail, &address, now).await,
        MailKind::Agenda => agenda(store, mailer, mail, &address).await,
    }
}

#[derive(Serialize)]
struct AgendaLetter<'a> {
    day: String,
    events: Vec<AgendaItem>,
    link: String,
    unsubscribe: String,
    account: String,
    address: &'a str,
}

#[derive(Serialize)]
struct AgendaItem {
    time: String,
    title: String,
    location: String,
}

/// The day's events in every calendar the user shows (a busy-only share's as "Busy"), in
/// their zone; a day with none sends nothing.
async fn agenda(
    store: &Store,
    mailer: &Mailer,
    mail: &OutgoingMail,
    address: &MailAddress,
) -> Result<Result<Message, &'static str>, AppError> {
    if address.state != AddressState::Confirmed || address.agenda_minutes.is_none() {
        return Ok(Err("the address is no longer confirmed, or the agenda was turned off"));
    }
    let (Some(day), Some(user)) = (mail.agenda_day, store.user_by_id(mail.user_id).await?) else {
        return Ok(Err("the account is gone"));
    };
    let zone: Tz = user.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let period = Period::new(View::Day, day, week_start_of(user.week_start));
    let (from, until) = period.query_range(zone);
    let calendars = store.visible_calendars(user.id).await?;
    let events = store.events_between(&ReadScope::shown(&calendars), from, until).await?;
    let listed = layout::one_day(&period, &events, zone, day, &Chips::new(&calendars));
    if listed.events.is_empty() {
        return Ok(Err("nothing planned that day"));
    }
    let count = listed.events.len();
    let letter = AgendaLetter {
        day: long_date(day),
        events: listed
            .events
            .into_iter()
            .map(|e| AgendaItem { time: e.time_label, title: e.title, location: e.location })
            .collect(),
        link: mailer.links.join(&format!("/calendar/day/{}", iso_date(day))),
        unsubscribe: mailer.links.join(&format!("/mail/unsubscribe/{}", address.token)),
        account: mailer.links.join("/account#email"),
        address: &address.address,
    };
    let (text, html) = mailer.letters.render("agenda", &letter)?;
    let plural = if count == 1 { "event" } else { "events" };
    let subject = format!("Your day: {} ({count} {plural})", letter.day);
    let Some(message) = envelope(mailer, mail, &subject)? else {
        return Ok(Err("the address is not a valid mail address"));
    };
    let message = unsubscribable(message, &letter.unsubscribe)
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| AppError::Internal(format!("building a mail: {e}")))?;
    Ok(Ok(message))
}

/// RFC 2369's `List-Unsubscribe` and RFC 8058's one-click.
fn unsubscribable(message: MessageBuilder, link: &str) -> MessageBuilder {
    message
        .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{link}>")))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".into(),
        ))
}

async fn confirm(
    store: &Store,
    mailer: &Mailer,
    mail: &OutgoingMail,
    address: &MailAddress,
) -> Result<Result<Message, &'static str>, AppError> {
    if address.state != AddressState::Pending {
        return Ok(Err("the address is no longer waiting for confirmation"));
    }
    let Some(user) = store.user_by_id(mail.user_id).await? else {
        return Ok(Err("the account is gone"));
    };
    let letter = ConfirmLetter {
        username: &user.username,
        address: &address.address,
        link: mailer.links.join(&format!("/account/email/confirm/{}", address.token)),
    };
    let (text, html) = mailer.letters.render("confirm", &letter)?;
    let subject = "Confirm your address for Eventide reminders";
    let Some(message) = envelope(mailer, mail, subject)? else {
        return Ok(Err("the address is not a valid mail address"));
    };
    let message = message
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| AppError::Internal(format!("building a mail: {e}")))?;
    Ok(Ok(message))
}

async fn reminder(
    store: &Store,
    mailer: &Mailer,
    mail: &OutgoingMail,
    address: &MailAddress,
    now: DateTime<Utc>,
) -> Result<Result<Message, &'static str>, AppError> {
    if address.state != AddressState::Confirmed {
        return Ok(Err("the address is no longer confirmed"));
    }
    let notification = match mail.notification_id {
        Some(id) => store.notification_of(mail.user_id, id).await?,
        None => None,
    };
    let Some(notification) = notification else {
        return Ok(Err("the reminder is gone"));
    };
    let event = match notification.event_id {
        Some(id) => store.event_for(mail.user_id, id).await?,
        None => None,
    };
    let (Some(event), Some(user)) = (event, store.user_by_id(mail.user_id).await?) else {
        return Ok(Err("the event was deleted"));
    };
    let zone: Tz = user.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let mut rows = match event.series_id {
        None if event.rrule.is_some() => store.overrides_of(mail.user_id, event.id).await?,
        _ => Vec::new(),
    };
    let length = event.end_at - event.start_at;
    let letter = ReminderLetter {
        title: &event.title,
        when: span(&notification, notification.occurrence + length, zone),
        reminder: describe_for(u32::try_from(notification.minutes).unwrap_or(0), notification.all_day),
        location: &event.location,
        link: mailer.links.join(&event_path(&notification).unwrap_or_else(|| "/notifications".into())),
        unsubscribe: mailer.links.join(&format!("/mail/unsubscribe/{}", address.token)),
        account: mailer.links.join("/account"),
        address: &address.address,
    };
    let (text, html) = mailer.letters.render("reminder", &letter)?;
    let unsubscribe = letter.unsubscribe.clone();
    let subject = format!(
        "Reminder: {} · {}",
        event.title,
        crate::reminders::when(&notification, zone, "%a %-d %b", ", %H:%M")
    );
    let Some(message) = envelope(mailer, mail, &subject)? else {
        return Ok(Err("the address is not a valid mail address"));
    };
    rows.insert(0, event);
    let ics = export::calendar(&rows, &export::Calendar { name: "", color: None, refresh: None }, now);
    let calendar = ContentType::parse("text/calendar; charset=utf-8")
        .map_err(|e| AppError::Internal(format!("text/calendar: {e}")))?;
    let message = unsubscribable(message, &unsubscribe)
        .multipart(
            MultiPart::mixed()
                .multipart(MultiPart::alternative_plain_html(text, html))
                .singlepart(Attachment::new("event.ics".into()).body(ics, calendar)),
        )
        .map_err(|e| AppError::Internal(format!("building a mail: {e}")))?;
    Ok(Ok(message))
}

/// The headers every mail has: sender, recipient, subject, the stable Message-ID, the date,
/// and `Auto-Submitted` (RFC 3834: no vacation replies to a machine). None if the stored
/// recipient is not a mail address (it was checked when it was set).
fn envelope(mailer: &Mailer, mail: &OutgoingMail, subject: &str) -> Result<Option<MessageBuilder>, AppError> {
    let Ok(to) = mail.recipient.parse::<Mailbox>() else {
        return Ok(None);
    };
    Ok(Some(
        Message::builder()
            .from(mailer.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{}@{}>", mail.message_key, mailer.id_domain())))
            .date_now()
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            )),
    ))
}

/// The occurrence's day and times in the user's zone: "Sunday, 28 March 2027, 10:00–11:00
/// (Europe/Berlin)"; an all-day one is its date.
fn span(n: &Notification, end: DateTime<Utc>, zone: Tz) -> String {
    if n.all_day {
        return format!("{} (all day)", n.occurrence.date_naive().format("%A, %-d %B %Y"));
    }
    let (start, end) = (n.occurrence.with_timezone(&zone), end.with_timezone(&zone));
    let until = if start.date_naive() == end.date_naive() {
        end.format("%H:%M").to_string()
    } else {
        end.format("%a %-d %b, %H:%M").to_string()
    };
    format!("{}–{until} ({})", start.format("%A, %-d %B %Y, %H:%M"), zone.name())
}
