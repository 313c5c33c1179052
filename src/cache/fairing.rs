//! The fairing that owns the cache: it builds `Cache` over the cache backend at launch and
//! stamps `X-Cache` on every response whose handler went through it.

use std::sync::atomic::{AtomicU8, Ordering};

use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::Header;
use rocket::request::{FromRequest, Outcome as GuardOutcome, Request};
use rocket::{Build, Response, Rocket};

use super::{Cache, CacheKey, Fragment, Outcome};
use crate::config::AppConfig;
use crate::error::AppError;
use crate::kv::Backends;

pub struct CacheFairing;

#[rocket::async_trait]
impl Fairing for CacheFairing {
    fn info(&self) -> Info {
        Info { name: "Cache", kind: Kind::Ignite | Kind::Response }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let (Some(backends), Some(config)) = (rocket.state::<Backends>(), rocket.state::<AppConfig>()) else {
            log::error!("the cache needs the key-value backends");
            return Err(rocket);
        };
        let kv = config.cache_enabled.then(|| backends.cache.clone());
        let cache = Cache::new(kv, std::time::Duration::from_secs(config.cache_ttl_seconds.max(1)));
        log::info!("cache: {}", cache.backend());
        Ok(rocket.manage(cache))
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let slot = request.local_cache(OutcomeSlot::default);
        let outcome = match slot.0.load(Ordering::Relaxed) {
            1 => Outcome::Hit,
            2 => Outcome::Miss,
            3 => Outcome::Bypass,
            _ => return,
        };
        response.set_header(Header::new("X-Cache", outcome.header()));
    }
}

#[derive(Default)]
struct OutcomeSlot(AtomicU8);

/// The cache as a handler sees it: fetches record their outcome for the `X-Cache` header.
pub struct CacheScope<'r> {
    cache: &'r Cache,
    slot: &'r OutcomeSlot,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CacheScope<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> GuardOutcome<Self, ()> {
        match request.rocket().state::<Cache>() {
            Some(cache) => {
                GuardOutcome::Success(CacheScope { cache, slot: request.local_cache(OutcomeSlot::default) })
            }
            None => GuardOutcome::Error((rocket::http::Status::InternalServerError, ())),
        }
    }
}

impl CacheScope<'_> {
    pub async fn fetch<F, Fut>(&self, key: &CacheKey, load: F) -> Result<Fragment, AppError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Fragment, AppError>>,
    {
        let (fragment, outcome) = self.cache.fetch(key, load).await?;
        let code = match outcome {
            Outcome::Hit => 1,
            Outcome::Miss => 2,
            Outcome::Bypass => 3,
        };
        self.slot.0.store(code, Ordering::Relaxed);
        Ok(fragment)
    }

    pub fn cache(&self) -> &Cache {
        self.cache
    }
}
