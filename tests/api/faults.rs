//! Faults under bounded load (issue 20): two instances behind HAProxy on a PostgreSQL, a
//! cache Redis and a sessions Redis of the test's own, with two users writing and reading
//! back all along, while the cache Redis hangs then dies, the sessions Redis hangs,
//! PostgreSQL restarts and one instance is killed with SIGKILL. Afterwards every acknowledged
//! write is there, no answer was a 500 (a failure is a clear 503), nobody was logged out and
//! no read was stale. It prints the table (`bench/faults.sh` runs it).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::*;
use crate::process::ServerProcess;
use crate::scale::{writer, Balancer, Tally};

/// A PostgreSQL server of the test's own (one the test may restart), trust authentication.
pub struct PrivatePostgres {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
}

impl PrivatePostgres {
    pub fn start() -> PrivatePostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| versions.filter_map(|v| v.ok()).map(|v| v.path().join("bin")).max())
            .expect("PostgreSQL's server binaries under /usr/lib/postgresql");
        let dir = std::env::temp_dir().join(unique("eventide_pg"));
        std::fs::create_dir_all(&dir).unwrap();
        let server = PrivatePostgres { port: free_port(), dir, bin };
        server.give_to_postgres_user(&server.dir);
        let data = server.dir.join("data");
        let made = server
            .as_postgres(&server.bin.join("initdb"))
            .args(["--auth=trust", "--username=postgres", "--no-sync", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(made.success(), "initdb");
        server.pg_ctl("start");
        server
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A fast restart: connections are cut, the server is back in about a second.
    pub fn restart(&self) {
        self.pg_ctl("restart");
    }

    fn pg_ctl(&self, action: &str) {
        let options = format!("-p {} -k {} -c fsync=off", self.port, self.dir.display());
        let done = self
            .as_postgres(&self.bin.join("pg_ctl"))
            .args([action, "-w", "-m", "fast", "-D"])
            .arg(self.dir.join("data"))
            .args(["-o", &options, "-l"])
            .arg(self.dir.join("log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(done.success(), "pg_ctl {action}");
    }

    /// PostgreSQL refuses to run as root: as root, run its tools as the postgres user.
    fn as_postgres(&self, program: &Path) -> Command {
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn give_to_postgres_user(&self, path: &Path) {
        if is_root() {
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(path).status().unwrap();
            assert!(status.success());
        }
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"))
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .as_postgres(&self.bin.join("pg_ctl"))
            .args(["stop", "-m", "immediate", "-D"])
            .arg(self.dir.join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[rocket::async_test]
async fn faults_under_load_lose_nothing_and_fail_clearly() {
    let postgres = PrivatePostgres::start();
    let cache_redis = PrivateRedis::start().await;
    let mut cache_redis = cache_redis;
    let session_redis = PrivateRedis::start().await;
    let lb_port = free_port();
    let public = format!("http://127.0.0.1:{lb_port}");
    let (database, cache_url, session_url) =
        (postgres.url("postgres"), cache_redis.url(), session_redis.url());
    let mut instances: Vec<ServerProcess> = (0..2)
        .map(|_| {
            ServerProcess::start_with(&[
                ("DATABASE_URL", database.as_str()),
                ("REDIS_URL", cache_url.as_str()),
                ("SESSION_REDIS_URL", session_url.as_str()),
                ("SECRET_KEY", "faults-test-secret-key-shared-by-every-instance-01"),
                ("EVENTIDE_PUBLIC_URL", public.as_str()),
                ("EVENTIDE_SHUTDOWN_DRAIN_SECONDS", "1"),
            ])
        })
        .collect();
    let ports: Vec<u16> = instances.iter().map(ServerProcess::port).collect();
    let balancer = Balancer::start(lb_port, &ports);
    balancer.client().register("writer", PASSWORD);

    let running = Arc::new(AtomicBool::new(true));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let load: Vec<std::thread::JoinHandle<()>> = (0..2)
        .map(|n| {
            let (running, tally) = (running.clone(), tally.clone());
            std::thread::spawn(move || writer(n, lb_port, &running, &tally))
        })
        .collect();
    let pause = |seconds: u64| std::thread::sleep(Duration::from_secs(seconds));
    pause(1);
    cache_redis.pause(); // the cache Redis hangs…
    pause(3);
    cache_redis.stop(); // …then dies…
    pause(3);
    cache_redis.restart().await; // …and comes back empty.
    pause(1);
    session_redis.pause(); // the sessions Redis hangs
    pause(2);
    session_redis.resume();
    pause(1);
    postgres.restart(); // PostgreSQL restarts
    pause(1);
    instances[0].kill(); // one instance dies on the spot
    pause(2);
    instances[0].restart();
    pause(1);
    running.store(false, Ordering::SeqCst);
    for writer in load {
        writer.join().unwrap();
    }

    // Every acknowledged write is there.
    let tally = tally.lock().unwrap();
    let mut check = balancer.client();
    assert_eq!(check.login("writer", PASSWORD).status, 303);
    let lost: Vec<&(i64, String)> = tally
        .acknowledged
        .iter()
        .filter(|(id, title)| {
            let page = check.request("GET", &format!("/events/{id}"), &[], b"");
            !(page.status == 200 && page.body.contains(title.as_str()))
        })
        .collect();
    eprintln!(
        "faults under load: | requests {} | acknowledged writes {} | lost {} | 5xx other than 503 {} | 503s {} | logouts {} | stale reads {} |",
        tally.requests,
        tally.acknowledged.len(),
        lost.len(),
        tally.errors.len(),
        tally.unavailable,
        tally.logouts,
        tally.stale.len()
    );
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(tally.errors.is_empty(), "{:#?}", tally.errors);
    assert_eq!(tally.logouts, 0, "nobody is logged out");
    assert!(tally.stale.is_empty(), "{:#?}", tally.stale);
    assert!(tally.acknowledged.len() >= 50, "the load ran: {}", tally.acknowledged.len());
}
