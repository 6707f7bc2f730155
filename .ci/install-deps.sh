#!/usr/bin/env bash
# Installs the Debian packages perfsheet needs, only those missing.
#   runtime: build and run;  test: plus cmocka, freexl (an oracle) and libgsf (writes crafted
#   OLE2 files) for the unit tests, python3-openpyxl/xlrd and LibreOffice for read-back tests,
#   Chromium (and a Chinese font) to render the HTML report.
set -euo pipefail
want=(cmake make gcc pkg-config libxlsxwriter-dev libfyaml-dev libxml2-dev libpcre2-dev zlib1g-dev libsqlite3-dev)
if [ "${1:-runtime}" = test ]; then
  want+=(libcmocka-dev libfreexl-dev libgsf-1-dev libglib2.0-dev python3 python3-openpyxl python3-xlrd
         libreoffice-calc-nogui
         chromium fonts-wqy-microhei) # the HTML report rendered headless (and legible in screenshots)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
