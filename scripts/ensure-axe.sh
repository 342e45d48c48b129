#!/usr/bin/env bash
# Installs axe-core (the accessibility checker the browser tests run in each page) from the npm
# registry into .cache/axe, once; the tests read .cache/axe/node_modules/axe-core/axe.min.js.
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.14.1
target=.cache/axe/node_modules/axe-core/axe.min.js
if [ -f "$target" ] && grep -q "axe v$version" "$target"; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm is missing: install Node.js (Debian's nodejs and npm)" >&2; exit 1; }
mkdir -p .cache/axe
npm install --silent --no-audit --no-fund --prefix .cache/axe "axe-core@$version" >/dev/null
