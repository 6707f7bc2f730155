#!/usr/bin/env bash
# sqlite.sh - `perfsheet merge -o OUT.sqlite` (issue 15, docs/sqlite.md): the database of
# samples/ holds exactly the files, documents, values, table rows and findings that
# `extract --json` and `check --json` give for them; the same database for -j 1 and -j 2;
# the example queries of docs/sqlite.md run and return rows; written atomically (no
# temporary file left, nothing at all when interrupted).
set -euo pipefail
bin=${1:-build/perfsheet}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
/usr/bin/python3 -c 'import sqlite3' 2>/dev/null || { echo "skipped: python3 without sqlite3"; exit 77; }

mkdir -p "$tmp/out"
set +e
"$bin" extract --json -q samples/ >"$tmp/extract.jsonl"
"$bin" check --json -q samples/ >"$tmp/check.jsonl"
"$bin" merge -j 1 samples/ -o "$tmp/out/j1.sqlite" >"$tmp/j1.out" 2>"$tmp/j1.err"; rc1=$?
"$bin" merge -j 2 -q samples/ -o "$tmp/out/j1.sqlite" 2>/dev/null   # replaces the first: same content
"$bin" merge -j 2 -q samples/ -o "$tmp/out/j2.db" 2>/dev/null; rc2=$?
set -e
[ $rc1 = 2 ] && [ $rc2 = 2 ] || fail "exit status $rc1/$rc2, want 2 (samples/bad cannot be read)"
grep -q "^$tmp/out/j1.sqlite\$" "$tmp/j1.out" || fail "the database path is not printed: $(cat "$tmp/j1.out")"
bad=$(grep -c '"status":"error"' "$tmp/check.jsonl")
[ "$bad" -gt 0 ] && grep -q "无法处理的文件 $bad 个" "$tmp/j1.err" || fail "summary: $(tail -1 "$tmp/j1.err")"
[ "$(ls -A "$tmp/out" | sort | tr '\n' ' ')" = "j1.sqlite j2.db " ] || fail "left in the output folder: $(ls -A "$tmp/out")"

/usr/bin/python3 - "$tmp/out/j1.sqlite" "$tmp/out/j2.db" "$tmp/extract.jsonl" "$tmp/check.jsonl" docs/sqlite.md <<'PY'
import json, re, sqlite3, sys
db1, db2, extract_path, check_path, doc_path = sys.argv[1:]
c1, c2 = sqlite3.connect(db1), sqlite3.connect(db2)
dump1, dump2 = list(c1.iterdump()), list(c2.iterdump())
assert dump1 == dump2, 'the databases of -j 1 and -j 2 differ'
print('dump: -j 1 and -j 2 give the same %d statements' % len(dump1))

extract = [json.loads(l) for l in open(extract_path, encoding='utf-8')]
check = [json.loads(l) for l in open(check_path, encoding='utf-8')]
db = c1
q = lambda sql, *a: db.execute(sql, a).fetchall()

files = q('SELECT file_id, path, status, error_code, error_message FROM files ORDER BY file_id')
assert [f[1] for f in files] == [l['file'] for l in check], 'files: paths or order differ'
ndocs = nvalues = nrows = nfindings = 0
tables = {name for (name,) in q("SELECT name FROM sqlite_master WHERE type = 'table'")}
for (file_id, path, status, code, message), ex, ck in zip(files, extract, check):
    assert status == ck['status'], (path, status, ck['status'])
    if status == 'error':
        assert (code, message) == (ck['error']['code'], ck['error']['message']), (path, code, message)
    else:
        assert code is None and message is None, path
    docs = q('SELECT document_id, sheet, template, mapping, unit, year FROM documents '
             'WHERE file_id = ? ORDER BY document_id', file_id)
    assert len(docs) == len(ex['documents']), (path, len(docs), len(ex['documents']))
    for (doc_id, sheet, template, mapping, unit, year), d in zip(docs, ex['documents']):
        assert (sheet, template, mapping, unit, year) == (d['sheet'], d['template'], d['mapping'], d['unit'], d['year']), path
        values = {k: v for k, v in q('SELECT key, value FROM field_values WHERE document_id = ?', doc_id)}
        assert values == d['values'], (path, sheet, set(values.items()) ^ set(d['values'].items()))
        sources = {k: c for k, c in q('SELECT key, cell FROM field_values WHERE document_id = ? AND cell IS NOT NULL', doc_id)}
        assert sources == d['sources'], (path, sheet, 'sources')
        nvalues += len(values)
        for name in tables - {'files', 'documents', 'field_values', 'findings'}:
            cur = db.execute('SELECT * FROM "%s" WHERE document_id = ? ORDER BY row_number' % name, (doc_id,))
            cols = [c[0] for c in cur.description]
            rows = []
            for r in cur.fetchall():
                row = dict(zip(cols, r))
                assert row.pop('row_number') == len(rows) + 1 and row.pop('document_id') == doc_id
                cells = json.loads(row.pop('cells'))
                row = {k: v for k, v in row.items() if v is not None}
                assert set(cells) <= set(row), (path, name, cells, row)
                # a multi-sheet document (juesuan) names each cell with its sheet: 公开08表!A7
                assert all(re.fullmatch(r'([^!]+!)?[A-Z]+[0-9]+', c) for c in cells.values()), cells
                rows.append(row)
            want = [{k: v for k, v in r.items() if v is not None} for r in d['tables'].get(name, [])]
            assert rows == want, (path, sheet, name, rows[:2], want[:2])
            nrows += len(rows)
        ndocs += 1
    got = [dict(rule=r[0], severity=r[1], sheet=r[2], cell=r[3], cells=json.loads(r[4]), message=r[5],
                expected=r[6], actual=r[7])
           for r in q('SELECT rule, severity, sheet, cell, cells, message, expected, actual FROM findings '
                      'WHERE file_id = ? ORDER BY finding_id', file_id)]
    want = [dict(rule=f['rule'], severity=f['severity'], sheet=f['sheet'], cell=f['cell'], cells=f['cells'],
                 message=f['message'], expected=f.get('expected'), actual=f.get('actual')) for f in ck['findings']]
    # the same findings; check --json lists a file's cross-table ones last, the database (as the
    # merged workbook) in each document's sorted order
    key = lambda f: json.dumps(f, ensure_ascii=False, sort_keys=True)
    assert sorted(got, key=key) == sorted(want, key=key), (path, len(got), len(want))
    nfindings += len(got)
assert q('SELECT count(*) FROM documents')[0][0] == ndocs
assert q('SELECT count(*) FROM findings')[0][0] == nfindings
assert ndocs >= 30 and nrows >= 100 and nfindings >= 40, (ndocs, nrows, nfindings)
assert any(r for (r,) in q("SELECT rule FROM findings WHERE rule LIKE 'cross.%'")), 'no cross-table finding'
print('content: %d files, %d documents, %d values, %d table rows, %d findings as extract/check --json give them'
      % (len(files), ndocs, nvalues, nrows, nfindings))

queries = re.findall(r'```sql\n(.*?)```', open(doc_path, encoding='utf-8').read(), re.S)
assert len(queries) >= 5, 'docs/sqlite.md: %d example queries' % len(queries)
for sql in queries:
    rows = q(sql)
    assert rows, 'docs/sqlite.md: no row from\n' + sql
print('docs/sqlite.md: %d example queries return rows' % len(queries))
PY

# ---- interrupted while the database is written: nothing left, not even its temporary file ----
big=$tmp/big; mkdir -p "$big" "$tmp/int"
for i in $(seq -w 1 1200); do cp samples/synthetic/u01-qingxi/zpb.xls "$big/$i.xls"; done
"$bin" merge -j 2 "$big" -o "$tmp/int/all.sqlite" >/dev/null 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 1 6000); do   # until the database is being written (pass 2), at most 2 minutes
  ls -A "$tmp/int" | grep -q '^\.all\.sqlite\.tmp-' && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.02
done
ls -A "$tmp/int" | grep -q '^\.all\.sqlite\.tmp-' || fail "no temporary database while writing: $(ls -A "$tmp/int")"
kill -0 $pid 2>/dev/null || fail "merge finished before it could be interrupted"
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
[ $rc = 130 ] || fail "interrupted: exit status $rc, want 130"
grep -q '已中断' "$tmp/int.err" || fail "interrupted: not said: $(tail -2 "$tmp/int.err")"
[ -z "$(ls -A "$tmp/int")" ] || fail "interrupted: left $(ls -A "$tmp/int")"
echo "interrupt: nothing left"
echo "1 passed, 0 failed"
