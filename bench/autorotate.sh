#!/usr/bin/env bash
# Automatic rotation against exchange-sim with 200 ms on every answer (issue 13, "Benchmarks"):
# (a) one rotation per exchange, (b) 50 sub keys of three masters falling due at once, each
# against the lower bound computed from the same run's request log (round trips × 200 ms, and
# each rate-limited endpoint's calls spaced by its documented limit). No window, no keychain: the
# in-memory keychain and a temporary SQLite store. A debug build is enough: the figures are
# network round trips and rate-limit waits, not CPU.
#
#   bench/autorotate.sh            both parts, 50 keys
#   bench/autorotate.sh many 200   only (b), with 200 keys
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p latchkey-core --example autorotate_bench
"${CARGO_TARGET_DIR:-target}/debug/examples/autorotate_bench" "${@:-all}"
