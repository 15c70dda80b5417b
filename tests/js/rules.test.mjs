import test from 'node:test';
import assert from 'node:assert/strict';

import { median, nearestStrike, forwardAndAtm, maxPain } from '../../web/assets/rules.js';

test('median of odd and even counts, ignoring what is not a number', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([null, undefined, 5]), 5);
  assert.equal(median([]), null);
});

test('nearest strike, the lower on a tie', () => {
  assert.equal(nearestStrike([90, 100, 110], 105), 100);
  assert.equal(nearestStrike([90, 100, 110], 105.01), 110);
  assert.equal(nearestStrike([90, 100], 1), 90);
  assert.equal(nearestStrike([], 1), null);
  assert.equal(nearestStrike([1], null), null);
});

test('one stale contract cannot move the forward or the ATM strike', () => {
  const row = (p) => ({ underlying_price: p });
  const lines = [100, 101, 102, 103].map((k) => ({ strike: k, call: row(101.2), put: row(101.2) }));
  lines[0].put = row(150); // a stale or wrong price far away
  const { forward, atm } = forwardAndAtm(lines);
  assert.equal(forward, 101.2);
  assert.equal(atm, 101);
  assert.deepEqual(forwardAndAtm([{ strike: 1, call: { underlying_price: null }, put: null }]), { forward: null, atm: null });
});

test('max pain: the strike paying holders least, the lower on a tie, null without OI', () => {
  const line = (k, c, p) => ({ strike: k, call: { open_interest: c }, put: { open_interest: p } });
  // At 90: puts 20×10 = 200. At 100: calls 10×10 = 100. At 110: calls 10×20 + 5×10 = 250.
  assert.equal(maxPain([line(90, 10, 0), line(100, 5, 20), line(110, 0, 0)]), 100);
  assert.equal(maxPain([line(90, 1, 0), line(100, 0, 1)]), 90, 'equal pain at 90 and 100');
  assert.equal(maxPain([line(90, 0, 0), { strike: 100, call: null, put: null }]), null);
});
