#!/usr/bin/env bash
# bertviz loads d3, jQuery and RequireJS from a CDN, and igv.js would load its genomes from the web; dnalens serves
# them locally instead. They are installed from the npm registry into assets/js/node_modules (gitignored), pinned in
# assets/js/package.json; igv.min.js is copied to dashboard/static/ (gitignored), which Streamlit serves. The
# Attention page's charts use plotly.js bundled here from its sources with only the traces they draw
# (assets/js/plotly-heatmap.js -> assets/js/dist/plotly-heatmap.min.js, gitignored; dashboard/chart.py serves it).
set -euo pipefail
cd "$(dirname "$0")/../assets/js"
STATIC=../../dashboard/static
if ! { [ -f node_modules/d3/dist/d3.min.js ] && [ -f node_modules/jquery/dist/jquery.min.js ] \
   && [ -f node_modules/requirejs/require.js ] && [ -f node_modules/igv/dist/igv.min.js ] \
   && [ -f node_modules/plotly.js/lib/core.js ] && [ -x node_modules/.bin/esbuild ]; }; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: the bertviz head view and the genome view will say so; the rest of the app works" >&2
    exit 0
  fi
  npm install --no-audit --no-fund --silent
fi
mkdir -p "$STATIC"
cp node_modules/igv/dist/igv.min.js "$STATIC/igv.min.js"
cp node_modules/igv/LICENSE "$STATIC/igv.LICENSE" 2>/dev/null || true
# plotly.js with scatter and heatmap only, built as plotly.js builds its bundles (its esbuild-config.js; the one CSS
# file it imports is maplibre's, for map traces: left out); rebuilt
# when the entry or the installed plotly.js is newer than the bundle
if [ ! -s dist/plotly-heatmap.min.js ] || [ plotly-heatmap.js -nt dist/plotly-heatmap.min.js ] \
   || [ node_modules/plotly.js/package.json -nt dist/plotly-heatmap.min.js ]; then
  mkdir -p dist
  node_modules/.bin/esbuild plotly-heatmap.js --bundle --minify --format=iife --global-name=Plotly \
    --define:global=window --define:define.amd=false --target=es2016 --loader:.css=empty --log-level=warning \
    --outfile=dist/plotly-heatmap.tmp.js
  mv dist/plotly-heatmap.tmp.js dist/plotly-heatmap.min.js
fi
