// Cell patching shared by the table and the chain: only changed text is written; quotes and
// trades that moved flash up or down. And the age shown on hover.
import { isNum, ago, clock } from './format.js';
import { prefs, metrics } from './state.js';

// Flashing is a class swap, never a style read: thousands of cells may change in one frame
// and a forced style recalculation per cell would freeze a big table.
//
// A ticking cell keeps its colour for TICK_MS, then one sweep puts it back: a class set and
// a class removed are two style changes per tick, where a colour that fades is a style change
// and a repaint of the table on every frame while anything ticks (on a phone's CPU the live
// table spent most of its time there).
const TICK_MS = 800;
const ticking = new Map(); // td -> when its tick ends (performance.now())
let sweeper = null;

function flash(td, up) {
  td.classList.remove(up ? 'tick-down' : 'tick-up');
  td.classList.add(up ? 'tick-up' : 'tick-down');
  ticking.set(td, performance.now() + TICK_MS);
  if (!sweeper) sweeper = setInterval(sweepTicks, 200);
}

function sweepTicks() {
  const now = performance.now();
  for (const [td, end] of ticking) {
    if (end > now) continue;
    td.classList.remove('tick-up', 'tick-down');
    ticking.delete(td);
  }
  if (!ticking.size) {
    clearInterval(sweeper);
    sweeper = null;
  }
}

/**
 * Writes a cell whose text changed. Only quotes and trades (`canFlash`) tick, and only with
 * flashing on: a chain where every greek blinks hides the prices that moved.
 */
export function setCell(td, text, html, before, after, canFlash) {
  if (td.textContent === text) return false;
  metrics.cellsWritten++;
  if (html) td.innerHTML = html; else td.textContent = text;
  if (isNum(before) && isNum(after) && before !== after) {
    td.classList.add('changed');
    if (canFlash && prefs.flash) flash(td, after > before);
  }
  return true;
}

/** When a row last changed, for its tooltip. */
export function ageTitle(r) {
  return r && isNum(r.updated_ms) ? `${r.symbol}: updated ${ago(r.updated_ms)} (${clock(r.updated_ms, prefs.utc)})` : '';
}

/** Whether a row's quotes may be gone from the book: not updated for `prefs.oldSecs`. */
export const isOld = (r, now) => !r || !isNum(r.updated_ms) || now - r.updated_ms > prefs.oldSecs * 1000;
