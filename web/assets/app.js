// Options dashboard. One EventSource per shown asset carries everything: the first `changes`
// event is the whole chain (reset), later ones carry only the rows that changed, and the
// unnamed events are the seed's stats. Rows live in the store (store.js); views patch only the
// cells whose text changed, so a 2,500-contract asset never re-renders on a tick.
//
// This is the page's entry point: it wires the controls and starts. Each part has its module:
//   state.js    the shared state          store.js     rows and what derives from them (pure)
//   format.js   number and date text      rules.js     forward, ATM, max pain (pure)
//   prices.js   the exchange's precision  columns.js   the table's columns
//   stream.js   snapshot, stream and the live indicator; diagnose.js why data is old (pure)
//   render.js   the page around the views, one render per frame
//   view-table.js, view-chain.js, view-charts.js, view-cards.js, analytics.js, history.js
//   tabs.js, dialog-assets.js, dialog-alerts.js, api.js, dom.js, cells.js, plot.js
// No module imports this one: the page loads it as `app.js?v=…`, and an import of
// `./app.js` would be a second copy of it.
import './init.js';
import { expiryCode } from './format.js';
import { $, storage, closePopovers, togglePopover } from './dom.js';
import { prefs, ui, store, focusExpiry } from './state.js';
import { stepExpiry } from './store.js';
import { renderColumnChecks } from './view-table.js';
import { renderChainColumnChecks } from './view-chain.js';
import { connect, releaseHeld } from './stream.js';
import { renderLive, renderStatusPanel } from './live.js';
import { refreshAssets, renderTabs } from './tabs.js';
import { allExpiryViews, renderView, syncDisplayPrefs, markOldRows } from './render.js';
import { loadPlotLibrary } from './plot.js';
import './dialog-assets.js';

// ---------------------------------------------------------------------------------------------
// controls

for (const b of document.querySelectorAll('.views button')) {
  b.addEventListener('click', () => {
    ui.view = b.dataset.view;
    renderView();
  });
}
// Both tab lists follow the ARIA tabs pattern: arrows, Home and End move to a tab and open it.
for (const list of [document.querySelector('.views'), $('asset-tabs')]) {
  list.addEventListener('keydown', (e) => {
    const tabs = [...list.querySelectorAll('[role="tab"]')];
    const at = tabs.indexOf(document.activeElement);
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (at < 0 || to === undefined) return;
    e.preventDefault();
    const tab = tabs[(to + tabs.length) % tabs.length];
    tab.focus();
    tab.click();
  });
}
$('f-expiry').addEventListener('change', (e) => {
  ui.expiry = e.target.value;
  ui.page = 0;
  renderView();
});
$('f-type').addEventListener('change', (e) => {
  ui.type = e.target.value;
  ui.page = 0;
  renderView();
});
// Another venue is another page: every cache and the stream start over with its chains.
$('f-venue').addEventListener('change', (e) => {
  const p = new URLSearchParams(location.search);
  if (e.target.value === 'bybit') p.delete('venue');
  else p.set('venue', e.target.value);
  p.delete('expiry');
  p.delete('settle');
  location.assign('/' + (p.toString() ? '?' + p.toString() : ''));
});
$('f-settle').addEventListener('change', (e) => {
  ui.settle = e.target.value;
  renderView();
});
let searchTimer = null;
$('f-search').addEventListener('input', (e) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    ui.search = e.target.value;
    ui.page = 0;
    renderView();
  }, 120);
});

// Keys for people who keep this open all day: 1/2/3 views, [ and ] expiries, / search.
document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || document.querySelector('dialog[open]')) return;
  if (e.target.closest('input, select, textarea')) {
    if (e.key === 'Escape') e.target.blur();
    return;
  }
  const views = { 1: 'table', 2: 'chain', 3: 'charts', 4: 'analytics', 5: 'history', 6: 'compare', 7: 'flow' };
  if (views[e.key]) {
    ui.view = views[e.key];
    renderView();
  } else if (e.key === '[' || e.key === ']') {
    const codes = store.expiries.map((x) => x.code);
    if (!codes.length) return;
    const all = allExpiryViews.includes(ui.view);
    ui.expiry = stepExpiry(codes, all ? ui.expiry : focusExpiry(), e.key, all);
    ui.page = 0;
    renderView();
  } else if (e.key === '/' && ui.view === 'table') {
    e.preventDefault();
    $('f-search').focus();
  } else {
    return;
  }
});

$('auto-refresh').addEventListener('change', (e) => {
  ui.live = e.target.checked;
  if (ui.live) releaseHeld();
  renderLive();
});
document.addEventListener('click', () => closePopovers(null));

// display preferences: flashing, premium unit, clock
$('display-btn').addEventListener('click', (e) => {
  e.stopPropagation();
  togglePopover('display-panel', $('display-btn'));
});
$('display-panel').addEventListener('click', (e) => e.stopPropagation());
$('pref-old-secs').addEventListener('change', (e) => {
  const v = parseInt(e.target.value, 10);
  if (!(v >= 1 && v <= 3600)) {
    e.target.value = String(prefs.oldSecs);
    return;
  }
  prefs.oldSecs = v;
  storage.set('oldQuoteSeconds', String(v));
  markOldRows();
});
$('pref-flash').addEventListener('change', (e) => {
  prefs.flash = e.target.checked;
  storage.set('flash', prefs.flash ? 'on' : 'off');
});
$('pref-premium').addEventListener('change', (e) => {
  prefs.premium = e.target.value === 'coin' ? 'coin' : 'usd';
  storage.set('premium', prefs.premium);
  renderView();
});
$('pref-clock').addEventListener('change', (e) => {
  prefs.utc = e.target.value !== 'local';
  storage.set('clock', prefs.utc ? 'utc' : 'local');
  renderView();
  renderStatusPanel();
});

// ---------------------------------------------------------------------------------------------
// start

$('page-size').value = String(ui.pageSize);
// A bare `/` reopens where the trader left off, if that asset is still shown.
if (location.pathname === '/' && !location.search) {
  const last = new URLSearchParams(storage.get('lastView') || '');
  const asset = (last.get('asset') || '').toUpperCase();
  if (asset && store.assets.some((a) => a.symbol === asset && a.enabled)) {
    ui.asset = asset;
    ui.view = ['table', 'chain', 'charts', 'analytics', 'history', 'compare', 'flow'].includes(last.get('view')) ? last.get('view') : 'table';
    ui.expiry = expiryCode(last.get('expiry'));
    ui.type = ['call', 'put'].includes(last.get('type')) ? last.get('type') : 'all';
    ui.settle = last.get('settle') === 'USDT' ? 'USDT' : 'USDC';
    ui.search = last.get('q') || '';
  }
}
$('f-type').value = ui.type;
$('f-venue').value = ui.venue;
$('f-search').value = ui.search;
renderColumnChecks();
renderChainColumnChecks();
syncDisplayPrefs();
renderTabs();
// A view with charts wants uPlot for its first screen: fetch it beside the chain.
if (ui.view !== 'table' && ui.view !== 'chain') loadPlotLibrary();
connect();
refreshAssets();
