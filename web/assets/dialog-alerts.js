// The market alerts dialog: rules kept in Redis `config:alerts`, checked by the feeder, sent
// to Telegram; and whether the feeder will deliver them.
import { esc, expiryLabel, timeLeft } from './format.js';
import { $ } from './dom.js';
import { ui, store, conn } from './state.js';
import { api } from './api.js';

// market alerts dialog: rules in config:alerts, checked by the feeder
export const alertsDialog = $('alerts-dialog');
// Volatilities (and vol-point skews) are entered and shown in percent.
const IV_FIELDS = ['mark_iv', 'bid_iv', 'ask_iv', 'atm_iv', 'rr25', 'bf25', 'venue_spread'];
// venue_spread reads both venues' ATM IV at the tenor: Deribit's minus Bybit's.
const TENOR_METRICS = ['atm_iv', 'rr25', 'bf25', 'venue_spread'];
const ANALYTICS_METRICS = [...TENOR_METRICS, 'pcr_oi', 'gex', 'vol_index', 'term_spread', 'arbitrage_flags'];
// Trade rules fire once per matching trade on the asset's tape; `above` is a notional in USD.
const TRADE_FIELDS = ['block_trade', 'trade_notional'];
const alertsMsg = (text, good) => {
  $('alerts-message').textContent = text;
  $('alerts-message').className = 'message ' + (good ? 'ok' : text ? 'error' : '');
};
// IVs are entered and shown in percent; the rule stores the exchange's fraction.
const isIv = (field) => IV_FIELDS.includes(field);
const ruleValue = (r, v) => (isIv(r.field) ? `${+(v * 100).toPrecision(6)}%` : String(v));
function describeRule(r) {
  if (TRADE_FIELDS.includes(r.field)) {
    const what = r.field === 'block_trade' ? 'each block trade' : 'each trade';
    return r.above ? `${what} of more than ${r.above.toLocaleString('en-US')} USD notional` : what;
  }
  const when = [];
  if (r.above !== undefined) when.push(`${r.field} > ${ruleValue(r, r.above)}`);
  if (r.below !== undefined) when.push(`${r.field} < ${ruleValue(r, r.below)}`);
  if (r.rise !== undefined) when.push(`${r.field} up ${ruleValue(r, r.rise)} within ${r.window} s`);
  return when.join(' or ');
}
function watches(r) {
  if (r.field === 'venue_spread') return `${r.asset} on both venues, ${r.tenor ? `${r.tenor}-day` : expiryLabel(r.expiry)}`;
  if (r.venue && r.venue !== 'bybit') return `${watchesOnBybit(r)} on ${r.venue === 'deribit' ? 'Deribit' : r.venue}`;
  return watchesOnBybit(r);
}
function watchesOnBybit(r) {
  if (r.symbol) return r.symbol;
  if (TRADE_FIELDS.includes(r.field)) return `${r.asset} trades${r.expiry ? ` of ${expiryLabel(r.expiry)}` : ''}`;
  if (r.tenor) return `${r.asset} ${r.tenor}-day analytics`;
  if (ANALYTICS_METRICS.includes(r.field)) return `${r.asset} analytics`;
  if (r.expiry) return `${r.asset} ATM call of ${expiryLabel(r.expiry)}`;
  return `${r.asset} ATM call of the nearest expiry (a new contract every day)`;
}
/** Whether the feeder will deliver: from its heartbeat (the stream's status events). */
export function renderTelegramState() {
  const el = $('telegram-state');
  const st = conn.status;
  let state = 'unknown';
  let text = 'Telegram delivery: unknown (no status from the server yet)';
  if (st && !st.error) {
    if (!st.feeder) {
      state = 'off';
      text = 'Telegram delivery: no feeder is running, so no alert is checked or sent.';
    } else if (st.feeder.telegram) {
      state = 'on';
      text = 'Telegram delivery: on — the feeder checks these rules and sends to its chat.';
    } else {
      state = 'off';
      text = 'Telegram delivery: off — the feeder runs without ENABLE_NOTIFICATIONS and a bot token and chat, so these rules are stored but nothing is sent.';
    }
  }
  el.dataset.state = state;
  el.textContent = text;
}
export function renderAlertExpiries() {
  const sel = $('alert-expiry');
  const keep = sel.value;
  sel.innerHTML = store.expiries.map((e) => `<option value="${esc(e.code)}">${esc(expiryLabel(e.code))} · ${esc(timeLeft(e.ts))}</option>`).join('');
  // The nearest expiry rolls away within a day: the default is the first a week or more out.
  const week = store.expiries.find((e) => e.ts - Date.now() >= 7 * 86400e3);
  sel.value = store.expiries.some((e) => e.code === keep) ? keep : week ? week.code : store.expiries.length ? store.expiries[store.expiries.length - 1].code : '';
}
async function renderAlerts() {
  const body = document.querySelector('#alerts-table tbody');
  let rules;
  try {
    rules = await api('GET', '/api/alerts');
  } catch (e) {
    body.innerHTML = '';
    alertsMsg(`Cannot load the alerts: ${e.message}`);
    return;
  }
  body.innerHTML = rules.length
    ? rules.map((r) => `<tr data-name="${esc(r.name || '')}"><td>${esc(r.name || '')}</td>` +
      `<td>${esc(watches(r))}</td><td>${esc(describeRule(r))}</td>` +
      `<td>${esc(r.cooldown)} s</td><td><button type="button" class="remove-alert">Remove</button></td></tr>`).join('')
    : '<tr><td colspan="5" class="muted">No alerts yet.</td></tr>';
}
/** The field the form describes: an analytics figure or a contract field. */
const alertField = () => {
  const kind = $('alert-target-kind').value;
  if (kind === 'trades') return $('alert-trade-field').value;
  return kind === 'analytics' ? $('alert-metric').value : $('alert-field').value;
};
function syncAlertForm() {
  const kind = $('alert-target-kind').value;
  const analytics = kind === 'analytics';
  const trades = kind === 'trades';
  for (const el of alertsDialog.querySelectorAll('.analytics-only')) el.hidden = !analytics;
  for (const el of alertsDialog.querySelectorAll('.contract-only')) el.hidden = analytics || trades;
  for (const el of alertsDialog.querySelectorAll('.trades-only')) el.hidden = !trades;
  for (const el of alertsDialog.querySelectorAll('.threshold-only')) el.hidden = trades;
  for (const el of alertsDialog.querySelectorAll('.expiry-only')) el.hidden = kind !== 'expiry';
  for (const el of alertsDialog.querySelectorAll('.tenor-only')) el.hidden = !analytics || !TENOR_METRICS.includes($('alert-metric').value);
  const field = alertField();
  $('alert-value-label').textContent = trades
    ? field === 'block_trade' ? 'Notional above (USD, optional)' : 'Notional above (USD)'
    : isIv(field) ? 'Value (%)' : 'Value';
  for (const el of alertsDialog.querySelectorAll('.rise-only')) el.hidden = trades || $('alert-kind').value !== 'rise';
}
$('open-alerts').addEventListener('click', async () => {
  alertsMsg('');
  if (!$('alert-target').value) $('alert-target').value = ui.asset;
  renderAlertExpiries();
  renderTelegramState();
  syncAlertForm();
  alertsDialog.showModal();
  await renderAlerts();
});
$('alert-field').addEventListener('change', syncAlertForm);
$('alert-metric').addEventListener('change', syncAlertForm);
$('alert-trade-field').addEventListener('change', syncAlertForm);
$('alert-kind').addEventListener('change', syncAlertForm);
$('alert-target-kind').addEventListener('change', () => {
  $('alert-target').value = $('alert-target-kind').value === 'symbol' ? '' : ui.asset;
  syncAlertForm();
  $('alert-target').focus();
});
$('alerts-form').addEventListener('submit', (e) => {
  if (e.submitter && e.submitter.id === 'alert-add') e.preventDefault();
});
/** A trade rule from the form: every block (of more than a notional, when given) or every
 * trade above a notional. */
function tradeRule(target, field, raw) {
  const value = Number(raw);
  if (raw !== '' && !(Number.isFinite(value) && value >= 0)) return 'The notional is a number of USD, 0 or more.';
  if (field === 'trade_notional' && raw === '') return 'Enter the notional (USD) a trade must exceed.';
  const rule = { field, asset: target };
  if (raw !== '') rule.above = value;
  return rule;
}
$('alert-add').addEventListener('click', async () => {
  const target = $('alert-target').value.trim().toUpperCase();
  const field = alertField();
  const kind = $('alert-kind').value;
  const raw = $('alert-value').value.trim();
  const value = Number(raw);
  const targetKind = $('alert-target-kind').value;
  if (!target) return alertsMsg('Enter an asset or a contract symbol.');
  if (targetKind === 'trades') {
    const rule = tradeRule(target, field, raw);
    if (typeof rule === 'string') return alertsMsg(rule);
    return addRule(rule);
  }
  if (raw === '' || !Number.isFinite(value)) return alertsMsg('Enter the value to watch for.');
  const rule = { field, [kind]: isIv(field) ? value / 100 : value, cooldown: Number($('alert-cooldown').value || 300) };
  rule[targetKind === 'symbol' ? 'symbol' : 'asset'] = target;
  if (targetKind === 'expiry') {
    if (!$('alert-expiry').value) return alertsMsg(`${target} has no expiry to watch.`);
    rule.expiry = $('alert-expiry').value;
  }
  if (targetKind === 'analytics' && TENOR_METRICS.includes(field)) rule.tenor = Number($('alert-tenor').value);
  if (kind === 'rise') rule.window = Number($('alert-window').value || 3600);
  await addRule(rule);
});
async function addRule(rule) {
  // A rule on the page's venue; the cross-venue figure reads both.
  if (ui.venue !== 'bybit' && rule.field !== 'venue_spread') rule.venue = ui.venue;
  const name = $('alert-name').value.trim();
  if (name) rule.name = name;
  try {
    const r = await api('POST', '/api/alerts', rule);
    alertsMsg(`Added “${r.rule.name}”.`, true);
    $('alert-value').value = '';
    $('alert-name').value = '';
  } catch (e) {
    alertsMsg(e.message);
  }
  await renderAlerts();
}
document.querySelector('#alerts-table tbody').addEventListener('click', async (e) => {
  if (!e.target.classList.contains('remove-alert')) return;
  const name = e.target.closest('tr').dataset.name;
  try {
    await api('DELETE', `/api/alerts/${encodeURIComponent(name)}`);
    alertsMsg(`Removed “${name}”.`, true);
  } catch (err) {
    alertsMsg(err.message);
  }
  await renderAlerts();
});
