//! `eventide seed --users N --events M [--prefix NAME] [--password P]`: realistic data for
//! trying Eventide out and for the benchmark. Events spread over 2022-2028, titles and
//! descriptions from a word list, about 5 % all-day and 3 % spanning several days.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::store::{NewUser, Store};

use crate::domain::EventDraft;
use crate::writes::Writes;

const WORDS: &[&str] = &[
    "project",
    "review",
    "planning",
    "standup",
    "retro",
    "design",
    "budget",
    "client",
    "call",
    "sync",
    "lunch",
    "dinner",
    "dentist",
    "doctor",
    "gym",
    "yoga",
    "run",
    "swim",
    "piano",
    "lesson",
    "school",
    "parents",
    "evening",
    "birthday",
    "party",
    "wedding",
    "trip",
    "flight",
    "train",
    "hotel",
    "museum",
    "concert",
    "theatre",
    "cinema",
    "book",
    "club",
    "garden",
    "market",
    "coffee",
    "breakfast",
    "team",
    "offsite",
    "workshop",
    "interview",
    "onboarding",
    "release",
    "deploy",
    "incident",
    "postmortem",
    "quarterly",
    "report",
    "tax",
    "insurance",
    "car",
    "service",
    "haircut",
    "vet",
    "walk",
    "hike",
    "climbing",
    "football",
    "tennis",
    "chess",
    "reading",
    "writing",
    "podcast",
    "recording",
    "meetup",
    "conference",
    "talk",
    "demo",
    "roadmap",
    "strategy",
    "hiring",
    "budgeting",
    "invoice",
    "payroll",
    "café",
    "zoë",
    "münchen",
    "kraków",
    "søndag",
    "naïve",
    "résumé",
    "東京",
    "会议",
];

const PLACES: &[&str] =
    &["Room 1", "Room 2", "Main office", "Café Central", "Home", "Online", "Library", "Gym"];

fn phrase(rng: &mut StdRng, shortest: usize, longest: usize) -> String {
    let words = rng.gen_range(shortest..=longest);
    let text: Vec<&str> = (0..words).map(|_| WORDS[rng.gen_range(0..WORDS.len())]).collect();
    let mut phrase = text.join(" ");
    if let Some(first) = phrase.get(..1) {
        phrase = first.to_uppercase() + &phrase[1..];
    }
    phrase
}

fn draft(rng: &mut StdRng) -> EventDraft {
    let first_day = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap_or_default();
    let day = first_day + Duration::days(rng.gen_range(0..(7 * 365)));
    let title = phrase(rng, 1, 3);
    let description = if rng.gen_bool(0.6) { phrase(rng, 5, 25) } else { String::new() };
    let location =
        if rng.gen_bool(0.5) { PLACES[rng.gen_range(0..PLACES.len())].to_string() } else { String::new() };
    let kind: f64 = rng.gen();
    let (all_day, start_at, end_at) = if kind < 0.05 {
        let start = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default());
        (true, start, start + Duration::days(1))
    } else if kind < 0.08 {
        let start = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default());
        (true, start, start + Duration::days(rng.gen_range(2..=10)))
    } else {
        let minutes = rng.gen_range(7 * 4..20 * 4) * 15;
        let start =
            Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default()) + Duration::minutes(minutes);
        (false, start, start + Duration::minutes([15, 30, 45, 60, 90, 120][rng.gen_range(0..6)]))
    };
    EventDraft {
        title,
        description,
        location,
        all_day,
        start_at,
        end_at,
        tzid: "UTC".into(),
        recurrence: None,
        extra: None,
        reminders: crate::domain::Reminders::none(),
    }
}

/// Rules as people set them up, endless: the expensive case for a range read.
const RULES: &[&str] = &[
    "FREQ=DAILY",
    "FREQ=WEEKLY;BYDAY=MO,WE,FR",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYMONTHDAY=15",
    "FREQ=YEARLY",
];

/// The `n`th repeating event: a timed event in Berlin starting in 2020-2023.
fn repeating(rng: &mut StdRng, n: u32) -> EventDraft {
    let zone = chrono_tz::Europe::Berlin;
    let day =
        NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default() + Duration::days(rng.gen_range(0..4 * 365));
    let local = day.and_hms_opt(rng.gen_range(7..19), 0, 0).unwrap_or_default();
    let start =
        zone.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or_default();
    let draft = EventDraft {
        title: phrase(rng, 1, 3),
        description: String::new(),
        location: String::new(),
        all_day: false,
        start_at: start,
        end_at: start + Duration::minutes(45),
        tzid: zone.name().into(),
        recurrence: None,
        extra: None,
        reminders: crate::domain::Reminders::none(),
    };
    let rule = RULES[n as usize % RULES.len()].parse().ok();
    draft.clone().repeating(rule.as_ref()).unwrap_or(draft)
}

pub struct SeedPlan {
    pub users: u32,
    pub events: u32,
    /// Repeating events per user, besides `events`.
    pub series: u32,
    /// Calendars per user (the default one included); events are spread over them.
    pub calendars: u32,
    pub prefix: String,
    pub password: String,
}

/// Creates the users (or reuses them) and adds the events; returns one line per user.
pub async fn run(store: &Store, writes: &Writes<'_>, plan: &SeedPlan) -> Result<Vec<String>, String> {
    let hash = crate::auth::password::hash(plan.password.clone()).await.map_err(|e| e.to_string())?;
    let mut rng = StdRng::seed_from_u64(42);
    let mut report = Vec::new();
    for index in 1..=plan.users {
        let username = format!("{}{index}", plan.prefix);
        crate::auth::validate::username(&username).map_err(|e| format!("username {username:?}: {e}"))?;
        let new = NewUser { username: &username, password_hash: &hash, is_admin: false };
        let id = match store.create_user(new).await.map_err(|e| e.to_string())? {
            Ok(id) => id,
            Err(_) => {
                store.user_by_username(&username).await.map_err(|e| e.to_string())?.ok_or("vanished")?.id
            }
        };
        let mut calendars = vec![store.default_calendar(id).await.map_err(|e| e.to_string())?.id];
        let existing = store.calendars_of(id).await.map_err(|e| e.to_string())?.len();
        for n in existing..plan.calendars as usize {
            let (color, name) = crate::calendars::look::PALETTE[n % crate::calendars::look::PALETTE.len()];
            let draft = crate::domain::CalendarDraft { name: format!("{name} {n}"), color: color.into() };
            calendars.push(writes.create_calendar(id, &draft).await.map_err(|e| e.to_string())?);
        }
        let mut added = 0;
        while added < plan.events {
            let batch: Vec<EventDraft> =
                (0..(plan.events - added).min(1000)).map(|_| draft(&mut rng)).collect();
            // Each batch to the next calendar: every calendar gets its share of every year.
            let calendar = calendars[(added / 1000) as usize % calendars.len()];
            writes.insert_events(id, calendar, &batch).await.map_err(|e| e.to_string())?;
            added += batch.len() as u32;
        }
        let series: Vec<EventDraft> = (0..plan.series).map(|n| repeating(&mut rng, n)).collect();
        writes.insert_events(id, calendars[0], &series).await.map_err(|e| e.to_string())?;
        report.push(format!("{username} (user {}): {added} events, {} repeating", id.0, series.len()));
    }
    // A bulk load: the planner's statistics and one segment for the search index.
    store.analyze().await.map_err(|e| e.to_string())?;
    store.compact_search_index(None).await.map_err(|e| e.to_string())?;
    Ok(report)
}
