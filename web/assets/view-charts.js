// The charts view (smile, open interest by strike, ATM term structure) and the chart helpers
// the Analytics and History views draw with (uPlot, served by our own server).
import { strikeText, expiryLabel, dec, valuesDecimals, isNum, esc } from './format.js';
import { spotText } from './prices.js';
import { $, storage, syncSettleSelect } from './dom.js';
import { prefs, ui, store, focusExpiry, settlesOf, chainOf, withVenue } from './state.js';
import { expiryFigures, allExpiryFigures, wantFigures } from './figures.js';
import { verticalMarker, sameData, plotLibrary, plotLibraryFailed, onPlotLibrary } from './plot.js';
import { fitIv, arbitrageWarning } from './smile.js';
import { AnalyticsView } from './analytics.js';
import { HistoryView } from './history.js';
import { CompareView } from './compare.js';
import { FlowView } from './flow.js';

// `spot` and `halfStep` are read by chart hooks at draw time: a chart outlives the render
// that created it (later renders only swap its data).
export const charts = { moveLo: null, moveHi: null, smile: null, term: null, oi: null, anTerm: null, anSkew: null, anGex: null, hSpot: null, hIv: null, hSkew: null, hPos: null, hGex: null, cmpTerm: null, cmpRr: null, cmpDiff: null, flowTime: null, flowStrike: null, flowExpiry: null, timer: null, spot: null, maxPain: null, halfStep: 1 };
const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function chartWidth(el) {
  return Math.max(260, el.clientWidth || el.parentElement.clientWidth - 20);
}

function axes(xLabel, yLabel, xValues) {
  const stroke = cssVar('--muted');
  const grid = { stroke: cssVar('--grid'), width: 1 };
  return [
    { stroke, grid, ticks: grid, label: xLabel, values: xValues },
    { stroke, grid, ticks: grid, label: yLabel, size: 60 },
  ];
}

function drawChart(slot, el, opts, data) {
  const hasData = data[0].length > 0;
  if (!hasData) {
    if (charts[slot]) { charts[slot].destroy(); charts[slot] = null; }
    el.innerHTML = '<div class="empty-chart">No data yet</div>';
    return;
  }
  if (charts[slot] && charts[slot].series.length === opts.series.length && charts[slot]._key === opts.key) {
    // Markers (plugins) read values at draw time that the data does not show: those draw always.
    if (opts.plugins || !sameData(charts[slot].data, data)) charts[slot].setData(data);
    return;
  }
  if (charts[slot]) charts[slot].destroy();
  el.innerHTML = '';
  opts.width = chartWidth(el);
  opts.height = 260;
  charts[slot] = new uPlot(opts, data, el);
  charts[slot]._key = opts.key;
}

export function renderCharts() {
  if (!plotLibrary()) {
    // While it loads the charts stay as they are; drawShownCharts (below) draws them when it comes.
    if (plotLibraryFailed()) for (const id of ['chart-smile', 'chart-term', 'chart-oi']) $(id).innerHTML = '<div class="empty-chart">Charts unavailable (uPlot did not load)</div>';
    return;
  }
  const expiry = focusExpiry();
  const settles = expiry ? settlesOf(expiry) : new Set();
  if (expiry && !settles.has(ui.settle) && settles.size) ui.settle = settles.has('USDC') ? 'USDC' : [...settles][0];
  syncSettleSelect(settles, ui.settle);
  const ch = expiry ? chainOf(expiry, ui.settle) : { lines: [], spot: null, atm: null };
  const call = cssVar('--call');
  const put = cssVar('--put');
  const accent = cssVar('--accent');
  const strikes = ch.lines.map((l) => l.strike);
  charts.spot = ch.spot;
  const ivOf = (r) => (r && isNum(r.mark_iv) && r.mark_iv > 0 ? r.mark_iv * 100 : null);
  // Max pain, the fit and the term structure as the module computes them for this settle coin.
  wantFigures(ui.asset, ui.settle);
  const fig = expiry ? expiryFigures(ui.asset, ui.settle, expiry) : null;
  const move = fig && isNum(fig.expected_move) && isNum(fig.forward) ? fig.expected_move : null;
  charts.moveLo = move === null ? null : fig.forward - move;
  charts.moveHi = move === null ? null : fig.forward + move;
  const warning = arbitrageWarning(fig);
  $('smile-caption').innerHTML = expiry
    ? esc(`· ${expiryLabel(expiry)} · ${ui.settle}`) +
      (move === null ? '' : esc(` · expected move ±${spotText(move)} (dotted)`)) +
      (fig && fig.svi ? esc(` · SVI fit, rmse ${(fig.svi_rmse * 100).toFixed(2)} vol pts`) : '') +
      (warning ? ` <span class="warn" role="status">⚠ ${esc(warning)}</span>` : '')
    : '';
  const pain = fig ? fig.max_pain : null;
  $('oi-caption').textContent = expiry
    ? `· ${expiryLabel(expiry)} · ${ui.settle}${pain === null ? '' : ` · max pain ${strikeText(pain)}`}` : '';
  const spotPlugin = verticalMarker(() => charts.spot, accent);
  charts.maxPain = pain;
  const painPlugin = verticalMarker(() => charts.maxPain, cssVar('--muted'), [2, 3]);
  // 102.5k rather than 102,500: bar charts have many strikes and little room per label.
  // Labels with the decimals the ticks need (XRP's strikes are 0.05 apart: 2.05, not "2").
  const strikeAxis = (u, vals) => {
    const dp = Math.min(4, valuesDecimals(vals.filter((v) => v !== null && Math.abs(v) < 10000)));
    return vals.map((v) => (v === null ? '' : Math.abs(v) >= 10000 ? `${+(v / 1000).toFixed(2)}k` : dec(dp)(v)));
  };
  const muted = cssVar('--muted');
  drawChart('smile', $('chart-smile'), {
    key: 'smile',
    plugins: [spotPlugin, verticalMarker(() => charts.moveLo, muted, [1, 3]), verticalMarker(() => charts.moveHi, muted, [1, 3])],
    scales: { x: { time: false } },
    series: [
      { label: 'Strike', value: (u, v) => (v === null ? '–' : strikeText(v)) },
      { label: 'Call IV %', stroke: call, width: 2, points: { size: 4 }, spanGaps: true, value: (u, v) => (v === null ? '–' : v.toFixed(1)) },
      // Dashed: where call and put IVs agree the call line still shows through.
      { label: 'Put IV %', stroke: put, width: 2, dash: [6, 4], points: { size: 4 }, spanGaps: true, value: (u, v) => (v === null ? '–' : v.toFixed(1)) },
      { label: 'SVI fit %', stroke: accent, width: 1.5, points: { show: false }, spanGaps: true, value: (u, v) => (v === null ? '–' : v.toFixed(1)) },
    ],
    axes: axes('Strike', 'IV %', strikeAxis),
  }, [strikes, ch.lines.map((l) => ivOf(l.call)), ch.lines.map((l) => ivOf(l.put)), strikes.map((k) => {
    const f = fitIv(fig, k);
    return f === null ? null : f * 100;
  })]);

  const barsL = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.45, 24], align: -1 }) : null;
  const barsR = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.45, 24], align: 1 }) : null;
  // Half a strike step of room at each end, so the outer bars are whole.
  charts.halfStep = strikes.length > 1 ? (strikes[strikes.length - 1] - strikes[0]) / (strikes.length - 1) / 2 : 1;
  drawChart('oi', $('chart-oi'), {
    key: 'oi',
    plugins: [spotPlugin, painPlugin],
    scales: { x: { time: false, range: (u, min, max) => [min - charts.halfStep, max + charts.halfStep] } },
    series: [
      { label: 'Strike', value: (u, v) => (v === null ? '–' : strikeText(v)) },
      { label: 'Calls OI', stroke: call, fill: call + '99', paths: barsL, points: { show: false } },
      { label: 'Puts OI', stroke: put, fill: put + '99', paths: barsR, points: { show: false } },
    ],
    axes: axes('Strike', 'Open interest', strikeAxis),
  }, [strikes, ch.lines.map((l) => (l.call ? l.call.open_interest : null)), ch.lines.map((l) => (l.put ? l.put.open_interest : null))]);

  const term = allExpiryFigures(ui.asset, ui.settle)
    .filter((e) => isNum(e.atm_iv))
    .map((e) => ({ ts: e.expiry_ts / 1000, iv: e.atm_iv * 100 }));
  $('term-caption').textContent = term.length ? `· ${term.length} expiries` : '';
  drawChart('term', $('chart-term'), {
    key: 'term',
    series: [
      { label: 'Expiry', value: (u, v) => (v === null ? '–' : new Date(v * 1000).toISOString().slice(0, 10)) },
      { label: 'ATM IV %', stroke: accent, width: 2, points: { size: 6 }, value: (u, v) => (v === null ? '–' : v.toFixed(1)) },
    ],
    axes: axes('Expiry', 'ATM IV %'),
  }, [term.map((p) => p.ts), term.map((p) => p.iv)]);
}

// The Analytics view keeps its own figures (from /api/analytics) and draws with the helpers
// above.
export const analyticsView = new AnalyticsView({ el: $, drawChart, axes, cssVar });
export const historyView = new HistoryView({ el: $, drawChart, axes, cssVar });
export const compareView = new CompareView({ el: $, drawChart, axes, cssVar, premium: () => prefs.premium });
export const flowView = new FlowView({
  el: $, drawChart, axes, cssVar, withVenue,
  markIv: (symbol) => { const r = store.rows.get(symbol); return r && isNum(r.mark_iv) ? r.mark_iv : null; },
  expiries: () => store.expiries,
  utc: () => prefs.utc,
});
const CHART_SLOTS = ['smile', 'term', 'oi', 'anTerm', 'anSkew', 'anGex', 'hSpot', 'hIv', 'hSkew', 'hPos', 'hGex', 'cmpTerm', 'cmpRr', 'cmpDiff', 'flowTime', 'flowStrike', 'flowExpiry'];

/** Draws the shown view's charts again from what it holds (a new theme, uPlot just loaded). */
function drawShownCharts() {
  if (ui.view === 'charts') renderCharts();
  if (ui.view === 'analytics') analyticsView.render();
  if (ui.view === 'history') historyView.render();
  if (ui.view === 'compare') compareView.render();
  if (ui.view === 'flow') flowView.render();
}

export function scheduleCharts() {
  if (charts.timer) return;
  charts.timer = setTimeout(() => {
    charts.timer = null;
    if (ui.view === 'charts') renderCharts();
  }, 1000);
}

$('history-ranges').addEventListener('click', (e) => {
  const b = e.target.closest('button[data-range]');
  if (b) historyView.setRange(b.dataset.range);
});
$('theme-toggle').addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'light' ? 'dark' : 'light';
  document.documentElement.dataset.theme = next;
  storage.set('theme', next);
  for (const k of CHART_SLOTS) if (charts[k]) { charts[k].destroy(); charts[k] = null; }
  drawShownCharts();
});
// uPlot came (plot.js loads it when a chart is first wanted): the shown view draws its charts.
onPlotLibrary(drawShownCharts);
$('compare-expiry').addEventListener('change', (e) => compareView.setExpiry(e.target.value));
$('flow-expiry').addEventListener('change', (e) => flowView.setFilters({ expiry: e.target.value }));
$('flow-blocks').addEventListener('change', (e) => flowView.setFilters({ blocksOnly: e.target.checked }));
$('flow-min').addEventListener('change', (e) => {
  const v = Number(e.target.value);
  flowView.setFilters({ minNotional: e.target.value.trim() !== '' && Number.isFinite(v) && v > 0 ? v : null });
});

window.addEventListener('resize', () => {
  for (const k of CHART_SLOTS) {
    const c = charts[k];
    if (c) c.setSize({ width: chartWidth(c.root.parentElement), height: 260 });
  }
});
