// The dashboard's state, one object per concern, shared by every module: what the page was
// opened with (`boot`), display preferences, the UI's choices, the row store, the connection,
// and main-thread metrics. Derived chains are cached here per change of the store.
//
// Nothing here touches the page: the objects start with their defaults and `initState` (called
// once by init.js, the first module the page runs) fills them from the page's boot data and
// the remembered settings. So every module that reads the state can run under node's tests.
import { expiryCode, isNum } from './format.js';
import { newStore, expiriesOf, settlesOf as settlesIn, buildChain } from './store.js';

export const boot = {};

// Display preferences, remembered: flashing, premium unit, clock, the chain's outer columns.
const CHAIN_EXTRA_DEFAULT = ['open_interest', 'delta'];
export const prefs = {
  flash: true,
  premium: 'usd',
  utc: true,
  chainExtras: CHAIN_EXTRA_DEFAULT,
  side: 'call',
  // A side not updated for this long is dimmed: its quotes may be gone from the book.
  oldSecs: 60,
};

export const ui = {
  view: 'table',
  // Whose chains the page shows: 'bybit' (keys BTC…) or 'deribit' (keys deribit:BTC…). Fixed
  // for a page: switching venue loads the page again, so no cache outlives its venue.
  venue: 'bybit',
  asset: '',
  expiry: '',
  type: 'all',
  settle: 'USDC',
  search: '',
  sort: { key: 'volume', dir: 'desc' },
  page: 0,
  pageSize: 50,
  visible: {}, // column key -> shown (columns.js: loadVisibility)
  live: true,
  focusStrike: null, // the strike the chain scrolls to on its next render (a table row's click)
};

export const store = newStore([]);
export const conn = {
  source: null,
  state: 'connecting',
  stats: null,
  lastUpdateMs: 0,
  statsSeen: false,
  error: null,
  generation: 0, // bumped per connect(): a late snapshot of a previous asset is dropped
  redisError: null, // the server's last stats event said Redis is unreadable
  notice: null, // a passing remark, e.g. a deep link's unknown expiry
  pending: null, // held changes while auto-refresh is off
  pendingCount: 0,
  status: null, // the stream's last `status` event: feeder heartbeat, per-asset freshness
  statusAt: 0, // when it arrived (the server sends one every 2 s)
};

// Main-thread costs, for `make bench` and for anyone asking why a browser tab is busy:
// `dashboardMetrics()` in the console.
export const metrics = {
  connectAt: 0, snapshotAt: 0, snapshotBytes: 0, snapshotWireBytes: 0, snapshotParseMs: 0, firstRenderAt: 0,
  changeEvents: 0, rowsChanged: 0, patchFrames: 0, patchMs: 0, cellsWritten: 0,
  fullRenders: 0, fullRenderMs: 0,
};

/**
 * Fills the state from the page's boot data (the server's view of the request: view, asset,
 * filters, the asset list, an error) and from remembered settings (`storage.get(key)`).
 */
export function initState(data, storage) {
  for (const k of Object.keys(boot)) delete boot[k];
  Object.assign(boot, data);
  prefs.flash = storage.get('flash') !== 'off';
  prefs.premium = storage.get('premium') === 'coin' ? 'coin' : 'usd';
  prefs.utc = storage.get('clock') !== 'local';
  try {
    const v = JSON.parse(storage.get('chainColumns') || 'null');
    if (Array.isArray(v)) prefs.chainExtras = v.filter((k) => typeof k === 'string');
  } catch (e) { /* corrupt: defaults */ }
  prefs.side = storage.get('chainSide') === 'put' ? 'put' : 'call';
  const secs = parseInt(storage.get('oldQuoteSeconds') || '', 10);
  if (secs >= 1 && secs <= 3600) prefs.oldSecs = secs;
  ui.view = boot.view || 'table';
  ui.venue = boot.venue === 'deribit' ? 'deribit' : 'bybit';
  ui.asset = boot.asset || '';
  ui.expiry = expiryCode(boot.expiry);
  ui.type = ['call', 'put'].includes((boot.type || '').toLowerCase()) ? boot.type.toLowerCase() : 'all';
  const settle = (boot.settle || '').toUpperCase();
  ui.settle = ['USDT', 'BTC', 'ETH'].includes(settle) ? settle : 'USDC';
  ui.search = boot.search || '';
  const size = parseInt(storage.get('pageSize') || '', 10);
  if ([0, 10, 25, 50, 100, 250, 500].includes(size)) ui.pageSize = size;
  store.assets = boot.assets || [];
  conn.error = boot.error || null;
}

/** `url` asking for the page's venue (Bybit's needs nothing: it is every endpoint's default). */
export function withVenue(url) {
  if (ui.venue === 'bybit') return url;
  return url + (url.includes('?') ? '&' : '?') + 'venue=' + ui.venue;
}

/** The Redis key of `asset`'s chain on the page's venue, as stream events name it. */
export const chainKey = (asset) => (ui.venue === 'bybit' ? asset : `${ui.venue}:${asset}`);

/**
 * What a view asks of the page without importing it (the page's modules import the views):
 * render.js and live.js put their functions here when they load.
 */
export const page = {
  renderView: () => {},
  renderLive: () => {},
};

// ---------------------------------------------------------------------------------------------
// derived data

export function recomputeExpiries() {
  store.expiries = expiriesOf(store.rows);
}

/** The expiry the chain and charts show: the chosen one, or the nearest. */
export function focusExpiry() {
  if (ui.expiry && ui.expiry !== 'ALL' && store.expiries.some((e) => e.code === ui.expiry)) return ui.expiry;
  return store.expiries.length ? store.expiries[0].code : null;
}

// The spot card, the chain and the charts all ask for the same chains in one frame: each is
// built once per change of the store.
const derived = { chains: new Map(), settles: new Map() };
export function storeChanged() {
  derived.chains.clear();
  derived.settles.clear();
}

export function settlesOf(expiry) {
  let s = derived.settles.get(expiry);
  if (!s) {
    s = settlesIn(store.rows, expiry);
    derived.settles.set(expiry, s);
  }
  return s;
}

/** Contracts of one expiry and settle coin, in strike order, paired call/put. */
export function chainOf(expiry, settle) {
  const key = `${expiry}|${settle}`;
  let chain = derived.chains.get(key);
  if (!chain) {
    chain = buildChain(store.rows, expiry, settle);
    derived.chains.set(key, chain);
  }
  return chain;
}

/** The server's clock (from its last status event): update times are the server's. */
export const serverNow = () => (conn.statusAt && conn.status && isNum(conn.status.server_ms) ? conn.status.server_ms + (Date.now() - conn.statusAt) : Date.now());
