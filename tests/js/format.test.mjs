// Unit tests of the dashboard's pure modules (`node --test tests/js/`, run by `make test`).
import test from 'node:test';
import assert from 'node:assert/strict';

import { money, fixed, pct, volume, strikeText, expiryLabel, expiryCode, esc } from '../../web/assets/format.js';

test('money keeps two decimals from $1 and significant digits below', () => {
  assert.equal(money(1234.5), '$1,234.50');
  assert.equal(money(0.0123), '$0.0123');
  assert.equal(money(0.00123), '$0.0012');
  assert.equal(money(0), '$0.00');
  assert.equal(money(null), '–');
  assert.equal(money(Number.NaN), '–');
});

test('a tiny negative number does not read as a negative zero', () => {
  assert.equal(fixed(3)(-0.0001), '0.000');
  assert.equal(fixed(2)(-1.5), '-1.50');
});

test('percent, volume and strikes', () => {
  assert.equal(pct(0.5234), '52.3%');
  assert.equal(volume(1_234_567), '1.23M');
  assert.equal(volume(0), '0');
  assert.equal(strikeText(2.35), '2.35');
  assert.equal(strikeText(100000), '100,000');
});

test('expiry spellings: every form the system writes reaches the symbol code', () => {
  for (const t of ['3DEC26', '03DEC26', '3dec26', '2026-12-03', ' 03dec26 ']) assert.equal(expiryCode(t), '3DEC26', t);
  assert.equal(expiryCode('26DEC26'), '26DEC26');
  assert.equal(expiryCode('2027-01-01'), '1JAN27');
  assert.equal(expiryLabel('3DEC26'), '03-Dec-26');
  assert.equal(expiryLabel('31DEC26'), '31-Dec-26');
});

test('esc escapes markup', () => {
  assert.equal(esc('<a href="x">&\'</a>'), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
});

import { dec, stepDecimals, valuesDecimals, fallbackTick, spotDecimals, greek, timeLeft, clock, moneyness } from '../../web/assets/format.js';

test('price steps give the decimals of every quote', () => {
  assert.equal(stepDecimals(5), 0);
  assert.equal(stepDecimals(0.1), 1);
  assert.equal(stepDecimals(0.05), 2);
  assert.equal(stepDecimals(0.0001), 4);
  assert.equal(stepDecimals(1e-7), 7);
  assert.equal(valuesDecimals([2.1, 2.15, 2.2]), 2);
  assert.equal(valuesDecimals([90000, 95000]), 0);
  assert.equal(dec(0)(1234.6), '1,235');
  assert.equal(dec(4)(0.0123), '0.0123');
});

test('without the exchange, the quote step follows the price of the underlying', () => {
  assert.equal(fallbackTick(97250), 1);
  assert.equal(fallbackTick(3610), 0.1);
  assert.ok(Math.abs(fallbackTick(187.3) - 0.01) < 1e-15);
  assert.ok(Math.abs(fallbackTick(2.31) - 0.0001) < 1e-15);
  assert.equal(spotDecimals(97250.5), 2);
  assert.equal(spotDecimals(187.345), 3);
  assert.equal(spotDecimals(2.3145), 4);
});

test('greeks keep three significant digits without exponents', () => {
  assert.equal(greek(0.0000123456), '0.0000123');
  assert.equal(greek(-0.5234), '-0.523');
  assert.equal(greek(-52.345), '-52.35');
  assert.equal(greek(123.45), '123.5');
  assert.equal(greek(0), '0');
  assert.equal(greek(null), '–');
});

test('time to expiry in hours under two days', () => {
  const now = Date.UTC(2026, 11, 2, 0, 0, 0);
  assert.equal(timeLeft(now + 9.6 * 3600e3, now), '9.6 h');
  assert.equal(timeLeft(now + 47.9 * 3600e3, now), '47.9 h');
  assert.equal(timeLeft(now + 3.4 * 86400e3, now), '3.4 d');
  assert.equal(timeLeft(now - 1, now), 'expired');
});

test('a UTC or local 24-hour clock, and signed moneyness', () => {
  const t = Date.UTC(2026, 11, 2, 14, 3, 5);
  assert.equal(clock(t, true), '14:03:05 UTC');
  assert.match(clock(t, false), /^\d{2}:03:05$/);
  assert.equal(moneyness(102000, 100000), '+2.0%');
  assert.equal(moneyness(99600, 100000), '-0.4%');
  assert.equal(moneyness(100010, 100000), '0.0%');
  assert.equal(moneyness(100000, null), '–');
});
