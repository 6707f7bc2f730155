#!/usr/bin/env bash
# `make run`: perfsheet's main job on the bundled samples.
set -uo pipefail
bin=${1:-build/perfsheet}
mkdir -p out
echo "== perfsheet inspect samples/hengyang-county-2021/zpb.xls"
"$bin" inspect samples/hengyang-county-2021/zpb.xls --grid
