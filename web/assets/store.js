// The row store and what is derived from it: pure functions over plain data (no DOM), shared
// by every view and unit-tested with `node --test` (tests/js/store.test.mjs). The store holds
// the module's rows by symbol, fed by OPTIONS.CHANGES replies (the snapshot, then the stream).
import { isNum } from './format.js';
import { forwardAndAtm } from './rules.js';

/** An empty store; `assets` is the configured asset list (for the tabs and dialogs). */
export function newStore(assets) {
  return {
    rows: new Map(), // symbol -> module JSON row
    loaded: false, // the first (reset) snapshot arrived
    seq: 0,
    expiries: [], // [{code, ts}] sorted, recomputed on membership change
    assets: assets || [],
    index: null, // the asset's index price, from its most recently updated contract
    indexAt: 0,
  };
}

/**
 * Applies one OPTIONS.CHANGES reply (`{seq, reset, data, removed}`) to `store`. Returns the
 * rows that changed (symbol → the row before) and whether the set of contracts changed (a
 * reset, a new or a removed contract, or the first snapshot): views patch cells for the first
 * and rebuild for the second.
 */
export function applyChanges(store, ch) {
  const changed = new Map();
  let membership = false;
  if (ch.reset) {
    store.rows.clear();
    store.indexAt = 0;
    membership = true;
  }
  for (const r of ch.data || []) {
    const before = store.rows.get(r.symbol);
    store.rows.set(r.symbol, r);
    // The index is one number for the asset: the newest contract's is the current one.
    if (isNum(r.index_price) && r.index_price > 0 && (r.updated_ms || 0) >= store.indexAt) {
      store.index = r.index_price;
      store.indexAt = r.updated_ms || 0;
    }
    if (before) changed.set(r.symbol, before);
    else membership = true;
  }
  for (const s of ch.removed || []) if (store.rows.delete(s)) membership = true;
  if (isNum(ch.seq)) store.seq = ch.seq;
  const first = !store.loaded;
  store.loaded = true;
  return { changed, membership: membership || first };
}

/**
 * Folds changes received while auto-refresh is off into `pending` (null: nothing held yet):
 * the newest row per symbol, removals cancelling earlier rows, a reset dropping everything
 * before it. Returns the held changes; `count` grows by the rows and removals received.
 */
export function holdChanges(pending, ch) {
  const p = pending || { reset: false, data: new Map(), removed: new Set(), seq: 0, count: 0 };
  if (ch.reset) {
    p.reset = true;
    p.data.clear();
    p.removed.clear();
  }
  for (const r of ch.data || []) {
    p.data.set(r.symbol, r);
    p.removed.delete(r.symbol);
  }
  for (const s of ch.removed || []) {
    p.data.delete(s);
    p.removed.add(s);
  }
  p.seq = ch.seq;
  p.count += (ch.data || []).length + (ch.removed || []).length;
  return p;
}

/** Held changes as one OPTIONS.CHANGES reply, to apply when auto-refresh comes back on. */
export function heldAsChanges(p) {
  return { reset: p.reset, data: [...p.data.values()], removed: [...p.removed], seq: p.seq };
}

/** The expiries of `rows`, chronological: `[{code, ts}]`. */
export function expiriesOf(rows) {
  const m = new Map();
  for (const r of rows.values()) if (!m.has(r.expiry)) m.set(r.expiry, r.expiry_ts);
  return [...m].map(([code, ts]) => ({ code, ts })).sort((a, b) => a.ts - b.ts);
}

/** The settle coins one expiry is listed in. */
export function settlesOf(rows, expiry) {
  const s = new Set();
  for (const r of rows.values()) if (r.expiry === expiry) s.add(r.settle);
  return s;
}

/**
 * Contracts of one expiry and settle coin, in strike order, paired call/put, with the forward
 * and the ATM strike by OPTIONS.CHAIN's rule (rules.js: the median forward, the strike nearest
 * it).
 */
export function buildChain(rows, expiry, settle) {
  const byStrike = new Map();
  for (const r of rows.values()) {
    if (r.expiry !== expiry || r.settle !== settle) continue;
    let line = byStrike.get(r.strike);
    if (!line) byStrike.set(r.strike, (line = { strike: r.strike, call: null, put: null }));
    line[r.type] = r;
  }
  const lines = [...byStrike.values()].sort((a, b) => a.strike - b.strike);
  const { forward: spot, atm } = forwardAndAtm(lines);
  return { lines, spot, atm };
}

/**
 * The rows the table shows: those of `filter.expiry` (empty or ALL: every expiry), of
 * `filter.type` (call, put or all) and whose symbol contains `filter.search` (any case),
 * sorted by `get(row)` in `dir` (asc or desc). Missing values sort last either way; equal
 * values by symbol, so the order is stable between renders.
 */
export function filterAndSort(rows, filter, get, dir) {
  const q = (filter.search || '').trim().toUpperCase();
  const out = [];
  for (const r of rows.values()) {
    if (filter.expiry && filter.expiry !== 'ALL' && r.expiry !== filter.expiry) continue;
    if (filter.type !== 'all' && r.type !== filter.type) continue;
    if (q && !r.symbol.includes(q)) continue;
    out.push(r);
  }
  const sign = dir === 'asc' ? 1 : -1;
  out.sort((a, b) => {
    const x = get(a);
    const y = get(b);
    if (x === y) return a.symbol < b.symbol ? -1 : 1;
    if (x === undefined || x === null) return 1;
    if (y === undefined || y === null) return -1;
    return (x < y ? -1 : 1) * sign;
  });
  return out;
}

/**
 * The rows of a windowed table to keep in the DOM: those on screen at `scrollTop` plus
 * `overscan` rows either side, as indexes `[first, last)` into `count` rows of `rowHeight` px
 * in a viewport `viewHeight` px high.
 */
export function windowRange(scrollTop, rowHeight, viewHeight, count, overscan) {
  const first = Math.max(0, Math.min(count, Math.floor(scrollTop / rowHeight) - overscan));
  const last = Math.min(count, first + Math.ceil(viewHeight / rowHeight) + 2 * overscan);
  return { first, last };
}

/**
 * The expiry `[` (back) or `]` (forward) moves to from `current` among `codes`. Views that
 * can show every expiry (`all`) step past either end to ALL; the others stop at the ends.
 */
export function stepExpiry(codes, current, key, all) {
  if (!codes.length) return current;
  const at = codes.indexOf(current);
  const next = key === ']' ? at + 1 : at < 0 ? codes.length - 1 : at - 1;
  return next < 0 || next >= codes.length ? (all ? 'ALL' : codes[at]) : codes[next];
}
