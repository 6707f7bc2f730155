#!/bin/bash
# fuzz-run.sh - runs each libFuzzer target for a while and prints what it did: executions,
# coverage (cov: edges, ft: features), corpus size, crashes and slow inputs.
# Usage: bench/fuzz-run.sh [BUILD_DIR] [MINUTES] [TARGET ...]
#   BUILD_DIR  a build configured with CC=clang -DPS_FUZZ=ON (default build-fuzz)
#   MINUTES    per target (default 20); targets run one after another, niced, one core each
#   TARGET     fuzz_xls fuzz_xlsx fuzz_mapping fuzz_rules (default: all four)
# The working corpus grows in BUILD_DIR/fuzz-corpus/TARGET (seeded from tests/fuzz/corpus/TARGET,
# which is never written); crashes, leaks, timeouts and slow inputs land in
# BUILD_DIR/fuzz-artifacts/TARGET/. Minimize one with: TARGET -minimize_crash=1 -runs=10000 FILE,
# then copy it to tests/fuzz/regression/TARGET/. Run from the repository root.
set -u
BUILD=${1:-build-fuzz}
MINUTES=${2:-20}
shift $(( $# < 2 ? $# : 2 ))
TARGETS=${*:-fuzz_xls fuzz_xlsx fuzz_mapping fuzz_rules}
SRC=tests/fuzz

declare -A DICT=([fuzz_xls]=xls.dict [fuzz_xlsx]=xlsx.dict [fuzz_mapping]=mapping.dict [fuzz_rules]=rules.dict)
declare -A MAXLEN=([fuzz_xls]=200000 [fuzz_xlsx]=200000 [fuzz_mapping]=65536 [fuzz_rules]=16384)

printf '%-13s %6s %12s %9s %7s %7s %8s %s\n' target min execs exec/s cov ft corpus result
for t in $TARGETS; do
    bin=$BUILD/tests/fuzz/$t
    [ -x "$bin" ] || { echo "$t: $bin not built (configure with CC=clang -DPS_FUZZ=ON)"; continue; }
    work=$BUILD/fuzz-corpus/$t
    art=$BUILD/fuzz-artifacts/$t
    mkdir -p "$work" "$art"
    log=$BUILD/fuzz-$t.log
    # -timeout: a hang; -report_slow_units=1: any input slower than a second is reported and kept
    # (a run paused with SIGSTOP reports the input it was on: replay such reports before trusting
    # them). Leaks are not checked while fuzzing, for speed; the leak pass below replays the
    # whole grown corpus with LeakSanitizer instead.
    ASAN_OPTIONS=detect_leaks=0 nice -n 10 "$bin" "$work" "$SRC/corpus/$t" "$SRC/regression/$t" \
        -dict="$SRC/${DICT[$t]}" -max_len="${MAXLEN[$t]}" -rss_limit_mb=2048 -timeout=10 \
        -report_slow_units=1 -max_total_time=$((MINUTES * 60)) -print_final_stats=1 \
        -detect_leaks=0 -artifact_prefix="$art/" -close_fd_mask=3 >"$log" 2>&1
    rc=$?
    ASAN_OPTIONS=detect_leaks=1 nice -n 10 "$bin" -runs=0 -detect_leaks=1 -rss_limit_mb=2048 -timeout=10 -close_fd_mask=3 \
        -artifact_prefix="$art/" "$work" >"$log.leaks" 2>&1
    leak_rc=$?
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ $rc -eq 0 ]; then result=ok; else result="FAILED (rc $rc; see $log)"; fi
    [ $leak_rc -eq 0 ] || result="$result, LEAK PASS FAILED (see $log.leaks)"
    slow=$(grep -c 'Slowest unit' "$log")
    leak_runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log.leaks" | tail -1)
    result="$result, leak pass over ${leak_runs:-?} inputs"
    [ "$slow" -gt 0 ] && result="$result, $slow slow-unit reports"
    printf '%-13s %6s %12s %9s %7s %7s %8s %s\n' "$t" "$MINUTES" "${execs:-?}" "${rate:-?}" \
        "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
