//! Changing who the browser is: login (a fresh session id, never one the browser offered),
//! logout, and password changes. Each change also replaces the CSRF cookie, so the token
//! changes with the identity.

use rocket::http::{CookieJar, Status};
use rocket::request::{FromRequest, Outcome, Request};

use super::csrf;
use super::guard::CurrentUser;
use super::session::{Sessions, Snapshot};
use crate::config::AppConfig;
use crate::error::AppError;
use crate::store::{SessionUser, Store, User};

pub struct Identity<'r> {
    cookies: &'r CookieJar<'r>,
    sessions: &'r Sessions,
    store: &'r Store,
    config: &'r AppConfig,
    /// The session this request arrived with, if it is still live.
    current: Option<CurrentUser>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Identity<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        let rocket = request.rocket();
        let (Some(sessions), Some(store), Some(config)) =
            (rocket.state::<Sessions>(), rocket.state::<Store>(), rocket.state::<AppConfig>())
        else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        // A session store outage must not look like "no session": that would turn a logout
        // into a silent no-op and a login into a leaked old session.
        let current = match CurrentUser::optional(request).await {
            Ok(current) => current,
            Err(status) => return Outcome::Error((status, ())),
        };
        Outcome::Success(Identity { cookies: request.cookies(), sessions, store, config, current })
    }
}

impl Identity<'_> {
    pub fn current(&self) -> Option<&CurrentUser> {
        self.current.as_ref()
    }

    /// Logs `user` in: ends the session the browser had, issues a new one.
    pub async fn start(&self, user: &User) -> Result<(), AppError> {
        if let Some(previous) = &self.current {
            self.sessions.destroy(&previous.session).await?;
        }
        self.sessions.remember_user(&SessionUser::from(user), Snapshot::Changed).await?;
        let id = self.sessions.create(user).await?;
        self.sessions.set_cookie(self.cookies, &id);
        csrf::rotate(self.cookies, self.config);
        if let Err(e) = self.store.record_login(user.id).await {
            log::warn!("could not record the login time of user {}: {e}", user.id.0);
        }
        log::info!("user {} logged in", user.id.0);
        Ok(())
    }

    pub async fn end(&self) -> Result<(), AppError> {
        if let Some(current) = &self.current {
            self.sessions.destroy(&current.session).await?;
            log::info!("user {} logged out", current.user.id.0);
        }
        self.sessions.remove_cookie(self.cookies);
        csrf::rotate(self.cookies, self.config);
        Ok(())
    }
}
