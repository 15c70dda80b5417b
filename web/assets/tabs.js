// The asset tabs: the enabled assets of `config:assets` (plus a deep-linked one while it is
// shown), and switching between them.
import { $ } from './dom.js';
import { ui, store, conn } from './state.js';
import { api } from './api.js';
import { connect } from './stream.js';
import { renderLive } from './live.js';

export async function refreshAssets() {
  try {
    const cfg = await api('GET', '/api/assets');
    store.assets = Object.entries(cfg)
      .sort((a, b) => (a[1].order ?? 1e15) - (b[1].order ?? 1e15))
      // The server writes the document out through its one type (options_core::assets::
      // AssetConfig), so every entry is an object with its `enabled` decided there.
      .map(([symbol, v]) => ({ symbol, name: v.name || symbol, enabled: v.enabled === true }));
    conn.error = null;
  } catch (e) {
    conn.error = `Cannot load the asset list: ${e.message}`;
  }
  renderTabs();
  renderLive();
}

export function renderTabs() {
  const nav = $('asset-tabs');
  for (const b of [...nav.querySelectorAll('.tab[data-asset]')]) b.remove();
  const shown = store.assets.filter((a) => a.enabled);
  // A deep link to an asset that is not a tab still gets one while it is shown.
  if (ui.asset && !shown.some((a) => a.symbol === ui.asset)) shown.push({ symbol: ui.asset, name: ui.asset });
  for (const a of shown) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'tab' + (a.symbol === ui.asset ? ' active' : '');
    b.setAttribute('role', 'tab');
    b.setAttribute('aria-selected', String(a.symbol === ui.asset));
    b.dataset.asset = a.symbol;
    b.title = a.name;
    b.textContent = a.symbol;
    nav.appendChild(b);
  }
}

export function selectAsset(symbol) {
  if (symbol === ui.asset) return;
  ui.asset = symbol;
  ui.expiry = '';
  ui.page = 0;
  ui.search = '';
  $('f-search').value = '';
  for (const b of document.querySelectorAll('.tab[data-asset]')) {
    b.classList.toggle('active', b.dataset.asset === symbol);
    b.setAttribute('aria-selected', String(b.dataset.asset === symbol));
  }
  connect();
}

$('asset-tabs').addEventListener('click', (e) => {
  const b = e.target.closest('.tab[data-asset]');
  if (b) selectAsset(b.dataset.asset);
});
