//! An event's reminders: how many minutes before each of its occurrences to remind its owner
//! (0: when it starts). Parsed once at the boundary (the form, an import's VALARMs), stored as
//! one canonical column (`10,60`), and written back as VALARMs on export.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::recurrence::Series;
use super::{time, Event};

/// At most this many reminders per event (phones offer two; a form, a handful).
pub const MOST: usize = 5;
/// The earliest a reminder can be: four weeks before.
pub const LONGEST_MINUTES: u32 = 4 * 7 * 24 * 60;

/// Minutes before the start, sorted, each once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Reminders(Vec<u32>);

/// The reminders forms offer as checkboxes: the usual ones, and any other the event has (a
/// phone's "25 minutes before").
const USUAL_REMINDERS: [u32; 10] = [0, 5, 10, 15, 30, 60, 120, 1440, 2880, 10080];
/// An all-day event's: a time of day before it (09:00 the day before is the usual one).
const USUAL_ALL_DAY_REMINDERS: [u32; 5] = [0, 360, 900, 2340, 9540];

/// A reminder checkbox.
#[derive(Debug, Clone, Serialize)]
pub struct ReminderChoice {
    pub minutes: u32,
    pub label: String,
    pub checked: bool,
}

/// The checkboxes for a timed event (`all_day` false) or an all-day one, ticked as `typed`
/// (a form's values; any unusual one is offered too).
pub fn reminder_choices<S: AsRef<str>>(typed: &[S], all_day: bool) -> Vec<ReminderChoice> {
    let typed: Vec<u32> = typed.iter().filter_map(|m| m.as_ref().trim().parse().ok()).collect();
    let usual: &[u32] = if all_day { &USUAL_ALL_DAY_REMINDERS } else { &USUAL_REMINDERS };
    let mut all: Vec<u32> = usual.iter().chain(typed.iter()).copied().collect();
    all.sort_unstable();
    all.dedup();
    all.into_iter()
        .map(|minutes| ReminderChoice {
            minutes,
            label: describe_for(minutes, all_day),
            checked: typed.contains(&minutes),
        })
        .collect()
}

/// The next daily agenda after `after`: its local day, and the instant it is due (`minutes`
/// past that day's midnight in `zone`).
pub fn next_agenda(minutes: u32, zone: Tz, after: DateTime<Utc>) -> (chrono::NaiveDate, DateTime<Utc>) {
    let mut day = time::today(zone, after) - Duration::days(1);
    loop {
        let due = time::at_minute_of_day(zone, day, minutes);
        if due > after {
            return (day, due);
        }
        day += Duration::days(1);
    }
}

/// Why typed reminders were refused, as the form says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemindersError(pub String);

impl fmt::Display for RemindersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Reminders {
    pub fn none() -> Reminders {
        Reminders(Vec::new())
    }

    /// From minutes already known to be whole and non-negative (an import's VALARMs): out of
    /// range ones are dropped, the rest deduplicated and capped.
    pub fn from_minutes(minutes: impl IntoIterator<Item = u32>) -> Reminders {
        let mut all: Vec<u32> = minutes.into_iter().filter(|m| *m <= LONGEST_MINUTES).collect();
        all.sort_unstable();
        all.dedup();
        all.truncate(MOST);
        Reminders(all)
    }

    /// The form's values (`reminders`, repeated): each a whole number of minutes; empty ones
    /// (an unchosen select) are skipped.
    pub fn parse_form<S: AsRef<str>>(values: &[S]) -> Result<Reminders, RemindersError> {
        let mut minutes = Vec::new();
        for value in values.iter().map(|v| v.as_ref().trim()).filter(|v| !v.is_empty()) {
            match value.parse::<u32>() {
                Ok(m) if m <= LONGEST_MINUTES => minutes.push(m),
                _ => {
                    return Err(RemindersError(format!(
                        "A reminder is a number of minutes before the start, from 0 to {LONGEST_MINUTES} (four weeks)."
                    )))
                }
            }
        }
        minutes.sort_unstable();
        minutes.dedup();
        if minutes.len() > MOST {
            return Err(RemindersError(format!("Choose at most {MOST} reminders.")));
        }
        Ok(Reminders(minutes))
    }

    pub fn minutes(&self) -> &[u32] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The stored form: `10,60` (empty: none).
    pub fn to_column(&self) -> String {
        self.0.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
    }

    /// What `to_column` wrote; anything else in the column is ignored rather than trusted.
    pub fn from_column(text: &str) -> Reminders {
        Reminders::from_minutes(text.split(',').filter_map(|m| m.trim().parse().ok()))
    }
}

impl From<String> for Reminders {
    fn from(text: String) -> Reminders {
        Reminders::from_column(&text)
    }
}

/// When a reminder `minutes` before one of `event`'s occurrences next falls due after `after`:
/// the occurrence's start and the due time. A series skips its `cancelled` starts (EXDATEs and
/// the edited occurrences, which remind as rows of their own); an all-day occurrence counts
/// from midnight in the owner's `zone` (so 900 minutes before is 09:00 the day before).
pub fn next_due(
    event: &Event,
    cancelled: &[DateTime<Utc>],
    zone: Tz,
    minutes: u32,
    after: DateTime<Utc>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let lead = Duration::minutes(i64::from(minutes));
    let due = |start: DateTime<Utc>| {
        let anchor = if event.all_day { time::start_of_day(zone, start.date_naive()) } else { start };
        anchor - lead
    };
    let Some(rule) = event.rule() else {
        let at = due(event.start_at);
        return (at > after).then_some((event.start_at, at));
    };
    let mut cancelled = cancelled.to_vec();
    cancelled.sort_unstable();
    let series =
        Series::stored(&rule, event.repeat_zone(), event.all_day, event.start_at, event.end_at, cancelled)
            .ok()?;
    // A day of slack each side covers an all-day start's shift to the owner's midnight.
    let mut from = after + lead - Duration::days(1);
    for _ in 0..SEARCH_WINDOWS {
        let until = from + SEARCH_WINDOW;
        let starts = series.starts_in(from, until, 64);
        if let Some(start) = starts.iter().copied().find(|s| due(*s) > after) {
            return Some((start, due(start)));
        }
        // All 64 were too early (a minutely rule): go on from the last, else from the window's end.
        from = match starts.last() {
            Some(last) if starts.len() == 64 => *last + Duration::seconds(1),
            _ => until,
        };
    }
    None
}

/// How far one search for a series' next occurrence looks, and how many times.
const SEARCH_WINDOW: Duration = Duration::days(400);
const SEARCH_WINDOWS: usize = 12;

/// "at the start", "10 minutes before", "1 hour before", "2 days before", "1 week before".
pub fn describe(minutes: u32) -> String {
    let plural = |n: u32, unit: &str| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") };
    let amount = match minutes {
        0 => return "at the start".into(),
        m if m % (7 * 24 * 60) == 0 => plural(m / (7 * 24 * 60), "week"),
        m if m % (24 * 60) == 0 => plural(m / (24 * 60), "day"),
        m if m % 60 == 0 => plural(m / 60, "hour"),
        m => plural(m, "minute"),
    };
    format!("{amount} before")
}

/// The same for an all-day event, whose reminders count back from its day's midnight: "the
/// day before at 09:00", "2 days before at 18:00", "a week before at 09:00".
pub fn describe_all_day(minutes: u32) -> String {
    if minutes == 0 {
        return "as the day begins (00:00)".into();
    }
    let days = minutes.div_ceil(24 * 60);
    let after_midnight = days * 24 * 60 - minutes;
    let time = format!("{:02}:{:02}", after_midnight / 60, after_midnight % 60);
    match days {
        1 => format!("the day before at {time}"),
        7 => format!("a week before at {time}"),
        n => format!("{n} days before at {time}"),
    }
}

/// Either, for an event that is or is not all-day.
pub fn describe_for(minutes: u32, all_day: bool) -> String {
    if all_day {
        describe_all_day(minutes)
    } else {
        describe(minutes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_parse_sorted_and_once() {
        let parsed = Reminders::parse_form(&["60", "10", "", "60", " 0 "]).unwrap();
        assert_eq!(parsed.minutes(), [0, 10, 60]);
        assert_eq!(parsed.to_column(), "0,10,60");
        assert_eq!(Reminders::from_column("0,10,60"), parsed);
        assert_eq!(Reminders::from_column(""), Reminders::none());
        for bad in ["-5", "ten", "1.5", "40321", "99999999999"] {
            assert!(Reminders::parse_form(&[bad]).is_err(), "{bad}");
        }
        assert!(Reminders::parse_form(&["1", "2", "3", "4", "5", "6"]).is_err());
        assert_eq!(Reminders::from_minutes([50_000, 5, 5]).minutes(), [5]);
    }

    #[test]
    fn all_day_reminders_are_a_time_on_a_day_before() {
        let said: Vec<String> = [0, 900, 360, 1440, 2340, 9540].into_iter().map(describe_all_day).collect();
        assert_eq!(
            said,
            [
                "as the day begins (00:00)",
                "the day before at 09:00",
                "the day before at 18:00",
                "the day before at 00:00",
                "2 days before at 09:00",
                "a week before at 09:00"
            ]
        );
    }

    #[test]
    fn described_as_a_person_says_them() {
        let said: Vec<String> = [0, 1, 10, 60, 90, 1440, 2880, 10080].into_iter().map(describe).collect();
        assert_eq!(
            said,
            [
                "at the start",
                "1 minute before",
                "10 minutes before",
                "1 hour before",
                "90 minutes before",
                "1 day before",
                "2 days before",
                "1 week before"
            ]
        );
    }

    #[test]
    fn the_daily_agenda_is_due_at_its_local_time_each_day() {
        use chrono::TimeZone;
        let berlin: Tz = "Europe/Berlin".parse().unwrap_or(chrono_tz::UTC);
        let utc = |y, m, d, h, min| Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        // 07:00 in Berlin is 06:00 UTC in winter: before it, today's; at it, tomorrow's.
        assert_eq!(
            next_agenda(420, berlin, utc(2027, 1, 10, 5, 59)),
            (day(2027, 1, 10), utc(2027, 1, 10, 6, 0))
        );
        assert_eq!(
            next_agenda(420, berlin, utc(2027, 1, 10, 6, 0)),
            (day(2027, 1, 11), utc(2027, 1, 11, 6, 0))
        );
        // Late evening UTC is already the next day in Berlin.
        assert_eq!(
            next_agenda(420, berlin, utc(2027, 1, 10, 23, 30)),
            (day(2027, 1, 11), utc(2027, 1, 11, 6, 0))
        );
        // 02:30 does not exist on the day the clocks go forward: the agenda comes at 03:00.
        assert_eq!(
            next_agenda(150, berlin, utc(2027, 3, 27, 12, 0)),
            (day(2027, 3, 28), utc(2027, 3, 28, 1, 0))
        );
    }
}
