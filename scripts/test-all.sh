#!/usr/bin/env bash
# Installs whatever is missing on a fresh Debian/Ubuntu machine and runs every test: UI unit tests,
# lints, Rust unit tests, then, in a private desktop session (D-Bus, real gnome-keyring, Xvfb), the
# keychain integration tests and the end-to-end tests of the real app window.
# Screenshots and logs land in $LATCHKEY_ARTIFACTS (printed at the end).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$REPO"

ARTIFACTS="${LATCHKEY_ARTIFACTS:-$REPO/artifacts}"
rm -rf "$ARTIFACTS" && mkdir -p "$ARTIFACTS"
export LATCHKEY_ARTIFACTS="$ARTIFACTS"
timings=()
step() {
  local name=$1; shift
  log "$name"
  local t0=$SECONDS
  "$@"
  timings+=("$(printf '%-34s %4ds' "$name" $((SECONDS - t0)))")
}

# Freqtrade, the bot of the signing-agent test (crates/core/tests/integration/agent_freqtrade.rs):
# pinned wheels, hash-checked, in its own tools directory (it brings its own copy of CCXT 4.5.90);
# callers put $FREQTRADE_DIR on PYTHONPATH. About 470 MB.
FREQTRADE_DIR="$TOOLS_DIR/freqtrade-2026.9"
ensure_freqtrade() {
  ensure_wheels Freqtrade "$FREQTRADE_DIR" freqtrade.txt 'import freqtrade.exchange, freqtrade.resolvers'
}

# NautilusTrader, the bot of the signing-agent test agent_nautilus.rs: pinned wheels, hash-checked,
# in its own tools directory, about 630 MB. Not on PYTHONPATH: its pandas 2 and Freqtrade's pandas 3
# cannot share one path, so the test runs its bot with LATCHKEY_NAUTILUS_DIR as the bot's whole path.
NAUTILUS_DIR="$TOOLS_DIR/nautilus-trader-1.221.0"
ensure_nautilus() {
  ensure_wheels NautilusTrader "$NAUTILUS_DIR" nautilus.txt 'import nautilus_trader.adapters.binance'
}

install_tools() {
  ensure_packages "${APP_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
  ensure_rust
  ensure_node
  ensure_ccxt
  ensure_freqtrade
  ensure_nautilus
  ensure_openbao
  if ! command -v tauri-driver >/dev/null 2>&1; then
    cargo install tauri-driver --version '^2' --locked --root "$TOOLS_DIR"
  fi
}

ui_tests() {
  build_ui
  # eslint (type-aware) and prettier, then the unit tests.
  (cd ui && npm run lint && npm test)
}

rust_build() {
  # One compile for the app and every test target: a separate `cargo build` then `cargo test`
  # would rebuild crates whose features differ between the two.
  cargo build --workspace --bins
  cargo test --workspace --no-run
}

lint() {
  cargo fmt --all --check
  cargo clippy --workspace --all-targets -- -D warnings
}

rust_tests() {
  export LATCHKEY_APP_BIN="$CARGO_TARGET_DIR/debug/latchkey-desktop"
  export LATCHKEY_SIM_BIN="$CARGO_TARGET_DIR/debug/exchange-sim"
  export LATCHKEY_E2E_ARTIFACTS="$ARTIFACTS/e2e" LATCHKEY_E2E_WORK="$ARTIFACTS/work"
  # The session's home (keyring files) stays with the artifacts for the leak scan; the list of
  # secrets the tests typed stays outside them.
  export LATCHKEY_SESSION_ROOT="$ARTIFACTS/session" LATCHKEY_E2E_SECRETS="$SECRETS_LIST"
  # CCXT, the independent signer (exchange::ccxt_check) and client (exchange-sim's sub_keys):
  # required here, so a missing install fails instead of skipping.
  export PYTHONPATH="$CCXT_DIR${PYTHONPATH:+:$PYTHONPATH}" LATCHKEY_REQUIRE_CCXT=1
  # Freqtrade, the bot of the agent_freqtrade test; its CCXT is the same 4.5.90. Required here too.
  export PYTHONPATH="$PYTHONPATH:$FREQTRADE_DIR" LATCHKEY_REQUIRE_FREQTRADE=1
  # NautilusTrader, the bot of the agent_nautilus test, from its own directory (see ensure_nautilus).
  # Required here too.
  export LATCHKEY_NAUTILUS_DIR="$NAUTILUS_DIR" LATCHKEY_REQUIRE_NAUTILUS=1
  # OpenBao (LATCHKEY_BAO_BIN from ensure_openbao): the servers tests start their own dev server
  # from it; required here, so a missing binary fails instead of skipping.
  export LATCHKEY_REQUIRE_BAO=1
  # Every Rust test in one run, with the same selection as the build step so nothing recompiles:
  # unit and integration tests, the exchange clients against exchange-sim, and (the ignored ones,
  # which need a desktop) the real-keychain tests and the WebDriver tests of the app window.
  scripts/desktop-session.sh cargo test --workspace -- --include-ignored 2>&1 \
    | grep -v -e "xdg-desktop-portal" -e "dbus-daemon\[" -e "^$" | tee "$ARTIFACTS/rust-tests.log"
}

leak_scan() {
  # Every secret the tests typed or saw, in every file the run left: data dirs, logs, crash
  # output, IPC replies, the session's keyrings. Prints its figures; fails on a single hit.
  "$CARGO_TARGET_DIR/debug/leak-scan" --secrets "$SECRETS_LIST" --seed tests/e2e/seed.json "$ARTIFACTS" \
    | tee "$ARTIFACTS/leak-scan.txt"
}

SECRETS_LIST=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-e2e-secrets.XXXXXX")
trap 'rm -rf "$SECRETS_LIST"' EXIT

step "Install missing tools" install_tools
step "UI build and unit tests" ui_tests
step "Rust build (app and tests)" rust_build
step "Lints (rustfmt, clippy)" lint
step "Rust tests (unit, keychain, e2e)" rust_tests
step "Secret-leak scan" leak_scan
step "Dependency audit (cargo deny)" scripts/check-deps.sh
step "Installer (.deb, release build)" scripts/build-installers.sh
# Every cargo-fuzz target for a bounded time (fuzz/README.md); any crash fails the run.
step "Fuzzing (each target 7 s)" fuzz/run.sh 7

log "All tests passed. Time per step:"
printf '  %s\n' "${timings[@]}"
echo "Screenshots and logs: $ARTIFACTS"
