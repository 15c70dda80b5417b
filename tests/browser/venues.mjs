// Two venues on one dashboard (issue 29), in a real headless Chromium against options-web,
// redis-server + module, the feeder streaming Bybit and Deribit, and the sim speaking both;
// started by tests/tests/venues_dashboard.rs. Expected values come from the HTTP API, joined
// and formatted here, never with the page's own code. Each check prints `ok - …`; the first
// failure exits 1.
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

const browser = await launchBrowser();
const problems = [];
try {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
  const page = await ctx.newPage();
  watchPage(page, 'desktop', problems);

  // ------------------------------------------------------------------ Deribit's chain
  await page.goto(`${BASE}/?asset=BTC&venue=deribit&view=chain`);
  await page.waitForSelector('#chain-table tbody tr.atm', { timeout: 20000 });
  assertEq(await page.$eval('#f-venue', (s) => s.value), 'deribit', 'the venue switch shows Deribit');
  assert((await page.title()).includes('Deribit'), `title ${await page.title()}`);
  const expiry = new URL(page.url()).searchParams.get('expiry') || await page.$eval('#f-expiry', (s) => s.value);
  const api = await getJson(`${BASE}/api/chain/BTC/${expiry}?venue=deribit`);
  assert(api.strikes.every((l) => l.settle === 'BTC'), 'Deribit BTC options settle in BTC');
  const head = await page.$eval('#chain-head', (h) => h.textContent);
  assert(head.includes(`${api.strikes.length} strikes · BTC`), `chain head: ${head}`);
  assertEq(await page.$$eval('#chain-table tbody tr', (r) => r.length), api.strikes.length, 'one row per Deribit strike');
  ok('Deribit\'s chain: its strikes, settled in BTC', `${api.strikes.length} strikes of ${expiry}`);

  // ------------------------------------------------------------------ switching venue
  await Promise.all([
    page.waitForNavigation(),
    page.selectOption('#f-venue', 'bybit'),
  ]);
  await page.waitForSelector('#chain-table tbody tr.atm', { timeout: 20000 });
  assertEq(new URL(page.url()).searchParams.get('venue'), null, 'Bybit is the default: no venue in the URL');
  const bybitHead = await page.$eval('#chain-head', (h) => h.textContent);
  assert(bybitHead.includes('· USDC'), `Bybit's chain head: ${bybitHead}`);
  ok('the venue switch loads Bybit\'s chain');

  // ------------------------------------------------------------------ the comparison
  await sim('pause');
  await sleep(1000);
  await page.goto(`${BASE}/?asset=BTC&view=compare`);
  await page.waitForSelector('#compare-table tbody tr[data-strike]', { timeout: 20000 });
  const [fb, fd] = await Promise.all(['bybit', 'deribit'].map((v) => getJson(`${BASE}/api/analytics/BTC?venue=${v}`)));
  const common = fb.expiries.map((e) => e.expiry).filter((c) => fd.expiries.some((e) => e.expiry === c));
  assert(common.length > 0, 'the venues share expiries');
  const shown = await page.$eval('#compare-expiry', (s) => s.value);
  assertEq(shown, common[0], 'the nearest common expiry first');
  const [cb, cd] = await Promise.all(['bybit', 'deribit'].map((v) => getJson(`${BASE}/api/chain/BTC/${shown}?venue=${v}`)));
  // Per strike the first settle coin's call (Bybit lists BTC in USDC, then USDT).
  const callIv = (ch) => {
    const m = new Map();
    for (const l of ch.strikes) {
      const k = Number(l.strike);
      if (l.call && typeof l.call.mark_iv === 'number' && !m.has(k)) m.set(k, l.call.mark_iv);
    }
    return m;
  };
  const b = callIv(cb);
  const d = callIv(cd);
  const both = [...b.keys()].filter((k) => d.has(k)).sort((x, y) => x - y);
  const rows = await page.$$eval('#compare-table tbody tr[data-strike]', (trs) => trs.map((tr) => ({
    strike: Number(tr.dataset.strike),
    diff: tr.children[2].textContent,
  })));
  for (const k of both) {
    const row = rows.find((r) => r.strike === k);
    assert(row, `strike ${k} is in the comparison`);
    const want = (d.get(k) - b.get(k)) * 100;
    const text = `${want > 0 ? '+' : ''}${want.toFixed(2)}`;
    assertEq(row.diff, text, `call IV difference at ${k}`);
  }
  ok('the IV difference per strike is Deribit − Bybit', `${both.length} strikes; ${rows[0].strike}: ${rows[0].diff}`);
  // Both venues' term structures: two series with points on the chart, and the 30-day cards.
  const summary = await page.$eval('#compare-summary', (s) => s.textContent);
  assert(summary.includes('Bybit 30d ATM IV') && summary.includes('Deribit 30d ATM IV'), summary);
  for (const id of ['chart-cmp-term', 'chart-cmp-rr', 'chart-cmp-diff']) {
    assert(await page.waitForSelector(`#${id} canvas`, { timeout: 5000 }).catch(() => null), `${id} is drawn`);
  }
  const legend = await page.$$eval('#chart-cmp-term .u-legend th', (t) => t.map((x) => x.textContent).join('|'));
  assert(legend.includes('Bybit') && legend.includes('Deribit'), `legend ${legend}`);
  ok('term structure and risk reversal of both venues drawn');
  // The premium in Deribit's convention: coin, the mark over its index price.
  await page.click('#display-btn');
  await page.selectOption('#pref-premium', 'coin');
  await page.waitForFunction(() => document.querySelector('#compare-table thead').textContent.includes('(coin)'));
  const k0 = both[Math.floor(both.length / 2)];
  const line = cd.strikes.find((l) => Number(l.strike) === k0);
  const coin = (line.call.mark_price / line.call.index_price).toLocaleString('en-US', { maximumSignificantDigits: 4 });
  const cell = await page.$eval(`#compare-table tbody tr[data-strike="${k0}"]`, (tr) => tr.children[4].textContent);
  assertEq(cell, coin, `Deribit's call mark at ${k0} in BTC`);
  ok('premiums in either venue\'s convention', `${k0}: ${cell} BTC`);
  await page.screenshot({ path: join(SHOTS, 'compare-desktop.png'), fullPage: true });

  // Live: the figures move with the market (refreshes write only the cells that changed), and
  // once it stops the table is the venues' chains again.
  const ivsMoved = (was) => [...document.querySelectorAll('#compare-table tbody tr[data-strike]')]
    .map((tr) => tr.children[0].textContent + tr.children[1].textContent).join() !== was;
  const before = await page.$$eval('#compare-table tbody tr[data-strike]',
    (trs) => trs.map((tr) => tr.children[0].textContent + tr.children[1].textContent).join());
  await sim('resume');
  await page.waitForFunction(ivsMoved, before, { timeout: 15000 });
  await sim('pause');
  await sleep(3500); // the last change's analytics event (at most 2 s later) and its refresh
  const [lb, ld] = await Promise.all(['bybit', 'deribit'].map((v) => getJson(`${BASE}/api/chain/BTC/${shown}?venue=${v}`)));
  const [ib, id] = [callIv(lb), callIv(ld)];
  const live = await page.$$eval('#compare-table tbody tr[data-strike]',
    (trs) => trs.map((tr) => [Number(tr.dataset.strike), ...[0, 1, 2].map((i) => tr.children[i].textContent)]));
  let checked = 0;
  for (const [k, bybitIv, deribitIv, diff] of live) {
    if (!ib.has(k) || !id.has(k)) continue;
    assertEq(bybitIv, `${(ib.get(k) * 100).toFixed(1)}%`, `live Bybit call IV at ${k}`);
    assertEq(deribitIv, `${(id.get(k) * 100).toFixed(1)}%`, `live Deribit call IV at ${k}`);
    const want = (id.get(k) - ib.get(k)) * 100;
    assertEq(diff, `${want > 0 ? '+' : ''}${want.toFixed(2)}`, `live call IV difference at ${k}`);
    checked++;
  }
  assert(checked > 0, 'strikes on both venues after the market moved');
  ok('the comparison follows the market', `${checked} strikes`);
  await sim('resume');

  assert(problems.length === 0, `page problems:\n${problems.join('\n')}`);
  console.log('all venue checks passed');
} finally {
  await browser.close();
}
