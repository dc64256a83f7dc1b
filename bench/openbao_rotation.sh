#!/usr/bin/env bash
# Rotation-to-bot latency of `latchkey run --from openbao` against a real `bao server -dev`
# (issue 15, "Benchmarks"): from the new version's write to the bot restarted with it, median and
# p95 over N rotations, per poll interval, against the interval itself (the bound no poller beats).
# A debug build is enough: the figures are the poll wait, HTTP round trips on loopback and a fork.
#
#   bench/openbao_rotation.sh               20 rotations at --poll 2 (the default) and 0.5
#   bench/openbao_rotation.sh 20 2 1 0.5    N, then the poll intervals
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p latchkey-cli --bin latchkey --example openbao_rotation_bench
target="${CARGO_TARGET_DIR:-target}/debug"
LATCHKEY_BIN="$target/latchkey" "$target/examples/openbao_rotation_bench" "$@"
