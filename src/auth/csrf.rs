//! CSRF protection by signed double-submit: each browser holds a random HttpOnly cookie, and
//! the token in pages, forms and htmx headers is HMAC(SECRET_KEY, cookie). An attacker's page
//! can neither read the cookie nor compute the token. The cookie is replaced at login and
//! logout, so the token changes with every change of identity.

use hmac::{Hmac, Mac};
use rand::RngCore;
use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, CookieJar, RawStr, SameSite, Status};
use rocket::request::{self, FromRequest, Request};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::guard::CurrentUser;
use super::session::base64_url;
use crate::config::{AppConfig, Secret};
use crate::web::public_url::PublicUrl;

pub const HEADER: &str = "X-CSRF-Token";
pub const FIELD: &str = "csrf_token";

fn cookie_name(config: &AppConfig) -> &'static str {
    if config.secure_cookies {
        "__Host-eventide_csrf"
    } else {
        "eventide_csrf"
    }
}

/// The token for a browser's CSRF cookie (`binding`) and its session cookie, if any: bound to
/// the session once logged in, so one account's token never works beside another's session.
fn sign(secret: &Secret, binding: &str, session: Option<&str>) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret.0).unwrap_or_else(|_| unreachable!());
    mac.update(b"eventide csrf v2:");
    mac.update(binding.as_bytes());
    mac.update(b"|");
    if let Some(session) = session {
        mac.update(&Sha256::digest(session.as_bytes()));
    }
    base64_url(&mac.finalize().into_bytes())
}

/// The session a token is bound to: the request's live session, if it has one. (A cookie
/// naming no live session binds nothing: the server drops such cookies.)
async fn bound_session(request: &Request<'_>) -> Result<Option<String>, Status> {
    let current = CurrentUser::optional(request).await?;
    Ok(current.map(|user| user.session.as_str().to_string()))
}

/// False when the request names an origin (browsers do on every POST) that is neither the
/// configured public URL's nor the one the request itself was sent to.
fn origin_allowed(request: &Request<'_>) -> bool {
    let Some(origin) = request.headers().get_one("Origin") else { return true };
    let origin = origin.trim().to_ascii_lowercase();
    if request.rocket().state::<PublicUrl>().is_some_and(|public| public.origin() == origin) {
        return true;
    }
    let authority = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    let host = request.headers().get_one("Host").map(str::to_ascii_lowercase);
    authority.is_some_and(|authority| host.as_deref() == Some(authority))
}

fn is_well_formed(binding: &str) -> bool {
    binding.len() == 43 && binding.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn new_binding(cookies: &CookieJar<'_>, config: &AppConfig) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let binding = base64_url(&bytes);
    cookies.add(
        Cookie::build((cookie_name(config), binding.clone()))
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(config.secure_cookies)
            .path("/"),
    );
    binding
}

/// Replaces the browser's CSRF cookie (at login and logout); pages rendered from now on
/// carry the token for the new cookie and the new session.
pub fn rotate(cookies: &CookieJar<'_>, config: &AppConfig) {
    new_binding(cookies, config);
}

/// The token for this browser, to put into pages and forms. Sets the cookie if it is missing.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfToken {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        // During a session store outage the page still renders (with a token bound to no
        // session); the state change it leads to answers 503 until the store is back.
        let session = bound_session(request).await.unwrap_or_default();
        let token = request.local_cache(|| {
            let rocket = request.rocket();
            let (Some(config), Some(secret)) = (rocket.state::<AppConfig>(), rocket.state::<Secret>()) else {
                return None;
            };
            let cookies = request.cookies();
            let binding = match cookies.get_pending(cookie_name(config)) {
                Some(cookie) if is_well_formed(cookie.value()) => cookie.value().to_string(),
                _ => new_binding(cookies, config),
            };
            Some(CsrfToken(sign(secret, &binding, session.as_deref())))
        });
        match token {
            Some(token) => request::Outcome::Success(token.clone()),
            None => request::Outcome::Error((Status::InternalServerError, ())),
        }
    }
}

/// Whether `supplied` is the token for this browser's cookie and live session, on a request
/// from our own pages. `Err` when the session store cannot say (a 503, never a 403 that would
/// tell the user their form is stale).
async fn verify(request: &Request<'_>, supplied: Option<&str>) -> Result<bool, Status> {
    if !origin_allowed(request) {
        return Ok(false);
    }
    let rocket = request.rocket();
    let (Some(config), Some(secret), Some(supplied)) =
        (rocket.state::<AppConfig>(), rocket.state::<Secret>(), supplied)
    else {
        return Ok(false);
    };
    let Some(cookie) = request.cookies().get(cookie_name(config)) else {
        return Ok(false);
    };
    if !is_well_formed(cookie.value()) {
        return Ok(false);
    }
    let expected = sign(secret, cookie.value(), bound_session(request).await?.as_deref());
    Ok(expected.as_bytes().ct_eq(supplied.as_bytes()).into())
}

/// `verify` as a guard's outcome: 403 for a wrong token, the store's status when it failed.
pub async fn check(request: &Request<'_>, supplied: Option<&str>) -> Result<(), Status> {
    match verify(request, supplied).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Status::Forbidden),
        Err(status) => Err(status),
    }
}

/// Guard for state changes without a body (htmx `DELETE`): the token must be in the header.
pub struct CsrfHeader;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfHeader {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        match check(request, request.headers().get_one(HEADER)).await {
            Ok(()) => request::Outcome::Success(CsrfHeader),
            Err(status) => request::Outcome::Error((status, ())),
        }
    }
}

/// A urlencoded form whose token (the `csrf_token` field, or the header htmx sends) has been
/// checked before the form itself is parsed. Every form handler takes its data through this.
pub struct CsrfForm<T>(pub T);

#[rocket::async_trait]
impl<'r, T: for<'a> FromForm<'a> + Send + 'static> FromData<'r> for CsrfForm<T> {
    type Error = ();

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self, ()> {
        let limit = request.limits().get("form").unwrap_or_else(|| 64.kibibytes());
        let body = match data.open(limit).into_string().await {
            Ok(body) if body.is_complete() => body.into_inner(),
            Ok(_) => return data::Outcome::Error((Status::PayloadTooLarge, ())),
            Err(_) => return data::Outcome::Error((Status::BadRequest, ())),
        };
        // Tokens are base64url, which browsers never percent-encode: the raw value is the token.
        let field = Form::values(&body).find(|field| field.name == FIELD).map(|field| field.value);
        if let Err(status) = check(request, request.headers().get_one(HEADER).or(field)).await {
            return data::Outcome::Error((status, ()));
        }
        // Parsing is lenient: the token field (and any field a newer page adds) is not the
        // form's business.
        match Form::<T>::parse_encoded(RawStr::new(&body)) {
            Ok(form) => data::Outcome::Success(CsrfForm(form)),
            Err(_) => data::Outcome::Error((Status::UnprocessableEntity, ())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_depend_on_secret_and_binding() {
        let (a, b) = (Secret([1; 32]), Secret([2; 32]));
        let binding = "x".repeat(43);
        assert_eq!(sign(&a, &binding, None), sign(&a, &binding, None));
        assert_ne!(sign(&a, &binding, None), sign(&b, &binding, None));
        assert_ne!(sign(&a, &binding, None), sign(&a, &"y".repeat(43), None));
        assert_ne!(sign(&a, &binding, Some("s1")), sign(&a, &binding, Some("s2")));
        assert_ne!(sign(&a, &binding, Some("s1")), sign(&a, &binding, None));
        assert!(!is_well_formed("short"));
    }
}
