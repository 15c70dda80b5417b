// The venue comparison: Bybit's and Deribit's chains of one asset side by side. Both venues'
// chains hold USD premiums and fraction IVs (the feeder converts Deribit's coin premiums and
// percent IVs), so the figures compare as they are. Expiries join on their code, strikes on
// their value and type, never on the contract's name (the venues spell them differently).
//
// The pure parts (termByVenue, commonExpiries, strikeDiffs) are unit-tested with `node --test`;
// CompareView fetches and draws with helpers it is given, as the Analytics view does.
import { isNum, pct, esc, expiryLabel, volPoints } from './format.js';
import { patchRows, setCards, setHtml, setText } from './dom.js';
import { inTurns, plotLibrary } from './plot.js';

export const VENUES = ['bybit', 'deribit'];
const VENUE_NAMES = { bybit: 'Bybit', deribit: 'Deribit' };

/**
 * ATM IV and 25Δ risk reversal per expiry of both venues on one day axis (uPlot's aligned
 * data): [days, bybit atm %, deribit atm %] and [days, bybit rr (vol points), deribit rr].
 */
export function termByVenue(byVenue) {
  const points = new Map(); // days -> {bybit: {atm, rr}, deribit: {...}}
  for (const v of VENUES) {
    const a = byVenue[v];
    for (const e of (a && a.expiries) || []) {
      if (!isNum(e.t)) continue;
      const days = Math.round(e.t * 365 * 1000) / 1000;
      const slot = points.get(days) || {};
      slot[v] = { atm: isNum(e.atm_iv) ? e.atm_iv * 100 : null, rr: isNum(e.rr25) ? e.rr25 * 100 : null };
      points.set(days, slot);
    }
  }
  const days = [...points.keys()].sort((x, y) => x - y);
  const col = (v, k) => days.map((d) => (points.get(d)[v] ? points.get(d)[v][k] : null));
  return {
    atm: [days, col('bybit', 'atm'), col('deribit', 'atm')],
    rr: [days, col('bybit', 'rr'), col('deribit', 'rr')],
  };
}

/** Expiry codes both venues list, chronological. */
export function commonExpiries(byVenue) {
  const codes = (v) => new Map(((byVenue[v] && byVenue[v].expiries) || []).map((e) => [e.expiry, e.expiry_ts]));
  const b = codes('bybit');
  const d = codes('deribit');
  return [...b.keys()].filter((c) => d.has(c)).sort((x, y) => b.get(x) - b.get(y));
}

/**
 * Per strike of one expiry, both venues' mark IV and mark price for calls and puts and the IV
 * difference (Deribit − Bybit, vol points). `chains` are /api/chain replies per venue;
 * `premium` is 'usd' or 'coin' (a premium over its contract's index price, Deribit's
 * convention for BTC and ETH).
 */
export function strikeDiffs(chains, premium = 'usd') {
  const byStrike = new Map();
  for (const v of VENUES) {
    const ch = chains[v];
    for (const line of (ch && ch.strikes) || []) {
      for (const kind of ['call', 'put']) {
        const row = line[kind];
        if (!row) continue;
        const k = Number(line.strike);
        const slot = byStrike.get(k) || { strike: k, call: {}, put: {} };
        // One contract per venue, strike and type: a second settle coin's is left out.
        if (slot[kind][v]) continue;
        const price = isNum(row.mark_price)
          ? (premium === 'coin' ? (isNum(row.index_price) && row.index_price > 0 ? row.mark_price / row.index_price : null) : row.mark_price)
          : null;
        slot[kind][v] = { iv: isNum(row.mark_iv) ? row.mark_iv : null, price };
        byStrike.set(k, slot);
      }
    }
  }
  const diff = (s) => (s.bybit && s.deribit && isNum(s.bybit.iv) && isNum(s.deribit.iv) ? (s.deribit.iv - s.bybit.iv) * 100 : null);
  return [...byStrike.values()]
    .filter((s) => (s.call.bybit || s.put.bybit) && (s.call.deribit || s.put.deribit))
    .sort((x, y) => x.strike - y.strike)
    .map((s) => ({ strike: s.strike, call: { ...s.call, diff: diff(s.call) }, put: { ...s.put, diff: diff(s.put) } }));
}

// A coin premium keeps four significant digits (a far wing costs 0.0001234 BTC), USD two decimals.
// Formatters made once: toLocaleString builds one per call, and the table writes four a row.
const COIN = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });
const USD = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const priceText = (p, premium) => (isNum(p) ? (premium === 'coin' ? COIN : USD).format(p) : '–');
const signed = (x) => (isNum(x) ? `${x > 0 ? '+' : ''}${x.toFixed(2)}` : '–');

export class CompareView {
  /** `helpers`: { el, drawChart, axes, cssVar, premium: () => 'usd' | 'coin' }. */
  constructor(helpers) {
    Object.assign(this, helpers);
    this.asset = null;
    this.figures = {};
    this.chains = {};
    this.expiry = null;
    this.error = null;
    this.loading = null;
  }

  show(asset) {
    if (asset !== this.asset) {
      this.asset = asset;
      this.figures = {};
      this.chains = {};
      this.expiry = null;
    }
    this.refresh();
  }

  async refresh() {
    if (!this.asset || this.loading) return;
    const asset = this.asset;
    const get = async (url) => {
      const r = await fetch(url, { headers: { Accept: 'application/json' } });
      const body = await r.json().catch(() => ({}));
      return r.ok ? body : null;
    };
    this.loading = (async () => {
      try {
        const a = encodeURIComponent(asset);
        const [bybit, deribit] = await Promise.all(VENUES.map((v) => get(`/api/analytics/${a}?venue=${v}`)));
        if (asset !== this.asset) return;
        this.figures = { bybit, deribit };
        const common = commonExpiries(this.figures);
        if (!common.includes(this.expiry)) this.expiry = common[0] || null;
        if (this.expiry) {
          const e = encodeURIComponent(this.expiry);
          const [cb, cd] = await Promise.all(VENUES.map((v) => get(`/api/chain/${a}/${e}?venue=${v}`)));
          if (asset !== this.asset) return;
          this.chains = { bybit: cb, deribit: cd };
        } else {
          this.chains = {};
        }
        this.error = bybit && deribit ? null : `${asset} is not on ${bybit ? 'Deribit' : 'Bybit'} here`;
      } catch (e) {
        this.error = e.message;
      } finally {
        this.loading = null;
        if (asset === this.asset) this.render();
      }
    })();
  }

  setExpiry(code) {
    this.expiry = code;
    this.chains = {};
    this.refresh();
  }

  render() {
    const head = this.el('compare-summary');
    const sel = this.el('compare-expiry');
    const common = commonExpiries(this.figures);
    setHtml(sel, common.map((c) => `<option value="${esc(c)}">${esc(expiryLabel(c))}</option>`).join(''));
    if (this.expiry && sel.value !== this.expiry) sel.value = this.expiry;
    const tenor = (v) => ((this.figures[v] && this.figures[v].tenors) || []).find((x) => x.days === 30) || {};
    const b30 = tenor('bybit');
    const d30 = tenor('deribit');
    const spread = isNum(b30.atm_iv) && isNum(d30.atm_iv) ? (d30.atm_iv - b30.atm_iv) * 100 : null;
    setCards(head, this.error
      ? [['Comparison', this.error]]
      : [
        ['Bybit 30d ATM IV', pct(b30.atm_iv)],
        ['Deribit 30d ATM IV', pct(d30.atm_iv)],
        ['Deribit − Bybit', isNum(spread) ? `${signed(spread)} vol pts` : '–'],
        ['Bybit 30d RR25', volPoints(b30.rr25)],
        ['Deribit 30d RR25', volPoints(d30.rr25)],
      ]);
    this.renderTable();
    this.renderCharts();
  }

  renderCharts() {
    if (!plotLibrary()) return;
    const term = termByVenue(this.figures);
    const bybit = this.cssVar('--accent');
    const deribit = this.cssVar('--put');
    const dayAxis = (u, vals) => vals.map((v) => (v === null ? '' : `${+v.toFixed(1)}d`));
    const fmt = (dp) => (u, v) => (v === null ? '–' : v.toFixed(dp));
    const series = (unit) => [
      { label: 'Days', value: (u, v) => (v === null ? '–' : `${v.toFixed(1)} d`) },
      { label: `Bybit ${unit}`, stroke: bybit, width: 2, points: { size: 6 }, spanGaps: true, value: fmt(2) },
      { label: `Deribit ${unit}`, stroke: deribit, width: 2, points: { size: 6 }, spanGaps: true, value: fmt(2) },
    ];
    const rows = strikeDiffs(this.chains, this.premium());
    return inTurns(this, [() => this.drawChart('cmpTerm', this.el('chart-cmp-term'), {
      key: 'cmpTerm', scales: { x: { time: false } }, series: series('ATM IV %'),
      axes: this.axes('Days to expiry', 'ATM IV %', dayAxis),
    }, term.atm), () => this.drawChart('cmpRr', this.el('chart-cmp-rr'), {
      key: 'cmpRr', scales: { x: { time: false } }, series: series('RR25 (vol pts)'),
      axes: this.axes('Days to expiry', '25Δ RR, vol points', dayAxis),
    }, term.rr), () => this.drawChart('cmpDiff', this.el('chart-cmp-diff'), {
      key: 'cmpDiff', scales: { x: { time: false } },
      series: [
        { label: 'Strike' },
        { label: 'Calls: Deribit − Bybit', stroke: this.cssVar('--call'), width: 2, points: { size: 5 }, spanGaps: true, value: fmt(2) },
        { label: 'Puts: Deribit − Bybit', stroke: this.cssVar('--put'), width: 2, points: { size: 5 }, spanGaps: true, value: fmt(2) },
      ],
      axes: this.axes('Strike', 'IV difference, vol points'),
    }, [rows.map((r) => r.strike), rows.map((r) => r.call.diff), rows.map((r) => r.put.diff)])]);
  }

  /**
   * The table: on a refresh that keeps the strikes (the common case, every 2 s) only the cells
   * whose figures changed are written.
   */
  renderTable() {
    const premium = this.premium();
    const unit = premium === 'coin' ? 'coin' : 'USD';
    const table = this.el('compare-table');
    const heads = ['Call IV Bybit', 'Call IV Deribit', 'Δ vol pts', `Call mark Bybit (${unit})`, `Call mark Deribit (${unit})`, 'Strike',
      `Put mark Deribit (${unit})`, `Put mark Bybit (${unit})`, 'Δ vol pts', 'Put IV Deribit', 'Put IV Bybit'];
    setHtml(table.querySelector('thead'), `<tr>${heads.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr>`);
    const rows = strikeDiffs(this.chains, premium);
    // Each cell as [text, class]; the strike is the row's header cell.
    const cell = (text, cls = '') => [text, cls];
    const diffCell = (d) => cell(signed(d), isNum(d) ? (d > 0 ? 'pos' : d < 0 ? 'neg' : '') : '');
    const cells = rows.map((r) => [
      cell(pct(r.call.bybit && r.call.bybit.iv)), cell(pct(r.call.deribit && r.call.deribit.iv)), diffCell(r.call.diff),
      cell(priceText(r.call.bybit && r.call.bybit.price, premium)), cell(priceText(r.call.deribit && r.call.deribit.price, premium)),
      cell(String(r.strike), 'strike'),
      cell(priceText(r.put.deribit && r.put.deribit.price, premium)), cell(priceText(r.put.bybit && r.put.bybit.price, premium)),
      diffCell(r.put.diff), cell(pct(r.put.deribit && r.put.deribit.iv)), cell(pct(r.put.bybit && r.put.bybit.iv)),
    ]);
    const key = `${unit} ${rows.map((r) => r.strike).join(' ')}`;
    const markup = ([text, cls]) => (cls === 'strike'
      ? `<th scope="row" class="strike">${esc(text)}</th>`
      : `<td class="${cls}">${esc(text)}</td>`);
    patchRows(table.querySelector('tbody'), key, cells, () => (rows.length
      ? rows.map((r, i) => `<tr data-strike="${r.strike}">${cells[i].map(markup).join('')}</tr>`).join('')
      : `<tr><td class="empty" colspan="${heads.length}">${this.expiry ? 'No strike listed on both venues' : 'No expiry listed on both venues'}</td></tr>`));
    setText(this.el('compare-caption'), this.expiry
      ? `· ${expiryLabel(this.expiry)} · mark IV and mark price per venue · ${VENUE_NAMES.deribit} − ${VENUE_NAMES.bybit}`
      : '');
  }
}
