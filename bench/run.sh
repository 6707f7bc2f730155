#!/usr/bin/env bash
# perfsheet's benchmarks beside the yardsticks of ../shared/bench, same files, same session.
#   bench/run.sh [BUILD_DIR] [what...]   what: read extract check convert merge batch report sqlite juesuan
#   (default: all but sqlite and juesuan; sqlite: merge to .xlsx vs .sqlite on UNITS distinct units,
#   default 5,000; juesuan: check of 1,000 copies of the nine-sheet 决算 against the read floor)
# Each figure is the median wall time of RUNS (default 3) runs (whole process) and the peak RSS, one core
# unless said. Files: copies of the synthetic units under bench/work/ (made once).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}; shift || true
what=${*:-read extract check convert merge batch report}
shared=${PS_SHARED:-../shared}
work=bench/work
mkdir -p "$work"

# ---- inputs: N copies of the 24 synthetic .xls files ----
make_copies() { # n dir
  local n=$1 dir=$2
  [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$n" ] && return
  rm -rf "$dir"; mkdir -p "$dir"
  mapfile -t src < <(ls samples/synthetic/*/*.xls | sort)
  for ((i = 0; i < n; i++)); do
    f=${src[$((i % ${#src[@]}))]}
    u=$(basename "$(dirname "$f")")
    cp "$f" "$dir/$(printf '%05d' "$i")-$u-$(basename "$f")"
  done
  echo "$n" > "$dir/.complete"
}
make_copies 1000 "$work/files1000"

limit=$work/limit
[ -x "$limit" ] || cc -O2 "$shared/bench/limit.c" -o "$limit" -lfreexl -lxlsxwriter
bin=$build/perfsheet

# 5,000 distinct units (renamed copies), each a jcsj and a zpb: 10,000 files
make_units() {
  if [ ! -f "$work/units5000/.complete" ]; then
    rm -rf "$work/units5000"; /usr/bin/python3 bench/make_units.py samples/synthetic "$work/units5000" 5000
    touch "$work/units5000/.complete"
  fi
}

# N distinct units (renamed copies), each a jcsj and a zpb: 2N files in $work/unitsN
make_units_n() {
  if [ ! -f "$work/units$1/.complete" ]; then
    rm -rf "$work/units$1"; /usr/bin/python3 bench/make_units.py samples/synthetic "$work/units$1" "$1"
    touch "$work/units$1/.complete"
  fi
}

# measure LABEL CMD...: median wall of RUNS runs (default 3; 5 steadies the -j comparisons on a
# shared machine), max RSS
measure() {
  local label=$1; shift
  local walls=() rss=0
  for ((run = 0; run < ${RUNS:-3}; run++)); do
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -o "$work/.time" -f '%M' "$@" >/dev/null 2>/dev/null
    t1=$(date +%s%N)
    walls+=("$(( (t1 - t0) / 1000 ))") # microseconds: /usr/bin/time's %e has 10 ms steps
    local r
    r=$(tail -1 "$work/.time")
    [ "$r" -gt "$rss" ] && rss=$r
  done
  local med
  med=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (${#walls[@]} + 1) / 2 ))p")
  printf '%-50s %8.3f s  %7.1f MB\n' "$label" "$(echo "$med / 1000000" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
}

files=("$work"/files1000/*.xls)
echo "== $(nproc) cores; ${#files[@]} files, $(du -sh "$work/files1000" | cut -f1)"
for w in $what; do
  case $w in
  read)
    measure "limit - (freexl read floor)" "$limit" - "${files[@]}"
    [ -x "$build/bench_read" ] && measure "bench_read (perfsheet reader, 1 core)" "$build/bench_read" "${files[@]}"
    measure "perfsheet inspect --json -j1" "$bin" inspect --json -j1 -q "${files[@]}"
    ;;
  extract)
    measure "perfsheet extract --json -j1" "$bin" extract --json -j1 -q "${files[@]}" ;;
  check)
    measure "limit - (freexl read floor)" "$limit" - "${files[@]}"
    measure "perfsheet check --json -j1" "$bin" check --json -j1 -q "${files[@]}"
    measure "peer_python.py - (check only)" /usr/bin/python3 "$shared/bench/peer_python.py" - "${files[@]}"
    ;;
  convert)
    rm -rf "$work/out-limit" "$work/out-ps" "$work/out-py"; mkdir -p "$work/out-limit" "$work/out-ps" "$work/out-py"
    measure "limit OUTDIR (read + write floor)" "$limit" "$work/out-limit" "${files[@]}"
    measure "perfsheet convert -j1" "$bin" convert -j1 -q -o "$work/out-ps" "${files[@]}"
    measure "peer_python.py OUTDIR" /usr/bin/python3 "$shared/bench/peer_python.py" "$work/out-py" "${files[@]}"
    ;;
  merge)
    [ -x "$build/bench_merge" ] && measure "bench_merge (10,000 documents, writing only)" "$build/bench_merge" 10000 "$work/merge.xlsx"
    make_units
    measure "perfsheet merge 10,000 files (5,000 units) -j1" "$bin" merge -j1 -q -o "$work/merged.xlsx" "$work/units5000"
    measure "perfsheet merge 10,000 files (5,000 units) -j2" "$bin" merge -j2 -q -o "$work/merged.xlsx" "$work/units5000"
    ;;
  batch)
    # distinct units, as a province receives them (copies of one unit would all pair up)
    make_units
    mapfile -t units < <(ls -d "$work"/units5000/*.xls | sort)
    measure "perfsheet check 1,000 files (500 units) -j1" "$bin" check --json -j1 -q "${units[@]:0:1000}"
    measure "perfsheet check 5,000 files (2,500 units) -j1" "$bin" check --json -j1 -q "${units[@]:0:5000}"
    measure "perfsheet check 5,000 files (2,500 units) -j2" "$bin" check --json -j2 -q "${units[@]:0:5000}"
    measure "perfsheet check 10,000 files (5,000 units) -j1" "$bin" check --json -j1 -q "$work/units5000"
    ;;
  sqlite)
    # issue 15: the database is written in no more time than the workbook
    n=${UNITS:-5000}
    make_units_n "$n"
    for j in 1 2; do
      measure "perfsheet merge $n units -o .xlsx -j$j" "$bin" merge -j$j -q -o "$work/merged.xlsx" "$work/units$n"
      measure "perfsheet merge $n units -o .sqlite -j$j" "$bin" merge -j$j -q -o "$work/merged.sqlite" "$work/units$n"
    done
    printf '%-50s %s\n' "sizes: .xlsx, .sqlite" "$(du -h "$work/merged.xlsx" | cut -f1), $(du -h "$work/merged.sqlite" | cut -f1)"
      ;;
  juesuan)
    # issue 13: check of 1,000 copies of the Anhua 决算 (nine sheets, one document, 1,000+ rules
    # run) within 3x the read floor of the same files
    jfiles=$work/juesuan1000
    if [ ! -f "$jfiles/.complete" ]; then
      rm -rf "$jfiles"; mkdir -p "$jfiles"
      for ((i = 0; i < 1000; i++)); do cp samples/juesuan/anhua-2021-juesuan.xls "$jfiles/$(printf '%04d' "$i")-2021-juesuan.xls"; done
      touch "$jfiles/.complete"
    fi
    jf=("$jfiles"/*.xls)
    echo "== ${#jf[@]} copies of samples/juesuan/anhua-2021-juesuan.xls, $(du -sh "$jfiles" | cut -f1)"
    measure "limit - (freexl read floor)" "$limit" - "${jf[@]}"
    measure "perfsheet check --json -j1" "$bin" check --json -j1 -q "${jf[@]}"
    measure "perfsheet check --json -j2" "$bin" check --json -j2 -q "${jf[@]}"
    ;;
  report)
    # the HTML report of 3,000 units (6,000 files): generation, size, and Chromium's time to show it
    make_units
    mapfile -t units < <(ls -d "$work"/units5000/*.xls | sort)
    measure "perfsheet report 6,000 files (3,000 units) -j1" "$bin" report -j1 -q -o "$work/report.html" "${units[@]:0:6000}"
    measure "perfsheet report 6,000 files (3,000 units) -j2" "$bin" report -j2 -q -o "$work/report.html" "${units[@]:0:6000}"
    bench/report_render.sh "$work/report.html"
    ;;
  esac
done
