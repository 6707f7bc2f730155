#!/usr/bin/env bash
# Installs the Debian packages perfsheet needs, only those missing.
#   runtime: build and run;  test: plus cmocka, python3-openpyxl/xlrd and LibreOffice for read-back tests.
set -euo pipefail
want=(cmake make gcc pkg-config libfreexl-dev libxlsxwriter-dev libfyaml-dev libgsf-1-dev libxml2-dev libglib2.0-dev libpcre2-dev)
if [ "${1:-runtime}" = test ]; then
  want+=(libcmocka-dev python3 python3-openpyxl python3-xlrd libreoffice-calc-nogui)
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
