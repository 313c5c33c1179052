//! Wall-clock time in the user's zone: turning typed local times into instants (DST-aware)
//! and instants back into the local days an event touches.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::Scheduled;

pub fn today(zone: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&zone).date_naive()
}

/// The instant a local day begins. Where midnight itself is skipped by a DST change (some
/// zones switch at 00:00), the day begins at the first instant that exists.
pub fn start_of_day(zone: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut time = date.and_time(NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(instant) = zone.from_local_datetime(&time).earliest() {
            return instant.with_timezone(&Utc);
        }
        time += Duration::minutes(30);
    }
    Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN))
}

/// The instant `minutes` past midnight on local `date`: a time a DST change skips moves on
/// to the first that exists, one that occurs twice is its first.
pub fn at_minute_of_day(zone: Tz, date: NaiveDate, minutes: u32) -> DateTime<Utc> {
    let mut time = date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(minutes.min(24 * 60 - 1)));
    for _ in 0..4 {
        if let Some(instant) = zone.from_local_datetime(&time).earliest() {
            return instant.with_timezone(&Utc);
        }
        time += Duration::minutes(30);
    }
    Utc.from_utc_datetime(&time)
}

/// `HH:MM` (a form's time of day) as minutes past midnight.
pub fn minutes_of_day(typed: &str) -> Option<u32> {
    use chrono::Timelike;
    let time = NaiveTime::parse_from_str(typed.trim(), "%H:%M").ok()?;
    Some(time.hour() * 60 + time.minute())
}

/// The years Eventide keeps events in, everywhere (forms, imports, calendar addresses): far
/// from chrono's limits, so no arithmetic around a date can overflow, and wider than any
/// calendar needs.
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

pub fn within_years(date: NaiveDate) -> bool {
    YEARS.contains(&chrono::Datelike::year(&date))
}

/// Why a typed local time cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalTimeError {
    Malformed,
    /// Skipped by a spring-forward change (e.g. 02:30 on the last Sunday of March in Berlin).
    DoesNotExist,
}

/// `YYYY-MM-DDTHH:MM` in `zone` to an instant. A time that occurs twice (the fall-back hour)
/// means its first occurrence, as most calendar apps do; a skipped time is refused.
pub fn parse_local(zone: Tz, text: &str) -> Result<DateTime<Utc>, LocalTimeError> {
    if !four_digit_year(text) {
        return Err(LocalTimeError::Malformed);
    }
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| LocalTimeError::Malformed)?;
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(instant) | LocalResult::Ambiguous(instant, _) => Ok(instant.with_timezone(&Utc)),
        LocalResult::None => Err(LocalTimeError::DoesNotExist),
    }
}

/// chrono reads `+262143-12-31` as a year; dates that far out would overflow the arithmetic
/// around them, and no calendar needs them: years are four digits here.
fn four_digit_year(text: &str) -> bool {
    let text = text.trim();
    text.get(..5).is_some_and(|head| head[..4].bytes().all(|b| b.is_ascii_digit()) && head.ends_with('-'))
}

pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if !four_digit_year(text) {
        return None;
    }
    // `datetime-local` inputs left in place after ticking "all day" still carry the day.
    let day = text.split('T').next().unwrap_or(text);
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// All-day events are stored as dates at 00:00 UTC, so they read back as the same dates in
/// every zone.
pub fn date_instant(date: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date.and_time(NaiveTime::MIN))
}

/// The first and last local day an event occupies.
pub fn local_days(event: &impl Scheduled, zone: Tz) -> (NaiveDate, NaiveDate) {
    if event.all_day() {
        let first = event.start_at().date_naive();
        let last = (event.end_at() - Duration::days(1)).date_naive().max(first);
        return (first, last);
    }
    let start = event.start_at().with_timezone(&zone);
    let end = event.end_at().with_timezone(&zone);
    let first = start.date_naive();
    // An event ending at midnight does not occupy the day that midnight begins.
    let last = if end > start && end.time() == NaiveTime::MIN {
        (end - Duration::nanoseconds(1)).date_naive()
    } else {
        end.date_naive()
    };
    (first, last.max(first))
}

/// Dates and times as the views write them, without strftime: chrono's `format` parses its
/// pattern on every call, and a month view writes a few hundred of these.
pub mod text {
    use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

    const WEEKDAYS: [&str; 7] =
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];

    /// `n` in decimal, zero-padded to `width` digits.
    pub fn push_number(out: &mut String, n: u32, width: usize) {
        let mut digits = [0u8; 10];
        let mut len = 0;
        let mut rest = n;
        loop {
            digits[len] = b'0' + (rest % 10) as u8;
            len += 1;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        (len..width).for_each(|_| out.push('0'));
        digits[..len].iter().rev().for_each(|d| out.push(char::from(*d)));
    }

    /// Years are within `time::YEARS`, never before year 0.
    fn year(date: NaiveDate) -> u32 {
        u32::try_from(date.year()).unwrap_or(0)
    }

    /// Appends `2026-12-07`.
    pub fn push_iso_date(out: &mut String, date: NaiveDate) {
        push_number(out, year(date), 4);
        out.push('-');
        push_number(out, date.month(), 2);
        out.push('-');
        push_number(out, date.day(), 2);
    }

    /// Appends `Monday, 7 December 2026`.
    pub fn push_long_date(out: &mut String, date: NaiveDate) {
        out.push_str(WEEKDAYS[date.weekday().num_days_from_monday() as usize]);
        out.push_str(", ");
        push_number(out, date.day(), 1);
        out.push(' ');
        out.push_str(MONTHS[date.month0() as usize]);
        out.push(' ');
        push_number(out, year(date), 1);
    }

    /// `2026-12-07`.
    pub fn iso_date(date: NaiveDate) -> String {
        let mut out = String::with_capacity(10);
        push_iso_date(&mut out, date);
        out
    }

    /// `Monday, 7 December 2026`.
    pub fn long_date(date: NaiveDate) -> String {
        let mut out = String::with_capacity(28);
        push_long_date(&mut out, date);
        out
    }

    /// `Mon`.
    pub fn short_weekday(date: NaiveDate) -> &'static str {
        &WEEKDAYS[date.weekday().num_days_from_monday() as usize][..3]
    }

    pub fn push_hour_minute(out: &mut String, local: NaiveDateTime) {
        push_number(out, local.hour(), 2);
        out.push(':');
        push_number(out, local.minute(), 2);
    }

    /// `09:30`.
    pub fn hour_minute(local: NaiveDateTime) -> String {
        let mut out = String::with_capacity(5);
        push_hour_minute(&mut out, local);
        out
    }

    /// `2026-12-07T09:30`, as the event form writes a local time.
    pub fn iso_minute(local: NaiveDateTime) -> String {
        let mut out = String::with_capacity(16);
        push_iso_date(&mut out, local.date());
        out.push('T');
        push_hour_minute(&mut out, local);
        out
    }

    #[cfg(test)]
    #[test]
    fn as_strftime_would_write_them() {
        let at = NaiveDate::from_ymd_opt(2028, 2, 29).unwrap().and_hms_opt(7, 5, 0).unwrap();
        assert_eq!(iso_date(at.date()), at.format("%Y-%m-%d").to_string());
        assert_eq!(long_date(at.date()), at.format("%A, %-d %B %Y").to_string());
        assert_eq!(short_weekday(at.date()), at.format("%a").to_string());
        assert_eq!(hour_minute(at), at.format("%H:%M").to_string());
        assert_eq!(iso_minute(at), at.format("%Y-%m-%dT%H:%M").to_string());
        let late = NaiveDate::from_ymd_opt(2031, 11, 30).unwrap().and_hms_opt(23, 59, 0).unwrap();
        assert_eq!(iso_minute(late), "2031-11-30T23:59");
        assert_eq!(long_date(late.date()), "Sunday, 30 November 2031");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Europe::Berlin, Pacific::Auckland};

    #[test]
    fn years_are_four_digits() {
        assert!(parse_date("2026-06-01").is_some());
        assert!(parse_date("+262143-12-31").is_none());
        assert!(parse_date("12026-06-01").is_none());
        assert!(parse_date("-0001-01-01").is_none());
        assert!(parse_local(Tz::UTC, "+262143-12-31T23:59").is_err());
        assert!(parse_local(Tz::UTC, "9999-12-31T23:59").is_ok());
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn spring_forward_gap_is_refused_and_fall_back_takes_the_first() {
        assert_eq!(parse_local(Berlin, "2026-03-29T02:30"), Err(LocalTimeError::DoesNotExist));
        assert_eq!(parse_local(New_York, "2026-03-08T02:30"), Err(LocalTimeError::DoesNotExist));
        assert_eq!(parse_local(Auckland, "2026-09-27T02:30"), Err(LocalTimeError::DoesNotExist));
        // 02:30 happens twice on 25 October 2026 in Berlin: CEST (UTC+2) first.
        let first = parse_local(Berlin, "2026-10-25T02:30").unwrap();
        assert_eq!(first.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        assert_eq!(parse_local(Berlin, "2026-13-01T10:00"), Err(LocalTimeError::Malformed));
        assert_eq!(parse_local(Berlin, "tomorrow"), Err(LocalTimeError::Malformed));
    }

    #[test]
    fn days_start_at_local_midnight() {
        assert_eq!(start_of_day(Auckland, date(2026, 1, 15)).to_rfc3339(), "2026-01-14T11:00:00+00:00");
        assert_eq!(start_of_day(New_York, date(2026, 7, 4)).to_rfc3339(), "2026-07-04T04:00:00+00:00");
        // A DST day in Berlin is 23 hours long.
        let length = start_of_day(Berlin, date(2026, 3, 30)) - start_of_day(Berlin, date(2026, 3, 29));
        assert_eq!(length, Duration::hours(23));
    }

    #[test]
    fn dates_parse_with_or_without_a_time() {
        assert_eq!(parse_date("2028-02-29"), Some(date(2028, 2, 29)));
        assert_eq!(parse_date("2028-02-29T10:00"), Some(date(2028, 2, 29)));
        assert_eq!(parse_date("2027-02-29"), None);
    }
}
