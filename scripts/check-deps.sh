#!/usr/bin/env bash
# cargo-deny over the whole workspace (deny.toml): licenses, banned and unknown sources, and the
# RustSec advisories. The advisory database is a git repository on GitHub; where GitHub cannot be
# reached (this project's CI machines reach crates.io but not GitHub) the advisories check cannot
# run, and this says so loudly instead of passing quietly.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$REPO"
ensure_cargo_deny
cargo deny --version
cargo deny check licenses bans sources
if fetch_error=$(cargo deny fetch db 2>&1); then
  cargo deny check advisories
else
  echo "ADVISORIES NOT CHECKED: the RustSec database could not be fetched:" >&2
  printf '%s\n' "$fetch_error" | tail -n 2 | sed 's/^/  /' >&2
fi
