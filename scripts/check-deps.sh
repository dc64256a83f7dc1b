#!/usr/bin/env bash
# cargo-deny over the whole workspace (deny.toml): licenses, banned and unknown sources, and the
# RustSec advisories. CI machines cannot reach GitHub, where the advisory database lives, so the
# advisories are checked offline against the dated snapshot beside the clone
# (`../shared/advisory-db`, or $LATCHKEY_ADVISORY_SNAPSHOT). Its date is printed: advisories
# published after it are not covered. No snapshot means the step fails, never passes quietly.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$REPO"
ensure_cargo_deny
cargo deny --version
cargo deny check licenses bans sources

snapshot="${LATCHKEY_ADVISORY_SNAPSHOT:-$REPO/../shared/advisory-db}"
if [ ! -f "$snapshot/README.md" ] || [ ! -d "$snapshot/crates" ]; then
  echo "ADVISORIES NOT CHECKED: no RustSec snapshot at $snapshot (expected ../shared/advisory-db beside the clone," >&2
  echo "  or set LATCHKEY_ADVISORY_SNAPSHOT to a copy of the database's crates/ and README.md)." >&2
  exit 1
fi
# The snapshot's README says which commit it is and when that was committed.
date=$(grep -oE 'committed [0-9]{4}-[0-9]{2}-[0-9]{2}' "$snapshot/README.md" | head -n1 | cut -d' ' -f2 || true)
commit=$(grep -oE 'commit `[0-9a-f]{40}`' "$snapshot/README.md" | head -n1 | tr -dc '0-9a-f' | tail -c 40 || true)
if [ -z "$date" ] || [ -z "$commit" ]; then
  echo "ADVISORIES NOT CHECKED: $snapshot/README.md does not say the snapshot's commit and date." >&2
  exit 1
fi

# cargo-deny reads the database from <db-path>/<name derived from its URL> and needs it to be a git
# repository (it reads the HEAD commit's date). The snapshot is read-only and has no .git, so a copy
# in the tools cache becomes one commit dated with the snapshot's date; rebuilt when the snapshot
# changes.
dbs="$TOOLS_DIR/advisory-dbs"
db="$dbs/advisory-db-3157b0e258782691" # the folder name cargo-deny uses for the default RustSec URL
if [ "$(cat "$dbs/snapshot-commit" 2>/dev/null || true)" != "$commit" ]; then
  rm -rf "$dbs"
  mkdir -p "$db"
  cp -R "$snapshot/." "$db/"
  (
    cd "$db"
    export GIT_AUTHOR_DATE="${date}T00:00:00Z" GIT_COMMITTER_DATE="${date}T00:00:00Z"
    git init -q
    git add -A
    git -c user.name=latchkey-ci -c user.email=ci@localhost commit -q -m "RustSec advisory-db snapshot $commit"
  )
  echo "$commit" >"$dbs/snapshot-commit"
fi

echo "Advisories: checked against the RustSec snapshot of $date (commit ${commit:0:12}); anything published since is NOT covered."
# --offline keeps cargo-deny from fetching the database; it also keeps `cargo metadata` offline, so
# every platform's crates are downloaded first (from crates.io, which CI reaches).
cargo fetch --locked --quiet
LATCHKEY_ADVISORY_DBS="$dbs" cargo deny --offline check advisories
