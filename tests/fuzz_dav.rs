//! A fuzz target for the CalDAV request parser, run for a bounded time by `cargo test`:
//! request bodies real clients send (DAVx5, Thunderbird, iOS, python-caldav shapes), mutated
//! at the character level and spliced with the XML grammar's hostile pieces (entities,
//! DOCTYPEs, deep nesting, undeclared prefixes), go through the XML reader and every request
//! reader on a small stack. None may panic; the seeds themselves must parse. Shares
//! `EVENTIDE_FUZZ_SECONDS` (default 15, split with the iCalendar target's own run) and
//! `EVENTIDE_FUZZ_SEED` with `tests/fuzz.rs`.

use std::time::{Duration, Instant};

use eventide::dav::request::{prop_changes, propfind, report};
use eventide::dav::xml::parse;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SEEDS: &[&str] = &[
    r#"<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:resourcetype/><d:displayname/><cs:getctag/><c:supported-calendar-component-set/></d:prop></d:propfind>"#,
    r#"<propfind xmlns="DAV:"><prop><current-user-principal/><principal-URL/></prop></propfind>"#,
    r#"<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>"#,
    r#"<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>"#,
    r#"<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><d:href>/dav/calendars/amy/1/a.ics</d:href><d:href>/dav/calendars/amy/1/b%40x.ics</d:href></c:calendar-multiget>"#,
    r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data><C:expand start="20260601T000000Z" end="20260701T000000Z"/></C:calendar-data></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260601T000000Z" end="20260701T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#,
    r#"<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="UID"><C:text-match collation="i;octet" negate-condition="no">x@y</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#,
    r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>https://eventide.invalid/ns/sync/1/5</d:sync-token><d:sync-level>1</d:sync-level><d:limit><d:nresults>10</d:nresults></d:limit><d:prop><d:getetag/></d:prop></d:sync-collection>"#,
    r#"<d:propertyupdate xmlns:d="DAV:" xmlns:ic="http://apple.com/ns/ical/"><d:set><d:prop><d:displayname>Work &amp; play</d:displayname><ic:calendar-color>#FF2968FF</ic:calendar-color></d:prop></d:set><d:remove><d:prop><x:y xmlns:x="urn:x"/></d:prop></d:remove></d:propertyupdate>"#,
    r#"<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Club</D:displayname><C:calendar-timezone><![CDATA[BEGIN:VCALENDAR]]></C:calendar-timezone></D:prop></D:set></C:mkcalendar>"#,
];

const PIECES: &[&str] = &[
    "<",
    ">",
    "</",
    "/>",
    "&",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "&lol;",
    "\"",
    "'",
    "=",
    ":",
    "xmlns:q=\"\"",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<?xml version=\"1.0\"?>",
    "<!DOCTYPE x [<!ENTITY lol \"lol\">]>",
    "<d:prop>",
    "</d:prop>",
    "<x:a>",
    "<C:time-range start=\"\"/>",
    "start=\"99999999T999999Z\"",
    "end=\"19000101T000000Z\"",
    "é",
    "😀",
    "\u{0}",
    "\u{FEFF}",
];

fn mutate(rng: &mut StdRng) -> Vec<u8> {
    let mut text: Vec<char> = SEEDS[rng.gen_range(0..SEEDS.len())].chars().collect();
    for _ in 0..rng.gen_range(1..12) {
        let at = rng.gen_range(0..=text.len());
        match rng.gen_range(0..5) {
            0 if at < text.len() => drop(text.drain(at..(at + rng.gen_range(1..20)).min(text.len()))),
            1 => text.splice(at..at, PIECES[rng.gen_range(0..PIECES.len())].chars()).for_each(drop),
            2 => {
                // Deep or wide: an element opened many times.
                let copies = if rng.gen_bool(0.2) { rng.gen_range(30..5000) } else { rng.gen_range(1..5) };
                let open: Vec<char> = "<d:prop>".repeat(copies).chars().collect();
                text.splice(at..at, open).for_each(drop);
            }
            3 if at + 1 < text.len() => text.swap(at, at + 1),
            _ => text.splice(at..at, char::from_u32(rng.gen_range(0..0x3_0000))).for_each(drop),
        }
    }
    let mut bytes: Vec<u8> = text.into_iter().collect::<String>().into_bytes();
    if rng.gen_bool(0.05) && !bytes.is_empty() {
        // Not UTF-8 at all.
        let at = rng.gen_range(0..bytes.len());
        bytes[at] = 0xff;
    }
    bytes
}

fn target(body: &[u8]) {
    if let Ok(root) = parse(body) {
        let _ = propfind(Some(&root));
        let _ = report(&root);
        let _ = prop_changes(&root);
    }
}

#[test]
fn dav_request_parser_survives_mutated_bodies() {
    let seconds = std::env::var("EVENTIDE_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let seed =
        std::env::var("EVENTIDE_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    let worker = std::thread::Builder::new().stack_size(512 * 1024).spawn(move || {
        for body in SEEDS {
            let root = parse(body.as_bytes()).expect("every seed is a valid request");
            assert!(
                propfind(Some(&root)).is_ok() || report(&root).is_ok() || !prop_changes(&root).set.is_empty()
            );
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut round = 0u64;
        while Instant::now() < deadline {
            let body = mutate(&mut rng);
            if std::panic::catch_unwind(|| target(&body)).is_err() {
                panic!("input {round} of seed {seed} panicked: {:?}", String::from_utf8_lossy(&body));
            }
            round += 1;
        }
        println!("fuzz: seed {seed}, {round} DAV bodies in {seconds} s");
        round
    });
    let rounds = worker.expect("the fuzz thread starts").join().expect("no body crashed the parser");
    assert!(rounds > 0);
}
