//! Expansion against dates checked by hand on a printed calendar.

use super::*;
use chrono_tz::{America::New_York, Europe::Berlin};

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn series(rule: &str, zone: Tz, start: &str, minutes: i64) -> Series {
    let start = utc(start);
    Series::new(&rule.parse().unwrap(), zone, false, start, start + Duration::minutes(minutes), Vec::new())
        .unwrap()
}

fn all_day(rule: &str, date: &str) -> Series {
    let start = utc(&format!("{date}T00:00:00Z"));
    Series::new(&rule.parse().unwrap(), Tz::UTC, true, start, start + Duration::days(1), Vec::new()).unwrap()
}

fn local_starts(series: &Series, zone: Tz, from: &str, until: &str) -> Vec<String> {
    series
        .starts_in(utc(from), utc(until), 500)
        .into_iter()
        .map(|t| t.with_timezone(&zone).format("%Y-%m-%d %H:%M %Z").to_string())
        .collect()
}

#[test]
fn weekly_keeps_wall_time_across_both_dst_switches() {
    // Mondays 09:00 in Berlin, from 16 March 2026; DST starts 29 March, ends 25 October.
    let weekly = series("FREQ=WEEKLY;BYDAY=MO", Berlin, "2026-03-16T08:00:00Z", 60);
    let starts = local_starts(&weekly, Berlin, "2026-03-16T00:00:00Z", "2026-04-07T00:00:00Z");
    assert_eq!(
        starts,
        ["2026-03-16 09:00 CET", "2026-03-23 09:00 CET", "2026-03-30 09:00 CEST", "2026-04-06 09:00 CEST"]
    );
    let autumn = local_starts(&weekly, Berlin, "2026-10-19T00:00:00Z", "2026-11-03T00:00:00Z");
    assert_eq!(autumn, ["2026-10-19 09:00 CEST", "2026-10-26 09:00 CET", "2026-11-02 09:00 CET"]);
    // The UTC instants differ by an hour: that is the point.
    assert_eq!(
        weekly.starts_in(utc("2026-03-30T00:00:00Z"), utc("2026-03-31T00:00:00Z"), 5),
        [utc("2026-03-30T07:00:00Z")]
    );
}

#[test]
fn daily_in_new_york_through_spring_forward() {
    let daily = series("FREQ=DAILY", New_York, "2026-03-07T23:30:00Z", 30); // 18:30 EST
    let starts = local_starts(&daily, New_York, "2026-03-07T00:00:00Z", "2026-03-10T00:00:00Z");
    assert_eq!(starts, ["2026-03-07 18:30 EST", "2026-03-08 18:30 EDT", "2026-03-09 18:30 EDT"]);
}

#[test]
fn monthly_on_the_31st_skips_short_months() {
    let monthly = all_day("FREQ=MONTHLY;BYMONTHDAY=31", "2026-01-31");
    let starts = local_starts(&monthly, Tz::UTC, "2026-01-01T00:00:00Z", "2026-09-01T00:00:00Z");
    let days: Vec<&str> = starts.iter().map(|s| &s[..10]).collect();
    assert_eq!(days, ["2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31", "2026-08-31"]);
}

#[test]
fn last_day_of_the_month() {
    let monthly = all_day("FREQ=MONTHLY;BYMONTHDAY=-1", "2028-01-31");
    let starts = local_starts(&monthly, Tz::UTC, "2028-01-01T00:00:00Z", "2028-05-01T00:00:00Z");
    let days: Vec<&str> = starts.iter().map(|s| &s[..10]).collect();
    assert_eq!(days, ["2028-01-31", "2028-02-29", "2028-03-31", "2028-04-30"]);
}

#[test]
fn yearly_on_29_february_only_in_leap_years() {
    let yearly = all_day("FREQ=YEARLY", "2024-02-29");
    let starts = local_starts(&yearly, Tz::UTC, "2024-01-01T00:00:00Z", "2033-01-01T00:00:00Z");
    let days: Vec<&str> = starts.iter().map(|s| &s[..10]).collect();
    assert_eq!(days, ["2024-02-29", "2028-02-29", "2032-02-29"]);
}

#[test]
fn last_friday_and_second_tuesday() {
    let last_friday = series("FREQ=MONTHLY;BYDAY=-1FR", Berlin, "2026-01-30T17:00:00Z", 120);
    let starts = local_starts(&last_friday, Berlin, "2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z");
    let days: Vec<&str> = starts.iter().map(|s| &s[..10]).collect();
    assert_eq!(days, ["2026-01-30", "2026-02-27", "2026-03-27", "2026-04-24", "2026-05-29"]);
    assert!(starts.iter().all(|s| s.contains("18:00")), "{starts:?}");
    let second_tuesday = series("FREQ=MONTHLY;BYDAY=2TU", Berlin, "2026-01-13T09:00:00Z", 60);
    let starts = local_starts(&second_tuesday, Berlin, "2026-01-01T00:00:00Z", "2026-05-01T00:00:00Z");
    let days: Vec<&str> = starts.iter().map(|s| &s[..10]).collect();
    assert_eq!(days, ["2026-01-13", "2026-02-10", "2026-03-10", "2026-04-14"]);
}

#[test]
fn count_until_interval_and_exceptions() {
    let counted = series("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=5", Berlin, "2026-06-02T08:00:00Z", 60);
    let starts = local_starts(&counted, Berlin, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    let days: Vec<&str> = starts.iter().map(|s| &s[..10]).collect();
    assert_eq!(days, ["2026-06-02", "2026-06-04", "2026-06-16", "2026-06-18", "2026-06-30"]);
    assert_eq!(counted.ends_at(), Some(utc("2026-06-30T09:00:00Z")));
    assert_eq!(counted.count_before(utc("2026-06-16T08:00:00Z")), 2);

    let until = series("FREQ=DAILY;UNTIL=20260605T215959Z", Berlin, "2026-06-01T08:00:00Z", 60);
    assert_eq!(until.starts_in(utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"), 50).len(), 5);
    let mut with_exdate = until.clone();
    with_exdate.exdates = vec![utc("2026-06-03T08:00:00Z")];
    let starts = local_starts(&with_exdate, Berlin, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z");
    assert_eq!(starts.len(), 4);
    assert!(!starts.iter().any(|s| s.starts_with("2026-06-03")));
    assert!(with_exdate.is_occurrence(utc("2026-06-04T08:00:00Z")));
    assert!(!with_exdate.is_occurrence(utc("2026-06-03T08:00:00Z")));
    assert!(!with_exdate.is_occurrence(utc("2026-06-04T08:30:00Z")));
}

#[test]
fn the_first_occurrence_is_the_start_even_off_rule() {
    // Starts on a Wednesday, repeats on Mondays: RFC 5545 counts the Wednesday too.
    let weekly = series("FREQ=WEEKLY;BYDAY=MO", Tz::UTC, "2026-06-03T10:00:00Z", 60);
    let starts = local_starts(&weekly, Tz::UTC, "2026-06-01T00:00:00Z", "2026-06-16T00:00:00Z");
    assert_eq!(starts, ["2026-06-03 10:00 UTC", "2026-06-08 10:00 UTC", "2026-06-15 10:00 UTC"]);
}

#[test]
fn endless_rules_expand_only_the_range_and_fast() {
    // Daily since 1970: a month in 2026 must not walk 20,000 occurrences.
    let daily = series("FREQ=DAILY", Berlin, "1970-01-01T08:00:00Z", 30);
    let started = std::time::Instant::now();
    let starts = daily.overlapping(utc("2026-06-01T00:00:00Z"), utc("2026-07-13T00:00:00Z"), 500);
    assert_eq!(starts.len(), 42);
    assert_eq!(starts[0].with_timezone(&Berlin).format("%Y-%m-%d %H:%M").to_string(), "2026-06-01 09:00");
    let weekly = series("FREQ=WEEKLY;INTERVAL=3;BYDAY=SA", Berlin, "1980-01-05T08:00:00Z", 30);
    let starts = weekly.overlapping(utc("2026-06-01T00:00:00Z"), utc("2026-07-13T00:00:00Z"), 500);
    // 1980-01-05 + 3-week periods: the same result as walking from the start.
    let walked: Vec<_> = {
        let mut t = utc("1980-01-05T08:00:00Z").with_timezone(&Berlin).naive_local();
        let mut out = Vec::new();
        while t.date() < NaiveDate::from_ymd_opt(2026, 7, 13).unwrap() {
            if t.date() >= NaiveDate::from_ymd_opt(2026, 6, 1).unwrap() {
                out.push(Berlin.from_local_datetime(&t).unwrap().with_timezone(&Utc));
            }
            t += Duration::weeks(3);
        }
        out
    };
    assert_eq!(starts, walked);
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    // The range cap holds whatever the rule.
    assert_eq!(daily.overlapping(utc("2020-01-01T00:00:00Z"), utc("2030-01-01T00:00:00Z"), 100).len(), 100);
    assert_eq!(daily.ends_at(), None);
}

#[test]
fn rules_are_checked_when_read() {
    assert!("FREQ=WEEKLY;BYDAY=MO,WE".parse::<Rule>().is_ok());
    assert_eq!("RRULE:freq=daily;interval=2".parse::<Rule>().unwrap().to_string(), "FREQ=DAILY;INTERVAL=2");
    assert_eq!("FREQ=HOURLY".parse::<Rule>(), Err(RuleError::UnsupportedFrequency("hourly".into())));
    assert_eq!("FREQ=DAILY;X-FOO=1".parse::<Rule>(), Err(RuleError::UnsupportedPart("X-FOO".into())));
    assert_eq!("FREQ=DAILY;COUNT=2;UNTIL=20260101".parse::<Rule>(), Err(RuleError::CountAndUntil));
    assert_eq!("FREQ=DAILY;COUNT=0".parse::<Rule>(), Err(RuleError::Count));
    assert!("FREQ=DAILY;BYDAY=XX".parse::<Rule>().is_err());
    assert!("".parse::<Rule>().is_err());
    assert!("INTERVAL=2".parse::<Rule>().is_err());
    assert!("FREQ=DAILY;;INTERVAL".parse::<Rule>().is_err());
}

#[test]
fn until_before_ends_the_series_before_an_occurrence() {
    assert_eq!(until_before(utc("2026-06-10T07:00:00Z"), false, Berlin), "20260609T215959Z");
    assert_eq!(until_before(utc("2026-06-10T00:00:00Z"), true, Berlin), "20260609");
    let mut rule: Rule = "FREQ=DAILY".parse().unwrap();
    rule.set("UNTIL", until_before(utc("2026-06-04T00:00:00Z"), true, Berlin));
    let cut =
        Series::new(&rule, Berlin, true, utc("2026-06-01T00:00:00Z"), utc("2026-06-02T00:00:00Z"), vec![])
            .unwrap();
    assert_eq!(cut.starts_in(utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"), 50).len(), 3);
}

#[test]
fn words() {
    let rule: Rule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=10".parse().unwrap();
    assert_eq!(describe::describe(&rule, Berlin), "Every 2 weeks on Monday and Wednesday, 10 times");
    let rule: Rule = "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20261231T225959Z".parse().unwrap();
    assert_eq!(describe::describe(&rule, Berlin), "Every month on last Friday, until 31 December 2026");
}

/// What the crate gives when walked from the series' first occurrence, with no shortcut.
fn walked_from_the_start(series: &Series, from: &str, until: &str) -> Vec<DateTime<Utc>> {
    let (from, until) = (utc(from), utc(until));
    let set = series.build(series.local(series.start)).unwrap();
    set.after(series.local(from))
        .before(series.local(until))
        .all(500)
        .dates
        .into_iter()
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| *t >= from && *t < until)
        .collect()
}

#[test]
fn skipping_ahead_gives_the_occurrences_a_walk_from_the_start_gives() {
    let rules = [
        ("FREQ=DAILY;INTERVAL=3", "2019-03-30T23:30:00Z"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU", "2020-02-11T09:00:00Z"),
        ("FREQ=MONTHLY", "2020-01-31T09:00:00Z"),
        ("FREQ=MONTHLY;INTERVAL=5", "2020-03-29T01:30:00Z"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "2020-01-31T17:00:00Z"),
        ("FREQ=MONTHLY;BYMONTHDAY=15,31", "2021-07-15T08:00:00Z"),
        ("FREQ=MONTHLY;INTERVAL=3;BYDAY=2MO;BYMONTH=1,4,7,10", "2020-01-13T10:00:00Z"),
        ("FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO,TU,WE,TH,FR", "2020-01-31T12:00:00Z"),
    ];
    let windows = [
        ("2025-06-01T00:00:00Z", "2025-07-13T00:00:00Z"),
        ("2024-02-26T00:00:00Z", "2024-04-08T00:00:00Z"),
        ("2026-10-20T00:00:00Z", "2026-11-03T00:00:00Z"),
    ];
    for (rule, start) in rules {
        for zone in [Berlin, New_York, Tz::UTC] {
            let series = series(rule, zone, start, 45);
            for (from, until) in windows {
                let fast = series.starts_in(utc(from), utc(until), 500);
                assert_eq!(
                    fast,
                    walked_from_the_start(&series, from, until),
                    "{rule} from {start} in {zone}, {from}"
                );
            }
        }
    }
}
