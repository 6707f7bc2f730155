#!/usr/bin/env bash
# How long headless Chromium takes to show a perfsheet report: its size, the time until the
# page's script has run (the whole document parsed; the page records it as data-ready-ms),
# the time a filter takes (#sev=error: data-filter-ms), and the wall time of a screenshot
# against that of about:blank (Chromium's own start).  usage: report_render.sh REPORT.html
set -uo pipefail
report=$(realpath "${1:?usage: report_render.sh REPORT.html}")
chromium=$(command -v chromium || true)
[ -n "$chromium" ] || { echo "report_render: chromium is not installed"; exit 0; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
run() { # URL, then chromium's output options
  local url=$1; shift
  rm -rf "$tmp/profile"
  timeout 300 "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$tmp/profile" "$@" "$url" 2>/dev/null
}
wall() { local t0 t1; t0=$(date +%s%N); run "$@" > /dev/null; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
printf '%-50s %8.1f MB (%.1f MB gzipped)\n' "report size" "$(echo "$(stat -c %s "$report") / 1048576" | bc -l)" \
  "$(echo "$(gzip -c "$report" | wc -c) / 1048576" | bc -l)"
ready=$(run "file://$report" --dump-dom | grep -o 'data-ready-ms="[0-9]*"' | grep -o '[0-9]*')
printf '%-50s %8s ms\n' "chromium: document parsed, script run" "${ready:-?}"
filter=$(run "file://$report#sev=error" --dump-dom | grep -o 'data-filter-ms="[0-9]*"' | grep -o '[0-9]*')
printf '%-50s %8s ms\n' "chromium: filter #sev=error applied" "${filter:-?}"
blank=$(wall about:blank --screenshot="$tmp/blank.png" --window-size=1400,1000)
shot=$(wall "file://$report" --screenshot="$tmp/report.png" --window-size=1400,1000)
printf '%-50s %8s ms (about:blank: %s ms)\n' "chromium: screenshot, wall" "$shot" "$blank"
