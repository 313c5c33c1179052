//! HTML written in Rust for what a view draws once per event or per day, where Tera's cost
//! per variable, `if` and macro call adds up over hundreds of events. Only fixed markup,
//! numbers, dates, times and colours can go in: no method takes free text, so nothing a user
//! typed can reach a template's `| safe` through a `Markup`. A user's text (titles, calendar
//! names, locations) stays in the template, which escapes it.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

use crate::domain::color::Rgb;
use crate::domain::time::text::{push_hour_minute, push_iso_date, push_long_date, push_number};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Markup(String);

impl Markup {
    pub fn with_capacity(capacity: usize) -> Markup {
        Markup(String::with_capacity(capacity))
    }

    /// Fixed markup, written in the source.
    pub fn html(&mut self, fixed: &'static str) -> &mut Markup {
        self.0.push_str(fixed);
        self
    }

    pub fn number(&mut self, number: usize) -> &mut Markup {
        push_number(&mut self.0, u32::try_from(number).unwrap_or(u32::MAX), 1);
        self
    }

    /// Ids: positive, and written in full.
    pub fn number_i64(&mut self, number: i64) -> &mut Markup {
        use std::fmt::Write;
        let _ = write!(self.0, "{number}");
        self
    }

    /// `2026-12-07`.
    pub fn date(&mut self, date: NaiveDate) -> &mut Markup {
        push_iso_date(&mut self.0, date);
        self
    }

    /// `Monday, 7 December 2026`.
    pub fn long_date(&mut self, date: NaiveDate) -> &mut Markup {
        push_long_date(&mut self.0, date);
        self
    }

    /// `09:30`.
    pub fn time(&mut self, local: NaiveDateTime) -> &mut Markup {
        push_hour_minute(&mut self.0, local);
        self
    }

    /// `2026-12-07T09:30`, as the event form writes a local time.
    pub fn local_minute(&mut self, local: NaiveDateTime) -> &mut Markup {
        push_iso_date(&mut self.0, local.date());
        self.0.push('T');
        push_hour_minute(&mut self.0, local);
        self
    }

    /// `20261207T093000Z`, as an occurrence is named in URLs (`recurrence::compact`).
    pub fn compact_instant(&mut self, instant: DateTime<Utc>) -> &mut Markup {
        use chrono::{Datelike, Timelike};
        let at = instant.naive_utc();
        push_number(&mut self.0, u32::try_from(at.year()).unwrap_or(0), 4);
        push_number(&mut self.0, at.month(), 2);
        push_number(&mut self.0, at.day(), 2);
        self.0.push('T');
        push_number(&mut self.0, at.hour(), 2);
        push_number(&mut self.0, at.minute(), 2);
        push_number(&mut self.0, at.second(), 2);
        self.0.push('Z');
        self
    }

    /// `#1a73e8`.
    pub fn color(&mut self, color: Rgb) -> &mut Markup {
        use std::fmt::Write;
        let _ = write!(self.0, "{color}");
        self
    }

    pub fn markup(&mut self, other: &Markup) -> &mut Markup {
        self.0.push_str(&other.0);
        self
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
