// Cell patching shared by the table and the chain: only changed text is written; quotes and
// trades that moved flash up or down. And the age shown on hover.
import { isNum, ago, clock } from './format.js';
import { prefs, metrics } from './state.js';

// Flashing is a class swap, never a style read: thousands of cells may change in one frame
// and a forced style recalculation per cell would freeze a big table. Two alternating
// classes per direction restart the CSS animation without a reflow.
function flash(td, up) {
  const next = (up ? 'fu' : 'fd') + (td._flash === 0 ? 1 : 0);
  if (td._flashClass) td.classList.remove(td._flashClass);
  td.classList.add(next);
  td._flashClass = next;
  td._flash = td._flash === 0 ? 1 : 0;
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
