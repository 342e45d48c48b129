#!/usr/bin/env bash
# Usage: ensure-debian.sh PROGRAM PACKAGE
# Installs Debian's PACKAGE when PROGRAM is missing: chromium for the browser tests (Playwright's
# own browser download does not work here; the tests drive /usr/bin/chromium), wrk for make bench.
set -euo pipefail
program=$1 package=$2
if [ -x "$program" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  echo "$program is missing: install Debian's '$package' package (apt-get install $package)" >&2
  exit 1
fi
SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$package" >/dev/null
