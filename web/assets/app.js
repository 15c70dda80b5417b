// Options dashboard. One EventSource per shown asset carries everything: the first `changes`
// event is the whole chain (reset), later ones carry only the rows that changed, and the
// unnamed events are the seed's stats. Rows live in `store.rows`; views patch only the cells
// whose text changed, so a 2,500-contract asset never re-renders on a tick.
import {
  NF, isNum, fixed, volume, pct, strikeText, expiryLabel, expiryCode, ago, esc,
  dec, stepDecimals, valuesDecimals, fallbackTick, spotDecimals, greek, timeLeft, clock, moneyness,
} from './format.js';
import { forwardAndAtm, maxPain } from './rules.js';
import { verticalMarker } from './plot.js';
import { AnalyticsView } from './analytics.js';
import { HistoryView } from './history.js';

(function () {
  const boot = JSON.parse(document.getElementById('boot').textContent);
  const $ = (id) => document.getElementById(id);

  const storage = {
    get(key) { try { return localStorage.getItem(key); } catch (e) { return null; } },
    set(key, v) { try { localStorage.setItem(key, v); } catch (e) { /* private mode: not remembered */ } },
  };

  // Popovers (columns, display, the chain's columns, status): one open at a time, closed by a
  // click elsewhere.
  const POPOVERS = [['columns-panel', 'columns-btn'], ['display-panel', 'display-btn'], ['chain-cols-panel', 'chain-cols-btn'], ['status-panel', 'live']];
  function closePopovers(except) {
    for (const [panel, btn] of POPOVERS) {
      if (panel === except) continue;
      $(panel).hidden = true;
      if ($(btn)) $(btn).setAttribute('aria-expanded', 'false');
    }
  }
  /** Opens or closes one popover, closing the others; returns whether it is now open. */
  function togglePopover(panelId, btn) {
    closePopovers(panelId);
    const panel = $(panelId);
    panel.hidden = !panel.hidden;
    if (btn) btn.setAttribute('aria-expanded', String(!panel.hidden));
    return !panel.hidden;
  }

  // ---------------------------------------------------------------------------------------
  // display preferences, remembered: flashing, premium unit, clock, the chain's outer columns

  const CHAIN_EXTRA_DEFAULT = ['open_interest', 'delta'];
  const prefs = {
    flash: storage.get('flash') !== 'off',
    premium: storage.get('premium') === 'coin' ? 'coin' : 'usd',
    utc: storage.get('clock') !== 'local',
    chainExtras: (() => {
      try {
        const v = JSON.parse(storage.get('chainColumns') || 'null');
        if (Array.isArray(v)) return v.filter((k) => typeof k === 'string');
      } catch (e) { /* corrupt: defaults */ }
      return CHAIN_EXTRA_DEFAULT;
    })(),
    side: storage.get('chainSide') === 'put' ? 'put' : 'call',
    // A side not updated for this long is dimmed: its quotes may be gone from the book.
    oldSecs: (() => {
      const v = parseInt(storage.get('oldQuoteSeconds') || '', 10);
      return v >= 1 && v <= 3600 ? v : 60;
    })(),
  };

  // ---------------------------------------------------------------------------------------
  // prices with the exchange's precision (its quote step per settle coin, /api/instruments)

  const inst = { asset: null, tick: {} };
  /** Decimals of a quote of `settle` (the exchange's tick, or one inferred from the price). */
  function priceDp(settle, underlying) {
    const t = inst.asset === ui.asset ? inst.tick[settle] : undefined;
    return stepDecimals(isNum(t) && t > 0 ? t : fallbackTick(underlying));
  }
  async function loadInstruments(asset) {
    if (!asset || inst.asset === asset) return;
    try {
      const r = await fetch(`/api/instruments/${encodeURIComponent(asset)}`, { headers: { Accept: 'application/json' } });
      if (!r.ok || asset !== ui.asset) return;
      const j = await r.json();
      inst.asset = asset;
      inst.tick = j.price_tick || {};
      requestAnimationFrame(refreshFormats);
    } catch (e) { /* the exchange cannot be asked: precision is inferred from the price */ }
  }
  /**
   * Rewrites the shown numbers in a new format (tick sizes arrived, a display preference
   * changed) without re-sorting or rebuilding the table under the reader.
   */
  function refreshFormats() {
    if (!store.loaded) return;
    renderCards();
    if (ui.view === 'table') patchTable(new Map([...table.rendered.keys()].map((sym) => [sym, null])));
    else if (ui.view === 'chain') renderChain();
  }
  /** A premium in USD (the exchange's quote, at its precision) or in coin (÷ index, 4 dp). */
  function prem(r, v) {
    if (!r || !isNum(v)) return '–';
    if (prefs.premium === 'coin') return isNum(r.index_price) && r.index_price > 0 ? dec(4)(v / r.index_price) : '–';
    return dec(priceDp(r.settle, r.underlying_price || r.index_price))(v);
  }
  /** A bid or ask: a zero price (or size) is no quote at all, shown as a dash as exchanges do. */
  const quote = (r, price, size) => (isNum(price) && price > 0 && (!isNum(size) || size > 0) ? prem(r, price) : '–');
  const spreadOf = (r) => (isNum(r.bid_price) && isNum(r.ask_price) && r.bid_price > 0 && r.ask_price > 0 ? r.ask_price - r.bid_price : null);
  /** An index or forward at its precision (`$` only here: it is a price, not a premium). */
  const spotText = (v) => (isNum(v) ? '$' + dec(spotDecimals(v))(v) : '–');
  const signedPct = (v) => (isNum(v) ? (v > 0 ? '+' : '') + (v * 100).toFixed(1) + '%' : '–');
  const sizeText = (v) => (isNum(v) ? (v >= 100 ? NF[0].format(v) : dec(1)(v)) : '–');
  /** The forward of a contract's expiry and settle coin (the median rule). */
  const forwardOf = (r) => chainOf(r.expiry, r.settle).spot;

  // ---------------------------------------------------------------------------------------
  // columns (keys are the seed's localStorage keys, plus this project's)

  // `flash`: a quote or a trade, the only cells that flash when they move (not the mark: a
  // model price that moves with every tick of the underlying).
  const COLUMNS = [
    { key: 'symbol', label: 'Symbol', get: (r) => r.symbol, text: (r) => r.symbol, cls: 'text sym' },
    { key: 'type', label: 'Type', get: (r) => r.type, html: (r) => `<span class="badge ${r.type}">${r.type === 'call' ? 'CALL' : 'PUT'}</span>`, text: (r) => r.type, cls: 'text' },
    { key: 'strike', label: 'Strike', get: (r) => r.strike, text: (r) => strikeText(r.strike) },
    { key: 'expiry', label: 'Expiry', get: (r) => r.expiry_ts, text: (r) => expiryLabel(r.expiry), cls: 'text' },
    { key: 'dte', label: 'Expires in', get: (r) => r.expiry_ts, text: (r) => timeLeft(r.expiry_ts) },
    { key: 'settle', label: 'Settle', get: (r) => r.settle, text: (r) => r.settle, cls: 'text' },
    { key: 'moneyness', label: 'K/F', title: 'Moneyness: strike over the forward of its expiry, minus one', get: (r) => { const f = forwardOf(r); return isNum(f) && f > 0 ? r.strike / f : null; }, text: (r) => moneyness(r.strike, forwardOf(r)) },
    { key: 'bid', label: 'Bid', get: (r) => r.bid_price, text: (r) => quote(r, r.bid_price, r.bid_size), flash: true },
    { key: 'ask', label: 'Ask', get: (r) => r.ask_price, text: (r) => quote(r, r.ask_price, r.ask_size), flash: true },
    { key: 'spread', label: 'Spread', get: spreadOf, text: (r) => prem(r, spreadOf(r)) },
    { key: 'last', label: 'Last', get: (r) => r.last_price, text: (r) => prem(r, r.last_price), flash: true },
    { key: 'mark', label: 'Mark', get: (r) => r.mark_price, text: (r) => prem(r, r.mark_price) },
    { key: 'volume', label: 'Volume 24h', get: (r) => r.volume_24h, text: (r) => volume(r.volume_24h) },
    { key: 'oi', label: 'Open int.', get: (r) => r.open_interest, text: (r) => fixed(2)(r.open_interest) },
    { key: 'delta', label: 'Delta', get: (r) => r.delta, text: (r) => fixed(3)(r.delta) },
    { key: 'gamma', label: 'Gamma', get: (r) => r.gamma, text: (r) => greek(r.gamma) },
    { key: 'theta', label: 'Theta', get: (r) => r.theta, text: (r) => greek(r.theta) },
    { key: 'vega', label: 'Vega', get: (r) => r.vega, text: (r) => greek(r.vega) },
    { key: 'iv', label: 'IV', get: (r) => r.mark_iv, text: (r) => pct(r.mark_iv) },
    { key: 'underlying', label: 'Forward', title: 'The underlying price Bybit gives this contract (its expiry\'s forward)', get: (r) => r.underlying_price, text: (r) => spotText(r.underlying_price) },
    { key: 'index', label: 'Index', get: (r) => r.index_price, text: (r) => spotText(r.index_price) },
  ];
  const COLUMN = Object.fromEntries(COLUMNS.map((c) => [c.key, c]));
  const ESSENTIAL = ['symbol', 'type', 'strike', 'expiry', 'last', 'mark', 'volume'];
  const PRESETS = {
    essential: ESSENTIAL,
    trading: ['symbol', 'type', 'strike', 'expiry', 'dte', 'moneyness', 'bid', 'ask', 'spread', 'mark', 'last', 'volume', 'oi', 'delta', 'iv', 'underlying'],
    greeks: ['symbol', 'type', 'strike', 'mark', 'delta', 'gamma', 'theta', 'vega', 'iv'],
    all: COLUMNS.map((c) => c.key),
  };
  const DEFAULT_HIDDEN = ['gamma', 'theta', 'vega', 'underlying', 'index', 'spread', 'settle', 'moneyness', 'dte'];

  function loadVisibility() {
    const vis = Object.fromEntries(COLUMNS.map((c) => [c.key, !DEFAULT_HIDDEN.includes(c.key)]));
    try {
      const saved = JSON.parse(storage.get('columnVisibility') || 'null');
      if (saved && typeof saved === 'object') {
        for (const k of Object.keys(vis)) if (typeof saved[k] === 'boolean') vis[k] = saved[k];
      }
    } catch (e) { /* a corrupt entry falls back to the defaults */ }
    return vis;
  }

  // ---------------------------------------------------------------------------------------
  // state

  const ui = {
    view: boot.view || 'table',
    asset: boot.asset || '',
    expiry: expiryCode(boot.expiry),
    type: ['call', 'put'].includes((boot.type || '').toLowerCase()) ? boot.type.toLowerCase() : 'all',
    settle: (boot.settle || '').toUpperCase() === 'USDT' ? 'USDT' : 'USDC',
    search: boot.search || '',
    sort: { key: 'volume', dir: 'desc' },
    page: 0,
    pageSize: 50,
    visible: loadVisibility(),
    live: true,
  };
  const savedSize = parseInt(storage.get('pageSize') || '', 10);
  if ([0, 10, 25, 50, 100, 250, 500].includes(savedSize)) ui.pageSize = savedSize;

  const store = {
    rows: new Map(), // symbol -> module JSON row
    loaded: false, // the first (reset) snapshot arrived
    seq: 0,
    expiries: [], // [{code, ts}] sorted, recomputed on membership change
    assets: boot.assets || [],
    index: null, // the asset's index price, from its most recently updated contract
    indexAt: 0,
  };
  const conn = {
    source: null,
    state: 'connecting',
    stats: null,
    lastUpdateMs: 0,
    statsSeen: false,
    error: boot.error || null,
    generation: 0, // bumped per connect(): a late snapshot of a previous asset is dropped
    redisError: null, // the server's last stats event said Redis is unreadable
    notice: null, // a passing remark, e.g. a deep link's unknown expiry
    pending: null, // held changes while auto-refresh is off
    pendingCount: 0,
    status: null, // the stream's last `status` event: feeder heartbeat, per-asset freshness
    statusAt: 0, // when it arrived (the server sends one every 2 s)
  };
  const STALE_MS = 10000;

  // Main-thread costs, for `make bench` and for anyone asking why a browser tab is busy:
  // `dashboardMetrics()` in the console.
  const metrics = {
    connectAt: 0, snapshotAt: 0, snapshotBytes: 0, snapshotWireBytes: 0, snapshotParseMs: 0, firstRenderAt: 0,
    changeEvents: 0, rowsChanged: 0, patchFrames: 0, patchMs: 0, cellsWritten: 0,
    fullRenders: 0, fullRenderMs: 0,
  };
  window.dashboardMetrics = () => ({
    ...metrics,
    rows: store.rows.size,
    timeToFirstRenderMs: metrics.firstRenderAt ? metrics.firstRenderAt - metrics.connectAt : null,
  });

  // ---------------------------------------------------------------------------------------
  // derived data

  function recomputeExpiries() {
    const m = new Map();
    for (const r of store.rows.values()) if (!m.has(r.expiry)) m.set(r.expiry, r.expiry_ts);
    store.expiries = [...m].map(([code, ts]) => ({ code, ts })).sort((a, b) => a.ts - b.ts);
  }

  /** The expiry the chain and charts show: the chosen one, or the nearest. */
  function focusExpiry() {
    if (ui.expiry && ui.expiry !== 'ALL' && store.expiries.some((e) => e.code === ui.expiry)) return ui.expiry;
    return store.expiries.length ? store.expiries[0].code : null;
  }

  // The spot card, the chain and the charts all ask for the same chains in one frame: each is
  // built once per change of the store.
  const derived = { chains: new Map(), settles: new Map() };
  function storeChanged() {
    derived.chains.clear();
    derived.settles.clear();
  }

  function settlesOf(expiry) {
    let s = derived.settles.get(expiry);
    if (s) return s;
    s = new Set();
    for (const r of store.rows.values()) if (r.expiry === expiry) s.add(r.settle);
    derived.settles.set(expiry, s);
    return s;
  }

  /** Contracts of one expiry and settle coin, in strike order, paired call/put. */
  function chainOf(expiry, settle) {
    const key = `${expiry}|${settle}`;
    let chain = derived.chains.get(key);
    if (!chain) {
      chain = buildChain(expiry, settle);
      derived.chains.set(key, chain);
    }
    return chain;
  }

  function buildChain(expiry, settle) {
    const byStrike = new Map();
    for (const r of store.rows.values()) {
      if (r.expiry !== expiry || r.settle !== settle) continue;
      let line = byStrike.get(r.strike);
      if (!line) byStrike.set(r.strike, (line = { strike: r.strike, call: null, put: null }));
      line[r.type] = r;
    }
    const lines = [...byStrike.values()].sort((a, b) => a.strike - b.strike);
    // OPTIONS.CHAIN's rule (rules.js): the median forward and the strike nearest it.
    const { forward: spot, atm } = forwardAndAtm(lines);
    return { lines, spot, atm };
  }

  function atmIv(chain) {
    const line = chain.lines.find((l) => l.strike === chain.atm);
    if (!line) return null;
    const ivs = [line.call, line.put].filter((r) => r && isNum(r.mark_iv) && r.mark_iv > 0).map((r) => r.mark_iv);
    return ivs.length ? ivs.reduce((a, b) => a + b, 0) / ivs.length : null;
  }

  function filteredRows() {
    const q = ui.search.trim().toUpperCase();
    const out = [];
    for (const r of store.rows.values()) {
      if (ui.expiry && ui.expiry !== 'ALL' && r.expiry !== ui.expiry) continue;
      if (ui.type !== 'all' && r.type !== ui.type) continue;
      if (q && !r.symbol.includes(q)) continue;
      out.push(r);
    }
    const col = COLUMN[ui.sort.key] || COLUMN.volume;
    const sign = ui.sort.dir === 'asc' ? 1 : -1;
    out.sort((a, b) => {
      const x = col.get(a);
      const y = col.get(b);
      if (x === y) return a.symbol < b.symbol ? -1 : 1;
      if (x === undefined || x === null) return 1;
      if (y === undefined || y === null) return -1;
      return (x < y ? -1 : 1) * sign;
    });
    return out;
  }

  // ---------------------------------------------------------------------------------------
  // cell patching: only changed text is written; numbers that moved flash up or down

  // Flashing is a class swap, never a style read: thousands of cells may change in one frame
  // and a forced style recalculation per cell would freeze a big table. Two alternating
  // classes per direction restart the CSS animation without a reflow.
  function flash(td, up) {
    const next = (up ? 'fu' : 'fd') + (td._flash === 0 ? 1 : 0);
    if (td._flashClass) td.classList.remove(td._flashClass);
    td.classList.add(next);
    td._flashClass = next;
    td._flash = td._flash === 0 ? 1 : 0;
  }

  /**
   * Writes a cell whose text changed. Only quotes and trades (`canFlash`) tick, and only with
   * flashing on: a chain where every greek blinks hides the prices that moved.
   */
  function setCell(td, text, html, before, after, canFlash) {
    if (td.textContent === text) return false;
    metrics.cellsWritten++;
    if (html) td.innerHTML = html; else td.textContent = text;
    if (isNum(before) && isNum(after) && before !== after) {
      td.classList.add('changed');
      if (canFlash && prefs.flash) flash(td, after > before);
    }
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // table view

  const table = {
    el: document.getElementById('options-table'),
    wrap: document.querySelector('#view-table .table-wrap'),
    tbody: document.querySelector('#options-table tbody'),
    thead: document.querySelector('#options-table thead tr'),
    list: [], // symbols of the current page, in order
    rendered: new Map(), // symbol -> tr actually in the DOM
    windowed: false, // only the rows around the scroll position are in the DOM
    first: 0, // windowed: index in `list` of the first row in the DOM
    last: 0,
    rowHeight: 33, // measured after the first windowed render
    dirty: false, // sort key of a shown row moved: re-sort soon
  };
  // Pages above this many rows are windowed: the DOM holds what is on screen plus a margin, so
  // a 2,500-row page costs what a 60-row page does to lay out, patch and re-sort.
  // `localStorage.tableWindowing = 'off'` renders every row, for `make bench` to compare against.
  const WINDOW_ABOVE = storage.get('tableWindowing') === 'off' ? Infinity : 120;
  const OVERSCAN = 15;

  function visibleColumns() {
    return COLUMNS.filter((c) => ui.visible[c.key]);
  }

  function renderTableHead() {
    table.thead.innerHTML = visibleColumns()
      .map((c) => {
        const sorted = ui.sort.key === c.key;
        const aria = sorted ? (ui.sort.dir === 'asc' ? 'ascending' : 'descending') : 'none';
        const unit = c.flash || c.key === 'spread' ? ` (${premiumUnit()})` : '';
        return `<th class="sortable ${c.cls || ''}${sorted ? ' sorted' : ''}" data-col="${c.key}"${sorted ? ` data-dir="${ui.sort.dir}"` : ''} aria-sort="${aria}" tabindex="0" title="${esc(c.title || `Sort by ${c.label}`)}${unit}">${c.label}</th>`;
      })
      .join('');
  }

  function rowHtml(r, cols) {
    return `<tr data-symbol="${esc(r.symbol)}">` +
      cols.map((c) => `<td class="${c.cls || ''}" data-col="${c.key}">${c.html ? c.html(r) : esc(c.text(r))}</td>`).join('') +
      '</tr>';
  }

  /** The current page's symbols, filtered and sorted, plus the pager text. */
  function pageList() {
    const rows = filteredRows();
    const size = ui.pageSize || rows.length || 1;
    const pages = Math.max(1, Math.ceil(rows.length / size));
    ui.page = Math.min(ui.page, pages - 1);
    const shown = rows.slice(ui.page * size, ui.page * size + size);
    $('page-info').textContent = rows.length
      ? `${NF[0].format(ui.page * size + 1)}–${NF[0].format(ui.page * size + shown.length)} of ${NF[0].format(rows.length)}`
      : '0 contracts';
    $('page-prev').disabled = ui.page === 0;
    $('page-next').disabled = ui.page >= pages - 1;
    return shown.map((r) => r.symbol);
  }

  function renderTable() {
    const t0 = performance.now();
    renderTableHead();
    table.list = pageList();
    table.dirty = false;
    table.windowed = table.list.length > WINDOW_ABOVE;
    table.el.classList.toggle('windowed', table.windowed);
    const cols = visibleColumns();
    if (!table.list.length) {
      table.rendered = new Map();
      table.tbody.innerHTML = store.loaded && store.rows.size
        ? `<tr><td class="empty" colspan="${cols.length}">No contracts match these filters.</td></tr>`
        : '';
    } else if (table.windowed) {
      renderWindow(true);
    } else {
      table.tbody.innerHTML = table.list.map((s) => rowHtml(store.rows.get(s), cols)).join('');
      table.rendered = new Map();
      for (const tr of table.tbody.children) table.rendered.set(tr.dataset.symbol, tr);
    }
    metrics.fullRenders++;
    metrics.fullRenderMs += performance.now() - t0;
    if (!metrics.firstRenderAt && table.list.length) metrics.firstRenderAt = performance.now();
  }

  function spacer(cols, px) {
    return `<tr class="spacer" aria-hidden="true" data-px="${px}"><td colspan="${cols}"></td></tr>`;
  }

  /** Windowed pages: puts the rows around the scroll position in the DOM. */
  function renderWindow(force) {
    const n = table.list.length;
    const h = table.rowHeight;
    const view = table.wrap.clientHeight || window.innerHeight;
    const first = Math.max(0, Math.min(n, Math.floor(table.wrap.scrollTop / h) - OVERSCAN));
    const last = Math.min(n, first + Math.ceil(view / h) + 2 * OVERSCAN);
    if (!force && first === table.first && last === table.last) return;
    table.first = first;
    table.last = last;
    const cols = visibleColumns();
    table.tbody.innerHTML = spacer(cols.length, first * h) +
      table.list.slice(first, last).map((s) => rowHtml(store.rows.get(s), cols)).join('') +
      spacer(cols.length, (n - last) * h);
    // Heights through the CSSOM: the page's CSP allows no inline style attributes to rely on.
    for (const sp of table.tbody.querySelectorAll('tr.spacer')) sp.style.height = sp.dataset.px + 'px';
    table.rendered = new Map();
    for (const tr of table.tbody.querySelectorAll('tr[data-symbol]')) table.rendered.set(tr.dataset.symbol, tr);
    const sample = table.tbody.querySelector('tr[data-symbol]');
    const measured = sample ? sample.getBoundingClientRect().height : 0;
    if (measured > 0 && Math.abs(measured - h) > 0.5) {
      table.rowHeight = measured;
      renderWindow(true);
    }
  }

  let scrollQueued = false;
  table.wrap.addEventListener('scroll', () => {
    if (!table.windowed || scrollQueued) return;
    scrollQueued = true;
    requestAnimationFrame(() => {
      scrollQueued = false;
      renderWindow(false);
    });
  }, { passive: true });

  function patchTable(changed) {
    const cols = visibleColumns();
    const sortCol = COLUMN[ui.sort.key];
    for (const [symbol, before] of changed) {
      const after = store.rows.get(symbol);
      if (!after) continue;
      if (before && sortCol && sortCol.get(before) !== sortCol.get(after)) table.dirty = true;
      const tr = table.rendered.get(symbol);
      if (!tr) continue;
      cols.forEach((c, i) => {
        setCell(tr.children[i], c.text(after), c.html ? c.html(after) : null, before && c.get(before), c.get(after), c.flash);
      });
    }
  }

  /** Re-sorts the page after live changes: rows are moved, not rebuilt, when the set is the same. */
  function reorderTable() {
    table.dirty = false;
    const list = pageList();
    const same = list.length === table.list.length && list.every((s, i) => s === table.list[i]);
    if (same) return;
    const current = new Set(table.list);
    if (list.length !== table.list.length || !list.every((s) => current.has(s))) {
      renderTable();
      return;
    }
    table.list = list;
    if (table.windowed) {
      renderWindow(true);
      return;
    }
    const frag = document.createDocumentFragment();
    for (const s of list) frag.appendChild(table.rendered.get(s));
    table.tbody.appendChild(frag);
  }

  // ---------------------------------------------------------------------------------------
  // chain view

  // The book of each side in one order on both sides, as on Deribit: bid left of ask, so a
  // put is never misread. Only the outer columns (chosen in the chain's column menu) mirror.
  const QUOTE_COLS = [
    { key: 'bid_size', label: 'Size', title: 'Bid size (contracts)', text: (r) => sizeText(r.bid_size), cls: 'size' },
    { key: 'bid_iv', label: 'Bid IV', text: (r) => pct(r.bid_iv), cls: 'iv' },
    { key: 'bid_price', label: 'Bid', text: (r) => quote(r, r.bid_price, r.bid_size), cls: 'bid', flash: true, phone: true },
    { key: 'mark_price', label: 'Mark', text: (r) => prem(r, r.mark_price), cls: 'mark', phone: true },
    { key: 'ask_price', label: 'Ask', text: (r) => quote(r, r.ask_price, r.ask_size), cls: 'ask', flash: true, phone: true },
    { key: 'ask_iv', label: 'Ask IV', text: (r) => pct(r.ask_iv), cls: 'iv' },
    { key: 'ask_size', label: 'Size', title: 'Ask size (contracts)', text: (r) => sizeText(r.ask_size), cls: 'size' },
  ];
  const EXTRA_COLS = [
    { key: 'open_interest', label: 'OI', title: 'Open interest (contracts)', text: (r) => fixed(2)(r.open_interest) },
    { key: 'volume_24h', label: 'Volume', title: 'Volume 24 h (contracts)', text: (r) => volume(r.volume_24h) },
    { key: 'mark_iv', label: 'Mark IV', text: (r) => pct(r.mark_iv), phone: true },
    { key: 'delta', label: 'Delta', text: (r) => fixed(3)(r.delta) },
    { key: 'gamma', label: 'Gamma', text: (r) => greek(r.gamma) },
    { key: 'vega', label: 'Vega', text: (r) => greek(r.vega) },
    { key: 'theta', label: 'Theta', text: (r) => greek(r.theta) },
    { key: 'spread', label: 'Spread', title: 'Ask minus bid', value: spreadOf, text: (r) => prem(r, spreadOf(r)) },
    { key: 'change_24h', label: '24h', title: 'Change of the mark over 24 h', text: (r) => signedPct(r.change_24h) },
    { key: 'last_price', label: 'Last', title: 'Last trade', text: (r) => prem(r, r.last_price), flash: true },
  ];
  const EXTRA = Object.fromEntries(EXTRA_COLS.map((c) => [c.key, c]));
  const cellValue = (c, r) => (c.value ? c.value(r) : r[c.key]);
  const NARROW = window.matchMedia('(max-width: 640px)');
  NARROW.addEventListener('change', () => { if (ui.view === 'chain') renderChain(); });
  const chainView = { cells: new Map(), key: '', atm: null, scrolledTo: null, focusStrike: null };

  /** The columns of each side: calls (outer → strike) and puts (strike → outer). */
  function chainLayout() {
    if (NARROW.matches) {
      // A phone shows one side at a time, strike first, bid and ask kept.
      const cols = [...QUOTE_COLS.filter((c) => c.phone), EXTRA.mark_iv];
      return { call: prefs.side === 'call' ? cols : [], put: prefs.side === 'put' ? cols : [], phone: true };
    }
    const extras = prefs.chainExtras.map((k) => EXTRA[k]).filter(Boolean);
    return { call: [...extras, ...QUOTE_COLS], put: [...QUOTE_COLS, ...[...extras].reverse()], phone: false };
  }

  /** The server's clock (from its last status event): update times are the server's. */
  const serverNow = () => (conn.statusAt && conn.status && isNum(conn.status.server_ms) ? conn.status.server_ms + (Date.now() - conn.statusAt) : Date.now());
  const isItm = (side, strike, forward) => forward !== null && (side === 'call' ? strike < forward : strike > forward);
  const isOld = (r, now) => !r || !isNum(r.updated_ms) || now - r.updated_ms > prefs.oldSecs * 1000;

  function chainCell(r, c, side, strike, forward, now) {
    const cls = [c.cls || '', isItm(side, strike, forward) ? 'itm' : '', r && isOld(r, now) ? 'old' : ''].join(' ').trim();
    const text = r ? c.text(r) : '';
    const id = r ? ` data-symbol="${esc(r.symbol)}" data-field="${c.key}"` : '';
    return `<td class="${cls}" data-side="${side}"${id}>${esc(text)}</td>`;
  }

  function renderChain() {
    const head = $('chain-head');
    const thead = document.querySelector('#chain-table thead');
    const tbody = document.querySelector('#chain-table tbody');
    const expiry = focusExpiry();
    chainView.cells = new Map();
    if (!expiry) {
      head.innerHTML = '';
      thead.innerHTML = '';
      tbody.innerHTML = '';
      return;
    }
    const settles = settlesOf(expiry);
    if (!settles.has(ui.settle) && settles.size) ui.settle = settles.has('USDC') ? 'USDC' : [...settles][0];
    syncSettleSelect(settles);
    const ch = chainOf(expiry, ui.settle);
    chainView.key = `${expiry}|${ui.settle}`;
    chainView.atm = ch.atm;
    const e = store.expiries.find((x) => x.code === expiry);
    const iv = atmIv(ch);
    const layout = chainLayout();
    head.innerHTML = [
      `<span>Expiry <b>${esc(expiryLabel(expiry))}</b> <span class="muted">in</span> <b id="chain-left">${e ? esc(timeLeft(e.ts)) : '?'}</b></span>`,
      `<span title="The underlying's index (spot)">Index <b id="chain-index">${esc(spotText(store.index))}</b></span>`,
      `<span title="The forward of this expiry: the median of its contracts' underlying prices, as OPTIONS.CHAIN computes it">Forward <b id="chain-spot">${esc(spotText(ch.spot))}</b></span>`,
      `<span>ATM strike <b id="chain-atm">${ch.atm === null ? '–' : esc(strikeText(ch.atm))}</b></span>`,
      `<span>ATM IV <b id="chain-atm-iv">${esc(pct(iv))}</b></span>`,
      `<span>${ch.lines.length} strikes · ${esc(ui.settle)} · premium in ${esc(premiumUnit())}</span>`,
      layout.phone
        ? `<span class="side-toggle" role="group" aria-label="Side"><button type="button" data-side="call" class="${prefs.side === 'call' ? 'active' : ''}">Calls</button><button type="button" data-side="put" class="${prefs.side === 'put' ? 'active' : ''}">Puts</button></span>`
        : '<span class="columns-menu"><button type="button" id="chain-cols-btn" aria-haspopup="true" aria-expanded="false">Columns ▾</button></span>',
    ].join('');
    // Every strike with the chain's decimals (XRP: 1.90, 1.95, 2.00), so the column aligns.
    const strikeFmt = dec(Math.min(6, valuesDecimals(ch.lines.map((l) => l.strike))));
    const th = (c) => `<th class="${c.cls || ''}"${c.title ? ` title="${esc(c.title)}"` : ''}>${c.label}</th>`;
    thead.innerHTML =
      '<tr>' +
      (layout.call.length ? `<th class="calls" colspan="${layout.call.length}">Calls</th>` : '') +
      '<th class="strike"></th>' +
      (layout.put.length ? `<th class="puts" colspan="${layout.put.length}">Puts</th>` : '') +
      '</tr><tr>' +
      layout.call.map(th).join('') + '<th class="strike">Strike</th>' + layout.put.map(th).join('') +
      '</tr>';
    if (!ch.lines.length) {
      tbody.innerHTML = `<tr><td class="empty" colspan="${layout.call.length + layout.put.length + 1}">No ${esc(ui.settle)} contracts for this expiry.</td></tr>`;
      return;
    }
    const now = serverNow();
    tbody.innerHTML = ch.lines
      .map((l) => {
        const cls = l.strike === ch.atm ? ' class="atm"' : '';
        return `<tr data-strike="${l.strike}"${cls}>` +
          layout.call.map((c) => chainCell(l.call, c, 'call', l.strike, ch.spot, now)).join('') +
          `<td class="strike">${esc(strikeFmt(l.strike))}</td>` +
          layout.put.map((c) => chainCell(l.put, c, 'put', l.strike, ch.spot, now)).join('') +
          '</tr>';
      })
      .join('');
    for (const td of tbody.querySelectorAll('td[data-symbol]')) {
      chainView.cells.set(`${td.dataset.symbol}|${td.dataset.field}`, td);
    }
    chainView.layout = layout;
    // A new chain opens centred on the money, where a trader looks first, or on the strike
    // of the contract it was opened from.
    const focus = chainView.focusStrike;
    chainView.focusStrike = null;
    if (chainView.scrolledTo !== chainView.key || focus !== null) {
      chainView.scrolledTo = chainView.key;
      const wrap = tbody.closest('.table-wrap');
      const row = (focus !== null && tbody.querySelector(`tr[data-strike="${focus}"]`)) || tbody.querySelector('tr.atm');
      if (row && wrap.scrollHeight > wrap.clientHeight) {
        wrap.scrollTop = row.offsetTop - wrap.clientHeight / 2;
      }
      if (row && focus !== null) {
        row.classList.add('focus');
        setTimeout(() => row.classList.remove('focus'), 2500);
      }
    }
  }

  function patchChain(changed) {
    const expiry = focusExpiry();
    const layout = chainView.layout;
    if (!layout) return;
    let touched = false;
    for (const [symbol, before] of changed) {
      const after = store.rows.get(symbol);
      if (!after || after.expiry !== expiry || after.settle !== ui.settle) continue;
      touched = true;
      for (const c of layout[after.type] || []) {
        const td = chainView.cells.get(`${symbol}|${c.key}`);
        if (!td) continue;
        setCell(td, c.text(after), null, before && cellValue(c, before), cellValue(c, after), c.flash);
        td.classList.remove('old');
      }
    }
    if (!touched) return;
    // The forward moved: ATM row, ITM shading and the header follow it.
    const ch = chainOf(expiry, ui.settle);
    $('chain-spot').textContent = spotText(ch.spot);
    $('chain-index').textContent = spotText(store.index);
    $('chain-atm-iv').textContent = pct(atmIv(ch));
    if (ch.atm !== chainView.atm) {
      chainView.atm = ch.atm;
      $('chain-atm').textContent = ch.atm === null ? '–' : strikeText(ch.atm);
      for (const tr of document.querySelectorAll('#chain-table tbody tr')) {
        tr.classList.toggle('atm', Number(tr.dataset.strike) === ch.atm);
      }
    }
    if (ch.spot !== null) {
      for (const tr of document.querySelectorAll('#chain-table tbody tr[data-strike]')) {
        const k = Number(tr.dataset.strike);
        for (const td of tr.querySelectorAll('td[data-side]')) td.classList.toggle('itm', isItm(td.dataset.side, k, ch.spot));
      }
    }
  }

  /** Dims the sides of the chain (and rows of the table) that have not updated for a while. */
  function markOldRows() {
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

  // Age on hover: when each side of a chain row (or a table row) last changed.
  function ageTitle(r) {
    return r && isNum(r.updated_ms) ? `${r.symbol}: updated ${ago(r.updated_ms)} (${clock(r.updated_ms, prefs.utc)})` : '';
  }
  document.querySelector('#chain-table tbody').addEventListener('mouseover', (e) => {
    const td = e.target.closest('td');
    if (!td) return;
    const tr = td.closest('tr[data-strike]');
    if (!tr) return;
    const syms = new Set([...tr.querySelectorAll('td[data-symbol]')].map((x) => x.dataset.symbol));
    tr.title = [...syms].map((s) => ageTitle(store.rows.get(s))).filter(Boolean).join('\n');
  });
  table.tbody.addEventListener('mouseover', (e) => {
    const tr = e.target.closest('tr[data-symbol]');
    if (tr) tr.title = ageTitle(store.rows.get(tr.dataset.symbol));
  });
  $('chain-head').addEventListener('click', (e) => {
    const side = e.target.closest('.side-toggle button[data-side]');
    if (side) {
      prefs.side = side.dataset.side;
      storage.set('chainSide', prefs.side);
      renderChain();
      return;
    }
    if (e.target.closest('#chain-cols-btn')) {
      e.stopPropagation();
      const panel = $('chain-cols-panel');
      const btn = e.target.closest('#chain-cols-btn');
      const r = btn.getBoundingClientRect();
      panel.style.top = `${r.bottom + window.scrollY + 4}px`;
      panel.style.left = `${Math.max(8, r.right + window.scrollX - 300)}px`;
      togglePopover('chain-cols-panel', btn);
    }
  });
  function renderChainColumnChecks() {
    $('chain-col-checks').innerHTML = EXTRA_COLS.map((c) =>
      `<label><input type="checkbox" data-col="${c.key}" ${prefs.chainExtras.includes(c.key) ? 'checked' : ''}>${esc(c.title || c.label)}</label>`).join('');
  }
  $('chain-cols-panel').addEventListener('click', (e) => e.stopPropagation());
  $('chain-col-checks').addEventListener('change', (e) => {
    const key = e.target.dataset.col;
    if (!key) return;
    const keep = new Set(prefs.chainExtras);
    if (e.target.checked) keep.add(key); else keep.delete(key);
    // Kept in the menu's order, so the columns do not shuffle as they are ticked.
    prefs.chainExtras = EXTRA_COLS.map((c) => c.key).filter((k) => keep.has(k));
    storage.set('chainColumns', JSON.stringify(prefs.chainExtras));
    renderChain();
  });

  // ---------------------------------------------------------------------------------------
  // charts (uPlot)

  // `spot` and `halfStep` are read by chart hooks at draw time: a chart outlives the render
  // that created it (later renders only swap its data).
  const charts = { smile: null, term: null, oi: null, anTerm: null, anSkew: null, anGex: null, hSpot: null, hIv: null, hSkew: null, hPos: null, hGex: null, timer: null, spot: null, maxPain: null, halfStep: 1 };
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
      charts[slot].setData(data);
      return;
    }
    if (charts[slot]) charts[slot].destroy();
    el.innerHTML = '';
    opts.width = chartWidth(el);
    opts.height = 260;
    charts[slot] = new uPlot(opts, data, el);
    charts[slot]._key = opts.key;
  }

  function renderCharts() {
    if (typeof uPlot === 'undefined') {
      for (const id of ['chart-smile', 'chart-term', 'chart-oi']) $(id).innerHTML = '<div class="empty-chart">Charts unavailable (uPlot did not load)</div>';
      return;
    }
    const expiry = focusExpiry();
    const settles = expiry ? settlesOf(expiry) : new Set();
    if (expiry && !settles.has(ui.settle) && settles.size) ui.settle = settles.has('USDC') ? 'USDC' : [...settles][0];
    syncSettleSelect(settles);
    const ch = expiry ? chainOf(expiry, ui.settle) : { lines: [], spot: null, atm: null };
    const call = cssVar('--call');
    const put = cssVar('--put');
    const accent = cssVar('--accent');
    const strikes = ch.lines.map((l) => l.strike);
    charts.spot = ch.spot;
    const ivOf = (r) => (r && isNum(r.mark_iv) && r.mark_iv > 0 ? r.mark_iv * 100 : null);
    $('smile-caption').textContent = expiry ? `· ${expiryLabel(expiry)} · ${ui.settle}` : '';
    const pain = maxPain(ch.lines);
    $('oi-caption').textContent = expiry
      ? `· ${expiryLabel(expiry)} · ${ui.settle}${pain === null ? '' : ` · max pain ${strikeText(pain)}`}` : '';
    const spotPlugin = verticalMarker(() => charts.spot, accent);
    // Max pain (rules.js, as OPTIONS.ANALYTICS computes it) on the open-interest chart.
    charts.maxPain = pain;
    const painPlugin = verticalMarker(() => charts.maxPain, cssVar('--muted'), [2, 3]);
    // 102.5k rather than 102,500: bar charts have many strikes and little room per label.
    // Labels with the decimals the ticks need (XRP's strikes are 0.05 apart: 2.05, not "2").
    const strikeAxis = (u, vals) => {
      const dp = Math.min(4, valuesDecimals(vals.filter((v) => v !== null && Math.abs(v) < 10000)));
      return vals.map((v) => (v === null ? '' : Math.abs(v) >= 10000 ? `${+(v / 1000).toFixed(2)}k` : dec(dp)(v)));
    };
    drawChart('smile', $('chart-smile'), {
      key: 'smile',
      plugins: [spotPlugin],
      scales: { x: { time: false } },
      series: [
        { label: 'Strike', value: (u, v) => (v === null ? '–' : strikeText(v)) },
        { label: 'Call IV %', stroke: call, width: 2, points: { size: 4 }, spanGaps: true, value: (u, v) => (v === null ? '–' : v.toFixed(1)) },
        // Dashed: where call and put IVs agree the call line still shows through.
        { label: 'Put IV %', stroke: put, width: 2, dash: [6, 4], points: { size: 4 }, spanGaps: true, value: (u, v) => (v === null ? '–' : v.toFixed(1)) },
      ],
      axes: axes('Strike', 'IV %', strikeAxis),
    }, [strikes, ch.lines.map((l) => ivOf(l.call)), ch.lines.map((l) => ivOf(l.put))]);

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

    const term = store.expiries
      .map((e) => {
        const s = settlesOf(e.code);
        const c = chainOf(e.code, s.has(ui.settle) ? ui.settle : [...s][0]);
        const iv = atmIv(c);
        return { ts: e.ts / 1000, iv: iv === null ? null : iv * 100 };
      })
      .filter((p) => p.iv !== null);
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
  const analyticsView = new AnalyticsView({ el: $, drawChart, axes, cssVar });
  const historyView = new HistoryView({ el: $, drawChart, axes, cssVar });
  const CHART_SLOTS = ['smile', 'term', 'oi', 'anTerm', 'anSkew', 'anGex', 'hSpot', 'hIv', 'hSkew', 'hPos', 'hGex'];
  // Views that list "All expiries" in the expiry menu (the chain and charts show one expiry).
  const allExpiryViews = ['table', 'analytics'];

  function scheduleCharts() {
    if (charts.timer) return;
    charts.timer = setTimeout(() => {
      charts.timer = null;
      if (ui.view === 'charts') renderCharts();
    }, 1000);
  }

  // ---------------------------------------------------------------------------------------
  // rendering entry points

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
    const html = opts.join('');
    if (sel.dataset.html !== html) {
      sel.innerHTML = html;
      sel.dataset.html = html;
    }
    sel.value = want;
    if (sel.value !== want && sel.options.length) sel.selectedIndex = 0;
  }

  function syncSettleSelect(settles) {
    const sel = $('f-settle');
    for (const o of sel.options) o.disabled = settles.size > 0 && !settles.has(o.value);
    sel.value = ui.settle;
  }

  /** The premium unit: USD as Bybit quotes, or the asset's coin as Deribit does. */
  function premiumUnit() {
    return prefs.premium === 'coin' ? ui.asset || 'coin' : 'USD';
  }

  // The trader's cards: index, the forward of the expiry in view, and the chain analytics a
  // desk watches (30-day ATM IV and 25Δ risk reversal, put/call ratio), from OPTIONS.ANALYTICS.
  const cards = { analytics: null, asset: null, fetching: false, again: false };
  async function loadCardAnalytics() {
    if (!ui.asset) return;
    if (cards.fetching) {
      cards.again = true;
      return;
    }
    cards.fetching = true;
    const asset = ui.asset;
    try {
      const r = await fetch(`/api/analytics/${encodeURIComponent(asset)}`, { headers: { Accept: 'application/json' } });
      if (r.ok && asset === ui.asset) {
        cards.analytics = await r.json();
        cards.asset = asset;
        renderCards();
      }
    } catch (e) { /* the cards keep their last figures; the banner says why */ }
    cards.fetching = false;
    if (cards.again) {
      cards.again = false;
      loadCardAnalytics();
    }
  }

  function renderCards() {
    const expiry = focusExpiry();
    $('stat-index').textContent = spotText(store.index);
    $('stat-index-sub').textContent = ui.asset ? `${ui.asset} index` + (store.indexAt ? ` · ${clock(store.indexAt, prefs.utc)}` : '') : '';
    if (expiry) {
      const s = settlesOf(expiry);
      const ch = chainOf(expiry, s.has(ui.settle) ? ui.settle : s.has('USDC') ? 'USDC' : [...s][0]);
      $('stat-forward').textContent = spotText(ch.spot);
      $('stat-forward-sub').textContent = `${expiryLabel(expiry)} · ATM ${ch.atm === null ? '–' : strikeText(ch.atm)} · IV ${pct(atmIv(ch))}`;
    } else {
      $('stat-forward').textContent = '–';
      $('stat-forward-sub').textContent = '';
    }
    const a = cards.asset === ui.asset ? cards.analytics : null;
    const tenor = (d) => (a && Array.isArray(a.tenors) ? a.tenors.find((t) => t.days === d) : null) || {};
    const t30 = tenor(30);
    $('stat-iv30').textContent = pct(t30.atm_iv);
    const t7 = tenor(7);
    const t90 = tenor(90);
    $('stat-iv30-sub').textContent = a ? `7d ${pct(t7.atm_iv)} · 90d ${pct(t90.atm_iv)}` : '';
    const pts = (v) => (isNum(v) ? (v > 0 ? '+' : '') + (v * 100).toFixed(2) : '–');
    $('stat-rr25').textContent = pts(t30.rr25);
    $('stat-rr25').className = 'value ' + (isNum(t30.rr25) ? (t30.rr25 < 0 ? 'neg' : 'pos') : '');
    $('stat-rr25-sub').textContent = a ? `vol pts · BF25 ${pts(t30.bf25)}` : '';
    const tot = a ? a.totals : null;
    $('stat-pcr').textContent = tot && isNum(tot.pcr_oi) ? tot.pcr_oi.toFixed(2) : '–';
    $('stat-pcr-sub').textContent = tot ? `OI · volume ${isNum(tot.pcr_volume) ? tot.pcr_volume.toFixed(2) : '–'}` : '';
  }

  function renderView() {
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
    for (const b of document.querySelectorAll('.views button')) b.classList.toggle('active', b.dataset.view === ui.view);
    renderState();
    renderExpirySelect();
    renderCards();
    $('stat-asset-contracts').textContent = ui.asset && store.loaded ? `${NF[0].format(store.rows.size)} ${ui.asset}` : '';
    if (ui.view === 'table') renderTable();
    else if (ui.view === 'chain') renderChain();
    else if (ui.view === 'analytics') analyticsView.show(ui.asset, ui.expiry || 'ALL');
    else if (ui.view === 'history') historyView.show(ui.asset);
    else renderCharts();
    syncUrl();
  }

  function syncUrl() {
    const p = new URLSearchParams();
    if (ui.asset) p.set('asset', ui.asset);
    if (ui.expiry && ui.expiry !== 'ALL') p.set('expiry', ui.expiry);
    if (ui.view !== 'table') p.set('view', ui.view);
    if (ui.type !== 'all' && ui.view === 'table') p.set('type', ui.type);
    if (ui.settle !== 'USDC' && ui.view !== 'table') p.set('settle', ui.settle);
    if (ui.search && ui.view !== 'charts') p.set('q', ui.search);
    const url = '/' + (p.toString() ? '?' + p.toString() : '');
    if (location.pathname + location.search !== url) history.replaceState(null, '', url);
    storage.set('lastView', p.toString());
    document.title = ui.asset ? `${ui.asset} options · Bybit` : 'Bybit options';
  }

  // Batches of changes are applied at most once per animation frame.
  let frameQueued = false;
  const queued = { changed: new Map(), membership: false };
  function queueRender(changed, membership) {
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

  // A shown row whose sort key moved is re-sorted at most every 2 s, so rows don't jump
  // under the pointer on every tick.
  setInterval(() => {
    if (ui.view === 'table' && table.dirty && ui.live && !document.querySelector('#options-table tbody tr:hover')) reorderTable();
  }, 2000);

  // ---------------------------------------------------------------------------------------
  // live data

  function applyChanges(ch) {
    storeChanged();
    const changed = new Map();
    let membership = false;
    if (ch.reset) {
      store.rows.clear();
      store.indexAt = 0;
      membership = true;
    }
    for (const r of ch.data || []) {
      const before = store.rows.get(r.symbol);
      store.rows.set(r.symbol, r);
      // The index is one number for the asset: the newest contract's is the current one.
      if (isNum(r.index_price) && r.index_price > 0 && (r.updated_ms || 0) >= store.indexAt) {
        store.index = r.index_price;
        store.indexAt = r.updated_ms || 0;
      }
      if (before) changed.set(r.symbol, before);
      else membership = true;
    }
    for (const s of ch.removed || []) if (store.rows.delete(s)) membership = true;
    if (isNum(ch.seq)) store.seq = ch.seq;
    const first = !store.loaded;
    store.loaded = true;
    queueRender(changed, membership || first);
  }

  function holdChanges(ch) {
    const p = conn.pending || (conn.pending = { reset: false, data: new Map(), removed: new Set(), seq: 0 });
    if (ch.reset) {
      p.reset = true;
      p.data.clear();
      p.removed.clear();
    }
    for (const r of ch.data || []) {
      p.data.set(r.symbol, r);
      p.removed.delete(r.symbol);
    }
    for (const s of ch.removed || []) {
      p.data.delete(s);
      p.removed.add(s);
    }
    p.seq = ch.seq;
    conn.pendingCount += (ch.data || []).length + (ch.removed || []).length;
    renderLive();
  }

  function releaseHeld() {
    const p = conn.pending;
    conn.pending = null;
    conn.pendingCount = 0;
    if (p) applyChanges({ reset: p.reset, data: [...p.data.values()], removed: [...p.removed], seq: p.seq });
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
    $('stat-contracts').textContent = NF[0].format(s.total_symbols || 0);
    $('stat-messages').textContent = NF[0].format(s.messages_processed || 0);
    $('stat-memory').textContent = s.redis_memory || '–';
    $('stat-last').textContent = conn.lastUpdateMs ? clock(conn.lastUpdateMs, prefs.utc) : 'N/A';
    if (!store.loaded) renderView();
    renderLive();
  }

  /**
   * Loads the asset's chain, then follows it. The snapshot comes from /api/changes (gzipped:
   * ~1.6 MB of JSON for 2,500 contracts travels as a fraction of that); the stream then starts
   * from the snapshot's sequence, so nothing falls between the two. If the snapshot fails the
   * stream starts from 0 and its first event is the whole chain instead.
   */
  async function connect() {
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
    let streamable = true; // false for a name that is not an asset symbol at all
    try {
      const resp = await fetch(`/api/changes/${encodeURIComponent(asset)}?since=0`, { headers: { Accept: 'application/json' } });
      const text = await resp.text();
      if (generation !== conn.generation) return;
      if (resp.ok) {
        const t0 = performance.now();
        const snapshot = JSON.parse(text);
        Object.assign(metrics, { snapshotAt: t0, snapshotBytes: text.length, snapshotParseMs: performance.now() - t0 });
        const timing = performance.getEntriesByName(resp.url).pop();
        metrics.snapshotWireBytes = timing ? timing.encodedBodySize : null;
        applyChanges(snapshot);
        since = snapshot.seq || 0;
        // A known asset: its analytics for the cards, its tick sizes for the prices.
        loadCardAnalytics();
        loadInstruments(asset);
      } else if (resp.status === 404 || resp.status === 400) {
        store.loaded = true; // unknown or malformed asset: the empty state says so
        streamable = resp.status === 404;
        renderView();
      }
    } catch (e) {
      if (generation !== conn.generation) return;
    }
    // A malformed name gets the stats alone: the server would refuse it as an asset.
    const url = !streamable ? '/api/stream'
      : `/api/stream?assets=${encodeURIComponent(asset)}` + (since ? `&since=${encodeURIComponent(`${asset}:${since}`)}` : '');
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
      if (es !== conn.source || msg.asset !== ui.asset) return;
      if (ui.live || !store.loaded) applyChanges(msg.changes);
      else holdChanges(msg.changes);
    });
    es.addEventListener('analytics', (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (es !== conn.source || !ui.live) return;
      if (msg.asset === ui.asset && msg.analytics) {
        cards.analytics = msg.analytics;
        cards.asset = msg.asset;
        renderCards();
      }
      if (ui.view === 'analytics') analyticsView.changed(msg.asset);
      if (ui.view === 'history') historyView.changed(msg.asset);
    });
    es.addEventListener('status', (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (es !== conn.source) return;
      conn.status = msg;
      conn.statusAt = Date.now();
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

  // The server sends a status event every 2 s: after this long without one while the stream
  // says it is open, the server itself is stuck.
  const STATUS_SILENT_MS = 7000;
  const secs = (ms) => `${Math.max(0, Math.round(ms / 1000))} s`;

  /** Age of the shown asset's data in ms (server clock, so a skewed browser clock is harmless). */
  function assetAge() {
    const st = conn.status;
    const a = st && st.assets ? st.assets[ui.asset] : null;
    if (!st || !a || !isNum(a.last_update_ms) || a.last_update_ms <= 0 || !isNum(st.server_ms)) return null;
    return st.server_ms - a.last_update_ms + (Date.now() - conn.statusAt);
  }

  /**
   * Why the shown data may be old, naming the part at fault: the dashboard server unreachable or
   * stuck, Redis down, no feeder, the feeder cut off from Bybit or failing to write, or Bybit
   * quiet. Returns {state, label, message, error}; message null when all is well.
   */
  function diagnose() {
    const since = conn.lastUpdateMs ? ` — last update ${ago(conn.lastUpdateMs)}` : '';
    if (conn.state === 'connecting') return { state: 'connecting', label: 'Connecting…' };
    if (conn.state !== 'open') {
      return { state: 'disconnected', label: 'Server unreachable', error: true,
        message: `The dashboard server cannot be reached — reconnecting${since}. Prices shown may be old.` };
    }
    if (conn.statusAt && Date.now() - conn.statusAt > STATUS_SILENT_MS) {
      return { state: 'disconnected', label: 'Server stuck', error: true,
        message: `The dashboard server stopped sending updates ${secs(Date.now() - conn.statusAt)} ago (connected, but silent). Prices shown may be old.` };
    }
    if (conn.redisError) {
      return { state: 'disconnected', label: 'Redis down', error: true,
        message: `${conn.redisError}${since}. Showing the last data received.` };
    }
    const st = conn.status;
    const age = assetAge();
    const stale = age !== null && age > STALE_MS;
    const assetSince = age !== null ? ` — last ${ui.asset} update ${secs(age)} ago` : since;
    if (st && !st.error) {
      const f = st.feeder;
      if (!f) {
        if (stale || age === null) {
          return { state: 'stale', label: 'No feeder',
            message: `No feeder is running: nothing writes ${ui.asset} to Redis${assetSince}.` };
        }
      } else if (isNum(f.ws_wanted) && f.ws_open < f.ws_wanted) {
        return { state: 'stale', label: 'Bybit unreachable',
          message: `The feeder cannot reach Bybit: ${f.ws_wanted - f.ws_open} of ${f.ws_wanted} connections down${assetSince}.` };
      } else if (stale) {
        const quietFor = isNum(f.last_message_ms) && f.last_message_ms > 0 ? st.server_ms - f.last_message_ms : null;
        if (f.redis_up === 0) {
          return { state: 'stale', label: 'Write errors',
            message: `The feeder receives Bybit's tickers but cannot write them to Redis${assetSince}.` };
        }
        // Half the staleness limit without any ticker is the exchange going quiet (one asset
        // stops while the others keep ticking: the others are fresher than that).
        if (quietFor === null || quietFor > STALE_MS / 2) {
          return { state: 'stale', label: 'Bybit quiet',
            message: `Bybit is quiet: no ticker for ${quietFor === null ? 'a while' : secs(quietFor)} (the feeder is connected)${assetSince}.` };
        }
        return { state: 'stale', label: `${ui.asset} quiet`,
          message: `No ${ui.asset} ticker for ${secs(age)} while other assets update${since}.` };
      }
    } else if (!st && conn.lastUpdateMs && Date.now() - conn.lastUpdateMs > STALE_MS) {
      // A server without status events (older, or no asset followed): the global clock only.
      return { state: 'stale', label: 'Stale', message: `No update${since}. Nothing is writing to Redis.` };
    }
    if (!ui.live) {
      return { state: 'paused', label: conn.pendingCount ? `Paused · ${NF[0].format(conn.pendingCount)} updates held` : 'Paused' };
    }
    return { state: 'live', label: 'Live' };
  }

  function renderLive() {
    const el = $('live');
    const banner = $('banner');
    const d = diagnose();
    let message = d.message || null;
    let error = !!d.error;
    if (!message && conn.error) {
      message = conn.error;
      error = true;
    }
    if (!message && conn.notice) message = conn.notice;
    el.dataset.state = d.state;
    $('live-text').textContent = d.label;
    // Quotes that may be old are dimmed, not hidden: the last book is still worth seeing.
    document.querySelector('main').classList.toggle('quotes-old', d.state === 'stale' || d.state === 'disconnected');
    banner.hidden = message === null;
    banner.classList.toggle('error', error);
    if (message !== null && banner.textContent !== message) banner.textContent = message;
    $('stat-last-ago').textContent = conn.lastUpdateMs ? ago(conn.lastUpdateMs) : '';
  }

  /** The operations figures, in the status popover of the live indicator. */
  function renderStatusPanel() {
    const st = conn.status;
    const f = st && st.feeder;
    let feeder = 'unknown';
    if (st && !st.error) {
      feeder = !f ? 'not running (no heartbeat in Redis)'
        : `up since ${clock(f.started_ms, prefs.utc)} · ${f.ws_open}/${f.ws_wanted} connections to Bybit · last ticker ${isNum(f.last_message_ms) && f.last_message_ms ? secs(st.server_ms - f.last_message_ms) + ' ago' : 'none yet'} · Telegram ${f.telegram ? 'on' : 'off'}`;
    }
    $('stat-feeder').textContent = feeder;
    $('stat-server').textContent = st && isNum(st.server_ms) ? clock(st.server_ms, prefs.utc) : '–';
  }
  $('live').addEventListener('click', (e) => {
    e.stopPropagation();
    togglePopover('status-panel', $('live'));
    renderStatusPanel();
  });
  $('status-panel').addEventListener('click', (e) => e.stopPropagation());
  setInterval(renderLive, 1000);

  // ---------------------------------------------------------------------------------------
  // API calls for asset management

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const token = storage.get('apiToken');
    if (token) headers.Authorization = 'Bearer ' + token;
    let resp;
    try {
      resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new Error('The server cannot be reached.');
    }
    let json = null;
    try { json = await resp.json(); } catch (e) { /* not JSON */ }
    if (!resp.ok) throw new Error((json && (json.detail || json.error || json.message)) || `HTTP ${resp.status}`);
    return json;
  }

  async function refreshAssets() {
    try {
      const cfg = await api('GET', '/api/assets');
      store.assets = Object.entries(cfg)
        .sort((a, b) => (a[1].order || 1e9) - (b[1].order || 1e9))
        .map(([symbol, v]) => ({ symbol, name: v.name || symbol, enabled: v.enabled !== false }));
      conn.error = null;
    } catch (e) {
      conn.error = `Cannot load the asset list: ${e.message}`;
    }
    renderTabs();
    renderLive();
  }

  function renderTabs() {
    const nav = $('asset-tabs');
    const add = $('add-asset');
    for (const b of [...nav.querySelectorAll('.tab[data-asset]')]) b.remove();
    const shown = store.assets.filter((a) => a.enabled);
    // A deep link to an asset that is not a tab still gets one while it is shown.
    if (ui.asset && !shown.some((a) => a.symbol === ui.asset)) shown.push({ symbol: ui.asset, name: ui.asset });
    for (const a of shown) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'tab' + (a.symbol === ui.asset ? ' active' : '');
      b.setAttribute('role', 'tab');
      b.dataset.asset = a.symbol;
      b.title = a.name;
      b.textContent = a.symbol;
      nav.insertBefore(b, add);
    }
  }

  function selectAsset(symbol) {
    if (symbol === ui.asset) return;
    ui.asset = symbol;
    ui.expiry = '';
    ui.page = 0;
    ui.search = '';
    $('f-search').value = '';
    for (const b of document.querySelectorAll('.tab[data-asset]')) b.classList.toggle('active', b.dataset.asset === symbol);
    connect();
  }

  // add-asset dialog
  const addDialog = $('add-dialog');
  const addMsg = (text, ok) => {
    $('add-message').textContent = text;
    $('add-message').className = 'message ' + (ok ? 'ok' : text ? 'error' : '');
  };
  const addSymbol = () => $('add-symbol').value.trim().toUpperCase();
  function validSymbol(s) {
    if (!s) return 'Enter a symbol.';
    if (s.length > 10) return 'A symbol has at most 10 characters.';
    if (!/^[A-Z0-9]+$/.test(s)) return 'Letters and digits only.';
    if (store.assets.some((a) => a.symbol === s)) return `${s} is already tracked.`;
    return null;
  }
  $('add-asset').addEventListener('click', () => {
    $('add-symbol').value = '';
    $('add-name').value = '';
    $('add-submit').disabled = true;
    addMsg('');
    addDialog.showModal();
  });
  $('add-symbol').addEventListener('input', () => {
    $('add-symbol').value = $('add-symbol').value.toUpperCase();
    $('add-submit').disabled = true;
    addMsg('');
  });
  $('add-cancel').addEventListener('click', () => addDialog.close());
  $('add-test').addEventListener('click', async () => {
    const s = addSymbol();
    const bad = validSymbol(s);
    if (bad) return addMsg(bad);
    addMsg('Asking Bybit…', true);
    try {
      const r = await api('POST', '/api/assets/test', { symbol: s, name: $('add-name').value.trim() });
      addMsg(r.message || (r.success ? 'Listed' : 'Not listed'), r.success);
      $('add-submit').disabled = !r.success;
    } catch (e) {
      addMsg(e.message);
    }
  });
  $('add-submit').addEventListener('click', async () => {
    const s = addSymbol();
    try {
      await api('POST', '/api/assets/add', { symbol: s, name: $('add-name').value.trim() || s });
      addDialog.close();
      await refreshAssets();
      selectAsset(s);
    } catch (e) {
      addMsg(e.message);
      $('add-submit').disabled = true;
    }
  });
  $('add-form').addEventListener('submit', (e) => e.preventDefault());

  // settings dialog: enable/disable/remove assets
  const settings = $('settings-dialog');
  function renderSettings() {
    const body = document.querySelector('#settings-assets tbody');
    body.innerHTML = store.assets
      .map((a) => `<tr data-asset="${esc(a.symbol)}"><td><b>${esc(a.symbol)}</b></td><td>${esc(a.name)}</td>` +
        `<td><input type="checkbox" class="toggle-asset" ${a.enabled ? 'checked' : ''} aria-label="Show ${esc(a.symbol)}"></td>` +
        `<td><button type="button" class="remove-asset">Remove</button></td></tr>`)
      .join('') || '<tr><td colspan="4" class="muted">No assets configured.</td></tr>';
  }
  $('open-settings').addEventListener('click', async () => {
    $('api-token').value = storage.get('apiToken') || '';
    $('settings-message').textContent = '';
    await refreshAssets();
    renderSettings();
    settings.showModal();
  });
  $('api-token').addEventListener('change', () => storage.set('apiToken', $('api-token').value.trim()));
  document.querySelector('#settings-assets tbody').addEventListener('click', async (e) => {
    const tr = e.target.closest('tr[data-asset]');
    if (!tr) return;
    const s = tr.dataset.asset;
    const msg = $('settings-message');
    try {
      if (e.target.classList.contains('toggle-asset')) {
        await api('POST', `/api/assets/${encodeURIComponent(s)}/toggle`);
        msg.className = 'message ok';
        msg.textContent = `${s} ${e.target.checked ? 'shown' : 'hidden'}.`;
      } else if (e.target.classList.contains('remove-asset')) {
        if (!confirm(`Stop tracking ${s}?`)) return;
        await api('DELETE', `/api/assets/${encodeURIComponent(s)}/remove`);
        msg.className = 'message ok';
        msg.textContent = `${s} removed.`;
      } else {
        return;
      }
    } catch (err) {
      msg.className = 'message error';
      msg.textContent = err.message;
    }
    await refreshAssets();
    renderSettings();
  });
  settings.addEventListener('close', () => {
    const shown = store.assets.filter((a) => a.enabled);
    if (ui.asset && !shown.some((a) => a.symbol === ui.asset) && shown.length) selectAsset(shown[0].symbol);
    renderTabs();
  });

  // market alerts dialog: rules in config:alerts, checked by the feeder
  const alertsDialog = $('alerts-dialog');
  // Volatilities (and vol-point skews) are entered and shown in percent.
  const IV_FIELDS = ['mark_iv', 'bid_iv', 'ask_iv', 'atm_iv', 'rr25', 'bf25'];
  const TENOR_METRICS = ['atm_iv', 'rr25', 'bf25'];
  const ANALYTICS_METRICS = [...TENOR_METRICS, 'pcr_oi', 'gex'];
  const alertsMsg = (text, good) => {
    $('alerts-message').textContent = text;
    $('alerts-message').className = 'message ' + (good ? 'ok' : text ? 'error' : '');
  };
  // IVs are entered and shown in percent; the rule stores the exchange's fraction.
  const isIv = (field) => IV_FIELDS.includes(field);
  const ruleValue = (r, v) => (isIv(r.field) ? `${+(v * 100).toPrecision(6)}%` : String(v));
  function describeRule(r) {
    const when = [];
    if (r.above !== undefined) when.push(`${r.field} > ${ruleValue(r, r.above)}`);
    if (r.below !== undefined) when.push(`${r.field} < ${ruleValue(r, r.below)}`);
    if (r.rise !== undefined) when.push(`${r.field} up ${ruleValue(r, r.rise)} within ${r.window} s`);
    return when.join(' or ');
  }
  function watches(r) {
    if (r.symbol) return r.symbol;
    if (r.tenor) return `${r.asset} ${r.tenor}-day analytics`;
    if (ANALYTICS_METRICS.includes(r.field)) return `${r.asset} analytics`;
    if (r.expiry) return `${r.asset} ATM call of ${expiryLabel(r.expiry)}`;
    return `${r.asset} ATM call of the nearest expiry (a new contract every day)`;
  }
  /** Whether the feeder will deliver: from its heartbeat (the stream's status events). */
  function renderTelegramState() {
    const el = $('telegram-state');
    const st = conn.status;
    let state = 'unknown';
    let text = 'Telegram delivery: unknown (no status from the server yet)';
    if (st && !st.error) {
      if (!st.feeder) {
        state = 'off';
        text = 'Telegram delivery: no feeder is running, so no alert is checked or sent.';
      } else if (st.feeder.telegram) {
        state = 'on';
        text = 'Telegram delivery: on — the feeder checks these rules and sends to its chat.';
      } else {
        state = 'off';
        text = 'Telegram delivery: off — the feeder runs without ENABLE_NOTIFICATIONS and a bot token and chat, so these rules are stored but nothing is sent.';
      }
    }
    el.dataset.state = state;
    el.textContent = text;
  }
  function renderAlertExpiries() {
    const sel = $('alert-expiry');
    const keep = sel.value;
    sel.innerHTML = store.expiries.map((e) => `<option value="${esc(e.code)}">${esc(expiryLabel(e.code))} · ${esc(timeLeft(e.ts))}</option>`).join('');
    // The nearest expiry rolls away within a day: the default is the first a week or more out.
    const week = store.expiries.find((e) => e.ts - Date.now() >= 7 * 86400e3);
    sel.value = store.expiries.some((e) => e.code === keep) ? keep : week ? week.code : store.expiries.length ? store.expiries[store.expiries.length - 1].code : '';
  }
  async function renderAlerts() {
    const body = document.querySelector('#alerts-table tbody');
    let rules;
    try {
      rules = await api('GET', '/api/alerts');
    } catch (e) {
      body.innerHTML = '';
      alertsMsg(`Cannot load the alerts: ${e.message}`);
      return;
    }
    body.innerHTML = rules.length
      ? rules.map((r) => `<tr data-name="${esc(r.name || '')}"><td>${esc(r.name || '')}</td>` +
        `<td>${esc(watches(r))}</td><td>${esc(describeRule(r))}</td>` +
        `<td>${esc(r.cooldown)} s</td><td><button type="button" class="remove-alert">Remove</button></td></tr>`).join('')
      : '<tr><td colspan="5" class="muted">No alerts yet.</td></tr>';
  }
  /** The field the form describes: an analytics figure or a contract field. */
  const alertField = () => ($('alert-target-kind').value === 'analytics' ? $('alert-metric').value : $('alert-field').value);
  function syncAlertForm() {
    const kind = $('alert-target-kind').value;
    const analytics = kind === 'analytics';
    for (const el of alertsDialog.querySelectorAll('.analytics-only')) el.hidden = !analytics;
    for (const el of alertsDialog.querySelectorAll('.contract-only')) el.hidden = analytics;
    for (const el of alertsDialog.querySelectorAll('.expiry-only')) el.hidden = kind !== 'expiry';
    for (const el of alertsDialog.querySelectorAll('.tenor-only')) el.hidden = !analytics || !TENOR_METRICS.includes($('alert-metric').value);
    const field = alertField();
    $('alert-value-label').textContent = isIv(field) ? 'Value (%)' : 'Value';
    for (const el of alertsDialog.querySelectorAll('.rise-only')) el.hidden = $('alert-kind').value !== 'rise';
  }
  $('open-alerts').addEventListener('click', async () => {
    alertsMsg('');
    if (!$('alert-target').value) $('alert-target').value = ui.asset;
    renderAlertExpiries();
    renderTelegramState();
    syncAlertForm();
    alertsDialog.showModal();
    await renderAlerts();
  });
  $('alert-field').addEventListener('change', syncAlertForm);
  $('alert-metric').addEventListener('change', syncAlertForm);
  $('alert-kind').addEventListener('change', syncAlertForm);
  $('alert-target-kind').addEventListener('change', () => {
    $('alert-target').value = $('alert-target-kind').value === 'symbol' ? '' : ui.asset;
    syncAlertForm();
    $('alert-target').focus();
  });
  $('alerts-form').addEventListener('submit', (e) => {
    if (e.submitter && e.submitter.id === 'alert-add') e.preventDefault();
  });
  $('alert-add').addEventListener('click', async () => {
    const target = $('alert-target').value.trim().toUpperCase();
    const field = alertField();
    const kind = $('alert-kind').value;
    const raw = $('alert-value').value.trim();
    const value = Number(raw);
    if (!target) return alertsMsg('Enter an asset or a contract symbol.');
    if (raw === '' || !Number.isFinite(value)) return alertsMsg('Enter the value to watch for.');
    const rule = { field, [kind]: isIv(field) ? value / 100 : value, cooldown: Number($('alert-cooldown').value || 300) };
    const targetKind = $('alert-target-kind').value;
    rule[targetKind === 'symbol' ? 'symbol' : 'asset'] = target;
    if (targetKind === 'expiry') {
      if (!$('alert-expiry').value) return alertsMsg(`${target} has no expiry to watch.`);
      rule.expiry = $('alert-expiry').value;
    }
    if (targetKind === 'analytics' && TENOR_METRICS.includes(field)) rule.tenor = Number($('alert-tenor').value);
    if (kind === 'rise') rule.window = Number($('alert-window').value || 3600);
    const name = $('alert-name').value.trim();
    if (name) rule.name = name;
    try {
      const r = await api('POST', '/api/alerts', rule);
      alertsMsg(`Added “${r.rule.name}”.`, true);
      $('alert-value').value = '';
      $('alert-name').value = '';
    } catch (e) {
      alertsMsg(e.message);
    }
    await renderAlerts();
  });
  document.querySelector('#alerts-table tbody').addEventListener('click', async (e) => {
    if (!e.target.classList.contains('remove-alert')) return;
    const name = e.target.closest('tr').dataset.name;
    try {
      await api('DELETE', `/api/alerts/${encodeURIComponent(name)}`);
      alertsMsg(`Removed “${name}”.`, true);
    } catch (err) {
      alertsMsg(err.message);
    }
    await renderAlerts();
  });

  // ---------------------------------------------------------------------------------------
  // controls

  $('asset-tabs').addEventListener('click', (e) => {
    const b = e.target.closest('.tab[data-asset]');
    if (b) selectAsset(b.dataset.asset);
  });
  for (const b of document.querySelectorAll('.views button')) {
    b.addEventListener('click', () => {
      ui.view = b.dataset.view;
      renderView();
    });
  }
  $('history-ranges').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-range]');
    if (b) historyView.setRange(b.dataset.range);
  });
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
  $('page-size').addEventListener('change', (e) => {
    ui.pageSize = parseInt(e.target.value, 10) || 0;
    ui.page = 0;
    storage.set('pageSize', String(ui.pageSize));
    renderTable();
  });
  // A row opens its expiry's chain at its strike (not when the click ends a text selection).
  table.tbody.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-symbol]');
    if (!tr || String(window.getSelection())) return;
    const r = store.rows.get(tr.dataset.symbol);
    if (!r) return;
    ui.expiry = r.expiry;
    ui.settle = r.settle;
    ui.view = 'chain';
    chainView.focusStrike = r.strike;
    renderView();
  });

  // Keys for people who keep this open all day: 1/2/3 views, [ and ] expiries, / search.
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || document.querySelector('dialog[open]')) return;
    if (e.target.closest('input, select, textarea')) {
      if (e.key === 'Escape') e.target.blur();
      return;
    }
    const views = { 1: 'table', 2: 'chain', 3: 'charts', 4: 'analytics', 5: 'history' };
    if (views[e.key]) {
      ui.view = views[e.key];
      renderView();
    } else if (e.key === '[' || e.key === ']') {
      const codes = store.expiries.map((x) => x.code);
      if (!codes.length) return;
      const all = allExpiryViews.includes(ui.view);
      const at = codes.indexOf(all ? ui.expiry : focusExpiry());
      const next = e.key === ']' ? at + 1 : at < 0 ? codes.length - 1 : at - 1;
      ui.expiry = next < 0 || next >= codes.length ? (all ? 'ALL' : codes[at]) : codes[next];
      ui.page = 0;
      renderView();
    } else if (e.key === '/' && ui.view === 'table') {
      e.preventDefault();
      $('f-search').focus();
    } else {
      return;
    }
  });

  $('page-prev').addEventListener('click', () => { ui.page = Math.max(0, ui.page - 1); renderTable(); });
  $('page-next').addEventListener('click', () => { ui.page += 1; renderTable(); });
  function sortBy(th) {
    const key = th.dataset.col;
    if (ui.sort.key === key) ui.sort.dir = ui.sort.dir === 'asc' ? 'desc' : 'asc';
    else ui.sort = { key, dir: ['symbol', 'type', 'expiry', 'strike'].includes(key) ? 'asc' : 'desc' };
    renderTable();
    const again = table.thead.querySelector(`th[data-col="${key}"]`);
    if (again && document.activeElement === document.body) again.focus();
  }
  table.thead.addEventListener('click', (e) => {
    const th = e.target.closest('th[data-col]');
    if (th) sortBy(th);
  });
  // Headers sort from the keyboard too (they are focusable).
  table.thead.addEventListener('keydown', (e) => {
    const th = e.target.closest('th[data-col]');
    if (th && (e.key === 'Enter' || e.key === ' ')) {
      e.preventDefault();
      sortBy(th);
    }
  });
  $('auto-refresh').addEventListener('change', (e) => {
    ui.live = e.target.checked;
    if (ui.live) releaseHeld();
    renderLive();
  });
  $('theme-toggle').addEventListener('click', () => {
    const next = document.documentElement.dataset.theme === 'light' ? 'dark' : 'light';
    document.documentElement.dataset.theme = next;
    storage.set('theme', next);
    for (const k of CHART_SLOTS) if (charts[k]) { charts[k].destroy(); charts[k] = null; }
    if (ui.view === 'charts') renderCharts();
    if (ui.view === 'analytics') analyticsView.render();
    if (ui.view === 'history') historyView.render();
  });

  // column visibility
  function renderColumnChecks() {
    $('column-checks').innerHTML = COLUMNS.map((c) =>
      `<label><input type="checkbox" data-col="${c.key}" ${ui.visible[c.key] ? 'checked' : ''}>${c.label}</label>`).join('');
    for (const b of document.querySelectorAll('.presets button')) {
      const p = PRESETS[b.dataset.preset];
      b.classList.toggle('active', COLUMNS.every((c) => ui.visible[c.key] === p.includes(c.key)));
    }
  }
  function setVisibility(vis) {
    ui.visible = vis;
    storage.set('columnVisibility', JSON.stringify(vis));
    renderColumnChecks();
    renderTable();
  }
  $('columns-btn').addEventListener('click', (e) => {
    e.stopPropagation();
    togglePopover('columns-panel', $('columns-btn'));
  });
  $('columns-panel').addEventListener('click', (e) => e.stopPropagation());
  document.addEventListener('click', () => closePopovers(null));

  // display preferences: flashing, premium unit, clock
  $('display-btn').addEventListener('click', (e) => {
    e.stopPropagation();
    togglePopover('display-panel', $('display-btn'));
  });
  $('display-panel').addEventListener('click', (e) => e.stopPropagation());
  function syncDisplayPrefs() {
    $('pref-flash').checked = prefs.flash;
    $('pref-premium').value = prefs.premium;
    $('pref-premium').options[1].textContent = ui.asset ? `${ui.asset} (coin)` : 'Coin';
    $('pref-clock').value = prefs.utc ? 'utc' : 'local';
    if (document.activeElement !== $('pref-old-secs')) $('pref-old-secs').value = String(prefs.oldSecs);
  }
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
  $('column-checks').addEventListener('change', (e) => {
    const key = e.target.dataset.col;
    if (!key) return;
    const vis = { ...ui.visible, [key]: e.target.checked };
    if (!Object.values(vis).some(Boolean)) vis.symbol = true;
    setVisibility(vis);
  });
  for (const b of document.querySelectorAll('.presets button')) {
    b.addEventListener('click', () => {
      const keep = PRESETS[b.dataset.preset];
      setVisibility(Object.fromEntries(COLUMNS.map((c) => [c.key, keep.includes(c.key)])));
    });
  }

  window.addEventListener('resize', () => {
    for (const k of CHART_SLOTS) {
      const c = charts[k];
      if (c) c.setSize({ width: chartWidth(c.root.parentElement), height: 260 });
    }
  });

  // ---------------------------------------------------------------------------------------
  // start

  $('page-size').value = String(ui.pageSize);
  // A bare `/` reopens where the trader left off, if that asset is still shown.
  if (location.pathname === '/' && !location.search) {
    const last = new URLSearchParams(storage.get('lastView') || '');
    const asset = (last.get('asset') || '').toUpperCase();
    if (asset && store.assets.some((a) => a.symbol === asset && a.enabled)) {
      ui.asset = asset;
      ui.view = ['table', 'chain', 'charts', 'analytics', 'history'].includes(last.get('view')) ? last.get('view') : 'table';
      ui.expiry = expiryCode(last.get('expiry'));
      ui.type = ['call', 'put'].includes(last.get('type')) ? last.get('type') : 'all';
      ui.settle = last.get('settle') === 'USDT' ? 'USDT' : 'USDC';
      ui.search = last.get('q') || '';
    }
  }
  $('f-type').value = ui.type;
  $('f-search').value = ui.search;
  renderColumnChecks();
  renderChainColumnChecks();
  syncDisplayPrefs();
  renderTabs();
  connect();
  refreshAssets();
})();
