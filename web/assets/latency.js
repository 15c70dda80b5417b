// How fresh what the dashboard paints is: for each `changes` event, the exchange's time of its
// newest row to the moment the browser paints it, on the server's clock. The browser's clock is
// mapped onto the server's with the `server_ms` that every status event carries: a status event
// arrives a little after the server stamped it, so each one understates the offset by its trip,
// and the largest offset seen is the closest. p50 and p99 over the last minute. Pure: no DOM.

/** Samples older than this leave the figures. */
export const WINDOW_MS = 60000;
/** At most this many samples are kept (the oldest go first). */
export const MAX_SAMPLES = 20000;

export function createLatency() {
  return { offset: null, samples: [] };
}

/** A status event stamped `serverMs` by the server arrived at the browser's `now`. */
export function noteServerTime(lat, serverMs, now) {
  if (!Number.isFinite(serverMs) || !Number.isFinite(now)) return;
  const offset = serverMs - now;
  lat.offset = lat.offset === null ? offset : Math.max(lat.offset, offset);
}

/** The newest exchange time among a changes reply's rows, or null. */
export function newestUpdate(changes) {
  let newest = null;
  for (const row of (changes && changes.data) || []) {
    const t = row && row.updated_ms;
    if (Number.isFinite(t) && (newest === null || t > newest)) newest = t;
  }
  return newest;
}

/** A row updated at `updatedMs` (exchange time) was painted at the browser's `paintedAt`. */
export function record(lat, updatedMs, paintedAt) {
  if (lat.offset === null || !Number.isFinite(updatedMs) || !Number.isFinite(paintedAt)) return;
  lat.samples.push([paintedAt, Math.max(0, paintedAt + lat.offset - updatedMs)]);
  if (lat.samples.length > MAX_SAMPLES) lat.samples.splice(0, lat.samples.length - MAX_SAMPLES);
}

/** {p50, p99, n} in ms over the last minute before `now`, or null without samples. */
export function summary(lat, now) {
  let drop = 0;
  while (drop < lat.samples.length && now - lat.samples[drop][0] > WINDOW_MS) drop++;
  if (drop) lat.samples.splice(0, drop);
  const n = lat.samples.length;
  if (!n) return null;
  const sorted = lat.samples.map((s) => s[1]).sort((a, b) => a - b);
  const rank = (q) => sorted[Math.min(n - 1, Math.ceil(q * n) - 1)];
  return { p50: rank(0.5), p99: rank(0.99), n };
}

/** `12 ms p50 · 40 ms p99`, seconds past 10 s. */
export function label(s) {
  const ms = (v) => (v >= 10000 ? `${(v / 1000).toFixed(0)} s` : `${Math.round(v)} ms`);
  return `${ms(s.p50)} p50 · ${ms(s.p99)} p99`;
}
