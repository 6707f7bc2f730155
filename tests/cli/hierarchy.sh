#!/usr/bin/env bash
# hierarchy.sh - the hierarchy:, band: and blank: zero rule forms from the command line, on the
# real 决算 (公开03表 of samples/juesuan/anhua-2021-juesuan.xls, mapping tests/data/mapping/juesuan03):
# as submitted, the four 尾数误差 of expected.json as warnings (exit 0); an .xlsx copy of the sheet
# made with openpyxl and one 款 changed by +10, errors in its chain of sums only (exit 1); by
# +0.01, warnings only; lint clean; a misspelled column refused at load with file:line:column.
# usage: hierarchy.sh BIN
set -uo pipefail
bin=${1:?usage: hierarchy.sh PERFSHEET_BINARY}
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
map=tests/data/mapping/juesuan03
xls=samples/juesuan/anhua-2021-juesuan.xls
fail() { echo "FAIL: $*"; exit 1; }

# the findings as "severity rule sheet!cell", sorted
findings() { grep -o '"rule":"[^"]*","severity":"[^"]*","sheet":"[^"]*","cell":"[^"]*"' "$1" |
  sed 's/"rule":"\([^"]*\)","severity":"\([^"]*\)","sheet":"\([^"]*\)","cell":"\([^"]*\)"/\2 \1 \3!\4/' | sort; }

"$bin" check -q -m "$map" --json "$xls" >"$tmp/as.json"; rc=$?
[ $rc -eq 0 ] || fail "as submitted: exit $rc, want 0"
want="warning juesuan03.tree 公开03表!C25
warning juesuan03.tree 公开03表!C7
warning juesuan03.tree 公开03表!D25
warning juesuan03.tree 公开03表!D7"
[ "$(findings "$tmp/as.json")" = "$want" ] || { findings "$tmp/as.json"; fail "as submitted"; }
[ "$(grep -o '尾数误差' "$tmp/as.json" | wc -l)" -eq 4 ] || fail "each warning says 尾数误差"

"$bin" lint -q -m "$map" >"$tmp/lint.txt" 2>&1 || { cat "$tmp/lint.txt"; fail "lint is not clean"; }

py=
for p in "${PS_PYTHON:-}" python3 /usr/bin/python3; do
  [ -n "$p" ] && "$p" -c 'import openpyxl, xlrd' 2>/dev/null && { py=$p; break; }
done
if [ -n "$py" ]; then
  # the sheet as an .xlsx (values as typed, merges kept), one cell changed
  copy() {
    "$py" - "$xls" "$1" "$2" "$3" <<'PY' || fail "making $1"
import sys, xlrd, openpyxl
src, out, cell, delta = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
book = xlrd.open_workbook(src, formatting_info=True)
sh = book.sheet_by_name("公开03表")
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "公开03表"
for r in range(sh.nrows):
    for c in range(sh.ncols):
        v = sh.cell_value(r, c)
        if v != "":
            ws.cell(row=r + 1, column=c + 1, value=v)
for r0, r1, c0, c1 in sh.merged_cells:
    ws.merge_cells(start_row=r0 + 1, end_row=r1, start_column=c0 + 1, end_column=c1)
ws[cell].value = round(ws[cell].value + delta, 2)
wb.save(out)
PY
  }
  copy "$tmp/plus10.xlsx" C22 10      # 21013 医疗救助 4512.94 -> 4522.94
  copy "$tmp/plus1c.xlsx" C22 0.01
  "$bin" check -q -m "$map" --json "$tmp/plus10.xlsx" >"$tmp/p10.json"; rc=$?
  [ $rc -eq 1 ] || fail "+10: exit $rc, want 1"
  want="error juesuan03.identity 公开03表!C22
error juesuan03.tree 公开03表!C19
error juesuan03.tree 公开03表!C22
warning juesuan03.tree 公开03表!C25
warning juesuan03.tree 公开03表!C7
warning juesuan03.tree 公开03表!D25
warning juesuan03.tree 公开03表!D7"
  [ "$(findings "$tmp/p10.json")" = "$want" ] || { findings "$tmp/p10.json"; fail "+10"; }
  grep -q '21013 = Σ 项：应为 4512.94（下级合计），表中为 4522.94' "$tmp/p10.json" || fail "+10: the 款's message"
  "$bin" check -q -m "$map" --json "$tmp/plus1c.xlsx" >"$tmp/p1c.json"; rc=$?
  [ $rc -eq 0 ] || fail "+0.01: exit $rc, want 0"
  grep -q '"severity":"error"' "$tmp/p1c.json" && fail "+0.01: an error"
  [ "$(findings "$tmp/p1c.json" | grep -c 'C22\|C19')" -eq 3 ] || { findings "$tmp/p1c.json"; fail "+0.01 warnings"; }
else
  echo "note: no python3 with openpyxl and xlrd: the changed copies are not made"
fi

# a misspelled column: refused before any file is read, at its line and column
mkdir -p "$tmp/slip"
sed 's/columns: \[total, basic,/columns: [total, basci,/' "$map/juesuan03.yaml" >"$tmp/slip/juesuan03.yaml"
"$bin" check -q -m "$tmp/slip" "$xls" >"$tmp/slip.out" 2>&1; rc=$?
[ $rc -eq 2 ] || { cat "$tmp/slip.out"; fail "slip: exit $rc, want 2"; }
grep -q 'juesuan03.yaml:42:24: 规则 juesuan03.tree：表 g03 没有列 “basci”。您是不是要写 “basic”？' "$tmp/slip.out" ||
  { cat "$tmp/slip.out"; fail "slip message"; }
echo "ok: hierarchy:, band: and blank: zero on the 决算"
