// The row store (web/assets/store.js): how OPTIONS.CHANGES replies fold into it, what the
// views derive from it, and the table's windowing and expiry stepping.
import test from 'node:test';
import assert from 'node:assert/strict';

import {
  newStore, applyChanges, holdChanges, heldAsChanges, expiriesOf, settlesOf, buildChain,
  filterAndSort, windowRange, stepExpiry,
} from '../../web/assets/store.js';

const row = (symbol, fields = {}) => {
  const [, expiry, strike, t, settle] = symbol.split('-');
  const ts = { '3DEC26': 1796284800000, '26DEC26': 1798272000000 }[expiry];
  return { symbol, expiry, expiry_ts: ts, strike: Number(strike), type: t === 'C' ? 'call' : 'put', settle: settle || 'USDC', ...fields };
};

test('a snapshot, then changes: what changed, and when the set of contracts changed', () => {
  const s = newStore([{ symbol: 'BTC' }]);
  const a = row('BTC-3DEC26-100000-C', { mark_iv: 0.5, index_price: 99000, updated_ms: 10 });
  const b = row('BTC-3DEC26-100000-P', { mark_iv: 0.52, index_price: 99100, updated_ms: 20 });
  let r = applyChanges(s, { seq: 5, reset: true, data: [a, b], removed: [] });
  assert.equal(r.membership, true, 'the first snapshot rebuilds');
  assert.equal(r.changed.size, 0);
  assert.equal(s.loaded, true);
  assert.equal(s.seq, 5);
  assert.equal(s.index, 99100, 'the newest contract gives the index');

  const a2 = { ...a, mark_iv: 0.55, index_price: 98000, updated_ms: 5 };
  r = applyChanges(s, { seq: 6, reset: false, data: [a2], removed: [] });
  assert.equal(r.membership, false, 'an update to a known contract only patches');
  assert.deepEqual([...r.changed], [[a.symbol, a]], 'the row before the change');
  assert.equal(s.rows.get(a.symbol).mark_iv, 0.55);
  assert.equal(s.index, 99100, 'an older contract does not move the index back');

  r = applyChanges(s, { seq: 7, reset: false, data: [], removed: [b.symbol, 'BTC-3DEC26-1-C'] });
  assert.equal(r.membership, true);
  assert.deepEqual([...s.rows.keys()], [a.symbol]);

  r = applyChanges(s, { seq: 8, reset: false, data: [], removed: ['BTC-3DEC26-1-C'] });
  assert.equal(r.membership, false, 'removing what is not there changes nothing');
});

test('held changes keep the newest row per symbol and let a removal cancel it', () => {
  const a = row('ETH-3DEC26-3000-C', { mark_iv: 0.6 });
  const b = row('ETH-3DEC26-3100-C', { mark_iv: 0.7 });
  let p = holdChanges(null, { seq: 1, data: [a], removed: [] });
  p = holdChanges(p, { seq: 2, data: [{ ...a, mark_iv: 0.61 }, b], removed: [] });
  p = holdChanges(p, { seq: 3, data: [], removed: [b.symbol] });
  assert.equal(p.count, 4, 'everything received is counted');
  const c = heldAsChanges(p);
  assert.deepEqual(c, { reset: false, data: [{ ...a, mark_iv: 0.61 }], removed: [b.symbol], seq: 3 });
  p = holdChanges(p, { seq: 4, reset: true, data: [b], removed: [] });
  assert.deepEqual(heldAsChanges(p), { reset: true, data: [b], removed: [], seq: 4 }, 'a reset drops what came before');
});

test('expiries in time order, settle coins, and a chain paired by strike with its ATM', () => {
  const rows = new Map([
    row('BTC-26DEC26-90000-C', { underlying_price: 101000 }),
    row('BTC-3DEC26-110000-P', { underlying_price: 100400, mark_iv: 0.4 }),
    row('BTC-3DEC26-100000-C', { underlying_price: 100500, mark_iv: 0.5 }),
    row('BTC-3DEC26-100000-P', { underlying_price: 100600, mark_iv: 0.7 }),
    row('BTC-3DEC26-100000-C-USDT', { underlying_price: 1 }),
  ].map((r) => [r.symbol, r]));
  assert.deepEqual(expiriesOf(rows).map((e) => e.code), ['3DEC26', '26DEC26']);
  assert.deepEqual([...settlesOf(rows, '3DEC26')].sort(), ['USDC', 'USDT']);
  const ch = buildChain(rows, '3DEC26', 'USDC');
  assert.deepEqual(ch.lines.map((l) => [l.strike, !!l.call, !!l.put]), [[100000, true, true], [110000, false, true]]);
  // The forward is the median of 100,400, 100,500 and 100,600; the nearest strike is 100,000.
  assert.equal(ch.spot, 100500);
  assert.equal(ch.atm, 100000);
});

test('the table filters by expiry, type and search, sorts missing values last', () => {
  const rows = new Map([
    row('SOL-3DEC26-200-C', { volume_24h: 5 }),
    row('SOL-3DEC26-210-C', { volume_24h: null }),
    row('SOL-3DEC26-220-C', { volume_24h: 9 }),
    row('SOL-3DEC26-200-P', { volume_24h: 7 }),
    row('SOL-26DEC26-200-C', { volume_24h: 100 }),
  ].map((r) => [r.symbol, r]));
  const vol = (r) => r.volume_24h;
  const calls = filterAndSort(rows, { expiry: '3DEC26', type: 'call', search: '' }, vol, 'desc');
  assert.deepEqual(calls.map((r) => r.strike), [220, 200, 210]);
  const asc = filterAndSort(rows, { expiry: 'ALL', type: 'all', search: '' }, vol, 'asc');
  assert.deepEqual(asc.map((r) => r.volume_24h), [5, 7, 9, 100, null]);
  assert.deepEqual(filterAndSort(rows, { expiry: '', type: 'all', search: '-200-p' }, vol, 'asc').map((r) => r.symbol), ['SOL-3DEC26-200-P']);
});

test('windowing keeps the rows on screen plus the overscan, within the table', () => {
  // 1,000 rows of 33 px in a 660 px viewport scrolled to row 100, 15 rows either side.
  assert.deepEqual(windowRange(3300, 33, 660, 1000, 15), { first: 85, last: 135 });
  assert.deepEqual(windowRange(0, 33, 660, 1000, 15), { first: 0, last: 50 });
  assert.deepEqual(windowRange(33 * 990, 33, 660, 1000, 15), { first: 975, last: 1000 });
  assert.deepEqual(windowRange(0, 33, 660, 10, 15), { first: 0, last: 10 });
});

test('[ and ] step through expiries, to ALL past the ends where a view can show all', () => {
  const codes = ['3DEC26', '4DEC26', '26DEC26'];
  assert.equal(stepExpiry(codes, '3DEC26', ']', true), '4DEC26');
  assert.equal(stepExpiry(codes, '26DEC26', ']', true), 'ALL');
  assert.equal(stepExpiry(codes, 'ALL', ']', true), '3DEC26');
  assert.equal(stepExpiry(codes, 'ALL', '[', true), '26DEC26');
  assert.equal(stepExpiry(codes, '3DEC26', '[', true), 'ALL');
  assert.equal(stepExpiry(codes, '3DEC26', '[', false), '3DEC26', 'the chain stays on the nearest');
  assert.equal(stepExpiry(codes, '26DEC26', ']', false), '26DEC26');
});
