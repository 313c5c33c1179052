//! `/search?q=`: the user's events, and those of calendars shared with them to read (never
//! busy-only ones), by title, description and location. An htmx active search
//! (results swapped in as one types, the URL kept in sync) over a plain GET form.

use rocket::http::Status;
use rocket::State;
use rocket_dyn_templates::Template;
use serde::Serialize;
use serde_json::json;

use crate::auth::guard::CurrentUser;
use crate::cache::{CacheKey, CacheScope, Fragment};
use crate::clock::Clock;
use crate::domain::color::Rgb;
use crate::domain::search_text::{Piece, Terms};
use crate::domain::{time, Calendar, ReadScope};
use crate::error::AppError;
use crate::store::{SearchHit, Store};
use crate::web::markup::Markup;
use crate::web::page::Page;
use crate::web::templates::{render_to_string, Fragments};

/// Longer queries answer 422: nobody types this much, and it bounds the work per request.
pub const QUERY_MAX: usize = 200;
pub const PAGE_SIZE: u32 = 20;
/// Pages beyond this are not served (an offset scan grows with the page number).
const PAGE_MAX: u32 = 50;
const EXCERPT_CHARS: usize = 160;

fn excerpt(description: &str) -> String {
    let flat: String = description.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// A result as the list shows it: the matched words of the title, location and excerpt
/// marked (the template escapes every piece), its calendar's swatch (markup from the colour
/// alone) and name.
#[derive(Serialize)]
struct HitView {
    id: i64,
    swatch: Markup,
    calendar: String,
    title: Vec<Piece>,
    location: Vec<Piece>,
    excerpt: Vec<Piece>,
    when: String,
}

#[derive(Serialize)]
struct Hits {
    hits: Vec<HitView>,
    page: u32,
    next_url: Option<String>,
}

fn hit_view(hit: &SearchHit, terms: &Terms, zone: chrono_tz::Tz, calendars: &[Calendar]) -> HitView {
    let start = hit.start_at.with_timezone(&zone);
    let when = if hit.all_day {
        hit.start_at.format("%a %-d %b %Y, all day").to_string()
    } else {
        start.format("%a %-d %b %Y, %H:%M").to_string()
    };
    let calendar = calendars.iter().find(|c| c.id == hit.calendar_id);
    let mut swatch = Markup::with_capacity(160);
    swatch
        .html(
            "<svg class=\"swatch\" width=\"12\" height=\"12\" viewBox=\"0 0 1 1\" aria-hidden=\"true\" \
             focusable=\"false\"><rect width=\"1\" height=\"1\" fill=\"",
        )
        .color(calendar.and_then(|c| Rgb::from_hex(&c.color)).unwrap_or(Rgb::GRAPHITE))
        .html("\"/></svg>");
    HitView {
        id: hit.id.0,
        swatch,
        calendar: calendar.map(|c| c.name.clone()).unwrap_or_default(),
        title: terms.highlight(&hit.title),
        location: terms.highlight(&hit.location),
        excerpt: terms.highlight(&excerpt(&hit.description)),
        when,
    }
}

#[allow(clippy::too_many_arguments, reason = "guards: each is one thing the search needs")]
#[rocket::get("/search?<q>&<page>")]
pub async fn search(
    q: Option<&str>,
    page: Option<u32>,
    user: CurrentUser,
    view: Page,
    store: &State<Store>,
    clock: &State<Clock>,
    cache: CacheScope<'_>,
    templates: Fragments<'_>,
) -> Result<(Status, Template), AppError> {
    let query = q.unwrap_or_default();
    let page_number = page.unwrap_or(1).clamp(1, PAGE_MAX);
    let terms = Terms::parse(query);
    if query.chars().count() > QUERY_MAX {
        let context = json!({ "q": query, "error": format!("Search for at most {QUERY_MAX} characters."), "results": {} });
        let template = if view.htmx.fragment { "search_results.html" } else { "search.html" };
        return Ok(view.render_status(Status::UnprocessableEntity, template, context));
    }
    let results = if terms.is_empty() {
        Fragment { title: "Search".into(), html: String::new() }
    } else {
        let key = CacheKey::search(user.user.id, &terms.normalised(), page_number);
        cache
            .fetch(&key, || async {
                let zone = user.user.zone();
                let now = time::start_of_day(zone, time::today(zone, clock.now()));
                let offset = (page_number - 1) * PAGE_SIZE;
                let calendars = store.visible_calendars(user.user.id).await?;
                let readable = ReadScope::shown(&calendars).full;
                // One extra row says whether there is a next page.
                let mut hits = store.search_events(&readable, &terms, now, PAGE_SIZE + 1, offset).await?;
                let more = hits.len() > PAGE_SIZE as usize;
                hits.truncate(PAGE_SIZE as usize);
                let context = Hits {
                    hits: hits.iter().map(|h| hit_view(h, &terms, zone, &calendars)).collect(),
                    page: page_number,
                    next_url: more.then(|| next_url(query, page_number + 1)),
                };
                let html = render_to_string(&templates, "search_hits.html", &context)?;
                Ok(Fragment { title: format!("Search: {}", terms.normalised()), html })
            })
            .await?
    };
    let context = json!({
        "q": query,
        "page": page_number,
        "searched": !terms.is_empty(),
        "cached_fragment_html": results.html,
    });
    if view.htmx.fragment {
        // The next page's rows replace the "more" button; the first page fills the list.
        let template = if page_number > 1 { "search_hits_page.html" } else { "search_results.html" };
        return Ok(view.render_status(Status::Ok, template, context));
    }
    Ok(view.render_status(Status::Ok, "search.html", context))
}

fn next_url(query: &str, page: u32) -> String {
    let encoded = rocket::http::RawStr::new(query).percent_encode();
    format!("/search?q={encoded}&page={page}")
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![search]
}
