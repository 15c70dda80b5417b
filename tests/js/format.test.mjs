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
