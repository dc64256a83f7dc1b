#!/usr/bin/env bash
# Latchkey's benchmarks in one command, side by side with a blank Tauri 2 window (bench/blank-app):
# release builds and .deb installers of both apps, then, inside one private desktop session
# (scripts/desktop-session.sh: D-Bus, unlocked gnome-keyring, Xvfb), launch times, idle memory,
# the 1,000-key dashboard, keychain latency and emergency revoke. Prints one table and rewrites
# the generated part of BENCHMARKS.md. Takes about 10 minutes once the release builds are warm.
#
#   bench/run.sh            build, then measure
#   BENCH_RUNS=9 bench/run.sh   more launches per figure (default 5; idle memory: BENCH_IDLE_RUNS, default 3)
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
cd "$REPO"

ARTIFACTS="${LATCHKEY_ARTIFACTS:-$REPO/artifacts}/bench"
mkdir -p "$ARTIFACTS"
REL="$CARGO_TARGET_DIR/release"
TAURI="$REPO/ui/node_modules/.bin/tauri"

ensure_packages "${APP_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
[ -x "$TAURI" ] || (cd ui && npm ci --no-audit --no-fund --loglevel=error)
command -v tauri-driver >/dev/null 2>&1 || cargo install tauri-driver --version '^2' --locked --root "$TOOLS_DIR"

t0=$SECONDS
log "Release build and .deb of Latchkey"
"$TAURI" build --bundles deb
# The tray-resident program the window starts (bench/run.py measures it with the window closed).
cargo build --release -p latchkey-resident
log "Release build and .deb of the blank window"
(cd bench/blank-app && "$TAURI" build --bundles deb)
log "Release build of the bench helpers (seeding, keychain, revoke)"
cargo build --release -p latchkey-core --example bench_seed --example keychain_bench --example revoke_bench
build_secs=$((SECONDS - t0))

deb_of() { ls -t "$REL"/bundle/deb/"$1"_*_amd64.deb | head -n1; }

log "Measuring (inside a private desktop session)"
scripts/desktop-session.sh python3 bench/run.py \
  --app "$REL/latchkey-desktop" \
  --blank "$REL/latchkey-bench-blank" \
  --seed "$REL/examples/bench_seed" \
  --keychain-bench "$REL/examples/keychain_bench" \
  --revoke-bench "$REL/examples/revoke_bench" \
  --app-deb "$(deb_of Latchkey)" \
  --blank-deb "$(deb_of latchkey-bench-blank)" \
  --runs "${BENCH_RUNS:-5}" --idle-runs "${BENCH_IDLE_RUNS:-3}" \
  --build-secs "$build_secs" \
  --json "$ARTIFACTS/last-run.json" \
  --out "$REPO/BENCHMARKS.md"
echo "Raw figures: $ARTIFACTS/last-run.json"
