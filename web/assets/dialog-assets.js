// The asset dialogs: add an asset (checked on the exchange first) and the settings (show,
// hide or remove assets; the API token).
import { esc } from './format.js';
import { $, storage } from './dom.js';
import { ui, store } from './state.js';
import { api } from './api.js';
import { refreshAssets, renderTabs, selectAsset } from './tabs.js';

// add-asset dialog
const addDialog = $('add-dialog');
const addMsg = (text, ok) => {
  $('add-message').textContent = text;
  $('add-message').className = 'message ' + (ok ? 'ok' : text ? 'error' : '');
};
const addSymbol = () => $('add-symbol').value.trim().toUpperCase();
function validSymbol(s) {
  if (!s) return 'Enter a symbol.';
  if (s.length > 10) return 'A symbol has at most 10 characters.';
  if (!/^[A-Z0-9]+$/.test(s)) return 'Letters and digits only.';
  if (store.assets.some((a) => a.symbol === s)) return `${s} is already tracked.`;
  return null;
}
$('add-asset').addEventListener('click', () => {
  $('add-symbol').value = '';
  $('add-name').value = '';
  $('add-submit').disabled = true;
  addMsg('');
  addDialog.showModal();
});
$('add-symbol').addEventListener('input', () => {
  $('add-symbol').value = $('add-symbol').value.toUpperCase();
  $('add-submit').disabled = true;
  addMsg('');
});
$('add-cancel').addEventListener('click', () => addDialog.close());
$('add-test').addEventListener('click', async () => {
  const s = addSymbol();
  const bad = validSymbol(s);
  if (bad) return addMsg(bad);
  addMsg('Asking Bybit…', true);
  try {
    const r = await api('POST', '/api/assets/test', { symbol: s, name: $('add-name').value.trim() });
    addMsg(r.message || (r.success ? 'Listed' : 'Not listed'), r.success);
    $('add-submit').disabled = !r.success;
  } catch (e) {
    addMsg(e.message);
  }
});
$('add-submit').addEventListener('click', async () => {
  const s = addSymbol();
  try {
    await api('POST', '/api/assets/add', { symbol: s, name: $('add-name').value.trim() || s });
    addDialog.close();
    await refreshAssets();
    selectAsset(s);
  } catch (e) {
    addMsg(e.message);
    $('add-submit').disabled = true;
  }
});
$('add-form').addEventListener('submit', (e) => e.preventDefault());

// settings dialog: enable/disable/remove assets
const settings = $('settings-dialog');
function renderSettings() {
  const body = document.querySelector('#settings-assets tbody');
  body.innerHTML = store.assets
    .map((a) => `<tr data-asset="${esc(a.symbol)}"><td><b>${esc(a.symbol)}</b></td><td>${esc(a.name)}</td>` +
      `<td><input type="checkbox" class="toggle-asset" ${a.enabled ? 'checked' : ''} aria-label="Show ${esc(a.symbol)}"></td>` +
      `<td><button type="button" class="remove-asset">Remove</button></td></tr>`)
    .join('') || '<tr><td colspan="4" class="muted">No assets configured.</td></tr>';
}
$('open-settings').addEventListener('click', async () => {
  $('api-token').value = storage.get('apiToken') || '';
  $('settings-message').textContent = '';
  await refreshAssets();
  renderSettings();
  settings.showModal();
});
$('api-token').addEventListener('change', () => storage.set('apiToken', $('api-token').value.trim()));
document.querySelector('#settings-assets tbody').addEventListener('click', async (e) => {
  const tr = e.target.closest('tr[data-asset]');
  if (!tr) return;
  const s = tr.dataset.asset;
  const msg = $('settings-message');
  try {
    if (e.target.classList.contains('toggle-asset')) {
      await api('POST', `/api/assets/${encodeURIComponent(s)}/toggle`);
      msg.className = 'message ok';
      msg.textContent = `${s} ${e.target.checked ? 'shown' : 'hidden'}.`;
    } else if (e.target.classList.contains('remove-asset')) {
      if (!confirm(`Stop tracking ${s}?`)) return;
      await api('DELETE', `/api/assets/${encodeURIComponent(s)}/remove`);
      msg.className = 'message ok';
      msg.textContent = `${s} removed.`;
    } else {
      return;
    }
  } catch (err) {
    msg.className = 'message error';
    msg.textContent = err.message;
  }
  await refreshAssets();
  renderSettings();
});
settings.addEventListener('close', () => {
  const shown = store.assets.filter((a) => a.enabled);
  if (ui.asset && !shown.some((a) => a.symbol === ui.asset) && shown.length) selectAsset(shown[0].symbol);
  renderTabs();
});
