#!/usr/bin/env bash
# outputs.sh - what the workbooks show a finance officer, on every sample: no formula anywhere,
# docProps name perfsheet, every error of 校验结果 linked to a red cell whose comment carries
# it (tests/cli/outputs_check.py); and no row is ever dropped: with a small row limit
# (PERFSHEET_SHEET_ROW_LIMIT) each part of the merged workbook continues on `<name> (2)`, …
# under the same header, holding exactly the rows of an unlimited run, and the summary line
# and stderr say how many sheets each part took.  usage: outputs.sh BIN
set -uo pipefail
bin=${1:?usage: outputs.sh PERFSHEET_BINARY}
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

py=
for p in "${PS_PYTHON:-}" python3 /usr/bin/python3; do
  [ -n "$p" ] && "$p" -c 'import openpyxl' 2>/dev/null && { py=$p; break; }
done
if [ -z "$py" ]; then echo "SKIP: no python3 with openpyxl"; exit 77; fi

# ---- every converted and merged workbook of samples/ ----
"$bin" convert -q -o "$tmp/conv" samples 2>/dev/null
[ "$(ls "$tmp/conv"/*.xlsx | wc -l)" -ge 30 ] || fail "convert wrote $(ls "$tmp/conv" | wc -l) files"
"$py" tests/cli/outputs_check.py unit "$tmp/conv"/*.xlsx > "$tmp/unit.txt" || { tail -1 "$tmp/unit.txt"; fail "converted workbooks"; }
"$bin" merge -q -o "$tmp/all.xlsx" samples 2>/dev/null
"$py" tests/cli/outputs_check.py merged "$tmp/all.xlsx" || fail "merged workbook"

# ---- the row limit: 12 rows a sheet ----
"$bin" merge -q -o "$tmp/full.xlsx" samples/synthetic 2>/dev/null
# sheets only for the templates the inputs hold: no empty 公开03表 beside the 自评表s
"$py" - "$tmp/full.xlsx" <<'PY' || fail "sheets of templates no input holds"
import sys, openpyxl
names = openpyxl.load_workbook(sys.argv[1]).sheetnames
want = ['汇总-基础数据表', '汇总-自评表', '项目明细', '指标明细', '校验结果', '文件']
if names != want:
    print('sheets %s, want %s' % (names, want)); sys.exit(1)
PY
PERFSHEET_SHEET_ROW_LIMIT=12 "$bin" merge -o "$tmp/small.xlsx" samples/synthetic > /dev/null 2> "$tmp/small.err"
grep -q '指标明细 [0-9]* 张工作表（139 行）' "$tmp/small.err" || fail "stderr does not say how 指标明细 was spread: $(cat "$tmp/small.err")"
grep -q '个文件.*；分表 .*指标明细 [0-9]* 张工作表' "$tmp/small.err" || fail "the summary line does not say it"
"$py" - "$tmp/full.xlsx" "$tmp/small.xlsx" <<'PY' || fail "rows lost or moved when spread over sheets"
import sys, openpyxl
full, small = (openpyxl.load_workbook(p) for p in sys.argv[1:3])
def rows(wb, base, head, limit):
    names = [n for n in wb.sheetnames if n == base or n.startswith(base + " (")]
    out, header = [], None
    for i, n in enumerate(names):
        ws = wb[n]
        if n != (base if i == 0 else "%s (%d)" % (base, i + 1)):
            sys.exit("sheet %d of %s is named %s" % (i + 1, base, n))
        h = [c.value for c in ws[head]]
        if header is not None and h != header:
            sys.exit("%s: another header" % n)
        header = h
        if limit and ws.max_row > limit:
            sys.exit("%s has %d rows, limit 12" % (n, ws.max_row))
        out += [[c.value for c in r] for r in ws.iter_rows(min_row=head + 1)]
    return names, out
for base, head in (("指标明细", 1), ("项目明细", 1), ("校验结果", 1), ("文件", 2)):
    n1, a = rows(full, base, head, 0)
    n2, b = rows(small, base, head, 12)
    if len(n1) != 1:
        sys.exit("%s: %d sheets without a limit" % (base, len(n1)))
    if base == "校验结果":  # the links point into the spread sheets: compare the rest
        a = [r[:4] + r[5:] for r in a]
        b = [r[:4] + r[5:] for r in b]
    if a != b:
        sys.exit("%s: %d rows in 1 sheet, %d rows in %d sheets, or not the same" % (base, len(a), len(b), len(n2)))
    print("ok: %s: %d rows on %d sheets, none lost" % (base, len(b), len(n2)))
if len([n for n in small.sheetnames if n.startswith("指标明细")]) < 10:
    sys.exit("指标明细 should take at least 10 sheets of 11 rows")
PY
# the links of 校验结果 lead into the continued sheets
"$py" tests/cli/outputs_check.py merged "$tmp/small.xlsx" || fail "links of the spread workbook"

[ "$fails" = 0 ] && echo "ok: outputs" && exit 0
exit 1
