// Accessibility (issue 32), in a real headless Chromium against options-web, redis-server +
// module and the feeder streaming the sim at its default rate; started by
// tests/tests/accessibility_dashboard.rs. axe-core (WCAG 2.1 A and AA, best practices) on every
// view, dialog and popover in both themes and at phone width, failing on any violation; and
// the dashboard used by keyboard alone. Each check prints `ok - …`; the first failure exits 1.
//
// Environment: DASHBOARD_URL, CHROMIUM.

import { launchBrowser, ok, assert, assertEq, sleep, watchPage, axeViolations } from './lib.mjs';

const BASE = process.env.DASHBOARD_URL;
if (!BASE) throw new Error('DASHBOARD_URL is required');

// What each view shows once its data is in.
const READY = {
  table: '#options-table tbody tr[data-symbol]',
  chain: '#chain-table tbody tr',
  charts: '#chart-smile canvas',
  analytics: '#chart-an-gex canvas, #chart-an-gex .empty-chart',
  history: '#view-history .chart',
  // The charts come one per task after the figures: the last one drawn.
  compare: '#chart-cmp-diff canvas, #chart-cmp-diff .empty-chart',
  flow: '#chart-flow-time canvas, #chart-flow-time .empty-chart',
};

const clean = async (page, what) => {
  const found = await axeViolations(page);
  assert(found.length === 0, `${what}: accessibility violations:\n  ${found.join('\n  ')}`);
};

const browser = await launchBrowser();
const problems = [];
try {
  for (const scheme of ['dark', 'light']) {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: scheme, bypassCSP: true });
    const page = await ctx.newPage();
    watchPage(page, scheme, problems);
    for (const [view, ready] of Object.entries(READY)) {
      await page.goto(`${BASE}/?asset=BTC&view=${view}`);
      await page.waitForSelector(ready, { timeout: 20000 });
      assertEq(await page.evaluate(() => document.documentElement.dataset.theme), scheme, 'the theme follows the system');
      await sleep(300);
      await clean(page, `${scheme} ${view}`);
    }
    ok(`every view has no axe violation in the ${scheme} theme`, Object.keys(READY).join(', '));

    await page.goto(`${BASE}/?asset=BTC`);
    await page.waitForSelector(READY.table);
    for (const [button, dialog] of [['#open-alerts', '#alerts-dialog'], ['#add-asset', '#add-dialog'], ['#open-settings', '#settings-dialog']]) {
      await page.click(button);
      await page.waitForSelector(`${dialog}[open]`);
      await sleep(300);
      await clean(page, `${scheme} ${dialog}`);
      await page.keyboard.press('Escape');
      await page.waitForSelector(`${dialog}:not([open])`, { state: 'attached' });
    }
    for (const [button, panel] of [['#columns-btn', '#columns-panel'], ['#display-btn', '#display-panel'], ['#live', '#status-panel']]) {
      await page.click(button);
      await page.waitForSelector(`${panel}:not([hidden])`);
      await clean(page, `${scheme} ${panel}`);
      await page.click(button);
    }
    ok(`dialogs and popovers have no axe violation in the ${scheme} theme`);

    await page.setViewportSize({ width: 390, height: 844 });
    for (const view of ['table', 'chain', 'flow']) {
      await page.goto(`${BASE}/?asset=BTC&view=${view}`);
      await page.waitForSelector(READY[view], { timeout: 20000 });
      await clean(page, `${scheme} phone ${view}`);
    }
    ok(`at phone width too (${scheme})`);
    await ctx.close();
  }

  // ------------------------------------------------------------------ keyboard alone
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
  const page = await ctx.newPage();
  watchPage(page, 'keyboard', problems);
  await page.goto(`${BASE}/?asset=BTC`);
  await page.waitForSelector(READY.table);
  // Tab from the top of the page reaches the view tabs; the focus is drawn.
  await page.focus('body');
  let reached = false;
  for (let i = 0; i < 40 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement && document.activeElement.matches('.views [role="tab"].active'));
  }
  assert(reached, 'Tab reaches the selected view tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert(outline !== 'none', `the focused tab shows its focus (outline ${outline})`);
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector(READY.chain);
  assertEq(await page.evaluate(() => document.body.dataset.view), 'chain', 'ArrowRight opens the next view');
  assertEq(await page.evaluate(() => document.activeElement.dataset.view), 'chain', 'and moves the focus with it');
  assertEq(await page.getAttribute('.views [data-view="chain"]', 'aria-selected'), 'true', 'the tab says it is selected');
  await page.keyboard.press('End');
  await page.waitForSelector(READY.flow);
  assertEq(await page.evaluate(() => document.body.dataset.view), 'flow', 'End opens the last view');
  await page.keyboard.press('Home');
  await page.waitForSelector(READY.table);
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector(READY.chain);
  ok('the view tabs by keyboard: Tab, arrows, Home and End');

  // The expiry and settle selectors by keyboard (no mouse): the chain follows.
  const before = await page.inputValue('#f-expiry');
  await page.focus('#f-expiry');
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction((b) => new URL(location.href).searchParams.get('expiry') && new URL(location.href).searchParams.get('expiry') !== b, before);
  const expiry = await page.inputValue('#f-expiry');
  assert(expiry !== before, `the expiry moved from ${before}`);
  const settles = await page.$$eval('#f-settle option', (o) => o.map((x) => x.value));
  await page.focus('#f-settle');
  await page.keyboard.press('ArrowDown');
  const settle = await page.inputValue('#f-settle');
  assert(settles.includes(settle), `settle ${settle}`);
  ok('the expiry and settle selectors by keyboard', `${before} → ${expiry}, settle ${settle}`);

  // The alerts dialog: opened with Enter, its fields reached with Tab, a refusal read out, closed with Escape.
  await page.focus('#open-alerts');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#alerts-dialog[open]');
  let inDialog = false;
  for (let i = 0; i < 30 && !inDialog; i++) {
    await page.keyboard.press('Tab');
    inDialog = await page.evaluate(() => document.activeElement && document.activeElement.id === 'alert-add');
  }
  assert(inDialog, 'Tab reaches “Add alert” inside the dialog');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('alerts-message').textContent.length > 0);
  assertEq(await page.getAttribute('#alerts-message', 'role'), 'alert', 'the refusal is announced');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#alerts-dialog:not([open])', { state: 'attached' });
  ok('the alerts dialog by keyboard: Enter, Tab, a refusal announced, Escape');

  // Live prices are not announced: only the cards are a (polite) live region.
  const regions = await page.$$eval('[aria-live]', (els) => els.map((e) => `${e.tagName.toLowerCase()}.${e.className}:${e.getAttribute('aria-live')}`));
  assertEq(JSON.stringify(regions), JSON.stringify(['section.cards:polite']), 'live regions');
  assert(await page.$$eval('table [role="status"], table [aria-live]', (e) => e.length) === 0, 'no live region in a table');
  ok('only the cards are a live region, politely');

  assert(problems.length === 0, `console errors or failed requests:\n${problems.join('\n')}`);
  console.log('all accessibility checks passed');
} finally {
  await browser.close();
}
