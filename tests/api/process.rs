//! The real `eventide` binary in a process of its own, spoken to over a real socket: for
//! tests that must see whether the server survives a request (a crash ends the process, which
//! an in-process client would take down with the test).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::{free_port, meta_csrf, unique};

pub struct ServerProcess {
    child: Child,
    port: u16,
    dir: PathBuf,
    env: Vec<(String, String)>,
    client: HttpClient,
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl ServerProcess {
    /// The server on a free port with a SQLite file of its own and the in-process cache and
    /// sessions (nothing left behind in a shared Redis).
    pub fn start() -> ServerProcess {
        ServerProcess::start_with(&[])
    }

    /// The same, with more settings in its environment (they win over those defaults).
    pub fn start_with(env: &[(&str, &str)]) -> ServerProcess {
        let dir = std::env::temp_dir().join(unique("eventide_process"));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let child = spawn(&dir, port, &env);
        let mut server = ServerProcess { child, port, dir, env, client: HttpClient::new(port) };
        server.wait_until_healthy();
        server
    }

    /// Starts it again, on the same port with the same settings, once it has exited.
    pub fn restart(&mut self) {
        assert!(!self.is_running(), "restart a stopped server only");
        self.child = spawn(&self.dir, self.port, &self.env);
        self.wait_until_healthy();
    }

    fn wait_until_healthy(&mut self) {
        for _ in 0..1000 {
            if self.try_request("GET", "/healthz", &[], b"").is_some_and(|r| r.status == 200) {
                return;
            }
            assert!(self.is_running(), "the server exited during start-up");
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the server did not answer /healthz on port {}", self.port);
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A setting it was started with.
    pub fn env(&self, name: &str) -> Option<&str> {
        self.env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Sends SIGTERM, as an orchestrator stopping the instance does.
    pub fn terminate(&self) {
        let sent = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().unwrap();
        assert!(sent.success());
    }

    /// SIGKILL: the instance dies on the spot, mid-request if it was in one.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits up to `limit` for the process to exit; its status, if it did.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        self.client.request(method, path, headers, body)
    }

    pub fn try_request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Option<Reply> {
        self.client.try_request(method, path, headers, body)
    }

    pub fn csrf_token(&mut self) -> String {
        self.client.csrf_token()
    }

    pub fn register(&mut self, username: &str, password: &str) {
        self.client.register(username, password)
    }
}

/// The binary on `port` with the test defaults (a SQLite file in `dir`, no CalDAV, quiet), then `env`.
fn spawn(dir: &std::path::Path, port: u16, env: &[(String, String)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_eventide"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", format!("sqlite://{}", dir.join("app.db").display()))
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", port.to_string())
        .env("EVENTIDE_DAV_PORT", "off")
        .env("EVENTIDE_LOG_FILE", "")
        .env("ROCKET_LOG_LEVEL", "critical")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the eventide binary starts")
}

/// A browser of its own against one port: one request per connection, cookies kept.
pub struct HttpClient {
    port: u16,
    cookies: BTreeMap<String, String>,
}

impl HttpClient {
    pub fn new(port: u16) -> HttpClient {
        HttpClient { port, cookies: BTreeMap::new() }
    }

    /// One HTTP/1.1 request on a fresh connection, with this client's cookies.
    pub fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        self.try_request(method, path, headers, body).unwrap_or_else(|| panic!("{method} {path}: no answer"))
    }

    pub fn try_request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Option<Reply> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
        let cookies: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        if !cookies.is_empty() {
            head.push_str(&format!("Cookie: {}\r\n", cookies.join("; ")));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).ok()?;
        stream.write_all(body).ok()?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).ok()?;
        let reply = parse_reply(&raw)?;
        for (name, value) in &reply.headers {
            if name.eq_ignore_ascii_case("set-cookie") {
                let pair = value.split(';').next().unwrap_or_default();
                if let Some((k, v)) = pair.split_once('=') {
                    self.cookies.insert(k.trim().to_string(), v.trim().to_string());
                }
            }
        }
        Some(reply)
    }

    /// The CSRF token of this client, from a page's meta tag.
    pub fn csrf_token(&mut self) -> String {
        let page = self.request("GET", "/about", &[], b"");
        meta_csrf(&page.body).expect("a csrf meta tag")
    }

    /// A form POST with this client's CSRF token.
    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let token = self.csrf_token();
        self.post_form_with(path, &token, fields)
    }

    /// A form POST with a token already read.
    pub fn post_form_with(&mut self, path: &str, token: &str, fields: &[(&str, &str)]) -> Reply {
        self.try_post_form_with(path, token, fields).unwrap_or_else(|| panic!("POST {path}: no answer"))
    }

    pub fn try_post_form_with(&mut self, path: &str, token: &str, fields: &[(&str, &str)]) -> Option<Reply> {
        let mut all = vec![("csrf_token", token)];
        all.extend_from_slice(fields);
        let body = crate::helpers::encode_form(&all);
        let headers = [("Content-Type", "application/x-www-form-urlencoded")];
        self.try_request("POST", path, &headers, body.as_bytes())
    }

    pub fn register(&mut self, username: &str, password: &str) {
        let fields = [("username", username), ("password", password), ("password_confirm", password)];
        let reply = self.post_form("/register", &fields);
        assert_eq!(reply.status, 303, "registration: {}", reply.body);
    }

    pub fn login(&mut self, username: &str, password: &str) -> Reply {
        self.post_form("/login", &[("username", username), ("password", password)])
    }
}

/// A response with `Connection: close`: the body is what follows the head (chunked bodies
/// are joined).
fn parse_reply(raw: &[u8]) -> Option<Reply> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked =
        headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Some(Reply { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line_end]).ok()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
