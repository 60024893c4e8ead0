#!/usr/bin/env bash
# bertviz loads d3, jQuery and RequireJS from a CDN; dnalens serves them locally instead. They are installed from
# the npm registry into assets/js/node_modules (gitignored), pinned in assets/js/package.json.
set -euo pipefail
cd "$(dirname "$0")/../assets/js"
if [ -f node_modules/d3/dist/d3.min.js ] && [ -f node_modules/jquery/dist/jquery.min.js ] \
   && [ -f node_modules/requirejs/require.js ]; then exit 0; fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: the bertviz head view will say so and the native head view still works" >&2
  exit 0
fi
npm install --no-audit --no-fund --silent
