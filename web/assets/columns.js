// The table's columns (keys are the seed's localStorage keys, plus this project's), its
// presets, and which columns are shown.
import { fixed, volume, pct, strikeText, expiryLabel, greek, timeLeft, moneyness, isNum } from './format.js';
import { quote, prem, spreadOf, spotText, forwardOf } from './prices.js';

// `flash`: a quote or a trade, the only cells that flash when they move (not the mark: a
// model price that moves with every tick of the underlying).
export const COLUMNS = [
  { key: 'symbol', label: 'Symbol', get: (r) => r.symbol, text: (r) => r.symbol, cls: 'text sym' },
  { key: 'type', label: 'Type', get: (r) => r.type, html: (r) => `<span class="badge ${r.type}">${r.type === 'call' ? 'CALL' : 'PUT'}</span>`, text: (r) => r.type, cls: 'text' },
  { key: 'strike', label: 'Strike', get: (r) => r.strike, text: (r) => strikeText(r.strike) },
  { key: 'expiry', label: 'Expiry', get: (r) => r.expiry_ts, text: (r) => expiryLabel(r.expiry), cls: 'text' },
  { key: 'dte', label: 'Expires in', get: (r) => r.expiry_ts, text: (r) => timeLeft(r.expiry_ts) },
  { key: 'settle', label: 'Settle', get: (r) => r.settle, text: (r) => r.settle, cls: 'text' },
  { key: 'moneyness', label: 'K/F', title: 'Moneyness: strike over the forward of its expiry, minus one', get: (r) => { const f = forwardOf(r); return isNum(f) && f > 0 ? r.strike / f : null; }, text: (r) => moneyness(r.strike, forwardOf(r)) },
  { key: 'bid', label: 'Bid', get: (r) => r.bid_price, text: (r) => quote(r, r.bid_price, r.bid_size), flash: true },
  { key: 'ask', label: 'Ask', get: (r) => r.ask_price, text: (r) => quote(r, r.ask_price, r.ask_size), flash: true },
  { key: 'spread', label: 'Spread', get: spreadOf, text: (r) => prem(r, spreadOf(r)) },
  { key: 'last', label: 'Last', get: (r) => r.last_price, text: (r) => prem(r, r.last_price), flash: true },
  { key: 'mark', label: 'Mark', get: (r) => r.mark_price, text: (r) => prem(r, r.mark_price) },
  { key: 'volume', label: 'Volume 24h', get: (r) => r.volume_24h, text: (r) => volume(r.volume_24h) },
  { key: 'oi', label: 'Open int.', get: (r) => r.open_interest, text: (r) => fixed(2)(r.open_interest) },
  { key: 'delta', label: 'Delta', get: (r) => r.delta, text: (r) => fixed(3)(r.delta) },
  { key: 'gamma', label: 'Gamma', get: (r) => r.gamma, text: (r) => greek(r.gamma) },
  { key: 'theta', label: 'Theta', get: (r) => r.theta, text: (r) => greek(r.theta) },
  { key: 'vega', label: 'Vega', get: (r) => r.vega, text: (r) => greek(r.vega) },
  { key: 'iv', label: 'IV', get: (r) => r.mark_iv, text: (r) => pct(r.mark_iv) },
  { key: 'underlying', label: 'Forward', title: 'The underlying price Bybit gives this contract (its expiry\'s forward)', get: (r) => r.underlying_price, text: (r) => spotText(r.underlying_price) },
  { key: 'index', label: 'Index', get: (r) => r.index_price, text: (r) => spotText(r.index_price) },
];
export const COLUMN = Object.fromEntries(COLUMNS.map((c) => [c.key, c]));
const ESSENTIAL = ['symbol', 'type', 'strike', 'expiry', 'last', 'mark', 'volume'];
export const PRESETS = {
  essential: ESSENTIAL,
  trading: ['symbol', 'type', 'strike', 'expiry', 'dte', 'moneyness', 'bid', 'ask', 'spread', 'mark', 'last', 'volume', 'oi', 'delta', 'iv', 'underlying'],
  greeks: ['symbol', 'type', 'strike', 'mark', 'delta', 'gamma', 'theta', 'vega', 'iv'],
  all: COLUMNS.map((c) => c.key),
};
const DEFAULT_HIDDEN = ['gamma', 'theta', 'vega', 'underlying', 'index', 'spread', 'settle', 'moneyness', 'dte'];

/** Which columns show: the defaults, overridden by what `storage` remembers. */
export function loadVisibility(storage) {
  const vis = Object.fromEntries(COLUMNS.map((c) => [c.key, !DEFAULT_HIDDEN.includes(c.key)]));
  try {
    const saved = JSON.parse(storage.get('columnVisibility') || 'null');
    if (saved && typeof saved === 'object') {
      for (const k of Object.keys(vis)) if (typeof saved[k] === 'boolean') vis[k] = saved[k];
    }
  } catch (e) { /* a corrupt entry falls back to the defaults */ }
  return vis;
}
