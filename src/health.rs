//! `GET /healthz`: is this instance able to serve? The database is essential (503 without it);
//! Redis is reported but not essential, because the app fails open to the database.

use rocket::http::Status;
use rocket::serde::json::{json, Json, Value};
use rocket::State;

use crate::kv::Backends;
use crate::store::Store;

#[rocket::get("/healthz")]
pub async fn healthz(store: &State<Store>, backends: &State<Backends>) -> (Status, Json<Value>) {
    let (database, cache, sessions) =
        tokio::join!(store.ping(), backends.cache.ping(), backends.sessions.ping());
    let report = |ok: bool| if ok { "ok" } else { "unavailable" };
    let status = if database.is_ok() { Status::Ok } else { Status::ServiceUnavailable };
    if let Err(e) = &database {
        log::warn!("health check: database unavailable: {e}");
    }
    let body = json!({
        "status": report(database.is_ok()),
        "database": { "engine": store.engine(), "status": report(database.is_ok()) },
        "cache": { "backend": backends.cache.backend(), "status": report(cache.is_ok()) },
        "sessions": { "backend": backends.sessions.backend(), "status": report(sessions.is_ok()) },
        "version": env!("CARGO_PKG_VERSION"),
    });
    (status, Json(body))
}
