#!/usr/bin/env bash
# The command-line contract of ../shared/spec/cli.md on every sample: JSON Lines shape, input
# order, statuses, exit codes, every ground-truth defect at its cell, and detect/extract.
set -euo pipefail
bin=${1:-build/perfsheet}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

set +e
"$bin" check --json -q samples/synthetic samples/hengyang-county-2021 samples/bad >"$tmp/check.jsonl" 2>"$tmp/check.err"; rc=$?
"$bin" check --json -q samples/synthetic/u01-qingxi >"$tmp/clean.jsonl" 2>/dev/null; rc_clean=$?
"$bin" check --json -q samples/synthetic/u04-shiwan >/dev/null 2>&1; rc_defects=$?
"$bin" extract --json samples/hengyang-county-2021/both.xls samples/bad/xlsx-renamed.xls >"$tmp/extract.jsonl" 2>/dev/null; rc_extract=$?
"$bin" detect --json samples/hengyang-county-2021/both.xls samples/bad/no-indicators.xls >"$tmp/detect.jsonl" 2>/dev/null
"$bin" bogus samples/bad/empty.xls >/dev/null 2>&1; rc_usage=$?
set -e
[ $rc = 2 ] || fail "check with bad files: exit $rc, want 2"
[ $rc_clean = 0 ] || fail "check of a clean unit: exit $rc_clean, want 0"
[ $rc_defects = 1 ] || fail "check of a unit with error findings: exit $rc_defects, want 1"
[ $rc_extract = 0 ] || fail "extract: exit $rc_extract"
[ $rc_usage = 2 ] || fail "unknown command: exit $rc_usage, want 2"

/usr/bin/python3 - "$tmp" <<'PY'
import json, os, sys
tmp = sys.argv[1]
lines = [json.loads(l) for l in open(os.path.join(tmp, 'check.jsonl'), encoding='utf-8')]
files = [l['file'] for l in lines]
order = ['synthetic', 'hengyang-county-2021', 'bad']  # the arguments' order, each folder sorted
assert files == sorted(files, key=lambda f: (order.index(f.split('/')[1]), f)), 'input order'
codes = {'encrypted', 'corrupt', 'not_a_spreadsheet', 'unsupported', 'io', 'no_template'}
truth = {}
for d in ('synthetic', 'hengyang-county-2021', 'bad'):
    for k, v in json.load(open('samples/%s/expected.json' % d, encoding='utf-8')).items():
        truth['samples/%s/%s' % (d, k)] = v
seen = 0
for l in lines:
    assert set(l) >= {'file', 'status'}, l.keys()
    assert l['status'] in ('ok', 'findings', 'error'), l['status']
    if l['status'] == 'error':
        assert l['error']['code'] in codes and l['error']['message'], l
        continue
    assert 'error' not in l
    for d in l['documents']:
        assert set(d) >= {'sheet', 'template', 'mapping', 'unit', 'year'}, d.keys()
    for f in l['findings']:
        assert set(f) >= {'rule', 'severity', 'sheet', 'cell', 'cells', 'message'}, f
        assert f['severity'] in ('info', 'warning', 'error') and f['cells'][0] == f['cell'], f
    t = truth.get(l['file'])
    if not t:
        continue
    got = {(f['sheet'], f['cell'], f['rule'], f['severity']) for f in l['findings']}
    for d in t.get('defects', []):
        want = (d['sheet'], d['cell'], d['rule'], d['severity'])
        assert want in got, (l['file'], want, sorted(got))
        seen += 1
    errors = {(s, c, r) for s, c, r, sev in got if sev == 'error'}
    want_errors = {(d['sheet'], d['cell'], d['rule']) for d in t.get('defects', []) if d['severity'] == 'error'}
    assert errors == want_errors, (l['file'], errors ^ want_errors)
    assert l['status'] == ('findings' if any(sev in ('error', 'warning') for *_, sev in got) else 'ok'), l['file']
bad = {l['file'].split('/')[-1]: l for l in lines if l['file'].startswith('samples/bad/')}
checked_bad = 0
for name, t in json.load(open('samples/bad/expected.json', encoding='utf-8')).items():
    if t.get('expected_status') == 'error':
        assert bad[name]['status'] == 'error' and bad[name]['error']['code'] == t['error_code'], (name, bad[name])
        checked_bad += 1
assert checked_bad == 6, checked_bad
assert bad['no-indicators.xls']['error']['code'] == 'no_template' and '绩效指标' in bad['no-indicators.xls']['error']['message']
assert bad['xlsx-renamed.xls']['status'] in ('ok', 'findings')
print('check --json: %d lines, %d ground-truth defects found at their cells, no other error' % (len(lines), seen))

ex = [json.loads(l) for l in open(os.path.join(tmp, 'extract.jsonl'), encoding='utf-8')]
both = ex[0]
assert [d['template'] for d in both['documents']] == ['jcsj', 'zpb'], both['documents']
zpb = both['documents'][1]
assert zpb['values']['funds.executed'] == 1220.03 and zpb['sources']['funds.executed'] == 'E6', zpb['sources'].get('funds.executed')
assert zpb['values']['funds.rate'] == 1.0 and zpb['sources']['funds.rate'] == 'F6'
assert zpb['unit'] == '衡阳县医疗保障事务中心' and zpb['year'] == 2021
assert len(zpb['tables']['indicators']) == zpb['values']['indicator_count'] == 12
assert ex[1]['documents'][0]['values']['funds.executed'] == 1504.57
det = [json.loads(l) for l in open(os.path.join(tmp, 'detect.jsonl'), encoding='utf-8')]
assert [s['template'] for s in det[0]['sheets']] == ['jcsj', 'zpb'] and all(s['complete'] for s in det[0]['sheets'])
assert det[1]['sheets'][0]['complete'] is False and '绩效指标' in det[1]['sheets'][0]['missing']
print('extract and detect: ok')
PY
# the 部门决算 公开01–09表 are one document of the built-in juesuan (tests/cli/juesuan.sh checks it)
set +e; "$bin" check --json samples/juesuan/anhua-2021-juesuan.xls >"$tmp/juesuan.jsonl" 2>/dev/null; rc=$?; set -e
[ $rc = 0 ] || fail "juesuan: exit $rc, want 0 (尾数误差 are warnings)"
grep -q '"template":"juesuan"' "$tmp/juesuan.jsonl" || fail "juesuan: $(head -c 300 "$tmp/juesuan.jsonl")"
# Gansu's 自评表s (samples/gansu-jiayuguan-2021) are built in: every expected.json defect at its
# cell, no other error or warning
set +e; "$bin" check --json -q samples/gansu-jiayuguan-2021 >"$tmp/gansu.jsonl" 2>/dev/null; rc=$?; set -e
[ $rc = 1 ] || fail "gansu: exit $rc, want 1 (the 整体 table's errors)"
/usr/bin/python3 - "$tmp/gansu.jsonl" <<'PY'
import json, sys
truth = json.load(open('samples/gansu-jiayuguan-2021/expected.json', encoding='utf-8'))
n = 0
for l in map(json.loads, open(sys.argv[1], encoding='utf-8')):
    t = truth[l['file'].split('/')[-1]]
    assert l['status'] in ('ok', 'findings') and [d['template'] for d in l['documents']] == [t['template']], l
    got = {(f['sheet'], f['cell'], f['rule'], f['severity']) for f in l['findings'] if f['severity'] != 'info'}
    want = {(d['sheet'], d['cell'], d['rule'], d['severity']) for d in t['defects']}
    assert got == want, (l['file'], sorted(got ^ want))
    n += len(want)
assert n == 6, n
print('gansu: 3 documents, their %d defects at their cells and nothing else' % n)
PY

# convert into the inputs' own folder, where an input already bears the output's name
own=$tmp/own; mkdir -p "$own"
cp samples/synthetic/u04-shiwan/zpb.xls "$own/石湾县医疗保障局_2021_zpb.xlsx"   # an .xls under that name
sum=$(md5sum <"$own/石湾县医疗保障局_2021_zpb.xlsx")
set +e; "$bin" convert -q "$own" -o "$own" 2>"$tmp/own.err"; set -e
[ "$(md5sum <"$own/石湾县医疗保障局_2021_zpb.xlsx")" = "$sum" ] || fail "convert overwrote an input"
[ -f "$own/石湾县医疗保障局_2021_zpb_2.xlsx" ] || fail "convert did not pick another name: $(ls "$own")"
grep -q '已被占用' "$tmp/own.err" || fail "the renaming was not reported"
echo "convert into the input folder: input kept, output renamed"
echo "1 passed, 0 failed"
