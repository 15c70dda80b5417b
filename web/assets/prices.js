// Prices with the exchange's precision (its quote step per settle coin, /api/instruments) and
// the premium unit the trader chose (USD as Bybit quotes, or coin as Deribit does).
import { NF, isNum, dec, stepDecimals, fallbackTick, spotDecimals } from './format.js';
import { prefs, ui, chainOf } from './state.js';

export const inst = { asset: null, tick: {} };
/** Decimals of a quote of `settle` (the exchange's tick, or one inferred from the price). */
export function priceDp(settle, underlying) {
  const t = inst.asset === ui.asset ? inst.tick[settle] : undefined;
  return stepDecimals(isNum(t) && t > 0 ? t : fallbackTick(underlying));
}
/** Asks the server for the exchange's tick sizes of `asset`; `onLoaded` once they arrive. */
export async function loadInstruments(asset, onLoaded) {
  // The quote steps are Bybit's (its instruments-info); other venues' prices keep the defaults.
  if (!asset || inst.asset === asset || ui.venue !== 'bybit') return;
  try {
    const r = await fetch(`/api/instruments/${encodeURIComponent(asset)}`, { headers: { Accept: 'application/json' } });
    if (!r.ok || asset !== ui.asset) return;
    const j = await r.json();
    inst.asset = asset;
    inst.tick = j.price_tick || {};
    requestAnimationFrame(onLoaded);
  } catch (e) { /* the exchange cannot be asked: precision is inferred from the price */ }
}
/** A premium in USD (the exchange's quote, at its precision) or in coin (÷ index, 4 dp). */
export function prem(r, v) {
  if (!r || !isNum(v)) return '–';
  if (prefs.premium === 'coin') return isNum(r.index_price) && r.index_price > 0 ? dec(4)(v / r.index_price) : '–';
  return dec(priceDp(r.settle, r.underlying_price || r.index_price))(v);
}
/** A bid or ask: a zero price (or size) is no quote at all, shown as a dash as exchanges do. */
export const quote = (r, price, size) => (isNum(price) && price > 0 && (!isNum(size) || size > 0) ? prem(r, price) : '–');
export const spreadOf = (r) => (isNum(r.bid_price) && isNum(r.ask_price) && r.bid_price > 0 && r.ask_price > 0 ? r.ask_price - r.bid_price : null);
/** An index or forward at its precision (`$` only here: it is a price, not a premium). */
export const spotText = (v) => (isNum(v) ? '$' + dec(spotDecimals(v))(v) : '–');
export const signedPct = (v) => (isNum(v) ? (v > 0 ? '+' : '') + (v * 100).toFixed(1) + '%' : '–');
export const sizeText = (v) => (isNum(v) ? (v >= 100 ? NF[0].format(v) : dec(1)(v)) : '–');
/** The forward of a contract's expiry and settle coin (the median rule). */
export const forwardOf = (r) => chainOf(r.expiry, r.settle).spot;

/** The premium unit: USD as Bybit quotes, or the asset's coin as Deribit does. */
export function premiumUnit() {
  return prefs.premium === 'coin' ? ui.asset || 'coin' : 'USD';
}
