//! Who a CalDAV request is from: HTTP Basic with a username and one of that user's app
//! passwords. A password is checked by one indexed lookup of its SHA-256; failures count
//! against the client address like failed web logins, and an address over the limit is
//! refused before its password is looked at.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use chrono_tz::Tz;
use hyper::header::AUTHORIZATION;
use hyper::HeaderMap;

use super::error::DavError;
use super::Dav;
use crate::auth::app_passwords::secret_hash;
use crate::auth::validate::normalise_username;
use crate::domain::UserId;
use crate::store::users::username_key;

/// "Last used" is written at most this often per password: a phone syncing every few
/// minutes costs no write per request.
const LAST_USED_EVERY: Duration = Duration::from_secs(15 * 60);

/// The user a request acts for.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: UserId,
    pub username: String,
    /// Where times without a zone in uploaded events are.
    pub zone: Tz,
}

impl Principal {
    /// Whether a path's user segment names this principal (as the web compares usernames).
    pub fn is(&self, user: &str) -> bool {
        username_key(&normalise_username(user)) == username_key(&self.username)
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (username, password) = decoded.split_once(':')?;
    Some((username.to_string(), password.to_string()))
}

pub async fn authenticate(
    dav: &Dav,
    headers: &HeaderMap,
    address: Option<IpAddr>,
) -> Result<Principal, DavError> {
    let Some((username, password)) = basic_credentials(headers) else {
        return Err(DavError::Unauthorized);
    };
    dav.throttle.address_allowed(address).await.map_err(|wait| DavError::Throttled(wait.0))?;
    let owner = dav.store.app_password_owner(&secret_hash(&password)).await?;
    let typed = username_key(&normalise_username(&username));
    let Some(owner) = owner.filter(|o| username_key(&o.username) == typed) else {
        dav.throttle.address_failed(address).await;
        return Err(DavError::Unauthorized);
    };
    let now = Utc::now();
    let stale =
        owner.last_used_at.is_none_or(|at| (now - at).to_std().is_ok_and(|age| age >= LAST_USED_EVERY));
    if stale {
        let store = dav.store.clone();
        // Off the request's path: the answer does not wait for the bookkeeping.
        tokio::spawn(async move {
            if let Err(e) = store.touch_app_password(owner.password_id, now).await {
                log::warn!("CalDAV: could not record an app password's use: {e}");
            }
        });
    }
    Ok(Principal {
        user: owner.user_id,
        username: owner.username,
        zone: owner.time_zone.parse().unwrap_or(Tz::UTC),
    })
}
