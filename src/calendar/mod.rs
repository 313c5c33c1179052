//! The calendar views (month, week, day, agenda): which days a view shows, and which events
//! sit in each day, in the user's zone and week start.

pub mod routes;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;

use crate::domain::{time, EventSummary};
use crate::web::links::event_href;

/// Days a month cell lists before "+N more".
pub const MONTH_CELL_EVENTS: usize = 3;
pub const AGENDA_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum View {
    Month,
    Week,
    Day,
    Agenda,
}

impl View {
    pub const ALL: [View; 4] = [View::Month, View::Week, View::Day, View::Agenda];

    pub fn name(self) -> &'static str {
        match self {
            View::Month => "month",
            View::Week => "week",
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
            View::Day => Period {
                view,
                date,
                first: date,
                last: date,
                prev: date - Duration::days(1),
                next: date + Duration::days(1),
                title: date.format("%A, %-d %B %Y").to_string(),
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

/// An event as one day shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub href: String,
    /// The calendar's id, as the templates' `looks` map is keyed.
    pub calendar: String,
    pub title: String,
    pub location: String,
    pub all_day: bool,
    pub time_label: String,
    pub continues_before: bool,
    pub continues_after: bool,
    /// Week view placement: first hour row, rows spanned, and the side-by-side lane.
    pub start_hour: u32,
    pub span_hours: u32,
    pub lane: usize,
    pub lanes: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayView {
    pub date: String,
    pub day: u32,
    pub label: String,
    pub weekday: String,
    pub in_period: bool,
    pub is_today: bool,
    pub events: Vec<EventView>,
    pub more: usize,
    pub total: usize,
}

fn event_on_day(event: &EventSummary, zone: Tz, day: NaiveDate) -> Option<EventView> {
    let (first, last) = time::local_days(event, zone);
    if day < first || day > last {
        return None;
    }
    let start = event.start_at.with_timezone(&zone);
    let end = event.end_at.with_timezone(&zone);
    let (time_label, start_hour, end_hour) = if event.all_day {
        ("All day".to_string(), 0, 24)
    } else {
        let starts_today = first == day;
        let ends_today = last == day;
        let label = match (starts_today, ends_today) {
            (true, true) => format!("{}–{}", start.format("%H:%M"), end.format("%H:%M")),
            (true, false) => format!("from {}", start.format("%H:%M")),
            (false, true) => format!("until {}", end.format("%H:%M")),
            (false, false) => "all day".to_string(),
        };
        let start_hour = if starts_today { start.hour() } else { 0 };
        let end_hour = if ends_today { end.hour() + u32::from(end.minute() > 0) } else { 24 };
        (label, start_hour, end_hour)
    };
    Some(EventView {
        href: event_href(event),
        calendar: event.calendar_id.0.to_string(),
        title: event.title.clone(),
        location: event.location.clone(),
        all_day: event.all_day,
        time_label,
        continues_before: first < day,
        continues_after: last > day,
        start_hour,
        span_hours: end_hour.saturating_sub(start_hour).clamp(1, 24 - start_hour.min(23)),
        lane: 0,
        lanes: 1,
    })
}

/// Side-by-side lanes for overlapping timed events (at most four; more share the last).
fn assign_lanes(events: &mut [EventView]) {
    const MAX_LANES: usize = 4;
    let mut lane_ends: Vec<u32> = Vec::new();
    for event in events.iter_mut().filter(|e| !e.all_day) {
        let lane = lane_ends.iter().position(|end| *end <= event.start_hour).unwrap_or(lane_ends.len());
        let lane = lane.min(MAX_LANES - 1);
        if lane == lane_ends.len() {
            lane_ends.push(0);
        }
        lane_ends[lane] = lane_ends[lane].max(event.start_hour + event.span_hours);
        event.lane = lane;
    }
    let lanes = lane_ends.len().max(1);
    for event in events.iter_mut() {
        event.lanes = lanes;
    }
}

/// Every day of `period` with its events: all-day ones first, then by start; `limit` cuts
/// each day's list (the rest is counted in `more`). Each event's local days are worked out
/// once and the event dropped into those days' buckets, so the cost follows the number of
/// events shown, not events times days.
pub fn lay_out(
    period: &Period,
    events: &[EventSummary],
    zone: Tz,
    today: NaiveDate,
    limit: Option<usize>,
) -> Vec<DayView> {
    let days: Vec<NaiveDate> = period.days().collect();
    let mut buckets: Vec<Vec<&EventSummary>> = vec![Vec::new(); days.len()];
    for event in events {
        let (first, last) = time::local_days(event, zone);
        let from = (first - period.first).num_days().max(0);
        let to = (last - period.first).num_days().min(days.len() as i64 - 1);
        for index in from..=to {
            if let Some(bucket) = usize::try_from(index).ok().and_then(|i| buckets.get_mut(i)) {
                bucket.push(event);
            }
        }
    }
    days.into_iter()
        .zip(buckets)
        .map(|(day, mut bucket)| {
            bucket.sort_by_key(|e| (!e.all_day, e.start_at, e.id.0));
            let total = bucket.len();
            let shown = limit.unwrap_or(total).min(total);
            let mut on_day: Vec<EventView> =
                bucket.iter().take(shown).filter_map(|e| event_on_day(e, zone, day)).collect();
            assign_lanes(&mut on_day);
            let in_period = match period.view {
                View::Month => day.month() == period.date.month() && day.year() == period.date.year(),
                _ => true,
            };
            DayView {
                date: day.format("%Y-%m-%d").to_string(),
                day: day.day(),
                label: day.format("%A, %-d %B %Y").to_string(),
                weekday: day.format("%a").to_string(),
                in_period,
                is_today: day == today,
                events: on_day,
                more: total - shown,
                total,
            }
        })
        .collect()
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
