// The module's per-expiry figures (OPTIONS.ANALYTICS, one settle coin) that the chain header,
// the cards, the open-interest chart's max-pain marker and the term structure show. One figure
// has one source: the page never computes ATM IV or max pain a second way. Loaded per asset and
// settle coin; reloaded when the stream says the chain's analytics moved (at most every 2 s).
import { withVenue } from './state.js';

export const figures = { key: null, byExpiry: new Map(), fetching: null, again: false };

const listeners = [];

/** Calls `fn` whenever a new set of figures has arrived. */
export function onFigures(fn) {
  listeners.push(fn);
}

/** The module's figures of `expiry` for the asset and settle coin last asked for, or null. */
export function expiryFigures(asset, settle, expiry) {
  if (figures.key !== keyOf(asset, settle)) return null;
  return figures.byExpiry.get(expiry) || null;
}

/** Every expiry's figures (chronological) for the asset and settle coin, or an empty list. */
export function allExpiryFigures(asset, settle) {
  return figures.key === keyOf(asset, settle) ? [...figures.byExpiry.values()] : [];
}

/** The chain of `asset` moved: reload its figures if they are the ones on screen. */
export function refreshFigures(asset) {
  const [a, settle] = (figures.fetching || figures.key || '').split('|');
  if (a === asset) wantFigures(asset, settle, true);
}

function keyOf(asset, settle) {
  return `${asset}|${settle}`;
}

/**
 * Makes sure the figures of `asset` and `settle` are loaded (or loading); `fresh` reloads them
 * even when they are (the chain moved).
 */
export function wantFigures(asset, settle, fresh = false) {
  if (!asset || !settle) return;
  const key = keyOf(asset, settle);
  if (figures.fetching === key) {
    if (fresh) figures.again = true;
    return;
  }
  if (!fresh && figures.key === key) return;
  load(asset, settle, key);
}

async function load(asset, settle, key) {
  figures.fetching = key;
  figures.again = false;
  try {
    const r = await fetch(withVenue(`/api/analytics/${encodeURIComponent(asset)}?settle=${encodeURIComponent(settle)}`), {
      headers: { Accept: 'application/json' },
    });
    if (r.ok) {
      const body = await r.json();
      if (figures.fetching === key) {
        figures.key = key;
        figures.byExpiry = new Map((body.expiries || []).map((e) => [e.expiry, e]));
        for (const fn of listeners) fn();
      }
    }
  } catch (e) { /* the last figures stay; the banner says why the server is unreachable */ }
  if (figures.fetching !== key) return;
  figures.fetching = null;
  if (figures.again) load(asset, settle, key);
}
