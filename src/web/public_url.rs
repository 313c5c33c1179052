//! The app's public base URL (`public_url`, `EVENTIDE_PUBLIC_URL`): every absolute link
//! (feeds, CalDAV addresses, mails) is built from it, and state changes must come from its
//! origin. Never from the `Host` header: a request can say any host it likes.

use std::net::IpAddr;

/// `scheme://host[:port]`, lower-case, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    origin: String,
    scheme_len: usize,
}

impl PublicUrl {
    /// `https://cal.example.org` or `http://10.0.0.5:8000`; a trailing `/` is allowed, any
    /// other path is refused (Eventide is served from the root).
    pub fn parse(text: &str) -> Result<PublicUrl, String> {
        let refuse = |why: &str| format!("public_url {text:?} is not usable: {why}");
        let lowered = text.trim().to_ascii_lowercase();
        let (scheme, rest) = lowered.split_once("://").ok_or_else(|| refuse("expected http(s)://HOST"))?;
        if scheme != "http" && scheme != "https" {
            return Err(refuse("the scheme must be http or https"));
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
        if authority.is_empty() || !authority.chars().all(allowed) {
            return Err(refuse("expected a host name and optional port, with no path"));
        }
        Ok(PublicUrl { origin: format!("{scheme}://{authority}"), scheme_len: scheme.len() })
    }

    /// The default: the address and port the server listens on.
    pub fn listening_on(address: IpAddr, port: u16) -> PublicUrl {
        let host = match address {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        PublicUrl { origin: format!("http://{host}:{port}"), scheme_len: 4 }
    }

    /// The same scheme and host on another port.
    pub fn with_port(&self, port: u16) -> PublicUrl {
        let authority = self.authority();
        // `[::1]:8000` keeps its brackets; `host:8000` loses its port.
        let host = match authority.rfind(':') {
            Some(at) if !authority[at..].contains(']') => &authority[..at],
            _ => authority,
        };
        PublicUrl {
            origin: format!("{}://{host}:{port}", &self.origin[..self.scheme_len]),
            scheme_len: self.scheme_len,
        }
    }

    /// `scheme://host[:port]`, as browsers send it in `Origin`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `host[:port]`.
    pub fn authority(&self) -> &str {
        &self.origin[self.scheme_len + 3..]
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// The same resource for calendar apps: `webcal://host/path`.
    pub fn webcal(&self, path: &str) -> String {
        format!("webcal://{}{path}", self.authority())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_origins_and_refuses_paths() {
        let url = PublicUrl::parse("HTTPS://Cal.Example.org/").unwrap();
        assert_eq!(url.origin(), "https://cal.example.org");
        assert_eq!(url.join("/feeds/x.ics"), "https://cal.example.org/feeds/x.ics");
        assert_eq!(url.webcal("/feeds/x.ics"), "webcal://cal.example.org/feeds/x.ics");
        assert_eq!(PublicUrl::parse("http://10.0.0.5:8000").unwrap().authority(), "10.0.0.5:8000");
        for bad in
            ["cal.example.org", "ftp://x", "https://", "https://x/eventide", "https://a@b", "http://x y"]
        {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_to_the_listening_address() {
        let v4 = PublicUrl::listening_on("127.0.0.1".parse().unwrap(), 8000);
        assert_eq!(v4.origin(), "http://127.0.0.1:8000");
        let v6 = PublicUrl::listening_on("::1".parse().unwrap(), 8080);
        assert_eq!(v6.origin(), "http://[::1]:8080");
        assert_eq!(v6.with_port(8001).origin(), "http://[::1]:8001");
        assert_eq!(PublicUrl::parse("https://[::1]").unwrap().with_port(8001).origin(), "https://[::1]:8001");
        assert_eq!(PublicUrl::parse("https://x.org").unwrap().with_port(8001).origin(), "https://x.org:8001");
    }
}
