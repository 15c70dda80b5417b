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
export const plain = (v) => {
  if (!isNum(v)) return '–';
  const a = Math.abs(v);
  return a >= 1 ? NF[2].format(v) : a === 0 ? '0' : v.toPrecision(3);
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
