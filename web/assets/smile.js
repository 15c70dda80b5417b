// The module's SVI fit of an expiry (OPTIONS.ANALYTICS `svi`, ANALYTICS.md "Fitted smiles") read
// at a strike, and the sparkline and 24-hour change of the volatility index card. Pure: node's
// tests run it (tests/js/).
import { isNum } from './format.js';

/** The fitted IV (a fraction) at `strike` from an expiry's figures, or null without a fit. */
export function fitIv(fig, strike) {
  if (!fig || !fig.svi || !isNum(fig.t) || fig.t <= 0 || !isNum(fig.forward) || fig.forward <= 0 || !(strike > 0)) return null;
  const { a, b, rho, m, sigma } = fig.svi;
  const x = Math.log(strike / fig.forward) - m;
  const w = a + b * (rho * x + Math.sqrt(x * x + sigma * sigma));
  return Math.sqrt(Math.max(w, 0) / fig.t);
}

/** A strike's market IV as the fit takes it: the mean of its call's and put's `mark_iv`. */
export function marketIv(line) {
  const ivs = [line.call, line.put].map((r) => (r && isNum(r.mark_iv) && r.mark_iv > 0 ? r.mark_iv : null)).filter((v) => v !== null);
  return ivs.length ? ivs.reduce((s, v) => s + v, 0) / ivs.length : null;
}

/** Market minus fitted IV at a chain line (positive: rich), or null. */
export function residual(fig, line) {
  const iv = marketIv(line);
  const fit = fitIv(fig, line.strike);
  return iv === null || fit === null ? null : iv - fit;
}

/** What the fit's flags say, for a warning; null when nothing is flagged. */
export function arbitrageWarning(fig) {
  if (!fig) return null;
  const kinds = [fig.butterfly_arb === true ? 'butterfly' : null, fig.calendar_arb === true ? 'calendar' : null].filter(Boolean);
  return kinds.length ? `The fitted smile has ${kinds.join(' and ')} arbitrage` : null;
}

/** SVG polyline points of `values` (nulls skipped) in a `width`×`height` box, or ''. */
export function sparkPoints(values, width, height) {
  const pts = values.map((v, i) => [i, v]).filter(([, v]) => isNum(v));
  if (pts.length < 2) return '';
  const lo = Math.min(...pts.map((p) => p[1]));
  const hi = Math.max(...pts.map((p) => p[1]));
  const span = hi - lo || 1;
  const last = values.length - 1 || 1;
  return pts
    .map(([i, v]) => `${+((i / last) * width).toFixed(1)},${+(height - 1 - ((v - lo) / span) * (height - 2)).toFixed(1)}`)
    .join(' ');
}

/** The change of `current` from the first of `points` ([ts, value]) at or after `since`, or null. */
export function changeSince(points, since, current) {
  if (!isNum(current)) return null;
  const first = (points || []).find((p) => p[0] >= since && isNum(p[1]));
  return first ? current - first[1] : null;
}
