//! The admin area, for the people who run the instance. Only `AdminUser` gets in; other
//! users get 404 and visitors the login redirect. Every change is CSRF-protected, confirmed
//! (a confirmation page without JavaScript, a dialog with it) and written to the audit log.

mod events;
mod users;

use std::time::Instant;

use rocket::form::FromForm;
use rocket::request::FlashMessage;
use rocket::response::Flash;
use rocket::serde::json::json;
use rocket::{Either, State};
use rocket_dyn_templates::Template;
use serde_json::Value;

use crate::auth::csrf::CsrfForm;
use crate::auth::guard::AdminUser;
use crate::auth::session::Sessions;
use crate::cache::Cache;
use crate::error::AppError;
use crate::kv::Backends;
use crate::mail::Mail;
use crate::store::Store;
use crate::web::page::{Navigate, Page};

/// When this process started, for the uptime on the admin page.
pub struct Started(pub Instant);

/// The confirmation an admin action carries: `confirm=yes` (from the dialog or the
/// confirmation page) and, for deleting a user, the user's name typed again.
#[derive(FromForm)]
pub struct Confirmation {
    #[field(default = String::new())]
    confirm: String,
    #[field(default = String::new())]
    confirm_username: String,
}

impl Confirmation {
    fn given(&self) -> bool {
        self.confirm == "yes"
    }
}

/// The page that asks "are you sure?" when the request came without confirmation.
fn confirm_page(page: &Page, question: &str, action: &str, typed_name: Option<&str>) -> Template {
    page.render(
        "admin_confirm.html",
        json!({ "question": question, "action": action, "typed_name": typed_name }),
    )
}

async fn audit(store: &Store, admin: &AdminUser, action: &str, target: &str) -> Result<(), AppError> {
    let actor = &admin.0.user;
    store.record_audit(Some(actor.id), &actor.username, action, target).await?;
    log::info!("admin {} ({}): {action} {target}", actor.username, actor.id.0);
    Ok(())
}

fn notice(flash: Option<FlashMessage<'_>>) -> Value {
    flash.map_or(Value::Null, |f| json!({ "kind": f.kind(), "message": f.message() }))
}

fn pages(total: i64) -> i64 {
    (total + crate::store::admin::ADMIN_PAGE_SIZE - 1) / crate::store::admin::ADMIN_PAGE_SIZE
}

#[allow(clippy::too_many_arguments, reason = "guards: each is one figure on the page")]
#[rocket::get("/admin")]
pub async fn home(
    _admin: AdminUser,
    page: Page,
    store: &State<Store>,
    backends: &State<Backends>,
    cache: &State<Cache>,
    sessions: &State<Sessions>,
    started: &State<Started>,
    mail: &State<Mail>,
    flash: Option<FlashMessage<'_>>,
) -> Result<Template, AppError> {
    let users = store.count_users().await?;
    let outbox = store.outbox_summary(chrono::Utc::now()).await?;
    let size = store.database_size().await?;
    let session_count =
        sessions.count().await.map(|(n, more)| format!("{n}{}", if more { "+" } else { "" })).ok();
    let usage = cache.usage().await;
    Ok(page.render(
        "admin.html",
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "uptime": format_uptime(started.0.elapsed().as_secs()),
            "engine": store.engine(),
            "database_size": format!("{:.1} MB", size as f64 / 1_048_576.0),
            "users": users,
            "sessions": session_count,
            "cache_backend": backends.cache.backend(),
            "session_backend": backends.sessions.backend(),
            "cache_keys": usage.as_ref().map(|((n, more), _)| format!("{n}{}", if *more { "+" } else { "" })),
            "redis_info": usage.map(|(_, info)| info).unwrap_or_default(),
            "cache_stats": cache_stats(cache),
            "notice": notice(flash),
            "mail_enabled": mail.enabled(),
            "outbox": outbox,
        }),
    ))
}

fn format_uptime(seconds: u64) -> String {
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60);
    format!("{days} d {hours} h {minutes} min")
}

fn cache_stats(cache: &Cache) -> Vec<Value> {
    cache
        .stats()
        .into_iter()
        .map(|(pattern, hits, misses, bypasses)| {
            let lookups = hits + misses;
            let ratio =
                if lookups == 0 { "–".to_string() } else { format!("{:.1} %", 100.0 * hits as f64 / lookups as f64) };
            json!({ "pattern": pattern, "hits": hits, "misses": misses, "bypasses": bypasses, "ratio": ratio })
        })
        .collect()
}

/// Retires every cached page of every user (an epoch bump: no `KEYS`, no `FLUSHDB`).
#[rocket::post("/admin/cache/flush", data = "<form>")]
pub async fn flush_cache(
    form: CsrfForm<Confirmation>,
    admin: AdminUser,
    page: Page,
    store: &State<Store>,
    cache: &State<Cache>,
) -> Result<Either<Flash<Navigate>, Template>, AppError> {
    if !form.0.given() {
        let question = "Empty the cache of every user? Pages are rendered again on their next visit.";
        return Ok(Either::Right(confirm_page(&page, question, "/admin/cache/flush", None)));
    }
    let flushed = cache.flush_all().await;
    audit(store, &admin, "flush cache", "all users").await?;
    let message = if flushed {
        "The cache was emptied."
    } else {
        "Redis is unreachable: the cache empties when it is back."
    };
    Ok(Either::Left(Flash::success(Navigate { to: "/admin".into(), htmx: page.htmx }, message)))
}

/// The audit log, newest first. Read-only: nothing in the UI changes it.
#[rocket::get("/admin/audit?<p>")]
pub async fn audit_log(
    _admin: AdminUser,
    page: Page,
    store: &State<Store>,
    p: Option<i64>,
) -> Result<Template, AppError> {
    let number = p.unwrap_or(1).max(1);
    let (rows, total) = store.audit_log(number).await?;
    Ok(page.render("admin_audit.html", json!({ "rows": rows, "page": number, "pages": pages(total).max(1) })))
}

pub fn routes() -> Vec<rocket::Route> {
    let mut routes = rocket::routes![home, flush_cache, audit_log];
    routes.extend(users::routes());
    routes.extend(events::routes());
    routes
}
