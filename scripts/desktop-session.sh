#!/usr/bin/env bash
# Runs "$@" inside a private desktop session: its own D-Bus session bus, an unlocked gnome-keyring
# (a real Secret Service), an Xvfb display, and a throwaway HOME, so tests never touch the user's
# real keyrings or files. The session folder is kept in $LATCHKEY_SESSION_ROOT for inspection.
set -euo pipefail

if [ -z "${LATCHKEY_IN_SESSION:-}" ]; then
  # A caller may choose the folder (test-all.sh keeps it with the artifacts, for the leak scan).
  if [ -n "${LATCHKEY_SESSION_ROOT:-}" ]; then root=$LATCHKEY_SESSION_ROOT && mkdir -p "$root"
  else root=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-session.XXXXXX"); fi
  # cargo, rustup and npm keep their homes although HOME changes.
  export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
  export npm_config_cache="${npm_config_cache:-$HOME/.npm}"
  export LATCHKEY_SESSION_ROOT="$root" HOME="$root/home" XDG_RUNTIME_DIR="$root/run"
  export XDG_DATA_HOME="$root/home/.local/share" XDG_CONFIG_HOME="$root/home/.config" XDG_CACHE_HOME="$root/home/.cache"
  mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$HOME" "$XDG_RUNTIME_DIR"
  unset DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY
  LATCHKEY_IN_SESSION=1 exec dbus-run-session -- "$0" "$@"
fi

# A real Secret Service, unlocked with a throwaway password.
eval "$(printf 'latchkey-session\n' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL

# A display; -displayfd picks a free display number and tells us which.
display_file="$LATCHKEY_SESSION_ROOT/display"
# A reused session folder holds the last display number; the redirection below empties the file
# only once the background job starts, so remove it first rather than race it.
rm -f "$display_file"
Xvfb -displayfd 9 -screen 0 1280x800x24 -nolisten tcp 9>"$display_file" 2>"$LATCHKEY_SESSION_ROOT/xvfb.log" &
xvfb_pid=$!
trap 'kill "$xvfb_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$display_file" ] && break; sleep 0.05; done
[ -s "$display_file" ] || { echo "Xvfb did not start: $(cat "$LATCHKEY_SESSION_ROOT/xvfb.log")" >&2; exit 1; }
export DISPLAY=":$(head -n1 "$display_file")"
# Software GL under Xvfb, for anything that still composites on the GPU. Latchkey itself paints on
# the CPU (src-tauri/lib.rs), so the e2e tests take screenshots from the X window: WebDriver's own
# screenshot hangs without compositing.
export LIBGL_ALWAYS_SOFTWARE=1

"$@"
