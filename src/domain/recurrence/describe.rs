//! Rules in words, for the event page ("Every 2 weeks on Monday and Wednesday, 10 times").

use chrono::Weekday;
use chrono_tz::Tz;

use super::{Freq, Rule};

fn weekday_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "MO" => "Monday",
        "TU" => "Tuesday",
        "WE" => "Wednesday",
        "TH" => "Thursday",
        "FR" => "Friday",
        "SA" => "Saturday",
        "SU" => "Sunday",
        _ => return None,
    })
}

pub fn weekday_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

fn ordinal(n: i32) -> String {
    match n {
        -1 => "last".into(),
        1 => "first".into(),
        2 => "second".into(),
        3 => "third".into(),
        4 => "fourth".into(),
        5 => "fifth".into(),
        n => format!("{n}."),
    }
}

/// "Tuesday", "second Tuesday", "last Friday" for one BYDAY entry.
fn byday_words(entry: &str) -> String {
    let split = entry.len().saturating_sub(2);
    let (number, code) = entry.split_at(split);
    let name = weekday_name(code).unwrap_or(code);
    match number.parse::<i32>() {
        Ok(n) => format!("{} {name}", ordinal(n)),
        Err(_) => name.to_string(),
    }
}

fn join(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

pub fn describe(rule: &Rule, zone: Tz) -> String {
    let interval = rule.interval();
    let unit = match rule.freq() {
        Ok(Freq::Daily) => "day",
        Ok(Freq::Weekly) => "week",
        Ok(Freq::Monthly) => "month",
        Ok(Freq::Yearly) => "year",
        Err(_) => return format!("Repeats ({rule})"),
    };
    let mut text = if interval == 1 { format!("Every {unit}") } else { format!("Every {interval} {unit}s") };
    if let Some(days) = rule.get("BYDAY") {
        let words: Vec<String> = days.split(',').map(byday_words).collect();
        text.push_str(&format!(" on {}", join(&words)));
    }
    if let Some(days) = rule.get("BYMONTHDAY") {
        let words: Vec<String> = days
            .split(',')
            .map(|d| if d == "-1" { "the last day".to_string() } else { format!("day {d}") })
            .collect();
        text.push_str(&format!(" on {}", join(&words)));
    }
    let handled = ["FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL", "WKST"];
    let rest: Vec<String> = rule
        .parts
        .iter()
        .filter(|(k, _)| !handled.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !rest.is_empty() {
        text.push_str(&format!(" ({})", rest.join(";")));
    }
    if let Some(count) = rule.count() {
        text.push_str(&if count == 1 { ", once".to_string() } else { format!(", {count} times") });
    }
    if let Ok(Some(until)) = rule.until(zone) {
        text.push_str(&format!(", until {}", until.with_timezone(&zone).format("%-d %B %Y")));
    }
    text
}
