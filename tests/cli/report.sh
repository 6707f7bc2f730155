#!/usr/bin/env bash
# report.sh - `perfsheet report` on the samples, rendered by headless Chromium (--dump-dom) and
# checked on the rendered DOM (tests/cli/report_dom.py): every finding of `check --json` with its
# message, its cell highlighted in its grid, every unreadable file with its error; the filters
# applied from the URL hash; cell text, unit names and file names that hold markup shown as text
# and never run; the output written atomically, and nothing left when interrupted.
# usage: report.sh BIN
set -uo pipefail
bin=${1:?usage: report.sh PERFSHEET_BINARY}
cd "$(dirname "$0")/../.."
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then echo "SKIP: chromium is not installed (.ci/install-deps.sh test)"; exit 77; fi
py=
for p in "${PS_PYTHON:-}" python3 /usr/bin/python3; do
  [ -n "$p" ] && "$p" -c 'import openpyxl' 2>/dev/null && { py=$p; break; }
done
if [ -z "$py" ]; then echo "SKIP: no python3 with openpyxl"; exit 77; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# dom URL OUT: the DOM after the page's script ran
dom() {
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$tmp/profile" \
    --virtual-time-budget=5000 --dump-dom "$1" > "$2" 2> "$tmp/chromium.log" ||
    { fail "chromium could not render $1"; tail -5 "$tmp/chromium.log"; }
}

# ---- the samples: every finding and every unreadable file, rendered ----
mkdir -p "$tmp/out"
"$bin" report -q -o "$tmp/out/report.html" samples/ 2> "$tmp/stderr"; rc=$?
[ "$rc" = 2 ] || fail "report exit status $rc, want 2 (samples/bad holds unreadable files)"
[ -s "$tmp/out/report.html" ] || { fail "no report written"; exit 1; }
[ "$(ls -A "$tmp/out")" = report.html ] || fail "left behind in the output folder: $(ls -A "$tmp/out")"
grep -qE '(src|href)="(https?:)?//' "$tmp/out/report.html" && fail "the report refers to the network"
"$bin" check --json -q samples/ > "$tmp/check.jsonl"
dom "file://$tmp/out/report.html" "$tmp/dom.html"
"$py" tests/cli/report_dom.py findings "$tmp/check.jsonl" "$tmp/dom.html" || fail "findings in the rendered report"

# ---- filters from the URL hash, applied by the page's script on load ----
dom "file://$tmp/out/report.html#sev=error" "$tmp/dom-error.html"
"$py" tests/cli/report_dom.py filter "$tmp/dom-error.html" error || fail "filter #sev=error"
dom "file://$tmp/out/report.html#rule=zpb.year" "$tmp/dom-rule.html"
"$py" tests/cli/report_dom.py filter "$tmp/dom-rule.html" error,warning,info zpb.year || fail "filter #rule=zpb.year"
dom "file://$tmp/out/report.html#sev=warning,info&rule=clean.percent_text" "$tmp/dom-both.html"
"$py" tests/cli/report_dom.py filter "$tmp/dom-both.html" warning,info clean.percent_text ||
  fail "filter #sev=warning,info&rule=clean.percent_text"

# ---- untrusted text: a cell, the unit name and the file name holding markup ----
mkdir -p "$tmp/in"
evil_file="$tmp/in/<i>x&y'\".xlsx"
"$py" - "$evil_file" <<'EOF' || fail "could not write the crafted workbook"
import sys, openpyxl
wb = openpyxl.load_workbook('samples/hengyang-county-2021/jcsj.xlsx')
ws = wb.worksheets[0]
ws['A1'] = "<script>document.body.setAttribute('data-pwned','1')</script>"
ws['A3'] = '填报单位：<img src=x onerror="document.body.setAttribute(\'data-pwned\',\'2\')">衡阳</main>'
wb.save(sys.argv[1])
EOF
"$bin" report -q -o "$tmp/evil.html" "$evil_file"; rc=$?
[ "$rc" = 1 ] || fail "report of the crafted file: exit status $rc, want 1 (its error findings)"
dom "file://$tmp/evil.html" "$tmp/dom-evil.html"
"$py" tests/cli/report_dom.py inject "$tmp/dom-evil.html" \
  "<script>document.body.setAttribute('data-pwned','1')</script>" \
  '<img src=x onerror="document.body.setAttribute('"'"'data-pwned'"'"','"'"'2'"'"')">衡阳</main>' \
  "<i>x&y'\".xlsx" || fail "markup in the input shown as text"

# ---- an unwritable output: a clear error, nothing left behind ----
"$bin" report -q -o "$tmp/no/such/dir/r.html" samples/synthetic/u01-qingxi 2> "$tmp/err"; rc=$?
[ "$rc" = 2 ] || fail "unwritable output: exit status $rc, want 2"
grep -q "r.html" "$tmp/err" || fail "unwritable output: the error does not name the file: $(cat "$tmp/err")"

# ---- interrupted: exit 130, nothing left behind, and said ----
mkdir -p "$tmp/many" "$tmp/int"
for i in $(seq -w 1 2000); do cp samples/synthetic/u04-shiwan/jcsj.xls "$tmp/many/$i.xls"; done
"$bin" report -q -j 1 -o "$tmp/int/r.html" "$tmp/many" 2> "$tmp/int.err" &
pid=$!
# a background job starts with SIGINT ignored: wait until perfsheet catches it
for _ in $(seq 1 200); do
  cgt=$(awk '/^SigCgt/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
  [ $(( 0x${cgt:-0} & 2 )) != 0 ] && break
  sleep 0.01
done
sleep 0.1
if kill -INT $pid 2>/dev/null; then
  wait $pid; rc=$?
  [ "$rc" = 130 ] || fail "interrupted report: exit status $rc, want 130"
  [ -z "$(ls -A "$tmp/int")" ] || fail "interrupted report left $(ls -A "$tmp/int")"
  grep -q '已中断' "$tmp/int.err" || fail "interrupted report: not said: $(tail -2 "$tmp/int.err")"
else
  wait $pid; fail "the report of 2,000 files finished before it could be interrupted"
fi

[ "$fails" = 0 ] && echo "report: all good" && exit 0
echo "report: $fails failure(s)"
exit 1
