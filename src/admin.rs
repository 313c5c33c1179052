//! The admin area, for the people who run the instance. Only `AdminUser` gets in; other
//! users get 404 and visitors the login redirect.

use rocket::serde::json::json;
use rocket::State;
use rocket_dyn_templates::Template;

use crate::auth::guard::AdminUser;
use crate::error::AppError;
use crate::kv::Backends;
use crate::store::Store;
use crate::web::page::Page;

#[rocket::get("/admin")]
pub async fn home(
    _admin: AdminUser,
    page: Page,
    store: &State<Store>,
    backends: &State<Backends>,
) -> Result<Template, AppError> {
    let users = store.count_users().await?;
    Ok(page.render(
        "admin.html",
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "engine": store.engine(),
            "users": users,
            "cache_backend": backends.cache.backend(),
            "session_backend": backends.sessions.backend(),
        }),
    ))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![home]
}
