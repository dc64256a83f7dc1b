#!/usr/bin/env bash
# Builds the Linux installers with the Tauri CLI (release build), checks what they carry and prints
# their sizes. The .deb builds offline. The AppImage bundler downloads linuxdeploy and the AppImage
# runtime from GitHub at build time, so it is built only where GitHub answers.
# Installers are copied to $LATCHKEY_ARTIFACTS/installers (default ./artifacts/installers).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$REPO"
OUT="${LATCHKEY_ARTIFACTS:-$REPO/artifacts}/installers"
rm -rf "$OUT" && mkdir -p "$OUT"
[ -x ui/node_modules/.bin/tauri ] || (cd ui && npm ci --no-audit --no-fund --loglevel=error)

bundles=deb
if curl -sSfI --max-time 5 https://github.com >/dev/null 2>&1; then
  bundles=deb,appimage
else
  echo "AppImage not built: github.com is unreachable and the bundler downloads linuxdeploy from it." >&2
fi
# The target dir is shared with other builds (bench/blank-app bundles there too, and older
# versions may linger), so the installers are named exactly rather than globbed.
BUNDLE="$CARGO_TARGET_DIR/release/bundle"
name=$(node -p 'const c = require("./tauri.conf.json"); c.productName + "_" + c.version')
deb="$BUNDLE/deb/${name}_amd64.deb"
appimage="$BUNDLE/appimage/${name}_amd64.AppImage"
rm -f "$deb" "$appimage"
# The tray-resident program goes beside the window's in /usr/bin (the window starts it from there).
cargo build --release -p latchkey-resident
resident="$CARGO_TARGET_DIR/release/latchkey-resident"
extra=$(printf '{"bundle":{"linux":{"deb":{"files":{"/usr/bin/latchkey-resident":"%s"}},"appimage":{"files":{"/usr/bin/latchkey-resident":"%s"}}}}}' "$resident" "$resident")
ui/node_modules/.bin/tauri build --ci --bundles "$bundles" --config "$extra"
[ -f "$deb" ] || { echo "tauri build did not produce $deb" >&2; exit 1; }
# What a user's package manager and desktop see: the binary, a valid desktop entry, the icons.
contents=$(dpkg-deb -c "$deb")
for want in usr/bin/latchkey-desktop usr/bin/latchkey-resident usr/share/applications/Latchkey.desktop \
  usr/share/icons/hicolor/128x128/apps/latchkey-desktop.png; do
  grep -Eq " (\./)?$want\$" <<<"$contents" || { echo "$deb lacks $want" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
desktop-file-validate "$tmp/usr/share/applications/Latchkey.desktop"
dpkg-deb -f "$deb" Package Version Depends
cp "$deb" "$OUT/"
if [[ $bundles == *appimage* ]]; then
  [ -f "$appimage" ] || { echo "tauri build did not produce $appimage" >&2; exit 1; }
  cp "$appimage" "$OUT/"
fi

echo "Installer sizes:"
mib() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.2f MiB", b / 1048576 }'; }
for f in "$OUT"/*; do printf '  %-44s %s\n' "$(basename "$f")" "$(mib "$f")"; done
printf '  %-44s %s\n' "latchkey-desktop binary (release)" "$(mib "$CARGO_TARGET_DIR/release/latchkey-desktop")"
printf '  %-44s %s\n' "latchkey-resident binary (release)" "$(mib "$resident")"
