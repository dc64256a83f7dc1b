#!/usr/bin/env bash
# What stays of Latchkey with its window closed (latchkey-resident), against a blank Tauri 2 window
# and KeePassXC measured the same way in the same run; and the window's start from the tray.
# Release builds as the .deb ships them. Writes artifacts/bench/resident.json and prints a table.
set -euo pipefail
. "$(dirname "$0")/../scripts/lib/common.sh"
cd "$REPO"
ARTIFACTS="${LATCHKEY_ARTIFACTS:-$REPO/artifacts}/bench"
mkdir -p "$ARTIFACTS"
REL="$CARGO_TARGET_DIR/release"
TAURI="$REPO/ui/node_modules/.bin/tauri"
ensure_packages "${APP_PACKAGES[@]}" "${TEST_PACKAGES[@]}" keepassxc
[ -x "$TAURI" ] || (cd ui && npm ci --no-audit --no-fund --loglevel=error)
log "Release builds: the window, the resident, the CLI, the blank window, the seeding helper"
"$TAURI" build --no-bundle
cargo build --release -p latchkey-resident -p latchkey-cli
(cd bench/blank-app && "$TAURI" build --no-bundle)
cargo build --release -p latchkey-core --example bench_seed
scripts/desktop-session.sh python3 bench/resident.py --app "$REL/latchkey-desktop" --blank "$REL/latchkey-bench-blank" \
  --seed "$REL/examples/bench_seed" --cli "$REL/latchkey" --runs "${BENCH_RUNS:-3}" --out "$ARTIFACTS/resident.json"
