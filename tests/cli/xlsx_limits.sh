#!/bin/bash
# xlsx_limits.sh - crafted .xlsx files, made here at run time with python3's zipfile, that must
# end with the right error (naming the limit) instead of a hang or an out-of-memory: a ZIP bomb,
# a high-ratio part, nesting 10,000 deep, too many entries, a 2 MiB cell, cells beyond the
# sheet, an entity-expansion DTD, a damaged and a truncated zip, zips that are not workbooks;
# and a sheet whose <dimension> and cells claim A1:XFD1048576, which must read fine.
# Usage: xlsx_limits.sh PATH/TO/perfsheet   (run from the repository root)
set -u
BIN=${1:?usage: xlsx_limits.sh PATH/TO/perfsheet}
PY=$(command -v python3) || { echo "SKIP: python3 not found"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$PY" - "$TMP" tests/data/xlsx/zpb.xlsx <<'EOF' || { echo "FAIL: could not make the test files"; exit 1; }
import os, random, sys, zipfile
out, zpb = sys.argv[1], sys.argv[2]
NS = 'http://schemas.openxmlformats.org/'
CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="%spackage/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/></Types>' % NS)
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="%spackage/2006/relationships">'
        '<Relationship Id="rId1" Type="%sofficeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>' % (NS, NS))
WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="%sspreadsheetml/2006/main" '
      'xmlns:r="%sofficeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
      '</sheets></workbook>' % (NS, NS))
WBRELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="%spackage/2006/relationships">'
          '<Relationship Id="rId1" Type="%sofficeDocument/2006/relationships/worksheet" '
          'Target="worksheets/sheet1.xml"/></Relationships>' % (NS, NS))
HEAD = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="%sspreadsheetml/2006/main">' % NS

def package(name, write_sheet, pad=0):
    with zipfile.ZipFile(os.path.join(out, name), 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('[Content_Types].xml', CT)
        z.writestr('_rels/.rels', RELS)
        z.writestr('xl/workbook.xml', WB)
        z.writestr('xl/_rels/workbook.xml.rels', WBRELS)
        with z.open('xl/worksheets/sheet1.xml', 'w', force_zip64=True) as f:
            write_sheet(f)
        for i in range(pad):
            z.writestr('pad/%d.txt' % i, '')

def blanks(total):
    def write(f):
        f.write((HEAD + '<sheetData><row r="1"><c r="A1"><v>1</v></c></row>').encode())
        chunk = b' ' * (1 << 20)
        for _ in range(total >> 20):
            f.write(chunk)
        f.write(b'</sheetData></worksheet>')
    return write

def sheet(xml):
    return lambda f: f.write((HEAD + xml + '</worksheet>').encode())

package('01-bomb.xlsx', blanks(300 << 20))
package('02-ratio.xlsx', blanks(64 << 20))
package('03-deep.xlsx', sheet('<sheetData>' + '<x>' * 10000 + '</x>' * 10000 + '</sheetData>'))
package('04-entries.xlsx', sheet('<sheetData/>'), pad=10001)
rnd = random.Random(7)
long_text = ''.join(rnd.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(2 << 20))
package('05-long-text.xlsx', sheet('<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>' + long_text +
                                   '</t></is></c></row></sheetData>'))
package('06-row-beyond.xlsx', sheet('<sheetData><row r="1048577"><c r="A1048577"><v>1</v></c></row></sheetData>'))
package('07-col-beyond.xlsx', sheet('<sheetData><row r="1"><c r="XFE1"><v>1</v></c></row></sheetData>'))
package('08-entities.xlsx', lambda f: f.write((
    '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">' +
    ''.join('<!ENTITY %s "%s">' % (chr(98 + i), ('&' + chr(97 + i) + ';') * 10) for i in range(8)) +
    ']><worksheet xmlns="%sspreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr">'
    '<is><t>&i;</t></is></c></row></sheetData></worksheet>' % NS).encode()))
package('09-huge-dim.xlsx', sheet('<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1"><v>1</v></c>'
                                  '</row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row></sheetData>'
                                  '<mergeCells count="1"><mergeCell ref="A2:XFD1048575"/></mergeCells>'))
data = open(zpb, 'rb').read()
open(os.path.join(out, '10-truncated.xlsx'), 'wb').write(data[:len(data) // 2])
# damage the deflated bytes of the worksheet part, keep the directory intact
with zipfile.ZipFile(zpb) as z:
    info = z.getinfo('xl/worksheets/sheet1.xml')
start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
bad = bytearray(data)
for i in range(start + 10, start + info.compress_size - 10, 7):
    bad[i] ^= 0x5A
open(os.path.join(out, '11-damaged.xlsx'), 'wb').write(bytes(bad))
with zipfile.ZipFile(os.path.join(out, '12-ods.xlsx'), 'w') as z:
    z.writestr('mimetype', 'application/vnd.oasis.opendocument.spreadsheet')
    z.writestr('content.xml', '<office:document-content/>')
with zipfile.ZipFile(os.path.join(out, '13-docx.xlsx'), 'w') as z:
    z.writestr('[Content_Types].xml', CT)
    z.writestr('word/document.xml', '<w:document/>')
with zipfile.ZipFile(os.path.join(out, '14-plain.xlsx'), 'w') as z:
    z.writestr('readme.txt', 'hello')
EOF

# timeout only guards against a hang; the crafted files are read in well under a second each
timeout 300 "$BIN" inspect --json "$TMP"/*.xlsx >"$TMP/out.jsonl" 2>"$TMP/err.txt"
status=$?
if [ $status -ne 2 ]; then
    echo "FAIL: exit status $status, expected 2 (some files cannot be read)"
    cat "$TMP/err.txt"
    exit 1
fi

"$PY" - "$TMP/out.jsonl" <<'EOF'
import json, sys
want = {  # file: (status, code, text the message must contain)
    '01-bomb.xlsx': ('error', 'unsupported', 'max_uncompressed'),
    '02-ratio.xlsx': ('error', 'unsupported', 'max_zip_ratio'),
    '03-deep.xlsx': ('error', 'unsupported', 'max_xml_depth'),
    '04-entries.xlsx': ('error', 'unsupported', 'max_zip_entries'),
    '05-long-text.xlsx': ('error', 'unsupported', 'max_string_bytes'),
    '06-row-beyond.xlsx': ('error', 'unsupported', 'max_rows'),
    '07-col-beyond.xlsx': ('error', 'unsupported', 'max_cols'),
    '08-entities.xlsx': ('error', 'corrupt', 'DTD'),
    '09-huge-dim.xlsx': ('ok', None, None),
    '10-truncated.xlsx': ('error', 'corrupt', 'ZIP'),
    '11-damaged.xlsx': ('error', 'corrupt', 'sheet1.xml'),
    '12-ods.xlsx': ('error', 'unsupported', 'OpenDocument'),
    '13-docx.xlsx': ('error', 'unsupported', 'Word'),
    '14-plain.xlsx': ('error', 'unsupported', 'ZIP'),
}
seen, failures = set(), 0
for line in open(sys.argv[1], encoding='utf-8'):
    rec = json.loads(line)
    name = rec['file'].rsplit('/', 1)[-1]
    seen.add(name)
    status, code, text = want[name]
    err = rec.get('error') or {}
    ok = rec['status'] == status and err.get('code') == code and (text is None or text in err.get('message', ''))
    if ok and name == '09-huge-dim.xlsx':
        sh = rec['sheets'][0]
        ok = (sh['rows'], sh['cols'], len(sh['cells'])) == (1048576, 16384, 2) and \
            [c['ref'] for c in sh['cells']] == ['A1', 'XFD1048576']
    print('%-20s %s %s %s' % (name, 'ok  ' if ok else 'FAIL', rec['status'], err.get('message', '')))
    failures += not ok
missing = set(want) - seen
if missing:
    print('FAIL: no output for', sorted(missing))
    failures += 1
sys.exit(1 if failures else 0)
EOF
