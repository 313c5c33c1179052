//! Where each event sits in a view: bars across the days of a month's week, columns and
//! quarter-hour rows in the time grid (week, three days, day), or a list (agenda). Every
//! event's local days are worked out once, so the cost follows the events shown, not events
//! times days. Positions are class numbers for the stylesheet: the CSP allows no inline style.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};
use chrono_tz::Tz;
use serde::Serialize;

use super::{Period, View};
use crate::calendars::look::{ChipStyle, Chips};
use crate::domain::time::text::{iso_date, long_date, short_weekday};
use crate::domain::{time, CalendarId, EventSummary};
use crate::web::links::push_event_href;
use crate::web::markup::Markup;

/// Rows of bars a month cell shows before "+N more".
pub const MONTH_LANES: usize = 3;
/// Coloured dots a phone's month cell shows.
const DOTS: usize = 3;
/// Quarter hours in a day: the time grid's rows.
const QUARTERS: u32 = 96;
/// The shortest an event is drawn in the time grid (half an hour), so its title reads.
const MIN_QUARTERS: u32 = 2;
/// Side-by-side lanes in one day column; more share the last.
const MAX_LANES: usize = 4;

/// An event as a view shows it. The chip around its title is markup written here (its link,
/// its calendar's colour and tone, its time or arrows: ids, times and fixed text); the title,
/// the calendar's name and the location are a user's text, which the template escapes:
/// `{{ e.open | safe }}{{ e.title }}<span class="visually-hidden"> ({{ e.calendar }}{{ e.close | safe }}`.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub open: Markup,
    pub title: String,
    /// Its calendar, for screen readers (colour is never the only sign).
    pub calendar: String,
    pub close: Markup,
    pub location: String,
    pub all_day: bool,
    /// "09:00–10:00", "from 22:00", "All day", … for this day.
    pub time_label: String,
}

/// Where a chip is drawn, which decides what it holds besides the title.
#[derive(Clone, Copy)]
enum ChipForm {
    /// In a list, its time beside it.
    Listed,
    /// In a time grid's column, its time inside.
    Timed,
    /// Across days of a week row: its start time, or arrows where it goes on beyond the row.
    Bar { continues_before: bool, continues_after: bool },
}

impl EventView {
    fn new(
        event: &EventSummary,
        zone: Tz,
        day: Option<NaiveDate>,
        chips: &Chips,
        form: ChipForm,
    ) -> EventView {
        let start = event.start_at.with_timezone(&zone).naive_local();
        let end = event.end_at.with_timezone(&zone).naive_local();
        let mut label = Markup::with_capacity(12);
        if event.all_day {
            label.html("All day");
        } else {
            let (first, last) = time::local_days(event, zone);
            match day.map(|d| (first == d, last == d)) {
                None | Some((true, true)) => label.time(start).html("–").time(end),
                Some((true, false)) => label.html("from ").time(start),
                Some((false, true)) => label.html("until ").time(end),
                Some((false, false)) => label.html("all day"),
            };
        }
        let style = chips.of(event.calendar_id);
        let (open, close) = chip(event, start, &label, style, chips.linked && !event.busy, form);
        EventView {
            open,
            title: event.shown_title().to_string(),
            calendar: style.label.clone(),
            close,
            location: event.location.clone(),
            all_day: event.all_day,
            time_label: label.into_string(),
        }
    }
}

/// A chip's markup before its title and after its calendar's name (see `EventView`).
fn chip(
    event: &EventSummary,
    local_start: NaiveDateTime,
    label: &Markup,
    style: &ChipStyle,
    linked: bool,
    form: ChipForm,
) -> (Markup, Markup) {
    let mut open = Markup::with_capacity(240);
    if linked {
        open.html("<a class=\"chip tone-").html(style.tone).html("\" href=\"");
        push_event_href(&mut open, event);
        open.html("\">");
    } else {
        open.html("<span class=\"chip tone-").html(style.tone).html("\">");
    }
    open.html(
        "<svg class=\"chip-bg\" viewBox=\"0 0 1 1\" preserveAspectRatio=\"none\" aria-hidden=\"true\" \
         focusable=\"false\"><rect width=\"1\" height=\"1\" fill=\"",
    )
    .color(style.color)
    .html("\"/></svg><span class=\"chip-text\">");
    let mut close = Markup::with_capacity(80);
    match form {
        ChipForm::Listed => {
            close.html(")</span>");
        }
        ChipForm::Timed => {
            open.html("<span class=\"time\">").markup(label).html("</span> ");
            close.html(")</span>");
        }
        ChipForm::Bar { continues_before, continues_after } => {
            if continues_before {
                open.html("<span class=\"arrow\" aria-hidden=\"true\">◂ </span>");
                close.html(", continued");
            } else if !event.all_day {
                open.html("<span class=\"time\">").time(local_start).html("</span> ");
            }
            close.html(if continues_after {
                ", continues)</span><span class=\"arrow\" aria-hidden=\"true\"> ▸</span>"
            } else {
                ")</span>"
            });
        }
    }
    close.html(if linked { "</span></a>" } else { "</span></span>" });
    (open, close)
}

/// An event in a list outside the calendar views (the dashboard).
pub fn listed(event: &EventSummary, zone: Tz, chips: &Chips) -> EventView {
    EventView::new(event, zone, None, chips, ChipForm::Listed)
}

/// What the browser's script needs to move and resize a time-grid event, as the `<li>`'s data
/// attributes: the row, the occurrence it is (compact UTC start, empty for a single event),
/// and its local start and end as the form writes them. Ids and times only.
fn drag_attributes(event: &EventSummary, zone: Tz) -> Markup {
    let start = event.start_at.with_timezone(&zone).naive_local();
    let end = event.end_at.with_timezone(&zone).naive_local();
    let mut out = Markup::with_capacity(110);
    out.html(" data-id=\"").number_i64(event.id.0).html("\" data-occurrence=\"");
    if let Some(at) = event.occurrence {
        out.compact_instant(at);
    }
    out.html("\" data-start=\"").local_minute(start).html("\" data-end=\"").local_minute(end).html("\"");
    out
}

/// A day's facts every view needs.
#[derive(Debug, Clone, Serialize)]
pub struct DayInfo {
    pub date: String,
    pub day: u32,
    pub label: String,
    pub weekday: String,
    pub in_period: bool,
    pub is_today: bool,
}

fn day_info(period: &Period, day: NaiveDate, today: NaiveDate) -> DayInfo {
    let in_period = match period.view {
        View::Month => day.month() == period.date.month() && day.year() == period.date.year(),
        _ => true,
    };
    DayInfo {
        date: iso_date(day),
        day: day.day(),
        label: long_date(day),
        weekday: short_weekday(day).to_string(),
        in_period,
        is_today: day == today,
    }
}

/// An event across consecutive days of one week row: `col` is its first column (1-based),
/// `days` how many it covers; the arrows say it goes on before or after this row.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    /// Flattened: Tera pays for every dot in a variable's path.
    #[serde(flatten)]
    pub event: EventView,
    /// Its `<li>`'s classes, which place and shape it (`event days-3 filled continues-after`).
    pub class: String,
    #[serde(skip)]
    pub col: usize,
    #[serde(skip)]
    pub days: usize,
    #[serde(skip)]
    pub continues_before: bool,
    #[serde(skip)]
    pub continues_after: bool,
}

/// An event's stretch within one week row, before it is drawn: a month draws only the first
/// few rows of a cell (the rest are "+N more"), so only those become `Bar`s.
struct RowSpan<'a> {
    event: &'a EventSummary,
    /// Its only local day, for a one-day event (its time label says "from"/"until" otherwise).
    only_day: Option<NaiveDate>,
    col: usize,
    days: usize,
    continues_before: bool,
    continues_after: bool,
    /// A bar (all-day or over several days) rather than a timed chip within one day.
    filled: bool,
}

/// Where a bar is drawn: a month cell, or the time grid's band of all-day events.
#[derive(Clone, Copy, PartialEq)]
enum BarPlace {
    MonthCell,
    Band,
}

impl RowSpan<'_> {
    fn bar(&self, zone: Tz, chips: &Chips, place: BarPlace) -> Bar {
        let form =
            ChipForm::Bar { continues_before: self.continues_before, continues_after: self.continues_after };
        let mut class = match place {
            BarPlace::MonthCell => format!("event days-{}", self.days),
            BarPlace::Band => format!("event filled bcol-{} bspan-{}", self.col, self.days),
        };
        if self.filled && place == BarPlace::MonthCell {
            class.push_str(" filled");
        }
        if self.continues_before {
            class.push_str(" continues-before");
        }
        if self.continues_after {
            class.push_str(" continues-after");
        }
        Bar {
            event: EventView::new(self.event, zone, self.only_day, chips, form),
            class,
            col: self.col,
            days: self.days,
            continues_before: self.continues_before,
            continues_after: self.continues_after,
        }
    }
}

/// One week row's events, each clipped to the row, in the order they are laid out: earlier
/// first, then longer first, so long bars keep the top rows.
fn spans_in_row<'a>(
    events: &[(&'a EventSummary, NaiveDate, NaiveDate)],
    row_first: NaiveDate,
    columns: usize,
) -> Vec<RowSpan<'a>> {
    let row_last = row_first + Duration::days(columns as i64 - 1);
    let mut spans: Vec<RowSpan<'a>> = events
        .iter()
        .filter(|(_, first, last)| *first <= row_last && *last >= row_first)
        .map(|(event, first, last)| {
            let from = (*first).max(row_first);
            let to = (*last).min(row_last);
            RowSpan {
                event,
                only_day: (first == last).then_some(*first),
                col: (from - row_first).num_days() as usize + 1,
                days: (to - from).num_days() as usize + 1,
                continues_before: *first < row_first,
                continues_after: *last > row_last,
                filled: event.all_day || first != last,
            }
        })
        .collect();
    spans.sort_by_key(|s| {
        (s.col, std::cmp::Reverse(s.days), !s.event.all_day, s.event.start_at, s.event.id.0)
    });
    spans
}

/// The lowest row of `lanes` where columns `col..col+days` are free, claimed.
fn claim_lane(lanes: &mut Vec<Vec<bool>>, col: usize, days: usize, columns: usize) -> usize {
    let span = col - 1..col - 1 + days;
    let lane =
        lanes.iter().position(|lane| !lane[span.clone()].iter().any(|taken| *taken)).unwrap_or(lanes.len());
    if lane == lanes.len() {
        lanes.push(vec![false; columns]);
    }
    lanes[lane][span].iter_mut().for_each(|taken| *taken = true);
    lane
}

/// A month cell: the bars that start in it, one slot per row (`None` where a bar from an
/// earlier day passes, or nothing is), so rows line up across the week.
#[derive(Debug, Clone, Serialize)]
pub struct MonthCell {
    #[serde(flatten)]
    pub day: DayInfo,
    /// `outside` (another month), `today`, `chosen`.
    pub class: &'static str,
    pub slots: Vec<Option<Bar>>,
    pub more: usize,
    pub total: usize,
    /// For screen readers after the date: ", 3 events".
    pub count: String,
    /// A phone's coloured dots, one per event of the first few.
    pub dots: Markup,
}

const CELL_CLASSES: [&str; 8] = [
    "",
    "outside",
    "today",
    "outside today",
    "chosen",
    "outside chosen",
    "today chosen",
    "outside today chosen",
];

pub fn month(
    period: &Period,
    events: &[EventSummary],
    zone: Tz,
    today: NaiveDate,
    chips: &Chips,
) -> Vec<Vec<MonthCell>> {
    let spans: Vec<_> = events
        .iter()
        .map(|e| {
            let (first, last) = time::local_days(e, zone);
            (e, first, last)
        })
        .collect();
    let mut weeks = Vec::new();
    let mut row_first = period.first;
    while row_first <= period.last {
        let row = spans_in_row(&spans, row_first, 7);
        let mut lanes = Vec::new();
        let mut cells: Vec<MonthCell> = (0..7)
            .map(|offset| {
                let date = row_first + Duration::days(offset);
                let day = day_info(period, date, today);
                let flags = usize::from(!day.in_period)
                    + 2 * usize::from(day.is_today)
                    + 4 * usize::from(date == period.date);
                MonthCell {
                    day,
                    class: CELL_CLASSES[flags],
                    slots: Vec::new(),
                    more: 0,
                    total: 0,
                    count: String::new(),
                    dots: Markup::default(),
                }
            })
            .collect();
        for span in row {
            let lane = claim_lane(&mut lanes, span.col, span.days, 7);
            for cell in &mut cells[span.col - 1..span.col - 1 + span.days] {
                cell.total += 1;
                if cell.total <= DOTS {
                    cell.dots
                        .html("<svg class=\"dot\" width=\"6\" height=\"6\" viewBox=\"0 0 2 2\" aria-hidden=\"true\" \
                               focusable=\"false\"><circle cx=\"1\" cy=\"1\" r=\"1\" fill=\"")
                        .color(chips.of(span.event.calendar_id).color)
                        .html("\"/></svg>");
                }
                if lane >= MONTH_LANES {
                    cell.more += 1;
                }
            }
            if lane < MONTH_LANES {
                let slots = &mut cells[span.col - 1].slots;
                if slots.len() <= lane {
                    slots.resize(lane + 1, None);
                }
                slots[lane] = Some(span.bar(zone, chips, BarPlace::MonthCell));
            }
        }
        for cell in &mut cells {
            cell.count = match cell.total {
                0 => String::new(),
                1 => ", 1 event".into(),
                n => format!(", {n} events"),
            };
        }
        // A cell's empty rows below a passing bar still hold their place: pad every cell to the
        // deepest row a bar crosses it in.
        for (col, cell) in cells.iter_mut().enumerate() {
            let depth = lanes.iter().take(MONTH_LANES).rposition(|lane| lane[col]).map_or(0, |l| l + 1);
            if cell.slots.len() < depth {
                cell.slots.resize(depth, None);
            }
        }
        weeks.push(cells);
        row_first += Duration::days(7);
    }
    weeks
}

/// A timed event in a day column: first quarter-hour row, rows spanned, and its lane.
#[derive(Debug, Clone, Serialize)]
pub struct Placed {
    #[serde(flatten)]
    pub event: EventView,
    #[serde(skip)]
    pub at: u32,
    #[serde(skip)]
    pub len: u32,
    #[serde(skip)]
    pub lane: usize,
    #[serde(skip)]
    pub lanes: usize,
    /// Its position as the stylesheet's classes (`tg-event at-36 len-4 lanes-2 lane-1`).
    pub classes: String,
    /// Its data attributes for moving it (`drag_attributes`), empty where the reader may not.
    pub drag: Markup,
    /// It can be resized here: movable, and its end in this column.
    pub resizable: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayColumn {
    #[serde(flatten)]
    pub day: DayInfo,
    pub events: Vec<Placed>,
}

/// The time grid: all-day events and those of a day or more as bars in a band above the
/// hours; shorter ones placed in their day's column, side by side where they overlap.
#[derive(Debug, Clone, Serialize)]
pub struct TimeGrid {
    pub band: Vec<Bar>,
    pub columns: Vec<DayColumn>,
}

fn banded(event: &EventSummary) -> bool {
    event.all_day || event.end_at - event.start_at >= Duration::hours(24)
}

fn quarter(hour: u32, minute: u32) -> u32 {
    (hour * 60 + minute) / 15
}

/// `movable`: the calendars whose events the reader may move (their own and write shares).
pub fn time_grid(
    period: &Period,
    events: &[EventSummary],
    zone: Tz,
    today: NaiveDate,
    movable: &[CalendarId],
    chips: &Chips,
) -> TimeGrid {
    let days: Vec<NaiveDate> = period.days().collect();
    let columns = days.len();
    let spans: Vec<_> = events
        .iter()
        .map(|e| {
            let (first, last) = time::local_days(e, zone);
            (e, first, last)
        })
        .collect();
    let (long, short): (Vec<_>, Vec<_>) = spans.into_iter().partition(|(e, _, _)| banded(e));
    let band = spans_in_row(&long, period.first, columns)
        .iter()
        .map(|span| span.bar(zone, chips, BarPlace::Band))
        .collect();
    let mut buckets: Vec<Vec<Placed>> = vec![Vec::new(); columns];
    let mut ordered = short;
    ordered.sort_by_key(|(e, _, _)| (e.start_at, std::cmp::Reverse(e.end_at), e.id.0));
    for (event, first, last) in ordered {
        let start = event.start_at.with_timezone(&zone);
        let end = event.end_at.with_timezone(&zone);
        for (index, day) in days.iter().enumerate().filter(|(_, d)| first <= **d && **d <= last) {
            let at = if first == *day { quarter(start.hour(), start.minute()) } else { 0 };
            let until = if last == *day && end.date_naive() == *day {
                quarter(end.hour(), end.minute()) + u32::from(end.minute() % 15 > 0)
            } else {
                QUARTERS
            };
            let at = at.min(QUARTERS - MIN_QUARTERS);
            let movable = !event.busy && movable.contains(&event.calendar_id);
            buckets[index].push(Placed {
                event: EventView::new(event, zone, Some(*day), chips, ChipForm::Timed),
                at,
                len: until.saturating_sub(at).max(MIN_QUARTERS),
                lane: 0,
                lanes: 1,
                classes: String::new(),
                drag: if movable { drag_attributes(event, zone) } else { Markup::default() },
                resizable: movable && first == last,
            });
        }
    }
    for bucket in &mut buckets {
        assign_lanes(bucket);
        for placed in bucket.iter_mut() {
            placed.classes = format!(
                "tg-event at-{} len-{} lanes-{} lane-{}",
                placed.at, placed.len, placed.lanes, placed.lane
            );
        }
    }
    let columns = days
        .iter()
        .zip(buckets)
        .map(|(day, events)| DayColumn { day: day_info(period, *day, today), events })
        .collect();
    TimeGrid { band, columns }
}

/// Side-by-side lanes for overlapping events in one column, counted per group of events that
/// overlap each other, so an event overlapping nothing keeps the whole width.
fn assign_lanes(events: &mut [Placed]) {
    let mut group_start = 0;
    let mut group_end = 0;
    let mut lane_ends: Vec<u32> = Vec::new();
    for index in 0..events.len() {
        let (at, len) = (events[index].at, events[index].len);
        if at >= group_end && index > group_start {
            let lanes = lane_ends.len().max(1);
            events[group_start..index].iter_mut().for_each(|e| e.lanes = lanes);
            group_start = index;
            lane_ends.clear();
        }
        let lane = lane_ends.iter().position(|end| *end <= at).unwrap_or(lane_ends.len()).min(MAX_LANES - 1);
        if lane == lane_ends.len() {
            lane_ends.push(0);
        }
        lane_ends[lane] = lane_ends[lane].max(at + len);
        events[index].lane = lane;
        group_end = group_end.max(at + len);
    }
    let lanes = lane_ends.len().max(1);
    events[group_start..].iter_mut().for_each(|e| e.lanes = lanes);
}

/// A day in the agenda (or a phone's chosen day under the month): its events in order.
#[derive(Debug, Clone, Serialize)]
pub struct ListedDay {
    #[serde(flatten)]
    pub day: DayInfo,
    pub events: Vec<EventView>,
}

pub fn list(
    period: &Period,
    events: &[EventSummary],
    zone: Tz,
    today: NaiveDate,
    chips: &Chips,
) -> Vec<ListedDay> {
    let days: Vec<NaiveDate> = period.days().collect();
    let mut buckets: Vec<Vec<&EventSummary>> = vec![Vec::new(); days.len()];
    for event in events {
        let (first, last) = time::local_days(event, zone);
        let from = (first - period.first).num_days().max(0);
        let to = (last - period.first).num_days().min(days.len() as i64 - 1);
        for index in from..=to {
            if let Some(bucket) = usize::try_from(index).ok().and_then(|i| buckets.get_mut(i)) {
                bucket.push(event);
            }
        }
    }
    days.into_iter()
        .zip(buckets)
        .map(|(day, mut bucket)| {
            bucket.sort_by_key(|e| (!e.all_day, e.start_at, e.id.0));
            let events =
                bucket.iter().map(|e| EventView::new(e, zone, Some(day), chips, ChipForm::Listed)).collect();
            ListedDay { day: day_info(period, day, today), events }
        })
        .collect()
}

/// The events of one day, in order (a phone's month view lists the chosen day's).
pub fn one_day(
    period: &Period,
    events: &[EventSummary],
    zone: Tz,
    today: NaiveDate,
    chips: &Chips,
) -> ListedDay {
    let single = Period { first: period.date, last: period.date, ..period.clone() };
    let mut days = list(&single, events, zone, today, chips);
    let mut day =
        days.pop().unwrap_or(ListedDay { day: day_info(period, period.date, today), events: Vec::new() });
    day.day.in_period = true;
    day
}

/// A small month for the sidebar: weeks of days linking to the current view at that date.
/// The sidebar's mini-month (its title, and its weeks as table rows), written here rather than
/// by Tera: every view draws these 42 links, and a template spent more on them than on the
/// rest of a day view. Nothing in it comes from a user (dates, English names, fixed classes).
pub fn mini_month(
    date: NaiveDate,
    view: View,
    week_start: chrono::Weekday,
    today: NaiveDate,
) -> (String, Markup) {
    let month = Period::new(View::Month, date, week_start);
    let mut rows = Markup::with_capacity(6 * 7 * 150);
    for (index, day) in month.days().enumerate() {
        if index % 7 == 0 {
            rows.html("<tr>");
        }
        let href = |rows: &mut Markup| {
            rows.html("/calendar/").html(view.name()).html("/").date(day);
        };
        rows.html("<td><a href=\"");
        href(&mut rows);
        rows.html("\" hx-get=\"");
        href(&mut rows);
        rows.html("\" class=\"");
        let flags =
            [(day.month() != date.month(), "outside"), (day == today, "today"), (day == date, "chosen")];
        let mut first = true;
        for &(_, name) in flags.iter().filter(|(on, _)| *on) {
            if !first {
                rows.html(" ");
            }
            rows.html(name);
            first = false;
        }
        rows.html("\"");
        if day == today {
            rows.html(" aria-current=\"date\"");
        }
        rows.html(" aria-label=\"").long_date(day).html("\">").number(day.day() as usize).html("</a></td>");
        if index % 7 == 6 {
            rows.html("</tr>");
        }
    }
    (month.title, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CalendarId, EventId};
    use chrono::{DateTime, TimeZone, Utc, Weekday};

    fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, d, h, m, 0).unwrap()
    }

    fn event(id: i64, start: DateTime<Utc>, end: DateTime<Utc>, all_day: bool) -> EventSummary {
        EventSummary {
            id: EventId(id),
            calendar_id: CalendarId(1),
            title: format!("e{id}"),
            location: String::new(),
            all_day,
            start_at: start,
            end_at: end,
            occurrence: None,
            busy: false,
        }
    }

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn a_multi_day_event_is_one_bar_per_week_row() {
        // Saturday 5th to Tuesday 8th December: two bars, arrows where they break.
        let period = Period::new(View::Month, date(3), Weekday::Mon);
        let events = [event(1, at(5, 0, 0), at(9, 0, 0), true)];
        let weeks = month(&period, &events, chrono_tz::UTC, date(3), &Chips::new(&[]));
        let bars: Vec<&Bar> = weeks.iter().flatten().flat_map(|c| c.slots.iter().flatten()).collect();
        assert_eq!(bars.len(), 2);
        assert_eq!((bars[0].col, bars[0].days, bars[0].continues_after), (6, 2, true));
        assert_eq!((bars[1].col, bars[1].days, bars[1].continues_before), (1, 2, true));
        let covered: Vec<usize> = weeks.iter().flatten().map(|c| c.total).collect();
        assert_eq!(covered.iter().sum::<usize>(), 4);
    }

    #[test]
    fn chips_are_links_times_and_arrows_around_the_text() {
        // Saturday 5th 09:00 to Wednesday 9th: a bar with its time, then one continued.
        let period = Period::new(View::Month, date(3), Weekday::Mon);
        let mut hostile = event(7, at(5, 9, 0), at(9, 10, 0), false);
        hostile.title = "<script>x</script>".into();
        let mut busy = event(8, at(16, 9, 0), at(16, 10, 0), false);
        busy.busy = true;
        let weeks = month(&period, &[hostile, busy], chrono_tz::UTC, date(3), &Chips::new(&[]));
        let bars: Vec<&Bar> = weeks.iter().flatten().flat_map(|c| c.slots.iter().flatten()).collect();
        let (first, second, hidden) = (&bars[0].event, &bars[1].event, &bars[2].event);
        assert!(first.open.as_str().starts_with("<a class=\"chip tone-dark\" href=\"/events/7\"><svg"));
        assert!(first.open.as_str().ends_with(
            "fill=\"#616161\"/></svg><span class=\"chip-text\"><span class=\"time\">09:00</span> "
        ));
        assert_eq!(
            first.close.as_str(),
            ", continues)</span><span class=\"arrow\" aria-hidden=\"true\"> ▸</span></span></a>"
        );
        assert!(second.open.as_str().ends_with("<span class=\"arrow\" aria-hidden=\"true\">◂ </span>"));
        assert_eq!(second.close.as_str(), ", continued)</span></span></a>");
        // A busy-only share's event links nowhere and says only "Busy".
        assert!(hidden.open.as_str().starts_with("<span class=\"chip tone-dark\"><svg"));
        assert!(hidden.close.as_str().ends_with("</span></span>") && hidden.title == "Busy");
        // The title is text for the template to escape, never part of the markup.
        assert_eq!(first.title, "<script>x</script>");
        assert!(
            bars.iter()
                .all(|b| !b.event.open.as_str().contains("script")
                    && !b.event.close.as_str().contains("script"))
        );
    }

    #[test]
    fn month_rows_line_up_and_overflow_counts_as_more() {
        let period = Period::new(View::Month, date(3), Weekday::Mon);
        // A three-day bar from Monday 7th, then four one-day events on Tuesday 8th.
        let mut events = vec![event(1, at(7, 0, 0), at(10, 0, 0), true)];
        events.extend((2..6).map(|id| event(id, at(8, 9 + id as u32, 0), at(8, 10 + id as u32, 0), false)));
        let weeks = month(&period, &events, chrono_tz::UTC, date(3), &Chips::new(&[]));
        let tuesday = weeks.iter().flatten().find(|c| c.day.date == "2026-12-08").unwrap();
        // Row 0 is the bar passing through: an empty slot keeps it.
        assert!(tuesday.slots[0].is_none());
        assert_eq!(tuesday.slots.len(), MONTH_LANES);
        assert_eq!((tuesday.total, tuesday.more), (5, 2));
        let wednesday = weeks.iter().flatten().find(|c| c.day.date == "2026-12-09").unwrap();
        assert_eq!(wednesday.slots.len(), 1, "the bar's row held, nothing else");
    }

    #[test]
    fn time_grid_places_by_quarter_hour_and_bands_long_events() {
        let period = Period::new(View::Week, date(7), Weekday::Mon);
        let events = [
            event(1, at(8, 9, 15), at(8, 10, 0), false),
            event(2, at(8, 9, 30), at(8, 9, 40), false),
            event(3, at(8, 13, 0), at(8, 14, 0), false),
            event(4, at(9, 12, 0), at(11, 12, 0), false),
            event(5, at(10, 22, 0), at(11, 7, 0), false),
        ];
        let grid = time_grid(&period, &events, chrono_tz::UTC, date(7), &[CalendarId(1)], &Chips::new(&[]));
        let tuesday = &grid.columns[1].events;
        assert_eq!((tuesday[0].at, tuesday[0].len, tuesday[0].lane, tuesday[0].lanes), (37, 3, 0, 2));
        assert_eq!((tuesday[1].at, tuesday[1].len, tuesday[1].lane), (38, 2, 1));
        assert_eq!((tuesday[2].at, tuesday[2].lanes), (52, 1), "no overlap: the whole width");
        assert_eq!(grid.band.len(), 1, "two days long: in the band");
        assert_eq!((grid.band[0].col, grid.band[0].days), (3, 3));
        // A night train crossing midnight stays in the hours, split over both days.
        assert_eq!((grid.columns[3].events[0].at, grid.columns[3].events[0].len), (88, 8));
        assert_eq!((grid.columns[4].events[0].at, grid.columns[4].events[0].len), (0, 28));
    }

    #[test]
    fn the_mini_month_links_every_day_of_its_grid() {
        let (title, rows) = mini_month(date(9), View::Week, Weekday::Mon, date(7));
        let rows = rows.as_str();
        assert_eq!(title, "December 2026");
        assert_eq!(rows.matches("<tr>").count(), 6);
        assert_eq!(rows.matches("<td>").count(), 42);
        assert!(rows.starts_with(
            "<tr><td><a href=\"/calendar/week/2026-11-30\" hx-get=\"/calendar/week/2026-11-30\" \
             class=\"outside\" aria-label=\"Monday, 30 November 2026\">30</a></td>"
        ));
        assert!(rows.contains(
            "<a href=\"/calendar/week/2026-12-07\" hx-get=\"/calendar/week/2026-12-07\" class=\"today\" \
             aria-current=\"date\" aria-label=\"Monday, 7 December 2026\">7</a>"
        ));
        assert!(rows.contains("class=\"chosen\" aria-label=\"Wednesday, 9 December 2026\">9</a>"));
    }
}
