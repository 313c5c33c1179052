//! The "Repeat" part of the event form: the choices people make (every 2 weeks on Monday and
//! Wednesday, monthly on the last Friday, 10 times...) to and from an RRULE.

use chrono::{Datelike, NaiveDate, NaiveTime};
use chrono_tz::Tz;
use serde_json::{json, Value};

use super::form::EventForm;
use crate::domain::recurrence::describe::weekday_code;
use crate::domain::recurrence::{Rule, MAX_COUNT};

const WEEKDAYS: [(&str, &str); 7] =
    [("MO", "Mon"), ("TU", "Tue"), ("WE", "Wed"), ("TH", "Thu"), ("FR", "Fri"), ("SA", "Sat"), ("SU", "Sun")];
const MAX_INTERVAL: u32 = 99;

type FieldError = (&'static str, String);

/// Which week of its month `day` falls in (1-5), and whether it is the last such weekday.
fn week_of_month(day: NaiveDate) -> (u32, bool) {
    let nth = (day.day() - 1) / 7 + 1;
    let is_last = (day + chrono::Duration::days(7)).month() != day.month();
    (nth, is_last)
}

fn ordinal(n: u32) -> &'static str {
    ["first", "second", "third", "fourth", "fifth"].get(n as usize - 1).copied().unwrap_or("fifth")
}

/// The monthly choices for an event starting on `day`, for the form's select.
pub fn monthly_choices(day: NaiveDate) -> Value {
    let weekday = day.format("%A");
    let (nth, is_last) = week_of_month(day);
    let mut choices = vec![
        json!({ "value": "day", "label": format!("on day {}", day.day()) }),
        json!({ "value": "weekday", "label": format!("on the {} {weekday}", ordinal(nth)) }),
    ];
    if is_last {
        choices.push(json!({ "value": "last_weekday", "label": format!("on the last {weekday}") }));
    }
    json!(choices)
}

pub fn weekday_choices() -> Value {
    json!(WEEKDAYS.iter().map(|(code, label)| json!({ "code": code, "label": label })).collect::<Vec<_>>())
}

impl EventForm {
    /// The rule the repeat fields describe for an event whose first day is `first_day`.
    pub fn to_rule(&self, first_day: NaiveDate, zone: Tz) -> Result<Option<Rule>, FieldError> {
        let freq = match self.repeat.as_str() {
            "" | "none" => return Ok(None),
            "custom" => {
                return self
                    .rule
                    .parse()
                    .map(Some)
                    .map_err(|e| ("repeat", format!("This rule cannot be used: {e}.")))
            }
            "daily" => "DAILY",
            "weekly" => "WEEKLY",
            "monthly" => "MONTHLY",
            "yearly" => "YEARLY",
            _ => return Err(("repeat", "Choose how often the event repeats.".into())),
        };
        let mut parts = vec![format!("FREQ={freq}")];
        let interval = match self.interval.trim() {
            "" => 1,
            text => text
                .parse::<u32>()
                .ok()
                .filter(|i| (1..=MAX_INTERVAL).contains(i))
                .ok_or(("interval", format!("Enter a whole number from 1 to {MAX_INTERVAL}.")))?,
        };
        if interval > 1 {
            parts.push(format!("INTERVAL={interval}"));
        }
        match freq {
            "WEEKLY" => {
                let mut days: Vec<&str> = WEEKDAYS
                    .iter()
                    .map(|(code, _)| *code)
                    .filter(|code| self.weekdays.iter().any(|d| d == code))
                    .collect();
                if days.is_empty() {
                    days.push(weekday_code(first_day.weekday()));
                }
                parts.push(format!("BYDAY={}", days.join(",")));
            }
            "MONTHLY" => {
                let code = weekday_code(first_day.weekday());
                let (nth, is_last) = week_of_month(first_day);
                parts.push(match self.monthly.as_str() {
                    "weekday" => format!("BYDAY={nth}{code}"),
                    "last_weekday" if is_last => format!("BYDAY=-1{code}"),
                    "last_weekday" => {
                        return Err((
                            "monthly",
                            "The event does not start on the last such day of its month.".into(),
                        ))
                    }
                    _ => format!("BYMONTHDAY={}", first_day.day()),
                });
            }
            _ => {}
        }
        match self.ends.as_str() {
            "count" => {
                let count = self.count.trim().parse::<u32>().ok().filter(|c| (1..=MAX_COUNT).contains(c));
                let count =
                    count.ok_or(("count", format!("Enter a number of times from 1 to {MAX_COUNT}.")))?;
                parts.push(format!("COUNT={count}"));
            }
            "until" => {
                let last = crate::domain::time::parse_date(&self.until)
                    .ok_or(("until", "Enter the last day as YYYY-MM-DD.".to_string()))?;
                super::form::within_years("until", last)?;
                if last < first_day {
                    return Err(("until", "The last day cannot be before the event starts.".into()));
                }
                parts.push(format!("UNTIL={}", until_value(last, self.all_day, zone)));
            }
            _ => {}
        }
        parts.join(";").parse().map(Some).map_err(|e| ("repeat", format!("This cannot repeat: {e}.")))
    }

    /// The repeat fields for `rule`; a rule the fields cannot express stays as `custom`.
    pub fn with_rule(mut self, rule: Option<&Rule>, first_day: NaiveDate, zone: Tz) -> EventForm {
        let Some(rule) = rule else {
            self.repeat = "none".into();
            return self;
        };
        self.repeat = rule.get("FREQ").unwrap_or("").to_ascii_lowercase();
        self.interval = rule.interval().to_string();
        self.weekdays =
            rule.get("BYDAY").map(|d| d.split(',').map(str::to_string).collect()).unwrap_or_default();
        self.monthly = match rule.get("BYDAY") {
            Some(day) if day.starts_with("-1") => "last_weekday".into(),
            Some(_) => "weekday".into(),
            None => "day".into(),
        };
        if let Some(count) = rule.count() {
            self.ends = "count".into();
            self.count = count.to_string();
        } else if let Ok(Some(until)) = rule.until(zone) {
            self.ends = "until".into();
            self.until = until.with_timezone(&zone).format("%Y-%m-%d").to_string();
        } else {
            self.ends = "never".into();
        }
        self.rule = rule.to_string();
        // The fields say the same only if they rebuild the same rule; UNTIL is compared by
        // its day, which is all the form shows.
        let same = |a: &Rule, b: &Rule| {
            let strip = |r: &Rule| {
                let mut r = r.clone();
                r.remove("UNTIL");
                r
            };
            strip(a) == strip(b)
        };
        let rebuilt = self.to_rule(first_day, zone);
        if !matches!(rebuilt, Ok(Some(ref r)) if same(r, rule)) {
            self.repeat = "custom".into();
        }
        self
    }
}

/// UNTIL for a series ending on `last` (inclusive): a date for all-day events; otherwise the
/// end of that day in the event's zone, in UTC, as RFC 5545 requires with a zoned start.
fn until_value(last: NaiveDate, all_day: bool, zone: Tz) -> String {
    if all_day {
        return last.format("%Y%m%d").to_string();
    }
    let end_of_day = last.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default());
    match chrono::TimeZone::from_local_datetime(&zone, &end_of_day).latest() {
        Some(t) => t.with_timezone(&chrono::Utc).format("%Y%m%dT%H%M%SZ").to_string(),
        None => last.format("%Y%m%dT235959Z").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    fn form(repeat: &str) -> EventForm {
        EventForm { repeat: repeat.into(), all_day: false, ..Default::default() }
    }

    #[test]
    fn choices_become_rules_and_back() {
        let tuesday = NaiveDate::from_ymd_opt(2026, 6, 9).unwrap(); // second Tuesday
        let mut weekly = form("weekly");
        weekly.interval = "2".into();
        weekly.weekdays = vec!["WE".into(), "MO".into()];
        weekly.ends = "count".into();
        weekly.count = "10".into();
        let rule = weekly.to_rule(tuesday, Berlin).unwrap().unwrap();
        assert_eq!(rule.to_string(), "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=10");
        assert_eq!(EventForm::default().with_rule(Some(&rule), tuesday, Berlin).repeat, "weekly");

        let mut monthly = form("monthly");
        monthly.monthly = "weekday".into();
        monthly.ends = "until".into();
        monthly.until = "2026-12-31".into();
        let rule = monthly.to_rule(tuesday, Berlin).unwrap().unwrap();
        assert_eq!(rule.to_string(), "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20261231T225959Z");
        let back = EventForm::default().with_rule(Some(&rule), tuesday, Berlin);
        assert_eq!(
            (back.repeat.as_str(), back.monthly.as_str(), back.until.as_str()),
            ("monthly", "weekday", "2026-12-31")
        );

        monthly.monthly = "last_weekday".into();
        assert_eq!(monthly.to_rule(tuesday, Berlin).unwrap_err().0, "monthly");
        let last_tuesday = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        monthly.ends = "never".into();
        assert_eq!(
            monthly.to_rule(last_tuesday, Berlin).unwrap().unwrap().to_string(),
            "FREQ=MONTHLY;BYDAY=-1TU"
        );

        let custom: Rule = "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU".parse().unwrap();
        let back = EventForm::default().with_rule(Some(&custom), tuesday, Berlin);
        assert_eq!(
            (back.repeat.as_str(), back.rule.as_str()),
            ("custom", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU")
        );
        assert_eq!(back.to_rule(tuesday, Berlin).unwrap(), Some(custom));
    }

    #[test]
    fn bad_choices_blame_their_field() {
        let day = NaiveDate::from_ymd_opt(2026, 6, 9).unwrap();
        let mut bad = form("daily");
        bad.interval = "0".into();
        assert_eq!(bad.to_rule(day, Berlin).unwrap_err().0, "interval");
        bad.interval = "1".into();
        bad.ends = "count".into();
        bad.count = "100000".into();
        assert_eq!(bad.to_rule(day, Berlin).unwrap_err().0, "count");
        bad.ends = "until".into();
        bad.until = "2026-06-01".into();
        assert_eq!(bad.to_rule(day, Berlin).unwrap_err().0, "until");
        assert_eq!(form("hourly").to_rule(day, Berlin).unwrap_err().0, "repeat");
        let mut custom = form("custom");
        custom.rule = "FREQ=SECONDLY".into();
        assert_eq!(custom.to_rule(day, Berlin).unwrap_err().0, "repeat");
        assert_eq!(form("none").to_rule(day, Berlin), Ok(None));
    }
}
