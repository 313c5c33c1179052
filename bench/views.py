"""The uncached day and month views only, for one binary (`python3 bench/views.py BINARY`): bench.py's
seed, server and wrk settings for these rows, in a minute instead of half an hour."""
import os, sys, tempfile, shutil, subprocess
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("BENCH_SECONDS", "5")
import bench
bin_ = sys.argv[1]
bench.BIN = bin_
work = tempfile.mkdtemp(prefix="dv-")
url = f"sqlite://{work}/b.db"
env = dict(os.environ, DATABASE_URL=url, EVENTIDE_LOG_FILE="", ROCKET_LOG_LEVEL="critical",
           SECRET_KEY="bench-secret-key-bench-secret-key-0123456789")
for prefix, events, series in (("mid", 10_000, 0), ("rec", 10_000, 60)):
    subprocess.run([bin_, "seed", "--users", "1", "--events", str(events), "--series", str(series),
                    "--calendars", "1", "--prefix", prefix], env=env, check=True, stdout=subprocess.DEVNULL)
if os.environ.get("BENCH_STRIP_STAT4"):
    # As a database that never ran `eventide seed` (whose ANALYZE this undoes in part): binaries
    # from before `Store::analyze` dropped STAT4 samples compare on the same footing.
    import sqlite3
    db = sqlite3.connect(f"{work}/b.db")
    db.execute("DELETE FROM sqlite_stat4")
    db.execute("ANALYZE sqlite_schema")
    db.commit()
    db.close()
server = bench.Server(url, False, f"dv:{os.getpid()}:")
try:
    mid = bench.login(server.port, "mid1"); rec = bench.login(server.port, "rec1")
    for name, path, s in (("day view", f"/calendar/day/{bench.DAY}", mid), ("month view", f"/calendar/month/{bench.DAY}", mid),
                          ("month, 60 repeating", f"/calendar/month/{bench.DAY}", rec)):
        for _ in range(3):
            bench.request(server.port, "GET", path, {"Cookie": f"eventide_session={s}", "HX-Request": "true"})
        r = bench.wrk(server.port, path, s)
        print(f"{bin_} | uncached | {name} | {r['rps']:.0f} | p50 {r['p50']:.2f}")
finally:
    server.stop(); shutil.rmtree(work, ignore_errors=True)
