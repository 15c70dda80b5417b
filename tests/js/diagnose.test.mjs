// Why the dashboard says its data may be old (web/assets/diagnose.js): each part at fault is
// named, the most basic first.
import test from 'node:test';
import assert from 'node:assert/strict';

import { diagnose, assetAge, STALE_MS, STATUS_SILENT_MS } from '../../web/assets/diagnose.js';

const NOW = 1_800_000_000_000;
// An open stream whose last status event arrived 1 s ago, BTC written 2 s before that.
const conn = (over = {}) => ({
  state: 'open', statusAt: NOW - 1000, lastUpdateMs: NOW - 3000, redisError: null, pendingCount: 0,
  status: {
    server_ms: NOW - 1000,
    assets: { BTC: { contracts: 10, last_update_ms: NOW - 3000 } },
    feeder: { ws_wanted: 2, ws_open: 2, redis_up: 1, last_message_ms: NOW - 1500, telegram: false },
  },
  ...over,
});

test('all well is live, and paused when auto-refresh is off', () => {
  assert.equal(assetAge(conn(), 'BTC', NOW), 3000);
  assert.deepEqual(diagnose(conn(), 'BTC', true, NOW), { state: 'live', label: 'Live' });
  assert.equal(diagnose(conn({ pendingCount: 1234 }), 'BTC', false, NOW).label, 'Paused · 1,234 updates held');
});

test('the part at fault is named, the most basic first', () => {
  const d = (c, asset = 'BTC') => diagnose(c, asset, true, NOW);
  assert.equal(d(conn({ state: 'connecting' })).state, 'connecting');
  assert.equal(d(conn({ state: 'disconnected', redisError: 'x' })).label, 'Server unreachable');
  assert.equal(d(conn({ statusAt: NOW - STATUS_SILENT_MS - 1 })).label, 'Server stuck');
  assert.equal(d(conn({ redisError: 'Redis is unavailable' })).label, 'Redis down');
  const old = NOW - STALE_MS - 5000;
  const stale = (feeder) => conn({ status: { server_ms: NOW - 1000, assets: { BTC: { last_update_ms: old } }, feeder } });
  assert.equal(d(stale(null)).label, 'No feeder');
  assert.equal(d(stale({ ws_wanted: 2, ws_open: 1, redis_up: 1, last_message_ms: NOW })).label, 'Bybit unreachable');
  assert.equal(d(stale({ ws_wanted: 2, ws_open: 2, redis_up: 0, last_message_ms: NOW - 2000 })).label, 'Write errors');
  assert.equal(d(stale({ ws_wanted: 2, ws_open: 2, redis_up: 1, last_message_ms: NOW - STALE_MS })).label, 'Bybit quiet');
  const other = d(stale({ ws_wanted: 2, ws_open: 2, redis_up: 1, last_message_ms: NOW - 2000 }));
  assert.equal(other.label, 'BTC quiet', 'one asset stops while the feeder still receives others');
  assert.match(other.message, /No BTC ticker for 1[56] s/);
});

test('a fresh asset is not blamed on a missing feeder until it goes stale', () => {
  const c = conn({ status: { server_ms: NOW - 1000, assets: { BTC: { last_update_ms: NOW - 2000 } }, feeder: null } });
  assert.equal(diagnose(c, 'BTC', true, NOW).state, 'live');
  assert.equal(diagnose(c, 'ETH', true, NOW).label, 'No feeder', 'an asset never written');
});
