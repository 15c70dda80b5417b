// The dashboard on one simulated calendar day (tests/tests/calendar.rs starts the sim with
// `--now`): every listed expiry is offered in date order, filters to exactly its contracts,
// opens its chain with the module's ATM strike, and deep links in every spelling reach it.
// Expiries are compared as dates: the API writes the seed's `03DEC26`, symbols `3DEC26`.
//
// Environment: DASHBOARD_URL, SIM_URL, CALENDAR_LABEL (printed), CHROMIUM.

import { launchBrowser, ok, assert, assertEq, getJson, sleep, expiryDate, watchPage } from './lib.mjs';

const BASE = process.env.DASHBOARD_URL;
const SIM = process.env.SIM_URL;
const LABEL = process.env.CALENDAR_LABEL || 'today';
if (!BASE || !SIM) throw new Error('DASHBOARD_URL and SIM_URL are required');

// The exchange's own listing: delivery dates of BTC's live instruments, as ISO dates.
async function listedDates() {
  const dates = new Set();
  for (const settle of ['USDC', 'USDT']) {
    const body = await getJson(`${SIM}/v5/market/instruments-info?category=option&baseCoin=BTC&settleCoin=${settle}&limit=1000`);
    for (const i of body.result.list) dates.add(new Date(Number(i.deliveryTime)).toISOString().slice(0, 10));
  }
  return [...dates].sort();
}

const browser = await launchBrowser();
const problems = [];
try {
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  watchPage(page, LABEL, problems);
  const all = await getJson(`${BASE}/api/options/BTC?expiry=all`);
  await page.goto(`${BASE}/?asset=BTC`);
  await page.waitForSelector('#options-table tbody tr[data-symbol]', { timeout: 15000 });
  await page.waitForSelector('#live[data-state="live"]', { timeout: 10000 });

  const options = (await page.$$eval('#f-expiry option', (o) => o.map((x) => x.value))).filter((v) => v !== 'ALL');
  const listed = await listedDates();
  assertEq(options.map(expiryDate).join(','), listed.join(','), 'expiries offered, in date order, vs the exchange listing');
  ok(`${LABEL}: every listed expiry offered in date order`, `${options[0]} … ${options[options.length - 1]}`);

  for (const expiry of options) {
    const want = all.filter((r) => expiryDate(r.expiry) === expiryDate(expiry));
    assert(want.length > 0, `no rows of ${expiry} in /api/options/BTC?expiry=all`);
    await page.selectOption('#f-expiry', expiry);
    await page.waitForFunction((n) => document.querySelector('#page-info').textContent.endsWith(` of ${n}`),
      want.length.toLocaleString('en-US'), { timeout: 5000 }).catch(async () => {
      throw new Error(`${expiry}: page info "${await page.textContent('#page-info')}", want ${want.length} rows`);
    });
    const symbols = await page.$$eval('#options-table tbody tr[data-symbol]', (t) => t.map((x) => x.dataset.symbol));
    assert(symbols.every((s) => expiryDate(s.split('-')[1]) === expiryDate(expiry)), `${expiry}: rows of other expiries: ${symbols}`);
  }
  ok(`${LABEL}: each expiry filters to exactly its contracts`, `${options.length} expiries`);

  // The chain of the first, a one-digit-day (if any) and the last expiry, deep-linked in the
  // seed's padded spelling and as an ISO date.
  const oneDigit = options.find((e) => /^\d[A-Z]/.test(e));
  for (const expiry of new Set([options[0], oneDigit, options[options.length - 1]].filter(Boolean))) {
    const iso = expiryDate(expiry);
    const padded = expiry.padStart(7, '0');
    for (const spelling of [padded, iso]) {
      await page.goto(`${BASE}/?asset=BTC&expiry=${spelling}&view=chain`);
      await page.waitForSelector('#chain-table tbody tr.atm', { timeout: 10000 });
      assertEq(expiryDate(await page.inputValue('#f-expiry')), iso, `deep link ${spelling}`);
    }
    // The exchange paused and the chain settled (two equal reads), so the page and the module
    // look at the same forward: near a tie between two strikes any tick could flip the ATM.
    await getJson(`${SIM}/sim/pause`, { method: 'POST' });
    let chain = null;
    for (let i = 0; i < 40; i++) {
      await sleep(300);
      const now = await getJson(`${BASE}/api/chain/BTC/${iso}`);
      if (chain && JSON.stringify(now) === JSON.stringify(chain)) break;
      chain = now;
    }
    await page.waitForFunction((k) => {
      const tr = document.querySelector('#chain-table tbody tr.atm');
      return tr && Number(tr.dataset.strike) === k;
    }, chain.atm_strike, { timeout: 5000 }).catch(() => {});
    const atm = await page.getAttribute('#chain-table tbody tr.atm', 'data-strike');
    assertEq(Number(atm), chain.atm_strike, `${expiry}: ATM row vs OPTIONS.CHAIN`);
    await getJson(`${SIM}/sim/resume`, { method: 'POST' });
  }
  ok(`${LABEL}: chains open from deep links in every spelling, ATM row as the module's`);
  assert(problems.length === 0, problems.join('\n'));
  console.log('all calendar checks passed');
} finally {
  await browser.close();
}
