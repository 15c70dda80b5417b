// The Analytics view: `OPTIONS.ANALYTICS` as a trader reads it. Term structure (ATM IV by
// expiry and at constant maturities) with 25Δ risk reversal and butterfly on the same axis of
// days to expiry, GEX by strike for the selected expiries with the forward marked, and a table
// per expiry. The figures come from /api/analytics/{asset}; the stream's `analytics` events
// (at most every 2 s, when the chain changed) trigger a refresh.
//
// The figures' text is format.js's, the series and the table's text analytics-series.js's (both
// pure, tested under node); this module is the view, which needs the DOM and uPlot.

import { isNum, pct, plain, expiryLabel, esc, volPoints, ratio, dollars, contracts, strike } from './format.js';
import { termSeries, gexSeries, tableCells, TABLE_HEADERS, TABLE_KINDS } from './analytics-series.js';
import { verticalMarker, plotLibrary, inTurns } from './plot.js';
import { withVenue } from './state.js';
import { patchRows, setCards, setHtml } from './dom.js';

export class AnalyticsView {
  /**
   * `el(id)` finds elements; `drawChart(slot, el, opts, data)` and `axes(x, y, values)` are the
   * dashboard's uPlot helpers; `cssVar(name)` reads the theme.
   */
  constructor({ el, drawChart, axes, cssVar }) {
    Object.assign(this, { el, drawChart, axes, cssVar });
    this.asset = null;
    this.expiry = 'ALL';
    this.data = null;
    this.error = null;
    this.loading = null;
    this.again = false;
    this.forward = null; // read by the GEX chart's marker at draw time
  }

  /** Shows `asset` with `expiry` ('ALL' for every expiry); fetches when either changed. */
  show(asset, expiry) {
    if (asset !== this.asset || expiry !== this.expiry || !this.data) {
      this.asset = asset;
      this.expiry = expiry;
      this.refresh();
    } else {
      this.render();
    }
  }

  /** A stream `analytics` event for `asset`: the chain changed, fetch the figures again. */
  changed(asset) {
    if (asset === this.asset) this.refresh();
  }

  async refresh() {
    if (!this.asset) return;
    if (this.loading) {
      this.again = true;
      return;
    }
    const q = new URLSearchParams({ bystrike: 'true' });
    if (this.expiry && this.expiry !== 'ALL') q.set('expiry', this.expiry);
    const url = withVenue(`/api/analytics/${encodeURIComponent(this.asset)}?${q}`);
    const asset = this.asset;
    this.loading = fetch(url, { headers: { Accept: 'application/json' } })
      .then(async (r) => {
        const body = await r.json();
        if (asset !== this.asset) return;
        if (!r.ok) throw new Error(body.detail || `HTTP ${r.status}`);
        this.data = body;
        this.error = null;
      })
      .catch((e) => {
        this.error = e.message;
      })
      .finally(() => {
        this.loading = null;
        this.render();
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      });
  }

  render() {
    const a = this.data;
    const head = this.el('analytics-summary');
    if (this.error) {
      head.textContent = `Analytics unavailable: ${this.error}`;
      return;
    }
    if (!a) {
      head.textContent = 'Loading analytics…';
      return;
    }
    const t = a.totals;
    const tenor30 = (a.tenors || []).find((x) => x.days === 30) || {};
    const cards = [
      ['Index', plain(a.index)],
      ['30d ATM IV', pct(tenor30.atm_iv)],
      ['30d RR25', volPoints(tenor30.rr25)],
      ['30d BF25', volPoints(tenor30.bf25)],
      ['PCR (OI)', ratio(t.pcr_oi)],
      ['PCR (vol)', ratio(t.pcr_volume)],
      ['OI calls / puts', `${contracts(t.oi_calls)} / ${contracts(t.oi_puts)}`],
      ['GEX per 1%', dollars(t.gex)],
      ['Notional OI', dollars(t.notional_oi)],
    ];
    setCards(head, cards);

    const table = this.el('analytics-table');
    setHtml(table.querySelector('thead'), `<tr>${TABLE_HEADERS.map((h, j) => `<th class="${TABLE_KINDS[j]}">${esc(h)}</th>`).join('')}</tr>`);
    // Each cell as [text, class]; every 2 s only the changed ones are written.
    const cells = tableCells(a).map((row, i) => row.map((c, j) => {
      const kind = TABLE_KINDS[j];
      const sign = kind === 'signed' && isNum(a.expiries[i].gex) ? (a.expiries[i].gex < 0 ? 'neg' : 'pos') : '';
      return [c, [kind === 'text' ? 'text' : '', sign].filter(Boolean).join(' ')];
    }));
    const expiries = (a.expiries || []).map((e) => e.expiry);
    patchRows(table.querySelector('tbody'), expiries.join(' '), cells, () => (cells.length
      ? cells.map((row, i) => `<tr data-expiry="${esc(expiries[i])}">${row
        .map(([text, cls], j) => `<td class="${cls}" data-col="${esc(TABLE_HEADERS[j])}">${esc(text)}</td>`)
        .join('')}</tr>`).join('')
      : `<tr><td class="empty" colspan="${TABLE_HEADERS.length}">No live expiries</td></tr>`));
    this.renderCharts(a);
  }

  renderCharts(a) {
    if (!plotLibrary()) return;
    const accent = this.cssVar('--accent');
    const call = this.cssVar('--call');
    const put = this.cssVar('--put');
    const muted = this.cssVar('--muted');
    const ts = termSeries(a);
    const dayAxis = (u, vals) => vals.map((v) => (v === null ? '' : `${+v.toFixed(1)}d`));
    const fmt = (dp) => (u, v) => (v === null ? '–' : v.toFixed(dp));
    const g = gexSeries(a.strikes);
    const first = (a.expiries || []).find((e) => isNum(e.forward));
    this.forward = first ? first.forward : isNum(a.index) ? a.index : null;
    const marker = verticalMarker(() => this.forward, accent);
    const bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.7, 24] }) : null;
    const half = g.half;
    this.el('gex-caption').textContent = this.expiry && this.expiry !== 'ALL' ? `· ${expiryLabel(this.expiry)}` : '· all expiries';
    const gexAxes = this.axes('Strike', 'GEX per 1%', (u, vals) => vals.map((v) => (v === null ? '' : Math.abs(v) >= 10000 ? `${+(v / 1000).toFixed(2)}k` : strike(v))));
    gexAxes[1].values = (u, vals) => vals.map((v) => dollars(v));
    // One chart per task, as compare and flow draw theirs: a phone is not held for all three.
    return inTurns(this, [() => this.drawChart('anTerm', this.el('chart-an-term'), {
      key: 'anTerm',
      scales: { x: { time: false } },
      series: [
        { label: 'Days', value: (u, v) => (v === null ? '–' : `${v.toFixed(1)} d`) },
        { label: 'ATM IV % (expiry)', stroke: accent, width: 2, points: { size: 6 }, spanGaps: true, value: fmt(1) },
        { label: 'ATM IV % (7/30/60/90/180 d)', stroke: muted, width: 1.5, dash: [6, 4], points: { size: 5 }, spanGaps: true, value: fmt(1) },
      ],
      axes: this.axes('Days to expiry', 'ATM IV %', dayAxis),
    }, [ts.days, ts.atm, ts.tenor]), () => this.drawChart('anSkew', this.el('chart-an-skew'), {
      key: 'anSkew',
      scales: { x: { time: false } },
      series: [
        { label: 'Days', value: (u, v) => (v === null ? '–' : `${v.toFixed(1)} d`) },
        { label: 'RR25 (vol pts)', stroke: call, width: 2, points: { size: 5 }, spanGaps: true, value: fmt(2) },
        { label: 'BF25 (vol pts)', stroke: put, width: 2, dash: [6, 4], points: { size: 5 }, spanGaps: true, value: fmt(2) },
      ],
      axes: this.axes('Days to expiry', 'Vol points', dayAxis),
    }, [ts.days, ts.rr, ts.bf]), () => this.drawChart('anGex', this.el('chart-an-gex'), {
      key: 'anGex',
      plugins: [marker],
      scales: { x: { time: false, range: (u, min, max) => [min - half, max + half] } },
      series: [
        { label: 'Strike', value: (u, v) => strike(v) },
        { label: 'Long gamma', stroke: call, fill: call + '99', paths: bars, points: { show: false }, value: (u, v) => dollars(v) },
        { label: 'Short gamma', stroke: put, fill: put + '99', paths: bars, points: { show: false }, value: (u, v) => dollars(v) },
      ],
      axes: gexAxes,
    }, [g.strikes, g.positive, g.negative])]);
  }
}
