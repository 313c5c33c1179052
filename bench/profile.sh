#!/usr/bin/env bash
# Instructions per uncached request of each kind, and where they go (callgrind): see
# bench/profile.py. Needs valgrind (apt-get install valgrind) and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 1; }
[ $# -gt 0 ] || [ -x target/release/eventide ] || cargo build --release --locked
exec python3 bench/profile.py "$@"
