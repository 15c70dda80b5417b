import test from 'node:test';
import assert from 'node:assert/strict';

import { median, nearestStrike, forwardAndAtm } from '../../web/assets/rules.js';

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
