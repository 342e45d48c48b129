#!/usr/bin/env bash
# Usage: ensure-debian.sh PATH PACKAGE [PATH PACKAGE ...]
# Installs each Debian PACKAGE whose PATH (a program, or a file the package installs; a glob
# pattern may stand for a version) is missing: chromium for the browser tests (Playwright's own
# browser download does not work here; the tests drive /usr/bin/chromium), WeasyPrint's Pango for
# PDF exports, poppler-utils to read them back, postgresql for the shared-store tests (they start
# throwaway clusters with its initdb), wrk for make bench. One apt-get update, and only when
# something is missing.
set -euo pipefail
missing=()
while [ $# -ge 2 ]; do
  compgen -G "$1" >/dev/null || missing+=("$2")
  shift 2
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  echo "missing Debian packages: ${missing[*]} (apt-get install ${missing[*]})" >&2
  exit 1
fi
SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
