#!/usr/bin/env bash
# 200 keys delivered to 10 hosts through a real OpenBao dev server (issue 15, "Benchmarks"),
# against the round trips they need, measured in the same run. A debug build is enough: the
# figures are round trips. Needs LATCHKEY_BAO_BIN (scripts/test-all.sh's ensure_openbao sets it).
#
#   bench/openbao.sh            200 keys, 10 hosts
#   bench/openbao.sh 50 3
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p latchkey-core --example openbao_bench
"${CARGO_TARGET_DIR:-target}/debug/examples/openbao_bench" "$@"
