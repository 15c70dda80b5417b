// The live feed of the shown asset: the snapshot from /api/changes, then /api/stream's events
// (changes, analytics, status and the seed's stats). The indicator of whether what is shown is
// current is live.js.
import { NF, clock } from './format.js';
import { setText } from './dom.js';
import { prefs, ui, store, conn, metrics, storeChanged, withVenue, chainKey } from './state.js';
import { applyChanges, holdChanges, heldAsChanges } from './store.js';
import { loadInstruments } from './prices.js';
import { cards, loadCardAnalytics, renderCards } from './view-cards.js';
import { refreshFigures } from './figures.js';
import { analyticsView, historyView, compareView, flowView } from './view-charts.js';
import { alertsDialog, renderTelegramState } from './dialog-alerts.js';
import { queueRender, renderView, refreshFormats } from './render.js';
import { noteServerTime, newestUpdate, record } from './latency.js';
import { latency, renderLive, renderStatusPanel } from './live.js';

/** Applies one OPTIONS.CHANGES reply and schedules the views' update. */
function apply(ch) {
  storeChanged();
  const { changed, membership } = applyChanges(store, ch);
  queueRender(changed, membership);
}

/** Keeps changes aside while auto-refresh is off; the indicator counts them. */
function hold(ch) {
  conn.pending = holdChanges(conn.pending, ch);
  conn.pendingCount = conn.pending.count;
  renderLive();
}

/** Applies what was held, as one change. */
export function releaseHeld() {
  const p = conn.pending;
  conn.pending = null;
  conn.pendingCount = 0;
  if (p) apply(heldAsChanges(p));
}

function onStats(s) {
  conn.statsSeen = true;
  // The server could not read Redis: say so, and keep the last good figures on the cards.
  conn.redisError = s.error || null;
  if (s.error) {
    if (!store.loaded) renderView();
    renderLive();
    return;
  }
  conn.stats = s;
  const t = parseFloat(s.last_update);
  conn.lastUpdateMs = Number.isFinite(t) ? t * 1000 : 0;
  setText('stat-contracts', NF[0].format(s.total_symbols || 0));
  setText('stat-messages', NF[0].format(s.messages_processed || 0));
  setText('stat-memory', s.redis_memory || '–');
  setText('stat-last', conn.lastUpdateMs ? clock(conn.lastUpdateMs, prefs.utc) : 'N/A');
  if (!store.loaded) renderView();
  renderLive();
}

/**
 * Resolves once the browser has put on screen what was drawn after `since` (a
 * `performance.now()` time). The browser reports a largest-contentful-paint entry at a frame's
 * presentation, later than any callback the page can schedule around the frame; but only when
 * the new paint is the largest so far and no input came first. So, too: once the page has
 * painted at all (a late first paint is waited for), two frames and 100 ms more; 3 s at most; at
 * once in a hidden tab, which paints nothing.
 */
function presentedSince(since) {
  return new Promise((resolve) => {
    const observers = [];
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      for (const o of observers) o.disconnect();
      resolve();
    };
    setTimeout(done, 3000);
    if (document.visibilityState === 'hidden') {
      done();
      return;
    }
    const watch = (type, onEntries) => {
      const types = typeof PerformanceObserver === 'function' ? PerformanceObserver.supportedEntryTypes || [] : [];
      if (!types.includes(type)) return false;
      const o = new PerformanceObserver((list) => onEntries(list.getEntries()));
      observers.push(o);
      o.observe({ type, buffered: true });
      return true;
    };
    watch('largest-contentful-paint', (entries) => {
      if (entries.some((e) => e.startTime >= since)) done();
    });
    let painted = false;
    const afterPaint = () => {
      if (painted) return;
      painted = true;
      requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 100)));
    };
    const fcp = watch('paint', (entries) => {
      if (entries.some((e) => e.name === 'first-contentful-paint')) afterPaint();
    });
    if (!fcp) afterPaint();
  });
}

/**
 * Resolves when the first screen's own data has come (`loading`: the fetches that redraw it as
 * they land, the quote steps and the cards' analytics; and the shown view's figures, for the
 * views whose first screen is not the chain), or after 2 s at most. True if it waited.
 */
async function firstScreenData(loading) {
  // Each of these views keeps its fetch in flight as `loading`.
  const view = { analytics: analyticsView, history: historyView, compare: compareView, flow: flowView }[ui.view];
  const waits = [...loading, view && view.loading].filter(Boolean);
  if (!waits.length) return false;
  const settled = Promise.all(waits.map((w) => Promise.resolve(w).catch(() => {})));
  await Promise.race([settled, new Promise((r) => setTimeout(r, 2000))]);
  return true;
}

/**
 * Loads the asset's chain, then follows it. The snapshot comes from /api/changes (gzipped:
 * ~1.6 MB of JSON for 2,500 contracts travels as a fraction of that); the stream then starts
 * from the snapshot's sequence, so nothing falls between the two. If the snapshot fails the
 * stream starts from 0 and its first event is the whole chain instead.
 */
export async function connect() {
  if (conn.source) conn.source.close();
  conn.source = null;
  const generation = ++conn.generation;
  store.rows.clear();
  storeChanged();
  store.loaded = false;
  store.expiries = [];
  store.index = null;
  store.indexAt = 0;
  cards.analytics = null;
  conn.statsSeen = false;
  conn.status = null;
  conn.statusAt = 0;
  conn.pending = null;
  conn.pendingCount = 0;
  if (!ui.asset) {
    renderView();
    return;
  }
  const asset = ui.asset;
  conn.state = 'connecting';
  Object.assign(metrics, { connectAt: performance.now(), snapshotAt: 0, firstRenderAt: 0 });
  renderView();
  renderLive();
  let since = 0;
  // What is drawn from here on is the first screen: the stream waits until it is presented.
  let drawnFrom = performance.now();
  let loading = [];
  let streamable = true; // false for a name that is not an asset symbol at all
  try {
    // The page's head preloads this very URL (dashboard.rs `snapshot_url`): keep the two alike,
    // and the request plain, or the browser fetches it twice.
    const resp = await fetch(withVenue(`/api/changes/${encodeURIComponent(asset)}?since=0`));
    const text = await resp.text();
    if (generation !== conn.generation) return;
    if (resp.ok) {
      const t0 = performance.now();
      const snapshot = JSON.parse(text);
      Object.assign(metrics, { snapshotAt: t0, snapshotBytes: text.length, snapshotParseMs: performance.now() - t0 });
      const timing = performance.getEntriesByName(resp.url).pop();
      metrics.snapshotWireBytes = timing ? timing.encodedBodySize : null;
      drawnFrom = performance.now();
      apply(snapshot);
      since = snapshot.seq || 0;
      // A known asset: its analytics for the cards, its tick sizes for the prices.
      loading = [loadCardAnalytics(), loadInstruments(asset, refreshFormats)];
    } else if (resp.status === 404 || resp.status === 400) {
      store.loaded = true; // unknown or malformed asset: the empty state says so
      streamable = resp.status === 404;
      renderView();
    }
  } catch (e) {
    if (generation !== conn.generation) return;
  }
  // The stream opens once the snapshot is on screen, so the first screen waits for nothing it
  // does not show: a stream is never done, and a page load that counts it (a slow phone link,
  // Lighthouse) would wait for everything it brings. Nothing is lost meanwhile: the stream
  // starts from the snapshot's sequence.
  if (await firstScreenData(loading)) drawnFrom = performance.now();
  await presentedSince(drawnFrom);
  if (generation !== conn.generation) return;
  // A malformed name gets the stats alone: the server would refuse it as an asset.
  const key = chainKey(asset);
  const url = !streamable ? '/api/stream'
    : withVenue(`/api/stream?assets=${encodeURIComponent(asset)}` + (since ? `&since=${encodeURIComponent(`${key}:${since}`)}` : ''));
  const es = new EventSource(url);
  conn.source = es;
  es.onopen = () => {
    conn.state = 'open';
    renderLive();
  };
  es.onerror = () => {
    // EventSource retries by itself, resuming from Last-Event-ID (or the URL's `since`).
    conn.state = es.readyState === EventSource.CLOSED ? 'closed' : 'disconnected';
    renderLive();
  };
  es.addEventListener('changes', (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    metrics.changeEvents++;
    if (es !== conn.source || msg.asset !== chainKey(ui.asset)) return;
    if (ui.live || !store.loaded) {
      apply(msg.changes);
      // A reset repeats old rows: only a delta measures how late a push is painted.
      const newest = msg.changes && !msg.changes.reset ? newestUpdate(msg.changes) : null;
      if (newest !== null) requestAnimationFrame(() => record(latency, newest, Date.now()));
    } else hold(msg.changes);
  });
  es.addEventListener('analytics', (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (es !== conn.source || !ui.live) return;
    // Events name the chain's key (deribit:BTC); the views know the asset.
    if (msg.asset === chainKey(ui.asset)) msg.asset = ui.asset;
    if (msg.asset === ui.asset && msg.analytics) {
      cards.analytics = msg.analytics;
      cards.asset = msg.asset;
      renderCards();
      refreshFigures(msg.asset);
    }
    if (ui.view === 'analytics') analyticsView.changed(msg.asset);
    if (ui.view === 'history') historyView.changed(msg.asset);
    // The other venue's chain moves too: the comparison is asked again with each analytics event.
    if (ui.view === 'compare' && msg.asset === ui.asset) compareView.refresh();
  });
  // Trades as they reach the tape: the flow view's tape and sums.
  es.addEventListener('trades', (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (es !== conn.source || msg.asset !== chainKey(ui.asset) || !ui.live) return;
    if (ui.view === 'flow') flowView.onTrades(msg.trades || []);
  });
  es.addEventListener('status', (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (es !== conn.source) return;
    conn.status = msg;
    conn.statusAt = Date.now();
    noteServerTime(latency, msg.server_ms, conn.statusAt);
    renderStatusPanel();
    if (alertsDialog.open) renderTelegramState();
    renderLive();
  });
  es.onmessage = (ev) => {
    let s;
    try { s = JSON.parse(ev.data); } catch (e) { return; }
    if (es === conn.source) onStats(s);
  };
}
