// What the browser scripts share: playwright-core from web/package-lock.json, Debian's Chromium
// launched the way this closed network needs, the check log, and the few HTTP helpers.

import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', '..', 'web', 'package.json'));
const { chromium } = require('playwright-core');

export const ROOT = join(here, '..', '..');

// A fresh profile per launch (Playwright's own); no background networking, which the closed
// network here refuses connection by connection.
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

const started = Date.now();
export function ok(name, detail) {
  console.log(`ok - ${name}${detail ? ` (${detail})` : ''} [${((Date.now() - started) / 1000).toFixed(1)} s]`);
}
export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
export function assertEq(got, want, msg) {
  if (got !== want) throw new Error(`${msg}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
export async function getJson(url, init) {
  const r = await fetch(url, init);
  const body = await r.json();
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status} ${JSON.stringify(body)}`);
  return body;
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
// An expiry in any spelling the system writes (`3DEC26`, `03DEC26`, `2026-12-03`) as its ISO
// date, so that expiries are compared as dates and never as text.
export function expiryDate(text) {
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (iso) return text;
  const m = /^(\d{1,2})([A-Za-z]{3})(\d{2})$/.exec(text || '');
  if (!m) throw new Error(`not an expiry: ${JSON.stringify(text)}`);
  const month = MONTHS.indexOf(m[2].toUpperCase()) + 1;
  if (month === 0) throw new Error(`not an expiry month: ${JSON.stringify(text)}`);
  return `20${m[3]}-${String(month).padStart(2, '0')}-${m[1].padStart(2, '0')}`;
}

// Collects console errors, page errors, failed requests and HTTP errors of a page.
export function watchPage(page, label, problems) {
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${label} console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${label} page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    const why = r.failure() ? r.failure().errorText : '';
    // Navigations abort the open EventSource; that is not a failure.
    if (!why.includes('ERR_ABORTED')) problems.push(`${label} request failed: ${r.url()} ${why}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${label} HTTP ${r.status()}: ${r.url()}`);
  });
}

/**
 * The page's accessibility violations by axe-core (web/package-lock.json): WCAG 2.1 A and AA
 * and axe's best practices, as `rule (n): first nodes` lines; an empty list when there are none.
 * The page's context must be created with `bypassCSP: true` (the dashboard allows no inline
 * script, which is how axe is injected).
 */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  }
  return page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return r.violations.map((v) => `${v.id} (${v.nodes.length}): ${v.nodes.slice(0, 3)
      .map((n) => `${n.target.join(' ')} — ${(n.failureSummary || '').split('\n').slice(1).join(' ').trim()}`).join(' | ')}`);
  });
}
