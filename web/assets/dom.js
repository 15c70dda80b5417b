// What every module of the dashboard shares with the page: element lookup, settings remembered
// in localStorage, and the popovers (one open at a time, closed by a click elsewhere).

export const $ = (id) => document.getElementById(id);

/**
 * Sets an element's text (by id or element) only when it differs: writing the same text still
 * replaces the text node, and the browser lays out and paints it again, once per frame for the
 * live parts of the page.
 */
export function setText(el, text) {
  const node = typeof el === 'string' ? $(el) : el;
  if (node.textContent !== text) node.textContent = text;
}

/**
 * A windowed table body: rows `first`..`last` of `count` (`row(i)` → the i-th row's HTML)
 * between two spacer rows that hold the height of the rest, so a long list costs what one
 * screen of it does to lay out and paint. Returns the height of a drawn row (0 if none).
 */
export function fillWindow(tbody, { first, last, count, rowHeight, colspan, row }) {
  const spacer = (px) => `<tr class="spacer" aria-hidden="true" data-px="${px}"><td colspan="${colspan}"></td></tr>`;
  let html = spacer(first * rowHeight);
  for (let i = first; i < last; i++) html += row(i);
  tbody.innerHTML = html + spacer((count - last) * rowHeight);
  // Heights through the CSSOM: the page's CSP allows no inline style attributes to rely on.
  for (const sp of tbody.querySelectorAll('tr.spacer')) sp.style.height = sp.dataset.px + 'px';
  const sample = tbody.querySelector('tr:not(.spacer)');
  return sample ? sample.getBoundingClientRect().height : 0;
}

/** Calls `fn` once per frame at most while `el` scrolls (a windowed body follows its scroll). */
export function onScrollFrame(el, fn) {
  let queued = false;
  el.addEventListener('scroll', () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      fn();
    });
  }, { passive: true });
}

const written = new WeakMap();
/**
 * Sets an element's markup only when it differs from what this last wrote there (the element's
 * own serialisation can differ from the markup it was given): the same markup again would still
 * rebuild the element's children, and lay them out and paint them again. An element written
 * this way must be written only this way, or this would skip markup it no longer holds.
 */
export function setHtml(el, html) {
  if (written.get(el) === html) return false;
  el.innerHTML = html;
  written.set(el, html);
  return true;
}

export const storage = {
  get(key) { try { return localStorage.getItem(key); } catch (e) { return null; } },
  set(key, v) { try { localStorage.setItem(key, v); } catch (e) { /* private mode: not remembered */ } },
};

// Popovers: columns, display, the chain's columns, status.
const POPOVERS = [['columns-panel', 'columns-btn'], ['display-panel', 'display-btn'], ['chain-cols-panel', 'chain-cols-btn'], ['status-panel', 'live']];
export function closePopovers(except) {
  for (const [panel, btn] of POPOVERS) {
    if (panel === except) continue;
    $(panel).hidden = true;
    if ($(btn)) $(btn).setAttribute('aria-expanded', 'false');
  }
}
/** Opens or closes one popover, closing the others; returns whether it is now open. */
export function togglePopover(panelId, btn) {
  closePopovers(panelId);
  const panel = $(panelId);
  panel.hidden = !panel.hidden;
  if (btn) btn.setAttribute('aria-expanded', String(!panel.hidden));
  return !panel.hidden;
}

/** The settle-coin select: coins the shown expiry lacks are disabled; `settle` is selected. */
export function syncSettleSelect(settles, settle) {
  const sel = $('f-settle');
  for (const o of sel.options) o.disabled = settles.size > 0 && !settles.has(o.value);
  sel.value = settle;
}
