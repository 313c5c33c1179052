//! The calendar views (month, week, day, agenda): which days a view shows, and which events
//! sit in each day, in the user's zone and week start.

pub mod layout;
pub mod public;
pub mod routes;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;

use crate::domain::time;

pub const AGENDA_DAYS: i64 = 30;
/// The three-day view: a phone's week.
const THREE_DAYS: i64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    Month,
    Week,
    #[serde(rename = "3day")]
    ThreeDay,
    Day,
    Agenda,
}

impl View {
    pub const ALL: [View; 5] = [View::Month, View::Week, View::ThreeDay, View::Day, View::Agenda];

    /// What the view switcher calls it.
    pub fn label(self) -> &'static str {
        match self {
            View::Month => "Month",
            View::Week => "Week",
            View::ThreeDay => "3 days",
            View::Day => "Day",
            View::Agenda => "Agenda",
        }
    }

    /// Week, three days and day draw the hours of each day as a grid.
    pub fn is_time_grid(self) -> bool {
        matches!(self, View::Week | View::ThreeDay | View::Day)
    }

    pub fn name(self) -> &'static str {
        match self {
            View::Month => "month",
            View::Week => "week",
            View::ThreeDay => "3day",
            View::Day => "day",
            View::Agenda => "agenda",
        }
    }
}

impl<'a> rocket::request::FromParam<'a> for View {
    type Error = crate::logging::Unlogged;

    fn from_param(param: &'a str) -> Result<Self, Self::Error> {
        View::ALL.into_iter().find(|view| view.name() == param).ok_or(crate::logging::Unlogged)
    }
}

/// A `YYYY-MM-DD` path segment within `time::YEARS`.
#[derive(Debug, Clone, Copy)]
pub struct Day(pub NaiveDate);

impl<'a> rocket::request::FromParam<'a> for Day {
    type Error = crate::logging::Unlogged;

    fn from_param(param: &'a str) -> Result<Self, Self::Error> {
        NaiveDate::parse_from_str(param, "%Y-%m-%d")
            .ok()
            .filter(|date| time::within_years(*date) && param.len() == 10)
            .map(Day)
            .ok_or(crate::logging::Unlogged)
    }
}

pub fn week_start_of(setting: i16) -> Weekday {
    match setting {
        0 => Weekday::Sun,
        6 => Weekday::Sat,
        _ => Weekday::Mon,
    }
}

fn start_of_week(date: NaiveDate, week_start: Weekday) -> NaiveDate {
    let back = (7 + date.weekday().num_days_from_monday() - week_start.num_days_from_monday()) % 7;
    date - Duration::days(back.into())
}

/// The days a view shows and where its arrows lead.
#[derive(Debug, Clone)]
pub struct Period {
    pub view: View,
    pub date: NaiveDate,
    /// First and last day shown (the month grid includes neighbouring months' days).
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub prev: NaiveDate,
    pub next: NaiveDate,
    pub title: String,
}

impl Period {
    pub fn new(view: View, date: NaiveDate, week_start: Weekday) -> Period {
        match view {
            View::Month => {
                let first_of_month = date.with_day(1).unwrap_or(date);
                let first = start_of_week(first_of_month, week_start);
                Period {
                    view,
                    date,
                    first,
                    last: first + Duration::days(41),
                    prev: first_of_month - Months::new(1),
                    next: first_of_month + Months::new(1),
                    title: first_of_month.format("%B %Y").to_string(),
                }
            }
            View::Week => {
                let first = start_of_week(date, week_start);
                let last = first + Duration::days(6);
                Period {
                    view,
                    date,
                    first,
                    last,
                    prev: date - Duration::days(7),
                    next: date + Duration::days(7),
                    title: format!("{} – {}", first.format("%-d %b"), last.format("%-d %b %Y")),
                }
            }
            View::ThreeDay => {
                let last = date + Duration::days(THREE_DAYS - 1);
                Period {
                    view,
                    date,
                    first: date,
                    last,
                    prev: date - Duration::days(THREE_DAYS),
                    next: date + Duration::days(THREE_DAYS),
                    title: format!("{} – {}", date.format("%-d %b"), last.format("%-d %b %Y")),
                }
            }
            View::Day => Period {
                view,
                date,
                first: date,
                last: date,
                prev: date - Duration::days(1),
                next: date + Duration::days(1),
                title: time::text::long_date(date),
            },
            View::Agenda => {
                let last = date + Duration::days(AGENDA_DAYS - 1);
                Period {
                    view,
                    date,
                    first: date,
                    last,
                    prev: date - Duration::days(AGENDA_DAYS),
                    next: date + Duration::days(AGENDA_DAYS),
                    title: format!("{} – {}", date.format("%-d %b"), last.format("%-d %b %Y")),
                }
            }
        }
    }

    /// The instants to query: the local days widened by a day on each side, because all-day
    /// events are stored as UTC dates (exact placement happens per day afterwards).
    pub fn query_range(&self, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            time::start_of_day(zone, self.first - Duration::days(1)),
            time::start_of_day(zone, self.last + Duration::days(2)),
        )
    }

    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        self.first.iter_days().take_while({
            let last = self.last;
            move |day| *day <= last
        })
    }
}

pub fn weekday_names(week_start: Weekday) -> Vec<&'static str> {
    const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let offset = week_start.num_days_from_monday() as usize;
    (0..7).map(|i| NAMES[(offset + i) % 7]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn month_grid_starts_on_the_week_start() {
        let monday = Period::new(View::Month, date(2026, 11, 25), Weekday::Mon);
        assert_eq!((monday.first, monday.last), (date(2026, 10, 26), date(2026, 12, 6)));
        let sunday = Period::new(View::Month, date(2026, 11, 25), Weekday::Sun);
        assert_eq!(sunday.first, date(2026, 11, 1));
        assert_eq!((monday.prev, monday.next), (date(2026, 10, 1), date(2026, 12, 1)));
        let january = Period::new(View::Month, date(2027, 1, 31), Weekday::Mon);
        assert_eq!((january.prev, january.next), (date(2026, 12, 1), date(2027, 2, 1)));
    }

    #[test]
    fn week_and_agenda_periods() {
        let week = Period::new(View::Week, date(2028, 2, 29), Weekday::Sat);
        assert_eq!((week.first, week.last), (date(2028, 2, 26), date(2028, 3, 3)));
        let agenda = Period::new(View::Agenda, date(2026, 12, 20), Weekday::Mon);
        assert_eq!(agenda.last, date(2027, 1, 18));
        assert_eq!(weekday_names(Weekday::Sun)[0], "Sun");
    }
}
