#!/usr/bin/python3
"""juesuan_check.py - the built-in juesuan template (部门决算 公开01–09表) on the real Anhua 决算.

    juesuan_check.py PERFSHEET SAMPLE EXPECTED_JSON TMPDIR

1. `extract --json`: one document of template juesuan from the nine sheets, with the 15 headline
   values of expected.json at their cells (公开03表!D7 …);
2. `check --json`: exactly the 11 rounding differences of expected.json, each a warning saying
   「尾数误差」 at its sheet and cell, no error, nothing else but the info that the year came from
   the file name;
3. copies (.xlsx, written with openpyxl from the .xls as tests/drift/drift.py does) with one 款
   changed: by +10 an error at that 款 and on its chain of sums only, by +0.01 warnings only;
4. `convert` gives one workbook and `merge` one 汇总 row for the nine sheets.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'drift'))
import drift  # noqa: E402  (read_xls, write_xlsx: the copy the drift tests make)
import openpyxl  # noqa: E402

perfsheet, sample, expected_path, tmp = sys.argv[1:5]
truth = json.load(open(expected_path, encoding='utf-8'))[os.path.basename(sample)]
failures = []


def fail(msg):
    failures.append(msg)
    print('FAIL: ' + msg)


def run(cmd, path):
    out = subprocess.run([perfsheet, cmd, '--json', '-q', path], capture_output=True, text=True)
    lines = out.stdout.splitlines()
    if out.returncode not in (0, 1) or len(lines) != 1:
        sys.exit('%s %s %s: exit %d\n%s' % (perfsheet, cmd, path, out.returncode, out.stderr))
    return json.loads(lines[0]), out.returncode


def where(f):
    return '%s!%s' % (f['sheet'], f['cell'])


def findings(check):
    """Findings other than the info that the year was taken from the file name."""
    return [f for f in check.get('findings', []) if f['rule'] != 'mapping.from_filename']


# ---- 1. the values --------------------------------------------------------------------------
ex, _ = run('extract', sample)
docs = ex.get('documents', [])
if len(docs) != 1 or docs[0]['template'] != 'juesuan':
    sys.exit('FAIL: want one juesuan document, got %s' % [d.get('template') for d in docs])
doc = docs[0]
if doc['sheets'] != truth['sheets']:
    fail('sheets %s, want %s' % (doc['sheets'], truth['sheets']))
if (doc['unit'], doc['year']) != (truth['unit'], truth['year']):
    fail('unit/year %s %s' % (doc['unit'], doc['year']))
for key, want in truth['values'].items():
    got, src = doc['values'].get(key), doc['sources'].get(key)
    if got != want or src != truth['sources'][key]:
        fail('%s = %r from %s, want %r from %s' % (key, got, src, want, truth['sources'][key]))
tables = doc['tables']
for name, rows in (('income02', 28), ('expense03', 31), ('general05', 26), ('personnel06', 27),
                   ('public06', 28), ('other06', 25), ('fund08', 4), ('capital09', 1)):
    if len(tables.get(name, [])) != rows:
        fail('table %s has %d rows, want %d' % (name, len(tables.get(name, [])), rows))
print('extract: %d values at their cells, %d tables' % (len(truth['values']), len(tables)))

# ---- 2. the 11 尾数误差, no error -------------------------------------------------------------
ck, rc = run('check', sample)
if rc != 0:
    fail('check exit %d, want 0 (warnings only)' % rc)
want = sorted('%s!%s' % (d['sheet'], d['cell']) for d in truth['rounding_differences'])
got = sorted(where(f) for f in findings(ck))
if got != want:
    fail('findings at %s, want the rounding differences at %s' % (got, want))
for f in findings(ck):
    if f['severity'] != 'warning' or '尾数误差' not in f['message']:
        fail('%s %s: %s' % (where(f), f['severity'], f['message']))
by_cell = {'%s!%s' % (d['sheet'], d['cell']): d for d in truth['rounding_differences']}
for f in findings(ck):
    d = by_cell.get(where(f))
    if d and (abs(f['actual'] - d['declared']) > 1e-9 or abs(f['expected'] - d['sum_of_parts']) > 1e-9):
        fail('%s: expected %s actual %s, want %s %s' % (where(f), f['expected'], f['actual'],
                                                      d['sum_of_parts'], d['declared']))
print('check: the %d rounding differences as 尾数误差 warnings, no error' % len(want))


# ---- 3. one 款 changed ------------------------------------------------------------------------
def copy_with(name, sheet, ref, delta):
    """An .xlsx copy of the sample with one figure changed by delta."""
    sheets = drift.read_xls(sample)
    r, c = drift.parse_ref(ref)
    for s in sheets:
        if s.name == sheet:
            s.cells[(r, c)].value = round(s.cells[(r, c)].value + delta, 2)
    path = os.path.join(tmp, name)
    drift.write_xlsx(sheets, path)
    return path


base = set((where(f), f['rule'], f['severity']) for f in findings(ck))
T03, T06 = ('公开03表!C12', 'juesuan.tree03'), ('公开06表!F6', 'juesuan.tree06')
CASES = [
    # 公开03表 20801 人力资源和社会保障管理事务, 本年支出合计 361.85. Its chain: the 款 itself
    # (20801 = Σ 项, and its row: 合计 = 基本 + 项目 + …) and its 类 (208 = Σ 款). No cross-table
    # audit reads a 款 of 03 (01 and 04 compare 类), so nothing else. By 0.01: the same three
    # as 尾数误差 warnings.
    ('公开03表', 'C12', 10, {T03, ('公开03表!C12', 'juesuan.row03'), ('公开03表!C11', 'juesuan.tree03')}, set(), set()),
    ('公开03表', 'C12', 0.01, set(), {T03, ('公开03表!C12', 'juesuan.row03'), ('公开03表!C11', 'juesuan.tree03')}, set()),
    # 公开06表 30217 公务接待费 12.00 (an 经济分类 款). Its chain: its 类 (302 = Σ 款, whose 尾数误差
    # warning becomes the error) and the cross-table audit that reads it: 公开07表 公务接待费 决算数
    # (L8) is at least 06's 30217. 公用经费合计 = Σ 类 reads 302, which did not change. By 0.01:
    # 302's rounding difference of +0.01 is made good (its warning goes) and 07 is 0.01 short of
    # 06 (a 尾数误差 warning).
    ('公开06表', 'F22', 10, {T06, ('公开07表!L8', 'juesuan.x07_06')}, set(), {T06 + ('warning',)}),
    ('公开06表', 'F22', 0.01, set(), {('公开07表!L8', 'juesuan.x07_06')}, {T06 + ('warning',)}),
]
for i, (sheet, ref, delta, want_errors, want_warnings, want_lost) in enumerate(CASES):
    path = copy_with('kuan%d.xlsx' % i, sheet, ref, delta)
    c, rc = run('check', path)
    new = [f for f in findings(c) if (where(f), f['rule'], f['severity']) not in base]
    errors = {(where(f), f['rule']) for f in new if f['severity'] == 'error'}
    warnings = {(where(f), f['rule']) for f in new if f['severity'] == 'warning'}
    lost = base - set((where(f), f['rule'], f['severity']) for f in findings(c))
    if (errors, warnings, lost) != (want_errors, want_warnings, want_lost) or rc != (1 if want_errors else 0):
        fail('%s!%s %+g: errors %s, new warnings %s, gone %s (exit %d); want %s, %s, %s' % (
            sheet, ref, delta, sorted(errors), sorted(warnings), sorted(lost), rc,
            sorted(want_errors), sorted(want_warnings), sorted(want_lost)))
    for f in new:
        if f['severity'] == 'warning' and '尾数误差' not in f['message']:
            fail('%s: %s' % (where(f), f['message']))
    print('%s!%s %+g: errors at %s, new 尾数误差 warnings at %s' % (
        sheet, ref, delta, sorted(x[0] for x in errors) or '-', sorted(x[0] for x in warnings) or '-'))

# ---- 4. convert and merge: one workbook, one 汇总 row ---------------------------------------------
out = subprocess.run([perfsheet, 'convert', '-q', sample, '-o', os.path.join(tmp, 'conv')], capture_output=True, text=True)
files = sorted(os.listdir(os.path.join(tmp, 'conv')))
xlsx = [f for f in files if f.endswith('.xlsx')]
if out.returncode != 0 or xlsx != ['安化县医疗保障局_2021_juesuan.xlsx']:
    fail('convert: exit %d, files %s' % (out.returncode, files))
else:
    wb = openpyxl.load_workbook(os.path.join(tmp, 'conv', xlsx[0]))
    numbers = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, (int, float))}
    missing = [k for k, v in truth['values'].items() if v not in numbers]
    if missing:
        fail('convert: values not in the workbook: %s' % missing)
merged = os.path.join(tmp, 'merged.xlsx')
out = subprocess.run([perfsheet, 'merge', '-q', sample, '-o', merged], capture_output=True, text=True)
wb = openpyxl.load_workbook(merged)
summary = [ws for ws in wb.worksheets if ws.title.startswith('汇总')]
units = [r for ws in summary for r in ws.iter_rows(values_only=True) if r and r[0] == truth['unit']]
if out.returncode != 0 or len(summary) != 1 or len(units) != 1:
    fail('merge: exit %d, sheets %s, %d rows of %s' % (out.returncode, wb.sheetnames, len(units), truth['unit']))
print('convert: one workbook; merge: one 汇总 row')

sys.exit(1 if failures else 0)
