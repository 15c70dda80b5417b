// The flow view: the tape (every trade, newest first, live from the stream's `trades` events)
// and the sums OPTIONS.FLOW computes inside Redis (net premium by hour, by strike and by
// expiry). Premium is size × price in USD, signed by the taker's side (buyers positive);
// notional is size × index.
//
// The pure parts (tradeExpiry, tapeRows, mergeTrades, hourly, byStrike, byExpiry) are
// unit-tested with `node --test`; FlowView fetches and draws with helpers it is given, as the
// Analytics and Compare views do.
import { MONTHS, isNum, esc, expiryCode, expiryLabel, dollars, pct, clock } from './format.js';

/** Trades the view keeps (the table is windowed by the browser's own scrolling). */
export const TAPE_MAX = 500;
/** The tape takes new trades at most this often (ms). */
const TAPE_EVERY_MS = 500;
const HOUR_MS = 3600e3;

/** Tape entry ids (`<ms>-<seq>`) newest first, as the stream orders them. */
export function newestFirst(a, b) {
  const [am, as] = String(a.entry).split('-').map(Number);
  const [bm, bs] = String(b.entry).split('-').map(Number);
  return (bm || 0) - (am || 0) || (bs || 0) - (as || 0);
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

/** `incoming` trades joined to `list` (by tape entry id, once each), newest first, at most `max`. */
export function mergeTrades(list, incoming, max = TAPE_MAX) {
  const seen = new Set(list.map((t) => t.entry));
  const fresh = incoming.filter((t) => t && !seen.has(t.entry) && seen.add(t.entry));
  if (!fresh.length) return list;
  return [...fresh, ...list].sort(newestFirst).slice(0, max);
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

const size = (v) => (isNum(v) ? v.toLocaleString('en-US', { maximumFractionDigits: 4 }) : '–');
const usd = (v) => (isNum(v) ? v.toLocaleString('en-US', { maximumFractionDigits: 2 }) : '–');
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
    this.incoming = [];
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
   * TAPE_EVERY_MS (all that arrived by then in one change of the page: rows added on top, the
   * oldest dropped, never the whole table again; each change lays out the whole tape, which at
   * the simulator's 80 trades a second kept a phone's CPU busy); the sums asked again at most
   * every 2 s.
   */
  onTrades(trades) {
    const before = this.trades;
    this.trades = mergeTrades(this.trades, trades);
    if (this.trades !== before) {
      this.incoming = (this.incoming || []).concat(trades);
      if (!this.frame) {
        const wait = Math.max(0, TAPE_EVERY_MS - (performance.now() - this.tapedAt));
        this.frame = setTimeout(() => requestAnimationFrame(() => {
          this.frame = null;
          this.tapedAt = performance.now();
          const fresh = this.incoming;
          this.incoming = [];
          this.addRows(fresh);
        }), wait);
      }
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
      ...codes.map((c) => `<option value="${esc(c)}"${c === this.filters.expiry ? ' selected' : ''}>${esc(expiryLabel(c))}</option>`)].join('');
    if (sel.dataset.html !== html) {
      sel.innerHTML = html;
      sel.dataset.html = html;
    }
    sel.value = this.filters.expiry;
  }

  renderSummary() {
    const f = this.flow;
    const head = this.el('flow-summary');
    if (this.error && !f) {
      head.innerHTML = `<div class="an-card"><div class="label">Flow</div><div class="value">${esc(this.error)}</div></div>`;
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
    head.innerHTML = cards.map(([k, v, sign]) => `<div class="an-card"><div class="label">${esc(k)}</div>` +
      `<div class="value${isNum(sign) && sign !== 0 ? (sign > 0 ? ' pos' : ' neg') : ''}">${esc(v)}</div></div>`).join('');
  }

  renderCharts() {
    if (typeof uPlot === 'undefined') return;
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
    this.drawChart('flowTime', this.el('chart-flow-time'), {
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
    this.drawChart('flowStrike', this.el('chart-flow-strike'), {
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
    this.drawChart('flowExpiry', this.el('chart-flow-expiry'), {
      key: 'flowExpiry', scales: { x: { time: false } },
      series: [
        { label: 'Expiry', value: (u, v) => (v === null ? '–' : exp.labels[v] || '') },
        { label: 'Net premium', stroke: accent, fill: accent + '88', paths: bars, points: { show: false }, value: money },
      ],
      axes: expAxes,
    }, [exp.data[0], exp.data[1]]);
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

  /** Trades newer than every row shown go on top; anything else redraws the table. */
  addRows(trades) {
    const body = this.el('flow-table').querySelector('tbody');
    const top = body.querySelector('tr[data-entry]');
    const rows = tapeRows(trades, this.filters, this.markIv);
    if (!top || (rows.length && newestFirst(rows[rows.length - 1], { entry: top.dataset.entry }) >= 0)) {
      this.renderTable();
      return;
    }
    if (rows.length) body.insertAdjacentHTML('afterbegin', rows.map((t) => this.rowHtml(t)).join(''));
    // The rows of trades the tape no longer keeps go.
    const kept = new Set(this.trades.map((t) => t.entry));
    for (const tr of [...body.querySelectorAll('tr[data-entry]')].reverse()) {
      if (kept.has(tr.dataset.entry)) break;
      tr.remove();
    }
    this.renderCaption(body.querySelectorAll('tr[data-entry]').length);
  }

  renderTable() {
    const rows = tapeRows(this.trades, this.filters, this.markIv);
    const body = this.el('flow-table').querySelector('tbody');
    body.innerHTML = rows.length
      ? rows.map((t) => this.rowHtml(t)).join('')
      : `<tr><td class="empty" colspan="10">${this.trades.length ? 'No trade passes the filters' : 'No trades on the tape yet'}</td></tr>`;
    this.renderCaption(rows.length);
  }

  renderCaption(shown) {
    const n = shown === this.trades.length ? `${shown}` : `${shown} of ${this.trades.length}`;
    this.el('flow-caption').textContent = `· newest first · ${n} trades · premium signed by the taker (buys +) · IV paid against the mark now, in vol points`;
  }
}
