//! `/`: the signed-in user's start page.

use chrono::Utc;
use rocket::serde::json::json;
use rocket_dyn_templates::Template;

use crate::auth::guard::CurrentUser;
use crate::web::page::Page;

#[rocket::get("/")]
pub fn home(user: CurrentUser, page: Page) -> Template {
    let zone: chrono_tz::Tz = user.user.time_zone.parse().unwrap_or(chrono_tz::UTC);
    let now = Utc::now().with_timezone(&zone);
    page.render(
        "home.html",
        json!({
            "today": now.format("%A, %-d %B %Y").to_string(),
            "time_zone": zone.name(),
        }),
    )
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![home]
}
