"""Drives bench/run.sh: seed, start, log in, load with wrk, collect the figures."""
import http.client, json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.parse

BIN = os.environ.get("BENCH_BIN", os.path.abspath("target/release/eventide"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_ADMIN = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
TOKEN = "bench-metrics-token-0123456789"
PASSWORD = "eventide-seed"
DAY = "2025-06-11"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def cookies_of(response):
    jar = {}
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            jar[key] = val
    return jar


def login(port, username):
    response, page = request(port, "GET", "/login")
    jar = cookies_of(response)
    token = re.search(rb'name="csrf-token" content="([^"]+)"', page).group(1).decode()
    body = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": PASSWORD})
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
    response, _ = request(port, "POST", "/login", headers, body)
    assert response.status == 303, f"login failed: {response.status}"
    return cookies_of(response)["eventide_session"]


def metrics(port):
    _, text = request(port, "GET", "/metrics", {"Authorization": f"Bearer {TOKEN}"})
    values = {}
    for line in text.decode().splitlines():
        if line.startswith("eventide_sql_queries_total "):
            values["sql"] = int(line.split()[-1])
        if line.startswith('eventide_redis_round_trips_total{role="cache"}'):
            values["cache_rt"] = int(line.split()[-1])
        if line.startswith('eventide_redis_round_trips_total{role="sessions"}'):
            values["session_rt"] = int(line.split()[-1])
    return values


def wrk(port, path, session=None, fragment=True, connections=None, threads=None, script=None):
    connections = connections or CONNECTIONS
    threads = min(threads or THREADS, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{SECONDS}s", "--latency"]
    if script:
        command += ["-s", script]
    if session:
        command += ["-H", f"Cookie: eventide_session={session}"]
    if fragment:
        command += ["-H", "HX-Request: true"]
    command.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def latency(label):
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": rps, "p50": latency("50"), "p99": latency("99"), "requests": total,
            "errors": int(errors.group(1)) if errors else 0}


class Server:
    def __init__(self, database_url, cache_enabled, prefix):
        self.port = free_port()
        env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=REDIS_URL, ROCKET_PORT=str(self.port),
                   ROCKET_PROFILE="release", ROCKET_LOG_LEVEL="critical", EVENTIDE_LOG_FILE="",
                   SECRET_KEY="bench-secret-key-bench-secret-key-0123456789",
                   EVENTIDE_METRICS_TOKEN=TOKEN, EVENTIDE_REDIS_PREFIX=prefix,
                   EVENTIDE_CACHE_ENABLED="true" if cache_enabled else "false",
                   EVENTIDE_LOGIN_ATTEMPTS_PER_ADDRESS="1000")
        started = time.perf_counter()
        self.process = subprocess.Popen([BIN], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                response, _ = request(self.port, "GET", "/healthz")
                if response.status == 200:
                    break
            except OSError:
                pass
            if time.perf_counter() - started > 30:
                raise RuntimeError("server did not start")
            time.sleep(0.002)
        self.startup_ms = (time.perf_counter() - started) * 1000

    def peak_rss_mb(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def seed(database_url):
    env = dict(os.environ, DATABASE_URL=database_url, EVENTIDE_LOG_FILE="", ROCKET_LOG_LEVEL="critical",
               SECRET_KEY="bench-secret-key-bench-secret-key-0123456789")
    for prefix, events, series, calendars in (("mid", 10_000, 0, 1), ("big", 100_000, 0, 1),
                                              ("rec", 10_000, 60, 1), ("cal", 10_000, 0, 5)):
        subprocess.run([BIN, "seed", "--users", "1", "--events", str(events), "--series", str(series),
                        "--calendars", str(calendars), "--prefix", prefix], env=env, check=True,
                       stdout=subprocess.DEVNULL)


def first_event(port, session):
    _, page = request(port, "GET", "/search?q=project", {"Cookie": f"eventide_session={session}"})
    return int(re.search(rb'href="/events/(\d+)"', page).group(1))


def measure(server, label, rows):
    mid = login(server.port, "mid1")
    big = login(server.port, "big1")
    rec = login(server.port, "rec1")
    cal = login(server.port, "cal1")
    event = first_event(server.port, mid)
    targets = [
        ("dashboard", "/", mid),
        ("day view", f"/calendar/day/{DAY}", mid),
        ("month view", f"/calendar/month/{DAY}", mid),
        ("event detail", f"/events/{event}", mid),
        ("search (100k events)", "/search?q=project%20rev", big),
        ("dashboard, 60 repeating", "/", rec),
        ("month view, 60 repeating", f"/calendar/month/{DAY}", rec),
        ("dashboard, 5 calendars", "/", cal),
        ("month view, 5 calendars", f"/calendar/month/{DAY}", cal),
    ]
    for name, path, session in targets:
        for _ in range(3):
            request(server.port, "GET", path, {"Cookie": f"eventide_session={session}", "HX-Request": "true"})
        before = metrics(server.port)
        result = wrk(server.port, path, session)
        after = metrics(server.port)
        served = max(result["requests"], 1)
        result["sql"] = (after["sql"] - before["sql"]) / served
        round_trips = (after["cache_rt"] - before["cache_rt"]) + (after["session_rt"] - before["session_rt"])
        result["redis"] = round_trips / served
        rows.append((label, name, result))
    if label == "uncached":
        # The latency of one search on its own, without 63 others queued in front of it.
        before = metrics(server.port)
        result = wrk(server.port, "/search?q=project%20rev", big, connections=1, threads=1)
        after = metrics(server.port)
        served = max(result["requests"], 1)
        result["sql"] = (after["sql"] - before["sql"]) / served
        result["redis"] = ((after["cache_rt"] - before["cache_rt"]) + (after["session_rt"] - before["session_rt"])) / served
        rows.append((label, "search (100k events), 1 connection", result))


def run_engine(engine, report):
    work = tempfile.mkdtemp(prefix="eventide-bench-")
    database = f"eventide_bench_{os.getpid()}"
    if engine == "sqlite":
        url = f"sqlite://{work}/bench.db"
    else:
        subprocess.run(["psql", f"{PG_ADMIN}/postgres", "-qc", f"CREATE DATABASE {database}"], check=True)
        url = f"{PG_ADMIN}/{database}"
    try:
        seed(url)
        rows = []
        server = Server(url, True, f"bench:{os.getpid()}:{engine}:")
        try:
            static_path = re.search(rb'href="(/assets/app\.[0-9a-f]+\.css)"', request(server.port, "GET", "/about")[1]).group(1).decode()
            ceiling = wrk(server.port, static_path, fragment=False)
            ceiling.update(sql=0.0, redis=0.0)
            rows.append(("static", "hashed asset (ceiling)", ceiling))
            measure(server, "cached", rows)
            cached_rss, startup = server.peak_rss_mb(), server.startup_ms
        finally:
            server.stop()
        server = Server(url, False, f"bench:{os.getpid()}:{engine}:off:")
        try:
            measure(server, "uncached", rows)
            uncached_rss = server.peak_rss_mb()
        finally:
            server.stop()
        report.append((engine, rows, ceiling["rps"], startup, max(cached_rss, uncached_rss)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if engine == "postgres":
            subprocess.run(["psql", f"{PG_ADMIN}/postgres", "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"])


def daily_with_exdates(count):
    """One daily series with `count` comma-separated EXDATEs (the probe's import bomb)."""
    start = time.mktime((2026, 1, 1, 12, 0, 0, 0, 0, 0))
    days = (time.strftime("%Y%m%dT090000Z", time.gmtime(start + 86400 * i)) for i in range(count))
    return ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:bomb@bench\r\nSUMMARY:Daily\r\n"
            "DTSTART:20260101T090000Z\r\nRRULE:FREQ=DAILY\r\nEXDATE:" + ",".join(days) +
            "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n").encode()


def preview(port, session, file):
    """POSTs an import preview; returns (status, seconds)."""
    cookie = {"Cookie": f"eventide_session={session}"}
    response, page = request(port, "GET", "/import", cookie)
    jar = dict(cookies_of(response), eventide_session=session)
    found = re.search(rb'name="csrf-token" content="([^"]+)"', page)
    if not found:  # the form page itself failed (an overloaded server's 503)
        return response.status, 0.0
    token = found.group(1)
    boundary = b"----bench-boundary"
    body = (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + token +
            b"\r\n--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="b.ics"\r\n'
            b"Content-Type: text/calendar\r\n\r\n" + file + b"\r\n--" + boundary + b"--\r\n")
    headers = {"Content-Type": "multipart/form-data; boundary=" + boundary.decode(),
               "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
    started = time.perf_counter()
    response, _ = request(port, "POST", "/import", headers, body)
    return response.status, time.perf_counter() - started


def run_imports():
    """The probe's import bombs: one preview of 50,000 and of 1,000 EXDATEs (median of 5),
    24 concurrent 50,000-EXDATE uploads from one account with /healthz timed meanwhile, and
    100,000 nested components. BENCH_BIN runs another build (an older commit's) the same way."""
    import concurrent.futures, statistics, threading
    work = tempfile.mkdtemp(prefix="eventide-bench-")
    url = f"sqlite://{work}/bench.db"
    env = dict(os.environ, DATABASE_URL=url, EVENTIDE_LOG_FILE="", ROCKET_LOG_LEVEL="critical")
    subprocess.run([BIN, "seed", "--users", "1", "--events", "100", "--prefix", "imp"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    server = Server(url, True, f"bench:{os.getpid()}:imports:")
    try:
        session = login(server.port, "imp1")
        print("\n| import preview | status | median s | max s |\n|---|---:|---:|---:|")
        for count in (50_000, 1_000):
            file = daily_with_exdates(count)
            runs = [preview(server.port, session, file) for _ in range(5)]
            times = [t for _, t in runs]
            print(f"| {count:,} EXDATEs ({len(file) // 1024} KiB) | {runs[0][0]} | "
                  f"{statistics.median(times):.3f} | {max(times):.3f} |")
        bomb, done, health = daily_with_exdates(50_000), threading.Event(), []

        def probe_health():
            while not done.is_set():
                started = time.perf_counter()
                response, _ = request(server.port, "GET", "/healthz")
                health.append((response.status, time.perf_counter() - started))
                time.sleep(0.01)

        watcher = threading.Thread(target=probe_health)
        watcher.start()
        with concurrent.futures.ThreadPoolExecutor(24) as pool:
            statuses = list(pool.map(lambda _: preview(server.port, session, bomb)[0], range(24)))
        done.set()
        watcher.join()
        latencies = sorted(t for _, t in health)
        counts = {code: statuses.count(code) for code in sorted(set(statuses))}
        print(f"\n24 concurrent 50,000-EXDATE previews from one account: statuses {counts}; "
              f"/healthz during them: {len(latencies)} probes, median {statistics.median(latencies) * 1000:.1f} ms, "
              f"max {latencies[-1] * 1000:.1f} ms, all 200: {all(code == 200 for code, _ in health)}")
        # Last: before the fix this one ended the process.
        nested = b"BEGIN:VCALENDAR\r\n" + b"BEGIN:X\r\n" * 100_000
        try:
            status = preview(server.port, session, nested)[0]
        except OSError as error:
            status = f"no answer ({type(error).__name__})"
        try:
            alive = request(server.port, "GET", "/healthz")[0].status == 200
        except OSError:
            alive = False
        print(f"\n100,000 nested components ({len(nested) // 1024} KiB): {status}; server still serving: {alive}")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


MONTHS = [f"/calendar/month/2025-{month:02d}-01" for month in range(1, 13)]
WRITE_EVERY = float(os.environ.get("BENCH_WRITE_EVERY", "0.1"))


def cache_counts(port):
    _, text = request(port, "GET", "/metrics", {"Authorization": f"Bearer {TOKEN}"})
    counts = {}
    for outcome in ("hit", "miss"):
        found = re.search(rf'eventide_cache_requests_total{{pattern="range",outcome="{outcome}"}} (\d+)', text.decode())
        counts[outcome] = int(found.group(1)) if found else 0
    return counts


def writer(port, session, kind, stop, done):
    """One person editing while others browse: a new event in June, or (what every write
    retired before issue 21) a change to the calendar itself."""
    response, page = request(port, "GET", "/calendars", {"Cookie": f"eventide_session={session}"})
    jar = dict(cookies_of(response), eventide_session=session)
    token = re.search(rb'name="csrf-token" content="([^"]+)"', page).group(1).decode()
    calendar = re.search(rb'action="/calendars/(\d+)"', page).group(1).decode()
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
    while not stop.is_set():
        n = done[0]
        if kind == "event":
            day = 1 + n % 28
            fields = {"title": f"Write {n}", "start": f"2025-06-{day:02d}T09:00", "end": f"2025-06-{day:02d}T10:00"}
            path = "/events"
        else:
            fields = {"name": "Bench", "color": ["#3366cc", "#cc6633"][n % 2]}
            path = f"/calendars/{calendar}"
        response, _ = request(port, "POST", path, headers, urllib.parse.urlencode(dict(fields, csrf_token=token)))
        assert response.status == 303, f"{path}: {response.status}"
        done[0] += 1
        stop.wait(WRITE_EVERY)


def run_writes():
    """Browsing a year of month views (wrk, round robin) while one writer changes something
    every BENCH_WRITE_EVERY seconds: how many views the cache keeps, and what that is worth."""
    import threading
    work = tempfile.mkdtemp(prefix="eventide-bench-")
    url = f"sqlite://{work}/bench.db"
    script = os.path.join(work, "months.lua")
    with open(script, "w") as f:
        paths = ", ".join(f'"{m}"' for m in MONTHS)
        f.write(f"local paths = {{{paths}}}\nlocal i = 0\n"
                "request = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\n")
    rows = []
    try:
        seed(url)
        server = Server(url, True, f"bench:{os.getpid()}:writes:")
        try:
            session = login(server.port, "mid1")
            browser = login(server.port, "mid1")
            for kind in ("none", "event", "calendar"):
                for month in MONTHS:
                    request(server.port, "GET", month, {"Cookie": f"eventide_session={browser}", "HX-Request": "true"})
                stop, done = threading.Event(), [0]
                thread = threading.Thread(target=writer, args=(server.port, session, kind, stop, done))
                before = cache_counts(server.port)
                if kind != "none":
                    thread.start()
                result = wrk(server.port, MONTHS[0], browser, script=script)
                stop.set()
                if kind != "none":
                    thread.join()
                after = cache_counts(server.port)
                hits, misses = after["hit"] - before["hit"], after["miss"] - before["miss"]
                result.update(writes=done[0], hit_ratio=hits / max(hits + misses, 1))
                rows.append((kind, result))
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"\nMachine: {os.cpu_count()} cores ({cpu}); SQLite, user with 10,000 events; wrk -t{THREADS} "
          f"-c{CONNECTIONS} -d{SECONDS}s over the 12 month views of 2025 (htmx fragments), one writer every "
          f"{WRITE_EVERY * 1000:.0f} ms.\n")
    names = {"none": "no writes", "event": "a new event in June 2025",
             "calendar": "the calendar recoloured (retires every view, as every write did before)"}
    print("| while | writes | month views/s | p50 ms | p99 ms | cache hits | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, r in rows:
        print(f"| {names[kind]} | {r['writes']} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
              f"{r['hit_ratio'] * 100:.1f}% | {r['errors']} |")


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    if which == "imports":
        return run_imports()
    if which == "writes":
        return run_writes()
    engines = ["sqlite", "postgres"] if which == "all" else [which]
    report = []
    for engine in engines:
        run_engine(engine, report)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"\nMachine: {os.cpu_count()} cores ({cpu}); wrk -t{THREADS} -c{CONNECTIONS} -d{SECONDS}s on loopback, "
          f"htmx fragment requests (HX-Request: true), server and load generator on the same machine.\n")
    for engine, rows, ceiling, startup, rss in report:
        print(f"### {engine}: startup {startup:.0f} ms to /healthz 200, peak RSS {rss:.1f} MB\n")
        print("| mode | endpoint | req/s | p50 ms | p99 ms | vs ceiling | SQL/req | Redis RT/req | errors |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for mode, name, r in rows:
            print(f"| {mode} | {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                  f"{r['rps'] / ceiling:.2f} | {r['sql']:.2f} | {r['redis']:.2f} | {r['errors']} |")
        print()


if __name__ == "__main__":
    main()
