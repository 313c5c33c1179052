//! Headers every response gets: the security policy, and the caching rules that keep private
//! pages out of shared caches.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{ContentType, Header};
use rocket::{Request, Response};

/// No inline script or style anywhere: htmx is configured (in the base layout's
/// `htmx-config` meta tag) not to inject its indicator styles.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

pub struct SecurityHeaders;

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info { name: "Security headers", kind: Kind::Response }
    }

    async fn on_response<'r>(&self, _request: &'r Request<'_>, response: &mut Response<'r>) {
        response.set_header(Header::new("Content-Security-Policy", CONTENT_SECURITY_POLICY));
        response.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        response.set_header(Header::new("Referrer-Policy", "same-origin"));
        response.set_header(Header::new("X-Frame-Options", "DENY"));
        response.set_header(Header::new("Cross-Origin-Opener-Policy", "same-origin"));
        response.set_header(Header::new(
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
        ));
        if response.content_type().is_some_and(|ct| ct == ContentType::HTML) {
            // Pages and fragments differ by HX-Request, and every page carries a CSRF token
            // (and, when logged in, private data): never store them in a shared cache.
            response.adjoin_header(Header::new("Vary", "HX-Request"));
            if !response.headers().contains("Cache-Control") {
                response.set_header(Header::new("Cache-Control", "no-store"));
            }
        }
    }
}
