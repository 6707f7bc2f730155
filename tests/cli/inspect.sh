#!/usr/bin/env bash
# perfsheet inspect: the JSON of cli.md on real files, the text and grid forms, and the exit
# status with bad files in the batch.
set -euo pipefail
bin=${1:-build/perfsheet}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$bin" inspect --json samples/hengyang-county-2021/zpb.xls samples/hengyang-county-2021/zpb-biff5.xls \
  samples/hengyang-county-2021/zpb.xlsx samples/bad/csv-gbk.xls samples/bad/empty.xls >"$tmp/out.jsonl" 2>"$tmp/err" && rc=0 || rc=$?
[ "$rc" = 2 ] || { echo "exit status $rc, want 2 (two unreadable files)"; exit 1; }
grep -q 'samples/bad/csv-gbk.xls' "$tmp/err" || { echo "stderr does not name the bad file"; cat "$tmp/err"; exit 1; }

/usr/bin/python3 - "$tmp/out.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')]
assert [l['file'] for l in lines] == ['samples/hengyang-county-2021/zpb.xls', 'samples/hengyang-county-2021/zpb-biff5.xls',
    'samples/hengyang-county-2021/zpb.xlsx', 'samples/bad/csv-gbk.xls', 'samples/bad/empty.xls'], 'input order'
xls, biff5, xlsx, csv, empty = lines
assert xls['status'] == 'ok' and xls['format'] == 'xls-biff8', xls.get('format')
assert biff5['format'] == 'xls-biff5' and biff5['codepage'] == 936, biff5.get('format')
assert xlsx['format'] == 'xlsx'
assert 'codepage' not in xls
assert csv['status'] == 'error' and csv['error']['code'] == 'unsupported', csv
assert empty['error']['code'] == 'not_a_spreadsheet', empty
for doc in (xls, biff5, xlsx):
    sh = doc['sheets'][0]
    assert sh['name'] == '自评表', sh['name']
    cells = {c['ref']: c for c in sh['cells']}
    f6 = cells['F6']
    assert f6['type'] == 'number' and f6['value'] == 1.0 and f6.get('formula') is True, (doc['format'], f6)
    assert f6.get('format') == 'percent', (doc['format'], f6)
    assert 'formula' not in cells['E6'], cells['E6']
    assert cells['E6']['value'] == 1220.03
    assert cells['A2']['value'] == '部门整体支出绩效自评表'
    assert cells['A3']['value'] == '（ 20201 年度）', cells['A3']
    assert 'A5:A11' in sh['merges'] and 'G15:G21' in sh['merges'], sh['merges']
    assert all(c['type'] in ('number', 'text', 'bool', 'error', 'date') for c in sh['cells'])
# the three formats agree on every cell
def cellmap(d): return {c['ref']: (c['type'], c['value']) for c in d['sheets'][0]['cells']}
assert cellmap(xls) == cellmap(biff5), set(cellmap(xls).items()) ^ set(cellmap(biff5).items())
assert cellmap(xls) == cellmap(xlsx), set(cellmap(xls).items()) ^ set(cellmap(xlsx).items())
assert sorted(xls['sheets'][0]['merges']) == sorted(xlsx['sheets'][0]['merges'])
print('inspect json: ok,', len(xls['sheets'][0]['cells']), 'cells agree across xls, biff5, xlsx')
PY

# text form: one line per cell, the U+3000 padding visible in quotes, formulas marked
"$bin" inspect samples/hengyang-county-2021/jcsj.xls >"$tmp/text"
grep -q '"　114"' "$tmp/text" || { echo "text form lost the U+3000 of 编制数"; exit 1; }
"$bin" inspect samples/hengyang-county-2021/zpb.xls >"$tmp/text"
grep -Eq '^  F6 +number percent = 100%$' "$tmp/text" || { echo "F6 not shown as a formula percent"; grep F6 "$tmp/text"; exit 1; }
"$bin" inspect --grid samples/hengyang-county-2021/zpb.xls >"$tmp/grid"
grep -q '年度资金总额' "$tmp/grid" && grep -Eq '^   6 ' "$tmp/grid" || { echo "grid view missing row 6"; exit 1; }
echo "1 passed, 0 failed"
