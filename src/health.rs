//! `GET /healthz`: is this instance alive and able to serve? The database is essential (503
//! without it); Redis is reported but not essential, because the app fails open to the
//! database. `GET /readyz`: should a load balancer send it work? Not once it was told to stop
//! (SIGTERM), so the balancer drains it before it stops accepting connections.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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

/// Whether this instance still takes new work: false from the moment it is told to stop.
#[derive(Debug, Clone)]
pub struct Readiness(Arc<AtomicBool>);

impl Default for Readiness {
    fn default() -> Self {
        Readiness(Arc::new(AtomicBool::new(true)))
    }
}

impl Readiness {
    pub fn stop(&self) {
        self.0.store(false, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[rocket::get("/readyz")]
pub async fn readyz(readiness: &State<Readiness>, store: &State<Store>) -> (Status, Json<Value>) {
    if !readiness.is_ready() {
        return (Status::ServiceUnavailable, Json(json!({ "status": "stopping" })));
    }
    match store.ping().await {
        Ok(()) => (Status::Ok, Json(json!({ "status": "ready" }))),
        Err(_) => (Status::ServiceUnavailable, Json(json!({ "status": "unavailable" }))),
    }
}

/// How the server stops on SIGTERM or SIGINT: it reports not ready at once, keeps serving
/// for `drain` (the balancer's health checks notice and send nothing new), then stops
/// accepting and gives requests in flight Rocket's grace period (`shutdown_grace_seconds`).
/// Installed by the server alone: a library or a test must not take over the signals.
pub fn stop_on_signals(readiness: Readiness, shutdown: rocket::Shutdown, drain: std::time::Duration) {
    rocket::tokio::spawn(async move {
        let signal = async {
            #[cfg(unix)]
            {
                use rocket::tokio::signal::unix::{signal, SignalKind};
                match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
                    (Ok(mut term), Ok(mut int)) => {
                        rocket::tokio::select! {
                            _ = term.recv() => "SIGTERM",
                            _ = int.recv() => "SIGINT",
                        }
                    }
                    _ => std::future::pending().await,
                }
            }
            #[cfg(not(unix))]
            {
                let _ = rocket::tokio::signal::ctrl_c().await;
                "Ctrl-C"
            }
        };
        let got = rocket::tokio::select! {
            got = signal => got,
            _ = shutdown.clone() => return,
        };
        readiness.stop();
        log::info!(
            "{got}: not ready; serving for {} s more while the balancer drains this instance",
            drain.as_secs()
        );
        rocket::tokio::time::sleep(drain).await;
        log::info!("stopping: no new connections; requests in flight may finish");
        shutdown.notify();
    });
}
