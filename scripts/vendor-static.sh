#!/usr/bin/env bash
# Refreshes the vendored htmx and Swagger UI from the npm registry (package htmx.org); the app serves it from
# search_app/static, never from a CDN. Usage: scripts/vendor-static.sh [htmx version]
set -euo pipefail
version="${1:-2.0.11}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "htmx.org@${version}" --silent >/dev/null && tar xzf htmx.org-*.tgz)
cp "$tmp/package/dist/htmx.min.js" "$(dirname "$0")/../search_app/static/htmx.min.js"
echo "htmx ${version} -> search_app/static/htmx.min.js"

# Swagger UI for /docs, also from npm (swagger-ui-dist), also served from our static files.
(cd "$tmp" && npm pack "swagger-ui-dist@5" --silent >/dev/null && mkdir sw && tar xzf swagger-ui-dist-*.tgz -C sw)
cp "$tmp/sw/package/swagger-ui-bundle.js" "$tmp/sw/package/swagger-ui.css" \
   "$tmp/sw/package/swagger-ui-bundle.js.LICENSE.txt" "$(dirname "$0")/../search_app/static/swagger/"
echo "swagger-ui-dist 5 -> search_app/static/swagger/"
