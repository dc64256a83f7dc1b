#!/usr/bin/env bash
# Fuzzes latchkey-core for a bounded time: fuzz/run.sh SECONDS_PER_TARGET [TARGET...]
#
# 1. Installs cargo-fuzz (pinned) into the tools dir if it is not there.
# 2. Builds every target with libFuzzer on the stable toolchain: `--sanitizer none` (AddressSanitizer
#    needs nightly's -Zsanitizer; the fuzzed code forbids unsafe, so the sanitizer would guard only
#    dependencies), release with debug assertions and overflow checks, as cargo-fuzz does by default.
# 3. Runs each target for SECONDS_PER_TARGET from its committed seeds (fuzz/corpus/<target>, never
#    written to), growing a working corpus kept outside the clone so later runs start warmer.
# 4. Prints a table (target, seconds, execs, corpus, crashes) and exits 1 on any crash, timeout or
#    out-of-memory, with the failing input's path and the command that replays it.
set -euo pipefail

FUZZ_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SECONDS_PER_TARGET=${1:-}
if ! [[ "$SECONDS_PER_TARGET" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: fuzz/run.sh SECONDS_PER_TARGET [TARGET...]" >&2
  exit 2
fi
shift

CARGO_FUZZ_VERSION=0.13.2
TOOLS="${LATCHKEY_TOOLS_DIR:-$HOME/.cache/latchkey-tools}"
TARGET_DIR="${LATCHKEY_FUZZ_TARGET_DIR:-$HOME/.cache/latchkey-fuzz-target}"
WORK="${LATCHKEY_FUZZ_WORK_DIR:-$HOME/.cache/latchkey-fuzz-work}"
export PATH="$TOOLS/bin:$HOME/.cargo/bin:$PATH"

log() { printf '\n== %s\n' "$*" >&2; }

if ! "$TOOLS/bin/cargo-fuzz" --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION\$"; then
  log "Installing cargo-fuzz $CARGO_FUZZ_VERSION into $TOOLS"
  CARGO_TARGET_DIR="$WORK/install-target" cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$TOOLS"
  rm -rf "$WORK/install-target"
fi

cd "$FUZZ_DIR/.."
if [ "$#" -gt 0 ]; then
  TARGETS=("$@")
else
  mapfile -t TARGETS < <(cargo fuzz list)
fi

log "Building ${#TARGETS[@]} fuzz targets (cargo fuzz build --sanitizer none)"
build_start=$SECONDS
cargo fuzz build --sanitizer none --target-dir "$TARGET_DIR"
echo "built in $((SECONDS - build_start)) s" >&2
BIN_DIR="$TARGET_DIR/x86_64-unknown-linux-gnu/release"

# One target per core at a time: each still gets a whole core for SECONDS_PER_TARGET, and the
# step's wall time is divided by the core count (issue 12 §4: the warm CI run under 10 minutes).
JOBS=${LATCHKEY_FUZZ_JOBS:-$(nproc)}
RESULTS=$(mktemp -d)
trap 'rm -rf "$RESULTS"' EXIT

# Fuzzes one target; writes its table row to $RESULTS/<target>.row and, on a crash, the report
# to $RESULTS/<target>.crash (printed after all targets finished, so reports do not interleave).
fuzz_one() {
  local target=$1
  local seeds="$FUZZ_DIR/corpus/$target"
  local corpus="$WORK/corpus/$target"
  local artifacts="$FUZZ_DIR/artifacts/$target"
  local logfile="$WORK/logs/$target.log"
  mkdir -p "$corpus" "$artifacts" "$WORK/logs" "$seeds"
  local before
  before=$(find "$artifacts" -type f | sort)
  local start=$SECONDS status=0
  # New inputs go to the first directory (the working corpus); the seeds are only read.
  "$BIN_DIR/$target" "$corpus" "$seeds" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" >"$logfile" 2>&1 || status=$?
  local took=$((SECONDS - start))
  local execs corp new crashes
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logfile" | tail -n 1)
  corp=$(grep -oE 'corp: [0-9]+' "$logfile" | tail -n 1 | grep -oE '[0-9]+' || true)
  new=$(comm -13 <(printf '%s\n' "$before") <(find "$artifacts" -type f | sort) | sed '/^$/d')
  crashes=$(printf '%s' "$new" | grep -c . || true)
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
  printf '%-18s %8s %12s %8s %8s\n' "$target" "$took" "${execs:-?}" "${corp:-?}" "$crashes" >"$RESULTS/$target.row"
  if [ "$crashes" -ne 0 ]; then
    {
      echo "FUZZ CRASH in $target (libFuzzer exit $status); last lines of $logfile:"
      tail -n 40 "$logfile"
      while read -r f; do
        [ -n "$f" ] || continue
        echo "crash input: $f"
        echo "replay:      $BIN_DIR/$target $f"
      done <<<"$new"
    } >"$RESULTS/$target.crash"
  fi
}

log "Fuzzing ${#TARGETS[@]} targets for $SECONDS_PER_TARGET s each, $JOBS at a time"
running=0
for target in "${TARGETS[@]}"; do
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  fuzz_one "$target" &
  running=$((running + 1))
done
wait || true

failed=0
rows=()
for target in "${TARGETS[@]}"; do
  if [ -f "$RESULTS/$target.row" ]; then
    rows+=("$(cat "$RESULTS/$target.row")")
  else
    rows+=("$(printf '%-18s %8s %12s %8s %8s' "$target" '?' '?' '?' 'no run')")
    failed=1
  fi
  if [ -f "$RESULTS/$target.crash" ]; then
    failed=1
    cat "$RESULTS/$target.crash" >&2
  fi
done

printf '\n%-18s %8s %12s %8s %8s\n' target seconds execs corpus crashes
printf '%s\n' "${rows[@]}"
if [ "$failed" -ne 0 ]; then
  echo "fuzz: crashes found (inputs under $FUZZ_DIR/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#TARGETS[@]} targets, 0 crashes"
