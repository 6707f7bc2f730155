#!/bin/bash
# limits.sh - absurd input that must end in a clear error (or, for a sheet that only claims to
# be huge, a normal read) instead of a hang, a crash or an out-of-memory. Files are crafted
# here at run time (the .xlsx ones are in xlsx_limits.sh):
#   - zpb.xls whose DIMENSIONS record claims A1:XFD1048576 (2^20 x 2^14 cells), and one claiming
#     2^32 rows: read like the original, same cells, nothing sized by the claim;
#   - zpb.xls under --max-cells 10: max_cells_per_file;
#   - a mapping nested 10,000 levels deep in flow and 100 in block style: libfyaml's depth
#     limit (64), located; a mapping saved as GBK: not UTF-8, located; YAML aliases that
#     would expand a billion-fold: a plain mapping error;
#   - a rule nested 10,000 parentheses deep: too long (PS_RULE_MAX_TEXT); 4,000 parentheses or
#     4,000 unary minus signs: too deep (PS_RULE_MAX_DEPTH, 128), located in the mapping file.
# Usage: limits.sh PATH/TO/perfsheet   (run from the repository root)
set -u
BIN=${1:?usage: limits.sh PATH/TO/perfsheet}
PY=$(command -v python3) || { echo "SKIP: python3 not found"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
SAMPLE=samples/synthetic/u01-qingxi/zpb.xls
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# ---- .xls: a DIMENSIONS record that claims the whole grid --------------------------------
"$PY" - "$SAMPLE" "$TMP" <<'PYEOF' || { echo "FAIL: could not make the .xls files"; exit 1; }
import struct, sys
src, out = sys.argv[1], sys.argv[2]
data = bytearray(open(src, 'rb').read())
# BIFF8 DIMENSIONS: id 0x0200, length 14: first row (u32), last row + 1 (u32), first col (u16),
# last col + 1 (u16), reserved. The Workbook stream lies in the OLE2 sectors unchanged in size,
# so the record is patched in place.
hits = [i for i in range(len(data) - 18) if data[i:i + 4] == b'\x00\x02\x0e\x00']
if not hits:
    sys.exit('no DIMENSIONS record in ' + src)
for name, rows, cols in (('dim-full.xls', 1 << 20, 1 << 14), ('dim-absurd.xls', 0xFFFFFFFF, 0xFFFF)):
    d = bytearray(data)
    for i in hits:
        struct.pack_into('<IIHH', d, i + 4, 0, rows, 0, cols)
    open('%s/%s' % (out, name), 'wb').write(bytes(d))
PYEOF

# No allocation may follow the claim: 2^34 cells would need hundreds of GiB. Under ASan the
# virtual memory cannot be capped (its shadow is reserved up front), so the cap applies to
# plain builds only.
cap=""
grep -q __asan_init "$BIN" || cap="ulimit -v 2000000;"
bash -c "$cap timeout 60 \"\$0\" inspect --json \"\$@\"" "$BIN" "$SAMPLE" "$TMP/dim-full.xls" "$TMP/dim-absurd.xls" \
    >"$TMP/dim.jsonl" 2>"$TMP/dim.err"
status=$?
[ $status -eq 0 ] || fail "DIMENSIONS claims: exit status $status, expected 0: $(cat "$TMP/dim.err")"
"$PY" - "$TMP/dim.jsonl" <<'PYEOF' || failures=$((failures + 1))
import json, sys
recs = [json.loads(line) for line in open(sys.argv[1], encoding='utf-8')]
if len(recs) != 3:
    sys.exit('FAIL: %d records for 3 files' % len(recs))
base = recs[0]
shape = lambda r: [(s['name'], s['rows'], s['cols'], s['cells']) for s in r.get('sheets', [])]
bad = 0
for r in recs[1:]:
    ok = r['status'] == 'ok' and shape(r) == shape(base)
    sh = r['sheets'][0] if ok else {'rows': '-', 'cols': '-', 'cells': []}
    print('%-16s %s rows=%s cols=%s cells=%d' % (r['file'].rsplit('/', 1)[-1], 'ok  ' if ok else 'FAIL',
          sh['rows'], sh['cols'], len(sh['cells'])))
    bad += not ok
if (base['sheets'][0]['rows'], base['sheets'][0]['cols'], len(base['sheets'][0]['cells'])) != (31, 8, 111):
    print('FAIL: the original sample is not 31 x 8 with 111 cells any more'); bad += 1
sys.exit(1 if bad else 0)
PYEOF

# ---- cells per file ------------------------------------------------------------------------
out=$(timeout 60 "$BIN" inspect --json --max-cells 10 "$SAMPLE" 2>/dev/null)
case $out in
*'"code":"unsupported"'*'max_cells_per_file（10）'*) echo "max-cells         ok" ;;
*) fail "--max-cells 10: $out" ;;
esac

# ---- mapping files and rules -----------------------------------------------------------
# expect_mapping_error NAME TEXT WANT...: a user mapping directory holding NAME.yaml = TEXT
# must stop `check` with exit status 2 and an error containing every WANT.
expect_mapping_error() {
    local name=$1 text=$2
    shift 2
    local dir=$TMP/m-$name
    mkdir -p "$dir"
    printf '%s\n' "$text" >"$dir/$name.yaml"
    timeout 60 "$BIN" check -m "$dir" "$SAMPLE" >/dev/null 2>"$dir/err"
    local status=$? msg
    msg=$(head -c 300 "$dir/err")
    if [ $status -ne 2 ]; then
        fail "$name: exit status $status, expected 2: $msg"
        return
    fi
    for want in "$@"; do
        case $msg in
        *"$want"*) ;;
        *) fail "$name: the error does not say “$want”: $msg"; return ;;
        esac
    done
    printf '%-17s ok   %s\n' "$name" "${msg##*/}"
}

expect_mapping_error yaml-deep-flow "$("$PY" -c "print('id: deep\nfields: ' + '[' * 10000 + ']' * 10000)")" \
    "yaml-deep-flow.yaml:2:" "Max depth (64)" "[mapping]"
expect_mapping_error yaml-deep-block \
    "$("$PY" -c "print('id: deep\n' + ''.join('  ' * i + 'k%d:\n' % i for i in range(100)) + '  ' * 100 + 'v: 1')")" \
    "yaml-deep-block.yaml:65:" "Max depth (64)" "[mapping]"
# title: 自评表, saved as GBK
expect_mapping_error yaml-gbk "$(printf 'id: gbk\ntitle: \xd7\xd4\xc6\xc0\xb1\xed')" \
    "yaml-gbk.yaml:2:8:" "不是 UTF-8" "[mapping]"
expect_mapping_error yaml-laughs "$("$PY" -c "
print('id: laughs\ntitle: &a0 lol')
for i in range(1, 10):
    print('x%d: &a%d [%s]' % (i, i, ','.join(['*a%d' % (i - 1)] * 10)))")" \
    "yaml-laughs.yaml:7:39:" "锚点与别名展开后超过 200000 个节点" "[mapping]"

rule() { printf 'id: deep\nrules:\n  - id: deep.rule\n    check: %s = 1\n    message: x' "$1"; }
expect_mapping_error rule-10000-paren "$(rule "$("$PY" -c "print('(' * 10000 + 'x' + ')' * 10000)")")" \
    "rule-10000-paren.yaml:4:12:" "过长" "[mapping]"
expect_mapping_error rule-4000-paren "$(rule "$("$PY" -c "print('(' * 4000 + 'x' + ')' * 4000)")")" \
    "rule-4000-paren.yaml:4:" "嵌套过深（超过 128 层）" "[rule_syntax]"
expect_mapping_error rule-4000-minus "$(rule "$("$PY" -c "print('-' * 4000 + 'x')")")" \
    "rule-4000-minus.yaml:4:" "嵌套过深（超过 128 层）" "[rule_syntax]"

exit $((failures > 0))
