#!/usr/bin/env bash
# perfsheet lint: the built-in mappings lint clean (exit 0); broken and contradictory rule sets
# of tests/lint give their findings and exit 1 or 2, as text and as JSON Lines; coverage on
# the samples carries real counts; an unreadable FILE is exit 2; usage.
set -euo pipefail
bin=${1:-build/perfsheet}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# the built-in mappings: nothing to say
"$bin" lint >"$tmp/out" 2>"$tmp/err" && rc=0 || rc=$?
[ "$rc" = 0 ] || { echo "built-in mappings: exit $rc, want 0"; cat "$tmp/out" "$tmp/err"; exit 1; }
[ ! -s "$tmp/out" ] || { echo "built-in mappings are not clean:"; cat "$tmp/out"; exit 1; }
"$bin" lint --json -q >"$tmp/out" && [ ! -s "$tmp/out" ] || { echo "--json: built-in mappings are not clean"; exit 1; }

# a contradictory rule set: exit 1, errors at file:line:col
mkdir "$tmp/contra" "$tmp/broken"
cp tests/lint/contradiction.yaml "$tmp/contra/"
"$bin" lint -m "$tmp/contra" >"$tmp/out" 2>"$tmp/err" && rc=0 || rc=$?
[ "$rc" = 1 ] || { echo "contradiction: exit $rc, want 1"; cat "$tmp/out" "$tmp/err"; exit 1; }
grep -q "^$tmp/contra/contradiction.yaml:36:12: 错误 \[lint.contradiction\] x.ge60: 与 x.le50" "$tmp/out" ||
  { echo "contradiction: no x.ge60 finding at 36:12"; cat "$tmp/out"; exit 1; }
grep -q '错误 4，警告 1' "$tmp/err" || { echo "contradiction: summary"; cat "$tmp/err"; exit 1; }
"$bin" lint -q --json -m "$tmp/contra" >"$tmp/out.jsonl" && rc=0 || rc=$?
[ "$rc" = 1 ] || { echo "contradiction --json: exit $rc, want 1"; exit 1; }
/usr/bin/python3 - "$tmp/out.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')]
assert [(l['kind'], l['severity'], l['rule'], l['line'], l['col']) for l in lines] == [
    ('lint.contradiction', 'error', 'x.ge60', 36, 12), ('lint.contradiction', 'error', 'x.plus2', 42, 12),
    ('lint.contradiction', 'error', 'x.row_gt', 50, 12), ('lint.implied_value', 'warning', 'x.sum_t', 56, 12),
    ('lint.contradiction', 'error', 'x.t_min', 59, 12)], lines
assert '0 = 1' in lines[1]['message'], lines[1]
assert 't = 0' in lines[3]['message'] and 't = 0' in lines[4]['message'], lines[3:]
PY

# a rule that does not parse: exit 2, the loader's words at its line:col
cp tests/lint/load_error.yaml "$tmp/broken/"
"$bin" lint -m "$tmp/broken" >"$tmp/out" 2>/dev/null && rc=0 || rc=$?
[ "$rc" = 2 ] || { echo "load error: exit $rc, want 2"; cat "$tmp/out"; exit 1; }
grep -q "load_error.yaml:13:18: 错误 \[lint.load\] “+” 后缺少数值" "$tmp/out" || { echo "load error: line"; cat "$tmp/out"; exit 1; }
# and, as check shows it, the source line with a caret under the culprit
grep -A2 "load_error.yaml:13:18" "$tmp/out" | tail -2 | diff - <(printf '    check: a = b +\n                 ^\n') >/dev/null ||
  { echo "load error: no caret"; cat "$tmp/out"; exit 1; }

# warnings only: exit 1
mkdir "$tmp/dup" && cp tests/lint/duplicate.yaml "$tmp/dup/"
"$bin" lint -q -m "$tmp/dup" >"$tmp/out" && rc=0 || rc=$?
[ "$rc" = 1 ] && [ "$(grep -c '警告 \[lint.duplicate\]' "$tmp/out")" = 4 ] || { echo "duplicates: exit $rc"; cat "$tmp/out"; exit 1; }

# coverage on the samples: real counts, exit 0 (coverage is information)
"$bin" lint -q --json samples/hengyang-county-2021 samples/synthetic/u04-shiwan >"$tmp/cov.jsonl" && rc=0 || rc=$?
[ "$rc" = 0 ] || { echo "coverage: exit $rc, want 0"; head "$tmp/cov.jsonl"; exit 1; }
/usr/bin/python3 - "$tmp/cov.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')]
assert lines and all(l['kind'] == 'lint.coverage' and l['severity'] == 'info' for l in lines), lines[:3]
# the Gansu mappings reuse the zpb.* rule ids: each rule is taken from its own mapping file
by = {(l['rule'], l.get('instance')): l for l in lines if not l['file'].startswith('mappings/gansu_')}
rate = by[('zpb.rate', None)]
assert rate['file'] == 'mappings/zpb.yaml', rate
# samples/hengyang-county-2021 holds zpb three times (both.xls, zpb.xls, zpb.xlsx; zpb-biff5.xls too), u04 once
assert rate['documents'] >= 4 and rate['evaluated'] > 0 and rate['evaluated'] == rate['passed'] + rate['failed'], rate
assert rate['failed'] >= 1, rate   # u04-shiwan's 执行率 100.00% for 97.70%
v = by[('jcsj.vehicle', 'c=final')]
assert v['documents'] >= 2 and v['failed'] >= 1, v   # hengyang's blank 公务用车购置和维护经费
cross = by[('cross.basic', None)]
assert cross['documents'] >= 2 and cross['evaluated'] >= 2, cross
assert all(l['file'].startswith('mappings/') and l['line'] > 0 for l in lines)
PY

# an unreadable FILE: exit 2, said as lint.input; the others still measured
"$bin" lint -q samples/bad/random-bytes.xls samples/hengyang-county-2021/zpb.xls >"$tmp/out" && rc=0 || rc=$?
[ "$rc" = 2 ] || { echo "unreadable file: exit $rc, want 2"; exit 1; }
grep -q '^samples/bad/random-bytes.xls: 错误 \[lint.input\]' "$tmp/out" || { echo "no lint.input line"; cat "$tmp/out"; exit 1; }
grep -q 'zpb.rate: 1 份文档：运行 1 次' "$tmp/out" || { echo "zpb.xls not measured"; cat "$tmp/out"; exit 1; }
# never reached: no jcsj document, so no jcsj rule ran and no cross-table pair was made
grep -q 'jcsj.control_rate: 未运行：没有 jcsj 模板的文档' "$tmp/out" || { echo "jcsj rules reached?"; cat "$tmp/out"; exit 1; }
grep -q 'cross.basic: 未运行：没有同一单位、同一年度的 jcsj 与 zpb 文档' "$tmp/out" || { echo "cross rules reached?"; exit 1; }

# usage
"$bin" lint --bogus >/dev/null 2>&1 && rc=0 || rc=$?
[ "$rc" = 2 ] || { echo "unknown option: exit $rc, want 2"; exit 1; }
"$bin" --help | grep -q 'perfsheet lint' || { echo "usage does not name lint"; exit 1; }
# --help after a command (and its options) is the usage too, exit 0 - not 「未知选项 --help」
for c in "check --help" "lint -m tests/lint --help" "inspect -h"; do
  "$bin" $c >"$tmp/help" 2>&1 && grep -q 'perfsheet lint' "$tmp/help" || { echo "perfsheet $c: $(head -2 "$tmp/help")"; exit 1; }
done
echo "lint: ok"
