#!/usr/bin/env bash
# juesuan.sh - the built-in juesuan template (部门决算 公开01–09表, one document of nine sheets)
# on the real Anhua 决算 (samples/juesuan): its 15 headline values at their cells, exactly the 11
# rounding differences of expected.json as 尾数误差 warnings and no error; a 款 changed by 10 is
# an error on its chain of sums only, by 0.01 a warning; convert and merge (tests/cli/juesuan_check.py).
set -euo pipefail
bin=${1:-build/perfsheet}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 -c 'import openpyxl, xlrd' 2>/dev/null || { echo "skipped: python3 without openpyxl/xlrd"; exit 77; }
/usr/bin/python3 tests/cli/juesuan_check.py "$bin" samples/juesuan/anhua-2021-juesuan.xls \
  samples/juesuan/expected.json "$tmp"
