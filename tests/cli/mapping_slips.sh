#!/usr/bin/env bash
# mapping_slips.sh - a mapping with a slip in it (tests/data/mapping/slips/*: a misspelled field,
# table column, each: group, placeholder or format, a {x} that is no for: variable, an unknown
# layout field or column, a malformed layout entry, layout formulas:, a bad regex) is refused
# when it is loaded, by every command, before any input is read: exit 2, file:line:column of the
# slip on stderr with the source line and a caret under it. slips/ok, the same mapping without
# the slip, loads. And a built-in mapping with a misspelled field - which used to make its rule
# skip and lose the defect - now stops the run.  usage: mapping_slips.sh BIN
set -uo pipefail
bin=${1:?usage: mapping_slips.sh PERFSHEET_BINARY}
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

input=samples/synthetic/u04-shiwan/zpb.xls
[ -f "$input" ] || { echo "FAIL: $input missing"; exit 1; }

# slip directory -> the line:column of the slip and a word of the message
declare -A where=(
  [field]='20:12:funds.scor' [column]='24:16:weigth' [group]='23:25:levl1'
  [placeholder]='21:35:expectd' [format]='21:45:nmu' [for-string]='28:45:{code}'
  [for-name]='20:12:{x}' [layout-field]='32:29:funds.weigt' [layout-column]='34:29:wieght'
  [layout-entry]='33:7:fields、grid、table' [layout-formulas]='31:3:computed: true'
  [regex]='20:39:正则表达式' [type]='9:44:分数'
)
# the caret line under the culprit: `^` at its column, `~` under the rest of it, in display
# columns (a CJK character is two)
declare -A caret=(
  [field]="$(printf '%11s' '')^~~~~~~~~~"          # funds.scor
  [layout-field]="$(printf '%28s' '')^~~~~~~~~~~"  # funds.weigt (11 characters)
  [format]="$(printf '%50s' '')^~~"                # nmu, right of 得分 and 超过分值 (12 columns)
  [regex]="$(printf '%38s' '')^~~~~~~"             # the string "^[0-9"
  [type]="$(printf '%47s' '')^~~~"                 # 分数, right of 资金分值
)
# the suggestions a close name gets
declare -A hint=(
  [field]='funds.score' [column]='weight' [group]='level1' [placeholder]='expected' [format]='num'
  [layout-field]='funds.weight' [layout-column]='weight'
)

for slip in "${!where[@]}"; do
  dir=tests/data/mapping/slips/$slip
  [ -f "$dir/slip.yaml" ] || { fail "$dir/slip.yaml missing"; continue; }
  IFS=: read -r line col word <<< "${where[$slip]}"
  for cmd in check convert extract merge detect; do
    case $cmd in
      convert) args=(-o "$tmp/out-$slip") ;;
      merge) args=(-o "$tmp/m-$slip.xlsx") ;;
      *) args=() ;;
    esac
    # a missing input after the real one: the run must stop at the mapping, never reach it
    "$bin" "$cmd" -m "$dir" "${args[@]}" "$input" "$tmp/never-read.xls" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    [ "$rc" = 2 ] || fail "$cmd -m slips/$slip: exit $rc, want 2"
    head -1 "$tmp/err" | grep -qF "$dir/slip.yaml:$line:$col: " ||
      fail "$cmd -m slips/$slip: want $dir/slip.yaml:$line:$col, got: $(head -1 "$tmp/err")"
    head -1 "$tmp/err" | grep -qF -- "$word" || fail "$cmd -m slips/$slip: message lacks '$word'"
    # the source line, then a caret under the column
    sed -n 3p "$tmp/err" | grep -qE '^[ 	]*\^~*$' || fail "$cmd -m slips/$slip: no caret line"
    if [ -n "${caret[$slip]:-}" ] && [ "$(sed -n 3p "$tmp/err")" != "${caret[$slip]}" ]; then
      fail "$cmd -m slips/$slip: caret line '$(sed -n 3p "$tmp/err")', want '${caret[$slip]}'"
    fi
    grep -q "never-read" "$tmp/err" "$tmp/out" && fail "$cmd -m slips/$slip: an input was read"
    [ -e "$tmp/out-$slip" ] || [ -e "$tmp/m-$slip.xlsx" ] && fail "$cmd -m slips/$slip: wrote output"
    if [ -n "${hint[$slip]:-}" ]; then
      head -1 "$tmp/err" | grep -qF "您是不是要写 “${hint[$slip]}”" ||
        fail "$cmd -m slips/$slip: no suggestion ${hint[$slip]}"
    fi
  done
done

# the same mapping without the slip loads and runs
"$bin" check -m tests/data/mapping/slips/ok "$input" > /dev/null 2> "$tmp/err"; rc=$?
[ "$rc" = 1 ] || fail "check -m slips/ok: exit $rc, want 1 ($(head -1 "$tmp/err"))"

# the built-in zpb.rate finds 执行率 100% for 1352.90 / 1384.77 …
"$bin" check --json "$input" > "$tmp/builtin.json" 2> /dev/null
grep -q '"rule":"zpb.rate"' "$tmp/builtin.json" || fail "built-in zpb.rate finding missing"
# … a copy with 全年执行数 misspelled used to read it as blank, skip the rule and lose the defect
mkdir -p "$tmp/lost"
sed 's|check: funds.rate = funds.executed / funds.budget_full|check: funds.rate = funds.executd / funds.budget_full|' \
  mappings/zpb.yaml > "$tmp/lost/zpb.yaml"
cmp -s mappings/zpb.yaml "$tmp/lost/zpb.yaml" && fail "the zpb.rate check line was not found to misspell"
line=$(grep -n 'funds.executd' "$tmp/lost/zpb.yaml" | cut -d: -f1)
for cmd in check convert; do
  args=(); [ "$cmd" = convert ] && args=(-o "$tmp/lost-out")
  "$bin" "$cmd" -m "$tmp/lost" "${args[@]}" "$input" > "$tmp/out" 2> "$tmp/err"; rc=$?
  [ "$rc" = 2 ] || fail "$cmd with the misspelled zpb.rate: exit $rc, want 2"
  head -1 "$tmp/err" | grep -qF "$tmp/lost/zpb.yaml:$line:25: 规则 zpb.rate：未知的字段 “funds.executd”" ||
    fail "$cmd with the misspelled zpb.rate: $(head -1 "$tmp/err")"
  head -1 "$tmp/err" | grep -qF "您是不是要写 “funds.executed”" || fail "no suggestion for funds.executd"
done

# a cross-table name is resolved against the other template's fields once all are loaded
for slip in field template; do
  dir=tests/data/mapping/slips-cross/$slip
  "$bin" check -m "$dir" "$input" > /dev/null 2> "$tmp/err"; rc=$?
  [ "$rc" = 2 ] || fail "check -m slips-cross/$slip: exit $rc, want 2"
  head -1 "$tmp/err" | grep -qE "^$dir/cross.yaml:5:(12|39): " || fail "slips-cross/$slip: $(head -1 "$tmp/err")"
done

[ "$fails" = 0 ] && echo "ok: ${#where[@]} slips refused by check, convert, extract, merge and detect"
exit $((fails > 0))
