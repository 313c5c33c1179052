//! `GET /metrics`: Prometheus text for admins, or for a scraper holding `metrics_token`.

use std::fmt::Write;

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::State;
use subtle::ConstantTimeEq;

use super::Cache;
use crate::auth::guard::AdminUser;
use crate::config::AppConfig;
use crate::kv::Backends;
use crate::store::Store;
use crate::web::timing::RequestTimes;

/// An admin's session, or `Authorization: Bearer <metrics_token>` when a token is configured.
pub struct MetricsReader;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for MetricsReader {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        let configured = request.rocket().state::<AppConfig>().and_then(|c| c.metrics_token.clone());
        let presented = request.headers().get_one("Authorization").and_then(|h| h.strip_prefix("Bearer "));
        if let (Some(configured), Some(presented)) = (configured.filter(|t| !t.is_empty()), presented) {
            if bool::from(configured.as_bytes().ct_eq(presented.as_bytes())) {
                return Outcome::Success(MetricsReader);
            }
            return Outcome::Error((Status::Forbidden, ()));
        }
        match request.guard::<AdminUser>().await {
            Outcome::Success(_) => Outcome::Success(MetricsReader),
            Outcome::Error(e) => Outcome::Error(e),
            Outcome::Forward(_) => Outcome::Error((Status::Forbidden, ())),
        }
    }
}

#[rocket::get("/metrics")]
pub fn metrics(
    _reader: MetricsReader,
    cache: &State<Cache>,
    store: &State<Store>,
    backends: &State<Backends>,
    times: &State<RequestTimes>,
) -> String {
    let mut out = String::new();
    times.render(&mut out);
    out.push_str("# HELP eventide_cache_requests_total Cache lookups by key pattern and outcome.\n");
    out.push_str("# TYPE eventide_cache_requests_total counter\n");
    for (pattern, hits, misses, bypasses) in cache.stats() {
        for (outcome, value) in [("hit", hits), ("miss", misses), ("bypass", bypasses)] {
            let _ = writeln!(
                out,
                "eventide_cache_requests_total{{pattern=\"{pattern}\",outcome=\"{outcome}\"}} {value}"
            );
        }
    }
    out.push_str("# HELP eventide_sql_queries_total SQL queries run by the store.\n");
    out.push_str("# TYPE eventide_sql_queries_total counter\n");
    let _ = writeln!(out, "eventide_sql_queries_total {}", store.queries());
    out.push_str("# HELP eventide_redis_round_trips_total Redis round trips by role.\n");
    out.push_str("# TYPE eventide_redis_round_trips_total counter\n");
    let _ =
        writeln!(out, "eventide_redis_round_trips_total{{role=\"cache\"}} {}", backends.cache.round_trips());
    let _ = writeln!(
        out,
        "eventide_redis_round_trips_total{{role=\"sessions\"}} {}",
        backends.sessions.round_trips()
    );
    out
}
