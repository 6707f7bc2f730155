#!/bin/bash
# xlsx_formats.sh - number-format classes of the .xlsx reader, seen through `inspect --json`:
# a workbook made here at run time (python3 zipfile) whose styles.xml holds custom format codes
# (quoted text, [..] sections, escapes, elapsed time, CJK dates) and undefined built-in ids,
# one cell per format; plus the same serial in a date1904 workbook.
# Usage: xlsx_formats.sh PATH/TO/perfsheet   (run from the repository root)
set -u
BIN=${1:?usage: xlsx_formats.sh PATH/TO/perfsheet}
PY=$(command -v python3) || { echo "SKIP: python3 not found"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# (numFmtId, formatCode or None for a built-in, expected class, expected decimals or None)
CASES='[
 [164, "0.00%", "percent", 2],
 [165, "#,##0.00", "number", 2],
 [166, "yyyy\"年\"m\"月\"d\"日\"", "date", null],
 [167, "[$-804]yyyy/m/d", "date", null],
 [168, "@", "text", null],
 [169, "0.00\"万元\"", "number", 2],
 [170, "[Red]0.0", "number", 1],
 [171, "\"Day \"0", "number", 0],
 [172, "[h]:mm:ss", "date", null],
 [173, "0.0E+00", "number", 1],
 [174, "General", "general", null],
 [175, "#,##0.00_);[Red](#,##0.00)", "number", 2],
 [176, "0%;-0%", "percent", 0],
 [177, "m/d/yy h:mm", "date", null],
 [178, "_-* #,##0.000_-;\\-* #,##0.000_-;_-* \"-\"??_-;_-@_-", "number", 3],
 [179, "0.000\\%", "number", 3],
 [31, null, "date", null],
 [58, null, "date", null],
 [10, null, "percent", 2],
 [49, null, "text", null],
 [4, null, "number", 2]
]'

"$PY" - "$TMP" "$CASES" <<'EOF' || { echo "FAIL: could not make the test files"; exit 1; }
import json, os, sys, zipfile
out, cases = sys.argv[1], json.loads(sys.argv[2])
NS = 'http://schemas.openxmlformats.org/'
def esc(s):
    return s.replace('&', '&amp;').replace('"', '&quot;').replace('<', '&lt;')
def book(name, date1904):
    fmts = ''.join('<numFmt numFmtId="%d" formatCode="%s"/>' % (i, esc(c)) for i, c, _, _ in cases if c is not None)
    xfs = '<xf numFmtId="0"/>' + ''.join('<xf numFmtId="%d"/>' % i for i, _, _, _ in cases)
    cells = ''.join('<row r="%d"><c r="A%d" s="%d"><v>44651.5</v></c></row>' % (k + 1, k + 1, k + 1)
                    for k in range(len(cases)))
    with zipfile.ZipFile(os.path.join(out, name), 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('[Content_Types].xml', '<Types xmlns="%spackage/2006/content-types"/>' % NS)
        z.writestr('_rels/.rels', '<Relationships xmlns="%spackage/2006/relationships"><Relationship Id="r1" '
                   'Type="%sofficeDocument/2006/relationships/officeDocument" Target="/xl/workbook.xml"/>'
                   '</Relationships>' % (NS, NS))
        z.writestr('xl/workbook.xml', '<workbook xmlns="%sspreadsheetml/2006/main" xmlns:r="%sofficeDocument/2006/'
                   'relationships"><workbookPr date1904="%s"/><sheets><sheet name="F" sheetId="1" r:id="rId7"/>'
                   '</sheets></workbook>' % (NS, NS, 'true' if date1904 else 'false'))
        z.writestr('xl/_rels/workbook.xml.rels', '<Relationships xmlns="%spackage/2006/relationships">'
                   '<Relationship Id="rId7" Type="%sofficeDocument/2006/relationships/worksheet" '
                   'Target="sheets/../worksheets/data.xml"/><Relationship Id="rId8" '
                   'Type="%sofficeDocument/2006/relationships/styles" Target="/xl/styles.xml"/>'
                   '</Relationships>' % (NS, NS, NS))
        z.writestr('xl/styles.xml', '<styleSheet xmlns="%sspreadsheetml/2006/main"><numFmts>%s</numFmts>'
                   '<cellStyleXfs><xf numFmtId="10"/></cellStyleXfs><cellXfs>%s</cellXfs></styleSheet>'
                   % (NS, fmts, xfs))
        z.writestr('xl/worksheets/data.xml', '<worksheet xmlns="%sspreadsheetml/2006/main"><sheetData>%s'
                   '</sheetData></worksheet>' % (NS, cells))
book('formats.xlsx', False)
book('formats1904.xlsx', True)
EOF

timeout 60 "$BIN" inspect --json "$TMP/formats.xlsx" "$TMP/formats1904.xlsx" >"$TMP/out.jsonl" 2>"$TMP/err.txt"
status=$?
if [ $status -ne 0 ]; then
    echo "FAIL: exit status $status"
    cat "$TMP/err.txt"
    exit 1
fi

"$PY" - "$TMP/out.jsonl" "$CASES" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')]
cases = json.loads(sys.argv[2])
failures = 0
cells = {c['ref']: c for c in recs[0]['sheets'][0]['cells']}
for k, (fid, code, cls, dec) in enumerate(cases):
    c = cells.get('A%d' % (k + 1))
    got = c.get('format', 'general') if c else None
    ok = got == cls
    if ok and cls == 'date':
        ok = c['type'] == 'date' and c['value'] == '2022-03-31T12:00:00'
    elif ok:
        ok = c['type'] == 'number' and c['value'] == 44651.5
    print('%-4d %-45s want %-8s got %-8s %s' % (fid, code, cls, got, 'ok' if ok else 'FAIL'))
    failures += not ok
# date1904: the same serial is 1462 days later, and the reader gives the 1900-system serial
c = {c['ref']: c for c in recs[1]['sheets'][0]['cells']}['A3']
ok = c['type'] == 'date' and c['value'] == '2026-04-01T12:00:00'
print('date1904: %s %s' % (c['value'], 'ok' if ok else 'FAIL'))
failures += not ok
sys.exit(1 if failures else 0)
EOF
