// Market rules the dashboard shares with the module (ANALYTICS.md): the forward of an expiry is
// the median of its contracts' underlying prices, its ATM strike the listed strike nearest the
// forward (the lower on a tie). The chain view needs both on every tick to place its ATM row.
// Figures the module computes from them (ATM IV, max pain) are never recomputed here: the page
// shows the module's (figures.js). Pure functions, unit-tested with `node --test` (tests/js/).

/** The median of finite numbers; an even count takes the mean of the two middle values. */
export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** The strike of `strikes` (ascending) nearest `price`, the lower on a tie; null if none. */
export function nearestStrike(strikes, price) {
  if (price === null || !strikes.length) return null;
  let best = strikes[0];
  for (const k of strikes) if (Math.abs(k - price) < Math.abs(best - price)) best = k;
  return best;
}

/** Forward and ATM strike of chain lines `[{strike, call, put}]` in strike order. */
export function forwardAndAtm(lines) {
  const prices = [];
  for (const l of lines) {
    for (const r of [l.call, l.put]) if (r) prices.push(r.underlying_price);
  }
  const forward = median(prices);
  return { forward, atm: nearestStrike(lines.map((l) => l.strike), forward) };
}
