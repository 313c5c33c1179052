//! Imports of files shaped like Google's, Apple's and Outlook's exports, written by hand.

use super::*;
use crate::domain::CalendarId;
use chrono_tz::Europe::Berlin;

pub const GOOGLE: &str = "BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\nVERSION:2.0\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Work\r\nX-WR-TIMEZONE:Europe/Berlin\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nX-LIC-LOCATION:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nDTSTART;TZID=Europe/Berlin:20260302T093000\r\nDTEND;TZID=Europe/Berlin:20260302T094500\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\nEXDATE;TZID=Europe/Berlin:20260304T093000\r\nDTSTAMP:20261101T120000Z\r\nUID:standup-123@google.com\r\nCREATED:20260201T100000Z\r\nDESCRIPTION:Daily standup\\, be on time.\\nAgenda in the doc.\r\nLAST-MODIFIED:20260201T100000Z\r\nLOCATION:Room 4\\; 2nd floor\r\nSEQUENCE:0\r\nSTATUS:CONFIRMED\r\nSUMMARY:Standup\r\nTRANSP:OPAQUE\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:This is an event reminder\r\nTRIGGER:-P0DT0H10M0S\r\nEND:VALARM\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART;TZID=Europe/Berlin:20260305T100000\r\nDTEND;TZID=Europe/Berlin:20260305T101500\r\nDTSTAMP:20261101T120000Z\r\nUID:standup-123@google.com\r\nRECURRENCE-ID;TZID=Europe/Berlin:20260305T093000\r\nSUMMARY:Standup (moved)\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260614\r\nDTEND;VALUE=DATE:20260616\r\nDTSTAMP:20261101T120000Z\r\nUID:trip-1@google.com\r\nSUMMARY:Weekend trip with a very long title that Google folds because it goes on and \r\n on past the limit\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTEND;TZID=Europe/Berlin:20260701T100000\r\nDTSTAMP:20261101T120000Z\r\nUID:broken-1@google.com\r\nSUMMARY:No start\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

pub const APPLE: &str = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Apple Inc.//macOS 14.0//EN\nCALSCALE:GREGORIAN\nBEGIN:VEVENT\nCREATED:20260101T090000Z\nDTEND;VALUE=DATE:20260301\nDTSTART;VALUE=DATE:20260228\nDTSTAMP:20260101T090000Z\nRRULE:FREQ=YEARLY;INTERVAL=1\nSEQUENCE:0\nSUMMARY:Anna’s birthday 🎂\nTRANSP:TRANSPARENT\nUID:A1B2C3D4-0000-1111-2222-333344445555\nX-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC\nBEGIN:VALARM\nACTION:AUDIO\nTRIGGER;VALUE=DATE-TIME:19760401T005545Z\nX-APPLE-DEFAULT-ALARM:TRUE\nEND:VALARM\nEND:VEVENT\nBEGIN:VEVENT\nDTSTART;TZID=Europe/Berlin:20260510T140000\nDURATION:PT1H30M\nSUMMARY:Dentist\nLOCATION:Praxis Dr. Müller\\nHauptstraße 1\nX-APPLE-STRUCTURED-LOCATION;VALUE=URI;X-ADDRESS=\"Hauptstraße 1, Berlin\";X-TITLE=\"Praxis\":geo:52.5,13.4\nEND:VEVENT\nBEGIN:VEVENT\nUID:hourly@apple\nDTSTART:20260601T080000Z\nRRULE:FREQ=HOURLY;COUNT=5\nSUMMARY:Too often\nEND:VEVENT\nEND:VCALENDAR\n";

pub const OUTLOOK: &str = "BEGIN:VCALENDAR\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nX-MS-OLK-FORCEINSPECTOROPEN:TRUE\r\nBEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16011028T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010325T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nCLASS:PUBLIC\r\nCREATED:20260110T081500Z\r\nDESCRIPTION:Quarterly review\\n\\n\r\nDTEND;TZID=\"W. Europe Standard Time\":20260115T120000\r\nDTSTAMP:20260110T081500Z\r\nDTSTART;TZID=\"W. Europe Standard Time\":20260115T110000\r\nLAST-MODIFIED:20260110T081500Z\r\nLOCATION:Teams\r\nPRIORITY:5\r\nRRULE:FREQ=MONTHLY;COUNT=12;BYDAY=3TH\r\nSEQUENCE:0\r\nSUMMARY;LANGUAGE=en-us:Review\r\nTRANSP:OPAQUE\r\nUID:040000008200E00074C5B7101A82E00800000000A0B1C2D3E4F5@outlook\r\nX-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\nX-MICROSOFT-CDO-IMPORTANCE:1\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART;TZID=\"Mars Standard Time\":20260115T110000\r\nDTEND;TZID=\"Mars Standard Time\":20260115T120000\r\nSUMMARY:Odd zone\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART:2026-01-15\r\nSUMMARY:Bad date\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn read_ok(text: &str) -> (Vec<Imported>, Vec<Failure>) {
    let file = read(text, Berlin).unwrap();
    (file.events, file.failures)
}

#[test]
fn google_shapes() {
    let (events, failures) = read_ok(GOOGLE);
    assert_eq!(events.len(), 3);
    assert_eq!(failures, [Failure { event: "No start".into(), reason: "it has no start (DTSTART)".into() }]);
    let standup = &events[0];
    assert_eq!(standup.uid, "standup-123@google.com");
    assert_eq!(standup.draft.start_at.to_rfc3339(), "2026-03-02T08:30:00+00:00");
    assert_eq!(standup.draft.description, "Daily standup, be on time.\nAgenda in the doc.");
    assert_eq!(standup.draft.location, "Room 4; 2nd floor");
    assert_eq!(standup.draft.recurrence.as_ref().unwrap().rule, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
    assert_eq!(standup.exdates, "20260304T083000Z");
    assert_eq!(standup.draft.tzid, "Europe/Berlin");
    let moved = &events[1];
    assert_eq!(moved.recurrence_id.unwrap().to_rfc3339(), "2026-03-05T08:30:00+00:00");
    let trip = &events[2];
    assert!(trip.draft.all_day);
    assert!(trip.draft.title.ends_with("goes on and on past the limit"), "{}", trip.draft.title);
    assert_eq!((trip.draft.end_at - trip.draft.start_at).num_days(), 2);

    let plan = plan(events, failures, &[], Berlin, CalendarId(1));
    assert_eq!((plan.count(Outcome::Create), plan.failures.len()), (3, 1));
    assert_eq!(plan.changes.len(), 3);
}

#[test]
fn apple_shapes() {
    let (events, failures) = read_ok(APPLE);
    assert_eq!(events.len(), 2);
    assert_eq!(failures.len(), 1);
    assert!(failures[0].reason.contains("hourly"), "{failures:?}");
    assert_eq!(events[0].draft.title, "Anna’s birthday 🎂");
    assert!(events[0].draft.all_day);
    let dentist = &events[1];
    assert_eq!((dentist.draft.end_at - dentist.draft.start_at).num_minutes(), 90);
    assert_eq!(dentist.draft.location, "Praxis Dr. Müller\nHauptstraße 1");
    // No UID: one derived from the content, the same every time.
    assert!(dentist.uid.ends_with("@import.eventide"));
    assert_eq!(read_ok(APPLE).0[1].uid, dentist.uid);
}

#[test]
fn outlook_shapes() {
    let (events, failures) = read_ok(OUTLOOK);
    assert_eq!(events.len(), 1);
    let review = &events[0];
    assert_eq!(review.draft.tzid, "Europe/Berlin");
    assert_eq!(review.draft.start_at.to_rfc3339(), "2026-01-15T10:00:00+00:00");
    assert_eq!(review.draft.title, "Review");
    let reasons: Vec<&str> = failures.iter().map(|f| f.reason.as_str()).collect();
    assert_eq!(reasons, ["unknown time zone Mars Standard Time", "bad date-time in DTSTART: 2026-01-15"]);
    assert_eq!(resolve_zone("/mozilla.org/20050126_1/America/New_York"), Some(chrono_tz::America::New_York));
}

#[test]
fn not_a_calendar() {
    assert!(read("hello", Berlin).is_err());
    assert!(read("", Berlin).is_err());
}

#[test]
fn durations() {
    assert_eq!(read_duration("PT1H30M"), Some(Duration::minutes(90)));
    assert_eq!(read_duration("P1W"), Some(Duration::weeks(1)));
    assert_eq!(read_duration("P1DT2H"), Some(Duration::hours(26)));
    assert_eq!(read_duration("-PT15M"), Some(Duration::minutes(-15)));
    assert_eq!(read_duration("P1H"), None);
    assert_eq!(read_duration("PT"), Some(Duration::zero()));
    assert_eq!(read_duration("X"), None);
    assert_eq!(read_duration("P999999999999999W"), None);
    assert_eq!(read_duration("P9999999999999999999D"), None);
    let (events, failures) = read_ok(
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260101T000000Z\nDURATION:P99999999W\nSUMMARY:Forever\nEND:VEVENT\nEND:VCALENDAR\n",
    );
    assert!(events.is_empty());
    assert!(failures[0].reason.contains("outside the years 1900-2200"), "{failures:?}");
}

/// Random damage to real files (bytes cut, swapped, duplicated, folded) must never panic.
#[test]
fn damaged_files_never_panic() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(5545);
    let samples = [GOOGLE, APPLE, OUTLOOK];
    let pieces = [
        "\r\n ",
        ":",
        ";",
        "=",
        "\"",
        "\\",
        "BEGIN:VEVENT\r\n",
        "END:VEVENT\r\n",
        "END:VCALENDAR",
        "é",
        "😀",
        "\r\n\t",
        ",",
        "T",
        "Z",
        "99999999",
        "-",
        "2621431231T235959",
        "P999999999999W",
        "DURATION:P9999999W\r\n",
        "RRULE:FREQ=DAILY;COUNT=1000\r\n",
        "RRULE:FREQ=MONTHLY;BYDAY=9MO;BYSETPOS=-400\r\n",
    ];
    for round in 0..4000 {
        let mut text: Vec<char> = samples[round % 3].chars().collect();
        for _ in 0..rng.gen_range(1..12) {
            let at = rng.gen_range(0..=text.len());
            match rng.gen_range(0..4) {
                0 if at < text.len() => {
                    let end = (at + rng.gen_range(1..40)).min(text.len());
                    text.drain(at..end);
                }
                1 => text.splice(at..at, pieces[rng.gen_range(0..pieces.len())].chars()).for_each(drop),
                2 if at + 1 < text.len() => text.swap(at, at + 1),
                _ => text.splice(at..at, char::from_u32(rng.gen_range(0..0x3000))).for_each(drop),
            }
        }
        let text: String = text.into_iter().collect();
        if let Ok(file) = read(&text, Berlin) {
            let _ = plan(file.events, file.failures, &[], Berlin, CalendarId(1));
        }
    }
}
