// Market rules the dashboard shares with the module (ANALYTICS.md): the forward of an expiry is
// the median of its contracts' underlying prices, its ATM strike the listed strike nearest the
// forward (the lower on a tie). Pure functions, unit-tested with `node --test` (tests/js/).

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

/**
 * Max pain of chain lines `[{strike, call, put}]` (ANALYTICS.md): the listed strike at which
 * option holders are paid least at expiry, the lower on a tie; null without open interest.
 */
export function maxPain(lines) {
  const oi = (r) => (r && typeof r.open_interest === 'number' && Number.isFinite(r.open_interest) ? r.open_interest : 0);
  if (!lines.some((l) => oi(l.call) || oi(l.put))) return null;
  let best = null;
  let least = Infinity;
  for (const { strike: at } of lines) {
    let paid = 0;
    for (const l of lines) paid += oi(l.call) * Math.max(0, at - l.strike) + oi(l.put) * Math.max(0, l.strike - at);
    if (paid < least) {
      least = paid;
      best = at;
    }
  }
  return best;
}
