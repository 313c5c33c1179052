//! Recurring events: an RFC 5545 RRULE kept as text, expanded with the `rrule` crate for the
//! visible range only, in the event's own time zone (so a weekly 09:00 stays at 09:00 across
//! DST). Expansion is bounded both ways: a range never yields more than `limit` occurrences,
//! and an endless daily or weekly rule is fast-forwarded to the range instead of being walked
//! from its first occurrence.

pub mod describe;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The rule parts Eventide understands; anything else makes a rule unsupported (reported, not
/// silently dropped).
const KNOWN_PARTS: [&str; 11] = [
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYSETPOS",
    "BYYEARDAY",
    "BYWEEKNO",
    "WKST",
];
/// More would let one event fill a calendar for decades; 1,000 covers daily for 2.7 years.
pub const MAX_COUNT: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("the repeat rule is empty")]
    Empty,
    #[error("the repeat rule has a malformed part: {0}")]
    Malformed(String),
    #[error("repeating {0} is not supported (daily, weekly, monthly and yearly are)")]
    UnsupportedFrequency(String),
    #[error("the repeat rule part {0} is not supported")]
    UnsupportedPart(String),
    #[error("a repeat rule cannot have both COUNT and UNTIL")]
    CountAndUntil,
    #[error("the repeat count must be between 1 and {MAX_COUNT}")]
    Count,
    #[error("the repeat rule is invalid: {0}")]
    Invalid(String),
}

/// A recurrence rule as `KEY=VALUE` parts, in the order given (so a rule read from a file is
/// written back as it came, apart from what Eventide changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    parts: Vec<(String, String)>,
}

impl FromStr for Rule {
    type Err = RuleError;

    fn from_str(text: &str) -> Result<Rule, RuleError> {
        let text = text.trim().trim_start_matches("RRULE:");
        if text.is_empty() {
            return Err(RuleError::Empty);
        }
        // The crate slices rule text by byte offsets: anything but ASCII is refused before it
        // gets there (found by the import fuzz test).
        if !text.is_ascii() {
            return Err(RuleError::Malformed(text.into()));
        }
        let mut parts: Vec<(String, String)> = Vec::new();
        for part in text.split(';').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| RuleError::Malformed(part.into()))?;
            let key = key.trim().to_ascii_uppercase();
            if !KNOWN_PARTS.contains(&key.as_str()) {
                return Err(RuleError::UnsupportedPart(key));
            }
            if value.is_empty() || parts.iter().any(|(k, _)| *k == key) {
                return Err(RuleError::Malformed(part.into()));
            }
            parts.push((key, value.trim().to_ascii_uppercase()));
        }
        let rule = Rule { parts };
        rule.freq()?;
        if rule.get("COUNT").is_some() && rule.get("UNTIL").is_some() {
            return Err(RuleError::CountAndUntil);
        }
        if let Some(count) = rule.get("COUNT") {
            match count.parse::<u32>() {
                Ok(n) if (1..=MAX_COUNT).contains(&n) => {}
                _ => return Err(RuleError::Count),
            }
        }
        // Everything but UNTIL (which needs the event's zone) is checked by the crate now, so
        // a stored rule always expands.
        rule.crate_rule()?;
        Ok(rule)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: Vec<String> = self.parts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        f.write_str(&text.join(";"))
    }
}

impl Rule {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.parts.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, key: &str, value: String) {
        match self.parts.iter_mut().find(|(k, _)| k == key) {
            Some(part) => part.1 = value,
            None => self.parts.push((key.to_string(), value)),
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.parts.retain(|(k, _)| k != key);
    }

    pub fn freq(&self) -> Result<Freq, RuleError> {
        match self.get("FREQ") {
            Some("DAILY") => Ok(Freq::Daily),
            Some("WEEKLY") => Ok(Freq::Weekly),
            Some("MONTHLY") => Ok(Freq::Monthly),
            Some("YEARLY") => Ok(Freq::Yearly),
            Some(other) => Err(RuleError::UnsupportedFrequency(other.to_ascii_lowercase())),
            None => Err(RuleError::Malformed("FREQ is missing".into())),
        }
    }

    pub fn interval(&self) -> u32 {
        self.get("INTERVAL").and_then(|i| i.parse().ok()).unwrap_or(1)
    }

    pub fn count(&self) -> Option<u32> {
        self.get("COUNT").and_then(|c| c.parse().ok())
    }

    /// The rule without UNTIL, for the crate (UNTIL is resolved against the zone separately).
    fn crate_rule(&self) -> Result<rrule::RRule<rrule::Unvalidated>, RuleError> {
        let mut rest = self.clone();
        rest.remove("UNTIL");
        rest.to_string().parse().map_err(|e: rrule::RRuleError| RuleError::Invalid(e.to_string()))
    }

    /// UNTIL as an instant: a UTC time as written; a date (or a floating time) in `zone`, up
    /// to the end of that day.
    pub fn until(&self, zone: Tz) -> Result<Option<DateTime<Utc>>, RuleError> {
        let Some(value) = self.get("UNTIL") else { return Ok(None) };
        parse_until(value, zone).map(Some).ok_or_else(|| RuleError::Malformed(format!("UNTIL={value}")))
    }
}

fn parse_until(value: &str, zone: Tz) -> Option<DateTime<Utc>> {
    if let Some(utc) = value.strip_suffix('Z') {
        let time = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").ok()?;
        return Some(Utc.from_utc_datetime(&time));
    }
    let local = match NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S") {
        Ok(time) => time,
        Err(_) => {
            NaiveDate::parse_from_str(value, "%Y%m%d").ok()?.and_time(NaiveTime::from_hms_opt(23, 59, 59)?)
        }
    };
    zone.from_local_datetime(&local).latest().map(|t| t.with_timezone(&Utc))
}

/// The UNTIL value that ends a series the day before `instant`'s day in `zone` (so the form
/// shows the last day that still has an occurrence): a date for all-day series, a UTC time
/// otherwise, as RFC 5545 asks for each kind of DTSTART.
pub fn until_before(instant: DateTime<Utc>, all_day: bool, zone: Tz) -> String {
    if all_day {
        return (instant.date_naive() - Duration::days(1)).format("%Y%m%d").to_string();
    }
    let day_before = instant.with_timezone(&zone).date_naive() - Duration::days(1);
    let end = day_before.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default());
    let until = zone
        .from_local_datetime(&end)
        .latest()
        .map_or(instant - Duration::seconds(1), |t| t.with_timezone(&Utc));
    until.min(instant - Duration::seconds(1)).format("%Y%m%dT%H%M%SZ").to_string()
}

/// A recurring event ready to expand: the rule, where and when it starts, how long each
/// occurrence lasts, and the cancelled occurrences.
#[derive(Debug, Clone)]
pub struct Series {
    rule: rrule::RRule<rrule::Unvalidated>,
    freq: Freq,
    interval: u32,
    bounded_by_count: bool,
    until: Option<DateTime<Utc>>,
    zone: Tz,
    start: DateTime<Utc>,
    duration: Duration,
    exdates: Vec<DateTime<Utc>>,
}

impl Series {
    /// A series checked against its start, for rules about to be stored (forms, imports).
    /// `zone` is ignored for all-day series: they repeat by date.
    pub fn new(
        rule: &Rule,
        zone: Tz,
        all_day: bool,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        exdates: Vec<DateTime<Utc>>,
    ) -> Result<Series, RuleError> {
        let series = Series::stored(rule, zone, all_day, start, end, exdates)?;
        series.build(series.local(start)).map(|_| series)
    }

    /// A series whose rule was checked when it was stored: range reads skip the second
    /// check (a rule that still fails to build just yields no occurrences).
    pub fn stored(
        rule: &Rule,
        zone: Tz,
        all_day: bool,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        exdates: Vec<DateTime<Utc>>,
    ) -> Result<Series, RuleError> {
        let zone = if all_day { Tz::UTC } else { zone };
        // Sorted once, so leaving cancelled dates out is a binary search per occurrence.
        let mut exdates = exdates;
        exdates.sort_unstable();
        exdates.dedup();
        Ok(Series {
            rule: rule.crate_rule()?,
            freq: rule.freq()?,
            interval: rule.interval().max(1),
            bounded_by_count: rule.count().is_some(),
            until: rule.until(zone)?,
            zone,
            start,
            duration: end - start,
            exdates,
        })
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn duration(&self) -> Duration {
        self.duration
    }

    fn local(&self, instant: DateTime<Utc>) -> DateTime<rrule::Tz> {
        instant.with_timezone(&rrule::Tz::Tz(self.zone))
    }

    fn build(&self, dt_start: DateTime<rrule::Tz>) -> Result<rrule::RRuleSet, RuleError> {
        let mut rule = self.rule.clone();
        if let Some(until) = self.until {
            rule = rule.until(until.with_timezone(&rrule::Tz::UTC));
        }
        rule.build(dt_start).map_err(|e| RuleError::Invalid(e.to_string()))
    }

    /// Starts of the occurrences that begin in `[after, before)`, at most `limit`, cancelled
    /// ones left out. The first occurrence is the event's own start, as RFC 5545 says, even
    /// where the rule would not produce it.
    pub fn starts_in(&self, after: DateTime<Utc>, before: DateTime<Utc>, limit: usize) -> Vec<DateTime<Utc>> {
        if before <= after || self.until.is_some_and(|until| until < after) {
            return Vec::new();
        }
        let dt_start = self.fast_forward(after);
        let Ok(set) = self.build(dt_start) else { return Vec::new() };
        let limit = u16::try_from(limit).unwrap_or(u16::MAX);
        let mut starts: Vec<DateTime<Utc>> = set
            .after(self.local(after))
            .before(self.local(before))
            .all(limit)
            .dates
            .into_iter()
            .map(|t| t.with_timezone(&Utc))
            .filter(|t| *t >= after && *t < before)
            .collect();
        if self.start >= after && self.start < before && !starts.contains(&self.start) {
            starts.insert(0, self.start);
        }
        starts.retain(|t| self.exdates.binary_search(t).is_err());
        starts.truncate(usize::from(limit));
        starts
    }

    /// Occurrences that overlap `[from, until)`, with the same convention as the store's range
    /// reads (an occurrence ending exactly at `from` is included).
    pub fn overlapping(&self, from: DateTime<Utc>, until: DateTime<Utc>, limit: usize) -> Vec<DateTime<Utc>> {
        self.starts_in(from - self.duration, until, limit)
    }

    pub fn is_occurrence(&self, instant: DateTime<Utc>) -> bool {
        self.starts_in(instant, instant + Duration::seconds(1), 1).first() == Some(&instant)
    }

    /// How many occurrences start before `instant` (cancelled ones included: COUNT counts them).
    pub fn count_before(&self, instant: DateTime<Utc>) -> u32 {
        let all = Series { exdates: Vec::new(), ..self.clone() };
        let n = all.starts_in(self.start, instant, usize::from(u16::MAX)).len();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// When the last occurrence ends, or `None` for an endless series: the store keeps it so a
    /// range read can skip finished series.
    pub fn ends_at(&self) -> Option<DateTime<Utc>> {
        let last_start = match (self.until, self.bounded_by_count) {
            (_, true) => {
                let all = Series { exdates: Vec::new(), ..self.clone() };
                let far = self.start + Duration::days(366 * 200);
                all.starts_in(self.start, far, usize::from(u16::MAX)).last().copied()
            }
            (Some(until), false) => Some(until.max(self.start)),
            (None, false) => return None,
        };
        Some(last_start.unwrap_or(self.start) + self.duration)
    }

    /// A start for the crate to iterate from, close before `after`, with the same occurrences
    /// from there on, so a series begun years ago is not walked from its first occurrence on
    /// every read. Not for rules that count: COUNT needs every occurrence from the first.
    /// Daily and weekly shift by whole periods of days in local time, which keeps the weekday,
    /// the time of day and the period alignment. Monthly shifts by whole periods of months
    /// to the same day of the month (whose rule reads its day from the start when it has no
    /// BYDAY or BYMONTHDAY), or not at all where that day does not exist. A start that the
    /// rule itself would not produce lands before `after` and is dropped.
    fn fast_forward(&self, after: DateTime<Utc>) -> DateTime<rrule::Tz> {
        let original = self.local(self.start);
        if self.bounded_by_count {
            return original;
        }
        let start_local = original.naive_local();
        let after_local = after.with_timezone(&self.zone).naive_local();
        let interval = i64::from(self.interval);
        let shifted = match self.freq {
            Freq::Daily | Freq::Weekly => {
                let period_days = if self.freq == Freq::Daily { interval } else { 7 * interval };
                let target = after_local - Duration::days(period_days + 1);
                let periods = (target - start_local).num_days() / period_days;
                if periods <= 0 {
                    return original;
                }
                start_local + Duration::days(periods * period_days)
            }
            Freq::Monthly => {
                let target = after_local - Duration::days(31 * interval + 1);
                let months = i64::from(target.year() - start_local.year()) * 12 + i64::from(target.month())
                    - i64::from(start_local.month())
                    - i64::from(target.day() < start_local.day());
                let periods = months / interval;
                if periods <= 0 {
                    return original;
                }
                let month0 = i64::from(start_local.month0()) + periods * interval;
                let year = i32::try_from(i64::from(start_local.year()) + month0.div_euclid(12)).ok();
                let month = u32::try_from(month0.rem_euclid(12) + 1).ok();
                let date =
                    year.zip(month).and_then(|(y, m)| NaiveDate::from_ymd_opt(y, m, start_local.day()));
                match date {
                    Some(date) => date.and_time(start_local.time()),
                    None => return original,
                }
            }
            Freq::Yearly => return original,
        };
        match self.zone.from_local_datetime(&shifted).earliest() {
            Some(t) => t.with_timezone(&rrule::Tz::Tz(self.zone)),
            None => original,
        }
    }
}

/// The most cancelled dates one series takes from an import: far more than any real calendar
/// has, and few enough that every read of the series stays cheap.
pub const EXDATES_MAX: usize = 1000;

/// Cancelled occurrences as stored: UTC instants, space-separated.
pub fn parse_exdates(text: &str) -> Vec<DateTime<Utc>> {
    text.split_whitespace()
        .filter_map(|t| NaiveDateTime::parse_from_str(t, "%Y%m%dT%H%M%SZ").ok())
        .map(|t| Utc.from_utc_datetime(&t))
        .collect()
}

pub fn format_exdates(exdates: &[DateTime<Utc>]) -> String {
    let mut sorted = exdates.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted.iter().map(|t| compact(*t)).collect::<Vec<_>>().join(" ")
}

/// `20260601T070000Z`: how occurrences are named in URLs and stored exceptions.
pub fn compact(instant: DateTime<Utc>) -> String {
    instant.format("%Y%m%dT%H%M%SZ").to_string()
}

pub fn parse_compact(text: &str) -> Option<DateTime<Utc>> {
    parse_exdates(text).into_iter().next().filter(|_| !text.contains(' '))
}

/// Moves `instant` by `days` and `time` in `zone`'s wall time (so 09:00 stays 09:00 across a
/// DST change). `None` when the new wall time does not exist there.
pub fn shift_local(instant: DateTime<Utc>, zone: Tz, by: Duration) -> Option<DateTime<Utc>> {
    let local = instant.with_timezone(&zone).naive_local() + by;
    zone.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests;
