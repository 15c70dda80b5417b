// The flow view's pure parts, on hand-made tape entries and OPTIONS.FLOW replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expiryDay, newestFirst, tradeExpiry, tapeRows, mergeTrades, hourly, byStrike, byExpiry } from '../../web/assets/flow.js';

const tape = [
  { entry: '1000-0', ts: 1000, symbol: 'BTC-26DEC26-100000-C-USDT', side: 'buy', size: 2, price: 1500, iv: 0.52, index: 100000, block: false },
  { entry: '2000-0', ts: 2000, symbol: 'BTC-3JAN27-90000-P', side: 'sell', size: 50, price: 800, iv: 0.6, index: 100000, block: true },
  { entry: '3000-0', ts: 3000, symbol: 'XRP_USDC-26DEC26-0d625-C', side: 'buy', size: 0.1, price: 20, iv: null, index: null, block: false },
];

test('expiry codes order by the day they name', () => {
  assert.ok(expiryDay('3JAN27') > expiryDay('26DEC26'));
  assert.equal(expiryDay('26DEC26'), Date.UTC(2026, 11, 26));
  assert.ok(Number.isNaN(expiryDay('soon')));
});

test('entries order by time, then sequence', () => {
  assert.ok(newestFirst({ entry: '5-0' }, { entry: '4-9' }) < 0);
  assert.ok(newestFirst({ entry: '5-2' }, { entry: '5-10' }) > 0);
});

test('a trade\'s expiry from either venue\'s name', () => {
  assert.equal(tradeExpiry('BTC-26DEC26-100000-C-USDT'), '26DEC26');
  assert.equal(tradeExpiry('XRP_USDC-03JAN27-0d625-C'), '3JAN27');
  assert.equal(tradeExpiry('nonsense'), '');
});

test('the tape newest first with premium signed by the taker, notional and IV against the mark', () => {
  const marks = { 'BTC-26DEC26-100000-C-USDT': 0.5 };
  const rows = tapeRows(tape, {}, (s) => marks[s] ?? null);
  assert.deepEqual(rows.map((r) => r.entry), ['3000-0', '2000-0', '1000-0']);
  const call = rows[2];
  assert.equal(call.premium, 3000);
  assert.equal(call.signedPremium, 3000);
  assert.equal(call.notional, 200000);
  assert.ok(Math.abs(call.vsMark - 0.02) < 1e-12);
  assert.equal(rows[1].signedPremium, -40000, 'a sale is negative');
  assert.equal(rows[1].vsMark, null, 'no mark known');
  assert.equal(rows[0].notional, null, 'no index, no notional');
});

test('filters: expiry, blocks only, a minimum notional (a trade without one never passes)', () => {
  assert.deepEqual(tapeRows(tape, { expiry: '26DEC26' }).map((r) => r.entry), ['3000-0', '1000-0']);
  assert.deepEqual(tapeRows(tape, { blocksOnly: true }).map((r) => r.entry), ['2000-0']);
  assert.deepEqual(tapeRows(tape, { minNotional: 1e6 }).map((r) => r.entry), ['2000-0']);
  assert.deepEqual(tapeRows(tape, { minNotional: 0 }).length, 3, '0 is no minimum');
});

test('live trades join the tape once each, newest first, capped', () => {
  const list = mergeTrades([], tape);
  assert.deepEqual(list.map((t) => t.entry), ['3000-0', '2000-0', '1000-0']);
  const again = mergeTrades(list, [tape[0], { ...tape[0], entry: '4000-0', ts: 4000 }]);
  assert.deepEqual(again.map((t) => t.entry), ['4000-0', '3000-0', '2000-0', '1000-0']);
  assert.equal(mergeTrades(list, [tape[1]]), list, 'nothing new: the same list');
  const late = mergeTrades(again, [{ ...tape[0], entry: '2500-0', ts: 2500 }, { ...tape[0], entry: '4500-0', ts: 4500 }, tape[2]]);
  assert.deepEqual(late.map((t) => t.entry), ['4500-0', '4000-0', '3000-0', '2500-0', '2000-0', '1000-0'], 'a late trade in its place');
  assert.equal(mergeTrades(again, [{ ...tape[0], entry: '5000-0', ts: 5000 }], 2).length, 2);
  // One millisecond, many trades: by sequence, as numbers.
  const same = mergeTrades([], ['9-2', '9-10', '9-1'].map((entry) => ({ ...tape[0], entry, ts: 9 })));
  assert.deepEqual(same.map((t) => t.entry), ['9-10', '9-2', '9-1']);
});

test('hourly buckets laid over the whole window, empty hours as zero', () => {
  const H = 3600e3;
  const flow = { from: 10 * H + 5, to: 14 * H + 1, buckets: [[11 * H, 500, 0], [13 * H, -200, 25]] };
  const [xs, net, blocks] = hourly(flow);
  assert.deepEqual(xs, [10, 11, 12, 13, 14].map((h) => h * 3600));
  assert.deepEqual(net, [0, 500, 0, -200, 0]);
  assert.deepEqual(blocks, [0, 0, 0, 25, 0]);
  assert.deepEqual(hourly(null), [[], [], []]);
});

test('net premium by strike and by expiry, in order', () => {
  const flow = {
    strikes: [
      { strike: 110000, call_net_premium: 5, put_net_premium: 0 },
      { strike: 90000, call_net_premium: 1, put_net_premium: -7 },
    ],
    expiries: [
      { expiry: '3JAN27', net_premium: -40000, block_volume: 50 },
      { expiry: '26DEC26', net_premium: 3000, block_volume: 0 },
    ],
  };
  assert.deepEqual(byStrike(flow), [[90000, 110000], [1, 5], [-7, 0]]);
  const e = byExpiry(flow);
  assert.deepEqual(e.labels, ['26-Dec-26', '03-Jan-27']);
  assert.deepEqual(e.data, [[0, 1], [3000, -40000], [0, 50]]);
});
