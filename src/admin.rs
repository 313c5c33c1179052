//! The admin area, for the people who run the instance. Only `AdminUser` gets in; other
//! users get 404 and visitors the login redirect.

use rocket::serde::json::json;
use rocket::State;
use rocket_dyn_templates::Template;

use crate::auth::guard::AdminUser;
use crate::cache::Cache;
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
    cache: &State<Cache>,
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
            "cache_stats": cache_stats(cache),
        }),
    ))
}

fn cache_stats(cache: &Cache) -> Vec<serde_json::Value> {
    cache
        .stats()
        .into_iter()
        .map(|(pattern, hits, misses, bypasses)| {
            let lookups = hits + misses;
            let ratio = if lookups == 0 { "–".to_string() } else { format!("{:.1} %", 100.0 * hits as f64 / lookups as f64) };
            json!({ "pattern": pattern, "hits": hits, "misses": misses, "bypasses": bypasses, "ratio": ratio })
        })
        .collect()
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![home]
}
