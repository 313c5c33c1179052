//! How a calendar looks wherever its events are drawn: its colour, the text colour that reads
//! on it, and its name for screen readers (colour is never the only sign).

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::color::Rgb;
use crate::domain::{Calendar, CalendarId};

/// Twelve colours to choose from: distinct from each other, and each with black or white text
/// at a WCAG contrast of at least 4.5:1.
pub const PALETTE: [(&str, &str); 12] = [
    ("#1a73e8", "Blue"),
    ("#0b8043", "Green"),
    ("#d50000", "Red"),
    ("#f4511e", "Tangerine"),
    ("#f6bf26", "Banana"),
    ("#33b679", "Sage"),
    ("#039be5", "Peacock"),
    ("#3f51b5", "Blueberry"),
    ("#7986cb", "Lavender"),
    ("#8e24aa", "Grape"),
    ("#e67c73", "Flamingo"),
    ("#616161", "Graphite"),
];

#[derive(Debug, Clone, Serialize)]
pub struct CalendarLook {
    pub id: i64,
    pub name: String,
    pub color: String,
    /// `dark` (white text) or `light` (black text): whichever contrasts more with `color`.
    pub tone: &'static str,
    pub shown: bool,
    pub is_default: bool,
    /// `own`, or the access a share gives: `write`, `read`, `busy`.
    pub access: &'static str,
    /// Events can be made, moved and changed in it.
    pub writable: bool,
    /// Who shared it, when it is not the reader's own.
    pub shared_by: Option<String>,
}

impl From<&Calendar> for CalendarLook {
    fn from(calendar: &Calendar) -> Self {
        CalendarLook {
            id: calendar.id.0,
            name: calendar.name.clone(),
            color: calendar.color.clone(),
            tone: tone(&calendar.color),
            shown: calendar.shown,
            is_default: calendar.is_default,
            access: calendar.access.as_str(),
            writable: calendar.access.can_write(),
            shared_by: calendar.owner_name.clone(),
        }
    }
}

/// How an event of one calendar is drawn: the look without what only the sidebar needs.
#[derive(Debug, Clone)]
pub struct ChipStyle {
    pub tone: &'static str,
    pub color: Rgb,
    /// For screen readers: "Work", or "Work, Alice" for a calendar Alice shares.
    pub label: String,
}

impl From<&Calendar> for ChipStyle {
    fn from(calendar: &Calendar) -> Self {
        let label = match &calendar.owner_name {
            Some(owner) => format!("{}, {owner}", calendar.name),
            None => calendar.name.clone(),
        };
        ChipStyle {
            tone: tone(&calendar.color),
            color: Rgb::from_hex(&calendar.color).unwrap_or(Rgb::GRAPHITE),
            label,
        }
    }
}

/// The chip styles of the calendars a view draws, worked out once per request.
#[derive(Debug, Clone)]
pub struct Chips {
    styles: Vec<(CalendarId, ChipStyle)>,
    fallback: ChipStyle,
    /// Chips link to their events (not on a public page: a visitor opens no event).
    pub linked: bool,
}

impl Chips {
    pub fn new(calendars: &[Calendar]) -> Chips {
        Chips {
            styles: calendars.iter().map(|c| (c.id, ChipStyle::from(c))).collect(),
            fallback: ChipStyle { tone: "dark", color: Rgb::GRAPHITE, label: "Calendar".into() },
            linked: true,
        }
    }

    pub fn unlinked(self) -> Chips {
        Chips { linked: false, ..self }
    }

    pub fn of(&self, calendar: CalendarId) -> &ChipStyle {
        self.styles.iter().find(|(id, _)| *id == calendar).map_or(&self.fallback, |(_, style)| style)
    }
}

/// The looks of a user's calendars, by id as templates index them (`looks[event.calendar]`).
pub fn looks(calendars: &[Calendar]) -> HashMap<String, CalendarLook> {
    calendars.iter().map(|c| (c.id.0.to_string(), CalendarLook::from(c))).collect()
}

pub fn look_of(calendars: &[Calendar], id: CalendarId) -> Option<CalendarLook> {
    calendars.iter().find(|c| c.id == id).map(CalendarLook::from)
}

/// WCAG relative luminance of `#rrggbb` (0 black, 1 white); mid-grey for anything else.
fn luminance(color: &str) -> f64 {
    let channel = |range: std::ops::Range<usize>| {
        let value = color.get(range).and_then(|hex| u8::from_str_radix(hex, 16).ok()).unwrap_or(128);
        let c = f64::from(value) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1..3) + 0.7152 * channel(3..5) + 0.0722 * channel(5..7)
}

/// The text tone with the higher contrast ratio on `color`.
pub fn tone(color: &str) -> &'static str {
    let background = luminance(color);
    let on_black = (background + 0.05) / 0.05;
    let on_white = 1.05 / (background + 0.05);
    if on_white >= on_black {
        "dark"
    } else {
        "light"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contrast(a: f64, b: f64) -> f64 {
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    #[test]
    fn every_palette_colour_reads_at_aa() {
        for (color, name) in PALETTE {
            let text = if tone(color) == "dark" { 1.0 } else { 0.0 };
            let ratio = contrast(luminance(color), text);
            assert!(ratio >= 4.5, "{name} {color}: {ratio:.2}");
        }
        assert_eq!(tone("#ffffff"), "light");
        assert_eq!(tone("#000000"), "dark");
    }
}
