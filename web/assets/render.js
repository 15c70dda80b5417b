// The page around the views: the empty and error states, the expiry menu, the cards and the
// URL, and one render per animation frame for live changes. Views and the live feed call
// back into here; nothing here runs until the page (app.js) starts.
import { NF, expiryLabel, timeLeft } from './format.js';
import { $, storage, setHtml } from './dom.js';
import { prefs, ui, store, conn, metrics, page, recomputeExpiries, focusExpiry, serverNow } from './state.js';
import { isOld } from './cells.js';
import { table, renderTable, patchTable } from './view-table.js';
import { renderChain, patchChain, patchChainFigures } from './view-chain.js';
import { renderCharts, scheduleCharts, analyticsView, historyView, compareView, flowView } from './view-charts.js';
import { renderCards } from './view-cards.js';
import { renderLive } from './live.js';
import { alertsDialog, renderAlertExpiries } from './dialog-alerts.js';
import { onFigures } from './figures.js';

// The module's figures arrived or moved: every place that shows one follows.
onFigures(() => {
  renderCards();
  if (ui.view === 'chain') patchChainFigures();
  else if (ui.view === 'charts') renderCharts();
});

// Views that list "All expiries" in the expiry menu (the chain and charts show one expiry).
export const allExpiryViews = ['table', 'analytics'];

/**
 * Rewrites the shown numbers in a new format (tick sizes arrived, a display preference
 * changed) without re-sorting or rebuilding the table under the reader.
 */
export function refreshFormats() {
  if (!store.loaded) return;
  renderCards();
  if (ui.view === 'table') patchTable(new Map([...table.rendered.keys()].map((sym) => [sym, null])));
  else if (ui.view === 'chain') renderChain();
}

function renderState() {
  const el = $('state');
  let text = null;
  let cls = '';
  if (!ui.asset) {
    text = conn.error ? `Cannot load the asset list: ${conn.error}` : 'No assets are enabled. Add one with + or enable one in ⚙.';
    cls = conn.error ? 'error' : '';
  } else if (!store.loaded && !conn.statsSeen) {
    text = `Loading ${ui.asset} options…`;
    cls = 'loading';
  } else if (!store.rows.size) {
    const known = store.assets.some((a) => a.symbol === ui.asset);
    text = known
      ? `No ${ui.asset} contracts in Redis yet — waiting for the feeder.`
      : `${ui.asset} is not a tracked asset and has no data. Add it with +.`;
  }
  el.hidden = text === null;
  el.className = 'state ' + cls;
  if (text !== null) el.textContent = text;
  document.querySelector('main').classList.toggle('no-data', text !== null);
  for (const id of ['view-table', 'view-chain', 'view-charts']) $(id).hidden = text !== null;
}

function renderExpirySelect() {
  const sel = $('f-expiry');
  const all = allExpiryViews.includes(ui.view);
  const want = all ? (ui.expiry || 'ALL') : focusExpiry() || 'ALL';
  const opts = (all ? ['<option value="ALL">All expiries</option>'] : [])
    .concat(store.expiries.map((e) => `<option value="${e.code}">${expiryLabel(e.code)} · ${timeLeft(e.ts)}</option>`));
  setHtml(sel, opts.join(''));
  sel.value = want;
  if (sel.value !== want && sel.options.length) sel.selectedIndex = 0;
}

export function renderView() {
  // A deep link to an expiry the asset does not have: say so, show them all.
  if (store.loaded && store.rows.size && ui.expiry && ui.expiry !== 'ALL' && !store.expiries.some((e) => e.code === ui.expiry)) {
    conn.notice = `${ui.asset} has no expiry ${ui.expiry}; showing ${allExpiryViews.includes(ui.view) ? 'all expiries' : 'the nearest'}.`;
    ui.expiry = 'ALL';
    setTimeout(() => { conn.notice = null; renderLive(); }, 8000);
  }
  document.body.dataset.view = ui.view;
  syncDisplayPrefs();
  // The expiries the alerts dialog offers follow the chain (it may open while it loads).
  if (alertsDialog.open) renderAlertExpiries();
  for (const b of document.querySelectorAll('.views button')) {
    b.classList.toggle('active', b.dataset.view === ui.view);
    b.setAttribute('aria-selected', String(b.dataset.view === ui.view));
  }
  renderState();
  renderExpirySelect();
  renderCards();
  $('stat-asset-contracts').textContent = ui.asset && store.loaded ? `${NF[0].format(store.rows.size)} ${ui.asset}` : '';
  if (ui.view === 'table') renderTable();
  else if (ui.view === 'chain') renderChain();
  else if (ui.view === 'analytics') analyticsView.show(ui.asset, ui.expiry || 'ALL');
  else if (ui.view === 'history') historyView.show(ui.asset);
  else if (ui.view === 'compare') compareView.show(ui.asset);
  else if (ui.view === 'flow') flowView.show(ui.asset);
  else renderCharts();
  syncUrl();
}

function syncUrl() {
  const p = new URLSearchParams();
  if (ui.asset) p.set('asset', ui.asset);
  if (ui.venue !== 'bybit') p.set('venue', ui.venue);
  if (ui.expiry && ui.expiry !== 'ALL') p.set('expiry', ui.expiry);
  if (ui.view !== 'table') p.set('view', ui.view);
  if (ui.type !== 'all' && ui.view === 'table') p.set('type', ui.type);
  if (ui.settle !== 'USDC' && ui.view !== 'table') p.set('settle', ui.settle);
  if (ui.search && ui.view !== 'charts') p.set('q', ui.search);
  const url = '/' + (p.toString() ? '?' + p.toString() : '');
  if (location.pathname + location.search !== url) history.replaceState(null, '', url);
  storage.set('lastView', p.toString());
  const venue = ui.venue === 'deribit' ? 'Deribit' : 'Bybit';
  document.title = ui.asset ? `${ui.asset} options · ${venue}` : `${venue} options`;
}

// Batches of changes are applied at most once per animation frame.
let frameQueued = false;
const queued = { changed: new Map(), membership: false };
export function queueRender(changed, membership) {
  for (const [s, before] of changed) if (!queued.changed.has(s)) queued.changed.set(s, before);
  queued.membership = queued.membership || membership;
  if (frameQueued) return;
  frameQueued = true;
  requestAnimationFrame(() => {
    frameQueued = false;
    const { changed: ch, membership: mem } = queued;
    queued.changed = new Map();
    queued.membership = false;
    if (mem) {
      recomputeExpiries();
      renderView();
      return;
    }
    const t0 = performance.now();
    renderCards();
    if (ui.view === 'table') patchTable(ch);
    else if (ui.view === 'chain') patchChain(ch);
    else scheduleCharts();
    metrics.patchFrames++;
    metrics.rowsChanged += ch.size;
    metrics.patchMs += performance.now() - t0;
  });
}


export function syncDisplayPrefs() {
  $('pref-flash').checked = prefs.flash;
  $('pref-premium').value = prefs.premium;
  $('pref-premium').options[1].textContent = ui.asset ? `${ui.asset} (coin)` : 'Coin';
  $('pref-clock').value = prefs.utc ? 'utc' : 'local';
  if (document.activeElement !== $('pref-old-secs')) $('pref-old-secs').value = String(prefs.oldSecs);
}

/** Dims the sides of the chain (and rows of the table) that have not updated for a while. */
export function markOldRows() {
  const now = serverNow();
  if (ui.view === 'chain') {
    for (const td of document.querySelectorAll('#chain-table td[data-symbol]')) {
      td.classList.toggle('old', isOld(store.rows.get(td.dataset.symbol), now));
    }
  } else if (ui.view === 'table') {
    for (const [s, tr] of table.rendered) tr.classList.toggle('old', isOld(store.rows.get(s), now));
  }
}
setInterval(markOldRows, 5000);

page.renderView = renderView;
