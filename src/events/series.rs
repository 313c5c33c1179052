//! Editing and deleting part of a series: "this event", "this and following", "all". Each
//! choice becomes a list of store changes applied in one transaction, so a series is never
//! left half-split. Edited occurrences and cancelled dates follow the series when it moves
//! (shifted by the same wall-clock amount) and are dropped only when the new rule no longer
//! has their date.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::domain::new_uid;
use crate::domain::recurrence::{format_exdates, parse_exdates, shift_local, until_before, Rule, Series};
use crate::domain::{Change, Event, EventDraft, NewEvent, SeriesRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    This,
    Following,
    All,
}

impl Scope {
    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "this" => Some(Scope::This),
            "following" => Some(Scope::Following),
            "all" => Some(Scope::All),
            _ => None,
        }
    }
}

/// How far `draft` moved the occurrence at `at`, in wall-clock time of the series' zone.
fn wall_clock_shift(master: &Event, at: DateTime<Utc>, new_start: DateTime<Utc>) -> Duration {
    let zone = master.repeat_zone();
    new_start.with_timezone(&zone).naive_local() - at.with_timezone(&zone).naive_local()
}

fn without_rule(draft: &EventDraft) -> EventDraft {
    EventDraft { recurrence: None, ..draft.clone() }
}

/// The draft of a series starting at `start` with `draft`'s content, length and rule.
fn series_draft(draft: &EventDraft, start: DateTime<Utc>, rule: Option<&Rule>) -> EventDraft {
    let moved =
        EventDraft { start_at: start, end_at: start + (draft.end_at - draft.start_at), ..draft.clone() };
    moved.clone().repeating(rule).unwrap_or_else(|_| without_rule(&moved))
}

fn rule_of(draft: &EventDraft) -> Option<Rule> {
    draft.recurrence.as_ref().and_then(|r| r.rule.parse().ok())
}

fn expand(draft: &EventDraft) -> Option<Series> {
    let rule = rule_of(draft)?;
    Series::new(
        &rule,
        draft.tzid.parse().unwrap_or(Tz::UTC),
        draft.all_day,
        draft.start_at,
        draft.end_at,
        Vec::new(),
    )
    .ok()
}

/// Carries the master's cancelled dates and edited occurrences from `at` on (all of them for
/// `None`) over to the series `target` describes, shifted by `shift`: what still falls on
/// an occurrence is kept, the rest dropped.
fn carry_over(
    master: &Event,
    overrides: &[Event],
    from: Option<DateTime<Utc>>,
    shift: Duration,
    target: &EventDraft,
    target_ref: SeriesRef,
) -> (String, Vec<Change>) {
    let zone = master.repeat_zone();
    let series = expand(target);
    let lands = |instant: DateTime<Utc>| {
        let moved = shift_local(instant, zone, shift)?;
        series.as_ref().filter(|s| s.is_occurrence(moved)).map(|_| moved)
    };
    let in_scope = |instant: DateTime<Utc>| from.is_none_or(|from| instant >= from);
    let exdates: Vec<_> =
        parse_exdates(&master.exdates).into_iter().filter(|t| in_scope(*t)).filter_map(lands).collect();
    let mut changes = Vec::new();
    for edited in overrides {
        let Some(original) = edited.recurrence_id.filter(|t| in_scope(*t)) else { continue };
        changes.push(match lands(original) {
            Some(moved) => Change::Reparent { id: edited.id, series: target_ref, recurrence_id: moved },
            None => Change::Delete(edited.id),
        });
    }
    (format_exdates(&exdates), changes)
}

/// The changes that save `draft` for `scope` of the occurrence of `master` at `at`.
pub fn edit(
    master: &Event,
    overrides: &[Event],
    at: DateTime<Utc>,
    scope: Scope,
    draft: &EventDraft,
) -> Vec<Change> {
    let scope = if at == master.start_at && scope == Scope::Following { Scope::All } else { scope };
    let shift = wall_clock_shift(master, at, draft.start_at);
    match scope {
        Scope::This => {
            let single = without_rule(draft);
            match overrides.iter().find(|o| o.recurrence_id == Some(at)) {
                Some(edited) => vec![Change::Update { id: edited.id, draft: single, exdates: String::new() }],
                None => vec![Change::Insert(NewEvent {
                    calendar: master.calendar_id,
                    draft: single,
                    uid: master.uid.clone(),
                    exdates: String::new(),
                    series: Some((SeriesRef::Existing(master.id), at)),
                    dav_name: None,
                })],
            }
        }
        Scope::All => {
            let start = shift_local(master.start_at, master.repeat_zone(), shift).unwrap_or(draft.start_at);
            let new_master = series_draft(draft, start, rule_of(draft).as_ref());
            let (exdates, mut changes) =
                carry_over(master, overrides, None, shift, &new_master, SeriesRef::Existing(master.id));
            changes.insert(0, Change::Update { id: master.id, draft: new_master, exdates });
            changes
        }
        Scope::Following => {
            let mut successor = draft.clone();
            if let (Some(mut rule), Some(old)) = (rule_of(draft), master.rule()) {
                // An unchanged COUNT counts the whole series: the rest of it keeps what is left.
                if let (Some(count), Some(old_count)) = (rule.count(), old.count()) {
                    if count == old_count {
                        let before = master.series().map_or(0, |s| s.count_before(at));
                        rule.set("COUNT", count.saturating_sub(before).max(1).to_string());
                        successor = series_draft(draft, draft.start_at, Some(&rule));
                    }
                }
            }
            let (exdates, mut moved) =
                carry_over(master, overrides, Some(at), shift, &successor, SeriesRef::Inserted);
            let mut changes = end_before(master, at);
            changes.push(Change::Insert(NewEvent {
                calendar: master.calendar_id,
                draft: successor,
                uid: new_uid(),
                exdates,
                series: None,
                dav_name: None,
            }));
            changes.append(&mut moved);
            changes
        }
    }
}

/// The changes that delete `scope` of the occurrence of `master` at `at`.
pub fn delete(master: &Event, overrides: &[Event], at: DateTime<Utc>, scope: Scope) -> Vec<Change> {
    match scope {
        Scope::All => vec![Change::Delete(master.id)],
        Scope::Following if at <= master.start_at => vec![Change::Delete(master.id)],
        Scope::Following => {
            let mut changes = end_before(master, at);
            changes.extend(
                overrides
                    .iter()
                    .filter(|o| o.recurrence_id.is_some_and(|t| t >= at))
                    .map(|o| Change::Delete(o.id)),
            );
            changes
        }
        Scope::This => {
            let mut exdates = parse_exdates(&master.exdates);
            exdates.push(at);
            let mut changes = vec![Change::Update {
                id: master.id,
                draft: master.draft(),
                exdates: format_exdates(&exdates),
            }];
            changes.extend(
                overrides.iter().filter(|o| o.recurrence_id == Some(at)).map(|o| Change::Delete(o.id)),
            );
            changes
        }
    }
}

/// Ends `master` just before `at`, keeping its cancelled dates before that.
fn end_before(master: &Event, at: DateTime<Utc>) -> Vec<Change> {
    let Some(mut rule) = master.rule() else { return vec![Change::Delete(master.id)] };
    rule.remove("COUNT");
    rule.set("UNTIL", until_before(at, master.all_day, master.repeat_zone()));
    let draft = master.draft().repeating(Some(&rule)).unwrap_or_else(|_| without_rule(&master.draft()));
    let kept: Vec<_> = parse_exdates(&master.exdates).into_iter().filter(|t| *t < at).collect();
    vec![Change::Update { id: master.id, draft, exdates: format_exdates(&kept) }]
}
