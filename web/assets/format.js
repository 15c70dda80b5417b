// Number, date and text formats of the dashboard: pure functions, shared by every view and
// unit-tested with `node --test` (tests/js/). No DOM here.

export const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
export const nf = (dp) => new Intl.NumberFormat('en-US', { minimumFractionDigits: dp, maximumFractionDigits: dp });
export const NF = [0, 1, 2, 3, 4, 6].reduce((m, dp) => ((m[dp] = nf(dp)), m), {});
export const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
// "-0.000" for a tiny negative delta reads as a sign error: drop the sign of a zero.
export const fixed = (dp) => (v) => (isNum(v) ? NF[dp].format(v).replace(/^-(0[.,]?0*)$/, '$1') : '–');
// Cheap options need more than the seed's two decimals to be readable.
export const money = (v) => {
  if (!isNum(v)) return '–';
  if (v === 0) return '$0.00';
  const a = Math.abs(v);
  if (a >= 1) return '$' + NF[2].format(v);
  return '$' + v.toPrecision(a >= 0.01 ? 3 : 2);
};
// A price of the underlying (index, forward): cents above 1,000, more decimals as it shrinks
// (SOL 187.345, XRP 2.3145), so a low-priced asset is not rounded to a few steps.
export const plain = (v) => {
  if (!isNum(v)) return '–';
  const a = Math.abs(v);
  if (a === 0) return '0';
  const dp = a >= 1000 ? 2 : a >= 10 ? 3 : a >= 0.1 ? 4 : 6;
  return new Intl.NumberFormat('en-US', { minimumFractionDigits: dp, maximumFractionDigits: dp }).format(v);
};
export const volume = (v) => {
  if (!isNum(v) || v === 0) return '0';
  if (v >= 1e6) return (v / 1e6).toFixed(2) + 'M';
  if (v >= 1e3) return (v / 1e3).toFixed(2) + 'K';
  return NF[0].format(Math.round(v));
};
export const pct = (v) => (isNum(v) ? (v * 100).toFixed(1) + '%' : '–');
// One formatter, made once: strikes are formatted for every patched row.
const STRIKE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });
export const strikeText = (v) => (isNum(v) ? STRIKE.format(v) : '–');
export const expiryLabel = (code) => {
  const m = /^(\d{1,2})([A-Z]{3})(\d{2})$/.exec(code || '');
  return m ? `${m[1].padStart(2, '0')}-${m[2][0]}${m[2].slice(1).toLowerCase()}-${m[3]}` : code || '';
};
/** A deep link's expiry as Bybit writes it: `03SEP25`, `3sep25` and `2025-09-03` → `3SEP25`. */
export function expiryCode(text) {
  const t = String(text || '').trim().toUpperCase();
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (iso) return `${parseInt(iso[3], 10)}${MONTHS[parseInt(iso[2], 10) - 1] || '?'}${iso[1].slice(2)}`;
  const code = /^0?(\d{1,2})([A-Z]{3})(\d{2})$/.exec(t);
  return code ? `${code[1]}${code[2]}${code[3]}` : t;
}
export const daysTo = (ts) => Math.max(0, (ts - Date.now()) / 86400000);
export const ago = (ms) => {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
};
export const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

// ---------------------------------------------------------------------------------------------
// Trader formats: every price with the exchange's precision, greeks with sensible digits.

const byDecimals = new Map();
/** A formatter with exactly `dp` decimals and thousands separators (cached per `dp`). */
export const dec = (dp) => {
  let f = byDecimals.get(dp);
  if (!f) {
    const n = nf(dp);
    f = (v) => (isNum(v) ? n.format(v).replace(/^-(0[.,]?0*)$/, '$1') : '–');
    byDecimals.set(dp, f);
  }
  return f;
};

/** Decimals of a price step: 5 → 0, 0.1 → 1, 0.05 → 2, 0.0001 → 4, 1e-7 → 7. */
export function stepDecimals(step) {
  if (!isNum(step) || step <= 0) return 2;
  for (let dp = 0; dp <= 10; dp++) {
    if (Math.abs(Math.round(step * 10 ** dp) - step * 10 ** dp) < 1e-9 * 10 ** dp) return dp;
  }
  return 10;
}

/** The most decimals any of `values` needs (strikes of a chain: 0.05 steps → 2). */
export function valuesDecimals(values) {
  let dp = 0;
  for (const v of values) if (isNum(v)) dp = Math.max(dp, stepDecimals(Math.abs(v)));
  return Math.min(dp, 8);
}

/**
 * A quote step when the exchange's cannot be had: four orders of magnitude below the price of
 * the underlying, which is Bybit's grid (BTC 5 → 1 here, ETH 0.1, SOL 0.01, XRP 0.0001).
 */
export function fallbackTick(spot) {
  if (!isNum(spot) || spot <= 0) return 0.01;
  return 10 ** (Math.floor(Math.log10(spot)) - 4);
}

/** Decimals of an index or forward: cents above 1,000, then more as the price shrinks. */
export function spotDecimals(price) {
  if (!isNum(price)) return 2;
  const a = Math.abs(price);
  return a >= 1000 ? 2 : a >= 10 ? 3 : a >= 0.1 ? 4 : 6;
}

/** A greek with three significant digits and no exponent (gamma 0.0000123, theta -52.3). */
export function greek(v) {
  if (!isNum(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  const dp = a >= 100 ? 1 : a >= 1 ? 2 : Math.min(10, 2 - Math.floor(Math.log10(a)));
  return dec(dp)(v);
}

/** Time left until `expiryMs`: hours under two days (`9.6 h`), days above (`3.4 d`). */
export function timeLeft(expiryMs, now = Date.now()) {
  const ms = expiryMs - now;
  if (!isNum(ms)) return '–';
  if (ms <= 0) return 'expired';
  const h = ms / 3_600_000;
  return h < 48 ? `${h.toFixed(1)} h` : `${(h / 24).toFixed(1)} d`;
}

const pad2 = (n) => String(n).padStart(2, '0');
/** A 24-hour clock time, in UTC (`14:03:05 UTC`) or the browser's zone (`15:03:05`). */
export function clock(ms, utc) {
  if (!isNum(ms) || ms <= 0) return '–';
  const d = new Date(ms);
  return utc
    ? `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} UTC`
    : `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** Moneyness K/F − 1 in percent, signed (`+2.1%`, `-0.4%`); `–` without a forward. */
export function moneyness(strike, forward) {
  if (!isNum(strike) || !isNum(forward) || forward <= 0) return '–';
  const m = (strike / forward - 1) * 100;
  const t = Math.abs(m) < 0.05 ? '0.0' : m.toFixed(1);
  return (m >= 0.05 ? '+' : '') + t + '%';
}

// The analytics' figures (OPTIONS.ANALYTICS and its history).
/** Volatility points, signed: 0.0123 → "+1.23". */
export const volPoints = (v) => (isNum(v) ? (v >= 0 ? '+' : '−') + Math.abs(v * 100).toFixed(2) : '–');
/** A ratio to two decimals. */
export const ratio = (v) => (isNum(v) ? v.toFixed(2) : '–');
/** Dollar amounts compactly, signed: 1234567 → "$1.23M", -5300 → "−$5.30K". */
export function dollars(v) {
  if (!isNum(v)) return '–';
  const a = Math.abs(v);
  const sign = v < 0 ? '−' : '';
  if (a >= 1e9) return `${sign}$${(a / 1e9).toFixed(2)}B`;
  if (a >= 1e6) return `${sign}$${(a / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${sign}$${(a / 1e3).toFixed(2)}K`;
  return `${sign}$${a.toFixed(0)}`;
}
/** Open interest or volume in contracts. */
export const contracts = (v) => (isNum(v) ? NF[v >= 100 ? 0 : 2].format(v) : '–');
/** A strike as listed: enough decimals for XRP's 2.35, none for BTC's 100000. */
export const strike = (v) => (isNum(v) ? new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 }).format(v) : '–');
