#!/usr/bin/env bash
# writer_readback.sh - `perfsheet convert` and `perfsheet merge` on real samples, read back with
# openpyxl (tests/cli/readback.py, readback_merged.py) and, when installed, opened by
# LibreOffice: values in their standard cells as submitted (no formula), flagged cells, totals
# equal to the sums of the units, byte-identical re-runs.  usage: writer_readback.sh BIN
set -uo pipefail
bin=${1:?usage: writer_readback.sh PERFSHEET_BINARY}
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

py=
for p in "${PS_PYTHON:-}" python3 /usr/bin/python3; do
  [ -n "$p" ] && "$p" -c 'import openpyxl' 2>/dev/null && { py=$p; break; }
done
if [ -z "$py" ]; then echo "SKIP: no python3 with openpyxl"; exit 77; fi

# ---- convert: one standardized file per document ----
"$bin" convert -q -o "$tmp/a" samples/hengyang-county-2021/both.xls; rc=$?
[ "$rc" = 1 ] || fail "convert exit status $rc, want 1 (error findings)"
zpb="$tmp/a/衡阳县医疗保障事务中心_2021_zpb.xlsx"
jcsj="$tmp/a/衡阳县医疗保障事务中心_2021_jcsj.xlsx"
[ -f "$zpb" ] && [ -f "$jcsj" ] || { fail "missing outputs: $(ls "$tmp/a")"; exit 1; }
"$py" tests/cli/readback.py "$zpb" > "$tmp/zpb.txt" || fail "readback of $zpb"
"$py" tests/cli/readback.py "$jcsj" > "$tmp/jcsj.txt" || fail "readback of $jcsj"
expect() { # file, pattern (fixed string, tabs as \t)
  grep -qF -- "$(printf "$2")" "$1" || fail "$(basename "$1"): no line with '$2'"
}
# 执行率 shows the submitted 100% as a number, no formula
expect "$tmp/zpb.txt" '自评表!A11\ts\t执行率'
expect "$tmp/zpb.txt" '自评表!B11\tn\t1\t\t\t0.00%%'
# the year typed 20201 is flagged red with the finding, its Chinese message first, as a comment
expect "$tmp/zpb.txt" '自评表!B4\tn\t2021\t\tFFFFC7CE\t0\t错误：年度应为四位年份'
# money as money
expect "$tmp/zpb.txt" '自评表!B10\tn\t1220.03\t\t\t0.00\t'
# 控制率: the declared 100%, flagged by two findings, the error first
expect "$tmp/jcsj.txt" '基础数据表!B10\tn\t1\t\tFFFFC7CE\t0.00%%\t错误：控制率应为 98.25%%'
expect "$tmp/jcsj.txt" '〔jcsj.control_rate〕'
# 三公经费 as submitted (10.5); the blank 公务用车 stays blank, flagged red with its finding
expect "$tmp/jcsj.txt" '基础数据表!B16\tn\t10.5\t\t'
expect "$tmp/jcsj.txt" '基础数据表!B17\ts\t\t\tFFFFC7CE\t0.00\t错误：公务用车购置和维护经费应为 6.85'
# no formula anywhere
grep -qP '^[^\t]+\tf\t' "$tmp/zpb.txt" "$tmp/jcsj.txt" && fail "a converted workbook holds a formula"
# 校验结果 lists the findings of the unit
grep -qE '^校验结果!B[0-9]+	s	zpb.income_sum' "$tmp/zpb.txt" || fail "zpb.income_sum not in 校验结果"
# findings.jsonl beside the files
[ -s "$tmp/a/findings.jsonl" ] || fail "no findings.jsonl"

# byte-identical on a second run (another process, another second)
sleep 1
"$bin" convert -q -o "$tmp/b" samples/hengyang-county-2021/both.xls
for f in "$tmp"/a/*.xlsx; do
  cmp -s "$f" "$tmp/b/$(basename "$f")" || fail "$(basename "$f") differs between runs"
done
ls -A "$tmp/a" | grep -q 'tmp-' && fail "temporary file left in the output folder"

# ---- merge: the 12 synthetic units ----
"$bin" merge -q -o "$tmp/m.xlsx" samples/synthetic; rc=$?
[ "$rc" = 1 ] || fail "merge exit status $rc, want 1 (error findings)"
"$py" tests/cli/readback_merged.py "$tmp/m.xlsx" 汇总-自评表 12 || fail "汇总-自评表"
"$py" tests/cli/readback_merged.py "$tmp/m.xlsx" 汇总-基础数据表 12 || fail "汇总-基础数据表"
"$py" tests/cli/readback.py "$tmp/m.xlsx" > "$tmp/m.txt" || fail "readback of merged"
# u04 石湾: 执行率 F6 wrong (zpb.rate) is highlighted in 汇总 too; the finding is listed
grep -F '石湾县医疗保障局' "$tmp/m.txt" | grep -q '^汇总-自评表!A' || fail "石湾 not in 汇总-自评表"
grep -qF "$(printf 'zpb.rate')" "$tmp/m.txt" || fail "zpb.rate not in 校验结果"
[ "$(grep -c '^文件!A' "$tmp/m.txt")" = 26 ] || fail "文件 should list 24 inputs under its note and header"
grep -qP '^[^\t]+\tf\t' "$tmp/m.txt" && fail "the merged workbook holds a formula"

# ---- LibreOffice opens what we write ----
if command -v soffice >/dev/null 2>&1; then
  mkdir -p "$tmp/csv"
  # 44,34,76: comma-separated, double quotes, UTF-8
  timeout 120 soffice --headless "-env:UserInstallation=file://$tmp/lo" \
    --convert-to 'csv:Text - txt - csv (StarCalc):44,34,76' \
    --outdir "$tmp/csv" "$zpb" "$tmp/m.xlsx" >/dev/null 2>&1
  grep -q '衡阳县医疗保障事务中心' "$tmp/csv/衡阳县医疗保障事务中心_2021_zpb.csv" 2>/dev/null ||
    fail "LibreOffice could not convert $zpb"
  grep -q '石湾县医疗保障局' "$tmp/csv/m.csv" 2>/dev/null || fail "LibreOffice could not convert the merged workbook"
elif [ -n "${CI:-}" ]; then
  fail "soffice not installed: CI installs LibreOffice (.ci/install-deps.sh test), the round trip must run"
else
  echo "SKIP (part): soffice not installed, LibreOffice round trip not run"
fi

[ "$fails" = 0 ] && echo "ok: convert and merge read back" && exit 0
exit 1
