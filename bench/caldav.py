"""CalDAV side by side: Eventide and Radicale (the most used self-hosted CalDAV server) serve
the same 10,000 events in the same run, and are driven the same way: a sync with no change, a
one-month calendar-query, a multiget of 50 objects (each with wrk on one connection, and on
BENCH_CONNECTIONS), and a client's initial full sync (sync-collection, then multigets of 100,
as DAVx5 does), timed end to end. Prints a markdown table with the ratios, and both servers'
memory. Run by `bench/run.sh caldav` (Eventide on SQLite and PostgreSQL)."""
import base64, concurrent.futures, http.client, json, os, re, shutil, socket, statistics, subprocess, sys
import tempfile, time

sys.path.insert(0, os.path.dirname(__file__))
from bench import BIN, PG_ADMIN, REDIS_URL, SECONDS, free_port, request  # noqa: E402

EVENTS = 10_000
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
RADICALE = os.environ.get("BENCH_RADICALE", os.path.abspath("target/bench-venv/bin/radicale"))
MONTH = ("20260601T000000Z", "20260701T000000Z")
PASSWORD = "bench-password"


def zone(i):
    return "Europe/Berlin" if i % 10 == 3 else None


def make_events():
    """10,000 objects over 2026 (about 830 a month): timed in UTC, timed in Berlin, all-day,
    and a weekly series in every hundred."""
    objects = []
    for i in range(EVENTS):
        noon = time.mktime((2026, 1, 1, 12, 0, 0, 0, 0, 0)) + 86400 * (i * 365 // EVENTS)
        date = time.strftime("%Y%m%d", time.gmtime(noon))
        hour = 7 + (i * 7) % 12
        uid = f"bench-{i:05d}@example.org"
        if i % 20 == 7:
            following = time.strftime("%Y%m%d", time.gmtime(noon + 86400))
            times = f"DTSTART;VALUE=DATE:{date}\r\nDTEND;VALUE=DATE:{following}\r\n"
        elif zone(i):
            times = f"DTSTART;TZID={zone(i)}:{date}T{hour:02d}0000\r\nDTEND;TZID={zone(i)}:{date}T{hour:02d}4500\r\n"
        else:
            times = f"DTSTART:{date}T{hour:02d}0000Z\r\nDTEND:{date}T{hour:02d}3000Z\r\n"
        rule = "RRULE:FREQ=WEEKLY;COUNT=10\r\n" if i % 100 == 42 else ""
        objects.append((uid, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\n"
                        f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n{times}{rule}SUMMARY:Event {i} project review\r\n"
                        f"LOCATION:Room {i % 40}\r\nDESCRIPTION:Agenda for meeting {i}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
    return objects


class Dav:
    """One keep-alive connection to a CalDAV server, as one client."""

    def __init__(self, port, user, password):
        self.port = port
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)

    def send(self, method, path, body=b"", headers=None):
        all_headers = {"Authorization": self.auth, "Content-Type": "application/xml; charset=utf-8"}
        all_headers.update(headers or {})
        self.conn.request(method, path, body=body, headers=all_headers)
        response = self.conn.getresponse()
        return response.status, response.read()


def sync_body(token=""):
    return (f'<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level>'
            '<d:prop><d:getetag/></d:prop></d:sync-collection>')


def query_body():
    return ('<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/>'
            '<c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">'
            f'<c:time-range start="{MONTH[0]}" end="{MONTH[1]}"/></c:comp-filter></c:comp-filter></c:filter>'
            '</c:calendar-query>')


def multiget_body(hrefs):
    links = "".join(f"<d:href>{h}</d:href>" for h in hrefs)
    return ('<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/>'
            f'<c:calendar-data/></d:prop>{links}</c:calendar-multiget>')


def hrefs_of(xml):
    return re.findall(rb"<(?:\w+:)?href>([^<]+)</(?:\w+:)?href>", xml)


def full_sync(client, calendar):
    """A new device: every href and ETag, then every body in multigets of 100."""
    status, listing = client.send("REPORT", calendar, sync_body().encode(), {"Depth": "1"})
    assert status == 207, (status, listing[:300])
    token = re.search(rb"<(?:\w+:)?sync-token>([^<]+)</", listing).group(1).decode()
    hrefs = [h.decode() for h in hrefs_of(listing) if h.decode().rstrip("/") != calendar.rstrip("/")]
    bodies = 0
    for start in range(0, len(hrefs), 100):
        status, data = client.send("REPORT", calendar, multiget_body(hrefs[start:start + 100]).encode(), {"Depth": "1"})
        assert status == 207, status
        bodies += data.count(b"BEGIN:VEVENT")
    return token, hrefs, bodies


def wrk(port, auth, path, body, connections):
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write(f'wrk.method = "REPORT"\nwrk.body = [==[{body}]==]\n'
                 f'wrk.headers["Content-Type"] = "application/xml"\nwrk.headers["Depth"] = "1"\n'
                 f'wrk.headers["Authorization"] = "{auth}"\n')
    script.close()
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{SECONDS}s", "--timeout", "60s", "--latency",
               "-s", script.name, f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

    def latency(label):
        found = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        if not found:
            return float("nan")
        value, unit = found.groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": rps, "p50": latency("50"), "p99": latency("99"), "errors": int(errors.group(1)) if errors else 0}


def rss_mb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def wait_for(port):
    for _ in range(3000):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"nothing listening on {port}")


def start_eventide(work, url, objects):
    web, dav_port = free_port(), free_port()
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=REDIS_URL, ROCKET_PORT=str(web), EVENTIDE_DAV_PORT=str(dav_port),
               ROCKET_PROFILE="release", ROCKET_LOG_LEVEL="critical", EVENTIDE_LOG_FILE="",
               SECRET_KEY="bench-secret-key-bench-secret-key-0123456789",
               EVENTIDE_REDIS_PREFIX=f"bench:{os.getpid()}:dav:", EVENTIDE_LOGIN_ATTEMPTS_PER_ADDRESS="1000")
    subprocess.run([BIN, "seed", "--users", "1", "--events", "0", "--prefix", "dav"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    secret = subprocess.run([BIN, "app-password", "dav1", "Bench"], env=env, check=True, capture_output=True,
                            text=True).stdout.splitlines()[0]
    process = subprocess.Popen([BIN], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(dav_port)
    client = Dav(dav_port, "dav1", secret)
    status, home = client.send("PROPFIND", "/dav/calendars/dav1/", b"", {"Depth": "1"})
    calendar = [h.decode() for h in hrefs_of(home)
                if h.decode().startswith("/dav/calendars/dav1/") and h.decode() != "/dav/calendars/dav1/"][0]
    started = time.perf_counter()

    def put(item):
        uid, ics = item
        conn = Dav(dav_port, "dav1", secret)
        status, _ = conn.send("PUT", f"{calendar}{uid}.ics", ics.encode(), {"Content-Type": "text/calendar"})
        assert status == 201, status
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(put, objects))
    load_s = time.perf_counter() - started
    if url.startswith("postgres"):
        # What autovacuum does within a minute of a bulk load; measured now, the planner
        # would still think the table empty.
        subprocess.run(["psql", url, "-qc", "ANALYZE"], check=True)
    return process, dav_port, "dav1", secret, calendar, load_s


def start_radicale(work, objects):
    port = free_port()
    root = os.path.join(work, "radicale")
    calendar_dir = os.path.join(root, "collection-root", "bench", "cal")
    os.makedirs(calendar_dir)
    with open(os.path.join(calendar_dir, ".Radicale.props"), "w") as props:
        json.dump({"tag": "VCALENDAR", "D:displayname": "Bench"}, props)
    for uid, ics in objects:
        with open(os.path.join(calendar_dir, f"{uid}.ics"), "w", newline="") as f:
            f.write(ics)
    users = os.path.join(work, "users")
    with open(users, "w") as f:
        f.write(f"bench:{PASSWORD}\n")
    config = os.path.join(work, "radicale.conf")
    with open(config, "w") as f:
        f.write(f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\n"
                f"htpasswd_encryption = plain\n[storage]\nfilesystem_folder = {root}\n[rights]\ntype = owner_only\n"
                "[logging]\nlevel = warning\n")
    process = subprocess.Popen([RADICALE, "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(port)
    return process, port, "bench", PASSWORD, "/bench/cal/"


def measure(name, process, port, user, password, calendar, rows):
    client = Dav(port, user, password)
    first_started = time.perf_counter()
    token, hrefs, bodies = full_sync(client, calendar)
    first = time.perf_counter() - first_started
    assert bodies >= EVENTS, f"{name}: {bodies} events synced"
    rss_before = rss_mb(process.pid)
    times = []
    for _ in range(3):
        started = time.perf_counter()
        token, hrefs, _ = full_sync(client, calendar)
        times.append(time.perf_counter() - started)
    rss_after = rss_mb(process.pid)
    status, quiet = client.send("REPORT", calendar, sync_body(token).encode(), {"Depth": "1"})
    assert status == 207 and not hrefs_of(quiet), (status, quiet[:300])
    status, month = client.send("REPORT", calendar, query_body().encode(), {"Depth": "1"})
    matched = len(hrefs_of(month))
    auth = client.auth
    results = {"initial sync s (first)": first, "initial sync s (median of 3)": statistics.median(times),
               "month query matches": matched, "rss before MB": rss_before, "rss after MB": rss_after,
               "peak rss MB": rss_mb(process.pid, "VmHWM")}
    fifty = multiget_body(hrefs[1000:1050])
    # Radicale answers one request at a time: with many connections wrk's requests queue up
    # and starve the next measurement, so it is measured on one connection only.
    levels = (1,) if name == "Radicale" else (1, CONNECTIONS)
    for label, body in (("no-change sync", sync_body(token)), ("one-month query", query_body()), ("multiget of 50", fifty)):
        for connections in levels:
            results[(label, connections)] = wrk(port, auth, calendar, body, connections)
    rows[name] = results


def run(engines):
    if not os.path.exists(RADICALE):
        subprocess.run([sys.executable, "-m", "venv", "target/bench-venv"], check=True)
        subprocess.run(["target/bench-venv/bin/pip", "install", "-q", "-r", "bench/requirements.txt"], check=True)
    objects = make_events()
    rows = {}
    work = tempfile.mkdtemp(prefix="eventide-caldav-bench-")
    try:
        for engine in engines:
            database = f"eventide_dav_bench_{os.getpid()}"
            if engine == "sqlite":
                url = f"sqlite://{work}/bench.db"
            else:
                subprocess.run(["psql", f"{PG_ADMIN}/postgres", "-qc", f"CREATE DATABASE {database}"], check=True)
                url = f"{PG_ADMIN}/{database}"
            process, port, user, secret, calendar, load_s = start_eventide(work, url, objects)
            try:
                measure(f"Eventide ({engine})", process, port, user, secret, calendar, rows)
                rows[f"Eventide ({engine})"]["10,000 PUTs s (8 clients)"] = load_s
            finally:
                process.terminate()
                process.wait(timeout=10)
                if engine == "postgres":
                    subprocess.run(["psql", f"{PG_ADMIN}/postgres", "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"])
        process, port, user, password, calendar = start_radicale(work, objects)
        try:
            measure("Radicale", process, port, user, password, calendar, rows)
        finally:
            process.terminate()
            process.wait(timeout=10)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(rows)


def report(rows):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    version = subprocess.run([RADICALE, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"\nMachine: {os.cpu_count()} cores ({cpu}); one calendar of {EVENTS:,} events (2026, ~830 a month); "
          f"wrk -d{SECONDS}s on loopback, REPORTs with HTTP Basic; Radicale {version} (htpasswd plain, "
          "filesystem storage, its item cache built by the first sync). Ratios: Eventide's req/s over "
          "Radicale's on one connection (Radicale serves one request at a time).\n")
    radicale = rows.get("Radicale", {})
    print("| server | test | connections | req/s | p50 ms | p99 ms | errors | req/s vs Radicale |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, results in rows.items():
        for key, r in results.items():
            if isinstance(key, tuple):
                label, connections = key
                base = radicale.get((label, 1))
                ratio = f"{r['rps'] / base['rps']:.0f}×" if base and base["rps"] and name != "Radicale" else ""
                print(f"| {name} | {label} | {connections} | {r['rps']:.1f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                      f"{r['errors']} | {ratio} |")
    print("\n| server | initial sync, first (s) | initial sync, median of 3 (s) | vs Radicale | month matches | "
          "RSS before/after 3 syncs (MB) | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        base = radicale.get("initial sync s (median of 3)")
        ratio = f"{base / r['initial sync s (median of 3)']:.0f}× faster" if base and name != "Radicale" else ""
        print(f"| {name} | {r['initial sync s (first)']:.2f} | {r['initial sync s (median of 3)']:.3f} | {ratio} | "
              f"{r['month query matches']} | {r['rss before MB']:.1f} / {r['rss after MB']:.1f} | {r['peak rss MB']:.1f} |")
    for name, r in rows.items():
        if "10,000 PUTs s (8 clients)" in r:
            print(f"\n{name}: loading the 10,000 events by PUT (8 clients) took {r['10,000 PUTs s (8 clients)']:.1f} s.")


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    run(["sqlite", "postgres"] if which == "all" else [which])
