#!/usr/bin/env bash
# recalc.sh - the figures survive recalculation: every converted and merged workbook of the
# samples is opened by LibreOffice with OOXMLRecalcMode set to always (a user profile in a
# temporary folder), recalculated, saved again, and every numeric cell is found unchanged
# (tests/cli/recalc_check.py; a control workbook with a stale formula result proves that
# LibreOffice did recalculate).  usage: recalc.sh BIN
set -uo pipefail
bin=${1:?usage: recalc.sh PERFSHEET_BINARY}
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

py=
for p in "${PS_PYTHON:-}" python3 /usr/bin/python3; do
  [ -n "$p" ] && "$p" -c 'import openpyxl' 2>/dev/null && { py=$p; break; }
done
if [ -z "$py" ]; then echo "SKIP: no python3 with openpyxl"; exit 77; fi
if ! command -v soffice >/dev/null 2>&1; then
  if [ -n "${CI:-}" ]; then echo "FAIL: soffice not installed (CI installs LibreOffice)"; exit 1; fi
  echo "SKIP: soffice not installed"; exit 77
fi

mkdir -p "$tmp/in" "$tmp/out" "$tmp/profile/user"
"$bin" convert -q -o "$tmp/conv" samples 2>/dev/null
cp "$tmp/conv"/*.xlsx "$tmp/in/"
"$bin" merge -q -o "$tmp/in/merged-all.xlsx" samples 2>/dev/null
"$bin" merge -q -o "$tmp/in/merged-synthetic.xlsx" samples/synthetic 2>/dev/null
"$py" tests/cli/recalc_check.py control "$tmp/in/control.xlsx" || exit 1
# Calc > Formula > Recalculation on file load, Excel 2007 and newer: always (0)
cat > "$tmp/profile/user/registrymodifications.xcu" <<'XCU'
<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
XCU
timeout 600 soffice --headless "-env:UserInstallation=file://$tmp/profile" --convert-to xlsx \
  --outdir "$tmp/out" "$tmp/in"/*.xlsx >"$tmp/soffice.log" 2>&1 || { cat "$tmp/soffice.log"; echo "FAIL: soffice"; exit 1; }
"$py" tests/cli/recalc_check.py compare "$tmp/in" "$tmp/out" || exit 1
echo "ok: recalculation changes nothing"
