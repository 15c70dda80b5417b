// The chain view: calls and puts of one expiry side by side per strike, as on Deribit and
// Bybit, centred on the money; sides not updated for a while are dimmed.
import { pct, fixed, volume, greek, strikeText, expiryLabel, timeLeft, dec, valuesDecimals, esc } from './format.js';
import { $, storage, togglePopover, syncSettleSelect, setText } from './dom.js';
import { prefs, ui, store, focusExpiry, settlesOf, chainOf, serverNow } from './state.js';
import { expiryFigures, wantFigures } from './figures.js';
import { prem, quote, spreadOf, spotText, signedPct, sizeText, premiumUnit } from './prices.js';
import { setCell, ageTitle, isOld } from './cells.js';
import { residual, arbitrageWarning } from './smile.js';

// The book of each side in one order on both sides, as on Deribit: bid left of ask, so a
// put is never misread. Only the outer columns (chosen in the chain's column menu) mirror.
const QUOTE_COLS = [
  { key: 'bid_size', label: 'Size', title: 'Bid size (contracts)', text: (r) => sizeText(r.bid_size), cls: 'size' },
  { key: 'bid_iv', label: 'Bid IV', text: (r) => pct(r.bid_iv), cls: 'iv' },
  { key: 'bid_price', label: 'Bid', text: (r) => quote(r, r.bid_price, r.bid_size), cls: 'bid', flash: true, phone: true },
  { key: 'mark_price', label: 'Mark', text: (r) => prem(r, r.mark_price), cls: 'mark', phone: true },
  { key: 'ask_price', label: 'Ask', text: (r) => quote(r, r.ask_price, r.ask_size), cls: 'ask', flash: true, phone: true },
  { key: 'ask_iv', label: 'Ask IV', text: (r) => pct(r.ask_iv), cls: 'iv' },
  { key: 'ask_size', label: 'Size', title: 'Ask size (contracts)', text: (r) => sizeText(r.ask_size), cls: 'size' },
];
const EXTRA_COLS = [
  { key: 'open_interest', label: 'OI', title: 'Open interest (contracts)', text: (r) => fixed(2)(r.open_interest) },
  { key: 'volume_24h', label: 'Volume', title: 'Volume 24 h (contracts)', text: (r) => volume(r.volume_24h) },
  { key: 'mark_iv', label: 'Mark IV', text: (r) => pct(r.mark_iv), phone: true },
  { key: 'delta', label: 'Delta', text: (r) => fixed(3)(r.delta) },
  { key: 'gamma', label: 'Gamma', text: (r) => greek(r.gamma) },
  { key: 'vega', label: 'Vega', text: (r) => greek(r.vega) },
  { key: 'theta', label: 'Theta', text: (r) => greek(r.theta) },
  { key: 'spread', label: 'Spread', title: 'Ask minus bid', value: spreadOf, text: (r) => prem(r, spreadOf(r)) },
  { key: 'change_24h', label: '24h', title: 'Change of the mark over 24 h', text: (r) => signedPct(r.change_24h) },
  { key: 'last_price', label: 'Last', title: 'Last trade', text: (r) => prem(r, r.last_price), flash: true },
];
const EXTRA = Object.fromEntries(EXTRA_COLS.map((c) => [c.key, c]));
const cellValue = (c, r) => (c.value ? c.value(r) : r[c.key]);
const NARROW = window.matchMedia('(max-width: 640px)');
NARROW.addEventListener('change', () => { if (ui.view === 'chain') renderChain(); });
export const chainView = { cells: new Map(), key: '', atm: null, scrolledTo: null };

/** The columns of each side: calls (outer → strike) and puts (strike → outer). */
function chainLayout() {
  if (NARROW.matches) {
    // A phone shows one side at a time, strike first, bid and ask kept.
    const cols = [...QUOTE_COLS.filter((c) => c.phone), EXTRA.mark_iv];
    return { call: prefs.side === 'call' ? cols : [], put: prefs.side === 'put' ? cols : [], phone: true };
  }
  const extras = prefs.chainExtras.map((k) => EXTRA[k]).filter(Boolean);
  return { call: [...extras, ...QUOTE_COLS], put: [...QUOTE_COLS, ...[...extras].reverse()], phone: false };
}
const isItm = (side, strike, forward) => forward !== null && (side === 'call' ? strike < forward : strike > forward);

function chainCell(r, c, side, strike, forward, now) {
  const cls = [c.cls || '', isItm(side, strike, forward) ? 'itm' : '', r && isOld(r, now) ? 'old' : ''].join(' ').trim();
  const text = r ? c.text(r) : '';
  const id = r ? ` data-symbol="${esc(r.symbol)}" data-field="${c.key}"` : '';
  return `<td class="${cls}" data-side="${side}"${id}>${esc(text)}</td>`;
}

export function renderChain() {
  const head = $('chain-head');
  const thead = document.querySelector('#chain-table thead');
  const tbody = document.querySelector('#chain-table tbody');
  const expiry = focusExpiry();
  chainView.cells = new Map();
  if (!expiry) {
    head.innerHTML = '';
    thead.innerHTML = '';
    tbody.innerHTML = '';
    return;
  }
  const settles = settlesOf(expiry);
  if (!settles.has(ui.settle) && settles.size) ui.settle = settles.has('USDC') ? 'USDC' : [...settles][0];
  syncSettleSelect(settles, ui.settle);
  const ch = chainOf(expiry, ui.settle);
  chainView.key = `${expiry}|${ui.settle}`;
  chainView.atm = ch.atm;
  const e = store.expiries.find((x) => x.code === expiry);
  const fig = chainFigures(expiry);
  const iv = fig ? fig.atm_iv : null;
  const layout = chainLayout();
  head.innerHTML = [
    `<span>Expiry <b>${esc(expiryLabel(expiry))}</b> <span class="muted">in</span> <b id="chain-left">${e ? esc(timeLeft(e.ts)) : '?'}</b></span>`,
    `<span title="The underlying's index (spot)">Index <b id="chain-index">${esc(spotText(store.index))}</b></span>`,
    `<span title="The forward of this expiry: the median of its contracts' underlying prices, as OPTIONS.CHAIN computes it">Forward <b id="chain-spot">${esc(spotText(ch.spot))}</b></span>`,
    `<span>ATM strike <b id="chain-atm">${ch.atm === null ? '–' : esc(strikeText(ch.atm))}</b></span>`,
    `<span title="OPTIONS.ANALYTICS: the IV interpolated at the forward, this settle coin">ATM IV <b id="chain-atm-iv">${esc(pct(iv))}</b></span>`,
    `<span>${ch.lines.length} strikes · ${esc(ui.settle)} · premium in ${esc(premiumUnit())}</span>`,
    warningHtml(fig),
    layout.phone
      ? `<span class="side-toggle" role="group" aria-label="Side"><button type="button" data-side="call" class="${prefs.side === 'call' ? 'active' : ''}">Calls</button><button type="button" data-side="put" class="${prefs.side === 'put' ? 'active' : ''}">Puts</button></span>`
      : '<span class="columns-menu"><button type="button" id="chain-cols-btn" aria-haspopup="true" aria-expanded="false">Columns ▾</button></span>',
  ].join('');
  // Every strike with the chain's decimals (XRP: 1.90, 1.95, 2.00), so the column aligns.
  const strikeFmt = dec(Math.min(6, valuesDecimals(ch.lines.map((l) => l.strike))));
  const th = (c) => `<th class="${c.cls || ''}"${c.title ? ` title="${esc(c.title)}"` : ''}>${c.label}</th>`;
  thead.innerHTML =
    '<tr>' +
    (layout.call.length ? `<th class="calls" colspan="${layout.call.length}">Calls</th>` : '') +
    '<td class="strike" aria-hidden="true"></td>' +
    (layout.put.length ? `<th class="puts" colspan="${layout.put.length}">Puts</th>` : '') +
    '</tr><tr>' +
    layout.call.map(th).join('') + '<th class="strike">Strike</th>' + layout.put.map(th).join('') +
    '</tr>';
  if (!ch.lines.length) {
    tbody.innerHTML = `<tr><td class="empty" colspan="${layout.call.length + layout.put.length + 1}">No ${esc(ui.settle)} contracts for this expiry.</td></tr>`;
    return;
  }
  const now = serverNow();
  tbody.innerHTML = ch.lines
    .map((l) => {
      const cls = l.strike === ch.atm ? ' class="atm"' : '';
      return `<tr data-strike="${l.strike}"${cls}>` +
        layout.call.map((c) => chainCell(l.call, c, 'call', l.strike, ch.spot, now)).join('') +
        strikeCell(strikeFmt(l.strike), fig, l) +
        layout.put.map((c) => chainCell(l.put, c, 'put', l.strike, ch.spot, now)).join('') +
        '</tr>';
    })
    .join('');
  for (const td of tbody.querySelectorAll('td[data-symbol]')) {
    chainView.cells.set(`${td.dataset.symbol}|${td.dataset.field}`, td);
  }
  chainView.layout = layout;
  // A new chain opens centred on the money, where a trader looks first, or on the strike
  // of the contract it was opened from.
  const focus = ui.focusStrike;
  ui.focusStrike = null;
  if (chainView.scrolledTo !== chainView.key || focus !== null) {
    chainView.scrolledTo = chainView.key;
    const wrap = tbody.closest('.table-wrap');
    const row = (focus !== null && tbody.querySelector(`tr[data-strike="${focus}"]`)) || tbody.querySelector('tr.atm');
    if (row && wrap.scrollHeight > wrap.clientHeight) {
      wrap.scrollTop = row.offsetTop - wrap.clientHeight / 2;
    }
    if (row && focus !== null) {
      row.classList.add('focus');
      setTimeout(() => row.classList.remove('focus'), 2500);
    }
  }
}

export function patchChain(changed) {
  const expiry = focusExpiry();
  const layout = chainView.layout;
  if (!layout) return;
  let touched = false;
  for (const [symbol, before] of changed) {
    const after = store.rows.get(symbol);
    if (!after || after.expiry !== expiry || after.settle !== ui.settle) continue;
    touched = true;
    for (const c of layout[after.type] || []) {
      const td = chainView.cells.get(`${symbol}|${c.key}`);
      if (!td) continue;
      setCell(td, c.text(after), null, before && cellValue(c, before), cellValue(c, after), c.flash);
      td.classList.remove('old');
    }
  }
  if (!touched) return;
  // The forward moved: ATM row, ITM shading and the header follow it.
  const ch = chainOf(expiry, ui.settle);
  setText('chain-spot', spotText(ch.spot));
  setText('chain-index', spotText(store.index));
  setText('chain-atm-iv', pct(chainAtmIv(expiry)));
  if (ch.atm !== chainView.atm) {
    chainView.atm = ch.atm;
    setText('chain-atm', ch.atm === null ? '–' : strikeText(ch.atm));
    for (const tr of document.querySelectorAll('#chain-table tbody tr')) {
      tr.classList.toggle('atm', Number(tr.dataset.strike) === ch.atm);
    }
  }
  if (ch.spot !== null) {
    for (const tr of document.querySelectorAll('#chain-table tbody tr[data-strike]')) {
      const k = Number(tr.dataset.strike);
      for (const td of tr.querySelectorAll('td[data-side]')) td.classList.toggle('itm', isItm(td.dataset.side, k, ch.spot));
    }
  }
}


document.querySelector('#chain-table tbody').addEventListener('mouseover', (e) => {
  const td = e.target.closest('td');
  if (!td) return;
  const tr = td.closest('tr[data-strike]');
  if (!tr) return;
  const syms = new Set([...tr.querySelectorAll('td[data-symbol]')].map((x) => x.dataset.symbol));
  tr.title = [...syms].map((s) => ageTitle(store.rows.get(s))).filter(Boolean).join('\n');
});
$('chain-head').addEventListener('click', (e) => {
  const side = e.target.closest('.side-toggle button[data-side]');
  if (side) {
    prefs.side = side.dataset.side;
    storage.set('chainSide', prefs.side);
    renderChain();
    return;
  }
  if (e.target.closest('#chain-cols-btn')) {
    e.stopPropagation();
    const panel = $('chain-cols-panel');
    const btn = e.target.closest('#chain-cols-btn');
    const r = btn.getBoundingClientRect();
    panel.style.top = `${r.bottom + window.scrollY + 4}px`;
    panel.style.left = `${Math.max(8, r.right + window.scrollX - 300)}px`;
    togglePopover('chain-cols-panel', btn);
  }
});
export function renderChainColumnChecks() {
  $('chain-col-checks').innerHTML = EXTRA_COLS.map((c) =>
    `<label><input type="checkbox" data-col="${c.key}" ${prefs.chainExtras.includes(c.key) ? 'checked' : ''}>${esc(c.title || c.label)}</label>`).join('');
}
$('chain-cols-panel').addEventListener('click', (e) => e.stopPropagation());
$('chain-col-checks').addEventListener('change', (e) => {
  const key = e.target.dataset.col;
  if (!key) return;
  const keep = new Set(prefs.chainExtras);
  if (e.target.checked) keep.add(key); else keep.delete(key);
  // Kept in the menu's order, so the columns do not shuffle as they are ticked.
  prefs.chainExtras = EXTRA_COLS.map((c) => c.key).filter((k) => keep.has(k));
  storage.set('chainColumns', JSON.stringify(prefs.chainExtras));
  renderChain();
});

/** The module's ATM IV of `expiry` in the settle coin on screen (loaded on first use). */
/** The module's figures of `expiry` for the settle coin in view (loaded on first ask). */
function chainFigures(expiry) {
  wantFigures(ui.asset, ui.settle);
  return expiryFigures(ui.asset, ui.settle, expiry);
}

function chainAtmIv(expiry) {
  const fig = chainFigures(expiry);
  return fig ? fig.atm_iv : null;
}

/**
 * A strike cell's attributes for its market IV against the SVI fit, in vol points: rich above
 * it, cheap below. Shown by CSS (`data-resid`), so the cell's text stays the strike.
 */
function residualAttrs(fig, line) {
  const r = residual(fig, line);
  if (r === null) return { cls: '', resid: '', title: '' };
  const cls = r >= 0 ? 'rich' : 'cheap';
  return {
    cls,
    resid: `${r >= 0 ? '+' : '−'}${Math.abs(r * 100).toFixed(1)}`,
    title: `Market IV minus the fitted smile: ${cls} by ${Math.abs(r * 100).toFixed(2)} vol points`,
  };
}

function strikeCell(text, fig, line) {
  const a = residualAttrs(fig, line);
  return a.resid
    ? `<td class="strike ${a.cls}" data-resid="${a.resid}" title="${esc(a.title)}">${esc(text)}</td>`
    : `<td class="strike">${esc(text)}</td>`;
}

/** The header's warning when the expiry's fit has an arbitrage flag. */
function warningHtml(fig) {
  const w = arbitrageWarning(fig);
  return `<span id="chain-arb" class="warn" role="status"${w ? '' : ' hidden'}>⚠ ${esc(w || '')}</span>`;
}

/** New module figures arrived: the header's ATM IV, the warning and the residuals follow. */
export function patchChainFigures() {
  const el = document.getElementById('chain-atm-iv');
  const expiry = focusExpiry();
  if (!el || !expiry) return;
  el.textContent = pct(chainAtmIv(expiry));
  const fig = chainFigures(expiry);
  const warning = arbitrageWarning(fig);
  const arb = document.getElementById('chain-arb');
  if (arb) {
    arb.hidden = !warning;
    arb.textContent = warning ? `⚠ ${warning}` : '';
  }
  const ch = chainOf(expiry, ui.settle);
  const lines = new Map(ch.lines.map((l) => [String(l.strike), l]));
  for (const td of document.querySelectorAll('#chain-table tbody td.strike')) {
    const line = lines.get(td.closest('tr').dataset.strike);
    if (!line) continue;
    const a = residualAttrs(fig, line);
    td.className = `strike ${a.cls}`.trim();
    if (a.resid) {
      td.dataset.resid = a.resid;
      td.title = a.title;
    } else {
      delete td.dataset.resid;
      td.removeAttribute('title');
    }
  }
}
