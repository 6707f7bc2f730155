#!/usr/bin/env bash
# What a newcomer meets first: an unknown command is named (未知命令, exit 2) before anything
# else is looked at; a document without a year reads 未知年度 in text output, never 0.
set -euo pipefail
bin=${1:-build/perfsheet}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

for args in "frobnicate" "frobnicate samples/hengyang-county-2021/zpb.xls" "frobnicate --json"; do
  # shellcheck disable=SC2086
  "$bin" $args >"$tmp/out" 2>"$tmp/err" && rc=0 || rc=$?
  [ "$rc" = 2 ] || { echo "perfsheet $args: exit status $rc, want 2"; exit 1; }
  head -1 "$tmp/err" | grep -qF '未知命令「frobnicate」' ||
    { echo "perfsheet $args: the first line does not name the unknown command"; cat "$tmp/err"; exit 1; }
  ! grep -q '没有输入文件' "$tmp/err" || { echo "perfsheet $args: talks of input files"; exit 1; }
  [ ! -s "$tmp/out" ] || { echo "perfsheet $args: wrote to stdout"; exit 1; }
done
# a known command without files still says that
"$bin" check >/dev/null 2>"$tmp/err" && rc=0 || rc=$?
[ "$rc" = 2 ] && grep -q '没有输入文件' "$tmp/err" || { echo "check without files: $rc"; cat "$tmp/err"; exit 1; }

# The Hengyang self-evaluation with its year line emptied (「（ 年度）」).
/usr/bin/python3 - "$tmp/noyear.xlsx" <<'PY'
import sys, openpyxl
wb = openpyxl.load_workbook('samples/hengyang-county-2021/zpb.xlsx')
ws = wb['自评表']
assert ws['A3'].value == '（ 20201 年度）', ws['A3'].value
ws['A3'].value = '（ 年度）'
wb.save(sys.argv[1])
PY
"$bin" extract "$tmp/noyear.xlsx" samples/hengyang-county-2021/zpb.xlsx >"$tmp/out" 2>"$tmp/err" && rc=0 || rc=$?
[ "$rc" = 0 ] || { echo "extract: exit status $rc"; cat "$tmp/err"; exit 1; }
head_noyear=$(grep -F "$tmp/noyear.xlsx:自评表:" "$tmp/out")
head_year=$(grep -F "samples/hengyang-county-2021/zpb.xlsx:自评表:" "$tmp/out")
[ "$head_noyear" = "$tmp/noyear.xlsx:自评表: zpb (mappings/zpb.yaml) 衡阳县医疗保障事务中心 未知年度" ] ||
  { echo "no year: $head_noyear"; exit 1; }
[ "$head_year" = "samples/hengyang-county-2021/zpb.xlsx:自评表: zpb (mappings/zpb.yaml) 衡阳县医疗保障事务中心 2021" ] ||
  { echo "with a year: $head_year"; exit 1; }
"$bin" extract --json "$tmp/noyear.xlsx" 2>/dev/null | grep -q '"year":null' || { echo "JSON year is not null"; exit 1; }
# --year gives the year no cell holds, said as an info finding; a bad one is a usage error
"$bin" extract --json --year 2021 "$tmp/noyear.xlsx" >"$tmp/year.json" 2>/dev/null || true
grep -q '"year":2021' "$tmp/year.json" || { echo "--year 2021 not taken"; exit 1; }
"$bin" check --json --year 2021 "$tmp/noyear.xlsx" >"$tmp/year-check.json" 2>/dev/null || true
grep -q '"rule":"mapping.year_option"' "$tmp/year-check.json" || { echo "--year not said"; exit 1; }
set +e; "$bin" check --year 99 "$tmp/noyear.xlsx" >/dev/null 2>&1; rc=$?; set -e
[ $rc = 2 ] || { echo "--year 99: exit $rc, want 2"; exit 1; }
echo "newcomer: 未知命令 and 未知年度 as expected; --year fills a missing year"
