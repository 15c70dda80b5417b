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
