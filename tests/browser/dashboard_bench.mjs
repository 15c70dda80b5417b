// Dashboard cost in a real headless Chromium, for `make bench` (tests/benches/dashboard.rs):
// every contract of the asset on one table page (the worst case) while the sim streams updates,
// measured twice in one run: as shipped (rows windowed around the scroll position, changed cells
// patched) and with every row in the DOM (`tableWindowing = off`), what a plain table pays.
//
// Environment: DASHBOARD_URL, CHROMIUM, SECONDS (live window, default 10). Prints one JSON line.

import { launchBrowser } from './lib.mjs';

const BASE = process.env.DASHBOARD_URL;
const SECONDS = parseFloat(process.env.SECONDS || '10');
const summary = await (await fetch(`${BASE}/api/summary/BTC`)).json();
const total = summary.total_options;

const browser = await launchBrowser();
async function measure(windowing) {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await ctx.addInitScript((w) => {
    localStorage.setItem('pageSize', '0');
    localStorage.setItem('tableWindowing', w ? 'on' : 'off');
    const all = {};
    for (const k of ['symbol', 'type', 'strike', 'expiry', 'last', 'mark', 'volume', 'oi', 'delta', 'gamma', 'theta', 'vega', 'iv', 'underlying', 'index']) all[k] = true;
    localStorage.setItem('columnVisibility', JSON.stringify(all));
  }, windowing);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${BASE}/?asset=BTC`);
  await page.waitForFunction((n) => {
    const m = window.dashboardMetrics && window.dashboardMetrics();
    return m && m.rows >= n * 0.99 && m.firstRenderAt > 0;
  }, total, { timeout: 60000 });
  const first = await page.evaluate(() => window.dashboardMetrics());

  await page.evaluate(() => {
    window.__frames = 0;
    window.__long = [];
    const tick = () => { window.__frames++; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask' });
  });
  const before = await page.evaluate(() => window.dashboardMetrics());
  await page.waitForTimeout(SECONDS * 1000);
  const after = await page.evaluate(() => ({ m: window.dashboardMetrics(), frames: window.__frames, long: window.__long }));

  // Re-sorting the page by a header click, several times (a full render of the page).
  const full0 = await page.evaluate(() => window.dashboardMetrics());
  const N = 6;
  // Dispatched in the page: the every-row baseline can keep its main thread busy for seconds,
  // longer than Playwright's actionability checks wait, and the render measured is the same.
  for (let i = 0; i < N; i++) await page.$eval('#options-table th[data-col="strike"]', (th) => th.click());
  const full1 = await page.evaluate(() => window.dashboardMetrics());
  const rendered = await page.$$eval('#options-table tbody tr[data-symbol]', (t) => t.length);
  await ctx.close();

  const m = after.m;
  const patchFrames = m.patchFrames - before.patchFrames;
  const patchMs = m.patchMs - before.patchMs;
  const longMs = after.long.reduce((a, b) => a + b, 0);
  return {
    windowing,
    rows: first.rows,
    rendered,
    snapshotBytes: first.snapshotBytes,
    snapshotWireBytes: first.snapshotWireBytes,
    snapshotParseMs: first.snapshotParseMs,
    timeToFirstRenderMs: first.timeToFirstRenderMs,
    rowsChangedPerSec: (m.rowsChanged - before.rowsChanged) / SECONDS,
    cellsWrittenPerSec: (m.cellsWritten - before.cellsWritten) / SECONDS,
    patchFramesPerSec: patchFrames / SECONDS,
    patchMsPerFrame: patchMs / Math.max(1, patchFrames),
    fps: after.frames / SECONDS,
    longTasks: after.long.length,
    longTaskMaxMs: after.long.length ? Math.max(...after.long) : 0,
    longTaskMs: longMs,
    longTaskBusyPct: (longMs / (SECONDS * 1000)) * 100,
    fullRenderMs: (full1.fullRenderMs - full0.fullRenderMs) / Math.max(1, full1.fullRenders - full0.fullRenders),
    errors,
  };
}

try {
  const windowed = await measure(true);
  const everyRow = await measure(false);
  console.log(JSON.stringify({ seconds: SECONDS, windowed, everyRow }));
} finally {
  await browser.close();
}
