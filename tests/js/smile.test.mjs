// The dashboard's reading of the module's SVI fit, and the volatility index card's sparkline and
// 24-hour change (web/assets/smile.js).
import test from 'node:test';
import assert from 'node:assert/strict';

import { fitIv, marketIv, residual, arbitrageWarning, sparkPoints, changeSince } from '../../web/assets/smile.js';

const fig = { t: 0.25, forward: 100000, svi: { a: 0.01, b: 0.05, rho: -0.3, m: 0.02, sigma: 0.1 } };

test('the fit read at a strike is sqrt(w(k)/t) with k = ln(K/F)', () => {
  const k = Math.log(110000 / 100000);
  const x = k - 0.02;
  const w = 0.01 + 0.05 * (-0.3 * x + Math.sqrt(x * x + 0.01));
  assert.ok(Math.abs(fitIv(fig, 110000) - Math.sqrt(w / 0.25)) < 1e-15);
  assert.equal(fitIv({ ...fig, svi: null }, 110000), null);
  assert.equal(fitIv({ ...fig, t: 0 }, 110000), null);
  assert.equal(fitIv(fig, 0), null);
});

test('a strike is rich when its market IV is above the fit', () => {
  const fit = fitIv(fig, 100000);
  const line = { strike: 100000, call: { mark_iv: fit + 0.01 }, put: { mark_iv: fit + 0.03 } };
  assert.equal(marketIv(line), fit + 0.02);
  assert.ok(Math.abs(residual(fig, line) - 0.02) < 1e-12);
  assert.equal(residual(fig, { strike: 100000, call: null, put: { mark_iv: 0 } }), null, 'no IV');
});

test('arbitrage flags become one warning', () => {
  assert.equal(arbitrageWarning({ butterfly_arb: false, calendar_arb: false }), null);
  assert.equal(arbitrageWarning({ butterfly_arb: true, calendar_arb: null }), 'The fitted smile has butterfly arbitrage');
  assert.equal(arbitrageWarning({ butterfly_arb: true, calendar_arb: true }), 'The fitted smile has butterfly and calendar arbitrage');
  assert.equal(arbitrageWarning(null), null);
});

test('sparkline points span the box; the change is from the first point of the day', () => {
  assert.equal(sparkPoints([1, null], 60, 18), '');
  assert.equal(sparkPoints([50, 55, 52], 60, 18), '0,17 30,1 60,10.6');
  const day = [[1000, 50], [2000, 51], [3000, 53]];
  assert.equal(changeSince(day, 1500, 54), 3);
  assert.equal(changeSince(day, 5000, 54), null, 'no point in the window');
  assert.equal(changeSince(day, 0, null), null);
});
