//! What Eventide is about, apart from how it is stored or shown: ids, events and their
//! drafts and changes, calendars, repeating rules, local time, text cleaning and folding,
//! colours. Every feature and the store depend on this; it depends on none of them.

pub mod calendar;
pub mod color;
pub mod event;
pub mod ids;
pub mod object;
pub mod reach;
pub mod recurrence;
pub mod reminders;
pub mod search_text;
pub mod text;
pub mod time;

pub use calendar::{
    Access, Calendar, CalendarDraft, ChangeKind, LastCalendar, LoggedChange, PublicCalendar, ReadScope,
    Share, Sources,
};
pub use event::{
    new_uid, Change, Event, EventDraft, EventSummary, NewEvent, Recurrence, Scheduled, SeriesRef, BUSY_TITLE,
};
pub use ids::{AppPasswordId, CalendarId, EventId, UserId};
pub use object::{CalendarObject, ObjectRef};
pub use reach::Reach;
pub use reminders::Reminders;

/// Data flows one way: web → features → domain ← store. The domain names nothing of the
/// crate but itself; the store names only the domain and its own configuration.
#[cfg(test)]
mod layering {
    use std::path::Path;

    fn crate_paths_in(dir: &Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                crate_paths_in(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                    let code = without_strings(line);
                    for (at, _) in code.match_indices("crate::") {
                        let module = code[at + 7..].split(|c: char| !c.is_alphanumeric() && c != '_').next();
                        found.push((path.display().to_string(), module.unwrap_or_default().to_string()));
                    }
                }
            }
        }
    }

    /// The line with its string literals left out (messages may name any module).
    fn without_strings(line: &str) -> String {
        line.split('"').step_by(2).collect::<Vec<_>>().join(" ")
    }

    fn modules_used_by(layer: &str) -> Vec<(String, String)> {
        let mut found = Vec::new();
        crate_paths_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(layer), &mut found);
        assert!(!found.is_empty() || layer == "domain", "no source found for {layer}");
        found
    }

    #[test]
    fn the_domain_depends_on_nothing_else() {
        let outside: Vec<_> = modules_used_by("domain").into_iter().filter(|(_, m)| m != "domain").collect();
        assert!(outside.is_empty(), "{outside:?}");
    }

    #[test]
    fn the_store_depends_only_on_the_domain() {
        let allowed = ["domain", "store", "config"];
        let outside: Vec<_> =
            modules_used_by("store").into_iter().filter(|(_, m)| !allowed.contains(&m.as_str())).collect();
        assert!(outside.is_empty(), "{outside:?}");
    }
}
