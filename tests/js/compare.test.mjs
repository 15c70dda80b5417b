// The venue comparison's pure parts, on hand-made replies of /api/analytics and /api/chain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { termByVenue, commonExpiries, strikeDiffs } from '../../web/assets/compare.js';

const figures = {
  bybit: { expiries: [
    { expiry: '26DEC26', expiry_ts: 2, t: 20 / 365, atm_iv: 0.5, rr25: 0.01 },
    { expiry: '12DEC26', expiry_ts: 1, t: 6 / 365, atm_iv: 0.55, rr25: null },
  ] },
  deribit: { expiries: [
    { expiry: '26DEC26', expiry_ts: 2, t: 20 / 365, atm_iv: 0.52, rr25: -0.02 },
    { expiry: '25JUN27', expiry_ts: 3, t: 201 / 365, atm_iv: 0.6, rr25: 0.03 },
  ] },
};

test('term structures share one day axis, gaps where a venue lists no expiry', () => {
  const t = termByVenue(figures);
  assert.deepEqual(t.atm[0], [6, 20, 201]);
  assert.deepEqual(t.atm[1].map((x) => (x === null ? null : +x.toFixed(6))), [55, 50, null]);
  assert.deepEqual(t.atm[2].map((x) => (x === null ? null : +x.toFixed(6))), [null, 52, 60]);
  assert.deepEqual(t.rr[1].map((x) => (x === null ? null : +x.toFixed(6))), [null, 1, null]);
  assert.deepEqual(t.rr[2].map((x) => (x === null ? null : +x.toFixed(6))), [null, -2, 3]);
  assert.deepEqual(termByVenue({}).atm, [[], [], []]);
});

test('common expiries join on the code, chronological', () => {
  assert.deepEqual(commonExpiries(figures), ['26DEC26']);
  assert.deepEqual(commonExpiries({ bybit: figures.bybit }), []);
});

test('strikes join on value and type; the difference is Deribit minus Bybit in vol points', () => {
  const row = (iv, mark, index = 100000) => ({ mark_iv: iv, mark_price: mark, index_price: index });
  const chains = {
    bybit: { strikes: [
      { strike: '90000', call: row(0.5, 12000), put: row(0.52, 2000) },
      { strike: '100000', call: row(0.48, 6000), put: null },
      { strike: '110000', call: row(0.47, 2500), put: row(0.49, 12000) },
    ] },
    deribit: { strikes: [
      { strike: 90000, call: row(0.51, 12100), put: row(0.515, 1990) },
      { strike: '100000', call: row(0.49, 6100), put: row(0.5, 5000) },
      { strike: '120000', call: row(0.46, 1000), put: row(0.5, 20000) },
    ] },
  };
  const rows = strikeDiffs(chains, 'usd');
  assert.deepEqual(rows.map((r) => r.strike), [90000, 100000]);
  assert.equal(+rows[0].call.diff.toFixed(6), 1);
  assert.equal(+rows[0].put.diff.toFixed(6), -0.5);
  assert.equal(rows[1].put.diff, null, 'no Bybit put at 100000');
  assert.equal(rows[0].call.deribit.price, 12100);
  const coin = strikeDiffs(chains, 'coin');
  assert.equal(coin[0].call.bybit.price, 0.12);
  assert.equal(coin[0].put.deribit.price, 0.0199);
  assert.deepEqual(strikeDiffs({}, 'usd'), []);
});
