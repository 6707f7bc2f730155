#!/usr/bin/env bash
# previous.sh - year-on-year rules (issue 15, docs/rules.md "Last year's figures"): with
# `--previous LAST.sqlite` (last year's `merge -o`), jcsj.previous_final compares each
# 上年决算数 with last year's 决算数 of the same unit, naming both figures and last year's
# file and cell; a unit name that differs by a 县/区/市 is matched and said to be inexact; without
# --previous the rule is skipped; a `previous.x` that is not a field fails at load with
# file:line:col; an unreadable LAST is a clear error.
set -euo pipefail
bin=${1:-build/perfsheet}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
/usr/bin/python3 -c 'import openpyxl' 2>/dev/null || { echo "skipped: python3 without openpyxl"; exit 77; }

# Last year (2020): the sample with each 决算数 set to this year's 上年决算数 (column D), the
# headers a year earlier; once under the same unit name, once as 衡阳医疗保障事务中心 (no 县).
# This year: the sample with one 上年决算数 (D7, 部门基本支出) changed from 1267.74 to 1300.
mkdir -p "$tmp/last" "$tmp/drift" "$tmp/now"
/usr/bin/python3 - samples/hengyang-county-2021/jcsj.xlsx "$tmp" <<'PY'
import sys, openpyxl
src, tmp = sys.argv[1:]
def last_year(unit, out):
    wb = openpyxl.load_workbook(src)
    ws = wb['基础数据表']
    for r in range(7, 26):
        ws.cell(r, 2).value = ws.cell(r, 4).value
    ws['C4'], ws['B6'], ws['C6'], ws['D6'] = '2020年实际在职人数', '2020年决算数', '2020年预算数', '2019年决算数'
    ws['A3'] = '填报单位：' + unit
    wb.save(out)
last_year('衡阳县医疗保障事务中心', tmp + '/last/jcsj.xlsx')
last_year('衡阳医疗保障事务中心', tmp + '/drift/jcsj.xlsx')
wb = openpyxl.load_workbook(src)
assert wb['基础数据表']['D7'].value == 1267.74
wb['基础数据表']['D7'] = 1300
wb.save(tmp + '/now/jcsj.xlsx')
PY
"$bin" merge -q "$tmp/last/jcsj.xlsx" -o "$tmp/last.sqlite" || true
"$bin" merge -q "$tmp/drift/jcsj.xlsx" -o "$tmp/drift.sqlite" || true
[ -s "$tmp/last.sqlite" ] && [ -s "$tmp/drift.sqlite" ] || fail "last year's databases were not written"

set +e
"$bin" check --json -q --previous "$tmp/last.sqlite" "$tmp/now/jcsj.xlsx" >"$tmp/with.jsonl"; rc=$?
"$bin" check -q --previous "$tmp/last.sqlite" "$tmp/now/jcsj.xlsx" >"$tmp/with.txt"
"$bin" check --json -q "$tmp/now/jcsj.xlsx" >"$tmp/without.jsonl"
"$bin" check --json -q --previous "$tmp/drift.sqlite" "$tmp/now/jcsj.xlsx" >"$tmp/drift.jsonl"
"$bin" check --json -q --previous "$tmp/last.sqlite" "$tmp/last/jcsj.xlsx" >"$tmp/same.jsonl"
set -e
[ $rc = 1 ] || fail "check --previous exit status $rc, want 1"
cat "$tmp/with.txt"

/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
def findings(name):
    out = []
    for line in open(tmp + '/' + name, encoding='utf-8'):
        rec = json.loads(line)
        for doc in rec.get('documents', []):
            out += [f for f in doc.get('findings', []) if f['rule'] == 'jcsj.previous_final']
        out += [f for f in rec.get('findings', []) if f['rule'] == 'jcsj.previous_final']
    return out
w = findings('with.jsonl')
assert len(w) == 1, 'want exactly the changed 上年决算数 flagged, got %r' % w
f = w[0]
assert f['severity'] == 'error' and f['cell'] == 'D7', f
msg = f['message']
assert '上年决算数应为 1267.74（2020年报表决算数），表中为 1300.00' in msg, msg
assert tmp + '/last/jcsj.xlsx 基础数据表 B7' in msg, 'last year\'s file and cell missing: ' + msg
assert '不完全一致' not in msg, msg
assert f['expected'] == 1267.74 and f['actual'] == 1300, f
assert findings('without.jsonl') == [], 'previous_final ran without --previous'
assert findings('same.jsonl') == [], 'last year\'s file against itself (its 决算数 are its 上年决算数): %r' % findings('same.jsonl')
d = findings('drift.jsonl')
assert len(d) == 1 and d[0]['cell'] == 'D7', d
assert '单位名称与上年的“衡阳医疗保障事务中心”不完全一致' in d[0]['message'], d[0]['message']
print('previous: 1 finding with both figures; none without --previous; drift said')
PY
grep -q 'jcsj.previous_final' "$tmp/with.txt" || fail "text output lacks the finding"

# the same findings through merge -o OUT.sqlite
"$bin" merge -q --previous "$tmp/last.sqlite" "$tmp/now/jcsj.xlsx" -o "$tmp/now.sqlite" || true
n=$(/usr/bin/python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from findings where rule='jcsj.previous_final' and cell='D7'\").fetchone()[0])" "$tmp/now.sqlite")
[ "$n" = 1 ] || fail "merge --previous: $n previous_final findings at D7, want 1"

# --previous FOLDER: last year's submissions themselves give the same finding as their database
set +e
"$bin" check --json -q --previous "$tmp/last" "$tmp/now/jcsj.xlsx" >"$tmp/folder.jsonl" 2>"$tmp/folder.err"; rc=$?
set -e
[ $rc = 1 ] || fail "check --previous FOLDER: exit status $rc, want 1: $(cat "$tmp/folder.err")"
/usr/bin/python3 - "$tmp/with.jsonl" "$tmp/folder.jsonl" <<'PY' || fail "--previous FOLDER differs from --previous LAST.sqlite"
import json, sys
def prev(path):
    out = []
    for line in open(path, encoding='utf-8'):
        rec = json.loads(line)
        out += [(f['cell'], f['expected'], f['actual']) for f in rec.get('findings', []) if f['rule'] == 'jcsj.previous_final']
    return out
a, b = prev(sys.argv[1]), prev(sys.argv[2])
assert a and a == b, (a, b)
PY
! ls "${TMPDIR:-/tmp}"/perfsheet-previous-* >/dev/null 2>&1 || fail "--previous FOLDER left its temporary database"
echo "previous: a folder of last year's submissions gives the same finding"

# without --previous, check --json of samples/ is what the mappings without the rule give
mkdir -p "$tmp/norule"
cp mappings/*.yaml "$tmp/norule/"
/usr/bin/python3 - "$tmp/norule/jcsj.yaml" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p, encoding='utf-8').read()
t = re.sub(r'\n  - id: jcsj\.previous_final\n(    .*\n|      .*\n)*', '\n', s)
assert 'jcsj.previous_final' not in t and 'previous.{r}' not in t and 'previous.year' not in t, 'rule not removed'
open(p, 'w', encoding='utf-8').write(t)
PY
set +e
"$bin" check --json -q -m mappings samples/ | sed "s#\"mappings/#\"M/#g" >"$tmp/samples.jsonl"
"$bin" check --json -q -m "$tmp/norule" samples/ | sed "s#\"$tmp/norule/#\"M/#g" >"$tmp/samples-norule.jsonl"
set -e
cmp -s "$tmp/samples.jsonl" "$tmp/samples-norule.jsonl" || fail "check --json samples/ differs with the rule present but no --previous"
[ -s "$tmp/samples.jsonl" ] || fail "no output on samples/"

# a previous.x that is not a field: a load error at the name
mkdir -p "$tmp/maps"
cp mappings/*.yaml "$tmp/maps/"
sed -i 's/previous\.{r}\.final/previous.{r}.finall/' "$tmp/maps/jcsj.yaml"
line=$(grep -n 'previous\.{r}\.finall' "$tmp/maps/jcsj.yaml" | cut -d: -f1)
set +e
"$bin" check -q -m "$tmp/maps" --previous "$tmp/last.sqlite" "$tmp/now/jcsj.xlsx" >/dev/null 2>"$tmp/bad.err"; rc=$?
"$bin" check -q --previous "$tmp/nothing.sqlite" "$tmp/now/jcsj.xlsx" >/dev/null 2>"$tmp/missing.err"; rc2=$?
set -e
[ $rc = 2 ] || fail "a bad previous. name: exit $rc, want 2"
grep -q "jcsj.yaml:$line:[0-9]*: .*previous.basic_expense.finall" "$tmp/bad.err" || fail "load error: $(cat "$tmp/bad.err")"
[ $rc2 = 2 ] && grep -q "nothing.sqlite" "$tmp/missing.err" || fail "missing LAST: exit $rc2, $(cat "$tmp/missing.err")"
echo "ok"
