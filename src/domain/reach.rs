//! When the events a write changed happen: a cached view of other dates cannot have changed,
//! so the cache keeps it.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use super::EventDraft;

/// The times a committed write changed events at: where each event (every occurrence of a
/// series) was before the write, and where it is after. A series that never ends reaches all
/// of time, and so does any write that is not about events alone (a calendar's colour or
/// visibility, a share, an account's time zone): every view may show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// `None`: everything.
    spans: Option<Vec<(DateTime<Utc>, DateTime<Utc>)>>,
}

impl Reach {
    pub fn everything() -> Reach {
        Reach { spans: None }
    }

    pub fn nothing() -> Reach {
        Reach { spans: Some(Vec::new()) }
    }

    /// An event from `start` until `end`; a series from its first start until its last
    /// occurrence ends, `None` when it never does.
    pub fn add(&mut self, start: DateTime<Utc>, end: Option<DateTime<Utc>>) {
        match (&mut self.spans, end) {
            (Some(spans), Some(end)) => spans.push((start.min(end), start.max(end))),
            (spans, _) => *spans = None,
        }
    }

    pub fn add_draft(&mut self, draft: &EventDraft) {
        match &draft.recurrence {
            Some(recurrence) => self.add(draft.start_at, recurrence.ends_at),
            None => self.add(draft.start_at, Some(draft.end_at)),
        }
    }

    /// The months (as their first days) whose views may show a change: every local date
    /// anywhere lies within a day of the UTC date, so each span is widened by a day. `None`
    /// when everything is reached, or more than `at_most` months are.
    pub fn months(&self, at_most: usize) -> Option<Vec<NaiveDate>> {
        let spans = self.spans.as_ref()?;
        let mut months = BTreeSet::new();
        let day = Duration::days(1);
        for (start, end) in spans {
            let first = start.checked_sub_signed(day).unwrap_or(*start).date_naive();
            let last = end.checked_add_signed(day).unwrap_or(*end).date_naive();
            months.extend(months_spanned(first, last, at_most)?);
        }
        (months.len() <= at_most).then(|| months.into_iter().collect())
    }
}

/// The months (as their first days) from `first`'s to `last`'s; `None` when they are more
/// than `at_most`.
pub fn months_spanned(first: NaiveDate, last: NaiveDate, at_most: usize) -> Option<Vec<NaiveDate>> {
    let mut months = vec![month_of(first)];
    while let Some(next) = months.last().and_then(|m| next_month(*m)).filter(|m| *m <= last) {
        if months.len() == at_most {
            return None;
        }
        months.push(next);
    }
    Some(months)
}

/// The first day of `date`'s month.
fn month_of(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// The first day of the month after `month`'s.
fn next_month(month: NaiveDate) -> Option<NaiveDate> {
    month_of(month).checked_add_months(chrono::Months::new(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_span_reaches_its_months_and_a_day_either_side() {
        let mut reach = Reach::nothing();
        assert_eq!(reach.months(3), Some(vec![]));
        reach.add(at("2026-06-10T09:00:00Z"), Some(at("2026-06-10T10:00:00Z")));
        assert_eq!(reach.months(3), Some(vec![day("2026-06-01")]));
        // Late on the last of the month in UTC is already the 1st in Auckland; early on the
        // 1st is still the month before in Honolulu.
        reach.add(at("2026-08-31T20:00:00Z"), Some(at("2026-08-31T21:00:00Z")));
        assert_eq!(reach.months(3), Some(vec![day("2026-06-01"), day("2026-08-01"), day("2026-09-01")]));
        let mut early = Reach::nothing();
        early.add(at("2026-03-01T02:00:00Z"), Some(at("2026-03-01T03:00:00Z")));
        assert_eq!(early.months(3), Some(vec![day("2026-02-01"), day("2026-03-01")]));
    }

    /// Whatever the zone a reader sees an event in, every date it shows on is in a reached
    /// month: random spans near month ends, against every zone there is.
    #[test]
    fn every_zone_sees_an_event_within_its_reached_months() {
        use rand::Rng;
        let mut random = rand::thread_rng();
        for _ in 0..300 {
            let month_end =
                NaiveDate::from_ymd_opt(random.gen_range(1990..2100), random.gen_range(1..=12), 1)
                    .and_then(next_month)
                    .unwrap();
            let start = month_end.and_hms_opt(0, 0, 0).unwrap().and_utc()
                + Duration::minutes(random.gen_range(-2 * 24 * 60..2 * 24 * 60));
            let end = start + Duration::minutes(random.gen_range(0..3 * 24 * 60));
            let mut reach = Reach::nothing();
            reach.add(start, Some(end));
            let months = reach.months(12).unwrap();
            let (first, last) = (months[0], months[months.len() - 1]);
            assert_eq!(months.len(), months.iter().collect::<BTreeSet<_>>().len());
            for zone in chrono_tz::TZ_VARIANTS {
                let (from, until) =
                    (start.with_timezone(&zone).date_naive(), end.with_timezone(&zone).date_naive());
                assert!(
                    first <= month_of(from) && month_of(until) <= last,
                    "{start}–{end} in {zone}: {months:?}"
                );
            }
        }
    }

    #[test]
    fn endless_series_and_long_reaches_are_everything() {
        let mut reach = Reach::nothing();
        reach.add(at("2026-06-10T09:00:00Z"), None);
        assert_eq!(reach, Reach::everything());
        reach.add(at("2026-06-10T09:00:00Z"), Some(at("2026-06-10T10:00:00Z")));
        assert_eq!(reach.months(100), None);
        let mut year = Reach::nothing();
        year.add(at("2026-01-15T00:00:00Z"), Some(at("2026-12-15T00:00:00Z")));
        assert_eq!(year.months(12).map(|m| m.len()), Some(12));
        assert_eq!(year.months(11), None);
        // The ends of time: no overflow, and the widest reach is everything.
        let mut extreme = Reach::nothing();
        extreme.add(DateTime::<Utc>::MIN_UTC, Some(DateTime::<Utc>::MAX_UTC));
        assert_eq!(extreme.months(24), None);
        let mut last = Reach::nothing();
        last.add(DateTime::<Utc>::MAX_UTC, Some(DateTime::<Utc>::MAX_UTC));
        assert_eq!(last.months(24).map(|m| m.len()), Some(1));
        // Ends before it starts (never written so, but never a panic or a gap either).
        let mut reversed = Reach::nothing();
        reversed.add(at("2026-05-10T00:00:00Z"), Some(at("2026-04-10T00:00:00Z")));
        assert_eq!(reversed.months(3), Some(vec![day("2026-04-01"), day("2026-05-01")]));
    }
}
