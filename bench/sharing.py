"""Issue 18's row: the month view of a user who sees 3 calendars shared by 3 owners (10,000
events each, besides their own 10,000), beside a plain user with 10,000 events, cached and
uncached, in one run (`python3 bench/sharing.py [BINARY]`). bench.py's seed, server and wrk
settings; the shares are made through the web, as people make them."""
import os, re, shutil, subprocess, sys, tempfile, urllib.parse
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("BENCH_SECONDS", "5")
import bench

if len(sys.argv) > 1:
    bench.BIN = sys.argv[1]
work = tempfile.mkdtemp(prefix="eventide-sharing-")
url = f"sqlite://{work}/bench.db"
env = dict(os.environ, DATABASE_URL=url, EVENTIDE_LOG_FILE="", ROCKET_LOG_LEVEL="critical",
           SECRET_KEY="bench-secret-key-bench-secret-key-0123456789")
for prefix, users in (("mid", 1), ("own", 3), ("shr", 1)):
    subprocess.run([bench.BIN, "seed", "--users", str(users), "--events", "10000", "--prefix", prefix],
                   env=env, check=True, stdout=subprocess.DEVNULL)


def share(port, owner, recipient):
    session = bench.login(port, owner)
    cookie = {"Cookie": f"eventide_session={session}"}
    response, page = bench.request(port, "GET", "/calendars", cookie)
    jar = dict(bench.cookies_of(response), eventide_session=session)
    token = re.search(rb'name="csrf-token" content="([^"]+)"', page).group(1).decode()
    calendar = re.search(rb'action="/calendars/(\d+)/shares"', page).group(1).decode()
    body = urllib.parse.urlencode({"csrf_token": token, "username": recipient, "access": "read"})
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
    response, _ = bench.request(port, "POST", f"/calendars/{calendar}/shares", headers, body)
    assert response.status == 303, f"share failed: {response.status}"


rows = []
try:
    for mode, cached in (("cached", True), ("uncached", False)):
        server = bench.Server(url, cached, f"sharing:{os.getpid()}:{mode}:")
        try:
            if cached:
                for owner in ("own1", "own2", "own3"):
                    share(server.port, owner, "shr1")
            plain, shared = bench.login(server.port, "mid1"), bench.login(server.port, "shr1")
            for name, session in (("month view, plain user", plain),
                                  ("month view, 3 calendars shared by 3 owners", shared)):
                path = f"/calendar/month/{bench.DAY}"
                for _ in range(3):
                    bench.request(server.port, "GET", path, {"Cookie": f"eventide_session={session}", "HX-Request": "true"})
                rows.append((mode, name, bench.wrk(server.port, path, session)))
        finally:
            server.stop()
finally:
    shutil.rmtree(work, ignore_errors=True)

print(f"Machine: {os.cpu_count()} cores; wrk -t{bench.THREADS} -c{bench.CONNECTIONS} -d{bench.SECONDS}s, SQLite, htmx fragments.\n")
print("| mode | endpoint | req/s | p50 ms | p99 ms |\n|---|---|---:|---:|---:|")
for mode, name, r in rows:
    print(f"| {mode} | {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} |")
