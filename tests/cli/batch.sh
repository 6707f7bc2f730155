#!/usr/bin/env bash
# Provincial-scale batches (issue 8): a mixed folder walked recursively in sorted order, lock
# and hidden files skipped, bad files reported while the batch goes on, identical outputs for
# -j 1 and -j 4, and an interrupted batch leaving no partial output behind.
set -euo pipefail
bin=${1:-build/perfsheet}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# ---- a mixed folder ----
in=$tmp/in
mkdir -p "$in/长沙市/望城区" "$in/衡阳市/.hidden" "$in/bad"
cp samples/synthetic/u01-qingxi/jcsj.xls samples/synthetic/u01-qingxi/zpb.xls "$in/长沙市/"
cp samples/synthetic/u04-shiwan/zpb.xls "$in/长沙市/望城区/石湾-zpb.xls"
cp samples/synthetic/u04-shiwan/jcsj.xls "$in/长沙市/望城区/石湾-jcsj.xls"
cp samples/hengyang-county-2021/zpb.xls "$in/衡阳市/zpb.xls"
cp samples/hengyang-county-2021/zpb.xls "$in/衡阳市/zpb-副本.xls"          # a duplicate
cp samples/hengyang-county-2021/jcsj.xlsx "$in/衡阳市/jcsj.xlsx"
cp samples/hengyang-county-2021/zpb.xls "$in/衡阳市/~\$zpb.xls"            # an Excel lock file
cp samples/hengyang-county-2021/zpb.xls "$in/衡阳市/.hidden/zpb.xls"       # in a hidden folder
cp samples/hengyang-county-2021/zpb.xls "$in/衡阳市/.zpb.xls"              # a hidden file
echo "说明文档" > "$in/衡阳市/说明.txt"                                    # not a spreadsheet: skipped
cp samples/bad/html-table.xls samples/bad/truncated.xls samples/bad/empty.xls "$in/bad/"
ln -s .. "$in/长沙市/loop"                                                 # a symlink loop
chmod -R a-w "$in"
sum_before=$(find "$in" -type f -exec md5sum {} + | sort | md5sum)

for j in 1 4; do
  set +e
  "$bin" check --json -j $j "$in" >"$tmp/check$j.jsonl" 2>"$tmp/check$j.err"; echo $? >"$tmp/check$j.rc"
  "$bin" convert -j $j -q "$in" -o "$tmp/conv$j" 2>"$tmp/conv$j.err"; echo $? >"$tmp/conv$j.rc"
  "$bin" merge -j $j -q "$in" -o "$tmp/merged$j.xlsx" 2>"$tmp/merge$j.err"; echo $? >"$tmp/merge$j.rc"
  set -e
done
[ "$(cat "$tmp/check1.rc")" = 2 ] || fail "check exit status $(cat "$tmp/check1.rc"), want 2 (unreadable files)"
cmp "$tmp/check1.jsonl" "$tmp/check4.jsonl" || fail "check --json differs between -j 1 and -j 4"
cmp "$tmp/merged1.xlsx" "$tmp/merged4.xlsx" || fail "merged workbook differs between -j 1 and -j 4"
diff -r "$tmp/conv1" "$tmp/conv4" || fail "converted files differ between -j 1 and -j 4"
[ "$sum_before" = "$(find "$in" -type f -exec md5sum {} + | sort | md5sum)" ] || fail "an input was modified"

/usr/bin/python3 - "$tmp/check1.jsonl" "$in" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')]
root = sys.argv[2] + '/'
files = [l['file'][len(root):] for l in lines]
want = ['bad/empty.xls', 'bad/html-table.xls', 'bad/truncated.xls',   # sorted by bytes (UTF-8)
        '衡阳市/jcsj.xlsx', '衡阳市/zpb-副本.xls', '衡阳市/zpb.xls',
        '长沙市/jcsj.xls', '长沙市/zpb.xls', '长沙市/望城区/石湾-jcsj.xls', '长沙市/望城区/石湾-zpb.xls']
assert files == want, files
by = {f: l for f, l in zip(files, lines)}
assert [by[f]['error']['code'] for f in want[:3]] == ['not_a_spreadsheet', 'unsupported', 'corrupt']
assert by['长沙市/zpb.xls']['status'] == 'ok', by['长沙市/zpb.xls']
rules = {(f['rule'], f['cell']) for f in by['长沙市/望城区/石湾-zpb.xls']['findings']}
assert ('zpb.rate', 'F6') in rules, rules
print('check: order, statuses and findings ok')
PY
grep -q '锁文件 1、隐藏文件 2、其他文件 1' "$tmp/check1.err" || fail "summary does not count the skipped files: $(tail -1 "$tmp/check1.err")"
grep -q '无法处理的文件 3 个' "$tmp/check1.err" || fail "summary does not count the bad files"
[ -s "$tmp/conv1/findings.jsonl" ] || fail "convert wrote no findings.jsonl"
[ "$(wc -l <"$tmp/conv1/findings.jsonl")" = 10 ] || fail "findings.jsonl should have one line per input file"
ls "$tmp/conv1" | grep -q '石湾县医疗保障局_2021_zpb.xlsx' || fail "converted file name"
# the duplicate (衡阳市/zpb-副本.xls, same unit, year and template) gets _2, and it is said
[ -f "$tmp/conv1/衡阳县医疗保障事务中心_2021_zpb.xlsx" ] && [ -f "$tmp/conv1/衡阳县医疗保障事务中心_2021_zpb_2.xlsx" ] ||
  fail "duplicate unit: $(ls "$tmp/conv1" | grep 衡阳)"
grep -q 'zpb.xls: 输出文件名 衡阳县医疗保障事务中心_2021_zpb.xlsx 已被占用，改为 .*_2.xlsx' "$tmp/conv1.err" ||
  fail "the renamed duplicate is not reported: $(cat "$tmp/conv1.err")"
! ls -A "$tmp/conv1" | grep -q tmp || fail "temporary files left in the output folder"

# ---- over 64 files, results wait in a spill file: the same answers as in memory ----
# Each synthetic unit twice (so cross-table groups hold duplicates), first alone (48 files, kept
# in memory), then among 30 unreadable files (78 files: spilled, cross-table rules run group by
# group on the pool): every line of the first run must come out unchanged in the second.
sp=$tmp/spill; mkdir -p "$sp/units" "$sp/bad"
for u in samples/synthetic/u*/; do
  for t in jcsj zpb; do
    cp "$u$t.xls" "$sp/units/$(basename "$u")-$t-a.xls"; cp "$u$t.xls" "$sp/units/$(basename "$u")-$t-b.xls"
  done
done
for i in $(seq -w 1 30); do cp samples/bad/empty.xls "$sp/bad/$i.xls"; done
set +e
"$bin" check --json -q -j 1 "$sp/units" >"$tmp/mem.jsonl"
for j in 1 2; do "$bin" check --json -q -j $j "$sp/bad" "$sp/units" >"$tmp/spill$j.jsonl" 2>/dev/null; done
"$bin" check -q -j 2 "$sp/units" >"$tmp/mem.txt" 2>/dev/null
"$bin" check -q -j 2 "$sp/bad" "$sp/units" >"$tmp/spill.txt" 2>/dev/null
set -e
[ "$(wc -l <"$tmp/mem.jsonl")" = 48 ] || fail "spill: $(wc -l <"$tmp/mem.jsonl") lines, want 48"
[ "$(grep -c '"rule":"cross\.' "$tmp/mem.jsonl")" -ge 4 ] || fail "spill: the duplicated units should give cross-table findings"
tail -n 48 "$tmp/spill1.jsonl" | cmp - "$tmp/mem.jsonl" || fail "spill: check --json differs from the in-memory run"
cmp "$tmp/spill1.jsonl" "$tmp/spill2.jsonl" || fail "spill: check --json differs between -j 1 and -j 2"
cmp "$tmp/mem.txt" "$tmp/spill.txt" || fail "spill: check (text) differs from the in-memory run"
echo "spill: 78 files give the in-memory answers, cross-table findings included"

# ---- a per-file time limit turns a pathological file into an error; the batch goes on ----
/usr/bin/python3 - "$tmp/huge.xlsx" <<'PY'
import sys, zipfile
ns = 'http://schemas.openxmlformats.org/'
rows = ''.join('<row r="%d">' % r + ''.join('<c r="%s%d"><v>%d</v></c>' % (c, r, r) for c in 'ABCDEFGH') + '</row>'
               for r in range(1, 60001))
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('_rels/.rels', '<Relationships xmlns="%spackage/2006/relationships"><Relationship Id="r1" '
               'Type="%sofficeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>' % (ns, ns))
    z.writestr('xl/workbook.xml', '<workbook xmlns="%sspreadsheetml/2006/main" xmlns:r="%sofficeDocument/2006/relationships">'
               '<sheets><sheet name="S" sheetId="1" r:id="r1"/></sheets></workbook>' % (ns, ns))
    z.writestr('xl/_rels/workbook.xml.rels', '<Relationships xmlns="%spackage/2006/relationships"><Relationship Id="r1" '
               'Type="%sofficeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>' % (ns, ns))
    z.writestr('xl/worksheets/sheet1.xml', '<worksheet xmlns="%sspreadsheetml/2006/main"><sheetData>%s</sheetData></worksheet>' % (ns, rows))
PY
set +e
"$bin" check --json --timeout 0.05 "$tmp/huge.xlsx" samples/synthetic/u04-shiwan/zpb.xls >"$tmp/timeout.jsonl" 2>/dev/null; rc=$?
set -e
[ $rc = 2 ] || fail "timeout: exit status $rc, want 2"
head -1 "$tmp/timeout.jsonl" | grep -q '"code":"unsupported","message":"处理超时（超过 0.05 秒）' || fail "timeout: $(head -c 300 "$tmp/timeout.jsonl")"
sed -n 2p "$tmp/timeout.jsonl" | grep -q '"rule":"zpb.rate"' || fail "timeout: the next file was not checked"
set +e
"$bin" inspect --json --max-cells 1000 "$tmp/huge.xlsx" >"$tmp/maxcells.jsonl" 2>/dev/null
set -e
grep -q '"code":"unsupported".*1000.*max_cells_per_file' "$tmp/maxcells.jsonl" || fail "--max-cells: $(head -c 300 "$tmp/maxcells.jsonl")"
echo "limits: --timeout and --max-cells turn a huge file into unsupported"

# ---- interrupting a long batch ----
big=$tmp/big; mkdir -p "$big"
for i in $(seq -w 1 3000); do cp samples/synthetic/u01-qingxi/zpb.xls "$big/$i.xls"; done
for cmd in merge convert; do
  out=$tmp/int-$cmd; mkdir -p "$out"
  target=$out/merged.xlsx; [ $cmd = convert ] && target=$out/units
  "$bin" $cmd -j 2 "$big" -o "$target" >"$out/stdout" 2>"$out/stderr" &
  pid=$!
  # wait until perfsheet catches SIGINT (a background job starts with it ignored)
  for _ in $(seq 100); do
    cgt=$(awk '/^SigCgt/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
    [ $(( 0x${cgt:-0} & 2 )) != 0 ] && break
    sleep 0.05
  done
  sleep 0.2
  kill -0 $pid 2>/dev/null || fail "$cmd finished before it could be interrupted"
  kill -INT $pid
  set +e; wait $pid; rc=$?; set -e
  [ $rc = 130 ] || fail "$cmd interrupted: exit status $rc, want 130"
  grep -q '已中断' "$out/stderr" || fail "$cmd interrupted: the summary does not say so: $(tail -2 "$out/stderr")"
  if [ $cmd = merge ]; then [ ! -e "$target" ] || fail "merge left a partial $target"; fi
  leftovers=$(find "$out" -name '*tmp*' | head -3)
  [ -z "$leftovers" ] || fail "$cmd left temporary files: $leftovers"
  if [ $cmd = convert ] && [ -d "$target" ]; then
    # files finished before the signal are whole workbooks; nothing half-written
    /usr/bin/python3 -c '
import sys, zipfile, glob
for f in glob.glob(sys.argv[1] + "/*.xlsx"):
    with zipfile.ZipFile(f) as z:
        assert z.testzip() is None, f
        assert "xl/workbook.xml" in z.namelist(), f
' "$target" || fail "convert left an incomplete workbook"
    [ ! -e "$target/findings.jsonl" ] || [ "$(wc -l <"$target/findings.jsonl")" = 3000 ] || fail "partial findings.jsonl"
  fi
done
echo "interrupt: no partial output"
echo "1 passed, 0 failed"
