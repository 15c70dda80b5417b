// The dashboard's price text (web/assets/prices.js), the table's columns (columns.js), the
// cells' age rule (cells.js) and the state's start from boot data (state.js): modules that
// touch no page, so they run here under node.
import test from 'node:test';
import assert from 'node:assert/strict';

import { prefs, ui, store, conn, initState } from '../../web/assets/state.js';
import { inst, priceDp, prem, quote, spreadOf, spotText, signedPct, sizeText, premiumUnit } from '../../web/assets/prices.js';
import { COLUMN, COLUMNS, PRESETS, loadVisibility } from '../../web/assets/columns.js';
import { isOld } from '../../web/assets/cells.js';

const memory = (entries) => ({ get: (k) => (k in entries ? entries[k] : null) });

test('the state starts from the boot data and what the browser remembered', () => {
  initState(
    { view: 'chain', asset: 'ETH', expiry: '26dec26', type: 'PUT', settle: 'usdt', search: 'x', assets: [{ symbol: 'ETH' }], error: null },
    memory({ flash: 'off', premium: 'coin', clock: 'local', chainColumns: '["delta"]', chainSide: 'put', oldQuoteSeconds: '30', pageSize: '100' }),
  );
  assert.deepEqual(
    [ui.view, ui.asset, ui.expiry, ui.type, ui.settle, ui.search, ui.pageSize],
    ['chain', 'ETH', '26DEC26', 'put', 'USDT', 'x', 100],
  );
  assert.deepEqual([prefs.flash, prefs.premium, prefs.utc, prefs.side, prefs.oldSecs], [false, 'coin', false, 'put', 30]);
  assert.deepEqual(prefs.chainExtras, ['delta']);
  assert.deepEqual(store.assets, [{ symbol: 'ETH' }]);
  assert.equal(conn.error, null);
  // Nonsense remembered values fall back to the defaults.
  initState({ assets: [] }, memory({ chainColumns: '{', oldQuoteSeconds: '99999', pageSize: '7', premium: 'btc' }));
  assert.equal(prefs.premium, 'usd');
  assert.equal(prefs.oldSecs, 30, 'an out-of-range value keeps the last good one');
  assert.equal(ui.pageSize, 100);
  assert.equal(ui.view, 'table');
});

test('premiums at the exchange step, in USD or in coin', () => {
  initState({ asset: 'BTC', assets: [] }, memory({}));
  const r = { settle: 'USDC', underlying_price: 100000, index_price: 99950 };
  // No tick from the exchange yet: inferred from the price (a step of 10 at 100,000).
  assert.equal(priceDp('USDC', 100000), 0);
  assert.equal(prem(r, 1234.5), '1,235');
  // The exchange's step wins once known, for the asset it was asked for.
  inst.asset = 'BTC';
  inst.tick = { USDC: 0.1 };
  assert.equal(prem(r, 1234.5), '1,234.5');
  inst.asset = 'ETH';
  assert.equal(prem(r, 1234.5), '1,235', 'another asset\'s ticks do not apply');
  prefs.premium = 'coin';
  assert.equal(prem(r, 99.95), (99.95 / 99950).toFixed(4));
  assert.equal(prem({ settle: 'USDC' }, 10), '–', 'no index: no coin premium');
  assert.equal(premiumUnit(), 'BTC');
  prefs.premium = 'usd';
  assert.equal(premiumUnit(), 'USD');
  assert.equal(prem(r, null), '–');
});

test('a zero bid or size is no quote; spreads need both sides', () => {
  const r = { settle: 'USDC', underlying_price: 100000 };
  inst.asset = null;
  assert.equal(quote(r, 0, 1), '–');
  assert.equal(quote(r, 100, 0), '–');
  assert.equal(quote(r, 100, undefined), '100');
  assert.equal(spreadOf({ bid_price: 100, ask_price: 112.5 }), 12.5);
  assert.equal(spreadOf({ bid_price: 0, ask_price: 112.5 }), null);
  assert.equal(spotText(100123.456), '$100,123.46');
  assert.equal(signedPct(0.0123), '+1.2%');
  assert.equal(signedPct(-0.0123), '-1.2%');
  assert.equal(sizeText(1234), '1,234');
  assert.equal(sizeText(12.34), '12.3');
});

test('columns: defaults, what was remembered, presets that name real columns', () => {
  const vis = loadVisibility(memory({}));
  assert.equal(vis.symbol, true);
  assert.equal(vis.gamma, false);
  const saved = loadVisibility(memory({ columnVisibility: '{"gamma":true,"symbol":false,"nope":true,"iv":"yes"}' }));
  assert.deepEqual([saved.gamma, saved.symbol, saved.iv, 'nope' in saved], [true, false, true, false]);
  assert.deepEqual(loadVisibility(memory({ columnVisibility: '][' })), vis, 'a corrupt entry: the defaults');
  for (const [name, keys] of Object.entries(PRESETS)) {
    for (const k of keys) assert.ok(COLUMN[k], `${name} names ${k}`);
  }
  assert.equal(PRESETS.all.length, COLUMNS.length);
  const row = { symbol: 'BTC-26DEC26-100000-C', type: 'call', strike: 100000, mark_iv: 0.5234, delta: 0.51234 };
  assert.equal(COLUMN.iv.text(row), '52.3%');
  assert.equal(COLUMN.delta.text(row), '0.512');
  assert.match(COLUMN.type.html(row), /CALL/);
});

test('a row is old when it has not updated for the chosen seconds', () => {
  prefs.oldSecs = 60;
  const now = 1_000_000;
  assert.equal(isOld({ updated_ms: now - 59_000 }, now), false);
  assert.equal(isOld({ updated_ms: now - 61_000 }, now), true);
  assert.equal(isOld({}, now), true);
  assert.equal(isOld(null, now), true);
});
