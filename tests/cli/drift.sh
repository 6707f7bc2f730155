#!/usr/bin/env bash
# drift.sh - the drift tests: every built-in template's samples perturbed the way submissions
# drift (tests/drift/drift.py: rows/columns inserted, labels respelled, label and value split,
# sheets renamed and reordered, numbers typed as text), generated into the build directory;
# extract and check must give the same values and findings on every copy.
set -euo pipefail
bin=${1:-build/perfsheet}
out=$(cd "$(dirname "$bin")" && pwd)/drift
/usr/bin/python3 tests/drift/drift.py "$bin" "$out"
