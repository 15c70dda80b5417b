// The Analytics view's data, from an `OPTIONS.ANALYTICS` reply: the term-structure and GEX
// chart series and the per-expiry table's text. Pure: node's tests run it (tests/js/).
import { isNum, pct, plain, expiryLabel, volPoints, ratio, dollars, strike } from './format.js';

/**
 * Chart series of a reply: x in days to expiry; ATM IV by expiry and at the tenors (percent),
 * RR25 and BF25 by expiry (vol points). uPlot wants one x array shared by every series, so the
 * expiries' and tenors' days are merged, and each series is null where it has no point.
 */
export function termSeries(a) {
  const byDay = new Map();
  const at = (days) => {
    if (!byDay.has(days)) byDay.set(days, { atm: null, tenor: null, rr: null, bf: null });
    return byDay.get(days);
  };
  for (const e of a.expiries || []) {
    const p = at(+(e.t * 365).toFixed(4));
    if (isNum(e.atm_iv)) p.atm = e.atm_iv * 100;
    if (isNum(e.rr25)) p.rr = e.rr25 * 100;
    if (isNum(e.bf25)) p.bf = e.bf25 * 100;
  }
  for (const t of a.tenors || []) if (isNum(t.atm_iv)) at(t.days).tenor = t.atm_iv * 100;
  const days = [...byDay.keys()].sort((x, y) => x - y);
  const col = (k) => days.map((d) => byDay.get(d)[k]);
  return { days, atm: col('atm'), tenor: col('tenor'), rr: col('rr'), bf: col('bf') };
}

/**
 * GEX bars: strikes ascending, their GEX split into a positive and a negative series (drawn in
 * the call and put colours), and the x range's room of half a strike step at each end.
 */
export function gexSeries(strikes) {
  const s = (strikes || []).filter((x) => isNum(x.strike)).sort((x, y) => x.strike - y.strike);
  const k = s.map((x) => x.strike);
  const half = k.length > 1 ? (k[k.length - 1] - k[0]) / (k.length - 1) / 2 : 1;
  const gex = s.map((x) => x.gex);
  return {
    strikes: k,
    gex,
    positive: gex.map((g) => (isNum(g) && g >= 0 ? g : null)),
    negative: gex.map((g) => (isNum(g) && g < 0 ? g : null)),
    half,
  };
}

const TABLE = [
  ['Expiry', (e) => expiryLabel(e.expiry), 'text'],
  ['DTE', (e) => (e.t * 365).toFixed(1)],
  ['Forward', (e) => plain(e.forward)],
  ['ATM', (e) => strike(e.atm_strike)],
  ['ATM IV', (e) => pct(e.atm_iv)],
  ['RR25', (e) => volPoints(e.rr25)],
  ['BF25', (e) => volPoints(e.bf25)],
  ['RR10', (e) => volPoints(e.rr10)],
  ['BF10', (e) => volPoints(e.bf10)],
  ['PCR OI', (e) => ratio(e.pcr_oi)],
  ['PCR Vol', (e) => ratio(e.pcr_volume)],
  ['Max pain', (e) => strike(e.max_pain)],
  ['GEX', (e) => dollars(e.gex), 'signed'],
  ['Notional OI', (e) => dollars(e.notional_oi)],
];

/** The per-expiry table's rows as text, in column order (the DOM and the tests share it). */
export function tableCells(a) {
  return (a.expiries || []).map((e) => TABLE.map(([, f]) => f(e)));
}

export const TABLE_HEADERS = TABLE.map(([h]) => h);
/** Each column's kind: `text` (left-aligned), `signed` (coloured by sign) or ''. */
export const TABLE_KINDS = TABLE.map(([, , kind]) => kind || '');
