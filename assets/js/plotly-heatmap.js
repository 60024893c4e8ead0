// plotly.js with only the trace types the Attention page's charts draw: scatter (part of plotly.js's core) and
// heatmap. scripts/fetch_js.sh bundles it with esbuild into dist/plotly-heatmap.min.js, with the settings plotly.js
// builds its own bundles with (its esbuild-config.js): 1.1 MB against the cartesian bundle's 1.5 MB, and a browser
// evaluates it in ~0.4 s instead of ~1.0 s (dashboard/chart.py serves it).
'use strict';

var Plotly = require('plotly.js/lib/core');

Plotly.register([require('plotly.js/lib/heatmap')]);

module.exports = Plotly;
