// A developer's look at the dashboard: screenshots of a running options-web (PEEK_URL) for
// each asset and view at desktop and phone width, with console errors printed. Not a test.
import { launchBrowser } from './lib.mjs';

const URL = process.env.PEEK_URL || 'http://127.0.0.1:5001';
const OUT = process.env.PEEK_DIR || '/tmp';
const pages = (process.env.PEEK_PAGES || 'BTC:chain,XRP:chain,XRP:charts,BTC:table').split(',');
const browser = await launchBrowser();
try {
  for (const [w, h, tag] of [[1440, 900, 'desktop'], [390, 844, 'phone']]) {
    const ctx = await browser.newContext({ viewport: { width: w, height: h }, colorScheme: 'dark' });
    const page = await ctx.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.log(`[${tag}] console: ${m.text()}`); });
    page.on('pageerror', (e) => console.log(`[${tag}] page error: ${e.message}`));
    for (const p of pages) {
      const [asset, view] = p.split(':');
      await page.goto(`${URL}/?asset=${asset}&view=${view}`);
      await page.waitForTimeout(2500);
      await page.screenshot({ path: `${OUT}/peek-${asset}-${view}-${tag}.png` });
    }
    await ctx.close();
  }
} finally {
  await browser.close();
}
