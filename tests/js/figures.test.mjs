// The module's figures as the page holds them (web/assets/figures.js): loaded per asset and
// settle coin from /api/analytics, a late reply for a key no longer wanted is dropped, and a
// refresh while loading loads once more.
import test from 'node:test';
import assert from 'node:assert/strict';

import { figures, wantFigures, expiryFigures, allExpiryFigures, refreshFigures, onFigures } from '../../web/assets/figures.js';

// A fetch whose replies the test releases one by one, recording every URL asked for.
const asked = [];
const waiting = [];
globalThis.fetch = (url) => {
  asked.push(url);
  return new Promise((resolve) => waiting.push((expiries) => resolve({ ok: true, json: async () => ({ expiries }) })));
};
const settle = async () => { for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r)); };
let loads = 0;
onFigures(() => loads++);

test('figures come from OPTIONS.ANALYTICS per settle coin; stale replies are dropped', async () => {
  wantFigures('BTC', 'USDC');
  wantFigures('BTC', 'USDC'); // already loading: no second request
  assert.deepEqual(asked, ['/api/analytics/BTC?settle=USDC']);
  assert.equal(expiryFigures('BTC', 'USDC', '26DEC26'), null, 'nothing before the reply');
  // The reader switches to USDT before the USDC reply lands.
  wantFigures('BTC', 'USDT');
  waiting.shift()([{ expiry: '26DEC26', expiry_ts: 1798272000000, atm_iv: 0.5, max_pain: 100000 }]);
  await settle();
  assert.equal(figures.key, null, 'the USDC reply came for a key no longer wanted');
  waiting.shift()([
    { expiry: '26DEC26', expiry_ts: 1798272000000, atm_iv: 0.55, max_pain: 95000 },
    { expiry: '25JUN27', expiry_ts: 1813910400000, atm_iv: null, max_pain: null },
  ]);
  await settle();
  assert.equal(loads, 1);
  assert.deepEqual(expiryFigures('BTC', 'USDT', '26DEC26'), { expiry: '26DEC26', expiry_ts: 1798272000000, atm_iv: 0.55, max_pain: 95000 });
  assert.equal(expiryFigures('BTC', 'USDC', '26DEC26'), null, 'another settle coin is not these figures');
  assert.deepEqual(allExpiryFigures('BTC', 'USDT').map((e) => e.expiry), ['26DEC26', '25JUN27']);
  assert.deepEqual(allExpiryFigures('ETH', 'USDT'), []);
});

test('a refresh of the asset on screen reloads it, and one more time if asked while loading', async () => {
  asked.length = 0;
  refreshFigures('ETH'); // not on screen
  assert.deepEqual(asked, []);
  refreshFigures('BTC');
  refreshFigures('BTC'); // while loading: once more afterwards
  assert.deepEqual(asked, ['/api/analytics/BTC?settle=USDT']);
  waiting.shift()([{ expiry: '26DEC26', expiry_ts: 1798272000000, atm_iv: 0.6, max_pain: 95000 }]);
  await settle();
  assert.equal(asked.length, 2, 'the second refresh loads again');
  waiting.shift()([{ expiry: '26DEC26', expiry_ts: 1798272000000, atm_iv: 0.61, max_pain: 96000 }]);
  await settle();
  assert.equal(expiryFigures('BTC', 'USDT', '26DEC26').atm_iv, 0.61);
  assert.equal(loads, 3);
});
