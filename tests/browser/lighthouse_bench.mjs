// Lighthouse 12 (web/package-lock.json) on every dashboard view, desktop and mobile presets,
// the median of RUNS runs each; started by tests/benches/lighthouse.rs against release builds
// with the simulator at its default rate. Prints one JSON line:
// {runs, results: [{view, preset, performance, accessibility, bestPractices, lcpMs, cls, tbtMs}]}
// (scores 0–100; each figure the median of the runs).
//
// Environment: DASHBOARD_URL, CHROMIUM, RUNS (default 3), VIEWS (comma-separated, default all).

import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', '..', 'web', 'package.json'));
const lighthouse = (await import(require.resolve('lighthouse'))).default;
const desktopConfig = (await import(require.resolve('lighthouse/core/config/desktop-config.js'))).default;
const chromeLauncher = await import(require.resolve('chrome-launcher'));

const BASE = process.env.DASHBOARD_URL;
if (!BASE) throw new Error('DASHBOARD_URL is required');
const RUNS = Number(process.env.RUNS || 3);
const VIEWS = (process.env.VIEWS || 'table,chain,charts,analytics,history,compare,flow').split(',');

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROMIUM || '/usr/bin/chromium',
  chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const results = [];
try {
  for (const view of VIEWS) {
    for (const preset of ['desktop', 'mobile']) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        const url = `${BASE}/?asset=BTC&view=${view}`;
        // Now and then Chromium drops the tab under Lighthouse ("Target closed"): that run is
        // made again, at most twice, and said so on stderr.
        let r = null;
        for (let attempt = 1; !r; attempt++) {
          try {
            r = await lighthouse(url, {
              port: chrome.port, output: 'json', logLevel: 'error',
              onlyCategories: ['performance', 'accessibility', 'best-practices'],
            }, preset === 'desktop' ? desktopConfig : undefined);
          } catch (e) {
            if (attempt >= 3) throw e;
            process.stderr.write(`${view} ${preset} run ${i + 1}: ${e.message}; again\n`);
          }
        }
        const lhr = r.lhr;
        const score = (c) => (lhr.categories[c] && lhr.categories[c].score !== null ? Math.round(lhr.categories[c].score * 100) : NaN);
        const audit = (a) => (lhr.audits[a] ? lhr.audits[a].numericValue : NaN);
        runs.push({
          performance: score('performance'), accessibility: score('accessibility'), bestPractices: score('best-practices'),
          lcpMs: audit('largest-contentful-paint'), cls: audit('cumulative-layout-shift'), tbtMs: audit('total-blocking-time'),
          warnings: lhr.runWarnings || [],
        });
      }
      const pick = (k) => median(runs.map((r) => r[k]));
      results.push({
        view, preset, performance: pick('performance'), accessibility: pick('accessibility'), bestPractices: pick('bestPractices'),
        lcpMs: pick('lcpMs'), cls: pick('cls'), tbtMs: pick('tbtMs'),
        warnings: [...new Set(runs.flatMap((r) => r.warnings))],
      });
      process.stderr.write(`${view} ${preset}: ${JSON.stringify(results[results.length - 1])}\n`);
    }
  }
} finally {
  await chrome.kill();
}
console.log(JSON.stringify({ runs: RUNS, results }));
