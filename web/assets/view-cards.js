// The trader's cards above every view: index, the forward of the expiry in view, and the
// chain analytics a desk watches (30-day ATM IV, the 30-day volatility index with its last 24
// hours, 25Δ risk reversal, put/call ratio), from OPTIONS.ANALYTICS and OPTIONS.HISTORY.
import { pct, strikeText, expiryLabel, clock, isNum } from './format.js';
import { $, setText } from './dom.js';
import { prefs, ui, store, focusExpiry, settlesOf, chainOf, withVenue } from './state.js';
import { expiryFigures, wantFigures } from './figures.js';
import { spotText } from './prices.js';
import { sparkPoints, changeSince } from './smile.js';

export const cards = { analytics: null, asset: null, fetching: false, again: false, day: null, dayAsset: null, dayAt: 0 };

const DAY_MS = 86_400_000;

/** The volatility index's last 24 hours (OPTIONS.HISTORY), asked at most once a minute. */
async function loadVolDay(asset) {
  if (cards.dayAsset === asset && Date.now() - cards.dayAt < 60_000) return;
  cards.dayAt = Date.now();
  try {
    const r = await fetch(withVenue(`/api/history/${encodeURIComponent(asset)}?metric=vol_index&from=${Date.now() - DAY_MS}`), { headers: { Accept: 'application/json' } });
    if (r.ok && asset === ui.asset) {
      cards.day = (await r.json()).points || [];
      cards.dayAsset = asset;
    }
  } catch (e) { /* the card shows the index without its day */ }
}
export async function loadCardAnalytics() {
  if (!ui.asset) return;
  if (cards.fetching) {
    cards.again = true;
    return;
  }
  cards.fetching = true;
  const asset = ui.asset;
  try {
    const r = await fetch(withVenue(`/api/analytics/${encodeURIComponent(asset)}`), { headers: { Accept: 'application/json' } });
    if (r.ok && asset === ui.asset) {
      cards.analytics = await r.json();
      cards.asset = asset;
      await loadVolDay(asset);
      renderCards();
    }
  } catch (e) { /* the cards keep their last figures; the banner says why */ }
  cards.fetching = false;
  if (cards.again) {
    cards.again = false;
    loadCardAnalytics();
  }
}

export function renderCards() {
  const expiry = focusExpiry();
  setText('stat-index', spotText(store.index));
  setText('stat-index-sub', ui.asset ? `${ui.asset} index` + (store.indexAt ? ` · ${clock(store.indexAt, prefs.utc)}` : '') : '');
  if (expiry) {
    const s = settlesOf(expiry);
    const settle = s.has(ui.settle) ? ui.settle : s.has('USDC') ? 'USDC' : [...s][0];
    const ch = chainOf(expiry, settle);
    // ATM IV as the module has it (interpolated at the forward), not the ATM strike's IV.
    wantFigures(ui.asset, settle);
    const fig = expiryFigures(ui.asset, settle, expiry);
    setText('stat-forward', spotText(ch.spot));
    setText('stat-forward-sub', `${expiryLabel(expiry)} · ATM ${ch.atm === null ? '–' : strikeText(ch.atm)} · IV ${pct(fig ? fig.atm_iv : null)}`);
  } else {
    setText('stat-forward', '–');
    setText('stat-forward-sub', '');
  }
  const a = cards.asset === ui.asset ? cards.analytics : null;
  const tenor = (d) => (a && Array.isArray(a.tenors) ? a.tenors.find((t) => t.days === d) : null) || {};
  const t30 = tenor(30);
  setText('stat-iv30', pct(t30.atm_iv));
  const t7 = tenor(7);
  const t90 = tenor(90);
  setText('stat-iv30-sub', a ? `7d ${pct(t7.atm_iv)} · 90d ${pct(t90.atm_iv)}` : '');
  const vol = a && isNum(a.vol_index) ? a.vol_index : null;
  setText('stat-volidx', vol === null ? '–' : vol.toFixed(2));
  const day = cards.dayAsset === ui.asset && Array.isArray(cards.day) ? cards.day : [];
  const change = changeSince(day, Date.now() - DAY_MS, vol);
  setText('stat-volidx-sub', a ? `24 h ${change === null ? '–' : (change > 0 ? '+' : '') + change.toFixed(2)}` : '');
  const spark = $('stat-volidx-spark').firstElementChild;
  const points = sparkPoints([...day.map((p) => p[1]), vol], 60, 18);
  if (spark.getAttribute('points') !== points) spark.setAttribute('points', points);
  const pts = (v) => (isNum(v) ? (v > 0 ? '+' : '') + (v * 100).toFixed(2) : '–');
  setText('stat-rr25', pts(t30.rr25));
  const rrClass = 'value ' + (isNum(t30.rr25) ? (t30.rr25 < 0 ? 'neg' : 'pos') : '');
  if ($('stat-rr25').className !== rrClass) $('stat-rr25').className = rrClass;
  setText('stat-rr25-sub', a ? `vol pts · BF25 ${pts(t30.bf25)}` : '');
  const tot = a ? a.totals : null;
  setText('stat-pcr', tot && isNum(tot.pcr_oi) ? tot.pcr_oi.toFixed(2) : '–');
  setText('stat-pcr-sub', tot ? `OI · volume ${isNum(tot.pcr_volume) ? tot.pcr_volume.toFixed(2) : '–'}` : '');
}
