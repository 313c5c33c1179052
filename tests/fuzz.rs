//! A fuzz target for the iCalendar reader, run for a bounded time by `cargo test` (so CI runs
//! it): inputs mutated from the seeds in `tests/fuzz/seeds/` (real producers' shapes and
//! nesting-heavy files) go through the parser, the reader and the import planner on a thread
//! with a small stack, where any recursion per component would overflow long before the
//! 1 MiB upload limit. Every input must come back without a panic, nested at most
//! `MAX_DEPTH` deep. `EVENTIDE_FUZZ_SECONDS` sets the time (default 15); `EVENTIDE_FUZZ_SEED`
//! replays a run. A failing input is saved under `target/tmp/fuzz-failures/`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono_tz::Europe::Berlin;
use eventide::ical::import::{plan, read};
use eventide::ical::parse::{parse, Component, ParseError, MAX_DEPTH};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Pieces the mutator splices in: the grammar's punctuation, component boundaries, values
/// that have broken readers before, and characters of every width.
const PIECES: &[&str] = &[
    "\r\n ",
    "\r\n\t",
    ":",
    ";",
    "=",
    "\"",
    "\\",
    ",",
    "BEGIN:VEVENT\r\n",
    "END:VEVENT\r\n",
    "BEGIN:VCALENDAR\r\n",
    "END:VCALENDAR\r\n",
    "BEGIN:X\r\n",
    "END:X\r\n",
    "BEGIN:VALARM\r\n",
    "END:\r\n",
    "BEGIN:\r\n",
    "é",
    "😀",
    "\u{202E}",
    "\0",
    "T",
    "Z",
    "99999999",
    "2621431231T235959",
    "P999999999999W",
    "DURATION:P9999999W\r\n",
    "RRULE:FREQ=DAILY;COUNT=1000\r\n",
    "RRULE:FREQ=MONTHLY;BYDAY=9MO;BYSETPOS=-400\r\n",
    "EXDATE:20260101T090000Z,20260102T090000Z\r\n",
    "RECURRENCE-ID:20260101T090000Z\r\n",
    "DTSTART;TZID=\"Mars\":20260101T090000\r\n",
];

fn seeds() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/seeds");
    let mut seeds: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("the seed directory")
        .map(|entry| entry.expect("a seed").path())
        .map(|path| (path.display().to_string(), std::fs::read_to_string(&path).expect("a UTF-8 seed")))
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 5 && seeds.iter().any(|(name, _)| name.contains("nested")));
    seeds
}

fn mutate(rng: &mut StdRng, seeds: &[(String, String)]) -> String {
    let mut lines: Vec<String> =
        seeds[rng.gen_range(0..seeds.len())].1.split_inclusive('\n').map(str::to_string).collect();
    for _ in 0..rng.gen_range(1..16) {
        let at = rng.gen_range(0..=lines.len());
        match rng.gen_range(0..8) {
            // A line repeated many times: deep nesting when it is a BEGIN, long lists otherwise.
            0 if at < lines.len() => {
                let copies =
                    if rng.gen_bool(0.2) { rng.gen_range(100..20_000) } else { rng.gen_range(1..10) };
                let line = lines[at].clone();
                lines.splice(at..at, std::iter::repeat_n(line, copies)).for_each(drop);
            }
            1 if at < lines.len() => drop(lines.drain(at..(at + rng.gen_range(1..8)).min(lines.len()))),
            2 => {
                // Crossover: a run of lines from another seed.
                let other: Vec<&str> = seeds[rng.gen_range(0..seeds.len())].1.split_inclusive('\n').collect();
                let from = rng.gen_range(0..other.len());
                let run =
                    other[from..(from + rng.gen_range(1..20)).min(other.len())].iter().map(|l| l.to_string());
                lines.splice(at..at, run).for_each(drop);
            }
            3 => lines.insert(at, PIECES[rng.gen_range(0..PIECES.len())].to_string()),
            _ if at < lines.len() => {
                // Inside one line: cut, splice a piece or a random character, swap two.
                let mut chars: Vec<char> = lines[at].chars().collect();
                let i = rng.gen_range(0..=chars.len());
                match rng.gen_range(0..4) {
                    0 if i < chars.len() => drop(chars.drain(i..(i + rng.gen_range(1..12)).min(chars.len()))),
                    1 => chars.splice(i..i, PIECES[rng.gen_range(0..PIECES.len())].chars()).for_each(drop),
                    2 if i + 1 < chars.len() => chars.swap(i, i + 1),
                    _ => chars.splice(i..i, char::from_u32(rng.gen_range(0..0x3_0000))).for_each(drop),
                }
                lines[at] = chars.into_iter().collect();
            }
            _ => {}
        }
    }
    let mut text: String = lines.concat();
    // Uploads are capped at 1 MiB: nothing larger reaches the reader.
    if text.len() > 1 << 20 {
        let mut cut = 1 << 20;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// Deepest nesting of a parsed tree, walked without recursion.
fn depth(root: &Component) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(root, 1)];
    while let Some((component, level)) = pending.pop() {
        deepest = deepest.max(level);
        pending.extend(component.children.iter().map(|child| (child, level + 1)));
    }
    deepest
}

/// The target: one input through everything an import does with it.
fn target(text: &str) {
    match parse(text) {
        Ok(calendar) => assert!(depth(&calendar) <= MAX_DEPTH, "a tree deeper than {MAX_DEPTH}"),
        Err(ParseError::TooDeep | ParseError::NotCalendar) => {}
    }
    // The same text as a CalDAV PUT body: refused or planned, never a panic.
    let _ = eventide::dav::objects::plan_put(text, Berlin, eventide::domain::CalendarId(1), "x.ics", None);
    if let Ok(file) = read(text, Berlin) {
        let planned = plan(file.events, file.failures, &[], Berlin, eventide::domain::CalendarId(1));
        assert!(planned.changes.len() <= planned.events.len());
    }
}

fn save_failure(text: &str, seed: u64, round: u64) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tmp/fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("seed{seed}-round{round}.ics"));
    let _ = std::fs::write(&path, text);
    path
}

#[test]
fn ics_reader_survives_mutated_and_deeply_nested_files() {
    let seconds = std::env::var("EVENTIDE_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(15);
    let seed =
        std::env::var("EVENTIDE_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    let seeds = seeds();
    // A quarter of a default worker's stack: recursion per component cannot hide here.
    let worker = std::thread::Builder::new().stack_size(512 * 1024).spawn(move || {
        let mut rng = StdRng::seed_from_u64(seed);
        let deadline = Instant::now() + Duration::from_secs(seconds);
        for (_, text) in &seeds {
            target(text);
        }
        let (mut round, mut slowest) = (0u64, Duration::ZERO);
        while Instant::now() < deadline {
            let text = mutate(&mut rng, &seeds);
            let started = Instant::now();
            if std::panic::catch_unwind(|| target(&text)).is_err() {
                let path = save_failure(&text, seed, round);
                panic!("input {round} of seed {seed} failed; saved as {}", path.display());
            }
            slowest = slowest.max(started.elapsed());
            round += 1;
        }
        println!("fuzz: seed {seed}, {round} inputs in {seconds} s, slowest {slowest:?}");
        round
    });
    let rounds = worker.expect("the fuzz thread starts").join().expect("no input crashed the reader");
    assert!(rounds > 0);
}
