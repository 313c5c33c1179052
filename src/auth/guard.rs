//! Who is asking. `CurrentUser` resolves the session cookie (once per request, cached);
//! `AdminUser` builds on it. A missing or dead session forwards with 401, which the 401
//! catcher turns into the login redirect; a session store outage is a 503, never a logout.

use rocket::http::Status;
use rocket::outcome::try_outcome;
use rocket::request::{FromRequest, Outcome, Request};

use super::session::{SessionId, Sessions, Snapshot};
use crate::domain::UserId;
use crate::store::{SessionUser, Store};

#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: SessionUser,
    pub session: SessionId,
}

async fn resolve(request: &Request<'_>) -> Result<Option<CurrentUser>, Status> {
    let rocket = request.rocket();
    let (Some(sessions), Some(store)) = (rocket.state::<Sessions>(), rocket.state::<Store>()) else {
        return Err(Status::InternalServerError);
    };
    let cookies = request.cookies();
    let Some(id) = sessions.id_from(cookies) else { return Ok(None) };
    let (record, snapshot) = match sessions.load(&id).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            sessions.remove_cookie(cookies);
            return Ok(None);
        }
        Err(e) => {
            log::warn!("session lookup failed: {e}");
            return Err(Status::ServiceUnavailable);
        }
    };
    let user = match snapshot {
        Some(user) => Some(user),
        None => load_user(sessions, store, record.user_id).await?,
    };
    match user {
        Some(user) if user.is_active && user.session_epoch == record.epoch => {
            Ok(Some(CurrentUser { user, session: id }))
        }
        _ => {
            // Password changed, account deactivated or deleted: this session is over.
            if let Err(e) = sessions.destroy(&id).await {
                log::warn!("could not delete an ended session: {e}");
            }
            sessions.remove_cookie(cookies);
            Ok(None)
        }
    }
}

/// The user row, read when no snapshot is stored, and remembered for the next requests.
async fn load_user(sessions: &Sessions, store: &Store, id: UserId) -> Result<Option<SessionUser>, Status> {
    let user = store.user_by_id(id).await.map_err(|e| {
        log::error!("loading the session's user failed: {e}");
        Status::InternalServerError
    })?;
    let Some(user) = user else { return Ok(None) };
    let snapshot = SessionUser::from(&user);
    if let Err(e) = sessions.remember_user(&snapshot, Snapshot::Loaded).await {
        log::warn!("could not store the user snapshot: {e}");
    }
    Ok(Some(snapshot))
}

impl CurrentUser {
    /// The resolved user, if any, without forwarding: for pages that work either way.
    pub async fn optional(request: &Request<'_>) -> Result<Option<CurrentUser>, Status> {
        request.local_cache_async(resolve(request)).await.clone()
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CurrentUser {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        match CurrentUser::optional(request).await {
            Ok(Some(user)) => Outcome::Success(user),
            Ok(None) => Outcome::Forward(Status::Unauthorized),
            Err(status) => Outcome::Error((status, ())),
        }
    }
}

/// An admin. Everyone else who is logged in gets 404: the admin area does not announce itself.
pub struct AdminUser(pub CurrentUser);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AdminUser {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        let user = try_outcome!(request.guard::<CurrentUser>().await);
        if user.user.is_admin {
            Outcome::Success(AdminUser(user))
        } else {
            Outcome::Error((Status::NotFound, ()))
        }
    }
}
