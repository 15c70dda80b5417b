// What every module of the dashboard shares with the page: element lookup, settings remembered
// in localStorage, and the popovers (one open at a time, closed by a click elsewhere).

import { esc } from './format.js';

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

const shownRows = new WeakMap();
/**
 * A table body of rows of cells, each `[text, class]`, drawn by `markup()` when new: while the
 * rows are the same as last time (`key`: which rows, in which order) only the cells whose text
 * or class changed are written, so a refresh of a few figures lays out and paints those cells,
 * not the table. A body written this way must be written only this way.
 */
export function patchRows(body, key, cells, markup) {
  const shown = shownRows.get(body);
  if (shown && shown.key === key && body.rows.length === cells.length) {
    cells.forEach((row, i) => row.forEach(([text, cls], j) => {
      const [was, wasCls] = shown.cells[i][j];
      if (was === text && wasCls === cls) return;
      const td = body.rows[i].cells[j];
      if (was !== text) td.textContent = text;
      if (wasCls !== cls) td.className = cls;
    }));
  } else {
    body.innerHTML = markup();
  }
  shownRows.set(body, cells.length ? { key, cells } : null);
}

const shownCards = new WeakMap();
/**
 * Figure cards, each `[label, value, class of the value]`, in `el`: while the labels are the
 * same as last time only the values that changed are written (see `patchRows`). A card's
 * `data-metric` is its label. An element written this way must be written only this way.
 */
export function setCards(el, cards) {
  const key = cards.map(([label]) => label).join('\n');
  const shown = shownCards.get(el);
  const valueClass = (cls) => (cls ? `value ${cls}` : 'value');
  if (shown && shown.key === key && el.children.length === cards.length) {
    cards.forEach(([, value, cls = ''], i) => {
      const [, was, wasCls = ''] = shown.cards[i];
      if (was === value && wasCls === cls) return;
      const node = el.children[i].lastElementChild;
      if (was !== value) node.textContent = value;
      if (wasCls !== cls) node.className = valueClass(cls);
    });
  } else {
    el.innerHTML = cards.map(([label, value, cls = '']) => `<div class="an-card" data-metric="${esc(label)}">` +
      `<div class="label">${esc(label)}</div><div class="${valueClass(cls)}">${esc(value)}</div></div>`).join('');
  }
  shownCards.set(el, { key, cards });
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
