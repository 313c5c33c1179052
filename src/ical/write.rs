//! Writing iCalendar (RFC 5545): CRLF line ends, lines folded at 75 octets without splitting a
//! UTF-8 character, TEXT escaped, and VTIMEZONE definitions built from the zone database.

use std::collections::BTreeMap;

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

const MAX_OCTETS: usize = 75;

/// An iCalendar object being written, one content line at a time.
#[derive(Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    /// A line whose value is already in its iCalendar form (dates, rules, numbers). Most
    /// lines are short: those are written as they are, without a copy.
    pub fn raw(&mut self, name: &str, value: &str) {
        if name.len() + 1 + value.len() <= MAX_OCTETS {
            self.out.push_str(name);
            self.out.push(':');
            self.out.push_str(value);
            self.out.push_str("\r\n");
        } else {
            fold_into(&mut self.out, &format!("{name}:{value}"));
        }
    }

    /// A whole content line, kept from an imported file.
    pub fn line(&mut self, line: &str) {
        fold_into(&mut self.out, line);
    }

    /// A TEXT property: escaped, control characters removed.
    pub fn text(&mut self, name: &str, value: &str) {
        self.raw(name, &escape_text(value));
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// RFC 5545 3.3.11: backslash, semicolon, comma and newline are escaped; other control
/// characters are not allowed in TEXT and are dropped.
pub fn escape_text(value: &str) -> std::borrow::Cow<'_, str> {
    // Most text needs nothing: no copy then.
    if !value.chars().any(|c| matches!(c, '\\' | ';' | ',') || c.is_control()) {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    let normalised = value.replace("\r\n", "\n").replace('\r', "\n");
    for c in normalised.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Appends `line` folded: at most 75 octets per physical line (the leading space of a
/// continuation counts), never inside a character, each ended by CRLF.
fn fold_into(out: &mut String, line: &str) {
    if line.len() <= MAX_OCTETS {
        out.push_str(line);
        out.push_str("\r\n");
        return;
    }
    let mut room = MAX_OCTETS;
    let mut used = 0;
    for c in line.chars() {
        if used + c.len_utf8() > room {
            out.push_str("\r\n ");
            room = MAX_OCTETS - 1;
            used = 0;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// `20260601T090000Z`. Written by hand: chrono's `format` parses its pattern on every call,
/// and an export writes several stamps per event.
pub fn utc_stamp(instant: DateTime<Utc>) -> String {
    let mut out = local_stamp(instant.naive_utc());
    out.push('Z');
    out
}

/// `20260601T090000`, a floating or zoned local time.
fn local_stamp(time: NaiveDateTime) -> String {
    let mut out = date_value(time.date());
    let _ = write!(out, "T{:02}{:02}{:02}", time.hour(), time.minute(), time.second());
    out
}

/// `20260601`.
pub fn date_value(date: NaiveDate) -> String {
    let mut out = String::with_capacity(16);
    let _ = write!(out, "{:04}{:02}{:02}", date.year(), date.month(), date.day());
    out
}

/// `;TZID=Europe/Berlin:20260601T090000`, or `:20260601T070000Z` for UTC: the part of a
/// date-time property after its name.
pub fn zoned(instant: DateTime<Utc>, zone: Tz) -> String {
    if zone == Tz::UTC {
        format!(":{}", utc_stamp(instant))
    } else {
        format!(";TZID={}:{}", zone.name(), local_stamp(instant.with_timezone(&zone).naive_local()))
    }
}

fn offset_seconds(zone: Tz, instant: DateTime<Utc>) -> i32 {
    let offset = zone.offset_from_utc_datetime(&instant.naive_utc());
    i32::try_from((offset.base_utc_offset() + offset.dst_offset()).num_seconds()).unwrap_or(0)
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let seconds = seconds.abs();
    let (hours, minutes, rest) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if rest == 0 {
        format!("{sign}{hours:02}{minutes:02}")
    } else {
        format!("{sign}{hours:02}{minutes:02}{rest:02}")
    }
}

/// One offset change: when (UTC), from, to, whether daylight time starts, its abbreviation.
struct Transition {
    at: DateTime<Utc>,
    from: i32,
    to: i32,
    daylight: bool,
    name: String,
}

/// The zone's offset changes in `[from_year, to_year]`, found by a daily scan and then a
/// bisection to the second (chrono-tz does not expose its transition table).
fn transitions(zone: Tz, from_year: i32, to_year: i32) -> Vec<Transition> {
    let start = Utc.with_ymd_and_hms(from_year, 1, 1, 0, 0, 0).single();
    let end = Utc.with_ymd_and_hms(to_year + 1, 1, 1, 0, 0, 0).single();
    let (Some(mut day), Some(end)) = (start, end) else { return Vec::new() };
    let mut found = Vec::new();
    let mut offset = offset_seconds(zone, day);
    while day < end {
        let next = day + Duration::days(1);
        let next_offset = offset_seconds(zone, next);
        if next_offset != offset {
            let (mut low, mut high) = (day.timestamp(), next.timestamp());
            while high - low > 1 {
                let middle = low + (high - low) / 2;
                match DateTime::from_timestamp(middle, 0) {
                    Some(t) if offset_seconds(zone, t) == offset => low = middle,
                    _ => high = middle,
                }
            }
            let high = DateTime::from_timestamp(high, 0).unwrap_or(next);
            let after = zone.offset_from_utc_datetime(&high.naive_utc());
            found.push(Transition {
                at: high,
                from: offset,
                to: next_offset,
                daylight: !after.dst_offset().is_zero(),
                name: after.abbreviation().unwrap_or("").to_string(),
            });
            offset = next_offset;
        }
        day = next;
    }
    found
}

/// A VTIMEZONE for `zone` covering `[from_year, to_year]`: one STANDARD/DAYLIGHT block per
/// kind of change, its later dates as RDATEs (clients that know the zone by name use their
/// own rules; the rest get exact onsets for the years the events need). Finding the changes
/// scans every day of those years, so each block is computed once per process and reused:
/// a CalDAV report writes one per object.
pub fn vtimezone(out: &mut Writer, zone: Tz, from_year: i32, to_year: i32) {
    type Blocks = std::sync::Mutex<std::collections::HashMap<(Tz, i32, i32), std::sync::Arc<str>>>;
    static BLOCKS: std::sync::OnceLock<Blocks> = std::sync::OnceLock::new();
    let blocks = BLOCKS.get_or_init(Blocks::default);
    let key = (zone, from_year, to_year);
    let cached = blocks.lock().ok().and_then(|b| b.get(&key).cloned());
    let block = match cached {
        Some(block) => block,
        None => {
            let mut own = Writer::default();
            write_vtimezone(&mut own, zone, from_year, to_year);
            let block: std::sync::Arc<str> = own.finish().into();
            if let Ok(mut blocks) = blocks.lock() {
                // Bounded: zones in use times a few year spans; a flood of odd spans resets it.
                if blocks.len() >= 1024 {
                    blocks.clear();
                }
                blocks.insert(key, block.clone());
            }
            block
        }
    };
    out.out.push_str(&block);
}

fn write_vtimezone(out: &mut Writer, zone: Tz, from_year: i32, to_year: i32) {
    out.raw("BEGIN", "VTIMEZONE");
    out.raw("TZID", zone.name());
    let changes = transitions(zone, from_year - 1, to_year);
    if changes.is_empty() {
        let now = Utc.with_ymd_and_hms(from_year.max(1970), 1, 1, 0, 0, 0).single().unwrap_or_default();
        let offset = offset_text(offset_seconds(zone, now));
        let name = zone.offset_from_utc_datetime(&now.naive_utc()).abbreviation().unwrap_or("").to_string();
        out.raw("BEGIN", "STANDARD");
        out.raw("DTSTART", "19700101T000000");
        out.raw("TZOFFSETFROM", &offset);
        out.raw("TZOFFSETTO", &offset);
        if !name.is_empty() {
            out.text("TZNAME", &name);
        }
        out.raw("END", "STANDARD");
    }
    let mut groups: BTreeMap<(bool, i32, i32, String), Vec<String>> = BTreeMap::new();
    for change in &changes {
        // Onsets are local times in the offset in force before the change.
        let local = (change.at + Duration::seconds(i64::from(change.from))).naive_utc();
        let key = (change.daylight, change.from, change.to, change.name.clone());
        groups.entry(key).or_default().push(local.format("%Y%m%dT%H%M%S").to_string());
    }
    for ((daylight, from, to, name), onsets) in groups {
        let kind = if daylight { "DAYLIGHT" } else { "STANDARD" };
        out.raw("BEGIN", kind);
        out.raw("DTSTART", &onsets[0]);
        for chunk in onsets[1..].chunks(8) {
            out.raw("RDATE", &chunk.join(","));
        }
        out.raw("TZOFFSETFROM", &offset_text(from));
        out.raw("TZOFFSETTO", &offset_text(to));
        if !name.is_empty() {
            out.text("TZNAME", &name);
        }
        out.raw("END", kind);
    }
    out.raw("END", "VTIMEZONE");
}

/// The years an export's VTIMEZONE must cover for events from `first` on: endless series
/// need rules ahead, so ten years past today.
pub fn zone_years(first: DateTime<Utc>, now: DateTime<Utc>) -> (i32, i32) {
    (first.year(), now.year().max(first.year()) + 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_counts_octets_and_never_splits_a_character() {
        let mut out = Writer::default();
        let title = format!("{}{}", "a".repeat(70), "ü€😀".repeat(30));
        out.text("SUMMARY", &title);
        let text = out.finish();
        assert!(text.ends_with("\r\n"));
        for line in text.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets: {line}", line.len());
        }
        // Unfolding gives back the line exactly.
        assert_eq!(text.replace("\r\n ", "").trim_end(), format!("SUMMARY:{title}"));
    }

    #[test]
    fn stamps_are_written_by_hand_as_chrono_would() {
        let instant = Utc.with_ymd_and_hms(2026, 3, 9, 7, 5, 3).unwrap();
        assert_eq!(utc_stamp(instant), instant.format("%Y%m%dT%H%M%SZ").to_string());
        assert_eq!(date_value(NaiveDate::from_ymd_opt(987, 1, 2).unwrap()), "09870102");
        assert_eq!(zoned(instant, chrono_tz::Europe::Berlin), ";TZID=Europe/Berlin:20260309T080503");
        let mut out = Writer::default();
        out.raw("DTSTART", "20260309T080503Z");
        out.raw("X-LONG", &"y".repeat(80));
        assert_eq!(
            out.finish(),
            format!("DTSTART:20260309T080503Z\r\nX-LONG:{}\r\n {}\r\n", "y".repeat(68), "y".repeat(12))
        );
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape_text("a,b;c\\d\r\ne\nf\u{7}"), "a\\,b\\;c\\\\d\\ne\\nf");
    }

    #[test]
    fn berlin_changes_twice_a_year() {
        let changes = transitions(chrono_tz::Europe::Berlin, 2026, 2026);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].at.to_rfc3339(), "2026-03-29T01:00:00+00:00");
        assert_eq!((changes[0].from, changes[0].to, changes[0].daylight), (3600, 7200, true));
        assert_eq!(changes[1].at.to_rfc3339(), "2026-10-25T01:00:00+00:00");
        let mut out = Writer::default();
        vtimezone(&mut out, chrono_tz::Europe::Berlin, 2026, 2027);
        let text = out.finish();
        assert!(text.contains("BEGIN:DAYLIGHT\r\nDTSTART:20250330T020000\r\nRDATE:20260329T020000,20270328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\n"), "{text}");
        assert!(text.contains("RDATE:20261025T030000,20271031T030000"), "{text}");
        assert_eq!(offset_text(-34200), "-0930");
    }
}
