#!/usr/bin/env bash
# Faults under bounded load, as a table: two instances behind HAProxy on a PostgreSQL and two
# Redis servers of their own, two users writing and reading back while the cache Redis hangs
# then dies, the sessions Redis hangs, PostgreSQL restarts and one instance is SIGKILLed.
# It runs the test that asserts the outcome (tests/api/faults.rs) and prints its figures.
# Needs what bin/test installs (haproxy, redis-server, PostgreSQL's server binaries).
set -euo pipefail
cd "$(dirname "$0")/.."
line=$(cargo test --locked --test api faults::faults_under_load -- --nocapture 2>&1 | grep "faults under load:" || true)
if [ -z "$line" ]; then
  echo "the faults test did not report; run: cargo test --test api faults:: -- --nocapture" >&2
  exit 1
fi
python3 - "$line" <<'PY'
import re, sys
cells = [c.strip() for c in sys.argv[1].split("faults under load:")[1].split("|") if c.strip()]
pairs = [re.match(r"(.*?)\s+(\d+)$", c).groups() for c in cells]
print("| " + " | ".join(name for name, _ in pairs) + " |")
print("|" + "---|" * len(pairs))
print("| " + " | ".join(value for _, value in pairs) + " |")
PY
