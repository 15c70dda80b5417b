import test from 'node:test';
import assert from 'node:assert/strict';

import { historyUrls, joinSeries, extend } from '../../web/assets/history.js';

test('a range asks for the totals and the 30-day tenor from its start', () => {
  const u = historyUrls('BTC', 1000.7);
  assert.equal(u.totals, '/api/history/BTC?metric=index&metric=pcr_oi&metric=gex&from=1000');
  assert.equal(u.tenor, '/api/history/BTC?metric=atm_iv&metric=rr25&metric=bf25&tenor=30&from=1000');
  assert.ok(historyUrls('BTC', -5).totals.endsWith('from=0'));
});

test('series joined on the sample time, IV and skew in percent, gaps null', () => {
  const totals = { points: [[60000, 97000, 0.8, -1e6], [120000, 97100, null, 2e6]] };
  const tenor = { points: [[120000, 0.52, -0.01, 0.003], [180000, 0.53, null, null]] };
  const j = joinSeries(totals, tenor);
  assert.deepEqual(j.x, [60, 120, 180]);
  assert.deepEqual(j.index, [97000, 97100, null]);
  assert.deepEqual(j.pcr, [0.8, null, null]);
  assert.deepEqual(j.atm.map((v) => (v === null ? v : +v.toFixed(6))), [null, 52, 53]);
  assert.deepEqual(j.rr.map((v) => (v === null ? v : +v.toFixed(6))), [null, -1, null]);
  assert.equal(j.last.ts, 180000);
  assert.equal(joinSeries(null, null).last, null);
});

test('new samples extend the series once and old ones leave the window', () => {
  const data = { totals: { metrics: ['index'], points: [[1, 10], [2, 11]] }, tenor: { points: [[2, 0.5]] } };
  const more = { totals: { points: [[2, 11], [3, 12]] }, tenor: { points: [[3, 0.6]] } };
  const e = extend(data, more, 2);
  assert.deepEqual(e.totals.points, [[2, 11], [3, 12]]);
  assert.deepEqual(e.tenor.points, [[2, 0.5], [3, 0.6]]);
  assert.deepEqual(e.totals.metrics, ['index']);
});
