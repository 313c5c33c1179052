//! What every page shares: templates, assets, headers and the error catchers.

pub mod assets;
pub mod headers;
pub mod htmx;
pub mod links;
pub mod markup;
pub mod page;
pub mod params;
pub mod public_url;
pub mod templates;
pub mod timing;

use rocket::fairing::AdHoc;
use rocket::shield::Shield;
use rocket_dyn_templates::Template;

pub fn stage() -> AdHoc {
    AdHoc::on_ignite("Web", |rocket| async {
        rocket
            .attach(templates::stage())
            // Our own fairing sets every security header; an empty Shield keeps Rocket's
            // default one from adding a second, weaker set.
            .attach(Shield::new())
            .attach(headers::SecurityHeaders)
            .attach(timing::Timing)
            .register("/", rocket::catchers![crate::error::catch_all])
            .mount("/", rocket::routes![assets::serve, about])
    })
}

#[rocket::get("/about")]
fn about(page: page::Page) -> Template {
    page.render("about.html", serde_json::json!({}))
}
