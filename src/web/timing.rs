//! How long requests take, as Prometheus histograms per route family and instance (on
//! `/metrics`). Families are a fixed, short list (the route's first path segment, grouped), so
//! the number of series never grows with the URLs people visit. The instance label tells
//! instances apart when `/metrics` is scraped through a load balancer.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Data, Request, Response};

/// Upper bounds of the buckets, in seconds.
const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

const FAMILIES: [&str; 16] = [
    "home",
    "calendar",
    "events",
    "search",
    "calendars",
    "account",
    "auth",
    "notifications",
    "admin",
    "ical",
    "public",
    "mail",
    "assets",
    "health",
    "caldav",
    "other",
];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    micros: AtomicU64,
}

/// The histograms of this instance; cheap to clone (the CalDAV server holds one too).
#[derive(Clone)]
pub struct RequestTimes {
    instance: Arc<str>,
    families: Arc<[Histogram; FAMILIES.len()]>,
}

impl RequestTimes {
    pub fn new(instance: &str) -> RequestTimes {
        RequestTimes { instance: instance.into(), families: Arc::new(Default::default()) }
    }

    /// Counts one request of `family` (one of the families; any other counts as "other").
    pub fn observe(&self, family: &str, took: Duration) {
        let index = FAMILIES.iter().position(|f| *f == family).unwrap_or(FAMILIES.len() - 1);
        let histogram = &self.families[index];
        let seconds = took.as_secs_f64();
        for (bucket, bound) in histogram.buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        histogram.count.fetch_add(1, Ordering::Relaxed);
        histogram.micros.fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Prometheus text of every family that saw a request.
    pub fn render(&self, out: &mut String) {
        out.push_str("# HELP eventide_request_duration_seconds Time to answer a request, by route family.\n");
        out.push_str("# TYPE eventide_request_duration_seconds histogram\n");
        let instance = self.instance.replace(['\\', '"', '\n'], "_");
        for (family, histogram) in FAMILIES.iter().zip(self.families.iter()) {
            let count = histogram.count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let labels = format!("instance=\"{instance}\",family=\"{family}\"");
            for (bucket, bound) in histogram.buckets.iter().zip(BUCKETS) {
                let n = bucket.load(Ordering::Relaxed);
                let _ =
                    writeln!(out, "eventide_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "eventide_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}");
            let seconds = histogram.micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(out, "eventide_request_duration_seconds_sum{{{labels}}} {seconds}");
            let _ = writeln!(out, "eventide_request_duration_seconds_count{{{labels}}} {count}");
        }
    }
}

/// The family of a route, from its path's first segment.
fn family_of(route_path: &str) -> &'static str {
    match route_path.split('/').nth(1).unwrap_or_default() {
        "" => "home",
        "calendar" | "free-busy" => "calendar",
        "events" => "events",
        "search" => "search",
        "calendars" => "calendars",
        "account" => "account",
        "login" | "register" | "logout" => "auth",
        "notifications" => "notifications",
        "admin" => "admin",
        "feeds" | "export.ics" | "import" => "ical",
        "public" => "public",
        "mail" => "mail",
        "assets" => "assets",
        "healthz" | "readyz" | "metrics" => "health",
        _ => "other",
    }
}

/// When the request arrived (in its local cache).
struct Arrived(Instant);

/// The fairing that times every web request.
pub struct Timing;

#[rocket::async_trait]
impl Fairing for Timing {
    fn info(&self) -> Info {
        Info { name: "Request timing", kind: Kind::Request | Kind::Response }
    }

    async fn on_request(&self, request: &mut Request<'_>, _: &mut Data<'_>) {
        request.local_cache(|| Arrived(Instant::now()));
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, _: &mut Response<'r>) {
        let Some(times) = request.rocket().state::<RequestTimes>() else { return };
        let arrived = request.local_cache(|| Arrived(Instant::now()));
        let family = request.route().map_or("other", |route| family_of(route.uri.path()));
        times.observe(family, arrived.0.elapsed());
    }
}

/// This instance's name: `instance_name`, or the host's name and the port.
pub fn instance_name(configured: Option<&str>, port: u16) -> String {
    if let Some(name) = configured.map(str::trim).filter(|n| !n.is_empty()) {
        return name.to_string();
    }
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_families_fixed() {
        let times = RequestTimes::new("a:8000");
        times.observe("calendar", Duration::from_millis(3));
        times.observe("calendar", Duration::from_millis(300));
        times.observe("no such family", Duration::from_millis(1));
        let mut out = String::new();
        times.render(&mut out);
        let line = |le: &str| {
            format!("eventide_request_duration_seconds_bucket{{instance=\"a:8000\",family=\"calendar\",le=\"{le}\"}}")
        };
        assert!(out.contains(&format!("{} 1\n", line("0.005"))), "{out}");
        assert!(out.contains(&format!("{} 1\n", line("0.25"))), "{out}");
        assert!(out.contains(&format!("{} 2\n", line("0.5"))), "{out}");
        assert!(out.contains(&format!("{} 2\n", line("+Inf"))), "{out}");
        assert!(out.contains("family=\"other\",le=\"+Inf\"} 1"), "{out}");
        assert!(!out.contains("family=\"events\""), "families without requests are left out");
        assert_eq!(family_of("/calendar/<view>/<date>"), "calendar");
        assert_eq!(family_of("/"), "home");
        assert_eq!(family_of("/login"), "auth");
    }
}
