//! Register, log in, log out, and the login redirect for pages that need a user.

use std::net::IpAddr;

use rocket::form::FromForm;
use rocket::http::{Header, RawStr, Status};
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder, Response};
use rocket::{Either, State};
use rocket_dyn_templates::Template;
use serde_json::json;

use super::csrf::CsrfForm;
use super::identity::Identity;
use super::password;
use super::throttle::{LoginThrottle, Throttled};
use super::validate;
use crate::error::AppError;
use crate::store::{NewUser, Store};
use crate::web::htmx::Htmx;
use crate::web::page::{safe_next, Navigate, Page};

#[derive(FromForm)]
pub struct LoginForm {
    #[field(default = String::new())]
    username: String,
    #[field(default = String::new())]
    password: String,
    #[field(default = String::new())]
    next: String,
}

#[derive(FromForm)]
pub struct RegisterForm {
    #[field(default = String::new())]
    username: String,
    #[field(default = String::new())]
    password: String,
    #[field(default = String::new())]
    password_confirm: String,
}

/// A form whose only field is the CSRF token (already checked by `CsrfForm`).
#[derive(FromForm)]
pub struct TokenOnly {
    #[field(name = "csrf_token", default = String::new())]
    pub _token: String,
}

const LOGIN_FAILED: &str = "Unknown username or wrong password.";

#[rocket::get("/login?<next>")]
pub fn login_page(page: Page, next: Option<&str>) -> Either<Template, Redirect> {
    let next = safe_next(next);
    if page.user.is_some() {
        return Either::Right(Redirect::to(next));
    }
    Either::Left(page.render("login.html", json!({ "next": next, "username": "", "errors": {} })))
}

/// A page re-rendered with an error (login, registration, password change), plus
/// `Retry-After` when throttled.
pub struct Refused {
    pub page: (Status, Template),
    pub retry_after: Option<u64>,
}

impl<'r> Responder<'r, 'static> for Refused {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::build_from(self.page.respond_to(request)?);
        if let Some(seconds) = self.retry_after {
            response.header(Header::new("Retry-After", seconds.to_string()));
        }
        response.ok()
    }
}

#[rocket::post("/login", data = "<form>")]
pub async fn login(
    form: CsrfForm<LoginForm>,
    page: Page,
    address: Option<IpAddr>,
    store: &State<Store>,
    throttle: &State<LoginThrottle>,
    identity: Identity<'_>,
) -> Result<Either<Navigate, Refused>, AppError> {
    let form = form.0;
    let username = validate::normalise_username(&form.username);
    let next = safe_next(Some(&form.next));
    let refuse = |status: Status, message: String, retry_after: Option<u64>| Refused {
        page: page.render_status(
            status,
            "login.html",
            json!({ "next": next, "username": form.username, "errors": { "form": message } }),
        ),
        retry_after,
    };
    let attempt = match throttle.attempt(&username, address).await {
        Ok(attempt) => attempt,
        Err(Throttled(wait)) => {
            let seconds = wait.as_secs().max(1);
            let message =
                format!("Too many login attempts. Try again in {} minute(s).", seconds.div_ceil(60));
            return Ok(Either::Right(refuse(Status::TooManyRequests, message, Some(seconds))));
        }
    };
    let user = store.user_by_username(&username).await?;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    let verified = password::verify(form.password.clone(), stored_hash).await?;
    let Some(user) = user.filter(|u| verified && u.is_active) else {
        return Ok(Either::Right(refuse(Status::Unauthorized, LOGIN_FAILED.into(), None)));
    };
    throttle.succeeded(attempt).await;
    identity.start(&user).await?;
    Ok(Either::Left(Navigate { to: next, htmx: page.htmx }))
}

#[rocket::post("/logout", data = "<_form>")]
pub async fn logout(
    _form: CsrfForm<TokenOnly>,
    identity: Identity<'_>,
    htmx: Htmx,
) -> Result<Navigate, AppError> {
    identity.end().await?;
    Ok(Navigate { to: "/login".into(), htmx })
}

#[rocket::get("/register")]
pub fn register_page(page: Page) -> Either<Template, Redirect> {
    if page.user.is_some() {
        return Either::Right(Redirect::to("/"));
    }
    Either::Left(page.render("register.html", json!({ "username": "", "errors": {} })))
}

#[rocket::post("/register", data = "<form>")]
pub async fn register(
    form: CsrfForm<RegisterForm>,
    page: Page,
    store: &State<Store>,
    identity: Identity<'_>,
    throttle: &State<LoginThrottle>,
    address: Option<IpAddr>,
) -> Result<Either<Navigate, Refused>, AppError> {
    let form = form.0;
    if let Err(Throttled(wait)) = throttle.registration(address).await {
        let seconds = wait.as_secs().max(1);
        let message =
            format!("Too many new accounts from here. Try again in {} minute(s).", seconds.div_ceil(60));
        let context = json!({ "username": form.username, "errors": { "form": message } });
        let page = page.render_status(Status::TooManyRequests, "register.html", context);
        return Ok(Either::Right(Refused { page, retry_after: Some(seconds) }));
    }
    let mut errors = serde_json::Map::new();
    let username = validate::normalise_username(&form.username);
    if let Err(e) = validate::username(&username) {
        errors.insert("username".into(), json!(e));
    }
    if let Err(e) = validate::password(&form.password) {
        errors.insert("password".into(), json!(e));
    } else if form.password != form.password_confirm {
        errors.insert("password_confirm".into(), json!("The passwords do not match."));
    }
    let rerender = |errors: serde_json::Map<String, serde_json::Value>| {
        let context = json!({ "username": form.username, "errors": errors });
        let page = page.render_status(Status::UnprocessableEntity, "register.html", context);
        Either::Right(Refused { page, retry_after: None })
    };
    if !errors.is_empty() {
        return Ok(rerender(errors));
    }
    let password_hash = password::hash(form.password.clone()).await?;
    let new = NewUser { username: &username, password_hash: &password_hash, is_admin: false };
    if store.create_user(new).await?.is_err() {
        errors
            .insert("username".into(), json!("This username is taken, or looks too much like one that is."));
        return Ok(rerender(errors));
    }
    let user = store.user_by_username(&username).await?;
    let user = user.ok_or(AppError::NotFound)?;
    identity.start(&user).await?;
    Ok(Either::Left(Navigate { to: "/".into(), htmx: page.htmx }))
}

/// Pages that need a user forward with 401 when there is none; this sends the browser to
/// the login page and back afterwards (htmx: a full-page `HX-Redirect`).
#[rocket::catch(401)]
pub fn login_redirect(request: &Request<'_>) -> Navigate {
    let here = match request.method() {
        rocket::http::Method::Get => request.uri().to_string(),
        _ => "/".to_string(),
    };
    let next = RawStr::new(&safe_next(Some(&here))).percent_encode().to_string();
    let to = if next == "%2F" || next == "/" { "/login".to_string() } else { format!("/login?next={next}") };
    Navigate { to, htmx: Htmx::from_request(request) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn login_failure_message_is_generic() {
        assert!(!super::LOGIN_FAILED.to_lowercase().contains("exist"));
    }
}
