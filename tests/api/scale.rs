//! Several instances (issue 20): two real `eventide` processes on one PostgreSQL database and
//! one Redis, behind a real HAProxy that round-robins every request (each test request is a
//! connection of its own). What one instance does, the other knows at the very next request;
//! a rolling restart under load fails no request and loses no write.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::*;
use crate::process::{HttpClient, Reply, ServerProcess};

/// HAProxy on a free port in front of `backends`, health-checking `/readyz` every 200 ms and
/// retrying a request whose connection failed on the other instance.
pub struct Balancer {
    child: std::process::Child,
    pub port: u16,
    dir: std::path::PathBuf,
}

impl Balancer {
    pub fn start(port: u16, backends: &[u16]) -> Balancer {
        let dir = std::env::temp_dir().join(unique("eventide_haproxy"));
        std::fs::create_dir_all(&dir).unwrap();
        let unavailable_file = dir.join("503.http");
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(i, p)| format!("    server app{i} 127.0.0.1:{p} check\n"))
            .collect();
        let unavailable = unavailable_file.display();
        let config = format!(
            "global\n    maxconn 512\n\
             defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n\
             \x20   retries 3\n    option redispatch 1\n    retry-on conn-failure\n\
             \x20   errorfile 502 {unavailable}\n    errorfile 504 {unavailable}\n\
             frontend web\n    bind 127.0.0.1:{port}\n    default_backend apps\n\
             backend apps\n    balance roundrobin\n    option httpchk GET /readyz\n    http-check expect status 200\n\
             \x20   default-server inter 200ms fall 1 rise 2\n{servers}"
        );
        let path = dir.join("haproxy.cfg");
        // The deployment's answer for a request an instance died with: a clear 503.
        std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/503.http"), &unavailable_file)
            .unwrap();
        std::fs::write(&path, config).unwrap();
        let child = std::process::Command::new(haproxy())
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("haproxy starts (bin/test installs it)");
        let balancer = Balancer { child, port, dir };
        for _ in 0..250 {
            let mut probe = HttpClient::new(port);
            if probe.try_request("GET", "/readyz", &[], b"").is_some_and(|r| r.status == 200) {
                return balancer;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("haproxy did not come up on {port}");
    }

    pub fn client(&self) -> HttpClient {
        HttpClient::new(self.port)
    }
}

fn haproxy() -> &'static str {
    ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("haproxy")
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Two instances sharing a PostgreSQL database, a Redis (under a prefix of their own) and a
/// secret, each with its CalDAV port, both telling links by the balancer's address.
struct Cluster {
    instances: Vec<ServerProcess>,
    balancer: Balancer,
    _redis: RedisCleanup,
    _db: TestDb,
}

impl Cluster {
    async fn start() -> Cluster {
        let db = TestDb::new(Engine::Postgres).await;
        let prefix = format!("{}:", unique("eventide_scale"));
        let lb_port = free_port();
        let public = format!("http://127.0.0.1:{lb_port}");
        // One after the other: the first migrates the empty database before the second starts.
        let instances: Vec<ServerProcess> = (0..2)
            .map(|_| {
                let dav = free_port().to_string();
                ServerProcess::start_with(&[
                    ("DATABASE_URL", db.url.as_str()),
                    ("REDIS_URL", REDIS_URL),
                    ("EVENTIDE_REDIS_PREFIX", prefix.as_str()),
                    ("SECRET_KEY", "scale-test-secret-key-shared-by-every-instance-0123"),
                    ("EVENTIDE_PUBLIC_URL", public.as_str()),
                    ("EVENTIDE_DAV_PORT", dav.as_str()),
                    ("EVENTIDE_SHUTDOWN_DRAIN_SECONDS", "1"),
                    ("EVENTIDE_SHUTDOWN_GRACE_SECONDS", "5"),
                ])
            })
            .collect();
        let ports: Vec<u16> = instances.iter().map(ServerProcess::port).collect();
        let balancer = Balancer::start(lb_port, &ports);
        Cluster { instances, balancer, _redis: RedisCleanup(prefix), _db: db }
    }
}

#[rocket::async_test]
async fn instances_behind_a_balancer_agree_at_the_next_request() {
    let cluster = Cluster::start().await;
    let mut amy = cluster.balancer.client();
    // The form comes from one instance, the POST goes to the other: CSRF and sessions are shared.
    amy.register("amy", PASSWORD);
    for _ in 0..4 {
        let account = amy.request("GET", "/account", &[], b"");
        assert_eq!(account.status, 200, "logged in on both instances");
        assert!(account.body.contains("amy"));
    }
    // Both instances have the month cached; a write through one shows on the very next
    // request through either.
    for _ in 0..2 {
        assert!(!amy.request("GET", "/calendar/month/2027-05-01", &[], b"").body.contains("Board meeting"));
    }
    let fields = [("title", "Board meeting"), ("start", "2027-05-03T10:00"), ("end", "2027-05-03T11:00")];
    let made = amy.post_form("/events", &fields);
    assert_eq!(made.status, 303, "{}", made.body);
    for _ in 0..2 {
        let month = amy.request("GET", "/calendar/month/2027-05-01", &[], b"");
        assert!(month.body.contains("Board meeting"), "no stale cache on either instance");
    }
    // Login throttling counts across instances: the sixth wrong password is refused on either.
    let mut mallory = cluster.balancer.client();
    let statuses: Vec<u16> = (0..6).map(|_| mallory.login("amy", "wrong password").status).collect();
    assert_eq!(statuses[..5], [401; 5], "{statuses:?}");
    assert_eq!(statuses[5], 429, "{statuses:?}");
    // An app password made through one instance works on the other's CalDAV server, and the
    // calendar's sync token is the same on both.
    let made = amy.post_form("/account/app-passwords", &[("label", "Phone")]);
    let secret =
        made.body.split(r#"id="new-app-password">"#).nth(1).and_then(|s| s.split('<').next()).unwrap();
    let basic = format!("Basic {}", base64_encode(&format!("amy:{secret}")));
    let tokens: Vec<String> = cluster
        .instances
        .iter()
        .map(|instance| {
            let dav = instance.env("EVENTIDE_DAV_PORT").and_then(|p| p.parse().ok()).unwrap();
            let mut phone = HttpClient::new(dav);
            let body =
                br#"<?xml version="1.0"?><propfind xmlns="DAV:"><prop><sync-token/></prop></propfind>"#;
            let headers =
                [("Authorization", basic.as_str()), ("Depth", "0"), ("Content-Type", "application/xml")];
            let reply = phone.request("PROPFIND", "/dav/calendars/amy/1/", &headers, body);
            assert_eq!(reply.status, 207, "{}", reply.body);
            reply
                .body
                .split("sync-token>")
                .nth(1)
                .and_then(|t| t.split('<').next())
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(!tokens[0].is_empty() && tokens[0] == tokens[1], "{tokens:?}");
    // A phone's PUT to one instance's CalDAV server is at the other's at once, and on the web.
    let dav = |i: usize| cluster.instances[i].env("EVENTIDE_DAV_PORT").and_then(|p| p.parse().ok()).unwrap();
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:phone-1@test\r\n\
               DTSTAMP:20270101T000000Z\r\nDTSTART:20270506T090000Z\r\nDTEND:20270506T100000Z\r\n\
               SUMMARY:Dentist from the phone\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let put_headers = [("Authorization", basic.as_str()), ("Content-Type", "text/calendar")];
    let put = HttpClient::new(dav(0)).request(
        "PUT",
        "/dav/calendars/amy/1/phone-1.ics",
        &put_headers,
        ics.as_bytes(),
    );
    assert_eq!(put.status, 201, "{}", put.body);
    let got =
        HttpClient::new(dav(1)).request("GET", "/dav/calendars/amy/1/phone-1.ics", &put_headers[..1], b"");
    assert!(got.status == 200 && got.body.contains("Dentist from the phone"), "{}", got.status);
    for _ in 0..2 {
        let month = amy.request("GET", "/calendar/month/2027-05-01", &[], b"");
        assert!(month.body.contains("Dentist from the phone"), "the web on either instance shows it");
    }
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// What a load saw, answer by answer.
#[derive(Default, Debug)]
pub struct Tally {
    pub requests: usize,
    pub acknowledged: Vec<(i64, String)>,
    pub unavailable: usize,
    /// Answers that are not allowed: a 500 (or any 5xx but 503), no answer at all.
    pub errors: Vec<String>,
    pub logouts: usize,
    pub stale: Vec<String>,
}

impl Tally {
    /// Counts `reply`; true when it is a success.
    fn count(&mut self, what: &str, reply: Option<&Reply>) -> bool {
        self.requests += 1;
        match reply {
            None => self.errors.push(format!("{what}: no answer")),
            Some(r) if r.status == 503 => self.unavailable += 1,
            Some(r) if r.status >= 500 => self.errors.push(format!("{what}: {}", r.status)),
            Some(r) if r.status == 401 || location(r).is_some_and(|l| l.starts_with("/login")) => {
                self.logouts += 1
            }
            Some(_) => return true,
        }
        false
    }
}

fn location(reply: &Reply) -> Option<&str> {
    reply.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("location")).map(|(_, v)| v.as_str())
}

/// One user writing an event and reading it back, again and again, through the balancer.
pub fn writer(n: usize, port: u16, running: &AtomicBool, tally: &Mutex<Tally>) {
    let mut client = HttpClient::new(port);
    assert_eq!(client.login("writer", PASSWORD).status, 303);
    let token = client.csrf_token();
    let mut i = 0;
    while running.load(Ordering::SeqCst) {
        i += 1;
        let title = format!("Load {n}-{i}");
        let fields = [("title", title.as_str()), ("start", "2027-05-03T10:00"), ("end", "2027-05-03T11:00")];
        let made = client.try_post_form_with("/events", &token, &fields);
        let made_ok = tally.lock().unwrap().count("POST /events", made.as_ref());
        let Some(id) =
            made.as_ref().filter(|_| made_ok).and_then(location).and_then(|l| l.strip_prefix("/events/"))
        else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        let Ok(id) = id.parse::<i64>() else { continue };
        tally.lock().unwrap().acknowledged.push((id, title.clone()));
        let read = client.try_request("GET", &format!("/events/{id}"), &[], b"");
        let mut tally = tally.lock().unwrap();
        if tally.count("GET /events/{id}", read.as_ref())
            && !read.as_ref().is_some_and(|r| r.body.contains(&title))
        {
            tally.stale.push(format!("{id} {title}"));
        }
    }
}

#[rocket::async_test]
async fn a_rolling_restart_under_load_fails_no_request_and_loses_no_write() {
    let mut cluster = Cluster::start().await;
    cluster.balancer.client().register("writer", PASSWORD);
    let running = Arc::new(AtomicBool::new(true));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let port = cluster.balancer.port;
    let load: Vec<std::thread::JoinHandle<()>> = (0..2)
        .map(|n| {
            let (running, tally) = (running.clone(), tally.clone());
            std::thread::spawn(move || writer(n, port, &running, &tally))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    // One at a time: SIGTERM, wait for a clean exit, start again, let the checks take it back.
    for instance in &mut cluster.instances {
        instance.terminate();
        let status = instance.wait_for_exit(Duration::from_secs(20)).expect("it stops");
        assert!(status.success(), "{status:?}");
        instance.restart();
        std::thread::sleep(Duration::from_millis(800));
    }
    std::thread::sleep(Duration::from_secs(1));
    running.store(false, Ordering::SeqCst);
    for writer in load {
        writer.join().unwrap();
    }
    let tally = tally.lock().unwrap();
    eprintln!(
        "rolling restart of 2 instances under load: {} requests, {} writes acknowledged and read back, {} failed",
        tally.requests,
        tally.acknowledged.len(),
        tally.unavailable + tally.errors.len() + tally.logouts
    );
    assert!(tally.errors.is_empty() && tally.unavailable == 0 && tally.logouts == 0, "{tally:#?}");
    assert!(tally.stale.is_empty(), "{:#?}", tally.stale);
    assert!(tally.acknowledged.len() >= 20, "only {} writes", tally.acknowledged.len());
    // Every acknowledged write is there afterwards.
    let mut check = cluster.balancer.client();
    assert_eq!(check.login("writer", PASSWORD).status, 303);
    for (id, title) in &tally.acknowledged {
        let page = check.request("GET", &format!("/events/{id}"), &[], b"");
        assert!(page.status == 200 && page.body.contains(title.as_str()), "{id} {title}: {}", page.status);
    }
}
