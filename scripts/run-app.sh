#!/usr/bin/env bash
# Installs whatever is missing on a fresh Debian/Ubuntu machine, builds Latchkey and opens it.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$REPO"
ensure_packages "${APP_PACKAGES[@]}"
ensure_rust
ensure_node
build_ui
log "Building and starting Latchkey (release build; the first build takes a few minutes)"
# The tray-resident part is its own program beside the window's (crates/resident).
cargo build --release -p latchkey-resident
exec cargo run --release --bin latchkey-desktop
