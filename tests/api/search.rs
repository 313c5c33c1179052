//! Search on both engines: matching, ranking, unicode, prefixes, hostile input, paging, the
//! index kept in step with writes, and isolation.

use rocket::http::Status;

use crate::helpers::*;

async fn create(app: &impl Browse, title: &str, start: &str, extra: &[(&str, &str)]) -> i64 {
    let end = format!("{}T23:00", &start[..10]);
    let mut fields = vec![("title", title), ("start", start), ("end", end.as_str())];
    fields.extend_from_slice(extra);
    let response = app.post_with_token("/events", &fields).await;
    assert_status(&response, Status::SeeOther);
    response.headers().get_one("Location").unwrap().trim_start_matches("/events/").parse().unwrap()
}

async fn search(app: &impl Browse, q: &str) -> String {
    let uri = format!("/search?q={}", rocket::http::RawStr::new(q).percent_encode());
    let response = app.get(&uri).await;
    assert_status(&response, Status::Ok);
    response.into_string().await.unwrap()
}

/// The ids of the results, in order.
fn ids(page: &str) -> Vec<i64> {
    page.split("<a href=\"/events/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|id| !id.contains('/'))
        .filter_map(|id| id.parse().ok())
        .collect()
}

fn days_from_today(app: &TestApp, days: i64) -> String {
    (app.clock.now().date_naive() + chrono::Duration::days(days)).format("%Y-%m-%dT10:00").to_string()
}

async fn matching_and_ranking(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    app.register("amy", PASSWORD).await;
    let past_title = create(&app, "Budget review", &days_from_today(&app, -30), &[]).await;
    let far_title = create(&app, "Budget planning", &days_from_today(&app, 60), &[]).await;
    let near_title = create(&app, "Budget sync", &days_from_today(&app, 2), &[]).await;
    let in_description =
        create(&app, "Team lunch", &days_from_today(&app, 1), &[("description", "talk about the budget")])
            .await;
    let in_location =
        create(&app, "Offsite", &days_from_today(&app, 3), &[("location", "Budget Hotel")]).await;
    create(&app, "Unrelated", &days_from_today(&app, 1), &[]).await;

    // Title matches first (upcoming nearest today, then the past), then the rest.
    let order = ids(&search(&app, "budget").await);
    assert_eq!(order, vec![near_title, far_title, past_title, in_description, in_location]);
    // Every word must match; case does not matter.
    assert_eq!(ids(&search(&app, "BUDGET sync").await), vec![near_title]);
    assert!(ids(&search(&app, "budget nothing").await).is_empty());
    // The last word matches as a prefix while typing; earlier ones are whole words.
    assert_eq!(ids(&search(&app, "budget pla").await), vec![far_title]);
    assert_eq!(ids(&search(&app, "bud").await).len(), 5);
    assert!(ids(&search(&app, "bud sync").await).is_empty());
}

async fn unicode_and_accents(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    app.register("bob", PASSWORD).await;
    let cafe = create(&app, "Café avec Zoë", &days_from_today(&app, 1), &[]).await;
    let tokyo = create(&app, "東京 meeting", &days_from_today(&app, 2), &[("location", "Ålesund")]).await;
    assert_eq!(ids(&search(&app, "cafe").await), vec![cafe]);
    assert_eq!(ids(&search(&app, "CAFÉ zoe").await), vec![cafe]);
    assert_eq!(ids(&search(&app, "zoë").await), vec![cafe]);
    assert_eq!(ids(&search(&app, "alesund").await), vec![tokyo]);
    assert_eq!(ids(&search(&app, "東京").await), vec![tokyo]);
    let page = search(&app, "cafe").await;
    assert!(page.contains("<mark>Café</mark>"), "highlighted as written");
}

async fn hostile_queries_never_error(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    app.register("cyd", PASSWORD).await;
    let and =
        create(&app, "Rock AND roll", &days_from_today(&app, 1), &[("description", "100% fun - \"live\"")])
            .await;
    for hostile in [
        "\"",
        "*",
        "AND",
        "%",
        "-",
        "_",
        "'",
        "NEAR(a b)",
        "a OR b",
        "title:x",
        "(",
        "\\",
        "' OR 1=1 --",
        "^x",
        "{title}",
    ] {
        let page = search(&app, hostile).await;
        assert!(page.contains("search-results"), "{hostile}");
    }
    assert_eq!(ids(&search(&app, "AND").await), vec![and]);
    assert_eq!(ids(&search(&app, "100%").await), vec![and]);
    assert_eq!(ids(&search(&app, "\"live\"").await), vec![and]);
    // Markup in a query is shown back escaped.
    let page = search(&app, "<script>alert(1)</script>").await;
    assert!(!page.contains("<script>alert(1)") && page.contains("&lt;script&gt;"));
}

async fn empty_long_and_paged(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    app.register("dee", PASSWORD).await;
    for i in 0..45 {
        create(&app, &format!("Standup {i}"), &days_from_today(&app, i), &[]).await;
    }
    for q in ["", "   "] {
        let page = search(&app, q).await;
        assert!(ids(&page).is_empty() && page.contains("Type a word"), "{q:?}");
    }
    let long = "a".repeat(201);
    let response = app.get(&format!("/search?q={long}")).await;
    assert_status(&response, Status::UnprocessableEntity);
    assert!(response.into_string().await.unwrap().contains("at most 200 characters"));

    let first = search(&app, "standup").await;
    assert_eq!(ids(&first).len(), 20);
    assert!(first.contains("/search?q=standup&amp;page=2") || first.contains("/search?q=standup&page=2"));
    let second = app.get_htmx("/search?q=standup&page=2").await.into_string().await.unwrap();
    assert!(!second.contains("<html") && second.trim_start().starts_with("<li"));
    let third = app.get_htmx("/search?q=standup&page=3").await.into_string().await.unwrap();
    assert_eq!(ids(&second).len(), 20);
    assert_eq!(ids(&third).len(), 5);
    assert!(!third.contains("More results"));
    let mut all: Vec<i64> = [ids(&first), ids(&second), ids(&third)].concat();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 45, "no result twice, none lost");
    // The active search gets only the results region.
    let fragment = app.get_htmx("/search?q=standup").await;
    let fragment = fragment.into_string().await.unwrap();
    assert!(fragment.trim_start().starts_with("<div id=\"search-results\""));
}

/// The results of the first three pages, in order.
async fn all_pages(app: &TestApp, q: &str) -> Vec<i64> {
    let mut all = Vec::new();
    for page in 1..=3 {
        let body = app.get_htmx(&format!("/search?q={q}&page={page}")).await.into_string().await.unwrap();
        all.extend(ids(&body));
    }
    all
}

/// Every page of a search in order: title matches (upcoming from the nearest, then past from
/// the most recent), then the other matches in the same two orders, with none lost or twice
/// across the pages, and an event that moves taking its new place.
async fn pages_run_through_title_and_other_matches_in_time_order(engine: Engine) {
    let app = spawn(engine, Backend::Memory).await;
    app.register("fay", PASSWORD).await;
    let mut expected = Vec::new();
    let description = [("description", "a quick review")];
    for (title, extra) in [("Review", &[][..]), ("Lunch", &description[..])] {
        // Created out of order, so neither id nor creation order can pass for time order.
        let mut created = Vec::new();
        for day in [5, 1, 9, 3, 12, 7, 2, 10, 4, 8, 11, 6] {
            created.push((day, create(&app, title, &days_from_today(&app, day), extra).await));
        }
        for day in [4, 9, 1, 7, 3, 10, 2, 8, 5, 6] {
            created.push((-day, create(&app, title, &days_from_today(&app, -day), extra).await));
        }
        created.sort_by_key(|(day, _)| if *day >= 0 { (0, *day) } else { (1, -*day) });
        expected.extend(created.into_iter().map(|(_, id)| id));
    }
    assert_eq!(all_pages(&app, "revi").await, expected, "44 results over three pages, in order");

    // The nearest upcoming title match moves two weeks on: it now comes last of the upcoming ones.
    let moved = expected.remove(0);
    let (start, end) = (days_from_today(&app, 14), format!("{}T23:00", &days_from_today(&app, 14)[..10]));
    let update = [("title", "Review"), ("start", start.as_str()), ("end", end.as_str())];
    assert_status(&app.post_with_token(&format!("/events/{moved}"), &update).await, Status::SeeOther);
    expected.insert(11, moved);
    assert_eq!(all_pages(&app, "revi").await, expected);
}

async fn the_index_follows_writes_and_owners(engine: Engine) {
    let app = spawn(engine, Backend::Redis).await;
    app.register("eve", PASSWORD).await;
    let id = create(&app, "Piano lesson", &days_from_today(&app, 1), &[]).await;
    assert_eq!(ids(&search(&app, "piano").await), vec![id]);
    let response = app.get("/search?q=piano").await;
    assert_eq!(response.headers().get_one("X-Cache"), Some("HIT"));
    let update = [("title", "Violin lesson"), ("start", "2026-06-01T10:00"), ("end", "2026-06-01T11:00")];
    assert_status(&app.post_with_token(&format!("/events/{id}"), &update).await, Status::SeeOther);
    assert!(ids(&search(&app, "piano").await).is_empty(), "the old words are gone (and not cached)");
    assert_eq!(ids(&search(&app, "violin").await), vec![id]);
    let other = app.browser();
    other.register("fay", PASSWORD).await;
    assert!(ids(&search(&other, "violin").await).is_empty(), "another user's events are not found");
    create(&other, "Violin concert", "2026-07-01T20:00", &[]).await;
    assert_eq!(ids(&search(&app, "violin").await), vec![id]);
    assert_status(&app.post_with_token(&format!("/events/{id}/delete"), &[]).await, Status::SeeOther);
    assert!(ids(&search(&app, "violin").await).is_empty());
}

crate::on_both_engines!(
    matching_and_ranking,
    unicode_and_accents,
    hostile_queries_never_error,
    empty_long_and_paged,
    pages_run_through_title_and_other_matches_in_time_order,
    the_index_follows_writes_and_owners,
);
