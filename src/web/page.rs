//! The context every page shares (CSRF token, who is logged in, page or fragment) and the
//! responses forms end in.

use rocket::http::{Header, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::content::RawHtml;
use rocket::response::{self, Redirect, Responder, Response};
use rocket::Either;
use rocket_dyn_templates::Template;
use serde::Serialize;
use serde_json::{json, Value};

use super::htmx::Htmx;
use super::templates::escape_html;
use crate::auth::csrf::CsrfToken;
use crate::auth::guard::CurrentUser;
use crate::cache::Fragment;

#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub username: String,
    pub is_admin: bool,
}

pub struct Page {
    pub csrf_token: String,
    pub user: Option<UserView>,
    pub htmx: Htmx,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Page {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        let csrf = match request.guard::<CsrfToken>().await {
            Outcome::Success(token) => token,
            Outcome::Error(e) => return Outcome::Error(e),
            Outcome::Forward(status) => return Outcome::Forward(status),
        };
        // A page that does not need a user still renders (anonymously) when the session
        // store is down; pages that need one take `CurrentUser`, which answers 503.
        let user = CurrentUser::optional(request).await.ok().flatten().map(|current| UserView {
            username: current.user.username.clone(),
            is_admin: current.user.is_admin,
        });
        Outcome::Success(Page { csrf_token: csrf.0, user, htmx: Htmx::from_request(request) })
    }
}

impl Page {
    /// Renders `name` with the page's own context merged into `context` (an object).
    /// `context` is a typed struct (or a `json!` map) serialising to an object.
    pub fn render(&self, name: &'static str, context: impl serde::Serialize) -> Template {
        // Plain structs and maps of strings cannot fail to serialise.
        let mut context = serde_json::to_value(context).unwrap_or(Value::Null);
        if let Some(map) = context.as_object_mut() {
            map.insert("csrf_token".into(), json!(self.csrf_token));
            map.insert("user".into(), json!(self.user));
            map.insert("fragment".into(), json!(self.htmx.fragment));
        }
        Template::render(name, context)
    }

    pub fn render_status(
        &self,
        status: Status,
        name: &'static str,
        context: impl serde::Serialize,
    ) -> (Status, Template) {
        (status, self.render(name, context))
    }
}

impl Page {
    /// A cached fragment as htmx wants it (the fragment, with the new `<title>` and, when
    /// `announce`, the live-region update), or as a full page around it.
    pub fn fragment_or_page(
        &self,
        fragment: Fragment,
        page_template: &'static str,
        announce: bool,
        mut context: Value,
    ) -> Either<RawHtml<String>, Template> {
        let title = escape_html(&fragment.title);
        if self.htmx.fragment {
            let status = if announce {
                format!(
                    "<div id=\"calendar-status\" class=\"visually-hidden\" role=\"status\" \
                     aria-live=\"polite\" hx-swap-oob=\"true\">{title}</div>"
                )
            } else {
                String::new()
            };
            return Either::Left(RawHtml(format!(
                "<title>{title} · Eventide</title>{status}{}",
                fragment.html
            )));
        }
        if let Some(map) = context.as_object_mut() {
            map.insert("title".into(), json!(fragment.title));
            map.insert("cached_fragment_html".into(), json!(fragment.html));
        }
        Either::Right(self.render(page_template, context))
    }
}

/// Where a successful form goes next: 303 for a plain form, `HX-Redirect` for htmx (a 303
/// would be followed inside the XHR and the next page swapped into the form's target).
pub struct Navigate {
    pub to: String,
    pub htmx: Htmx,
}

impl<'r> Responder<'r, 'static> for Navigate {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        if self.htmx.fragment {
            Response::build().status(Status::NoContent).header(Header::new("HX-Redirect", self.to)).ok()
        } else {
            Redirect::to(self.to).respond_to(request)
        }
    }
}

/// Where a successful event change goes next: 303 for a plain form; for htmx, `HX-Location`
/// into `#main`, so the next page arrives as a fragment (no full page load, the address bar
/// follows) whether the form was opened from the calendar, an event page or the dashboard.
pub struct SwapMain {
    pub to: String,
    pub htmx: Htmx,
}

impl<'r> Responder<'r, 'static> for SwapMain {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        if self.htmx.fragment {
            let location = serde_json::json!({ "path": self.to, "target": "#main", "swap": "innerHTML" });
            Response::build()
                .status(Status::NoContent)
                .header(Header::new("HX-Location", location.to_string()))
                .ok()
        } else {
            Redirect::to(self.to).respond_to(request)
        }
    }
}

/// Only a local path may follow a login: `/x` yes, `//evil.example`, `/\evil`, `https://..`
/// and anything with control characters no.
pub fn safe_next(next: Option<&str>) -> String {
    let Some(next) = next else { return "/".into() };
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 2048
        && !next.chars().any(char::is_control)
        && rocket::http::uri::Origin::parse(next).is_ok();
    if local {
        next.to_string()
    } else {
        "/".into()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_survive() {
        assert_eq!(safe_next(Some("/calendar/month/2026-11-01")), "/calendar/month/2026-11-01");
        assert_eq!(safe_next(Some("/search?q=a")), "/search?q=a");
        // Each input with the one answer it must get: anything not a plain local path is the
        // start page; a percent-encoded line break is a harmless local path and stays encoded.
        for (input, expected) in [
            ("//evil.example", "/"),
            ("/\\evil.example", "/"),
            ("https://evil.example", "/"),
            ("evil", "/"),
            ("/%0d%0a", "/%0d%0a"),
            ("/\nx", "/"),
            ("", "/"),
        ] {
            assert_eq!(safe_next(Some(input)), expected, "{input:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
