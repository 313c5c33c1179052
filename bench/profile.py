"""Where an uncached request spends its instructions: the release server under callgrind
(instructions are counted repeatably; `perf` gets no samples on these VMs), one user with
10,000 events (one with 60 repeating events besides, one with 100,000), the cache off, and PROFILE_REQUESTS
(default 5) htmx requests of each kind collected alone. Prints, per kind, the instructions per
request and the functions that take most of them (inclusive).

PROFILE_CACHE=hits profiles cache hits instead: the cache on, over Redis (BENCH_REDIS_URL), and
every kind read once before it is counted.

usage: bench/profile.sh [BINARY]      (default target/release/eventide)"""
import os, re, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench

BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else bench.BIN
REQUESTS = int(os.environ.get("PROFILE_REQUESTS", "5"))
HITS = os.environ.get("PROFILE_CACHE") == "hits"
TOP = int(os.environ.get("PROFILE_TOP", "12"))
DAY = bench.DAY

work = tempfile.mkdtemp(prefix="eventide-profile-")
env = dict(os.environ, DATABASE_URL=f"sqlite://{work}/p.db", EVENTIDE_LOG_FILE="", ROCKET_LOG_LEVEL="critical",
           SECRET_KEY="profile-secret-key-profile-secret-key-0123", EVENTIDE_CACHE_ENABLED="false",
           EVENTIDE_DAV_PORT="off")
if HITS:
    env.update(EVENTIDE_CACHE_ENABLED="true", REDIS_URL=bench.REDIS_URL, EVENTIDE_REDIS_PREFIX=f"profile:{os.getpid()}:")
for prefix, events, series in (("mid", 10_000, 0), ("rec", 10_000, 60), ("big", 100_000, 0)):
    subprocess.run([BIN, "seed", "--users", "1", "--events", str(events), "--series", str(series), "--prefix", prefix],
                   env=env, check=True, stdout=subprocess.DEVNULL)
port = bench.free_port()
out = os.path.join(work, "callgrind.out")
server = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--instr-atstart=no",
                           "--dump-instr=no", BIN], env=dict(env, ROCKET_PORT=str(port)),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def control(*args):
    subprocess.run(["callgrind_control", *args, str(server.pid)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


# The runtime's and the standard library's frames wrap everything: left out of the listing.
GLUE = re.compile(r"^(PROGRAM TOTALS|run\b|run'|run_task|poll|\{\{closure\}\}|__rust|std::|core::|tokio::|<impl rocket::rkt|"
                  r"<core::|<std::|<tokio::|<alloc::boxed|<futures_util|<rocket::server|rocket::server::|hyper::|<hyper)")


try:
    for _ in range(600):
        try:
            if bench.request(port, "GET", "/healthz")[0].status == 200:
                break
        except OSError:
            time.sleep(0.5)
    mid, rec, big = bench.login(port, "mid1"), bench.login(port, "rec1"), bench.login(port, "big1")
    kinds = [("month", f"/calendar/month/{DAY}", mid), ("month, 60 repeating", f"/calendar/month/{DAY}", rec),
             ("week", f"/calendar/week/{DAY}", mid), ("day", f"/calendar/day/{DAY}", mid),
             ("agenda", f"/calendar/agenda/{DAY}", mid), ("dashboard", "/", mid),
             ("search", "/search?q=dentist", mid), ("search, 100k events", "/search?q=project%20rev", big),
             ("event", "/events/1", mid)]
    what = "cache hit" if HITS else "uncached request"
    print(f"{BIN}: instructions per {what}, {REQUESTS} requests of each kind (callgrind)\n")
    for number, (name, path, session) in enumerate(kinds, 1):
        headers = {"Cookie": f"eventide_session={session}", "HX-Request": "true"}
        bench.request(port, "GET", path, headers)  # warm: first-use costs are not the request's
        if HITS:
            response, _ = bench.request(port, "GET", path, headers)
            assert response.getheader("X-Cache") == "HIT", f"{path}: {response.getheader('X-Cache')}"
        control("--zero")
        control("--instr=on")
        for _ in range(REQUESTS):
            response, _ = bench.request(port, "GET", path, headers)
            assert response.status == 200, f"{path}: {response.status}"
        control("--instr=off")
        control(f"--dump={name}")
        # Valgrind acts on the dump command when the server next runs: wake it (uncounted)
        # and wait for this kind's file.
        bench.request(port, "GET", "/healthz")
        for _ in range(600):
            dumps = sorted((f for f in os.listdir(work) if f.startswith("callgrind.out.")),
                           key=lambda f: int(f.rsplit(".", 1)[1]))
            if len(dumps) >= number:
                time.sleep(0.5)  # and finished
                break
            time.sleep(0.1)
        annotated = subprocess.run(["callgrind_annotate", "--inclusive=yes", os.path.join(work, dumps[number - 1])],
                                   check=True, capture_output=True, text=True).stdout
        total = re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", annotated)
        total = int(total.group(1).replace(",", "")) if total else 0
        print(f"## {name} ({path}): {total / REQUESTS / 1e6:.2f} M instructions per request")
        shown = 0
        for line in annotated.splitlines():
            match = re.match(r"\s*([\d,]+) \(\s*([\d.]+)%\)\s+(.*)", line)
            if not match or shown >= TOP:
                continue
            _, share, function = match.groups()
            function = re.sub(r"\s*\[[^\]]*\]$", "", function).strip()
            function = re.sub(r"^(\?\?\?|[^\s:]+\.\w+):(?!:)", "", function)
            if float(share) > 100.0 or GLUE.match(function):
                continue
            print(f"  {share:>5}%  {function[:110]}")
            shown += 1
        print()
finally:
    server.terminate()
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
    shutil.rmtree(work, ignore_errors=True)
    if HITS:
        keys = subprocess.run(["redis-cli", "-u", bench.REDIS_URL, "--scan", "--pattern", f"profile:{os.getpid()}:*"],
                              capture_output=True, text=True).stdout.split()
        for start in range(0, len(keys), 500):
            subprocess.run(["redis-cli", "-u", bench.REDIS_URL, "del", *keys[start:start + 500]], stdout=subprocess.DEVNULL)
