// The flow view: the tape (every trade, newest first, live from the stream's `trades` events)
// and the sums OPTIONS.FLOW computes inside Redis (net premium by hour, by strike and by
// expiry). Premium is size × price in USD, signed by the taker's side (buyers positive);
// notional is size × index.
//
// The pure parts (tradeExpiry, tapeRows, mergeTrades, hourly, byStrike, byExpiry) are
// unit-tested with `node --test`; FlowView fetches and draws with helpers it is given, as the
// Analytics and Compare views do.
import { MONTHS, isNum, esc, expiryCode, expiryLabel, dollars, pct, clock } from './format.js';
import { windowRange } from './store.js';
import { fillWindow, onScrollFrame, setCards, setHtml, setText } from './dom.js';
import { inTurns, plotLibrary } from './plot.js';

/** Trades the view keeps. */
export const TAPE_MAX = 500;
/** The tape takes new trades at most this often (ms). */
const TAPE_EVERY_MS = 500;
/**
 * The tape is windowed: its body holds the rows on screen and this many more on each side, so
 * a change costs what one screen of rows does to lay out and paint, not all 500.
 */
const TAPE_OVERSCAN = 15;
const TAPE_COLUMNS = 10;
const HOUR_MS = 3600e3;

/** A tape entry id's (`<ms>-<seq>`) two numbers: its millisecond and its sequence in it. */
function entryParts(entry) {
  const id = String(entry);
  const dash = id.indexOf('-');
  return dash < 0 ? [Number(id) || 0, 0] : [Number(id.slice(0, dash)) || 0, Number(id.slice(dash + 1)) || 0];
}

/** Tape entry ids (`<ms>-<seq>`) newest first, as the stream orders them. */
export function newestFirst(a, b) {
  const [am, as] = entryParts(a.entry);
  const [bm, bs] = entryParts(b.entry);
  return bm - am || bs - as;
}

/** The expiry code of a trade's contract, either venue's spelling (`BTC-26DEC26-…`). */
export const tradeExpiry = (symbol) => expiryCode(String(symbol || '').split('-')[1] || '');

/**
 * The tape's rows that pass the filters (`expiry` a code or '', `minNotional` USD or null,
 * `blocksOnly`), newest first, each with its premium, notional and IV against the mark now
 * (`markIv(symbol)`: the contract's mark IV in the live chain, or null).
 */
export function tapeRows(trades, filters, markIv = () => null) {
  const { expiry = '', minNotional = null, blocksOnly = false } = filters || {};
  const out = [];
  for (const t of trades) {
    if (expiry && tradeExpiry(t.symbol) !== expiry) continue;
    if (blocksOnly && !t.block) continue;
    const notional = isNum(t.size) && isNum(t.index) ? t.size * t.index : null;
    if (isNum(minNotional) && minNotional > 0 && !(isNum(notional) && notional >= minNotional)) continue;
    const premium = isNum(t.size) && isNum(t.price) ? t.size * t.price : null;
    const mark = markIv(t.symbol);
    out.push({
      ...t,
      premium,
      signedPremium: isNum(premium) ? (t.side === 'sell' ? -premium : premium) : null,
      notional,
      vsMark: isNum(t.iv) && isNum(mark) ? t.iv - mark : null,
    });
  }
  return out.sort(newestFirst);
}

/**
 * `incoming` trades joined to `list` (newest first, as this returns it; by tape entry id, once
 * each), newest first, at most `max`. Live trades are nearly always newer than any kept: they
 * go on top without the list being compared again (this runs for every trades event).
 */
export function mergeTrades(list, incoming, max = TAPE_MAX) {
  const ids = new Set();
  const fresh = incoming.filter((t) => t && !ids.has(t.entry) && ids.add(t.entry)).sort(newestFirst);
  if (!fresh.length) return list;
  if (!list.length || newestFirst(fresh[fresh.length - 1], list[0]) < 0) return fresh.concat(list).slice(0, max);
  const seen = new Set(list.map((t) => t.entry));
  const late = fresh.filter((t) => !seen.has(t.entry));
  if (!late.length) return list;
  return late.concat(list).sort(newestFirst).slice(0, max);
}

/**
 * OPTIONS.FLOW's `buckets` (`[[start ms, net premium, block volume]…]`, only the span holding
 * trades) laid on every bucket from `from` to `to`, empty ones as zero: uPlot's
 * [seconds, net premium, block volume].
 */
export function hourly(flow, bucketMs = HOUR_MS) {
  if (!flow || !isNum(flow.from) || !isNum(flow.to)) return [[], [], []];
  const byStart = new Map((flow.buckets || []).map((b) => [b[0], b]));
  const xs = [];
  const net = [];
  const blocks = [];
  for (let t = Math.floor(flow.from / bucketMs) * bucketMs; t <= flow.to; t += bucketMs) {
    const b = byStart.get(t);
    xs.push(t / 1000);
    net.push(b ? b[1] : 0);
    blocks.push(b ? b[2] : 0);
  }
  return [xs, net, blocks];
}

/** Calls' and puts' net premium per strike: [strikes, calls, puts]. */
export function byStrike(flow) {
  const s = ((flow && flow.strikes) || []).slice().sort((a, b) => a.strike - b.strike);
  return [s.map((x) => x.strike), s.map((x) => x.call_net_premium), s.map((x) => x.put_net_premium)];
}

/** The day an expiry code (`26DEC26`) names, as a sortable number (NaN when it is no code). */
export function expiryDay(code) {
  const m = /^(\d{1,2})([A-Z]{3})(\d{2})$/.exec(code || '');
  return m ? Date.UTC(2000 + Number(m[3]), MONTHS.indexOf(m[2]), Number(m[1])) : NaN;
}

/** Net premium and block volume per expiry, chronological: { labels, data: [i, net, blocks] }. */
export function byExpiry(flow) {
  const e = ((flow && flow.expiries) || []).slice();
  const day = (x) => (Number.isFinite(expiryDay(x.expiry)) ? expiryDay(x.expiry) : Infinity);
  e.sort((a, b) => day(a) - day(b) || String(a.expiry).localeCompare(String(b.expiry)));
  return {
    labels: e.map((x) => expiryLabel(x.expiry)),
    data: [e.map((_, i) => i), e.map((x) => x.net_premium), e.map((x) => x.block_volume)],
  };
}

// Formatters made once: a tape row writes several, and toLocaleString builds one per call.
const SIZE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 4 });
const USD = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const size = (v) => (isNum(v) ? SIZE.format(v) : '–');
const usd = (v) => (isNum(v) ? USD.format(v) : '–');
const signedPts = (v) => (isNum(v) ? `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v * 100).toFixed(1)}` : '–');

export class FlowView {
  /**
   * `helpers`: { el, drawChart, axes, cssVar, withVenue(url), markIv(symbol),
   * expiries() → [{code, ts}], utc() → bool }.
   */
  constructor(helpers) {
    Object.assign(this, helpers);
    this.asset = null;
    this.flow = null;
    this.trades = [];
    this.error = null;
    this.loading = null;
    this.again = false;
    this.refreshAt = 0;
    this.timer = null;
    this.frame = null;
    this.tapedAt = -Infinity; // when the tape last took trades (performance.now())
    this.rows = []; // the tape's rows that pass the filters, newest first
    this.first = 0; // the window: rows[first..last] are in the DOM
    this.last = 0;
    this.rowHeight = 33; // measured at each windowed render
    this.watching = false; // the tape's scroll and visibility listeners are in place
    // Whether the tape is on screen or near it (null: not known yet). Below the fold, as on a
    // phone where it comes after three charts, it is drawn only once it is scrolled to.
    this.tapeSeen = null;
    this.tapeStale = false; // trades came while it was off screen
    this.filters = { expiry: '', minNotional: null, blocksOnly: false };
  }

  show(asset) {
    if (asset !== this.asset) {
      this.asset = asset;
      this.flow = null;
      this.trades = [];
      this.error = null;
    }
    this.load(true);
    this.render();
  }

  setFilters(f) {
    Object.assign(this.filters, f);
    this.render();
    this.load(false);
  }

  /** The flow (with the filters the module applies) and, with `tape`, the newest trades. */
  async load(tape) {
    if (!this.asset) return;
    if (this.loading) {
      this.again = true;
      return;
    }
    const asset = this.asset;
    const a = encodeURIComponent(asset);
    const q = new URLSearchParams({ bystrike: 'true', bucket: '3600' });
    if (this.filters.expiry) q.set('expiry', this.filters.expiry);
    if (isNum(this.filters.minNotional) && this.filters.minNotional > 0) q.set('min_notional', String(this.filters.minNotional));
    const get = async (url) => {
      const r = await fetch(this.withVenue(url), { headers: { Accept: 'application/json' } });
      const body = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(body.detail || body.error || `HTTP ${r.status}`);
      return body;
    };
    this.loading = (async () => {
      try {
        const [flow, page] = await Promise.all([
          get(`/api/flow/${a}?${q}`),
          tape ? get(`/api/trades/${a}?limit=${TAPE_MAX}`) : null,
        ]);
        if (asset !== this.asset) return;
        this.flow = flow;
        if (page) this.trades = mergeTrades(this.trades, page.trades || []);
        this.error = null;
      } catch (e) {
        if (asset === this.asset) this.error = e.message;
      } finally {
        this.loading = null;
        this.refreshAt = Date.now();
        // The sums alone change the figures and charts; the tape's rows stay unless it was read.
        if (asset === this.asset) {
          if (tape) this.render();
          else this.renderSums();
        }
        if (this.again) {
          this.again = false;
          this.load(false);
        }
      }
    })();
  }

  /**
   * New trades from the stream: on the tape at the next frame, and in a burst at most every
   * TAPE_EVERY_MS (all that arrived by then in one change of the page; at the simulator's 80
   * trades a second a change per trade kept a phone's CPU busy); the sums asked again at most
   * every 2 s.
   */
  onTrades(trades) {
    const before = this.trades;
    this.trades = mergeTrades(this.trades, trades);
    if (this.trades !== before && !this.frame) {
      const wait = Math.max(0, TAPE_EVERY_MS - (performance.now() - this.tapedAt));
      this.frame = setTimeout(() => requestAnimationFrame(() => {
        this.frame = null;
        this.tapedAt = performance.now();
        this.addRows();
      }), wait);
    }
    if (this.timer) return;
    const wait = Math.max(0, 2000 - (Date.now() - this.refreshAt));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.load(false);
    }, wait);
  }

  render() {
    this.renderSums();
    this.renderTable();
  }

  renderSums() {
    this.renderFilters();
    this.renderSummary();
    this.renderCharts();
  }

  renderFilters() {
    const sel = this.el('flow-expiry');
    const codes = this.expiries().map((e) => e.code);
    if (this.filters.expiry && !codes.includes(this.filters.expiry)) codes.push(this.filters.expiry);
    const html = ['<option value="">All expiries</option>',
      ...codes.map((c) => `<option value="${esc(c)}">${esc(expiryLabel(c))}</option>`)].join('');
    setHtml(sel, html);
    if (sel.value !== this.filters.expiry) sel.value = this.filters.expiry;
  }

  renderSummary() {
    const f = this.flow;
    const head = this.el('flow-summary');
    if (this.error && !f) {
      setCards(head, [['Flow', this.error]]);
      return;
    }
    if (!f) return;
    const cards = [
      ['Trades (24 h)', (f.trades || 0).toLocaleString('en-US')],
      ['Net premium', dollars(f.net_premium), f.net_premium],
      ['Bought', dollars(f.buy_premium)],
      ['Sold', dollars(f.sell_premium)],
      ['Net volume', size(f.net_volume), f.net_volume],
      ['Block trades', `${(f.block_trades || 0).toLocaleString('en-US')} · ${size(f.block_volume)}`],
    ];
    setCards(head, cards.map(([k, v, sign]) => [k, v, isNum(sign) && sign !== 0 ? (sign > 0 ? 'pos' : 'neg') : '']));
  }

  renderCharts() {
    if (!plotLibrary()) return;
    const call = this.cssVar('--call');
    const put = this.cssVar('--put');
    const accent = this.cssVar('--accent');
    const bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.7, 24] }) : null;
    const money = (u, v) => (v === null ? '–' : dollars(v));
    const moneyAxis = (u, vals) => vals.map((v) => (v === null ? '' : dollars(v)));
    const f = this.flow;
    const hours = hourly(f);
    const timeAxes = this.axes('Hour', 'Net premium');
    timeAxes.push({ scale: 'blocks', side: 1, stroke: this.cssVar('--muted'), grid: { show: false }, label: 'Block volume', size: 60 });
    Object.assign(timeAxes[1], { values: moneyAxis, size: 80 });
    const drawTime = () => this.drawChart('flowTime', this.el('chart-flow-time'), {
      key: 'flowTime',
      series: [
        { label: 'Hour' },
        { label: 'Net premium', stroke: accent, fill: accent + '55', paths: bars, points: { show: false }, value: money },
        { label: 'Block volume', scale: 'blocks', stroke: put, width: 2, points: { size: 4 }, value: (u, v) => (v === null ? '–' : size(v)) },
      ],
      axes: timeAxes,
    }, hours);
    const strikes = byStrike(f);
    const strikeAxes = this.axes('Strike', 'Net premium');
    Object.assign(strikeAxes[1], { values: moneyAxis, size: 80 });
    const drawStrike = () => this.drawChart('flowStrike', this.el('chart-flow-strike'), {
      key: 'flowStrike', scales: { x: { time: false } },
      series: [
        { label: 'Strike' },
        { label: 'Calls', stroke: call, fill: call + '88', paths: bars, points: { show: false }, value: money },
        { label: 'Puts', stroke: put, fill: put + '88', paths: bars, points: { show: false }, value: money },
      ],
      axes: strikeAxes,
    }, strikes);
    const exp = byExpiry(f);
    const label = (u, vals) => vals.map((v) => (Number.isInteger(v) && exp.labels[v] ? exp.labels[v] : ''));
    const expAxes = this.axes('Expiry', 'Net premium', label);
    // Whole expiries only, spaced so that their labels never overlap.
    Object.assign(expAxes[0], { space: 80, incrs: [1, 2, 3, 4, 5, 10, 20, 50] });
    Object.assign(expAxes[1], { values: moneyAxis, size: 80 });
    const drawExpiry = () => this.drawChart('flowExpiry', this.el('chart-flow-expiry'), {
      key: 'flowExpiry', scales: { x: { time: false } },
      series: [
        { label: 'Expiry', value: (u, v) => (v === null ? '–' : exp.labels[v] || '') },
        { label: 'Net premium', stroke: accent, fill: accent + '88', paths: bars, points: { show: false }, value: money },
      ],
      axes: expAxes,
    }, [exp.data[0], exp.data[1]]);
    // In the page's order: by strike and by expiry side by side, then by hour.
    return inTurns(this, [drawStrike, drawExpiry, drawTime]);
  }

  /** One trade's row. */
  rowHtml(t) {
    return `<tr data-entry="${esc(t.entry)}">` +
        `<td>${esc(clock(t.ts, this.utc()))}</td>` +
        `<th scope="row">${esc(t.symbol)}</th>` +
        `<td class="${t.side === 'buy' ? 'pos' : 'neg'}">${esc(t.side)}</td>` +
        `<td>${esc(size(t.size))}</td><td>${esc(usd(t.price))}</td>` +
        `<td class="${isNum(t.signedPremium) && t.signedPremium < 0 ? 'neg' : 'pos'}">${esc(dollars(t.signedPremium))}</td>` +
        `<td>${esc(dollars(t.notional))}</td><td>${esc(pct(t.iv))}</td>` +
        `<td class="${isNum(t.vsMark) ? (t.vsMark > 0 ? 'pos' : t.vsMark < 0 ? 'neg' : '') : ''}">${esc(signedPts(t.vsMark))}</td>` +
        `<td>${t.block ? '<span class="tag block-tag">block</span>' : ''}${t.liquidation ? ' <span class="tag">liquidation</span>' : ''}</td></tr>`;
  }

  /**
   * The tape again after new trades: they go on top, and a reader scrolled down the tape keeps
   * the rows they were reading where they were.
   */
  addRows() {
    if (!this.tapeSeen) {
      this.tapeStale = true;
      return;
    }
    const top = this.rows.length ? this.rows[0] : null;
    this.rows = tapeRows(this.trades, this.filters, this.markIv);
    let above = 0;
    while (top && above < this.rows.length && newestFirst(this.rows[above], top) < 0) above++;
    const wrap = this.tapeWrap();
    if (above && wrap.scrollTop > 0) wrap.scrollTop += above * this.rowHeight;
    this.renderRows(true);
  }

  renderTable() {
    this.watchTape();
    if (!this.tapeSeen) {
      // Off screen the tape holds no rows at all (no other asset's, no other filter's).
      this.tapeStale = true;
      this.rows = [];
      this.first = this.last = 0;
      const body = this.el('flow-table').querySelector('tbody');
      if (!body.querySelector('.tape-later')) {
        body.innerHTML = `<tr><td class="empty tape-later" colspan="${TAPE_COLUMNS}">The trades appear as the tape comes into view</td></tr>`;
      }
      return;
    }
    this.rows = tapeRows(this.trades, this.filters, this.markIv);
    this.renderRows(true);
  }

  tapeWrap() {
    return this.el('flow-table').parentElement;
  }

  /** Listens to the tape's scrolling (the window follows) and to whether it is on screen. */
  watchTape() {
    if (this.watching) return;
    this.watching = true;
    const wrap = this.tapeWrap();
    onScrollFrame(wrap, () => {
      if (this.tapeSeen) this.renderRows(false);
    });
    if (typeof IntersectionObserver !== 'function') {
      this.tapeSeen = true;
      return;
    }
    new IntersectionObserver((entries) => {
      this.tapeSeen = entries[entries.length - 1].isIntersecting;
      if (this.tapeSeen && this.tapeStale) {
        this.tapeStale = false;
        this.renderTable();
      }
    }, { rootMargin: '300px' }).observe(wrap);
  }

  /** The rows around the tape's scroll position (`force`: even if the window did not move). */
  renderRows(force) {
    const wrap = this.tapeWrap();
    const body = this.el('flow-table').querySelector('tbody');
    const n = this.rows.length;
    this.renderCaption(n);
    if (!n) {
      this.first = this.last = 0;
      body.innerHTML = `<tr><td class="empty" colspan="${TAPE_COLUMNS}">${this.trades.length ? 'No trade passes the filters' : 'No trades on the tape yet'}</td></tr>`;
      return;
    }
    const { first, last } = windowRange(wrap.scrollTop, this.rowHeight, wrap.clientHeight || window.innerHeight, n, TAPE_OVERSCAN);
    if (!force && first === this.first && last === this.last) return;
    this.first = first;
    this.last = last;
    const measured = fillWindow(body, {
      first, last, count: n, rowHeight: this.rowHeight, colspan: TAPE_COLUMNS, row: (i) => this.rowHtml(this.rows[i]),
    });
    if (measured > 0 && Math.abs(measured - this.rowHeight) > 0.5) {
      this.rowHeight = measured;
      this.renderRows(true);
    }
  }

  renderCaption(shown) {
    const n = shown === this.trades.length ? `${shown}` : `${shown} of ${this.trades.length}`;
    setText(this.el('flow-caption'), `· newest first · ${n} trades · premium signed by the taker (buys +) · IV paid against the mark now, in vol points`);
  }
}
