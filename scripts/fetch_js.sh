#!/usr/bin/env bash
# bertviz loads d3, jQuery and RequireJS from a CDN, and igv.js would load its genomes from the web; dnalens serves
# them locally instead; the Attention page's charts use plotly.js's cartesian bundle (smaller than the full one). They are installed from the npm registry into assets/js/node_modules (gitignored), pinned in
# assets/js/package.json; igv.min.js is copied to dashboard/static/ (gitignored), which Streamlit serves.
set -euo pipefail
cd "$(dirname "$0")/../assets/js"
STATIC=../../dashboard/static
if ! { [ -f node_modules/d3/dist/d3.min.js ] && [ -f node_modules/jquery/dist/jquery.min.js ] \
   && [ -f node_modules/requirejs/require.js ] && [ -f node_modules/igv/dist/igv.min.js ] \
   && [ -f node_modules/plotly.js-cartesian-dist-min/plotly-cartesian.min.js ]; }; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: the bertviz head view and the genome view will say so; the rest of the app works" >&2
    exit 0
  fi
  npm install --no-audit --no-fund --silent
fi
mkdir -p "$STATIC"
cp node_modules/igv/dist/igv.min.js "$STATIC/igv.min.js"
cp node_modules/igv/LICENSE "$STATIC/igv.LICENSE" 2>/dev/null || true
