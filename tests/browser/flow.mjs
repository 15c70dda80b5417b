// The flow view (issue 30), in a real headless Chromium against options-web, redis-server +
// module, the feeder recording the sim's trades; started by tests/tests/flow_dashboard.rs.
// Expected values come from the HTTP API (/api/trades, /api/flow), filtered and counted here,
// never with the page's own code. Each check prints `ok - …`; the first failure exits 1.
//
// Environment: DASHBOARD_URL, SIM_URL, SCREENSHOT_DIR, CHROMIUM.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, launchBrowser, ok, assert, assertEq, getJson, sleep, watchPage } from './lib.mjs';

const BASE = process.env.DASHBOARD_URL;
const SIM = process.env.SIM_URL;
const SHOTS = process.env.SCREENSHOT_DIR || join(ROOT, 'target', 'screenshots');
if (!BASE || !SIM) throw new Error('DASHBOARD_URL and SIM_URL are required');
mkdirSync(SHOTS, { recursive: true });
const sim = (action) => getJson(`${SIM}/sim/${action}`, { method: 'POST' });
// The tape is windowed: its rows as a reader meets them scrolling it from top to bottom.
const rowsShown = (page) => page.evaluate(async () => {
  const wrap = document.querySelector('#view-flow .table-wrap');
  const frames = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const seen = [];
  const have = new Set();
  wrap.scrollTop = 0;
  await frames();
  for (;;) {
    for (const r of wrap.querySelectorAll('tbody tr[data-entry]')) {
      if (!have.has(r.dataset.entry)) seen.push(r.dataset.entry);
      have.add(r.dataset.entry);
    }
    if (wrap.scrollTop + wrap.clientHeight >= wrap.scrollHeight - 1) break;
    wrap.scrollTop += wrap.clientHeight;
    await frames();
  }
  wrap.scrollTop = 0;
  await frames();
  return seen;
});
// Waits until the caption counts `n` trades passing the filters.
const tapeCount = (page, n) => page.waitForFunction((k) => new RegExp(`· ${k}( of \\d+)? trades`)
  .test(document.getElementById('flow-caption').textContent), n);
const domRows = (page) => page.$$eval('#flow-table tbody tr[data-entry]', (rows) => rows.length);
// `BTC-3JAN27-…` and `BTC-03JAN27-…` name one expiry.
const expiryOf = (symbol) => symbol.split('-')[1].replace(/^0/, '');

const browser = await launchBrowser();
const problems = [];
try {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
  const page = await ctx.newPage();
  watchPage(page, 'desktop', problems);

  // ------------------------------------------------------------------ a still market
  await sim('pause');
  await sleep(1500);
  const tape = (await getJson(`${BASE}/api/trades/BTC?limit=500`)).trades;
  assert(tape.length > 20, `the sim traded (${tape.length} trades)`);
  const flow = await getJson(`${BASE}/api/flow/BTC`);
  await page.goto(`${BASE}/?asset=BTC&view=flow`);
  await page.$eval('#view-flow .table-wrap', (w) => w.scrollIntoView());
  await page.waitForSelector('#flow-table tbody tr[data-entry]', { timeout: 20000 });
  await page.waitForFunction(() => /Trades/.test(document.getElementById('flow-summary').textContent));
  await tapeCount(page, tape.length);
  const entries = await rowsShown(page);
  assertEq(entries.length, tape.length, 'one row per trade on the tape');
  const inDom = await domRows(page);
  assert(tape.length < 150 || inDom < tape.length / 2, `the tape is windowed: ${inDom} of ${tape.length} rows in the page`);
  assertEq(entries[0], tape[tape.length - 1].entry, 'newest first');
  const summary = await page.$eval('#flow-summary', (el) => el.textContent);
  assert(summary.includes(`Trades (24 h)${flow.trades.toLocaleString('en-US')}`), `summary ${summary} vs ${flow.trades} trades`);
  const newest = tape[tape.length - 1];
  const row = await page.$eval(`#flow-table tr[data-entry="${newest.entry}"]`, (r) => [...r.cells].map((c) => c.textContent));
  assertEq(row[1], newest.symbol, 'the contract');
  assertEq(row[2], newest.side, 'the taker\'s side');
  const premium = newest.size * newest.price;
  assert(row[5].replace(/[−$,KM.\d]/g, '') === '' && row[5].startsWith(newest.side === 'sell' ? '−' : '$'),
    `premium ${row[5]} signed by the taker (${newest.side}, ${premium})`);
  for (const id of ['chart-flow-time', 'chart-flow-strike', 'chart-flow-expiry']) {
    assert(await page.waitForSelector(`#${id} canvas`, { timeout: 5000 }).catch(() => null), `${id} is drawn`);
  }
  await page.screenshot({ path: join(SHOTS, 'flow-desktop.png') });
  ok('the flow view: the tape newest first, the module\'s sums, three charts', `${tape.length} trades, ${flow.trades} in 24 h`);

  // ------------------------------------------------------------------ filters
  await page.check('#flow-blocks');
  const blocks = tape.filter((t) => t.block).map((t) => t.entry).reverse();
  await tapeCount(page, blocks.length);
  assert(blocks.length > 0, 'the sim made block trades');
  assertEq(JSON.stringify(await rowsShown(page)), JSON.stringify(blocks), 'blocks only');
  assertEq(await page.$$eval('#flow-table tbody tr[data-entry] .block-tag', (t) => t.length), await domRows(page), 'each tagged');
  await page.uncheck('#flow-blocks');

  const expiry = expiryOf(newest.symbol);
  const ofExpiry = tape.filter((t) => expiryOf(t.symbol) === expiry).map((t) => t.entry).reverse();
  await page.selectOption('#flow-expiry', expiry);
  await tapeCount(page, ofExpiry.length);
  assertEq(JSON.stringify(await rowsShown(page)), JSON.stringify(ofExpiry), `the trades of ${expiry}`);
  const flowOf = await getJson(`${BASE}/api/flow/BTC?expiry=${expiry}`);
  await page.waitForFunction((n) => document.getElementById('flow-summary').textContent.includes(`Trades (24 h)${n}`), flowOf.trades.toLocaleString('en-US'));
  await page.selectOption('#flow-expiry', '');

  const notionals = tape.map((t) => t.size * t.index).sort((a, b) => a - b);
  const min = Math.round(notionals[Math.floor(notionals.length / 2)]);
  const big = tape.filter((t) => t.size * t.index >= min).map((t) => t.entry).reverse();
  await page.fill('#flow-min', String(min));
  await page.dispatchEvent('#flow-min', 'change');
  await tapeCount(page, big.length);
  assertEq(JSON.stringify(await rowsShown(page)), JSON.stringify(big), `notional at least ${min}`);
  const flowBig = await getJson(`${BASE}/api/flow/BTC?min_notional=${min}`);
  await page.waitForFunction((n) => document.getElementById('flow-summary').textContent.includes(`Trades (24 h)${n}`), flowBig.trades.toLocaleString('en-US'));
  await page.fill('#flow-min', '');
  await page.dispatchEvent('#flow-min', 'change');
  await tapeCount(page, tape.length);
  ok('filters: blocks only, one expiry, a minimum notional, the sums asked again of the module',
    `${blocks.length} blocks, ${ofExpiry.length} of ${expiry}, ${big.length} ≥ $${min}`);

  // ------------------------------------------------------------------ live
  const before = new Set(await rowsShown(page));
  await sim('resume');
  const t0 = Date.now();
  await page.waitForFunction((seen) => [...document.querySelectorAll('#flow-table tbody tr[data-entry]')]
    .some((r) => !seen.includes(r.dataset.entry)), [...before], { timeout: 15000 });
  const waited = Date.now() - t0;
  await sim('pause');
  await sleep(1000);
  const fresh = (await getJson(`${BASE}/api/trades/BTC?limit=500`)).trades.map((t) => t.entry).reverse();
  await tapeCount(page, Math.min(fresh.length, 500));
  assertEq(JSON.stringify(await rowsShown(page)), JSON.stringify(fresh.slice(0, 500)), 'the live tape is the recorded tape');
  ok('new trades reach the tape without a reload', `first after ${waited} ms`);

  // ------------------------------------------------------------------ keyboard
  await page.goto(`${BASE}/?asset=BTC`);
  await page.waitForSelector('#options-table tbody tr[data-symbol]', { timeout: 20000 });
  await page.keyboard.press('7');
  await page.waitForFunction(() => /Trades/.test(document.getElementById('flow-summary').textContent), null, { timeout: 10000 });
  assertEq(new URL(page.url()).searchParams.get('view'), 'flow', 'key 7 opens the flow view');
  ok('key 7 opens the flow view');

  // ------------------------------------------------------------------ a phone
  // The tape comes after three charts: it is drawn once it is scrolled to, not before.
  const phone = await browser.newContext({ viewport: { width: 390, height: 740 }, isMobile: true, hasTouch: true });
  const mobile = await phone.newPage();
  watchPage(mobile, 'phone', problems);
  await mobile.goto(`${BASE}/?asset=BTC&view=flow`);
  await mobile.waitForFunction(() => /Trades/.test(document.getElementById('flow-summary').textContent), null, { timeout: 20000 });
  await sleep(1000);
  assertEq(await domRows(mobile), 0, 'no tape rows below the fold');
  await mobile.$eval('#view-flow .table-wrap', (w) => w.scrollIntoView());
  await mobile.waitForSelector('#flow-table tbody tr[data-entry]', { timeout: 10000 });
  const firstRow = await mobile.$eval('#flow-table tbody tr[data-entry]', (r) => r.dataset.entry);
  const latest = (await getJson(`${BASE}/api/trades/BTC?limit=500`)).trades;
  assertEq(firstRow, latest[latest.length - 1].entry, 'the newest trade on top once scrolled to');
  await phone.close();
  ok('on a phone the tape is drawn once it is scrolled to');

  assert(problems.length === 0, `console errors or failed requests:\n${problems.join('\n')}`);
  console.log('all flow checks passed');
} finally {
  await browser.close();
}
