#!/usr/bin/env bash
# Eventide's benchmark, one command from a fresh clone:
#   bench/run.sh [sqlite|postgres|all|imports|writes|caldav|caldav-sqlite|caldav-postgres]
# Builds the release binary, seeds fresh databases, starts the server with Redis, logs in
# and drives it with wrk on loopback; prints a markdown table (see docs/benchmarks.md).
# Needs Redis on 127.0.0.1:6379 and, for postgres, PostgreSQL on 127.0.0.1:5432 (trust auth).
# Knobs: BENCH_SECONDS (10), BENCH_CONNECTIONS (64), BENCH_THREADS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
fi
cargo build --release --locked --quiet
case "${1:-all}" in
  # CalDAV beside Radicale (installed from PyPI into target/bench-venv on first use).
  caldav) exec python3 bench/caldav.py all ;;
  caldav-*) exec python3 bench/caldav.py "${1#caldav-}" ;;
  *) exec python3 bench/bench.py "${1:-all}" ;;
esac
