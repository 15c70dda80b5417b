// The first module the page runs (app.js imports it before any other): the page's boot data
// and the remembered settings into the shared state, before any view reads them.
import { storage } from './dom.js';
import { initState, ui, store, metrics } from './state.js';
import { loadVisibility } from './columns.js';

initState(JSON.parse(document.getElementById('boot').textContent), storage);
ui.visible = loadVisibility(storage);

// Main-thread costs, for `make bench` and for anyone asking why a browser tab is busy.
window.dashboardMetrics = () => ({
  ...metrics,
  rows: store.rows.size,
  timeToFirstRenderMs: metrics.firstRenderAt ? metrics.firstRenderAt - metrics.connectAt : null,
});
