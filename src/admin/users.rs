//! Users: list, (de)activate, promote/demote, end sessions, flush cache, delete.

use rocket::request::FlashMessage;
use rocket::response::Flash;
use rocket::serde::json::json;
use rocket::{Either, State};
use rocket_dyn_templates::Template;

use super::{audit, confirm_page, notice, pages, Confirmation};
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::AdminUser;
use crate::auth::session::{Sessions, Snapshot};
use crate::auth::throttle::LoginThrottle;
use crate::cache::Cache;
use crate::domain::UserId;
use crate::error::AppError;
use crate::store::admin::{AdminRefusal, UserSort};
use crate::store::{SessionUser, Store};
use crate::web::page::{Navigate, Page};
use crate::writes::Writes;

#[rocket::get("/admin/users?<q>&<sort>&<p>")]
pub async fn list(
    _admin: AdminUser,
    page: Page,
    store: &State<Store>,
    q: Option<&str>,
    sort: Option<&str>,
    p: Option<i64>,
    flash: Option<FlashMessage<'_>>,
) -> Result<Template, AppError> {
    let (filter, sort, number) = (q.unwrap_or_default().trim(), UserSort::parse(sort), p.unwrap_or(1).max(1));
    let (users, total) = store.admin_users(filter, sort, number).await?;
    let users: Vec<_> = users
        .iter()
        .map(|user| {
            let actions: Vec<_> = Action::ALL
                .into_iter()
                .filter(|action| action.applies_to(user.is_admin, user.is_active))
                .map(|action| json!({ "path": action.path(), "label": action.label() }))
                .collect();
            json!({ "id": user.id, "username": user.username, "created_at": user.created_at,
                    "last_login_at": user.last_login_at, "event_count": user.event_count,
                    "is_admin": user.is_admin, "is_active": user.is_active, "actions": actions })
        })
        .collect();
    Ok(page.render(
        "admin_users.html",
        json!({
            "users": users, "q": filter, "sort": sort.name(), "page": number,
            "sorts": ["name", "created", "last_login", "events"],
            "pages": pages(total).max(1), "total": total, "notice": notice(flash),
        }),
    ))
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Deactivate,
    Reactivate,
    Promote,
    Demote,
    EndSessions,
    FlushCache,
    Unlock,
    Delete,
}

impl Action {
    const ALL: [Action; 8] = [
        Action::Deactivate,
        Action::Reactivate,
        Action::Promote,
        Action::Demote,
        Action::EndSessions,
        Action::FlushCache,
        Action::Unlock,
        Action::Delete,
    ];

    fn parse(text: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.path() == text)
    }

    /// The last segment of the action's URL.
    fn path(self) -> &'static str {
        match self {
            Action::Deactivate => "deactivate",
            Action::Reactivate => "reactivate",
            Action::Promote => "promote",
            Action::Demote => "demote",
            Action::EndSessions => "end-sessions",
            Action::FlushCache => "flush-cache",
            Action::Unlock => "unlock",
            Action::Delete => "delete",
        }
    }

    /// Offered only where it changes something.
    fn applies_to(self, is_admin: bool, is_active: bool) -> bool {
        match self {
            Action::Deactivate => is_active,
            Action::Reactivate => !is_active,
            Action::Promote => !is_admin,
            Action::Demote => is_admin,
            Action::EndSessions | Action::FlushCache | Action::Unlock | Action::Delete => true,
        }
    }

    /// `Some(true)` when the account closes (its shares end; calendars it shares vanish for
    /// their readers), `Some(false)` when it reopens, `None` when sharing is untouched.
    fn opens_or_closes(self) -> Option<bool> {
        match self {
            Action::Deactivate | Action::Delete => Some(true),
            Action::Reactivate => Some(false),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Action::Deactivate => "Deactivate",
            Action::Reactivate => "Reactivate",
            Action::Promote => "Make admin",
            Action::Demote => "Remove admin",
            Action::EndSessions => "Log out everywhere",
            Action::FlushCache => "Empty cache",
            Action::Unlock => "Allow logins",
            Action::Delete => "Delete…",
        }
    }

    fn question(self, name: &str) -> String {
        match self {
            Action::Deactivate => {
                format!("Deactivate {name}? They are logged out at once and cannot log in.")
            }
            Action::Reactivate => format!("Let {name} log in again?"),
            Action::Promote => format!("Make {name} an admin?"),
            Action::Demote => format!("Take admin rights from {name}?"),
            Action::EndSessions => format!("Log {name} out everywhere?"),
            Action::FlushCache => format!("Empty {name}'s cached pages?"),
            Action::Unlock => {
                format!("Forget {name}'s failed logins, so they can log in again from anywhere now?")
            }
            Action::Delete => format!(
                "Delete {name} and all their events? This cannot be undone. Type the username to confirm."
            ),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Action::Deactivate => "deactivate user",
            Action::Reactivate => "reactivate user",
            Action::Promote => "promote to admin",
            Action::Demote => "demote admin",
            Action::EndSessions => "end sessions",
            Action::FlushCache => "flush user cache",
            Action::Unlock => "unlock logins",
            Action::Delete => "delete user",
        }
    }
}

type ActionReply = Either<Flash<Navigate>, Template>;

/// Back to the list with the outcome: a 303 for forms, `HX-Redirect` for htmx.
fn back(page: &Page, message: String, ok: bool) -> ActionReply {
    let to = Navigate { to: "/admin/users".into(), htmx: page.htmx };
    Either::Left(if ok { Flash::success(to, message) } else { Flash::error(to, message) })
}

#[allow(clippy::too_many_arguments, reason = "guards: each is one thing an action touches")]
#[rocket::post("/admin/users/<id>/<action>", data = "<form>")]
pub async fn act(
    id: UserId,
    action: &str,
    form: CsrfForm<Confirmation>,
    admin: AdminUser,
    page: Page,
    store: &State<Store>,
    sessions: &State<Sessions>,
    cache: &State<Cache>,
    throttle: &State<LoginThrottle>,
    writes: Writes<'_>,
) -> Result<ActionReply, AppError> {
    let action = Action::parse(action).ok_or(AppError::NotFound)?;
    let user = store.user_by_id(id).await?.ok_or(AppError::NotFound)?;
    let typed_name = matches!(action, Action::Delete).then_some(user.username.as_str());
    let confirmed = form.0.given() && typed_name.is_none_or(|name| form.0.confirm_username == name);
    if !confirmed {
        let path = format!("/admin/users/{}/{}", id.0, action.path());
        return Ok(Either::Right(confirm_page(&page, &action.question(&user.username), &path, typed_name)));
    }
    let target = format!("user {} (#{})", user.username, id.0);
    // Read before a deletion's cascade: whoever saw this user's shared calendars.
    let readers = store.readers_of_owner(id).await?;
    let refused = match action {
        Action::Deactivate => store.set_user_flags(id, user.is_admin, false).await?.err(),
        Action::Reactivate => store.set_user_flags(id, user.is_admin, true).await?.err(),
        Action::Promote => store.set_user_flags(id, true, user.is_active).await?.err(),
        Action::Demote => store.set_user_flags(id, false, user.is_active).await?.err(),
        Action::EndSessions => (!store.end_sessions_of(id).await?).then_some(AdminRefusal::NoSuchUser),
        Action::FlushCache => {
            cache.purge_user(id).await;
            None
        }
        Action::Unlock => {
            throttle.unlock(&user.username).await;
            None
        }
        Action::Delete => store.delete_user(id).await?.err(),
    };
    match refused {
        Some(AdminRefusal::LastAdmin) => {
            return Ok(back(
                &page,
                format!("{} is the last active admin: make someone else an admin first.", user.username),
                false,
            ))
        }
        Some(AdminRefusal::NoSuchUser) => return Err(AppError::NotFound),
        None => {}
    }
    if let Some(closed) = action.opens_or_closes() {
        writes.account_changed(id, readers, closed).await?;
    }
    // Sessions check every request against the user's snapshot: rewrite it now, so the
    // change (a deactivation, ended sessions, a demotion) takes effect on the next request.
    match store.user_by_id(id).await? {
        Some(changed) => sessions.remember_user(&SessionUser::from(&changed), Snapshot::Changed).await?,
        None => {
            sessions.forget_user(id).await?;
            cache.purge_user(id).await;
        }
    }
    audit(store, &admin, action.name(), &target).await?;
    Ok(back(&page, format!("Done: {} for {}.", action.name(), user.username), true))
}

pub fn routes() -> Vec<rocket::Route> {
    rocket::routes![list, act]
}
