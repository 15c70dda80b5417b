import test from 'node:test';
import assert from 'node:assert/strict';

import { volPoints, ratio, dollars } from '../../web/assets/format.js';
import { termSeries, gexSeries, tableCells, TABLE_HEADERS } from '../../web/assets/analytics-series.js';

test('figures read the way traders write them', () => {
  assert.equal(volPoints(0.0123), '+1.23');
  assert.equal(volPoints(-0.004), '−0.40');
  assert.equal(volPoints(null), '–');
  assert.equal(ratio(0.8765), '0.88');
  assert.equal(dollars(1_234_567), '$1.23M');
  assert.equal(dollars(-5300), '−$5.30K');
  assert.equal(dollars(2.5e9), '$2.50B');
  assert.equal(dollars(12), '$12');
});

test('term series merge expiry and tenor days on one axis, nulls where a series has no point', () => {
  const a = {
    expiries: [
      { t: 2 / 365, atm_iv: 0.5, rr25: 0.01, bf25: null },
      { t: 30 / 365, atm_iv: 0.6, rr25: -0.02, bf25: 0.003 },
    ],
    tenors: [{ days: 7, atm_iv: 0.55 }, { days: 30, atm_iv: 0.6 }, { days: 60, atm_iv: null }],
  };
  const s = termSeries(a);
  const round = (xs) => xs.map((v) => (v === null ? null : +v.toFixed(9)));
  assert.deepEqual(s.days, [2, 7, 30]);
  assert.deepEqual(round(s.atm), [50, null, 60]);
  assert.deepEqual(round(s.tenor), [null, 55, 60]);
  assert.deepEqual(round(s.rr), [1, null, -2]);
  assert.deepEqual(round(s.bf), [null, null, 0.3]);
});

test('GEX bars in strike order with half a step of room', () => {
  const g = gexSeries([{ strike: 110, gex: -1 }, { strike: 90, gex: 2 }, { strike: 100, gex: 0 }]);
  assert.deepEqual(g.strikes, [90, 100, 110]);
  assert.deepEqual(g.gex, [2, 0, -1]);
  assert.deepEqual(g.positive, [2, 0, null]);
  assert.deepEqual(g.negative, [null, null, -1]);
  assert.equal(g.half, 5);
  assert.equal(gexSeries(undefined).half, 1);
});

test('table cells follow the headers', () => {
  const e = { expiry: '3DEC26', t: 1.5 / 365, forward: 97000.5, atm_strike: 97000, atm_iv: 0.51, rr25: 0.01, bf25: 0.002, rr10: null, bf10: null, pcr_oi: 0.5, pcr_volume: null, max_pain: 95000, gex: -1e6, notional_oi: 2e9 };
  const [row] = tableCells({ expiries: [e] });
  assert.equal(row.length, TABLE_HEADERS.length);
  const cell = (h) => row[TABLE_HEADERS.indexOf(h)];
  assert.equal(cell('Expiry'), '03-Dec-26');
  assert.equal(cell('ATM IV'), '51.0%');
  assert.equal(cell('RR25'), '+1.00');
  assert.equal(cell('RR10'), '–');
  assert.equal(cell('Max pain'), '95,000');
  assert.equal(cell('GEX'), '−$1.00M');
});
