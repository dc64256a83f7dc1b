#!/usr/bin/env bash
# The signing agent under load (issue 16): the latency `latchkey agent` adds per request, 4 real
# CCXT bots at 200 requests/s straight at exchange-sim against the same bots through the agent,
# in the same run; and the agent's memory over a million requests from a Rust load client. Release
# builds. Writes artifacts/bench/agent.json and prints the tables. About 13 minutes once built.
#
#   bench/agent.sh                          3 latency runs of 60 s per arm, then 1,000,000 requests
#   BENCH_RUNS=5 BENCH_AGENT_REQUESTS=200000 bench/agent.sh
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
cd "$REPO"
ARTIFACTS="${LATCHKEY_ARTIFACTS:-$REPO/artifacts}/bench"
mkdir -p "$ARTIFACTS"
REL="$CARGO_TARGET_DIR/release"
ensure_packages "${APP_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
ensure_ccxt
log "Release builds: the CLI (the agent), exchange-sim, the load client"
cargo build --release -p latchkey-cli -p exchange-sim
cargo build --release -p latchkey-core --example agent_load
log "Measuring (inside a private desktop session)"
PYTHONPATH="$CCXT_DIR${PYTHONPATH:+:$PYTHONPATH}" scripts/desktop-session.sh python3 bench/agent.py \
  --cli "$REL/latchkey" --sim "$REL/exchange-sim" --load "$REL/examples/agent_load" \
  --bot "$REPO/tests/bots/ccxt_bot.py" --seed-file "$REPO/crates/exchange-sim/seed.example.json" \
  --runs "${BENCH_RUNS:-3}" --secs "${BENCH_AGENT_SECS:-60}" --requests "${BENCH_AGENT_REQUESTS:-1000000}" \
  --connections "${BENCH_AGENT_CONNECTIONS:-8}" --out "$ARTIFACTS/agent.json"
echo "Raw figures: $ARTIFACTS/agent.json"
