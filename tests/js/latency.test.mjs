// The live indicator's latency (web/assets/latency.js): exchange time → paint on the server's
// clock, p50/p99 over the last minute.
import test from 'node:test';
import assert from 'node:assert/strict';

import { createLatency, noteServerTime, newestUpdate, record, summary, label, WINDOW_MS } from '../../web/assets/latency.js';

test('the browser clock is mapped onto the server clock by the closest status event', () => {
  const lat = createLatency();
  record(lat, 1000, 2000);
  assert.equal(summary(lat, 2000), null, 'nothing is measured before the offset is known');
  // The browser runs 5,000 ms behind the server; events arrive after trips of 30 and 4 ms.
  noteServerTime(lat, 100_000, 95_030);
  noteServerTime(lat, 102_000, 97_004);
  assert.equal(lat.offset, 4_996, 'the shortest trip gives the largest, closest offset');
  noteServerTime(lat, 104_000, 99_050);
  assert.equal(lat.offset, 4_996, 'a slower trip does not move it');
});

test('p50 and p99 of the last minute, newest row of each event', () => {
  const lat = createLatency();
  noteServerTime(lat, 10_000, 10_000); // same clocks
  assert.equal(newestUpdate({ data: [{ updated_ms: 5 }, { updated_ms: 9 }, {}] }), 9);
  assert.equal(newestUpdate({ data: [] }), null);
  // 100 paints 100 ms apart: latencies 1..100 ms.
  for (let i = 1; i <= 100; i++) record(lat, 20_000 + i * 100 - i, 20_000 + i * 100);
  const s = summary(lat, 30_000);
  assert.deepEqual(s, { p50: 50, p99: 99, n: 100 });
  assert.equal(label(s), '50 ms p50 · 99 ms p99');
  // A minute later the first half has left the window.
  const later = summary(lat, 20_000 + 5_050 + WINDOW_MS);
  assert.equal(later.n, 50);
  assert.equal(later.p50, 75);
  assert.equal(label({ p50: 12_345, p99: 60_000 }), '12 s p50 · 60 s p99');
});
